//! Compiled plugins are cached on disk: the second start deserializes instead of compiling,
//! and a damaged artifact is recompiled rather than trusted.

use qualityd::runtime::{LoadSource, Runtime};

use crate::support::plugin_dir;

#[test]
fn the_second_start_takes_the_cached_artifact_and_a_damaged_one_is_recompiled() {
    let cache = tempfile::tempdir().unwrap();
    let wasm = plugin_dir().join("hostile.wasm");

    let first = Runtime::new(cache.path()).unwrap().load(&wasm).unwrap();
    assert_eq!(first.load_source(), LoadSource::Compiled);

    let second = Runtime::new(cache.path()).unwrap().load(&wasm).unwrap();
    assert_eq!(second.load_source(), LoadSource::Cached);
    assert_eq!(second.sha256(), first.sha256());
    assert_eq!(second.info().name, "hostile");

    let artifacts: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(artifacts.len(), 1, "{artifacts:?}");
    let sha256 = first.sha256().to_string();
    assert!(
        artifacts[0]
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(&sha256)
    );

    // Artifacts are memory-mapped while loaded: release them, then damage the file the only
    // way the cache allows a file to change, by renaming another one over it.
    drop((first, second));
    let damaged = cache.path().join("damaged");
    std::fs::write(&damaged, b"not an artifact").unwrap();
    std::fs::rename(&damaged, &artifacts[0]).unwrap();
    let third = Runtime::new(cache.path()).unwrap().load(&wasm).unwrap();
    assert_eq!(third.load_source(), LoadSource::Compiled);
    let fourth = Runtime::new(cache.path()).unwrap().load(&wasm).unwrap();
    assert_eq!(fourth.load_source(), LoadSource::Cached);
}
