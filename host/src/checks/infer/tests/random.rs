//! Whatever the data, and however it is split into partitions, the checks inferred from it
//! pass on it.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use proptest::prelude::*;

use super::{assert_well_formed, failures, profile, split};
use crate::checks::infer::infer;
use crate::checks::testing::batch;

/// A random row: an integer, a float of any kind and a finite one, free text and a code,
/// a date (usually within a few years of 2024) and a boolean.
type Row = (
    Option<i64>,
    Option<f64>,
    Option<f64>,
    Option<String>,
    Option<String>,
    Option<i32>,
    Option<bool>,
);

fn row() -> impl Strategy<Value = Row> {
    use proptest::option::weighted;
    (
        weighted(0.9, prop_oneof![-5i64..5, any::<i64>()]),
        weighted(
            0.9,
            prop_oneof![
                -1e3f64..1e3,
                Just(-0.0),
                Just(f64::NAN),
                Just(f64::INFINITY),
                // Not beyond: the profile's histogram overflows merging such floats.
                -1e15f64..1e15,
            ],
        ),
        weighted(
            0.95,
            prop_oneof![4 => -1e3f64..1e3, 1 => Just(-0.0), 1 => Just(0.5)],
        ),
        weighted(
            0.9,
            prop_oneof![
                Just(String::new()),
                Just(" 42 ".to_string()),
                "[A-Z]{2}-[0-9]{2,3}",
                "[a-zé]{1,6}",
                "[0-9]{1,4}",
                "\\PC{0,30}",
                Just("2024-01-31".to_string()),
                Just("2024-01-31 10:00".to_string()),
            ],
        ),
        weighted(0.95, "[A-ZÉ]{1,3}-[0-9٣]{3}"),
        weighted(0.9, prop_oneof![4 => 19_000i32..21_000, 1 => any::<i32>()]),
        weighted(0.9, any::<bool>()),
    )
}

fn random_batch(rows: &[Row]) -> RecordBatch {
    let column = |f: fn(&Row) -> Option<String>| {
        Arc::new(rows.iter().map(f).collect::<StringArray>()) as ArrayRef
    };
    batch(vec![
        (
            "n",
            Arc::new(rows.iter().map(|r| r.0).collect::<Int64Array>()),
        ),
        (
            "x",
            Arc::new(rows.iter().map(|r| r.1).collect::<Float64Array>()),
        ),
        (
            "y",
            Arc::new(rows.iter().map(|r| r.2).collect::<Float64Array>()),
        ),
        ("s", column(|r| r.3.clone())),
        ("s_id", column(|r| r.3.clone())),
        ("code", column(|r| r.4.clone())),
        (
            "d",
            Arc::new(rows.iter().map(|r| r.5).collect::<Date32Array>()),
        ),
        (
            "b",
            Arc::new(rows.iter().map(|r| r.6).collect::<BooleanArray>()),
        ),
        (
            "id",
            Arc::new(rows.iter().map(|r| r.0).collect::<Int64Array>()),
        ),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever the data and however it is split into partitions, the checks inferred from
    /// it pass on it.
    #[test]
    fn inferred_checks_never_fail_on_their_own_data(
        rows in proptest::collection::vec(row(), 1..120),
        cut in 0usize..120,
        copies in 1usize..4,
    ) {
        // Repeated rows make categories: every value is then seen at least `copies` times.
        let rows: Vec<Row> = rows.iter().cycle().take(rows.len() * copies).cloned().collect();
        let whole = random_batch(&rows);
        let data = split(&whole, cut.min(rows.len()));
        let inferred = infer(&profile("random", &data));
        assert_well_formed(&inferred, "random");
        prop_assert_eq!(failures(&inferred, &data), BTreeMap::new());
    }
}
