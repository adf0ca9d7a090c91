//! Writes seed inputs for the `ipc_decode` target into the directory given (its corpus):
//! valid streams of the fuzz schema, with nulls, empty and multi-batch streams, LZ4 and ZSTD
//! compressed streams (which the host refuses) and a stream of delta dictionaries, each
//! behind the chunk-size byte the target reads first. Given a second directory, it writes the
//! `schema_decode` corpus there: schema messages of the fuzz schema and of every other kind
//! of type (views, run-end encoding, unions, maps, nested lists, metadata).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, DictionaryArray,
    Float64Array, Int32Array, Int64Array, LargeStringArray, ListArray, StringArray,
    Time64MicrosecondArray, TimestampMicrosecondArray, UInt64Array,
};
use arrow::datatypes::{
    DataType, Field, Fields, Int32Type, Int64Type, Schema, TimeUnit, UnionFields, UnionMode,
};
use arrow::ipc::CompressionType;
use arrow::ipc::writer::{DictionaryHandling, IpcWriteOptions, StreamWriter};
use arrow::record_batch::RecordBatch;
use qualityd_fuzz::fuzz_schema;

fn batch(rows: usize, seed: i64, codes: &[&'static str]) -> RecordBatch {
    let schema = fuzz_schema();
    let n = |i: usize| (i as i64 + seed) * 7 - 3;
    let some = |i: usize| i % 3 != 1;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from_iter(
            (0..rows).map(|i| some(i).then(|| n(i) as i32)),
        )),
        Arc::new(Int64Array::from_iter(
            (0..rows).map(|i| some(i).then(|| n(i))),
        )),
        Arc::new(UInt64Array::from_iter(
            (0..rows).map(|i| some(i).then_some(i as u64)),
        )),
        Arc::new(Float64Array::from_iter(
            (0..rows).map(|i| some(i).then(|| n(i) as f64 / 3.0)),
        )),
        Arc::new(BooleanArray::from_iter(
            (0..rows).map(|i| some(i).then_some(i % 2 == 0)),
        )),
        Arc::new(StringArray::from_iter(
            (0..rows).map(|i| some(i).then(|| format!("v{i}"))),
        )),
        Arc::new(LargeStringArray::from_iter(
            (0..rows).map(|i| some(i).then(|| "é".repeat(i))),
        )),
        Arc::new(Date32Array::from_iter(
            (0..rows).map(|i| some(i).then(|| n(i) as i32)),
        )),
        Arc::new(
            TimestampMicrosecondArray::from_iter((0..rows).map(|i| some(i).then(|| n(i) << 20)))
                .with_timezone("UTC"),
        ),
        Arc::new(Time64MicrosecondArray::from_iter(
            (0..rows).map(|i| some(i).then_some(i as i64)),
        )),
        Arc::new(
            Decimal128Array::from_iter((0..rows).map(|i| some(i).then(|| n(i) as i128)))
                .with_precision_and_scale(12, 2)
                .unwrap(),
        ),
        Arc::new(BinaryArray::from_iter(
            (0..rows).map(|i| some(i).then(|| vec![i as u8; i])),
        )),
        Arc::new(
            (0..rows)
                .map(|i| some(i).then(|| codes[i % codes.len()]))
                .collect::<DictionaryArray<Int32Type>>(),
        ),
        Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(
            (0..rows).map(|i| some(i).then(|| (0..i as i64 % 4).map(Some).collect::<Vec<_>>())),
        )),
    ];
    RecordBatch::try_new(schema, columns).expect("the seed batch matches the fuzz schema")
}

const ABC: &[&str] = &["a", "b", "c"];

fn stream(batches: &[RecordBatch]) -> Vec<u8> {
    stream_with(batches, IpcWriteOptions::default())
}

fn stream_with(batches: &[RecordBatch], options: IpcWriteOptions) -> Vec<u8> {
    let mut writer =
        StreamWriter::try_new_with_options(Vec::new(), &fuzz_schema(), options).expect("writer");
    for batch in batches {
        writer.write(batch).expect("write");
    }
    writer.finish().expect("finish");
    writer.into_inner().expect("bytes")
}

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: ipc_seeds <corpus dir>"),
    );
    std::fs::create_dir_all(&dir).expect("create the corpus directory");
    let compressed = |codec| {
        let options = IpcWriteOptions::default()
            .try_with_compression(Some(codec))
            .expect("arrow-ipc built with LZ4 and ZSTD");
        stream_with(&[batch(5, 4, ABC)], options)
    };
    let deltas = IpcWriteOptions::default().with_dictionary_handling(DictionaryHandling::Delta);
    let seeds = [
        (0u8, stream(&[])),
        (0, stream(&[batch(0, 0, ABC)])),
        (0, stream(&[batch(5, 1, ABC)])),
        (0, stream(&[batch(3, 2, ABC), batch(4, -9, ABC)])),
        (13, stream(&[batch(6, 3, ABC)])),
        (0, compressed(CompressionType::LZ4_FRAME)),
        (0, compressed(CompressionType::ZSTD)),
        // Dictionaries [a], then [a, c] sent as a delta, then [a, c, d] (another delta).
        (
            0,
            stream_with(
                &[
                    batch(3, 5, &["a"]),
                    batch(6, 6, &["a", "b", "c"]),
                    batch(7, 7, &["a", "b", "c", "d"]),
                ],
                deltas,
            ),
        ),
    ];
    for (i, (split, bytes)) in seeds.iter().enumerate() {
        let mut input = vec![*split];
        input.extend_from_slice(bytes);
        std::fs::write(dir.join(format!("seed-{i}")), input).expect("write a seed");
    }
    println!("wrote {} seeds to {}", seeds.len(), dir.display());
    if let Some(schemas) = std::env::args().nth(2) {
        write_schema_seeds(&PathBuf::from(schemas));
    }
}

/// Schema messages as `discover` sends them: the fuzz schema, and one of each other kind of
/// type arrow's schema conversion knows.
fn write_schema_seeds(dir: &Path) {
    std::fs::create_dir_all(dir).expect("create the corpus directory");
    let item = || Arc::new(Field::new("item", DataType::Int64, true));
    let entries = Fields::from(vec![
        Field::new("key", DataType::Utf8, false),
        Field::new("value", DataType::Float64, true),
    ]);
    let union = UnionFields::try_new(
        vec![0, 3],
        vec![
            Field::new("i", DataType::Int32, true),
            Field::new("s", DataType::Utf8, true),
        ],
    )
    .expect("union fields");
    let others = vec![
        Field::new("view", DataType::Utf8View, true),
        Field::new("bytes_view", DataType::BinaryView, true),
        Field::new(
            "runs",
            DataType::RunEndEncoded(
                Arc::new(Field::new("run_ends", DataType::Int32, false)),
                Arc::new(Field::new("values", DataType::Utf8, true)),
            ),
            true,
        ),
        Field::new(
            "dense",
            DataType::Union(union.clone(), UnionMode::Dense),
            true,
        ),
        Field::new("sparse", DataType::Union(union, UnionMode::Sparse), true),
        Field::new(
            "map",
            DataType::Map(
                Arc::new(Field::new("entries", DataType::Struct(entries), false)),
                false,
            ),
            true,
        ),
        Field::new("list_view", DataType::ListView(item()), true),
        Field::new("large_list", DataType::LargeList(item()), true),
        Field::new("fixed_list", DataType::FixedSizeList(item(), 3), true),
        Field::new("fixed_bytes", DataType::FixedSizeBinary(16), true),
        Field::new(
            "large_dictionary",
            DataType::Dictionary(Box::new(DataType::UInt16), Box::new(DataType::LargeUtf8)),
            true,
        ),
        Field::new("duration", DataType::Duration(TimeUnit::Nanosecond), true),
        Field::new("decimal256", DataType::Decimal256(40, 5), true),
        Field::new("nothing", DataType::Null, true),
    ];
    let mut described = Schema::new(others);
    described
        .metadata
        .insert("origin".into(), "qualityd schema seed".into());
    let schemas = [fuzz_schema().as_ref().clone(), described, Schema::empty()];
    for (i, schema) in schemas.iter().enumerate() {
        // What `schema_to_ipc` in the plugin SDK sends: the schema message alone.
        let bytes = StreamWriter::try_new(Vec::new(), schema)
            .expect("writer")
            .into_inner()
            .expect("bytes");
        std::fs::write(dir.join(format!("schema-{i}")), bytes).expect("write a seed");
    }
    println!("wrote {} schema seeds to {}", schemas.len(), dir.display());
}
