//! Distinct counts: exact (a set of 64-bit value hashes) while small, then a HyperLogLog
//! sketch (Apache DataSketches, lg_k = 14: relative standard error about 0.8%).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use datasketches::hll::{HllSketch, HllType, HllUnion};

use super::sketch_bytes::serde_via_bytes;

/// Above this many distinct values the count becomes approximate.
pub const EXACT_LIMIT: usize = 100_000;
const LG_K: u8 = 14;

/// The relative standard error of an approximate count: 1.04 / sqrt(2^LG_K).
pub const RELATIVE_STANDARD_ERROR: f64 = 1.04 / 128.0;

/// Counts distinct values by their 64-bit hashes.
#[derive(Debug, Clone)]
pub enum DistinctCounter {
    /// Every hash seen (exact up to hash collisions, about 1 in 10^10 at the limit).
    Exact(HashSet<u64, BuildHasherDefault<IdentityHasher>>),
    /// A HyperLogLog sketch.
    Sketch(Box<HllSketch>),
}

impl Default for DistinctCounter {
    fn default() -> Self {
        DistinctCounter::Exact(HashSet::default())
    }
}

impl DistinctCounter {
    /// Count one value by its hash.
    pub fn insert(&mut self, hash: u64) {
        match self {
            DistinctCounter::Exact(set) => {
                set.insert(hash);
                if set.len() > EXACT_LIMIT {
                    *self = DistinctCounter::Sketch(Box::new(sketch_of(set)));
                }
            }
            DistinctCounter::Sketch(sketch) => sketch.update(hash),
        }
    }

    /// Combine with the counter of another part of the same field.
    pub fn merge(&mut self, other: DistinctCounter) {
        match (&mut *self, other) {
            (DistinctCounter::Exact(mine), DistinctCounter::Exact(theirs)) => {
                for hash in theirs {
                    mine.insert(hash);
                }
                if mine.len() > EXACT_LIMIT {
                    *self = DistinctCounter::Sketch(Box::new(sketch_of(mine)));
                }
            }
            (mine, theirs) => {
                let mut union = HllUnion::new(LG_K).expect("LG_K is a valid HyperLogLog size");
                for side in [mine.as_sketch(), theirs.as_sketch()] {
                    union.update(&side);
                }
                *self = DistinctCounter::Sketch(Box::new(union.to_sketch(HllType::Hll8)));
            }
        }
    }

    fn as_sketch(&self) -> HllSketch {
        match self {
            DistinctCounter::Exact(set) => sketch_of(set),
            DistinctCounter::Sketch(sketch) => (**sketch).clone(),
        }
    }

    /// The count, and whether it is an estimate.
    pub fn count(&self) -> (u64, bool) {
        match self {
            DistinctCounter::Exact(set) => (set.len() as u64, false),
            DistinctCounter::Sketch(sketch) => (sketch.estimate().round() as u64, true),
        }
    }

    /// The count's relative standard error: 0 while exact.
    pub fn relative_error(&self) -> f64 {
        match self {
            DistinctCounter::Exact(_) => 0.0,
            DistinctCounter::Sketch(_) => RELATIVE_STANDARD_ERROR,
        }
    }

    /// Tag 0 and the sorted hashes, or tag 1 and the sketch.
    fn to_bytes(&self) -> Vec<u8> {
        match self {
            DistinctCounter::Exact(set) => {
                let mut hashes: Vec<u64> = set.iter().copied().collect();
                hashes.sort_unstable();
                std::iter::once(0u8)
                    .chain(hashes.iter().flat_map(|h| h.to_le_bytes()))
                    .collect()
            }
            DistinctCounter::Sketch(sketch) => [vec![1u8], sketch.serialize()].concat(),
        }
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        match bytes.split_first() {
            Some((0, hashes)) if hashes.len() % 8 == 0 => Ok(DistinctCounter::Exact(
                hashes
                    .chunks_exact(8)
                    .map(|h| u64::from_le_bytes(h.try_into().unwrap_or_default()))
                    .collect(),
            )),
            Some((1, sketch)) => HllSketch::deserialize(sketch)
                .map(|s| DistinctCounter::Sketch(Box::new(s)))
                .map_err(|e| format!("a distinct-count sketch is corrupt: {e}")),
            _ => Err("a distinct counter is corrupt".into()),
        }
    }
}

serde_via_bytes!(
    DistinctCounter,
    DistinctCounter::to_bytes,
    DistinctCounter::from_bytes
);

fn sketch_of(hashes: &HashSet<u64, BuildHasherDefault<IdentityHasher>>) -> HllSketch {
    let mut sketch = HllSketch::new(LG_K, HllType::Hll8).expect("LG_K is a valid HyperLogLog size");
    for hash in hashes {
        sketch.update(*hash);
    }
    sketch
}

/// The values are hashes already: the set uses them as they are.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(i: u64) -> u64 {
        xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes())
    }

    #[test]
    fn exact_while_small_and_merges_exactly() {
        let mut a = DistinctCounter::default();
        let mut b = DistinctCounter::default();
        (0..600).for_each(|i| a.insert(hash(i)));
        (400..1000).for_each(|i| b.insert(hash(i)));
        a.merge(b);
        assert_eq!(a.count(), (1000, false));
        let back: DistinctCounter =
            serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back.count(), (1000, false));
    }

    #[test]
    fn approximate_past_the_limit_within_three_standard_errors() {
        let n = 300_000u64;
        let mut a = DistinctCounter::default();
        let mut b = DistinctCounter::default();
        (0..n / 2 + 5000).for_each(|i| a.insert(hash(i)));
        (n / 2..n).for_each(|i| b.insert(hash(i)));
        a.merge(b);
        let (estimate, approximate) = a.count();
        assert!(approximate);
        let back: DistinctCounter =
            serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back.count(), a.count());
        let error = (estimate as f64 - n as f64).abs() / n as f64;
        assert!(
            error < 3.0 * 0.0082,
            "estimate {estimate} for {n}: error {error}"
        );
    }
}
