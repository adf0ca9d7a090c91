//! The rules a check can assert, with the parameters a user of Qualytics knows, and how each
//! is evaluated: row by row, over a whole container, against the container's history, or not
//! yet (rules that read a second container keep their variant so configurations parse and
//! the gap shows).

use serde::{Deserialize, Serialize};

use super::params::{
    Comparison, Interval, Number, Scalar, SchemaField, ValueType, VolumeComparison,
};

/// What a check asserts. In JSON the rule's name is the `rule` key, its parameters beside it:
/// `{"rule": "between", "min": 0, "max": 100}`. Unknown parameters are refused (except
/// beside the rules that take none).
///
/// Value rules apply to the check's fields (a row fails when any of them fails); a null never
/// fails them (only `not_null` and `any_not_null` look at nulls) and an empty string is a
/// value like any other. A NaN satisfies no numeric bound, so it fails numeric rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// Dates and timestamps strictly after a moment.
    AfterDateTime {
        /// RFC 3339 (`2024-01-31T00:00:00Z`); timestamps without a zone are read as UTC.
        datetime: String,
    },
    /// Dates and timestamps strictly before a moment.
    BeforeDateTime {
        /// RFC 3339; timestamps without a zone are read as UTC.
        datetime: String,
    },
    /// Numbers between two bounds.
    Between {
        /// The lower bound.
        min: Number,
        /// The upper bound.
        max: Number,
        /// Whether `min` itself passes (default true).
        #[serde(default = "yes")]
        inclusive_min: bool,
        /// Whether `max` itself passes (default true).
        #[serde(default = "yes")]
        inclusive_max: bool,
    },
    /// Times of day (of time fields, or of timestamps in UTC) within a window, both ends
    /// included; a window whose `min` is after its `max` wraps midnight.
    BetweenTimes {
        /// `HH:MM:SS` (fractions allowed).
        min: String,
        /// `HH:MM:SS` (fractions allowed).
        max: String,
    },
    /// Dates and timestamps not after the moment of the check.
    NotFuture,
    /// Numbers equal to a value.
    EqualTo {
        /// The value.
        value: Number,
        /// The largest difference still counted as equal (default 0).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tolerance: Option<f64>,
    },
    /// Numbers greater than a value.
    GreaterThan {
        /// The value.
        value: Number,
        /// Whether the value itself passes.
        #[serde(default)]
        inclusive: bool,
    },
    /// Numbers less than a value.
    LessThan {
        /// The value.
        value: Number,
        /// Whether the value itself passes.
        #[serde(default)]
        inclusive: bool,
    },
    /// Numbers at least a value.
    MinValue {
        /// The smallest value that passes.
        value: Number,
    },
    /// Numbers at most a value.
    MaxValue {
        /// The largest value that passes.
        value: Number,
    },
    /// Numbers not below zero (`-0.0` is zero).
    NotNegative,
    /// Numbers above zero.
    Positive,
    /// Values equal to another field's in the same row (numbers, temporal values or text).
    EqualToField {
        /// The other field.
        field: String,
        /// For numbers, the largest difference still counted as equal (default 0).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tolerance: Option<f64>,
    },
    /// Values greater than another field's in the same row.
    GreaterThanField {
        /// The other field.
        field: String,
        /// Whether equal values pass.
        #[serde(default)]
        inclusive: bool,
    },
    /// Values less than another field's in the same row.
    LessThanField {
        /// The other field.
        field: String,
        /// Whether equal values pass.
        #[serde(default)]
        inclusive: bool,
    },
    /// No nulls.
    NotNull,
    /// At least one of these fields is not null in every row.
    AnyNotNull {
        /// The fields; when none are listed, the check's fields.
        #[serde(default)]
        fields: Vec<String>,
    },
    /// No value (of the check's fields together) appears twice.
    Unique,
    /// Exactly this many distinct non-null values.
    DistinctCount {
        /// The count.
        value: u64,
    },
    /// Text values parse as a type (by the profiler's inference); other fields pass or fail
    /// by their Arrow type.
    IsType {
        /// The type.
        #[serde(rename = "type")]
        value_type: ValueType,
    },
    /// Text values in which a regular expression matches (anchor it with `^…$` to match the
    /// whole value).
    MatchesPattern {
        /// The regular expression (Rust `regex` syntax).
        pattern: String,
    },
    /// Text at least this many characters long.
    MinLength {
        /// The length, in characters.
        value: u64,
    },
    /// Text at most this many characters long.
    MaxLength {
        /// The length, in characters.
        value: u64,
    },
    /// Values from a list: numbers compared as numbers, booleans as booleans, text exactly
    /// (case and spaces count), other types by Arrow's text form (dates as `YYYY-MM-DD`).
    ExpectedValues {
        /// The values allowed.
        values: Vec<Scalar>,
    },
    /// Every listed value appears somewhere in the container.
    RequiredValues {
        /// The values required.
        values: Vec<Scalar>,
    },
    /// Text containing an email address.
    ContainsEmail,
    /// Text containing an http(s) URL.
    ContainsUrl,
    /// Text containing a credit card number (13–19 digits, Luhn-valid, spaces or dashes
    /// allowed between digits).
    ContainsCreditCard,
    /// Text containing a US social security number (`AAA-GG-SSSS`, valid ranges only).
    ContainsSocialSecurityNumber,
    /// Text that is a credit card number as a whole.
    IsCreditCard,
    /// Values found in a field of another container (numbers by value, text exactly).
    ExistsIn {
        /// The other container.
        container: String,
        /// Its field.
        field: String,
        /// The other container's datastore, when not the check's own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        datastore: Option<String>,
    },
    /// Values not found in a field of another container.
    NotExistsIn {
        /// The other container.
        container: String,
        /// Its field.
        field: String,
        /// The other container's datastore, when not the check's own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        datastore: Option<String>,
    },
    /// The container has these fields.
    ExpectedSchema {
        /// The fields required.
        fields: Vec<SchemaField>,
        /// Whether fields not listed are allowed.
        #[serde(default)]
        allow_other_fields: bool,
    },
    /// The container has exactly this many fields.
    FieldCount {
        /// The count.
        value: u64,
    },
    /// The field's non-null values add up to a value.
    Sum {
        /// The total.
        value: Number,
        /// The largest difference still counted as equal (default 0).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tolerance: Option<f64>,
    },
    /// The container's size stays within bounds of its history.
    Volumetric {
        /// What is measured.
        comparison: VolumeComparison,
        /// The lower bound.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        /// The upper bound.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
    },
    /// Every partition has at least this many rows.
    MinPartitionSize {
        /// The row count.
        value: u64,
    },
    /// Every partition has at most this many rows.
    MaxPartitionSize {
        /// The row count.
        value: u64,
    },
    /// Rows per time bucket (of the check's timestamp field) within bounds.
    TimeDistributionSize {
        /// The bucket.
        interval: Interval,
        /// The fewest rows per bucket.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<u64>,
        /// The most rows per bucket.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<u64>,
    },
    /// The container received data recently.
    Freshness {
        /// The oldest its newest data may be, in seconds.
        max_age_seconds: u64,
    },
    /// An aggregate of this container compared with one of another.
    AggregationComparison {
        /// A SQL aggregate over this container (`SUM(amount)`).
        expression: String,
        /// How it must compare.
        comparison: Comparison,
        /// The other container.
        ref_container: String,
        /// A SQL aggregate over it.
        ref_expression: String,
        /// The other container's datastore, when not the check's own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ref_datastore: Option<String>,
    },
    /// The rows equal another container's, matched by identifying fields: the check's
    /// `fields` (all of the other container's fields but the identifiers, when none are
    /// listed) hold the same values in both.
    DataDiff {
        /// The other container.
        ref_container: String,
        /// The fields that identify a row in both.
        row_identifiers: Vec<String>,
        /// The other container's datastore, when not the check's own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ref_datastore: Option<String>,
    },
    /// Rows satisfy a SQL boolean expression.
    SatisfiesExpression {
        /// The expression (`amount >= discount`).
        expression: String,
    },
    /// A SQL expression's value per row within bounds.
    Metric {
        /// The expression.
        expression: String,
        /// The lower bound.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        /// The upper bound.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
    },
}

fn yes() -> bool {
    true
}

/// How a rule is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evaluation {
    /// Row by row: each row passes or fails on its own.
    Row,
    /// Over the whole container, batch by batch, mergeable across partitions.
    Aggregate,
    /// Over the whole container and compared with earlier scans: the scan operation judges
    /// it (`volumetric`, with [`judge_volume`](super::judge_volume)).
    History,
    /// Against another container, read before the scan (`exists_in`, `not_exists_in`,
    /// `aggregation_comparison`, `data_diff`): see [`Rule::reference`].
    Reference,
    /// Not built yet; says what it needs. (Every rule of this version is built; a rule added
    /// to the format before its evaluation would use it.)
    NotYet(&'static str),
}

impl Rule {
    /// The rule's name, as written in the `rule` key.
    pub fn name(&self) -> &'static str {
        use Rule::*;
        match self {
            AfterDateTime { .. } => "after_date_time",
            BeforeDateTime { .. } => "before_date_time",
            Between { .. } => "between",
            BetweenTimes { .. } => "between_times",
            NotFuture => "not_future",
            EqualTo { .. } => "equal_to",
            GreaterThan { .. } => "greater_than",
            LessThan { .. } => "less_than",
            MinValue { .. } => "min_value",
            MaxValue { .. } => "max_value",
            NotNegative => "not_negative",
            Positive => "positive",
            EqualToField { .. } => "equal_to_field",
            GreaterThanField { .. } => "greater_than_field",
            LessThanField { .. } => "less_than_field",
            NotNull => "not_null",
            AnyNotNull { .. } => "any_not_null",
            Unique => "unique",
            DistinctCount { .. } => "distinct_count",
            IsType { .. } => "is_type",
            MatchesPattern { .. } => "matches_pattern",
            MinLength { .. } => "min_length",
            MaxLength { .. } => "max_length",
            ExpectedValues { .. } => "expected_values",
            RequiredValues { .. } => "required_values",
            ContainsEmail => "contains_email",
            ContainsUrl => "contains_url",
            ContainsCreditCard => "contains_credit_card",
            ContainsSocialSecurityNumber => "contains_social_security_number",
            IsCreditCard => "is_credit_card",
            ExistsIn { .. } => "exists_in",
            NotExistsIn { .. } => "not_exists_in",
            ExpectedSchema { .. } => "expected_schema",
            FieldCount { .. } => "field_count",
            Sum { .. } => "sum",
            Volumetric { .. } => "volumetric",
            MinPartitionSize { .. } => "min_partition_size",
            MaxPartitionSize { .. } => "max_partition_size",
            TimeDistributionSize { .. } => "time_distribution_size",
            Freshness { .. } => "freshness",
            AggregationComparison { .. } => "aggregation_comparison",
            DataDiff { .. } => "data_diff",
            SatisfiesExpression { .. } => "satisfies_expression",
            Metric { .. } => "metric",
        }
    }

    /// How the rule is evaluated.
    pub fn evaluation(&self) -> Evaluation {
        use Rule::*;
        match self {
            Unique
            | DistinctCount { .. }
            | RequiredValues { .. }
            | Sum { .. }
            | FieldCount { .. }
            | ExpectedSchema { .. }
            | Freshness { .. }
            | MinPartitionSize { .. }
            | MaxPartitionSize { .. }
            | TimeDistributionSize { .. } => Evaluation::Aggregate,
            Volumetric { .. } => Evaluation::History,
            ExistsIn { .. }
            | NotExistsIn { .. }
            | AggregationComparison { .. }
            | DataDiff { .. } => Evaluation::Reference,
            SatisfiesExpression { .. } | Metric { .. } => Evaluation::Row,
            AfterDateTime { .. }
            | BeforeDateTime { .. }
            | Between { .. }
            | BetweenTimes { .. }
            | NotFuture
            | EqualTo { .. }
            | GreaterThan { .. }
            | LessThan { .. }
            | MinValue { .. }
            | MaxValue { .. }
            | NotNegative
            | Positive
            | EqualToField { .. }
            | GreaterThanField { .. }
            | LessThanField { .. }
            | NotNull
            | AnyNotNull { .. }
            | IsType { .. }
            | MatchesPattern { .. }
            | MinLength { .. }
            | MaxLength { .. }
            | ExpectedValues { .. }
            | ContainsEmail
            | ContainsUrl
            | ContainsCreditCard
            | ContainsSocialSecurityNumber
            | IsCreditCard => Evaluation::Row,
        }
    }
}
