//! The PostgreSQL layout: two tables in the configured schema, created (with the schema) when
//! missing. `SCHEMA.anomalies` holds one row per anomaly, upserted by its id: a later scan
//! updates its status, message and counts. `SCHEMA.failing_records` holds the records each
//! scan kept for it, by (anomaly, scan, row); writing a scan again replaces that scan's
//! records. All the writes of one scan are one transaction.
//!
//! The connection is made by rust-postgres's sync client, without TLS (`NoTls`): use a
//! server on the same host or a trusted network, or a TLS-terminating proxy. The sync client
//! runs a small runtime of its own, so it is used only from blocking threads.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use ::postgres::config::{Host, SslMode};
use ::postgres::{Client, Config, NoTls};

use super::{EnrichmentError, highlighted, micros, records_of, signed};
use crate::config::ConfigValue;
use crate::store::{AnomalyRecord, ScanRecord};

/// How long connecting waits, unless the URL says (`connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The tables, `{schema}` replaced by the quoted schema name.
const TABLES: &str = include_str!("tables.sql");

/// An anomaly's row, upserted: a state older than the one written (a scan written late)
/// changes nothing.
const UPSERT: &str = "INSERT INTO {schema}.anomalies (anomaly_id, datastore, container, \
    check_id, rule, kind, status, message, fields, failed_rows, rows, first_scan_id, \
    last_scan_id, scans_seen, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
    $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (anomaly_id) DO UPDATE SET \
    kind = EXCLUDED.kind, status = EXCLUDED.status, message = EXCLUDED.message, \
    fields = EXCLUDED.fields, failed_rows = EXCLUDED.failed_rows, rows = EXCLUDED.rows, \
    last_scan_id = EXCLUDED.last_scan_id, scans_seen = EXCLUDED.scans_seen, \
    updated_at = EXCLUDED.updated_at WHERE {schema}.anomalies.updated_at <= EXCLUDED.updated_at";
/// The records an anomaly kept at a scan, before they are written again.
const CLEAR: &str = "DELETE FROM {schema}.failing_records WHERE anomaly_id = $1 AND scan_id = $2";
/// One failing record.
const INSERT: &str = "INSERT INTO {schema}.failing_records (anomaly_id, scan_id, row, record, \
    highlighted) VALUES ($1, $2, $3, $4, $5)";

/// A connection to the enrichment database, its schema and tables made.
pub(super) struct PostgresSchema {
    config: Config,
    /// The URL without its password.
    url: String,
    /// The schema, quoted.
    schema: String,
    /// Reconnected when the server closed it.
    client: Mutex<Client>,
}

/// Whether `url` is a PostgreSQL connection string (a URL or `key=value` pairs); the error
/// says what to write.
pub fn check_url(url: &str) -> Result<(), String> {
    let config = url.parse::<Config>().map_err(|e| {
        format!(
            "not a PostgreSQL connection URL ({}); write postgres://USER[:PASSWORD]@HOST:PORT/DATABASE",
            described(&e)
        )
    })?;
    match config.get_ssl_mode() {
        SslMode::Require => Err(
            "asks for TLS (`sslmode=require`), but qualityd connects to the \
                                 enrichment database without TLS; remove it"
                .into(),
        ),
        _ => Ok(()),
    }
}

/// The URL of `url` as errors and logs show it: user, hosts, ports and database, never the
/// password.
pub fn shown_url(url: &ConfigValue) -> String {
    match url.expose().parse::<Config>() {
        Ok(config) => shown(&config),
        Err(_) => url.redacted(true),
    }
}

fn shown(config: &Config) -> String {
    let ports = config.get_ports();
    let hosts: Vec<String> = (config.get_hosts().iter().enumerate())
        .map(|(i, host)| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            match host {
                Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(dir) => format!("{}:{port}", dir.display()),
            }
        })
        .collect();
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let database = config.get_dbname().unwrap_or("");
    format!("postgres://{user}{}/{database}", hosts.join(","))
}

/// An error of the client with its cause (the client's own message names only its kind).
fn described(e: &::postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.to_string().replace('\n', "; "),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

impl PostgresSchema {
    /// Connect, and create the schema and tables when missing.
    pub(super) fn open(url: &ConfigValue, schema: &str) -> Result<Self, EnrichmentError> {
        let mut config: Config = url
            .expose()
            .parse()
            .map_err(|e| EnrichmentError::Postgres {
                url: url.redacted(true),
                reason: format!("not a PostgreSQL connection URL ({})", described(&e)),
            })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("qualityd");
        }
        let url = shown(&config);
        let schema = format!("\"{schema}\"");
        let client = connect(&config, &url, &schema)?;
        Ok(PostgresSchema {
            config,
            url,
            schema,
            client: Mutex::new(client),
        })
    }

    /// The URL without its password, and the schema.
    pub(super) fn shown(&self) -> String {
        format!("{} (schema {})", self.url, self.schema)
    }

    fn error(&self, doing: &str, e: &::postgres::Error) -> EnrichmentError {
        EnrichmentError::Postgres {
            url: self.url.clone(),
            reason: format!("{doing}: {}", described(e)),
        }
    }

    fn client(&self) -> Result<MutexGuard<'_, Client>, EnrichmentError> {
        let mut client = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if client.is_closed() {
            *client = connect(&self.config, &self.url, &self.schema)?;
        }
        Ok(client)
    }

    /// Upsert `anomalies` and replace the records `scan` kept for them, in one transaction.
    pub(super) fn write(
        &self,
        datastore: &str,
        scan: &ScanRecord,
        anomalies: &[AnomalyRecord],
    ) -> Result<(), EnrichmentError> {
        let time = |text: &str| {
            micros(scan.id, text).map(|us| {
                SystemTime::UNIX_EPOCH
                    .checked_add(Duration::from_micros(us.max(0) as u64))
                    .unwrap_or(SystemTime::UNIX_EPOCH)
            })
        };
        let mut client = self.client()?;
        let mut t = (client.transaction()).map_err(|e| self.error("cannot begin", &e))?;
        let sql = |statement: &str| statement.replace("{schema}", &self.schema);
        let prepared = (|| {
            let upsert = t.prepare(&sql(UPSERT))?;
            Ok((upsert, t.prepare(&sql(CLEAR))?, t.prepare(&sql(INSERT))?))
        })();
        let (upsert, clear, insert) = prepared.map_err(|e| self.error("cannot prepare", &e))?;
        for a in anomalies {
            let (created, updated) = (time(&a.created_at)?, time(&a.updated_at)?);
            let (failed, rows, seen) =
                (signed(a.failed_rows), signed(a.rows), signed(a.scans_seen));
            t.execute(
                &upsert,
                &[
                    &a.id,
                    &datastore,
                    &a.container,
                    &a.check_id,
                    &a.rule,
                    &a.kind.as_str(),
                    &a.status.as_str(),
                    &a.message,
                    &a.fields,
                    &failed,
                    &rows,
                    &a.first_scan_id,
                    &a.last_scan_id,
                    &seen,
                    &created,
                    &updated,
                ],
            )
            .map_err(|e| self.error(&format!("cannot upsert anomaly {}", a.id), &e))?;
            if a.last_scan_id != scan.id {
                continue;
            }
            t.execute(&clear, &[&a.id, &scan.id])
                .map_err(|e| self.error("cannot replace failing records", &e))?;
            for record in records_of(scan, a) {
                let values = serde_json::Value::Object(record.values.clone());
                t.execute(
                    &insert,
                    &[
                        &a.id,
                        &scan.id,
                        &signed(record.row),
                        &values,
                        &highlighted(a, record),
                    ],
                )
                .map_err(|e| self.error("cannot insert a failing record", &e))?;
            }
        }
        t.commit().map_err(|e| self.error("cannot commit", &e))
    }
}

/// Connect with `config` and make `schema` (quoted) and its tables, when missing: in a
/// transaction holding an advisory lock, so that daemons starting together do not race. A
/// role that may not create them can still write once they exist.
fn connect(config: &Config, url: &str, schema: &str) -> Result<Client, EnrichmentError> {
    let failed = |doing: &str, e: &::postgres::Error| EnrichmentError::Postgres {
        url: url.to_owned(),
        reason: format!("{doing}: {}", described(e)),
    };
    let mut client = config
        .connect(NoTls)
        .map_err(|e| failed("cannot connect (without TLS)", &e))?;
    let name = schema.trim_matches('"');
    let exists = client
        .query_one(
            "SELECT to_regnamespace($1) IS NOT NULL, \
             to_regclass($2) IS NOT NULL AND to_regclass($3) IS NOT NULL",
            &[
                &schema,
                &format!("{schema}.anomalies"),
                &format!("{schema}.failing_records"),
            ],
        )
        .map_err(|e| failed("cannot look for the tables", &e))?;
    let (schema_exists, tables_exist): (bool, bool) = (exists.get(0), exists.get(1));
    if tables_exist {
        return Ok(client);
    }
    // CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists.
    let create_schema = match schema_exists {
        true => String::new(),
        false => format!("CREATE SCHEMA IF NOT EXISTS {schema};"),
    };
    let mut t = client
        .transaction()
        .map_err(|e| failed("cannot begin", &e))?;
    let ddl = format!(
        "SELECT pg_advisory_xact_lock(hashtext('qualityd.enrichment')); {create_schema} {}",
        TABLES.replace("{schema}", schema)
    );
    t.batch_execute(&ddl)
        .and_then(|()| t.commit())
        .map_err(|e| {
            failed(
                &format!(
                    "cannot create schema {name} and its tables (grant the user CREATE on the \
                     database, or create them as docs/enrichment.md shows)"
                ),
                &e,
            )
        })?;
    Ok(client)
}
