//! A plugin instance's stdout and stderr. Each complete line goes to the host's tracing,
//! tagged with the plugin and the stream, scrubbed of its datastore's secrets (before it is
//! cut to length), escaped onto one log line and rate-limited; the last 64 KiB of stderr are
//! kept to explain a trap (a panic message comes last, so the tail is what matters).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

use super::Redactor;
use super::log_limit::LogLimit;
use super::redact::one_line;
use crate::error::PluginLabel;

/// How much of the stream's end is kept.
const TAIL: usize = 64 * 1024;
/// The longest line passed on; the rest of a longer one is cut.
const MAX_LINE: usize = 4096;

/// One output stream of one instance. Clones share it.
#[derive(Clone)]
pub(crate) struct PluginOutput {
    state: Arc<Mutex<State>>,
}

struct State {
    stream: &'static str,
    plugin: PluginLabel,
    redact: Redactor,
    limit: LogLimit,
    line: Vec<u8>,
    /// Whether bytes of the current line were dropped past its cap.
    cut: bool,
    tail: VecDeque<u8>,
    /// Bytes written so far.
    written: u64,
}

impl PluginOutput {
    /// The stream named `stream` (`stdout`, `stderr`) of an instance of `plugin`.
    pub(crate) fn new(stream: &'static str, plugin: PluginLabel, redact: Redactor) -> Self {
        PluginOutput {
            state: Arc::new(Mutex::new(State {
                stream,
                plugin,
                redact,
                limit: LogLimit::new(),
                line: Vec::new(),
                cut: false,
                tail: VecDeque::new(),
                written: 0,
            })),
        }
    }

    /// The last 64 KiB written.
    pub(crate) fn tail(&self) -> Vec<u8> {
        self.lock().tail.iter().copied().collect()
    }

    /// Whether more was written than the tail keeps (its first line may be a part).
    pub(crate) fn is_tail_cut(&self) -> bool {
        self.lock().written > TAIL as u64
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take(&self, bytes: &[u8]) {
        let mut state = self.lock();
        state.written += bytes.len() as u64;
        let keep = &bytes[bytes.len().saturating_sub(TAIL)..];
        state.tail.extend(keep);
        let excess = state.tail.len().saturating_sub(TAIL);
        state.tail.drain(..excess);
        // Keep a secret's length past the cap, so that one straddling the cap is scrubbed
        // whole before the line is cut.
        let keep = MAX_LINE + state.redact.longest();
        for &byte in bytes {
            match byte {
                b'\n' => state.emit_line(),
                _ if state.line.len() < keep => state.line.push(byte),
                _ => state.cut = true,
            }
        }
    }
}

impl State {
    fn emit_line(&mut self) {
        let line = std::mem::take(&mut self.line);
        let cut = std::mem::take(&mut self.cut);
        let plugin = &*self.plugin;
        if !self.limit.admit(plugin, self.stream) {
            return;
        }
        let text = String::from_utf8_lossy(&line);
        let text = match cut {
            // A character split by the cut is no character: it goes, then any tail that
            // begins a secret.
            true => self.redact.scrub_cut(text.trim_end_matches('\u{fffd}')),
            false => self.redact.scrub(text.trim_end()),
        };
        let text = super::redact::cut(&one_line(&text), MAX_LINE);
        if !text.is_empty() {
            tracing::info!(plugin, stream = self.stream, "{text}");
        }
    }
}

impl IsTerminal for PluginOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for PluginOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for PluginOutput {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.take(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(TAIL)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for PluginOutput {
    async fn ready(&mut self) {}
}

impl AsyncWrite for PluginOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.take(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_end_of_a_long_stream() {
        let output = PluginOutput::new("stderr", "p@1".to_owned().into(), Redactor::default());
        output.take(&vec![b'x'; 100_000]);
        output.take(b"\nthread panicked at src/lib.rs:1:1:\nthe end\n");
        let tail = output.tail();
        assert_eq!(tail.len(), TAIL);
        assert!(String::from_utf8_lossy(&tail).ends_with("panicked at src/lib.rs:1:1:\nthe end\n"));
    }

    #[test]
    fn a_line_past_the_cap_keeps_no_part_of_a_secret() {
        let secret = "Zq9-top-secret";
        let output = PluginOutput::new(
            "stderr",
            "p@1".to_owned().into(),
            Redactor::new([secret.to_owned()]),
        );
        // A secret straddling the cap is kept whole, to be scrubbed whole.
        let mut line = "x".repeat(MAX_LINE - 3).into_bytes();
        line.extend_from_slice(secret.as_bytes());
        output.take(&line);
        assert_eq!(output.lock().line.len(), MAX_LINE - 3 + secret.len());
        assert!(!output.lock().cut);
        output.take(b"\n");
        // One that starts past what is kept is cut, and its start dropped.
        let mut line = "x".repeat(MAX_LINE + 2).into_bytes();
        line.extend_from_slice(secret.as_bytes());
        output.take(&line);
        let state = output.lock();
        assert!(state.cut);
        let kept = String::from_utf8_lossy(&state.line).into_owned();
        assert!(kept.ends_with("Zq9-top-secr"), "{kept}");
        assert_eq!(state.redact.scrub_cut(&kept), "x".repeat(MAX_LINE + 2));
    }
}
