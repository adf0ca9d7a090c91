//! Logging into the host's tracing; the host tags every line with the plugin's name and version.

use crate::bindings::qualityd::connector::log::{Level, log};

/// A detail useful only when debugging the connector.
pub fn debug(message: &str) {
    log(Level::Debug, message);
}

/// Something the operator may want to know.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Something went wrong but the work goes on.
pub fn warn(message: &str) {
    log(Level::Warn, message);
}
