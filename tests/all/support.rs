//! Shared by the tests: the plugins (built once per run), a runtime with a shared artifact
//! cache, and short ways to profile a path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use qualityd::contract::{Partition, PartitionHint, ReadRequest, Setting};
use qualityd::operation::{self, ContainerOutcome, Datastore, ProfileOptions, Progress};
use qualityd::profile::{ContainerProfile, FieldProfile};
use qualityd::runtime::{DiscoveredContainer, Grants, Plugin, PluginSession, Runtime};

/// The repository's root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
}

/// A committed test fixture.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// The plugin build directory, after building every plugin (once per test run).
pub fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let plugins = root().join("plugins");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--release", "--target", "wasm32-wasip2"])
            .arg("--target-dir")
            .arg(plugins.join("target"))
            .current_dir(&plugins)
            .env_remove("CARGO_TARGET_DIR")
            .status()
            .expect("running cargo to build the plugins");
        assert!(status.success(), "building the plugins failed");
        plugins.join("target/wasm32-wasip2/release")
    })
}

/// One runtime for the whole run, caching compiled plugins under `target/`.
pub fn runtime() -> &'static Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let cache = root().join("target/test-artifact-cache");
        Runtime::new(&cache).expect("creating the runtime")
    })
}

/// A plugin from the build directory, loaded once per run.
pub fn plugin(name: &str) -> Arc<Plugin> {
    static LOADED: Mutex<BTreeMap<String, Arc<Plugin>>> = Mutex::new(BTreeMap::new());
    let mut loaded = LOADED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    loaded
        .entry(name.to_owned())
        .or_insert_with(|| {
            runtime()
                .load_named(plugin_dir(), name)
                .unwrap_or_else(|e| panic!("loading {name}: {e}"))
        })
        .clone()
}

/// A datastore served by a network plugin (`postgres`, `mysql`), granted `hosts` only.
pub fn network_datastore(plugin_name: &str, pairs: &[(&str, &str)], hosts: &[&str]) -> Datastore {
    let grants = Grants {
        hosts: hosts
            .iter()
            .map(|h| h.parse().expect("a host:port grant"))
            .collect(),
        ..Grants::default()
    };
    Datastore {
        name: format!("{plugin_name}-test"),
        plugin: plugin(plugin_name),
        settings: settings(pairs),
        grants,
    }
}

/// Settings from pairs.
pub fn settings(pairs: &[(&str, &str)]) -> Vec<Setting> {
    pairs
        .iter()
        .map(|(name, value)| Setting {
            name: (*name).into(),
            value: (*value).into(),
        })
        .collect()
}

/// A files datastore over `path` with extra settings.
pub fn files_datastore(path: &Path, extra: &[(&str, &str)]) -> Datastore {
    let mut datastore =
        Datastore::for_path(plugin("files"), path, Grants::default()).expect("datastore");
    datastore.settings.extend(settings(extra));
    datastore
}

/// Profile a path through the files plugin.
pub fn profile_path(path: &Path, extra: &[(&str, &str)]) -> Vec<ContainerOutcome> {
    profile_with(path, extra, &ProfileOptions::default())
}

/// Profile every container under a path with these settings and options.
pub fn profile_with(
    path: &Path,
    extra: &[(&str, &str)],
    options: &ProfileOptions,
) -> Vec<ContainerOutcome> {
    let datastore = files_datastore(path, extra);
    operation::profile(&datastore, options, &Progress::default()).expect("profiling")
}

/// The profile of the one container a path holds.
pub fn profile_one(path: &Path, extra: &[(&str, &str)]) -> ContainerProfile {
    let mut outcomes = profile_path(path, extra);
    assert_eq!(outcomes.len(), 1, "expected one container");
    outcomes
        .remove(0)
        .result
        .unwrap_or_else(|e| panic!("profiling {}: {e}", path.display()))
}

/// A field's profile by name.
pub fn field<'p>(profile: &'p ContainerProfile, name: &str) -> &'p FieldProfile {
    profile
        .fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no field {name}"))
}

/// A text field's shortest and longest value, in characters.
pub fn lengths(field: &FieldProfile) -> (Option<u64>, Option<u64>) {
    field
        .text
        .as_ref()
        .map_or((None, None), |t| (t.min_length, t.max_length))
}

/// The error of the one container a path holds, as text.
pub fn container_error(outcomes: &[ContainerOutcome], name: &str) -> String {
    let outcome = outcomes
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no container {name}"));
    match &outcome.result {
        Ok(_) => panic!("container {name} was profiled, but should have failed"),
        Err(e) => e.to_string(),
    }
}

/// A partition hint for `parallelism` readers, with no byte target.
pub fn hint(parallelism: u32) -> PartitionHint {
    PartitionHint {
        parallelism,
        target_bytes: None,
    }
}

/// A read of a whole partition: every field, no filter, limit or watermark.
pub fn read_request(container: &str, partition: Partition) -> ReadRequest {
    ReadRequest {
        container: container.into(),
        partition,
        projection: None,
        filter: Vec::new(),
        limit: None,
        watermark: None,
    }
}

/// A fresh session on a datastore of one container, that container, and its first partition.
pub fn first_partition(datastore: &Datastore) -> (PluginSession, DiscoveredContainer, Partition) {
    let mut session = datastore.open().unwrap();
    let container = session.discover().unwrap().remove(0);
    let partition = session
        .partitions(&container.name, hint(1))
        .unwrap()
        .remove(0);
    (session, container, partition)
}
