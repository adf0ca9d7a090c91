//! Reads one `batch-stream`: pulls IPC chunks from the plugin, decodes them, and checks every
//! batch against the schema `discover` announced. Bytes that are not Arrow IPC, batches of
//! another shape, and chunks or messages larger than the datastore's IPC caps are errors
//! naming the plugin, never panics or unbounded buffers.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use arrow::buffer::Buffer;
use arrow::datatypes::{Schema, SchemaRef};
use arrow::ipc::reader::StreamDecoder;
use arrow::record_batch::RecordBatch;
use wasmtime::component::ResourceAny;

use super::PluginSession;
use crate::contract::ReadResponse;
use crate::{Error, Result};

/// The record batches of one `read`, decoded and validated.
pub struct BatchReader<'s> {
    session: &'s mut PluginSession,
    call: String,
    stream: Option<ResourceAny>,
    decoder: StreamDecoder,
    expected: SchemaRef,
    schema_checked: bool,
    pending: VecDeque<RecordBatch>,
    filter_applied: bool,
    bytes: u64,
    /// Bytes received since the last decoded batch: what the decoder may be holding.
    undecoded: usize,
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
        BatchReader {
            session,
            call,
            stream: Some(response.stream),
            decoder: StreamDecoder::new(),
            expected,
            schema_checked: false,
            pending: VecDeque::new(),
            filter_applied: response.filter_applied,
            bytes: 0,
            undecoded: 0,
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

    fn malformed(&self, reason: impl std::fmt::Display) -> Error {
        Error::MalformedIpc {
            plugin: self.session.label().clone(),
            call: self.call.clone(),
            reason: reason.to_string(),
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
                    self.check_caps(chunk.len())?;
                    let mut buffer = Buffer::from_vec(chunk);
                    while !buffer.is_empty() {
                        let decoded = self
                            .decoder
                            .decode(&mut buffer)
                            .map_err(|e| self.malformed(e))?;
                        self.check_schema()?;
                        if let Some(batch) = decoded {
                            self.undecoded = 0;
                            self.pending.push_back(batch);
                        }
                    }
                    self.decoding += received.elapsed();
                }
                None => {
                    self.close();
                    self.decoder.finish().map_err(|e| {
                        self.malformed(format!("the stream ended mid-message: {e}"))
                    })?;
                }
            }
        }
        Ok(())
    }

    /// A chunk over `ipc_chunk_mib`, or more bytes than `ipc_batch_mib` without a batch
    /// decoded (a message claiming a huge length, or one huge batch), ends the read.
    fn check_caps(&mut self, chunk: usize) -> Result<()> {
        let grants = self.session.grants();
        let (chunk_cap, batch_cap) = (grants.ipc_chunk_bytes, grants.ipc_batch_bytes);
        self.undecoded += chunk;
        let reason = if chunk > chunk_cap {
            format!(
                "it sent {} MiB in one chunk, over its cap of {} MiB (grants.ipc_chunk_mib); \
                 raise the cap if the plugin's batches are legitimately that large",
                mib(chunk),
                mib(chunk_cap)
            )
        } else if self.undecoded > batch_cap {
            format!(
                "it sent {} MiB without completing a batch, over its cap of {} MiB per batch \
                 (grants.ipc_batch_mib); raise the cap, or have the plugin send smaller batches",
                mib(self.undecoded),
                mib(batch_cap)
            )
        } else {
            return Ok(());
        };
        self.close();
        Err(Error::Limit {
            plugin: self.session.label().clone(),
            call: self.call.clone(),
            reason,
        })
    }

    fn check_schema(&mut self) -> Result<()> {
        if self.schema_checked {
            return Ok(());
        }
        let Some(got) = self.decoder.schema() else {
            return Ok(());
        };
        self.schema_checked = true;
        let same = got.fields().len() == self.expected.fields().len()
            && got
                .fields()
                .iter()
                .zip(self.expected.fields())
                .all(|(g, e)| {
                    g.name() == e.name()
                        && g.data_type() == e.data_type()
                        && g.is_nullable() == e.is_nullable()
                });
        if same {
            return Ok(());
        }
        Err(Error::SchemaMismatch {
            plugin: self.session.label().clone(),
            call: self.call.clone(),
            expected: describe_fields(&self.expected),
            got: describe_fields(&got),
        })
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

fn describe_fields(schema: &Schema) -> String {
    let fields: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| {
            let null = if f.is_nullable() { "" } else { " not null" };
            format!("{}: {}{null}", f.name(), f.data_type())
        })
        .collect();
    fields.join(", ")
}

/// Bytes in MiB, rounded up: a cap is never shown as passed by "0 MiB".
fn mib(bytes: usize) -> usize {
    bytes.div_ceil(1 << 20)
}
