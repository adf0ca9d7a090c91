//! Checks in the store: each with where it comes from (a YAML file, the API, or inference),
//! its status, and for an inferred check the evidence it was proposed on. A check file is
//! the truth for its checks: syncing it adds what is new, keeps what is unchanged (with its
//! id and anomalies) and archives what was removed.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::{Store, now_micros, rfc3339};
use crate::checks::Check;
use crate::{Error, Result};

/// Where a check is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// Evaluated by every scan.
    Active,
    /// Inferred from a profile, waiting to be accepted, edited or rejected.
    Proposed,
    /// An inferred check a user rejected; never proposed again.
    Rejected,
    /// Removed from its file or through the API; kept for the anomalies that name it.
    Archived,
}

impl CheckStatus {
    /// The status's name, as the API and the store write it.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Active => "active",
            CheckStatus::Proposed => "proposed",
            CheckStatus::Rejected => "rejected",
            CheckStatus::Archived => "archived",
        }
    }

    fn parse(text: &str) -> rusqlite::Result<Self> {
        serde_json::from_value(serde_json::Value::String(text.into())).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
    }
}

/// Where checks made through the API say they come from.
pub const SOURCE_API: &str = "api";
/// Where inferred checks say they come from.
pub const SOURCE_INFERRED: &str = "inferred";

/// A check as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredCheck {
    /// The datastore it applies to.
    pub datastore: String,
    /// The check, with its id.
    #[serde(flatten)]
    pub check: Check,
    /// Its status.
    pub status: CheckStatus,
    /// `api`, `inferred`, or the YAML file that defines it.
    pub source: String,
    /// For an inferred check, what it was inferred from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// When it was stored (RFC 3339).
    pub created_at: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
}

/// What syncing a check file changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SyncCounts {
    /// Checks new in the file.
    pub added: usize,
    /// Checks unchanged.
    pub kept: usize,
    /// Checks no longer in the file, archived.
    pub archived: usize,
}

const COLUMNS: &str = "id, datastore, definition, status, source, evidence, created_at, updated_at";

fn stored_check(row: &Row<'_>) -> rusqlite::Result<StoredCheck> {
    let definition: String = row.get(2)?;
    let mut check: Check = serde_json::from_str(&definition).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
    })?;
    check.id = Some(row.get(0)?);
    Ok(StoredCheck {
        datastore: row.get(1)?,
        check,
        status: CheckStatus::parse(&row.get::<_, String>(3)?)?,
        source: row.get(4)?,
        evidence: row.get(5)?,
        created_at: rfc3339(row.get(6)?),
        updated_at: rfc3339(row.get(7)?),
    })
}

/// The check's definition as stored, and its fingerprint: the same for the same check.
fn definition(check: &Check) -> (String, String) {
    let mut check = check.clone();
    check.id = None;
    let json = serde_json::to_string(&check).unwrap_or_default();
    let fingerprint = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(json.as_bytes()));
    (json, fingerprint)
}

impl Store {
    /// Store a new check.
    pub fn insert_check(
        &self,
        datastore: &str,
        check: &Check,
        status: CheckStatus,
        source: &str,
        evidence: Option<&str>,
    ) -> Result<StoredCheck> {
        let id = self.write(|t| insert(t, datastore, check, status, source, evidence))?;
        self.check(id)?
            .ok_or_else(|| Error::Internal(format!("check {id} vanished after it was stored")))
    }

    /// One check, by id.
    pub fn check(&self, id: i64) -> Result<Option<StoredCheck>> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM checks WHERE id = ?1"),
                [id],
                stored_check,
            )
            .optional()
        })
    }

    /// The checks of a datastore (of one container, of one status, when given), by id.
    pub fn checks(
        &self,
        datastore: &str,
        container: Option<&str>,
        status: Option<CheckStatus>,
    ) -> Result<Vec<StoredCheck>> {
        self.read(|c| {
            let mut statement = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM checks WHERE datastore = ?1 \
                 AND (?2 IS NULL OR container = ?2) AND (?3 IS NULL OR status = ?3) ORDER BY id"
            ))?;
            let rows = statement.query_map(
                params![datastore, container, status.map(CheckStatus::as_str)],
                stored_check,
            )?;
            rows.collect()
        })
    }

    /// Replace a check's definition (its id, status and anomalies stay).
    pub fn update_check(&self, id: i64, check: &Check) -> Result<()> {
        let (json, fingerprint) = definition(check);
        self.write(|t| {
            t.execute(
                "UPDATE checks SET container = ?2, definition = ?3, fingerprint = ?4, \
                 updated_at = ?5 WHERE id = ?1",
                params![id, check.container, json, fingerprint, now_micros()],
            )
        })?;
        Ok(())
    }

    /// Change a check's status.
    pub fn set_check_status(&self, id: i64, status: CheckStatus) -> Result<()> {
        self.write(|t| {
            t.execute(
                "UPDATE checks SET status = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, status.as_str(), now_micros()],
            )
        })?;
        Ok(())
    }

    /// Make the checks stored from `source` (a YAML file) those given: add the new ones,
    /// keep the unchanged (an archived one comes back), archive the ones no longer there.
    pub fn sync_checks(&self, source: &str, checks: &[(String, Check)]) -> Result<SyncCounts> {
        self.write(|t| {
            let mut counts = SyncCounts::default();
            let mut kept = Vec::new();
            for (datastore, check) in checks {
                let (_, fingerprint) = definition(check);
                let existing: Option<i64> = t
                    .query_row(
                        "SELECT id FROM checks WHERE source = ?1 AND datastore = ?2 \
                         AND fingerprint = ?3 AND id NOT IN (SELECT value FROM json_each(?4))",
                        params![source, datastore, fingerprint, ids_json(&kept)],
                        |row| row.get(0),
                    )
                    .optional()?;
                match existing {
                    Some(id) => {
                        t.execute(
                            "UPDATE checks SET status = 'active', updated_at = ?2 \
                             WHERE id = ?1 AND status <> 'active'",
                            params![id, now_micros()],
                        )?;
                        counts.kept += 1;
                        kept.push(id);
                    }
                    None => {
                        kept.push(insert(
                            t,
                            datastore,
                            check,
                            CheckStatus::Active,
                            source,
                            None,
                        )?);
                        counts.added += 1;
                    }
                }
            }
            counts.archived = t.execute(
                "UPDATE checks SET status = 'archived', updated_at = ?3 WHERE source = ?1 \
                 AND status <> 'archived' AND id NOT IN (SELECT value FROM json_each(?2))",
                params![source, ids_json(&kept), now_micros()],
            )?;
            Ok(counts)
        })
    }

    /// Archive the checks of files that no longer exist (the sources named `file:` that are
    /// not in `sources`).
    pub fn archive_missing_sources(&self, sources: &[String]) -> Result<usize> {
        let sources = serde_json::to_string(sources).unwrap_or_default();
        self.write(|t| {
            t.execute(
                "UPDATE checks SET status = 'archived', updated_at = ?2 \
                 WHERE source LIKE 'file:%' AND status <> 'archived' \
                 AND source NOT IN (SELECT value FROM json_each(?1))",
                params![sources, now_micros()],
            )
        })
    }

    /// Store inferred checks as proposed, except those already stored for the datastore in
    /// any status (a rejected check is not proposed again). Returns those stored.
    pub fn propose_checks(
        &self,
        datastore: &str,
        proposals: &[(Check, String)],
    ) -> Result<Vec<i64>> {
        self.write(|t| {
            let mut stored = Vec::new();
            for (check, evidence) in proposals {
                let (_, fingerprint) = definition(check);
                let known: bool = t.query_row(
                    "SELECT EXISTS (SELECT 1 FROM checks WHERE datastore = ?1 AND fingerprint = ?2)",
                    params![datastore, fingerprint],
                    |row| row.get(0),
                )?;
                if !known {
                    stored.push(insert(
                        t,
                        datastore,
                        check,
                        CheckStatus::Proposed,
                        SOURCE_INFERRED,
                        Some(evidence),
                    )?);
                }
            }
            Ok(stored)
        })
    }
}

fn ids_json(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

fn insert(
    t: &rusqlite::Transaction<'_>,
    datastore: &str,
    check: &Check,
    status: CheckStatus,
    source: &str,
    evidence: Option<&str>,
) -> rusqlite::Result<i64> {
    let (json, fingerprint) = definition(check);
    let now = now_micros();
    t.execute(
        "INSERT INTO checks (datastore, container, definition, status, source, evidence, \
         fingerprint, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![
            datastore,
            check.container,
            json,
            status.as_str(),
            source,
            evidence,
            fingerprint,
            now
        ],
    )?;
    Ok(t.last_insert_rowid())
}
