//! qualityd: a data-quality daemon whose datastore connectors are sandboxed WebAssembly
//! components.
//!
//! The host loads connector plugins (`wasm32-wasip2` components built against the contract in
//! `wit/`) with wasmtime, each inside a sandbox that grants only its datastore's directories,
//! bounded memory and a time limit per call. Plugins stream Arrow IPC; the host decodes and
//! validates it, and profiles the record batches into mergeable per-field statistics.
//!
//! - [`runtime`]: the wasmtime engine, the compiled-artifact cache, plugins and sessions.
//! - [`profile`]: field profiles built in one pass and merged across partitions.
//! - [`checks`]: quality rules over record batches: rows that fail, and container-wide
//!   assertions merged across partitions.
//! - [`operation`]: operations over a datastore (profile) that tie the two together.
//! - [`report`]: how profiles are shown to people (tables) and programs (JSON).
//! - [`config`], [`store`], [`daemon`], [`api`]: the daemon (`qualityd serve`): its config
//!   file, its SQLite state, hot-reloaded plugins and jobs, and its HTTP API.
//! - [`enrichment`]: each scan's anomalies written to Parquet files or PostgreSQL for other
//!   tools.
#![deny(missing_docs)]

pub mod api;
pub mod checks;
pub mod config;
pub mod contract;
pub mod daemon;
pub mod enrichment;
pub mod error;
pub mod logging;
pub mod operation;
pub mod profile;
pub mod report;
pub mod runtime;
pub mod scan;
pub mod store;

pub use error::{Error, Result};
