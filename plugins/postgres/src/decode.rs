//! PostgreSQL's binary value formats decoded straight into Arrow builders, one
//! [`ColumnDecoder`] per column. Values Arrow cannot hold (infinite dates and timestamps,
//! NaN in a decimal column) become nulls, counted so the read can say how many.

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder, Float32Builder,
    Float64Builder, Int16Builder, Int32Builder, Int64Builder, IntervalMonthDayNanoBuilder,
    StringBuilder, StringDictionaryBuilder, Time64MicrosecondBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::types::{Int32Type, IntervalMonthDayNano};
use arrow_array::{ArrayRef, ListArray};
use arrow_buffer::{NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::Field;

use crate::types::ValueKind;

/// µs from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const EPOCH_MICROS: i64 = 946_684_800_000_000;
/// Days from 1970-01-01 to 2000-01-01.
const EPOCH_DAYS: i32 = 10_957;

/// Builds one column's array from binary values: one variant per [`ValueKind`].
#[allow(missing_docs)]
pub enum ColumnDecoder {
    Bool(BooleanBuilder),
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Oid(Int64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Numeric(Decimal128Builder, i8),
    Text(StringBuilder),
    Jsonb(StringBuilder),
    Uuid(StringBuilder),
    Binary(BinaryBuilder),
    Date(Date32Builder),
    Time(Time64MicrosecondBuilder),
    Timestamp(TimestampMicrosecondBuilder),
    Interval(IntervalMonthDayNanoBuilder),
    Enum(StringDictionaryBuilder<Int32Type>),
    List(Box<ListDecoder>),
}

/// The offsets and nulls of a list column, around its items' decoder.
pub struct ListDecoder {
    offsets: Vec<i32>,
    nulls: NullBufferBuilder,
    items: ColumnDecoder,
    item_field: Arc<Field>,
}

/// Why a value could not be decoded.
pub type DecodeError = String;

impl ColumnDecoder {
    /// An empty decoder for `kind`, with room for `capacity` values.
    pub fn new(kind: &ValueKind, capacity: usize) -> ColumnDecoder {
        match kind {
            ValueKind::Bool => ColumnDecoder::Bool(BooleanBuilder::with_capacity(capacity)),
            ValueKind::Int16 => ColumnDecoder::Int16(Int16Builder::with_capacity(capacity)),
            ValueKind::Int32 => ColumnDecoder::Int32(Int32Builder::with_capacity(capacity)),
            ValueKind::Int64 => ColumnDecoder::Int64(Int64Builder::with_capacity(capacity)),
            ValueKind::Oid => ColumnDecoder::Oid(Int64Builder::with_capacity(capacity)),
            ValueKind::Float32 => ColumnDecoder::Float32(Float32Builder::with_capacity(capacity)),
            ValueKind::Float64 => ColumnDecoder::Float64(Float64Builder::with_capacity(capacity)),
            ValueKind::Numeric { precision, scale } => ColumnDecoder::Numeric(
                Decimal128Builder::with_capacity(capacity)
                    .with_precision_and_scale(*precision, *scale)
                    .expect("precision 1..=38 checked by the type mapping"),
                *scale,
            ),
            ValueKind::Text => ColumnDecoder::Text(StringBuilder::with_capacity(capacity, 0)),
            ValueKind::Jsonb => ColumnDecoder::Jsonb(StringBuilder::with_capacity(capacity, 0)),
            ValueKind::Uuid => {
                ColumnDecoder::Uuid(StringBuilder::with_capacity(capacity, capacity * 36))
            }
            ValueKind::Binary => ColumnDecoder::Binary(BinaryBuilder::with_capacity(capacity, 0)),
            ValueKind::Date => ColumnDecoder::Date(Date32Builder::with_capacity(capacity)),
            ValueKind::Time => {
                ColumnDecoder::Time(Time64MicrosecondBuilder::with_capacity(capacity))
            }
            ValueKind::Timestamp { tz } => {
                let builder = TimestampMicrosecondBuilder::with_capacity(capacity);
                ColumnDecoder::Timestamp(match tz {
                    true => builder.with_timezone("UTC"),
                    false => builder,
                })
            }
            ValueKind::Interval => {
                ColumnDecoder::Interval(IntervalMonthDayNanoBuilder::with_capacity(capacity))
            }
            ValueKind::Enum => ColumnDecoder::Enum(StringDictionaryBuilder::new()),
            ValueKind::List(item) => ColumnDecoder::List(Box::new(ListDecoder {
                offsets: {
                    let mut offsets = Vec::with_capacity(capacity + 1);
                    offsets.push(0);
                    offsets
                },
                nulls: NullBufferBuilder::new(capacity),
                items: ColumnDecoder::new(item, capacity),
                item_field: Arc::new(Field::new("item", item.data_type(), true)),
            })),
        }
    }

    /// Append one value (`None`: NULL). Returns whether a value Arrow cannot hold was
    /// replaced by a null.
    #[inline]
    pub fn append(&mut self, value: Option<&[u8]>) -> Result<bool, DecodeError> {
        let Some(bytes) = value else {
            self.append_null();
            return Ok(false);
        };
        match self {
            ColumnDecoder::Bool(b) => b.append_value(fixed::<1>(bytes)?[0] != 0),
            ColumnDecoder::Int16(b) => b.append_value(i16::from_be_bytes(fixed(bytes)?)),
            ColumnDecoder::Int32(b) => b.append_value(i32::from_be_bytes(fixed(bytes)?)),
            ColumnDecoder::Int64(b) => b.append_value(i64::from_be_bytes(fixed(bytes)?)),
            ColumnDecoder::Oid(b) => b.append_value(u32::from_be_bytes(fixed(bytes)?) as i64),
            ColumnDecoder::Float32(b) => b.append_value(f32::from_be_bytes(fixed(bytes)?)),
            ColumnDecoder::Float64(b) => b.append_value(f64::from_be_bytes(fixed(bytes)?)),
            ColumnDecoder::Numeric(b, scale) => match numeric(bytes, *scale)? {
                Some(value) => b.append_value(value),
                None => {
                    b.append_null();
                    return Ok(true);
                }
            },
            ColumnDecoder::Text(b) => b.append_value(text(bytes)?),
            ColumnDecoder::Jsonb(b) => match bytes.split_first() {
                Some((1, json)) => b.append_value(text(json)?),
                _ => return Err("a jsonb value of an unknown version".into()),
            },
            ColumnDecoder::Uuid(b) => b.append_value(uuid(fixed(bytes)?)),
            ColumnDecoder::Binary(b) => b.append_value(bytes),
            ColumnDecoder::Date(b) => {
                let days = i32::from_be_bytes(fixed(bytes)?);
                match days.checked_add(EPOCH_DAYS) {
                    Some(days) if days != i32::MAX && days != i32::MIN => b.append_value(days),
                    _ => {
                        b.append_null();
                        return Ok(true);
                    }
                }
            }
            ColumnDecoder::Time(b) => b.append_value(i64::from_be_bytes(fixed(bytes)?)),
            ColumnDecoder::Timestamp(b) => {
                let micros = i64::from_be_bytes(fixed(bytes)?);
                // ±infinity are i64::MAX and i64::MIN.
                match micros.checked_add(EPOCH_MICROS) {
                    Some(value) if micros != i64::MAX && micros != i64::MIN => {
                        b.append_value(value)
                    }
                    _ => {
                        b.append_null();
                        return Ok(true);
                    }
                }
            }
            ColumnDecoder::Interval(b) => {
                let bytes: [u8; 16] = fixed(bytes)?;
                let micros = i64::from_be_bytes(bytes[0..8].try_into().expect("8 bytes"));
                let days = i32::from_be_bytes(bytes[8..12].try_into().expect("4 bytes"));
                let months = i32::from_be_bytes(bytes[12..16].try_into().expect("4 bytes"));
                let nanos = micros
                    .checked_mul(1000)
                    .ok_or("an interval too long for nanoseconds")?;
                b.append_value(IntervalMonthDayNano::new(months, days, nanos));
            }
            ColumnDecoder::Enum(b) => {
                b.append_value(text(bytes)?);
            }
            ColumnDecoder::List(list) => return list.append(bytes),
        }
        Ok(false)
    }

    fn append_null(&mut self) {
        match self {
            ColumnDecoder::Bool(b) => b.append_null(),
            ColumnDecoder::Int16(b) => b.append_null(),
            ColumnDecoder::Int32(b) => b.append_null(),
            ColumnDecoder::Int64(b) | ColumnDecoder::Oid(b) => b.append_null(),
            ColumnDecoder::Float32(b) => b.append_null(),
            ColumnDecoder::Float64(b) => b.append_null(),
            ColumnDecoder::Numeric(b, _) => b.append_null(),
            ColumnDecoder::Text(b) | ColumnDecoder::Jsonb(b) | ColumnDecoder::Uuid(b) => {
                b.append_null()
            }
            ColumnDecoder::Binary(b) => b.append_null(),
            ColumnDecoder::Date(b) => b.append_null(),
            ColumnDecoder::Time(b) => b.append_null(),
            ColumnDecoder::Timestamp(b) => b.append_null(),
            ColumnDecoder::Interval(b) => b.append_null(),
            ColumnDecoder::Enum(b) => b.append_null(),
            ColumnDecoder::List(list) => {
                list.offsets
                    .push(*list.offsets.last().expect("starts with 0"));
                list.nulls.append_null();
            }
        }
    }

    /// The array of the values appended since the last call.
    pub fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnDecoder::Bool(b) => Arc::new(b.finish()),
            ColumnDecoder::Int16(b) => Arc::new(b.finish()),
            ColumnDecoder::Int32(b) => Arc::new(b.finish()),
            ColumnDecoder::Int64(b) | ColumnDecoder::Oid(b) => Arc::new(b.finish()),
            ColumnDecoder::Float32(b) => Arc::new(b.finish()),
            ColumnDecoder::Float64(b) => Arc::new(b.finish()),
            ColumnDecoder::Numeric(b, _) => Arc::new(b.finish()),
            ColumnDecoder::Text(b) | ColumnDecoder::Jsonb(b) | ColumnDecoder::Uuid(b) => {
                Arc::new(b.finish())
            }
            ColumnDecoder::Binary(b) => Arc::new(b.finish()),
            ColumnDecoder::Date(b) => Arc::new(b.finish()),
            ColumnDecoder::Time(b) => Arc::new(b.finish()),
            ColumnDecoder::Timestamp(b) => Arc::new(b.finish()),
            ColumnDecoder::Interval(b) => Arc::new(b.finish()),
            ColumnDecoder::Enum(b) => Arc::new(b.finish()),
            ColumnDecoder::List(list) => list.finish(),
        }
    }
}

impl ListDecoder {
    /// A one-dimensional array's elements (more dimensions are flattened in row-major order).
    fn append(&mut self, bytes: &[u8]) -> Result<bool, DecodeError> {
        let header = |at: usize| -> Result<i32, DecodeError> {
            crate::wire::read_i32(bytes, at).ok_or_else(|| "a truncated array header".into())
        };
        let dimensions = header(0)?;
        if !(0..=6).contains(&dimensions) {
            return Err(format!("an array of {dimensions} dimensions"));
        }
        let mut count: i64 = if dimensions == 0 { 0 } else { 1 };
        for d in 0..dimensions as usize {
            count *= header(12 + d * 8)?.max(0) as i64;
        }
        let mut at = 12 + dimensions as usize * 8;
        let mut replaced = false;
        for _ in 0..count {
            let length = header(at)?;
            at += 4;
            if length < 0 {
                self.items.append(None)?;
                continue;
            }
            let end = at + length as usize;
            let value = bytes.get(at..end).ok_or("a truncated array element")?;
            replaced |= self.items.append(Some(value))?;
            at = end;
        }
        let last = *self.offsets.last().expect("starts with 0");
        let next = i32::try_from(count)
            .ok()
            .and_then(|c| last.checked_add(c))
            .ok_or("over 2^31 array elements in one batch")?;
        self.offsets.push(next);
        self.nulls.append_non_null();
        Ok(replaced)
    }

    fn finish(&mut self) -> ArrayRef {
        let offsets = std::mem::replace(&mut self.offsets, vec![0]);
        let items = self.items.finish();
        let nulls = self.nulls.finish();
        Arc::new(ListArray::new(
            self.item_field.clone(),
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            items,
            nulls,
        ))
    }
}

#[inline]
fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N], DecodeError> {
    bytes
        .try_into()
        .map_err(|_| format!("a value of {} bytes where {N} were expected", bytes.len()))
}

#[inline]
fn text(bytes: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|e| format!("text that is not UTF-8: {e}"))
}

fn uuid(bytes: [u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[(byte >> 4) as usize] as char);
        out.push(HEX[(byte & 15) as usize] as char);
    }
    out
}

/// A binary numeric as an integer of `scale` decimal places; `None` for NaN and infinities.
fn numeric(bytes: &[u8], scale: i8) -> Result<Option<i128>, DecodeError> {
    let word = |i: usize| -> Result<i16, DecodeError> {
        Ok(i16::from_be_bytes(
            bytes
                .get(i * 2..i * 2 + 2)
                .ok_or("a truncated numeric")?
                .try_into()
                .expect("2 bytes"),
        ))
    };
    let (ndigits, weight, sign) = (word(0)?, word(1)? as i32, word(2)? as u16);
    if sign == 0xC000 || sign == 0xD000 || sign == 0xF000 {
        return Ok(None);
    }
    let overflow = || -> DecodeError { "a numeric too large for its declared precision".into() };
    let mut value: i128 = 0;
    for i in 0..ndigits.max(0) as usize {
        let digit = word(4 + i)? as i128;
        value = value
            .checked_mul(10_000)
            .and_then(|v| v.checked_add(digit))
            .ok_or_else(overflow)?;
    }
    // `value` is the number times 10^(4 * (ndigits - 1 - weight)); bring it to 10^scale.
    let exponent = scale as i32 - 4 * (ndigits as i32 - 1 - weight);
    if exponent >= 0 {
        value = 10i128
            .checked_pow(exponent as u32)
            .and_then(|p| value.checked_mul(p))
            .ok_or_else(overflow)?;
    } else {
        value = match 10i128.checked_pow((-exponent) as u32) {
            Some(p) => value / p,
            None => 0,
        };
    }
    Ok(Some(if sign == 0x4000 { -value } else { value }))
}
