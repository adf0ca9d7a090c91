//! Implements the generated guest traits on top of [`crate::Connector`] and [`crate::Session`].

use std::cell::RefCell;

use crate::bindings::exports::qualityd::connector::connector::{
    self as wit, BatchStream, GuestBatchStream, GuestSession, ReadResponse,
};
use crate::{
    Connector, IpcStream, Partition, PartitionHint, ReadRequest, Result, Session, Setting,
    Settings, schema_to_ipc,
};

/// The component's `session` resource: a connector's [`Session`] behind the contract.
pub struct SessionHandle(Box<dyn Session>);

/// The component's `batch-stream` resource.
pub struct BatchStreamHandle(RefCell<IpcStream>);

/// Check the settings against the connector's specs, then open a session.
pub fn open_session<C: Connector>(settings: Vec<Setting>) -> Result<wit::Session> {
    let info = C::describe();
    let settings = Settings::from_specs(&info.settings, settings)?;
    let session = C::open(settings)?;
    Ok(wit::Session::new(SessionHandle(session)))
}

impl GuestSession for SessionHandle {
    fn check(&self) -> Result<()> {
        self.0.check()
    }

    fn discover(&self) -> Result<Vec<wit::Container>> {
        self.0
            .discover()?
            .into_iter()
            .map(|container| {
                Ok(wit::Container {
                    schema: schema_to_ipc(&container.schema)?,
                    name: container.name,
                    kind: container.kind,
                    row_estimate: container.row_estimate,
                    byte_size: container.byte_size,
                    error: container.error,
                })
            })
            .collect()
    }

    fn partitions(&self, container: String, hint: PartitionHint) -> Result<Vec<Partition>> {
        self.0.partitions(&container, &hint)
    }

    fn read(&self, request: ReadRequest) -> Result<ReadResponse> {
        let batches = self.0.read(request)?;
        let filter_applied = batches.filter_applied;
        Ok(ReadResponse {
            stream: BatchStream::new(BatchStreamHandle(RefCell::new(IpcStream::new(batches)))),
            filter_applied,
        })
    }
}

impl GuestBatchStream for BatchStreamHandle {
    fn next(&self) -> Result<Option<Vec<u8>>> {
        self.0.borrow_mut().next_chunk()
    }
}
