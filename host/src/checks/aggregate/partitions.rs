//! `min_partition_size` and `max_partition_size`: the row count of each partition the scan
//! read. A new state is one partition of 0 rows, its batches add to it, and merging appends
//! the other state's partitions, so partitions are numbered from 0 in the order they merge.

use super::Outcome;

/// How many failing partitions a message lists.
const LISTED: usize = 5;

/// The row count of each partition, in order.
pub(super) struct Partitions {
    sizes: Vec<u64>,
    bound: Bound,
}

/// Which way a partition size is bounded.
#[derive(Clone, Copy)]
pub(super) enum Bound {
    /// At least this many rows.
    Min(u64),
    /// At most this many rows.
    Max(u64),
}

impl Partitions {
    /// One partition of 0 rows, to be judged by `bound`.
    pub fn new(bound: Bound) -> Self {
        Partitions {
            sizes: vec![0],
            bound,
        }
    }

    /// Count `rows` more rows in the last partition.
    pub fn update(&mut self, rows: usize) {
        if let Some(last) = self.sizes.last_mut() {
            *last += rows as u64;
        }
    }

    /// Append the partitions of another state.
    pub fn merge(&mut self, other: Partitions) {
        self.sizes.extend(other.sizes);
    }

    /// Passes when no partition is outside the bound; otherwise names the worst partitions
    /// (at most five), the farthest outside first.
    pub fn finish(self) -> Outcome {
        let bound = self.bound;
        let (fails, wanted): (Box<dyn Fn(u64) -> bool>, String) = match bound {
            Bound::Min(min) => (Box::new(move |s| s < min), format!("fewer than {min}")),
            Bound::Max(max) => (Box::new(move |s| s > max), format!("more than {max}")),
        };
        let mut failing: Vec<(usize, u64)> = self
            .sizes
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, size)| fails(*size))
            .collect();
        let total = self.sizes.len();
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        if failing.is_empty() {
            let (extreme, which) = match bound {
                Bound::Min(_) => (self.sizes.iter().min(), "smallest"),
                Bound::Max(_) => (self.sizes.iter().max(), "largest"),
            };
            return Outcome {
                passed: true,
                message: format!(
                    "{total} partition{}, the {which} with {} rows: none has {wanted} rows",
                    plural(total),
                    extreme.copied().unwrap_or(0)
                ),
                failing_rows: vec![],
            };
        }
        match bound {
            Bound::Min(_) => failing.sort_by_key(|&(i, size)| (size, i)),
            Bound::Max(_) => failing.sort_by_key(|&(i, size)| (u64::MAX - size, i)),
        }
        let listed: Vec<String> = failing
            .iter()
            .take(LISTED)
            .map(|(i, size)| format!("partition {i} ({size} rows)"))
            .collect();
        let more = failing.len().saturating_sub(LISTED);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        Outcome {
            passed: false,
            message: format!(
                "{} of {total} partition{} (numbered from 0) {} {wanted} rows: {}{more}",
                failing.len(),
                plural(total),
                if failing.len() == 1 { "has" } else { "have" },
                listed.join(", ")
            ),
            failing_rows: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;

    use crate::checks::testing::{check, ints, outcome};
    use crate::checks::{AggregateState, Outcome, Rule};

    /// Partitions of `sizes` rows each, some fed in two batches.
    fn partitions(sizes: &[usize]) -> Vec<Vec<RecordBatch>> {
        sizes
            .iter()
            .map(|&n| {
                let half = n / 2;
                vec![ints(vec![Some(1); half]), ints(vec![None; n - half])]
            })
            .collect()
    }

    fn min(value: u64, sizes: &[usize]) -> Outcome {
        outcome(
            &check(Rule::MinPartitionSize { value }, &[]),
            partitions(sizes),
        )
    }

    fn max(value: u64, sizes: &[usize]) -> Outcome {
        outcome(
            &check(Rule::MaxPartitionSize { value }, &[]),
            partitions(sizes),
        )
    }

    #[test]
    fn min_partition_size_names_the_small_partitions() {
        let clean = min(10, &[10, 12, 30]);
        assert!(clean.passed, "{}", clean.message);
        assert_eq!(
            clean.message,
            "3 partitions, the smallest with 10 rows: none has fewer than 10 rows"
        );
        let planted = min(10, &[10, 3, 30, 9]);
        assert!(!planted.passed);
        assert_eq!(
            planted.message,
            "2 of 4 partitions (numbered from 0) have fewer than 10 rows: \
             partition 1 (3 rows), partition 3 (9 rows)"
        );
        assert!(planted.failing_rows.is_empty());
        assert!(min(1, &[1, 0, 1]).message.contains("partition 1 (0 rows)"));
    }

    #[test]
    fn max_partition_size_names_the_large_partitions_worst_first() {
        assert!(max(10, &[10, 0, 3]).passed);
        let planted = max(10, &[11, 5, 40, 12, 13, 14, 15, 16]);
        assert!(!planted.passed);
        assert_eq!(
            planted.message,
            "7 of 8 partitions (numbered from 0) have more than 10 rows: partition 2 (40 rows), \
             partition 7 (16 rows), partition 6 (15 rows), partition 5 (14 rows), \
             partition 4 (13 rows) and 2 more"
        );
    }

    #[test]
    fn a_partition_without_batches_has_no_rows() {
        let rule = Rule::MinPartitionSize { value: 1 };
        let schema = Schema::new(vec![Field::new("v", DataType::Int64, true)]);
        let mut first = AggregateState::new(&check(rule.clone(), &[]), &schema).expect("a state");
        first.update(&ints(vec![Some(1)])).expect("counted");
        let empty = AggregateState::new(&check(rule, &[]), &schema).expect("a state");
        first.merge(empty);
        let outcome = first.finish();
        assert!(!outcome.passed);
        assert!(
            outcome
                .message
                .contains("1 of 2 partitions (numbered from 0) has")
                && outcome.message.contains("partition 1 (0 rows)"),
            "{}",
            outcome.message
        );
    }
}
