//! How profiles are shown: JSON for programs (`profile_version` 1, documented in
//! `docs/profile-json.md`, keys never removed) and aligned tables for people.

use arrow::datatypes::DataType;
use serde::Serialize;

use crate::operation::ContainerOutcome;
use crate::profile::{ContainerProfile, FieldProfile};

/// The version of the JSON profile document.
pub const PROFILE_VERSION: u32 = 1;

/// The JSON profile document.
#[derive(Debug, Serialize)]
pub struct ProfileReport {
    /// Always [`PROFILE_VERSION`].
    pub profile_version: u32,
    /// One per container, in the order the plugin discovered them.
    pub containers: Vec<ContainerReport>,
}

/// One container in the JSON document.
#[derive(Debug, Serialize)]
pub struct ContainerReport {
    /// Its name in the datastore.
    pub name: String,
    /// Records read (0 when it failed).
    pub rows: u64,
    /// Field profiles.
    pub fields: Vec<FieldReport>,
    /// Why it could not be profiled; null when it was.
    pub error: Option<String>,
}

/// One field in the JSON document.
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
}

impl ProfileReport {
    /// The document for an operation's outcomes.
    pub fn new(outcomes: &[ContainerOutcome]) -> Self {
        ProfileReport {
            profile_version: PROFILE_VERSION,
            containers: outcomes.iter().map(ContainerReport::new).collect(),
        }
    }
}

impl ContainerReport {
    fn new(outcome: &ContainerOutcome) -> Self {
        match &outcome.result {
            Ok(profile) => ContainerReport::of(profile),
            Err(e) => ContainerReport {
                name: outcome.name.clone(),
                rows: 0,
                fields: Vec::new(),
                error: Some(e.to_string()),
            },
        }
    }

    fn of(profile: &ContainerProfile) -> Self {
        ContainerReport {
            name: profile.name.clone(),
            rows: profile.rows,
            fields: profile.fields.iter().map(FieldReport::of).collect(),
            error: None,
        }
    }
}

impl FieldReport {
    fn of(field: &FieldProfile) -> Self {
        let (distinct, approximate) = match &field.distinct {
            Some(counter) => {
                let (count, approximate) = counter.count();
                (Some(count), approximate)
            }
            None => (None, false),
        };
        let json = |v: &Option<crate::profile::Value>| {
            v.as_ref().map_or(serde_json::Value::Null, |v| v.to_json())
        };
        FieldReport {
            name: field.name.clone(),
            data_type: type_name(&field.data_type),
            count: field.count,
            nulls: field.nulls,
            distinct,
            distinct_is_approximate: approximate,
            min: json(&field.min),
            max: json(&field.max),
            mean: field.moments.and_then(|m| m.mean()),
            stddev: field.moments.and_then(|m| m.stddev()),
            min_length: field.min_length,
            max_length: field.max_length,
        }
    }
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

const COLUMNS: [&str; 10] = [
    "field", "type", "count", "nulls", "distinct", "min", "max", "mean", "stddev", "length",
];
const MAX_CELL: usize = 28;

/// The report as aligned text tables, one per container.
pub fn render_table(report: &ProfileReport) -> String {
    let mut out = String::new();
    for container in &report.containers {
        match &container.error {
            Some(error) => out.push_str(&format!("{}: FAILED: {error}\n\n", container.name)),
            None => {
                out.push_str(&format!("{} ({} rows)\n", container.name, container.rows));
                let rows: Vec<[String; 10]> = container.fields.iter().map(table_row).collect();
                out.push_str(&align(&rows));
                out.push('\n');
            }
        }
    }
    out
}

fn table_row(f: &FieldReport) -> [String; 10] {
    let value = |v: &serde_json::Value| match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let number = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
    let distinct = match (f.distinct, f.distinct_is_approximate) {
        (Some(d), true) => format!("~{d}"),
        (Some(d), false) => d.to_string(),
        (None, _) => String::new(),
    };
    let length = match (f.min_length, f.max_length) {
        (Some(lo), Some(hi)) => format!("{lo}..{hi}"),
        _ => String::new(),
    };
    [
        f.name.clone(),
        f.data_type.clone(),
        f.count.to_string(),
        f.nulls.to_string(),
        distinct,
        value(&f.min),
        value(&f.max),
        number(f.mean),
        number(f.stddev),
        length,
    ]
}

fn align(rows: &[[String; 10]]) -> String {
    let cell = |s: &str| -> String {
        let clean: String = s
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if clean.chars().count() > MAX_CELL {
            format!("{}…", clean.chars().take(MAX_CELL - 1).collect::<String>())
        } else {
            clean
        }
    };
    let header: [String; 10] = COLUMNS.map(String::from);
    let cells: Vec<Vec<String>> = std::iter::once(&header)
        .chain(rows)
        .map(|row| row.iter().map(|c| cell(c)).collect())
        .collect();
    let widths: Vec<usize> = (0..COLUMNS.len())
        .map(|i| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &cells {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                let pad = w - c.chars().count();
                // Numbers align right, text left.
                if (2..=4).contains(&i) || (7..=8).contains(&i) {
                    format!("{}{c}", " ".repeat(pad))
                } else {
                    format!("{c}{}", " ".repeat(pad))
                }
            })
            .collect();
        out.push_str("  ");
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
