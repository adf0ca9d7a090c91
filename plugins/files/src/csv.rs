//! CSV files: schema inference, record-aligned byte-range partitions, and reading.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Take};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_csv::reader::{Decoder, Format, ReaderBuilder};
use arrow_schema::{ArrowError, Schema, SchemaRef};
use qualityd_plugin_sdk::{Batches, Error, Partition, ReadRequest, Result, Settings};

use crate::cuts::record_aligned_cuts;
use crate::errors::{Numbering, data_error};
use crate::listing::io_error;

const READ_BUFFER: usize = 1 << 20;

/// How CSV files of a datastore are written.
#[derive(Debug, Clone, Copy)]
pub struct CsvFormat {
    delimiter: u8,
    quote: u8,
    header: bool,
}

/// A schema inferred from a sample, and the number of records it suggests.
pub struct Inferred {
    pub schema: SchemaRef,
    pub row_estimate: u64,
}

/// The bytes of a file a partition reads.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ByteRange {
    start: u64,
    end: u64,
}

impl CsvFormat {
    pub fn from_settings(settings: &Settings) -> Result<Self> {
        let delimiter = match settings.text("delimiter")? {
            "\\t" | "tab" => b'\t',
            d if d.len() == 1 => d.as_bytes()[0],
            d => {
                return Err(Error::config(format!(
                    "setting `delimiter` must be one byte (or `\\t`), got `{d}`"
                )));
            }
        };
        Ok(CsvFormat {
            delimiter,
            quote: b'"',
            header: settings.boolean("header")?,
        })
    }

    /// The format of one file: `.tsv` files are tab-delimited whatever the setting says.
    fn of(&self, path: &Path) -> CsvFormat {
        let tsv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
        CsvFormat {
            delimiter: if tsv { b'\t' } else { self.delimiter },
            ..*self
        }
    }

    /// Infer the schema from the first `rows` records and estimate the record count.
    pub fn infer(&self, path: &Path, rows: usize) -> Result<Inferred> {
        let format = self.of(path);
        let file = File::open(path).map_err(|e| io_error(path, &e))?;
        let size = file.metadata().map_err(|e| io_error(path, &e))?.len();
        let mut counted = CountingReader {
            inner: file,
            bytes: 0,
        };
        let (schema, records) = Format::default()
            .with_header(format.header)
            .with_delimiter(format.delimiter)
            .with_quote(format.quote)
            .infer_schema(&mut counted, Some(rows))
            .map_err(|e| {
                // The `csv` crate behind inference counts physical lines already.
                data_error(path, &e, |n, numbering| {
                    (numbering == Numbering::Lines).then_some(n)
                })
            })?;
        let row_estimate = if records < rows || counted.bytes >= size {
            records as u64
        } else {
            (size as f64 * records as f64 / counted.bytes.max(1) as f64) as u64
        };
        Ok(Inferred {
            schema: Arc::new(schema),
            row_estimate,
        })
    }

    /// Split a file into byte ranges of about `target` bytes, each starting on a record.
    pub fn partitions(&self, path: &Path, size: u64, target: u64) -> Result<Vec<Partition>> {
        let cuts = if size <= target {
            Vec::new()
        } else {
            let format = self.of(path);
            let file = File::open(path).map_err(|e| io_error(path, &e))?;
            record_aligned_cuts(file, size, target, format.delimiter, format.quote)
                .map_err(|e| io_error(path, &e))?
        };
        let starts = std::iter::once(0).chain(cuts.iter().copied());
        let ends = cuts.iter().copied().chain([size]);
        Ok(starts
            .zip(ends)
            .map(|(start, end)| ByteRange { start, end }.to_partition())
            .collect())
    }

    /// Read one partition, honouring projection and limit.
    pub fn read(
        &self,
        path: &Path,
        schema: SchemaRef,
        request: &ReadRequest,
        batch_rows: usize,
    ) -> Result<Batches> {
        if request.watermark.is_some() {
            return Err(Error::unsupported(
                "incremental reads of CSV files are not supported yet; read without a watermark",
            ));
        }
        let format = self.of(path);
        let range = ByteRange::parse(&request.partition.id)?;
        let projection = match &request.projection {
            None => (0..schema.fields().len()).collect(),
            Some(names) => names
                .iter()
                .map(|name| {
                    schema.index_of(name).map_err(|_| {
                        Error::not_found(format!(
                            "no field `{name}` in {}; its fields are: {}",
                            path.display(),
                            field_names(&schema)
                        ))
                    })
                })
                .collect::<Result<Vec<usize>>>()?,
        };
        let projected = Arc::new(
            schema
                .project(&projection)
                .map_err(|e| Error::internal(e.to_string()))?,
        );
        let decoder = ReaderBuilder::new(schema)
            .with_header(format.header && range.start == 0)
            .with_delimiter(format.delimiter)
            .with_quote(format.quote)
            .with_batch_size(batch_rows)
            .with_projection(projection)
            .build_decoder();
        let mut file = File::open(path).map_err(|e| io_error(path, &e))?;
        file.seek(SeekFrom::Start(range.start))
            .map_err(|e| io_error(path, &e))?;
        let reader = BufReader::with_capacity(READ_BUFFER, file.take(range.end - range.start));
        Ok(Batches {
            schema: projected,
            batches: Box::new(CsvBatches {
                decoder,
                reader,
                remaining: request.limit,
                path: path.to_path_buf(),
                format,
                range,
                done: false,
            }),
            filter_applied: request.filter.is_empty(),
        })
    }
}

impl ByteRange {
    fn to_partition(self) -> Partition {
        Partition {
            id: format!("{}-{}", self.start, self.end),
            description: format!("bytes {}..{}", self.start, self.end),
            row_estimate: None,
            byte_size: Some(self.end - self.start),
        }
    }

    fn parse(id: &str) -> Result<Self> {
        let parsed = id.split_once('-').and_then(|(start, end)| {
            Some(ByteRange {
                start: start.parse().ok()?,
                end: end.parse().ok()?,
            })
        });
        match parsed {
            Some(range) if range.start <= range.end => Ok(range),
            _ => Err(Error::not_found(format!(
                "`{id}` is not a partition of this connector; ask `partitions` for them"
            ))),
        }
    }
}

/// The record batches of one partition.
struct CsvBatches {
    decoder: Decoder,
    reader: BufReader<Take<File>>,
    remaining: Option<u64>,
    path: PathBuf,
    format: CsvFormat,
    range: ByteRange,
    done: bool,
}

impl CsvBatches {
    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            let buf = self
                .reader
                .fill_buf()
                .map_err(|e| io_error(&self.path, &e))?;
            if buf.is_empty() {
                break;
            }
            let decoded = self.decoder.decode(buf).map_err(|e| self.error(&e))?;
            self.reader.consume(decoded);
            if decoded == 0 || self.decoder.capacity() == 0 {
                break;
            }
        }
        self.decoder.flush().map_err(|e| self.error(&e))
    }

    /// A decoding error, located on the file's physical line.
    fn error(&self, e: &ArrowError) -> Error {
        let (format, range) = (self.format, self.range);
        data_error(&self.path, e, |number, numbering| {
            // The 0-based index of the record among those this partition's reader saw.
            let index = match numbering {
                Numbering::RecordsFromOne => number.checked_sub(1)?,
                Numbering::RecordsFromZero => number,
                Numbering::Lines => return Some(number),
            };
            format.line_of_record(&self.path, range, index).ok()
        })
    }
}

impl Iterator for CsvBatches {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.remaining == Some(0) {
            return None;
        }
        match self.next_batch() {
            Ok(Some(batch)) => {
                let batch = match &mut self.remaining {
                    Some(remaining) => {
                        let rows = (batch.num_rows() as u64).min(*remaining);
                        *remaining -= rows;
                        batch.slice(0, rows as usize)
                    }
                    None => batch,
                };
                Some(Ok(batch))
            }
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

pub(crate) fn field_names(schema: &Schema) -> String {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    names.join(", ")
}

impl CsvFormat {
    /// The physical line on which the `index`-th record of a partition starts (only on the
    /// error path: it reads the file up to the record).
    fn line_of_record(&self, path: &Path, range: ByteRange, index: u64) -> std::io::Result<u64> {
        let mut file = File::open(path)?;
        let first_line = 1 + count_newlines((&mut file).take(range.start))?;
        file.seek(SeekFrom::Start(range.start))?;
        let mut walker = RecordWalker::new(self, file.take(range.end - range.start), first_line);
        let mut line = first_line;
        for _ in 0..index {
            match walker.next_record()? {
                Some(next) => line = next,
                None => break,
            }
        }
        Ok(line)
    }
}

/// Walks CSV bytes record by record with csv-core, counting physical lines.
struct RecordWalker<R> {
    reader: BufReader<R>,
    csv: csv_core::Reader,
    output: Vec<u8>,
    ends: Vec<usize>,
    line: u64,
}

impl<R: Read> RecordWalker<R> {
    fn new(format: &CsvFormat, inner: R, first_line: u64) -> Self {
        RecordWalker {
            reader: BufReader::with_capacity(READ_BUFFER, inner),
            csv: csv_core::ReaderBuilder::new()
                .delimiter(format.delimiter)
                .quote(format.quote)
                .build(),
            output: vec![0; 1 << 16],
            ends: vec![0; 1 << 10],
            line: first_line,
        }
    }

    /// Skip one record; the line the next one starts on, or `None` at the end of the input.
    fn next_record(&mut self) -> std::io::Result<Option<u64>> {
        loop {
            let buf = self.reader.fill_buf()?;
            let (result, read, _, _) = self.csv.read_record(buf, &mut self.output, &mut self.ends);
            self.line += memchr::memchr_iter(b'\n', &buf[..read]).count() as u64;
            let last = read.checked_sub(1).map(|i| buf[i]);
            self.reader.consume(read);
            match result {
                csv_core::ReadRecordResult::Record => {
                    // csv-core ends a CRLF record at the `\r` and takes the `\n` with the next
                    // one: that next record starts on the following line.
                    let crlf =
                        last == Some(b'\r') && self.reader.fill_buf()?.first() == Some(&b'\n');
                    return Ok(Some(self.line + u64::from(crlf)));
                }
                csv_core::ReadRecordResult::End => return Ok(None),
                // More input, or more room for fields we do not keep: go on.
                _ => {}
            }
        }
    }
}

fn count_newlines(mut input: impl Read) -> std::io::Result<u64> {
    let mut buf = vec![0u8; READ_BUFFER];
    let mut lines = 0;
    loop {
        match input.read(&mut buf)? {
            0 => return Ok(lines),
            n => lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64,
        }
    }
}

/// Counts the bytes read through it, to estimate records per byte from a sample.
struct CountingReader<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}
