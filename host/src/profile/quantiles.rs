//! Quantiles of a field's numbers (dates as days, timestamps in their unit) from a KLL sketch
//! (Apache DataSketches, k = 200): a reported quantile's rank is within
//! [`Quantiles::rank_error`] (about 1.3%) of the asked rank, with 99% confidence.

use datasketches::common::SearchCriteria;
use datasketches::kll::{KllFloat, KllSketch};

use super::sketch_bytes::serde_via_bytes;

/// The quantiles a profile reports, by name.
pub const PERCENTILES: [(&str, f64); 7] = [
    ("p1", 0.01),
    ("p5", 0.05),
    ("p25", 0.25),
    ("p50", 0.50),
    ("p75", 0.75),
    ("p95", 0.95),
    ("p99", 0.99),
];

/// A quantile sketch over integers (exact order for all of i64) or over floating-point
/// numbers.
#[derive(Debug, Clone)]
pub enum Quantiles {
    /// Integers, dates, times and timestamps.
    Int(KllSketch<i64>),
    /// Floating-point and decimal numbers (NaN left out).
    Float(KllSketch<KllFloat<f64>>),
}

/// One reported quantile: an integer or a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quantile {
    /// From an integer sketch.
    Int(i64),
    /// From a floating-point sketch.
    Float(f64),
}

impl Quantiles {
    /// An empty sketch for integers (k = 200, DataSketches' default).
    pub fn int() -> Self {
        Quantiles::Int(KllSketch::default())
    }

    /// An empty sketch for floating-point numbers.
    pub fn float() -> Self {
        Quantiles::Float(KllSketch::default())
    }

    /// Add integers (to an integer sketch).
    pub fn add_ints(&mut self, values: impl Iterator<Item = i64>) {
        if let Quantiles::Int(sketch) = self {
            values.for_each(|v| sketch.update(v));
        }
    }

    /// Add numbers (to a floating-point sketch); NaN is skipped.
    pub fn add_floats(&mut self, values: impl Iterator<Item = f64>) {
        if let Quantiles::Float(sketch) = self {
            for value in values {
                if let Ok(value) = KllFloat::<f64>::new(value) {
                    sketch.update(value);
                }
            }
        }
    }

    /// Combine with the sketch of another part of the same field.
    pub fn merge(&mut self, other: &Quantiles) {
        // Both sides come from the same field's type, so the variants agree and k is equal.
        let _ = match (self, other) {
            (Quantiles::Int(mine), Quantiles::Int(theirs)) => mine.merge(theirs),
            (Quantiles::Float(mine), Quantiles::Float(theirs)) => mine.merge(theirs),
            _ => Ok(()),
        };
    }

    /// The [`PERCENTILES`], in order; empty when no value was seen.
    pub fn percentiles(&self) -> Vec<(&'static str, Quantile)> {
        let ranks = PERCENTILES.iter().map(|(name, rank)| (*name, *rank));
        match self {
            Quantiles::Int(sketch) => ranks
                .filter_map(|(name, rank)| {
                    let q = sketch.quantile(rank, SearchCriteria::Inclusive).ok()??;
                    Some((name, Quantile::Int(q)))
                })
                .collect(),
            Quantiles::Float(sketch) => ranks
                .filter_map(|(name, rank)| {
                    let q = sketch.quantile(rank, SearchCriteria::Inclusive).ok()??;
                    Some((name, Quantile::Float(q.into_inner())))
                })
                .collect(),
        }
    }

    /// The normalized rank error of a single quantile (99% confidence).
    pub fn rank_error(&self) -> f64 {
        match self {
            Quantiles::Int(sketch) => sketch.normalized_rank_error(),
            Quantiles::Float(sketch) => sketch.normalized_rank_error(),
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let (tag, body) = match self {
            Quantiles::Int(sketch) => (0u8, sketch.serialize()),
            Quantiles::Float(sketch) => (1u8, sketch.serialize()),
        };
        [vec![tag], body].concat()
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let error = |e: datasketches::error::Error| format!("a quantile sketch is corrupt: {e}");
        match bytes.split_first() {
            Some((0, body)) => KllSketch::deserialize(body)
                .map(Quantiles::Int)
                .map_err(error),
            Some((1, body)) => KllSketch::deserialize(body)
                .map(Quantiles::Float)
                .map_err(error),
            _ => Err("a quantile sketch has an unknown kind".into()),
        }
    }
}

serde_via_bytes!(Quantiles, Quantiles::to_bytes, Quantiles::from_bytes);

#[cfg(test)]
mod tests {
    use super::*;

    /// The share of `sorted` below `q` and at or below it.
    fn rank_interval(sorted: &[i64], q: i64) -> (f64, f64) {
        let n = sorted.len() as f64;
        let below = sorted.partition_point(|v| *v < q) as f64;
        let at_or_below = sorted.partition_point(|v| *v <= q) as f64;
        (below / n, at_or_below / n)
    }

    #[test]
    fn merged_quantiles_are_within_the_stated_rank_error() {
        let values: Vec<i64> = (0..200_000i64).map(|i| (i * 7919) % 100_003).collect();
        let mut merged = Quantiles::int();
        for part in values.chunks(30_000) {
            let mut sketch = Quantiles::int();
            sketch.add_ints(part.iter().copied());
            merged.merge(&sketch);
        }
        let mut sorted = values.clone();
        sorted.sort_unstable();
        let epsilon = merged.rank_error();
        assert!(epsilon > 0.0 && epsilon < 0.02, "{epsilon}");
        for ((name, quantile), (_, rank)) in merged.percentiles().into_iter().zip(PERCENTILES) {
            let Quantile::Int(q) = quantile else {
                panic!("an integer sketch gave {quantile:?}")
            };
            let (below, at_or_below) = rank_interval(&sorted, q);
            assert!(
                below <= rank + epsilon && at_or_below >= rank - epsilon,
                "{name} = {q} has ranks [{below}, {at_or_below}], asked {rank} ± {epsilon}"
            );
        }
    }

    #[test]
    fn survives_serialisation() {
        let mut sketch = Quantiles::float();
        sketch.add_floats([1.5, f64::NAN, -2.0, 8.25].into_iter());
        let text = serde_json::to_string(&sketch).unwrap();
        let back: Quantiles = serde_json::from_str(&text).unwrap();
        assert_eq!(back.percentiles(), sketch.percentiles());
        assert_eq!(sketch.percentiles()[0], ("p1", Quantile::Float(-2.0)));
        assert!(serde_json::from_str::<Quantiles>("\"AAAA\"").is_err());
    }
}
