//! The hostile modes that attack the host's IPC decoding (issue 15, items 1 to 3): schemas and
//! messages crafted by hand where arrow's writer would never produce them, and batches whose
//! few wire bytes expand to gigabytes once materialised.
//!
//! - `huge-schema-body`: `discover`'s schema message declares a body of 2^62 bytes.
//! - `malformed-schema`: `discover`'s schema has an `Int` field 7 bits wide.
//! - `compressed-bomb`: the stream's batch is LZ4-compressed and claims to decompress to
//!   2^62 bytes.
//! - `view-amplify`: one batch of a `Utf8View` column whose 2048 views all point at one 4 MiB
//!   value: 4 MiB on the wire, 8 GiB as `Utf8`.
//! - `dict-amplify`: one batch of a `Dictionary(Int32, LargeUtf8)` column whose 2048 keys all
//!   point at one 4 MiB value.
//! - `delta-dict-growth`: an endless stream of one-row batches, each after a delta dictionary
//!   message adding a new 1 MiB value: every batch is small, the dictionary grows forever.

use std::sync::Arc;

use arrow_array::builder::StringViewBuilder;
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, DictionaryArray, Int32Array, LargeStringArray, RecordBatch};
use arrow_ipc::writer::{DictionaryHandling, IpcWriteOptions, StreamWriter};
use arrow_ipc::{
    BodyCompressionBuilder, CompressionType, FieldBuilder, FieldNode, IntBuilder, MessageBuilder,
    MessageHeader, MetadataVersion, RecordBatchBuilder, SchemaBuilder, Type,
};
use arrow_schema::{DataType, Field, Schema};
use flatbuffers::FlatBufferBuilder;
use qualityd_plugin_sdk::bindings::exports::qualityd::connector::connector::Container;
use qualityd_plugin_sdk::{ContainerKind, Error, schema_to_ipc};

/// The chunks of a stream, produced one `next()` at a time.
pub type Chunks = Box<dyn Iterator<Item = Result<Vec<u8>, Error>>>;

/// `discover`'s containers in these modes, or `None` for a mode that is not one of them.
pub fn discover(mode: &str) -> Option<Result<Vec<Container>, Error>> {
    let schema = match mode {
        "huge-schema-body" => schema_message(1 << 62),
        "malformed-schema" => seven_bit_schema(),
        "compressed-bomb" => return Some(container(&numbers())),
        "view-amplify" => return Some(container(&views_schema())),
        "dict-amplify" => return Some(container(&dictionary_schema(DataType::LargeUtf8))),
        "delta-dict-growth" => return Some(container(&dictionary_schema(DataType::Utf8))),
        _ => return None,
    };
    Some(Ok(vec![Container {
        name: "numbers".into(),
        kind: ContainerKind::Table,
        schema,
        row_estimate: Some(3),
        byte_size: None,
        error: None,
    }]))
}

/// The stream `read` returns in these modes, or `None` for another mode.
pub fn read(mode: &str) -> Option<Result<Chunks, Error>> {
    let chunks: Result<Chunks, Error> = match mode {
        "compressed-bomb" => compressed_bomb().map(once),
        "view-amplify" => views_batch()
            .and_then(|batch| whole_stream(&batch))
            .map(once),
        "dict-amplify" => dictionary_batch()
            .and_then(|batch| whole_stream(&batch))
            .map(once),
        "delta-dict-growth" => delta_growth(),
        _ => return None,
    };
    Some(chunks)
}

fn once(bytes: Vec<u8>) -> Chunks {
    Box::new(std::iter::once(Ok(bytes)))
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::internal(e.to_string())
}

fn container(schema: &Schema) -> Result<Vec<Container>, Error> {
    Ok(vec![Container {
        name: "numbers".into(),
        kind: ContainerKind::Table,
        schema: schema_to_ipc(schema)?,
        row_estimate: Some(3),
        byte_size: None,
        error: None,
    }])
}

fn numbers() -> Schema {
    Schema::new(vec![Field::new("n", DataType::Int64, false)])
}

fn views_schema() -> Schema {
    Schema::new(vec![Field::new("n", DataType::Utf8View, false)])
}

fn dictionary_schema(values: DataType) -> Schema {
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(values));
    Schema::new(vec![Field::new("n", dictionary, false)])
}

/// One IPC message: the continuation marker, the metadata's length, the metadata padded to
/// 8 bytes.
fn frame(metadata: &[u8]) -> Vec<u8> {
    let padded = metadata.len().div_ceil(8) * 8;
    let mut out = vec![0xff; 4];
    out.extend_from_slice(&(padded as u32).to_le_bytes());
    out.extend_from_slice(metadata);
    out.resize(8 + padded, 0);
    out
}

/// The schema message of `numbers()`, declaring a body of `body` bytes.
fn schema_message(body: i64) -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::new();
    let schema = arrow_ipc::convert::schema_to_fb_offset(&mut fbb, &numbers());
    let mut message = MessageBuilder::new(&mut fbb);
    message.add_version(MetadataVersion::V5);
    message.add_header_type(MessageHeader::Schema);
    message.add_header(schema.as_union_value());
    message.add_bodyLength(body);
    let message = message.finish();
    fbb.finish(message, None);
    frame(fbb.finished_data())
}

/// A schema whose one field is a 7-bit integer: arrow-ipc 59 panics decoding it.
fn seven_bit_schema() -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::new();
    let name = fbb.create_string("n");
    let int = {
        let mut int = IntBuilder::new(&mut fbb);
        int.add_bitWidth(7);
        int.add_is_signed(true);
        int.finish()
    };
    let field = {
        let mut field = FieldBuilder::new(&mut fbb);
        field.add_name(name);
        field.add_nullable(false);
        field.add_type_type(Type::Int);
        field.add_type_(int.as_union_value());
        field.finish()
    };
    let fields = fbb.create_vector(&[field]);
    let schema = {
        let mut schema = SchemaBuilder::new(&mut fbb);
        schema.add_fields(fields);
        schema.finish()
    };
    let mut message = MessageBuilder::new(&mut fbb);
    message.add_version(MetadataVersion::V5);
    message.add_header_type(MessageHeader::Schema);
    message.add_header(schema.as_union_value());
    let message = message.finish();
    fbb.finish(message, None);
    frame(fbb.finished_data())
}

/// The schema of `numbers()`, then a batch of 3 rows whose values buffer is LZ4-compressed
/// and claims to decompress to 2^62 bytes (arrow would `Vec::with_capacity` that).
fn compressed_bomb() -> Result<Vec<u8>, Error> {
    let mut out = schema_to_ipc(&numbers())?;
    // The SDK's schema bytes end with the end-of-stream marker: the batch goes before it.
    if out.ends_with(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]) {
        out.truncate(out.len() - 8);
    }
    let mut body = (1u64 << 62).to_le_bytes().to_vec();
    body.extend_from_slice(&[0; 8]);
    let mut fbb = FlatBufferBuilder::new();
    let nodes = fbb.create_vector(&[FieldNode::new(3, 0)]);
    let buffers = fbb.create_vector(&[
        arrow_ipc::Buffer::new(0, 0),
        arrow_ipc::Buffer::new(0, body.len() as i64),
    ]);
    let compression = {
        let mut compression = BodyCompressionBuilder::new(&mut fbb);
        compression.add_codec(CompressionType::LZ4_FRAME);
        compression.finish()
    };
    let batch = {
        let mut batch = RecordBatchBuilder::new(&mut fbb);
        batch.add_length(3);
        batch.add_nodes(nodes);
        batch.add_buffers(buffers);
        batch.add_compression(compression);
        batch.finish()
    };
    let mut message = MessageBuilder::new(&mut fbb);
    message.add_version(MetadataVersion::V5);
    message.add_header_type(MessageHeader::RecordBatch);
    message.add_header(batch.as_union_value());
    message.add_bodyLength(body.len() as i64);
    let message = message.finish();
    fbb.finish(message, None);
    out.extend(frame(fbb.finished_data()));
    out.extend(body);
    out.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    Ok(out)
}

/// 4 MiB of text.
fn big_value() -> String {
    "x".repeat(4 << 20)
}

/// 2048 views of one 4 MiB value, in one data buffer.
fn views_batch() -> Result<RecordBatch, Error> {
    let value = big_value();
    let len = value.len() as u32;
    let mut builder = StringViewBuilder::new();
    let block = builder.append_block(arrow_buffer::Buffer::from_vec(value.into_bytes()));
    for _ in 0..2048 {
        // SAFETY: the block was appended above and holds `len` bytes of ASCII.
        unsafe { builder.append_view_unchecked(block, 0, len) };
    }
    let column: ArrayRef = Arc::new(builder.finish());
    RecordBatch::try_new(Arc::new(views_schema()), vec![column]).map_err(internal)
}

/// 2048 keys of one 4 MiB `LargeUtf8` value.
fn dictionary_batch() -> Result<RecordBatch, Error> {
    let values = Arc::new(LargeStringArray::from(vec![big_value()]));
    let keys = Int32Array::from(vec![0; 2048]);
    let column = DictionaryArray::<Int32Type>::try_new(keys, values).map_err(internal)?;
    let schema = Arc::new(dictionary_schema(DataType::LargeUtf8));
    RecordBatch::try_new(schema, vec![Arc::new(column)]).map_err(internal)
}

/// A whole stream of one batch, as one chunk.
fn whole_stream(batch: &RecordBatch) -> Result<Vec<u8>, Error> {
    let mut writer = StreamWriter::try_new(Vec::new(), &batch.schema()).map_err(internal)?;
    writer.write(batch).map_err(internal)?;
    writer.finish().map_err(internal)?;
    writer.into_inner().map_err(internal)
}

/// Batch `i` has one row, the key of value `i`; its dictionary is values `0..=i`, each 1 MiB
/// of one letter, so the writer sends each new value as a delta.
fn delta_growth() -> Result<Chunks, Error> {
    let schema = Arc::new(dictionary_schema(DataType::Utf8));
    let options = IpcWriteOptions::default().with_dictionary_handling(DictionaryHandling::Delta);
    let mut writer =
        StreamWriter::try_new_with_options(Vec::new(), &schema, options).map_err(internal)?;
    let mut values: Vec<String> = Vec::new();
    let chunks = std::iter::from_fn(move || {
        let i = values.len();
        let letter = char::from(b'a' + (i % 26) as u8);
        values.push(format!(
            "{i:08}{}",
            letter.to_string().repeat((1 << 20) - 8)
        ));
        let dictionary = Arc::new(arrow_array::StringArray::from(values.clone()));
        let keys = Int32Array::from(vec![i as i32]);
        let written = DictionaryArray::<Int32Type>::try_new(keys, dictionary)
            .and_then(|column| RecordBatch::try_new(schema.clone(), vec![Arc::new(column)]))
            .and_then(|batch| writer.write(&batch))
            .map(|()| std::mem::take(writer.get_mut()))
            .map_err(internal);
        Some(written)
    });
    Ok(Box::new(chunks))
}
