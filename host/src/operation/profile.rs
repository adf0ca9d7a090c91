//! The profile operation: discover a datastore's containers, split each into partitions,
//! read the partitions in parallel (a fresh plugin instance each) and merge their profiles.
//! A container that fails is reported with its error; the others are still profiled.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::contract::{Partition, PartitionHint, ReadRequest};
use crate::profile::ContainerProfile;
use crate::runtime::DiscoveredContainer;
use crate::{Error, Result};

use super::{Datastore, Progress};

/// How to run a profile.
#[derive(Debug, Clone)]
pub struct ProfileOptions {
    /// How many partitions are read at once.
    pub parallelism: usize,
}

impl Default for ProfileOptions {
    /// As many readers as cores.
    fn default() -> Self {
        ProfileOptions {
            parallelism: std::thread::available_parallelism().map_or(1, |n| n.get()),
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

struct Task {
    container: usize,
    partition: Partition,
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
    let hint = PartitionHint {
        parallelism: options.parallelism as u32,
        target_bytes: None,
    };
    let mut outcomes: Vec<Result<ContainerProfile>> = Vec::with_capacity(containers.len());
    let mut tasks = Vec::new();
    for (index, container) in containers.iter_mut().enumerate() {
        if let Some(error) = container.error.take() {
            outcomes.push(Err(error));
            continue;
        }
        match session.partitions(&container.name, hint) {
            Ok(partitions) => {
                progress.plan_partitions(partitions.len() as u64);
                tasks.extend(partitions.into_iter().map(|partition| Task {
                    container: index,
                    partition,
                }));
                outcomes.push(Ok(ContainerProfile::new(
                    &container.name,
                    &container.schema,
                )));
            }
            Err(e) => outcomes.push(Err(e)),
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
                    let failed = lock(&outcomes)[task.container].is_err();
                    let partial = if failed {
                        None
                    } else {
                        Some(profile_partition(
                            datastore,
                            container,
                            &task.partition,
                            progress,
                        ))
                    };
                    progress.finish_partition();
                    let mut outcomes = lock(&outcomes);
                    let slot = &mut outcomes[task.container];
                    match (slot.as_mut(), partial) {
                        (Ok(profile), Some(Ok(partial))) => profile.merge(partial),
                        (Ok(_), Some(Err(e))) => *slot = Err(e),
                        _ => {}
                    }
                }
            });
        }
    });
    let outcomes = outcomes
        .into_inner()
        .map_err(|_| Error::Internal("a profile worker panicked".into()))?;
    Ok(containers
        .iter()
        .zip(outcomes)
        .map(|(container, result)| ContainerOutcome {
            name: container.name.clone(),
            result,
        })
        .collect())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Read one partition in its own instance and profile it.
fn profile_partition(
    datastore: &Datastore,
    container: &DiscoveredContainer,
    partition: &Partition,
    progress: &Progress,
) -> Result<ContainerProfile> {
    let span = tracing::debug_span!("partition", container = %container.name, partition = %partition.description);
    let _entered = span.enter();
    let mut session = datastore.open()?;
    let request = ReadRequest {
        container: container.name.clone(),
        partition: partition.clone(),
        projection: None,
        filter: Vec::new(),
        limit: None,
        watermark: None,
    };
    let mut profile = ContainerProfile::new(&container.name, &container.schema);
    let mut reader = session.read(request, container.schema.clone())?;
    let mut counted_bytes = 0;
    while let Some(batch) = reader.next() {
        let batch = batch?;
        profile.update(&batch);
        progress.add_rows(batch.num_rows() as u64, reader.bytes() - counted_bytes);
        counted_bytes = reader.bytes();
    }
    Ok(profile)
}
