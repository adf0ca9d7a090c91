//! Inferred checks: checks proposed from a container's profile, in the spirit of Deequ's
//! constraint suggestion, each with the evidence it came from. They state what the profiled
//! data already satisfies (no nulls, a range, a type, a set of categories, a shape, unique
//! keys), so a user can accept them as a baseline and learn when new data departs from it.
//!
//! Every proposal is sound: run on the data it was inferred from, an inferred check finds no
//! failing row. Statistics the profile only estimates are never used as bounds: top values
//! are used only while their counts are exact, distinct counts only while they are exact (not
//! HyperLogLog), and fields with NaNs get no numeric bounds (a NaN satisfies none). When the
//! profile was made on a sample, bounds seen in the sample need not hold for the other rows:
//! ranges are widened to their sign (`not_negative`), and lengths, categories, shapes, date
//! bounds and uniqueness are not proposed (see [`infer`]).

mod pattern;
mod propose;
#[cfg(test)]
mod tests;
mod text;

use serde::{Deserialize, Serialize};

use super::Check;
use crate::profile::ContainerProfile;

/// A check proposed from a profile, with the evidence it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferredCheck {
    /// The check: on the profiled container, tagged `inferred`, its description saying what
    /// was inferred.
    pub check: Check,
    /// Why, in a short sentence with the numbers: `0 nulls in 1 000 rows`.
    pub evidence: String,
}

/// The checks a profile supports, field by field in schema order. For each field:
///
/// - `not_null` when it has no nulls (and at least one value);
/// - numbers: `expected_values` for integers with few distinct values (at most the ten top
///   values the profile keeps, counted exactly, covering every value, at most one in ten seen
///   only once); otherwise `positive` / `not_negative` for key-like fields (`id`, `*_id`,
///   `key`, …) and `between` the observed min and max for others. None when a value is NaN.
///   On a sample, only `not_negative` (when the sample has no negatives);
/// - dates and timestamps: `after_date_time` the day before the earliest value, and
///   `not_future` when none is after the moment of profiling (`before_date_time` the day
///   after the latest otherwise). On a sample, only `not_future`;
/// - text: `is_type` when every value parses as one type (none empty); `expected_values` as
///   for integers; otherwise `min_length` (when at least 1) and `max_length`, and
///   `matches_pattern` when every value has one shape. On a sample, only `is_type`;
/// - booleans: `expected_values` when only one of `true` and `false` occurs;
/// - `unique` for key-like integer and text fields whose exact distinct count equals their
///   count of values. An approximate (HyperLogLog) count is never taken for proof: it can
///   read above the count with duplicates present, and then the check would fail on the very
///   data it came from.
pub fn infer(profile: &ContainerProfile) -> Vec<InferredCheck> {
    let sample = profile.sample_fraction.filter(|f| *f < 1.0);
    let mut out = Vec::new();
    for field in &profile.fields {
        propose::field(&profile.name, field, sample, &mut out);
    }
    out
}
