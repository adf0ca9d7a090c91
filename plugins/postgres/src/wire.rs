//! One connection to a PostgreSQL server over protocol v3: connect, start up, authenticate
//! (trust, cleartext, MD5, SCRAM-SHA-256), run simple queries with text results, and hand out
//! backend messages for the COPY reader. Messages are framed out of one large read buffer;
//! the encoders and the password hashing come from `postgres-protocol`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use bytes::BytesMut;
use postgres_protocol::authentication::{md5_hash, sasl};
use postgres_protocol::message::frontend;
use qualityd_plugin_sdk::{Error, Result};

use crate::server_error::ServerError;

/// Where and as whom to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `host:port`.
    pub address: String,
    /// The database.
    pub database: String,
    /// The role.
    pub user: String,
    /// The password, if the server asks for one.
    pub password: Option<String>,
    /// Whether the password may be sent as it is when the server asks for it in clear
    /// (`password` authentication) over this unencrypted connection.
    pub allow_cleartext_password: bool,
    /// How long to wait for the TCP connection.
    pub connect_timeout: Duration,
}

/// A backend message: its type byte and body, borrowed from the read buffer.
pub struct Message<'a> {
    /// The message type (`D` data row, `d` copy data, `E` error, ...).
    pub tag: u8,
    /// The body, after the length.
    pub body: &'a [u8],
}

/// An authenticated connection, ready for queries.
pub struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
    start: usize,
    end: usize,
    out: BytesMut,
    /// The address it is connected to, for errors.
    pub address: String,
}

const READ_BUFFER: usize = 1 << 20;

impl Connection {
    /// Connect, start up and authenticate.
    pub fn open(options: &ConnectOptions) -> Result<Connection> {
        let stream = connect(&options.address, options.connect_timeout)?;
        let mut connection = Connection {
            stream,
            buffer: vec![0; READ_BUFFER],
            start: 0,
            end: 0,
            out: BytesMut::with_capacity(1024),
            address: options.address.clone(),
        };
        connection.start_up(options)?;
        Ok(connection)
    }

    fn start_up(&mut self, options: &ConnectOptions) -> Result<()> {
        let parameters = [
            ("user", options.user.as_str()),
            ("database", options.database.as_str()),
            ("application_name", "qualityd"),
            ("client_encoding", "UTF8"),
            ("TimeZone", "UTC"),
            ("DateStyle", "ISO"),
            ("extra_float_digits", "3"),
        ];
        frontend::startup_message(parameters, &mut self.out).map_err(|e| self.lost(e))?;
        self.flush()?;
        let mut scram: Option<sasl::ScramSha256> = None;
        loop {
            let message = self.read_message()?;
            match message.tag {
                b'R' => {
                    let body = message.body.to_vec();
                    self.authenticate(options, &body, &mut scram)?;
                }
                b'E' => {
                    let error = ServerError::parse(message.body);
                    return Err(error.at_start_up(options));
                }
                b'Z' => return Ok(()),
                // Parameter status, backend key data, notices.
                _ => {}
            }
        }
    }

    fn authenticate(
        &mut self,
        options: &ConnectOptions,
        body: &[u8],
        scram: &mut Option<sasl::ScramSha256>,
    ) -> Result<()> {
        let code = read_i32(body, 0).ok_or_else(|| self.garbled("authentication request"))?;
        let password = || {
            options.password.as_deref().ok_or_else(|| {
                Error::auth(format!(
                    "the server at {} asks a password of user `{}`, and none is set: \
                     give the `password` setting",
                    options.address, options.user
                ))
            })
        };
        match code {
            0 => return Ok(()),
            3 if !options.allow_cleartext_password => {
                return Err(Error::auth(format!(
                    "the server at {} asks for the password of user `{}` in clear text, over \
                     a connection that is not encrypted; it was not sent. Give the role a \
                     scram-sha-256 password and a `scram-sha-256` line in pg_hba.conf, or set \
                     `allow_cleartext_password = true` on this datastore if the network \
                     between them is trusted",
                    options.address, options.user
                )));
            }
            3 => {
                frontend::password_message(password()?.as_bytes(), &mut self.out)
                    .map_err(|e| self.lost(e))?;
            }
            5 => {
                let salt: [u8; 4] = body
                    .get(4..8)
                    .and_then(|s| s.try_into().ok())
                    .ok_or_else(|| self.garbled("MD5 salt"))?;
                let hash = md5_hash(options.user.as_bytes(), password()?.as_bytes(), salt);
                frontend::password_message(hash.as_bytes(), &mut self.out)
                    .map_err(|e| self.lost(e))?;
            }
            10 => {
                let mechanisms = &body[4..];
                let offers = |name: &[u8]| mechanisms.split(|b| *b == 0).any(|m| m == name);
                if !offers(b"SCRAM-SHA-256") {
                    return Err(Error::unsupported(format!(
                        "the server at {} offers only SASL mechanisms [{}]; this plugin speaks \
                         SCRAM-SHA-256 (channel binding needs TLS, which it does not support yet)",
                        self.address,
                        String::from_utf8_lossy(mechanisms)
                            .trim_matches('\0')
                            .replace('\0', ", ")
                    )));
                }
                let state = sasl::ScramSha256::new(
                    password()?.as_bytes(),
                    sasl::ChannelBinding::unsupported(),
                );
                frontend::sasl_initial_response("SCRAM-SHA-256", state.message(), &mut self.out)
                    .map_err(|e| self.lost(e))?;
                *scram = Some(state);
            }
            11 | 12 => {
                let state = scram
                    .as_mut()
                    .ok_or_else(|| self.garbled("SASL message before SASL started"))?;
                let data = &body[4..];
                let step = if code == 11 {
                    state.update(data)
                } else {
                    state.finish(data)
                };
                step.map_err(|e| {
                    Error::auth(format!(
                        "SCRAM-SHA-256 with the server at {} failed: {e}",
                        self.address
                    ))
                })?;
                if code == 11 {
                    frontend::sasl_response(state.message(), &mut self.out)
                        .map_err(|e| self.lost(e))?;
                } else {
                    return Ok(());
                }
            }
            other => {
                return Err(Error::unsupported(format!(
                    "the server at {} asks for authentication method {other} (GSSAPI, SSPI or \
                     Kerberos); this plugin speaks trust, password, md5 and scram-sha-256",
                    self.address
                )));
            }
        }
        self.flush()
    }

    /// Run one simple query and return its rows as text (`None` for NULL).
    pub fn query(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        self.send_query(sql)?;
        let mut rows = Vec::new();
        let mut error = None;
        loop {
            let message = self.read_message()?;
            match message.tag {
                b'D' => rows.push(parse_data_row(message.body).ok_or_else(|| {
                    Error::connection(format!(
                        "the server at {} sent a malformed data row",
                        self.address
                    ))
                })?),
                b'E' => error = Some(ServerError::parse(message.body)),
                b'Z' => break,
                _ => {}
            }
        }
        match error {
            Some(error) => Err(error.into_error(sql)),
            None => Ok(rows),
        }
    }

    /// Send a simple query; the caller reads its messages.
    pub fn send_query(&mut self, sql: &str) -> Result<()> {
        frontend::query(sql, &mut self.out).map_err(|e| self.lost(e))?;
        self.flush()
    }

    /// The next backend message.
    pub fn read_message(&mut self) -> Result<Message<'_>> {
        self.fill(5)?;
        let length = read_i32(&self.buffer[self.start..], 1).unwrap_or(0);
        if length < 4 {
            return Err(self.garbled("a message length"));
        }
        let total = 1 + length as usize;
        self.fill(total)?;
        let tag = self.buffer[self.start];
        let body = self.start + 5..self.start + total;
        self.start += total;
        Ok(Message {
            tag,
            body: &self.buffer[body],
        })
    }

    /// Make sure `wanted` bytes are buffered from `start`.
    fn fill(&mut self, wanted: usize) -> Result<()> {
        if self.end - self.start >= wanted {
            return Ok(());
        }
        if self.start + wanted > self.buffer.len() {
            self.buffer.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if wanted > self.buffer.len() {
                self.buffer.resize(wanted.next_power_of_two(), 0);
            }
        }
        while self.end - self.start < wanted {
            let read = self.stream.read(&mut self.buffer[self.end..]);
            match read {
                Ok(0) => {
                    return Err(Error::connection(format!(
                        "the server at {} closed the connection",
                        self.address
                    )));
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.lost(e)),
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let out = self.out.split();
        self.stream.write_all(&out).map_err(|e| self.lost(e))
    }

    fn lost(&self, e: std::io::Error) -> Error {
        Error::connection(format!(
            "the connection to {} broke: {e}; check that the server is up, then retry",
            self.address
        ))
    }

    fn garbled(&self, what: &str) -> Error {
        Error::connection(format!(
            "the server at {} sent a malformed {what}; is it a PostgreSQL server?",
            self.address
        ))
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        frontend::terminate(&mut self.out);
        let out = self.out.split();
        let _ = self.stream.write_all(&out);
    }
}

fn connect(address: &str, timeout: Duration) -> Result<TcpStream> {
    let addresses: Vec<SocketAddr> = address
        .to_socket_addrs()
        .map_err(|e| {
            Error::connection(format!(
                "cannot resolve `{address}` ({e}); check the `address` setting (host:port)"
            ))
        })?
        .collect();
    let mut last = None;
    for socket in addresses {
        let connected = match TcpStream::connect_timeout(&socket, timeout) {
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => TcpStream::connect(socket),
            other => other,
        };
        // Under WASI a refused connect can return Ok: the refusal is the socket's pending
        // error, and the first read would fail with "not connected".
        match connected.and_then(|stream| match stream.take_error() {
            Ok(Some(e)) => Err(e),
            _ => Ok(stream),
        }) {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    match last {
        Some(e) => Err(Error::connect_failed(address, &e, timeout)),
        None => Err(Error::connection(format!(
            "`{address}` resolves to no address; check the `address` setting"
        ))),
    }
}

/// A big-endian i32 at `at`.
pub fn read_i32(bytes: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn parse_data_row(body: &[u8]) -> Option<Vec<Option<String>>> {
    let count = u16::from_be_bytes(body.get(0..2)?.try_into().ok()?) as usize;
    let mut at = 2;
    let mut values = Vec::with_capacity(count);
    for _ in 0..count {
        let length = read_i32(body, at)?;
        at += 4;
        if length < 0 {
            values.push(None);
            continue;
        }
        let bytes = body.get(at..at + length as usize)?;
        at += length as usize;
        values.push(Some(String::from_utf8_lossy(bytes).into_owned()));
    }
    Some(values)
}
