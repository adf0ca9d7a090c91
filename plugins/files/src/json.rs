//! JSON files: newline-delimited objects (NDJSON, JSON Lines) or one array of objects.
//! Nested objects become structs and arrays lists; the schema is inferred from a sample.
//! Errors name the line the offending record starts on.

use std::io::{BufRead, Cursor};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_json::reader::{Decoder, ReaderBuilder, infer_json_schema};
use arrow_schema::{ArrowError, SchemaRef};
use qualityd_plugin_sdk::{Batches, Error, ReadRequest, Result};

use crate::inferred::{Inferred, estimate_rows};
use crate::listing::{FileEntry, io_error};
use crate::request::{Limited, projection};
use crate::source;

/// Infer a file's schema from its first `rows` records.
pub fn infer(file: &FileEntry, rows: usize) -> Result<Inferred> {
    let mut records = Records::new(source::open_all(file)?, file);
    let mut sample = Vec::new();
    let mut count = 0;
    while count < rows {
        let Some(record) = records.next_record()? else {
            break;
        };
        sample.extend_from_slice(record.bytes);
        sample.push(b'\n');
        count += 1;
    }
    let (schema, _) =
        infer_json_schema(Cursor::new(&sample), None).map_err(|e| data_error(file, None, &e))?;
    let row_estimate = estimate_rows(file, count, rows, records.offset);
    Ok(Inferred {
        schema: Arc::new(schema),
        row_estimate,
    })
}

/// Read a whole file (JSON files are one partition), honouring projection and limit.
pub fn read(
    file: &FileEntry,
    schema: SchemaRef,
    request: &ReadRequest,
    batch_rows: usize,
) -> Result<Batches> {
    let (_, projected) = projection(&schema, request, &file.name)?;
    let batches = JsonBatches {
        records: Records::new(source::open_all(file)?, file),
        decoder: decoder(&projected, batch_rows)?,
        schema: projected.clone(),
        batch_rows,
        pending: Vec::new(),
        pending_ends: Vec::new(),
        pending_lines: Vec::new(),
        file: file.clone(),
    };
    Ok(Batches {
        schema: projected,
        batches: Box::new(Limited::new(batches, request.limit)),
        filter_applied: request.filter.is_empty(),
    })
}

fn decoder(schema: &SchemaRef, batch_rows: usize) -> Result<Decoder> {
    ReaderBuilder::new(schema.clone())
        .with_batch_size(batch_rows)
        .build_decoder()
        .map_err(|e| Error::internal(format!("cannot build a JSON decoder: {e}")))
}

fn data_error(file: &FileEntry, line: Option<u64>, e: &ArrowError) -> Error {
    let message = match e {
        ArrowError::JsonError(m) | ArrowError::ParseError(m) => m.clone(),
        other => other.to_string(),
    };
    let error = Error::data(message).path(file.path.display().to_string());
    match line {
        Some(line) => error.line(line).into(),
        None => error.into(),
    }
}

/// The batches of a file; the raw records of the batch being built are kept so that a type
/// error found when the batch is flushed can be traced to its record's line.
struct JsonBatches {
    records: Records<Box<dyn BufRead>>,
    decoder: Decoder,
    schema: SchemaRef,
    batch_rows: usize,
    pending: Vec<u8>,
    pending_ends: Vec<usize>,
    pending_lines: Vec<u64>,
    file: FileEntry,
}

impl JsonBatches {
    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        self.pending.clear();
        self.pending_ends.clear();
        self.pending_lines.clear();
        while self.pending_lines.len() < self.batch_rows {
            let Some(record) = self.records.next_record()? else {
                break;
            };
            let line = record.line;
            self.pending.extend_from_slice(record.bytes);
            self.pending_ends.push(self.pending.len());
            self.pending_lines.push(line);
            let start = self.pending.len() - record.bytes.len();
            self.decoder
                .decode(&self.pending[start..])
                .map_err(|e| data_error(&self.file, Some(line), &e))?;
        }
        match self.decoder.flush() {
            Ok(batch) => Ok(batch),
            Err(e) => Err(self.locate(&e)),
        }
    }

    /// Decode the batch's records one by one to find the one that fails.
    fn locate(&self, batch_error: &ArrowError) -> Error {
        let mut start = 0;
        for (end, line) in self.pending_ends.iter().zip(&self.pending_lines) {
            let record = &self.pending[start..*end];
            start = *end;
            let Ok(mut one) = decoder(&self.schema, 1) else {
                break;
            };
            let outcome = one.decode(record).and_then(|_| one.flush());
            if let Err(e) = outcome {
                return data_error(&self.file, Some(*line), &e);
            }
        }
        data_error(&self.file, None, batch_error)
    }
}

impl Iterator for JsonBatches {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}

/// One top-level JSON object and the line it starts on.
struct Record<'a> {
    bytes: &'a [u8],
    line: u64,
}

/// Splits a file into its top-level objects: whitespace-separated (NDJSON) or the elements
/// of one top-level array. Strings and escapes are followed, so braces inside them count not.
struct Records<R> {
    reader: R,
    buffer: Vec<u8>,
    line: u64,
    offset: u64,
    in_array: bool,
    started: bool,
    path: std::path::PathBuf,
}

impl<R: BufRead> Records<R> {
    fn new(reader: R, file: &FileEntry) -> Self {
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

    fn byte(&mut self) -> Result<Option<u8>> {
        let buf = self
            .reader
            .fill_buf()
            .map_err(|e| io_error(&self.path, &e))?;
        let Some(&b) = buf.first() else {
            return Ok(None);
        };
        self.reader.consume(1);
        self.offset += 1;
        if b == b'\n' {
            self.line += 1;
        }
        Ok(Some(b))
    }

    fn unexpected(&self, what: &str) -> Error {
        Error::data(format!("expected a JSON object, found {what}"))
            .path(self.path.display().to_string())
            .line(self.line)
            .into()
    }

    fn next_record(&mut self) -> Result<Option<Record<'_>>> {
        // Find the start of the next object.
        loop {
            let Some(b) = self.byte()? else {
                return Ok(None);
            };
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => {}
                b'[' if !self.started => self.in_array = true,
                b',' | b']' if self.in_array => {}
                b'{' => break,
                other => return Err(self.unexpected(&format!("`{}`", other as char))),
            }
            self.started = true;
        }
        self.started = true;
        let line = self.line;
        self.buffer.clear();
        self.buffer.push(b'{');
        let (mut depth, mut in_string, mut escaped) = (1usize, false, false);
        while depth > 0 {
            let Some(b) = self.byte()? else {
                return Err(self.unexpected("the end of the file inside an object"));
            };
            self.buffer.push(b);
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
                    _ => {}
                }
            }
        }
        Ok(Some(Record {
            bytes: &self.buffer,
            line,
        }))
    }
}
