//! Tests of `time_distribution_size`: each interval's bucket boundaries, empty buckets
//! between others, nulls, and the limit on buckets.

use arrow::array::{Date32Array, TimestampMillisecondArray, TimestampSecondArray};
use arrow::datatypes::{DataType, Schema};
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta};

use super::*;
use crate::checks::testing::{check, one, outcome};
use crate::checks::{AggregateState, Rule};

fn secs(text: &str) -> i64 {
    DateTime::parse_from_rfc3339(text)
        .expect("a moment")
        .timestamp()
}

/// A batch of `v` timestamps in seconds, in UTC.
fn stamps(texts: &[&str]) -> RecordBatch {
    one(TimestampSecondArray::from(
        texts.iter().map(|t| secs(t)).collect::<Vec<_>>(),
    ))
}

fn rule(interval: Interval, min: Option<u64>, max: Option<u64>) -> Check {
    check(Rule::TimeDistributionSize { interval, min, max }, &["v"])
}

#[test]
fn hourly_buckets_across_partitions() {
    let c = rule(Interval::Hourly, Some(2), Some(2));
    let clean = || {
        vec![
            vec![stamps(&["2024-06-01T10:00:00Z", "2024-06-01T11:59:59Z"])],
            vec![stamps(&["2024-06-01T10:59:59Z", "2024-06-01T12:30:00Z"])],
            vec![stamps(&["2024-06-01T11:00:00Z", "2024-06-01T12:00:00Z"])],
        ]
    };
    let passed = outcome(&c, clean());
    assert!(passed.passed, "{}", passed.message);
    assert_eq!(
        passed.message,
        "3 hourly buckets from 2024-06-01T10:00Z to 2024-06-01T12:00Z, 2 to 2 rows each: \
         within the bounds (between 2 and 2 rows)"
    );
    let mut planted = clean();
    planted[1].push(stamps(&["2024-06-01T11:30:00Z"]));
    let failed = outcome(&c, planted);
    assert!(!failed.passed);
    assert_eq!(
        failed.message,
        "1 of 3 hourly buckets from 2024-06-01T10:00Z to 2024-06-01T12:00Z is outside the \
         bounds (between 2 and 2 rows): 2024-06-01T11:00Z (3 rows)"
    );
}

#[test]
fn an_empty_day_between_others_counts_as_zero_rows() {
    let c = rule(Interval::Daily, Some(1), None);
    let days = |texts: &[&str]| outcome(&c, vec![vec![stamps(texts)]]);
    let clean = days(&[
        "2024-06-01T23:59:59Z",
        "2024-06-02T00:00:00Z",
        "2024-06-03T12:00:00Z",
    ]);
    assert!(clean.passed, "{}", clean.message);
    let gap = days(&["2024-06-01T23:59:59Z", "2024-06-04T00:00:00Z"]);
    assert!(!gap.passed);
    assert_eq!(
        gap.message,
        "2 of 4 daily buckets from 2024-06-01 to 2024-06-04 are outside the bounds (at least \
         1 rows): 2024-06-02 (0 rows), 2024-06-03 (0 rows)"
    );
}

#[test]
fn weeks_start_on_monday_in_utc() {
    let c = rule(Interval::Weekly, None, Some(1));
    // Monday 2024-05-27 and Sunday 2024-06-02 share a week; Monday 2024-06-03 starts one.
    let clean = outcome(
        &c,
        vec![vec![stamps(&[
            "2024-06-02T23:59:59Z",
            "2024-06-03T00:00:00Z",
        ])]],
    );
    assert!(clean.passed, "{}", clean.message);
    let planted = outcome(
        &c,
        vec![vec![stamps(&[
            "2024-05-27T00:00:00Z",
            "2024-06-02T23:59:59Z",
            "2024-06-03T00:00:00Z",
        ])]],
    );
    assert!(!planted.passed);
    assert!(
        planted
            .message
            .ends_with("(at most 1 rows): week of 2024-05-27 (2 rows)"),
        "{}",
        planted.message
    );
    // 00:30 on Monday at +02:00 is still Sunday in UTC.
    let zoned = TimestampMillisecondArray::from(vec![
        secs("2024-06-02T12:00:00Z") * 1_000,
        secs("2024-06-03T00:30:00+02:00") * 1_000,
    ])
    .with_timezone("+02:00");
    let outcome = outcome(&c, vec![vec![one(zoned)]]);
    assert!(
        outcome.message.contains("week of 2024-05-27 (2 rows)"),
        "{}",
        outcome.message
    );
}

#[test]
fn months_are_calendar_months() {
    let c = rule(Interval::Monthly, Some(1), Some(1));
    let clean = [
        "2023-12-31T23:59:59Z",
        "2024-01-31T23:59:59Z",
        "2024-02-01T00:00:00Z",
        "2024-03-01T00:00:00Z",
    ];
    let passed = outcome(&c, vec![vec![stamps(&clean)]]);
    assert!(passed.passed, "{}", passed.message);
    assert!(
        passed
            .message
            .starts_with("4 monthly buckets from 2023-12 to 2024-03")
    );
    let mut planted = clean.to_vec();
    planted.push("2024-02-29T23:59:59Z");
    let failed = outcome(&c, vec![vec![stamps(&planted)]]);
    assert!(!failed.passed);
    assert!(
        failed.message.ends_with(": 2024-02 (2 rows)"),
        "{}",
        failed.message
    );
    // Dates: 2024-01-31, 2024-03-01 and a null, so February is empty.
    let dates = one(Date32Array::from(vec![Some(19_753), None, Some(19_783)]));
    let gap = outcome(&c, vec![vec![dates]]);
    assert!(
        gap.message.ends_with(": 2024-02 (0 rows)"),
        "{}",
        gap.message
    );
}

#[test]
fn nulls_are_not_counted() {
    let c = rule(Interval::Daily, None, Some(1));
    let values = TimestampSecondArray::from(vec![
        None,
        Some(secs("2024-06-01T00:00:00Z")),
        None,
        Some(secs("2024-06-02T00:00:00Z")),
    ]);
    assert!(outcome(&c, vec![vec![one(values)]]).passed);
    let only_nulls = TimestampSecondArray::from(vec![None, None]);
    let outcome = outcome(&c, vec![vec![one(only_nulls)]]);
    assert!(outcome.passed);
    assert_eq!(
        outcome.message,
        "`v` has no dates or timestamps: no buckets to count"
    );
}

#[test]
fn too_many_buckets_are_refused() {
    let c = rule(Interval::Hourly, Some(1), None);
    let schema = Schema::new(vec![Field::new(
        "v",
        DataType::Timestamp(arrow::datatypes::TimeUnit::Second, None),
        true,
    )]);
    let hours = |n: i64| one(TimestampSecondArray::from(vec![0, n * 3_600]));
    let mut state = AggregateState::new(&c, &schema).expect("a state");
    state
        .update(&hours(MAX_BUCKETS as i64 - 1))
        .expect("just within");
    let mut state = AggregateState::new(&c, &schema).expect("a state");
    let error = state
        .update(&hours(MAX_BUCKETS as i64))
        .expect_err("too wide");
    assert!(
        matches!(&error, CheckError::Parameter { parameter: "interval", reason, .. }
            if reason.contains("spans 100001 hours (from 1970-01-01T00:00Z to 1981-05-29T16:00Z)")
                && reason.contains("choose a coarser interval")),
        "{error}"
    );
    let apart = outcome(
        &c,
        vec![
            vec![one(TimestampSecondArray::from(vec![0]))],
            vec![one(TimestampSecondArray::from(vec![
                MAX_BUCKETS as i64 * 3_600,
            ]))],
        ],
    );
    assert!(!apart.passed);
    assert!(
        apart
            .message
            .starts_with("parameter `interval` is hourly, but `v` spans 100001 hours"),
        "{}",
        apart.message
    );
}

#[test]
fn bounds_that_judge_nothing_are_refused() {
    let schema = Schema::new(vec![Field::new("v", DataType::Date32, true)]);
    let error = |min, max| {
        AggregateState::new(&rule(Interval::Daily, min, max), &schema)
            .err()
            .expect("an error")
            .to_string()
    };
    assert!(error(None, None).contains("give `min`, `max` or both"));
    assert!(error(Some(2), Some(1)).contains("above `max`"));
    let text = Schema::new(vec![Field::new("v", DataType::Utf8, true)]);
    let refused = AggregateState::new(&rule(Interval::Daily, Some(1), None), &text).err();
    assert!(matches!(refused, Some(CheckError::UnsupportedType { .. })));
}

#[test]
fn civil_dates_match_chrono() {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
    for days in (-1_000_000..1_000_000)
        .step_by(997)
        .chain([-1, 0, 59, 11_016])
    {
        let expected = epoch + TimeDelta::days(days);
        let (y, m, d) = civil(days as i128);
        assert_eq!(
            (y, m, d),
            (expected.year() as i128, expected.month(), expected.day()),
            "day {days}"
        );
    }
    assert_eq!(
        label(Interval::Weekly, bucket(Interval::Weekly, 0)),
        "week of 1969-12-29"
    );
    assert_eq!(label(Interval::Hourly, -1), "1969-12-31T23:00Z");
}
