//! The client/server protocol's framing: packets (3-byte length, sequence id, payload) read
//! through a large buffer and written whole, and the length-encoded integers and strings
//! that payloads are made of.

use std::io::{self, BufReader, Read, Write};
use std::net::TcpStream;

use crate::errors::{Failure, ServerError};

/// Bytes read from the socket at once: whole result rows come out of one buffer fill.
const READ_BUFFER: usize = 256 * 1024;
/// A payload this long continues in the next packet.
const MAX_PAYLOAD: usize = 0xFF_FFFF;

/// A framed connection: one buffered socket and the current packet's payload.
pub struct Wire {
    reader: BufReader<TcpStream>,
    /// The next sequence id to send.
    sequence: u8,
    payload: Vec<u8>,
    len: usize,
    out: Vec<u8>,
}

impl Wire {
    pub fn new(stream: TcpStream) -> Self {
        Wire {
            reader: BufReader::with_capacity(READ_BUFFER, stream),
            sequence: 0,
            payload: Vec::new(),
            len: 0,
            out: Vec::new(),
        }
    }

    /// Read the next packet (continuations joined); its payload stays valid until the next read.
    pub fn read(&mut self) -> io::Result<&[u8]> {
        self.len = 0;
        loop {
            let mut header = [0u8; 4];
            self.reader.read_exact(&mut header)?;
            let len =
                usize::from(header[0]) | usize::from(header[1]) << 8 | usize::from(header[2]) << 16;
            self.sequence = header[3].wrapping_add(1);
            let end = self.len + len;
            if self.payload.len() < end {
                self.payload.resize(end, 0);
            }
            self.reader.read_exact(&mut self.payload[self.len..end])?;
            self.len = end;
            if len < MAX_PAYLOAD {
                return Ok(&self.payload[..self.len]);
            }
        }
    }

    /// The payload of the packet read last.
    pub fn payload(&self) -> &[u8] {
        &self.payload[..self.len]
    }

    /// Start a new command: the next packet sent has sequence id 0.
    pub fn reset(&mut self) {
        self.sequence = 0;
    }

    /// Send one payload (split into packets if it is long), continuing the sequence.
    pub fn write(&mut self, payload: &[u8]) -> io::Result<()> {
        self.out.clear();
        let mut rest = payload;
        loop {
            // A payload of a multiple of the maximum ends with an empty packet.
            let n = rest.len().min(MAX_PAYLOAD);
            self.push_header(n);
            self.out.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            if n < MAX_PAYLOAD {
                break;
            }
        }
        let stream = self.reader.get_mut();
        stream.write_all(&self.out)?;
        stream.flush()
    }

    fn push_header(&mut self, len: usize) {
        self.out.extend_from_slice(&[
            len as u8,
            (len >> 8) as u8,
            (len >> 16) as u8,
            self.sequence,
        ]);
        self.sequence = self.sequence.wrapping_add(1);
    }

    /// Send a new command (sequence id 0).
    pub fn command(&mut self, payload: &[u8]) -> io::Result<()> {
        self.reset();
        self.write(payload)
    }
}

/// Whether a payload is an error packet.
pub fn is_err(payload: &[u8]) -> bool {
    payload.first() == Some(&0xFF)
}

/// Whether a payload starts like an OK packet (0x00; binary rows start so too, so callers
/// ask only where the protocol expects an OK).
pub fn is_ok(payload: &[u8]) -> bool {
    payload.first() == Some(&0x00)
}

/// Whether a payload is an EOF packet (0xFE, shorter than 9 bytes).
pub fn is_eof(payload: &[u8]) -> bool {
    payload.first() == Some(&0xFE) && payload.len() < 9
}

/// Decode an error packet (0xFF, code, `#` and SQL state, message).
pub fn server_error(payload: &[u8]) -> ServerError {
    let code = payload
        .get(1..3)
        .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
    let rest = payload.get(3..).unwrap_or_default();
    let (state, message) = match rest.strip_prefix(b"#") {
        Some(rest) if rest.len() >= 5 => (&rest[..5], &rest[5..]),
        _ => (&[][..], rest),
    };
    ServerError {
        code,
        state: String::from_utf8_lossy(state).into_owned(),
        message: String::from_utf8_lossy(message).into_owned(),
    }
}

/// The failure an error packet stands for.
pub fn err_failure(payload: &[u8]) -> Failure {
    Failure::Server(server_error(payload))
}

/// A cursor over a payload.
pub struct Reader<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
}

fn short() -> Failure {
    Failure::Protocol("a packet ended early".into())
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn u8(&mut self) -> Result<u8, Failure> {
        let b = *self.buf.get(self.pos).ok_or_else(short)?;
        self.pos += 1;
        Ok(b)
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Failure> {
        let slice = self.buf.get(self.pos..self.pos + n).ok_or_else(short)?;
        self.pos += n;
        Ok(slice)
    }

    pub fn fixed<const N: usize>(&mut self) -> Result<[u8; N], Failure> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    /// A length-encoded integer; `None` for the NULL marker 0xFB.
    pub fn lenenc(&mut self) -> Result<Option<u64>, Failure> {
        Ok(Some(match self.u8()? {
            0xFB => return Ok(None),
            0xFC => u64::from(u16::from_le_bytes(self.fixed()?)),
            0xFD => {
                let b: [u8; 3] = self.fixed()?;
                u64::from(b[0]) | u64::from(b[1]) << 8 | u64::from(b[2]) << 16
            }
            0xFE => u64::from_le_bytes(self.fixed()?),
            n => u64::from(n),
        }))
    }
}

/// Append a length-encoded integer.
pub fn put_lenenc(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=0xFA => out.push(n as u8),
        0xFB..=0xFFFF => {
            out.push(0xFC);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xFF_FFFF => {
            out.push(0xFD);
            out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        }
        _ => {
            out.push(0xFE);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

/// Append a length-encoded string.
pub fn put_lenenc_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_lenenc(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenenc_round_trips() {
        for n in [
            0u64,
            250,
            251,
            0xFFFF,
            0x1_0000,
            0xFF_FFFF,
            0x100_0000,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_lenenc(&mut out, n);
            assert_eq!(Reader::new(&out).lenenc().unwrap(), Some(n));
        }
        assert_eq!(Reader::new(&[0xFB]).lenenc().unwrap(), None);
    }

    #[test]
    fn error_packets_decode() {
        let e = server_error(b"\xff\x7a\x04#42S02Table 'test.x' doesn't exist");
        assert_eq!(e.code, 1146);
        assert_eq!(e.state, "42S02");
        assert_eq!(e.message, "Table 'test.x' doesn't exist");
    }
}
