//! Reads one `batch-stream`: pulls IPC chunks from the plugin and hands them to an
//! [`IpcDecoder`], which checks every batch against the schema `discover` announced and the
//! datastore's IPC caps. Its errors come back here naming the plugin and the call.
//!
//! A stream that sends nothing cannot hold its reader: the stop flag of the operation
//! (cancellation, the job's time limit) is checked before every `next()`, and
//! [`MAX_EMPTY_CHUNKS`] empty chunks without a batch is a [`Error::Limit`].

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use wasmtime::component::ResourceAny;

use super::PluginSession;
use super::ipc::{IpcCaps, IpcDecoder, IpcError};
use crate::contract::ReadResponse;
use crate::{Error, Result};

/// How many empty chunks a stream may send between two batches before its read is abandoned:
/// a correct stream sends data or ends.
pub const MAX_EMPTY_CHUNKS: u32 = 1024;

/// The record batches of one `read`, decoded and validated.
pub struct BatchReader<'s> {
    session: &'s mut PluginSession,
    /// Set when the operation is stopped (cancelled, or past its time limit).
    stop: Option<&'s AtomicBool>,
    call: String,
    stream: Option<ResourceAny>,
    decoder: IpcDecoder,
    pending: VecDeque<RecordBatch>,
    filter_applied: bool,
    bytes: u64,
    waiting: Duration,
    decoding: Duration,
}

impl<'s> BatchReader<'s> {
    pub(crate) fn new(
        session: &'s mut PluginSession,
        call: String,
        response: ReadResponse,
        expected: SchemaRef,
    ) -> Self {
        let grants = session.grants();
        let caps = IpcCaps {
            chunk_bytes: grants.ipc_chunk_bytes,
            batch_bytes: grants.ipc_batch_bytes,
        };
        BatchReader {
            session,
            stop: None,
            call,
            stream: Some(response.stream),
            decoder: IpcDecoder::new(expected, caps),
            pending: VecDeque::new(),
            filter_applied: response.filter_applied,
            bytes: 0,
            waiting: Duration::ZERO,
            decoding: Duration::ZERO,
        }
    }

    /// Stop pulling chunks once `stop` is set: the next batch asked for is then an
    /// [`Error::Cancelled`], even while the plugin sends nothing but empty chunks.
    pub fn stop_when(mut self, stop: &'s AtomicBool) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Whether the plugin applied the request's filter itself.
    pub fn filter_applied(&self) -> bool {
        self.filter_applied
    }

    /// IPC bytes received so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Time spent in the plugin's `next` (its work and the copy out of its memory), and
    /// time spent decoding and validating IPC in the host.
    pub fn timings(&self) -> (Duration, Duration) {
        (self.waiting, self.decoding)
    }

    fn error(&self, error: IpcError) -> Error {
        let (plugin, call) = (self.session.label().clone(), self.call.clone());
        match error {
            IpcError::Malformed(reason) => Error::MalformedIpc {
                plugin,
                call,
                reason,
            },
            IpcError::SchemaMismatch { expected, got } => Error::SchemaMismatch {
                plugin,
                call,
                expected,
                got,
            },
            IpcError::Limit(reason) => Error::Limit {
                plugin,
                call,
                reason,
            },
        }
    }

    /// Pull chunks until a batch is decoded or the stream ends.
    fn fill(&mut self) -> Result<()> {
        let mut empty = 0;
        while self.pending.is_empty() {
            let Some(stream) = self.stream else {
                return Ok(());
            };
            if self.stop.is_some_and(|stop| stop.load(Ordering::Relaxed)) {
                return Err(Error::Cancelled(format!(
                    "{} was stopped while reading",
                    self.call
                )));
            }
            let asked = Instant::now();
            let next = self.session.next_chunk(&self.call, stream);
            let received = Instant::now();
            self.waiting += received - asked;
            match next? {
                Some(chunk) if chunk.is_empty() => {
                    empty += 1;
                    if empty >= MAX_EMPTY_CHUNKS {
                        return Err(Error::Limit {
                            plugin: self.session.label().clone(),
                            call: self.call.clone(),
                            reason: format!(
                                "it sent {MAX_EMPTY_CHUNKS} empty chunks without a batch; a stream must \
                                 send Arrow IPC bytes or end (`none`), so the read was abandoned; report \
                                 it to the plugin's author"
                            ),
                        });
                    }
                }
                Some(chunk) => {
                    self.bytes += chunk.len() as u64;
                    let pushed = self.decoder.push(chunk, &mut self.pending);
                    self.decoding += received.elapsed();
                    pushed.map_err(|e| self.error(e))?;
                }
                None => {
                    self.close();
                    self.decoder.finish().map_err(|e| self.error(e))?;
                }
            }
        }
        Ok(())
    }

    fn close(&mut self) {
        if let Some(stream) = self.stream.take() {
            self.session.drop_stream(stream);
            tracing::debug!(
                call = %self.call,
                bytes = self.bytes,
                waiting_ms = self.waiting.as_millis() as u64,
                decoding_ms = self.decoding.as_millis() as u64,
                "stream closed"
            );
        }
    }
}

impl Iterator for BatchReader<'_> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Err(e) = self.fill() {
            self.close();
            return Some(Err(e));
        }
        self.pending.pop_front().map(Ok)
    }
}

impl Drop for BatchReader<'_> {
    fn drop(&mut self) {
        self.close();
    }
}
