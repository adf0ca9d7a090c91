//! A JSON file split into its top-level objects one by one, each with the line it starts on:
//! for the schema sample and for finding the record an error is in (the bulk read does not
//! split records). Strings and escapes are followed, so braces inside them count not.

use std::io::BufRead;
use std::path::PathBuf;

use qualityd_plugin_sdk::{Error, Result};

use crate::listing::{FileEntry, io_error};

/// One top-level JSON object, the line it starts on and the byte offset just past it.
pub struct Record<'a> {
    pub bytes: &'a [u8],
    pub line: u64,
    pub end: u64,
}

/// Splits whitespace-separated objects (NDJSON, pretty-printed or not) or the elements of one
/// top-level array.
pub struct Records<R> {
    reader: R,
    buffer: Vec<u8>,
    line: u64,
    offset: u64,
    in_array: bool,
    started: bool,
    path: PathBuf,
}

/// Where the search for the next object stopped.
enum Start {
    Object,
    Other(u8),
    Pending,
}

impl<R: BufRead> Records<R> {
    pub fn new(reader: R, file: &FileEntry) -> Self {
        Records {
            reader,
            buffer: Vec::new(),
            line: 1,
            offset: 0,
            in_array: false,
            started: false,
            path: file.path.clone(),
        }
    }

    /// Bytes read so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn unexpected(&self, what: &str, line: u64) -> Error {
        Error::data(format!("expected a JSON object, found {what}"))
            .path(self.path.display().to_string())
            .line(line)
            .into()
    }

    /// The next object, `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>> {
        if !self.find_start()? {
            return Ok(None);
        }
        let line = self.line;
        self.buffer.clear();
        self.buffer.push(b'{');
        let (mut depth, mut in_string, mut escaped) = (1usize, false, false);
        while depth > 0 {
            let buf = self
                .reader
                .fill_buf()
                .map_err(|e| io_error(&self.path, &e))?;
            if buf.is_empty() {
                return Err(self.unexpected(
                    "the end of the file inside the object that starts here",
                    line,
                ));
            }
            let mut used = 0;
            for &b in buf {
                used += 1;
                if in_string {
                    match b {
                        _ if escaped => escaped = false,
                        b'\\' => escaped = true,
                        b'"' => in_string = false,
                        _ => {}
                    }
                } else {
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => depth -= 1,
                        b'\n' => self.line += 1,
                        _ => {}
                    }
                    if depth == 0 {
                        break;
                    }
                }
            }
            self.buffer.extend_from_slice(&buf[..used]);
            self.reader.consume(used);
            self.offset += used as u64;
        }
        Ok(Some(Record {
            bytes: &self.buffer,
            line,
            end: self.offset,
        }))
    }

    /// Skip whitespace (and an array's brackets and commas) up to the next `{`, consumed;
    /// false at the end of the file.
    fn find_start(&mut self) -> Result<bool> {
        loop {
            let buf = self
                .reader
                .fill_buf()
                .map_err(|e| io_error(&self.path, &e))?;
            if buf.is_empty() {
                return Ok(false);
            }
            let mut used = 0;
            let mut start = Start::Pending;
            for &b in buf {
                match b {
                    b'\n' => self.line += 1,
                    b' ' | b'\t' | b'\r' => {}
                    b'[' if !self.started => self.in_array = true,
                    b',' | b']' if self.in_array => {}
                    b'{' => start = Start::Object,
                    other => start = Start::Other(other),
                }
                if !matches!(start, Start::Other(_)) {
                    used += 1;
                }
                if !b.is_ascii_whitespace() {
                    self.started = true;
                }
                if !matches!(start, Start::Pending) {
                    break;
                }
            }
            self.reader.consume(used);
            self.offset += used as u64;
            match start {
                Start::Object => return Ok(true),
                Start::Other(b) => {
                    return Err(self.unexpected(&format!("`{}`", b as char), self.line));
                }
                Start::Pending => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::{Compression, Kind};

    fn entry() -> FileEntry {
        FileEntry {
            name: "t.json".into(),
            path: "/data/t.json".into(),
            kind: Kind::Json,
            compression: Compression::None,
            size: 0,
            modified: None,
        }
    }

    fn split(text: &str) -> Result<Vec<(String, u64)>> {
        let file = entry();
        let mut records =
            Records::new(std::io::BufReader::with_capacity(3, text.as_bytes()), &file);
        let mut out = Vec::new();
        while let Some(r) = records.next_record()? {
            out.push((String::from_utf8(r.bytes.to_vec()).unwrap(), r.line));
        }
        Ok(out)
    }

    #[test]
    fn pretty_records_keep_their_start_lines_across_small_buffers() {
        let text = "[\n  {\n    \"a\": \"}{\\\"\",\n    \"b\": [1, 2]\n  },\n  {\"a\": null}\n]\n";
        let records = split(&format!("\n{text}")).unwrap();
        assert_eq!(
            records,
            vec![
                (
                    "{\n    \"a\": \"}{\\\"\",\n    \"b\": [1, 2]\n  }".into(),
                    3
                ),
                ("{\"a\": null}".into(), 7),
            ]
        );
    }

    #[test]
    fn a_bare_value_and_an_unterminated_object_name_their_lines() {
        // The line travels in the error's location (the host prints it), not its message.
        let error = format!("{:?}", split("{\"a\": 1}\n\n  7\n").unwrap_err());
        assert!(
            error.contains("line: Some(3)") && error.contains("found `7`"),
            "{error}"
        );
        let error = format!("{:?}", split("{\"a\": 1}\n{\"a\":\n 2\n").unwrap_err());
        assert!(
            error.contains("line: Some(2)") && error.contains("end of the file"),
            "{error}"
        );
    }
}
