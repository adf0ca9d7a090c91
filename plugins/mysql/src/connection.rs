//! One connection to the server: TCP connect with a time limit, the handshake and
//! authentication, session setup (UTC, utf8mb4), and the commands this connector sends:
//! simple queries, prepared statements executed with bound parameters, and their binary
//! result rows read one packet at a time.

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use mysql_common::constants::CapabilityFlags;
use mysql_common::io::ParseBuf;
use mysql_common::packets::{Column, HandshakePacket, HandshakeResponse};
use mysql_common::proto::MySerialize;
use mysql_common::row::RowDeserializer;
use mysql_common::value::{ServerSide, Value};
use qualityd_plugin_sdk::{Error, Result};

use crate::auth::{self, Credentials};
use crate::errors::{Context, Failure, NO_SUCH_DATABASE};
use crate::packets::{Reader, Wire, err_failure, is_eof, is_err, is_ok, put_lenenc_bytes};

/// A socket read that waits longer than this is a lost connection (the host's default
/// time limit per call is 60 s as well).
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest packet we accept from the server.
const MAX_PACKET: u32 = 1 << 30;

/// How to reach and log in to the server.
#[derive(Clone)]
pub struct ConnectOptions {
    pub address: String,
    pub user: String,
    pub password: String,
    pub database: String,
    pub connect_timeout: Duration,
}

impl ConnectOptions {
    /// The context errors are reported in.
    pub fn context(&self) -> Context<'_> {
        Context {
            address: &self.address,
            user: &self.user,
            database: &self.database,
        }
    }
}

/// A prepared statement.
pub struct Statement {
    pub id: u32,
    pub params: usize,
}

/// A value bound to a statement's `?`.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Null,
    Int(i64),
    UInt(u64),
    Double(f64),
    Bytes(Vec<u8>),
    /// year, month, day
    Date(u16, u8, u8),
    /// year, month, day, hour, minute, second, microsecond
    DateTime(u16, u8, u8, u8, u8, u8, u32),
}

/// An authenticated connection.
pub struct Conn {
    wire: Wire,
    /// Whether the last command's answer was read to its end (so the connection can be
    /// reused or quit politely).
    idle: bool,
}

impl Conn {
    /// Connect, authenticate and set the session up; errors name the address and user.
    pub fn open(options: &ConnectOptions) -> Result<Conn> {
        let stream = connect(options)?;
        let mut conn = Conn {
            wire: Wire::new(stream),
            idle: false,
        };
        conn.handshake(options)
            .and_then(|()| conn.simple("SET NAMES utf8mb4, time_zone = '+00:00'"))
            .map_err(|f| match f {
                Failure::Server(e) if e.code == NO_SUCH_DATABASE => options
                    .context()
                    .no_such_database(&e, visible_databases(options)),
                f => options.context().session(f),
            })?;
        Ok(conn)
    }

    fn handshake(&mut self, options: &ConnectOptions) -> Result<(), Failure> {
        let credentials = Credentials {
            address: &options.address,
            user: &options.user,
            password: &options.password,
        };
        let packet = self.wire.read()?;
        if is_err(packet) {
            return Err(err_failure(packet));
        }
        let handshake: HandshakePacket<'_> = ParseBuf(packet)
            .parse(())
            .map_err(|e| Failure::Protocol(format!("cannot read the server's handshake: {e}")))?;
        let server_caps = handshake.capabilities();
        if !server_caps.contains(CapabilityFlags::CLIENT_PROTOCOL_41) {
            return Err(Error::unsupported(format!(
                "the server at {} ({}) speaks a protocol older than 4.1",
                options.address,
                handshake.server_version_str()
            ))
            .into());
        }
        let wanted = CapabilityFlags::CLIENT_LONG_PASSWORD
            | CapabilityFlags::CLIENT_LONG_FLAG
            | CapabilityFlags::CLIENT_CONNECT_WITH_DB
            | CapabilityFlags::CLIENT_PROTOCOL_41
            | CapabilityFlags::CLIENT_TRANSACTIONS
            | CapabilityFlags::CLIENT_SECURE_CONNECTION
            | CapabilityFlags::CLIENT_MULTI_RESULTS
            | CapabilityFlags::CLIENT_PS_MULTI_RESULTS
            | CapabilityFlags::CLIENT_PLUGIN_AUTH
            | CapabilityFlags::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA;
        let nonce = handshake.nonce();
        let plugin = auth::initial_plugin(handshake.auth_plugin());
        let scramble = auth::scramble(&plugin, &nonce, &credentials)?;
        let response = HandshakeResponse::new(
            Some(scramble),
            handshake.server_version_parsed().unwrap_or((5, 5, 5)),
            Some(options.user.as_bytes()),
            (!options.database.is_empty()).then_some(options.database.as_bytes()),
            Some(plugin.clone()),
            wanted & server_caps,
            None,
            MAX_PACKET,
        );
        let mut payload = Vec::new();
        response.serialize(&mut payload);
        self.wire.write(&payload)?;
        auth::finish(&mut self.wire, plugin, &credentials)?;
        self.idle = true;
        Ok(())
    }

    /// Run a statement that returns no rows (`SET ...`).
    pub fn simple(&mut self, sql: &str) -> Result<(), Failure> {
        self.idle = false;
        let mut payload = Vec::with_capacity(sql.len() + 1);
        payload.push(0x03);
        payload.extend_from_slice(sql.as_bytes());
        self.wire.command(&payload)?;
        let packet = self.wire.read()?;
        if is_err(packet) {
            return Err(err_failure(packet));
        }
        if !is_ok(packet) {
            return Err(Failure::Protocol(format!("`{sql}` returned rows")));
        }
        self.idle = true;
        Ok(())
    }

    /// Prepare a statement.
    pub fn prepare(&mut self, sql: &str) -> Result<Statement, Failure> {
        self.idle = false;
        let mut payload = Vec::with_capacity(sql.len() + 1);
        payload.push(0x16);
        payload.extend_from_slice(sql.as_bytes());
        self.wire.command(&payload)?;
        let packet = self.wire.read()?;
        if is_err(packet) {
            return Err(err_failure(packet));
        }
        let mut reader = Reader::new(packet);
        if reader.u8()? != 0x00 {
            return Err(Failure::Protocol("unexpected answer to a prepare".into()));
        }
        let id = u32::from_le_bytes(reader.fixed()?);
        let columns = usize::from(u16::from_le_bytes(reader.fixed()?));
        let params = usize::from(u16::from_le_bytes(reader.fixed()?));
        // The parameters' and the columns' definitions, each list ended by EOF.
        for count in [params, columns] {
            if count > 0 {
                for _ in 0..count {
                    self.wire.read()?;
                }
                self.expect_eof()?;
            }
        }
        self.idle = true;
        Ok(Statement { id, params })
    }

    fn expect_eof(&mut self) -> Result<(), Failure> {
        let packet = self.wire.read()?;
        match () {
            _ if is_eof(packet) => Ok(()),
            _ if is_err(packet) => Err(err_failure(packet)),
            _ => Err(Failure::Protocol("expected an EOF packet".into())),
        }
    }

    /// Execute a prepared statement; returns its result's column definitions. Read the rows
    /// with [`Conn::next_row`] until it returns `None`.
    pub fn execute(
        &mut self,
        statement: &Statement,
        params: &[Param],
    ) -> Result<Vec<Column>, Failure> {
        if params.len() != statement.params {
            return Err(Failure::Protocol(format!(
                "the statement takes {} parameters, {} were given",
                statement.params,
                params.len()
            )));
        }
        self.idle = false;
        let payload = execute_payload(statement.id, params);
        self.wire.command(&payload)?;
        let packet = self.wire.read()?;
        if is_err(packet) {
            return Err(err_failure(packet));
        }
        if is_ok(packet) {
            self.idle = true;
            return Ok(Vec::new());
        }
        let count = Reader::new(packet)
            .lenenc()?
            .ok_or_else(|| Failure::Protocol("a result set without a column count".into()))?;
        let mut columns = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let packet = self.wire.read()?;
            let column: Column = ParseBuf(packet)
                .parse(())
                .map_err(|e| Failure::Protocol(format!("cannot read a column definition: {e}")))?;
            columns.push(column);
        }
        self.expect_eof()?;
        Ok(columns)
    }

    /// The next binary result row (its payload, header byte included), or `None` at the end.
    pub fn next_row(&mut self) -> Result<Option<&[u8]>, Failure> {
        let packet = self.wire.read()?;
        match packet.first() {
            Some(0x00) => Ok(Some(self.wire.payload())),
            _ if is_eof(packet) => {
                self.idle = true;
                Ok(None)
            }
            Some(0xFF) => Err(err_failure(packet)),
            _ => Err(Failure::Protocol(
                "unexpected packet in a result set".into(),
            )),
        }
    }

    /// Deallocate a statement (the server does not answer).
    pub fn close(&mut self, statement: &Statement) -> Result<(), Failure> {
        let mut payload = vec![0x19];
        payload.extend_from_slice(&statement.id.to_le_bytes());
        self.wire.command(&payload)?;
        Ok(())
    }

    /// Prepare, execute and collect a small result (catalog queries), as values.
    pub fn rows(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Vec<Value>>, Failure> {
        let statement = self.prepare(sql)?;
        let columns: Arc<[Column]> = self.execute(&statement, params)?.into();
        let mut rows = Vec::new();
        while let Some(row) = self.next_row()? {
            let row: RowDeserializer<ServerSide, mysql_common::proto::Binary> = ParseBuf(row)
                .parse(columns.clone())
                .map_err(|e| Failure::Protocol(format!("cannot read a row: {e}")))?;
            rows.push(row.into_inner().unwrap());
        }
        self.close(&statement)?;
        Ok(rows)
    }
}

impl Drop for Conn {
    /// Say goodbye (COM_QUIT) when no answer is pending, so the server does not log an
    /// aborted connection; otherwise just close the socket.
    fn drop(&mut self) {
        if self.idle {
            let _ = self.wire.command(&[0x01]);
        }
    }
}

/// The COM_STMT_EXECUTE payload: no cursor, one iteration, parameters with their types.
fn execute_payload(id: u32, params: &[Param]) -> Vec<u8> {
    let mut out = vec![0x17];
    out.extend_from_slice(&id.to_le_bytes());
    out.push(0x00);
    out.extend_from_slice(&1u32.to_le_bytes());
    if params.is_empty() {
        return out;
    }
    let mut nulls = vec![0u8; params.len().div_ceil(8)];
    for (i, param) in params.iter().enumerate() {
        if *param == Param::Null {
            nulls[i / 8] |= 1 << (i % 8);
        }
    }
    out.extend_from_slice(&nulls);
    out.push(0x01);
    // Type codes: NULL 6, LONGLONG 8, DOUBLE 5, VAR_STRING 253, DATE 10, DATETIME 12;
    // the second byte's high bit marks unsigned.
    for param in params {
        let (code, unsigned) = match param {
            Param::Null => (6u8, 0u8),
            Param::Int(_) => (8, 0),
            Param::UInt(_) => (8, 0x80),
            Param::Double(_) => (5, 0),
            Param::Bytes(_) => (253, 0),
            Param::Date(..) => (10, 0),
            Param::DateTime(..) => (12, 0),
        };
        out.extend_from_slice(&[code, unsigned]);
    }
    for param in params {
        match param {
            Param::Null => {}
            Param::Int(v) => out.extend_from_slice(&v.to_le_bytes()),
            Param::UInt(v) => out.extend_from_slice(&v.to_le_bytes()),
            Param::Double(v) => out.extend_from_slice(&v.to_le_bytes()),
            Param::Bytes(v) => put_lenenc_bytes(&mut out, v),
            Param::Date(y, m, d) => {
                out.push(4);
                out.extend_from_slice(&y.to_le_bytes());
                out.extend_from_slice(&[*m, *d]);
            }
            Param::DateTime(y, mo, d, h, mi, s, us) => {
                out.push(11);
                out.extend_from_slice(&y.to_le_bytes());
                out.extend_from_slice(&[*mo, *d, *h, *mi, *s]);
                out.extend_from_slice(&us.to_le_bytes());
            }
        }
    }
    out
}

/// The databases `options.user` may read, system ones left out, from a second connection
/// that selects none; `None` when they cannot be listed. For the error about a database
/// that does not exist.
fn visible_databases(options: &ConnectOptions) -> Option<Vec<String>> {
    const SYSTEM: [&str; 4] = ["information_schema", "mysql", "performance_schema", "sys"];
    let options = ConnectOptions {
        database: String::new(),
        ..options.clone()
    };
    let mut conn = Conn::open(&options).ok()?;
    let rows = conn
        .rows(
            "SELECT schema_name FROM information_schema.schemata ORDER BY schema_name",
            &[],
        )
        .ok()?;
    Some(
        rows.into_iter()
            .filter_map(|row| match row.into_iter().next() {
                Some(Value::Bytes(name)) => String::from_utf8(name).ok(),
                _ => None,
            })
            .filter(|name| !SYSTEM.contains(&name.as_str()))
            .collect(),
    )
}

/// Open the TCP connection, trying each address the name stands for.
fn connect(options: &ConnectOptions) -> Result<TcpStream> {
    let address = &options.address;
    let addresses: Vec<SocketAddr> = address
        .to_socket_addrs()
        .map_err(|e| {
            Error::connection(format!(
                "cannot resolve `{address}` ({e}); check the `address` setting (host:port)"
            ))
        })?
        .collect();
    let mut last = None;
    for socket in &addresses {
        // Under WASI a refused connect can return Ok: the refusal is the socket's pending
        // error, and the first read would fail with "not connected".
        let connected =
            TcpStream::connect_timeout(socket, options.connect_timeout).and_then(|stream| {
                match stream.take_error() {
                    Ok(Some(e)) => Err(e),
                    _ => Ok(stream),
                }
            });
        match connected {
            Ok(stream) => {
                // Not every platform has these; a connection without them still works.
                let _ = stream.set_nodelay(true);
                if let Err(e) = stream.set_read_timeout(Some(READ_TIMEOUT))
                    && e.kind() != io::ErrorKind::Unsupported
                {
                    qualityd_plugin_sdk::log::debug(&format!("no read timeout: {e}"));
                }
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    match last {
        Some(e) => Err(Error::connect_failed(address, &e, options.connect_timeout)),
        None => Err(Error::connection(format!(
            "`{address}` resolves to no address; check the `address` setting"
        ))),
    }
}
