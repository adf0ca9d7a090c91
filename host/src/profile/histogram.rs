//! An equi-width histogram with exact counts, built in one pass and merged exactly.
//!
//! Bins are `2^e` wide and aligned to multiples of `2^e`, with `e` the smallest exponent
//! (not below the field's floor) at which the values' range fits in [`MAX_BINS`] bins. That
//! exponent depends only on the smallest and largest value, so growing the histogram value by
//! value, or merging the histograms of any split of the data, ends at the same bins with the
//! same counts: halving the resolution merges neighbouring bins exactly.

use serde::{Deserialize, Serialize};

/// At most this many bins; a histogram whose range needed coarser bins has more than half.
pub const MAX_BINS: i64 = 32;

/// Bin counts of a field's numbers (dates as days, timestamps in their unit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// The narrowest bins allowed: `0` (width 1) for integers and temporal values.
    floor: i32,
    /// Bins are `2^exponent` wide.
    exponent: i32,
    /// The index of the first bin: it starts at `first * 2^exponent`.
    first: i64,
    /// Counts, the first bin's first. Empty before the first value.
    counts: Vec<u64>,
}

/// One bin: `[lower, upper)`, except that the last bin also holds the largest value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bin {
    /// Its lower edge.
    pub lower: f64,
    /// Its upper edge.
    pub upper: f64,
    /// Values in it.
    pub count: u64,
}

impl Histogram {
    /// An empty histogram for integers or temporal values (`integral`), or for fractions.
    pub fn new(integral: bool) -> Self {
        let floor = if integral { 0 } else { f64::MIN_EXP - 1 };
        Histogram {
            floor,
            exponent: floor,
            first: 0,
            counts: Vec::new(),
        }
    }

    /// Count finite `values` whose smallest and largest are `lo` and `hi`.
    pub fn add(&mut self, values: impl Iterator<Item = f64>, lo: f64, hi: f64) {
        if !(lo.is_finite() && hi.is_finite()) {
            return;
        }
        self.cover(lo, hi);
        let scale = pow2(-self.exponent);
        for value in values {
            let index = (value * scale).floor() as i64 - self.first;
            if let Some(count) = self.counts.get_mut(index as usize) {
                *count += 1;
            }
        }
    }

    /// Count integers whose smallest and largest are `lo` and `hi`: as [`Histogram::add`],
    /// with bins found by shifting (exact and without floating point) while the values are
    /// within ±2^53.
    pub fn add_ints(&mut self, values: &[i64], lo: i64, hi: i64) {
        const EXACT: i64 = 1 << 53;
        if self.floor != 0 || lo <= -EXACT || hi >= EXACT {
            return self.add(values.iter().map(|v| *v as f64), lo as f64, hi as f64);
        }
        self.cover(lo as f64, hi as f64);
        let (shift, first) = (self.exponent, self.first);
        for &value in values {
            if let Some(count) = self.counts.get_mut(((value >> shift) - first) as usize) {
                *count += 1;
            }
        }
    }

    /// Combine with the histogram of another part of the same field.
    pub fn merge(&mut self, other: &Histogram) {
        let Some((lo, hi)) = other.range() else {
            return;
        };
        self.cover(lo, hi);
        let shift = self.exponent - other.exponent;
        for (offset, count) in other.counts.iter().enumerate() {
            let index = coarser(other.first + offset as i64, shift) - self.first;
            // Within range for any two histograms built here; a corrupt stored one loses its
            // stray counts rather than panicking.
            if let Some(slot) = self.counts.get_mut(index as usize) {
                *slot += count;
            }
        }
    }

    /// The bins, lowest first.
    pub fn bins(&self) -> Vec<Bin> {
        let width = pow2(self.exponent);
        (self.first..)
            .zip(&self.counts)
            .map(|(index, &count)| Bin {
                lower: index as f64 * width,
                upper: (index + 1) as f64 * width,
                count,
            })
            .collect()
    }

    /// The edges of the range covered so far.
    fn range(&self) -> Option<(f64, f64)> {
        let width = pow2(self.exponent);
        let last = self.first + self.counts.len() as i64 - 1;
        (!self.counts.is_empty()).then_some((self.first as f64 * width, last as f64 * width))
    }

    /// Grow the bins (coarsening them if needed) until `[lo, hi]` is covered.
    fn cover(&mut self, lo: f64, hi: f64) {
        let (lo, hi) = match self.range() {
            Some((low, high)) => (lo.min(low), hi.max(high)),
            None => (lo, hi),
        };
        // A range's edges are rounded out to whole bins, which can pass f64's extremes.
        let (lo, hi) = (lo.max(f64::MIN), hi.min(f64::MAX));
        let magnitude = lo.abs().max(hi.abs());
        // Keep bin indices well inside i64 (and exact) however large the values are.
        let mut exponent = self.exponent.max(exponent_of(magnitude) - 52);
        while bin(hi, exponent).saturating_sub(bin(lo, exponent)) >= MAX_BINS {
            exponent += 1;
        }
        let first = bin(lo, exponent);
        let len = (bin(hi, exponent) - first + 1) as usize;
        if exponent == self.exponent && first == self.first && len == self.counts.len() {
            return;
        }
        let mut counts = vec![0; len];
        let shift = exponent - self.exponent;
        for (offset, count) in self.counts.iter().enumerate() {
            let index = coarser(self.first + offset as i64, shift) - first;
            if let Some(slot) = counts.get_mut(index as usize) {
                *slot += count;
            }
        }
        self.exponent = exponent;
        self.first = first;
        self.counts = counts;
    }
}

/// The index of the bin `2^shift` times wider that holds bin `index`.
fn coarser(index: i64, shift: i32) -> i64 {
    if shift <= 0 {
        index
    } else if shift >= 63 {
        if index < 0 { -1 } else { 0 }
    } else {
        index >> shift
    }
}

/// `2^exponent`, exactly.
fn pow2(exponent: i32) -> f64 {
    2f64.powi(exponent)
}

/// The bin holding `value` at this exponent.
fn bin(value: f64, exponent: i32) -> i64 {
    (value * pow2(-exponent)).floor() as i64
}

/// The binary exponent of a finite value (`e` with `2^e <= |value| < 2^(e+1)`).
fn exponent_of(value: f64) -> i32 {
    if value == 0.0 {
        i32::MIN / 2
    } else {
        value.abs().log2().floor() as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the inferred checks' property test: the range of a histogram of values near
    /// f64's extremes, rounded out to whole bins, passed them, and merging it overflowed.
    #[test]
    fn histograms_of_values_at_f64_extremes_merge() {
        let values = [-1.790_872_382_523_671_7e308, 0.0, f64::MAX];
        let mut one = Histogram::new(false);
        one.add(values.iter().copied(), values[0], f64::MAX);
        let mut merged = Histogram::new(false);
        merged.merge(&one);
        merged.merge(&one);
        let total: u64 = merged.bins().iter().map(|b| b.count).sum();
        assert_eq!(total, 6);
    }

    fn of(values: &[f64], integral: bool) -> Histogram {
        let mut histogram = Histogram::new(integral);
        for chunk in values.chunks(7) {
            let lo = chunk.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = chunk.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            histogram.add(chunk.iter().copied(), lo, hi);
        }
        histogram
    }

    #[test]
    fn small_integer_ranges_get_one_bin_per_value() {
        let bins = of(&[1.0, 2.0, 2.0, 5.0], true).bins();
        let counts: Vec<u64> = bins.iter().map(|b| b.count).collect();
        assert_eq!(counts, [1, 2, 0, 0, 1]);
        assert_eq!((bins[0].lower, bins[4].upper), (1.0, 6.0));
    }

    #[test]
    fn wide_ranges_coarsen_to_at_most_max_bins_with_exact_counts() {
        let values: Vec<f64> = (0..10_000)
            .map(|i| (i * 37 % 10_007) as f64 - 500.0)
            .collect();
        let histogram = of(&values, true);
        let bins = histogram.bins();
        assert!(bins.len() as i64 <= MAX_BINS && bins.len() as i64 > MAX_BINS / 2);
        assert_eq!(bins.iter().map(|b| b.count).sum::<u64>(), 10_000);
        for b in &bins {
            let exact = values
                .iter()
                .filter(|v| **v >= b.lower && **v < b.upper)
                .count();
            assert_eq!(b.count, exact as u64, "bin {b:?}");
        }
    }

    #[test]
    fn any_split_merges_to_the_same_histogram() {
        let values: Vec<f64> = (0..500).map(|i| ((i as f64) * 0.731).sin() * 1e3).collect();
        let whole = of(&values, false);
        for split in [1, 13, 250, 499] {
            let mut left = of(&values[..split], false);
            left.merge(&of(&values[split..], false));
            assert_eq!(left, whole, "split at {split}");
            let mut right = of(&values[split..], false);
            right.merge(&of(&values[..split], false));
            assert_eq!(right, whole, "split at {split}, other order");
        }
    }

    #[test]
    fn a_corrupt_stored_histogram_merges_without_panicking() {
        let mut good = of(&[1.0, 2.0, 3.0], true);
        let corrupt: Histogram =
            serde_json::from_str(r#"{"floor":0,"exponent":-40,"first":9000000000,"counts":[5,6]}"#)
                .unwrap();
        good.merge(&corrupt);
        assert!(good.bins().iter().map(|b| b.count).sum::<u64>() >= 3);
    }

    #[test]
    fn huge_and_tiny_values_stay_exact() {
        let whole = of(&[1e300, 1e300, -1e300], false);
        assert_eq!(whole.bins().iter().map(|b| b.count).sum::<u64>(), 3);
        let mut grown = of(&[0.0], false);
        grown.merge(&of(&[1000.0, -3.0], false));
        assert_eq!(grown.bins().iter().map(|b| b.count).sum::<u64>(), 3);
        let single = of(&[3.7], false).bins();
        assert_eq!(single.len(), 1);
        assert!(single[0].lower <= 3.7 && 3.7 < single[0].upper);
    }
}
