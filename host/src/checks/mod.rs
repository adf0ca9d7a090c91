//! Quality checks: rules asserted over a container's fields, as pure code over Arrow record
//! batches. A [`Check`] pairs a [`Rule`] with the container and fields it applies to and the
//! metadata a user gives it (description, tags, weight).
//!
//! Rules come in four kinds ([`Rule::evaluation`]):
//! - **row rules** decide each row on its own: [`Check::failing_rows`] marks the rows of a
//!   batch that fail (SQL ones through a [`SqlExpression`], compiled with DataFusion);
//! - **aggregate rules** look at the whole container: an [`AggregateState`] is fed batch by
//!   batch, merged across partitions like a profile, and finished into an [`Outcome`];
//! - **history rules** (`volumetric`) compare the container with its last scan
//!   ([`judge_volume`]);
//! - **reference rules** (`exists_in`, `not_exists_in`, `aggregation_comparison`,
//!   `data_diff`) look at another container, read first into a [`ValueSet`], an
//!   [`SqlAggregate`] or [`RowDigests`].
//!
//! [`infer`] proposes checks from a profile.
//!
//! Value rules ignore nulls (only `not_null` and `any_not_null` look at them); an empty
//! string is a value; a NaN satisfies no numeric bound.

mod aggregate;
mod error;
mod expression;
pub mod infer;
mod params;
mod reference;
mod row;
mod rule;
mod values;

use serde::{Deserialize, Serialize};

pub use aggregate::{AggregateState, Outcome, judge_volume};
pub use error::CheckError;
pub use expression::SqlExpression;
pub use params::{
    Comparison, FieldType, Interval, Number, Scalar, SchemaField, ValueType, VolumeComparison,
};
pub use reference::{
    MAX_REFERENCE_VALUES, Reference, ReferenceData, ReferenceRead, Referenced, RowDigests,
    SqlAggregate, ValueSet, judge_comparison,
};
pub use rule::{Evaluation, Rule};

/// A rule asserted over fields of a container. In JSON the rule is an object of its own
/// (two rules have a `fields` parameter, so it cannot sit beside the check's `fields`):
///
/// ```json
/// {"container": "orders.csv", "fields": ["amount"],
///  "rule": {"rule": "between", "min": 0, "max": 100},
///  "description": "Amounts are percentages", "tags": ["finance"], "weight": 2}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// The check's id in the store, once it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// The container it applies to.
    pub container: String,
    /// The fields it applies to (value rules: each of them; `unique`: their combination).
    #[serde(default)]
    pub fields: Vec<String>,
    /// What it asserts.
    pub rule: Rule,
    /// Which rows it applies to: a SQL boolean expression over the container's fields. Kept
    /// as text here and not applied by [`Check::failing_rows`] or [`AggregateState`]: the
    /// scan operation filters batches with DataFusion before they reach the check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// What the check is for, in the user's words.
    #[serde(default)]
    pub description: String,
    /// Labels to group checks by.
    #[serde(default)]
    pub tags: Vec<String>,
    /// How much a failure weighs in a container's quality score.
    #[serde(default = "one")]
    pub weight: u32,
}

fn one() -> u32 {
    1
}

impl Check {
    /// How errors name the check: `#12 between on orders.csv.amount`, or without `#12` when
    /// it has no id yet.
    pub fn label(&self) -> String {
        let id = self.id.map(|id| format!("#{id} ")).unwrap_or_default();
        format!(
            "{id}{} on {}.{}",
            self.rule.name(),
            self.container,
            self.fields.join(",")
        )
    }
}

#[cfg(test)]
mod testing;

#[cfg(test)]
mod tests;
