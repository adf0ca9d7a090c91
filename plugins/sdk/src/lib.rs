//! The guest side of qualityd's connector contract.
//!
//! A connector implements [`Connector`] and [`Session`] in terms of Arrow schemas and record
//! batches; this crate turns that into the WIT contract in `wit/`: it encodes schemas and
//! batches as Arrow IPC, checks settings against the connector's own specs before `open`,
//! builds typed errors and routes logging to the host.
//!
//! ```ignore
//! struct MyConnector;
//! impl qualityd_plugin_sdk::Connector for MyConnector { /* describe, open */ }
//! qualityd_plugin_sdk::export_connector!(MyConnector);
//! ```
#![deny(missing_docs)]

mod adapter;
mod error;
mod ipc;
pub mod log;
mod settings;

/// Bindings generated from the contract; connectors rarely need them directly.
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "export_bindings",
        default_bindings_module: "qualityd_plugin_sdk::bindings",
    });
}

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::Schema;

pub use adapter::{BatchStreamHandle, SessionHandle, open_session};
pub use bindings::exports::qualityd::connector::connector::Guest;
pub use bindings::qualityd::connector::types::{
    Capability, Comparison, ContainerKind, DataError, Error, Location, Partition, PartitionHint,
    PluginInfo, Predicate, ReadRequest, Scalar, Setting, SettingSpec, SettingType, Watermark,
};
pub use error::{DataErrorBuilder, Result};
pub use ipc::{IpcStream, schema_to_ipc};
pub use settings::{Settings, setting_spec};

/// A connector: who it is, and how to open a session on a datastore.
pub trait Connector {
    /// Name, version, datastore kinds, settings and capabilities. Must not do I/O.
    fn describe() -> PluginInfo;

    /// Open a session. `settings` were already checked against [`Connector::describe`]'s
    /// specs: every required setting is present, every value has its type, defaults are filled.
    fn open(settings: Settings) -> Result<Box<dyn Session>>;
}

/// A container as a connector describes it, with its schema as Arrow types.
#[derive(Debug, Clone)]
pub struct ContainerInfo {
    /// Unique within the datastore.
    pub name: String,
    /// Table, view, file, ...
    pub kind: ContainerKind,
    /// The fields of every record batch `read` returns for it (before projection).
    pub schema: Arc<Schema>,
    /// Number of records, when cheap to know or estimate.
    pub row_estimate: Option<u64>,
    /// Size in storage, when known.
    pub byte_size: Option<u64>,
    /// Why it cannot be read, when already known at discovery (the host reports it and
    /// profiles the other containers).
    pub error: Option<Error>,
}

impl ContainerInfo {
    /// A container that was found but cannot be read.
    pub fn failed(name: String, kind: ContainerKind, byte_size: Option<u64>, error: Error) -> Self {
        ContainerInfo {
            name,
            kind,
            schema: Arc::new(Schema::empty()),
            row_estimate: None,
            byte_size,
            error: Some(error),
        }
    }
}

/// What [`Session::read`] returns: record batches with one schema, produced lazily.
pub struct Batches {
    /// The schema of every batch (the container's schema after projection).
    pub schema: Arc<Schema>,
    /// The batches, in order. An `Err` ends the stream with that error.
    pub batches: Box<dyn Iterator<Item = Result<RecordBatch>>>,
    /// True when the connector applied every predicate of the request's filter.
    pub filter_applied: bool,
}

/// A session on one datastore. Methods take `&self`: use interior mutability for state.
pub trait Session {
    /// Test the connection and settings.
    fn check(&self) -> Result<()>;
    /// List the containers.
    fn discover(&self) -> Result<Vec<ContainerInfo>>;
    /// Split a container into independently readable partitions.
    fn partitions(&self, container: &str, hint: &PartitionHint) -> Result<Vec<Partition>>;
    /// Read one partition.
    fn read(&self, request: ReadRequest) -> Result<Batches>;
}

/// Export a [`Connector`] as the component's implementation of the contract.
#[macro_export]
macro_rules! export_connector {
    ($connector:ty) => {
        const _: () = {
            struct QualitydPlugin;

            impl $crate::Guest for QualitydPlugin {
                type Session = $crate::SessionHandle;
                type BatchStream = $crate::BatchStreamHandle;

                fn describe() -> $crate::PluginInfo {
                    <$connector as $crate::Connector>::describe()
                }

                fn open(
                    settings: ::std::vec::Vec<$crate::Setting>,
                ) -> ::std::result::Result<
                    $crate::bindings::exports::qualityd::connector::connector::Session,
                    $crate::Error,
                > {
                    $crate::open_session::<$connector>(settings)
                }
            }

    $crate::bindings::export_bindings!(QualitydPlugin with_types_in $crate::bindings);
        };
    };
}
