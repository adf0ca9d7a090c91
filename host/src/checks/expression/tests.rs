//! Tests of SQL expressions: which rows match, nulls, quoted and case-sensitive names,
//! functions, timestamps, errors and several batches.

use std::sync::Arc;

use arrow::array::{
    Date32Array, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
    TimestampMillisecondArray,
};

use super::*;
use crate::checks::Rule;
use crate::checks::testing::{NOW_MICROS, batch, check};

/// A check to compile expressions for.
fn owner() -> Check {
    check(
        Rule::SatisfiesExpression {
            expression: String::new(),
        },
        &[],
    )
}

fn compile(sql: &str, data: &RecordBatch) -> Result<SqlExpression, CheckError> {
    let now = DateTime::from_timestamp_micros(NOW_MICROS).expect("a moment");
    SqlExpression::compile_at(&owner(), sql, &data.schema(), now)
}

/// The rows of `data` where `sql` is true.
fn matching(sql: &str, data: &RecordBatch) -> Vec<usize> {
    let matches = compile(sql, data)
        .and_then(|e| e.matches(data))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(matches.len(), data.num_rows());
    assert_eq!(matches.null_count(), 0);
    (0..matches.len()).filter(|i| matches.value(*i)).collect()
}

/// The error compiling, or else applying, `sql` to `data` as a filter.
fn failure(sql: &str, data: &RecordBatch) -> String {
    let error = compile(sql, data)
        .and_then(|e| e.matches(data))
        .expect_err(sql);
    assert!(matches!(error, CheckError::Expression { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&format!("`{sql}`")), "{message}");
    message
}

/// Orders with planted defects in rows 1 (discount above amount), 3 (status `x`) and
/// 4 (a long name); row 2 has a null discount.
fn orders() -> RecordBatch {
    batch(vec![
        (
            "amount",
            Arc::new(Int64Array::from(vec![10, 5, 7, 3, 8])) as _,
        ),
        (
            "discount",
            Arc::new(Float64Array::from(vec![
                Some(1.5),
                Some(6.0),
                None,
                Some(0.0),
                Some(8.0),
            ])) as _,
        ),
        (
            "status",
            Arc::new(StringArray::from(vec!["a", "b", "a", "x", "b"])) as _,
        ),
        (
            "name",
            Arc::new(StringArray::from(vec![
                Some("Ann"),
                Some("Bo"),
                None,
                Some("Cy"),
                Some("Dorothea"),
            ])) as _,
        ),
    ])
}

#[test]
fn conditions_match_exactly_the_rows_that_hold_and_nulls_do_not_match() {
    let data = orders();
    // Int64 against Float64, coerced; the null discount is neither true nor false.
    assert_eq!(matching("amount >= discount", &data), [0, 3, 4]);
    assert_eq!(matching("NOT (amount >= discount)", &data), [1]);
    assert_eq!(matching("status IN ('a','b')", &data), [0, 1, 2, 4]);
    assert_eq!(matching("length(name) < 5", &data), [0, 1, 3]);
    assert_eq!(
        matching("upper(status) = 'B' OR name LIKE 'A%'", &data),
        [0, 1, 4]
    );
    assert_eq!(matching("name IS NULL", &data), [2]);
    assert_eq!(matching("coalesce(discount, 0) < 1", &data), [2, 3]);
    let case = "CASE WHEN status = 'a' THEN amount > 8 ELSE discount < 1 END";
    assert_eq!(matching(case, &data), [0, 3]);
    assert_eq!(
        matching("abs(amount - 6) <= 1 AND amount % 2 = 1", &data),
        [1, 2]
    );
    assert_eq!(matching("substring(name, 1, 2) = 'Do'", &data), [4]);
    assert_eq!(matching("regexp_like(name, '^[A-C]')", &data), [0, 1, 3]);
    assert_eq!(matching("name || status = 'Bob'", &data), [1]);
    assert_eq!(matching("amount BETWEEN 4 AND 8", &data), [1, 2, 4]);
    assert_eq!(
        matching("CAST(discount AS BIGINT) = 6 OR round(discount) = 2", &data),
        [0, 1]
    );
    assert_eq!(
        matching("amount / NULLIF(amount - 3, 0) >= 1", &data),
        [0, 1, 2, 4]
    );
}

#[test]
fn clean_data_matches_every_row() {
    let clean = batch(vec![
        ("amount", Arc::new(Int64Array::from(vec![10, 5])) as _),
        (
            "discount",
            Arc::new(Float64Array::from(vec![1.0, 5.0])) as _,
        ),
        ("status", Arc::new(StringArray::from(vec!["a", "b"])) as _),
        ("name", Arc::new(StringArray::from(vec!["Ann", "Bo"])) as _),
    ]);
    let sql = "amount >= discount AND status IN ('a', 'b') AND length(name) < 5";
    assert_eq!(matching(sql, &clean), [0, 1]);
    assert_eq!(matching(sql, &orders()), [0]);
}

#[test]
fn names_are_case_sensitive_and_quoted_names_may_have_spaces() {
    let data = batch(vec![
        ("Amount", Arc::new(Int64Array::from(vec![1, 2, 3])) as _),
        ("amount", Arc::new(Int64Array::from(vec![3, 2, 1])) as _),
        (
            "Customer Name",
            Arc::new(StringArray::from(vec!["Ann", "Bo", "Ann"])) as _,
        ),
        ("select", Arc::new(Int64Array::from(vec![0, 0, 1])) as _),
    ]);
    assert_eq!(matching("Amount > amount", &data), [2]);
    assert_eq!(matching(r#""Amount" < "amount""#, &data), [0]);
    assert_eq!(matching(r#""Customer Name" = 'Ann'"#, &data), [0, 2]);
    assert_eq!(matching(r#""select" = 1"#, &data), [2]);
    let message = failure("AMOUNT > 1", &data);
    assert!(message.contains("does not plan"), "{message}");
    assert!(message.contains(r#"No field named "AMOUNT""#), "{message}");
    assert!(
        !message.contains("datafusion"),
        "no advice on DataFusion's settings: {message}"
    );
}

#[test]
fn timestamps_and_dates_compare_with_literals_and_now() {
    let day = 86_400_000_000;
    let data = batch(vec![
        (
            "Order Date",
            Arc::new(TimestampMicrosecondArray::from(vec![
                Some(NOW_MICROS - day),
                Some(NOW_MICROS + day),
                None,
                Some(0),
            ])) as _,
        ),
        (
            "shipped",
            Arc::new(
                TimestampMillisecondArray::from(vec![Some(0), Some(1), Some(2), Some(3)])
                    .with_timezone("+02:00"),
            ) as _,
        ),
        (
            "due",
            Arc::new(Date32Array::from(vec![19_000, 19_875, 0, 1])) as _,
        ),
    ]);
    // 2024-06-01T12:00:00Z is the moment the tests compile at.
    assert_eq!(matching(r#""Order Date" > '2024-05-31'"#, &data), [0, 1]);
    assert_eq!(
        matching(r#""Order Date" < TIMESTAMP '2024-06-01 12:00:00'"#, &data),
        [0, 3]
    );
    assert_eq!(matching(r#""Order Date" > now()"#, &data), [1]);
    assert_eq!(
        matching("shipped >= '1970-01-01T00:00:00.002Z'", &data),
        [2, 3]
    );
    assert_eq!(matching("due >= DATE '2024-06-01'", &data), [1]);
    assert_eq!(matching("due < current_date()", &data), [0, 2, 3]);
    assert_eq!(
        matching(r#"extract(year FROM "Order Date") = 1970"#, &data),
        [3]
    );
}

#[test]
fn values_are_computed_per_row_over_many_batches() {
    let first = orders();
    let expression = compile("amount * 2 + 1", &first).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(expression.data_type(), &DataType::Int64);
    let values = expression
        .evaluate(&first)
        .unwrap_or_else(|e| panic!("{e}"));
    let expected: ArrayRef = Arc::new(Int64Array::from(vec![21, 11, 15, 7, 17]));
    assert_eq!(&values, &expected);
    // Another batch of the same schema: other rows, another length.
    let second = orders().slice(3, 2);
    let values = expression
        .evaluate(&second)
        .unwrap_or_else(|e| panic!("{e}"));
    let expected: ArrayRef = Arc::new(Int64Array::from(vec![7, 17]));
    assert_eq!(&values, &expected);
    let filter = compile("amount >= discount", &first).unwrap_or_else(|e| panic!("{e}"));
    let empty = orders().slice(0, 0);
    assert_eq!(filter.matches(&empty).map(|m| m.len()), Ok(0));
    // A constant condition fills the batch.
    let always = compile("1 = 1", &first).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(always.matches(&second).map(|m| m.true_count()), Ok(2));
    // A batch of another schema is refused, not read by position.
    let other = batch(vec![(
        "amount",
        Arc::new(StringArray::from(vec!["1"])) as _,
    )]);
    let error = expression.evaluate(&other).unwrap_err().to_string();
    assert!(error.contains("compiled for a schema other"), "{error}");
}

#[test]
fn bad_sql_names_the_problem() {
    let data = orders();
    let syntax = failure("amount >", &data);
    assert!(syntax.contains("does not parse"), "{syntax}");
    let trailing = failure("amount > 1 1", &data);
    assert!(trailing.contains("does not parse"), "{trailing}");
    let unknown = failure("nope > 1", &data);
    assert!(!unknown.contains('\n'), "one line: {unknown}");
    assert!(
        unknown.contains("does not plan") && unknown.contains("nope"),
        "{unknown}"
    );
    let function = failure("no_such_fn(amount) > 1", &data);
    assert!(function.contains("no_such_fn"), "{function}");
    let not_boolean = failure("amount + 1", &data);
    assert!(
        not_boolean.contains("gives Int64 values, not true or false"),
        "{not_boolean}"
    );
    let aggregate = failure("sum(amount) > 1", &data);
    assert!(
        aggregate.contains("aggregate and window functions"),
        "{aggregate}"
    );
    let subquery = failure("amount IN (SELECT 1 FROM other)", &data);
    assert!(subquery.contains("other"), "{subquery}");
    let types = failure("status > 1 AND name", &data);
    assert!(types.contains("does not plan"), "{types}");
    let zero = failure("amount / (amount - amount) > 1", &data);
    assert!(zero.contains("failed on the data"), "{zero}");
}

#[test]
fn a_compiled_expression_can_move_to_a_scan_worker() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<SqlExpression>();
    let expression = compile("amount >= discount", &orders()).unwrap_or_else(|e| panic!("{e}"));
    let worker = std::thread::spawn(move || expression.matches(&orders()).map(|m| m.true_count()));
    assert_eq!(worker.join().ok(), Some(Ok(3)));
}
