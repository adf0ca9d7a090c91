//! JSON files: whitespace-separated objects (NDJSON, JSON Lines, pretty-printed objects one
//! after another) or one array of objects, pretty-printed or not. Nested objects become structs
//! and arrays lists; the schema is inferred from a sample.
//!
//! The read feeds large chunks straight to the JSON decoder (an array's own brackets and commas
//! blanked first, see `array`); records are split and lines counted only for the sample and,
//! when a batch fails, to name the line the offending record starts on (see `records`).

mod array;
mod records;

use std::io::{BufRead, Cursor, ErrorKind};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_json::reader::{Decoder, ReaderBuilder, infer_json_schema};
use arrow_schema::{ArrowError, SchemaRef};
use qualityd_plugin_sdk::{Batches, Error, ReadRequest, Result};

use crate::inferred::{Inferred, estimate_rows};
use crate::listing::{FileEntry, io_error};
use crate::request::{Limited, projection};
use crate::source;
use array::ArrayUnwrapper;
use records::Records;

/// Bytes handed to the decoder at a time.
const CHUNK: usize = 1 << 20;

/// Infer a file's schema from its first `rows` records.
pub fn infer(file: &FileEntry, rows: usize) -> Result<Inferred> {
    let mut records = Records::new(source::open_all(file)?, file);
    let mut sample = Sample::default();
    while sample.lines.len() < rows {
        let Some(record) = records.next_record()? else {
            break;
        };
        sample.push(record.bytes, record.line);
    }
    let schema = sample.schema(file)?;
    let row_estimate = estimate_rows(file, sample.lines.len(), rows, records.offset());
    Ok(Inferred {
        schema: Arc::new(schema),
        row_estimate,
    })
}

/// The sampled records, one a line as the schema inference reads them.
#[derive(Default)]
struct Sample {
    text: Vec<u8>,
    ends: Vec<usize>,
    lines: Vec<u64>,
}

impl Sample {
    /// Add a record. A pretty-printed one spans lines: raw newlines cannot occur inside JSON
    /// strings, so they become spaces.
    fn push(&mut self, record: &[u8], line: u64) {
        self.text
            .extend(record.iter().map(|&b| if b == b'\n' { b' ' } else { b }));
        self.text.push(b'\n');
        self.ends.push(self.text.len());
        self.lines.push(line);
    }

    /// The schema of every record; on an error, the line of the first record at fault.
    fn schema(&self, file: &FileEntry) -> Result<arrow_schema::Schema> {
        match infer_json_schema(Cursor::new(&self.text), None) {
            Ok((schema, _)) => Ok(schema),
            Err(whole) => {
                let mut start = 0;
                for (end, line) in self.ends.iter().zip(&self.lines) {
                    let record = &self.text[start..*end];
                    start = *end;
                    if let Err(e) = infer_json_schema(Cursor::new(record), None) {
                        return Err(data_error(file, Some(*line), &e));
                    }
                }
                Err(data_error(file, None, &whole))
            }
        }
    }
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
        reader: source::open_all(file)?,
        decoder: decoder(&projected, batch_rows)?,
        chunk: vec![0; CHUNK],
        filled: 0,
        position: 0,
        layout: Layout::Unknown,
        offset: 0,
        batch_start: 0,
        finished: false,
        schema: projected.clone(),
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

/// How the file holds its records, known from its first non-blank byte.
enum Layout {
    Unknown,
    Stream,
    Array(ArrayUnwrapper),
}

/// The batches of a file, decoded from chunks of it.
struct JsonBatches {
    reader: Box<dyn BufRead>,
    decoder: Decoder,
    chunk: Vec<u8>,
    filled: usize,
    position: usize,
    layout: Layout,
    /// Bytes of the file handed to the decoder so far.
    offset: u64,
    /// Where the batch being decoded starts: a failing batch is re-read from there.
    batch_start: u64,
    finished: bool,
    schema: SchemaRef,
    file: FileEntry,
}

impl JsonBatches {
    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.finished {
            return Ok(None);
        }
        loop {
            if self.position == self.filled && !self.refill()? {
                self.finished = true;
                break;
            }
            let pending = &self.chunk[self.position..self.filled];
            let used = match self.decoder.decode(pending) {
                Ok(used) => used,
                Err(e) => return Err(self.locate(&e)),
            };
            self.position += used;
            self.offset += used as u64;
            if used < pending.len() {
                break; // The batch is full.
            }
        }
        let batch = self.decoder.flush().map_err(|e| self.locate(&e))?;
        self.batch_start = self.offset;
        Ok(batch)
    }

    /// The next chunk of the file, an array's own brackets and commas blanked; false at its
    /// end.
    fn refill(&mut self) -> Result<bool> {
        let read = loop {
            match self.reader.read(&mut self.chunk) {
                Ok(read) => break read,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(io_error(&self.file.path, &e)),
            }
        };
        self.filled = read;
        self.position = 0;
        let chunk = &mut self.chunk[..read];
        if matches!(self.layout, Layout::Unknown) {
            match chunk.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'[') => self.layout = Layout::Array(ArrayUnwrapper::default()),
                Some(_) => self.layout = Layout::Stream,
                None => {}
            }
        }
        if let Layout::Array(unwrapper) = &mut self.layout {
            unwrapper.blank(chunk);
        }
        Ok(read > 0)
    }

    /// The error of a failed batch, with the line of the record at fault: the file is read
    /// again record by record from the batch's start, each record decoded alone.
    fn locate(&self, batch_error: &ArrowError) -> Error {
        let reader = match source::open_all(&self.file) {
            Ok(reader) => reader,
            Err(e) => return e,
        };
        let mut records = Records::new(reader, &self.file);
        loop {
            let record = match records.next_record() {
                Ok(Some(record)) => record,
                Ok(None) => break,
                Err(e) => return e,
            };
            if record.end <= self.batch_start {
                continue;
            }
            let Ok(mut one) = decoder(&self.schema, 1) else {
                break;
            };
            let outcome = one.decode(record.bytes).and_then(|_| one.flush());
            if let Err(e) = outcome {
                return data_error(&self.file, Some(record.line), &e);
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
