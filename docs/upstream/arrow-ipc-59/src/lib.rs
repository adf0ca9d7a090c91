//! What the reproducers share: IPC message framing, and a stream with one Int64 batch.

use std::sync::Arc;

use arrow_array::{Int64Array, RecordBatch};
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Field, Schema};

/// The continuation marker, the metadata's padded length, the metadata.
pub fn frame(metadata: &[u8]) -> Vec<u8> {
    let padded = metadata.len().div_ceil(8) * 8;
    let mut out = vec![0xff; 4];
    out.extend_from_slice(&(padded as u32).to_le_bytes());
    out.extend_from_slice(metadata);
    out.resize(8 + padded, 0);
    out
}

/// One nullable Int64 field `n`.
pub fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]))
}

/// The IPC stream of one batch of `n` = 0..rows, and the length of its schema message.
pub fn one_batch(rows: i64) -> (Vec<u8>, usize) {
    let schema = schema();
    // `into_inner` finishes the stream: the schema message, then the 8-byte end marker.
    let schema_len = StreamWriter::try_new(Vec::new(), &schema)
        .unwrap()
        .into_inner()
        .unwrap()
        .len()
        - 8;
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int64Array::from_iter_values(0..rows))],
    )
    .unwrap();
    let mut writer = StreamWriter::try_new(Vec::new(), &schema).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    (writer.into_inner().unwrap(), schema_len)
}
