//! The store's schema, as a list of migrations applied in order. `PRAGMA user_version` counts
//! those applied; a migration is never edited once released, only followed by another.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: datastores, catalogs, profiles, jobs, plugin events.
    r#"
    CREATE TABLE datastores (
        name        TEXT PRIMARY KEY,
        plugin      TEXT NOT NULL,
        settings    TEXT NOT NULL,      -- JSON object, secrets as written (references) or redacted
        updated_at  INTEGER NOT NULL
    );
    CREATE TABLE containers (
        datastore    TEXT NOT NULL,
        name         TEXT NOT NULL,
        kind         TEXT NOT NULL,
        fields       TEXT NOT NULL,     -- JSON array of {name, data_type, nullable}
        row_estimate INTEGER,
        byte_size    INTEGER,
        error        TEXT,
        job_id       INTEGER,
        updated_at   INTEGER NOT NULL,
        PRIMARY KEY (datastore, name)
    );
    CREATE TABLE jobs (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        kind             TEXT NOT NULL,
        datastore        TEXT NOT NULL,
        containers       TEXT NOT NULL, -- JSON array; empty = all
        trigger          TEXT NOT NULL,
        plugin           TEXT,
        plugin_sha256    TEXT,
        state            TEXT NOT NULL,
        partitions_done  INTEGER NOT NULL DEFAULT 0,
        partitions_total INTEGER NOT NULL DEFAULT 0,
        rows             INTEGER NOT NULL DEFAULT 0,
        bytes            INTEGER NOT NULL DEFAULT 0,
        created_at       INTEGER NOT NULL,
        started_at       INTEGER,
        finished_at      INTEGER,
        error            TEXT,
        failures         TEXT NOT NULL DEFAULT '[]'  -- JSON array of {container, error}
    );
    CREATE INDEX jobs_by_datastore ON jobs (datastore, id);
    CREATE INDEX jobs_by_state ON jobs (state);
    CREATE TABLE profiles (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        datastore   TEXT NOT NULL,
        container   TEXT NOT NULL,
        job_id      INTEGER REFERENCES jobs (id),
        profiled_at INTEGER NOT NULL,
        rows        INTEGER NOT NULL,
        profile     TEXT NOT NULL       -- JSON of the mergeable ContainerProfile
    );
    CREATE INDEX profiles_by_container ON profiles (datastore, container, id);
    CREATE TABLE plugin_events (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        at       INTEGER NOT NULL,
        plugin   TEXT NOT NULL,
        kind     TEXT NOT NULL,
        version  TEXT,
        sha256   TEXT,
        source   TEXT,
        elapsed_ms INTEGER,
        message  TEXT NOT NULL
    );
    CREATE INDEX plugin_events_by_plugin ON plugin_events (plugin, id);
    "#,
    // 2: the class of a job's error, for programs.
    r#"
    ALTER TABLE jobs ADD COLUMN error_code TEXT;
    "#,
    // 3: checks, scans and anomalies; incremental scan jobs.
    r#"
    CREATE TABLE checks (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        datastore   TEXT NOT NULL,
        container   TEXT NOT NULL,
        definition  TEXT NOT NULL,      -- JSON of the check, without its id
        status      TEXT NOT NULL,      -- active | proposed | rejected | archived
        source      TEXT NOT NULL,      -- api | inferred | the YAML file it is defined in
        evidence    TEXT,               -- for an inferred check: what it was inferred from
        fingerprint TEXT NOT NULL,      -- hash of the definition
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    CREATE INDEX checks_by_container ON checks (datastore, container, status);
    CREATE INDEX checks_by_source ON checks (source);
    CREATE TABLE scans (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id      INTEGER REFERENCES jobs (id),
        datastore   TEXT NOT NULL,
        container   TEXT NOT NULL,
        scanned_at  INTEGER NOT NULL,
        rows        INTEGER NOT NULL,
        partitions  INTEGER NOT NULL,
        fields      TEXT NOT NULL,      -- JSON array of {name, data_type}
        incremental INTEGER NOT NULL,   -- whether only partitions past `watermark` were read
        watermark   TEXT,               -- JSON: the highest partition watermark seen
        results     TEXT NOT NULL,      -- JSON array of check results
        anomalies   TEXT NOT NULL,      -- JSON array of the ids of the anomalies it found
        resolved    TEXT NOT NULL DEFAULT '[]' -- JSON array of the ids of those it resolved
    );
    CREATE INDEX scans_by_container ON scans (datastore, container, id);
    CREATE TABLE anomalies (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        datastore     TEXT NOT NULL,
        container     TEXT NOT NULL,
        check_id      INTEGER,
        rule          TEXT NOT NULL,
        kind          TEXT NOT NULL,    -- record | shape
        status        TEXT NOT NULL,    -- active | acknowledged | resolved
        fingerprint   TEXT NOT NULL,    -- the same for the same finding in a later scan
        message       TEXT NOT NULL,
        fields        TEXT NOT NULL,    -- JSON array of the fields it concerns
        failed_rows   INTEGER NOT NULL,
        rows          INTEGER NOT NULL,
        records       TEXT NOT NULL,    -- JSON array of the first failing records
        first_scan_id INTEGER NOT NULL,
        last_scan_id  INTEGER NOT NULL,
        scans_seen    INTEGER NOT NULL,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL,
        status_note   TEXT
    );
    CREATE INDEX anomalies_by_finding ON anomalies (datastore, container, fingerprint, status);
    CREATE INDEX anomalies_by_status ON anomalies (status, id);
    ALTER TABLE jobs ADD COLUMN incremental INTEGER NOT NULL DEFAULT 0;
    "#,
    // 4: container kinds as the contract and the API spell them: catalogs stored before were
    // written in the bindings' debug form, lowercased (`containerkind::filegroup`).
    r#"
    UPDATE containers SET kind = CASE kind
        WHEN 'containerkind::table' THEN 'table'
        WHEN 'containerkind::view' THEN 'view'
        WHEN 'containerkind::file' THEN 'file'
        WHEN 'containerkind::filegroup' THEN 'file-group'
        WHEN 'containerkind::sheet' THEN 'sheet'
        ELSE kind
    END
    WHERE kind LIKE 'containerkind::%';
    "#,
];

/// Apply the migrations this file has not seen yet, each in its own transaction.
pub fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    let applied: usize = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if applied > MIGRATIONS.len() {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "schema version {applied} is newer than this qualityd's {}",
            MIGRATIONS.len()
        )));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "user_version", index + 1)?;
        transaction.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::ContainerKind;

    /// A catalog stored by a qualityd before migration 4 reads with the contract's kinds.
    #[test]
    fn kinds_stored_in_the_debug_form_read_as_the_contract_spells_them() {
        let mut connection = Connection::open_in_memory().unwrap();
        for migration in &MIGRATIONS[..3] {
            connection.execute_batch(migration).unwrap();
        }
        connection.pragma_update(None, "user_version", 3).unwrap();
        for (at, kind) in ContainerKind::ALL.iter().enumerate() {
            // What `format!("{:?}", kind).to_lowercase()` stored.
            let old = format!("{kind:?}").to_lowercase();
            assert!(old.starts_with("containerkind::"), "{old}");
            connection
                .execute(
                    "INSERT INTO containers (datastore, name, kind, fields, updated_at) \
                     VALUES ('d', ?1, ?2, '[]', 0)",
                    rusqlite::params![format!("c{at}"), old],
                )
                .unwrap();
        }
        migrate(&mut connection).unwrap();
        let mut statement = connection
            .prepare("SELECT kind FROM containers ORDER BY name")
            .unwrap();
        let kinds: Vec<String> = statement
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let expected: Vec<&str> = ContainerKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(kinds, expected);
    }
}
