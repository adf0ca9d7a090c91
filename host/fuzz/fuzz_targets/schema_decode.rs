//! Arbitrary bytes as a container schema from `discover`, through the host's schema decode
//! (the same message bounds as a stream's: declared lengths capped, header checked, arrow
//! under `catch_unwind`) and into an empty profile of the schema, as a catalog and a profile
//! do with it. Errors are fine; a panic that reaches the target, an abort, a hang or an
//! allocation over libFuzzer's limit is a finding. arrow's own panics, caught by the decoder,
//! are not: the target installs a quiet panic hook, as `ipc_decode` does.

#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use qualityd::profile::ContainerProfile;
use qualityd::runtime::{IpcCaps, IpcDecoder, decode_schema};

/// Small caps, so a message claiming a huge length is cut off as it is in the daemon.
const CAPS: IpcCaps = IpcCaps {
    chunk_bytes: 1 << 20,
    batch_bytes: 4 << 20,
};

fuzz_target!(|data: &[u8]| {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    if let Ok(schema) = decode_schema(data, CAPS) {
        let _ = ContainerProfile::new("fuzz", &schema, 0);
        // A stream of the schema's own bytes passes its schema check.
        let mut decoder = IpcDecoder::new(schema, CAPS);
        let _ = decoder.push(data.to_vec(), &mut Default::default());
    }
});
