//! One field's profile, updated batch by batch and merged across partitions. Which statistics
//! a field gets depends on its type's [`Kind`]; each lives in its own module.

use std::borrow::Cow;

use arrow::array::{Array, AsArray, PrimitiveArray};
use arrow::compute::{cast, max_string, min_string};
use arrow::datatypes::{ArrowPrimitiveType, DataType, Field, Float64Type, Int64Type, UInt64Type};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use super::histogram::Histogram;
use super::kind::{FutureCount, Kind};
use super::quantiles::Quantiles;
use super::tally::Tally;
use super::text::TextStats;
use super::top_values::TopValues;
use super::{DistinctCounter, NumberStats, Value};

/// Values counted in the tally before it is emptied into the sketches: a table this size
/// stays in the CPU's cache, and the sketches merge repeated values across chunks anyway.
const TALLY_CHUNK: usize = 4096;

/// The profile of one field.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FieldProfile {
    /// The field's name.
    pub name: String,
    /// Its Arrow type.
    #[serde(with = "data_type_text")]
    pub data_type: DataType,
    /// Non-null values.
    pub count: u64,
    /// Null values.
    pub nulls: u64,
    /// Distinct non-null values (none for types it is not counted for).
    pub distinct: Option<DistinctCounter>,
    /// Smallest non-null value (NaN excluded); the earliest, for dates and timestamps.
    pub min: Option<Value>,
    /// Largest non-null value (NaN excluded); the latest, for dates and timestamps.
    pub max: Option<Value>,
    /// The most frequent values.
    pub top_values: Option<TopValues>,
    /// Moments, zeros, negatives and NaNs, for numbers.
    pub numbers: Option<NumberStats>,
    /// Quantiles of numbers, dates, times and timestamps.
    pub quantiles: Option<Quantiles>,
    /// Equi-width histogram of numbers, dates, times and timestamps.
    pub histogram: Option<Histogram>,
    /// Dates and timestamps after the moment the profile was made.
    pub future: Option<FutureCount>,
    /// Lengths, types and shapes, for text.
    pub text: Option<TextStats>,
    /// Values of the batch being added, counted once per distinct value.
    #[serde(skip)]
    tally: Tally,
}

impl FieldProfile {
    /// An empty profile of a field; `now_micros` (µs since the epoch) is the moment after which
    /// dates and timestamps count as future.
    pub fn new(field: &Field, now_micros: i64) -> Self {
        let kind = Kind::of(field.data_type());
        let numeric = matches!(kind, Kind::Signed | Kind::Unsigned | Kind::Float);
        let ordered = kind.is_ordered();
        FieldProfile {
            name: field.name().clone(),
            data_type: field.data_type().clone(),
            count: 0,
            nulls: 0,
            distinct: (kind != Kind::Other).then(DistinctCounter::default),
            min: None,
            max: None,
            top_values: match kind {
                Kind::Other => None,
                Kind::Text => Some(TopValues::text()),
                _ => Some(TopValues::keys()),
            },
            numbers: numeric.then(NumberStats::default),
            quantiles: match kind {
                Kind::Unsigned | Kind::Float => Some(Quantiles::float()),
                _ if ordered => Some(Quantiles::int()),
                _ => None,
            },
            histogram: ordered.then(|| Histogram::new(kind != Kind::Float)),
            future: FutureCount::new(kind, now_micros),
            text: (kind == Kind::Text).then(TextStats::default),
            tally: Tally::default(),
        }
    }

    /// The distinct count and whether it is an estimate. An estimate is capped at the count
    /// of non-null values, which it cannot truly exceed but a HyperLogLog estimate may.
    pub fn distinct_count(&self) -> Option<(u64, bool)> {
        let (count, approximate) = self.distinct.as_ref()?.count();
        Some((count.min(self.count), approximate))
    }

    /// What kind of statistics it gets.
    pub fn kind(&self) -> Kind {
        Kind::of(&self.data_type)
    }

    /// Add one column of a batch.
    pub fn update(&mut self, array: &dyn Array) {
        let nulls = array.null_count() as u64;
        self.nulls += nulls;
        self.count += array.len() as u64 - nulls;
        if nulls == array.len() as u64 {
            return;
        }
        match self.kind() {
            Kind::Signed | Kind::Date | Kind::Timestamp(..) | Kind::Time => self.update_ints(array),
            Kind::Unsigned => self.update_unsigned(array),
            Kind::Float => self.update_floats(array),
            Kind::Text => self.update_text(array),
            Kind::Boolean => self.update_booleans(array),
            Kind::Other => {}
        }
    }

    /// Integers and temporal values, as i64 (dates as days, times as nanoseconds).
    fn update_ints(&mut self, array: &dyn Array) {
        let Some(cast) = self.kind().as_i64(array) else {
            return;
        };
        let values = non_null(cast.as_primitive::<Int64Type>());
        let (Some(&lo), Some(&hi)) = (values.iter().min(), values.iter().max()) else {
            return;
        };
        let kind = self.kind();
        self.extend_range(kind.value_of_key(lo), kind.value_of_key(hi));
        self.tally_keys(values.iter().map(|v| *v as u64));
        if let Some(quantiles) = &mut self.quantiles {
            quantiles.add_ints(values.iter().copied());
        }
        if let Some(histogram) = &mut self.histogram {
            histogram.add_ints(&values, lo, hi);
        }
        if let Some(future) = &mut self.future {
            future.add(&values);
        }
        if let Some(numbers) = &mut self.numbers {
            let floats: Vec<f64> = values.iter().map(|v| *v as f64).collect();
            numbers.add(&floats);
        }
    }

    fn update_unsigned(&mut self, array: &dyn Array) {
        let Ok(cast) = cast(array, &DataType::UInt64) else {
            return;
        };
        let values = non_null(cast.as_primitive::<UInt64Type>());
        let (Some(&lo), Some(&hi)) = (values.iter().min(), values.iter().max()) else {
            return;
        };
        self.extend_range(Value::UInt(lo), Value::UInt(hi));
        self.tally_keys(values.iter().copied());
        let floats: Vec<f64> = values.iter().map(|v| *v as f64).collect();
        self.add_floats(&floats);
    }

    fn update_floats(&mut self, array: &dyn Array) {
        let Ok(cast) = cast(array, &DataType::Float64) else {
            return;
        };
        let values = non_null(cast.as_primitive::<Float64Type>());
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for &v in values.iter() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        // One key per number: -0.0 is 0.0, and every NaN is one NaN.
        self.tally_keys(values.iter().map(|&v| match v {
            _ if v.is_nan() => f64::NAN.to_bits(),
            _ if v == 0.0 => 0f64.to_bits(),
            _ => v.to_bits(),
        }));
        if lo <= hi {
            self.extend_range(Value::Float(lo), Value::Float(hi));
        }
        self.add_floats(&values);
    }

    /// Moments, quantiles and histogram of numbers.
    fn add_floats(&mut self, values: &[f64]) {
        if let Some(numbers) = &mut self.numbers {
            numbers.add(values);
        }
        if let Some(quantiles) = &mut self.quantiles {
            quantiles.add_floats(values.iter().copied());
        }
        if let Some(histogram) = &mut self.histogram {
            let finite = values.iter().copied().filter(|v| v.is_finite());
            let lo = finite.clone().fold(f64::INFINITY, f64::min);
            let hi = finite.clone().fold(f64::NEG_INFINITY, f64::max);
            histogram.add(finite, lo, hi);
        }
    }

    fn update_text(&mut self, array: &dyn Array) {
        let Ok(cast) = cast(array, &DataType::Utf8) else {
            return;
        };
        let strings = cast.as_string::<i32>();
        if let (Some(lo), Some(hi)) = (min_string(strings), max_string(strings)) {
            self.extend_range(Value::Text(lo.into()), Value::Text(hi.into()));
        }
        for start in (0..strings.len()).step_by(TALLY_CHUNK) {
            for row in start..strings.len().min(start + TALLY_CHUNK) {
                if strings.is_valid(row) {
                    self.tally
                        .add(xxh3_64(strings.value(row).as_bytes()), row as u64);
                }
            }
            let distinct = &mut self.distinct;
            let counts = self.tally.drain().map(|(hash, row, count)| {
                if let Some(distinct) = distinct.as_mut() {
                    distinct.insert(hash);
                }
                (strings.value(row as usize), count)
            });
            match &mut self.top_values {
                Some(top) => top.add_texts(counts),
                None => counts.for_each(drop),
            }
        }
        if let Some(text) = &mut self.text {
            text.add(strings.iter().flatten());
        }
    }

    fn update_booleans(&mut self, array: &dyn Array) {
        let booleans = array.as_boolean();
        let trues = booleans.true_count() as u64;
        let falses = booleans.len() as u64 - booleans.null_count() as u64 - trues;
        for (value, count) in [(false, falses), (true, trues)] {
            if count > 0 {
                self.tally
                    .add_count(xxh3_64(&[value as u8]), value as u64, count);
                self.extend_range(Value::Bool(value), Value::Bool(value));
            }
        }
        self.flush_keys();
    }

    /// Count keys into the distinct counter and the top values, through the tally in chunks
    /// small enough for it to stay in the CPU's cache.
    fn tally_keys(&mut self, keys: impl Iterator<Item = u64>) {
        let mut in_chunk = 0;
        for key in keys {
            self.tally.add(xxh3_64(&key.to_le_bytes()), key);
            in_chunk += 1;
            if in_chunk == TALLY_CHUNK {
                self.flush_keys();
                in_chunk = 0;
            }
        }
        self.flush_keys();
    }

    /// Move the tally of keys into the distinct counter and the top values.
    fn flush_keys(&mut self) {
        let distinct = &mut self.distinct;
        let counts = self.tally.drain().map(|(hash, key, count)| {
            if let Some(distinct) = distinct.as_mut() {
                distinct.insert(hash);
            }
            (key as i64, count)
        });
        match &mut self.top_values {
            Some(top) => top.add_keys(counts),
            None => counts.for_each(drop),
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
        if let (Some(mine), Some(theirs)) = (&mut self.top_values, &other.top_values) {
            mine.merge(theirs);
        }
        if let (Some(mine), Some(theirs)) = (&mut self.numbers, &other.numbers) {
            mine.merge(theirs);
        }
        if let (Some(mine), Some(theirs)) = (&mut self.quantiles, &other.quantiles) {
            mine.merge(theirs);
        }
        if let (Some(mine), Some(theirs)) = (&mut self.histogram, &other.histogram) {
            mine.merge(theirs);
        }
        if let (Some(mine), Some(theirs)) = (&mut self.future, &other.future) {
            mine.count += theirs.count;
        }
        if let (Some(mine), Some(theirs)) = (&mut self.text, &other.text) {
            mine.merge(theirs);
        }
    }
}

/// The non-null values of a primitive array, borrowed when there are no nulls.
fn non_null<T: ArrowPrimitiveType>(array: &PrimitiveArray<T>) -> Cow<'_, [T::Native]> {
    if array.null_count() == 0 {
        Cow::Borrowed(array.values())
    } else {
        Cow::Owned(array.iter().flatten().collect())
    }
}

/// The type of a field in serialised profiles: Arrow's own text for it (`Int64`,
/// `Timestamp(µs, "UTC")`), which Arrow parses back.
mod data_type_text {
    use arrow::datatypes::DataType;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(data_type: &DataType, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&data_type.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DataType, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map_err(|e| D::Error::custom(format!("`{text}` is not an Arrow type: {e}")))
    }
}
