//! Anomalies from a scan's results: a **record** anomaly when a check fails a few rows (it
//! keeps them), a **shape** anomaly when it fails a large share of rows, when a rule about
//! the whole container fails (a sum, a count, a volume), or when the container's fields
//! changed since its last scan. Each carries a fingerprint, the same for the same finding in
//! a later scan, by which the store deduplicates it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::record::FailingRecord;
use super::result::{ContainerScanResult, ScannedField};

/// Above this share of its rows failing, a row check's anomaly is about the shape of the
/// data (a share of rows) rather than about the records.
pub const SHAPE_SHARE: f64 = 0.05;

/// What an anomaly is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnomalyKind {
    /// Some records fail a check; the anomaly keeps them.
    Record,
    /// The container as a whole: a share of rows failing, a schema or a volume change.
    Shape,
}

impl AnomalyKind {
    /// The kind's name, as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::Record => "record",
            AnomalyKind::Shape => "shape",
        }
    }
}

/// An anomaly a scan found, before the store deduplicates it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The container.
    pub container: String,
    /// The failed check, when a check found it.
    pub check_id: Option<i64>,
    /// The failed rule (`between`), or `schema_change`.
    pub rule: String,
    /// Record or shape.
    pub kind: AnomalyKind,
    /// The same for the same finding in a later scan.
    pub fingerprint: String,
    /// What was found, for people.
    pub message: String,
    /// The fields it concerns (highlighted in its records).
    pub fields: Vec<String>,
    /// The rows that failed.
    pub failed_rows: u64,
    /// The rows the check applied to.
    pub rows: u64,
    /// The first failing records.
    pub records: Vec<FailingRecord>,
}

/// The anomalies in a container's scan results; `previous_fields` are its fields at its last
/// scan (none at the first), for a schema change.
pub fn findings(
    result: &ContainerScanResult,
    previous_fields: Option<&[ScannedField]>,
) -> Vec<Finding> {
    let mut found = Vec::new();
    if let Some(previous) = previous_fields
        && let Some(change) = schema_change(previous, &result.fields)
    {
        found.push(Finding {
            container: result.container.clone(),
            check_id: None,
            rule: "schema_change".into(),
            kind: AnomalyKind::Shape,
            fingerprint: format!("schema:{:016x}", fingerprint(&result.fields)),
            message: change.message,
            fields: change.fields,
            failed_rows: 0,
            rows: result.rows,
            records: Vec::new(),
        });
    }
    for check in result
        .checks
        .iter()
        .filter(|c| !c.passed && c.error.is_none())
    {
        let row_rule = check.check.rule.fails_rows();
        let share = check.failed_rows as f64 / check.rows.max(1) as f64;
        let kind = match row_rule && share <= SHAPE_SHARE {
            true => AnomalyKind::Record,
            false => AnomalyKind::Shape,
        };
        let message = match (row_rule, kind) {
            (true, AnomalyKind::Shape) => format!(
                "{} fails on a large share of rows: {}",
                check.check.label(),
                check.message
            ),
            _ => format!("{} fails: {}", check.check.label(), check.message),
        };
        let fingerprint = match check.check.id {
            Some(id) => format!("check:{id}"),
            None => format!("check:{:016x}", self::fingerprint(&check.check)),
        };
        found.push(Finding {
            container: result.container.clone(),
            check_id: check.check.id,
            rule: check.check.rule.name().into(),
            kind,
            fingerprint,
            message,
            fields: check.check.fields.clone(),
            failed_rows: check.failed_rows,
            rows: check.rows,
            records: check.records.clone(),
        });
    }
    found
}

/// What changed between two versions of a container's fields.
struct SchemaChange {
    message: String,
    fields: Vec<String>,
}

fn schema_change(before: &[ScannedField], after: &[ScannedField]) -> Option<SchemaChange> {
    let old: BTreeMap<&str, &str> = before
        .iter()
        .map(|f| (f.name.as_str(), f.data_type.as_str()))
        .collect();
    let new: BTreeMap<&str, &str> = after
        .iter()
        .map(|f| (f.name.as_str(), f.data_type.as_str()))
        .collect();
    let mut changes = Vec::new();
    let mut fields = Vec::new();
    for (name, data_type) in &old {
        match new.get(name) {
            None => changes.push(format!("`{name}` removed")),
            Some(now) if now != data_type => {
                changes.push(format!("`{name}` changed from {data_type} to {now}"))
            }
            Some(_) => continue,
        }
        fields.push((*name).to_owned());
    }
    for (name, data_type) in &new {
        if !old.contains_key(name) {
            changes.push(format!("`{name}` added ({data_type})"));
            fields.push((*name).to_owned());
        }
    }
    (!changes.is_empty()).then(|| SchemaChange {
        message: format!("the container's fields changed: {}", changes.join(", ")),
        fields,
    })
}

/// A stable hash of a value's JSON (xxh3: stable across runs and versions).
fn fingerprint<T: Serialize>(value: &T) -> u64 {
    let json = serde_json::to_vec(value).unwrap_or_default();
    xxhash_rust::xxh3::xxh3_64(&json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, data_type: &str) -> ScannedField {
        ScannedField {
            name: name.into(),
            data_type: data_type.into(),
        }
    }

    #[test]
    fn a_schema_change_names_each_field_removed_added_or_retyped() {
        let before = [field("a", "Int64"), field("b", "Utf8"), field("c", "Utf8")];
        let after = [
            field("a", "Float64"),
            field("c", "Utf8"),
            field("d", "Date32"),
        ];
        let change = schema_change(&before, &after).expect("a change");
        assert_eq!(change.fields, ["a", "b", "d"]);
        assert_eq!(
            change.message,
            "the container's fields changed: `a` changed from Int64 to Float64, `b` removed, \
             `d` added (Date32)"
        );
        assert!(schema_change(&before, &before).is_none());
    }
}
