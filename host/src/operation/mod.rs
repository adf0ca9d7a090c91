//! Operations over a datastore. Each runs its plugin calls inside the datastore's sandbox,
//! spreads partitions over cores (one plugin instance per partition) and reports progress.

mod catalog;
mod datastore;
mod fold;
mod pick;
mod profile;
mod progress;
mod reference;
mod sample;
mod scan;

pub use catalog::catalog;
pub use datastore::Datastore;
pub use profile::{ContainerOutcome, ProfileOptions, profile};
pub use progress::{Progress, ProgressSnapshot};
pub use sample::{RowSampler, Sample};
pub use scan::{DEFAULT_MAX_RECORDS, ScanOptions, ScanOutcome, scan};
