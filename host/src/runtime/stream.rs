//! Reads one `batch-stream`: pulls IPC chunks from the plugin and hands them to an
//! [`IpcDecoder`], which checks every batch against the schema `discover` announced and the
//! datastore's IPC caps. Its errors come back here naming the plugin and the call.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use wasmtime::component::ResourceAny;

use super::PluginSession;
use super::ipc::{IpcCaps, IpcDecoder, IpcError};
use crate::contract::ReadResponse;
use crate::{Error, Result};

/// The record batches of one `read`, decoded and validated.
pub struct BatchReader<'s> {
    session: &'s mut PluginSession,
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
        while self.pending.is_empty() {
            let Some(stream) = self.stream else {
                return Ok(());
            };
            let asked = Instant::now();
            let next = self.session.next_chunk(&self.call, stream);
            let received = Instant::now();
            self.waiting += received - asked;
            match next? {
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
