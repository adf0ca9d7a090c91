//! Avro object container files: the writer's schema becomes the Arrow schema (a union with
//! null becomes a nullable field), blocks are decoded by arrow-avro. One partition per file.

use std::fs::File;
use std::io::BufReader;

use arrow_avro::reader::{Reader, ReaderBuilder};
use qualityd_plugin_sdk::{Batches, Error, ReadRequest, Result};

use crate::inferred::Inferred;
use crate::listing::{FileEntry, io_error};
use crate::request::{Limited, projection};

fn reader(file: &FileEntry, batch_rows: usize) -> Result<Reader<BufReader<File>>> {
    let raw = File::open(&file.path).map_err(|e| io_error(&file.path, &e))?;
    ReaderBuilder::new()
        .with_batch_size(batch_rows)
        .build(BufReader::with_capacity(1 << 20, raw))
        .map_err(|e| data_error(file, e))
}

fn data_error(file: &FileEntry, e: impl std::fmt::Display) -> Error {
    Error::data(format!("not a readable Avro object container file: {e}"))
        .path(file.path.display().to_string())
        .into()
}

/// The schema, from the file's header.
pub fn infer(file: &FileEntry) -> Result<Inferred> {
    Ok(Inferred {
        schema: reader(file, 1)?.schema(),
        row_estimate: None,
    })
}

/// Read the whole file, honouring projection and limit.
pub fn read(file: &FileEntry, request: &ReadRequest, batch_rows: usize) -> Result<Batches> {
    let reader = reader(file, batch_rows)?;
    let (indices, projected) = projection(&reader.schema(), request, &file.name)?;
    let file = file.clone();
    let mut blocks = 0u64;
    let batches = reader.map(move |batch| {
        blocks += 1;
        batch
            .and_then(|batch| batch.project(&indices))
            .map_err(|e| {
                Error::data(format!("not a readable Avro object container file: {e}"))
                    .path(file.path.display().to_string())
                    .detail(format!("in batch {blocks} of the file's records"))
                    .into()
            })
    });
    Ok(Batches {
        schema: projected,
        batches: Box::new(Limited::new(batches, request.limit)),
        filter_applied: request.filter.is_empty(),
    })
}
