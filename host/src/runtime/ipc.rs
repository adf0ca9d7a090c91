//! Decodes the Arrow IPC bytes a plugin sends, chunk by chunk, with no plugin attached: the
//! pure half of reading a `batch-stream` and of `discover`'s schemas, and the part the fuzz
//! targets drive. Bytes that are not Arrow IPC, a schema other than the announced one, and
//! chunks, messages, dictionaries or batches over the IPC caps are [`IpcError`]s, never panics,
//! aborts or unbounded buffers.
//!
//! arrow is handed only whole messages whose header passed [`header::check`] (see
//! [`frame`]); every call into it runs under `catch_unwind`; the dictionaries it builds are
//! held here and counted; each decoded batch's logical size (see [`logical`]) is checked
//! before it leaves.

mod frame;
mod header;
mod logical;

use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;

use arrow::array::ArrayRef;
use arrow::buffer::Buffer;
use arrow::datatypes::{Schema, SchemaRef};
use arrow::ipc::reader::{read_dictionary, read_record_batch};
use arrow::ipc::{MessageHeader, root_as_message};
use arrow::record_batch::RecordBatch;

use frame::{Frame, Framer, Message};

/// How many IPC bytes a plugin may send at once (`grants.ipc_chunk_mib`) and without
/// completing a batch (`grants.ipc_batch_mib`). The batch cap also bounds one message's
/// declared body, the bytes held by a stream's dictionaries, and a batch's logical size.
#[derive(Debug, Clone, Copy)]
pub struct IpcCaps {
    /// Bytes in one `next()` chunk.
    pub chunk_bytes: usize,
    /// Bytes received without a batch decoded.
    pub batch_bytes: usize,
}

/// What is wrong with an IPC stream; the caller adds the plugin and the call.
#[derive(Debug, thiserror::Error)]
pub enum IpcError {
    /// The bytes are not Arrow IPC, or the stream ended mid-message.
    #[error("{0}")]
    Malformed(String),
    /// The stream's schema is not the one `discover` announced.
    #[error("expected fields [{expected}], got [{got}]")]
    SchemaMismatch {
        /// The announced fields.
        expected: String,
        /// The stream's fields.
        got: String,
    },
    /// A chunk, a message, the dictionaries or a batch over its cap; the reason names the grant.
    #[error("{0}")]
    Limit(String),
}

/// Decode a container schema as `discover` sends it: an IPC stream whose first message is the
/// schema (what follows it is not read), through the same bounds as a stream's batches.
pub fn decode_schema(bytes: &[u8], caps: IpcCaps) -> Result<SchemaRef, IpcError> {
    check_chunk(bytes.len(), caps)?;
    let mut framer = Framer::new(caps);
    let mut input = Buffer::from(bytes);
    match framer.next(&mut input)? {
        Some(Frame::Message(message)) => schema_of(&message),
        Some(Frame::End) => Err(IpcError::Malformed(
            "the container schema is an empty IPC stream, with no schema message".into(),
        )),
        None => Err(IpcError::Malformed(
            "the container schema ends before its schema message does".into(),
        )),
    }
}

/// The schema of a schema message; any other message is malformed here.
fn schema_of(message: &Message) -> Result<SchemaRef, IpcError> {
    let header = parse(message)?;
    let Some(schema) = header.header_as_schema() else {
        return Err(IpcError::Malformed(format!(
            "expected a schema message first, got a {:?} message",
            header.header_type()
        )));
    };
    guarded(|| Ok(arrow::ipc::convert::fb_to_schema(schema))).map(std::sync::Arc::new)
}

/// The flatbuffer header of a message the framer already verified.
fn parse(message: &Message) -> Result<arrow::ipc::Message<'_>, IpcError> {
    root_as_message(&message.metadata)
        .map_err(|e| IpcError::Malformed(format!("an IPC message header is not valid: {e}")))
}

/// Run arrow on plugin bytes. arrow-ipc 59 panics on some malformed messages (buffer offsets
/// past the body, found by the `ipc_decode` fuzz target; unknown type codes in a schema)
/// instead of returning an error. The bytes come from a plugin: a panic here is the plugin's
/// malformed IPC, not a host bug.
fn guarded<T>(decode: impl FnOnce() -> Result<T, arrow::error::ArrowError>) -> Result<T, IpcError> {
    match std::panic::catch_unwind(AssertUnwindSafe(decode)) {
        Ok(decoded) => decoded.map_err(|e| IpcError::Malformed(e.to_string())),
        Err(panic) => Err(IpcError::Malformed(format!(
            "arrow could not decode a message: {}",
            panic_text(panic.as_ref())
        ))),
    }
}

/// An IPC stream decoder that checks the announced schema and the caps as bytes arrive.
pub struct IpcDecoder {
    framer: Framer,
    expected: SchemaRef,
    caps: IpcCaps,
    schema: Option<SchemaRef>,
    /// The stream's dictionaries by id, as arrow builds them from dictionary messages.
    dictionaries: HashMap<i64, ArrayRef>,
    /// Bytes received since the last decoded batch: what the framer may be holding.
    undecoded: usize,
    /// Set after an error: the stream's state is unknown from then on.
    poisoned: bool,
}

impl IpcDecoder {
    /// A decoder for a stream that must carry `expected`'s fields.
    pub fn new(expected: SchemaRef, caps: IpcCaps) -> Self {
        IpcDecoder {
            framer: Framer::new(caps),
            expected,
            caps,
            schema: None,
            dictionaries: HashMap::new(),
            undecoded: 0,
            poisoned: false,
        }
    }

    /// Decode one chunk, appending the batches it completes to `batches`.
    pub fn push(
        &mut self,
        chunk: Vec<u8>,
        batches: &mut VecDeque<RecordBatch>,
    ) -> Result<(), IpcError> {
        if self.poisoned {
            return Err(IpcError::Malformed(
                "the stream was already found malformed".into(),
            ));
        }
        let pushed = self.push_checked(chunk, batches);
        if pushed.is_err() {
            self.poisoned = true;
        }
        pushed
    }

    fn push_checked(
        &mut self,
        chunk: Vec<u8>,
        batches: &mut VecDeque<RecordBatch>,
    ) -> Result<(), IpcError> {
        self.check_caps(chunk.len())?;
        let mut buffer = Buffer::from_vec(chunk);
        while let Some(frame) = self.framer.next(&mut buffer)? {
            let Frame::Message(message) = frame else {
                continue;
            };
            if let Some(batch) = self.decode(&message)? {
                self.undecoded = 0;
                batches.push_back(batch);
            }
        }
        Ok(())
    }

    /// The stream has ended: an error if it stopped mid-message.
    pub fn finish(&mut self) -> Result<(), IpcError> {
        if self.framer.mid_message() {
            return Err(IpcError::Malformed("the stream ended mid-message".into()));
        }
        Ok(())
    }

    /// One whole, checked message: the schema, a dictionary, or a batch.
    fn decode(&mut self, message: &Message) -> Result<Option<RecordBatch>, IpcError> {
        let header = parse(message)?;
        let header_type = header.header_type();
        if header_type == MessageHeader::Schema {
            if self.schema.is_some() {
                return Err(IpcError::Malformed(
                    "it sent a second schema message in one stream".into(),
                ));
            }
            let schema = schema_of(message)?;
            self.check_schema(&schema)?;
            self.schema = Some(schema);
            return Ok(None);
        }
        let Some(schema) = self.schema.clone() else {
            return Err(IpcError::Malformed(format!(
                "it sent a {header_type:?} message before the stream's schema"
            )));
        };
        let version = header.version();
        if let Some(dictionary) = header.header_as_dictionary_batch() {
            self.check_dictionary_growth(dictionary.id(), dictionary.isDelta(), &message.body)?;
            let dictionaries = &mut self.dictionaries;
            guarded(|| {
                read_dictionary(&message.body, dictionary, &schema, dictionaries, &version)
            })?;
            self.check_dictionaries()?;
            return Ok(None);
        }
        let Some(batch) = header.header_as_record_batch() else {
            return Err(IpcError::Malformed(format!(
                "it sent a {header_type:?} message, which a stream of record batches does not carry"
            )));
        };
        let dictionaries = &self.dictionaries;
        let batch = guarded(|| {
            read_record_batch(&message.body, batch, schema, dictionaries, None, &version)
        })?;
        let logical = logical::batch_bytes(&batch);
        if logical > self.caps.batch_bytes as u64 {
            return Err(IpcError::Limit(format!(
                "it sent a batch of {} rows that expands to {} MiB once its values are \
                 materialised (views, dictionary keys and runs that repeat one value count it \
                 each time), over its cap of {} MiB per batch (grants.ipc_batch_mib); raise the \
                 cap if the data is legitimately that large",
                batch.num_rows(),
                mib_u64(logical),
                mib(self.caps.batch_bytes)
            )));
        }
        Ok(Some(batch))
    }

    /// Before arrow reads a dictionary message: what the dictionaries would hold with it
    /// (a delta adds to its dictionary, a replacement replaces it) must stay within the cap.
    fn check_dictionary_growth(&self, id: i64, delta: bool, body: &Buffer) -> Result<(), IpcError> {
        let held: u64 = self
            .dictionaries
            .iter()
            .filter(|(key, _)| delta || **key != id)
            .map(|(_, values)| logical::array_bytes(values.as_ref()))
            .sum();
        self.dictionary_limit(held.saturating_add(body.len() as u64))
    }

    /// After arrow read one: what the dictionaries hold, by their logical size (their
    /// buffers may be slices of a larger chunk, which `get_array_memory_size` would count
    /// whole for each of them).
    fn check_dictionaries(&self) -> Result<(), IpcError> {
        let held: u64 = self
            .dictionaries
            .values()
            .map(|values| logical::array_bytes(values.as_ref()))
            .sum();
        self.dictionary_limit(held)
    }

    fn dictionary_limit(&self, held: u64) -> Result<(), IpcError> {
        if held <= self.caps.batch_bytes as u64 {
            return Ok(());
        }
        Err(IpcError::Limit(format!(
            "its stream's dictionaries would hold {} MiB, over its cap of {} MiB \
             (grants.ipc_batch_mib, which bounds a stream's dictionaries too: delta \
             dictionaries add up for the life of the stream); raise the cap, or have the plugin \
             send replacement dictionaries instead of deltas",
            mib_u64(held),
            mib(self.caps.batch_bytes)
        )))
    }

    /// A chunk over `ipc_chunk_mib`, or more bytes than `ipc_batch_mib` without a batch
    /// decoded (a message claiming a huge length, or one huge batch), ends the read.
    fn check_caps(&mut self, chunk: usize) -> Result<(), IpcError> {
        self.undecoded += chunk;
        check_chunk(chunk, self.caps)?;
        if self.undecoded > self.caps.batch_bytes {
            return Err(IpcError::Limit(format!(
                "it sent {} MiB without completing a batch, over its cap of {} MiB per batch \
                 (grants.ipc_batch_mib); raise the cap, or have the plugin send smaller batches",
                mib(self.undecoded),
                mib(self.caps.batch_bytes)
            )));
        }
        Ok(())
    }

    fn check_schema(&self, got: &Schema) -> Result<(), IpcError> {
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
        Err(IpcError::SchemaMismatch {
            expected: describe_fields(&self.expected),
            got: describe_fields(got),
        })
    }
}

fn check_chunk(chunk: usize, caps: IpcCaps) -> Result<(), IpcError> {
    if chunk > caps.chunk_bytes {
        return Err(IpcError::Limit(format!(
            "it sent {} MiB in one chunk, over its cap of {} MiB (grants.ipc_chunk_mib); \
             raise the cap if the plugin's batches are legitimately that large",
            mib(chunk),
            mib(caps.chunk_bytes)
        )));
    }
    Ok(())
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("it panicked")
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

fn mib_u64(bytes: u64) -> u64 {
    bytes.div_ceil(1 << 20)
}

#[cfg(test)]
mod tests;
