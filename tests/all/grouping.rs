//! A folder of files becomes containers as a user expects: files differing only by a date, a
//! number or Hive partition values are one container with one unified schema; a true schema
//! conflict is reported with both files; glob patterns in the settings override the grouping.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use qualityd::profile::Value;

use crate::support::{container_error, field, profile_path};

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn write_events(dir: &Path, name: &str, first_id: i64, rows: i64) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("kind", DataType::Utf8, false),
    ]));
    let ids: Vec<i64> = (first_id..first_id + rows).collect();
    let kinds: Vec<&str> = ids
        .iter()
        .map(|i| if i % 2 == 0 { "click" } else { "view" })
        .collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(StringArray::from(kinds)),
        ],
    )
    .unwrap();
    let mut writer = ArrowWriter::try_new(File::create(path).unwrap(), schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[test]
fn a_mixed_folder_becomes_the_expected_containers_with_unified_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "orders_2024-01.csv", "id,amount\n1,10\n2,20\n");
    // A later month: a fractional amount and a new column.
    write(
        root,
        "orders_2024-02.csv",
        "id,amount,coupon\n3,30.5,SPRING\n4,40,\n5,50,SPRING\n",
    );
    write(root, "customers.csv", "id,name\n1,Ann\n");
    write(root, "notes.ndjson", "{\"text\": \"hello\"}\n");
    write_events(root, "events/year=2024/month=01/part-0.parquet", 0, 100);
    write_events(root, "events/year=2024/month=02/part-0.parquet", 100, 50);
    write_events(root, "events/year=2024/month=02/part-1.parquet", 150, 25);

    let outcomes = profile_path(root, &[]);
    let names: Vec<&str> = outcomes.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "customers.csv",
            "events/year=*/month=*/part-*.parquet",
            "notes.ndjson",
            "orders_*.csv"
        ]
    );

    let orders = outcomes[3].result.as_ref().unwrap();
    assert_eq!(orders.rows, 5);
    let amount = field(orders, "amount");
    assert_eq!(
        amount.data_type,
        DataType::Float64,
        "int64 and double widen to double"
    );
    assert_eq!(amount.max, Some(Value::Float(50.0)));
    let coupon = field(orders, "coupon");
    assert_eq!(
        (coupon.count, coupon.nulls),
        (2, 3),
        "missing in January, empty once in February"
    );

    let events = outcomes[1].result.as_ref().unwrap();
    assert_eq!(events.rows, 175);
    assert_eq!(field(events, "id").max, Some(Value::Int(174)));
    let year = field(events, "year");
    assert_eq!(year.data_type, DataType::Int64);
    assert_eq!(year.distinct.as_ref().unwrap().count(), (1, false));
    let month = field(events, "month");
    assert_eq!(
        (month.min.clone(), month.max.clone()),
        (Some(Value::Int(1)), Some(Value::Int(2)))
    );
    assert_eq!(month.count, 175);
}

#[test]
fn a_schema_conflict_is_reported_with_both_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sales_1.csv", "region,total\nnorth,10\n");
    write(
        dir.path(),
        "sales_2.csv",
        "region,total\nsouth,2024-01-05\n",
    );
    write(dir.path(), "other.csv", "a\n1\n");
    let outcomes = profile_path(dir.path(), &[]);
    let error = container_error(&outcomes, "sales_*.csv");
    assert!(error.contains("field `total`"), "{error}");
    assert!(
        error.contains("sales_1.csv") && error.contains("sales_2.csv"),
        "{error}"
    );
    let other = outcomes.iter().find(|o| o.name == "other.csv").unwrap();
    assert_eq!(other.result.as_ref().unwrap().rows, 1);
}

#[test]
fn glob_patterns_in_the_settings_override_the_grouping() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "jan.csv", "n\n1\n2\n");
    write(dir.path(), "feb.csv", "n\n3\n");
    write(dir.path(), "archive/old.csv", "n\n100\n");
    let outcomes = profile_path(dir.path(), &[("patterns", "*.csv")]);
    let names: Vec<&str> = outcomes.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        ["*.csv", "archive/old.csv"],
        "`*` stays within a folder"
    );
    let months = outcomes[0].result.as_ref().unwrap();
    assert_eq!(months.rows, 3);
    assert_eq!(field(months, "n").max, Some(Value::Int(3)));
}
