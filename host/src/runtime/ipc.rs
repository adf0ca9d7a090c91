//! Decodes the Arrow IPC bytes a plugin sends, chunk by chunk, with no plugin attached: the
//! pure half of reading a `batch-stream`, and the part the fuzz target drives. Bytes that are
//! not Arrow IPC, a schema other than the announced one, and chunks or messages over the IPC
//! caps are [`IpcError`]s, never panics or unbounded buffers.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;

use arrow::buffer::Buffer;
use arrow::datatypes::{Schema, SchemaRef};
use arrow::ipc::reader::StreamDecoder;
use arrow::record_batch::RecordBatch;

/// How many IPC bytes a plugin may send at once (`grants.ipc_chunk_mib`) and without
/// completing a batch (`grants.ipc_batch_mib`).
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
    /// A chunk, or the bytes of one unfinished batch, over its cap; the reason names the grant.
    #[error("{0}")]
    Limit(String),
}

/// An IPC stream decoder that checks the announced schema and the caps as bytes arrive.
pub struct IpcDecoder {
    decoder: StreamDecoder,
    expected: SchemaRef,
    caps: IpcCaps,
    schema_checked: bool,
    /// Bytes received since the last decoded batch: what the decoder may be holding.
    undecoded: usize,
    /// Set when arrow panicked on the bytes: the decoder's state is unknown from then on.
    poisoned: bool,
}

impl IpcDecoder {
    /// A decoder for a stream that must carry `expected`'s fields.
    pub fn new(expected: SchemaRef, caps: IpcCaps) -> Self {
        IpcDecoder {
            decoder: StreamDecoder::new(),
            expected,
            caps,
            schema_checked: false,
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
        self.check_caps(chunk.len())?;
        let mut buffer = Buffer::from_vec(chunk);
        while !buffer.is_empty() {
            // arrow-ipc 59 panics on some malformed messages (buffer offsets past the body,
            // found by the `ipc_decode` fuzz target) instead of returning an error. The bytes
            // come from a plugin: a panic here is the plugin's malformed IPC, not a host bug.
            let decoder = &mut self.decoder;
            let decoded =
                std::panic::catch_unwind(AssertUnwindSafe(|| decoder.decode(&mut buffer)));
            let decoded = match decoded {
                Ok(decoded) => decoded.map_err(|e| IpcError::Malformed(e.to_string()))?,
                Err(panic) => {
                    self.poisoned = true;
                    return Err(IpcError::Malformed(format!(
                        "arrow could not decode a message: {}",
                        panic_text(panic.as_ref())
                    )));
                }
            };
            self.check_schema()?;
            if let Some(batch) = decoded {
                self.undecoded = 0;
                batches.push_back(batch);
            }
        }
        Ok(())
    }

    /// The stream has ended: an error if it stopped mid-message.
    pub fn finish(&mut self) -> Result<(), IpcError> {
        self.decoder
            .finish()
            .map_err(|e| IpcError::Malformed(format!("the stream ended mid-message: {e}")))
    }

    /// A chunk over `ipc_chunk_mib`, or more bytes than `ipc_batch_mib` without a batch
    /// decoded (a message claiming a huge length, or one huge batch), ends the read.
    fn check_caps(&mut self, chunk: usize) -> Result<(), IpcError> {
        self.undecoded += chunk;
        if chunk > self.caps.chunk_bytes {
            return Err(IpcError::Limit(format!(
                "it sent {} MiB in one chunk, over its cap of {} MiB (grants.ipc_chunk_mib); \
                 raise the cap if the plugin's batches are legitimately that large",
                mib(chunk),
                mib(self.caps.chunk_bytes)
            )));
        }
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

    fn check_schema(&mut self) -> Result<(), IpcError> {
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
        Err(IpcError::SchemaMismatch {
            expected: describe_fields(&self.expected),
            got: describe_fields(&got),
        })
    }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field};
    use arrow::ipc::writer::StreamWriter;

    use super::*;

    fn schema(name: &str) -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new(name, DataType::Int64, true)]))
    }

    fn stream(schema: &SchemaRef, batches: usize) -> Vec<u8> {
        let mut writer = StreamWriter::try_new(Vec::new(), schema).unwrap();
        for i in 0..batches {
            let column = Int64Array::from_iter_values(0..i as i64 + 1);
            let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(column)]).unwrap();
            writer.write(&batch).unwrap();
        }
        writer.finish().unwrap();
        writer.into_inner().unwrap()
    }

    const ROOMY: IpcCaps = IpcCaps {
        chunk_bytes: 1 << 20,
        batch_bytes: 1 << 20,
    };

    #[test]
    fn a_stream_split_at_every_byte_decodes_to_the_same_batches() {
        let bytes = stream(&schema("n"), 3);
        let mut decoder = IpcDecoder::new(schema("n"), ROOMY);
        let mut batches = VecDeque::new();
        for byte in &bytes {
            decoder.push(vec![*byte], &mut batches).unwrap();
        }
        decoder.finish().unwrap();
        let rows: Vec<usize> = batches.iter().map(RecordBatch::num_rows).collect();
        assert_eq!(rows, [1, 2, 3]);
    }

    #[test]
    fn another_schema_is_refused_naming_both() {
        let mut decoder = IpcDecoder::new(schema("n"), ROOMY);
        let err = decoder
            .push(stream(&schema("m"), 1), &mut VecDeque::new())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected fields [n: Int64], got [m: Int64]"
        );
    }

    #[test]
    fn a_stream_cut_short_is_malformed_at_finish() {
        let bytes = stream(&schema("n"), 1);
        let mut decoder = IpcDecoder::new(schema("n"), ROOMY);
        decoder
            .push(bytes[..bytes.len() - 20].to_vec(), &mut VecDeque::new())
            .unwrap();
        let err = decoder.finish().unwrap_err();
        assert!(matches!(err, IpcError::Malformed(_)), "{err}");
    }

    /// The `ipc_decode` fuzz target's first finding: a record batch whose buffer offsets
    /// point past its body made arrow panic. It is malformed IPC, and the decoder stays shut.
    #[test]
    fn a_batch_whose_buffers_point_past_its_body_is_malformed_not_a_panic() {
        let schema = schema("n");
        let bytes = stream(&schema, 1);
        let mut decoder = IpcDecoder::new(schema.clone(), ROOMY);
        let mut batches = VecDeque::new();
        let mut corrupted = None;
        // Find the batch message's buffer offsets: patch each 8-byte word after the schema
        // until arrow would read past the body.
        let schema_len = {
            let mut probe = IpcDecoder::new(schema.clone(), ROOMY);
            (1..bytes.len())
                .find(|n| {
                    probe
                        .push(vec![bytes[n - 1]], &mut VecDeque::new())
                        .unwrap();
                    probe.decoder.schema().is_some()
                })
                .unwrap()
        };
        for at in (schema_len..bytes.len() - 8).step_by(8) {
            let mut patched = bytes.clone();
            patched[at..at + 8].copy_from_slice(&16384u64.to_le_bytes());
            let mut probe = IpcDecoder::new(schema.clone(), ROOMY);
            if let Err(IpcError::Malformed(reason)) =
                probe.push(patched.clone(), &mut VecDeque::new())
                && reason.starts_with("arrow could not decode")
            {
                corrupted = Some(patched);
                break;
            }
        }
        let corrupted = corrupted.expect("an offset that makes arrow read past the body");
        let err = decoder.push(corrupted, &mut batches).unwrap_err();
        assert!(matches!(err, IpcError::Malformed(_)), "{err}");
        let again = decoder.push(bytes, &mut batches).unwrap_err();
        assert!(
            again.to_string().contains("already found malformed"),
            "{again}"
        );
    }

    #[test]
    fn bytes_over_either_cap_are_a_limit_naming_the_grant() {
        let caps = IpcCaps {
            chunk_bytes: 100,
            batch_bytes: 150,
        };
        let mut decoder = IpcDecoder::new(schema("n"), caps);
        let err = decoder
            .push(vec![0; 101], &mut VecDeque::new())
            .unwrap_err();
        assert!(err.to_string().contains("grants.ipc_chunk_mib"), "{err}");

        // A continuation marker and a length of 0x7fff_ffff: a message that never completes.
        let mut decoder = IpcDecoder::new(schema("n"), caps);
        let mut claim = vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        claim.resize(100, 0);
        decoder.push(claim, &mut VecDeque::new()).unwrap();
        let err = decoder
            .push(vec![0; 100], &mut VecDeque::new())
            .unwrap_err();
        assert!(err.to_string().contains("grants.ipc_batch_mib"), "{err}");
    }
}
