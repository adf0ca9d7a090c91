//! Watermarks for incremental scans: the highest partition watermark a scan has seen, kept
//! with the scan so the next incremental scan reads only the partitions past it.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::contract::Scalar;

/// A partition watermark as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "type", content = "value")]
pub enum WatermarkValue {
    /// A boolean.
    Boolean(bool),
    /// An integer.
    Integer(i64),
    /// A float.
    Float(f64),
    /// Text (files: `<modification time>|<path>`).
    Text(String),
    /// Days since 1970-01-01.
    Date(i32),
    /// µs since the epoch.
    Timestamp(i64),
}

impl WatermarkValue {
    /// The value of a plugin's watermark scalar; `None` for null.
    pub fn of(scalar: &Scalar) -> Option<Self> {
        Some(match scalar {
            Scalar::Null => return None,
            Scalar::Boolean(v) => WatermarkValue::Boolean(*v),
            Scalar::Integer(v) => WatermarkValue::Integer(*v),
            Scalar::Float(v) => WatermarkValue::Float(*v),
            Scalar::Text(v) => WatermarkValue::Text(v.clone()),
            Scalar::Date(v) => WatermarkValue::Date(*v),
            Scalar::Timestamp(v) => WatermarkValue::Timestamp(*v),
        })
    }

    /// How two watermarks order; `None` when they are of different kinds (a plugin that
    /// changed what its watermark is) or a NaN.
    pub fn compare(&self, other: &Self) -> Option<Ordering> {
        use WatermarkValue::*;
        match (self, other) {
            (Boolean(a), Boolean(b)) => Some(a.cmp(b)),
            (Integer(a), Integer(b)) => Some(a.cmp(b)),
            (Float(a), Float(b)) => a.partial_cmp(b),
            (Text(a), Text(b)) => Some(a.cmp(b)),
            (Date(a), Date(b)) => Some(a.cmp(b)),
            (Timestamp(a), Timestamp(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// Whether a partition with this watermark is new since `seen`: above it, or not
    /// comparable with it (read rather than skipped when in doubt).
    pub fn is_past(&self, seen: &Self) -> bool {
        self.compare(seen) != Some(Ordering::Less) && self.compare(seen) != Some(Ordering::Equal)
    }

    /// The higher of two watermarks; `self` when they do not compare.
    pub fn max(self, other: Self) -> Self {
        match self.compare(&other) {
            Some(Ordering::Less) => other,
            _ => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermarks_order_within_a_kind_and_read_when_in_doubt() {
        let a = WatermarkValue::Text("2024-01-01T00:00:00.000000Z|a.csv".into());
        let b = WatermarkValue::Text("2024-01-02T00:00:00.000000Z|a.csv".into());
        assert!(b.is_past(&a));
        assert!(!a.is_past(&b));
        assert!(!a.is_past(&a));
        assert!(WatermarkValue::Integer(1).is_past(&a));
        assert_eq!(a.clone().max(b.clone()), b);
        assert_eq!(WatermarkValue::of(&Scalar::Null), None);
        let json = serde_json::to_string(&WatermarkValue::Timestamp(5)).unwrap();
        assert_eq!(json, r#"{"type":"timestamp","value":5}"#);
    }
}
