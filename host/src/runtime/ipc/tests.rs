//! The IPC decoder's bounds, one test per attack, on streams written by arrow or by hand.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, DictionaryArray, Int32Array, Int64Array, LargeStringArray, StringArray,
    StringViewBuilder,
};
use arrow::datatypes::{DataType, Field, Int32Type};
use arrow::ipc::writer::{DictionaryHandling, IpcWriteOptions, StreamWriter};
use arrow::ipc::{
    CompressionType, FieldBuilder, IntBuilder, MessageBuilder, MetadataVersion, SchemaBuilder, Type,
};
use flatbuffers::FlatBufferBuilder;

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
/// point past its body made arrow panic. Its header is now refused before arrow sees it, and
/// the decoder stays shut.
#[test]
fn a_batch_whose_buffers_point_past_its_body_is_malformed_before_arrow_sees_it() {
    let schema = schema("n");
    let bytes = stream(&schema, 1);
    let schema_len = StreamWriter::try_new(Vec::new(), &schema)
        .unwrap()
        .into_inner()
        .unwrap()
        .len();
    // Patch each 8-byte word of the batch's header until one is a buffer offset.
    let corrupted = (schema_len..bytes.len() - 8)
        .step_by(8)
        .find_map(|at| {
            let mut patched = bytes.clone();
            patched[at..at + 8].copy_from_slice(&16384u64.to_le_bytes());
            let mut probe = IpcDecoder::new(schema.clone(), ROOMY);
            match probe.push(patched.clone(), &mut VecDeque::new()) {
                Err(IpcError::Malformed(reason)) if reason.contains("outside its body") => {
                    Some(patched)
                }
                _ => None,
            }
        })
        .expect("an offset that points past the body");
    let mut decoder = IpcDecoder::new(schema.clone(), ROOMY);
    let mut batches = VecDeque::new();
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

    // A continuation marker and a metadata length of 0x7fff_ffff: refused from its prefix.
    let mut decoder = IpcDecoder::new(schema("n"), caps);
    let claim = vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
    let err = decoder.push(claim, &mut VecDeque::new()).unwrap_err();
    assert!(err.to_string().contains("grants.ipc_batch_mib"), "{err}");

    // Bytes of a message that never completes: refused once they pass the batch cap.
    let mut decoder = IpcDecoder::new(schema("n"), caps);
    let mut claim = vec![0xff, 0xff, 0xff, 0xff, 0x60, 0x00, 0x00, 0x00];
    claim.resize(100, 0);
    decoder.push(claim, &mut VecDeque::new()).unwrap();
    let err = decoder
        .push(vec![0; 100], &mut VecDeque::new())
        .unwrap_err();
    assert!(err.to_string().contains("grants.ipc_batch_mib"), "{err}");
}

/// One IPC message around `metadata`: the continuation marker, its padded length, itself.
fn frame(metadata: &[u8]) -> Vec<u8> {
    let padded = metadata.len().div_ceil(8) * 8;
    let mut out = vec![0xff; 4];
    out.extend_from_slice(&(padded as u32).to_le_bytes());
    out.extend_from_slice(metadata);
    out.resize(8 + padded, 0);
    out
}

/// A schema message of `schema` declaring a body of `body` bytes.
fn schema_message(schema: &Schema, body: i64) -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::new();
    let schema = arrow::ipc::convert::schema_to_fb_offset(&mut fbb, schema);
    let mut message = MessageBuilder::new(&mut fbb);
    message.add_version(MetadataVersion::V5);
    message.add_header_type(MessageHeader::Schema);
    message.add_header(schema.as_union_value());
    message.add_bodyLength(body);
    let message = message.finish();
    fbb.finish(message, None);
    frame(fbb.finished_data())
}

/// A schema message whose one field is an `Int` of `bits` bits.
fn int_schema_message(bits: i32) -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::new();
    let name = fbb.create_string("n");
    let int = {
        let mut int = IntBuilder::new(&mut fbb);
        int.add_bitWidth(bits);
        int.add_is_signed(true);
        int.finish()
    };
    let field = {
        let mut field = FieldBuilder::new(&mut fbb);
        field.add_name(name);
        field.add_nullable(true);
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

#[test]
fn a_schema_decodes_through_the_guarded_path() {
    let schema = schema("n");
    let bytes = StreamWriter::try_new(Vec::new(), &schema)
        .unwrap()
        .into_inner()
        .unwrap();
    assert_eq!(decode_schema(&bytes, ROOMY).unwrap(), schema);
    // Two known widths, built by hand, decode too: the hand-made headers are sound.
    let decoded = decode_schema(&int_schema_message(64), ROOMY).unwrap();
    assert_eq!(decoded.field(0).data_type(), &DataType::Int64);
}

/// `StreamReader` allocated the body a schema message declares: 2^62 bytes aborted.
#[test]
fn a_schema_message_declaring_a_huge_body_is_a_limit() {
    let bytes = schema_message(&schema("n"), 1 << 62);
    let err = decode_schema(&bytes, ROOMY).unwrap_err();
    assert!(matches!(err, IpcError::Limit(_)), "{err}");
    assert!(err.to_string().contains("grants.ipc_batch_mib"), "{err}");
    let err = decode_schema(&schema_message(&schema("n"), -1), ROOMY).unwrap_err();
    assert!(matches!(err, IpcError::Malformed(_)), "{err}");
}

/// arrow-ipc 59 panics on an `Int` of 7 bits; it is malformed IPC here.
#[test]
fn a_schema_with_an_impossible_type_is_malformed_not_a_panic() {
    let err = decode_schema(&int_schema_message(7), ROOMY).unwrap_err();
    let IpcError::Malformed(reason) = err else {
        panic!("malformed, not {err}");
    };
    assert!(reason.contains("arrow could not decode"), "{reason}");
}

#[test]
fn a_schema_that_is_not_first_or_not_whole_is_malformed() {
    let whole = stream(&schema("n"), 1);
    // `into_inner` finishes the stream: the schema message, then the 8-byte end marker.
    let schema_len = StreamWriter::try_new(Vec::new(), &schema("n"))
        .unwrap()
        .into_inner()
        .unwrap()
        .len()
        - 8;
    for bytes in [&whole[schema_len..], &whole[..schema_len - 1], &[][..]] {
        let err = decode_schema(bytes, ROOMY).unwrap_err();
        assert!(matches!(err, IpcError::Malformed(_)), "{err}");
    }
}

/// arrow allocates the decompressed length a plugin writes before decompressing: both codecs
/// are refused from the message header, before any buffer is read.
#[test]
fn compressed_bodies_are_refused_from_their_header() {
    let schema = schema("n");
    for codec in [CompressionType::LZ4_FRAME, CompressionType::ZSTD] {
        let options = IpcWriteOptions::default()
            .try_with_compression(Some(codec))
            .unwrap();
        let mut writer = StreamWriter::try_new_with_options(Vec::new(), &schema, options).unwrap();
        let column = Int64Array::from_iter_values(0..1000);
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(column)]).unwrap();
        writer.write(&batch).unwrap();
        writer.finish().unwrap();
        let bytes = writer.into_inner().unwrap();
        let mut decoder = IpcDecoder::new(schema.clone(), ROOMY);
        let err = decoder.push(bytes, &mut VecDeque::new()).unwrap_err();
        let IpcError::Malformed(reason) = err else {
            panic!("malformed, not {err}");
        };
        assert!(reason.contains("compressed") && reason.contains("uncompressed Arrow IPC only"));
    }
}

/// A batch that is small on the wire and huge once materialised.
fn refused_as_amplified(column: ArrayRef) -> String {
    let schema = Arc::new(Schema::new(vec![Field::new(
        "n",
        column.data_type().clone(),
        true,
    )]));
    let batch = RecordBatch::try_new(schema.clone(), vec![column]).unwrap();
    let mut writer = StreamWriter::try_new(Vec::new(), &schema).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    let bytes = writer.into_inner().unwrap();
    let caps = IpcCaps {
        chunk_bytes: 4 << 20,
        batch_bytes: 4 << 20,
    };
    assert!(bytes.len() < 1 << 20, "{} bytes on the wire", bytes.len());
    let mut decoder = IpcDecoder::new(schema, caps);
    match decoder.push(bytes, &mut VecDeque::new()) {
        Err(IpcError::Limit(reason)) => reason,
        other => panic!("a limit, not {other:?}"),
    }
}

#[test]
fn views_of_one_value_count_it_once_per_view() {
    let value = "v".repeat(512 << 10);
    let mut builder = StringViewBuilder::new().with_deduplicate_strings();
    for _ in 0..2048 {
        builder.append_value(&value);
    }
    let reason = refused_as_amplified(Arc::new(builder.finish()));
    assert!(
        reason.contains("expands to 1025 MiB") && reason.contains("grants.ipc_batch_mib"),
        "{reason}"
    );
}

#[test]
fn dictionary_keys_count_the_value_they_point_at() {
    let values = Arc::new(LargeStringArray::from(vec!["d".repeat(512 << 10)]));
    let keys = Int32Array::from(vec![0; 2048]);
    let column = DictionaryArray::<Int32Type>::try_new(keys, values).unwrap();
    let reason = refused_as_amplified(Arc::new(column));
    assert!(reason.contains("expands to"), "{reason}");
}

/// Small batches whose delta dictionaries add 100 KiB each: refused once the dictionaries
/// hold more than the batch cap, though each batch alone is small.
#[test]
fn delta_dictionaries_are_bounded_over_the_life_of_a_stream() {
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let schema = Arc::new(Schema::new(vec![Field::new("n", dictionary, true)]));
    let options = IpcWriteOptions::default().with_dictionary_handling(DictionaryHandling::Delta);
    let mut writer = StreamWriter::try_new_with_options(Vec::new(), &schema, options).unwrap();
    let caps = IpcCaps {
        chunk_bytes: 1 << 20,
        batch_bytes: 1 << 20,
    };
    let mut decoder = IpcDecoder::new(schema.clone(), caps);
    let mut values: Vec<String> = Vec::new();
    let mut decoded = 0;
    let mut saw_delta = false;
    for i in 0..20 {
        values.push(format!("{i:04}{}", "x".repeat(100 << 10)));
        let dictionary = Arc::new(StringArray::from(values.clone()));
        let keys = Int32Array::from(vec![i]);
        let column = DictionaryArray::<Int32Type>::try_new(keys, dictionary).unwrap();
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(column)]).unwrap();
        writer.write(&batch).unwrap();
        let chunk = std::mem::take(writer.get_mut());
        assert!(chunk.len() < 200 << 10, "a delta, not the whole dictionary");
        saw_delta |= i > 0;
        let mut batches = VecDeque::new();
        match decoder.push(chunk, &mut batches) {
            Ok(()) => decoded += batches.len(),
            Err(IpcError::Limit(reason)) => {
                assert!(reason.contains("dictionaries would hold"), "{reason}");
                assert!(saw_delta && (9..=11).contains(&decoded), "{decoded}");
                return;
            }
            Err(e) => panic!("{e}"),
        }
    }
    panic!("20 deltas of 100 KiB passed a 1 MiB cap");
}

/// Replacement dictionaries do not add up: a long stream of them decodes.
#[test]
fn replaced_dictionaries_do_not_add_up() {
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let schema = Arc::new(Schema::new(vec![Field::new("n", dictionary, true)]));
    let mut writer = StreamWriter::try_new(Vec::new(), &schema).unwrap();
    let caps = IpcCaps {
        chunk_bytes: 1 << 20,
        batch_bytes: 1 << 20,
    };
    let mut decoder = IpcDecoder::new(schema.clone(), caps);
    let mut batches = VecDeque::new();
    for i in 0..40 {
        let dictionary = Arc::new(StringArray::from(vec![format!(
            "{i:04}{}",
            "y".repeat(100 << 10)
        )]));
        let column =
            DictionaryArray::<Int32Type>::try_new(Int32Array::from(vec![0, 0]), dictionary)
                .unwrap();
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(column)]).unwrap();
        writer.write(&batch).unwrap();
        decoder
            .push(std::mem::take(writer.get_mut()), &mut batches)
            .unwrap();
    }
    assert_eq!(batches.len(), 40);
}

#[test]
fn a_legitimate_wide_batch_is_not_refused_as_amplified() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("text", DataType::Utf8, true),
        Field::new("n", DataType::Int64, true),
    ]));
    let text = StringArray::from_iter_values((0..8192).map(|i| format!("value {i}")));
    let numbers = Int64Array::from_iter_values(0..8192);
    let batch =
        RecordBatch::try_new(schema.clone(), vec![Arc::new(text), Arc::new(numbers)]).unwrap();
    assert!(logical::batch_bytes(&batch) < 256 << 10);
    let mut writer = StreamWriter::try_new(Vec::new(), &schema).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    let mut decoder = IpcDecoder::new(schema, ROOMY);
    let mut batches = VecDeque::new();
    decoder
        .push(writer.into_inner().unwrap(), &mut batches)
        .unwrap();
    decoder.finish().unwrap();
    assert_eq!(batches.len(), 1);
}
