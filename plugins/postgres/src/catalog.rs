//! The containers of a database from its catalog: tables, partitioned tables, views,
//! materialised views and foreign tables the role may SELECT, each with its columns (domains
//! resolved to their base types, arrays to their elements) and its size from statistics.
//! System schemas, partitions of a partitioned table and TimescaleDB's chunks are left out:
//! they are read through their parent.

use std::sync::Arc;

use arrow_schema::{Schema, SchemaRef};
use qualityd_plugin_sdk::{ContainerKind, Error, Result};

use crate::query::{quote_ident, quote_text};
use crate::types::{ColumnPlan, PgType};
use crate::wire::Connection;

/// One relation and how to read its columns.
#[derive(Debug, Clone)]
pub struct Relation {
    /// Its oid.
    pub oid: u32,
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// `r` table, `p` partitioned table, `v` view, `m` materialised view, `f` foreign table.
    pub relkind: String,
    /// Rows, from the statistics (`reltuples`), when analysed.
    pub row_estimate: Option<u64>,
    /// Bytes on disk, tables and indexes.
    pub byte_size: Option<u64>,
    /// Its columns, in order.
    pub columns: Vec<ColumnPlan>,
}

impl Relation {
    /// `schema.name`: the container's name.
    pub fn container_name(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// `"schema"."name"`, for SQL.
    pub fn quoted(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }

    /// The contract's kind.
    pub fn kind(&self) -> ContainerKind {
        match self.relkind.as_str() {
            "v" | "m" => ContainerKind::View,
            _ => ContainerKind::Table,
        }
    }

    /// The Arrow schema of a read of every column.
    pub fn arrow_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|c| c.field.clone())
                .collect::<Vec<_>>(),
        ))
    }
}

const RELATIONS: &str = "
SELECT n.nspname, c.relname, c.relkind, c.oid::int8,
  CASE
    WHEN c.relkind = 'p' THEN (SELECT sum(greatest(x.reltuples, 0))::int8
      FROM pg_partition_tree(c.oid) t JOIN pg_class x ON x.oid = t.relid WHERE t.isleaf)
    WHEN c.relkind IN ('r', 'm', 'f') AND c.reltuples >= 0 THEN c.reltuples::int8
  END,
  CASE
    WHEN c.relkind = 'p' THEN (SELECT sum(pg_total_relation_size(t.relid))::int8
      FROM pg_partition_tree(c.oid) t)
    WHEN c.relkind IN ('r', 'm') THEN pg_total_relation_size(c.oid)
  END,
  a.attname, a.attnotnull, b.oid::int8,
  CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END,
  b.typtype, b.typname, el.oid::int8, el.typtype, el.typname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_type el ON el.oid = b.typelem AND b.typcategory = 'A'
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
  AND n.nspname NOT IN ('information_schema')
  AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname NOT LIKE '\\_timescaledb%'
  AND has_table_privilege(c.oid, 'SELECT')";

/// The relations in `schemas` (all non-system schemas when empty), or the one named `only`.
pub fn relations(
    connection: &mut Connection,
    schemas: &[String],
    only: Option<&str>,
) -> Result<Vec<Relation>> {
    let mut sql = RELATIONS.to_owned();
    if !schemas.is_empty() {
        let list: Option<Vec<String>> = schemas.iter().map(|s| quote_text(s)).collect();
        let list = list.ok_or_else(|| Error::config("a schema name holds a NUL character"))?;
        sql.push_str(&format!("\n  AND n.nspname IN ({})", list.join(", ")));
    }
    if let Some(name) = only {
        let name =
            quote_text(name).ok_or_else(|| Error::not_found(format!("no table named {name:?}")))?;
        sql.push_str(&format!("\n  AND n.nspname || '.' || c.relname = {name}"));
    }
    sql.push_str("\nORDER BY n.nspname, c.relname, a.attnum");
    let rows = connection.query(&sql)?;
    let mut relations: Vec<Relation> = Vec::new();
    for row in rows {
        let text = |i: usize| row.get(i).cloned().flatten();
        let number = |i: usize| text(i).and_then(|t| t.parse::<i64>().ok());
        let oid = number(3).unwrap_or(0) as u32;
        if relations.last().is_none_or(|r| r.oid != oid) {
            relations.push(Relation {
                oid,
                schema: text(0).unwrap_or_default(),
                name: text(1).unwrap_or_default(),
                relkind: text(2).unwrap_or_default(),
                row_estimate: number(4).map(|n| n.max(0) as u64),
                byte_size: number(5).map(|n| n.max(0) as u64),
                columns: Vec::new(),
            });
        }
        let Some(column) = text(6) else {
            continue; // a relation without columns
        };
        let pg = PgType {
            oid: number(8).unwrap_or(0) as u32,
            typmod: number(9).unwrap_or(-1) as i32,
            typtype: text(10).unwrap_or_default(),
            name: text(11).unwrap_or_default(),
            element: number(12).map(|oid| {
                (
                    oid as u32,
                    text(13).unwrap_or_default(),
                    text(14).unwrap_or_default(),
                )
            }),
        };
        let not_null = text(7).as_deref() == Some("t");
        let relation = relations.last_mut().expect("pushed above");
        relation
            .columns
            .push(ColumnPlan::new(&column, &pg, !not_null));
    }
    Ok(relations)
}

/// Fail with a not-found error naming the first of `schemas` (the `schemas` setting) that
/// the database does not have, and the schemas it has: a misspelt schema would otherwise
/// list no containers without a word.
pub fn check_schemas(
    connection: &mut Connection,
    database: &str,
    schemas: &[String],
) -> Result<()> {
    if schemas.is_empty() {
        return Ok(());
    }
    let rows = connection.query("SELECT nspname FROM pg_namespace ORDER BY nspname")?;
    let existing: Vec<String> = rows
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
        .collect();
    let Some(missing) = schemas.iter().find(|s| !existing.contains(s)) else {
        return Ok(());
    };
    let listed: Vec<&str> = existing
        .iter()
        .map(String::as_str)
        .filter(|name| !is_system_schema(name))
        .collect();
    let listed = match listed.is_empty() {
        true => "none but the system ones".to_owned(),
        false => listed.join(", "),
    };
    Err(Error::not_found(format!(
        "database `{database}` has no schema {missing:?} (setting `schemas`); it has: {listed}. Correct \
         the `schemas` setting (names are case-sensitive), or leave it out to list every \
         schema"
    )))
}

/// The schemas the catalog leaves out (as `RELATIONS` does).
fn is_system_schema(name: &str) -> bool {
    name == "information_schema" || name.starts_with("pg_") || name.starts_with("_timescaledb")
}

/// The one relation a container name stands for.
pub fn relation(connection: &mut Connection, name: &str) -> Result<Relation> {
    relations(connection, &[], Some(name))?
        .into_iter()
        .next()
        .ok_or_else(|| {
            Error::not_found(format!(
                "no table or view named {name} that this role may read; \
                 list the containers again (discover)"
            ))
        })
}
