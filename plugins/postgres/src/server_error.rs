//! The server's ErrorResponse, and which of the contract's error classes each SQLSTATE is:
//! a wrong password is `auth`, a shut-down server `connection`, a missing table `not-found`
//! before a read and `data` during one.

use qualityd_plugin_sdk::Error;

use crate::wire::ConnectOptions;

/// The fields of an ErrorResponse that say what happened.
#[derive(Debug, Default, Clone)]
pub struct ServerError {
    /// The SQLSTATE code (`28P01`).
    pub code: String,
    /// The primary message.
    pub message: String,
    /// The optional detail and hint.
    pub detail: Option<String>,
    hint: Option<String>,
}

impl ServerError {
    /// Parse an ErrorResponse (or NoticeResponse) body.
    pub fn parse(body: &[u8]) -> ServerError {
        let mut error = ServerError::default();
        for field in body.split(|b| *b == 0) {
            let Some((&kind, text)) = field.split_first() else {
                continue;
            };
            let text = String::from_utf8_lossy(text).into_owned();
            match kind {
                b'C' => error.code = text,
                b'M' => error.message = text,
                b'D' => error.detail = Some(text),
                b'H' => error.hint = Some(text),
                _ => {}
            }
        }
        error
    }

    /// The server's words: message, detail and hint.
    pub fn text(&self) -> String {
        let mut text = format!("{} (SQLSTATE {})", self.message, self.code);
        for extra in [&self.detail, &self.hint].into_iter().flatten() {
            text.push_str("; ");
            text.push_str(extra);
        }
        text
    }

    /// Whether the server ended the session (shutdown, restart, terminated backend).
    pub fn ends_connection(&self) -> bool {
        self.code.starts_with("57P") || self.code.starts_with("08")
    }

    /// An error while connecting and authenticating.
    pub fn at_start_up(&self, options: &ConnectOptions) -> Error {
        let who = format!("user `{}` at {}", options.user, options.address);
        match self.code.as_str() {
            "28P01" => Error::auth(format!(
                "the server refused the password of {who}: {}; check the `password` setting",
                self.text()
            )),
            "28000" if self.message.contains("SSL off") => Error::unsupported(format!(
                "the server at {} accepts only TLS connections from here, and this plugin does \
                 not speak TLS yet: {}; allow a non-TLS (`host`) connection in pg_hba.conf",
                options.address,
                self.text()
            )),
            "28000" => Error::auth(format!(
                "the server does not let {who} in: {}; check pg_hba.conf and the role's \
                 login rights",
                self.text()
            )),
            "3D000" => Error::config(format!(
                "database `{}` does not exist at {}: {}; check the `database` setting",
                options.database,
                options.address,
                self.text()
            )),
            code if code.starts_with("57P") || code.starts_with("53") => {
                Error::connection(format!(
                    "the server at {} cannot take the connection now: {}; retry later",
                    options.address,
                    self.text()
                ))
            }
            _ => Error::connection(format!(
                "the server at {} refused the connection of {who}: {}",
                options.address,
                self.text()
            )),
        }
    }

    /// An error answering `sql`, outside a read.
    pub fn into_error(self, sql: &str) -> Error {
        if self.ends_connection() {
            return Error::connection(format!(
                "the server ended the connection: {}; retry when it is back",
                self.text()
            ));
        }
        match self.code.as_str() {
            "42P01" | "3F000" => Error::not_found(self.text()),
            "42501" => Error::auth(format!(
                "{}; grant the role SELECT on it, or leave it out",
                self.text()
            )),
            _ => Error::internal(format!("the query `{sql}` failed: {}", self.text())),
        }
    }

    /// An error in the middle of reading `table`.
    pub fn during_read(self, table: &str, rows_read: u64) -> Error {
        if self.ends_connection() {
            return Error::connection(format!(
                "the connection was lost while reading {table}, after {rows_read} rows: {}; \
                 retry when the server is back",
                self.text()
            ));
        }
        match self.code.as_str() {
            "42P01" | "3F000" | "42703" => Error::data(format!(
                "{table} changed while it was being read: {}",
                self.text()
            ))
            .path(table)
            .into(),
            "42501" => Error::auth(format!(
                "reading {table}: {}; grant the role SELECT on it",
                self.text()
            )),
            // Data exceptions: a value the server cannot produce (class 22).
            code if code.starts_with("22") => {
                Error::data(self.text()).path(table).row(rows_read).into()
            }
            _ => Error::internal(format!("reading {table} failed: {}", self.text())),
        }
    }
}
