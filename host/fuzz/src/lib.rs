//! What the fuzz targets share: the schema the IPC target's streams must carry, one field of
//! each kind the profiler treats differently.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// The announced schema of every fuzzed stream.
pub fn fuzz_schema() -> SchemaRef {
    let utf8_dict = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let list = DataType::List(Arc::new(Field::new("item", DataType::Int64, true)));
    Arc::new(Schema::new(vec![
        Field::new("i32", DataType::Int32, true),
        Field::new("i64", DataType::Int64, true),
        Field::new("u64", DataType::UInt64, true),
        Field::new("f64", DataType::Float64, true),
        Field::new("bool", DataType::Boolean, true),
        Field::new("text", DataType::Utf8, true),
        Field::new("large_text", DataType::LargeUtf8, true),
        Field::new("date", DataType::Date32, true),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("time", DataType::Time64(TimeUnit::Microsecond), true),
        Field::new("decimal", DataType::Decimal128(12, 2), true),
        Field::new("bytes", DataType::Binary, true),
        Field::new("code", utf8_dict, true),
        Field::new("list", list, true),
    ]))
}
