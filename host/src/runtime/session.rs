//! A plugin instance with a session open on one datastore, and every contract call on it.
//!
//! Each call runs under the datastore's time limit and memory cap. When a call traps (a
//! panic, a limit, a bug), the instance is poisoned: its error says which limit or why, and
//! the session refuses further calls; a fresh session is a fresh instance.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use wasmtime::Store;
use wasmtime::component::ResourceAny;

use super::ipc::{IpcCaps, IpcError};
use super::stats::CallEnd;
use super::{BatchReader, Grants, Plugin, SessionState};
use crate::contract::{self, ContainerKind, Partition, PartitionHint, PluginError, ReadRequest};
use crate::error::PluginLabel;
use crate::{Error, Result};

/// A container as discovered, with its schema decoded.
#[derive(Debug)]
pub struct DiscoveredContainer {
    /// Unique within the datastore.
    pub name: String,
    /// Table, file, ...
    pub kind: ContainerKind,
    /// The fields every batch of it has (before projection).
    pub schema: SchemaRef,
    /// Records, when the plugin could tell cheaply.
    pub row_estimate: Option<u64>,
    /// Bytes in storage, when known.
    pub byte_size: Option<u64>,
    /// Why the plugin already knows it cannot be read.
    pub error: Option<Error>,
}

impl DiscoveredContainer {
    /// The schema of its batches when only `fields` are read, in that order.
    pub fn projected(&self, fields: &[String]) -> Result<SchemaRef> {
        let indices = fields
            .iter()
            .map(|name| {
                self.schema.index_of(name).map_err(|_| Error::Path {
                    path: self.name.clone().into(),
                    reason: format!(
                        "it has no field `{name}`; its fields are: {}",
                        self.schema
                            .fields()
                            .iter()
                            .map(|f| f.name().as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })
            })
            .collect::<Result<Vec<usize>>>()?;
        self.schema
            .project(&indices)
            .map(Arc::new)
            .map_err(|e| Error::Internal(format!("projecting {}: {e}", self.name)))
    }
}

/// One sandboxed instance with an open session.
pub struct PluginSession {
    plugin: Arc<Plugin>,
    grants: Grants,
    store: Store<SessionState>,
    bindings: contract::Plugin,
    session: ResourceAny,
    poisoned: bool,
}

type CallOutcome<R> = wasmtime::Result<Result<R, PluginError>>;

impl PluginSession {
    pub(crate) fn open(
        plugin: Arc<Plugin>,
        grants: &Grants,
        settings: &[contract::Setting],
    ) -> Result<Self> {
        let label = plugin.label().clone();
        let span = tracing::info_span!("plugin.open", plugin = %label);
        let _entered = span.enter();
        let mut store = SessionState::store(plugin.runtime(), label.clone(), grants)?;
        let opened = plugin.pre().instantiate(&mut store).and_then(|bindings| {
            let session = bindings
                .qualityd_connector_connector()
                .call_open(&mut store, settings)?;
            Ok((bindings, session))
        });
        match opened {
            Ok((bindings, Ok(session))) => Ok(PluginSession {
                plugin,
                grants: grants.clone(),
                store,
                bindings,
                session,
                poisoned: false,
            }),
            Ok((_, Err(error))) => Err(Error::Plugin {
                plugin: label,
                call: "open".into(),
                error: Box::new(error),
            }),
            Err(trap) => Err(classify_trap(&store, &label, "open", grants, trap)),
        }
    }

    /// The plugin version this session runs.
    pub fn plugin(&self) -> &Arc<Plugin> {
        &self.plugin
    }

    /// Run one contract call under the time limit, mapping traps and plugin errors.
    fn call<R>(
        &mut self,
        call: &str,
        f: impl FnOnce(&contract::Plugin, &mut Store<SessionState>, ResourceAny) -> CallOutcome<R>,
    ) -> Result<R> {
        let label = self.plugin.label().clone();
        if self.poisoned {
            return Err(Error::PluginTrap {
                plugin: label,
                call: call.into(),
                reason: "this instance was stopped by an earlier trap; open a new session".into(),
            });
        }
        let span = tracing::debug_span!("plugin.call", plugin = %label, call);
        let _entered = span.enter();
        self.store.set_epoch_deadline(self.grants.deadline_ticks());
        let started = std::time::Instant::now();
        let outcome = f(&self.bindings, &mut self.store, self.session);
        let end = match &outcome {
            Ok(Ok(_)) => CallEnd::Ok,
            Ok(Err(_)) => CallEnd::Error,
            Err(_) => CallEnd::Trap,
        };
        self.plugin
            .runtime()
            .call_stats()
            .record(end, started.elapsed());
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(Error::Plugin {
                plugin: label,
                call: call.into(),
                error: Box::new(error),
            }),
            Err(trap) => {
                self.poisoned = true;
                Err(classify_trap(&self.store, &label, call, &self.grants, trap))
            }
        }
    }

    /// Test the connection and settings.
    pub fn check(&mut self) -> Result<()> {
        self.call("check", |b, store, session| {
            b.qualityd_connector_connector()
                .session()
                .call_check(store, session)
        })
    }

    /// The datastore's containers, with their schemas decoded from IPC.
    pub fn discover(&mut self) -> Result<Vec<DiscoveredContainer>> {
        let containers = self.call("discover", |b, store, session| {
            b.qualityd_connector_connector()
                .session()
                .call_discover(store, session)
        })?;
        containers
            .into_iter()
            .map(|c| {
                let plugin = self.plugin.label().clone();
                let call = format!("discover `{}`", c.name);
                let error = c.error.map(|error| Error::Plugin {
                    plugin: plugin.clone(),
                    call: call.clone(),
                    error: Box::new(error),
                });
                let caps = IpcCaps {
                    chunk_bytes: self.grants.ipc_chunk_bytes,
                    batch_bytes: self.grants.ipc_batch_bytes,
                };
                let schema = match (&error, super::ipc::decode_schema(&c.schema, caps)) {
                    (_, Ok(schema)) => schema,
                    (Some(_), Err(_)) => Arc::new(arrow::datatypes::Schema::empty()),
                    (None, Err(IpcError::Limit(reason))) => {
                        return Err(Error::Limit {
                            plugin,
                            call,
                            reason: format!("its container schema: {reason}"),
                        });
                    }
                    (None, Err(e)) => {
                        return Err(Error::MalformedIpc {
                            plugin,
                            call,
                            reason: format!(
                                "the container schema is not an Arrow IPC schema message: {e}"
                            ),
                        });
                    }
                };
                Ok(DiscoveredContainer {
                    name: c.name,
                    kind: c.kind,
                    schema,
                    row_estimate: c.row_estimate,
                    byte_size: c.byte_size,
                    error,
                })
            })
            .collect()
    }

    /// Split a container into partitions.
    pub fn partitions(&mut self, container: &str, hint: PartitionHint) -> Result<Vec<Partition>> {
        self.call(
            &format!("partitions of `{container}`"),
            |b, store, session| {
                b.qualityd_connector_connector()
                    .session()
                    .call_partitions(store, session, container, hint)
            },
        )
    }

    /// Start reading a partition; `expected` is the schema the batches must have.
    pub fn read(&mut self, request: ReadRequest, expected: SchemaRef) -> Result<BatchReader<'_>> {
        let call = format!(
            "read `{}` ({})",
            request.container, request.partition.description
        );
        let response = self.call(&call, |b, store, session| {
            b.qualityd_connector_connector()
                .session()
                .call_read(store, session, &request)
        })?;
        Ok(BatchReader::new(self, call, response, expected))
    }

    /// The next IPC chunk of a stream (used by [`BatchReader`]).
    /// What this session's datastore grants.
    pub(crate) fn grants(&self) -> &Grants {
        &self.grants
    }

    pub(crate) fn next_chunk(
        &mut self,
        call: &str,
        stream: ResourceAny,
    ) -> Result<Option<Vec<u8>>> {
        self.call(call, |b, store, _| {
            b.qualityd_connector_connector()
                .batch_stream()
                .call_next(store, stream)
        })
    }

    /// Release a stream resource in the guest (used by [`BatchReader`]).
    pub(crate) fn drop_stream(&mut self, stream: ResourceAny) {
        if !self.poisoned {
            self.store.set_epoch_deadline(self.grants.deadline_ticks());
            if stream.resource_drop(&mut self.store).is_err() {
                self.poisoned = true;
            }
        }
    }

    pub(crate) fn label(&self) -> &PluginLabel {
        self.plugin.label()
    }
}

/// Turn a trap into an error that names the limit hit, or the plugin's last words.
pub(crate) fn classify_trap(
    store: &Store<SessionState>,
    plugin: &PluginLabel,
    call: &str,
    grants: &Grants,
    error: wasmtime::Error,
) -> Error {
    let state = store.data();
    let reason = if let Some(refused) = state.memory_refused() {
        format!(
            "it exceeded its memory cap of {} MiB (asked for {} MiB); if the data needs it, raise the datastore's memory grant (`grants.memory_mib` in the config, `--memory-mib` on the CLI; a plugin instance can use at most 4096 MiB)",
            grants.memory_bytes >> 20,
            refused >> 20
        )
    } else if matches!(
        error.downcast_ref::<wasmtime::Trap>(),
        Some(wasmtime::Trap::Interrupt)
    ) {
        format!(
            "it exceeded its time limit of {:?} per call; raise the datastore's call timeout (grants.call_timeout_secs, or --call-timeout-secs) if the work is legitimate",
            grants.call_timeout
        )
    } else {
        // The trap's kind, not its wasm backtrace (that goes to the debug log).
        tracing::debug!(plugin = %plugin, call, "trap: {error:?}");
        let trap = match error.downcast_ref::<wasmtime::Trap>() {
            Some(trap) => trap.to_string(),
            None => error.to_string(),
        };
        match state.last_words() {
            Some(words) => format!("it trapped ({trap}); its last words: {words}"),
            None => format!("it trapped ({trap})"),
        }
    };
    tracing::debug!(plugin = %plugin, call, %reason, "plugin instance stopped");
    Error::PluginTrap {
        plugin: plugin.clone(),
        call: call.into(),
        reason,
    }
}
