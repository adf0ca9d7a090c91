//! Scans: a container's checks evaluated in one pass over its batches. A
//! [`ContainerScan`] per partition is fed every batch once and merged in partition order;
//! its results name each check's failing rows and keep the first of them as records; the
//! results become [`Finding`]s (record and shape anomalies) that the store deduplicates
//! across scans.

mod anomaly;
mod record;
mod result;
mod state;
mod watermark;

pub use anomaly::{AnomalyKind, Finding, SHAPE_SHARE, findings};
pub use record::FailingRecord;
pub use result::{CheckResult, ContainerScanResult, LastScan, ScannedField};
pub use state::{ContainerScan, ScanLimits};
pub use watermark::WatermarkValue;
