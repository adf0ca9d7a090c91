//! `volumetric`: the container's row count, or its change since the previous scan, within
//! bounds. The scan counts the rows and knows the previous scan's count, so this is a
//! judging function rather than an [`AggregateState`](super::AggregateState).

use super::Outcome;
use crate::checks::params::VolumeComparison;
use crate::checks::rule::{Evaluation, Rule};
use crate::checks::{Check, CheckError};

/// Judges a `volumetric` check: `rows` is the container's row count now, `previous_rows`
/// the count at the previous scan (`None` on the first scan).
///
/// - `absolute_value` compares `rows` with `min` and `max`;
/// - `absolute_change` compares `rows - previous_rows` (negative when rows went away);
/// - `percentage_change` compares `100 * (rows - previous_rows) / previous_rows`; from 0
///   rows, staying at 0 passes and any rows are an infinite rise (which fails a `max`).
///
/// Bounds are inclusive. A change passes on the first scan, with nothing to compare with.
/// Fails when the check is not `volumetric`, or when neither bound is given, a bound is not
/// a number or `min` is above `max`.
pub fn judge_volume(
    check: &Check,
    rows: u64,
    previous_rows: Option<u64>,
) -> Result<Outcome, CheckError> {
    let Rule::Volumetric {
        comparison,
        min,
        max,
    } = &check.rule
    else {
        return Err(not_volumetric(check));
    };
    let (min, max) = (*min, *max);
    check_bounds(check, min, max)?;
    let pass = |message: String| Outcome {
        passed: true,
        message,
        failing_rows: vec![],
    };
    let (measured, what) = match (comparison, previous_rows) {
        (VolumeComparison::AbsoluteValue, _) => (rows as f64, format!("{rows} rows")),
        (_, None) => {
            return Ok(pass(format!(
                "first scan: {rows} rows, nothing to compare with"
            )));
        }
        (VolumeComparison::AbsoluteChange, Some(previous)) => {
            let change = rows as i128 - previous as i128;
            (
                change as f64,
                format!("{rows} rows, {change:+} since the previous scan's {previous}"),
            )
        }
        (VolumeComparison::PercentageChange, Some(0)) if rows == 0 => {
            return Ok(pass(
                "0 rows, as at the previous scan: no change".to_string(),
            ));
        }
        (VolumeComparison::PercentageChange, Some(previous)) => {
            let change = if previous == 0 {
                f64::INFINITY
            } else {
                100.0 * (rows as f64 - previous as f64) / previous as f64
            };
            (
                change,
                format!(
                    "{rows} rows, {} since the previous scan's {previous}",
                    percent(change)
                ),
            )
        }
    };
    let unit = if *comparison == VolumeComparison::PercentageChange {
        "%"
    } else {
        ""
    };
    let passed = min.is_none_or(|min| measured >= min) && max.is_none_or(|max| measured <= max);
    let bounds = match (min, max) {
        (Some(min), Some(max)) => format!("between {min}{unit} and {max}{unit}"),
        (Some(min), None) => format!("at least {min}{unit}"),
        (None, Some(max)) => format!("at most {max}{unit}"),
        (None, None) => unreachable!("check_bounds refuses a check without bounds"),
    };
    let verdict = if passed { "within" } else { "outside" };
    let measure = match comparison {
        VolumeComparison::AbsoluteValue => "the count",
        VolumeComparison::AbsoluteChange => "the change",
        VolumeComparison::PercentageChange => "the change",
    };
    Ok(Outcome {
        passed,
        message: format!("{what}: {measure} is {verdict} the bounds ({bounds})"),
        failing_rows: vec![],
    })
}

/// A percentage with its sign, to two decimals at most.
fn percent(change: f64) -> String {
    if change.is_infinite() {
        return "an infinite rise".into();
    }
    let rounded = (change * 100.0).round() / 100.0;
    format!("{rounded:+}%")
}

/// Refuses a check without bounds, with a bound that is not a number, or with `min` above
/// `max`.
fn check_bounds(check: &Check, min: Option<f64>, max: Option<f64>) -> Result<(), CheckError> {
    let error = |parameter, reason: String| {
        Err(CheckError::Parameter {
            check: check.label(),
            parameter,
            reason,
        })
    };
    for (parameter, bound) in [("min", min), ("max", max)] {
        if bound.is_some_and(f64::is_nan) {
            return error(parameter, "is NaN; give a number".into());
        }
    }
    match (min, max) {
        (None, None) => error(
            "min",
            "and `max` are both missing; give `min`, `max` or both".into(),
        ),
        (Some(min), Some(max)) if min > max => error(
            "min",
            format!("is {min}, above `max` ({max}); give a `min` at most `max`"),
        ),
        _ => Ok(()),
    }
}

/// The error for a check given to [`judge_volume`] that is not `volumetric`.
fn not_volumetric(check: &Check) -> CheckError {
    let (kind, with) = match check.rule.evaluation() {
        Evaluation::Row => ("a row rule", "Check::failing_rows"),
        Evaluation::Aggregate => ("a whole-container rule", "an AggregateState"),
        Evaluation::History => ("a rule over the container's history", "the scan operation"),
        Evaluation::Reference => ("a rule against another container", "the scan operation"),
        Evaluation::NotYet(needs) => {
            return CheckError::NotYet {
                check: check.label(),
                rule: check.rule.name(),
                needs,
            };
        }
    };
    CheckError::WrongEvaluation {
        check: check.label(),
        rule: check.rule.name(),
        kind,
        with,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::check;

    fn volume(comparison: VolumeComparison, min: Option<f64>, max: Option<f64>) -> Check {
        check(
            Rule::Volumetric {
                comparison,
                min,
                max,
            },
            &[],
        )
    }

    fn judge(check: &Check, rows: u64, previous: Option<u64>) -> Outcome {
        judge_volume(check, rows, previous).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn absolute_value_compares_the_count_with_or_without_history() {
        let c = volume(VolumeComparison::AbsoluteValue, Some(100.0), Some(200.0));
        for (rows, previous, passes) in [
            (100, None, true),
            (200, Some(5), true),
            (99, None, false),
            (201, Some(201), false),
        ] {
            let outcome = judge(&c, rows, previous);
            assert_eq!(outcome.passed, passes, "{rows}: {}", outcome.message);
        }
        let low = judge(&c, 99, None);
        assert_eq!(
            low.message,
            "99 rows: the count is outside the bounds (between 100 and 200)"
        );
        assert!(low.failing_rows.is_empty());
    }

    #[test]
    fn absolute_change_is_signed() {
        let c = volume(VolumeComparison::AbsoluteChange, Some(-10.0), Some(50.0));
        assert!(judge(&c, 1050, Some(1000)).passed);
        assert!(judge(&c, 990, Some(1000)).passed);
        let shrunk = judge(&c, 989, Some(1000));
        assert!(!shrunk.passed);
        assert_eq!(
            shrunk.message,
            "989 rows, -11 since the previous scan's 1000: the change is outside the bounds \
             (between -10 and 50)"
        );
        assert!(!judge(&c, 1051, Some(1000)).passed);
        let huge = volume(VolumeComparison::AbsoluteChange, None, Some(0.0));
        assert!(judge(&huge, 0, Some(u64::MAX)).passed);
        assert!(!judge(&huge, u64::MAX, Some(0)).passed);
    }

    #[test]
    fn percentage_change_is_relative_to_the_previous_count() {
        let c = volume(VolumeComparison::PercentageChange, Some(-5.0), Some(10.0));
        assert!(judge(&c, 110, Some(100)).passed);
        assert!(judge(&c, 95, Some(100)).passed);
        let grown = judge(&c, 111, Some(100));
        assert!(!grown.passed);
        assert_eq!(
            grown.message,
            "111 rows, +11% since the previous scan's 100: the change is outside the bounds \
             (between -5% and 10%)"
        );
        assert!(!judge(&c, 94, Some(100)).passed);
        assert!(judge(&c, 0, Some(0)).passed);
        let from_nothing = judge(&c, 1, Some(0));
        assert!(!from_nothing.passed);
        assert!(
            from_nothing.message.contains("an infinite rise"),
            "{}",
            from_nothing.message
        );
        let only_min = volume(VolumeComparison::PercentageChange, Some(0.0), None);
        assert!(judge(&only_min, 1, Some(0)).passed);
        assert!(judge(&only_min, 0, Some(0)).passed);
    }

    #[test]
    fn changes_pass_on_the_first_scan() {
        for comparison in [
            VolumeComparison::AbsoluteChange,
            VolumeComparison::PercentageChange,
        ] {
            let outcome = judge(&volume(comparison, Some(1.0), Some(1.0)), 42, None);
            assert!(outcome.passed);
            assert_eq!(
                outcome.message,
                "first scan: 42 rows, nothing to compare with"
            );
        }
    }

    #[test]
    fn unusable_bounds_and_other_rules_are_refused() {
        let error = |c: &Check| judge_volume(c, 1, Some(1)).expect_err("an error");
        let none = error(&volume(VolumeComparison::AbsoluteValue, None, None));
        assert!(
            matches!(&none, CheckError::Parameter { parameter: "min", reason, .. }
                if reason.contains("give `min`, `max` or both")),
            "{none}"
        );
        let crossed = error(&volume(
            VolumeComparison::AbsoluteChange,
            Some(2.0),
            Some(1.0),
        ));
        assert!(crossed.to_string().contains("above `max`"), "{crossed}");
        let nan = error(&volume(
            VolumeComparison::PercentageChange,
            None,
            Some(f64::NAN),
        ));
        assert!(matches!(
            nan,
            CheckError::Parameter {
                parameter: "max",
                ..
            }
        ));
        assert!(matches!(
            error(&check(Rule::NotNull, &["v"])),
            CheckError::WrongEvaluation { .. }
        ));
        assert!(matches!(
            error(&check(Rule::Unique, &["v"])),
            CheckError::WrongEvaluation { .. }
        ));
    }
}
