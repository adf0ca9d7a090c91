//! One field's profile, updated batch by batch with Arrow kernels and merged across partitions.

use arrow::array::{Array, AsArray};
use arrow::compute::{cast, max_string, min_string};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, TimeUnit, UInt64Type};
use xxhash_rust::xxh3::xxh3_64;

use super::{DistinctCounter, Moments, Value};

/// What kind of statistics a field's type gets.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Signed,
    Unsigned,
    Float,
    Text,
    Boolean,
    Date,
    Timestamp(TimeUnit, bool),
    Time,
    Other,
}

impl Kind {
    fn of(data_type: &DataType) -> Kind {
        use DataType::*;
        match data_type {
            Int8 | Int16 | Int32 | Int64 => Kind::Signed,
            UInt8 | UInt16 | UInt32 | UInt64 => Kind::Unsigned,
            Float16 | Float32 | Float64 | Decimal32(..) | Decimal64(..) | Decimal128(..)
            | Decimal256(..) => Kind::Float,
            Utf8 | LargeUtf8 | Utf8View => Kind::Text,
            Boolean => Kind::Boolean,
            Date32 | Date64 => Kind::Date,
            Timestamp(unit, tz) => Kind::Timestamp(*unit, tz.is_some()),
            Time32(_) | Time64(_) => Kind::Time,
            _ => Kind::Other,
        }
    }
}

/// The profile of one field.
#[derive(Debug, Clone)]
pub struct FieldProfile {
    /// The field's name.
    pub name: String,
    /// Its Arrow type.
    pub data_type: DataType,
    kind: Kind,
    /// Non-null values.
    pub count: u64,
    /// Null values.
    pub nulls: u64,
    /// Distinct non-null values (none for types it is not counted for).
    pub distinct: Option<DistinctCounter>,
    /// Smallest non-null value (NaN excluded).
    pub min: Option<Value>,
    /// Largest non-null value (NaN excluded).
    pub max: Option<Value>,
    /// Mean and variance, for numbers.
    pub moments: Option<Moments>,
    /// Shortest text, in characters.
    pub min_length: Option<u64>,
    /// Longest text, in characters.
    pub max_length: Option<u64>,
}

impl FieldProfile {
    /// An empty profile of a field.
    pub fn new(field: &Field) -> Self {
        let kind = Kind::of(field.data_type());
        FieldProfile {
            name: field.name().clone(),
            data_type: field.data_type().clone(),
            kind,
            count: 0,
            nulls: 0,
            distinct: (kind != Kind::Other).then(DistinctCounter::default),
            min: None,
            max: None,
            moments: matches!(kind, Kind::Signed | Kind::Unsigned | Kind::Float)
                .then(Moments::default),
            min_length: None,
            max_length: None,
        }
    }

    /// Add one column of a batch.
    pub fn update(&mut self, array: &dyn Array) {
        let nulls = array.null_count() as u64;
        self.nulls += nulls;
        self.count += array.len() as u64 - nulls;
        if nulls == array.len() as u64 {
            return;
        }
        match self.kind {
            Kind::Signed => self.update_signed(array, Value::Int),
            Kind::Date => self.update_signed(array, |v| Value::Date(v as i32)),
            Kind::Timestamp(unit, utc) => {
                self.update_signed(array, |value| Value::Timestamp { value, unit, utc })
            }
            Kind::Time => self.update_signed(array, Value::Time),
            Kind::Unsigned => self.update_unsigned(array),
            Kind::Float => self.update_float(array),
            Kind::Text => self.update_text(array),
            Kind::Boolean => self.update_boolean(array),
            Kind::Other => {}
        }
    }

    /// Integers and temporal values, as i64 (dates as days, times as nanoseconds).
    fn update_signed(&mut self, array: &dyn Array, value: impl Fn(i64) -> Value) {
        let target = match self.kind {
            Kind::Date => DataType::Date32,
            Kind::Time => DataType::Time64(TimeUnit::Nanosecond),
            _ => DataType::Int64,
        };
        let Ok(cast) = cast(array, &target).and_then(|a| cast_to_i64(&a)) else {
            return;
        };
        let values = cast.as_primitive::<Int64Type>();
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        let mut numbers = Vec::new();
        for v in values.iter().flatten() {
            lo = lo.min(v);
            hi = hi.max(v);
            self.hash(&v.to_le_bytes());
            if self.moments.is_some() {
                numbers.push(v as f64);
            }
        }
        self.extend_range(value(lo), value(hi));
        self.add_moments(&numbers);
    }

    fn update_unsigned(&mut self, array: &dyn Array) {
        let Ok(cast) = cast(array, &DataType::UInt64) else {
            return;
        };
        let values = cast.as_primitive::<UInt64Type>();
        let (mut lo, mut hi) = (u64::MAX, u64::MIN);
        let mut numbers = Vec::with_capacity(values.len());
        for v in values.iter().flatten() {
            lo = lo.min(v);
            hi = hi.max(v);
            self.hash(&v.to_le_bytes());
            numbers.push(v as f64);
        }
        self.extend_range(Value::UInt(lo), Value::UInt(hi));
        self.add_moments(&numbers);
    }

    fn update_float(&mut self, array: &dyn Array) {
        let Ok(cast) = cast(array, &DataType::Float64) else {
            return;
        };
        let values = cast.as_primitive::<Float64Type>();
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut numbers = Vec::with_capacity(values.len());
        for v in values.iter().flatten() {
            self.hash(&v.to_bits().to_le_bytes());
            if v.is_nan() {
                continue;
            }
            lo = lo.min(v);
            hi = hi.max(v);
            numbers.push(v);
        }
        if !numbers.is_empty() {
            self.extend_range(Value::Float(lo), Value::Float(hi));
        }
        self.add_moments(&numbers);
    }

    fn update_text(&mut self, array: &dyn Array) {
        let Ok(cast) = cast(array, &DataType::Utf8) else {
            return;
        };
        let strings = cast.as_string::<i32>();
        let (mut shortest, mut longest) = (u64::MAX, 0u64);
        for s in strings.iter().flatten() {
            let length = if s.is_ascii() {
                s.len()
            } else {
                s.chars().count()
            } as u64;
            shortest = shortest.min(length);
            longest = longest.max(length);
            self.hash(s.as_bytes());
        }
        self.min_length = Some(self.min_length.map_or(shortest, |l| l.min(shortest)));
        self.max_length = Some(self.max_length.map_or(longest, |l| l.max(longest)));
        if let (Some(lo), Some(hi)) = (min_string(strings), max_string(strings)) {
            self.extend_range(Value::Text(lo.into()), Value::Text(hi.into()));
        }
    }

    fn update_boolean(&mut self, array: &dyn Array) {
        let booleans = array.as_boolean();
        let (mut seen_false, mut seen_true) = (false, false);
        for v in booleans.iter().flatten() {
            seen_true |= v;
            seen_false |= !v;
        }
        for (seen, v) in [(seen_false, false), (seen_true, true)] {
            if seen {
                self.hash(&[v as u8]);
                self.extend_range(Value::Bool(v), Value::Bool(v));
            }
        }
    }

    fn hash(&mut self, bytes: &[u8]) {
        if let Some(distinct) = &mut self.distinct {
            distinct.insert(xxh3_64(bytes));
        }
    }

    fn extend_range(&mut self, lo: Value, hi: Value) {
        if self.min.as_ref().is_none_or(|min| lo < *min) {
            self.min = Some(lo);
        }
        if self.max.as_ref().is_none_or(|max| hi > *max) {
            self.max = Some(hi);
        }
    }

    fn add_moments(&mut self, numbers: &[f64]) {
        if let Some(moments) = &mut self.moments {
            moments.merge(Moments::of(numbers));
        }
    }

    /// Fold in the profile of the same field from another part of the container.
    pub fn merge(&mut self, other: FieldProfile) {
        self.count += other.count;
        self.nulls += other.nulls;
        if let (Some(mine), Some(theirs)) = (&mut self.distinct, other.distinct) {
            mine.merge(theirs);
        }
        if let (Some(lo), Some(hi)) = (other.min, other.max) {
            self.extend_range(lo, hi);
        }
        if let (Some(mine), Some(theirs)) = (&mut self.moments, other.moments) {
            mine.merge(theirs);
        }
        self.min_length = min_option(self.min_length, other.min_length, u64::min);
        self.max_length = min_option(self.max_length, other.max_length, u64::max);
    }
}

fn min_option(a: Option<u64>, b: Option<u64>, pick: fn(u64, u64) -> u64) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}

/// Dates and times reinterpreted as their i64 counts, for one code path.
fn cast_to_i64(
    array: &arrow::array::ArrayRef,
) -> Result<arrow::array::ArrayRef, arrow::error::ArrowError> {
    match array.data_type() {
        DataType::Int64 => Ok(array.clone()),
        DataType::Date32 => cast(&cast(array, &DataType::Int32)?, &DataType::Int64),
        _ => cast(array, &DataType::Int64),
    }
}
