//! Whole-container rules: `unique`, `distinct_count`, `required_values`, `sum`,
//! `field_count`, `expected_schema`, `freshness`, `min_partition_size`,
//! `max_partition_size` and `time_distribution_size`. An [`AggregateState`] is made from the
//! container's schema, fed its batches, merged with the states of its other partitions (like
//! [`ContainerProfile::merge`](crate::profile::ContainerProfile::merge)) and finished into an
//! [`Outcome`]. `volumetric` compares the container with its earlier scans: the scan judges
//! it with [`judge_volume`].
//!
//! Row numbers count the rows a state was fed, from 0; [`AggregateState::merge`] appends the
//! other state's rows after its own, so merging partitions in their order numbers rows as
//! the container does. Partitions are numbered the same way: a new state is one partition,
//! and merging appends the other state's.

mod distinct;
mod freshness;
mod partitions;
mod required;
mod schema;
mod sum;
mod time_buckets;
mod volume;

use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};

use super::rule::{Evaluation, Rule};
use super::{Check, CheckError};
use crate::profile::Kind;

pub use volume::judge_volume;

/// What a whole-container check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Whether the container passes.
    pub passed: bool,
    /// What was found, for people: the count, the missing values, the fields that differ.
    pub message: String,
    /// The rows that fail (by row number, ascending), for rules that fail rows (`unique`);
    /// empty for rules about the container as a whole.
    pub failing_rows: Vec<u64>,
}

/// The running state of a whole-container check over some of its rows.
pub struct AggregateState {
    check: Check,
    rows: u64,
    /// The moment of the check, in µs since the epoch (for `freshness`).
    now_micros: i64,
    state: State,
}

enum State {
    Distinct(distinct::Distinct),
    Required(required::Required),
    Sum(sum::Sum),
    Schema(Outcome),
    Freshness(freshness::Freshness),
    Partitions(partitions::Partitions),
    Buckets(time_buckets::Buckets),
}

impl AggregateState {
    /// An empty state for `check` over a container with `schema`, checked now (see
    /// [`AggregateState::with_now`]).
    pub fn new(check: &Check, schema: &Schema) -> Result<Self, CheckError> {
        Self::with_now(check, schema, chrono::Utc::now().timestamp_micros())
    }

    /// An empty state for `check` over a container with `schema`, checked at `now_micros`
    /// (µs since the epoch, the moment `freshness` measures age from); fails when the check
    /// is not a whole-container rule or does not fit the schema. Merged states keep the
    /// moment of the state merged into.
    pub fn with_now(check: &Check, schema: &Schema, now_micros: i64) -> Result<Self, CheckError> {
        match check.rule.evaluation() {
            Evaluation::Aggregate => {}
            Evaluation::Row => {
                return Err(CheckError::WrongEvaluation {
                    check: check.label(),
                    rule: check.rule.name(),
                    kind: "a row rule",
                    with: "Check::failing_rows",
                });
            }
            Evaluation::History => {
                return Err(CheckError::WrongEvaluation {
                    check: check.label(),
                    rule: check.rule.name(),
                    kind: "a rule over the container's history",
                    with: "the scan operation",
                });
            }
            Evaluation::Reference => {
                return Err(CheckError::WrongEvaluation {
                    check: check.label(),
                    rule: check.rule.name(),
                    kind: "a rule against another container",
                    with: "the scan operation (a ValueSet or SqlAggregate of the other)",
                });
            }
            Evaluation::NotYet(needs) => {
                return Err(CheckError::NotYet {
                    check: check.label(),
                    rule: check.rule.name(),
                    needs,
                });
            }
        }
        let state = match &check.rule {
            Rule::Unique | Rule::DistinctCount { .. } => {
                State::Distinct(distinct::Distinct::new(check, schema)?)
            }
            Rule::RequiredValues { values } => {
                let field = one_field(check, schema)?;
                State::Required(required::Required::new(check, field, values.clone())?)
            }
            Rule::Sum { .. } => State::Sum(sum::Sum::new(check, one_field(check, schema)?)?),
            Rule::FieldCount { value } => State::Schema(schema::field_count(schema, *value)),
            Rule::ExpectedSchema {
                fields,
                allow_other_fields,
            } => State::Schema(schema::expected(schema, fields, *allow_other_fields)),
            Rule::Freshness { max_age_seconds } => {
                let field = one_field(check, schema)?;
                State::Freshness(freshness::Freshness::new(check, field, *max_age_seconds)?)
            }
            Rule::MinPartitionSize { value } => {
                State::Partitions(partitions::Partitions::new(partitions::Bound::Min(*value)))
            }
            Rule::MaxPartitionSize { value } => {
                State::Partitions(partitions::Partitions::new(partitions::Bound::Max(*value)))
            }
            Rule::TimeDistributionSize { interval, min, max } => {
                let field = one_field(check, schema)?;
                State::Buckets(time_buckets::Buckets::new(
                    check, field, *interval, *min, *max,
                )?)
            }
            _ => unreachable!("{} is not a whole-container rule", check.rule.name()),
        };
        Ok(AggregateState {
            check: check.clone(),
            rows: 0,
            now_micros,
            state,
        })
    }

    /// Add a batch of the container (with the schema the state was made for).
    pub fn update(&mut self, batch: &RecordBatch) -> Result<(), CheckError> {
        match &mut self.state {
            State::Distinct(s) => s.update(&self.check, batch, self.rows)?,
            State::Required(s) => s.update(&self.check, batch)?,
            State::Sum(s) => s.update(&self.check, batch)?,
            State::Schema(_) => {}
            State::Freshness(s) => s.update(&self.check, batch)?,
            State::Partitions(s) => s.update(batch.num_rows()),
            State::Buckets(s) => s.update(&self.check, batch)?,
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Fold in the state of the same check over the rows that follow this state's.
    ///
    /// # Panics
    ///
    /// When `other` is the state of a check of another kind of rule.
    pub fn merge(&mut self, other: AggregateState) {
        match (&mut self.state, other.state) {
            (State::Distinct(a), State::Distinct(b)) => a.merge(b, self.rows),
            (State::Required(a), State::Required(b)) => a.merge(b),
            (State::Sum(a), State::Sum(b)) => a.merge(b),
            (State::Schema(_), State::Schema(_)) => {}
            (State::Freshness(a), State::Freshness(b)) => a.merge(b),
            (State::Partitions(a), State::Partitions(b)) => a.merge(b),
            (State::Buckets(a), State::Buckets(b)) => a.merge(b),
            _ => panic!("merged the states of two different checks"),
        }
        self.rows += other.rows;
    }

    /// The outcome over every row added.
    pub fn finish(self) -> Outcome {
        match (self.state, &self.check.rule) {
            (State::Distinct(s), rule) => s.finish(rule),
            (State::Required(s), _) => s.finish(),
            (State::Sum(s), Rule::Sum { value, tolerance }) => {
                s.finish(*value, tolerance.unwrap_or(0.0))
            }
            (State::Schema(outcome), _) => outcome,
            (State::Freshness(s), _) => s.finish(self.now_micros, self.rows),
            (State::Partitions(s), _) => s.finish(),
            (State::Buckets(s), _) => s.finish(),
            (State::Sum(_), _) => unreachable!("a sum state for another rule"),
        }
    }
}

/// The one field a rule applies to, which the schema must have.
fn one_field<'a>(check: &Check, schema: &'a Schema) -> Result<&'a Field, CheckError> {
    let [field] = check.fields.as_slice() else {
        return Err(CheckError::FieldCount {
            check: check.label(),
            needs: "exactly one field",
            found: check.fields.len(),
        });
    };
    known(check, schema, field)
}

/// The field `name` of the schema, or the error naming it.
fn known<'a>(check: &Check, schema: &'a Schema, name: &str) -> Result<&'a Field, CheckError> {
    schema
        .field_with_name(name)
        .map_err(|_| CheckError::NoSuchField {
            check: check.label(),
            field: name.into(),
        })
}

/// A date or timestamp field (any unit, with or without a time zone), or the error saying
/// the rule needs one.
fn instant_field<'a>(check: &Check, field: &'a Field) -> Result<&'a Field, CheckError> {
    match Kind::of(field.data_type()) {
        Kind::Date | Kind::Timestamp(..) => Ok(field),
        _ => Err(wrong_type(check, field, "dates or timestamps")),
    }
}

/// The error for a field of a type the rule does not work on.
fn wrong_type(check: &Check, field: &Field, needs: &str) -> CheckError {
    CheckError::UnsupportedType {
        check: check.label(),
        field: field.name().clone(),
        data_type: field.data_type().to_string(),
        needs: needs.into(),
    }
}

#[cfg(test)]
mod tests {
    use arrow::datatypes::{DataType, Field};

    use super::*;
    use crate::checks::testing::check;
    use crate::checks::{Number, Scalar};

    /// Partitions are read on worker threads and their states merged on another.
    #[test]
    fn states_move_between_threads() {
        fn send<T: Send + 'static>() {}
        send::<AggregateState>();
        send::<Outcome>();
    }

    #[test]
    fn aggregate_states_refuse_row_rules_unfit_fields_and_missing_ones() {
        let schema = Schema::new(vec![Field::new("v", DataType::Utf8, true)]);
        let error = |rule, fields: &[&str]| {
            AggregateState::new(&check(rule, fields), &schema)
                .err()
                .expect("an error")
        };
        assert!(matches!(
            error(Rule::NotNull, &["v"]),
            CheckError::WrongEvaluation { .. }
        ));
        assert!(
            error(
                Rule::Sum {
                    value: Number::Int(0),
                    tolerance: None
                },
                &["v"]
            )
            .to_string()
            .contains("`v` is Utf8")
        );
        assert!(matches!(
            error(Rule::Unique, &["w"]),
            CheckError::NoSuchField { .. }
        ));
        assert!(matches!(
            error(Rule::Unique, &[]),
            CheckError::FieldCount { .. }
        ));
        assert!(matches!(
            error(
                Rule::Sum {
                    value: Number::Int(0),
                    tolerance: None
                },
                &["v", "v"]
            ),
            CheckError::FieldCount { .. }
        ));
        assert!(matches!(
            error(
                Rule::Volumetric {
                    comparison: crate::checks::VolumeComparison::AbsoluteValue,
                    min: Some(1.0),
                    max: None
                },
                &[]
            ),
            CheckError::WrongEvaluation {
                with: "the scan operation",
                ..
            }
        ));
        assert!(matches!(
            error(
                Rule::ExistsIn {
                    container: "c".into(),
                    field: "f".into(),
                    datastore: None,
                },
                &["v"]
            ),
            CheckError::WrongEvaluation { .. }
        ));
        let numbers = Schema::new(vec![Field::new("v", DataType::Int64, true)]);
        let texts = check(
            Rule::RequiredValues {
                values: vec![Scalar::Text("x".into())],
            },
            &["v"],
        );
        let error = AggregateState::new(&texts, &numbers)
            .err()
            .expect("an error");
        assert!(
            error.to_string().contains("list numbers instead"),
            "{error}"
        );
    }
}
