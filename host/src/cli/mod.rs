//! The parts of the `qualityd` binary beyond argument parsing: the scan and checks commands
//! and the progress line.

pub mod checks;
pub mod progress;

/// Output format.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Text for people.
    Table,
    /// JSON for programs.
    Json,
}
