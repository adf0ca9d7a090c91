//! CSV files: schema inference, record-aligned byte-range partitions, and reading.

use std::io::{BufRead, Read};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_csv::reader::{Decoder, Format, ReaderBuilder};
use arrow_schema::{ArrowError, SchemaRef};
use qualityd_plugin_sdk::{Batches, Error, Partition, ReadRequest, Result, Settings};

use crate::cuts::record_aligned_cuts;
use crate::errors::{Numbering, data_error};
use crate::inferred::{Inferred, estimate_rows};
use crate::listing::{Compression, FileEntry, Kind, io_error};
use crate::request::{Limited, projection};
use crate::source;

/// How CSV files of a datastore are written.
#[derive(Debug, Clone)]
pub struct CsvFormat {
    delimiter: u8,
    quote: u8,
    escape: Option<u8>,
    header: bool,
    null_values: Option<regex::Regex>,
}

/// The bytes of a file a partition reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

fn one_byte(settings: &Settings, name: &str) -> Result<Option<u8>> {
    match settings.text(name)? {
        "" => Ok(None),
        "\\t" | "tab" => Ok(Some(b'\t')),
        d if d.len() == 1 => Ok(Some(d.as_bytes()[0])),
        d => Err(Error::config(format!(
            "setting `{name}` must be one byte (or `\\t`), got `{d}`"
        ))),
    }
}

impl CsvFormat {
    pub fn from_settings(settings: &Settings) -> Result<Self> {
        let required = |name: &str| {
            one_byte(settings, name)?
                .ok_or_else(|| Error::config(format!("setting `{name}` must not be empty")))
        };
        let null_values = match settings.text("null_values")? {
            "" => None,
            list => {
                let alternatives: Vec<String> = list.split(',').map(regex::escape).collect();
                let pattern = format!("^(|{})$", alternatives.join("|"));
                Some(regex::Regex::new(&pattern).map_err(|e| {
                    Error::config(format!("setting `null_values` is not usable: {e}"))
                })?)
            }
        };
        Ok(CsvFormat {
            delimiter: required("delimiter")?,
            quote: required("quote")?,
            escape: one_byte(settings, "escape")?,
            header: settings.boolean("header")?,
            null_values,
        })
    }

    /// The format of one file: `.tsv` files are tab-delimited whatever the setting says.
    fn of(&self, file: &FileEntry) -> CsvFormat {
        let mut format = self.clone();
        if file.kind == (Kind::Csv { tab: true }) {
            format.delimiter = b'\t';
        }
        format
    }

    fn arrow_format(&self) -> Format {
        let format = Format::default()
            .with_header(self.header)
            .with_delimiter(self.delimiter)
            .with_quote(self.quote);
        let format = match self.escape {
            Some(escape) => format.with_escape(escape),
            None => format,
        };
        match &self.null_values {
            Some(nulls) => format.with_null_regex(nulls.clone()),
            None => format,
        }
    }

    /// Infer the schema from the first `rows` records and estimate the record count.
    pub fn infer(&self, file: &FileEntry, rows: usize) -> Result<Inferred> {
        let format = self.of(file);
        let mut counted = CountingReader {
            inner: source::open_all(file)?,
            bytes: 0,
        };
        let (schema, records) = format
            .arrow_format()
            .infer_schema(&mut counted, Some(rows))
            .map_err(|e| {
                // The `csv` crate behind inference counts physical lines already.
                data_error(&file.path, &e, |n, numbering| {
                    (numbering == Numbering::Lines).then_some(n)
                })
            })?;
        let row_estimate = estimate_rows(file, records, rows, counted.bytes);
        Ok(Inferred {
            schema: Arc::new(schema),
            row_estimate,
        })
    }

    /// Split a file into byte ranges of about `target` bytes, each starting on a record.
    /// Compressed files, and files with an escape character, are read whole.
    pub fn partitions(&self, file: &FileEntry, target: u64) -> Result<Vec<Partition>> {
        let format = self.of(file);
        let splittable = file.compression == Compression::None && format.escape.is_none();
        let cuts = if file.size <= target || !splittable {
            Vec::new()
        } else {
            let raw = std::fs::File::open(&file.path).map_err(|e| io_error(&file.path, &e))?;
            record_aligned_cuts(raw, file.size, target, format.delimiter, format.quote)
                .map_err(|e| io_error(&file.path, &e))?
        };
        let starts = std::iter::once(0).chain(cuts.iter().copied());
        let ends = cuts.iter().copied().chain([file.size]);
        Ok(starts
            .zip(ends)
            .map(|(start, end)| ByteRange { start, end }.to_partition())
            .collect())
    }

    /// Read one partition, honouring projection and limit.
    pub fn read(
        &self,
        file: &FileEntry,
        schema: SchemaRef,
        request: &ReadRequest,
        batch_rows: usize,
    ) -> Result<Batches> {
        let format = self.of(file);
        let range = ByteRange::parse(&request.partition.id)?;
        let (indices, projected) = projection(&schema, request, &file.name)?;
        let mut builder = ReaderBuilder::new(schema)
            .with_header(format.header && range.start == 0)
            .with_delimiter(format.delimiter)
            .with_quote(format.quote)
            .with_batch_size(batch_rows)
            .with_projection(indices);
        if let Some(escape) = format.escape {
            builder = builder.with_escape(escape);
        }
        if let Some(nulls) = &format.null_values {
            builder = builder.with_null_regex(nulls.clone());
        }
        let batches = CsvBatches {
            decoder: builder.build_decoder(),
            reader: source::open(file, range.start, range.end)?,
            file: file.clone(),
            format,
            range,
        };
        Ok(Batches {
            schema: projected,
            batches: Box::new(Limited::new(batches, request.limit)),
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
            watermark: None,
        }
    }

    pub fn parse(id: &str) -> Result<Self> {
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
    reader: Box<dyn BufRead>,
    file: FileEntry,
    format: CsvFormat,
    range: ByteRange,
}

impl CsvBatches {
    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            let buf = self
                .reader
                .fill_buf()
                .map_err(|e| io_error(&self.file.path, &e))?;
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
        data_error(&self.file.path, e, |number, numbering| {
            // The 0-based index of the record among those this partition's reader saw.
            let index = match numbering {
                Numbering::RecordsFromOne => number.checked_sub(1)?,
                Numbering::RecordsFromZero => number,
                Numbering::Lines => return Some(number),
            };
            self.format
                .line_of_record(&self.file, self.range, index)
                .ok()
        })
    }
}

impl Iterator for CsvBatches {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}

impl CsvFormat {
    /// The physical line on which the `index`-th record of a partition starts (only on the
    /// error path: it reads the file up to the record).
    fn line_of_record(&self, file: &FileEntry, range: ByteRange, index: u64) -> Result<u64> {
        let first_line = 1 + count_newlines(source::open(file, 0, range.start)?)
            .map_err(|e| io_error(&file.path, &e))?;
        let partition = source::open(file, range.start, range.end)?;
        let mut walker = RecordWalker::new(self, partition, first_line);
        let mut line = first_line;
        for _ in 0..index {
            match walker.next_record().map_err(|e| io_error(&file.path, &e))? {
                Some(next) => line = next,
                None => break,
            }
        }
        Ok(line)
    }
}

/// Walks CSV bytes record by record with csv-core, counting physical lines.
struct RecordWalker<R> {
    reader: R,
    csv: csv_core::Reader,
    output: Vec<u8>,
    ends: Vec<usize>,
    line: u64,
}

impl<R: BufRead> RecordWalker<R> {
    fn new(format: &CsvFormat, reader: R, first_line: u64) -> Self {
        RecordWalker {
            reader,
            csv: csv_core::ReaderBuilder::new()
                .delimiter(format.delimiter)
                .quote(format.quote)
                .escape(format.escape)
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
    let mut buf = vec![0u8; 1 << 16];
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
