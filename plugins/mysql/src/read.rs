//! A read's batch stream: it owns the session's connection while the server sends the
//! rows, decodes them into batches of `batch_rows`, and hands the connection back to the
//! session when the result ends. On an error, or when the stream is dropped early, the
//! connection is closed instead, so nothing is left half-read.

use std::cell::RefCell;
use std::rc::Rc;

use arrow_array::RecordBatch;
use qualityd_plugin_sdk::Result;

use crate::connection::{Conn, ConnectOptions, Statement};
use crate::rows::RowDecoder;

/// Where a session keeps its idle connection.
pub type Slot = Rc<RefCell<Option<Conn>>>;

/// Record batches from an executed statement.
pub struct RowStream {
    /// `None` once the stream has ended.
    conn: Option<Conn>,
    slot: Slot,
    statement: Statement,
    decoder: RowDecoder,
    batch_rows: usize,
    options: ConnectOptions,
    table: String,
}

impl RowStream {
    pub fn new(
        conn: Conn,
        slot: Slot,
        statement: Statement,
        decoder: RowDecoder,
        batch_rows: usize,
        options: ConnectOptions,
        table: String,
    ) -> Self {
        RowStream {
            conn: Some(conn),
            slot,
            statement,
            decoder,
            batch_rows,
            options,
            table,
        }
    }

    /// The result is read to its end: free the statement and give the connection back.
    fn finish(&mut self) {
        if let Some(mut conn) = self.conn.take()
            && conn.close(&self.statement).is_ok()
        {
            let mut slot = self.slot.borrow_mut();
            if slot.is_none() {
                *slot = Some(conn);
            }
        }
    }
}

impl Iterator for RowStream {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let conn = self.conn.as_mut()?;
            let failure = match conn.next_row() {
                Ok(Some(row)) => match self.decoder.append(row) {
                    Ok(()) if self.decoder.len() >= self.batch_rows => {
                        return Some(self.decoder.finish());
                    }
                    Ok(()) => continue,
                    Err(failure) => failure,
                },
                Ok(None) => {
                    self.finish();
                    return (self.decoder.len() > 0).then(|| self.decoder.finish());
                }
                Err(failure) => failure,
            };
            // Drop the connection: the rest of the result is never read.
            self.conn = None;
            return Some(Err(self.options.context().read(&self.table, failure)));
        }
    }
}
