//! The partition loop that reading operations share: discover a datastore's containers,
//! split each into partitions, read the partitions on `parallelism` workers (a fresh plugin
//! instance each) and fold each partition's batches into a state. Partition states are
//! merged per container in partition order, so an order-dependent state (row numbers, kept
//! records) comes out as if the container had been read front to back. A container that
//! fails is reported with its error; the others go on.
//!
//! What a plugin announces is bounded before the host keeps anything for it: a container
//! may have at most [`MAX_PARTITIONS`] partitions, and a worker does not start a partition
//! more than [`ahead`] places past the oldest one of its container not merged yet, so a
//! plugin that stalls its first partition makes the others wait instead of piling up
//! finished states.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::contract::{Partition, PartitionHint, ReadRequest, Scalar, Watermark};
use crate::runtime::DiscoveredContainer;
use crate::{Error, Result};

use super::{Datastore, Progress};

/// What every reading operation can narrow.
#[derive(Debug, Clone)]
pub(super) struct ReadScope {
    /// The operation's name, for spans and messages (`profile`, `scan`).
    pub operation: &'static str,
    /// How many partitions are read at once.
    pub parallelism: usize,
    /// Read only these fields, in this order (projection pushed down).
    pub fields: Option<Vec<String>>,
    /// Read at most this many rows of each container: its first rows, partition by
    /// partition in order.
    pub limit: Option<u64>,
    /// Read only the containers with these names (all when `None`).
    pub containers: Option<Vec<String>>,
}

/// What an operation does with the batches of each container.
pub(super) trait Fold: Sync {
    /// What the operation decided for one container before reading it.
    type Plan: Send + Sync;
    /// What one partition's batches fold into; merged per container.
    type State: Send;

    /// Decide how to read a container with this (projected) schema; may drop partitions
    /// (an incremental read). An error fails the container alone.
    fn plan(
        &self,
        container: &DiscoveredContainer,
        schema: &SchemaRef,
        partitions: &mut Vec<Partition>,
    ) -> Result<Self::Plan>;

    /// Whether to read this container at all (after the scope's own narrowing).
    fn wants(&self, _container: &DiscoveredContainer) -> bool {
        true
    }

    /// The state of a container that has no partition to read.
    fn empty(&self, plan: &Self::Plan, container: &DiscoveredContainer) -> Result<Self::State>;

    /// A fresh state for one partition.
    fn start(
        &self,
        plan: &Self::Plan,
        container: &DiscoveredContainer,
        partition: &Partition,
    ) -> Result<Self::State>;

    /// Fold in the partition's next batch.
    fn update(&self, plan: &Self::Plan, state: &mut Self::State, batch: RecordBatch) -> Result<()>;

    /// Whether the partition's state needs no more batches (its read stops early).
    fn done(&self, _plan: &Self::Plan, _state: &Self::State) -> bool {
        false
    }

    /// The partition watermark a read starts after (an incremental read): passed back in
    /// each read request, so a partition holding old and new records (a pack of small
    /// files, some read before) returns only the new ones.
    fn since(&self, _plan: &Self::Plan) -> Option<Scalar> {
        None
    }

    /// Fold in the state of the partition that follows `into`'s. An error (a bound the
    /// merged state would pass) fails the container.
    fn merge(&self, plan: &Self::Plan, into: &mut Self::State, next: Self::State) -> Result<()>;
}

/// The most partitions one container may have: more is a plugin error ([`Error::Limit`]),
/// before any is read.
pub const MAX_PARTITIONS: usize = 100_000;

/// How many places past the oldest partition of its container not merged yet a worker may
/// start one: with `parallelism` workers, four each.
pub(super) fn ahead(parallelism: usize) -> usize {
    parallelism.max(1) * 4
}

/// How often a worker waiting for its container's merges looks at the cancel flag.
const WAIT_TICK: Duration = Duration::from_millis(50);

/// The result for one container: its plan and merged state, or why it could not be read.
pub(super) struct Folded<F: Fold> {
    /// The container as discovered.
    pub container: DiscoveredContainer,
    /// How many partitions were read.
    pub partitions: usize,
    /// The plan and the state of every partition merged in order.
    pub result: Result<(F::Plan, F::State)>,
}

/// Partitions of one container that one worker reads in order: one partition each, or all of
/// them when a row limit needs them read in turn.
struct Task {
    container: usize,
    /// The first partition's place among the container's partitions.
    first: usize,
    partitions: Vec<Partition>,
}

/// A container's partition states, merged in order as they arrive.
struct Merging<S> {
    merged: Option<S>,
    next: usize,
    /// Partition states not merged yet, by place; `None` for a partition not read.
    waiting: BTreeMap<usize, Option<S>>,
    error: Option<Error>,
}

/// Read every container of a datastore through `fold`. Fails as a whole only when the
/// datastore cannot be opened or listed, or a named container does not exist.
pub(super) fn read<F: Fold>(
    datastore: &Datastore,
    scope: &ReadScope,
    fold: &F,
    progress: &Progress,
) -> Result<Vec<Folded<F>>> {
    let mut session = datastore.open()?;
    session.check()?;
    let mut containers = session.discover()?;
    if let Some(wanted) = &scope.containers {
        if let Some(missing) = wanted
            .iter()
            .find(|w| !containers.iter().any(|c| &c.name == *w))
        {
            let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
            return Err(Error::NoSuchContainer {
                datastore: datastore.name.clone(),
                container: missing.clone(),
                known: names.join(", "),
            });
        }
        containers.retain(|c| wanted.contains(&c.name));
    }
    containers.retain(|c| fold.wants(c));
    let hint = PartitionHint {
        parallelism: scope.parallelism as u32,
        target_bytes: None,
    };
    let mut plans: Vec<Option<(F::Plan, SchemaRef)>> = Vec::with_capacity(containers.len());
    let mut merging = Vec::with_capacity(containers.len());
    let mut counts = Vec::with_capacity(containers.len());
    let mut tasks = Vec::new();
    for (index, container) in containers.iter_mut().enumerate() {
        let planned = match container.error.take() {
            Some(error) => Err(error),
            None => session
                .partitions(&container.name, hint)
                .and_then(|partitions| too_many(&session, &container.name, partitions))
                .and_then(|mut partitions| {
                    let schema = match &scope.fields {
                        Some(fields) => container.projected(fields)?,
                        None => container.schema.clone(),
                    };
                    let plan = fold.plan(container, &schema, &mut partitions)?;
                    Ok((plan, schema, partitions))
                }),
        };
        let mut state = Merging {
            merged: None,
            next: 0,
            waiting: BTreeMap::new(),
            error: None,
        };
        match planned {
            Ok((plan, schema, partitions)) => {
                progress.plan_partitions(partitions.len() as u64);
                counts.push(partitions.len());
                if scope.limit.is_some() {
                    tasks.push(Task {
                        container: index,
                        first: 0,
                        partitions,
                    });
                } else {
                    tasks.extend(partitions.into_iter().enumerate().map(|(first, p)| Task {
                        container: index,
                        first,
                        partitions: vec![p],
                    }));
                }
                plans.push(Some((plan, schema)));
            }
            Err(e) => {
                counts.push(0);
                state.error = Some(e);
                plans.push(None);
            }
        }
        merging.push(state);
    }
    drop(session);

    let merging = Mutex::new(merging);
    // Notified whenever a container's merged place moves on.
    let merged = Condvar::new();
    let ahead = ahead(scope.parallelism);
    let next = AtomicUsize::new(0);
    let workers = scope.parallelism.clamp(1, tasks.len().max(1));
    std::thread::scope(|threads| {
        for _ in 0..workers {
            threads.spawn(|| {
                while let Some(task) = tasks.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let container = &containers[task.container];
                    wait_for_merges(&merging, &merged, task, ahead, progress);
                    let mut remaining = scope.limit;
                    for (offset, partition) in task.partitions.iter().enumerate() {
                        let failed = lock(&merging)[task.container].error.is_some();
                        let plan = plans[task.container].as_ref();
                        let partial = match plan {
                            Some(_) if progress.is_cancelled() => Some(Err(cancelled(scope))),
                            Some((plan, schema)) if !failed && remaining != Some(0) => {
                                let read = PartitionRead {
                                    container,
                                    partition,
                                    schema,
                                    projection: scope.fields.clone(),
                                    limit: remaining,
                                };
                                Some(read.fold(datastore, fold, plan, progress, scope))
                            }
                            _ => None,
                        };
                        progress.finish_partition();
                        if let (Some(left), Some(Ok((_, rows)))) = (&mut remaining, &partial) {
                            *left = left.saturating_sub(*rows);
                        }
                        let mut merging = lock(&merging);
                        let slot = &mut merging[task.container];
                        // A partition skipped (after a failure, or past the row limit) is
                        // merged as nothing, so the ones after it are not held back.
                        let state = match partial {
                            Some(Ok((state, _))) => Some(state),
                            Some(Err(e)) => {
                                slot.error.get_or_insert(e);
                                None
                            }
                            None => None,
                        };
                        slot.waiting.insert(task.first + offset, state);
                        if let Some((plan, _)) = plan {
                            slot.merge_ready(fold, plan);
                        }
                        merged.notify_all();
                    }
                }
            });
        }
    });
    let merging = merging
        .into_inner()
        .map_err(|_| Error::Internal(format!("a {} worker panicked", scope.operation)))?;
    if progress.is_cancelled() {
        return Err(cancelled(scope));
    }
    let mut folded = Vec::with_capacity(containers.len());
    for (((container, plan), slot), partitions) in
        containers.into_iter().zip(plans).zip(merging).zip(counts)
    {
        let result = match (plan, slot.error) {
            (_, Some(error)) => Err(error),
            (None, None) => Err(Error::Internal(format!(
                "container {} has no plan and no error",
                container.name
            ))),
            (Some((plan, _)), None) => match slot.merged {
                Some(state) => Ok((plan, state)),
                None => fold.empty(&plan, &container).map(|state| (plan, state)),
            },
        };
        folded.push(Folded {
            container,
            partitions,
            result,
        });
    }
    Ok(folded)
}

impl<S> Merging<S> {
    /// Merge the states waiting that come next in partition order.
    fn merge_ready<F: Fold<State = S>>(&mut self, fold: &F, plan: &F::Plan) {
        while let Some(state) = self.waiting.remove(&self.next) {
            self.next += 1;
            let Some(state) = state else { continue };
            match &mut self.merged {
                Some(merged) => {
                    if let Err(e) = fold.merge(plan, merged, state) {
                        self.error.get_or_insert(e);
                    }
                }
                None => self.merged = Some(state),
            }
        }
    }
}

/// A container's partitions, unless they are more than [`MAX_PARTITIONS`].
fn too_many(
    session: &crate::runtime::PluginSession,
    container: &str,
    partitions: Vec<Partition>,
) -> Result<Vec<Partition>> {
    if partitions.len() <= MAX_PARTITIONS {
        return Ok(partitions);
    }
    Err(Error::Limit {
        plugin: session.plugin().label().clone(),
        call: format!("partitions of `{container}`"),
        reason: format!(
            "it announced {} partitions, more than the {MAX_PARTITIONS} a container may have; \
             the container was not read (a connector should split a container into a few \
             partitions per reader, not one per record)",
            partitions.len()
        ),
    })
}

/// Block until `task` may start: its first partition at most `ahead` places past the oldest
/// partition of its container not merged yet (or the container failed, or the operation
/// was cancelled). The place it waits for is always taken by a worker that is not waiting,
/// since tasks are taken in order.
fn wait_for_merges<S>(
    merging: &Mutex<Vec<Merging<S>>>,
    merged: &Condvar,
    task: &Task,
    ahead: usize,
    progress: &Progress,
) {
    let mut guard = lock(merging);
    loop {
        let slot = &guard[task.container];
        if task.first <= slot.next + ahead || slot.error.is_some() || progress.is_cancelled() {
            return;
        }
        guard = merged
            .wait_timeout(guard, WAIT_TICK)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .0;
    }
}

fn cancelled(scope: &ReadScope) -> Error {
    Error::Cancelled(format!(
        "the {} was stopped before it finished",
        scope.operation
    ))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One partition to read in its own instance and fold.
struct PartitionRead<'a> {
    container: &'a DiscoveredContainer,
    partition: &'a Partition,
    schema: &'a SchemaRef,
    projection: Option<Vec<String>>,
    /// Rows still wanted, when the container has a row limit.
    limit: Option<u64>,
}

impl PartitionRead<'_> {
    /// The partition's state and the rows it was fed.
    fn fold<F: Fold>(
        &self,
        datastore: &Datastore,
        fold: &F,
        plan: &F::Plan,
        progress: &Progress,
        scope: &ReadScope,
    ) -> Result<(F::State, u64)> {
        let container = self.container;
        let span = tracing::debug_span!("partition", container = %container.name, partition = %self.partition.description);
        let _entered = span.enter();
        let mut state = fold.start(plan, container, self.partition)?;
        let mut session = datastore.open()?;
        let request = ReadRequest {
            container: container.name.clone(),
            partition: self.partition.clone(),
            projection: self.projection.clone(),
            filter: Vec::new(),
            limit: self.limit,
            // The partitions' own watermark: its field is the empty name.
            watermark: fold.since(plan).map(|value| Watermark {
                field: String::new(),
                value,
            }),
        };
        let mut reader = session
            .read(request, self.schema.clone())?
            .stop_when(progress.cancel_flag());
        let mut counted_bytes = 0;
        let mut wanted = self.limit.unwrap_or(u64::MAX);
        let mut rows = 0;
        while let Some(batch) = reader.next() {
            if progress.is_cancelled() {
                return Err(cancelled(scope));
            }
            let batch = batch?;
            progress.add_rows(batch.num_rows() as u64, reader.bytes() - counted_bytes);
            counted_bytes = reader.bytes();
            let batch = batch.slice(0, batch.num_rows().min(wanted as usize));
            wanted -= batch.num_rows() as u64;
            rows += batch.num_rows() as u64;
            fold.update(plan, &mut state, batch)?;
            if wanted == 0 || fold.done(plan, &state) {
                break;
            }
        }
        Ok((state, rows))
    }
}
