//! What kind of statistics an Arrow type gets, and how its values map to the i64 and f64
//! forms the sketches work on and back to typed [`Value`]s for reports.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit};
use serde::{Deserialize, Serialize};

use super::Value;

/// The statistics family of a field's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Signed integers.
    Signed,
    /// Unsigned integers.
    Unsigned,
    /// Floating-point and decimal numbers.
    Float,
    /// Text.
    Text,
    /// Booleans.
    Boolean,
    /// Dates (as days since 1970-01-01).
    Date,
    /// Timestamps in a unit; `true` when the field has a time zone.
    Timestamp(TimeUnit, bool),
    /// Times of day (as nanoseconds since midnight).
    Time,
    /// Binary, nested and other types: counts and nulls only.
    Other,
}

impl Kind {
    /// The kind of an Arrow type.
    pub fn of(data_type: &DataType) -> Kind {
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

    /// Whether values have an order with distances: quantiles and histograms apply.
    pub fn is_ordered(self) -> bool {
        matches!(
            self,
            Kind::Signed
                | Kind::Unsigned
                | Kind::Float
                | Kind::Date
                | Kind::Timestamp(..)
                | Kind::Time
        )
    }

    /// An integer or temporal column as i64: integers as they are, dates as days, times as
    /// nanoseconds (saturating), timestamps in their unit.
    pub fn as_i64(self, array: &dyn Array) -> Option<ArrayRef> {
        if self == Kind::Time {
            return time_as_nanos(array);
        }
        let via = match self {
            Kind::Date => DataType::Date32,
            _ => DataType::Int64,
        };
        let typed = cast(array, &via).ok()?;
        match typed.data_type() {
            DataType::Int64 => Some(typed),
            DataType::Date32 => cast(&cast(&typed, &DataType::Int32).ok()?, &DataType::Int64).ok(),
            _ => cast(&typed, &DataType::Int64).ok(),
        }
    }

    /// The value an i64 key stands for: an integer or temporal value from [`Kind::as_i64`], a
    /// float by its bits, a boolean as 0 or 1.
    pub fn value_of_key(self, v: i64) -> Value {
        match self {
            Kind::Date => Value::Date(v as i32),
            Kind::Timestamp(unit, utc) => Value::Timestamp {
                value: v,
                unit,
                utc,
            },
            Kind::Time => Value::Time(v),
            Kind::Unsigned => Value::UInt(v as u64),
            Kind::Float => Value::Float(f64::from_bits(v as u64)),
            Kind::Boolean => Value::Bool(v != 0),
            _ => Value::Int(v),
        }
    }

    /// The value of a number on the f64 scale: histogram edges and float quantiles.
    pub fn value_of_float(self, v: f64) -> Value {
        match self {
            Kind::Float => Value::Float(v),
            Kind::Unsigned => Value::UInt(v.max(0.0) as u64),
            _ => self.value_of_key(v as i64),
        }
    }
}

/// Dates and timestamps later than the moment a profile was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FutureCount {
    /// The moment, in the field's i64 form (days, or units since the epoch; a timestamp
    /// without a time zone is compared as if it were UTC).
    pub after: i64,
    /// Values after it.
    pub count: u64,
}

impl FutureCount {
    /// For date and timestamp kinds: counts values after `now_micros` (µs since the epoch).
    pub fn new(kind: Kind, now_micros: i64) -> Option<Self> {
        let after = match kind {
            Kind::Date => now_micros.div_euclid(86_400_000_000),
            Kind::Timestamp(TimeUnit::Second, _) => now_micros.div_euclid(1_000_000),
            Kind::Timestamp(TimeUnit::Millisecond, _) => now_micros.div_euclid(1_000),
            Kind::Timestamp(TimeUnit::Microsecond, _) => now_micros,
            Kind::Timestamp(TimeUnit::Nanosecond, _) => now_micros.saturating_mul(1_000),
            _ => return None,
        };
        Some(FutureCount { after, count: 0 })
    }

    /// Count the values after the moment.
    pub fn add(&mut self, values: &[i64]) {
        self.count += values.iter().filter(|v| **v > self.after).count() as u64;
    }
}

/// Times of day as nanoseconds. arrow's cast multiplies unchecked, so a time far outside a
/// day (which a plugin may send: Arrow does not forbid it) would overflow; here it saturates.
fn time_as_nanos(array: &dyn Array) -> Option<ArrayRef> {
    use arrow::datatypes::{
        Int64Type, Time32MillisecondType, Time32SecondType, Time64MicrosecondType,
        Time64NanosecondType,
    };
    let scaled: arrow::array::Int64Array =
        match array.data_type() {
            DataType::Time32(TimeUnit::Second) => array
                .as_primitive::<Time32SecondType>()
                .unary::<_, Int64Type>(|x| x as i64 * 1_000_000_000),
            DataType::Time32(TimeUnit::Millisecond) => array
                .as_primitive::<Time32MillisecondType>()
                .unary::<_, Int64Type>(|x| x as i64 * 1_000_000),
            DataType::Time64(TimeUnit::Microsecond) => array
                .as_primitive::<Time64MicrosecondType>()
                .unary::<_, Int64Type>(|x| x.saturating_mul(1_000)),
            DataType::Time64(TimeUnit::Nanosecond) => array
                .as_primitive::<Time64NanosecondType>()
                .unary::<_, Int64Type>(|x| x),
            _ => return None,
        };
    Some(std::sync::Arc::new(scaled))
}

#[cfg(test)]
mod tests {
    use arrow::array::{Int64Array, Time64MicrosecondArray};

    use super::*;

    /// Found by the `ipc_decode` fuzz target: a time of i64::MAX µs overflowed arrow's cast
    /// to nanoseconds (a panic with overflow checks on).
    #[test]
    fn times_far_outside_a_day_saturate_instead_of_overflowing() {
        let times = Time64MicrosecondArray::from(vec![1, i64::MAX, i64::MIN]);
        let nanos = Kind::Time.as_i64(&times).unwrap();
        let nanos = nanos.as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(nanos.values()[..], [1_000, i64::MAX, i64::MIN]);
    }
}
