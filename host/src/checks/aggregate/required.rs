//! `required_values`: every listed value appears in the field somewhere, matched as
//! `expected_values` matches values (numbers as numbers, booleans as booleans, text exactly,
//! other types by Arrow's text form).

use std::collections::HashMap;

use arrow::array::AsArray;
use arrow::compute::{can_cast_types, cast};
use arrow::datatypes::{DataType, Field};
use arrow::record_batch::RecordBatch;

use super::{Outcome, wrong_type};
use crate::checks::params::{Number, Scalar};
use crate::checks::row::{column, text_form};
use crate::checks::values::{Numbers, compare, for_each_text, is_text};
use crate::checks::{Check, CheckError};
use crate::profile::Kind;

/// The listed values in the form the field is compared in.
enum Listed {
    Numbers(Vec<Number>),
    Bools(Vec<bool>),
    /// Text forms, each to the indexes of the values written that way.
    Text(HashMap<String, Vec<usize>>),
}

/// Which listed values were seen.
pub(super) struct Required {
    field: String,
    values: Vec<Scalar>,
    listed: Listed,
    found: Vec<bool>,
}

fn wrong_value(check: &Check, field: &Field, value: &Scalar, needs: &str) -> CheckError {
    CheckError::Parameter {
        check: check.label(),
        parameter: "values",
        reason: format!(
            "lists `{}`, but field `{}` is {}: list {needs} instead",
            text_form(value),
            field.name(),
            field.data_type()
        ),
    }
}

impl Required {
    /// Nothing seen yet of `values` in `field`.
    pub fn new(check: &Check, field: &Field, values: Vec<Scalar>) -> Result<Self, CheckError> {
        let data_type = field.data_type();
        let listed = match Kind::of(data_type) {
            Kind::Signed | Kind::Unsigned | Kind::Float => Listed::Numbers(
                values
                    .iter()
                    .map(|v| match v {
                        Scalar::Number(n) => Ok(*n),
                        other => Err(wrong_value(check, field, other, "numbers")),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Kind::Boolean => Listed::Bools(
                values
                    .iter()
                    .map(|v| match v {
                        Scalar::Bool(b) => Ok(*b),
                        other => Err(wrong_value(check, field, other, "true or false")),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            _ if is_text(data_type) || can_cast_types(data_type, &DataType::Utf8) => {
                let mut forms: HashMap<String, Vec<usize>> = HashMap::new();
                for (i, v) in values.iter().enumerate() {
                    forms.entry(text_form(v)).or_default().push(i);
                }
                Listed::Text(forms)
            }
            _ => {
                return Err(wrong_type(
                    check,
                    field,
                    "numbers, booleans, text, or a type with a text form",
                ));
            }
        };
        Ok(Required {
            field: field.name().clone(),
            found: vec![false; values.len()],
            values,
            listed,
        })
    }

    /// Mark the listed values the batch holds.
    pub fn update(&mut self, check: &Check, batch: &RecordBatch) -> Result<(), CheckError> {
        let array = column(check, batch, &self.field)?.as_ref();
        let found = &mut self.found;
        match &self.listed {
            Listed::Numbers(listed) => {
                if let Some(numbers) = Numbers::of(array) {
                    for v in (0..array.len()).filter_map(|i| numbers.get(i)) {
                        for (j, n) in listed.iter().enumerate() {
                            found[j] |= compare(v, *n) == Some(std::cmp::Ordering::Equal);
                        }
                    }
                }
            }
            Listed::Bools(listed) => {
                for v in array.as_boolean().iter().flatten() {
                    for (j, b) in listed.iter().enumerate() {
                        found[j] |= v == *b;
                    }
                }
            }
            Listed::Text(forms) => {
                let mark = |v: Option<&str>| {
                    for j in v.and_then(|v| forms.get(v)).into_iter().flatten() {
                        found[*j] = true;
                    }
                };
                if is_text(array.data_type()) {
                    for_each_text(array, mark);
                } else {
                    let text = cast(array, &DataType::Utf8).map_err(|e| CheckError::Arrow {
                        check: check.label(),
                        field: self.field.clone(),
                        reason: e.to_string(),
                    })?;
                    for_each_text(text.as_ref(), mark);
                }
            }
        }
        Ok(())
    }

    /// Fold in what another part of the container holds.
    pub fn merge(&mut self, other: Required) {
        for (mine, theirs) in self.found.iter_mut().zip(other.found) {
            *mine |= theirs;
        }
    }

    /// Passes when every listed value was seen; the message names the missing ones.
    pub fn finish(self) -> Outcome {
        let missing: Vec<String> = self
            .values
            .iter()
            .zip(&self.found)
            .filter(|(_, found)| !**found)
            .map(|(v, _)| format!("`{}`", text_form(v)))
            .collect();
        let message = if missing.is_empty() {
            format!("all {} required values are present", self.values.len())
        } else {
            format!("missing from `{}`: {}", self.field, missing.join(", "))
        };
        Outcome {
            passed: missing.is_empty(),
            message,
            failing_rows: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{BooleanArray, Date32Array, Float64Array, StringArray, UInt64Array};

    use super::*;
    use crate::checks::Rule;
    use crate::checks::testing::{check, one, outcome as run};

    #[test]
    fn required_values_names_the_missing_ones() {
        let required = Rule::RequiredValues {
            values: vec![
                Scalar::Text("a".into()),
                Scalar::Text("".into()),
                Scalar::Text("c".into()),
            ],
        };
        let text = |v: Vec<Option<&str>>| one(StringArray::from(v));
        let outcome = run(
            &check(required.clone(), &["v"]),
            vec![
                vec![text(vec![Some("a"), None])],
                vec![text(vec![Some(""), Some("b")])],
            ],
        );
        assert_eq!(
            (outcome.passed, outcome.message.as_str()),
            (false, "missing from `v`: `c`")
        );
        let outcome = run(
            &check(required, &["v"]),
            vec![
                vec![text(vec![Some("c"), Some("")])],
                vec![text(vec![Some("a")])],
            ],
        );
        assert!(outcome.passed, "{outcome:?}");
        let numbers = Rule::RequiredValues {
            values: vec![
                Scalar::Number(Number::Int(0)),
                Scalar::Number(Number::UInt(u64::MAX)),
            ],
        };
        let unsigned = one(UInt64Array::from(vec![Some(u64::MAX), None]));
        assert!(!run(&check(numbers.clone(), &["v"]), vec![vec![unsigned]]).passed);
        // 2^64 as a float is not u64::MAX: numbers are compared without rounding.
        let floats = || {
            one(Float64Array::from(vec![
                Some(-0.0),
                Some(1.8446744073709552e19),
                Some(2.5),
            ]))
        };
        let outcome = run(&check(numbers, &["v"]), vec![vec![floats()]]);
        assert_eq!(outcome.message, "missing from `v`: `18446744073709551615`");
        let found = Rule::RequiredValues {
            values: vec![
                Scalar::Number(Number::Int(0)),
                Scalar::Number(Number::Float(2.5)),
            ],
        };
        assert!(run(&check(found, &["v"]), vec![vec![floats()]]).passed);
        let flags = Rule::RequiredValues {
            values: vec![Scalar::Bool(true), Scalar::Bool(false)],
        };
        assert!(
            !run(
                &check(flags, &["v"]),
                vec![vec![one(BooleanArray::from(vec![Some(true), None]))]]
            )
            .passed
        );
        let dates = Rule::RequiredValues {
            values: vec![Scalar::Text("1969-12-31".into())],
        };
        assert!(
            run(
                &check(dates, &["v"]),
                vec![vec![one(Date32Array::from(vec![-1]))]]
            )
            .passed
        );
    }
}
