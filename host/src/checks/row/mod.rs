//! Row rules: each row of a batch passes or fails on its own. [`Check::failing_rows`]
//! dispatches a check to its rule's module, once per field (a row fails when it fails for any
//! of the check's fields), and owns the rules about nulls.

mod compare;
mod fields;
mod patterns;
mod sql;
mod temporal;
mod text;
mod types;

use arrow::array::{Array, ArrayRef, BooleanArray};
use arrow::record_batch::RecordBatch;

use super::rule::{Evaluation, Rule};
use super::values::nulls;
use super::{Check, CheckError};

pub(crate) use text::text_form;

/// One field of a batch being checked, with what errors need to name it.
pub(crate) struct Target<'a> {
    /// The check.
    pub check: &'a Check,
    /// The field's name.
    pub name: &'a str,
    /// Its values.
    pub array: &'a ArrayRef,
    /// The whole batch, for rules that compare with another field.
    pub batch: &'a RecordBatch,
    /// The moment of the check, in µs since the epoch.
    pub now_micros: i64,
}

impl Target<'_> {
    /// The error for a field whose type the rule does not work on.
    pub fn unsupported(&self, needs: &str) -> CheckError {
        unsupported(self.check, self.name, self.array.as_ref(), needs)
    }

    /// The error for a parameter that cannot be used.
    pub fn parameter(&self, parameter: &'static str, reason: impl Into<String>) -> CheckError {
        CheckError::Parameter {
            check: self.check.label(),
            parameter,
            reason: reason.into(),
        }
    }
}

/// The error for a field whose type a rule does not work on.
pub(crate) fn unsupported(
    check: &Check,
    field: &str,
    array: &dyn Array,
    needs: &str,
) -> CheckError {
    CheckError::UnsupportedType {
        check: check.label(),
        field: field.into(),
        data_type: array.data_type().to_string(),
        needs: needs.into(),
    }
}

/// The column of a field, or the error naming it.
pub(crate) fn column<'b>(
    check: &Check,
    batch: &'b RecordBatch,
    name: &str,
) -> Result<&'b ArrayRef, CheckError> {
    batch
        .column_by_name(name)
        .ok_or_else(|| CheckError::NoSuchField {
            check: check.label(),
            field: name.into(),
        })
}

impl Check {
    /// The rows of `batch` that fail the check (`true` = fails), for row rules; `now_micros`
    /// (µs since the epoch) is the moment `not_future` compares with. The check's filter is
    /// not applied here (see [`Check::filter`]).
    pub fn failing_rows(
        &self,
        batch: &RecordBatch,
        now_micros: i64,
    ) -> Result<BooleanArray, CheckError> {
        match self.rule.evaluation() {
            Evaluation::Row => {}
            Evaluation::Aggregate => {
                return Err(CheckError::WrongEvaluation {
                    check: self.label(),
                    rule: self.rule.name(),
                    kind: "a whole-container rule",
                    with: "an AggregateState",
                });
            }
            Evaluation::History => {
                return Err(CheckError::WrongEvaluation {
                    check: self.label(),
                    rule: self.rule.name(),
                    kind: "a rule over the container's history",
                    with: "the scan operation",
                });
            }
            Evaluation::Reference => {
                return Err(CheckError::WrongEvaluation {
                    check: self.label(),
                    rule: self.rule.name(),
                    kind: "a rule against another container",
                    with: "the scan operation (a ValueSet or SqlAggregate of the other)",
                });
            }
            Evaluation::NotYet(needs) => {
                return Err(CheckError::NotYet {
                    check: self.label(),
                    rule: self.rule.name(),
                    needs,
                });
            }
        }
        if let Rule::AnyNotNull { fields } = &self.rule {
            return self.any_not_null(batch, fields);
        }
        // The SQL rules' expressions name their fields: the check's may be empty.
        if let Rule::SatisfiesExpression { .. } | Rule::Metric { .. } = &self.rule {
            return sql::failures(self, batch, now_micros);
        }
        if self.fields.is_empty() {
            return Err(CheckError::FieldCount {
                check: self.label(),
                needs: "at least one field",
                found: 0,
            });
        }
        let mut failing = vec![false; batch.num_rows()];
        for name in &self.fields {
            let target = Target {
                check: self,
                name,
                array: column(self, batch, name)?,
                batch,
                now_micros,
            };
            let fails = self.field_failures(&target)?;
            for (row, fails) in failing.iter_mut().zip(fails) {
                *row |= fails;
            }
        }
        Ok(BooleanArray::from(failing))
    }

    /// The failing rows of one field.
    fn field_failures(&self, target: &Target) -> Result<Vec<bool>, CheckError> {
        use Rule::*;
        match &self.rule {
            NotNull => Ok(nulls(target.array.as_ref())),
            AfterDateTime { .. } | BeforeDateTime { .. } | BetweenTimes { .. } | NotFuture => {
                temporal::failures(&self.rule, target)
            }
            Between { .. }
            | EqualTo { .. }
            | GreaterThan { .. }
            | LessThan { .. }
            | MinValue { .. }
            | MaxValue { .. }
            | NotNegative
            | Positive => compare::value_failures(&self.rule, target),
            EqualToField { .. } | GreaterThanField { .. } | LessThanField { .. } => {
                fields::failures(&self.rule, target)
            }
            MatchesPattern { .. } | MinLength { .. } | MaxLength { .. } | ExpectedValues { .. } => {
                text::failures(&self.rule, target)
            }
            ContainsEmail
            | ContainsUrl
            | ContainsCreditCard
            | ContainsSocialSecurityNumber
            | IsCreditCard => patterns::failures(&self.rule, target),
            IsType { value_type } => types::failures(*value_type, target),
            _ => unreachable!("{} is not a row rule", self.rule.name()),
        }
    }

    /// Rows in which every one of `fields` (or, when it is empty, of the check's fields) is
    /// null.
    fn any_not_null(
        &self,
        batch: &RecordBatch,
        fields: &[String],
    ) -> Result<BooleanArray, CheckError> {
        let fields = if fields.is_empty() {
            &self.fields
        } else {
            fields
        };
        if fields.is_empty() {
            return Err(CheckError::Parameter {
                check: self.label(),
                parameter: "fields",
                reason:
                    "is empty, as are the check's fields; list the fields of which one must be set"
                        .into(),
            });
        }
        let mut failing = vec![true; batch.num_rows()];
        for name in fields {
            let null = nulls(column(self, batch, name)?.as_ref());
            for (fails, null) in failing.iter_mut().zip(null) {
                *fails &= null;
            }
        }
        Ok(BooleanArray::from(failing))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        DictionaryArray, Float64Array, Int8Array, Int32Array, Int64Array, StringArray,
    };
    use arrow::datatypes::Int8Type;

    use super::*;
    use crate::checks::testing::{batch, check, failing};

    #[test]
    fn not_null_fails_exactly_the_nulls_and_not_empty_strings_or_nan() {
        let dirty = batch(vec![
            (
                "name",
                Arc::new(StringArray::from(vec![Some(""), None, Some("a"), None])) as _,
            ),
            (
                "score",
                Arc::new(Float64Array::from(vec![
                    Some(f64::NAN),
                    Some(1.0),
                    None,
                    Some(-0.0),
                ])) as _,
            ),
        ]);
        let rule = check(Rule::NotNull, &["name", "score"]);
        assert_eq!(failing(&rule, &dirty), [1, 2, 3]);
        let clean = batch(vec![
            ("name", Arc::new(StringArray::from(vec!["", " ", "a"])) as _),
            (
                "score",
                Arc::new(Float64Array::from(vec![f64::NAN, 0.0, -0.0])) as _,
            ),
        ]);
        assert_eq!(failing(&rule, &clean), [] as [usize; 0]);
    }

    #[test]
    fn not_null_on_dictionary_encoded_strings() {
        let dirty: DictionaryArray<Int8Type> = vec![Some("x"), None, Some("y"), Some("x")]
            .into_iter()
            .collect();
        let rule = check(Rule::NotNull, &["code"]);
        assert_eq!(
            failing(&rule, &batch(vec![("code", Arc::new(dirty) as _)])),
            [1]
        );
        // A key pointing to a null value is a null too.
        let values = StringArray::from(vec![Some("x"), None]);
        let keys = Int8Array::from(vec![Some(0), Some(1), None, Some(0)]);
        let nulls_in_values = DictionaryArray::<Int8Type>::try_new(keys, Arc::new(values)).unwrap();
        let data = batch(vec![("code", Arc::new(nulls_in_values) as _)]);
        assert_eq!(failing(&rule, &data), [1, 2]);
        let any = check(
            Rule::AnyNotNull {
                fields: vec!["code".into()],
            },
            &[],
        );
        assert_eq!(failing(&any, &data), [1, 2]);
    }

    #[test]
    fn any_not_null_fails_rows_where_every_listed_field_is_null() {
        let dirty = batch(vec![
            (
                "phone",
                Arc::new(StringArray::from(vec![Some("1"), None, None, Some("")])) as _,
            ),
            (
                "email",
                Arc::new(StringArray::from(vec![None, Some("a@b.c"), None, None])) as _,
            ),
            (
                "id",
                Arc::new(Int64Array::from(vec![Some(i64::MIN), None, Some(3), None])) as _,
            ),
        ]);
        let rule = check(
            Rule::AnyNotNull {
                fields: vec!["phone".into(), "email".into()],
            },
            &[],
        );
        assert_eq!(failing(&rule, &dirty), [2]);
        let clean = batch(vec![
            (
                "phone",
                Arc::new(StringArray::from(vec![Some(""), None])) as _,
            ),
            (
                "email",
                Arc::new(StringArray::from(vec![None, Some("")])) as _,
            ),
        ]);
        assert_eq!(failing(&rule, &clean), [] as [usize; 0]);
        let the_checks_fields = check(Rule::AnyNotNull { fields: vec![] }, &["phone", "id"]);
        assert_eq!(failing(&the_checks_fields, &dirty), [1]);
    }

    #[test]
    fn errors_name_the_check_the_field_and_what_is_wrong() {
        let data = batch(vec![("n", Arc::new(Int32Array::from(vec![1])) as _)]);
        let missing = check(Rule::NotNull, &["nope"])
            .failing_rows(&data, 0)
            .unwrap_err();
        assert!(missing.to_string().contains("no field `nope`"), "{missing}");
        let aggregate = check(Rule::Unique, &["n"])
            .failing_rows(&data, 0)
            .unwrap_err();
        assert!(
            matches!(aggregate, CheckError::WrongEvaluation { .. }),
            "{aggregate}"
        );
        let history = check(
            Rule::Volumetric {
                comparison: crate::checks::VolumeComparison::AbsoluteValue,
                min: Some(1.0),
                max: None,
            },
            &[],
        )
        .failing_rows(&data, 0)
        .unwrap_err();
        assert!(
            matches!(
                history,
                CheckError::WrongEvaluation {
                    with: "the scan operation",
                    ..
                }
            ),
            "{history}"
        );
        let diff = check(
            Rule::DataDiff {
                ref_container: "other".into(),
                row_identifiers: vec!["n".into()],
                ref_datastore: None,
            },
            &["n"],
        )
        .failing_rows(&data, 0)
        .unwrap_err();
        assert!(matches!(diff, CheckError::WrongEvaluation { .. }), "{diff}");
        let reference = check(
            Rule::ExistsIn {
                container: "other".into(),
                field: "n".into(),
                datastore: None,
            },
            &["n"],
        )
        .failing_rows(&data, 0)
        .unwrap_err();
        assert!(
            matches!(reference, CheckError::WrongEvaluation { .. }),
            "{reference}"
        );
        let no_fields = check(Rule::NotNull, &[])
            .failing_rows(&data, 0)
            .unwrap_err();
        assert!(
            matches!(no_fields, CheckError::FieldCount { .. }),
            "{no_fields}"
        );
        let empty = check(Rule::AnyNotNull { fields: vec![] }, &[]).failing_rows(&data, 0);
        assert!(matches!(
            empty,
            Err(CheckError::Parameter {
                parameter: "fields",
                ..
            })
        ));
    }
}
