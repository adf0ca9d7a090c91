//! The running state of a scan over one container: for each of its checks, what the rows
//! read so far showed. One state is made per partition, fed that partition's batches in one
//! pass (every check sees each batch; nothing is read twice), and merged with the states of
//! the partitions after it, in order. [`ContainerScan::finish`] turns it into results.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use arrow::array::BooleanArray;
use arrow::compute::{and, filter_record_batch};
use arrow::datatypes::Schema;
use arrow::record_batch::RecordBatch;

use xxhash_rust::xxh3::Xxh3DefaultBuilder;

use super::record::FailingRecord;
use super::result::CheckResult;
use crate::checks::{
    AggregateState, Check, CheckError, Evaluation, ReferenceData, Referenced, Rule, SqlAggregate,
    SqlExpression, judge_comparison, judge_volume,
};

/// What a scan keeps and compares with.
#[derive(Debug, Clone, Copy)]
pub struct ScanLimits {
    /// Failing records kept per check (the first ones, in read order).
    pub max_records: usize,
    /// The scan's moment (µs since the epoch), for `not_future` and `freshness`.
    pub now_micros: i64,
}

/// A scan's state over some of a container's rows.
pub struct ContainerScan {
    rows: u64,
    /// The partitions fed, in order, with their rows: where each starts in row numbers.
    partitions: Vec<(String, u64)>,
    limits: ScanLimits,
    checks: Vec<CheckState>,
}

/// One check's state: its compiled filter and how it is evaluated.
struct CheckState {
    filter: Option<SqlExpression>,
    /// The rows the check applied to (after its filter).
    applied: u64,
    evaluator: Evaluator,
}

enum Evaluator {
    /// A row rule (or a lookup in another container's values, `lookup`): the rows that
    /// failed, and the first of them.
    Row {
        failed: u64,
        records: Vec<FailingRecord>,
        lookup: Option<Arc<Referenced>>,
        /// `data_diff`: the identifiers of the rows read here.
        seen: Seen,
    },
    /// `aggregation_comparison`: this container's aggregate, and the other's value.
    Compare {
        mine: Box<SqlAggregate>,
        reference: Option<f64>,
    },
    /// A whole-container rule.
    Aggregate(Box<AggregateState>),
    /// A rule over the container's history (`volumetric`): judged at the end from the rows
    /// it applied to.
    History,
    /// The check cannot be evaluated on this container.
    Broken(CheckError),
}

impl ContainerScan {
    /// An empty state for `checks` over a container with `schema`. A check that does not fit
    /// the schema is kept as broken, and reported in its result.
    /// `references` holds what the checks against other containers need.
    pub fn new(
        checks: &[Check],
        schema: &Schema,
        limits: ScanLimits,
        references: &ReferenceData,
    ) -> Self {
        let checks = checks
            .iter()
            .map(|check| {
                let filter = match &check.filter {
                    Some(sql) => match SqlExpression::compile(check, sql, schema) {
                        Ok(filter) => Some(filter),
                        Err(e) => return CheckState::broken(e),
                    },
                    None => None,
                };
                let evaluator = match check.rule.evaluation() {
                    Evaluation::Row => Evaluator::Row {
                        failed: 0,
                        records: Vec::new(),
                        lookup: None,
                        seen: Seen::default(),
                    },
                    Evaluation::Reference => against(check, schema, references),
                    Evaluation::Aggregate => {
                        match AggregateState::with_now(check, schema, limits.now_micros) {
                            Ok(state) => Evaluator::Aggregate(Box::new(state)),
                            Err(e) => Evaluator::Broken(e),
                        }
                    }
                    Evaluation::History => Evaluator::History,
                    Evaluation::NotYet(needs) => Evaluator::Broken(CheckError::NotYet {
                        check: check.label(),
                        rule: check.rule.name(),
                        needs,
                    }),
                };
                CheckState {
                    filter,
                    applied: 0,
                    evaluator,
                }
            })
            .collect();
        ContainerScan {
            rows: 0,
            partitions: Vec::new(),
            limits,
            checks,
        }
    }

    /// The rows fed so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Start feeding the partition `id` (its rows are numbered after those fed before).
    pub fn begin_partition(&mut self, id: &str) {
        self.partitions.push((id.to_owned(), 0));
    }

    /// The row number each partition fed starts at, by partition id.
    pub fn partition_offsets(&self) -> BTreeMap<String, u64> {
        let mut offset = 0;
        (self.partitions.iter())
            .map(|(id, rows)| {
                let start = offset;
                offset += rows;
                (id.clone(), start)
            })
            .collect()
    }

    /// Feed the next batch to every check (`checks` as given to [`ContainerScan::new`]).
    pub fn update(&mut self, checks: &[Check], batch: &RecordBatch) {
        for (check, state) in checks.iter().zip(&mut self.checks) {
            if let Err(e) = state.update(check, batch, self.rows, self.limits) {
                state.evaluator = Evaluator::Broken(e);
            }
        }
        self.rows += batch.num_rows() as u64;
        if let Some((_, rows)) = self.partitions.last_mut() {
            *rows += batch.num_rows() as u64;
        }
    }

    /// Fold in the state of the rows that follow this state's.
    pub fn merge(&mut self, next: ContainerScan) {
        for (state, other) in self.checks.iter_mut().zip(next.checks) {
            state.applied += other.applied;
            let evaluator = std::mem::replace(&mut state.evaluator, Evaluator::History);
            state.evaluator = match (evaluator, other.evaluator) {
                (Evaluator::Broken(e), _) | (_, Evaluator::Broken(e)) => Evaluator::Broken(e),
                (
                    Evaluator::Row {
                        failed,
                        mut records,
                        lookup,
                        mut seen,
                    },
                    Evaluator::Row {
                        failed: more,
                        records: later,
                        seen: seen_later,
                        ..
                    },
                ) => {
                    seen.extend(seen_later);
                    let room = self.limits.max_records.saturating_sub(records.len());
                    records.extend(later.into_iter().take(room).map(|mut record| {
                        record.row += self.rows;
                        record
                    }));
                    Evaluator::Row {
                        failed: failed + more,
                        records,
                        lookup,
                        seen,
                    }
                }
                (
                    Evaluator::Compare {
                        mut mine,
                        reference,
                    },
                    Evaluator::Compare { mine: theirs, .. },
                ) => {
                    mine.merge(&theirs);
                    Evaluator::Compare { mine, reference }
                }
                (Evaluator::Aggregate(mut a), Evaluator::Aggregate(b)) => {
                    a.merge(*b);
                    Evaluator::Aggregate(a)
                }
                (Evaluator::History, Evaluator::History) => Evaluator::History,
                (mine, _) => mine,
            };
        }
        self.rows += next.rows;
        self.partitions.extend(next.partitions);
    }

    /// Each check's result over every row fed. `previous_rows` is the row count of the
    /// container's last scan, which `volumetric` compares with.
    pub fn finish(self, checks: &[Check], previous_rows: Option<u64>) -> Vec<CheckResult> {
        let max_records = self.limits.max_records;
        checks
            .iter()
            .zip(self.checks)
            .map(|(check, state)| {
                let applied = state.applied;
                let result = CheckResult::new(check, applied);
                match state.evaluator {
                    Evaluator::Compare { mine, reference } => match &check.rule {
                        Rule::AggregationComparison {
                            expression,
                            comparison,
                            ref_expression,
                            ..
                        } => {
                            let (passed, message) = judge_comparison(
                                expression,
                                mine.value(),
                                *comparison,
                                ref_expression,
                                reference,
                            );
                            result.judged(passed, 0, message, Vec::new())
                        }
                        _ => result.broken(&mismatch(check)),
                    },
                    Evaluator::Row {
                        failed,
                        records,
                        lookup,
                        seen,
                    } if matches!(lookup.as_deref(), Some(Referenced::Rows(_))) => {
                        let Some(Referenced::Rows(digests)) = lookup.as_deref() else {
                            unreachable!("matched above")
                        };
                        let missing = digests.missing(&seen);
                        let message = format!(
                            "{failed} of {applied} rows differ from the other container's or are \
                             not in it; {missing} of its {} rows are not here",
                            digests.len()
                        );
                        result.judged(failed == 0 && missing == 0, failed, message, records)
                    }
                    Evaluator::Row {
                        failed, records, ..
                    } => {
                        let message = match failed {
                            0 => format!("all {applied} rows pass"),
                            _ => format!(
                                "{failed} of {applied} rows fail ({})",
                                percent(failed, applied)
                            ),
                        };
                        result.judged(failed == 0, failed, message, records)
                    }
                    Evaluator::Aggregate(aggregate) => {
                        let outcome = aggregate.finish();
                        let failed = outcome.failing_rows.len() as u64;
                        let mut result =
                            result.judged(outcome.passed, failed, outcome.message, Vec::new());
                        // A filter renumbers the rows `unique` sees: no records then.
                        if check.filter.is_none() {
                            result.unrecorded =
                                outcome.failing_rows.into_iter().take(max_records).collect();
                        }
                        result
                    }
                    Evaluator::History => match judge_volume(check, applied, previous_rows) {
                        Ok(outcome) => {
                            result.judged(outcome.passed, 0, outcome.message, Vec::new())
                        }
                        Err(e) => result.broken(&e),
                    },
                    Evaluator::Broken(e) => result.broken(&e),
                }
            })
            .collect()
    }
}

impl CheckState {
    fn broken(error: CheckError) -> Self {
        CheckState {
            filter: None,
            applied: 0,
            evaluator: Evaluator::Broken(error),
        }
    }

    fn update(
        &mut self,
        check: &Check,
        batch: &RecordBatch,
        first_row: u64,
        limits: ScanLimits,
    ) -> Result<(), CheckError> {
        if matches!(self.evaluator, Evaluator::Broken(_)) {
            return Ok(());
        }
        let applies = match &self.filter {
            Some(filter) => Some(filter.matches(batch)?),
            None => None,
        };
        self.applied += applies
            .as_ref()
            .map_or(batch.num_rows(), BooleanArray::true_count) as u64;
        match &mut self.evaluator {
            Evaluator::Row {
                failed,
                records,
                lookup,
                seen,
            } => {
                let mut failing = match (lookup.as_deref(), &check.rule) {
                    (None, _) => check.failing_rows(batch, limits.now_micros)?,
                    (Some(Referenced::Values(set)), _) => set.failing_rows(check, batch)?,
                    (
                        Some(Referenced::Rows(digests)),
                        Rule::DataDiff {
                            row_identifiers, ..
                        },
                    ) => digests.failing_rows(check, batch, row_identifiers, seen)?,
                    _ => return Err(mismatch(check)),
                };
                if let Some(applies) = &applies {
                    failing = and(&failing, applies).map_err(|e| arrow_error(check, e))?;
                }
                let count = failing.true_count();
                *failed += count as u64;
                if count > 0 && records.len() < limits.max_records {
                    let rows = failing.iter().enumerate().filter(|(_, f)| *f == Some(true));
                    for (index, _) in rows.take(limits.max_records - records.len()) {
                        records.push(FailingRecord::from_batch(batch, index, first_row));
                    }
                }
            }
            Evaluator::Aggregate(state) => match &applies {
                Some(applies) => {
                    let kept =
                        filter_record_batch(batch, applies).map_err(|e| arrow_error(check, e))?;
                    state.update(&kept)?;
                }
                None => state.update(batch)?,
            },
            Evaluator::Compare { mine, .. } => match &applies {
                Some(applies) => {
                    let kept =
                        filter_record_batch(batch, applies).map_err(|e| arrow_error(check, e))?;
                    mine.update(check, &kept)?;
                }
                None => mine.update(check, batch)?,
            },
            Evaluator::History | Evaluator::Broken(_) => {}
        }
        Ok(())
    }
}

/// How a rule against another container starts: with what was read from it.
fn against(check: &Check, schema: &Schema, references: &ReferenceData) -> Evaluator {
    let read = check.reference().and_then(|wanted| references.get(&wanted));
    let data = match read {
        Some(Ok(data)) => data.clone(),
        Some(Err(reason)) => {
            return Evaluator::Broken(CheckError::Reference {
                check: check.label(),
                reason: reason.clone(),
            });
        }
        None => return Evaluator::Broken(mismatch(check)),
    };
    match (&check.rule, &*data) {
        (Rule::AggregationComparison { expression, .. }, Referenced::Aggregate(value)) => {
            match SqlAggregate::compile(check, expression, schema) {
                Ok(mine) => Evaluator::Compare {
                    mine: Box::new(mine),
                    reference: *value,
                },
                Err(e) => Evaluator::Broken(e),
            }
        }
        (_, Referenced::Values(_) | Referenced::Rows(_)) => Evaluator::Row {
            failed: 0,
            records: Vec::new(),
            lookup: Some(data),
            seen: Seen::default(),
        },
        _ => Evaluator::Broken(mismatch(check)),
    }
}

/// A reference read that does not match its rule: a bug in the scan.
fn mismatch(check: &Check) -> CheckError {
    CheckError::Reference {
        check: check.label(),
        reason: "internal error: the scan read the wrong thing for it; please report it".into(),
    }
}

/// The identifiers of the rows a `data_diff` check has read.
type Seen = HashSet<u128, Xxh3DefaultBuilder>;

fn arrow_error(check: &Check, error: arrow::error::ArrowError) -> CheckError {
    CheckError::Arrow {
        check: check.label(),
        field: check.fields.join(","),
        reason: error.to_string(),
    }
}

/// `part` of `whole` as a percentage for people: `0.02%`, `12.5%`.
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0%".into();
    }
    let share = part as f64 * 100.0 / whole as f64;
    match share {
        s if s >= 10.0 => format!("{s:.1}%"),
        s if s >= 0.1 => format!("{s:.2}%"),
        s => format!("{s:.2e}%"),
    }
}
