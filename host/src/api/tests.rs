//! The API writes every enum exactly as the OpenAPI document lists it: each enum schema of
//! `openapi.json` against every variant of the type the API serialises for it.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::contract::{ContainerKind, SettingType};
use crate::scan::AnomalyKind;
use crate::store::{AnomalyStatus, CheckStatus, EventKind, JobKind, JobState};

/// The values of the enum schema `name` in the OpenAPI document.
fn documented(name: &str) -> BTreeSet<String> {
    let document: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap();
    let schema = &document["components"]["schemas"][name];
    let values = schema["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("schema {name} has no enum: {schema}"));
    values
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// What serde writes for each variant.
fn serialised<T: Serialize>(variants: &[T]) -> BTreeSet<String> {
    variants
        .iter()
        .map(|v| match serde_json::to_value(v).unwrap() {
            serde_json::Value::String(text) => text,
            other => panic!("not a string: {other}"),
        })
        .collect()
}

#[test]
fn every_enum_the_api_writes_is_spelled_as_the_openapi_document_lists_it() {
    let kinds: BTreeSet<String> = (ContainerKind::ALL.iter())
        .map(|k| k.as_str().to_owned())
        .collect();
    assert_eq!(kinds, documented("ContainerKind"));
    let types: BTreeSet<String> = (SettingType::ALL.iter())
        .map(|t| t.as_str().to_owned())
        .collect();
    assert_eq!(types, documented("SettingType"));
    assert_eq!(
        serialised(&[JobKind::Catalog, JobKind::Profile, JobKind::Scan]),
        documented("JobKind")
    );
    assert_eq!(
        serialised(&[
            JobState::Queued,
            JobState::Running,
            JobState::Succeeded,
            JobState::Failed,
            JobState::Cancelled,
            JobState::Interrupted,
        ]),
        documented("JobState")
    );
    assert_eq!(
        serialised(&[
            EventKind::Loaded,
            EventKind::Swapped,
            EventKind::Failed,
            EventKind::Removed,
        ]),
        documented("EventKind")
    );
    assert_eq!(
        serialised(&[
            CheckStatus::Active,
            CheckStatus::Proposed,
            CheckStatus::Rejected,
            CheckStatus::Archived,
        ]),
        documented("CheckStatus")
    );
    assert_eq!(
        serialised(&[AnomalyKind::Record, AnomalyKind::Shape]),
        documented("AnomalyKind")
    );
    assert_eq!(
        serialised(&[
            AnomalyStatus::Active,
            AnomalyStatus::Acknowledged,
            AnomalyStatus::Resolved,
        ]),
        documented("AnomalyStatus")
    );
}
