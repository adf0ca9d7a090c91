//! Splitting a table into partitions: ranges of a single-column integer primary key
//! (`int:<column>:<lo>:<hi>`, lo inclusive, hi exclusive) when the table is larger than
//! `partition_rows`, otherwise the whole table (`all`).

use qualityd_plugin_sdk::{ContainerKind, Error, Partition, PartitionHint, Result};

use crate::catalog::{TableInfo, number};
use crate::connection::Conn;
use crate::errors::Failure;
use crate::query::quote;

/// A range of an integer key: `lo <= key < hi`.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRange {
    pub column: String,
    pub lo: i128,
    pub hi: i128,
}

/// The id of the whole-table partition.
pub const ALL: &str = "all";

/// The one partition of a whole table.
pub fn whole(table: &TableInfo) -> Partition {
    Partition {
        id: ALL.into(),
        description: "whole table".into(),
        row_estimate: table.row_estimate,
        byte_size: table.byte_size,
        watermark: None,
    }
}

/// The key a table can be split on: its primary key, when that is one integer column.
fn split_key(table: &TableInfo) -> Option<&str> {
    match table.primary_key.as_slice() {
        [key] if table.kind == ContainerKind::Table => {
            let column = table.column(key)?;
            column
                .field
                .data_type()
                .is_integer()
                .then_some(key.as_str())
        }
        _ => None,
    }
}

/// The partitions of a table: key ranges when it has an integer key and more rows than
/// `partition_rows`, at least one per reader; otherwise the whole table.
pub fn plan(
    conn: &mut Conn,
    database: &str,
    table: &TableInfo,
    hint: &PartitionHint,
    partition_rows: u64,
) -> Result<Vec<Partition>, Failure> {
    let (Some(key), Some(rows)) = (split_key(table), table.row_estimate) else {
        return Ok(vec![whole(table)]);
    };
    if rows <= partition_rows {
        return Ok(vec![whole(table)]);
    }
    let sql = format!(
        "SELECT MIN({k}), MAX({k}) FROM {}.{}",
        quote(database),
        quote(&table.name),
        k = quote(key)
    );
    let found = conn.rows(&sql, &[])?;
    let bound = |i: usize| {
        found.first().and_then(|row| match &row[i] {
            mysql_common::value::Value::Int(n) => Some(i128::from(*n)),
            other => number(other).map(i128::from),
        })
    };
    let (Some(min), Some(max)) = (bound(0), bound(1)) else {
        return Ok(vec![whole(table)]);
    };
    let span = max - min + 1;
    let wanted = u64::from(hint.parallelism.max(1)).max(rows.div_ceil(partition_rows.max(1)));
    let count = i128::from(wanted).min(span).max(1);
    let estimate = rows / count as u64;
    Ok((0..count)
        .map(|i| {
            let lo = min + span * i / count;
            let hi = min + span * (i + 1) / count;
            Partition {
                id: format!("int:{key}:{lo}:{hi}"),
                description: format!("{} in [{lo}, {hi})", quote(key)),
                row_estimate: Some(estimate),
                byte_size: None,
                watermark: None,
            }
        })
        .collect())
}

/// The key range a partition id stands for (`None` for the whole table).
pub fn parse(id: &str, table: &TableInfo) -> Result<Option<KeyRange>> {
    if id == ALL {
        return Ok(None);
    }
    let bad = || {
        Error::config(format!(
            "`{id}` is not a partition of `{}`; ask `partitions` for them (ids are `all` or \
             `int:<column>:<lo>:<hi>`)",
            table.name
        ))
    };
    let rest = id.strip_prefix("int:").ok_or_else(bad)?;
    let mut parts = rest.rsplitn(3, ':');
    let (Some(hi), Some(lo), Some(column)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let (Ok(lo), Ok(hi)) = (lo.parse::<i128>(), hi.parse::<i128>()) else {
        return Err(bad());
    };
    let integer = table
        .column(column)
        .is_some_and(|c| c.field.data_type().is_integer());
    if !integer || lo >= hi {
        return Err(bad());
    }
    Ok(Some(KeyRange {
        column: column.to_string(),
        lo,
        hi,
    }))
}
