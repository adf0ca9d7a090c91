//! Picking failing records after a scan: the rows a failed `unique` check reports are known
//! only once every row was seen, when the batches are gone. The partitions that hold the
//! first of them are read again and those rows kept as records. Files or tables that changed
//! in between can give other rows; the records say which row numbers they are.

use std::collections::{BTreeMap, BTreeSet};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::Result;
use crate::contract::{Partition, Scalar};
use crate::runtime::DiscoveredContainer;
use crate::scan::FailingRecord;

use super::fold::{self, Fold, ReadScope};
use super::{Datastore, Progress};

/// The rows wanted from one container: where each partition starts, and the row numbers.
pub(super) struct Wanted {
    /// Each partition's first row number, by partition id.
    pub offsets: BTreeMap<String, u64>,
    /// The rows to keep.
    pub rows: BTreeSet<u64>,
    /// The watermark the scan read past (an incremental scan), so that the partitions are
    /// read again as the scan read them.
    pub since: Option<Scalar>,
}

/// Read the partitions holding the wanted rows again and return the rows as records, by
/// container and row number. A container that cannot be read again gives none.
pub(super) fn pick_records(
    datastore: &Datastore,
    wanted: &BTreeMap<String, Wanted>,
    parallelism: usize,
    progress: &Progress,
) -> BTreeMap<String, BTreeMap<u64, FailingRecord>> {
    if wanted.is_empty() {
        return BTreeMap::new();
    }
    let span = tracing::info_span!("operation.pick_records", containers = wanted.len());
    let _entered = span.enter();
    let scope = ReadScope {
        operation: "scan",
        parallelism,
        fields: None,
        limit: None,
        containers: Some(wanted.keys().cloned().collect()),
    };
    let fold = PickFold { wanted };
    let folded = match fold::read(datastore, &scope, &fold, progress) {
        Ok(folded) => folded,
        Err(e) => {
            let error = datastore.grants.redact.log_line(&e.to_string(), usize::MAX);
            tracing::warn!(%error, "the rows of failed unique checks could not be read again; their anomalies keep no records");
            return BTreeMap::new();
        }
    };
    folded
        .into_iter()
        .filter_map(|f| Some((f.container.name, f.result.ok()?.1.records)))
        .collect()
}

/// Picking as a fold: each partition's wanted rows.
struct PickFold<'a> {
    wanted: &'a BTreeMap<String, Wanted>,
}

/// The rows picked from a partition, and where its next batch starts.
struct Picked<'a> {
    /// The container's wanted rows.
    rows: Option<&'a BTreeSet<u64>>,
    next_row: u64,
    /// Where the next partition starts.
    end: u64,
    records: BTreeMap<u64, FailingRecord>,
}

impl<'a> Fold for PickFold<'a> {
    /// The watermark the scan read past.
    type Plan = Option<Scalar>;
    type State = Picked<'a>;

    fn wants(&self, container: &DiscoveredContainer) -> bool {
        self.wanted.contains_key(&container.name)
    }

    fn plan(
        &self,
        container: &DiscoveredContainer,
        _: &SchemaRef,
        partitions: &mut Vec<Partition>,
    ) -> Result<Option<Scalar>> {
        let Some(wanted) = self.wanted.get(&container.name) else {
            partitions.clear();
            return Ok(None);
        };
        // Only the partitions whose rows include a wanted one.
        let mut starts: Vec<(u64, &str)> = wanted
            .offsets
            .iter()
            .map(|(id, start)| (*start, id.as_str()))
            .collect();
        starts.sort();
        let holding: BTreeSet<&str> = wanted
            .rows
            .iter()
            .filter_map(|row| {
                starts
                    .iter()
                    .rev()
                    .find(|(start, _)| start <= row)
                    .map(|(_, id)| *id)
            })
            .collect();
        partitions.retain(|p| holding.contains(p.id.as_str()));
        Ok(wanted.since.clone())
    }

    fn empty(&self, _: &Option<Scalar>, _: &DiscoveredContainer) -> Result<Picked<'a>> {
        Ok(Picked {
            rows: None,
            next_row: 0,
            end: 0,
            records: BTreeMap::new(),
        })
    }

    fn start(
        &self,
        _: &Option<Scalar>,
        container: &DiscoveredContainer,
        partition: &Partition,
    ) -> Result<Picked<'a>> {
        let wanted = self.wanted.get(&container.name);
        // A partition not seen by the scan (it appeared since) picks nothing.
        let start =
            (wanted.and_then(|w| w.offsets.get(&partition.id).copied())).unwrap_or(u64::MAX);
        let end = (wanted.iter().flat_map(|w| w.offsets.values()))
            .filter(|offset| **offset > start)
            .min()
            .copied()
            .unwrap_or(u64::MAX);
        Ok(Picked {
            rows: wanted.map(|w| &w.rows),
            next_row: start,
            end,
            records: BTreeMap::new(),
        })
    }

    fn update(&self, _: &Option<Scalar>, state: &mut Picked<'a>, batch: RecordBatch) -> Result<()> {
        let first = state.next_row;
        state.next_row = first.saturating_add(batch.num_rows() as u64);
        if let Some(rows) = state.rows {
            for row in rows.range(first..state.next_row) {
                let index = (row - first) as usize;
                let record = FailingRecord::from_batch(&batch, index, first);
                state.records.insert(*row, record);
            }
        }
        Ok(())
    }

    /// Past the last wanted row of the partition: the rest of it is not read.
    fn done(&self, _: &Option<Scalar>, state: &Picked<'a>) -> bool {
        let left = state.next_row..state.end.max(state.next_row);
        state
            .rows
            .is_none_or(|rows| rows.range(left).next().is_none())
    }

    fn merge(&self, _: &Option<Scalar>, into: &mut Picked<'a>, next: Picked<'a>) -> Result<()> {
        into.records.extend(next.records);
        Ok(())
    }

    fn since(&self, since: &Option<Scalar>) -> Option<Scalar> {
        since.clone()
    }
}
