//! What inferring a file's schema yields: the schema and an estimate of its records.

use arrow_schema::SchemaRef;

use crate::listing::{Compression, FileEntry};

/// A schema inferred from a sample, and the number of records it suggests.
#[derive(Debug, Clone)]
pub struct Inferred {
    pub schema: SchemaRef,
    pub row_estimate: Option<u64>,
}

/// Records in a file from a sample of `sampled` records in its first `sample_bytes` bytes: exact
/// when the sample ended before `wanted` (it was the whole file), scaled by size for a plain
/// file, unknown for a compressed one.
pub fn estimate_rows(
    file: &FileEntry,
    sampled: usize,
    wanted: usize,
    sample_bytes: u64,
) -> Option<u64> {
    if sampled < wanted {
        Some(sampled as u64)
    } else if file.compression == Compression::None {
        Some((file.size as f64 * sampled as f64 / sample_bytes.max(1) as f64) as u64)
    } else {
        None
    }
}
