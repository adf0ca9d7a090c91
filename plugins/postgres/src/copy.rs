//! Reads one partition as `COPY (SELECT …) TO STDOUT (FORMAT binary)`: the server's CopyData
//! messages are cut into tuples and each field is appended to its column's builder, a record
//! batch every `batch_rows` rows (or 32 MiB). The connection goes back to the session when
//! the stream ends cleanly; on any error it is closed, so nothing is left half-read.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::SchemaRef;
use qualityd_plugin_sdk::{Error, Result};

use crate::decode::ColumnDecoder;
use crate::server_error::ServerError;
use crate::types::ValueKind;
use crate::wire::Connection;

/// The connection a session lends to its reads.
pub type SharedConnection = Rc<RefCell<Option<Connection>>>;

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
/// Value bytes after which a batch is cut even when it has fewer than `batch_rows` rows.
const BATCH_BYTES: usize = 32 << 20;

/// The record batches of one COPY.
pub struct CopyReader {
    connection: Option<Connection>,
    home: SharedConnection,
    tuples: TupleDecoder,
    state: State,
}

#[derive(PartialEq)]
enum State {
    Copying,
    /// The COPY finished; wait for ReadyForQuery.
    Finishing,
    Done,
}

/// Cuts CopyData into tuples and decodes their fields.
struct TupleDecoder {
    table: String,
    schema: SchemaRef,
    names: Vec<String>,
    columns: Vec<ColumnDecoder>,
    batch_rows: usize,
    rows_in_batch: usize,
    bytes_in_batch: usize,
    rows_read: u64,
    /// Values Arrow cannot hold, read as nulls.
    replaced: u64,
    header_seen: bool,
    trailer_seen: bool,
    /// The start of a tuple split across CopyData messages, or left over after a full batch.
    carry: Vec<u8>,
}

impl CopyReader {
    /// Start `sql` (a COPY … TO STDOUT (FORMAT binary)) on `connection`.
    pub fn start(
        mut connection: Connection,
        home: SharedConnection,
        sql: &str,
        table: String,
        schema: SchemaRef,
        kinds: &[ValueKind],
        batch_rows: usize,
    ) -> Result<CopyReader> {
        connection.send_query(sql)?;
        let columns = kinds
            .iter()
            .map(|kind| ColumnDecoder::new(kind, batch_rows.min(1 << 16)))
            .collect();
        Ok(CopyReader {
            connection: Some(connection),
            home,
            tuples: TupleDecoder {
                names: schema.fields().iter().map(|f| f.name().clone()).collect(),
                table,
                schema,
                columns,
                batch_rows,
                rows_in_batch: 0,
                bytes_in_batch: 0,
                rows_read: 0,
                replaced: 0,
                header_seen: false,
                trailer_seen: false,
                carry: Vec::new(),
            },
            state: State::Copying,
        })
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        // Tuples left over from the message that filled the last batch.
        if !self.tuples.carry.is_empty() && !self.tuples.full() {
            let carry = std::mem::take(&mut self.tuples.carry);
            let used = self.tuples.feed(&carry)?;
            self.tuples.carry = carry[used..].to_vec();
        }
        while !self.tuples.full() && self.state != State::Done {
            let connection = self.connection.as_mut().expect("open until done");
            let message = connection.read_message()?;
            match message.tag {
                b'd' => {
                    let tuples = &mut self.tuples;
                    if tuples.carry.is_empty() {
                        let used = tuples.feed(message.body)?;
                        tuples.carry.extend_from_slice(&message.body[used..]);
                    } else {
                        tuples.carry.extend_from_slice(message.body);
                        let carry = std::mem::take(&mut tuples.carry);
                        let used = tuples.feed(&carry)?;
                        tuples.carry = carry[used..].to_vec();
                    }
                }
                b'c' | b'C' => self.state = State::Finishing,
                b'E' => {
                    let error = ServerError::parse(message.body);
                    self.connection = None;
                    self.state = State::Done;
                    return Err(error.during_read(&self.tuples.table, self.tuples.rows_read));
                }
                b'Z' => {
                    self.state = State::Done;
                    self.tuples.check_complete()?;
                    *self.home.borrow_mut() = self.connection.take();
                    self.tuples.log_replaced();
                }
                // CopyOutResponse, notices, parameter changes, notifications.
                _ => {}
            }
        }
        self.tuples.batch()
    }
}

impl Iterator for CopyReader {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.state == State::Done && self.tuples.rows_in_batch == 0 {
            return None;
        }
        match self.next_batch() {
            Ok(Some(batch)) => Some(Ok(batch)),
            Ok(None) => None,
            Err(e) => {
                // Never reuse a connection in an unknown state.
                self.connection = None;
                self.state = State::Done;
                self.tuples.rows_in_batch = 0;
                Some(Err(e))
            }
        }
    }
}

impl TupleDecoder {
    fn full(&self) -> bool {
        self.rows_in_batch >= self.batch_rows || self.bytes_in_batch >= BATCH_BYTES
    }

    /// Decode the whole tuples at the start of `data` until the batch is full; returns the
    /// bytes used.
    fn feed(&mut self, data: &[u8]) -> Result<usize> {
        let mut at = 0;
        if !self.header_seen {
            if data.len() < SIGNATURE.len() + 8 {
                return Ok(0);
            }
            if &data[..SIGNATURE.len()] != SIGNATURE {
                return Err(Error::internal(
                    "the server's COPY output is not in the binary format",
                ));
            }
            let extension = crate::wire::read_i32(data, SIGNATURE.len() + 4).unwrap_or(0);
            at = SIGNATURE.len() + 8 + extension.max(0) as usize;
            if data.len() < at {
                return Ok(0);
            }
            self.header_seen = true;
        }
        while !self.full() {
            let Some(count) = data.get(at..at + 2) else {
                break;
            };
            let count = i16::from_be_bytes([count[0], count[1]]);
            if count == -1 {
                self.trailer_seen = true;
                return Ok(data.len());
            }
            let Some(end) = self.tuple_end(data, at + 2, count)? else {
                break;
            };
            self.decode_tuple(&data[at + 2..end])?;
            self.bytes_in_batch += end - at;
            at = end;
        }
        Ok(at)
    }

    /// Where the tuple whose fields start at `at` ends, if it is all in `data`.
    fn tuple_end(&self, data: &[u8], mut at: usize, count: i16) -> Result<Option<usize>> {
        if count as usize != self.columns.len() {
            return Err(Error::internal(format!(
                "the server sent a row of {count} fields for {} columns of {}",
                self.columns.len(),
                self.table
            )));
        }
        for _ in 0..count {
            let Some(length) = crate::wire::read_i32(data, at) else {
                return Ok(None);
            };
            at += 4 + length.max(0) as usize;
        }
        Ok((at <= data.len()).then_some(at))
    }

    #[inline]
    fn decode_tuple(&mut self, mut fields: &[u8]) -> Result<()> {
        for (index, column) in self.columns.iter_mut().enumerate() {
            let length = i32::from_be_bytes(fields[..4].try_into().expect("checked"));
            fields = &fields[4..];
            let value = if length < 0 {
                None
            } else {
                let (value, rest) = fields.split_at(length as usize);
                fields = rest;
                Some(value)
            };
            match column.append(value) {
                Ok(false) => {}
                Ok(true) => self.replaced += 1,
                Err(reason) => {
                    return Err(Error::data(format!("cannot decode a value: {reason}"))
                        .path(self.table.clone())
                        .row(self.rows_read)
                        .field(self.names[index].clone())
                        .into());
                }
            }
        }
        self.rows_in_batch += 1;
        self.rows_read += 1;
        Ok(())
    }

    fn batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.rows_in_batch == 0 {
            return Ok(None);
        }
        let columns = self.columns.iter_mut().map(ColumnDecoder::finish).collect();
        // A projection of no columns still has rows.
        let options = RecordBatchOptions::new().with_row_count(Some(self.rows_in_batch));
        self.rows_in_batch = 0;
        self.bytes_in_batch = 0;
        RecordBatch::try_new_with_options(Arc::clone(&self.schema), columns, &options)
            .map(Some)
            .map_err(|e| Error::internal(format!("building a batch of {}: {e}", self.table)))
    }

    fn check_complete(&self) -> Result<()> {
        if self.header_seen && !self.trailer_seen {
            return Err(Error::connection(format!(
                "the COPY of {} ended without its trailer after {} rows; retry the read",
                self.table, self.rows_read
            )));
        }
        Ok(())
    }

    fn log_replaced(&self) {
        if self.replaced > 0 {
            qualityd_plugin_sdk::log::warn(&format!(
                "{}: {} values Arrow cannot hold (infinite dates or timestamps, NaN or \
                 infinite numerics) were read as nulls",
                self.table, self.replaced
            ));
        }
    }
}
