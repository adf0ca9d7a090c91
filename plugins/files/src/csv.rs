//! CSV files: schema inference, record-aligned byte-range partitions, and reading.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Take};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_csv::reader::{Decoder, Format, ReaderBuilder};
use arrow_schema::{ArrowError, Schema, SchemaRef};
use qualityd_plugin_sdk::{Batches, Error, Partition, ReadRequest, Result, Settings};

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

/// Where a partition starts and ends, and the line it starts on.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ByteRange {
    start: u64,
    end: u64,
    first_line: u64,
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
        let ranges = if size <= target {
            vec![ByteRange {
                start: 0,
                end: size,
                first_line: 1,
            }]
        } else {
            self.of(path).record_aligned_ranges(path, size, target)?
        };
        Ok(ranges.into_iter().map(ByteRange::to_partition).collect())
    }

    /// Walk the file with the same CSV state machine arrow-csv reads it with, so a cut never
    /// falls inside a quoted field, even one holding newlines.
    fn record_aligned_ranges(&self, path: &Path, size: u64, target: u64) -> Result<Vec<ByteRange>> {
        let file = File::open(path).map_err(|e| io_error(path, &e))?;
        let mut walker = RecordWalker::new(self, file, 1);
        let mut cuts = vec![(0u64, 1u64)];
        let mut next_cut = target;
        while let Some(end) = walker.next_record().map_err(|e| io_error(path, &e))? {
            if end.offset >= next_cut && end.offset < size && end.at_line_start {
                cuts.push((end.offset, end.next_line));
                next_cut = end.offset + target;
            }
        }
        let ends = cuts.iter().skip(1).map(|c| c.0).chain([size]);
        Ok(cuts
            .iter()
            .zip(ends)
            .map(|(&(start, first_line), end)| ByteRange {
                start,
                end,
                first_line,
            })
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
            id: format!("{}-{}@{}", self.start, self.end, self.first_line),
            description: format!(
                "bytes {}..{} from line {}",
                self.start, self.end, self.first_line
            ),
            row_estimate: None,
            byte_size: Some(self.end - self.start),
        }
    }

    fn parse(id: &str) -> Result<Self> {
        let parsed = id.split_once('-').and_then(|(start, rest)| {
            let (end, line) = rest.split_once('@')?;
            Some(ByteRange {
                start: start.parse().ok()?,
                end: end.parse().ok()?,
                first_line: line.parse().ok()?,
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
    /// The physical line on which the `index`-th record of a partition starts.
    fn line_of_record(&self, path: &Path, range: ByteRange, index: u64) -> std::io::Result<u64> {
        let mut file = File::open(path)?;
        file.seek(SeekFrom::Start(range.start))?;
        let mut walker =
            RecordWalker::new(self, file.take(range.end - range.start), range.first_line);
        let mut line = range.first_line;
        for _ in 0..index {
            match walker.next_record()? {
                Some(end) => line = end.next_line,
                None => break,
            }
        }
        Ok(line)
    }
}

/// Where a record ended.
struct RecordEnd {
    /// The byte offset just past it (relative to where the walk started).
    offset: u64,
    /// The physical line the next record starts on.
    next_line: u64,
    /// Whether it ended with a newline, so the next record starts a line.
    at_line_start: bool,
}

/// Walks CSV bytes record by record with csv-core, counting physical lines.
struct RecordWalker<R> {
    reader: BufReader<R>,
    csv: csv_core::Reader,
    output: Vec<u8>,
    ends: Vec<usize>,
    offset: u64,
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
            offset: 0,
            line: first_line,
        }
    }

    /// The end of the next record, or `None` at the end of the input.
    fn next_record(&mut self) -> std::io::Result<Option<RecordEnd>> {
        loop {
            let buf = self.reader.fill_buf()?;
            let (result, read, _, _) = self.csv.read_record(buf, &mut self.output, &mut self.ends);
            self.line += memchr::memchr_iter(b'\n', &buf[..read]).count() as u64;
            let last = read.checked_sub(1).map(|i| buf[i]);
            self.offset += read as u64;
            self.reader.consume(read);
            match result {
                csv_core::ReadRecordResult::Record => {
                    // csv-core ends a CRLF record at the `\r` and takes the `\n` with the next
                    // one: the next line then starts one byte further.
                    let crlf =
                        last == Some(b'\r') && self.reader.fill_buf()?.first() == Some(&b'\n');
                    let skip = u64::from(crlf);
                    return Ok(Some(RecordEnd {
                        offset: self.offset + skip,
                        next_line: self.line + skip,
                        at_line_start: crlf || last == Some(b'\n'),
                    }));
                }
                csv_core::ReadRecordResult::End => return Ok(None),
                // More input, or more room for fields we do not keep: go on.
                _ => {}
            }
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
