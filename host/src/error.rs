//! Errors a user of qualityd can see; each says what went wrong, where, and what to do.

use std::path::PathBuf;

use crate::contract::PluginError;

/// A result with qualityd's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Names a plugin in errors and logs: `files@0.1.0`, or its file before `describe` answered.
pub type PluginLabel = std::sync::Arc<str>;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A path the user gave does not exist or cannot be read.
    #[error("{path}: {reason}")]
    Path {
        /// The path as given.
        path: PathBuf,
        /// Why it cannot be used, and what to do.
        reason: String,
    },

    /// The plugin directory holds no plugin that serves the datastore.
    #[error(
        "no plugin named `{name}` in {dir}: build the plugins (`make plugins`) or pass --plugins DIR"
    )]
    PluginNotFound {
        /// The plugin asked for.
        name: String,
        /// Where it was looked for.
        dir: PathBuf,
    },

    /// A plugin file is not a WebAssembly component.
    #[error(
        "plugin {path} is not a WebAssembly component ({reason}); build it with `cargo build --target wasm32-wasip2`"
    )]
    NotAComponent {
        /// The plugin file.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },

    /// A plugin file could not be compiled, or does not fit the contract.
    #[error("plugin {path} cannot be loaded: {reason}")]
    PluginLoad {
        /// The plugin file.
        path: PathBuf,
        /// What failed, and what to do.
        reason: String,
    },

    /// A plugin returned one of the contract's typed errors.
    #[error("plugin {plugin}: {call} failed: {}", error.message())]
    Plugin {
        /// The plugin.
        plugin: PluginLabel,
        /// The contract call (`discover`, `read orders.csv`, ...).
        call: String,
        /// What the plugin said.
        error: Box<PluginError>,
    },

    /// A plugin trapped, ran out of time or memory: its instance was thrown away.
    #[error("plugin {plugin}: {call} was stopped: {reason}")]
    PluginTrap {
        /// The plugin.
        plugin: PluginLabel,
        /// The contract call.
        call: String,
        /// The limit hit or the trap, with the plugin's last words when it left any.
        reason: String,
    },

    /// A plugin declares a capability its datastore does not grant: nothing was called.
    #[error(
        "plugin {plugin} needs {capability}, which datastore {datastore} does not grant: {what_to_do}"
    )]
    NotGranted {
        /// The plugin.
        plugin: PluginLabel,
        /// The datastore.
        datastore: String,
        /// The capability, in words.
        capability: String,
        /// How to grant it, or why it cannot be.
        what_to_do: String,
    },

    /// A plugin went past a limit of its datastore's grants that does not stop its instance
    /// (the IPC byte caps); the read is abandoned.
    #[error("plugin {plugin}: {call} went past a limit: {reason}")]
    Limit {
        /// The plugin.
        plugin: PluginLabel,
        /// The contract call.
        call: String,
        /// The limit, its grant key and what to do.
        reason: String,
    },

    /// A plugin sent bytes that are not the Arrow IPC it promised.
    #[error("plugin {plugin}: {call} sent malformed Arrow IPC: {reason}")]
    MalformedIpc {
        /// The plugin.
        plugin: PluginLabel,
        /// The contract call.
        call: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A plugin's batches do not have the schema its `discover` announced.
    #[error(
        "plugin {plugin}: {call} sent batches with fields [{got}], but discover announced [{expected}]"
    )]
    SchemaMismatch {
        /// The plugin.
        plugin: PluginLabel,
        /// The contract call.
        call: String,
        /// The announced fields.
        expected: String,
        /// The fields received.
        got: String,
    },

    /// The compiled-artifact cache could not be used; the plugin still loads, only slower.
    #[error("compiled-plugin cache at {path}: {reason}")]
    Cache {
        /// The cache directory or file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },

    /// The daemon's config is wrong.
    #[error("{}: {reason}", config_place(path, *line, key))]
    Config {
        /// The config file.
        path: PathBuf,
        /// The line of the problem, when known.
        line: Option<usize>,
        /// The key (`datastores.orders.schedule.profile`), when known.
        key: String,
        /// What is wrong and what to write instead.
        reason: String,
    },

    /// The state store cannot be opened, read or written.
    #[error("state store {path}: {reason}")]
    Store {
        /// The store's file.
        path: PathBuf,
        /// What failed, and what to do.
        reason: String,
    },

    /// A datastore named by the user is not configured.
    #[error("no datastore named `{name}` is configured; the config has: {known}")]
    NoSuchDatastore {
        /// The name asked for.
        name: String,
        /// The datastores configured.
        known: String,
    },

    /// A datastore's plugin has no version serving.
    #[error(
        "plugin `{name}` is not loaded: put {name}.wasm in {dir}, or see why it failed in GET /plugins/events"
    )]
    PluginNotLoaded {
        /// The plugin.
        name: String,
        /// The plugin directory.
        dir: PathBuf,
    },

    /// The daemon is shutting down and takes no new jobs.
    #[error("the daemon is shutting down and takes no new jobs; submit it again after the restart")]
    ShuttingDown,

    /// A container named by the user is not in the datastore.
    #[error("datastore {datastore} has no container `{container}`; it has: {known}")]
    NoSuchContainer {
        /// The datastore.
        datastore: String,
        /// The name asked for.
        container: String,
        /// The containers it has.
        known: String,
    },

    /// A request that cannot be done as asked; the message says what to change.
    #[error("{0}")]
    Invalid(String),

    /// The operation was cancelled before it finished.
    #[error("cancelled: {0}")]
    Cancelled(String),

    /// A bug in qualityd itself.
    #[error("internal error: {0}; please report it")]
    Internal(String),
}

impl Error {
    /// A short class name for tests and metrics (`plugin.data`, `trap`, `ipc`, ...).
    pub fn class(&self) -> String {
        match self {
            Error::Path { .. } => "path".into(),
            Error::PluginNotFound { .. } => "plugin-not-found".into(),
            Error::NotAComponent { .. } => "not-a-component".into(),
            Error::PluginLoad { .. } => "plugin-load".into(),
            Error::Plugin { error, .. } => format!("plugin.{}", error.class()),
            Error::PluginTrap { .. } => "trap".into(),
            Error::Limit { .. } => "limit".into(),
            Error::NotGranted { .. } => "not-granted".into(),
            Error::MalformedIpc { .. } => "ipc".into(),
            Error::SchemaMismatch { .. } => "schema-mismatch".into(),
            Error::Cache { .. } => "cache".into(),
            Error::Config { .. } => "config".into(),
            Error::Store { .. } => "store".into(),
            Error::NoSuchContainer { .. } => "no-such-container".into(),
            Error::NoSuchDatastore { .. } => "no-such-datastore".into(),
            Error::PluginNotLoaded { .. } => "plugin-not-loaded".into(),
            Error::ShuttingDown => "shutting-down".into(),
            Error::Invalid(_) => "invalid".into(),
            Error::Cancelled(_) => "cancelled".into(),
            Error::Internal(_) => "internal".into(),
        }
    }
}

/// `FILE:LINE: `KEY``, as much of it as is known.
fn config_place(path: &std::path::Path, line: Option<usize>, key: &str) -> String {
    let mut place = path.display().to_string();
    if let Some(line) = line {
        place.push_str(&format!(":{line}"));
    }
    if !key.is_empty() {
        place.push_str(&format!(": `{key}`"));
    }
    place
}
