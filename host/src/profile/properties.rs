//! Property tests of merging: the profile of any split of the data, merged in any order and
//! grouping, equals the profile of the whole — exactly for counts, ranges, histograms, exact
//! distinct counts, top values, lengths, types and shapes; within float rounding for moments;
//! within the stated rank error for quantiles.

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use proptest::prelude::*;

use super::{ContainerProfile, Quantile};
use crate::report::FieldReport;

type Row = (
    Option<i64>,
    Option<f64>,
    Option<String>,
    Option<i32>,
    Option<bool>,
);

fn row() -> impl Strategy<Value = Row> {
    (
        proptest::option::weighted(0.9, -50i64..1000),
        proptest::option::weighted(
            0.9,
            prop_oneof![Just(0.0), Just(f64::NAN), -1e3f64..1e3, Just(-0.0)],
        ),
        proptest::option::weighted(
            0.9,
            prop_oneof![
                Just(String::new()),
                Just(" 42 ".to_string()),
                "[A-Z]{2}-[0-9]{2,3}",
                "[a-z]{1,6}",
                "[0-9]{1,4}",
                Just("2024-01-31".to_string()),
            ],
        ),
        proptest::option::weighted(0.9, 19_000i32..21_000),
        proptest::option::weighted(0.9, any::<bool>()),
    )
}

fn batch(rows: &[Row]) -> RecordBatch {
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "n",
            Arc::new(rows.iter().map(|r| r.0).collect::<Int64Array>()),
        ),
        (
            "x",
            Arc::new(rows.iter().map(|r| r.1).collect::<Float64Array>()),
        ),
        (
            "s",
            Arc::new(rows.iter().map(|r| r.2.clone()).collect::<StringArray>()),
        ),
        (
            "d",
            Arc::new(rows.iter().map(|r| r.3).collect::<Date32Array>()),
        ),
        (
            "b",
            Arc::new(rows.iter().map(|r| r.4).collect::<BooleanArray>()),
        ),
    ];
    RecordBatch::try_from_iter(columns).unwrap()
}

/// A profile of `rows`, fed in batches of `batch_rows`.
fn profile(rows: &[Row], batch_rows: usize) -> ContainerProfile {
    let schema = batch(&[]).schema();
    // Mid-range dates fall after this moment, so `future` counts are exercised.
    let mut profile = ContainerProfile::new("t", &schema, 1_700_000_000_000_000);
    for chunk in rows.chunks(batch_rows.max(1)) {
        profile.update(&batch(chunk));
    }
    profile
}

/// The report's statistics that must merge exactly.
fn exact(profile: &ContainerProfile) -> Vec<serde_json::Value> {
    profile
        .fields
        .iter()
        .map(|f| {
            let mut json = serde_json::to_value(FieldReport::of(f)).unwrap();
            for key in ["mean", "stddev", "variance", "sum", "quantiles"] {
                json.as_object_mut().unwrap().remove(key);
            }
            json
        })
        .collect()
}

fn assert_close_moments(a: &ContainerProfile, b: &ContainerProfile) {
    for (x, y) in a.fields.iter().zip(&b.fields) {
        if let (Some(x), Some(y)) = (x.numbers, y.numbers) {
            let (x, y) = (x.moments, y.moments);
            assert_eq!(x.n, y.n);
            let scale = 1.0 + x.mean.abs();
            assert!((x.mean - y.mean).abs() <= 1e-9 * scale, "{x:?} {y:?}");
            assert!(
                (x.m2 - y.m2).abs() <= 1e-9 * (1.0 + x.m2.abs()),
                "{x:?} {y:?}"
            );
        }
    }
}

/// Each reported quantile of the integer field `n` has a rank within the stated error.
fn assert_quantiles_within_error(profile: &ContainerProfile, rows: &[Row]) {
    let mut sorted: Vec<i64> = rows.iter().filter_map(|r| r.0).collect();
    sorted.sort_unstable();
    let quantiles = profile.fields[0].quantiles.as_ref().unwrap();
    let epsilon = quantiles.rank_error();
    let n = sorted.len() as f64;
    for ((name, q), (_, rank)) in quantiles.percentiles().into_iter().zip(super::PERCENTILES) {
        let Quantile::Int(q) = q else { panic!("{q:?}") };
        if epsilon == 0.0 {
            // Exact: interpolated between the closest ranks, rounded half up.
            let position = rank * (n - 1.0);
            let (lo, hi) = (
                sorted[position.floor() as usize],
                sorted[position.ceil() as usize],
            );
            let want = lo + ((hi - lo) as f64 * position.fract()).round() as i64;
            assert_eq!(q, want, "{name} of {sorted:?}");
            continue;
        }
        let below = sorted.partition_point(|v| *v < q) as f64 / n;
        let at_or_below = sorted.partition_point(|v| *v <= q) as f64 / n;
        assert!(
            below <= rank + epsilon && at_or_below >= rank - epsilon,
            "{name}={q}: ranks [{below}, {at_or_below}] for {rank} ± {epsilon}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn merged_splits_equal_the_whole(
        rows in proptest::collection::vec(row(), 1..600),
        cuts in proptest::collection::vec(0.0f64..1.0, 1..4),
        batch_rows in 1usize..200,
        reversed in any::<bool>(),
    ) {
        let whole = profile(&rows, 10_000);
        let mut points: Vec<usize> = cuts.iter().map(|c| (c * rows.len() as f64) as usize).collect();
        points.push(0);
        points.push(rows.len());
        points.sort_unstable();
        let mut parts: Vec<ContainerProfile> =
            points.windows(2).map(|w| profile(&rows[w[0]..w[1]], batch_rows)).collect();
        if reversed {
            parts.reverse();
        }
        let mut merged = parts.remove(0);
        for part in parts {
            merged.merge(part);
        }
        prop_assert_eq!(merged.rows, whole.rows);
        prop_assert_eq!(exact(&merged), exact(&whole));
        assert_close_moments(&merged, &whole);
        if rows.iter().any(|r| r.0.is_some()) {
            assert_quantiles_within_error(&merged, &rows);
        }
    }

    #[test]
    fn merging_is_associative_and_survives_serialisation(
        rows in proptest::collection::vec(row(), 3..300),
    ) {
        let third = rows.len() / 3;
        let (a, b, c) = (&rows[..third], &rows[third..2 * third], &rows[2 * third..]);
        let mut left = profile(a, 50);
        left.merge(profile(b, 50));
        left.merge(profile(c, 50));
        let mut bc = profile(b, 50);
        bc.merge(profile(c, 50));
        let mut right = profile(a, 50);
        right.merge(bc);
        prop_assert_eq!(exact(&left), exact(&right));
        assert_close_moments(&left, &right);
        let text = serde_json::to_string(&left).unwrap();
        let back: ContainerProfile = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(exact(&back), exact(&left));
        let mut more = back;
        more.merge(profile(a, 50));
        let mut expected = left.clone();
        expected.merge(profile(a, 50));
        prop_assert_eq!(exact(&more), exact(&expected));
    }
}
