//! The profile operation: every container's partitions read in parallel (the shared
//! [`fold`](super::fold) loop) and their profiles merged. A container that fails is reported
//! with its error; the others are still profiled.
//! Options narrow the work: some fields only, a sample of the rows, the first rows only.

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::contract::Partition;
use crate::profile::ContainerProfile;
use crate::runtime::DiscoveredContainer;
use crate::{Error, Result};

use super::fold::{self, Fold, ReadScope};
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

/// Profile every container of a datastore. Fails as a whole only when the datastore cannot be
/// opened or listed; a container's own failure is in its outcome.
pub fn profile(
    datastore: &Datastore,
    options: &ProfileOptions,
    progress: &Progress,
) -> Result<Vec<ContainerOutcome>> {
    let span = tracing::info_span!("operation.profile", datastore = %datastore.name, plugin = %datastore.plugin.label());
    let _entered = span.enter();
    let scope = ReadScope {
        operation: "profile",
        parallelism: options.parallelism,
        fields: options.fields.clone(),
        limit: options.limit,
        containers: options.containers.clone(),
    };
    let fold = ProfileFold {
        sample: options.sample,
        profiled_at: chrono::Utc::now().timestamp_micros(),
    };
    let folded = fold::read(datastore, &scope, &fold, progress)?;
    Ok(folded
        .into_iter()
        .map(|folded| ContainerOutcome {
            name: folded.container.name,
            result: folded.result.map(|(_, partial)| partial.profile),
        })
        .collect())
}

/// Profiling as a fold: each partition's rows (or a sample of them) into a profile.
struct ProfileFold {
    sample: Option<Sample>,
    /// When the operation started, in µs since the epoch.
    profiled_at: i64,
}

/// How one container is profiled.
struct Plan {
    schema: SchemaRef,
    sample_fraction: Option<f64>,
}

/// A partition's profile, and the sampler that picks its rows.
struct PartialProfile {
    profile: ContainerProfile,
    sampler: Option<RowSampler>,
}

impl Fold for ProfileFold {
    type Plan = Plan;
    type State = PartialProfile;

    fn plan(
        &self,
        container: &DiscoveredContainer,
        schema: &SchemaRef,
        partitions: &mut Vec<Partition>,
    ) -> Result<Plan> {
        let estimated_rows = container
            .row_estimate
            .or_else(|| partitions.iter().map(|p| p.row_estimate).sum());
        let sample_fraction = self.sample.and_then(|sample| {
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
            schema: schema.clone(),
            sample_fraction: sample_fraction.filter(|f| *f < 1.0),
        })
    }

    fn empty(&self, plan: &Plan, container: &DiscoveredContainer) -> Result<PartialProfile> {
        let mut profile = ContainerProfile::new(&container.name, &plan.schema, self.profiled_at);
        profile.sample_fraction = plan.sample_fraction;
        Ok(PartialProfile {
            profile,
            sampler: None,
        })
    }

    fn start(
        &self,
        plan: &Plan,
        container: &DiscoveredContainer,
        partition: &Partition,
    ) -> Result<PartialProfile> {
        let mut partial = self.empty(plan, container)?;
        partial.sampler = plan
            .sample_fraction
            .map(|f| RowSampler::new(f, &container.name, &partition.id));
        Ok(partial)
    }

    fn update(&self, _: &Plan, state: &mut PartialProfile, batch: RecordBatch) -> Result<()> {
        let batch = match &mut state.sampler {
            Some(sampler) => sampler.sample(&batch).map_err(|e| {
                Error::Internal(format!("sampling a batch of {}: {e}", state.profile.name))
            })?,
            None => batch,
        };
        state.profile.update(&batch);
        Ok(())
    }

    fn merge(&self, _: &Plan, into: &mut PartialProfile, next: PartialProfile) -> Result<()> {
        into.profile.merge(next.profile);
        Ok(())
    }
}
