//! Helpers for the checks' tests: checks on a test container, batches from named columns,
//! and the failing rows as indexes.

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::{Field, Schema};
use arrow::record_batch::RecordBatch;
use std::sync::Arc;

use super::{AggregateState, Check, Outcome, Rule};

/// The moment tests check at: 2024-06-01T12:00:00Z, in µs since the epoch.
pub const NOW_MICROS: i64 = 1_717_243_200_000_000;

/// A check of `rule` on `fields` of the container `test`.
pub fn check(rule: Rule, fields: &[&str]) -> Check {
    Check {
        id: Some(7),
        container: "test".into(),
        fields: fields.iter().map(|f| f.to_string()).collect(),
        rule,
        filter: None,
        description: String::new(),
        tags: vec![],
        weight: 1,
    }
}

/// A batch of nullable columns.
pub fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let schema = Schema::new(
        columns
            .iter()
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(
        Arc::new(schema),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .expect("a valid test batch")
}

/// The indexes of the rows of `batch` that fail `check` (at [`NOW_MICROS`]); panics on error.
pub fn failing(check: &Check, batch: &RecordBatch) -> Vec<usize> {
    let failing = check
        .failing_rows(batch, NOW_MICROS)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(failing.len(), batch.num_rows());
    assert_eq!(failing.null_count(), 0);
    (0..failing.len()).filter(|i| failing.value(*i)).collect()
}

/// A one-column batch named `v`.
pub fn one(array: impl Array + 'static) -> RecordBatch {
    batch(vec![("v", Arc::new(array) as ArrayRef)])
}

/// The failing rows of `rule` on the column of a [`one`] batch.
pub fn failing_one(rule: &Rule, array: impl Array + 'static) -> Vec<usize> {
    failing(&check(rule.clone(), &["v"]), &one(array))
}

/// A one-column batch of `v` integers.
pub fn ints(values: Vec<Option<i64>>) -> RecordBatch {
    one(arrow::array::Int64Array::from(values))
}

/// The outcome of `check` over partitions of batches, each partition its own state, merged
/// in order.
pub fn outcome(check: &Check, partitions: Vec<Vec<RecordBatch>>) -> Outcome {
    outcome_at(check, partitions, chrono::Utc::now().timestamp_micros())
}

/// The outcome of `check` over partitions of batches (as [`outcome`]), checked at
/// `now_micros`.
pub fn outcome_at(check: &Check, partitions: Vec<Vec<RecordBatch>>, now_micros: i64) -> Outcome {
    let schema = partitions[0][0].schema();
    let mut states = partitions.into_iter().map(|batches| {
        let mut state =
            AggregateState::with_now(check, &schema, now_micros).unwrap_or_else(|e| panic!("{e}"));
        for batch in &batches {
            state.update(batch).unwrap_or_else(|e| panic!("{e}"));
        }
        state
    });
    let mut first = states.next().expect("a partition");
    states.for_each(|state| first.merge(state));
    first.finish()
}
