//! One schema for a group of files, and each file's batches brought to it.
//!
//! Fields are matched by name, in the order they are first seen. Types widen where no value
//! changes meaning (integers to int64, integers and floats to double, string to large
//! string, timestamps of one time zone to the finer unit); a field missing from some files
//! is nullable. Anything else is a conflict, reported with both files. Hive partition keys
//! become fields after the data's own (int64 when every value is a whole number, else
//! string); a data field of the same name wins.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray, new_null_array};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use qualityd_plugin_sdk::{Error, Result};

use crate::grouping::{FileGroup, hive_values};

/// The unified schema of a group, from each file's own schema (in the group's file order).
pub fn unify(group: &FileGroup, schemas: &[SchemaRef]) -> Result<SchemaRef> {
    let mut fields: Vec<Field> = Vec::new();
    let mut origin: Vec<&str> = Vec::new();
    let mut present: Vec<usize> = Vec::new();
    for (file, schema) in group.files.iter().zip(schemas) {
        for field in schema.fields() {
            match fields.iter().position(|f| f.name() == field.name()) {
                None => {
                    fields.push(field.as_ref().clone());
                    origin.push(&file.name);
                    present.push(1);
                }
                Some(i) => {
                    let wider =
                        widen(fields[i].data_type(), field.data_type()).ok_or_else(|| {
                            Error::data(format!(
                                "field `{}` is {} in {} but {} in {}; the files cannot be read as \
                             one container: give them different names, or list them apart in \
                             the `patterns` setting",
                                field.name(),
                                fields[i].data_type(),
                                origin[i],
                                field.data_type(),
                                file.name
                            ))
                            .path(file.path.display().to_string())
                        })?;
                    let nullable = fields[i].is_nullable() || field.is_nullable();
                    fields[i] = Field::new(field.name(), wider, nullable);
                    present[i] += 1;
                }
            }
        }
    }
    for (field, seen) in fields.iter_mut().zip(&present) {
        if *seen < group.files.len() {
            *field = field.clone().with_nullable(true);
        }
    }
    for (key, data_type, nullable) in hive_fields(group) {
        if !fields.iter().any(|f| f.name() == &key) {
            fields.push(Field::new(key, data_type, nullable));
        }
    }
    Ok(Arc::new(Schema::new(fields)))
}

/// The Hive keys of a group's files, their type, and whether some file lacks them.
fn hive_fields(group: &FileGroup) -> Vec<(String, DataType, bool)> {
    let per_file: Vec<Vec<(String, String)>> =
        group.files.iter().map(|f| hive_values(&f.name)).collect();
    let mut keys: Vec<String> = Vec::new();
    for (key, _) in per_file.iter().flatten() {
        if !keys.contains(key) {
            keys.push(key.clone());
        }
    }
    keys.into_iter()
        .map(|key| {
            let values: Vec<&String> = per_file
                .iter()
                .filter_map(|kv| kv.iter().find(|(k, _)| *k == key).map(|(_, v)| v))
                .collect();
            let integral = values.iter().all(|v| v.parse::<i64>().is_ok());
            let data_type = if integral {
                DataType::Int64
            } else {
                DataType::Utf8
            };
            let nullable = values.len() < per_file.len();
            (key, data_type, nullable)
        })
        .collect()
}

fn widen(a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType::*;
    let signed = |t: &DataType| matches!(t, Int8 | Int16 | Int32 | Int64);
    let unsigned = |t: &DataType| matches!(t, UInt8 | UInt16 | UInt32 | UInt64);
    let float = |t: &DataType| matches!(t, Float16 | Float32 | Float64);
    let number = |t: &DataType| signed(t) || unsigned(t) || float(t);
    Some(match (a, b) {
        (a, b) if a == b => a.clone(),
        (Null, other) | (other, Null) => other.clone(),
        (a, b) if unsigned(a) && unsigned(b) => UInt64,
        (a, b) if (signed(a) || unsigned(a)) && (signed(b) || unsigned(b)) => Int64,
        (a, b) if number(a) && number(b) => Float64,
        (Utf8 | LargeUtf8, Utf8 | LargeUtf8) => LargeUtf8,
        (Timestamp(u1, tz1), Timestamp(u2, tz2)) if tz1 == tz2 => {
            Timestamp(finer(*u1, *u2), tz1.clone())
        }
        _ => return None,
    })
}

fn finer(a: TimeUnit, b: TimeUnit) -> TimeUnit {
    let rank = |u: TimeUnit| match u {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 1,
        TimeUnit::Microsecond => 2,
        TimeUnit::Nanosecond => 3,
    };
    if rank(a) >= rank(b) { a } else { b }
}

/// Bring a file's batch to `target`: cast fields whose type was widened, fill fields the file
/// lacks with nulls, and Hive keys with the file's values.
pub fn conform(
    batch: &RecordBatch,
    target: &SchemaRef,
    hive: &[(String, String)],
) -> std::result::Result<RecordBatch, arrow_schema::ArrowError> {
    let rows = batch.num_rows();
    let columns = target
        .fields()
        .iter()
        .map(
            |field| -> std::result::Result<ArrayRef, arrow_schema::ArrowError> {
                if let Some(column) = batch.column_by_name(field.name()) {
                    return if column.data_type() == field.data_type() {
                        Ok(column.clone())
                    } else {
                        arrow_cast::cast(column, field.data_type())
                    };
                }
                match hive.iter().find(|(key, _)| key == field.name()) {
                    Some((_, value)) => {
                        let text: ArrayRef =
                            Arc::new(StringArray::from(vec![value.as_str(); rows]));
                        arrow_cast::cast(&text, field.data_type())
                    }
                    None => Ok(new_null_array(field.data_type(), rows)),
                }
            },
        )
        .collect::<std::result::Result<Vec<_>, _>>()?;
    RecordBatch::try_new(target.clone(), columns)
}
