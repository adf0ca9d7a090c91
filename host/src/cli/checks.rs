//! The binary's `scan` and `checks` commands: a scan of the configured datastores in this
//! process (no daemon needed; the store is the daemon's, shared safely through SQLite), and
//! checks inferred from fresh profiles. Reports go to stdout, as text or JSON.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use qualityd::config::Config;
use qualityd::daemon::{
    ScanRequest, ScanSummary, configured_datastore, propose_inferred_checks, scan_and_record,
    sync_check_files,
};
use qualityd::operation::{self, Datastore, ProfileOptions};
use qualityd::runtime::Runtime;
use qualityd::store::{CheckStatus, Store, StoredCheck};

use super::Format;
use super::progress::with_progress;

/// `qualityd scan`'s exit code when anomalies were found.
pub const EXIT_ANOMALIES: u8 = 1;
/// `qualityd scan`'s exit code when a container could not be scanned or a check could not
/// be evaluated (and no anomaly was found).
pub const EXIT_INCOMPLETE: u8 = 2;

/// What a command run without the daemon works with: the config, its store (check files
/// synced) and a runtime.
pub struct Local {
    /// The config.
    pub config: Config,
    /// Its state store.
    pub store: Store,
    runtime: Arc<Runtime>,
}

impl Local {
    /// Load the config, open its store and sync the check files into it.
    pub fn open(config: &std::path::Path) -> anyhow::Result<Self> {
        let config = Config::load(config)?;
        let store = Store::open(&config.state_dir)?;
        sync_check_files(&config, &store)?;
        let runtime = Runtime::new(&config.cache_dir)?;
        Ok(Local {
            config,
            store,
            runtime,
        })
    }

    /// The datastores named (all configured ones when none are).
    fn datastores(&self, names: &[String]) -> anyhow::Result<Vec<Datastore>> {
        let configs: Vec<_> = match names.is_empty() {
            true => self.config.datastores.iter().collect(),
            false => names
                .iter()
                .map(|name| self.config.configured(name))
                .collect::<Result<_, _>>()?,
        };
        configs
            .into_iter()
            .map(|config| {
                let plugin = self
                    .runtime
                    .load_named(&self.config.plugin_dir, &config.plugin)
                    .with_context(|| format!("loading the plugin of datastore {}", config.name))?;
                Ok(configured_datastore(config, plugin, &self.config.base_dir))
            })
            .collect()
    }
}

/// `qualityd scan`: exit 0 when clean, 1 when anomalies were found, 2 when something could
/// not be scanned.
pub fn scan(
    context: &Local,
    datastores: &[String],
    containers: &[String],
    incremental: bool,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let mut anomalies = 0;
    let mut incomplete = false;
    let mut reports = Vec::new();
    let (enrichment, unopened) =
        qualityd::enrichment::Enrichment::open_for_job(context.config.enrichment.as_ref());
    if let Some(failure) = unopened {
        eprintln!("warning: {}", failure.error);
        incomplete = true;
    }
    let resolve = |name: &str| {
        let mut found = context
            .datastores(&[name.to_owned()])
            .map_err(|e| qualityd::Error::Invalid(format!("{e:#}")))?;
        Ok(found.remove(0))
    };
    for datastore in context.datastores(datastores)? {
        let checks = context
            .store
            .checks(&datastore.name, None, Some(CheckStatus::Active))?;
        if checks.is_empty() && containers.is_empty() {
            continue;
        }
        let summary = with_progress(|p| {
            scan_and_record(
                &context.store,
                &datastore,
                &ScanRequest {
                    containers,
                    incremental,
                    job_id: None,
                    others: Some(&resolve),
                },
                p,
                enrichment.as_ref(),
            )
        })
        .with_context(|| format!("scanning datastore {}", datastore.name))?;
        anomalies += summary.anomalies();
        incomplete |= !summary.failures.is_empty();
        match format {
            Format::Table => render(&mut out, &context.store, &datastore.name, &summary)?,
            Format::Json => reports.push(serde_json::json!({
                "datastore": datastore.name,
                "scans": summary.scans,
                "failures": summary.failures,
            })),
        }
    }
    if let Format::Json = format {
        serde_json::to_writer_pretty(&mut out, &reports)?;
        writeln!(out)?;
    }
    Ok(match (anomalies, incomplete) {
        (0, false) => ExitCode::SUCCESS,
        (0, true) => ExitCode::from(EXIT_INCOMPLETE),
        _ => ExitCode::from(EXIT_ANOMALIES),
    })
}

fn render(
    out: &mut impl Write,
    store: &Store,
    datastore: &str,
    summary: &ScanSummary,
) -> anyhow::Result<()> {
    for scan in &summary.scans {
        let result = &scan.result;
        let passed = result.checks.iter().filter(|c| c.passed).count();
        writeln!(
            out,
            "{datastore} / {}: {} rows, {passed} of {} checks passed (scan {})",
            result.container,
            result.rows,
            result.checks.len(),
            scan.id
        )?;
        for id in &scan.anomalies {
            let Some(anomaly) = store.anomaly(*id)? else {
                continue;
            };
            writeln!(
                out,
                "  anomaly {} [{} {}]: {}",
                anomaly.id,
                anomaly.kind.as_str(),
                anomaly.status.as_str(),
                anomaly.message
            )?;
            for record in anomaly.records.iter().take(3) {
                let values: Vec<String> = record
                    .values
                    .iter()
                    .map(|(field, value)| {
                        let value = value.as_str().map_or("null".into(), |v| format!("{v:?}"));
                        match anomaly.fields.contains(field) {
                            true => format!("*{field}={value}*"),
                            false => format!("{field}={value}"),
                        }
                    })
                    .collect();
                writeln!(out, "    row {}: {}", record.row, values.join(" "))?;
            }
            if anomaly.records.len() > 3 {
                writeln!(
                    out,
                    "    ... {} more kept (GET /anomalies/{})",
                    anomaly.records.len() - 3,
                    anomaly.id
                )?;
            }
        }
    }
    for failure in &summary.failures {
        writeln!(
            out,
            "{datastore} / {}: not scanned or not evaluated [{}]: {}",
            failure.container, failure.code, failure.error
        )?;
    }
    Ok(())
}

/// `qualityd checks infer`: profile the containers now, store the profiles, and propose
/// checks from them (active at once with `accept`).
pub fn infer(
    context: &Local,
    datastore: &str,
    containers: &[String],
    accept: bool,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let datastore = context.datastores(&[datastore.to_owned()])?.remove(0);
    let options = ProfileOptions {
        containers: (!containers.is_empty()).then(|| containers.to_vec()),
        ..ProfileOptions::default()
    };
    let outcomes = with_progress(|p| operation::profile(&datastore, &options, p))
        .with_context(|| format!("profiling datastore {}", datastore.name))?;
    let mut profiled = Vec::new();
    for outcome in outcomes {
        match outcome.result {
            Ok(profile) => {
                context
                    .store
                    .insert_profile(&datastore.name, None, &profile)?;
                profiled.push(outcome.name);
            }
            Err(e) => eprintln!(
                "warning: {} not profiled, no checks inferred: {e}",
                outcome.name
            ),
        }
    }
    let mut proposed = propose_inferred_checks(&context.store, &datastore.name, &profiled)?;
    if accept {
        for check in &mut proposed {
            if let Some(id) = check.check.id {
                context.store.set_check_status(id, CheckStatus::Active)?;
                check.status = CheckStatus::Active;
            }
        }
    }
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &proposed)?;
            writeln!(out)?;
        }
        Format::Table => render_proposals(&mut out, &proposed, accept)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn render_proposals(
    out: &mut impl Write,
    proposed: &[StoredCheck],
    accept: bool,
) -> anyhow::Result<()> {
    let verb = if accept { "accepted" } else { "proposed" };
    writeln!(out, "{} checks {verb}", proposed.len())?;
    for stored in proposed {
        let check = &stored.check;
        let rule = serde_json::to_string(&check.rule)?;
        writeln!(
            out,
            "  #{} {}.{} {rule}\n      evidence: {}",
            check.id.unwrap_or_default(),
            check.container,
            check.fields.join(","),
            stored.evidence.as_deref().unwrap_or("")
        )?;
    }
    if !accept && !proposed.is_empty() {
        writeln!(
            out,
            "accept or reject each: POST /checks/ID/accept or /reject, or run again with --accept"
        )?;
    }
    Ok(())
}
