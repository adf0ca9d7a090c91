//! What can go wrong talking to the server, and how each failure becomes the contract's
//! error: the protocol layer returns a [`Failure`]; the session turns it into an [`Error`]
//! that names the address, the user or the table, depending on what it was doing.

use std::io;

use qualityd_plugin_sdk::Error;

/// A failure of the protocol layer, before it is given its context.
#[derive(Debug)]
pub enum Failure {
    /// The socket failed or closed.
    Io(io::Error),
    /// The server answered with an error packet.
    Server(ServerError),
    /// The server sent something this connector does not understand.
    Protocol(String),
    /// Already a contract error (authentication outcomes, TLS demands, data errors).
    Error(Error),
}

/// An error packet's content.
#[derive(Debug, Clone)]
pub struct ServerError {
    pub code: u16,
    pub state: String,
    pub message: String,
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.state.is_empty() {
            true => write!(f, "server error {}: {}", self.code, self.message),
            false => write!(
                f,
                "server error {} ({}): {}",
                self.code, self.state, self.message
            ),
        }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Error(e)
    }
}

/// Server errors that mean the connection or the statement was cut off: too many
/// connections, the server shutting down, the connection or query killed, network errors,
/// MySQL 8's disconnect for inactivity (4031).
const LOST: &[u16] = &[
    1040, 1053, 1077, 1078, 1079, 1080, 1152, 1153, 1154, 1156, 1317, 1927, 2006, 2013, 4031,
];
/// Server errors that refuse the user: access denied to the server (also from a host it
/// may not connect from), a database or a table; an expired password.
const DENIED: &[u16] = &[1044, 1045, 1130, 1142, 1143, 1227, 1698, 1862];
/// The table does not exist.
pub const NO_SUCH_TABLE: u16 = 1146;
/// The database does not exist.
pub const NO_SUCH_DATABASE: u16 = 1049;
/// MySQL's `require_secure_transport` refusal.
const NEEDS_TLS: u16 = 3159;

/// Whether the server refuses a connection without TLS (MariaDB says so only in words).
fn needs_tls(e: &ServerError) -> bool {
    let message = e.message.to_ascii_lowercase();
    // MariaDB: "Connections using insecure transport are prohibited ...".
    e.code == NEEDS_TLS || message.contains("secure transport")
}

/// Whether an I/O error means the connection is gone (rather than a local refusal).
fn lost(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        UnexpectedEof
            | ConnectionReset
            | ConnectionAborted
            | BrokenPipe
            | NotConnected
            | TimedOut
            | WouldBlock
    )
}

/// What the session was doing when it failed, for the message.
pub struct Context<'a> {
    pub address: &'a str,
    pub user: &'a str,
    pub database: &'a str,
}

impl Context<'_> {
    /// A failure while connecting, authenticating or reading the catalog.
    pub fn session(&self, failure: Failure) -> Error {
        let address = self.address;
        match failure {
            Failure::Error(e) => e,
            Failure::Io(e) => Error::connection(format!(
                "the connection to {address} was lost ({e}); check that the server is up and retry"
            )),
            Failure::Protocol(what) => Error::internal(format!(
                "the server at {address} sent something unexpected: {what}"
            )),
            Failure::Server(e) => self.server(e),
        }
    }

    fn server(&self, e: ServerError) -> Error {
        let (address, user) = (self.address, self.user);
        if needs_tls(&e) {
            tls_unsupported(address, &e.to_string())
        } else if DENIED.contains(&e.code) {
            Error::auth(format!(
                "the server at {address} refused user `{user}` ({e}); check the `user` and \
                 `password` settings and the user's grants"
            ))
        } else if e.code == NO_SUCH_DATABASE {
            self.no_such_database(&e, None)
        } else if LOST.contains(&e.code) {
            Error::connection(format!(
                "the server at {address} ended the connection ({e}); retry"
            ))
        } else {
            Error::internal(format!("the server at {address} failed a query: {e}"))
        }
    }

    /// The server has no database of the `database` setting's name: say which databases
    /// the user may read, when they could be listed (`databases`, system ones left out).
    pub fn no_such_database(&self, e: &ServerError, databases: Option<Vec<String>>) -> Error {
        let (address, user, database) = (self.address, self.user, self.database);
        let known = match databases {
            Some(names) if names.is_empty() => {
                format!("user `{user}` may read none but the system databases")
            }
            Some(names) => format!("user `{user}` may read: {}", names.join(", ")),
            None => "`SHOW DATABASES` lists those it has".to_owned(),
        };
        Error::config(format!(
            "the server at {address} has no database `{database}` ({e}); {known}. Correct \
             the `database` setting (names are case-sensitive on most servers)"
        ))
    }

    /// A failure while reading `table`: lost connections say to retry, a dropped table is
    /// a data error on that table.
    pub fn read(&self, table: &str, failure: Failure) -> Error {
        let address = self.address;
        match failure {
            Failure::Io(e) if lost(&e) => Error::connection(format!(
                "the connection to {address} was lost during the read of `{table}` ({e}); \
                 retry the read"
            )),
            Failure::Server(e) if e.code == NO_SUCH_TABLE => Error::data(format!(
                "table `{table}` no longer exists (dropped during the read?): {e}"
            ))
            .path(table)
            .into(),
            Failure::Server(e) if LOST.contains(&e.code) => Error::connection(format!(
                "the connection to {address} was lost during the read of `{table}` ({e}); \
                 retry the read"
            )),
            Failure::Server(e) if DENIED.contains(&e.code) => self.server(e),
            // Our own SQL failing to parse or bind is a bug here, not in the data.
            Failure::Server(e) if matches!(e.code, 1064 | 1210 | 1295) => {
                Error::internal(format!("reading `{table}` from {address}: {e}"))
            }
            Failure::Server(e) => Error::data(format!("the server failed the read: {e}"))
                .path(table)
                .into(),
            other => self.session(other),
        }
    }
}

/// The error for a server that demands TLS.
pub fn tls_unsupported(address: &str, why: &str) -> Error {
    Error::unsupported(format!(
        "the server at {address} requires TLS ({why}), which this connector does not support \
         yet; allow this user to connect without TLS (`require_secure_transport = OFF` on \
         the server, and no `REQUIRE SSL` on the user) or connect through a TLS-terminating proxy"
    ))
}
