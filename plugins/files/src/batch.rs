//! How many records go into one record batch: the `batch_rows` setting, lowered for wide files
//! so that a batch holds at most [`CELL_BUDGET`] values.
//!
//! Decoders size their buffers for a whole batch before reading it: arrow-csv reserves an
//! offset (4 bytes in wasm32) and 8 bytes of text per value of `batch_rows × fields`, so a
//! 2 000-field CSV at the default 65 536 rows asked for 1.5 GiB before reading a byte, more
//! than an instance's default memory grant (1 GiB). Bounding the values per batch bounds that
//! reservation at about 50 MiB whatever the width, and leaves narrow files (up to 64 fields)
//! at the full `batch_rows`.

/// The most values (rows × fields) one batch holds: 4 Mi, 64 fields of 65 536 rows.
pub const CELL_BUDGET: usize = 1 << 22;

/// Records per batch for a file of `fields` fields: `batch_rows`, or fewer so that the batch
/// holds at most [`CELL_BUDGET`] values; never less than one.
pub fn rows_per_batch(batch_rows: usize, fields: usize) -> usize {
    let budget_rows = CELL_BUDGET / fields.max(1);
    batch_rows.min(budget_rows).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_files_keep_the_setting() {
        assert_eq!(rows_per_batch(65_536, 1), 65_536);
        assert_eq!(rows_per_batch(65_536, 64), 65_536);
        assert_eq!(rows_per_batch(1_000, 10), 1_000);
        assert_eq!(rows_per_batch(65_536, 0), 65_536);
    }

    #[test]
    fn wide_files_stay_within_the_budget() {
        assert_eq!(rows_per_batch(65_536, 2_000), 2_097);
        assert_eq!(rows_per_batch(65_536, 10_000), 419);
        assert!(rows_per_batch(65_536, 2_000) * 2_000 <= CELL_BUDGET);
        assert_eq!(rows_per_batch(65_536, 10_000_000), 1);
    }
}
