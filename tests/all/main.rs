//! qualityd's integration tests, one binary with a module per topic (as wasmtime's are): one
//! link of wasmtime and arrow instead of one per file. The tests build the real plugins first
//! and talk to them through the real runtime.

mod support;

mod artifact_cache;
mod bad_input;
mod cli;
mod csv_profile;
mod formats;
mod grouping;
mod incremental;
mod partitions;
mod profile_options;
mod sandbox;
mod statistics;
