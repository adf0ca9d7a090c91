//! Constructors for the contract's error variant, so connectors say what failed and where.

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
