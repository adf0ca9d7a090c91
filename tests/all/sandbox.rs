//! The sandbox: a plugin reads only the granted directory (no `/etc/passwd`, no `..`, no
//! symlink out), and a call that spins, hogs memory or panics stops with an error naming the
//! limit or the panic, while the host goes on.

use std::time::{Duration, Instant};

use qualityd::Error;
use qualityd::operation::Datastore;
use qualityd::runtime::Grants;

use crate::support::{first_partition, plugin, read_request, settings};

fn hostile(pairs: &[(&str, &str)], grants: Grants) -> (tempfile::TempDir, Datastore) {
    let dir = tempfile::tempdir().unwrap();
    let mut datastore = Datastore::for_path(plugin("hostile"), dir.path(), grants).unwrap();
    datastore.settings = settings(pairs);
    (dir, datastore)
}

fn read_file(target: &str, dir: &tempfile::TempDir, datastore: &Datastore) -> Error {
    let mut datastore = datastore.clone();
    datastore.settings = settings(&[("mode", "read-file"), ("target", target)]);
    let (mut session, container, partition) = first_partition(&datastore);
    let request = read_request(&container.name, partition);
    let _keep = dir;
    session
        .read(request, container.schema)
        .err()
        .expect("reading must fail")
}

#[test]
fn paths_outside_the_granted_directory_are_denied() {
    let (dir, datastore) = hostile(&[], Grants::default());
    std::fs::write(dir.path().join("inside.txt"), "granted").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("escape")).unwrap();
    let inside = dir.path().join("inside.txt");
    let dotdot = format!("{}/../../etc/passwd", dir.path().display());
    let symlink = dir.path().join("escape");

    // The control: a granted file is readable (the plugin reports how much it read).
    let error = read_file(inside.to_str().unwrap(), &dir, &datastore);
    assert!(error.to_string().contains("read 7 bytes"), "{error}");

    for target in ["/etc/passwd", dotdot.as_str(), symlink.to_str().unwrap()] {
        let error = read_file(target, &dir, &datastore);
        assert_eq!(error.class(), "plugin.not-found", "{target}: {error}");
        assert!(
            error.to_string().contains("cannot open"),
            "{target}: {error}"
        );
        assert!(
            !error.to_string().contains("let it through"),
            "{target}: {error}"
        );
    }
}

#[test]
fn a_call_that_never_returns_is_stopped_at_its_time_limit() {
    let grants = Grants {
        call_timeout: Duration::from_millis(500),
        ..Grants::default()
    };
    let (_dir, datastore) = hostile(&[("mode", "spin")], grants);
    let mut session = datastore.open().unwrap();
    let started = Instant::now();
    let error = session.discover().expect_err("spinning must be stopped");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(error.class(), "trap");
    assert!(
        error
            .to_string()
            .contains("exceeded its time limit of 500ms"),
        "{error}"
    );
    // The instance is poisoned; the next call says so instead of re-entering it.
    let again = session.check().expect_err("poisoned");
    assert!(
        again.to_string().contains("stopped by an earlier trap"),
        "{again}"
    );
}

#[test]
fn memory_beyond_the_cap_is_refused_and_named() {
    let grants = Grants {
        memory_bytes: 64 << 20,
        ..Grants::default()
    };
    let (_dir, datastore) = hostile(&[("mode", "hog")], grants);
    let mut session = datastore.open().unwrap();
    let error = session.discover().expect_err("hogging must be stopped");
    assert_eq!(error.class(), "trap");
    assert!(
        error
            .to_string()
            .contains("exceeded its memory cap of 64 MiB"),
        "{error}"
    );
}

#[test]
fn a_panic_is_reported_with_its_message() {
    let (_dir, datastore) = hostile(&[("mode", "panic")], Grants::default());
    let mut session = datastore.open().unwrap();
    let error = session.discover().expect_err("the panic must surface");
    assert_eq!(error.class(), "trap");
    assert!(
        error
            .to_string()
            .contains("the hostile plugin panics in discover, as asked"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .starts_with("plugin hostile@0.0.1: discover was stopped"),
        "{error}"
    );
}
