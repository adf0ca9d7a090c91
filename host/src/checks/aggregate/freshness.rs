//! `freshness`: the container's newest date or timestamp is at most `max_age_seconds` older
//! than the moment of the check. Instants are nanoseconds since the epoch in i128 (dates at
//! midnight UTC, timestamps without a zone read as UTC), so no unit overflows.

use arrow::datatypes::Field;
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, SecondsFormat};

use super::{Outcome, instant_field};
use crate::checks::row::{column, unsupported};
use crate::checks::values::Instants;
use crate::checks::{Check, CheckError};

/// Nanoseconds in a second.
const SECOND_NANOS: i128 = 1_000_000_000;

/// The newest instant seen.
pub(super) struct Freshness {
    field: String,
    max_age_seconds: u64,
    newest: Option<i128>,
}

impl Freshness {
    /// Nothing seen yet of a date or timestamp field, whose newest value may be at most
    /// `max_age_seconds` old.
    pub fn new(check: &Check, field: &Field, max_age_seconds: u64) -> Result<Self, CheckError> {
        Ok(Freshness {
            field: instant_field(check, field)?.name().clone(),
            max_age_seconds,
            newest: None,
        })
    }

    /// Take the batch's newest non-null instant into account.
    pub fn update(&mut self, check: &Check, batch: &RecordBatch) -> Result<(), CheckError> {
        let array = column(check, batch, &self.field)?.as_ref();
        let instants = Instants::of(array)
            .ok_or_else(|| unsupported(check, &self.field, array, "dates or timestamps"))?;
        let newest = (0..array.len()).filter_map(|i| instants.get(i)).max();
        self.newest = self.newest.max(newest);
        Ok(())
    }

    /// Fold in the newest instant of another part of the container.
    pub fn merge(&mut self, other: Freshness) {
        self.newest = self.newest.max(other.newest);
    }

    /// Passes when the newest instant is at most `max_age_seconds` before `now_micros` (or
    /// after it); fails when there is none among the `rows` rows.
    pub fn finish(self, now_micros: i64, rows: u64) -> Outcome {
        let max_age_seconds = self.max_age_seconds;
        let Some(newest) = self.newest else {
            let message = if rows == 0 {
                "no timestamps: the container has no data".to_string()
            } else {
                format!("no timestamps: `{}` is null in all {rows} rows", self.field)
            };
            return Outcome {
                passed: false,
                message,
                failing_rows: vec![],
            };
        };
        let age = now_micros as i128 * 1_000 - newest;
        let max_age = max_age_seconds as i128 * SECOND_NANOS;
        let passed = age <= max_age;
        let age_text = if age < 0 {
            format!("{} in the future", duration(-age))
        } else {
            format!("{} old", duration(age))
        };
        let verdict = if passed { "within" } else { "older than" };
        Outcome {
            passed,
            message: format!(
                "newest `{}` is {}, {age_text}: {verdict} the maximum age of {} \
                 ({max_age_seconds} s)",
                self.field,
                rfc3339(newest),
                duration(max_age)
            ),
            failing_rows: vec![],
        }
    }
}

/// An instant in RFC 3339, in UTC; as nanoseconds when chrono cannot represent it.
fn rfc3339(nanos: i128) -> String {
    let seconds = nanos.div_euclid(SECOND_NANOS);
    let fraction = nanos.rem_euclid(SECOND_NANOS) as u32;
    i64::try_from(seconds)
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, fraction))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| format!("{nanos} ns after 1970-01-01T00:00:00Z"))
}

/// A duration of at least 0 ns in days, hours, minutes and whole seconds: `1d 2h 0m 5s`,
/// from the largest unit that is not zero.
fn duration(nanos: i128) -> String {
    let seconds = nanos / SECOND_NANOS;
    let parts = [
        (seconds / 86_400, "d"),
        (seconds / 3_600 % 24, "h"),
        (seconds / 60 % 60, "m"),
        (seconds % 60, "s"),
    ];
    let first = parts.iter().position(|(n, _)| *n != 0).unwrap_or(3);
    parts[first..]
        .iter()
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use arrow::array::{
        Date32Array, Date64Array, TimestampMicrosecondArray, TimestampMillisecondArray,
        TimestampNanosecondArray, TimestampSecondArray,
    };
    use arrow::datatypes::{DataType, Schema};

    use super::*;
    use crate::checks::testing::{NOW_MICROS, check, one, outcome_at};
    use crate::checks::{AggregateState, Rule};

    /// NOW_MICROS in seconds: 2024-06-01T12:00:00Z.
    const NOW: i64 = NOW_MICROS / 1_000_000;

    fn fresh(max_age_seconds: u64) -> Check {
        check(Rule::Freshness { max_age_seconds }, &["v"])
    }

    fn run(max_age_seconds: u64, partitions: Vec<Vec<RecordBatch>>) -> Outcome {
        outcome_at(&fresh(max_age_seconds), partitions, NOW_MICROS)
    }

    #[test]
    fn the_newest_timestamp_of_any_unit_and_zone_decides() {
        // The newest is an hour old, in the second partition, behind older values and nulls.
        let seconds = || {
            vec![
                vec![one(TimestampSecondArray::from(vec![
                    Some(NOW - 7200),
                    None,
                ]))],
                vec![one(TimestampSecondArray::from(vec![
                    NOW - 3600,
                    NOW - 9000,
                ]))],
            ]
        };
        let passed = run(3600, seconds());
        assert!(passed.passed, "{}", passed.message);
        assert_eq!(
            passed.message,
            "newest `v` is 2024-06-01T11:00:00Z, 1h 0m 0s old: within the maximum age of \
             1h 0m 0s (3600 s)"
        );
        let stale = run(3599, seconds());
        assert!(!stale.passed);
        assert!(stale.message.contains("older than"), "{}", stale.message);

        let ms = TimestampMillisecondArray::from(vec![None, Some((NOW - 61) * 1_000 + 500)])
            .with_timezone("+02:00");
        let outcome = run(60, vec![vec![one(ms.clone())]]);
        assert!(!outcome.passed);
        assert!(
            outcome
                .message
                .contains("2024-06-01T11:58:59.500Z, 1m 0s old"),
            "{}",
            outcome.message
        );
        assert!(run(61, vec![vec![one(ms)]]).passed);
        let us =
            TimestampMicrosecondArray::from(vec![NOW_MICROS - 10_000_000]).with_timezone("UTC");
        assert!(run(10, vec![vec![one(us.clone())]]).passed);
        assert!(!run(9, vec![vec![one(us)]]).passed);
        let ns = |age| {
            one(TimestampNanosecondArray::from(vec![
                NOW_MICROS * 1_000 - age,
            ]))
        };
        assert!(run(1, vec![vec![ns(1_000_000_000)]]).passed);
        assert!(!run(1, vec![vec![ns(1_000_000_001)]]).passed);
        assert!(!run(0, vec![vec![ns(1)]]).passed);
    }

    #[test]
    fn dates_are_midnight_utc() {
        // 2024-05-31 and 2024-06-01, in days since the epoch.
        let days = || {
            vec![vec![one(Date32Array::from(vec![
                Some(19_874),
                None,
                Some(19_875),
            ]))]]
        };
        let outcome = run(12 * 3600, days());
        assert!(outcome.passed, "{}", outcome.message);
        assert!(
            outcome
                .message
                .contains("2024-06-01T00:00:00Z, 12h 0m 0s old")
        );
        assert!(!run(12 * 3600 - 1, days()).passed);
        let date64 = Date64Array::from(vec![19_874 * 86_400_000]);
        assert!(!run(86_400, vec![vec![one(date64)]]).passed);
    }

    #[test]
    fn the_future_is_fresh() {
        let ahead = TimestampSecondArray::from(vec![NOW + 90_061]);
        let outcome = run(0, vec![vec![one(ahead)]]);
        assert!(outcome.passed);
        assert!(
            outcome.message.contains("1d 1h 1m 1s in the future"),
            "{}",
            outcome.message
        );
    }

    #[test]
    fn no_timestamps_fail() {
        let nulls = run(
            u64::MAX,
            vec![vec![one(TimestampSecondArray::from(vec![None, None]))]],
        );
        assert!(!nulls.passed);
        assert_eq!(nulls.message, "no timestamps: `v` is null in all 2 rows");
        let empty = run(
            u64::MAX,
            vec![vec![one(TimestampSecondArray::from(Vec::<i64>::new()))]],
        );
        assert!(!empty.passed);
        assert_eq!(empty.message, "no timestamps: the container has no data");
    }

    #[test]
    fn text_and_field_counts_are_refused() {
        let text = Schema::new(vec![Field::new("v", DataType::Utf8, true)]);
        let error = AggregateState::new(&fresh(1), &text)
            .err()
            .expect("an error");
        assert!(
            matches!(error, CheckError::UnsupportedType { .. }),
            "{error}"
        );
        let two = check(Rule::Freshness { max_age_seconds: 1 }, &["v", "v"]);
        assert!(matches!(
            AggregateState::new(&two, &text).err(),
            Some(CheckError::FieldCount { .. })
        ));
    }

    #[test]
    fn extreme_instants_are_written_out() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
        assert!(
            rfc3339(i64::MAX as i128 * SECOND_NANOS).ends_with("ns after 1970-01-01T00:00:00Z")
        );
        assert_eq!(duration(0), "0s");
    }
}
