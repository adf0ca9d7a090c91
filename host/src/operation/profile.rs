//! The profile operation: discover a datastore's containers, split each into partitions,
//! read the partitions in parallel (a fresh plugin instance each) and merge their profiles.
//! A container that fails is reported with its error; the others are still profiled.
//! Options narrow the work: some fields only, a sample of the rows, the first rows only.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::datatypes::SchemaRef;

use crate::contract::{Partition, PartitionHint, ReadRequest};
use crate::profile::ContainerProfile;
use crate::runtime::DiscoveredContainer;
use crate::{Error, Result};

use super::sample::{RowSampler, Sample};
use super::{Datastore, Progress};

/// How to run a profile.
#[derive(Debug, Clone)]
pub struct ProfileOptions {
    /// How many partitions are read at once.
    pub parallelism: usize,
    /// Profile only these fields, in this order (read with projection pushed down).
    pub fields: Option<Vec<String>>,
    /// Profile a sample of each container's rows.
    pub sample: Option<Sample>,
    /// Profile at most this many rows of each container: its first rows, partition by
    /// partition in order.
    pub limit: Option<u64>,
    /// Profile only the containers with these names (all when `None`).
    pub containers: Option<Vec<String>>,
}

impl Default for ProfileOptions {
    /// Every field of every row, as many readers as cores.
    fn default() -> Self {
        ProfileOptions {
            parallelism: std::thread::available_parallelism().map_or(1, |n| n.get()),
            fields: None,
            sample: None,
            limit: None,
            containers: None,
        }
    }
}

/// The result for one container.
#[derive(Debug)]
pub struct ContainerOutcome {
    /// The container's name.
    pub name: String,
    /// Its profile, or why it could not be made.
    pub result: Result<ContainerProfile>,
}

/// Partitions of one container that one worker reads in order: one partition each, or all of
/// them when a row limit needs them read in turn.
struct Task {
    container: usize,
    partitions: Vec<Partition>,
}

/// How one container is read: its (projected) schema and the options that shape each read.
struct Plan {
    schema: SchemaRef,
    /// When the operation started, in µs since the epoch.
    profiled_at: i64,
    projection: Option<Vec<String>>,
    sample_fraction: Option<f64>,
}

/// Profile every container of a datastore. Fails as a whole only when the datastore cannot be
/// opened or listed; a container's own failure is in its outcome.
pub fn profile(
    datastore: &Datastore,
    options: &ProfileOptions,
    progress: &Progress,
) -> Result<Vec<ContainerOutcome>> {
    let span = tracing::info_span!("operation.profile", datastore = %datastore.name, plugin = %datastore.plugin.label());
    let _entered = span.enter();
    let mut session = datastore.open()?;
    session.check()?;
    let mut containers = session.discover()?;
    if let Some(wanted) = &options.containers {
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
    let hint = PartitionHint {
        parallelism: options.parallelism as u32,
        target_bytes: None,
    };
    let profiled_at = chrono::Utc::now().timestamp_micros();
    let mut outcomes: Vec<Result<ContainerProfile>> = Vec::with_capacity(containers.len());
    let mut plans: Vec<Option<Plan>> = Vec::with_capacity(containers.len());
    let mut tasks = Vec::new();
    for (index, container) in containers.iter_mut().enumerate() {
        let planned = match container.error.take() {
            Some(error) => Err(error),
            None => session
                .partitions(&container.name, hint)
                .and_then(|partitions| {
                    let plan = plan(container, &partitions, options, profiled_at)?;
                    Ok((plan, partitions))
                }),
        };
        match planned {
            Ok((plan, partitions)) => {
                progress.plan_partitions(partitions.len() as u64);
                if options.limit.is_some() {
                    tasks.push(Task {
                        container: index,
                        partitions,
                    });
                } else {
                    tasks.extend(partitions.into_iter().map(|partition| Task {
                        container: index,
                        partitions: vec![partition],
                    }));
                }
                let mut profile = ContainerProfile::new(&container.name, &plan.schema, profiled_at);
                profile.sample_fraction = plan.sample_fraction;
                outcomes.push(Ok(profile));
                plans.push(Some(plan));
            }
            Err(e) => {
                outcomes.push(Err(e));
                plans.push(None);
            }
        }
    }
    drop(session);

    let outcomes = Mutex::new(outcomes);
    let next = AtomicUsize::new(0);
    let workers = options.parallelism.clamp(1, tasks.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(task) = tasks.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let container = &containers[task.container];
                    let mut remaining = options.limit;
                    for partition in &task.partitions {
                        let failed = lock(&outcomes)[task.container].is_err();
                        let plan = plans[task.container].as_ref();
                        let partial = match plan {
                            Some(_) if progress.is_cancelled() => Some(Err(cancelled())),
                            Some(plan) if !failed && remaining != Some(0) => {
                                let read = PartitionRead {
                                    container,
                                    partition,
                                    plan,
                                    limit: remaining,
                                };
                                Some(read.profile(datastore, progress))
                            }
                            _ => None,
                        };
                        progress.finish_partition();
                        if let (Some(left), Some(Ok(partial))) = (&mut remaining, &partial) {
                            *left = left.saturating_sub(partial.rows);
                        }
                        let mut outcomes = lock(&outcomes);
                        let slot = &mut outcomes[task.container];
                        match (slot.as_mut(), partial) {
                            (Ok(profile), Some(Ok(partial))) => profile.merge(partial),
                            (Ok(_), Some(Err(e))) => *slot = Err(e),
                            _ => {}
                        }
                    }
                }
            });
        }
    });
    let outcomes = outcomes
        .into_inner()
        .map_err(|_| Error::Internal("a profile worker panicked".into()))?;
    if progress.is_cancelled() {
        return Err(cancelled());
    }
    Ok(containers
        .iter()
        .zip(outcomes)
        .map(|(container, result)| ContainerOutcome {
            name: container.name.clone(),
            result,
        })
        .collect())
}

fn cancelled() -> Error {
    Error::Cancelled("the profile was stopped before it finished".into())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The schema, projection and sample share for one container.
fn plan(
    container: &DiscoveredContainer,
    partitions: &[Partition],
    options: &ProfileOptions,
    profiled_at: i64,
) -> Result<Plan> {
    let schema = match &options.fields {
        Some(fields) => container.projected(fields)?,
        None => container.schema.clone(),
    };
    let estimated_rows = container
        .row_estimate
        .or_else(|| partitions.iter().map(|p| p.row_estimate).sum());
    let sample_fraction = options.sample.and_then(|sample| {
        let fraction = sample.fraction(estimated_rows);
        if fraction.is_none() {
            tracing::warn!(
                container = %container.name,
                "the plugin gave no row estimate, so a sample of a number of rows cannot be \
                 drawn: profiling every row (give --sample a fraction, e.g. 0.1, instead)"
            );
        }
        fraction
    });
    Ok(Plan {
        schema,
        profiled_at,
        projection: options.fields.clone(),
        sample_fraction: sample_fraction.filter(|f| *f < 1.0),
    })
}

/// One partition to read in its own instance and profile.
struct PartitionRead<'a> {
    container: &'a DiscoveredContainer,
    partition: &'a Partition,
    plan: &'a Plan,
    /// Rows still wanted, when the container has a row limit.
    limit: Option<u64>,
}

impl PartitionRead<'_> {
    fn profile(&self, datastore: &Datastore, progress: &Progress) -> Result<ContainerProfile> {
        let (container, plan) = (self.container, self.plan);
        let span = tracing::debug_span!("partition", container = %container.name, partition = %self.partition.description);
        let _entered = span.enter();
        let mut session = datastore.open()?;
        let request = ReadRequest {
            container: container.name.clone(),
            partition: self.partition.clone(),
            projection: plan.projection.clone(),
            filter: Vec::new(),
            limit: self.limit,
            watermark: None,
        };
        let mut profile = ContainerProfile::new(&container.name, &plan.schema, plan.profiled_at);
        let mut sampler = plan
            .sample_fraction
            .map(|f| RowSampler::new(f, &container.name, &self.partition.id));
        let mut reader = session.read(request, plan.schema.clone())?;
        let mut counted_bytes = 0;
        let mut wanted = self.limit.unwrap_or(u64::MAX);
        while let Some(batch) = reader.next() {
            if progress.is_cancelled() {
                return Err(cancelled());
            }
            let batch = batch?;
            progress.add_rows(batch.num_rows() as u64, reader.bytes() - counted_bytes);
            counted_bytes = reader.bytes();
            let batch = match &mut sampler {
                Some(sampler) => sampler.sample(&batch).map_err(|e| {
                    Error::Internal(format!("sampling a batch of {}: {e}", container.name))
                })?,
                None => batch,
            };
            let batch = batch.slice(0, batch.num_rows().min(wanted as usize));
            wanted -= batch.num_rows() as u64;
            profile.update(&batch);
            if wanted == 0 {
                break;
            }
        }
        Ok(profile)
    }
}
