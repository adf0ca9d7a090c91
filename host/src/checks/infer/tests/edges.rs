//! Inferred checks on the repository's example data, on samples, past exact distinct
//! counts, on empty fields; and the names that look like keys.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, StringArray};
use arrow::csv::ReaderBuilder;
use arrow::csv::reader::Format;
use arrow::record_batch::RecordBatch;

use super::{assert_well_formed, failures, name, orders, profile, split};
use crate::checks::infer::infer;
use crate::checks::infer::propose::{grouped, key_like};
use crate::checks::testing::batch;

/// An example file of the repository, read as arrow's CSV reader infers it, in batches of
/// 300 rows.
fn example(file: &str) -> Vec<RecordBatch> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/data")
        .join(file);
    let open = || File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (schema, _) = Format::default()
        .with_header(true)
        .infer_schema(open(), None)
        .expect("a CSV schema");
    ReaderBuilder::new(Arc::new(schema))
        .with_header(true)
        .with_batch_size(300)
        .build(open())
        .expect("a CSV reader")
        .collect::<Result<_, _>>()
        .expect("CSV batches")
}

#[test]
fn the_example_data_passes_the_checks_inferred_from_it() {
    for (file, wanted) in [
        (
            "orders.csv",
            &[
                "unique order_id",
                "positive order_id",
                "positive customer_id",
                "expected_values status",
                "between quantity",
                "between unit_price",
                "between discount",
                "after_date_time ordered_at",
                // Orders run to September 2024, after the tests' moment of profiling.
                "before_date_time ordered_at",
            ][..],
        ),
        (
            "customers.csv",
            &[
                "unique customer_id",
                "not_null name",
                "expected_values city",
                "after_date_time signup_date",
                "not_null vip",
            ],
        ),
    ] {
        let batches = example(file);
        let inferred = infer(&profile(file, &batches));
        assert_well_formed(&inferred, file);
        let names: Vec<String> = inferred.iter().map(|i| name(&i.check)).collect();
        for wanted in wanted {
            assert!(
                names.iter().any(|n| n == wanted),
                "{file}: {wanted} in {names:?}"
            );
        }
        assert_eq!(failures(&inferred, &batches), BTreeMap::new(), "{file}");
    }
}

#[test]
fn on_a_sample_bounds_widen_to_signs_and_categories_shapes_and_keys_are_left_out() {
    let data = split(&orders(200, false), 120);
    let mut sampled = profile("orders", &data);
    sampled.sample_fraction = Some(0.1);
    let inferred = infer(&sampled);
    assert_well_formed(&inferred, "orders");
    let names: Vec<String> = inferred.iter().map(|i| name(&i.check)).collect();
    assert_eq!(
        names,
        [
            "not_null order_id",
            "not_negative order_id",
            "not_null status",
            "not_null code",
            "not_null sku_id",
            "not_null qty",
            "is_type qty",
            "not_null ordered_on",
            "not_future ordered_on",
            "not_null paid_at",
            "not_future paid_at",
            "not_null due",
            "not_null gift",
            "not_null ratio",
            "not_null big",
        ]
    );
    assert!(
        inferred
            .iter()
            .all(|i| i.evidence.ends_with(", in a sample of 10% of the rows")),
        "{inferred:?}"
    );
    assert_eq!(failures(&inferred, &data), BTreeMap::new());
    // A full "sample" is the whole container.
    sampled.sample_fraction = Some(1.0);
    assert_eq!(infer(&sampled), infer(&profile("orders", &data)));
}

/// Past 100 000 distinct values the profile counts them by HyperLogLog. A key whose estimate
/// is within the estimate's error of its count is still proposed as `unique`, saying so; one
/// with many repeats is not.
#[test]
fn unique_from_an_approximate_distinct_count_says_it_is_an_estimate() {
    let ids = Int64Array::from_iter_values(0..150_000);
    let data = vec![batch(vec![("id", Arc::new(ids) as ArrayRef)])];
    let inferred = infer(&profile("big", &data));
    let names: Vec<String> = inferred.iter().map(|i| name(&i.check)).collect();
    assert_eq!(names, ["not_null id", "not_negative id", "unique id"]);
    let evidence = &inferred[2].evidence;
    assert!(
        evidence.contains("HyperLogLog estimate")
            && evidence.contains("checks every value exactly"),
        "{evidence}"
    );
    assert_eq!(failures(&inferred, &data), BTreeMap::new());

    let repeated = Int64Array::from_iter_values((0..150_000).map(|i| i % 120_000));
    let data = vec![batch(vec![("id", Arc::new(repeated) as ArrayRef)])];
    let names: Vec<String> = infer(&profile("repeats", &data))
        .iter()
        .map(|i| name(&i.check))
        .collect();
    assert_eq!(names, ["not_null id", "not_negative id"]);
}

/// An estimate above the number of values (339 957 for 336 776 in a trial) is capped at it.
#[test]
fn an_estimated_distinct_count_never_exceeds_the_values() {
    let ids = Int64Array::from_iter_values(0..150_000);
    let data = vec![batch(vec![("id", Arc::new(ids) as ArrayRef)])];
    let mut field = profile("big", &data).fields.remove(0);
    let (estimate, approximate) = field.distinct.as_ref().unwrap().count();
    assert!(approximate);
    field.count = estimate - 500;
    assert_eq!(field.distinct_count(), Some((estimate - 500, true)));
    field.count = estimate + 500;
    assert_eq!(field.distinct_count(), Some((estimate, true)));
}

#[test]
fn nothing_is_inferred_from_empty_or_all_null_fields() {
    let data = vec![batch(vec![
        (
            "a",
            Arc::new(Int64Array::from(vec![None, None])) as ArrayRef,
        ),
        ("b", Arc::new(StringArray::from(vec![None::<&str>, None]))),
    ])];
    assert_eq!(infer(&profile("nulls", &data)), []);
    let empty = vec![data[0].slice(0, 0)];
    assert_eq!(infer(&profile("empty", &empty)), []);
}

#[test]
fn key_like_names_and_grouped_counts() {
    for key in [
        "id",
        "ID",
        "order_id",
        "Order_ID",
        "sku-key",
        "uuid",
        "customerId",
        "userID",
    ] {
        assert!(key_like(key), "{key}");
    }
    for other in ["idea", "paid", "valid", "kid", "ID_card", "I", "keyboard"] {
        assert!(!key_like(other), "{other}");
    }
    assert_eq!(grouped(0), "0");
    assert_eq!(grouped(999), "999");
    assert_eq!(grouped(1_000), "1 000");
    assert_eq!(grouped(12_345_678), "12 345 678");
}
