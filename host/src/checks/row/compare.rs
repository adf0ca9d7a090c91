//! Numeric comparisons with parameters: `between`, `equal_to`, `greater_than`, `less_than`,
//! `min_value`, `max_value`, `not_negative`, `positive`. Integers are compared exactly, also
//! with float bounds; a NaN satisfies no bound.

use std::cmp::Ordering;

use arrow::array::Array;

use super::Target;
use crate::checks::CheckError;
use crate::checks::params::Number;
use crate::checks::rule::Rule;
use crate::checks::values::{Numbers, compare, distance};

/// Whether `v` is above `bound` (or equal to it, when `inclusive`).
fn above(v: Number, bound: Number, inclusive: bool) -> bool {
    match compare(v, bound) {
        Some(Ordering::Greater) => true,
        Some(Ordering::Equal) => inclusive,
        _ => false,
    }
}

/// Whether `v` is below `bound` (or equal to it, when `inclusive`).
fn below(v: Number, bound: Number, inclusive: bool) -> bool {
    match compare(v, bound) {
        Some(Ordering::Less) => true,
        Some(Ordering::Equal) => inclusive,
        _ => false,
    }
}

/// Whether `a` equals `b` within `tolerance`.
fn equal(a: Number, b: Number, tolerance: f64) -> bool {
    compare(a, b) == Some(Ordering::Equal) || distance(a, b) <= tolerance
}

/// A tolerance that is a non-negative number.
pub(super) fn tolerance(target: &Target, tolerance: Option<f64>) -> Result<f64, CheckError> {
    match tolerance {
        Some(t) if t.is_nan() || t < 0.0 => {
            Err(target.parameter("tolerance", format!("is {t}; give a number of 0 or more")))
        }
        t => Ok(t.unwrap_or(0.0)),
    }
}

/// The failing rows of a rule comparing each number with parameters.
pub(super) fn value_failures(rule: &Rule, target: &Target) -> Result<Vec<bool>, CheckError> {
    let numbers = Numbers::of(target.array.as_ref())
        .ok_or_else(|| target.unsupported("numbers (integers, floats or decimals)"))?;
    let zero = Number::Int(0);
    let passes: Box<dyn Fn(Number) -> bool> = match *rule {
        Rule::Between {
            min,
            max,
            inclusive_min,
            inclusive_max,
        } => {
            if compare(min, max) != Some(Ordering::Less)
                && compare(min, max) != Some(Ordering::Equal)
            {
                return Err(target.parameter("min", "is above max (or NaN); give min <= max"));
            }
            Box::new(move |v| above(v, min, inclusive_min) && below(v, max, inclusive_max))
        }
        Rule::EqualTo {
            value,
            tolerance: t,
        } => {
            let t = tolerance(target, t)?;
            Box::new(move |v| equal(v, value, t))
        }
        Rule::GreaterThan { value, inclusive } => Box::new(move |v| above(v, value, inclusive)),
        Rule::LessThan { value, inclusive } => Box::new(move |v| below(v, value, inclusive)),
        Rule::MinValue { value } => Box::new(move |v| above(v, value, true)),
        Rule::MaxValue { value } => Box::new(move |v| below(v, value, true)),
        Rule::NotNegative => Box::new(move |v| above(v, zero, true)),
        Rule::Positive => Box::new(move |v| above(v, zero, false)),
        _ => unreachable!("not a value comparison"),
    };
    if let Some(fails) = bounds_of(rule).and_then(|bounds| fast_failures(&numbers, bounds)) {
        return Ok(fails);
    }
    Ok((0..target.array.len())
        .map(|i| numbers.get(i).is_some_and(|v| !passes(v)))
        .collect())
}

/// A bound and whether the bound itself passes.
type Bound = Option<(Number, bool)>;

/// The rule as an interval (lower, upper), for the rules that are one.
fn bounds_of(rule: &Rule) -> Option<(Bound, Bound)> {
    let zero = Number::Int(0);
    Some(match *rule {
        Rule::Between {
            min,
            max,
            inclusive_min,
            inclusive_max,
        } => (Some((min, inclusive_min)), Some((max, inclusive_max))),
        Rule::GreaterThan { value, inclusive } => (Some((value, inclusive)), None),
        Rule::LessThan { value, inclusive } => (None, Some((value, inclusive))),
        Rule::MinValue { value } => (Some((value, true)), None),
        Rule::MaxValue { value } => (None, Some((value, true))),
        Rule::NotNegative => (Some((zero, true)), None),
        Rule::Positive => (Some((zero, false)), None),
        _ => return None,
    })
}

/// The failing rows by a tight loop over the column's own type, when every bound converts
/// to it exactly (integer bounds of an integer column, bounds of a float column that are
/// floats or integers f64 holds exactly); `None` leaves it to the exact general path. The
/// same answers, ten times faster: this is the hot loop of a scan's numeric checks.
fn fast_failures(numbers: &Numbers, (lower, upper): (Bound, Bound)) -> Option<Vec<bool>> {
    fn fails<T: PartialOrd + Copy>(
        values: &[T],
        valid: impl Fn(usize) -> bool,
        lower: Option<(T, bool)>,
        upper: Option<(T, bool)>,
    ) -> Vec<bool> {
        let passes = |v: T| {
            lower.is_none_or(|(b, inclusive)| v > b || (inclusive && v == b))
                && upper.is_none_or(|(b, inclusive)| v < b || (inclusive && v == b))
        };
        (values.iter().enumerate())
            .map(|(i, v)| !passes(*v) && valid(i))
            .collect()
    }
    let as_i64 = |bound: Bound| -> Option<Option<(i64, bool)>> {
        match bound {
            None => Some(None),
            Some((Number::Int(v), inclusive)) => Some(Some((v, inclusive))),
            Some((Number::UInt(v), inclusive)) => Some(Some((i64::try_from(v).ok()?, inclusive))),
            Some((Number::Float(_), _)) => None,
        }
    };
    let as_f64 = |bound: Bound| -> Option<Option<(f64, bool)>> {
        let exact = |v: i128| (v.unsigned_abs() <= 1 << 53).then_some(v as f64);
        match bound {
            None => Some(None),
            Some((Number::Float(v), inclusive)) => (!v.is_nan()).then_some(Some((v, inclusive))),
            Some((Number::Int(v), inclusive)) => Some(Some((exact(v as i128)?, inclusive))),
            Some((Number::UInt(v), inclusive)) => Some(Some((exact(v as i128)?, inclusive))),
        }
    };
    Some(match numbers {
        Numbers::Int(a) => fails(
            a.values(),
            |i| a.is_valid(i),
            as_i64(lower)?,
            as_i64(upper)?,
        ),
        Numbers::Float(a) => fails(
            a.values(),
            |i| a.is_valid(i),
            as_f64(lower)?,
            as_f64(upper)?,
        ),
        Numbers::UInt(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use arrow::array::{
        Decimal128Array, Float32Array, Float64Array, Int8Array, Int64Array, StringArray,
        UInt64Array,
    };

    use super::*;
    use crate::checks::testing::{check, failing_one};
    use Number::{Float, Int};

    const NONE: [usize; 0] = [];

    /// The fast loops give the general path's answers, on the values where they could differ.
    #[test]
    fn the_fast_path_agrees_with_the_exact_one() {
        let floats = Float64Array::from(vec![
            Some(-0.0),
            Some(0.0),
            Some(f64::NAN),
            Some(f64::INFINITY),
            Some(-1.5),
            Some(9_007_199_254_740_992.0),
            None,
            Some(100.0),
        ]);
        let ints = Int64Array::from(vec![
            Some(i64::MIN),
            Some(-1),
            Some(0),
            None,
            Some(100),
            Some(i64::MAX),
        ]);
        let rules = [
            Rule::NotNegative,
            Rule::Positive,
            between(Int(0), Int(100), true, false),
            between(Int(-1), Float(100.0), false, true),
            Rule::MaxValue {
                value: Int(9_007_199_254_740_992),
            },
            Rule::GreaterThan {
                value: Int(-1),
                inclusive: true,
            },
            Rule::LessThan {
                value: Int(100),
                inclusive: false,
            },
        ];
        for rule in &rules {
            for array in [&floats as &dyn Array, &ints] {
                let numbers = Numbers::of(array).expect("numbers");
                let Some(fast) = bounds_of(rule).and_then(|b| fast_failures(&numbers, b)) else {
                    continue;
                };
                let exact: Vec<bool> = (0..array.len())
                    .map(|i| {
                        numbers.get(i).is_some_and(|v| {
                            let (lower, upper) = bounds_of(rule).expect("an interval");
                            !(lower.is_none_or(|(b, inc)| above(v, b, inc))
                                && upper.is_none_or(|(b, inc)| below(v, b, inc)))
                        })
                    })
                    .collect();
                assert_eq!(fast, exact, "{rule:?} on {:?}", array.data_type());
            }
        }
    }

    fn between(min: Number, max: Number, inclusive_min: bool, inclusive_max: bool) -> Rule {
        Rule::Between {
            min,
            max,
            inclusive_min,
            inclusive_max,
        }
    }

    #[test]
    fn between_on_integers_at_the_extremes_with_nulls() {
        let values = || {
            Int64Array::from(vec![
                Some(-10),
                Some(10),
                Some(i64::MIN),
                None,
                Some(11),
                Some(0),
                Some(i64::MAX),
            ])
        };
        assert_eq!(
            failing_one(&between(Int(-10), Int(10), true, true), values()),
            [2, 4, 6]
        );
        assert_eq!(
            failing_one(&between(Int(-10), Int(10), false, false), values()),
            [0, 1, 2, 4, 6]
        );
        let clean = Int64Array::from(vec![Some(-10), None, Some(0), Some(10)]);
        assert_eq!(
            failing_one(&between(Int(-10), Int(10), true, true), clean),
            NONE
        );
        // Bounds beyond i64 take every i64.
        let wide = between(Float(-1e300), Number::UInt(u64::MAX), true, true);
        assert_eq!(failing_one(&wide, values()), NONE);
    }

    #[test]
    fn between_on_floats_with_nan_negative_zero_and_infinity() {
        let rule = between(Int(0), Float(1.0), false, true);
        let dirty = Float64Array::from(vec![
            Some(-0.0),
            Some(f64::NAN),
            Some(f64::INFINITY),
            Some(0.5),
            None,
            Some(1.0),
        ]);
        assert_eq!(failing_one(&rule, dirty), [0, 1, 2]);
        assert_eq!(
            failing_one(
                &rule,
                Float64Array::from(vec![Some(1e-300), None, Some(1.0)])
            ),
            NONE
        );
        let backwards = check(between(Int(2), Int(1), true, true), &["v"]);
        let error =
            backwards.failing_rows(&crate::checks::testing::one(Int8Array::from(vec![1])), 0);
        assert!(matches!(
            error,
            Err(CheckError::Parameter {
                parameter: "min",
                ..
            })
        ));
    }

    #[test]
    fn greater_and_less_than_on_unsigned_beyond_i64_with_float_and_integer_bounds() {
        let values = || {
            UInt64Array::from(vec![
                Some(1),
                Some(2),
                Some(u64::MAX),
                Some(0),
                None,
                Some(i64::MAX as u64),
            ])
        };
        let greater = Rule::GreaterThan {
            value: Float(1.5),
            inclusive: false,
        };
        assert_eq!(failing_one(&greater, values()), [0, 3]);
        let less = Rule::LessThan {
            value: Int(i64::MAX),
            inclusive: true,
        };
        assert_eq!(failing_one(&less, values()), [2]);
        let less_strict = Rule::LessThan {
            value: Int(i64::MAX),
            inclusive: false,
        };
        assert_eq!(failing_one(&less_strict, values()), [2, 5]);
        assert_eq!(
            failing_one(
                &greater,
                UInt64Array::from(vec![Some(2), None, Some(u64::MAX)])
            ),
            NONE
        );
    }

    #[test]
    fn equal_to_on_decimals_with_a_tolerance() {
        let decimals = |v: Vec<Option<i128>>| {
            Decimal128Array::from(v)
                .with_precision_and_scale(10, 2)
                .unwrap()
        };
        let rule = Rule::EqualTo {
            value: Int(1),
            tolerance: Some(0.06),
        };
        assert_eq!(
            failing_one(
                &rule,
                decimals(vec![Some(100), Some(105), Some(90), None, Some(-100)])
            ),
            [2, 4]
        );
        assert_eq!(
            failing_one(&rule, decimals(vec![Some(100), Some(95), None])),
            NONE
        );
        let exact = Rule::EqualTo {
            value: Float(-0.0),
            tolerance: None,
        };
        assert_eq!(
            failing_one(
                &exact,
                Float64Array::from(vec![0.0, -0.0, f64::NAN, 1e-300])
            ),
            [2, 3]
        );
        let negative = Rule::EqualTo {
            value: Int(1),
            tolerance: Some(-1.0),
        };
        let error = check(negative, &["v"])
            .failing_rows(&crate::checks::testing::one(Int8Array::from(vec![1])), 0);
        assert!(matches!(
            error,
            Err(CheckError::Parameter {
                parameter: "tolerance",
                ..
            })
        ));
    }

    #[test]
    fn min_and_max_value_on_small_integers_and_float32() {
        let min = Rule::MinValue { value: Int(0) };
        assert_eq!(
            failing_one(
                &min,
                Int8Array::from(vec![Some(-1), Some(0), Some(127), None, Some(-128)])
            ),
            [0, 4]
        );
        assert_eq!(
            failing_one(&min, Int8Array::from(vec![Some(0), Some(127), None])),
            NONE
        );
        let max = Rule::MaxValue { value: Int(100) };
        assert_eq!(
            failing_one(
                &max,
                Float32Array::from(vec![Some(100.0), Some(100.5), Some(f32::NAN), None])
            ),
            [1, 2]
        );
        assert_eq!(
            failing_one(
                &max,
                Float32Array::from(vec![Some(100.0), Some(f32::NEG_INFINITY)])
            ),
            NONE
        );
    }

    #[test]
    fn not_negative_and_positive_treat_negative_zero_as_zero() {
        let values = || {
            Float64Array::from(vec![
                Some(-0.0),
                Some(0.0),
                Some(-1e-300),
                Some(1.0),
                Some(f64::NAN),
                None,
            ])
        };
        assert_eq!(failing_one(&Rule::NotNegative, values()), [2, 4]);
        assert_eq!(failing_one(&Rule::Positive, values()), [0, 1, 2, 4]);
        assert_eq!(
            failing_one(
                &Rule::NotNegative,
                Int64Array::from(vec![Some(0), None, Some(i64::MAX)])
            ),
            NONE
        );
        assert_eq!(
            failing_one(
                &Rule::Positive,
                Int64Array::from(vec![Some(i64::MIN), Some(1)])
            ),
            [0]
        );
        assert_eq!(
            failing_one(&Rule::Positive, Int64Array::from(vec![Some(1), None])),
            NONE
        );
    }

    #[test]
    fn numeric_rules_refuse_text_naming_the_field_and_its_type() {
        let error = check(Rule::Positive, &["v"])
            .failing_rows(
                &crate::checks::testing::one(StringArray::from(vec!["1"])),
                0,
            )
            .unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("`v` is Utf8") && message.contains("numbers"),
            "{message}"
        );
    }
}
