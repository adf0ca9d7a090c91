//! Field profiles: per-field statistics built in one pass over record batches, in memory that
//! does not grow with the data, and mergeable, so partitions are profiled in parallel and
//! their profiles combined: counts, nulls, min and max merge exactly, mean and variance by the
//! parallel Welford formula, distinct counts exactly while small and by HyperLogLog after.

mod distinct;
mod field;
mod moments;
mod value;

use arrow::datatypes::Schema;
use arrow::record_batch::RecordBatch;

pub use distinct::DistinctCounter;
pub use field::FieldProfile;
pub use moments::Moments;
pub use value::Value;

/// The profile of one container: its record count and one profile per field.
#[derive(Debug, Clone)]
pub struct ContainerProfile {
    /// The container's name in its datastore.
    pub name: String,
    /// Records seen.
    pub rows: u64,
    /// One per field, in schema order.
    pub fields: Vec<FieldProfile>,
}

impl ContainerProfile {
    /// An empty profile for a container with this schema.
    pub fn new(name: &str, schema: &Schema) -> Self {
        ContainerProfile {
            name: name.into(),
            rows: 0,
            fields: schema
                .fields()
                .iter()
                .map(|f| FieldProfile::new(f))
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
