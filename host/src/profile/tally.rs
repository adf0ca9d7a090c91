//! A batch's values counted once per distinct value, by hash, before they go into the distinct
//! counter and the top values: one hash-map step per value instead of one per sketch.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::distinct::IdentityHasher;

/// Per value hash: what stands for the value (its key, or the row it was first seen in) and how
/// often it was seen.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    counts: HashMap<u64, (u64, u64), BuildHasherDefault<IdentityHasher>>,
}

impl Tally {
    /// Count the value with this hash once; `payload` stands for it if it is new.
    pub fn add(&mut self, hash: u64, payload: u64) {
        self.add_count(hash, payload, 1);
    }

    /// Count the value with this hash `count` times.
    pub fn add_count(&mut self, hash: u64, payload: u64, count: u64) {
        self.counts.entry(hash).or_insert((payload, 0)).1 += count;
    }

    /// Each value's hash, payload and count; the tally is empty after.
    pub fn drain(&mut self) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
        self.counts
            .drain()
            .map(|(hash, (payload, count))| (hash, payload, count))
    }
}
