//! CSV files: schema inference, record-aligned byte-range partitions, and reading.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_csv::reader::{Decoder, Format, ReaderBuilder};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use qualityd_plugin_sdk::{Batches, Error, Partition, ReadRequest, Result, Settings};

use crate::cuts::record_aligned_cuts;
use crate::errors::{Numbering, ReadContext, data_error};
use crate::inferred::{Inferred, estimate_rows};
use crate::listing::{Compression, FileEntry, Kind, io_error};
use crate::nulls::{NullValues, Sample, markers_in_sample};
use crate::request::{Limited, projection};
use crate::source;

/// How CSV files of a datastore are written.
#[derive(Debug, Clone)]
pub struct CsvFormat {
    delimiter: u8,
    quote: u8,
    escape: Option<u8>,
    header: bool,
    /// The `null_values` setting.
    nulls: NullValues,
    /// Records sampled to infer a file's schema (`infer_rows`).
    infer_rows: usize,
    /// What inference found in each file, so that a read does not sample it again.
    inferred: Rc<RefCell<BTreeMap<PathBuf, FileInference>>>,
}

/// What inference found in one file, as it was when sampled.
#[derive(Debug, Clone)]
struct FileInference {
    size: u64,
    modified: Option<i64>,
    rows: usize,
    inferred: Inferred,
    /// The null values of this file: the setting's and the markers found in the sample.
    nulls: NullValues,
    /// The fields whose type the markers found revealed (read as text without them).
    marked_fields: Vec<String>,
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
        let nulls = NullValues::from_setting(settings.text("null_values")?);
        // Checked here, so that a bad setting fails `open`.
        nulls.regex()?;
        Ok(CsvFormat {
            delimiter: required("delimiter")?,
            quote: required("quote")?,
            escape: one_byte(settings, "escape")?,
            header: settings.boolean("header")?,
            nulls,
            infer_rows: settings.positive("infer_rows")? as usize,
            inferred: Rc::default(),
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

    fn arrow_format(&self, nulls: &NullValues) -> Result<Format> {
        let format = Format::default()
            .with_header(self.header)
            .with_delimiter(self.delimiter)
            .with_quote(self.quote);
        let format = match self.escape {
            Some(escape) => format.with_escape(escape),
            None => format,
        };
        Ok(match nulls.regex()? {
            Some(nulls) => format.with_null_regex(nulls),
            None => format,
        })
    }

    /// Infer the schema from the first `rows` records and estimate the record count.
    pub fn infer(&self, file: &FileEntry, rows: usize) -> Result<Inferred> {
        Ok(self.file_inference(file, rows)?.inferred)
    }

    /// What inference finds in a file: from the memo when the file has not changed since.
    fn file_inference(&self, file: &FileEntry, rows: usize) -> Result<FileInference> {
        if let Some(known) = self.inferred.borrow().get(&file.path)
            && (known.size, known.modified, known.rows) == (file.size, file.modified, rows)
        {
            return Ok(known.clone());
        }
        let found = self.of(file).sample(file, rows)?;
        self.inferred
            .borrow_mut()
            .insert(file.path.clone(), found.clone());
        Ok(found)
    }

    /// Sample a file: arrow-csv infers the types with the configured null values; where it
    /// found text, the fields that hold numbers, booleans, dates or times besides common null
    /// markers take that type, and those markers read as null in this file.
    fn sample(&self, file: &FileEntry, rows: usize) -> Result<FileInference> {
        let (schema, records, sample_bytes) = self.infer_types(file, rows, &self.nulls)?;
        let row_estimate = estimate_rows(file, records, rows, sample_bytes);
        let text_fields: Vec<usize> = (0..schema.fields().len())
            .filter(|&i| schema.field(i).data_type() == &DataType::Utf8)
            .collect();
        let mut inference = FileInference {
            size: file.size,
            modified: file.modified,
            rows,
            inferred: Inferred {
                schema: Arc::new(schema.clone()),
                row_estimate,
            },
            nulls: self.nulls.clone(),
            marked_fields: Vec::new(),
        };
        if text_fields.is_empty() {
            return Ok(inference);
        }
        let sample = Sample {
            delimiter: self.delimiter,
            quote: self.quote,
            escape: self.escape,
            header: self.header,
            rows,
        };
        let markers =
            markers_in_sample(source::open_all(file)?, &sample, &text_fields, &self.nulls)
                .map_err(|e| {
                    Error::data(format!("cannot read the schema sample: {e}"))
                        .path(file.path.display().to_string())
                })?;
        if markers.is_empty() {
            return Ok(inference);
        }
        let all_markers = self.nulls.with_found(markers.values().flatten().cloned());
        let (typed, _, _) = self.infer_types(file, rows, &all_markers)?;
        let revealed: Vec<usize> = markers
            .keys()
            .copied()
            .filter(|&i| !matches!(typed.field(i).data_type(), DataType::Utf8 | DataType::Null))
            .collect();
        if revealed.is_empty() {
            return Ok(inference);
        }
        let found: BTreeSet<String> = revealed
            .iter()
            .flat_map(|i| markers[i].iter().cloned())
            .collect();
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, field)| match revealed.contains(&i) {
                true => typed.field(i).clone(),
                false => field.as_ref().clone(),
            })
            .collect();
        inference.marked_fields = revealed
            .iter()
            .map(|&i| {
                format!(
                    "`{}` ({})",
                    typed.field(i).name(),
                    typed.field(i).data_type()
                )
            })
            .collect();
        inference.inferred.schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata));
        inference.nulls = self.nulls.with_found(found);
        Ok(inference)
    }

    /// arrow-csv's types for the first `rows` records with these null values, the records
    /// sampled and the bytes read to sample them.
    fn infer_types(
        &self,
        file: &FileEntry,
        rows: usize,
        nulls: &NullValues,
    ) -> Result<(Schema, usize, u64)> {
        let mut counted = CountingReader {
            inner: source::open_all(file)?,
            bytes: 0,
        };
        let (schema, records) = self
            .arrow_format(nulls)?
            .infer_schema(&mut counted, Some(rows))
            .map_err(|e| {
                // The `csv` crate behind inference counts physical lines already.
                data_error(&file.path, &e, None, |n, numbering| {
                    (numbering == Numbering::Lines).then_some(n)
                })
            })?;
        Ok((schema, records, counted.bytes))
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

    /// Read one partition, honouring projection and limit, `batch_rows` records a batch
    /// (the session has bounded it by the file's width).
    pub fn read(
        &self,
        file: &FileEntry,
        schema: SchemaRef,
        request: &ReadRequest,
        batch_rows: usize,
    ) -> Result<Batches> {
        let format = self.of(file);
        let range = ByteRange::parse(&request.partition.id)?;
        let inference = self.file_inference(file, self.infer_rows)?;
        if range.start == 0 && !inference.nulls.found().is_empty() {
            // Once per read of the file: its first partition.
            qualityd_plugin_sdk::log::info(&format!(
                "{}: {} read as null in every field of this file: fields {} hold them \
                 besides their values (set `null_values` to name the null markers yourself)",
                file.path.display(),
                quoted(inference.nulls.found()),
                inference.marked_fields.join(", "),
            ));
        }
        let (indices, projected) = projection(&schema, request, &file.name)?;
        // arrow-csv reserves room for every field of a batch, projected or not.
        let mut builder = ReaderBuilder::new(schema.clone())
            .with_header(format.header && range.start == 0)
            .with_delimiter(format.delimiter)
            .with_quote(format.quote)
            .with_batch_size(batch_rows)
            .with_projection(indices);
        if let Some(escape) = format.escape {
            builder = builder.with_escape(escape);
        }
        if let Some(nulls) = inference.nulls.regex()? {
            builder = builder.with_null_regex(nulls);
        }
        let batches = CsvBatches {
            decoder: builder.build_decoder(),
            reader: source::open(file, range.start, range.end)?,
            file: file.clone(),
            schema,
            nulls: inference.nulls,
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

/// Values as a list for a message: `` `NA` `` or `` `-`, `NA` ``.
fn quoted(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    quoted.join(", ")
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
    /// The file's fields (before projection), to name the field of a bad value.
    schema: SchemaRef,
    nulls: NullValues,
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
                // The end of the input: an empty buffer tells the decoder so, and it ends a
                // last record that has no newline (without it, the record is dropped or
                // "part way through" at flush).
                self.decoder.decode(&[]).map_err(|e| self.error(&e))?;
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
        let context = ReadContext {
            fields: self.schema.fields(),
            nulls: &self.nulls,
        };
        data_error(&self.file.path, e, Some(&context), |number, numbering| {
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
