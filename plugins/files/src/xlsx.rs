//! XLSX workbooks: each sheet is a container, its first row the header. A column's type comes
//! from its cells (whole numbers → int64, numbers → double, booleans, dates → date32, date
//! times → timestamp, anything else or a mix → string). A cell that does not fit its
//! column, or holds an Excel error, is a data error naming the sheet and the cell.

use std::fs::File;
use std::io::BufReader;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use calamine::{Data, Range, Reader, Xlsx, open_workbook_from_rs};
use qualityd_plugin_sdk::{Batches, Error, ReadRequest, Result};

use crate::inferred::Inferred;
use crate::listing::{FileEntry, io_error};
use crate::request::{Limited, projection};

type Workbook = Xlsx<BufReader<File>>;

fn open(file: &FileEntry) -> Result<Workbook> {
    let raw = File::open(&file.path).map_err(|e| io_error(&file.path, &e))?;
    open_workbook_from_rs(BufReader::new(raw)).map_err(|e| {
        Error::data(format!("not a readable XLSX workbook: {e}"))
            .path(file.path.display().to_string())
            .into()
    })
}

/// The workbook's sheet names, in workbook order.
pub fn sheets(file: &FileEntry) -> Result<Vec<String>> {
    Ok(open(file)?.sheet_names())
}

fn load(file: &FileEntry, sheet: &str) -> Result<Range<Data>> {
    open(file)?.worksheet_range(sheet).map_err(|e| {
        Error::data(format!("cannot read the sheet: {e}"))
            .path(file.path.display().to_string())
            .detail(format!("sheet `{sheet}`"))
            .into()
    })
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Column {
    Int,
    Float,
    Bool,
    Date,
    Timestamp,
    Text,
}

impl Column {
    fn of(cell: &Data) -> Option<Column> {
        Some(match cell {
            Data::Int(_) => Column::Int,
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Column::Int,
            Data::Float(_) => Column::Float,
            Data::Bool(_) => Column::Bool,
            Data::DateTime(dt) if dt.is_datetime() && dt.as_f64().fract() == 0.0 => Column::Date,
            Data::DateTime(dt) if dt.is_datetime() => Column::Timestamp,
            Data::Empty | Data::Error(_) => return None,
            _ => Column::Text,
        })
    }

    fn merge(self, other: Column) -> Column {
        use Column::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Int, Float) | (Float, Int) => Float,
            (Date, Timestamp) | (Timestamp, Date) => Timestamp,
            _ => Text,
        }
    }

    fn data_type(self) -> DataType {
        match self {
            Column::Int => DataType::Int64,
            Column::Float => DataType::Float64,
            Column::Bool => DataType::Boolean,
            Column::Date => DataType::Date32,
            Column::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, None),
            Column::Text => DataType::Utf8,
        }
    }
}

/// The sheet's schema: names from the first row, types from the next `rows` rows.
pub fn infer(file: &FileEntry, sheet: &str, rows: usize) -> Result<Inferred> {
    let range = load(file, sheet)?;
    let mut all = range.rows();
    let header: Vec<String> = all.next().map(header_names).unwrap_or_default();
    let mut types: Vec<Option<Column>> = vec![None; header.len()];
    for row in all.take(rows) {
        for (slot, cell) in types.iter_mut().zip(row) {
            if let Some(column) = Column::of(cell) {
                *slot = Some(slot.map_or(column, |c| c.merge(column)));
            }
        }
    }
    let fields: Vec<Field> = header
        .iter()
        .zip(&types)
        .map(|(name, column)| Field::new(name, column.unwrap_or(Column::Text).data_type(), true))
        .collect();
    Ok(Inferred {
        schema: Arc::new(Schema::new(fields)),
        row_estimate: Some(range.height().saturating_sub(1) as u64),
    })
}

fn header_names(row: &[Data]) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(row.len());
    for (i, cell) in row.iter().enumerate() {
        let base = match cell {
            Data::Empty => format!("column_{}", column_letters(i)),
            other => other.to_string().trim().to_string(),
        };
        let mut name = base.clone();
        let mut n = 2;
        while names.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        names.push(name);
    }
    names
}

/// Read a sheet whole, honouring projection and limit.
pub fn read(
    file: &FileEntry,
    sheet: &str,
    schema: SchemaRef,
    request: &ReadRequest,
    batch_rows: usize,
) -> Result<Batches> {
    let (indices, projected) = projection(&schema, request, &file.name)?;
    let range = load(file, sheet)?;
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let rows: Vec<Vec<Data>> = range.rows().skip(1).map(<[Data]>::to_vec).collect();
    let sheet = sheet.to_string();
    let file = file.clone();
    let target = projected.clone();
    let batches = (0..rows.len())
        .step_by(batch_rows.max(1))
        .map(move |start| {
            let end = (start + batch_rows).min(rows.len());
            let columns = indices
                .iter()
                .zip(target.fields())
                .map(|(&column, field)| {
                    let at = |row: usize| CellRef {
                        sheet: &sheet,
                        row: first_row as usize + 1 + row,
                        column: first_col as usize + column,
                    };
                    build(
                        field.data_type(),
                        (start..end).map(|r| (at(r), rows[r].get(column))),
                    )
                })
                .collect::<std::result::Result<Vec<_>, String>>()
                .map_err(|message| {
                    Error::from(Error::data(message).path(file.path.display().to_string()))
                })?;
            RecordBatch::try_new(target.clone(), columns)
                .map_err(|e| Error::internal(e.to_string()))
        });
    Ok(Batches {
        schema: projected,
        batches: Box::new(Limited::new(batches, request.limit)),
        filter_applied: request.filter.is_empty(),
    })
}

/// Where a cell is, as Excel names it (`Sheet1!B7`).
struct CellRef<'a> {
    sheet: &'a str,
    row: usize,
    column: usize,
}

impl std::fmt::Display for CellRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}!{}{}",
            self.sheet,
            column_letters(self.column),
            self.row + 1
        )
    }
}

fn column_letters(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push((b'A' + (index % 26) as u8) as char);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.iter().rev().collect()
}

/// One column of a batch from its cells.
fn build<'a>(
    data_type: &DataType,
    cells: impl Iterator<Item = (CellRef<'a>, Option<&'a Data>)>,
) -> std::result::Result<ArrayRef, String> {
    let misfit = |at: &CellRef, cell: &Data, expected: &str| {
        format!(
            "cell {at} holds `{cell}` where the column holds {expected}; the column's type was \
             inferred from a sample: raise `infer_rows` if the sample missed values like this one"
        )
    };
    macro_rules! column {
        ($builder:expr, $convert:expr, $expected:expr) => {{
            let mut builder = $builder;
            for (at, cell) in cells {
                match cell {
                    None | Some(Data::Empty) => builder.append_null(),
                    Some(Data::Error(e)) => return Err(format!("cell {at} holds the error {e}")),
                    Some(cell) => match $convert(cell) {
                        Some(value) => builder.append_value(value),
                        None => return Err(misfit(&at, cell, $expected)),
                    },
                }
            }
            Arc::new(builder.finish()) as ArrayRef
        }};
    }
    Ok(match data_type {
        DataType::Int64 => column!(Int64Builder::new(), as_int, "whole numbers"),
        DataType::Float64 => column!(Float64Builder::new(), as_float, "numbers"),
        DataType::Boolean => column!(BooleanBuilder::new(), as_bool, "booleans"),
        DataType::Date32 => column!(Date32Builder::new(), as_date, "dates"),
        DataType::Timestamp(..) => {
            column!(TimestampMillisecondBuilder::new(), as_millis, "date times")
        }
        _ => column!(StringBuilder::new(), as_text, "text"),
    })
}

fn as_int(cell: &Data) -> Option<i64> {
    match cell {
        Data::Int(i) => Some(*i),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
        _ => None,
    }
}

fn as_float(cell: &Data) -> Option<f64> {
    match cell {
        Data::Int(i) => Some(*i as f64),
        Data::Float(f) => Some(*f),
        _ => None,
    }
}

fn as_bool(cell: &Data) -> Option<bool> {
    match cell {
        Data::Bool(b) => Some(*b),
        _ => None,
    }
}

fn as_datetime(cell: &Data) -> Option<chrono::NaiveDateTime> {
    match cell {
        Data::DateTime(dt) if dt.is_datetime() => dt.as_datetime(),
        _ => None,
    }
}

fn as_date(cell: &Data) -> Option<i32> {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    as_datetime(cell).map(|dt| (dt.date() - epoch).num_days() as i32)
}

fn as_millis(cell: &Data) -> Option<i64> {
    as_datetime(cell).map(|dt| dt.and_utc().timestamp_millis())
}

fn as_text(cell: &Data) -> Option<String> {
    Some(match cell {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::DateTime(_) => match as_datetime(cell) {
            Some(dt) if dt.time() == chrono::NaiveTime::MIN => dt.date().to_string(),
            Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
            None => cell.to_string(),
        },
        other => other.to_string(),
    })
}
