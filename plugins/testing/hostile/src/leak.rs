//! The `leak-secret` mode: every way a plugin can try to carry its secrets out through the
//! host, for the host's scrubbing tests. `discover` logs the `target` and `token` settings
//! with newlines that try to forge log lines, and again where a log line and a stderr line
//! are cut (so a cut before scrubbing would leave the start of the secret); `read` fails
//! with a typed error (not a panic) quoting both, so the message reaches the host as the
//! plugin wrote it.

use qualityd_plugin_sdk::Error;

/// The host's cap on a log line and an output line, in characters.
const HOST_LINE_CAP: usize = 4096;

/// What `discover` says before it answers.
pub fn discover(target: &str, token: &str) {
    qualityd_plugin_sdk::log::warn(&format!(
        "leak target {target}\nFORGED-LOG-LINE qualityd: token {token}\r\nFORGED-AGAIN"
    ));
    // Each secret starts 4 characters before the cap: cut first, a prefix would stay.
    for secret in [target, token] {
        let padding = "x".repeat(HOST_LINE_CAP - 4);
        qualityd_plugin_sdk::log::warn(&format!("{padding}{secret}"));
        eprintln!("{padding}{secret}");
    }
    eprintln!("stderr target {target}\rFORGED-STDERR-LINE");
}

/// The error `read` fails with.
pub fn read(target: &str, token: &str) -> Error {
    Error::internal(format!(
        "leaking {target} and {token}\nFORGED-ERROR-LINE qualityd: job ended"
    ))
}
