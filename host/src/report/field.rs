//! One field of the JSON profile document: every statistic of a [`FieldProfile`] in the form a
//! program reads (numbers as numbers, dates and timestamps as ISO-8601 strings), with the error
//! of each estimate next to it.

use arrow::datatypes::DataType;
use serde::Serialize;

use crate::profile::{FieldProfile, Frequent, Kind, Quantile, TextType, Value};

/// One field in the JSON document. Keys of `profile_version` 1 come first; none is ever
/// removed.
#[derive(Debug, Serialize)]
pub struct FieldReport {
    /// Its name.
    pub name: String,
    /// Its Arrow type, as Arrow's columnar format names it (`int64`, `string`, ...).
    #[serde(rename = "type")]
    pub data_type: String,
    /// Non-null values.
    pub count: u64,
    /// Null values.
    pub nulls: u64,
    /// Distinct non-null values.
    pub distinct: Option<u64>,
    /// Whether `distinct` is a HyperLogLog estimate.
    pub distinct_is_approximate: bool,
    /// Smallest value.
    pub min: serde_json::Value,
    /// Largest value.
    pub max: serde_json::Value,
    /// Mean of numbers.
    pub mean: Option<f64>,
    /// Sample standard deviation of numbers.
    pub stddev: Option<f64>,
    /// Shortest text, in characters.
    pub min_length: Option<u64>,
    /// Longest text, in characters.
    pub max_length: Option<u64>,
    /// Non-null values as a share of all values.
    pub completeness: Option<f64>,
    /// The relative standard error of `distinct` (0 while exact).
    pub distinct_relative_error: Option<f64>,
    /// The type the values are, or (for text) the one they all parse as.
    pub inferred_type: Option<TextType>,
    /// For text: the share of non-empty values that parse as each type.
    pub type_shares: Option<TypeShares>,
    /// Sum of numbers.
    pub sum: Option<f64>,
    /// Sample variance of numbers.
    pub variance: Option<f64>,
    /// Numbers equal to zero.
    pub zeros: Option<u64>,
    /// Numbers below zero.
    pub negatives: Option<u64>,
    /// Floating-point NaNs (left out of every other statistic).
    pub nans: Option<u64>,
    /// Quantiles of numbers, dates, times and timestamps.
    pub quantiles: Option<Percentiles>,
    /// The normalized rank error of each quantile (99% confidence); 0 while the quantiles
    /// are exact.
    pub quantile_rank_error: Option<f64>,
    /// Equi-width bins with exact counts.
    pub histogram: Option<Vec<BinReport>>,
    /// The most frequent values, most frequent first.
    pub top_values: Option<Vec<FrequentReport>>,
    /// Dates and timestamps after the profile was made.
    pub future: Option<u64>,
    /// Mean text length, in characters.
    pub mean_length: Option<f64>,
    /// Empty text values.
    pub empty: Option<u64>,
    /// Text values with whitespace around them.
    pub padded: Option<u64>,
    /// The most common shapes of text values (`Aa9-99`), most common first.
    pub shapes: Option<Vec<FrequentReport>>,
}

/// The share of classified text values that parse as each type (an integer also counts as
/// fractional, a date as a timestamp).
#[derive(Debug, Serialize)]
pub struct TypeShares {
    integral: f64,
    fractional: f64,
    boolean: f64,
    date: f64,
    timestamp: f64,
    text: f64,
}

/// The quantiles by name.
#[derive(Debug, Default, Serialize)]
pub struct Percentiles {
    p1: serde_json::Value,
    p5: serde_json::Value,
    p25: serde_json::Value,
    p50: serde_json::Value,
    p75: serde_json::Value,
    p95: serde_json::Value,
    p99: serde_json::Value,
}

/// One histogram bin: `[lower, upper)`, the last one closed.
#[derive(Debug, Serialize)]
pub struct BinReport {
    /// Its lower edge.
    pub lower: serde_json::Value,
    /// Its upper edge.
    pub upper: serde_json::Value,
    /// Values in it.
    pub count: u64,
}

/// A frequent value (or shape) and its count, which is within `count_error` of the truth.
#[derive(Debug, Serialize)]
pub struct FrequentReport {
    /// The value, or the shape.
    pub value: serde_json::Value,
    /// Its count.
    pub count: u64,
    /// The most the count can be off by (0 when exact).
    pub count_error: u64,
}

impl FieldReport {
    /// The report of a field's profile.
    pub fn of(field: &FieldProfile) -> Self {
        let kind = field.kind();
        let (distinct, approximate) = field.distinct_count().unzip();
        let moments = field.numbers.map(|n| n.moments);
        let text = field.text.as_ref();
        let json = |v: &Option<Value>| v.as_ref().map_or(serde_json::Value::Null, Value::to_json);
        let all = field.count + field.nulls;
        FieldReport {
            name: field.name.clone(),
            data_type: type_name(&field.data_type),
            count: field.count,
            nulls: field.nulls,
            distinct,
            distinct_is_approximate: approximate.unwrap_or(false),
            min: json(&field.min),
            max: json(&field.max),
            mean: moments.and_then(|m| m.mean()),
            stddev: moments.and_then(|m| m.stddev()),
            min_length: text.and_then(|t| t.min_length),
            max_length: text.and_then(|t| t.max_length),
            completeness: (all > 0).then(|| field.count as f64 / all as f64),
            distinct_relative_error: field.distinct.as_ref().map(|d| d.relative_error()),
            inferred_type: inferred_type(field, kind),
            type_shares: text.filter(|t| t.types.total() > 0).map(|t| {
                let s: Vec<f64> = t.types.shares().into_iter().map(|(_, s)| s).collect();
                TypeShares {
                    integral: s[0],
                    fractional: s[1],
                    boolean: s[2],
                    date: s[3],
                    timestamp: s[4],
                    text: s[5],
                }
            }),
            sum: moments.filter(|m| m.n > 0).map(|m| m.sum),
            variance: moments.and_then(|m| m.variance()),
            zeros: field.numbers.map(|n| n.zeros),
            negatives: field.numbers.map(|n| n.negatives),
            nans: field.numbers.map(|n| n.nans),
            quantiles: field.quantiles.as_ref().and_then(|q| {
                let values = q.percentiles();
                (!values.is_empty()).then(|| percentiles(kind, &values))
            }),
            quantile_rank_error: field.quantiles.as_ref().map(|q| q.rank_error()),
            histogram: field.histogram.as_ref().map(|h| {
                h.bins()
                    .into_iter()
                    .map(|bin| BinReport {
                        lower: kind.value_of_float(bin.lower).to_json(),
                        upper: kind.value_of_float(bin.upper).to_json(),
                        count: bin.count,
                    })
                    .collect()
            }),
            top_values: field.top_values.as_ref().map(|top| match kind {
                Kind::Text => frequent(top.top_texts(), |v| v.into()),
                _ => frequent(top.top_keys(), |key| kind.value_of_key(key).to_json()),
            }),
            future: field.future.map(|f| f.count),
            mean_length: text
                .filter(|_| field.count > 0)
                .map(|t| t.total_length as f64 / field.count as f64),
            empty: text.map(|t| t.empty),
            padded: text.map(|t| t.padded),
            shapes: text.map(|t| frequent(t.top_shapes(), |s| s.into())),
        }
    }
}

fn inferred_type(field: &FieldProfile, kind: Kind) -> Option<TextType> {
    match kind {
        Kind::Signed | Kind::Unsigned => Some(TextType::Integral),
        Kind::Float => Some(TextType::Fractional),
        Kind::Boolean => Some(TextType::Boolean),
        Kind::Date => Some(TextType::Date),
        Kind::Timestamp(..) => Some(TextType::Timestamp),
        Kind::Text => field.text.as_ref().and_then(|t| t.types.agreed()),
        Kind::Time | Kind::Other => None,
    }
}

fn percentiles(kind: Kind, values: &[(&str, Quantile)]) -> Percentiles {
    let mut out = Percentiles::default();
    for (name, quantile) in values {
        let value = match *quantile {
            Quantile::Int(v) => kind.value_of_key(v),
            Quantile::Float(v) => kind.value_of_float(v),
        };
        let slot = match *name {
            "p1" => &mut out.p1,
            "p5" => &mut out.p5,
            "p25" => &mut out.p25,
            "p50" => &mut out.p50,
            "p75" => &mut out.p75,
            "p95" => &mut out.p95,
            _ => &mut out.p99,
        };
        *slot = value.to_json();
    }
    out
}

impl Percentiles {
    /// The median, if there is one.
    pub fn median(&self) -> &serde_json::Value {
        &self.p50
    }
}

fn frequent<T>(
    items: Vec<Frequent<T>>,
    json: impl Fn(T) -> serde_json::Value,
) -> Vec<FrequentReport> {
    items
        .into_iter()
        .map(|f| FrequentReport {
            value: json(f.value),
            count: f.count,
            count_error: f.error,
        })
        .collect()
}

/// The type's name as Arrow's columnar format (and pyarrow) spells it.
pub fn type_name(data_type: &DataType) -> String {
    use DataType::*;
    match data_type {
        Null => "null".into(),
        Boolean => "bool".into(),
        Int8 => "int8".into(),
        Int16 => "int16".into(),
        Int32 => "int32".into(),
        Int64 => "int64".into(),
        UInt8 => "uint8".into(),
        UInt16 => "uint16".into(),
        UInt32 => "uint32".into(),
        UInt64 => "uint64".into(),
        Float16 => "halffloat".into(),
        Float32 => "float".into(),
        Float64 => "double".into(),
        Utf8 => "string".into(),
        LargeUtf8 => "large_string".into(),
        Utf8View => "string_view".into(),
        Binary => "binary".into(),
        LargeBinary => "large_binary".into(),
        Date32 => "date32[day]".into(),
        Date64 => "date64[ms]".into(),
        Timestamp(unit, None) => format!("timestamp[{}]", unit_name(unit)),
        Timestamp(unit, Some(tz)) => format!("timestamp[{}, tz={tz}]", unit_name(unit)),
        Time32(unit) => format!("time32[{}]", unit_name(unit)),
        Time64(unit) => format!("time64[{}]", unit_name(unit)),
        Decimal128(p, s) => format!("decimal128({p}, {s})"),
        Decimal256(p, s) => format!("decimal256({p}, {s})"),
        List(field) => format!("list<{}>", type_name(field.data_type())),
        LargeList(field) => format!("large_list<{}>", type_name(field.data_type())),
        Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", f.name(), type_name(f.data_type())))
                .collect();
            format!("struct<{}>", inner.join(", "))
        }
        other => other.to_string().to_lowercase(),
    }
}

fn unit_name(unit: &arrow::datatypes::TimeUnit) -> &'static str {
    use arrow::datatypes::TimeUnit::*;
    match unit {
        Second => "s",
        Millisecond => "ms",
        Microsecond => "us",
        Nanosecond => "ns",
    }
}
