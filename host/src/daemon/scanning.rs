//! A scan of a datastore, from the store's checks to the store's anomalies: the active
//! checks are read from the store, the containers scanned in one pass each, every container's
//! results and findings recorded (deduplicated against the open anomalies), and the
//! enrichment destination, when configured, given the anomalies. Every text a scan stores or
//! reports is first scrubbed of the secrets of every datastore it read (the scanned one and
//! those its checks compare with). Inference proposes checks
//! from the stored profiles. The daemon (jobs and API) and the CLI (`qualityd scan`,
//! `qualityd checks infer`) both run these.

use std::collections::BTreeMap;

use crate::checks::infer::infer;
use crate::config::Config;
use crate::enrichment::Enrichment;
use crate::operation::{self, Datastore, Progress, ScanOptions};
use crate::runtime::Redactor;
use crate::scan::ContainerScanResult;
use crate::scan::findings;
use crate::store::{CheckStatus, ContainerFailure, ScanRecord, Store, StoredCheck};
use crate::{Error, Result};

/// How a scan finds the other datastores its checks compare with, by name.
pub type DatastoreResolver<'a> = &'a dyn Fn(&str) -> Result<Datastore>;

/// What to scan, and for whom.
#[derive(Clone, Copy, Default)]
pub struct ScanRequest<'a> {
    /// Only these containers; every one with active checks when empty.
    pub containers: &'a [String],
    /// Read only the partitions past each container's last watermark.
    pub incremental: bool,
    /// The job that runs it; none for `qualityd scan`.
    pub job_id: Option<i64>,
    /// Finds the other datastores that checks name (`exists_in` with a `datastore`); without
    /// it, such checks fail with the reason.
    pub others: Option<DatastoreResolver<'a>>,
}

/// What a scan of a datastore stored.
#[derive(Debug, Default)]
pub struct ScanSummary {
    /// One stored scan per container scanned.
    pub scans: Vec<ScanRecord>,
    /// Containers that could not be scanned and checks that could not be evaluated.
    pub failures: Vec<ContainerFailure>,
    /// Containers asked for.
    pub containers: usize,
    /// The secrets of every datastore the scan read, already scrubbed from all of the above:
    /// for whatever else its caller reports.
    pub redact: Redactor,
}

impl ScanSummary {
    /// The anomalies the scan found (new or seen again).
    pub fn anomalies(&self) -> usize {
        self.scans.iter().map(|s| s.anomalies.len()).sum()
    }
}

/// Sync the check files into the store: each file's checks become exactly what the store
/// holds for it, and the checks of deleted files are archived. Fails on the first bad file,
/// changing nothing for it.
pub fn sync_check_files(config: &Config, store: &Store) -> Result<usize> {
    let files = config.check_files()?;
    let mut checks = 0;
    for file in &files {
        let counts = store.sync_checks(&file.source, &file.checks)?;
        tracing::info!(file = %file.path.display(), added = counts.added, kept = counts.kept, archived = counts.archived, "check file synced");
        checks += file.checks.len();
    }
    let sources: Vec<String> = files.iter().map(|f| f.source.clone()).collect();
    let archived = store.archive_missing_sources(&sources)?;
    if archived > 0 {
        tracing::info!(archived, "checks of deleted check files archived");
    }
    Ok(checks)
}

/// Propose checks inferred from the latest profile of each of `datastore`'s profiled
/// containers (only `containers`, when not empty). Checks already stored, in any status, are
/// not proposed again. Returns the new proposals.
pub fn propose_inferred_checks(
    store: &Store,
    datastore: &str,
    containers: &[String],
) -> Result<Vec<StoredCheck>> {
    let names = match containers.is_empty() {
        true => store.profiled_containers(datastore)?,
        false => containers.to_vec(),
    };
    let mut stored = Vec::new();
    for name in &names {
        let Some(profile) = store.latest_profile(datastore, name)? else {
            if store.container(datastore, name)?.is_none() {
                return Err(not_in_catalog(store, datastore, name)?);
            }
            return Err(Error::Invalid(format!(
                "container `{name}` of datastore `{datastore}` has no profile yet; profile it \
                 first (a profile job, or `qualityd profile`)"
            )));
        };
        let proposals: Vec<_> = infer(&profile.profile)
            .into_iter()
            .map(|inferred| (inferred.check, inferred.evidence))
            .collect();
        for id in store.propose_checks(datastore, &proposals)? {
            stored.extend(store.check(id)?);
        }
    }
    Ok(stored)
}

/// The error for a container that `datastore`'s stored catalog does not list: it names the
/// first containers the catalog has, or says that no catalog job has run yet.
pub fn not_in_catalog(store: &Store, datastore: &str, container: &str) -> Result<Error> {
    /// How many names the error lists before it counts the rest.
    const SHOWN: usize = 20;
    let names = store.container_names(datastore)?;
    let known = match names.len() {
        0 => format!(
            "nothing catalogued yet; run a catalog job (POST /jobs with {{\"kind\": \"catalog\", \
             \"datastore\": \"{datastore}\"}}) to list its containers"
        ),
        count => {
            let mut known = names[..count.min(SHOWN)].join(", ");
            if count > SHOWN {
                known.push_str(&format!(" and {} more", count - SHOWN));
            }
            known.push_str(&format!(
                " (GET /datastores/{datastore}/containers lists them; a catalog job refreshes \
                 the list)"
            ));
            known
        }
    };
    Ok(Error::NoSuchContainer {
        datastore: datastore.to_owned(),
        container: container.to_owned(),
        known,
    })
}

/// Scan `datastore`'s containers that have active checks (only `containers`, when not
/// empty) and record what was found under `job_id`; then write each container's anomalies to
/// `enrichment`, when given (a write that fails is a failure of code `enrichment`: the scan
/// stays stored).
pub fn scan_and_record(
    store: &Store,
    datastore: &Datastore,
    request: &ScanRequest<'_>,
    progress: &Progress,
    enrichment: Option<&Enrichment>,
) -> Result<ScanSummary> {
    let containers = request.containers;
    let mut checks: Vec<_> = store
        .checks(&datastore.name, None, Some(CheckStatus::Active))?
        .into_iter()
        .map(|stored| stored.check)
        .collect();
    if !containers.is_empty() {
        checks.retain(|c| containers.contains(&c.container));
        if let Some(missing) = containers
            .iter()
            .find(|name| !checks.iter().any(|c| &&c.container == name))
        {
            return Err(Error::Invalid(format!(
                "container `{missing}` of datastore `{}` has no active checks; add some (a \
                 check file, POST /checks, or accept inferred ones) or scan another container",
                datastore.name
            )));
        }
    }
    let mut history = BTreeMap::new();
    for name in checks.iter().map(|c| &c.container) {
        if !history.contains_key(name)
            && let Some(last) = store.last_scan(&datastore.name, name)?
        {
            history.insert(name.clone(), last);
        }
    }
    let options = ScanOptions {
        incremental: request.incremental,
        ..ScanOptions::default()
    };
    let mut others = BTreeMap::new();
    let named = checks
        .iter()
        .filter_map(|c| c.reference().and_then(|r| r.datastore));
    for name in named {
        if others.contains_key(&name) {
            continue;
        }
        let other = match (name == datastore.name, request.others) {
            (true, _) => Ok(datastore.clone()),
            (false, Some(resolve)) => resolve(&name),
            (false, None) => continue,
        };
        match other {
            Ok(other) => {
                others.insert(name, other);
            }
            Err(e) => {
                tracing::warn!(datastore = %name, error = %e, "a datastore checks compare with is not available; those checks fail")
            }
        }
    }
    // What a plugin says may hold its datastore's secrets, and a check's result may quote
    // what another datastore's plugin said: scrub every datastore's from every text.
    let redact = Redactor::union(
        std::iter::once(&datastore.grants.redact).chain(others.values().map(|o| &o.grants.redact)),
    );
    let outcomes = operation::scan(datastore, &others, &checks, &history, &options, progress)?;
    let mut summary = ScanSummary {
        containers: outcomes.len(),
        redact: redact.clone(),
        ..ScanSummary::default()
    };
    for outcome in outcomes {
        let mut result = match outcome.result {
            Ok(result) => result,
            Err(e) => {
                summary.failures.push(ContainerFailure {
                    container: outcome.name,
                    error: redact.scrub(&e.to_string()).into_owned(),
                    code: e.class(),
                });
                continue;
            }
        };
        scrub_result(&mut result, &redact);
        for broken in result.checks.iter().filter_map(|c| c.error.as_ref()) {
            summary.failures.push(ContainerFailure {
                container: result.container.clone(),
                error: broken.clone(),
                code: "check".into(),
            });
        }
        let last_fields = history
            .get(&result.container)
            .map(|last| last.fields.as_slice());
        let found = findings(&result, last_fields);
        let record = store.record_scan(request.job_id, &datastore.name, &result, &found)?;
        if let Some(enrichment) = enrichment
            && let Err(e) = enrichment.write_stored(store, &record)
        {
            tracing::warn!(destination = %enrichment.destination(), container = %record.result.container, scan = record.id, error = %e, "the scan's anomalies were not written to the enrichment datastore");
            summary.failures.push(ContainerFailure {
                container: record.result.container.clone(),
                error: redact.scrub(&e.to_string()).into_owned(),
                code: "enrichment".into(),
            });
        }
        summary.scans.push(record);
    }
    Ok(summary)
}

/// `result`'s texts (each check's message and error) without the secrets `redact` knows.
fn scrub_result(result: &mut ContainerScanResult, redact: &Redactor) {
    for check in &mut result.checks {
        check.message = redact.scrub(&check.message).into_owned();
        if let Some(error) = &mut check.error {
            *error = redact.scrub(error).into_owned();
        }
    }
}
