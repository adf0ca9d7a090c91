//! The `mysql` connector: the tables and views of one MySQL or MariaDB database, read over
//! the client/server protocol (prepared statements, binary rows) into Arrow.
//!
//! This file holds the connector's description and settings, and the session: one
//! connection, opened on first use and kept between calls; a read borrows it for the
//! length of its stream. The parts: `connection` (connect, authenticate, commands),
//! `catalog` and `types` (discover), `query` (SQL with parameters), `rows` (binary rows to
//! Arrow), `partitions`, `read` (the batch stream).

mod auth;
mod catalog;
mod civil;
mod connection;
mod errors;
mod packets;
mod partitions;
mod query;
mod read;
mod rows;
mod types;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use arrow_schema::Schema;
use qualityd_plugin_sdk::setting_spec as spec;
use qualityd_plugin_sdk::{
    Batches, Capability, Connector, ContainerInfo, Error, Partition, PartitionHint, PluginInfo,
    ReadRequest, Result, Session, SettingSpec, SettingType, Settings,
};

use crate::catalog::TableInfo;
use crate::connection::{Conn, ConnectOptions};
use crate::errors::Failure;
use crate::query::Selection;
use crate::read::{RowStream, Slot};
use crate::rows::RowDecoder;

struct MysqlConnector;

qualityd_plugin_sdk::export_connector!(MysqlConnector);

impl Connector for MysqlConnector {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "mysql".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kinds: vec!["mysql".into(), "mariadb".into()],
            settings: vec![
                spec(
                    "address",
                    SettingType::Address,
                    None,
                    "The server's host:port, e.g. 127.0.0.1:3306.",
                ),
                spec(
                    "database",
                    SettingType::Text,
                    None,
                    "The database (schema) whose tables and views are read, e.g. shop.",
                ),
                spec("user", SettingType::Text, None, "The user to log in as."),
                SettingSpec {
                    required: false,
                    secret: true,
                    ..spec(
                        "password",
                        SettingType::Text,
                        None,
                        "The user's password; empty when not given. Write it as a \
                         ${env:NAME} or ${file:PATH} reference.",
                    )
                },
                spec(
                    "batch_rows",
                    SettingType::Integer,
                    Some("65536"),
                    "How many rows go into one Arrow record batch.",
                ),
                spec(
                    "partition_rows",
                    SettingType::Integer,
                    Some("1000000"),
                    "Tables with more rows than this and a single-column integer primary key \
                     are split into key ranges of about this many rows, read in parallel.",
                ),
                spec(
                    "connect_timeout_secs",
                    SettingType::Integer,
                    Some("10"),
                    "How long to wait for the server to accept the connection, in seconds.",
                ),
            ],
            capabilities: vec![Capability::Network],
        }
    }

    fn open(settings: Settings) -> Result<Box<dyn Session>> {
        let address = settings.text("address")?.trim().to_string();
        if !address.contains(':') {
            return Err(Error::config(format!(
                "setting `address` must be host:port, e.g. 127.0.0.1:3306; got `{address}`"
            )));
        }
        Ok(Box::new(MysqlSession {
            options: ConnectOptions {
                address,
                user: settings.text("user")?.to_string(),
                password: settings.get("password").unwrap_or_default().to_string(),
                database: settings.text("database")?.to_string(),
                connect_timeout: Duration::from_secs(settings.positive("connect_timeout_secs")?),
            },
            batch_rows: settings.positive("batch_rows")? as usize,
            partition_rows: settings.positive("partition_rows")?,
            slot: Rc::new(RefCell::new(None)),
        }))
    }
}

struct MysqlSession {
    options: ConnectOptions,
    batch_rows: usize,
    partition_rows: u64,
    /// The idle connection, if one is open.
    slot: Slot,
}

impl MysqlSession {
    /// Run `work` on the session's connection (opened if there is none) and keep the
    /// connection when it succeeds. A kept connection that turns out to be closed (the
    /// server restarted in between) is replaced once. On failure the connection is dropped.
    fn with_conn<T>(
        &self,
        mut work: impl FnMut(&mut Conn) -> Result<T, Failure>,
        error: impl Fn(Failure) -> Error,
    ) -> Result<(T, Conn)> {
        let kept = self.slot.borrow_mut().take();
        let reused = kept.is_some();
        let mut conn = match kept {
            Some(conn) => conn,
            None => Conn::open(&self.options)?,
        };
        match work(&mut conn) {
            Ok(value) => Ok((value, conn)),
            Err(Failure::Io(_)) if reused => {
                drop(conn);
                let mut conn = Conn::open(&self.options)?;
                work(&mut conn).map(|v| (v, conn)).map_err(error)
            }
            Err(failure) => Err(error(failure)),
        }
    }

    /// Like [`MysqlSession::with_conn`], keeping the connection in the session.
    fn call<T>(&self, work: impl FnMut(&mut Conn) -> Result<T, Failure>) -> Result<T> {
        let context = self.options.context();
        let (value, conn) = self.with_conn(work, |f| context.session(f))?;
        self.slot.borrow_mut().replace(conn);
        Ok(value)
    }

    /// One table's catalog entry, or not-found.
    fn table(&self, conn: &mut Conn, name: &str) -> Result<TableInfo, Failure> {
        let database = &self.options.database;
        catalog::tables(conn, database, Some(name))?
            .into_iter()
            .next()
            .ok_or_else(|| {
                Error::not_found(format!(
                    "database `{database}` has no table or view `{name}`; run discover to \
                     list them"
                ))
                .into()
            })
    }

    /// The table a read asks for: the host reads only discovered containers, so one that
    /// is gone was dropped (or renamed) since, which is a data error on that table.
    fn table_to_read(&self, conn: &mut Conn, name: &str) -> Result<TableInfo, Failure> {
        self.table(conn, name).map_err(|failure| match failure {
            Failure::Error(Error::NotFound(_)) => Failure::Error(
                Error::data(format!(
                    "table `{name}` no longer exists in database `{}`: it was dropped or \
                     renamed since discover",
                    self.options.database
                ))
                .path(name)
                .into(),
            ),
            other => other,
        })
    }
}

impl Session for MysqlSession {
    fn check(&self) -> Result<()> {
        self.call(|conn| conn.rows("SELECT 1", &[]).map(drop))
    }

    fn discover(&self) -> Result<Vec<ContainerInfo>> {
        let tables = self.call(|conn| catalog::tables(conn, &self.options.database, None))?;
        Ok(tables
            .into_iter()
            .map(|table| {
                if table.columns.is_empty() {
                    let error = Error::data(format!(
                        "`{}` has no columns the server can describe (a view over a dropped \
                         table or a column it may not read?)",
                        table.name
                    ))
                    .path(table.name.as_str())
                    .into();
                    return ContainerInfo::failed(table.name, table.kind, table.byte_size, error);
                }
                ContainerInfo {
                    schema: table.schema(),
                    name: table.name,
                    kind: table.kind,
                    row_estimate: table.row_estimate,
                    byte_size: table.byte_size,
                    error: None,
                }
            })
            .collect())
    }

    fn partitions(&self, container: &str, hint: &PartitionHint) -> Result<Vec<Partition>> {
        self.call(|conn| {
            let table = self.table(conn, container)?;
            partitions::plan(
                conn,
                &self.options.database,
                &table,
                hint,
                self.partition_rows,
            )
        })
    }

    fn read(&self, request: ReadRequest) -> Result<Batches> {
        let context = self.options.context();
        let name = request.container.as_str();
        let prepared = self.with_conn(
            |conn| {
                let table = self.table_to_read(conn, name)?;
                let columns = match &request.projection {
                    None => table.columns.iter().collect::<Vec<_>>(),
                    Some(fields) => fields
                        .iter()
                        .map(|field| {
                            table.column(field).ok_or_else(|| {
                                let names: Vec<&str> =
                                    table.columns.iter().map(|c| c.name.as_str()).collect();
                                Failure::Error(Error::not_found(format!(
                                    "`{name}` has no field `{field}`; its fields are: {}",
                                    names.join(", ")
                                )))
                            })
                        })
                        .collect::<Result<_, _>>()?,
                };
                let range = partitions::parse(&request.partition.id, &table)?;
                let query = query::select(&Selection {
                    database: &self.options.database,
                    table: &table,
                    columns: &columns,
                    range: range.as_ref(),
                    filter: &request.filter,
                    watermark: request.watermark.as_ref(),
                    limit: request.limit,
                })?;
                let schema = Arc::new(Schema::new(
                    columns.iter().map(|c| c.field.clone()).collect::<Vec<_>>(),
                ));
                let statement = conn.prepare(&query.sql)?;
                let wire = conn.execute(&statement, &query.params)?;
                let decoder = RowDecoder::new(schema.clone(), &wire, self.batch_rows, name)?;
                Ok((schema, statement, decoder, query.filter_applied))
            },
            |failure| context.read(name, failure),
        )?;
        let ((schema, statement, decoder, filter_applied), conn) = prepared;
        let stream = RowStream::new(
            conn,
            self.slot.clone(),
            statement,
            decoder,
            self.batch_rows,
            self.options.clone(),
            name.to_string(),
        );
        Ok(Batches {
            schema,
            batches: Box::new(stream),
            filter_applied,
        })
    }
}
