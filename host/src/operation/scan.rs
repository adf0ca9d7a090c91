//! The scan operation: the containers that have checks read once each, partitions in
//! parallel (the shared [`fold`](super::fold) loop), every check evaluated on every batch as
//! it passes. A container that fails is reported with its error; a check that does not fit
//! its container is reported in its result; the others go on.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::checks::{Check, ReferenceData};
use crate::contract::{Partition, Scalar};
use crate::runtime::DiscoveredContainer;
use crate::scan::{
    ContainerScan, ContainerScanResult, LastScan, ScanLimits, ScannedField, WatermarkValue,
};
use crate::{Error, Result};

use super::fold::{self, Fold, ReadScope};
use super::pick::{Wanted, pick_records};
use super::reference::read_references;
use super::{Datastore, Progress};

/// How to run a scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// How many partitions are read at once.
    pub parallelism: usize,
    /// Scan only these containers (all with checks when `None`).
    pub containers: Option<Vec<String>>,
    /// Failing records kept per check.
    pub max_records: usize,
    /// Read only the partitions whose watermark is past the last scan's (all of them when
    /// the plugin gives no watermarks).
    pub incremental: bool,
}

/// Failing records an anomaly keeps by default.
pub const DEFAULT_MAX_RECORDS: usize = 10;

impl Default for ScanOptions {
    /// Every container with checks, as many readers as cores, 10 records per failed check.
    fn default() -> Self {
        ScanOptions {
            parallelism: std::thread::available_parallelism().map_or(1, |n| n.get()),
            containers: None,
            max_records: DEFAULT_MAX_RECORDS,
            incremental: false,
        }
    }
}

/// The result for one container.
#[derive(Debug)]
pub struct ScanOutcome {
    /// The container's name.
    pub name: String,
    /// What its checks found, or why it could not be scanned.
    pub result: Result<ContainerScanResult>,
}

/// Scan the containers that `checks` name: each read once, all its checks evaluated on each
/// batch. `history` holds each container's last scan (for `volumetric` and incremental
/// reads); `others` the other datastores that checks compare with, by name (their
/// containers are read first). Fails as a whole only when the datastore cannot be opened or
/// listed.
pub fn scan(
    datastore: &Datastore,
    others: &BTreeMap<String, Datastore>,
    checks: &[Check],
    history: &BTreeMap<String, LastScan>,
    options: &ScanOptions,
    progress: &Progress,
) -> Result<Vec<ScanOutcome>> {
    let span = tracing::info_span!("operation.scan", datastore = %datastore.name, plugin = %datastore.plugin.label(), checks = checks.len());
    let _entered = span.enter();
    let mut by_container: BTreeMap<String, Vec<Check>> = BTreeMap::new();
    for check in checks {
        let wanted = options
            .containers
            .as_ref()
            .is_none_or(|names| names.contains(&check.container));
        if wanted {
            by_container
                .entry(check.container.clone())
                .or_default()
                .push(check.clone());
        }
    }
    let wanted: Vec<Check> = by_container.values().flatten().cloned().collect();
    let references = read_references(datastore, others, &wanted, options.parallelism, progress);
    let fold = ScanFold {
        references,
        checks: by_container,
        history,
        incremental: options.incremental,
        limits: ScanLimits {
            max_records: options.max_records,
            now_micros: chrono::Utc::now().timestamp_micros(),
        },
        found: Mutex::new(Vec::new()),
    };
    let scope = ReadScope {
        operation: "scan",
        parallelism: options.parallelism,
        fields: None,
        limit: None,
        containers: None,
    };
    let folded = fold::read(datastore, &scope, &fold, progress)?;
    let mut wanted = BTreeMap::new();
    let mut outcomes: Vec<ScanOutcome> = folded
        .into_iter()
        .map(|folded| {
            let name = folded.container.name.clone();
            let result = folded.result.map(|(plan, state)| {
                let offsets = state.partition_offsets();
                let result = ContainerScanResult {
                    container: name.clone(),
                    rows: state.rows(),
                    partitions: folded.partitions as u64,
                    incremental: plan.incremental,
                    watermark: plan.watermark.clone(),
                    fields: (plan.schema.fields().iter())
                        .map(|f| ScannedField {
                            name: f.name().clone(),
                            data_type: f.data_type().to_string(),
                        })
                        .collect(),
                    checks: state.finish(&plan.checks, history.get(&name).map(|last| last.rows)),
                };
                let rows: BTreeSet<u64> = (result.checks.iter())
                    .flat_map(|c| c.unrecorded.iter().copied())
                    .collect();
                if !rows.is_empty() {
                    let since = plan.since.clone();
                    wanted.insert(
                        name.clone(),
                        Wanted {
                            offsets,
                            rows,
                            since,
                        },
                    );
                }
                result
            });
            ScanOutcome { name, result }
        })
        .collect();
    let mut picked = pick_records(datastore, &wanted, options.parallelism, progress);
    for outcome in &mut outcomes {
        let (Ok(result), Some(records)) = (&mut outcome.result, picked.remove(&outcome.name))
        else {
            continue;
        };
        // Only the checks that waited for their records (a failed `unique`) get them here;
        // row checks kept theirs while reading.
        for check in result
            .checks
            .iter_mut()
            .filter(|c| !c.unrecorded.is_empty())
        {
            let rows = std::mem::take(&mut check.unrecorded);
            check.records = rows
                .iter()
                .filter_map(|row| records.get(row).cloned())
                .collect();
        }
    }
    let found = lock(&fold.found).clone();
    let known = found.join(", ");
    for name in fold.checks.keys().filter(|name| !found.contains(name)) {
        outcomes.push(ScanOutcome {
            name: name.clone(),
            result: Err(Error::NoSuchContainer {
                datastore: datastore.name.clone(),
                container: name.clone(),
                known: known.clone(),
            }),
        });
    }
    Ok(outcomes)
}

/// Scanning as a fold: each partition's batches through every check of its container.
struct ScanFold<'a> {
    checks: BTreeMap<String, Vec<Check>>,
    /// What the checks against other containers need, read first.
    references: ReferenceData,
    history: &'a BTreeMap<String, LastScan>,
    incremental: bool,
    limits: ScanLimits,
    /// The containers the datastore listed, to tell checks of containers it does not have.
    found: Mutex<Vec<String>>,
}

/// A container's checks and schema, and how much of it is read.
struct Plan {
    checks: Vec<Check>,
    schema: SchemaRef,
    /// Whether partitions up to the last scan's watermark were skipped.
    incremental: bool,
    /// The highest watermark among all its partitions, read or skipped.
    watermark: Option<WatermarkValue>,
    /// The last scan's watermark, when only what is past it is read.
    since: Option<Scalar>,
}

impl Fold for ScanFold<'_> {
    type Plan = Plan;
    type State = ContainerScan;

    fn plan(
        &self,
        container: &DiscoveredContainer,
        schema: &SchemaRef,
        partitions: &mut Vec<Partition>,
    ) -> Result<Plan> {
        let checks = self
            .checks
            .get(&container.name)
            .cloned()
            .unwrap_or_default();
        let marks: Vec<Option<WatermarkValue>> = partitions
            .iter()
            .map(|p| p.watermark.as_ref().and_then(WatermarkValue::of))
            .collect();
        let watermark = marks.iter().flatten().cloned().reduce(WatermarkValue::max);
        let seen = self
            .history
            .get(&container.name)
            .and_then(|last| last.watermark.as_ref());
        let incremental = self.incremental && seen.is_some() && marks.iter().all(Option::is_some);
        if let (true, Some(seen)) = (incremental, seen) {
            let mut marks = marks.iter();
            partitions.retain(|_| {
                marks
                    .next()
                    .and_then(Option::as_ref)
                    .is_none_or(|mark| mark.is_past(seen))
            });
            tracing::info!(container = %container.name, partitions = partitions.len(), "incremental scan: reading the partitions past the last scan's watermark");
        } else if self.incremental {
            tracing::info!(container = %container.name, "incremental scan reads every partition: no earlier watermark, or partitions without one");
        }
        Ok(Plan {
            checks,
            schema: schema.clone(),
            incremental,
            watermark,
            since: seen.filter(|_| incremental).map(scalar_of),
        })
    }

    fn wants(&self, container: &DiscoveredContainer) -> bool {
        lock(&self.found).push(container.name.clone());
        self.checks.contains_key(&container.name)
    }

    fn empty(&self, plan: &Plan, _: &DiscoveredContainer) -> Result<ContainerScan> {
        Ok(ContainerScan::new(
            &plan.checks,
            &plan.schema,
            self.limits,
            &self.references,
        ))
    }

    fn start(
        &self,
        plan: &Plan,
        _: &DiscoveredContainer,
        partition: &Partition,
    ) -> Result<ContainerScan> {
        let mut state =
            ContainerScan::new(&plan.checks, &plan.schema, self.limits, &self.references);
        state.begin_partition(&partition.id);
        Ok(state)
    }

    fn update(&self, plan: &Plan, state: &mut ContainerScan, batch: RecordBatch) -> Result<()> {
        state.update(&plan.checks, &batch);
        Ok(())
    }

    fn merge(&self, _: &Plan, into: &mut ContainerScan, next: ContainerScan) -> Result<()> {
        into.merge(next);
        Ok(())
    }

    fn since(&self, plan: &Plan) -> Option<Scalar> {
        plan.since.clone()
    }
}

/// A stored watermark as the contract's scalar, to pass back to the plugin.
fn scalar_of(value: &WatermarkValue) -> Scalar {
    match value {
        WatermarkValue::Boolean(v) => Scalar::Boolean(*v),
        WatermarkValue::Integer(v) => Scalar::Integer(*v),
        WatermarkValue::Float(v) => Scalar::Float(*v),
        WatermarkValue::Text(v) => Scalar::Text(v.clone()),
        WatermarkValue::Date(v) => Scalar::Date(*v),
        WatermarkValue::Timestamp(v) => Scalar::Timestamp(*v),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
