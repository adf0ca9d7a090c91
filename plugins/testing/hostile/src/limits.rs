//! The hostile modes that try to hold the host forever or make it keep memory on the
//! plugin's behalf (issue 15, items 4 and 6): streams that never send anything, calls that
//! block where no time limit reaches, and more partitions than a container may have.

use std::cell::RefCell;
use std::time::Duration;

use qualityd_plugin_sdk::{Batches, Error, IpcStream, Partition};

use crate::{Stream, announced, numbers};

/// How many partitions `many-partitions` announces: more than the host takes.
const MANY_PARTITIONS: u32 = 200_000;

/// How many partitions `stall-first-partition` announces.
const STALLED_PARTITIONS: u32 = 2_000;

/// The partitions of a mode of this module, or `None` for the usual single partition.
pub fn partitions(mode: &str) -> Option<Vec<Partition>> {
    let count = match mode {
        "many-partitions" => MANY_PARTITIONS,
        "stall-first-partition" => STALLED_PARTITIONS,
        _ => return None,
    };
    Some(
        (0..count)
            .map(|n| Partition {
                id: n.to_string(),
                description: format!("part {n}"),
                row_estimate: Some(3),
                byte_size: None,
                watermark: None,
            })
            .collect(),
    )
}

/// The stream of a mode of this module, or `None` when `mode` is not one of them.
pub fn stream(mode: &str, partition: &str, pause: Duration) -> Option<Result<Stream, Error>> {
    let stream = match mode {
        "empty-chunks" => Stream::Limits(Chunks::Empty(pause)),
        "stall-next" => Stream::Limits(Chunks::Stall),
        // The first partition sends a batch every `pause`, forever; the others one batch.
        "stall-first-partition" if partition == "0" => match numbers() {
            Ok(batch) => ipc(Box::new(std::iter::repeat_with(move || {
                std::thread::sleep(pause);
                Ok(batch.clone())
            }))),
            Err(e) => return Some(Err(e)),
        },
        "stall-first-partition" => match numbers() {
            Ok(batch) => ipc(Box::new(std::iter::once(Ok(batch)))),
            Err(e) => return Some(Err(e)),
        },
        _ => return None,
    };
    Some(Ok(stream))
}

type BatchIter = Box<dyn Iterator<Item = qualityd_plugin_sdk::Result<arrow_array::RecordBatch>>>;

fn ipc(batches: BatchIter) -> Stream {
    Stream::Ipc(Box::new(RefCell::new(IpcStream::new(Batches {
        schema: announced(),
        batches,
        filter_applied: false,
    }))))
}

/// The chunks of this module's streams that are not Arrow IPC.
pub enum Chunks {
    /// `empty-chunks`: an empty chunk after each pause, forever.
    Empty(Duration),
    /// `stall-next`: `next` sleeps for a day: blocked inside WASI's clock, where the host's
    /// epoch deadline cannot stop it.
    Stall,
}

impl Chunks {
    pub fn next(&self) -> Result<Option<Vec<u8>>, Error> {
        match self {
            Chunks::Empty(pause) => {
                if !pause.is_zero() {
                    std::thread::sleep(*pause);
                }
                Ok(Some(Vec::new()))
            }
            Chunks::Stall => {
                std::thread::sleep(Duration::from_secs(24 * 3600));
                Ok(None)
            }
        }
    }
}
