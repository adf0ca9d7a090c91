//! Comparisons with another field of the same row: `equal_to_field`, `greater_than_field`,
//! `less_than_field`. Both fields must be of one family: numbers (compared exactly, an
//! integer with a float too), dates and timestamps (as instants, so a date compares with a
//! timestamp), times of day, or text (by UTF-8 bytes). A row where either is null passes.

use std::cmp::Ordering;

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;

use super::compare::tolerance;
use super::{Target, column, unsupported};
use crate::checks::CheckError;
use crate::checks::rule::Rule;
use crate::checks::values::{Instants, Numbers, compare, distance, is_text, times_of_day};
use crate::profile::Kind;

/// How row `i` of one field compares with the other's: `None` when either is null, `Some(None)`
/// when they do not compare (NaN).
type Comparisons = Vec<Option<Option<Ordering>>>;

/// The failing rows of a rule comparing each row's value with another field's.
pub(super) fn failures(rule: &Rule, target: &Target) -> Result<Vec<bool>, CheckError> {
    let (other_name, wanted, t): (_, fn(Ordering) -> bool, _) = match rule {
        Rule::EqualToField { field, tolerance } => (field, Ordering::is_eq, *tolerance),
        Rule::GreaterThanField {
            field,
            inclusive: true,
        } => (field, Ordering::is_ge, None),
        Rule::GreaterThanField {
            field,
            inclusive: false,
        } => (field, Ordering::is_gt, None),
        Rule::LessThanField {
            field,
            inclusive: true,
        } => (field, Ordering::is_le, None),
        Rule::LessThanField {
            field,
            inclusive: false,
        } => (field, Ordering::is_lt, None),
        _ => unreachable!("not a field comparison"),
    };
    let t = tolerance(target, t)?;
    let other = column(target.check, target.batch, other_name)?.as_ref();
    let this = target.array.as_ref();
    let rows = 0..this.len();
    let comparisons: Comparisons = if let (Some(a), Some(b)) =
        (Numbers::of(this), Numbers::of(other))
    {
        rows.map(|i| {
            let (a, b) = (a.get(i)?, b.get(i)?);
            Some(if t > 0.0 && distance(a, b) <= t {
                Some(Ordering::Equal)
            } else {
                compare(a, b)
            })
        })
        .collect()
    } else if t > 0.0 {
        return Err(target.parameter("tolerance", "applies to numbers only; remove it"));
    } else if let (Some(a), Some(b)) = (Instants::of(this), Instants::of(other)) {
        rows.map(|i| Some(Some(a.get(i)?.cmp(&b.get(i)?))))
            .collect()
    } else if Kind::of(this.data_type()) == Kind::Time && Kind::of(other.data_type()) == Kind::Time
    {
        let (a, b) = (
            times_of_day(this).unwrap_or_default(),
            times_of_day(other).unwrap_or_default(),
        );
        a.iter()
            .zip(&b)
            .map(|(a, b)| Some(Some((*a)?.cmp(&(*b)?))))
            .collect()
    } else if is_text(this.data_type()) && is_text(other.data_type()) {
        let large = |array: &dyn Array| {
            cast(array, &DataType::LargeUtf8).map_err(|e| CheckError::Arrow {
                check: target.check.label(),
                field: target.name.into(),
                reason: e.to_string(),
            })
        };
        let (a, b) = (large(this)?, large(other)?);
        let (a, b) = (a.as_string::<i64>(), b.as_string::<i64>());
        a.iter()
            .zip(b.iter())
            .map(|(a, b)| Some(Some(a?.cmp(b?))))
            .collect()
    } else {
        return Err(unsupported(
            target.check,
            other_name,
            other,
            &format!(
                "the family of `{}` ({}): numbers, dates and timestamps, times, or text",
                target.name,
                this.data_type()
            ),
        ));
    };
    Ok(comparisons
        .into_iter()
        .map(|c| c.is_some_and(|o| !o.is_some_and(wanted)))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        Date32Array, DictionaryArray, Float64Array, Int64Array, LargeStringArray, StringArray,
        TimestampMillisecondArray, TimestampSecondArray,
    };
    use arrow::datatypes::Int32Type;

    use super::*;
    use crate::checks::testing::{batch, check, failing};

    const NONE: [usize; 0] = [];

    #[test]
    fn equal_to_field_across_integer_and_float_fields() {
        let rule = check(
            Rule::EqualToField {
                field: "b".into(),
                tolerance: None,
            },
            &["a"],
        );
        let dirty = batch(vec![
            (
                "a",
                Arc::new(Int64Array::from(vec![
                    Some(1),
                    Some(2),
                    None,
                    Some(i64::MAX),
                    Some(4),
                ])) as _,
            ),
            (
                "b",
                Arc::new(Float64Array::from(vec![
                    Some(1.0),
                    Some(2.5),
                    Some(3.0),
                    Some(i64::MAX as f64),
                    Some(f64::NAN),
                ])) as _,
            ),
        ]);
        assert_eq!(failing(&rule, &dirty), [1, 3, 4]);
        let clean = batch(vec![
            (
                "a",
                Arc::new(Int64Array::from(vec![Some(1), None, Some(0)])) as _,
            ),
            (
                "b",
                Arc::new(Float64Array::from(vec![Some(1.0), Some(2.0), Some(-0.0)])) as _,
            ),
        ]);
        assert_eq!(failing(&rule, &clean), NONE);
        let tolerant = check(
            Rule::EqualToField {
                field: "b".into(),
                tolerance: Some(0.5),
            },
            &["a"],
        );
        assert_eq!(failing(&tolerant, &dirty), [3, 4]);
    }

    #[test]
    fn greater_than_field_across_dates_and_zoned_timestamps_in_other_units() {
        let ordered = Date32Array::from(vec![Some(-1), Some(19_000), Some(19_000), None]);
        let shipped = TimestampMillisecondArray::from(vec![
            Some(0),
            Some(19_000 * 86_400_000),
            Some(19_001 * 86_400_000),
            Some(5),
        ])
        .with_timezone("+02:00");
        let data = batch(vec![
            ("shipped", Arc::new(shipped) as _),
            ("ordered", Arc::new(ordered) as _),
        ]);
        let strict = check(
            Rule::GreaterThanField {
                field: "ordered".into(),
                inclusive: false,
            },
            &["shipped"],
        );
        assert_eq!(failing(&strict, &data), [1]);
        let inclusive = check(
            Rule::GreaterThanField {
                field: "ordered".into(),
                inclusive: true,
            },
            &["shipped"],
        );
        assert_eq!(failing(&inclusive, &data), NONE);
        let seconds = TimestampSecondArray::from(vec![Some(-86_400), Some(0)]);
        let dates = Date32Array::from(vec![Some(-1), Some(1)]);
        let data = batch(vec![
            ("t", Arc::new(seconds) as _),
            ("d", Arc::new(dates) as _),
        ]);
        let less = check(
            Rule::LessThanField {
                field: "d".into(),
                inclusive: true,
            },
            &["t"],
        );
        assert_eq!(failing(&less, &data), NONE);
    }

    #[test]
    fn less_than_field_across_large_and_dictionary_text() {
        let first = LargeStringArray::from(vec![Some("a"), Some("b"), Some(""), None, Some("zz")]);
        let last: DictionaryArray<Int32Type> =
            vec![Some("b"), Some("b"), Some("a"), Some("c"), Some("z")]
                .into_iter()
                .collect();
        let data = batch(vec![
            ("first", Arc::new(first) as _),
            ("last", Arc::new(last) as _),
        ]);
        let rule = check(
            Rule::LessThanField {
                field: "last".into(),
                inclusive: false,
            },
            &["first"],
        );
        assert_eq!(failing(&rule, &data), [1, 4]);
        let mismatch = check(
            Rule::LessThanField {
                field: "last".into(),
                inclusive: false,
            },
            &["n"],
        );
        let data = batch(vec![
            ("n", Arc::new(Int64Array::from(vec![1])) as _),
            ("last", Arc::new(StringArray::from(vec!["x"])) as _),
        ]);
        let error = mismatch.failing_rows(&data, 0).unwrap_err().to_string();
        assert!(error.contains("`last` is Utf8"), "{error}");
        let tolerance = check(
            Rule::EqualToField {
                field: "last".into(),
                tolerance: Some(1.0),
            },
            &["last"],
        );
        assert!(matches!(
            tolerance.failing_rows(&data, 0),
            Err(CheckError::Parameter {
                parameter: "tolerance",
                ..
            })
        ));
    }
}
