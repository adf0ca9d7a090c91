//! The database's tables and views from information_schema: names, kinds, columns with
//! their Arrow types, row estimates, sizes and primary keys.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_schema::{Schema, SchemaRef};
use mysql_common::value::Value;
use qualityd_plugin_sdk::ContainerKind;

use crate::connection::{Conn, Param};
use crate::errors::Failure;
use crate::types::{self, ColumnInfo, ColumnRow};

/// A table or view as the catalog describes it.
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub name: String,
    pub kind: ContainerKind,
    pub columns: Vec<ColumnInfo>,
    pub row_estimate: Option<u64>,
    pub byte_size: Option<u64>,
    /// The primary key's columns (empty for views and tables without one).
    pub primary_key: Vec<String>,
}

impl TableInfo {
    /// The Arrow schema of the whole table.
    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|c| c.field.clone())
                .collect::<Vec<_>>(),
        ))
    }

    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }
}

const TABLES: &str = "SELECT TABLE_NAME, TABLE_TYPE, TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH \
     FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? \
     AND TABLE_TYPE IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED')";
const COLUMNS: &str = "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, \
     NUMERIC_PRECISION, NUMERIC_SCALE, COLUMN_KEY \
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?";

/// The tables and views of `database` (only `only` when given), ordered by name.
pub fn tables(
    conn: &mut Conn,
    database: &str,
    only: Option<&str>,
) -> Result<Vec<TableInfo>, Failure> {
    let mut params = vec![Param::Bytes(database.as_bytes().to_vec())];
    let filter = match only {
        Some(name) => {
            params.push(Param::Bytes(name.as_bytes().to_vec()));
            " AND TABLE_NAME = ?"
        }
        None => "",
    };
    let mut tables = BTreeMap::new();
    for row in conn.rows(&format!("{TABLES}{filter}"), &params)? {
        let name = text(&row[0]);
        // information_schema compares names without regard to case; we do not.
        if only.is_some_and(|only| only != name) {
            continue;
        }
        let kind = match text(&row[1]).as_str() {
            "VIEW" => ContainerKind::View,
            _ => ContainerKind::Table,
        };
        let byte_size = match (number(&row[3]), number(&row[4])) {
            (Some(data), Some(index)) => Some(data + index),
            (data, index) => data.or(index),
        };
        tables.insert(
            name.clone(),
            TableInfo {
                name,
                kind,
                columns: Vec::new(),
                row_estimate: if kind == ContainerKind::View {
                    None
                } else {
                    number(&row[2])
                },
                byte_size,
                primary_key: Vec::new(),
            },
        );
    }
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let ordered = format!("{COLUMNS}{filter} ORDER BY TABLE_NAME, ORDINAL_POSITION");
    for row in conn.rows(&ordered, &params)? {
        let Some(table) = tables.get_mut(&text(&row[0])) else {
            continue;
        };
        let (name, data_type, column_type) = (text(&row[1]), text(&row[2]), text(&row[3]));
        let info = types::column(&ColumnRow {
            name: &name,
            data_type: &data_type,
            column_type: &column_type,
            nullable: text(&row[4]) == "YES",
            precision: number(&row[5]),
            scale: number(&row[6]),
        });
        if text(&row[7]) == "PRI" {
            table.primary_key.push(name);
        }
        table.columns.push(info);
    }
    Ok(tables.into_values().collect())
}

/// A catalog value as text.
pub fn text(value: &Value) -> String {
    match value {
        Value::Bytes(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Value::Int(n) => n.to_string(),
        Value::UInt(n) => n.to_string(),
        Value::NULL => String::new(),
        other => format!("{other:?}"),
    }
}

/// A catalog value as a count, if it is one.
pub fn number(value: &Value) -> Option<u64> {
    match value {
        Value::Int(n) => u64::try_from(*n).ok(),
        Value::UInt(n) => Some(*n),
        Value::Bytes(bytes) => std::str::from_utf8(bytes).ok()?.trim().parse().ok(),
        _ => None,
    }
}
