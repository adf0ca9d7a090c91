//! A field's values in the few forms rules compare them in: numbers (integers exact, floats
//! and decimals as f64), instants as nanoseconds since the epoch (in i128, so no unit or
//! date overflows), times of day, and text (any string encoding, dictionaries included).

use std::cmp::Ordering;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, UInt64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type, TimeUnit};

use super::params::Number;
use crate::profile::Kind;

/// Nanoseconds in a day.
pub(crate) const DAY_NANOS: i128 = 86_400_000_000_000;

/// How two numbers compare, exactly (an integer and a float are not rounded to each other);
/// `None` when either is NaN. `-0.0` equals `0.0`.
pub(crate) fn compare(a: Number, b: Number) -> Option<Ordering> {
    use Number::*;
    match (a, b) {
        (Int(a), Int(b)) => Some(a.cmp(&b)),
        (Float(a), Float(b)) => a.partial_cmp(&b),
        (Float(f), other) => int_vs_float(wide(other)?, f).map(Ordering::reverse),
        (other, Float(f)) => int_vs_float(wide(other)?, f),
        (a, b) => Some(wide(a)?.cmp(&wide(b)?)),
    }
}

/// An integer as i128 (`None` for floats).
fn wide(n: Number) -> Option<i128> {
    match n {
        Number::Int(v) => Some(v as i128),
        Number::UInt(v) => Some(v as i128),
        Number::Float(_) => None,
    }
}

/// How an integer compares with a float, without rounding either.
fn int_vs_float(x: i128, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // Beyond the range of i64 and u64 the answer does not depend on x.
    if f >= 18_446_744_073_709_551_616.0 {
        return Some(Ordering::Less);
    }
    if f < -9_223_372_036_854_775_808.0 {
        return Some(Ordering::Greater);
    }
    let floor = f.floor();
    match x.cmp(&(floor as i128)) {
        Ordering::Equal if f > floor => Some(Ordering::Less),
        other => Some(other),
    }
}

/// A number as f64 (integers rounded), for tolerances and sums.
pub(crate) fn to_f64(n: Number) -> f64 {
    match n {
        Number::Int(v) => v as f64,
        Number::UInt(v) => v as f64,
        Number::Float(v) => v,
    }
}

/// The absolute difference of two numbers: exact (then rounded once) when both are whole,
/// as a float's integer value is; in f64 otherwise.
pub(crate) fn distance(a: Number, b: Number) -> f64 {
    match (whole(a), whole(b)) {
        (Some(a), Some(b)) => (a - b).unsigned_abs() as f64,
        _ => (to_f64(a) - to_f64(b)).abs(),
    }
}

/// A whole number as i128: integers, and floats without a fraction below 10^30.
fn whole(n: Number) -> Option<i128> {
    match n {
        Number::Float(f) if f.fract() == 0.0 && f.abs() < 1.0e30 => Some(f as i128),
        n => wide(n),
    }
}

/// A numeric column: signed integers as i64, unsigned as u64, floats and decimals as f64
/// (decimals with more than ~15 significant digits are rounded).
pub(crate) enum Numbers {
    /// Signed integers.
    Int(Int64Array),
    /// Unsigned integers.
    UInt(UInt64Array),
    /// Floats and decimals.
    Float(Float64Array),
}

impl Numbers {
    /// The column's numbers, or `None` when it is not numeric.
    pub(crate) fn of(array: &dyn Array) -> Option<Numbers> {
        let to = |data_type| cast(array, &data_type).ok();
        Some(match Kind::of(array.data_type()) {
            Kind::Signed => Numbers::Int(to(DataType::Int64)?.as_primitive().clone()),
            Kind::Unsigned => Numbers::UInt(to(DataType::UInt64)?.as_primitive().clone()),
            Kind::Float => Numbers::Float(to(DataType::Float64)?.as_primitive().clone()),
            _ => return None,
        })
    }

    /// Row `i`'s number, `None` when it is null.
    pub(crate) fn get(&self, i: usize) -> Option<Number> {
        match self {
            Numbers::Int(a) => a.is_valid(i).then(|| Number::Int(a.value(i))),
            Numbers::UInt(a) => a.is_valid(i).then(|| Number::UInt(a.value(i))),
            Numbers::Float(a) => a.is_valid(i).then(|| Number::Float(a.value(i))),
        }
    }
}

/// Dates and timestamps as nanoseconds since the epoch (dates at midnight UTC; timestamps
/// without a time zone read as UTC, as the profiler reads them).
pub(crate) struct Instants {
    values: ArrayRef,
    nanos_per_unit: i128,
}

impl Instants {
    /// The column's instants, or `None` when it is neither dates nor timestamps.
    pub(crate) fn of(array: &dyn Array) -> Option<Instants> {
        let kind = Kind::of(array.data_type());
        let nanos_per_unit = match kind {
            Kind::Date => DAY_NANOS,
            Kind::Timestamp(unit, _) => unit_nanos(unit),
            _ => return None,
        };
        Some(Instants {
            values: kind.as_i64(array)?,
            nanos_per_unit,
        })
    }

    /// Row `i`'s instant, `None` when it is null.
    pub(crate) fn get(&self, i: usize) -> Option<i128> {
        let values = self.values.as_primitive::<Int64Type>();
        values
            .is_valid(i)
            .then(|| values.value(i) as i128 * self.nanos_per_unit)
    }
}

/// Nanoseconds in a unit.
pub(crate) fn unit_nanos(unit: TimeUnit) -> i128 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

/// Times of day in nanoseconds since midnight: of time fields, and of timestamps (in UTC, or
/// as written when they have no zone). `None` when the column is neither.
pub(crate) fn times_of_day(array: &dyn Array) -> Option<Vec<Option<i128>>> {
    let kind = Kind::of(array.data_type());
    if !matches!(kind, Kind::Time | Kind::Timestamp(..)) {
        return None;
    }
    if kind == Kind::Time {
        let nanos = Kind::Time.as_i64(array)?;
        return Some(
            nanos
                .as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(i128::from))
                .collect(),
        );
    }
    let instants = Instants::of(array)?;
    Some(
        (0..array.len())
            .map(|i| instants.get(i).map(|t| t.rem_euclid(DAY_NANOS)))
            .collect(),
    )
}

/// Which rows are null, by their logical value: a dictionary key that points to a null value
/// is null too.
pub(crate) fn nulls(array: &dyn Array) -> Vec<bool> {
    match array.logical_nulls() {
        Some(valid) => valid.iter().map(|v| !v).collect(),
        None => vec![false; array.len()],
    }
}

/// Whether a type is text: strings of any encoding, or a dictionary of them.
pub(crate) fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, values) => is_text(values),
        _ => false,
    }
}

/// Calls `f` with each row's text (`None` for nulls), in row order; `false` when the column
/// is not text. Dictionaries are decoded first.
pub(crate) fn for_each_text(array: &dyn Array, f: impl FnMut(Option<&str>)) -> bool {
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().for_each(f),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().for_each(f),
        DataType::Utf8View => array.as_string_view().iter().for_each(f),
        DataType::Dictionary(_, values) if is_text(values) => {
            let Ok(decoded) = cast(array, values) else {
                return false;
            };
            return for_each_text(decoded.as_ref(), f);
        }
        _ => return false,
    }
    true
}

/// The failing rows of a text column by a test of each non-null value (`true` = it fails);
/// `None` when the column is not text.
pub(crate) fn text_failures(
    array: &dyn Array,
    mut fails: impl FnMut(&str) -> bool,
) -> Option<Vec<bool>> {
    let mut out = Vec::with_capacity(array.len());
    for_each_text(array, |v| out.push(v.is_some_and(&mut fails))).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Number::*;

    #[test]
    fn integers_and_floats_compare_without_rounding() {
        assert_eq!(
            compare(Int(i64::MAX), Float(i64::MAX as f64)),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare(Int(i64::MIN), Float(i64::MIN as f64)),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare(UInt(u64::MAX), Int(i64::MAX)),
            Some(Ordering::Greater)
        );
        assert_eq!(compare(Int(2), Float(2.5)), Some(Ordering::Less));
        assert_eq!(compare(Float(2.5), Int(2)), Some(Ordering::Greater));
        assert_eq!(compare(Int(-3), Float(-2.5)), Some(Ordering::Less));
        assert_eq!(compare(Float(-0.0), Int(0)), Some(Ordering::Equal));
        assert_eq!(compare(Float(-0.0), Float(0.0)), Some(Ordering::Equal));
        assert_eq!(compare(Float(f64::NAN), Int(0)), None);
        assert_eq!(compare(Int(0), Float(f64::INFINITY)), Some(Ordering::Less));
        assert_eq!(
            compare(UInt(u64::MAX), Float(f64::NEG_INFINITY)),
            Some(Ordering::Greater)
        );
    }
}
