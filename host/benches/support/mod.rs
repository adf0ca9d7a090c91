//! What the benches share: their environment knobs, medians, and reading a container's
//! partitions through a plugin on one thread each.

#![allow(dead_code)] // Each bench uses some of it.

use std::time::Duration;

use qualityd::contract::{Partition, ReadRequest};
use qualityd::operation::Datastore;
use qualityd::runtime::DiscoveredContainer;

/// A number from the environment, or `default`.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The median of some timings.
pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// One partition's read: its rows, and the time spent waiting on the plugin and decoding in
/// the host.
pub struct PartitionRead {
    pub rows: usize,
    pub waiting: Duration,
    pub decoding: Duration,
}

/// Read each partition in its own plugin instance, all at once on scoped threads, every
/// batch decoded and validated in the host.
pub fn read_partitions(
    datastore: &Datastore,
    container: &DiscoveredContainer,
    partitions: Vec<Partition>,
) -> Vec<PartitionRead> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = partitions
            .into_iter()
            .map(|partition| {
                scope.spawn(move || {
                    let mut session = datastore.open().unwrap();
                    let request = ReadRequest {
                        container: container.name.clone(),
                        partition,
                        projection: None,
                        filter: Vec::new(),
                        limit: None,
                        watermark: None,
                    };
                    let mut reader = session.read(request, container.schema.clone()).unwrap();
                    let rows = reader.by_ref().map(|b| b.unwrap().num_rows()).sum();
                    let (waiting, decoding) = reader.timings();
                    PartitionRead {
                        rows,
                        waiting,
                        decoding,
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}
