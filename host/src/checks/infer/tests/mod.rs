//! Inferred checks find nothing wrong with the data they were inferred from, and catch
//! exactly the rows of defects planted in a copy of it.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray,
    TimestampMicrosecondArray, TimestampSecondArray, UInt64Array,
};
use arrow::record_batch::RecordBatch;

use super::{InferredCheck, infer};
use crate::checks::testing::{NOW_MICROS, batch};
use crate::checks::{AggregateState, Check, Evaluation, Number, Rule, Scalar};
use crate::profile::ContainerProfile;

mod edges;
mod random;

/// The profile of `batches` as the container `name`, made at [`NOW_MICROS`]: each batch
/// profiled as a partition of its own, then merged.
fn profile(name: &str, batches: &[RecordBatch]) -> ContainerProfile {
    let schema = batches[0].schema();
    let mut whole = ContainerProfile::new(name, &schema, NOW_MICROS);
    for batch in batches {
        let mut part = ContainerProfile::new(name, &schema, NOW_MICROS);
        part.update(batch);
        whole.merge(part);
    }
    whole
}

/// A check's rule and fields: `between amount`.
fn name(check: &Check) -> String {
    format!("{} {}", check.rule.name(), check.fields.join(","))
}

/// The rows (numbered across `batches`) each check fails, for the checks that fail: row rules
/// by [`Check::failing_rows`], whole-container rules by an [`AggregateState`].
fn failures(inferred: &[InferredCheck], batches: &[RecordBatch]) -> BTreeMap<String, Vec<u64>> {
    let mut found = BTreeMap::new();
    for InferredCheck { check, .. } in inferred {
        let rows = match check.rule.evaluation() {
            Evaluation::Row => {
                let (mut rows, mut first) = (Vec::new(), 0);
                for batch in batches {
                    let failing = check
                        .failing_rows(batch, NOW_MICROS)
                        .unwrap_or_else(|e| panic!("{e}"));
                    assert_eq!(failing.null_count(), 0);
                    let failed = (0..failing.len()).filter(|i| failing.value(*i));
                    rows.extend(failed.map(|i| first + i as u64));
                    first += batch.num_rows() as u64;
                }
                rows
            }
            Evaluation::Aggregate => {
                let mut state = AggregateState::new(check, &batches[0].schema())
                    .unwrap_or_else(|e| panic!("{e}"));
                for batch in batches {
                    state.update(batch).unwrap_or_else(|e| panic!("{e}"));
                }
                let outcome = state.finish();
                assert_eq!(
                    outcome.passed,
                    outcome.failing_rows.is_empty(),
                    "{outcome:?}"
                );
                outcome.failing_rows
            }
            other => panic!("{} was inferred but is evaluated {other:?}", name(check)),
        };
        if !rows.is_empty() {
            found.insert(name(check), rows);
        }
    }
    found
}

/// Every inferred check is on the container, tagged, described, and reads back from JSON.
fn assert_well_formed(inferred: &[InferredCheck], container: &str) {
    for proposal in inferred {
        let check = &proposal.check;
        assert_eq!(check.container, container);
        assert_eq!(check.tags, ["inferred"]);
        assert!(check.description.starts_with("Inferred: "), "{check:?}");
        assert!(!proposal.evidence.is_empty());
        assert!(matches!(
            check.rule.evaluation(),
            Evaluation::Row | Evaluation::Aggregate
        ));
        let json = serde_json::to_string(proposal).expect("serialises");
        let back: InferredCheck = serde_json::from_str(&json).expect("reads back");
        assert_eq!(&back, proposal, "{json}");
    }
}

/// Rows of an orders-like container: `defects` plants one defect in each of some rows.
fn orders(n: usize, defects: bool) -> RecordBatch {
    let day = |d: i32| Some(19_700 + d); // 2023-12-09 onwards; NOW is day 19 875
    let hour = |h: i64| Some(1_704_067_200_000_000 + h * 3_600_000_000); // from 2024-01-01
    let mut order_id: Vec<Option<i64>> = (0..n as i64).map(|i| Some(i + 1)).collect();
    let mut amount: Vec<Option<f64>> = (0..n)
        .map(|i| (i % 17 != 4).then_some(i as f64 * 0.37 - 20.5))
        .collect();
    let mut status: Vec<Option<String>> = (0..n)
        .map(|i| Some(["new", "paid", "shipped", "returned"][i % 4].into()))
        .collect();
    let mut code: Vec<Option<String>> = (0..n)
        .map(|i| Some(format!("{}-{:04}", ["AB", "C", "XYZ"][i % 3], i)))
        .collect();
    let mut sku_id: Vec<Option<String>> = (0..n).map(|i| Some(format!("S{i:05}"))).collect();
    let mut qty: Vec<Option<String>> = (0..n).map(|i| Some((i % 25 + 1).to_string())).collect();
    let mut note: Vec<Option<String>> = (0..n)
        .map(|i| match i % 5 {
            0 => Some(format!("note {i}")),
            1 if i == 1 => Some(String::new()),
            _ => None,
        })
        .collect();
    let mut score: Vec<Option<i64>> = (0..n as i64)
        .map(|i| (i % 13 != 6).then_some(i % 7 - 3))
        .collect();
    let mut ordered_on: Vec<Option<i32>> = (0..n as i32).map(|i| day(i % 90)).collect();
    let mut paid_at: Vec<Option<i64>> = (0..n as i64).map(|i| hour(i * 5 + 1)).collect();
    let mut due: Vec<Option<i64>> = (0..n as i64)
        .map(|i| Some(1_720_000_000 + i * 86_400)) // 2024-07-03 onwards: after NOW
        .collect();
    let mut gift: Vec<Option<bool>> = vec![Some(true); n];
    let ratio: Vec<Option<f64>> = (0..n)
        .map(|i| Some(if i == 8 { f64::NAN } else { i as f64 / 10.0 }))
        .collect();
    let big: Vec<Option<u64>> = (0..n as u64).map(|i| Some(u64::MAX - i * 7)).collect();
    if defects {
        order_id[3] = Some(3); // row 2's id
        order_id[27] = Some(-1);
        amount[5] = Some(1000.0);
        status[7] = Some("refunded".into());
        status[11] = None;
        code[9] = Some("XYZ-00009".into()); // too long, and five digits
        sku_id[13] = sku_id[12].clone();
        qty[15] = Some("many".into()); // not an integer, and too long
        ordered_on[17] = Some(-25_567); // 1900-01-01
        paid_at[19] = hour(24 * 365 * 6); // 2030: in the future
        gift[21] = Some(false);
        score[23] = Some(4);
        due[29] = Some(4_102_444_800); // 2100-01-01
        note[31] = Some("x".repeat(40));
    }
    let column = |array: ArrayRef| array;
    batch(vec![
        ("order_id", column(Arc::new(Int64Array::from(order_id)))),
        ("amount", Arc::new(Float64Array::from(amount))),
        ("status", Arc::new(StringArray::from(status))),
        ("code", Arc::new(StringArray::from(code))),
        ("sku_id", Arc::new(StringArray::from(sku_id))),
        ("qty", Arc::new(StringArray::from(qty))),
        ("note", Arc::new(StringArray::from(note))),
        ("score", Arc::new(Int64Array::from(score))),
        ("ordered_on", Arc::new(Date32Array::from(ordered_on))),
        (
            "paid_at",
            Arc::new(TimestampMicrosecondArray::from(paid_at).with_timezone("UTC")),
        ),
        ("due", Arc::new(TimestampSecondArray::from(due))),
        ("gift", Arc::new(BooleanArray::from(gift))),
        ("ratio", Arc::new(Float64Array::from(ratio))),
        ("big", Arc::new(UInt64Array::from(big))),
    ])
}

/// A batch in two parts, as two partitions would send it.
fn split(batch: &RecordBatch, at: usize) -> Vec<RecordBatch> {
    vec![batch.slice(0, at), batch.slice(at, batch.num_rows() - at)]
}

#[test]
fn inferred_checks_pass_on_their_data_and_say_what_they_found() {
    let clean = split(&orders(200, false), 120);
    let inferred = infer(&profile("orders", &clean));
    assert_well_formed(&inferred, "orders");
    let names: Vec<String> = inferred.iter().map(|i| name(&i.check)).collect();
    assert_eq!(
        names,
        [
            "not_null order_id",
            "positive order_id",
            "unique order_id",
            "between amount",
            "not_null status",
            "expected_values status",
            "not_null code",
            "min_length code",
            "max_length code",
            "matches_pattern code",
            "not_null sku_id",
            "min_length sku_id",
            "max_length sku_id",
            "matches_pattern sku_id",
            "unique sku_id",
            "not_null qty",
            "is_type qty",
            "min_length qty",
            "max_length qty",
            "max_length note",
            "expected_values score",
            "not_null ordered_on",
            "after_date_time ordered_on",
            "not_future ordered_on",
            "not_null paid_at",
            "after_date_time paid_at",
            "not_future paid_at",
            "not_null due",
            "after_date_time due",
            "before_date_time due",
            "not_null gift",
            "expected_values gift",
            "not_null ratio",
            "not_null big",
            "between big",
        ]
    );
    assert_eq!(failures(&inferred, &clean), BTreeMap::new());
    let find = |wanted: &str| {
        inferred
            .iter()
            .find(|i| name(&i.check) == wanted)
            .unwrap_or_else(|| panic!("{wanted} was inferred"))
    };
    assert_eq!(find("not_null order_id").evidence, "0 nulls in 200 rows");
    let amount = find("between amount");
    let max = 199.0 * 0.37 - 20.5;
    assert_eq!(
        amount.check.rule,
        Rule::Between {
            min: Number::Float(-20.5),
            max: Number::Float(max),
            inclusive_min: true,
            inclusive_max: true,
        }
    );
    assert_eq!(
        amount.evidence,
        format!("min -20.5, max {max} over 188 values")
    );
    let status = find("expected_values status");
    assert_eq!(
        status.evidence,
        r#"4 distinct values: "new", "paid", "returned", "shipped" cover all 200 values"#
    );
    assert_eq!(
        find("expected_values score").check.rule,
        Rule::ExpectedValues {
            values: (-3..=3).map(|v| Scalar::Number(Number::Int(v))).collect()
        }
    );
    assert_eq!(
        find("matches_pattern code").evidence,
        "all 200 values have the shape A-9999"
    );
    assert_eq!(
        find("unique sku_id").evidence,
        "200 distinct values in 200 non-null values, counted exactly"
    );
    assert_eq!(
        find("after_date_time ordered_on").check.rule,
        Rule::AfterDateTime {
            datetime: "2023-12-08T00:00:00Z".into()
        }
    );
    assert_eq!(
        find("before_date_time due").check.rule,
        Rule::BeforeDateTime {
            datetime: "2025-01-19T00:00:00Z".into()
        }
    );
    let big = find("between big").check.rule.clone();
    assert!(
        matches!(
            big,
            Rule::Between {
                max: Number::UInt(u64::MAX),
                ..
            }
        ),
        "{big:?}"
    );
}

#[test]
fn planted_defects_are_caught_by_the_right_checks_in_exactly_their_rows() {
    let inferred = infer(&profile("orders", &split(&orders(200, false), 120)));
    let dirty = split(&orders(200, true), 100);
    let expected: BTreeMap<String, Vec<u64>> = [
        ("unique order_id", vec![2, 3]),
        ("positive order_id", vec![27]),
        ("between amount", vec![5]),
        ("expected_values status", vec![7]),
        ("not_null status", vec![11]),
        ("max_length code", vec![9]),
        ("matches_pattern code", vec![9]),
        ("unique sku_id", vec![12, 13]),
        ("is_type qty", vec![15]),
        ("max_length qty", vec![15]),
        ("after_date_time ordered_on", vec![17]),
        ("not_future paid_at", vec![19]),
        ("expected_values gift", vec![21]),
        ("expected_values score", vec![23]),
        ("before_date_time due", vec![29]),
        ("max_length note", vec![31]),
    ]
    .into_iter()
    .map(|(name, rows)| (name.to_string(), rows))
    .collect();
    assert_eq!(failures(&inferred, &dirty), expected);
}
