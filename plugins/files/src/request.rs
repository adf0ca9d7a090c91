//! What every format does with a read request: resolve the projection to field indices, and
//! stop after the row limit.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use qualityd_plugin_sdk::{Error, ReadRequest, Result};

/// The indices of the requested fields (all when none are named), and the projected schema.
pub fn projection(
    schema: &Schema,
    request: &ReadRequest,
    file: &str,
) -> Result<(Vec<usize>, SchemaRef)> {
    let indices: Vec<usize> = match &request.projection {
        None => (0..schema.fields().len()).collect(),
        Some(names) => names
            .iter()
            .map(|name| {
                schema.index_of(name).map_err(|_| {
                    let fields: Vec<&str> =
                        schema.fields().iter().map(|f| f.name().as_str()).collect();
                    Error::not_found(format!(
                        "no field `{name}` in {file}; its fields are: {}",
                        fields.join(", ")
                    ))
                })
            })
            .collect::<Result<_>>()?,
    };
    let projected = schema
        .project(&indices)
        .map_err(|e| Error::internal(e.to_string()))?;
    Ok((indices, Arc::new(projected)))
}

/// Batches until `limit` rows have been returned (the last one cut to fit); an error ends it.
pub struct Limited<I> {
    batches: I,
    remaining: u64,
    done: bool,
}

impl<I> Limited<I> {
    pub fn new(batches: I, limit: Option<u64>) -> Self {
        Limited {
            batches,
            remaining: limit.unwrap_or(u64::MAX),
            done: false,
        }
    }
}

impl<I: Iterator<Item = Result<RecordBatch>>> Iterator for Limited<I> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.remaining == 0 {
            return None;
        }
        match self.batches.next()? {
            Ok(batch) => {
                let rows = (batch.num_rows() as u64).min(self.remaining);
                self.remaining -= rows;
                Some(Ok(batch.slice(0, rows as usize)))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
