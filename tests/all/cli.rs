//! The `qualityd` binary as a user runs it: JSON and table output, exit codes, one-line errors.

use std::process::{Command, Output};

use crate::support::{fixture, plugin, plugin_dir, root};

fn qualityd(args: &[&str]) -> Output {
    qualityd_logging(args, "warn")
}

fn qualityd_logging(args: &[&str], log: &str) -> Output {
    // Load the plugins in this process first: that compiles them once into the shared
    // artifact cache, instead of once per concurrently started `qualityd`.
    plugin("files");
    plugin("hostile");
    Command::new(env!("CARGO_BIN_EXE_qualityd"))
        .args(args)
        .env("QUALITYD_LOG", log)
        .env("QUALITYD_PLUGINS", plugin_dir())
        .env("QUALITYD_CACHE", root().join("target/test-artifact-cache"))
        .output()
        .expect("running qualityd")
}

#[test]
fn profile_prints_the_documented_json() {
    let path = fixture("people.csv");
    let out = qualityd(&["profile", path.to_str().unwrap(), "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["profile_version"], 1);
    let container = &json["containers"][0];
    assert_eq!(container["name"], "people.csv");
    assert_eq!(container["rows"], 6);
    let joined = &container["fields"][4];
    let keys: Vec<&str> = joined
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "name",
        "type",
        "count",
        "nulls",
        "distinct",
        "distinct_is_approximate",
        "min",
        "max",
        "mean",
        "stddev",
        "min_length",
        "max_length",
        "completeness",
        "distinct_relative_error",
        "inferred_type",
        "type_shares",
        "sum",
        "variance",
        "zeros",
        "negatives",
        "nans",
        "quantiles",
        "quantile_rank_error",
        "histogram",
        "top_values",
        "future",
        "mean_length",
        "empty",
        "padded",
        "shapes",
    ] {
        assert!(keys.contains(&key), "missing {key}: {keys:?}");
    }
    assert_eq!(joined["name"], "joined");
    assert_eq!(joined["type"], "date32[day]");
    assert_eq!(joined["min"], "2020-12-31");
    assert_eq!(joined["mean"], serde_json::Value::Null);
    assert_eq!(container["fields"][0]["max"], 6);
    assert_eq!(container["fields"][3]["min"], -1.5);
}

#[test]
fn the_bundled_example_profiles_as_a_table() {
    let examples = root().join("examples/data");
    let out = qualityd(&["profile", examples.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("orders.csv ("), "{stdout}");
    assert!(stdout.contains("customers.csv ("), "{stdout}");
    let header = [
        "field", "type", "count", "nulls", "distinct", "min", "max", "mean", "stddev", "median",
        "length", "top", "value", "looks", "like",
    ];
    let headers = stdout
        .lines()
        .filter(|l| l.split_whitespace().eq(header.iter().copied()))
        .count();
    assert_eq!(headers, 2, "{stdout}");
    assert!(stdout.contains("1000 rows"), "{stdout}");
}

#[test]
fn a_missing_path_is_one_line_on_stderr_and_exit_code_one() {
    let out = qualityd(&["profile", "/no/such/dir"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim(),
        "error: /no/such/dir: no such file or directory"
    );
}

#[test]
fn a_failed_container_is_in_the_report_and_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.csv"), "a\n1\n").unwrap();
    std::fs::write(dir.path().join("bad.csv"), "a,b\n1\n").unwrap();
    let out = qualityd(&["profile", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let containers = json["containers"].as_array().unwrap();
    let bad = containers.iter().find(|c| c["name"] == "bad.csv").unwrap();
    assert!(
        bad["error"].as_str().unwrap().contains("bad.csv, line 2"),
        "{bad}"
    );
    let ok = containers.iter().find(|c| c["name"] == "ok.csv").unwrap();
    assert_eq!(ok["rows"], 1);
    assert_eq!(ok["error"], serde_json::Value::Null);
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 2 containers"));
}

#[test]
fn plugins_lists_what_each_plugin_says_of_itself_and_names_one_that_cannot_load() {
    // The build directory holds `future_contract.wasm`, built against another contract on
    // purpose: it is named with the reason, the others are still listed, the exit code is 1.
    let out = qualityd(&["plugins"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("files 0.1.0"), "{stdout}");
    assert!(stdout.contains("path (required)"), "{stdout}");
    assert!(stdout.contains("hostile 0.0.1"), "{stdout}");
    assert!(
        stderr.contains("future_contract.wasm") && stderr.contains("qualityd:connector@0.1.0"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn plugin_logs_reach_the_hosts_tracing_tagged_with_the_plugin() {
    let path = fixture("people.csv");
    let out = qualityd_logging(&["profile", path.to_str().unwrap()], "qualityd=debug");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Sent by the SDK through the contract's `log` import when a stream ends.
    let line = stderr
        .lines()
        .find(|l| l.contains("stream done: 6 rows in 1 batches"))
        .unwrap_or_else(|| panic!("no plugin log line in:\n{stderr}"));
    assert!(line.contains("files@0.1.0"), "{line}");
}
