//! The parameter types rules share: numbers kept exact, listed values, type names, and the
//! enumerations of the rules not evaluated yet.

use serde::{Deserialize, Serialize};

/// A number as written in a rule: integers kept exact, anything else as f64.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Number {
    /// A signed integer.
    Int(i64),
    /// An integer above `i64::MAX`.
    UInt(u64),
    /// Any other number.
    Float(f64),
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Number::Int(v) => v.fmt(f),
            Number::UInt(v) => v.fmt(f),
            Number::Float(v) => v.fmt(f),
        }
    }
}

/// A value listed in a rule (expected or required values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// A truth value.
    Bool(bool),
    /// A number.
    Number(Number),
    /// Text (also how dates and other values are listed).
    Text(String),
}

/// What `is_type` asserts that a text value parses as (by the profiler's type inference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// A whole number.
    Integer,
    /// Any number (whole numbers included).
    Float,
    /// A truth value.
    Boolean,
    /// A calendar date.
    Date,
    /// A date with a time of day.
    Timestamp,
}

/// A field's type family, as `expected_schema` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Signed or unsigned integers.
    Integer,
    /// Floating-point or decimal numbers.
    Float,
    /// Booleans.
    Boolean,
    /// Dates.
    Date,
    /// Timestamps (any unit, with or without a time zone).
    Timestamp,
    /// Times of day.
    Time,
    /// Text.
    String,
    /// Bytes.
    Binary,
}

/// A field `expected_schema` requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaField {
    /// The field's name, exactly.
    pub name: String,
    /// Its type family, when it matters.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub field_type: Option<FieldType>,
}

/// How `volumetric` measures a container's size against its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VolumeComparison {
    /// Rows added since the last scan, as a count.
    AbsoluteChange,
    /// Rows added since the last scan, as a percentage of the rows before.
    PercentageChange,
    /// The row count itself.
    AbsoluteValue,
}

/// The time buckets `time_distribution_size` counts rows in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    /// Per hour.
    Hourly,
    /// Per day.
    Daily,
    /// Per week.
    Weekly,
    /// Per month.
    Monthly,
}

/// How `aggregation_comparison` compares its two aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// Equal (within no tolerance).
    Eq,
    /// Less than the reference.
    Lt,
    /// Less than or equal to the reference.
    Lte,
    /// Greater than the reference.
    Gt,
    /// Greater than or equal to the reference.
    Gte,
}
