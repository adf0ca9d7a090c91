//! Rules about moments: `after_date_time`, `before_date_time` and `not_future` on dates and
//! timestamps (any unit, with or without a zone: instants compared in nanoseconds, in i128 so
//! no unit overflows), and `between_times` on times of day.

use arrow::array::Array;
use chrono::{DateTime, NaiveTime, Timelike};

use super::Target;
use crate::checks::CheckError;
use crate::checks::rule::Rule;
use crate::checks::values::{Instants, times_of_day};

/// The failing rows of a temporal rule.
pub(super) fn failures(rule: &Rule, target: &Target) -> Result<Vec<bool>, CheckError> {
    if let Rule::BetweenTimes { min, max } = rule {
        return between_times(target, min, max);
    }
    let instants = Instants::of(target.array.as_ref())
        .ok_or_else(|| target.unsupported("dates or timestamps"))?;
    let passes: Box<dyn Fn(i128) -> bool> = match rule {
        Rule::AfterDateTime { datetime } => {
            let moment = moment(target, datetime)?;
            Box::new(move |v| v > moment)
        }
        Rule::BeforeDateTime { datetime } => {
            let moment = moment(target, datetime)?;
            Box::new(move |v| v < moment)
        }
        Rule::NotFuture => {
            let now = target.now_micros as i128 * 1_000;
            Box::new(move |v| v <= now)
        }
        _ => unreachable!("not a temporal rule"),
    };
    Ok((0..target.array.len())
        .map(|i| instants.get(i).is_some_and(|v| !passes(v)))
        .collect())
}

/// An RFC 3339 moment in nanoseconds since the epoch.
fn moment(target: &Target, text: &str) -> Result<i128, CheckError> {
    let moment = DateTime::parse_from_rfc3339(text).map_err(|e| {
        target.parameter(
            "datetime",
            format!("`{text}` is not an RFC 3339 date and time ({e}); write it like 2024-01-31T00:00:00Z"),
        )
    })?;
    Ok(moment.timestamp() as i128 * 1_000_000_000 + moment.timestamp_subsec_nanos() as i128)
}

/// `HH:MM:SS[.fff]` as nanoseconds since midnight.
fn time_of_day(target: &Target, parameter: &'static str, text: &str) -> Result<i128, CheckError> {
    let time = NaiveTime::parse_from_str(text, "%H:%M:%S%.f").map_err(|e| {
        target.parameter(
            parameter,
            format!("`{text}` is not a time of day ({e}); write it like 08:30:00"),
        )
    })?;
    Ok(time.num_seconds_from_midnight() as i128 * 1_000_000_000 + time.nanosecond() as i128)
}

/// Times of day outside `min..=max` (or, when `min` is after `max`, inside the gap between
/// them: the window wraps midnight).
fn between_times(target: &Target, min: &str, max: &str) -> Result<Vec<bool>, CheckError> {
    let (min, max) = (
        time_of_day(target, "min", min)?,
        time_of_day(target, "max", max)?,
    );
    let times = times_of_day(target.array.as_ref())
        .ok_or_else(|| target.unsupported("times of day or timestamps"))?;
    let inside = |t: i128| {
        if min <= max {
            (min..=max).contains(&t)
        } else {
            t >= min || t <= max
        }
    };
    Ok(times
        .into_iter()
        .map(|t| t.is_some_and(|t| !inside(t)))
        .collect())
}

#[cfg(test)]
mod tests {
    use arrow::array::{
        Date32Array, Date64Array, Int64Array, Time32SecondArray, Time64NanosecondArray,
        TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
        TimestampSecondArray,
    };

    use super::*;
    use crate::checks::testing::{NOW_MICROS, check, failing_one, one};

    const NONE: [usize; 0] = [];
    const DAY_S: i64 = 86_400;

    fn after(datetime: &str) -> Rule {
        Rule::AfterDateTime {
            datetime: datetime.into(),
        }
    }

    fn before(datetime: &str) -> Rule {
        Rule::BeforeDateTime {
            datetime: datetime.into(),
        }
    }

    #[test]
    fn after_date_time_on_dates_before_1970_and_timestamps_of_every_unit() {
        let rule = after("1969-12-31T00:00:00Z");
        assert_eq!(
            failing_one(
                &rule,
                Date32Array::from(vec![Some(-2), Some(-1), Some(0), None])
            ),
            [0, 1]
        );
        assert_eq!(
            failing_one(
                &rule,
                Date32Array::from(vec![Some(0), None, Some(i32::MAX)])
            ),
            NONE
        );
        let ns = TimestampNanosecondArray::from(vec![
            -DAY_S * 1_000_000_000 - 1,
            -DAY_S * 1_000_000_000,
            1 - DAY_S * 1_000_000_000,
        ])
        .with_timezone("UTC");
        assert_eq!(failing_one(&rule, ns), [0, 1]);
        let s = TimestampSecondArray::from(vec![
            Some(i64::MIN),
            Some(i64::MAX),
            None,
            Some(-DAY_S + 1),
        ]);
        assert_eq!(failing_one(&rule, s), [0]);
        // An offset in the parameter is honoured: this is midnight UTC on 2024-01-01.
        let rule = after("2024-01-01T02:00:00+02:00");
        let ms = TimestampMillisecondArray::from(vec![1_704_067_200_000, 1_704_067_200_001])
            .with_timezone("Europe/Paris");
        assert_eq!(failing_one(&rule, ms), [0]);
    }

    #[test]
    fn before_date_time_on_date64_and_microseconds() {
        let rule = before("2000-01-01T00:00:00.5Z");
        let date64 = Date64Array::from(vec![
            Some(946_684_800_000),
            Some(946_771_200_000),
            None,
            Some(-86_400_000),
        ]);
        assert_eq!(failing_one(&rule, date64), [1]);
        let us = TimestampMicrosecondArray::from(vec![
            946_684_800_499_999,
            946_684_800_500_000,
            i64::MIN,
        ]);
        assert_eq!(failing_one(&rule, us), [1]);
        let clean =
            TimestampMicrosecondArray::from(vec![Some(946_684_800_499_999), None, Some(i64::MIN)]);
        assert_eq!(failing_one(&rule, clean), NONE);
    }

    #[test]
    fn not_future_compares_with_the_moment_of_the_check() {
        let us = TimestampMicrosecondArray::from(vec![
            Some(NOW_MICROS),
            Some(NOW_MICROS + 1),
            None,
            Some(i64::MAX),
        ])
        .with_timezone("+05:00");
        assert_eq!(failing_one(&Rule::NotFuture, us), [1, 3]);
        let today = (NOW_MICROS / 86_400_000_000) as i32;
        let dates = Date32Array::from(vec![
            Some(today),
            Some(today + 1),
            Some(-719_162),
            Some(i32::MIN),
        ]);
        assert_eq!(failing_one(&Rule::NotFuture, dates), [1]);
        let ns =
            TimestampNanosecondArray::from(vec![Some(i64::MIN), Some(NOW_MICROS * 1_000), None]);
        assert_eq!(failing_one(&Rule::NotFuture, ns), NONE);
    }

    #[test]
    fn between_times_on_times_and_timestamps_and_across_midnight() {
        let office = Rule::BetweenTimes {
            min: "08:00:00".into(),
            max: "17:00:00".into(),
        };
        let times = Time32SecondArray::from(vec![
            Some(8 * 3600),
            Some(8 * 3600 - 1),
            Some(17 * 3600),
            Some(17 * 3600 + 1),
            None,
        ]);
        assert_eq!(failing_one(&office, times), [1, 3]);
        let clean = Time64NanosecondArray::from(vec![
            Some(8 * 3_600_000_000_000),
            None,
            Some(12 * 3_600_000_000_000),
        ]);
        assert_eq!(failing_one(&office, clean), NONE);
        let night = Rule::BetweenTimes {
            min: "22:00:00".into(),
            max: "06:00:00.5".into(),
        };
        // -1 s is 23:59:59 on 1969-12-31; the rest are times on 1970-01-02.
        let stamps = TimestampSecondArray::from(vec![
            -1,
            DAY_S + 6 * 3600,
            DAY_S + 6 * 3600 + 1,
            DAY_S + 12 * 3600,
        ])
        .with_timezone("UTC");
        assert_eq!(failing_one(&night, stamps), [2, 3]);
    }

    #[test]
    fn temporal_rules_refuse_numbers_and_bad_parameters() {
        let numbers = one(Int64Array::from(vec![1]));
        let error = check(Rule::NotFuture, &["v"])
            .failing_rows(&numbers, 0)
            .unwrap_err();
        assert!(error.to_string().contains("dates or timestamps"), "{error}");
        let dates = one(Date32Array::from(vec![1]));
        let error = check(after("yesterday"), &["v"])
            .failing_rows(&dates, 0)
            .unwrap_err();
        assert!(error.to_string().contains("RFC 3339"), "{error}");
        let bad_time = Rule::BetweenTimes {
            min: "8am".into(),
            max: "17:00:00".into(),
        };
        let error = check(bad_time, &["v"]).failing_rows(&dates, 0).unwrap_err();
        assert!(
            matches!(
                error,
                CheckError::Parameter {
                    parameter: "min",
                    ..
                }
            ),
            "{error}"
        );
        let office = Rule::BetweenTimes {
            min: "08:00:00".into(),
            max: "17:00:00".into(),
        };
        let dates_have_no_time = check(office, &["v"]).failing_rows(&dates, 0).unwrap_err();
        assert!(
            dates_have_no_time
                .to_string()
                .contains("times of day or timestamps"),
            "{dates_have_no_time}"
        );
    }
}
