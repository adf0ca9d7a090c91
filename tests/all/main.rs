//! qualityd's integration tests, one binary with a module per topic (as wasmtime's are): one
//! link of wasmtime and arrow instead of one per file. The tests build the real plugins first
//! and talk to them through the real runtime.

mod daemon_process;
mod support;

mod api_security;
mod artifact_cache;
mod bad_input;
mod cli;
mod crash_safety;
mod csv_edges;
mod csv_profile;
mod daemon_api;
mod daemon_lifecycle;
mod formats;
mod grouping;
mod hardening;
mod hostile_daemon;
mod hostile_ipc;
mod hostile_limits;
mod hot_reload;
mod incremental;
mod json_parquet_edges;
mod many_files;
mod messages;
mod mysql;
mod partitions;
mod postgres;
mod profile_options;
mod sandbox;
mod scan;
mod statistics;
