//! Arbitrary text as qualityd.toml. Errors are fine (each names a line and a key); a panic is
//! a finding. The path is a directory that exists, so relative paths resolve as they would.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use qualityd::config::Config;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Config::parse(Path::new("/tmp/qualityd.toml"), text);
    }
});
