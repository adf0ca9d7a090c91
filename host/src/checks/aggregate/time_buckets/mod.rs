//! `time_distribution_size`: rows per time bucket of a date or timestamp field within
//! bounds. Buckets are in UTC: hours, days, ISO weeks (from Monday) and calendar months.
//! Nulls are not counted. Every bucket from the first to the last that has rows is judged,
//! so a bucket without rows between them counts as 0 rows.
//!
//! Only buckets with rows are kept, and a state refuses to span more than [`MAX_BUCKETS`]
//! buckets, so memory stays bounded whatever the data holds.

use std::collections::BTreeMap;

use arrow::datatypes::Field;
use arrow::record_batch::RecordBatch;

use super::{Outcome, instant_field};
use crate::checks::params::Interval;
use crate::checks::row::{column, unsupported};
use crate::checks::values::{DAY_NANOS, Instants};
use crate::checks::{Check, CheckError};

/// The most buckets a check may span, from its first to its last.
pub(super) const MAX_BUCKETS: i128 = 100_000;

/// How many failing buckets a message lists.
const LISTED: usize = 5;

/// Rows counted per bucket.
pub(super) struct Buckets {
    field: String,
    interval: Interval,
    min: Option<u64>,
    max: Option<u64>,
    counts: BTreeMap<i128, u64>,
    /// Why merged states span too many buckets to judge.
    too_wide: Option<String>,
}

impl Buckets {
    /// No rows counted yet in a date or timestamp field; refuses bounds that judge nothing.
    pub fn new(
        check: &Check,
        field: &Field,
        interval: Interval,
        min: Option<u64>,
        max: Option<u64>,
    ) -> Result<Self, CheckError> {
        let reason = match (min, max) {
            (None, None) => Some("and `max` are both missing; give `min`, `max` or both".into()),
            (Some(min), Some(max)) if min > max => Some(format!(
                "is {min}, above `max` ({max}); give a `min` at most `max`"
            )),
            _ => None,
        };
        if let Some(reason) = reason {
            return Err(CheckError::Parameter {
                check: check.label(),
                parameter: "min",
                reason,
            });
        }
        Ok(Buckets {
            field: instant_field(check, field)?.name().clone(),
            interval,
            min,
            max,
            counts: BTreeMap::new(),
            too_wide: None,
        })
    }

    /// Count the batch's non-null rows in their buckets; fails when the buckets seen span
    /// more than [`MAX_BUCKETS`].
    pub fn update(&mut self, check: &Check, batch: &RecordBatch) -> Result<(), CheckError> {
        let array = column(check, batch, &self.field)?.as_ref();
        let instants = Instants::of(array)
            .ok_or_else(|| unsupported(check, &self.field, array, "dates or timestamps"))?;
        for instant in (0..array.len()).filter_map(|i| instants.get(i)) {
            *self
                .counts
                .entry(bucket(self.interval, instant))
                .or_default() += 1;
        }
        match self.too_wide() {
            Some(reason) => Err(CheckError::Parameter {
                check: check.label(),
                parameter: "interval",
                reason,
            }),
            None => Ok(()),
        }
    }

    /// Fold in the counts of another part of the container. When together they span too
    /// many buckets, the outcome says so.
    pub fn merge(&mut self, other: Buckets) {
        for (bucket, count) in other.counts {
            *self.counts.entry(bucket).or_default() += count;
        }
        self.too_wide = self
            .too_wide
            .take()
            .or(other.too_wide)
            .or_else(|| self.too_wide());
    }

    /// Why the buckets seen span too many buckets, if they do.
    fn too_wide(&self) -> Option<String> {
        let (first, last) = (
            *self.counts.first_key_value()?.0,
            *self.counts.last_key_value()?.0,
        );
        let span = last - first + 1;
        if span <= MAX_BUCKETS {
            return None;
        }
        let (name, unit) = names(self.interval);
        let advice = match self.interval {
            Interval::Monthly => "narrow the rows with a filter",
            _ => "choose a coarser interval or narrow the rows with a filter",
        };
        Some(format!(
            "is {name}, but `{}` spans {span} {unit}s (from {} to {}), more than {MAX_BUCKETS} \
             buckets; {advice}",
            self.field,
            label(self.interval, first),
            label(self.interval, last)
        ))
    }

    /// Passes when every bucket from the first to the last with rows is within the bounds;
    /// otherwise names the worst buckets (at most five), the farthest outside first.
    pub fn finish(self) -> Outcome {
        let fail = |message| Outcome {
            passed: false,
            message,
            failing_rows: vec![],
        };
        if let Some(reason) = self.too_wide {
            return fail(format!("parameter `interval` {reason}"));
        }
        let (name, _) = names(self.interval);
        let bounds = match (self.min, self.max) {
            (Some(min), Some(max)) => format!("between {min} and {max} rows"),
            (Some(min), None) => format!("at least {min} rows"),
            (None, Some(max)) => format!("at most {max} rows"),
            (None, None) => "no bounds".into(),
        };
        let (Some((&first, _)), Some((&last, _))) =
            (self.counts.first_key_value(), self.counts.last_key_value())
        else {
            return Outcome {
                passed: true,
                message: format!(
                    "`{}` has no dates or timestamps: no buckets to count",
                    self.field
                ),
                failing_rows: vec![],
            };
        };
        let count = |b: i128| self.counts.get(&b).copied().unwrap_or(0);
        // How far outside the bounds a count is; 0 within them.
        let outside = |n: u64| {
            let below = self.min.map_or(0, |min| min.saturating_sub(n));
            let above = self.max.map_or(0, |max| n.saturating_sub(max));
            below.max(above)
        };
        let mut failing: Vec<(u64, i128)> = (first..=last)
            .map(|b| (outside(count(b)), b))
            .filter(|(distance, _)| *distance > 0)
            .collect();
        let span = format!(
            "{} {name} bucket{} from {} to {}",
            last - first + 1,
            if first == last { "" } else { "s" },
            label(self.interval, first),
            label(self.interval, last)
        );
        if failing.is_empty() {
            let (fewest, most) = (first..=last)
                .map(count)
                .fold((u64::MAX, 0), |(lo, hi), n| (lo.min(n), hi.max(n)));
            return Outcome {
                passed: true,
                message: format!(
                    "{span}, {fewest} to {most} rows each: within the bounds ({bounds})"
                ),
                failing_rows: vec![],
            };
        }
        failing.sort_by_key(|&(distance, b)| (u64::MAX - distance, b));
        let listed: Vec<String> = failing
            .iter()
            .take(LISTED)
            .map(|&(_, b)| format!("{} ({} rows)", label(self.interval, b), count(b)))
            .collect();
        let more = match failing.len().saturating_sub(LISTED) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        fail(format!(
            "{} of {span} {} outside the bounds ({bounds}): {}{more}",
            failing.len(),
            if failing.len() == 1 { "is" } else { "are" },
            listed.join(", ")
        ))
    }
}

/// The interval as the rule names it, and its unit.
fn names(interval: Interval) -> (&'static str, &'static str) {
    match interval {
        Interval::Hourly => ("hourly", "hour"),
        Interval::Daily => ("daily", "day"),
        Interval::Weekly => ("weekly", "week"),
        Interval::Monthly => ("monthly", "month"),
    }
}

/// The bucket of an instant (ns since the epoch): hours, days, weeks or months since the
/// epoch's.
fn bucket(interval: Interval, nanos: i128) -> i128 {
    let days = nanos.div_euclid(DAY_NANOS);
    match interval {
        Interval::Hourly => nanos.div_euclid(DAY_NANOS / 24),
        Interval::Daily => days,
        // 1970-01-01 was a Thursday: weeks start on the Monday 3 days before.
        Interval::Weekly => (days + 3).div_euclid(7),
        Interval::Monthly => {
            let (year, month, _) = civil(days);
            year * 12 + month as i128 - 1
        }
    }
}

/// How a bucket is written: `2024-06-01T13:00Z`, `2024-06-01`, `week of 2024-05-27` (its
/// Monday), `2024-06`.
fn label(interval: Interval, bucket: i128) -> String {
    let date = |days: i128| {
        let (y, m, d) = civil(days);
        format!("{y:04}-{m:02}-{d:02}")
    };
    match interval {
        Interval::Hourly => format!(
            "{}T{:02}:00Z",
            date(bucket.div_euclid(24)),
            bucket.rem_euclid(24)
        ),
        Interval::Daily => date(bucket),
        Interval::Weekly => format!("week of {}", date(bucket * 7 - 3)),
        Interval::Monthly => format!(
            "{:04}-{:02}",
            bucket.div_euclid(12),
            bucket.rem_euclid(12) + 1
        ),
    }
}

/// The proleptic Gregorian date (year, month, day) of a day since 1970-01-01, for any day
/// (Howard Hinnant's `civil_from_days`).
fn civil(days: i128) -> (i128, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i128::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests;
