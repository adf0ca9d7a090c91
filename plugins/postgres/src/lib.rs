//! The `postgres` connector: PostgreSQL (and TimescaleDB) over protocol v3 on a TCP connection the datastore's grants allow.
//!
//! Containers are the tables, views, materialised views and foreign tables the role may
//! read, named `schema.table`. A read is one binary `COPY (SELECT …) TO STDOUT` whose values
//! are decoded straight into Arrow builders; projection, row limits, filters and watermarks
//! are pushed into the SELECT, and large tables are split into key or page ranges that
//! several sessions read at once.

mod catalog;
mod copy;
mod decode;
mod partitions;
mod query;
mod server_error;
mod types;
mod wire;

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

use crate::catalog::Relation;
use crate::copy::{CopyReader, SharedConnection};
use crate::partitions::Slice;
use crate::wire::{ConnectOptions, Connection};

struct PostgresConnector;

qualityd_plugin_sdk::export_connector!(PostgresConnector);

impl Connector for PostgresConnector {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "postgres".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            kinds: vec!["postgresql".into(), "timescaledb".into(), "redshift".into()],
            settings: vec![
                spec(
                    "address",
                    SettingType::Address,
                    None,
                    "The server's host:port, e.g. db.internal:5432; the datastore's grants must list it.",
                ),
                spec(
                    "database",
                    SettingType::Text,
                    None,
                    "The database, e.g. analytics.",
                ),
                spec("user", SettingType::Text, None, "The role to log in as."),
                SettingSpec {
                    required: false,
                    secret: true,
                    ..spec(
                        "password",
                        SettingType::Text,
                        None,
                        "The role's password, for password, md5 or scram-sha-256 authentication; e.g. ${env:PGPASSWORD}.",
                    )
                },
                SettingSpec {
                    required: false,
                    ..spec(
                        "schemas",
                        SettingType::Text,
                        None,
                        "Comma-separated schemas to list, e.g. public,sales; all but the system ones when not given.",
                    )
                },
                spec(
                    "batch_rows",
                    SettingType::Integer,
                    Some("65536"),
                    "Rows per record batch sent to qualityd.",
                ),
                spec(
                    "partition_rows",
                    SettingType::Integer,
                    Some("1000000"),
                    "About how many rows one partition holds; tables with more are read in parallel ranges.",
                ),
                spec(
                    "allow_cleartext_password",
                    SettingType::Boolean,
                    Some("false"),
                    "Whether to send the password when the server asks for it in clear text \
                     (`password` in pg_hba.conf) over this unencrypted connection; refused by default.",
                ),
                spec(
                    "connect_timeout_secs",
                    SettingType::Integer,
                    Some("10"),
                    "How long to wait for the TCP connection before giving up.",
                ),
            ],
            capabilities: vec![Capability::Network],
        }
    }

    fn open(settings: Settings) -> Result<Box<dyn Session>> {
        let options = ConnectOptions {
            address: settings.text("address")?.to_owned(),
            database: settings.text("database")?.to_owned(),
            user: settings.text("user")?.to_owned(),
            password: settings.get("password").map(str::to_owned),
            allow_cleartext_password: settings.boolean("allow_cleartext_password")?,
            connect_timeout: Duration::from_secs(settings.positive("connect_timeout_secs")?),
        };
        let schemas = settings
            .get("schemas")
            .map(|list| {
                list.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Ok(Box::new(PostgresSession {
            options,
            schemas,
            batch_rows: settings.positive("batch_rows")? as usize,
            partition_rows: settings.positive("partition_rows")?,
            connection: Rc::new(RefCell::new(None)),
        }))
    }
}

/// A session: its settings and one connection, opened on first use and lent to reads.
struct PostgresSession {
    options: ConnectOptions,
    schemas: Vec<String>,
    batch_rows: usize,
    partition_rows: u64,
    connection: SharedConnection,
}

impl PostgresSession {
    /// The session's connection, opened if it has none (or lent it to a read still going).
    fn take_connection(&self) -> Result<Connection> {
        match self.connection.borrow_mut().take() {
            Some(connection) => Ok(connection),
            None => Connection::open(&self.options),
        }
    }

    /// Run `f` on the connection; it is kept only if `f` succeeds.
    fn with_connection<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut connection = self.take_connection()?;
        let result = f(&mut connection)?;
        *self.connection.borrow_mut() = Some(connection);
        Ok(result)
    }
}

impl Session for PostgresSession {
    fn check(&self) -> Result<()> {
        self.with_connection(|c| {
            c.query("SELECT 1")?;
            catalog::check_schemas(c, &self.options.database, &self.schemas)
        })
    }

    fn discover(&self) -> Result<Vec<ContainerInfo>> {
        let relations = self.with_connection(|c| {
            catalog::check_schemas(c, &self.options.database, &self.schemas)?;
            catalog::relations(c, &self.schemas, None)
        })?;
        Ok(relations
            .into_iter()
            .map(|relation| ContainerInfo {
                name: relation.container_name(),
                kind: relation.kind(),
                schema: relation.arrow_schema(),
                row_estimate: relation.row_estimate,
                byte_size: relation.byte_size,
                error: None,
            })
            .collect())
    }

    fn partitions(&self, container: &str, hint: &PartitionHint) -> Result<Vec<Partition>> {
        self.with_connection(|c| {
            let relation = catalog::relation(c, container)?;
            partitions::plan(c, &relation, hint, self.partition_rows)
        })
    }

    fn read(&self, request: ReadRequest) -> Result<Batches> {
        let mut connection = self.take_connection()?;
        // The host reads only containers it discovered: one missing now went during the read.
        let relation = match catalog::relation(&mut connection, &request.container) {
            Err(Error::NotFound(reason)) => {
                return Err(Error::data(format!(
                    "{reason}: it was listed, so it was dropped or renamed during the read"
                ))
                .path(request.container.clone())
                .into());
            }
            other => other?,
        };
        let select = Select::new(&relation, &request)?;
        let reader = CopyReader::start(
            connection,
            self.connection.clone(),
            &select.copy_sql(),
            relation.container_name(),
            select.schema.clone(),
            &select.kinds,
            self.batch_rows,
        )?;
        Ok(Batches {
            schema: select.schema,
            batches: Box::new(reader),
            filter_applied: select.filter_applied,
        })
    }
}

/// The SELECT one read runs.
struct Select {
    sql: String,
    schema: Arc<Schema>,
    kinds: Vec<types::ValueKind>,
    filter_applied: bool,
}

impl Select {
    fn new(relation: &Relation, request: &ReadRequest) -> Result<Select> {
        let columns: Vec<&types::ColumnPlan> = match &request.projection {
            None => relation.columns.iter().collect(),
            Some(names) => names
                .iter()
                .map(|name| {
                    relation
                        .columns
                        .iter()
                        .find(|c| c.field.name() == name)
                        .ok_or_else(|| {
                            Error::not_found(format!(
                                "{} has no column `{name}`",
                                relation.container_name()
                            ))
                        })
                })
                .collect::<Result<_>>()?,
        };
        let field_of = |name: &str| {
            relation
                .columns
                .iter()
                .find(|c| c.field.name() == name)
                .map(|c| &c.field)
        };
        let mut conditions: Vec<String> = Slice::parse(&request.partition.id)?
            .condition()
            .into_iter()
            .collect();
        let filter: Option<Vec<String>> = request
            .filter
            .iter()
            .map(|p| field_of(&p.field).and_then(|f| query::predicate(p, f)))
            .collect();
        let filter_applied = filter.is_some();
        conditions.extend(filter.unwrap_or_default());
        if let Some(watermark) = &request.watermark {
            let field = field_of(&watermark.field).ok_or_else(|| {
                Error::not_found(format!(
                    "the watermark field `{}` is not a column of {}",
                    watermark.field,
                    relation.container_name()
                ))
            })?;
            let value = query::literal(&watermark.value, field).ok_or_else(|| {
                Error::unsupported(format!(
                    "the watermark value {:?} cannot be compared in SQL",
                    watermark.value
                ))
            })?;
            conditions.push(format!(
                "{} > {value}",
                query::quote_ident(&watermark.field)
            ));
        }
        let list: Vec<&str> = columns.iter().map(|c| c.expression.as_str()).collect();
        let mut sql = format!("SELECT {} FROM {}", list.join(", "), relation.quoted());
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        if let Some(limit) = request.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        Ok(Select {
            sql,
            schema: Arc::new(Schema::new(
                columns.iter().map(|c| c.field.clone()).collect::<Vec<_>>(),
            )),
            kinds: columns.iter().map(|c| c.kind.clone()).collect(),
            filter_applied,
        })
    }

    fn copy_sql(&self) -> String {
        format!("COPY ({}) TO STDOUT (FORMAT binary)", self.sql)
    }
}
