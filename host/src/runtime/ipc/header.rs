//! Checks one IPC message's flatbuffer header before arrow decodes anything it describes: the
//! flatbuffer must verify, the message must be of a kind a stream carries, its declared body
//! length must be within `ipc_batch_mib`, its body must be uncompressed (the contract's rule:
//! arrow would allocate the decompressed length a plugin writes), and every buffer and node it
//! declares must lie within the body and be non-negative (arrow panics on some of those).

use arrow::ipc::{MessageHeader, RecordBatch, root_as_message};

use super::{IpcCaps, IpcError, mib};

/// What a checked header declares.
#[derive(Debug, Clone, Copy)]
pub struct Declared {
    /// The body's length in bytes, within the batch cap.
    pub body_len: usize,
}

/// Verify `metadata` (one message's flatbuffer) and check what it declares against `caps`.
pub fn check(metadata: &[u8], caps: IpcCaps) -> Result<Declared, IpcError> {
    let message = root_as_message(metadata).map_err(|e| {
        IpcError::Malformed(format!(
            "an IPC message header is not a valid flatbuffer: {e}"
        ))
    })?;
    let body = message.bodyLength();
    let body_len = usize::try_from(body).map_err(|_| {
        IpcError::Malformed(format!("an IPC message declares a body of {body} bytes"))
    })?;
    if body_len > caps.batch_bytes {
        return Err(IpcError::Limit(format!(
            "it sent an IPC message declaring a body of {} MiB, over its cap of {} MiB per batch \
             (grants.ipc_batch_mib); raise the cap, or have the plugin send smaller batches",
            mib(body_len),
            mib(caps.batch_bytes)
        )));
    }
    match message.header_type() {
        MessageHeader::Schema => {
            message
                .header_as_schema()
                .ok_or_else(|| malformed("a schema message without its schema"))?;
        }
        MessageHeader::RecordBatch => {
            let batch = message
                .header_as_record_batch()
                .ok_or_else(|| malformed("a record batch message without its header"))?;
            check_batch(batch, body_len)?;
        }
        MessageHeader::DictionaryBatch => {
            let dictionary = message
                .header_as_dictionary_batch()
                .ok_or_else(|| malformed("a dictionary batch message without its header"))?;
            let data = dictionary
                .data()
                .ok_or_else(|| malformed("a dictionary batch without its data"))?;
            check_batch(data, body_len)?;
        }
        other => {
            return Err(IpcError::Malformed(format!(
                "an IPC message of type {other:?}, which an Arrow IPC stream of record batches \
                 does not carry"
            )));
        }
    }
    Ok(Declared { body_len })
}

fn malformed(what: &str) -> IpcError {
    IpcError::Malformed(format!("the plugin sent {what}"))
}

/// A record batch header (of a batch, or of a dictionary's values): uncompressed, with
/// non-negative counts and every buffer inside the body.
fn check_batch(batch: RecordBatch, body_len: usize) -> Result<(), IpcError> {
    if let Some(compression) = batch.compression() {
        return Err(IpcError::Malformed(format!(
            "it sent a compressed IPC body ({:?}); the contract takes uncompressed Arrow IPC only \
             (write batches without IPC compression: the host would have to trust the \
             decompressed length the plugin writes)",
            compression.codec()
        )));
    }
    if batch.length() < 0 {
        return Err(IpcError::Malformed(format!(
            "a record batch declares {} rows",
            batch.length()
        )));
    }
    let buffers = batch
        .buffers()
        .ok_or_else(|| malformed("a record batch without its buffer list"))?;
    for buffer in buffers {
        let (offset, length) = (buffer.offset(), buffer.length());
        let end = offset.checked_add(length);
        if offset < 0 || length < 0 || end.is_none_or(|end| end as u64 > body_len as u64) {
            return Err(IpcError::Malformed(format!(
                "a record batch declares a buffer of {length} bytes at offset {offset}, outside \
                 its body of {body_len} bytes"
            )));
        }
    }
    let nodes = batch
        .nodes()
        .ok_or_else(|| malformed("a record batch without its field nodes"))?;
    for node in nodes {
        if node.length() < 0 || node.null_count() < 0 || node.null_count() > node.length() {
            return Err(IpcError::Malformed(format!(
                "a record batch declares a column of {} values with {} nulls",
                node.length(),
                node.null_count()
            )));
        }
    }
    if let Some(counts) = batch.variadicBufferCounts() {
        let mut total: u64 = 0;
        for count in counts {
            let count =
                u64::try_from(count).map_err(|_| malformed("a negative count of view buffers"))?;
            total = total.saturating_add(count);
        }
        if total > buffers.len() as u64 {
            return Err(IpcError::Malformed(format!(
                "a record batch declares {total} view data buffers but has {} buffers in all",
                buffers.len()
            )));
        }
    }
    Ok(())
}
