//! `qualityd.toml`: where the daemon keeps its state and finds its plugins, where it listens
//! and who may use its API, and the datastores it serves, each with its plugin, settings,
//! sandbox grants and schedules.
//!
//! Paths are relative to the config file. Settings may hold `${env:NAME}` and `${file:PATH}`
//! references ([`ConfigValue`]), resolved here and redacted wherever they could be shown. Any
//! error names the file, the line and the key.

mod api;
mod checks;
mod secret;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use croner::Cron;
use serde::Deserialize;
use toml::Spanned;

pub use api::{ApiConfig, ApiTls, ApiToken, MIN_TOKEN_LEN, Role, split_host};
pub use checks::CheckFile;
pub use secret::{ConfigValue, REDACTED};

use crate::runtime::{Grants, HostGrant, Runtime};
use crate::{Error, Result};

/// The daemon's configuration, checked and with its secrets resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file it was read from.
    pub path: PathBuf,
    /// Its directory, absolute: where relative paths in it (and in settings the plugin
    /// declares as paths) start from.
    pub base_dir: PathBuf,
    /// Where the state store lives (`state.db`).
    pub state_dir: PathBuf,
    /// The directory watched for connector plugins (`NAME.wasm`).
    pub plugin_dir: PathBuf,
    /// Where compiled plugins are cached [default: the one the CLI uses too,
    /// [`Runtime::default_cache_dir`]].
    pub cache_dir: PathBuf,
    /// Where the check files (`*.yaml`) are [default: `checks` next to the config].
    pub checks_dir: PathBuf,
    /// The HTTP API's address.
    pub listen: SocketAddr,
    /// Who may use the HTTP API, the `Host` names it answers to, its TLS (`[api]`).
    pub api: ApiConfig,
    /// How many jobs run at once; more wait, queued.
    pub max_jobs: usize,
    /// How long SIGTERM waits for running jobs before cancelling them.
    pub shutdown_grace: Duration,
    /// The datastores, by name.
    pub datastores: Vec<DatastoreConfig>,
    /// Where each scan's anomalies are also written for other tools (`[enrichment]`), when
    /// anywhere.
    pub enrichment: Option<EnrichmentConfig>,
    /// How long the store keeps what it records (`[retention]`).
    pub retention: Retention,
}

/// How long the store keeps what it records (`[retention]`): the daemon prunes at start and
/// daily. Whatever the age, it keeps the newest `keep_per_container` profiles and scans of
/// each container, every anomaly not resolved (with the scans and jobs it refers to), jobs
/// not finished, the newest event of each plugin, and the artifacts of the plugins serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Records older than this many days are pruned [default: 90].
    pub days: u64,
    /// The newest profiles and scans of each container kept whatever their age [default: 10].
    pub keep_per_container: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            days: 90,
            keep_per_container: 10,
        }
    }
}

impl Retention {
    /// The age past which records go.
    pub fn max_age(&self) -> Duration {
        Duration::from_secs(self.days * 24 * 3600)
    }
}

/// The enrichment datastore (`[enrichment]`): a destination that each container's scan, once
/// stored, writes its anomalies and their failing records to, in the layout of
/// `docs/enrichment.md`.
#[derive(Clone, PartialEq)]
pub enum EnrichmentConfig {
    /// `kind = "parquet"`: a directory of Parquet files.
    Parquet {
        /// The directory (`path`, from the config's directory); created when missing.
        dir: PathBuf,
    },
    /// `kind = "postgres"`: tables in a PostgreSQL schema.
    Postgres {
        /// The connection URL (`url`), which may hold `${env:NAME}` and `${file:PATH}`
        /// references. Never print it: its password would show.
        url: ConfigValue,
        /// The schema holding the tables [default: `qualityd`]; created when missing.
        schema: String,
    },
}

/// The default schema of a PostgreSQL enrichment datastore.
pub const DEFAULT_ENRICHMENT_SCHEMA: &str = "qualityd";

/// Debug output never holds the URL's password.
impl std::fmt::Debug for EnrichmentConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnrichmentConfig::Parquet { dir } => {
                f.debug_struct("Parquet").field("dir", dir).finish()
            }
            EnrichmentConfig::Postgres { url, schema } => f
                .debug_struct("Postgres")
                .field("url", &crate::enrichment::shown_url(url))
                .field("schema", schema)
                .finish(),
        }
    }
}

/// One configured datastore.
#[derive(Debug, Clone)]
pub struct DatastoreConfig {
    /// Its name (the key under `[datastores]`).
    pub name: String,
    /// The plugin that reads it: the file `PLUGIN_DIR/NAME.wasm`.
    pub plugin: String,
    /// The settings its sessions are opened with, by name.
    pub settings: BTreeMap<String, ConfigValue>,
    /// What its plugin instances may touch.
    pub grants: Grants,
    /// When its catalog and profile run by themselves.
    pub schedule: Schedules,
}

/// Cron schedules of a datastore's operations.
#[derive(Debug, Clone, Default)]
pub struct Schedules {
    /// When to refresh the catalog.
    pub catalog: Option<Schedule>,
    /// When to profile every container.
    pub profile: Option<Schedule>,
    /// When to scan every container that has checks.
    pub scan: Option<Schedule>,
}

/// A cron schedule (`minute hour day month weekday`, optionally with seconds first).
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The pattern as written.
    pub pattern: String,
    /// The parsed pattern.
    pub cron: Cron,
}

impl Schedule {
    /// The first time after `after` that the schedule fires.
    pub fn next_after(
        &self,
        after: &chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        self.cron.find_next_occurrence(after, false).ok()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    state_dir: Option<Spanned<String>>,
    plugin_dir: Option<Spanned<String>>,
    cache_dir: Option<Spanned<String>>,
    checks_dir: Option<Spanned<String>>,
    listen: Option<Spanned<String>>,
    max_jobs: Option<Spanned<usize>>,
    shutdown_grace_secs: Option<Spanned<u64>>,
    #[serde(default)]
    datastores: BTreeMap<String, Spanned<RawDatastore>>,
    enrichment: Option<Spanned<RawEnrichment>>,
    api: Option<Spanned<api::RawApi>>,
    #[serde(default)]
    retention: RawRetention,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    days: Option<Spanned<u64>>,
    keep_per_container: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnrichment {
    kind: Spanned<String>,
    path: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    schema: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatastore {
    plugin: Spanned<String>,
    #[serde(default)]
    settings: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    grants: RawGrants,
    #[serde(default)]
    schedule: RawSchedule,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGrants {
    #[serde(default)]
    directories: Vec<Spanned<String>>,
    #[serde(default)]
    hosts: Vec<Spanned<String>>,
    memory_mib: Option<Spanned<u64>>,
    call_timeout_secs: Option<Spanned<u64>>,
    ipc_chunk_mib: Option<Spanned<u64>>,
    ipc_batch_mib: Option<Spanned<u64>>,
    job_timeout_secs: Option<Spanned<u64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    catalog: Option<Spanned<String>>,
    profile: Option<Spanned<String>>,
    scan: Option<Spanned<String>>,
}

/// The longest time a config may give (`*_secs`): ten years. Longer would overflow the
/// deadline arithmetic (an instant plus the duration), and means "never" anyway.
pub const MAX_SECS: u64 = 10 * 365 * 24 * 3600;
/// The largest size a config may give in MiB (`*_mib`): 1 TiB, far past any machine's
/// memory, and small enough that the size in bytes fits every integer it is kept in.
pub const MAX_MIB: u64 = 1 << 20;
/// The most jobs a config may let run at once.
pub const MAX_JOBS: usize = 4096;

/// The default HTTP address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8432";

impl Config {
    /// Read and check the config file at `path`.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Path {
            path: path.to_path_buf(),
            reason: format!("cannot read the config: {e}"),
        })?;
        Config::parse(path, &text)
    }

    /// Check the config `text`, read from `path` (relative paths start from its directory).
    pub fn parse(path: &Path, text: &str) -> Result<Config> {
        let raw = raw_config(path, text)?;
        // Paths in the config start from its directory, made absolute: plugins get absolute
        // paths (the sandbox grants directories by their full path).
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let base = parent
            .canonicalize()
            .or_else(|_| std::path::absolute(parent))
            .unwrap_or_else(|_| parent.to_path_buf());
        let at = |span: &Range<usize>, key: &str, reason: String| Error::Config {
            path: path.to_path_buf(),
            line: Some(line_of(text, span)),
            key: key.to_owned(),
            reason,
        };
        let dir = |value: &Option<Spanned<String>>, default: &str| {
            base.join(value.as_ref().map_or(default, |v| v.get_ref().as_str()))
        };
        let state_dir = dir(&raw.state_dir, "state");
        let listen = match &raw.listen {
            Some(listen) => listen.get_ref().parse().map_err(|e| {
                at(
                    &listen.span(),
                    "listen",
                    format!(
                        "`{}` is not an address ({e}); write IP:PORT, e.g. {DEFAULT_LISTEN}",
                        listen.get_ref()
                    ),
                )
            })?,
            None => DEFAULT_LISTEN.parse().expect("the default address parses"),
        };
        let api = api::api_config(
            raw.api.as_ref(),
            listen,
            raw.listen.as_ref().map(|l| l.span()),
            &base,
            &at,
        )?;
        let max_jobs = match &raw.max_jobs {
            Some(max) if *max.get_ref() == 0 => {
                return Err(at(&max.span(), "max_jobs", "must be at least 1".into()));
            }
            Some(max) if *max.get_ref() > MAX_JOBS => {
                return Err(at(
                    &max.span(),
                    "max_jobs",
                    too_large(*max.get_ref() as u64, MAX_JOBS as u64, "jobs"),
                ));
            }
            Some(max) => *max.get_ref(),
            None => 2,
        };
        let mut datastores = Vec::with_capacity(raw.datastores.len());
        for (name, datastore) in &raw.datastores {
            let key = format!("datastores.{name}");
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(at(
                    &datastore.span(),
                    &key,
                    "a datastore name may hold only letters, digits, `-`, `_` and `.`".into(),
                ));
            }
            datastores.push(datastore_config(
                name,
                datastore.get_ref(),
                &base,
                &key,
                &at,
            )?);
        }
        Ok(Config {
            path: path.to_path_buf(),
            base_dir: base.clone(),
            cache_dir: match &raw.cache_dir {
                Some(dir) => base.join(dir.get_ref()),
                None => Runtime::default_cache_dir()?,
            },
            state_dir,
            checks_dir: dir(&raw.checks_dir, "checks"),
            plugin_dir: dir(&raw.plugin_dir, "plugins"),
            listen,
            api,
            max_jobs,
            shutdown_grace: Duration::from_secs(match &raw.shutdown_grace_secs {
                Some(secs) if *secs.get_ref() > MAX_SECS => {
                    return Err(at(
                        &secs.span(),
                        "shutdown_grace_secs",
                        too_large(*secs.get_ref(), MAX_SECS, "seconds (ten years)"),
                    ));
                }
                Some(secs) => *secs.get_ref(),
                None => 30,
            }),
            datastores,
            enrichment: raw
                .enrichment
                .as_ref()
                .map(|e| enrichment_config(e, &base, &at))
                .transpose()?,
            retention: retention_config(&raw.retention, &at)?,
        })
    }

    /// The datastore named `name`.
    pub fn datastore(&self, name: &str) -> Option<&DatastoreConfig> {
        self.datastores.iter().find(|d| d.name == name)
    }

    /// The datastore named `name`, or an error that lists the configured ones.
    pub fn configured(&self, name: &str) -> Result<&DatastoreConfig> {
        self.datastore(name).ok_or_else(|| Error::NoSuchDatastore {
            name: name.to_owned(),
            known: (self.datastores.iter())
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

fn datastore_config(
    name: &str,
    raw: &RawDatastore,
    base: &Path,
    key: &str,
    at: &impl Fn(&Range<usize>, &str, String) -> Error,
) -> Result<DatastoreConfig> {
    let mut settings = BTreeMap::new();
    for (setting, value) in &raw.settings {
        let setting_key = format!("{key}.settings.{setting}");
        let text = match value.get_ref() {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(at(
                    &value.span(),
                    &setting_key,
                    format!(
                        "a setting is a string, number or boolean, not {}",
                        other.type_str()
                    ),
                ));
            }
        };
        let value = ConfigValue::resolve(&text, base)
            .map_err(|reason| at(&value.span(), &setting_key, reason))?;
        settings.insert(setting.clone(), value);
    }
    let grants = &raw.grants;
    let mut hosts = Vec::with_capacity(grants.hosts.len());
    for host in &grants.hosts {
        hosts.push(
            host.get_ref()
                .parse::<HostGrant>()
                .map_err(|reason| at(&host.span(), &format!("{key}.grants.hosts"), reason))?,
        );
    }
    let mut directories = Vec::with_capacity(grants.directories.len());
    for directory in &grants.directories {
        let full = base.join(directory.get_ref());
        let canonical = full.canonicalize().map_err(|e| {
            at(
                &directory.span(),
                &format!("{key}.grants.directories"),
                format!("{}: {e}; a granted directory must exist", full.display()),
            )
        })?;
        directories.push(canonical);
    }
    let defaults = Grants::default();
    // A limit of 0 would stop everything at once, and a huge one would overflow the
    // arithmetic on it: refuse both where they are written.
    let limit = |value: &Option<Spanned<u64>>, name: &str| match value {
        Some(v) if *v.get_ref() == 0 => Err(at(
            &v.span(),
            &format!("{key}.grants.{name}"),
            "must be at least 1; leave it out for the default".into(),
        )),
        Some(v) => {
            let (max, unit) = match name.ends_with("_secs") {
                true => (MAX_SECS, "seconds (ten years)"),
                false => (MAX_MIB, "MiB (1 TiB)"),
            };
            match *v.get_ref() > max {
                true => Err(at(
                    &v.span(),
                    &format!("{key}.grants.{name}"),
                    too_large(*v.get_ref(), max, unit),
                )),
                false => Ok(Some(*v.get_ref())),
            }
        }
        None => Ok(None),
    };
    let schedule = |value: &Option<Spanned<String>>, operation: &str| {
        value
            .as_ref()
            .map(|pattern| {
                Cron::from_str(pattern.get_ref())
                    .map(|cron| Schedule {
                        pattern: pattern.get_ref().clone(),
                        cron,
                    })
                    .map_err(|e| {
                        at(&pattern.span(), &format!("{key}.schedule.{operation}"), format!("`{}` is not a cron schedule ({e}); write e.g. \"0 * * * *\" for every hour", pattern.get_ref()))
                    })
            })
            .transpose()
    };
    Ok(DatastoreConfig {
        name: name.to_owned(),
        plugin: raw.plugin.get_ref().clone(),
        settings,
        grants: Grants {
            directories,
            hosts,
            memory_bytes: limit(&grants.memory_mib, "memory_mib")?
                .map_or(defaults.memory_bytes, |m| (m as usize) << 20),
            call_timeout: limit(&grants.call_timeout_secs, "call_timeout_secs")?
                .map_or(defaults.call_timeout, Duration::from_secs),
            ipc_chunk_bytes: limit(&grants.ipc_chunk_mib, "ipc_chunk_mib")?
                .map_or(defaults.ipc_chunk_bytes, |m| (m as usize) << 20),
            ipc_batch_bytes: limit(&grants.ipc_batch_mib, "ipc_batch_mib")?
                .map_or(defaults.ipc_batch_bytes, |m| (m as usize) << 20),
            job_timeout: limit(&grants.job_timeout_secs, "job_timeout_secs")?
                .map_or(defaults.job_timeout, Duration::from_secs),
            // Which settings are secret depends on the plugin: set per job.
            redact: defaults.redact.clone(),
            lone_file: None,
        },
        schedule: Schedules {
            catalog: schedule(&raw.schedule.catalog, "catalog")?,
            profile: schedule(&raw.schedule.profile, "profile")?,
            scan: schedule(&raw.schedule.scan, "scan")?,
        },
    })
}

/// The `[retention]` table, checked: each value at least 1 and small enough for the time
/// arithmetic on it.
fn retention_config(
    raw: &RawRetention,
    at: &impl Fn(&Range<usize>, &str, String) -> Error,
) -> Result<Retention> {
    let defaults = Retention::default();
    let value = |value: &Option<Spanned<u64>>, key: &str, max: u64, default: u64| match value {
        None => Ok(default),
        Some(v) if *v.get_ref() == 0 => Err(at(
            &v.span(),
            &format!("retention.{key}"),
            "must be at least 1; leave it out for the default".into(),
        )),
        Some(v) if *v.get_ref() > max => Err(at(
            &v.span(),
            &format!("retention.{key}"),
            too_large(*v.get_ref(), max, ""),
        )),
        Some(v) => Ok(*v.get_ref()),
    };
    Ok(Retention {
        days: value(&raw.days, "days", MAX_SECS / (24 * 3600), defaults.days)?,
        keep_per_container: value(
            &raw.keep_per_container,
            "keep_per_container",
            1_000_000,
            defaults.keep_per_container,
        )?,
    })
}

/// Why a number is refused as too large, and what to write instead.
fn too_large(value: u64, max: u64, unit: &str) -> String {
    format!(
        "{value} is too large: at most {max}{}{unit}; write a smaller value, or leave it out for the default",
        if unit.is_empty() { "" } else { " " }
    )
}

/// The `[enrichment]` table, checked: its kind, and only the keys of that kind.
fn enrichment_config(
    raw: &Spanned<RawEnrichment>,
    base: &Path,
    at: &impl Fn(&Range<usize>, &str, String) -> Error,
) -> Result<EnrichmentConfig> {
    let table = raw.get_ref();
    let kind = table.kind.get_ref().as_str();
    // A key of the other kind is a mistake (a half-edited table): say so rather than ignore it.
    let (wrong, right) = match kind {
        "parquet" => (
            vec![("url", &table.url), ("schema", &table.schema)],
            "postgres",
        ),
        "postgres" => (vec![("path", &table.path)], "parquet"),
        other => {
            return Err(at(
                &table.kind.span(),
                "enrichment.kind",
                format!("`{other}` is not an enrichment kind; write \"parquet\" or \"postgres\""),
            ));
        }
    };
    if let Some((key, value)) = wrong.iter().find_map(|(k, v)| v.as_ref().map(|v| (k, v))) {
        return Err(at(
            &value.span(),
            &format!("enrichment.{key}"),
            format!("`{key}` is for kind = \"{right}\"; remove it, or change the kind"),
        ));
    }
    let missing = |key: &str, example: &str| {
        at(
            &raw.span(),
            &format!("enrichment.{key}"),
            format!("kind = \"{kind}\" needs `{key}`; write e.g. {key} = \"{example}\""),
        )
    };
    if kind == "parquet" {
        let path = table
            .path
            .as_ref()
            .ok_or_else(|| missing("path", "enrichment"))?;
        if path.get_ref().is_empty() {
            return Err(at(
                &path.span(),
                "enrichment.path",
                "is empty; write the directory the Parquet files go to".into(),
            ));
        }
        return Ok(EnrichmentConfig::Parquet {
            dir: base.join(path.get_ref()),
        });
    }
    let url = table
        .url
        .as_ref()
        .ok_or_else(|| missing("url", "postgres://USER@HOST:5432/DATABASE"))?;
    let value = ConfigValue::resolve(url.get_ref(), base)
        .map_err(|reason| at(&url.span(), "enrichment.url", reason))?;
    crate::enrichment::check_url(value.expose())
        .map_err(|reason| at(&url.span(), "enrichment.url", reason))?;
    let schema = match &table.schema {
        Some(schema) => {
            let name = schema.get_ref();
            let mut chars = name.chars();
            let valid = chars
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && name.len() <= 63;
            if !valid {
                return Err(at(
                    &schema.span(),
                    "enrichment.schema",
                    format!(
                        "`{name}` is not a schema name qualityd writes to: use lowercase \
                         letters, digits and `_`, not starting with a digit, at most 63 \
                         characters (e.g. \"{DEFAULT_ENRICHMENT_SCHEMA}\")"
                    ),
                ));
            }
            name.clone()
        }
        None => DEFAULT_ENRICHMENT_SCHEMA.to_owned(),
    };
    Ok(EnrichmentConfig::Postgres { url: value, schema })
}

/// The config's TOML, deserialized: an error names the full key it is at
/// (`datastores.orders.grants.memroy_mib`), its line, and what serde expected there (the
/// known keys, for an unknown one).
fn raw_config(path: &Path, text: &str) -> Result<RawConfig> {
    let error = |line: Option<usize>, key: String, reason: String| Error::Config {
        path: path.to_path_buf(),
        line,
        key,
        reason,
    };
    let deserializer = toml::Deserializer::parse(text).map_err(|e| {
        let line = e.span().map(|span| line_of(text, &span));
        error(
            line,
            String::new(),
            format!("not valid TOML: {}", e.message()),
        )
    })?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = key_path(e.path());
        let inner = e.into_inner();
        let line = inner.span().map(|span| line_of(text, &span));
        let mut reason = inner.message().to_owned();
        if reason.starts_with("unknown field") {
            reason = reason.replacen("unknown field", "unknown key", 1);
            reason.push_str("; correct its spelling, or remove it");
        }
        error(line, key, reason)
    })
}

/// A deserializer's path as a TOML key: `datastores.orders.grants.hosts[1]`, a key that is
/// not bare quoted (`datastores."a b"`). `Spanned`'s own inner level is left out.
fn key_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut key = String::new();
    for segment in path {
        match segment {
            Segment::Map { key: name } if name.starts_with("$__serde_spanned") => {}
            Segment::Map { key: name } | Segment::Enum { variant: name } => {
                if !key.is_empty() {
                    key.push('.');
                }
                let bare = !name.is_empty()
                    && (name.chars()).all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                match bare {
                    true => key.push_str(name),
                    false => key.push_str(&format!("{name:?}")),
                }
            }
            Segment::Seq { index } => key.push_str(&format!("[{index}]")),
            Segment::Unknown => {}
        }
    }
    key
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, span: &Range<usize>) -> usize {
    text[..span.start.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests;
