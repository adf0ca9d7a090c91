//! How qualityd logs: `tracing` events to stderr, filtered by `QUALITYD_LOG` (the
//! `tracing-subscriber` filter syntax, e.g. `qualityd=debug`), warnings and errors by default.

/// Install the stderr subscriber. Call once, at the start of a binary.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QUALITYD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
