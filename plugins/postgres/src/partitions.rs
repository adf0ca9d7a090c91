//! Splits a table into partitions that separate sessions read in parallel: ranges of its
//! single-column integer primary key when it has one, else ranges of heap pages (`ctid`,
//! scanned by TID range since PostgreSQL 14). The first and last ranges are open, so rows
//! added beyond the ends after planning are still read. Small tables and views are one
//! partition.

use qualityd_plugin_sdk::{Error, Partition, PartitionHint, Result};

use crate::catalog::Relation;
use crate::query::quote_ident;
use crate::wire::Connection;

/// The most partitions one container is split into.
const MOST: u64 = 1024;

/// A slice of a relation, as a partition id carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum Slice {
    /// Every row.
    All,
    /// `lo <= column < hi` (an absent bound is open).
    Key {
        /// The integer key column.
        column: String,
        /// Inclusive lower bound.
        lo: Option<i64>,
        /// Exclusive upper bound.
        hi: Option<i64>,
    },
    /// Heap pages `lo <= page < hi`.
    Pages {
        /// Inclusive first page.
        lo: Option<u64>,
        /// Exclusive last page.
        hi: Option<u64>,
    },
}

fn bound<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map(T::to_string).unwrap_or_default()
}

fn parse_bound<T: std::str::FromStr>(text: &str) -> Option<Option<T>> {
    match text {
        "" => Some(None),
        text => text.parse().ok().map(Some),
    }
}

impl Slice {
    /// The partition id: `all`, `int:<lo>:<hi>:<column>` or `ctid:<lo>:<hi>`.
    pub fn id(&self) -> String {
        match self {
            Slice::All => "all".into(),
            Slice::Key { column, lo, hi } => format!("int:{}:{}:{column}", bound(lo), bound(hi)),
            Slice::Pages { lo, hi } => format!("ctid:{}:{}", bound(lo), bound(hi)),
        }
    }

    /// The slice a partition id stands for.
    pub fn parse(id: &str) -> Result<Slice> {
        let bad = || {
            Error::config(format!(
                "partition id `{id}` is not one this plugin made; ask for the partitions again"
            ))
        };
        if id == "all" {
            return Ok(Slice::All);
        }
        let mut parts = id.splitn(4, ':');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("int"), Some(lo), Some(hi), Some(column)) => Ok(Slice::Key {
                column: column.to_owned(),
                lo: parse_bound(lo).ok_or_else(bad)?,
                hi: parse_bound(hi).ok_or_else(bad)?,
            }),
            (Some("ctid"), Some(lo), Some(hi), None) => Ok(Slice::Pages {
                lo: parse_bound(lo).ok_or_else(bad)?,
                hi: parse_bound(hi).ok_or_else(bad)?,
            }),
            _ => Err(bad()),
        }
    }

    /// The WHERE condition that selects the slice, if any.
    pub fn condition(&self) -> Option<String> {
        let mut parts = Vec::new();
        match self {
            Slice::All => {}
            Slice::Key { column, lo, hi } => {
                let column = quote_ident(column);
                parts.extend(lo.map(|lo| format!("{column} >= {lo}")));
                parts.extend(hi.map(|hi| format!("{column} < {hi}")));
            }
            Slice::Pages { lo, hi } => {
                parts.extend(lo.map(|lo| format!("ctid >= '({lo},0)'::tid")));
                parts.extend(hi.map(|hi| format!("ctid < '({hi},0)'::tid")));
            }
        }
        (!parts.is_empty()).then(|| parts.join(" AND "))
    }

    fn description(&self) -> String {
        match self {
            Slice::All => "whole table".into(),
            Slice::Key { column, lo, hi } => {
                format!("{column} in [{}, {})", bound_text(lo), bound_text(hi))
            }
            Slice::Pages { lo, hi } => format!("pages [{}, {})", bound_text(lo), bound_text(hi)),
        }
    }
}

fn bound_text<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map_or("…".into(), T::to_string)
}

/// The partitions of `relation`, about `partition_rows` rows each and a multiple of the
/// readers the host runs.
pub fn plan(
    connection: &mut Connection,
    relation: &Relation,
    hint: &PartitionHint,
    partition_rows: u64,
) -> Result<Vec<Partition>> {
    let rows = relation
        .row_estimate
        .or(relation.byte_size.map(|bytes| bytes / 100))
        .unwrap_or(0);
    let splittable = matches!(relation.relkind.as_str(), "r" | "p" | "m");
    if !splittable || rows <= partition_rows.max(1) {
        return Ok(vec![partition(Slice::All, relation.row_estimate)]);
    }
    let readers = u64::from(hint.parallelism.max(1));
    let count = rows.div_ceil(partition_rows).max(readers).div_ceil(readers) * readers;
    let count = count.min(MOST);
    let slices = match integer_key(connection, relation)? {
        Some((column, min, max)) => key_ranges(&column, min, max, count),
        // A partitioned table's pages are its partitions' own: ranges of them mean nothing.
        None if relation.relkind == "p" => vec![Slice::All],
        None => page_ranges(pages(connection, relation)?, count),
    };
    let each = relation.row_estimate.map(|r| r / slices.len() as u64);
    Ok(slices.into_iter().map(|s| partition(s, each)).collect())
}

fn partition(slice: Slice, row_estimate: Option<u64>) -> Partition {
    Partition {
        id: slice.id(),
        description: slice.description(),
        row_estimate,
        byte_size: None,
        watermark: None,
    }
}

/// The single-column integer primary key, with its smallest and largest value.
fn integer_key(
    connection: &mut Connection,
    relation: &Relation,
) -> Result<Option<(String, i64, i64)>> {
    let sql = format!(
        "SELECT a.attname FROM pg_index i \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
         WHERE i.indrelid = {} AND i.indisprimary AND i.indnkeyatts = 1 \
         AND a.atttypid IN (20, 21, 23)",
        relation.oid
    );
    let Some(column) = connection
        .query(&sql)?
        .into_iter()
        .next()
        .and_then(|r| r[0].clone())
    else {
        return Ok(None);
    };
    let quoted = quote_ident(&column);
    let sql = format!(
        "SELECT min({quoted})::int8, max({quoted})::int8 FROM {}",
        relation.quoted()
    );
    let row = connection
        .query(&sql)?
        .into_iter()
        .next()
        .unwrap_or_default();
    let value = |i: usize| row.get(i).cloned().flatten().and_then(|v| v.parse().ok());
    Ok(match (value(0), value(1)) {
        (Some(min), Some(max)) => Some((column, min, max)),
        _ => None,
    })
}

fn key_ranges(column: &str, min: i64, max: i64, count: u64) -> Vec<Slice> {
    let span = max as i128 - min as i128 + 1;
    let count = (count as i128).min(span).max(1);
    let at = |i: i128| (min as i128 + span * i / count) as i64;
    (0..count)
        .map(|i| Slice::Key {
            column: column.to_owned(),
            lo: (i > 0).then(|| at(i)),
            hi: (i + 1 < count).then(|| at(i + 1)),
        })
        .collect()
}

fn pages(connection: &mut Connection, relation: &Relation) -> Result<u64> {
    let sql = format!(
        "SELECT pg_relation_size({}) / current_setting('block_size')::int8",
        relation.oid
    );
    let row = connection
        .query(&sql)?
        .into_iter()
        .next()
        .unwrap_or_default();
    Ok(row
        .first()
        .cloned()
        .flatten()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

fn page_ranges(pages: u64, count: u64) -> Vec<Slice> {
    let count = count.min(pages).max(1);
    let at = |i: u64| pages * i / count;
    (0..count)
        .map(|i| Slice::Pages {
            lo: (i > 0).then(|| at(i)),
            hi: (i + 1 < count).then(|| at(i + 1)),
        })
        .collect()
}
