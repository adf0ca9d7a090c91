//! Field profiles: per-field statistics built in one pass over record batches, in memory that
//! does not grow with the data, and mergeable, so partitions are profiled in parallel and
//! their profiles combined. Counts, nulls, min, max, zeros, negatives, histograms, text
//! lengths, types and shapes merge exactly; mean and variance by the parallel Welford
//! formula; distinct counts exactly while small and by HyperLogLog after; quantiles exactly
//! while small and by a deterministic KLL sketch after; top values by a frequent-items sketch,
//! each with its error stated. Profiles serialise with serde (sketches as base64 bytes) to be
//! stored and merged later.

mod distinct;
mod field;
mod histogram;
mod inference;
mod kind;
mod kll;
mod moments;
#[cfg(test)]
mod properties;
mod quantiles;
mod sketch_bytes;
mod tally;
mod text;
mod top_values;
mod value;

use arrow::datatypes::Schema;
use arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};

pub use distinct::{DistinctCounter, RELATIVE_STANDARD_ERROR as DISTINCT_STANDARD_ERROR};
pub use field::FieldProfile;
pub use histogram::{Bin, Histogram};
pub use inference::TextType;
// The checks' `is_type` rule reads text by the same rules as the profile.
pub(crate) use inference::classify;
pub use kind::{FutureCount, Kind};
pub use moments::{Moments, NumberStats};
pub use quantiles::{PERCENTILES, Quantile, Quantiles};
pub use text::{TextStats, TypeCounts};
pub use top_values::{Frequent, TopValues};
pub use value::Value;

/// The profile of one container: its record count and one profile per field.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerProfile {
    /// The container's name in its datastore.
    pub name: String,
    /// Records profiled.
    pub rows: u64,
    /// When the profile was made, in µs since the epoch (dates after it count as future).
    pub profiled_at: i64,
    /// The share of the container's rows profiled, when it was a sample.
    pub sample_fraction: Option<f64>,
    /// One per field, in schema order.
    pub fields: Vec<FieldProfile>,
}

impl ContainerProfile {
    /// An empty profile for a container with this schema, made at `profiled_at` (µs since
    /// the epoch).
    pub fn new(name: &str, schema: &Schema, profiled_at: i64) -> Self {
        ContainerProfile {
            name: name.into(),
            rows: 0,
            profiled_at,
            sample_fraction: None,
            fields: schema
                .fields()
                .iter()
                .map(|f| FieldProfile::new(f, profiled_at))
                .collect(),
        }
    }

    /// Add a batch whose schema is the one this profile was made for.
    pub fn update(&mut self, batch: &RecordBatch) {
        self.rows += batch.num_rows() as u64;
        for (field, column) in self.fields.iter_mut().zip(batch.columns()) {
            field.update(column.as_ref());
        }
    }

    /// Fold in the profile of another part of the same container.
    pub fn merge(&mut self, other: ContainerProfile) {
        self.rows += other.rows;
        for (field, other) in self.fields.iter_mut().zip(other.fields) {
            field.merge(other);
        }
    }
}
