//! How qualityd logs: `tracing` events to stderr, as text for people or JSON lines for log
//! collectors, filtered by `QUALITYD_LOG` (the `tracing-subscriber` filter syntax, e.g.
//! `qualityd=debug`); by default warnings for the CLI and info for the daemon.

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Text lines for people.
    Human,
    /// One JSON object per line, with span fields (plugin, job, datastore).
    Json,
}

/// Install the stderr subscriber, at `default_level` unless `QUALITYD_LOG` says otherwise.
/// Call once, at the start of a binary.
pub fn init(format: LogFormat, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QUALITYD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
}
