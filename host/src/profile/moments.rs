//! Count, sum, mean and variance of numbers, merged with the parallel Welford (Chan) formula,
//! and the counts of zeros, negatives and NaNs that go with them.

use serde::{Deserialize, Serialize};

/// Running moments of a set of numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    /// How many numbers.
    pub n: u64,
    /// Their sum.
    pub sum: f64,
    /// Their mean.
    pub mean: f64,
    /// The sum of squared deviations from the mean.
    pub m2: f64,
}

impl Moments {
    /// The moments of a slice, by two passes (exact and vectorisable).
    pub fn of(values: &[f64]) -> Self {
        if values.is_empty() {
            return Moments::default();
        }
        let sum: f64 = values.iter().sum();
        let mean = sum / values.len() as f64;
        let m2 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
        Moments {
            n: values.len() as u64,
            sum,
            mean,
            m2,
        }
    }

    /// Combine with the moments of another set.
    pub fn merge(&mut self, other: Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = other;
            return;
        }
        let n = self.n + other.n;
        let delta = other.mean - self.mean;
        self.mean += delta * other.n as f64 / n as f64;
        self.m2 += other.m2 + delta * delta * self.n as f64 * other.n as f64 / n as f64;
        self.sum += other.sum;
        self.n = n;
    }

    /// The mean, if there is at least one number.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }

    /// The sample variance (n − 1), if there are at least two numbers.
    pub fn variance(&self) -> Option<f64> {
        (self.n > 1).then(|| self.m2 / (self.n - 1) as f64)
    }

    /// The sample standard deviation, if there are at least two numbers.
    pub fn stddev(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }
}

/// A number field's moments and the counts of values worth a data owner's attention.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct NumberStats {
    /// Count, sum, mean and variance of the non-NaN values.
    pub moments: Moments,
    /// Values equal to zero.
    pub zeros: u64,
    /// Values below zero.
    pub negatives: u64,
    /// Values that are NaN (left out of every other statistic).
    pub nans: u64,
}

impl NumberStats {
    /// Add a batch's non-null values.
    pub fn add(&mut self, values: &[f64]) {
        let (mut zeros, mut negatives, mut nans) = (0, 0, 0);
        for &v in values {
            zeros += u64::from(v == 0.0);
            negatives += u64::from(v < 0.0);
            nans += u64::from(v.is_nan());
        }
        self.zeros += zeros;
        self.negatives += negatives;
        self.nans += nans;
        let moments = if nans == 0 {
            Moments::of(values)
        } else {
            let numbers: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
            Moments::of(&numbers)
        };
        self.moments.merge(moments);
    }

    /// Combine with the statistics of another part of the same field.
    pub fn merge(&mut self, other: &NumberStats) {
        self.moments.merge(other.moments);
        self.zeros += other.zeros;
        self.negatives += other.negatives;
        self.nans += other.nans;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_halves_equal_the_whole() {
        let values: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin() * 100.0).collect();
        let whole = Moments::of(&values);
        let mut merged = Moments::of(&values[..317]);
        merged.merge(Moments::of(&values[317..]));
        assert_eq!(merged.n, whole.n);
        assert!((merged.mean - whole.mean).abs() < 1e-9);
        assert!((merged.m2 - whole.m2).abs() < 1e-6 * whole.m2);
        assert!((merged.stddev().unwrap() - whole.stddev().unwrap()).abs() < 1e-9);
    }

    #[test]
    fn stddev_is_the_sample_one() {
        let m = Moments::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(m.mean(), Some(5.0));
        assert!((m.stddev().unwrap() - 2.138_089_935_299_395).abs() < 1e-12);
        assert_eq!(Moments::of(&[1.0]).stddev(), None);
    }
}
