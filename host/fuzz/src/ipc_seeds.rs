//! Writes seed inputs for the `ipc_decode` target into the directory given (its corpus):
//! valid streams of the fuzz schema, with nulls, empty and multi-batch streams, each behind
//! the chunk-size byte the target reads first.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, DictionaryArray,
    Float64Array, Int32Array, Int64Array, LargeStringArray, ListArray, StringArray,
    Time64MicrosecondArray, TimestampMicrosecondArray, UInt64Array,
};
use arrow::datatypes::{Int32Type, Int64Type};
use arrow::ipc::writer::StreamWriter;
use arrow::record_batch::RecordBatch;
use qualityd_fuzz::fuzz_schema;

fn batch(rows: usize, seed: i64) -> RecordBatch {
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
                .map(|i| some(i).then(|| ["a", "b", "c"][i % 3]))
                .collect::<DictionaryArray<Int32Type>>(),
        ),
        Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(
            (0..rows).map(|i| some(i).then(|| (0..i as i64 % 4).map(Some).collect::<Vec<_>>())),
        )),
    ];
    RecordBatch::try_new(schema, columns).expect("the seed batch matches the fuzz schema")
}

fn stream(batches: &[RecordBatch]) -> Vec<u8> {
    let mut writer = StreamWriter::try_new(Vec::new(), &fuzz_schema()).expect("writer");
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
    let seeds = [
        (0u8, stream(&[])),
        (0, stream(&[batch(0, 0)])),
        (0, stream(&[batch(5, 1)])),
        (0, stream(&[batch(3, 2), batch(4, -9)])),
        (13, stream(&[batch(6, 3)])),
    ];
    for (i, (split, bytes)) in seeds.iter().enumerate() {
        let mut input = vec![*split];
        input.extend_from_slice(bytes);
        std::fs::write(dir.join(format!("seed-{i}")), input).expect("write a seed");
    }
    println!("wrote {} seeds to {}", seeds.len(), dir.display());
}
