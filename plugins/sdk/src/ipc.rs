//! Arrow IPC encoding of schemas and batch streams, as the contract carries them.

use std::sync::Arc;

use arrow_ipc::writer::{IpcWriteOptions, StreamWriter};
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
/// record batch (the first also carries the schema), the last carries the end-of-stream marker.
pub struct IpcStream {
    writer: Option<StreamWriter<Vec<u8>>>,
    batches: Box<dyn Iterator<Item = Result<arrow_array::RecordBatch>>>,
    schema: Arc<Schema>,
    finished: bool,
}

impl IpcStream {
    /// A stream over `batches`; nothing is encoded until the first [`IpcStream::next_chunk`].
    pub fn new(batches: Batches) -> Self {
        IpcStream {
            writer: None,
            batches: batches.batches,
            schema: batches.schema,
            finished: false,
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
                let options = IpcWriteOptions::default();
                let writer = StreamWriter::try_new_with_options(Vec::new(), &self.schema, options)
                    .map_err(encode_error)?;
                self.writer.insert(writer)
            }
        };
        match self.batches.next() {
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
            }
            None => {
                writer.finish().map_err(encode_error)?;
                self.finished = true;
            }
        }
        Ok(Some(std::mem::take(writer.get_mut())))
    }
}

fn encode_error(e: arrow_schema::ArrowError) -> Error {
    Error::internal(format!("cannot encode a record batch as Arrow IPC: {e}"))
}
