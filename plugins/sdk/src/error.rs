//! Constructors for the contract's error variant, so connectors say what failed and where.

use std::time::Duration;

use crate::{DataError, Error, Location};

/// The result type of every connector call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A setting is missing, unknown or malformed.
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config(message.into())
    }
    /// The datastore refused the credentials.
    pub fn auth(message: impl Into<String>) -> Self {
        Error::Auth(message.into())
    }
    /// The datastore could not be reached.
    pub fn connection(message: impl Into<String>) -> Self {
        Error::Connection(message.into())
    }
    /// A TCP connect to `address` (`host:port`) that failed with `e`, worded by what the
    /// failure means for the user: nothing listening, not granted by the sandbox, no answer
    /// within `timeout`, or unreachable. Under WASI a refused connect may show only at the
    /// first read or write; connectors check the socket's error after connecting, so it
    /// reads as refused here rather than as a lost connection.
    pub fn connect_failed(address: &str, e: &std::io::Error, timeout: Duration) -> Self {
        use std::io::ErrorKind::*;
        Error::Connection(match e.kind() {
            ConnectionRefused => format!(
                "the connection to {address} was refused: nothing listens there; check that \
                 the server is running and that the `address` setting has the right host and \
                 port"
            ),
            PermissionDenied => format!(
                "the sandbox refused the connection to {address} (permission denied): it is \
                 not granted to this datastore; add \"{address}\" to the datastore's \
                 grants.hosts"
            ),
            TimedOut | WouldBlock => format!(
                "no answer from {address} within {} s (connect_timeout_secs); check the \
                 `address` setting, that the server is up and that no firewall drops the \
                 connection",
                timeout.as_secs()
            ),
            HostUnreachable | NetworkUnreachable | NetworkDown => format!(
                "{address} cannot be reached ({e}); check the host in the `address` setting \
                 and the network"
            ),
            _ => format!(
                "cannot connect to {address} ({e}); check the `address` setting and that the \
                 server is up"
            ),
        })
    }
    /// Something asked for does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Error::NotFound(message.into())
    }
    /// The request needs something the connector does not support.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Error::Unsupported(message.into())
    }
    /// A bug or unexpected state in the connector.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal(message.into())
    }
    /// The data is malformed; add where with the builder's methods.
    pub fn data(message: impl Into<String>) -> DataErrorBuilder {
        DataErrorBuilder(DataError {
            message: message.into(),
            location: Location {
                path: None,
                line: None,
                row: None,
                field: None,
                detail: None,
            },
        })
    }
}

/// Builds an [`Error::Data`] with its location; converts into [`Error`].
#[derive(Debug, Clone)]
pub struct DataErrorBuilder(DataError);

impl DataErrorBuilder {
    /// The file or table.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.0.location.path = Some(path.into());
        self
    }
    /// The 1-based line in a text file.
    pub fn line(mut self, line: u64) -> Self {
        self.0.location.line = Some(line);
        self
    }
    /// The 0-based record number.
    pub fn row(mut self, row: u64) -> Self {
        self.0.location.row = Some(row);
        self
    }
    /// The field name.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.0.location.field = Some(field.into());
        self
    }
    /// Anything else that locates it (byte offset, row group, sheet).
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.0.location.detail = Some(detail.into());
        self
    }
}

impl From<DataErrorBuilder> for Error {
    fn from(builder: DataErrorBuilder) -> Self {
        Error::Data(builder.0)
    }
}
