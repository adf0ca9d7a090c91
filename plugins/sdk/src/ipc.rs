//! Arrow IPC encoding of schemas and batch streams, as the contract carries them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_ipc::writer::StreamWriter;
use arrow_schema::Schema;

use crate::{Batches, Error, Result};

/// Encode a schema as the IPC schema message the contract's `container.schema` holds.
pub fn schema_to_ipc(schema: &Schema) -> Result<Vec<u8>> {
    let writer = StreamWriter::try_new(Vec::new(), schema)
        .map_err(|e| Error::internal(format!("cannot encode schema as Arrow IPC: {e}")))?;
    // The writer has written the schema message; the end-of-stream marker is not wanted.
    writer
        .into_inner()
        .map_err(|e| Error::internal(format!("cannot encode schema as Arrow IPC: {e}")))
}

/// Turns [`Batches`] into the chunks `batch-stream.next` returns: each call encodes one
/// record batch (the first also carries the schema), the last carries the end-of-stream
/// marker. When the stream ends it logs (at debug) where its time went.
pub struct IpcStream {
    writer: Option<StreamWriter<Vec<u8>>>,
    batches: Box<dyn Iterator<Item = Result<arrow_array::RecordBatch>>>,
    schema: Arc<Schema>,
    finished: bool,
    stats: StreamStats,
}

#[derive(Default)]
struct StreamStats {
    rows: u64,
    batches: u64,
    bytes: u64,
    producing: Duration,
    encoding: Duration,
}

impl IpcStream {
    /// A stream over `batches`; nothing is encoded until the first [`IpcStream::next_chunk`].
    pub fn new(batches: Batches) -> Self {
        IpcStream {
            writer: None,
            batches: batches.batches,
            schema: batches.schema,
            finished: false,
            stats: StreamStats::default(),
        }
    }

    /// The next chunk of IPC bytes, or `None` when the stream has ended.
    pub fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        if self.finished {
            return Ok(None);
        }
        let writer = match &mut self.writer {
            Some(writer) => writer,
            None => {
                let writer =
                    StreamWriter::try_new(Vec::new(), &self.schema).map_err(encode_error)?;
                self.writer.insert(writer)
            }
        };
        let started = Instant::now();
        let next = self.batches.next();
        let produced = Instant::now();
        self.stats.producing += produced - started;
        match next {
            Some(batch) => {
                let batch = batch?;
                if batch.schema() != self.schema {
                    return Err(Error::internal(format!(
                        "a batch's schema {:?} differs from the stream's {:?}",
                        batch.schema(),
                        self.schema
                    )));
                }
                writer.write(&batch).map_err(encode_error)?;
                self.stats.rows += batch.num_rows() as u64;
                self.stats.batches += 1;
            }
            None => {
                writer.finish().map_err(encode_error)?;
                self.finished = true;
            }
        }
        // Hand the bytes over and start the next chunk with as much room as this one took.
        let buffer = writer.get_mut();
        let chunk = std::mem::replace(buffer, Vec::with_capacity(buffer.len()));
        self.stats.encoding += produced.elapsed();
        self.stats.bytes += chunk.len() as u64;
        if self.finished {
            self.log_stats();
        }
        Ok(Some(chunk))
    }

    fn log_stats(&self) {
        let s = &self.stats;
        crate::log::debug(&format!(
            "stream done: {} rows in {} batches, {} IPC bytes; producing batches {:?}, encoding IPC {:?}",
            s.rows, s.batches, s.bytes, s.producing, s.encoding
        ));
    }
}

fn encode_error(e: arrow_schema::ArrowError) -> Error {
    Error::internal(format!("cannot encode a record batch as Arrow IPC: {e}"))
}
