//! Bad input gets a clear error naming what and where, and never takes the rest down: a row
//! of the wrong width, a non-UTF-8 file, a missing path, a file that is not a component,
//! a plugin that sends malformed IPC or the wrong schema.

use qualityd::Error;
use qualityd::operation::{self, Datastore, ProfileOptions, Progress};
use qualityd::runtime::Grants;

use crate::support::{container_error, plugin, profile_path, runtime, settings};

#[test]
fn a_row_of_the_wrong_width_names_the_file_and_line_and_spares_the_others() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.csv"), "a,b\n1,2\n3,4\n").unwrap();
    std::fs::write(dir.path().join("wide.csv"), "a,b,c\n1,2,3\n4,5\n6,7,8\n").unwrap();
    let outcomes = profile_path(dir.path(), &[]);
    let error = container_error(&outcomes, "wide.csv");
    assert!(error.contains("wide.csv, line 3"), "{error}");
    assert!(error.contains("expected 3 fields, found 2"), "{error}");
    let good = outcomes.iter().find(|o| o.name == "good.csv").unwrap();
    assert_eq!(good.result.as_ref().unwrap().rows, 2);
}

#[test]
fn a_wrong_row_past_the_schema_sample_is_found_while_reading_on_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("a,b\n");
    for i in 0..50 {
        text.push_str(&format!("{i},\"x\ny\"\n"));
    }
    text.push_str("50,oops,extra\n");
    std::fs::write(dir.path().join("late.csv"), text).unwrap();
    let outcomes = profile_path(dir.path(), &[("infer_rows", "10")]);
    let error = container_error(&outcomes, "late.csv");
    // The header, then 50 records of two lines each: the bad record starts on line 102.
    assert!(error.contains("late.csv, line 102"), "{error}");
    assert!(
        error.starts_with("plugin files@0.1.0: read `late.csv`"),
        "{error}"
    );
}

#[test]
fn a_value_that_does_not_fit_the_sampled_type_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("typed.csv"), "n\n1\n2\n3\nfour\n").unwrap();
    let outcomes = profile_path(dir.path(), &[("infer_rows", "2")]);
    let error = container_error(&outcomes, "typed.csv");
    assert!(error.contains("typed.csv, line 5"), "{error}");
    assert!(error.contains("'four'"), "{error}");
    assert!(error.contains("infer_rows"), "{error}");
}

#[test]
fn a_non_utf8_file_is_a_clear_data_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("latin1.csv"), b"name\nZ\xfcrich\n").unwrap();
    let outcomes = profile_path(dir.path(), &[]);
    let error = container_error(&outcomes, "latin1.csv");
    assert!(error.contains("latin1.csv, line 2"), "{error}");
    assert!(error.contains("not valid UTF-8"), "{error}");
}

#[test]
fn a_path_that_does_not_exist_is_refused_before_any_plugin_runs() {
    let missing = std::path::Path::new("/no/such/qualityd/data");
    let error = Datastore::for_path(plugin("files"), missing, Grants::default())
        .err()
        .expect("a missing path must be an error");
    assert_eq!(
        error.to_string(),
        "/no/such/qualityd/data: no such file or directory"
    );
}

#[test]
fn an_unknown_setting_is_a_config_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut datastore =
        Datastore::for_path(plugin("files"), dir.path(), Grants::default()).unwrap();
    datastore.settings.extend(settings(&[("delimitter", ";")]));
    let error = datastore.open().err().expect("unknown setting");
    assert_eq!(error.class(), "plugin.config");
    assert!(
        error.to_string().contains("unknown setting `delimitter`"),
        "{error}"
    );
}

#[test]
fn files_that_are_not_components_are_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 3] = [
        (
            "garbage.wasm",
            b"this is not wasm",
            "does not start with the WebAssembly magic bytes",
        ),
        (
            "module.wasm",
            b"\0asm\x01\0\0\0",
            "it is a core WebAssembly module",
        ),
        (
            "truncated.wasm",
            b"\0asm\x0d\0\x01\0\x01\x02",
            "it does not compile",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let error = runtime().load(&path).err().expect("load must fail");
        assert!(error.to_string().contains(expected), "{name}: {error}");
        assert!(error.to_string().contains(name), "{name}: {error}");
    }
}

/// A hostile datastore; the directory lives as long as the returned guard.
fn hostile(mode: &str) -> (tempfile::TempDir, Datastore) {
    let dir = tempfile::tempdir().unwrap();
    let mut datastore =
        Datastore::for_path(plugin("hostile"), dir.path(), Grants::default()).unwrap();
    datastore.settings = settings(&[("mode", mode)]);
    (dir, datastore)
}

fn hostile_error(mode: &str) -> Error {
    let (_dir, datastore) = hostile(mode);
    let mut outcomes =
        operation::profile(&datastore, &ProfileOptions::default(), &Progress::default()).unwrap();
    outcomes
        .remove(0)
        .result
        .expect_err("the hostile plugin must fail")
}

#[test]
fn malformed_ipc_is_an_error_naming_the_plugin() {
    let error = hostile_error("malformed-ipc");
    assert_eq!(error.class(), "ipc");
    assert!(
        error
            .to_string()
            .starts_with("plugin hostile@0.0.1: read `numbers`"),
        "{error}"
    );
}

#[test]
fn batches_of_another_schema_than_announced_are_refused() {
    let error = hostile_error("schema-mismatch");
    assert_eq!(error.class(), "schema-mismatch");
    assert!(error.to_string().contains("[n: Utf8 not null]"), "{error}");
    assert!(
        error.to_string().contains("announced [n: Int64 not null]"),
        "{error}"
    );
}

#[test]
fn a_well_behaved_plugin_still_works_after_the_hostile_one_failed() {
    let _ = hostile_error("malformed-ipc");
    let (_dir, datastore) = hostile("well-behaved");
    let outcomes =
        operation::profile(&datastore, &ProfileOptions::default(), &Progress::default()).unwrap();
    assert_eq!(outcomes[0].result.as_ref().unwrap().rows, 3);
}

#[test]
fn an_error_in_a_later_partition_names_the_files_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("id,note\n");
    for i in 0..3000 {
        // Every third record spans two lines.
        let note = if i % 3 == 0 { "\"two\nlines\"" } else { "one" };
        let id = if i == 2500 {
            "oops".to_string()
        } else {
            i.to_string()
        };
        text.push_str(&format!("{id},{note}\n"));
    }
    std::fs::write(dir.path().join("deep.csv"), text).unwrap();
    let outcomes = profile_path(dir.path(), &[("partition_bytes", "4096")]);
    let error = container_error(&outcomes, "deep.csv");
    // The header, then 2500 records of which 834 (i % 3 == 0) take two lines.
    let line = 1 + 2500 + (0..2500).filter(|i| i % 3 == 0).count() + 1;
    assert!(error.contains(&format!("deep.csv, line {line}")), "{error}");
    assert!(
        !error.contains("bytes 0.."),
        "the error is in a later partition: {error}"
    );
}
