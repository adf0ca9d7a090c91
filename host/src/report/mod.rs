//! How profiles are shown: JSON for programs (`profile_version` 1, documented in
//! `docs/profile-json.md`, keys never removed) and aligned tables for people.

mod field;
mod table;

use serde::Serialize;

use crate::operation::ContainerOutcome;
use crate::profile::ContainerProfile;

pub use field::{BinReport, FieldReport, FrequentReport, Percentiles, TypeShares, type_name};
pub use table::render_table;

/// The version of the JSON profile document.
pub const PROFILE_VERSION: u32 = 1;

/// The JSON profile document.
#[derive(Debug, Serialize)]
pub struct ProfileReport {
    /// Always [`PROFILE_VERSION`].
    pub profile_version: u32,
    /// One per container, in the order the plugin discovered them.
    pub containers: Vec<ContainerReport>,
}

/// One container in the JSON document.
#[derive(Debug, Serialize)]
pub struct ContainerReport {
    /// Its name in the datastore.
    pub name: String,
    /// Records profiled (0 when it failed).
    pub rows: u64,
    /// Field profiles.
    pub fields: Vec<FieldReport>,
    /// Why it could not be profiled; null when it was.
    pub error: Option<String>,
    /// When it was profiled (RFC 3339, UTC); null when it failed.
    pub profiled_at: Option<String>,
    /// The share of rows profiled when `--sample` was given; null when every row was.
    pub sample_fraction: Option<f64>,
}

impl ProfileReport {
    /// The document for an operation's outcomes.
    pub fn new(outcomes: &[ContainerOutcome]) -> Self {
        ProfileReport {
            profile_version: PROFILE_VERSION,
            containers: outcomes.iter().map(ContainerReport::new).collect(),
        }
    }
}

impl ContainerReport {
    fn new(outcome: &ContainerOutcome) -> Self {
        match &outcome.result {
            Ok(profile) => ContainerReport::of(profile),
            Err(e) => ContainerReport {
                name: outcome.name.clone(),
                rows: 0,
                fields: Vec::new(),
                error: Some(e.to_string()),
                profiled_at: None,
                sample_fraction: None,
            },
        }
    }

    /// The report of a profile.
    pub fn of(profile: &ContainerProfile) -> Self {
        ContainerReport {
            name: profile.name.clone(),
            rows: profile.rows,
            fields: profile.fields.iter().map(FieldReport::of).collect(),
            error: None,
            profiled_at: chrono::DateTime::from_timestamp_micros(profile.profiled_at)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
            sample_fraction: profile.sample_fraction,
        }
    }
}
