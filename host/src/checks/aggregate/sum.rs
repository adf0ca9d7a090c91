//! `sum`: the field's non-null values add up to a value, within a tolerance. Integers are
//! added exactly in i128; floats and decimals in f64 (a NaN makes the sum NaN, which equals
//! nothing).

use arrow::datatypes::Field;
use arrow::record_batch::RecordBatch;

use super::{Outcome, wrong_type};
use crate::checks::params::Number;
use crate::checks::row::{column, unsupported};
use crate::checks::values::{self, Numbers, compare, distance};
use crate::checks::{Check, CheckError, Rule};
use crate::profile::Kind;

/// A running total.
pub(super) struct Sum {
    field: String,
    total: Total,
}

enum Total {
    Int(i128),
    Float(f64),
}

impl Sum {
    /// A zero total for a numeric field.
    pub fn new(check: &Check, field: &Field) -> Result<Self, CheckError> {
        if let Rule::Sum {
            tolerance: Some(t), ..
        } = check.rule
            && (t.is_nan() || t < 0.0)
        {
            return Err(CheckError::Parameter {
                check: check.label(),
                parameter: "tolerance",
                reason: format!("is {t}; give a number of 0 or more"),
            });
        }
        let total = match Kind::of(field.data_type()) {
            Kind::Signed | Kind::Unsigned => Total::Int(0),
            Kind::Float => Total::Float(0.0),
            _ => {
                return Err(wrong_type(
                    check,
                    field,
                    "numbers (integers, floats or decimals)",
                ));
            }
        };
        Ok(Sum {
            field: field.name().clone(),
            total,
        })
    }

    /// Add the batch's non-null values.
    pub fn update(&mut self, check: &Check, batch: &RecordBatch) -> Result<(), CheckError> {
        let array = column(check, batch, &self.field)?.as_ref();
        let numbers =
            Numbers::of(array).ok_or_else(|| unsupported(check, &self.field, array, "numbers"))?;
        for v in (0..array.len()).filter_map(|i| numbers.get(i)) {
            match (&mut self.total, v) {
                (Total::Int(t), Number::Int(v)) => *t += v as i128,
                (Total::Int(t), Number::UInt(v)) => *t += v as i128,
                (Total::Float(t), Number::Float(v)) => *t += v,
                // Not reached: the field's type fixed the total's kind.
                (total, v) => *total = Total::Float(to_f64(total) + values::to_f64(v)),
            }
        }
        Ok(())
    }

    /// Fold in the total of another part of the container.
    pub fn merge(&mut self, other: Sum) {
        self.total = match (&self.total, other.total) {
            (Total::Int(a), Total::Int(b)) => Total::Int(a + b),
            (a, b) => Total::Float(to_f64(a) + to_f64(&b)),
        };
    }

    /// Passes when the total is `value` within `tolerance`.
    pub fn finish(self, value: Number, tolerance: f64) -> Outcome {
        let total = match self.total {
            Total::Int(t) => i64::try_from(t)
                .map(Number::Int)
                .or_else(|_| u64::try_from(t).map(Number::UInt))
                .unwrap_or(Number::Float(t as f64)),
            Total::Float(t) => Number::Float(t),
        };
        let passed = compare(total, value) == Some(std::cmp::Ordering::Equal)
            || distance(total, value) <= tolerance;
        let within = if tolerance > 0.0 {
            format!(" ± {tolerance}")
        } else {
            String::new()
        };
        Outcome {
            passed,
            message: format!(
                "`{}` adds up to {total}, expected {value}{within}",
                self.field
            ),
            failing_rows: vec![],
        }
    }
}

fn to_f64(total: &Total) -> f64 {
    match total {
        Total::Int(t) => *t as f64,
        Total::Float(t) => *t,
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::Float64Array;

    use super::*;
    use crate::checks::Rule;
    use crate::checks::testing::{check, ints, one, outcome as run};

    #[test]
    fn sum_adds_integers_exactly_and_floats_within_a_tolerance() {
        let exact = Rule::Sum {
            value: Number::UInt(2 * i64::MAX as u64),
            tolerance: None,
        };
        let parts = || {
            vec![
                vec![ints(vec![Some(i64::MAX), None])],
                vec![ints(vec![Some(i64::MAX)])],
            ]
        };
        assert!(run(&check(exact, &["v"]), parts()).passed);
        let off_by_one = Rule::Sum {
            value: Number::UInt(2 * i64::MAX as u64 - 1),
            tolerance: None,
        };
        let outcome = run(&check(off_by_one, &["v"]), parts());
        assert!(
            !outcome.passed && outcome.message.contains("adds up to 18446744073709551614"),
            "{}",
            outcome.message
        );
        let floats = || {
            vec![vec![one(Float64Array::from(vec![
                Some(0.1),
                Some(0.2),
                None,
            ]))]]
        };
        assert!(
            !run(
                &check(
                    Rule::Sum {
                        value: Number::Float(0.3),
                        tolerance: None
                    },
                    &["v"]
                ),
                floats()
            )
            .passed
        );
        assert!(
            run(
                &check(
                    Rule::Sum {
                        value: Number::Float(0.3),
                        tolerance: Some(1e-9)
                    },
                    &["v"]
                ),
                floats()
            )
            .passed
        );
        let nan = vec![vec![one(Float64Array::from(vec![1.0, f64::NAN]))]];
        assert!(
            !run(
                &check(
                    Rule::Sum {
                        value: Number::Int(1),
                        tolerance: Some(1e9)
                    },
                    &["v"]
                ),
                nan
            )
            .passed
        );
        let empty = vec![vec![ints(vec![None])]];
        assert!(
            run(
                &check(
                    Rule::Sum {
                        value: Number::Float(-0.0),
                        tolerance: None
                    },
                    &["v"]
                ),
                empty
            )
            .passed
        );
    }
}
