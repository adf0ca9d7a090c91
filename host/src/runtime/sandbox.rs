//! What a plugin instance may touch: the grants of its datastore, turned into a WASI context
//! and resource limits. Nothing is granted that is not written here: no environment, no
//! arguments, no network, no stdin, no writable or unlisted paths.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::log_limit::LogLimit;
use super::network::{self, HostGrant};
use super::output::PluginOutput;
use super::{EPOCH_TICK, Redactor, Runtime, Ticking};
use crate::contract::qualityd::connector::{log, types};
use crate::contract::{Setting, SettingSpec, SettingType};
use crate::error::PluginLabel;
use crate::{Error, Result};

/// The longest log line a plugin may send; longer ones are cut.
const MAX_LOG_LINE: usize = 4096;

/// What a datastore grants its plugin.
#[derive(Debug, Clone)]
pub struct Grants {
    /// Directories the plugin may read, each mounted read-only at its own absolute path.
    pub directories: Vec<PathBuf>,
    /// The `host:port` pairs the plugin may open TCP connections to; none by default.
    pub hosts: Vec<HostGrant>,
    /// The most linear memory one instance may use, in bytes.
    pub memory_bytes: usize,
    /// The most time one call into the plugin may take.
    pub call_timeout: Duration,
    /// The most Arrow IPC bytes one `next()` may return.
    pub ipc_chunk_bytes: usize,
    /// The most Arrow IPC bytes of one message (one batch, as encoded) a stream may send.
    pub ipc_batch_bytes: usize,
    /// The most time one job on the datastore may take, all its calls together.
    pub job_timeout: Duration,
    /// The datastore's secret values, scrubbed from what the plugin says (logs, last words,
    /// errors) before qualityd logs or stores it.
    pub redact: Redactor,
    /// The private directory holding the one file granted alone (`qualityd profile FILE`),
    /// kept as long as a clone of the grants is; it is in `directories`.
    pub lone_file: Option<std::sync::Arc<super::LoneFile>>,
}

impl Default for Grants {
    /// Nothing but 1 GiB of memory, 60 s per call, 64 MiB per `next()`, 256 MiB per batch
    /// and an hour per job.
    fn default() -> Self {
        Grants {
            directories: Vec::new(),
            hosts: Vec::new(),
            memory_bytes: 1 << 30,
            call_timeout: Duration::from_secs(60),
            ipc_chunk_bytes: 64 << 20,
            ipc_batch_bytes: 256 << 20,
            job_timeout: Duration::from_secs(3600),
            redact: Redactor::default(),
            lone_file: None,
        }
    }
}

impl Grants {
    /// The call timeout in epoch ticks.
    pub(crate) fn deadline_ticks(&self) -> u64 {
        (self.call_timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
    }

    /// The first setting that names something these grants do not let the plugin reach,
    /// judged by the setting's declared type: a `path` outside every granted directory (the
    /// plugin would see no such file), or an `address` whose host is a name while no host
    /// is granted by name (the sandbox then refuses every name lookup). Checked before a
    /// session opens, so the user reads which grant is missing instead of what the plugin
    /// saw.
    pub fn uncovered(&self, specs: &[SettingSpec], settings: &[Setting]) -> Option<Uncovered> {
        settings.iter().find_map(|setting| {
            let spec = specs.iter().find(|spec| spec.name == setting.name)?;
            match spec.type_ {
                SettingType::Path => self.uncovered_path(setting),
                SettingType::Address => network::uncovered_name(&self.hosts, setting),
                _ => None,
            }
        })
    }

    /// A path setting outside every granted directory. The sandbox mounts each directory at
    /// its own path and the plugin resolves paths by their text, so the test is on the text
    /// (`.` and `..` resolved), as the plugin will see it.
    fn uncovered_path(&self, setting: &Setting) -> Option<Uncovered> {
        let path = Path::new(&setting.value);
        if !path.is_absolute() {
            return None; // the SDK refuses it, as a setting of the wrong form
        }
        let path = lexically_normal(path);
        if (self.directories.iter()).any(|dir| path.starts_with(lexically_normal(dir))) {
            return None;
        }
        let needs = format!(
            "read access to {} (setting `{}`)",
            path.display(),
            setting.name
        );
        let granted = match self.directories.is_empty() {
            true => "it grants no directory".to_owned(),
            false => format!(
                "it is in none of the granted directories ({})",
                (self.directories.iter())
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        // Through a symbolic link, the path may lead into a granted directory: the plugin
        // sees only the real path.
        let real = std::fs::canonicalize(&path).ok();
        let what_to_do = match real {
            Some(real) if (self.directories.iter()).any(|dir| real.starts_with(dir)) => format!(
                "{granted}, but it leads into one through a symbolic link; write its real path, \
                 {}, in the setting",
                real.display()
            ),
            _ => format!(
                "{granted}; add {} (or a directory above it) to the datastore's \
                 grants.directories, or correct the setting",
                match path.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => parent.display(),
                    _ => path.display(),
                }
            ),
        };
        Some(Uncovered { needs, what_to_do })
    }
}

/// What a setting names that its datastore's grants do not cover, and how to grant it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uncovered {
    /// What the plugin would need, in words, with the setting that names it.
    pub needs: String,
    /// Why the grants do not cover it, and which grant to add.
    pub what_to_do: String,
}

/// `path` with `.` left out and `..` taken back, without touching the filesystem.
fn lexically_normal(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

/// The data of one plugin instance's store.
pub struct SessionState {
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryCap,
    stderr: PluginOutput,
    plugin: PluginLabel,
    log_limit: LogLimit,
    redact: Redactor,
    /// Keeps plugin time limits counting while this store lives.
    _ticking: Ticking,
}

/// The most linear memories one plugin instance (its whole store: every core instance of
/// the component) may create. Rust, C and JavaScript guests have one.
pub const MAX_MEMORIES: usize = 4;
/// The most tables one plugin instance may create (a Rust component has two).
pub const MAX_TABLES: usize = 16;
/// The most core instances one plugin instance may create (a Rust component has three).
pub const MAX_INSTANCES: usize = 64;
/// The most table elements one plugin instance may hold, all its tables together.
pub const MAX_TABLE_ELEMENTS: usize = 1_000_000;

/// Refuses memory growth past the cap, counting every linear memory of the instance
/// together, and remembers that it did; caps the number of memories, tables and instances
/// and the table elements, all tables together.
struct MemoryCap {
    cap: usize,
    /// Bytes of linear memory granted so far, every memory together.
    total: usize,
    /// The total a refused growth would have made.
    refused: Option<usize>,
    /// Table elements granted so far, every table together.
    table_elements: usize,
}

impl ResourceLimiter for MemoryCap {
    /// Called when a memory is created (`current` 0) and when it grows.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if maximum.is_some_and(|maximum| desired > maximum) {
            return Ok(false); // fails anyway; not counted
        }
        let total = (self.total - current.min(self.total)).saturating_add(desired);
        if total > self.cap {
            self.refused = Some(total);
            return Ok(false);
        }
        self.total = total;
        Ok(true)
    }

    /// Called when a table is created (`current` 0) and when it grows.
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if maximum.is_some_and(|maximum| desired > maximum) {
            return Ok(false);
        }
        let total =
            (self.table_elements - current.min(self.table_elements)).saturating_add(desired);
        if total > MAX_TABLE_ELEMENTS {
            return Ok(false);
        }
        self.table_elements = total;
        Ok(true)
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }
}

/// Why instantiating a plugin failed, when it was for creating more memories, tables or
/// instances than [`MAX_MEMORIES`], [`MAX_TABLES`] or [`MAX_INSTANCES`] (wasmtime says so in
/// its error's text only).
pub(crate) fn count_limit(error: &wasmtime::Error) -> Option<String> {
    let text = format!("{error:#}");
    text.contains("resource limit exceeded").then(|| {
        format!(
            "it creates more linear memories, tables or instances than a plugin may ({text}); \
             a plugin may have at most {MAX_MEMORIES} linear memories, {MAX_TABLES} tables and \
             {MAX_INSTANCES} core instances (a Rust, C or JavaScript component has one memory); \
             rebuild it with a standard toolchain"
        )
    })
}

impl SessionState {
    /// A store for one plugin instance, sandboxed by `grants`.
    pub(crate) fn store(
        runtime: &Runtime,
        plugin: PluginLabel,
        grants: &Grants,
    ) -> Result<Store<SessionState>> {
        let stderr = PluginOutput::new("stderr", plugin.clone(), grants.redact.clone());
        let stdout = PluginOutput::new("stdout", plugin.clone(), grants.redact.clone());
        let mut wasi = WasiCtxBuilder::new();
        wasi.stderr(stderr.clone())
            .stdout(stdout)
            .allow_tcp(!grants.hosts.is_empty())
            .allow_udp(false)
            .allow_ip_name_lookup(grants.hosts.iter().any(HostGrant::is_name))
            .allow_blocking_current_thread(true);
        if !grants.hosts.is_empty() {
            let allowed = network::granted_addresses(&grants.hosts);
            wasi.socket_addr_check(move |address, used| {
                let allowed = network::allows(&allowed, address, used);
                if !allowed {
                    tracing::warn!(%address, ?used, "the sandbox refused a socket address the datastore does not grant");
                }
                Box::pin(std::future::ready(allowed))
            });
        }
        for dir in &grants.directories {
            let guest = dir.to_string_lossy();
            wasi.preopened_dir(dir, guest.as_ref(), FsPerms::ReadOnly)
                .map_err(|e| Error::Path {
                    path: dir.clone(),
                    reason: format!("cannot grant it to plugin {plugin}: {e}"),
                })?;
        }
        let state = SessionState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            memory: MemoryCap {
                cap: grants.memory_bytes,
                total: 0,
                refused: None,
                table_elements: 0,
            },
            stderr,
            plugin,
            log_limit: LogLimit::new(),
            redact: grants.redact.clone(),
            _ticking: runtime.ticking(),
        };
        let mut store = Store::new(runtime.engine(), state);
        store.limiter(|state| &mut state.memory);
        store.set_epoch_deadline(grants.deadline_ticks());
        store.epoch_deadline_trap();
        Ok(store)
    }

    /// The memory size (every linear memory together) the cap refused, if it refused one.
    pub(crate) fn memory_refused(&self) -> Option<usize> {
        self.memory.refused
    }

    /// What the plugin last wrote to stderr: its panic message when it panicked (Rust's
    /// `panicked at FILE:LINE:` and the message, without the backtrace note), else the last line.
    pub(crate) fn last_words(&self) -> Option<String> {
        let contents = self.stderr.tail();
        let text = String::from_utf8_lossy(&contents);
        // A full tail may begin inside a line, perhaps inside a secret: that line goes.
        let whole: &str = match self.stderr.is_tail_cut() {
            true => text.split_once('\n').map_or("", |(_, rest)| rest),
            false => &text,
        };
        let lines: Vec<&str> = whole
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with("note: run with"))
            .collect();
        let words = match lines.iter().rposition(|line| line.contains("panicked at")) {
            Some(at) => lines[at..].join(" "),
            None => lines.last()?.to_string(),
        };
        Some(super::redact::cut(&self.redact.scrub(&words), MAX_LOG_LINE))
    }
}

impl WasiView for SessionState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for SessionState {}

impl log::Host for SessionState {
    fn log(&mut self, level: log::Level, message: String) {
        let plugin = &*self.plugin;
        if !self.log_limit.admit(plugin, "log") {
            return;
        }
        // Scrubbed whole, then cut: a cut must not leave the start of a secret. One line:
        // the plugin's newlines must not forge lines of the daemon's log.
        let message = self.redact.log_line(&message, MAX_LOG_LINE);
        match level {
            log::Level::Trace => tracing::trace!(plugin, "{message}"),
            log::Level::Debug => tracing::debug!(plugin, "{message}"),
            log::Level::Info => tracing::info!(plugin, "{message}"),
            log::Level::Warn => tracing::warn!(plugin, "{message}"),
            log::Level::Error => tracing::error!(plugin, "{message}"),
        }
    }
}
