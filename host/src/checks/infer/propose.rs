//! One field's proposals, rule by rule, each from the statistics that prove it on the
//! profiled data (see [`infer`](super::infer) for the conditions).

use std::cmp::Ordering;

use arrow::datatypes::DataType;
use chrono::{DateTime, SecondsFormat, Utc};

use super::InferredCheck;
use crate::checks::Check;
use crate::checks::params::{Number, Scalar};
use crate::checks::row::text_form;
use crate::checks::rule::Rule;
use crate::checks::values::{DAY_NANOS, compare, unit_nanos};
use crate::profile::{DISTINCT_STANDARD_ERROR, FieldProfile, Frequent, Kind, Value};

/// Propose the checks `field` of `container` supports; `sample` is the share of rows the
/// profile saw, when it was a sample.
pub(super) fn field(
    container: &str,
    field: &FieldProfile,
    sample: Option<f64>,
    out: &mut Vec<InferredCheck>,
) {
    if field.count == 0 {
        return;
    }
    let key = key_like(&field.name);
    let mut p = Proposer {
        container,
        field,
        sample,
        out,
    };
    p.completeness();
    match field.kind() {
        Kind::Signed | Kind::Unsigned | Kind::Float => {
            if key || !p.integer_categories() {
                p.range(key);
            }
        }
        Kind::Date | Kind::Timestamp(..) => p.moments(),
        Kind::Text => {
            p.text_type();
            if key || !p.text_categories() {
                p.lengths();
                p.pattern();
            }
        }
        Kind::Boolean => p.one_boolean(),
        Kind::Time | Kind::Other => {}
    }
    if key {
        p.unique();
    }
}

/// Proposals for one field as they are made.
pub(super) struct Proposer<'a> {
    /// The container's name.
    pub(super) container: &'a str,
    /// The field's profile.
    pub(super) field: &'a FieldProfile,
    /// The share of rows profiled, when the profile was a sample.
    pub(super) sample: Option<f64>,
    /// The proposals so far.
    pub(super) out: &'a mut Vec<InferredCheck>,
}

impl Proposer<'_> {
    /// Add a check of the rule on the field, with what it says and why.
    pub(super) fn propose(&mut self, rule: Rule, description: String, evidence: String) {
        let evidence = match self.sample {
            Some(share) => format!(
                "{evidence}, in a sample of {}% of the rows",
                (share * 10_000.0).round() / 100.0
            ),
            None => evidence,
        };
        self.out.push(InferredCheck {
            check: Check {
                id: None,
                container: self.container.into(),
                fields: vec![self.field.name.clone()],
                rule,
                filter: None,
                description: format!("Inferred: {} {description}", self.field.name),
                tags: vec!["inferred".into()],
                weight: 1,
            },
            evidence,
        });
    }

    /// The non-null values, for evidence: `1 000 values`.
    pub(super) fn values(&self) -> String {
        let n = self.field.count;
        format!("{} value{}", grouped(n), if n == 1 { "" } else { "s" })
    }

    /// `not_null`. Only for types whose nulls the profile counts as the rule does: the profile
    /// counts the array's own nulls, the rule its logical ones, which differ for dictionaries
    /// (a key may point to a null), run-end encoding, unions and the null type.
    fn completeness(&mut self) {
        let f = self.field;
        let logical_nulls_differ = matches!(
            f.data_type,
            DataType::Null
                | DataType::Dictionary(..)
                | DataType::RunEndEncoded(..)
                | DataType::Union(..)
        );
        if f.nulls > 0 || logical_nulls_differ {
            return;
        }
        let rows = grouped(f.count);
        self.propose(
            Rule::NotNull,
            "is never null".into(),
            format!("0 nulls in {rows} rows"),
        );
    }

    /// `between` the observed extremes, or the sign of a key or a sample. None with NaNs (a
    /// NaN satisfies no bound, and the profile's extremes leave NaNs out) or infinities.
    fn range(&mut self, key: bool) {
        let f = self.field;
        if f.numbers.is_none_or(|n| n.nans > 0) {
            return;
        }
        let (Some(min), Some(max)) = (number(f.min.as_ref()), number(f.max.as_ref())) else {
            return;
        };
        let values = self.values();
        if !key && self.sample.is_none() {
            let rule = Rule::Between {
                min,
                max,
                inclusive_min: true,
                inclusive_max: true,
            };
            let evidence = format!("min {min}, max {max} over {values}");
            return self.propose(rule, format!("lies between {min} and {max}"), evidence);
        }
        let evidence = format!("min {min} over {values}");
        let sign = compare(min, Number::Int(0));
        if key && self.sample.is_none() && sign == Some(Ordering::Greater) {
            self.propose(Rule::Positive, "is positive".into(), evidence);
        } else if matches!(sign, Some(Ordering::Greater | Ordering::Equal))
            && f.kind() != Kind::Unsigned
        {
            self.propose(Rule::NotNegative, "is not negative".into(), evidence);
        }
    }

    /// `after_date_time` the day before the earliest value; `not_future` when no value is
    /// after the moment of profiling, or `before_date_time` the day after the latest.
    fn moments(&mut self) {
        let f = self.field;
        let (Some(min), Some(max)) = (&f.min, &f.max) else {
            return;
        };
        let (Some(earliest), Some(latest)) = (instant(min), instant(max)) else {
            return;
        };
        let values = self.values();
        if self.sample.is_none()
            && let Some(datetime) = rfc3339(day_start(earliest - 1))
        {
            let description = format!("is after {datetime}");
            let evidence = format!("earliest {min} over {values}");
            self.propose(Rule::AfterDateTime { datetime }, description, evidence);
        }
        if f.future.is_some_and(|future| future.count == 0) {
            let evidence = format!("latest {max}: none of {values} after the moment of profiling");
            self.propose(Rule::NotFuture, "is never in the future".into(), evidence);
        } else if self.sample.is_none()
            && let Some(datetime) = rfc3339(day_start(latest) + DAY_NANOS)
        {
            let description = format!("is before {datetime}");
            let evidence = format!("latest {max} over {values}");
            self.propose(Rule::BeforeDateTime { datetime }, description, evidence);
        }
    }

    /// The values of a field with few of them, when the profile counted each exactly and
    /// they add up to every value; like Deequ's categorical range rule, not when more than
    /// one in ten of them was seen only once (then they look like identifiers, not
    /// categories). Never on a sample: other rows may hold other values.
    pub(super) fn categories<T>(&self, top: Vec<Frequent<T>>) -> Option<Vec<T>> {
        let f = self.field;
        if self.sample.is_some() || top.is_empty() {
            return None;
        }
        let exact = top.iter().all(|t| t.error == 0);
        let covers = top.iter().map(|t| t.count).sum::<u64>() == f.count;
        let distinct = f.distinct_count() == Some((top.len() as u64, false));
        let seen_once = top.iter().filter(|t| t.count == 1).count();
        (exact && covers && distinct && seen_once * 10 <= top.len())
            .then(|| top.into_iter().map(|t| t.value).collect())
    }

    /// `expected_values` for an integer field; whether it was proposed.
    fn integer_categories(&mut self) -> bool {
        let f = self.field;
        let kind = f.kind();
        let Some(top) = &f.top_values else {
            return false;
        };
        if !matches!(kind, Kind::Signed | Kind::Unsigned) {
            return false;
        }
        let Some(keys) = self.categories(top.top_keys()) else {
            return false;
        };
        let mut numbers: Vec<Number> = keys
            .into_iter()
            .filter_map(|key| number(Some(&kind.value_of_key(key))))
            .collect();
        numbers.sort_by(|a, b| compare(*a, *b).unwrap_or(Ordering::Equal));
        self.expected(numbers.into_iter().map(Scalar::Number).collect())
    }

    /// Propose `expected_values` of `values`; always true, for the callers' `if`.
    pub(super) fn expected(&mut self, values: Vec<Scalar>) -> bool {
        // Text quoted, so commas and line breaks inside values stay readable.
        let listed: Vec<String> = values
            .iter()
            .map(|value| match value {
                Scalar::Text(text) => format!("{text:?}"),
                other => text_form(other),
            })
            .collect();
        let (n, list) = (listed.len(), listed.join(", "));
        let evidence = match n {
            1 => format!("1 distinct value: {list} covers all {}", self.values()),
            _ => format!("{n} distinct values: {list} cover all {}", self.values()),
        };
        let description = format!("is one of {list}");
        self.propose(Rule::ExpectedValues { values }, description, evidence);
        true
    }

    /// `expected_values` of the one truth value a boolean field holds.
    fn one_boolean(&mut self) {
        let f = self.field;
        let (Some(Value::Bool(lo)), Some(Value::Bool(hi))) = (&f.min, &f.max) else {
            return;
        };
        if lo != hi || self.sample.is_some() {
            return;
        }
        let evidence = format!("all {} are {lo}", self.values());
        let values = vec![Scalar::Bool(*lo)];
        self.propose(
            Rule::ExpectedValues { values },
            format!("is always {lo}"),
            evidence,
        );
    }

    /// `unique` for a key-like integer or text field, when the profile's exact distinct count
    /// equals its count of values. The exact count is of 64-bit hashes: equal values have
    /// equal hashes, so as many hashes as values proves no value repeats (a collision could
    /// only hide a proposal, never make a wrong one). Past the exact limit the count is a
    /// HyperLogLog estimate: a field whose estimate is within three standard errors of its
    /// count is proposed too, with evidence that says the count was estimated, since the
    /// scan evaluates `unique` exactly.
    fn unique(&mut self) {
        let f = self.field;
        if self.sample.is_some() || f.count < 2 {
            return;
        }
        if !matches!(f.kind(), Kind::Signed | Kind::Unsigned | Kind::Text) {
            return;
        }
        let n = grouped(f.count);
        let evidence = match f.distinct_count() {
            Some((distinct, false)) if distinct == f.count => {
                format!("{n} distinct values in {n} non-null values, counted exactly")
            }
            Some((distinct, true)) if within_estimate(distinct, f.count) => format!(
                "about {} distinct values in {n} non-null values: a HyperLogLog estimate \
                 (±{:.1}% at 3σ), not a proof; the first scan checks every value exactly",
                grouped(distinct),
                300.0 * DISTINCT_STANDARD_ERROR
            ),
            _ => return,
        };
        let description = "identifies its rows: no value repeats".into();
        self.propose(Rule::Unique, description, evidence);
    }
}

/// Whether an estimated distinct count is within three standard errors of `count` values.
fn within_estimate(distinct: u64, count: u64) -> bool {
    let tolerance = 3.0 * DISTINCT_STANDARD_ERROR * count as f64;
    (count as f64 - distinct as f64) <= tolerance
}

/// Whether a field's name says it identifies something: `id`, `key`, `uuid`, `guid`,
/// `order_id`, `order-key`, `orderId`, `orderID`.
pub(super) fn key_like(name: &str) -> bool {
    let lower = name.to_lowercase();
    let camel = name
        .strip_suffix("Id")
        .or_else(|| name.strip_suffix("ID"))
        .and_then(|head| head.chars().last())
        .is_some_and(char::is_lowercase);
    ["id", "key", "uuid", "guid"].contains(&lower.as_str())
        || ["_id", "-id", " id", "_key", "-key", "_uuid"]
            .iter()
            .any(|suffix| lower.ends_with(suffix))
        || camel
}

/// A profile's number as a rule's, integers exact; `None` for other values and infinities.
fn number(value: Option<&Value>) -> Option<Number> {
    match *value? {
        Value::Int(v) => Some(Number::Int(v)),
        Value::UInt(v) => Some(i64::try_from(v).map_or(Number::UInt(v), Number::Int)),
        Value::Float(v) if v.is_finite() => Some(Number::Float(v)),
        _ => None,
    }
}

/// A date (midnight UTC) or timestamp (read as UTC) in nanoseconds since the epoch, as the
/// rules read them.
fn instant(value: &Value) -> Option<i128> {
    match *value {
        Value::Date(days) => Some(days as i128 * DAY_NANOS),
        Value::Timestamp { value, unit, .. } => Some(value as i128 * unit_nanos(unit)),
        _ => None,
    }
}

/// The midnight (UTC) at or before an instant.
fn day_start(nanos: i128) -> i128 {
    nanos.div_euclid(DAY_NANOS) * DAY_NANOS
}

/// A whole second as RFC 3339 in UTC, if the rules can read it back (years 0 to 9999).
fn rfc3339(nanos: i128) -> Option<String> {
    let seconds = i64::try_from(nanos.div_euclid(1_000_000_000)).ok()?;
    let text =
        DateTime::<Utc>::from_timestamp(seconds, 0)?.to_rfc3339_opts(SecondsFormat::Secs, true);
    let back = DateTime::parse_from_rfc3339(&text).ok()?;
    (back.timestamp() == seconds).then_some(text)
}

/// A count with its thousands apart: `1 000`.
pub(super) fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(digit);
    }
    out
}
