//! Where a CSV file can be cut so that every piece starts on a record.
//!
//! A cut goes right after a newline that is outside any quoted field. Quotes are followed as
//! csv-core (and so arrow-csv) reads them: a quote opens a quoted field only at the start of a
//! field; inside one, `""` is a quote and a lone quote closes it; elsewhere a quote is an
//! ordinary byte. The scan jumps from quote to quote with `memchr` and never parses fields,
//! so planning costs a fraction of reading.

use std::io::Read;

const CHUNK: usize = 1 << 20;

/// Where the scan is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// Outside quotes; `field_start` when the next byte starts a field.
    Outside { field_start: bool },
    /// Inside a quoted field.
    Quoted,
    /// Inside a quoted field, just after a quote: the next byte decides.
    QuoteInQuoted,
}

/// The cut offsets (ascending, excluding 0 and the end) for pieces of about `target` bytes.
pub fn record_aligned_cuts(
    mut input: impl Read,
    size: u64,
    target: u64,
    delimiter: u8,
    quote: u8,
) -> std::io::Result<Vec<u64>> {
    let is_separator = |b: u8| b == delimiter || b == b'\n' || b == b'\r';
    let mut buf = vec![0u8; CHUNK];
    let mut cuts = Vec::new();
    let mut next_cut = target;
    let mut state = State::Outside { field_start: true };
    let mut base = 0u64;
    loop {
        let len = input.read(&mut buf)?;
        if len == 0 {
            return Ok(cuts);
        }
        let chunk = &buf[..len];
        let mut i = 0;
        while i < len {
            match state {
                State::Outside { field_start } => {
                    let quote_at = memchr::memchr(quote, &chunk[i..]).map(|q| i + q);
                    let region_end = quote_at.unwrap_or(len);
                    // Newlines before the next quote are outside quotes: cut at the first one
                    // that reaches the next target.
                    while base + region_end as u64 > next_cut.saturating_sub(1) {
                        let from = i.max(next_cut.saturating_sub(1).saturating_sub(base) as usize);
                        let Some(nl) = memchr::memchr(b'\n', &chunk[from..region_end]) else {
                            break;
                        };
                        let cut = base + (from + nl) as u64 + 1;
                        if cut >= size {
                            break;
                        }
                        cuts.push(cut);
                        next_cut = cut + target;
                    }
                    match quote_at {
                        Some(q) => {
                            let opens = if q == i {
                                field_start
                            } else {
                                is_separator(chunk[q - 1])
                            };
                            state = if opens {
                                State::Quoted
                            } else {
                                State::Outside { field_start: false }
                            };
                            i = q + 1;
                        }
                        None => {
                            state = State::Outside {
                                field_start: is_separator(chunk[len - 1]),
                            };
                            i = len;
                        }
                    }
                }
                State::Quoted => match memchr::memchr(quote, &chunk[i..]) {
                    Some(q) => {
                        state = State::QuoteInQuoted;
                        i += q + 1;
                    }
                    None => i = len,
                },
                State::QuoteInQuoted => {
                    if chunk[i] == quote {
                        // `""`: an escaped quote, still inside.
                        state = State::Quoted;
                        i += 1;
                    } else {
                        // The field's closing quote; this byte is read outside quotes.
                        state = State::Outside { field_start: false };
                    }
                }
            }
        }
        base += len as u64;
    }
}
