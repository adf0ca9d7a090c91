//! Row sampling for `--sample`: a Bernoulli sample of each partition, drawn with a generator
//! seeded by the container and partition, so the same data gives the same sample every run.

use std::str::FromStr;

use arrow::array::BooleanArray;
use arrow::compute::filter_record_batch;
use arrow::record_batch::RecordBatch;
use xxhash_rust::xxh3::xxh3_64;

/// How much of each container to profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sample {
    /// This share of the rows, in (0, 1].
    Fraction(f64),
    /// About this many rows (a share of the container's estimated row count).
    Rows(u64),
}

impl FromStr for Sample {
    type Err = String;

    /// `0.1` or `10%` is a fraction; a whole number is a row count.
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let fraction = match text.strip_suffix('%') {
            Some(percent) => percent.trim().parse::<f64>().ok().map(|p| p / 100.0),
            None if text.contains(['.', 'e', 'E']) => text.parse::<f64>().ok(),
            None => {
                return match text.parse::<u64>() {
                    Ok(0) | Err(_) => Err(format!(
                        "`{text}` is neither a row count (a whole number above 0) nor a \
                         fraction (e.g. 0.1 or 10%)"
                    )),
                    Ok(rows) => Ok(Sample::Rows(rows)),
                };
            }
        };
        match fraction {
            Some(f) if f > 0.0 && f <= 1.0 => Ok(Sample::Fraction(f)),
            _ => Err(format!(
                "`{text}` is not a fraction between 0 and 1 (e.g. 0.1 or 10%)"
            )),
        }
    }
}

impl Sample {
    /// The share of rows to keep for a container with about `estimated_rows` rows; `None`
    /// when a row count was asked for and the plugin gave no estimate.
    pub fn fraction(self, estimated_rows: Option<u64>) -> Option<f64> {
        match self {
            Sample::Fraction(f) => Some(f),
            Sample::Rows(rows) => {
                estimated_rows.map(|total| (rows as f64 / total.max(1) as f64).min(1.0))
            }
        }
    }
}

/// Keeps each row with a fixed probability (SplitMix64, seeded per partition).
#[derive(Debug, Clone)]
pub struct RowSampler {
    fraction: f64,
    state: u64,
}

impl RowSampler {
    /// A sampler for one partition of one container.
    pub fn new(fraction: f64, container: &str, partition: &str) -> Self {
        RowSampler {
            fraction,
            state: xxh3_64(format!("{container}\u{0}{partition}").as_bytes()),
        }
    }

    /// The sampled rows of a batch.
    pub fn sample(&mut self, batch: &RecordBatch) -> arrow::error::Result<RecordBatch> {
        if self.fraction >= 1.0 {
            return Ok(batch.clone());
        }
        let threshold = (self.fraction * u64::MAX as f64) as u64;
        let mask: BooleanArray = (0..batch.num_rows())
            .map(|_| Some(self.next() <= threshold))
            .collect();
        filter_record_batch(batch, &mask)
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;
    use std::sync::Arc;

    #[test]
    fn parses_fractions_percentages_and_row_counts() {
        assert_eq!("0.1".parse(), Ok(Sample::Fraction(0.1)));
        assert_eq!("25%".parse(), Ok(Sample::Fraction(0.25)));
        assert_eq!("1.0".parse(), Ok(Sample::Fraction(1.0)));
        assert_eq!("100000".parse(), Ok(Sample::Rows(100_000)));
        for bad in ["0", "1.5", "-0.1", "0%", "abc", ""] {
            assert!(bad.parse::<Sample>().is_err(), "{bad:?}");
        }
        assert_eq!(Sample::Rows(50).fraction(Some(200)), Some(0.25));
        assert_eq!(Sample::Rows(500).fraction(Some(200)), Some(1.0));
        assert_eq!(Sample::Rows(500).fraction(None), None);
    }

    #[test]
    fn keeps_about_the_fraction_and_the_same_rows_every_time() {
        let batch = RecordBatch::try_from_iter([(
            "n",
            Arc::new(Int64Array::from_iter_values(0..100_000)) as _,
        )])
        .unwrap();
        let first = RowSampler::new(0.1, "t", "p0").sample(&batch).unwrap();
        let again = RowSampler::new(0.1, "t", "p0").sample(&batch).unwrap();
        assert_eq!(first, again);
        let kept = first.num_rows() as f64;
        assert!((kept - 10_000.0).abs() < 500.0, "kept {kept}");
        let other = RowSampler::new(0.1, "t", "p1").sample(&batch).unwrap();
        assert_ne!(first, other);
    }
}
