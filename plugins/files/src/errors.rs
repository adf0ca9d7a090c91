//! arrow-csv's errors, reworded for the user and located on the file's physical line.
//!
//! arrow-csv numbers records three ways: the `csv` crate (schema inference) counts physical
//! lines; its record decoder ("for line N") counts records from 1 including the header; its
//! value parser ("at line N") counts records from 0 including the header. A record can span several lines
//! (quoted newlines), so the reader maps record numbers back to lines by re-walking the bytes.

use std::path::Path;

use arrow_schema::ArrowError;
use qualityd_plugin_sdk::Error;

/// How a number in an arrow-csv message counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Numbering {
    /// Physical lines from 1.
    Lines,
    /// Records from 1, the header included.
    RecordsFromOne,
    /// Records from 0, the header included.
    RecordsFromZero,
}

/// A data error naming the file and, where `locate` can tell, the physical line.
pub fn data_error(
    path: &Path,
    e: &ArrowError,
    locate: impl Fn(u64, Numbering) -> Option<u64>,
) -> Error {
    let message = match e {
        ArrowError::CsvError(m) | ArrowError::ParseError(m) => m.clone(),
        other => other.to_string(),
    };
    let line = record_number(&message).and_then(|(n, numbering)| locate(n, numbering));
    let mut error = Error::data(reword(&message)).path(path.display().to_string());
    if let Some(line) = line {
        error = error.line(line);
    }
    error.into()
}

/// The message without arrow's record numbers (the location carries the line).
fn reword(message: &str) -> String {
    if message.contains("unequal lengths") || message.contains("incorrect number of fields") {
        let numbers = numbers_after(message, &["Expected ", "expected "])
            .zip(numbers_after(message, &["found ", "got "]));
        return match numbers {
            Some((expected, got)) => format!("expected {expected} fields, found {got}"),
            None => "a record has a different number of fields than the others".into(),
        };
    }
    if message.contains("UTF-8") || message.contains("utf-8") {
        return "not valid UTF-8; this connector reads UTF-8 text only: convert the file \
                (for example `iconv -f latin1 -t utf-8`)"
            .into();
    }
    if let Some(start) = message.find("Error while parsing value") {
        let rest = &message[start..];
        let rest = rest.split(" at line").next().unwrap_or(rest);
        return format!(
            "{rest}; the field's type was inferred from a sample: raise `infer_rows` if the \
             sample missed values like this one"
        );
    }
    message.to_string()
}

/// The record number arrow-csv put in a message, and how it counts.
fn record_number(message: &str) -> Option<(u64, Numbering)> {
    let markers = [
        ("records at line ", Numbering::Lines),
        ("near byte index", Numbering::Lines),
        ("for line ", Numbering::RecordsFromOne),
        ("at line ", Numbering::RecordsFromZero),
    ];
    for (marker, numbering) in markers {
        if message.contains(marker) {
            let after = if marker == "near byte index" {
                " at line "
            } else {
                marker
            };
            return numbers_after(message, &[after]).map(|n| (n, numbering));
        }
    }
    None
}

/// The first whole number right after the last occurrence of any of `markers`.
fn numbers_after(message: &str, markers: &[&str]) -> Option<u64> {
    markers.iter().find_map(|marker| {
        let at = message.rfind(marker)? + marker.len();
        let digits: String = message[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    })
}
