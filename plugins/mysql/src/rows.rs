//! Binary result rows (COM_STMT_EXECUTE) decoded straight into Arrow builders, one builder
//! per column: fixed-width values are read in place, strings and bytes are copied once into
//! the builder, nothing is allocated per value.

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, Date32Builder, Decimal128Builder, DurationMicrosecondBuilder, Float32Builder,
    Float64Builder, Int8Builder, Int16Builder, Int32Builder, Int64Builder,
    TimestampMicrosecondBuilder, UInt8Builder, UInt16Builder, UInt32Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, BinaryArray, RecordBatch, RecordBatchOptions, StringArray};
use arrow_schema::{DataType, SchemaRef, TimeUnit};
use mysql_common::constants::{ColumnFlags, ColumnType};
use mysql_common::packets::Column;
use qualityd_plugin_sdk::{Error, Result};

use crate::civil::days_from_civil;
use crate::errors::Failure;

const DAY_MICROS: i64 = 86_400_000_000;

/// How a value of a result column is laid out in a binary row.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Layout {
    Int1,
    Int2,
    Int4,
    Int8,
    Float,
    Double,
    /// A length-encoded string: text, bytes, decimals, bits, JSON, enums.
    Bytes,
    /// Length byte, then year, month, day, and optionally time and microseconds.
    Date,
    /// Length byte, then sign, days, hours, minutes, seconds, and optionally microseconds.
    Time,
    /// Always null (`SELECT NULL`).
    Null,
}

fn layout(column: &Column) -> Layout {
    use ColumnType::*;
    match column.column_type() {
        MYSQL_TYPE_TINY => Layout::Int1,
        MYSQL_TYPE_SHORT | MYSQL_TYPE_YEAR => Layout::Int2,
        MYSQL_TYPE_LONG | MYSQL_TYPE_INT24 => Layout::Int4,
        MYSQL_TYPE_LONGLONG => Layout::Int8,
        MYSQL_TYPE_FLOAT => Layout::Float,
        MYSQL_TYPE_DOUBLE => Layout::Double,
        MYSQL_TYPE_DATE
        | MYSQL_TYPE_NEWDATE
        | MYSQL_TYPE_DATETIME
        | MYSQL_TYPE_TIMESTAMP
        | MYSQL_TYPE_DATETIME2
        | MYSQL_TYPE_TIMESTAMP2 => Layout::Date,
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => Layout::Time,
        MYSQL_TYPE_NULL => Layout::Null,
        _ => Layout::Bytes,
    }
}

/// One column's builder.
enum Sink {
    I8(Int8Builder),
    I16(Int16Builder),
    I32(Int32Builder),
    I64(Int64Builder),
    U8(UInt8Builder),
    U16(UInt16Builder),
    U32(UInt32Builder),
    U64(UInt64Builder),
    /// BIT(n): big-endian bytes.
    Bits(UInt64Builder),
    F32(Float32Builder),
    F64(Float64Builder),
    Decimal(Decimal128Builder, u32),
    /// Text is collected as bytes and checked to be UTF-8 once per batch (one pass over
    /// the whole buffer is much faster than one per value).
    Utf8(BinaryBuilder),
    Binary(BinaryBuilder),
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
    Duration(DurationMicrosecondBuilder),
}

struct ColumnSink {
    name: String,
    data_type: DataType,
    layout: Layout,
    unsigned: bool,
    sink: Sink,
}

/// Turns binary rows into record batches of `schema`.
pub struct RowDecoder {
    schema: SchemaRef,
    columns: Vec<ColumnSink>,
    /// Bytes of the row's null bitmap (for every result column, with its 2-bit offset).
    null_bytes: usize,
    /// Rows per batch: the builders are made this large.
    capacity: usize,
    rows: usize,
    /// Rows decoded before this batch, for error locations.
    offset: u64,
    table: String,
}

impl RowDecoder {
    /// A decoder for a result whose columns are `wire`, into batches of `schema` (one field
    /// per wire column, in order; an extra trailing NULL column stands for no fields).
    pub fn new(schema: SchemaRef, wire: &[Column], capacity: usize, table: &str) -> Result<Self> {
        let mut columns = Vec::with_capacity(schema.fields().len());
        for (i, field) in schema.fields().iter().enumerate() {
            let changed = |why: String| -> Error {
                Error::data(format!(
                    "column `{}` of `{table}` changed since discover ({why}); run discover again",
                    field.name()
                ))
                .path(table)
                .field(field.name())
                .into()
            };
            let column = wire
                .get(i)
                .ok_or_else(|| changed("the server returned fewer columns".into()))?;
            let layout = layout(column);
            let unsigned = column.flags().contains(ColumnFlags::UNSIGNED_FLAG);
            let sink = sink(field.data_type(), layout, unsigned, capacity).ok_or_else(|| {
                changed(format!(
                    "it is read as {}, the server now sends {:?}",
                    field.data_type(),
                    column.column_type()
                ))
            })?;
            columns.push(ColumnSink {
                name: field.name().clone(),
                data_type: field.data_type().clone(),
                layout,
                unsigned,
                sink,
            });
        }
        Ok(RowDecoder {
            schema,
            columns,
            null_bytes: (wire.len() + 7 + 2) / 8,
            capacity,
            rows: 0,
            offset: 0,
            table: table.to_string(),
        })
    }

    /// Rows in the batch being built.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Decode one row packet (header byte 0x00 included).
    pub fn append(&mut self, row: &[u8]) -> Result<(), Failure> {
        let bitmap = row
            .get(1..1 + self.null_bytes)
            .ok_or_else(|| Failure::Protocol("a row shorter than its null bitmap".into()))?;
        let mut cursor = Cursor {
            row,
            pos: 1 + self.null_bytes,
        };
        for (i, column) in self.columns.iter_mut().enumerate() {
            let bit = i + 2;
            if bitmap[bit / 8] & (1 << (bit % 8)) != 0 {
                column.sink.append_null();
                continue;
            }
            if let Err(failure) = column.sink.append(&mut cursor) {
                return Err(match failure {
                    Bad::Short => Failure::Protocol("a row ended early".into()),
                    Bad::Value(why) => Failure::Error(
                        Error::data(format!("cannot read a value of `{}`: {why}", column.name))
                            .path(self.table.as_str())
                            .field(column.name.as_str())
                            .row(self.offset + self.rows as u64)
                            .into(),
                    ),
                });
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// The rows decoded so far as one batch; the builders start over, as large as these.
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for column in &mut self.columns {
            let bytes = column.sink.text_bytes();
            let fresh = sink_sized(
                &column.data_type,
                column.layout,
                column.unsigned,
                self.capacity,
                bytes + bytes / 8,
            )
            .expect("the same sink as before");
            let full = std::mem::replace(&mut column.sink, fresh);
            match full.finish() {
                Ok(array) => arrays.push(array),
                Err((row, why)) => {
                    return Err(Error::data(format!(
                        "cannot read a value of `{}`: {why}",
                        column.name
                    ))
                    .path(self.table.as_str())
                    .field(column.name.as_str())
                    .row(self.offset + row as u64)
                    .into());
                }
            }
        }
        let options = RecordBatchOptions::new().with_row_count(Some(self.rows));
        self.offset += self.rows as u64;
        self.rows = 0;
        RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options)
            .map_err(|e| Error::internal(format!("cannot assemble a record batch: {e}")))
    }
}

/// The builder for an Arrow type, when values of this layout can fill it.
fn sink(data_type: &DataType, layout: Layout, unsigned: bool, n: usize) -> Option<Sink> {
    sink_sized(data_type, layout, unsigned, n, n * 16)
}

/// [`sink`], with room for `bytes` bytes of strings.
fn sink_sized(
    data_type: &DataType,
    layout: Layout,
    unsigned: bool,
    n: usize,
    bytes: usize,
) -> Option<Sink> {
    use Layout::*;
    let sink = match (data_type, layout, unsigned) {
        (DataType::Int8, Int1, false) => Sink::I8(Int8Builder::with_capacity(n)),
        (DataType::UInt8, Int1, true) => Sink::U8(UInt8Builder::with_capacity(n)),
        // YEAR arrives as an unsigned two-byte integer.
        (DataType::Int16, Int2, _) => Sink::I16(Int16Builder::with_capacity(n)),
        (DataType::UInt16, Int2, true) => Sink::U16(UInt16Builder::with_capacity(n)),
        (DataType::Int32, Int4, false) => Sink::I32(Int32Builder::with_capacity(n)),
        (DataType::UInt32, Int4, true) => Sink::U32(UInt32Builder::with_capacity(n)),
        (DataType::Int64, Int8, false) => Sink::I64(Int64Builder::with_capacity(n)),
        (DataType::UInt64, Int8, true) => Sink::U64(UInt64Builder::with_capacity(n)),
        (DataType::UInt64, Bytes, _) => Sink::Bits(UInt64Builder::with_capacity(n)),
        (DataType::Float32, Float, _) => Sink::F32(Float32Builder::with_capacity(n)),
        (DataType::Float64, Double, _) => Sink::F64(Float64Builder::with_capacity(n)),
        (DataType::Decimal128(_, scale), Bytes, _) => Sink::Decimal(
            Decimal128Builder::with_capacity(n).with_data_type(data_type.clone()),
            u32::try_from(*scale).ok()?,
        ),
        (DataType::Utf8, Bytes, _) => Sink::Utf8(BinaryBuilder::with_capacity(n, bytes)),
        (DataType::Binary, Bytes, _) => Sink::Binary(BinaryBuilder::with_capacity(n, bytes)),
        (DataType::Date32, Date, _) => Sink::Date(Date32Builder::with_capacity(n)),
        (DataType::Timestamp(TimeUnit::Microsecond, _), Date, _) => Sink::Timestamp(
            TimestampMicrosecondBuilder::with_capacity(n).with_data_type(data_type.clone()),
        ),
        (DataType::Duration(TimeUnit::Microsecond), Time, _) => {
            Sink::Duration(DurationMicrosecondBuilder::with_capacity(n))
        }
        _ => return None,
    };
    Some(sink)
}

/// Why a value could not be read.
enum Bad {
    Short,
    Value(String),
}

struct Cursor<'a> {
    row: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    #[inline]
    fn take<const N: usize>(&mut self) -> Result<[u8; N], Bad> {
        let bytes = self.row.get(self.pos..self.pos + N).ok_or(Bad::Short)?;
        self.pos += N;
        Ok(bytes.try_into().expect("N bytes"))
    }

    #[inline]
    fn bytes(&mut self) -> Result<&'a [u8], Bad> {
        let first = *self.row.get(self.pos).ok_or(Bad::Short)?;
        self.pos += 1;
        let len = match first {
            0xFC => usize::from(u16::from_le_bytes(self.take()?)),
            0xFD => {
                let [a, b, c] = self.take()?;
                usize::from(a) | usize::from(b) << 8 | usize::from(c) << 16
            }
            0xFE => usize::try_from(u64::from_le_bytes(self.take()?)).map_err(|_| Bad::Short)?,
            0xFB | 0xFF => return Err(Bad::Value("a malformed length".into())),
            n => usize::from(n),
        };
        let bytes = self.row.get(self.pos..self.pos + len).ok_or(Bad::Short)?;
        self.pos += len;
        Ok(bytes)
    }

    /// A DATE, DATETIME or TIMESTAMP as (days, microseconds into the day); `None` for zero
    /// and impossible dates.
    fn date(&mut self) -> Result<Option<(i32, i64)>, Bad> {
        let [len] = self.take()?;
        let body = self
            .row
            .get(self.pos..self.pos + usize::from(len))
            .ok_or(Bad::Short)?;
        self.pos += usize::from(len);
        if len == 0 {
            return Ok(None);
        }
        if len < 4 {
            return Err(Bad::Value(format!("a date of {len} bytes")));
        }
        let year = u16::from_le_bytes([body[0], body[1]]);
        let Some(days) = days_from_civil(year, body[2], body[3]) else {
            return Ok(None);
        };
        let mut micros = 0i64;
        if len >= 7 {
            micros = (i64::from(body[4]) * 3600 + i64::from(body[5]) * 60 + i64::from(body[6]))
                * 1_000_000;
        }
        if len >= 11 {
            micros += i64::from(u32::from_le_bytes([body[7], body[8], body[9], body[10]]));
        }
        Ok(Some((days, micros)))
    }

    /// A TIME as signed microseconds.
    fn time(&mut self) -> Result<i64, Bad> {
        let [len] = self.take()?;
        let body = self
            .row
            .get(self.pos..self.pos + usize::from(len))
            .ok_or(Bad::Short)?;
        self.pos += usize::from(len);
        if len == 0 {
            return Ok(0);
        }
        if len < 8 {
            return Err(Bad::Value(format!("a time of {len} bytes")));
        }
        let days = i64::from(u32::from_le_bytes([body[1], body[2], body[3], body[4]]));
        let seconds =
            ((days * 24 + i64::from(body[5])) * 60 + i64::from(body[6])) * 60 + i64::from(body[7]);
        let mut micros = seconds * 1_000_000;
        if len >= 12 {
            micros += i64::from(u32::from_le_bytes([body[8], body[9], body[10], body[11]]));
        }
        Ok(if body[0] == 1 { -micros } else { micros })
    }
}

impl Sink {
    fn append_null(&mut self) {
        match self {
            Sink::I8(b) => b.append_null(),
            Sink::I16(b) => b.append_null(),
            Sink::I32(b) => b.append_null(),
            Sink::I64(b) => b.append_null(),
            Sink::U8(b) => b.append_null(),
            Sink::U16(b) => b.append_null(),
            Sink::U32(b) => b.append_null(),
            Sink::U64(b) | Sink::Bits(b) => b.append_null(),
            Sink::F32(b) => b.append_null(),
            Sink::F64(b) => b.append_null(),
            Sink::Decimal(b, _) => b.append_null(),
            Sink::Utf8(b) | Sink::Binary(b) => b.append_null(),
            Sink::Date(b) => b.append_null(),
            Sink::Timestamp(b) => b.append_null(),
            Sink::Duration(b) => b.append_null(),
        }
    }

    #[inline]
    fn append(&mut self, c: &mut Cursor<'_>) -> Result<(), Bad> {
        match self {
            Sink::I8(b) => b.append_value(i8::from_le_bytes(c.take()?)),
            Sink::U8(b) => b.append_value(u8::from_le_bytes(c.take()?)),
            Sink::I16(b) => b.append_value(i16::from_le_bytes(c.take()?)),
            Sink::U16(b) => b.append_value(u16::from_le_bytes(c.take()?)),
            Sink::I32(b) => b.append_value(i32::from_le_bytes(c.take()?)),
            Sink::U32(b) => b.append_value(u32::from_le_bytes(c.take()?)),
            Sink::I64(b) => b.append_value(i64::from_le_bytes(c.take()?)),
            Sink::U64(b) => b.append_value(u64::from_le_bytes(c.take()?)),
            Sink::F32(b) => b.append_value(f32::from_le_bytes(c.take()?)),
            Sink::F64(b) => b.append_value(f64::from_le_bytes(c.take()?)),
            Sink::Bits(b) => {
                let bytes = c.bytes()?;
                if bytes.len() > 8 {
                    return Err(Bad::Value(format!("a BIT value of {} bytes", bytes.len())));
                }
                b.append_value(bytes.iter().fold(0u64, |n, &byte| n << 8 | u64::from(byte)));
            }
            Sink::Decimal(b, scale) => b.append_value(decimal(c.bytes()?, *scale)?),
            Sink::Utf8(b) | Sink::Binary(b) => b.append_value(c.bytes()?),
            Sink::Date(b) => match c.date()? {
                Some((days, _)) => b.append_value(days),
                None => b.append_null(),
            },
            Sink::Timestamp(b) => match c.date()? {
                Some((days, micros)) => b.append_value(i64::from(days) * DAY_MICROS + micros),
                None => b.append_null(),
            },
            Sink::Duration(b) => b.append_value(c.time()?),
        }
        Ok(())
    }

    /// The values as an array; text that is not UTF-8 gives the index of the first bad value.
    fn finish(self) -> Result<ArrayRef, (usize, String)> {
        Ok(match self {
            Sink::I8(mut b) => Arc::new(b.finish()),
            Sink::I16(mut b) => Arc::new(b.finish()),
            Sink::I32(mut b) => Arc::new(b.finish()),
            Sink::I64(mut b) => Arc::new(b.finish()),
            Sink::U8(mut b) => Arc::new(b.finish()),
            Sink::U16(mut b) => Arc::new(b.finish()),
            Sink::U32(mut b) => Arc::new(b.finish()),
            Sink::U64(mut b) | Sink::Bits(mut b) => Arc::new(b.finish()),
            Sink::F32(mut b) => Arc::new(b.finish()),
            Sink::F64(mut b) => Arc::new(b.finish()),
            Sink::Decimal(mut b, _) => Arc::new(b.finish()),
            Sink::Utf8(mut b) => {
                let bytes = b.finish();
                let (offsets, values, nulls) = bytes.clone().into_parts();
                // Checks the whole buffer once, and that every value starts a character.
                match StringArray::try_new(offsets, values, nulls) {
                    Ok(text) => Arc::new(text),
                    Err(_) => return Err(first_bad_text(&bytes)),
                }
            }
            Sink::Binary(mut b) => Arc::new(b.finish()),
            Sink::Date(mut b) => Arc::new(b.finish()),
            Sink::Timestamp(mut b) => Arc::new(b.finish()),
            Sink::Duration(mut b) => Arc::new(b.finish()),
        })
    }

    /// Bytes of strings held now (to size the next batch's builder).
    fn text_bytes(&self) -> usize {
        match self {
            Sink::Utf8(b) | Sink::Binary(b) => b.values_slice().len(),
            _ => 0,
        }
    }
}

/// The first value of a batch's text column that is not UTF-8, and why.
fn first_bad_text(bytes: &BinaryArray) -> (usize, String) {
    for (i, value) in bytes.iter().enumerate() {
        if let Some(Err(e)) = value.map(std::str::from_utf8) {
            return (i, format!("invalid UTF-8 ({e})"));
        }
    }
    (0, "invalid UTF-8".into())
}

/// A DECIMAL's text (`-12.3400`) as an integer of `scale` fraction digits.
fn decimal(text: &[u8], scale: u32) -> Result<i128, Bad> {
    let bad = || {
        Bad::Value(format!(
            "`{}` is not a decimal",
            String::from_utf8_lossy(text)
        ))
    };
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    let mut value: i128 = 0;
    let mut fraction: Option<u32> = None;
    for &byte in digits {
        match byte {
            b'0'..=b'9' => {
                value = value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(i128::from(byte - b'0')))
                    .ok_or_else(bad)?;
                if let Some(f) = fraction.as_mut() {
                    *f += 1;
                }
            }
            b'.' if fraction.is_none() => fraction = Some(0),
            _ => return Err(bad()),
        }
    }
    let fraction = fraction.unwrap_or(0);
    if fraction > scale {
        return Err(bad());
    }
    value = value
        .checked_mul(10i128.pow(scale - fraction))
        .ok_or_else(bad)?;
    Ok(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_at_their_scale() {
        assert!(matches!(decimal(b"-12.3400", 4), Ok(-123_400)));
        assert!(matches!(decimal(b"12.5", 3), Ok(12_500)));
        assert!(matches!(decimal(b"7", 0), Ok(7)));
        assert!(decimal(b"1.234", 2).is_err());
        assert!(decimal(b"1e5", 2).is_err());
    }
}
