//! Quantiles of a field's numbers (dates as days, timestamps in their unit): exact while a
//! field has at most [`EXACT_VALUES`] values (linear interpolation between the closest ranks,
//! as numpy, pandas and DuckDB's `quantile_cont` compute them), then from a deterministic KLL
//! sketch (k = 200): a reported quantile's rank is within [`Quantiles::rank_error`] (about
//! 1.3%) of the asked rank, with 99% confidence. Both are the same on every run over the same
//! data read in the same partitions.

use datasketches::common::SearchCriteria;
use datasketches::kll::{KllFloat, KllSketch};

use super::kll::{self, Item, Kll};
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

/// Up to this many values a field's quantiles are exact (64 KiB a field); past it, a sketch.
pub const EXACT_VALUES: usize = 8192;

/// A field's values for quantiles: kept while few, sketched past [`EXACT_VALUES`].
#[derive(Debug, Clone, PartialEq)]
pub enum Values<T> {
    /// Every value seen, in arrival order.
    Exact(Vec<T>),
    /// A KLL sketch of them.
    Sketch(Kll<T>),
}

impl<T: Item> Values<T> {
    fn add(&mut self, values: impl Iterator<Item = T>) {
        let mut values = values.peekable();
        while values.peek().is_some() {
            match self {
                Values::Exact(kept) if kept.len() < EXACT_VALUES => {
                    let room = EXACT_VALUES - kept.len();
                    kept.extend(values.by_ref().take(room));
                }
                Values::Exact(kept) => {
                    let mut sketch = Kll::default();
                    kept.iter().for_each(|v| sketch.update(*v));
                    *self = Values::Sketch(sketch);
                }
                Values::Sketch(sketch) => values.by_ref().for_each(|v| sketch.update(v)),
            }
        }
    }

    fn merge(&mut self, other: &Values<T>) {
        match (&mut *self, other) {
            (_, Values::Exact(theirs)) => self.add(theirs.iter().copied()),
            (Values::Sketch(mine), Values::Sketch(theirs)) => mine.merge(theirs),
            (Values::Exact(mine), Values::Sketch(theirs)) => {
                // Mine came first: they enter the sketch first.
                let mut merged = Kll::default();
                mine.iter().for_each(|v| merged.update(*v));
                merged.merge(theirs);
                *self = Values::Sketch(merged);
            }
        }
    }

    /// The [`PERCENTILES`] as (lower, upper, fraction): exact ones lie `fraction` of the way
    /// from the lower to the upper of the two closest values; a sketch's are one retained
    /// value (lower = upper, fraction 0).
    fn quantiles(&self) -> Vec<(T, T, f64)> {
        match self {
            Values::Exact(kept) if kept.is_empty() => Vec::new(),
            Values::Exact(kept) => {
                let mut sorted = kept.clone();
                sorted.sort_by(|a, b| a.order(b));
                PERCENTILES
                    .iter()
                    .map(|(_, rank)| {
                        let position = rank * (sorted.len() - 1) as f64;
                        let (lo, hi) = (position.floor() as usize, position.ceil() as usize);
                        (sorted[lo], sorted[hi], position - lo as f64)
                    })
                    .collect()
            }
            Values::Sketch(sketch) => PERCENTILES
                .iter()
                .filter_map(|(_, rank)| sketch.quantile(*rank))
                .map(|q| (q, q, 0.0))
                .collect(),
        }
    }

    fn to_bytes(&self, out: &mut Vec<u8>) {
        match self {
            Values::Exact(kept) => {
                out.push(0);
                out.extend_from_slice(&(kept.len() as u32).to_le_bytes());
                kept.iter().for_each(|v| out.extend_from_slice(&v.to_le()));
            }
            Values::Sketch(sketch) => {
                out.push(1);
                sketch.to_bytes(out);
            }
        }
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        match bytes.split_first() {
            Some((0, rest)) => {
                let (len, items) = rest
                    .split_first_chunk::<4>()
                    .ok_or("a quantile list is corrupt: it ends early")?;
                let len = u32::from_le_bytes(*len) as usize;
                if items.len() != len * 8 || len > EXACT_VALUES {
                    return Err("a quantile list is corrupt: its length is wrong".into());
                }
                Ok(Values::Exact(
                    (items.chunks_exact(8))
                        .map(|c| T::from_le(c.try_into().unwrap_or_default()))
                        .collect(),
                ))
            }
            Some((1, rest)) => Kll::from_bytes(rest).map(Values::Sketch),
            _ => Err("a quantile sketch has an unknown form".into()),
        }
    }
}

/// Quantiles over integers (exact order for all of i64) or over floating-point numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Quantiles {
    /// Integers, dates, times and timestamps.
    Int(Values<i64>),
    /// Floating-point and decimal numbers (NaN left out).
    Float(Values<f64>),
    /// A DataSketches KLL sketch in a profile stored before quantiles were deterministic:
    /// read for its percentiles, never merged.
    Stored(StoredSketch),
}

/// The two kinds of DataSketches KLL sketch older profiles hold.
#[derive(Debug, Clone)]
pub enum StoredSketch {
    /// Of integers.
    Int(KllSketch<i64>),
    /// Of floating-point numbers.
    Float(KllSketch<KllFloat<f64>>),
}

impl PartialEq for StoredSketch {
    fn eq(&self, other: &Self) -> bool {
        let bytes = |s: &StoredSketch| match s {
            StoredSketch::Int(s) => s.serialize(),
            StoredSketch::Float(s) => s.serialize(),
        };
        bytes(self) == bytes(other)
    }
}

/// One reported quantile: an integer or a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quantile {
    /// Of integers (an exact interpolation is rounded to the nearest integer).
    Int(i64),
    /// Of floating-point numbers.
    Float(f64),
}

impl Quantiles {
    /// Empty quantiles for integers.
    pub fn int() -> Self {
        Quantiles::Int(Values::Exact(Vec::new()))
    }

    /// Empty quantiles for floating-point numbers.
    pub fn float() -> Self {
        Quantiles::Float(Values::Exact(Vec::new()))
    }

    /// Add integers (to integer quantiles).
    pub fn add_ints(&mut self, values: impl Iterator<Item = i64>) {
        if let Quantiles::Int(kept) = self {
            kept.add(values);
        }
    }

    /// Add numbers (to floating-point quantiles); NaN is skipped.
    pub fn add_floats(&mut self, values: impl Iterator<Item = f64>) {
        if let Quantiles::Float(kept) = self {
            kept.add(values.filter(|v| !v.is_nan()));
        }
    }

    /// Combine with the quantiles of the next part of the same field.
    pub fn merge(&mut self, other: &Quantiles) {
        // Both sides come from the same field's type, so the variants agree.
        match (self, other) {
            (Quantiles::Int(mine), Quantiles::Int(theirs)) => mine.merge(theirs),
            (Quantiles::Float(mine), Quantiles::Float(theirs)) => mine.merge(theirs),
            _ => {}
        }
    }

    /// The [`PERCENTILES`], in order; empty when no value was seen.
    pub fn percentiles(&self) -> Vec<(&'static str, Quantile)> {
        let names = PERCENTILES.iter().map(|(name, _)| *name);
        match self {
            Quantiles::Int(values) => (names.zip(values.quantiles()))
                .map(|(name, (lo, hi, fraction))| {
                    (name, Quantile::Int(interpolate(lo, hi, fraction)))
                })
                .collect(),
            Quantiles::Float(values) => (names.zip(values.quantiles()))
                .map(|(name, (lo, hi, fraction))| {
                    let q = if fraction == 0.0 {
                        lo
                    } else {
                        lo + (hi - lo) * fraction
                    };
                    (name, Quantile::Float(q))
                })
                .collect(),
            Quantiles::Stored(sketch) => stored_percentiles(sketch),
        }
    }

    /// The normalized rank error of a single quantile (99% confidence): 0 while exact.
    pub fn rank_error(&self) -> f64 {
        match self {
            Quantiles::Int(Values::Sketch(s)) => kll::rank_error(s.k()),
            Quantiles::Float(Values::Sketch(s)) => kll::rank_error(s.k()),
            Quantiles::Int(Values::Exact(_)) | Quantiles::Float(Values::Exact(_)) => 0.0,
            Quantiles::Stored(StoredSketch::Int(s)) => s.normalized_rank_error(),
            Quantiles::Stored(StoredSketch::Float(s)) => s.normalized_rank_error(),
        }
    }

    /// Whether the percentiles are estimates (from a sketch) rather than exact.
    pub fn is_approximate(&self) -> bool {
        self.rank_error() > 0.0
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Quantiles::Int(values) => {
                out.push(2);
                values.to_bytes(&mut out);
            }
            Quantiles::Float(values) => {
                out.push(3);
                values.to_bytes(&mut out);
            }
            Quantiles::Stored(StoredSketch::Int(sketch)) => {
                out.push(0);
                out.extend(sketch.serialize());
            }
            Quantiles::Stored(StoredSketch::Float(sketch)) => {
                out.push(1);
                out.extend(sketch.serialize());
            }
        }
        out
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let error = |e: datasketches::error::Error| format!("a quantile sketch is corrupt: {e}");
        match bytes.split_first() {
            Some((0, body)) => KllSketch::deserialize(body)
                .map(|s| Quantiles::Stored(StoredSketch::Int(s)))
                .map_err(error),
            Some((1, body)) => KllSketch::deserialize(body)
                .map(|s| Quantiles::Stored(StoredSketch::Float(s)))
                .map_err(error),
            Some((2, body)) => Values::from_bytes(body).map(Quantiles::Int),
            Some((3, body)) => Values::from_bytes(body).map(Quantiles::Float),
            _ => Err("a quantile sketch has an unknown kind".into()),
        }
    }
}

/// The integer nearest to the point `fraction` of the way from `lo` to `hi` (halves up),
/// exact for any i64: the rounded step is added to `lo` itself, not to its f64 image.
fn interpolate(lo: i64, hi: i64, fraction: f64) -> i64 {
    let step = ((i128::from(hi) - i128::from(lo)) as f64 * fraction).round();
    lo.saturating_add(step as i64)
}

fn stored_percentiles(sketch: &StoredSketch) -> Vec<(&'static str, Quantile)> {
    let ranks = PERCENTILES.iter().map(|(name, rank)| (*name, *rank));
    match sketch {
        StoredSketch::Int(sketch) => ranks
            .filter_map(|(name, rank)| {
                let q = sketch.quantile(rank, SearchCriteria::Inclusive).ok()??;
                Some((name, Quantile::Int(q)))
            })
            .collect(),
        StoredSketch::Float(sketch) => ranks
            .filter_map(|(name, rank)| {
                let q = sketch.quantile(rank, SearchCriteria::Inclusive).ok()??;
                Some((name, Quantile::Float(q.into_inner())))
            })
            .collect(),
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
    fn few_values_give_exact_interpolated_quantiles() {
        // 342 values 0.1, 0.2, …, 34.2: the median lies halfway between 17.1 and 17.2.
        let mut floats = Quantiles::float();
        floats.add_floats((1..=342).map(|i| f64::from(i) / 10.0));
        assert_eq!(floats.rank_error(), 0.0);
        let median = floats.percentiles()[3];
        let Quantile::Float(median) = median.1 else {
            panic!("{median:?}")
        };
        assert!((median - 17.15).abs() < 1e-9, "{median}");
        let mut ints = Quantiles::int();
        ints.add_ints([4, 1, 3, 2].into_iter());
        // p50 sits at 2.5 and rounds up; p1 at 1.03 rounds to 1; p99 at 3.97 rounds to 4.
        let got: Vec<Quantile> = ints.percentiles().into_iter().map(|(_, q)| q).collect();
        assert_eq!(got[0], Quantile::Int(1));
        assert_eq!(got[3], Quantile::Int(3));
        assert_eq!(got[6], Quantile::Int(4));
    }

    #[test]
    fn many_values_give_the_same_quantiles_on_every_run() {
        let run = || {
            let mut merged = Quantiles::float();
            for part in 0..6 {
                let mut q = Quantiles::float();
                q.add_floats((0..50_000).map(|i| ((i * 7919 + part * 13) % 100_003) as f64));
                merged.merge(&q);
            }
            merged
        };
        let first = run();
        assert!(first.rank_error() > 0.0);
        for _ in 0..3 {
            let again = std::thread::spawn(run).join().unwrap();
            assert_eq!(again.percentiles(), first.percentiles());
        }
    }

    #[test]
    fn exact_values_turn_into_a_sketch_past_the_limit_in_any_merge_order() {
        let values: Vec<i64> = (0..(EXACT_VALUES as i64 * 3)).collect();
        let mut small = Quantiles::int();
        small.add_ints(values[..100].iter().copied());
        let mut big = Quantiles::int();
        big.add_ints(values[100..].iter().copied());
        assert!(small.rank_error() == 0.0 && big.rank_error() > 0.0);
        let mut merged = small.clone();
        merged.merge(&big);
        let mut other_way = big.clone();
        other_way.merge(&small);
        for q in [merged, other_way] {
            let Quantile::Int(median) = q.percentiles()[3].1 else {
                panic!()
            };
            let rank = median as f64 / values.len() as f64;
            assert!((rank - 0.5).abs() <= q.rank_error(), "{median}");
        }
    }

    #[test]
    fn a_sketch_stored_by_an_older_version_still_reads() {
        let mut old = KllSketch::<i64>::default();
        (1..=1000).for_each(|v| old.update(v));
        let bytes = [vec![0u8], old.serialize()].concat();
        let stored = Quantiles::from_bytes(&bytes).unwrap();
        assert!(matches!(stored, Quantiles::Stored(_)));
        let Quantile::Int(median) = stored.percentiles()[3].1 else {
            panic!()
        };
        assert!((490..=510).contains(&median), "{median}");
        assert_eq!(Quantiles::from_bytes(&stored.to_bytes()).unwrap(), stored);
    }

    #[test]
    fn survives_serialisation() {
        let mut sketch = Quantiles::float();
        sketch.add_floats([1.5, f64::NAN, -2.0, 8.25].into_iter());
        let text = serde_json::to_string(&sketch).unwrap();
        let back: Quantiles = serde_json::from_str(&text).unwrap();
        assert_eq!(back.percentiles(), sketch.percentiles());
        assert_eq!(sketch.percentiles()[3], ("p50", Quantile::Float(1.5)));
        assert!(serde_json::from_str::<Quantiles>("\"AAAA\"").is_err());
    }
}
