//! Reading a partition of a group of files: its pieces one after another, each file statted
//! and inferred alone when its turn comes, read with the requested fields it has and brought
//! to the group's schema (which the partition id carries). The small batches of small files
//! are joined into batches of about the format's batch size, so a pack of 250 five-row files
//! crosses to the host as one batch, not 250. Filters are left to the host.

use std::collections::VecDeque;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use arrow_select::concat::concat_batches;
use qualityd_plugin_sdk::{Batches, Error, ReadRequest, Result};

use crate::Formats;
use crate::batch::rows_per_batch;
use crate::grouping::hive_values;
use crate::listing::Listing;
use crate::partition_id::Piece;
use crate::request::{Limited, projection};
use crate::unify::conform;
use crate::{file_watermark, sheet_of};

type BatchIter = Box<dyn Iterator<Item = Result<RecordBatch>>>;

/// What reading the pieces of one partition needs.
pub struct GroupRead {
    pub formats: Formats,
    pub listing: Listing,
    /// Files whose watermark is not past this one are skipped (an incremental read).
    pub since: Option<String>,
}

impl GroupRead {
    /// The batches of the pieces in order, in the group's `schema` projected as requested.
    pub fn read(
        self,
        schema: &SchemaRef,
        pieces: Vec<Piece>,
        request: &ReadRequest,
    ) -> Result<Batches> {
        let (_, target) = projection(schema, request, &request.container)?;
        let batch_rows = rows_per_batch(self.formats.batch_rows, schema.fields().len());
        let pieces = Joined {
            pieces: Pieces {
                read: self,
                request: request.clone(),
                target: target.clone(),
                pieces: pieces.into(),
                current: None,
            },
            batch_rows,
            held: Vec::new(),
            held_rows: 0,
            failed: None,
        };
        Ok(Batches {
            schema: target,
            batches: Box::new(Limited::new(pieces, request.limit)),
            filter_applied: request.filter.is_empty(),
        })
    }
}

/// The pieces left to read and the batches of the one being read.
struct Pieces {
    read: GroupRead,
    request: ReadRequest,
    target: SchemaRef,
    pieces: VecDeque<Piece>,
    current: Option<BatchIter>,
}

impl Pieces {
    /// The batches of a piece brought to the target schema; `None` for a file an incremental
    /// read skips.
    fn open(&self, piece: &Piece) -> Result<Option<BatchIter>> {
        let file = self.read.listing.entry(&piece.file)?;
        if let (Some(since), Some(watermark)) = (&self.read.since, file_watermark(&file))
            && watermark <= *since
        {
            return Ok(None);
        }
        let sheet = sheet_of(&self.request.container, &file.name);
        let file_schema = self.read.formats.infer(&file, sheet)?.schema;
        let mut inner = self.request.clone();
        inner.watermark = None;
        inner.filter = Vec::new();
        inner.partition.id = piece.part.clone();
        inner.projection = Some(
            (self.target.fields().iter())
                .filter(|f| file_schema.index_of(f.name()).is_ok())
                .map(|f| f.name().clone())
                .collect(),
        );
        let batches = self
            .read
            .formats
            .read_file(&file, sheet, file_schema, &inner)?;
        let target = self.target.clone();
        let hive = hive_values(&file.name);
        let path = file.path.display().to_string();
        Ok(Some(Box::new(batches.batches.map(move |batch| {
            batch.and_then(|batch| {
                conform(&batch, &target, &hive).map_err(|e| {
                    Error::data(format!("cannot bring it to the container's schema: {e}"))
                        .path(path.clone())
                        .into()
                })
            })
        }))))
    }
}

impl Iterator for Pieces {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(current) = &mut self.current {
                match current.next() {
                    Some(Ok(batch)) => return Some(Ok(batch)),
                    Some(Err(e)) => {
                        // An error ends the partition.
                        self.pieces.clear();
                        self.current = None;
                        return Some(Err(e));
                    }
                    None => self.current = None,
                }
            }
            let piece = self.pieces.pop_front()?;
            match self.open(&piece) {
                Ok(batches) => self.current = batches,
                Err(e) => {
                    self.pieces.clear();
                    return Some(Err(e));
                }
            }
        }
    }
}

/// The pieces' batches joined up to `batch_rows` records: a batch of at least half that size
/// passes through as it is, smaller ones are held until joining them fills a batch or the
/// pieces end. An error comes after the batches read before it.
struct Joined {
    pieces: Pieces,
    batch_rows: usize,
    held: Vec<RecordBatch>,
    held_rows: usize,
    failed: Option<Error>,
}

impl Joined {
    /// The held batches as one.
    fn release(&mut self) -> Option<Result<RecordBatch>> {
        let held = std::mem::take(&mut self.held);
        self.held_rows = 0;
        match held.as_slice() {
            [] => None,
            [one] => Some(Ok(one.clone())),
            [first, ..] => Some(concat_batches(&first.schema(), &held).map_err(|e| {
                Error::internal(format!("cannot join the batches of small files: {e}"))
            })),
        }
    }
}

impl Iterator for Joined {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.failed.take() {
            return Some(Err(e));
        }
        loop {
            match self.pieces.next() {
                Some(Ok(batch))
                    if self.held.is_empty() && batch.num_rows() >= self.batch_rows / 2 =>
                {
                    return Some(Ok(batch));
                }
                Some(Ok(batch)) => {
                    if self.held_rows + batch.num_rows() > self.batch_rows {
                        let joined = self.release();
                        self.held_rows = batch.num_rows();
                        self.held.push(batch);
                        return joined;
                    }
                    self.held_rows += batch.num_rows();
                    self.held.push(batch);
                }
                Some(Err(e)) => match self.release() {
                    Some(joined) => {
                        self.failed = Some(e);
                        return Some(joined);
                    }
                    None => return Some(Err(e)),
                },
                None => return self.release(),
            }
        }
    }
}
