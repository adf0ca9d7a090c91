//! Parquet files: the schema and row count from the footer, row groups as partitions,
//! projection pushed down to column chunks, and simple filters applied while reading: row
//! groups whose statistics rule every row out are skipped, the rest filtered row by row.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;

use ::parquet::arrow::ProjectionMask;
use ::parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use ::parquet::arrow::arrow_reader::{
    ArrowPredicate, ArrowPredicateFn, ParquetRecordBatchReaderBuilder, RowFilter,
};
use ::parquet::file::reader::{ChunkReader, Length};
use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, Scalar as ArrowScalar};
use arrow_schema::{ArrowError, DataType, SchemaRef};
use bytes::Bytes;
use qualityd_plugin_sdk::{
    Batches, Comparison, Error, Partition, Predicate, ReadRequest, Result, Scalar,
};

use crate::inferred::Inferred;
use crate::listing::FileEntry;
use crate::request::projection;

/// A Parquet file read by path: every chunk opens the file anew (WASI has no `try_clone`).
struct FileChunks {
    path: PathBuf,
    len: u64,
}

impl Length for FileChunks {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for FileChunks {
    type T = BufReader<File>;

    fn get_read(&self, start: u64) -> ::parquet::errors::Result<Self::T> {
        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(start))?;
        Ok(BufReader::new(file))
    }

    fn get_bytes(&self, start: u64, length: usize) -> ::parquet::errors::Result<Bytes> {
        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(start))?;
        let mut buffer = vec![0; length];
        file.read_exact(&mut buffer)?;
        Ok(buffer.into())
    }
}

fn builder(file: &FileEntry) -> Result<ParquetRecordBatchReaderBuilder<FileChunks>> {
    let chunks = FileChunks {
        path: file.path.clone(),
        len: file.size,
    };
    ParquetRecordBatchReaderBuilder::try_new(chunks).map_err(|e| data_error(file, None, e))
}

fn data_error(file: &FileEntry, detail: Option<String>, e: impl std::fmt::Display) -> Error {
    let error = Error::data(format!("not a readable Parquet file: {e}"))
        .path(file.path.display().to_string());
    match detail {
        Some(detail) => error.detail(detail).into(),
        None => error.into(),
    }
}

/// The schema and exact row count, from the footer.
pub fn infer(file: &FileEntry) -> Result<Inferred> {
    let builder = builder(file)?;
    Ok(Inferred {
        schema: builder.schema().clone(),
        row_estimate: Some(builder.metadata().file_metadata().num_rows().max(0) as u64),
    })
}

/// Consecutive row groups of about `target` compressed bytes each: a run ends at the row group
/// that brings it nearest the target.
pub fn partitions(file: &FileEntry, target: u64) -> Result<Vec<Partition>> {
    let builder = builder(file)?;
    let groups = builder.metadata().row_groups();
    let size = |index: usize| groups.get(index).map(|g| g.compressed_size().max(0) as u64);
    let mut partitions = Vec::new();
    let (mut first, mut bytes, mut rows) = (0usize, 0u64, 0u64);
    for (index, group) in groups.iter().enumerate() {
        bytes += group.compressed_size().max(0) as u64;
        rows += group.num_rows().max(0) as u64;
        let next_overshoots = size(index + 1).is_none_or(|next| bytes + next / 2 > target);
        if next_overshoots {
            partitions.push(Partition {
                id: format!("rg{first}-{}", index + 1),
                description: format!("row groups {first}..{}", index + 1),
                row_estimate: Some(rows),
                byte_size: Some(bytes),
                watermark: None,
            });
            (first, bytes, rows) = (index + 1, 0, 0);
        }
    }
    if partitions.is_empty() {
        partitions.push(Partition {
            id: "rg0-0".into(),
            description: "no row groups".into(),
            row_estimate: Some(0),
            byte_size: Some(0),
            watermark: None,
        });
    }
    Ok(partitions)
}

fn parse_partition(id: &str) -> Result<(usize, usize)> {
    id.strip_prefix("rg")
        .and_then(|range| range.split_once('-'))
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .filter(|(a, b)| a <= b)
        .ok_or_else(|| {
            Error::not_found(format!(
                "`{id}` is not a partition of this connector; ask `partitions` for them"
            ))
        })
}

/// Read a partition's row groups: only the requested columns, only the rows that pass the
/// filter (so the filter is reported as applied), at most `limit` rows.
pub fn read(
    file: &FileEntry,
    schema: SchemaRef,
    request: &ReadRequest,
    batch_rows: usize,
) -> Result<Batches> {
    let (first, end) = parse_partition(&request.partition.id)?;
    let (indices, projected) = projection(&schema, request, &file.name)?;
    let builder = builder(file)?;
    if end > builder.metadata().num_row_groups() {
        return Err(Error::not_found(format!(
            "{} has {} row groups, not {end}; the file changed since it was discovered",
            file.name,
            builder.metadata().num_row_groups()
        )));
    }
    // Parquet returns projected columns in file order; put them back in the requested order.
    let mut in_file_order = indices.clone();
    in_file_order.sort_unstable();
    in_file_order.dedup();
    let reorder: Vec<usize> = indices
        .iter()
        .map(|i| in_file_order.binary_search(i).unwrap_or_default())
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), in_file_order);
    let filter = row_filter(&builder, &schema, &request.filter)?;
    let row_groups = prune(&builder, &schema, &request.filter, first, end)?;
    if row_groups.len() < end - first {
        qualityd_plugin_sdk::log::debug(&format!(
            "{}: row groups {first}..{end}: {} of {} skipped by their statistics",
            file.name,
            end - first - row_groups.len(),
            end - first
        ));
    }
    let mut builder = builder
        .with_row_groups(row_groups)
        .with_projection(mask)
        .with_batch_size(batch_rows)
        .with_row_filter(filter);
    if let Some(limit) = request.limit {
        builder = builder.with_limit(limit as usize);
    }
    let detail = format!("row groups {first}..{end}");
    let reader = builder
        .build()
        .map_err(|e| data_error(file, Some(detail.clone()), e))?;
    let file = file.clone();
    let batches = reader.map(move |batch| {
        batch
            .and_then(|batch| batch.project(&reorder))
            .map_err(|e| data_error(&file, Some(detail.clone()), e))
    });
    Ok(Batches {
        schema: projected,
        batches: Box::new(batches),
        filter_applied: true,
    })
}

/// The row groups of `first..end` that may hold a row passing every predicate, judged by
/// their min/max statistics; a row group without statistics for a field is kept.
fn prune(
    builder: &ParquetRecordBatchReaderBuilder<FileChunks>,
    schema: &SchemaRef,
    predicates: &[Predicate],
    first: usize,
    end: usize,
) -> Result<Vec<usize>> {
    let groups = &builder.metadata().row_groups()[first..end];
    let mut keep = vec![true; groups.len()];
    for predicate in predicates {
        let Ok(converter) = StatisticsConverter::try_new(
            &predicate.field,
            schema.as_ref(),
            builder.parquet_schema(),
        ) else {
            continue;
        };
        let Some(field) = schema.field_with_name(&predicate.field).ok() else {
            continue;
        };
        let value = scalar(&predicate.value, field.data_type())?;
        let (Ok(mins), Ok(maxes)) = (
            converter.row_group_mins(groups.iter()),
            converter.row_group_maxes(groups.iter()),
        ) else {
            continue;
        };
        // Whether some value in [min, max] can pass: null statistics decide nothing.
        let possible = match predicate.op {
            Comparison::Eq => {
                let low = compare(&mins, Comparison::Le, &value);
                let high = compare(&maxes, Comparison::Ge, &value);
                low.and_then(|l| high.and_then(|h| both_true(&l, &h)))
            }
            Comparison::Lt => compare(&mins, Comparison::Lt, &value),
            Comparison::Le => compare(&mins, Comparison::Le, &value),
            Comparison::Gt => compare(&maxes, Comparison::Gt, &value),
            Comparison::Ge => compare(&maxes, Comparison::Ge, &value),
            Comparison::Ne | Comparison::IsNull | Comparison::IsNotNull => continue,
        };
        let Ok(possible) = possible else {
            continue;
        };
        for (slot, can) in keep.iter_mut().zip(possible.iter()) {
            *slot &= can.unwrap_or(true);
        }
    }
    Ok((first..end)
        .zip(keep)
        .filter_map(|(index, kept)| kept.then_some(index))
        .collect())
}

fn both_true(a: &BooleanArray, b: &BooleanArray) -> Result<BooleanArray, ArrowError> {
    Ok(a.iter()
        .zip(b.iter())
        .map(|(a, b)| match (a, b) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        })
        .collect())
}

/// The request's predicates as a Parquet row filter, each on its own column.
fn row_filter(
    builder: &ParquetRecordBatchReaderBuilder<FileChunks>,
    schema: &SchemaRef,
    predicates: &[Predicate],
) -> Result<RowFilter> {
    let mut filters: Vec<Box<dyn ArrowPredicate>> = Vec::new();
    for predicate in predicates {
        let index = schema.index_of(&predicate.field).map_err(|_| {
            Error::not_found(format!(
                "the filter names a field `{}` that does not exist",
                predicate.field
            ))
        })?;
        let data_type = schema.field(index).data_type().clone();
        let value = scalar(&predicate.value, &data_type)?;
        let op = predicate.op;
        let mask = ProjectionMask::roots(builder.parquet_schema(), [index]);
        filters.push(Box::new(ArrowPredicateFn::new(
            mask,
            move |batch: RecordBatch| compare(batch.column(0), op, &value),
        )));
    }
    Ok(RowFilter::new(filters))
}

fn compare(
    column: &ArrayRef,
    op: Comparison,
    value: &ArrayRef,
) -> Result<BooleanArray, ArrowError> {
    use arrow_ord::cmp;
    let scalar = ArrowScalar::new(value.clone());
    match op {
        Comparison::Eq => cmp::eq(column, &scalar),
        Comparison::Ne => cmp::neq(column, &scalar),
        Comparison::Lt => cmp::lt(column, &scalar),
        Comparison::Le => cmp::lt_eq(column, &scalar),
        Comparison::Gt => cmp::gt(column, &scalar),
        Comparison::Ge => cmp::gt_eq(column, &scalar),
        Comparison::IsNull => Ok(null_mask(column, true)),
        Comparison::IsNotNull => Ok(null_mask(column, false)),
    }
}

fn null_mask(column: &ArrayRef, null: bool) -> BooleanArray {
    (0..column.len())
        .map(|i| Some(column.is_null(i) == null))
        .collect()
}

/// A predicate's value as a one-element array of the column's type.
fn scalar(value: &Scalar, data_type: &DataType) -> Result<ArrayRef> {
    use arrow_array::{
        BooleanArray, Date32Array, Float64Array, Int64Array, NullArray, StringArray,
        TimestampMicrosecondArray,
    };
    let array: ArrayRef = match value {
        Scalar::Null => Arc::new(NullArray::new(1)),
        Scalar::Boolean(v) => Arc::new(BooleanArray::from(vec![*v])),
        Scalar::Integer(v) => Arc::new(Int64Array::from(vec![*v])),
        Scalar::Float(v) => Arc::new(Float64Array::from(vec![*v])),
        Scalar::Text(v) => Arc::new(StringArray::from(vec![v.as_str()])),
        Scalar::Date(v) => Arc::new(Date32Array::from(vec![*v])),
        Scalar::Timestamp(v) => Arc::new(TimestampMicrosecondArray::from(vec![*v])),
    };
    arrow_cast::cast(&array, data_type).map_err(|e| {
        Error::unsupported(format!(
            "a filter value cannot be compared with a {data_type} field: {e}"
        ))
    })
}
