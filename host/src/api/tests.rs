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

/// Every operation documents the role the guard asks of it: `admin` for writes, `read` for
/// the rest, none for the probes; and the refusals of the guard that apply to it.
#[test]
fn every_operation_documents_the_role_and_refusals_of_the_guard() {
    let document: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap();
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let paths = document["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            operations += 1;
            let write = matches!(method.as_str(), "post" | "put" | "patch" | "delete");
            let probe = super::guard::PROBES.contains(&path.as_str()) && !write;
            let security = &operation["security"];
            let expected = match (probe, write) {
                (true, _) => serde_json::json!([{}]),
                (false, true) => serde_json::json!([{}, {"bearer": ["admin"]}]),
                (false, false) => serde_json::json!([{}, {"bearer": ["read"]}]),
            };
            assert_eq!(security, &expected, "{method} {path}");
            let responses = &operation["responses"];
            assert!(responses.get("421").is_some(), "{method} {path}: no 421");
            assert_eq!(
                responses.get("401").is_some(),
                !probe,
                "{method} {path}: 401"
            );
            assert_eq!(
                responses.get("415").is_some(),
                write,
                "{method} {path}: 415"
            );
        }
    }
    assert!(operations > 30, "{operations}");
}
