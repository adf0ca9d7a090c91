//! Arbitrary bytes as a plugin's `next()` chunks, through the host's IPC decoder and into a
//! profile. The first byte sets the chunk size (0: one chunk), so the fuzzer also explores
//! messages split across chunks. Errors are fine; a panic that reaches the target, a hang or
//! an allocation over libFuzzer's limit is a finding. A panic inside arrow that the decoder
//! catches (and reports as malformed IPC) is not: libfuzzer-sys's hook would abort on it, so
//! the target installs a quiet one, and panics that escape still abort in its wrapper.

#![no_main]

use std::collections::VecDeque;
use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use qualityd::profile::ContainerProfile;
use qualityd::runtime::{IpcCaps, IpcDecoder};
use qualityd_fuzz::fuzz_schema;

/// Small caps, so a message claiming a huge length is cut off as it is in the daemon.
const CAPS: IpcCaps = IpcCaps {
    chunk_bytes: 1 << 20,
    batch_bytes: 4 << 20,
};

fuzz_target!(|data: &[u8]| {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let Some((&split, stream)) = data.split_first() else {
        return;
    };
    let schema = fuzz_schema();
    let mut decoder = IpcDecoder::new(schema.clone(), CAPS);
    let mut profile = ContainerProfile::new("fuzz", &schema, 0);
    let mut batches = VecDeque::new();
    let chunk = if split == 0 {
        stream.len().max(1)
    } else {
        split as usize
    };
    for piece in stream.chunks(chunk) {
        if decoder.push(piece.to_vec(), &mut batches).is_err() {
            return;
        }
        for batch in batches.drain(..) {
            profile.update(&batch);
        }
    }
    let _ = decoder.finish();
});
