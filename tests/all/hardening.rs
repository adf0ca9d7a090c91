//! Issue 15, items 7, 9 and 11, through the compiled daemon and command line: secrets of a
//! datastore a scan compares with never leave the job; `qualityd profile FILE` grants the
//! file alone; the artifact cache and the state store are this user's alone, and an
//! artifact is loaded only when its bytes match their recorded hash; time and size values
//! too large for their arithmetic are config errors at their line; retention prunes what is
//! old and keeps the latest profile and the open anomalies.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::daemon_process::{DaemonProcess, EXAMPLE_DATASTORE, config, own_cache};
use crate::support::plugin_dir;

/// Limits small enough for the hostile datastores to hit quickly.
const GRANTS: &str = "grants = { directories = [\"data\"], memory_mib = 64, call_timeout_secs = 1, \
    job_timeout_secs = 60, ipc_chunk_mib = 16, ipc_batch_mib = 32 }";

/// The most the daemon may hold at its peak in these tests: the example data, two hostile
/// instances of 64 MiB each and the runtime, with room to spare.
const PEAK_RSS_KIB: u64 = 1536 * 1024;

/// Profile `example` and check it is exact: its two containers, 1120 rows.
fn profile_example(daemon: &DaemonProcess) -> i64 {
    daemon.profile_example_exactly()
}

/// The daemon still serves, and its peak memory stayed bounded.
fn still_serving_and_bounded(daemon: &DaemonProcess) {
    assert_eq!(daemon.get("/readyz").status, 200);
    let peak = daemon.peak_rss_kib();
    assert!(peak < PEAK_RSS_KIB, "peak RSS {peak} KiB");
}

/// Run the built `qualityd` with `args` (and `env` on top of the test's), to its end.
fn qualityd(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qualityd"));
    command.args(args).env("QUALITYD_LOG", "qualityd=info");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("running qualityd")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// The shared artifact cache of the tests, so the CLI does not compile every time.
fn shared_cache() -> String {
    crate::support::root()
        .join("target/test-artifact-cache")
        .display()
        .to_string()
}

#[test]
fn secrets_of_a_referenced_datastore_never_reach_scan_results_logs_api_answers_or_the_store() {
    // Each with a prefix of its own, to find even a part of one.
    const LEAK_FILE: &str = "Fq7-leak-file-secret-4711";
    const LEAK_CLEAR: &str = "Cz3-leak-clear-secret-0815";
    const ECHO_FILE: &str = "Ex5-echo-file-secret-1234";
    const ECHO_CLEAR: &str = "Ey6-echo-clear-secret-5678";
    let hostile = |name: &str, mode: &str, file: &str, clear: &str| {
        format!(
            "[datastores.{name}]\nplugin = \"hostile\"\n\
             settings = {{ mode = \"{mode}\", target = \"${{file:{file}}}\", token = \"{clear}\" }}\n\
             {GRANTS}\n"
        )
    };
    let datastores = format!(
        "{EXAMPLE_DATASTORE}{}{}",
        hostile("leak", "leak-secret", "leak.txt", LEAK_CLEAR),
        hostile("echo", "echo-secret", "echo.txt", ECHO_CLEAR)
    );
    let mut daemon = DaemonProcess::prepare(&config(&datastores), &["files", "hostile"]);
    let dir = daemon.dir.path().to_path_buf();
    daemon.copy_example_data();
    std::fs::write(dir.join("leak.txt"), format!("{LEAK_FILE}\n")).unwrap();
    std::fs::write(dir.join("echo.txt"), format!("{ECHO_FILE}\n")).unwrap();
    daemon.spawn();

    // The example's orders compared with the hostile datastores' containers: a typed error
    // quoting the secrets (leak), a panic quoting them (echo); and a check that passes.
    let checks = [
        json!({"container": "orders.csv", "fields": ["quantity"],
               "rule": {"rule": "exists_in", "container": "numbers", "field": "n",
                        "datastore": "leak"}}),
        json!({"container": "orders.csv", "fields": ["customer_id"],
               "rule": {"rule": "exists_in", "container": "numbers", "field": "n",
                        "datastore": "echo"}}),
        json!({"container": "orders.csv", "fields": ["order_id"],
               "rule": {"rule": "not_null"}}),
    ];
    for check in checks {
        let mut body = check;
        body["datastore"] = json!("example");
        let created = daemon.post("/checks", &body);
        assert_eq!(created.status, 201, "{}", created.body);
    }
    let scan = daemon.submit(json!({"kind": "scan", "datastore": "example"}));
    profile_example(&daemon);
    let job = daemon.wait_job(scan);
    assert_eq!(job["state"], "succeeded", "{job}");
    // Both references failed their checks alone, with the class `check`, scrubbed.
    let failures = job["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 2, "{job}");
    for failure in failures {
        assert_eq!(failure["code"], "check", "{job}");
        assert!(
            failure["error"]
                .as_str()
                .unwrap()
                .contains("leaking [redacted] and [redacted]"),
            "{failure}"
        );
    }
    let scans = daemon.get(&format!("/jobs/{scan}/scans")).body;
    let results = scans[0]["checks"].as_array().unwrap();
    assert_eq!(results.len(), 3, "{scans}");
    let errors: Vec<&str> = results.iter().filter_map(|c| c["error"].as_str()).collect();
    assert_eq!(errors.len(), 2, "{scans}");
    assert!(
        errors
            .iter()
            .all(|e| e.contains("leaking [redacted] and [redacted]")),
        "{errors:?}"
    );
    // The neighbour check is exact: no order without an id.
    let not_null = results.iter().find(|c| c["error"].is_null()).unwrap();
    assert_eq!(not_null["passed"], true, "{not_null}");
    assert_eq!(not_null["rows"], 1000, "{not_null}");
    let scan_id = scans[0]["id"].as_i64().unwrap();

    let answers: Vec<String> = [
        "/datastores",
        "/jobs",
        &format!("/jobs/{scan}"),
        &format!("/jobs/{scan}/scans"),
        &format!("/scans/{scan_id}"),
        "/anomalies",
        "/checks",
        "/plugins",
        "/plugins/events",
        "/metrics",
    ]
    .iter()
    .map(|path| daemon.get(path).body.to_string())
    .collect();
    still_serving_and_bounded(&daemon);
    daemon.signal("TERM");
    assert!(daemon.wait_exit());

    let log = daemon.log();
    // What the plugin logged is there, scrubbed, and on the line it was sent on.
    assert!(
        log.contains("leak target [redacted]\\nFORGED-LOG-LINE"),
        "{log}"
    );
    assert!(
        log.contains("stderr target [redacted]\\rFORGED-STDERR-LINE"),
        "{log}"
    );
    assert!(
        log.contains("target is [redacted], token is [redacted]"),
        "{log}"
    );
    for line in log.lines() {
        assert!(!line.starts_with("FORGED"), "a forged line: {line}");
    }
    let mut stored = Vec::new();
    for file in ["state.db", "state.db-wal"] {
        if let Ok(bytes) = std::fs::read(daemon.state().join(file)) {
            stored.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    for secret in [LEAK_FILE, LEAK_CLEAR, ECHO_FILE, ECHO_CLEAR] {
        // Not even its start: a line cut before it was scrubbed would keep that.
        let start = &secret[..4];
        assert!(
            !log.contains(start),
            "{start} (of {secret}) in the log:\n{log}"
        );
        for answer in &answers {
            assert!(!answer.contains(start), "{start} in {answer}");
        }
        for bytes in &stored {
            assert!(!bytes.contains(start), "{start} in the store");
        }
    }
}

#[test]
fn profiling_a_file_grants_that_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let orders = data.join("orders.csv");
    std::fs::copy(
        crate::support::root().join("examples/data/orders.csv"),
        &orders,
    )
    .unwrap();
    let sibling = data.join("id_rsa");
    std::fs::write(&sibling, "-----BEGIN OPENSSH PRIVATE KEY-----\n").unwrap();
    // The private directory goes in TMPDIR: one of the test's own, to see it is removed.
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let plugins = plugin_dir().display().to_string();
    let cache = shared_cache();
    let env = [("TMPDIR", tmp.to_str().unwrap())];
    let profile = |path: &Path, extra: &[&str]| {
        let mut args = vec![
            "profile",
            path.to_str().unwrap(),
            "--format",
            "json",
            "--plugins",
            &plugins,
            "--cache-dir",
            &cache,
        ];
        args.extend_from_slice(extra);
        qualityd(&args, &env)
    };
    let target = format!("target={}", sibling.display());
    let read_sibling = [
        "--plugin",
        "hostile",
        "--set",
        "mode=read-file",
        "--set",
        &target,
    ];

    // The file alone: the sibling is not there for the plugin.
    let alone = profile(&orders, &read_sibling);
    let (stdout, stderr) = (text(&alone.stdout), text(&alone.stderr));
    assert!(!alone.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("cannot open {}", sibling.display())),
        "{stdout}\n{stderr}"
    );
    assert!(!stdout.contains("let it through"), "{stdout}");
    // The same mode over the directory reads it: the denial above is the grant's doing.
    let whole = profile(&data, &read_sibling);
    let stdout = text(&whole.stdout);
    assert!(
        stdout.contains(&format!("read 36 bytes from {}", sibling.display())),
        "{stdout}\n{}",
        text(&whole.stderr)
    );
    // The file itself profiles exactly, under its own name.
    let files = profile(&orders, &[]);
    let stdout = text(&files.stdout);
    assert!(files.status.success(), "{stdout}\n{}", text(&files.stderr));
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let report = report.to_string();
    assert!(report.contains("\"orders.csv\""), "{report}");
    assert!(report.contains("\"rows\":1000"), "{report}");
    // The private directories are gone with the runs.
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    // A pipe is not a file to profile.
    let fifo = dir.path().join("fifo.csv");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let piped = profile(&fifo, &[]);
    assert!(!piped.status.success());
    assert!(
        text(&piped.stderr).contains("not a regular file"),
        "{}",
        text(&piped.stderr)
    );
}

#[test]
fn the_artifact_cache_is_private_and_one_others_could_write_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // One plugin to load, so that a listing succeeds (the build holds one that must not).
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    crate::daemon_process::install_plugin(&plugins, "hostile");
    let plugins = plugins.display().to_string();
    let list = |cache: &Path, env: &[(&str, &str)]| {
        qualityd(
            &[
                "plugins",
                "--plugins",
                &plugins,
                "--cache-dir",
                cache.to_str().unwrap(),
            ],
            env,
        )
    };

    // A new cache is created 0700, its parents too.
    let fresh = dir.path().join("a/b/cache");
    let listed = list(&fresh, &[]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert_eq!(mode(&fresh), 0o700);
    assert_eq!(mode(&dir.path().join("a")), 0o700);

    // Writable by others: refused, saying why.
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let refused = list(&open, &[]);
    let stderr = text(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("writable by other users"), "{stderr}");
    assert!(stderr.contains("--cache-dir"), "{stderr}");
    // Below a directory others can write (and without the sticky bit): refused too.
    let below = open.join("cache");
    let refused = list(&below, &[]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("a directory above the cache"),
        "{}",
        text(&refused.stderr)
    );

    // Owned by another user: refused. (As root, a directory given to `nobody`; otherwise,
    // `/`, which is root's.)
    let foreign = dir.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o755)).unwrap();
    let foreign = match std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)) {
        Ok(()) => foreign,
        Err(_) => Path::new("/").to_path_buf(),
    };
    let refused = list(&foreign, &[]);
    let stderr = text(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("owned by"), "{stderr}");

    // Without QUALITYD_CACHE, XDG_CACHE_HOME and HOME there is no default: no fallback to
    // a shared temporary directory.
    let output = Command::new(env!("CARGO_BIN_EXE_qualityd"))
        .args(["plugins", "--plugins", &plugins])
        .env_remove("QUALITYD_CACHE")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("HOME")
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("no cache directory"), "{stderr}");
}

#[test]
fn an_artifact_whose_bytes_do_not_match_its_record_is_compiled_again() {
    let text_config = own_cache(&config(&format!(
        "{EXAMPLE_DATASTORE}[datastores.numbers]\nplugin = \"hostile\"\n{GRANTS}\n"
    )));
    let mut daemon = DaemonProcess::prepare(&text_config, &["files", "hostile"]);
    daemon.copy_example_data();
    daemon.spawn();
    let cache = daemon.dir.path().join("own-artifacts");
    assert_eq!(mode(&cache), 0o700);
    let artifact_of = |plugin: &str| {
        let sha = daemon.serving(plugin).unwrap()["sha256"]
            .as_str()
            .unwrap()
            .to_owned();
        std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.starts_with(&sha) && name.ends_with(".cwasm")
            })
            .unwrap_or_else(|| panic!("no artifact of {plugin}"))
    };
    let (hostile, files) = (artifact_of("hostile"), artifact_of("files"));
    daemon.signal("TERM");
    assert!(daemon.wait_exit());

    // The files plugin's artifact, a valid one for this engine, renamed over the hostile
    // plugin's: trusted by its name, the daemon would run the files plugin's code as
    // `hostile`.
    let swapped = cache.join("swapped");
    std::fs::copy(&files, &swapped).unwrap();
    std::fs::rename(&swapped, &hostile).unwrap();
    daemon.spawn();
    let serving = daemon.serving("hostile").unwrap();
    assert_eq!(serving["load_source"], "compiled", "{serving}");
    assert_eq!(daemon.serving("files").unwrap()["load_source"], "cached");
    assert!(
        daemon
            .log()
            .contains("its bytes do not match the hash recorded"),
        "{}",
        daemon.log()
    );
    // The hostile datastore is read by the hostile plugin, beside an exact example.
    let numbers = daemon.submit(json!({"kind": "profile", "datastore": "numbers"}));
    profile_example(&daemon);
    let job = daemon.wait_job(numbers);
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["progress"]["rows"], 3, "{job}");
    still_serving_and_bounded(&daemon);
}

#[test]
fn the_state_store_is_created_private() {
    let mut daemon = DaemonProcess::prepare(&config(EXAMPLE_DATASTORE), &["files"]);
    let data = daemon.dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::copy(
        crate::support::root().join("examples/data/orders.csv"),
        data.join("orders.csv"),
    )
    .unwrap();
    daemon.spawn();
    let job = daemon.submit(json!({"kind": "profile", "datastore": "example"}));
    assert_eq!(daemon.wait_job(job)["state"], "succeeded");
    assert_eq!(mode(&daemon.state()), 0o700);
    for file in ["state.db", "state.db-wal", "state.db-shm"] {
        let path = daemon.state().join(file);
        if file == "state.db" || path.exists() {
            assert_eq!(mode(&path), 0o600, "{file}");
        }
    }
    daemon.signal("TERM");
    assert!(daemon.wait_exit());
    // A store others could read (an older qualityd, a copy) is made private at start.
    let store = daemon.state().join("state.db");
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o644)).unwrap();
    daemon.spawn();
    assert_eq!(mode(&store), 0o600);
    assert!(daemon.log().contains("made private"), "{}", daemon.log());
}

#[test]
fn values_too_large_for_their_arithmetic_are_config_errors_at_their_line() {
    let cases = [
        (
            "[datastores.x]\nplugin = \"files\"\ngrants = { job_timeout_secs = 9223372036854775807 }\n",
            "datastores.x.grants.job_timeout_secs",
            3,
        ),
        (
            "[datastores.x]\nplugin = \"files\"\n\n[datastores.x.grants]\nmemory_mib = 18446744073709\n",
            "datastores.x.grants.memory_mib",
            5,
        ),
        (
            "[datastores.x]\nplugin = \"files\"\ngrants = { call_timeout_secs = 400000000 }\n",
            "datastores.x.grants.call_timeout_secs",
            3,
        ),
        (
            "shutdown_grace_secs = 9223372036854775807\n",
            "shutdown_grace_secs",
            1,
        ),
        ("max_jobs = 9223372036854775807\n", "max_jobs", 1),
        (
            "\n[retention]\ndays = 9223372036854775807\n",
            "retention.days",
            3,
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qualityd.toml");
    for (text, key, line) in cases {
        std::fs::write(&path, format!("cache_dir = \"cache\"\n{text}")).unwrap();
        let output = qualityd(&["serve", "--config", path.to_str().unwrap()], &[]);
        let stderr = text_of(&output.stderr);
        assert!(!output.status.success(), "{text}: {stderr}");
        assert!(!stderr.contains("panicked"), "{text}: {stderr}");
        // The key, its line (one more for the `cache_dir` line above), and what to do.
        assert!(stderr.contains(key), "{text}: {stderr}");
        assert!(
            stderr.contains(&format!("qualityd.toml:{}: `{key}`", line + 1)),
            "{text}: {stderr}"
        );
        assert!(stderr.contains("too large"), "{text}: {stderr}");
    }
    // The command line refuses them too.
    let output = qualityd(
        &["profile", "x.csv", "--memory-mib", "18446744073709551615"],
        &[],
    );
    assert!(!output.status.success());
    assert!(
        text_of(&output.stderr).contains("--memory-mib"),
        "{}",
        text_of(&output.stderr)
    );
}

fn text_of(bytes: &[u8]) -> String {
    text(bytes)
}

#[test]
fn retention_prunes_old_records_but_keeps_the_latest_profile_and_open_anomalies() {
    let retention = "\n[retention]\ndays = 30\nkeep_per_container = 1\n";
    let text_config = own_cache(&config(&format!("{EXAMPLE_DATASTORE}{retention}")));
    let mut daemon = DaemonProcess::prepare(&text_config, &["files"]);
    daemon.copy_example_data();
    daemon.spawn();

    // Two profiles of each container, two scans finding two anomalies; one resolved.
    let first_profile = profile_example(&daemon);
    let latest_profile = profile_example(&daemon);
    for field in ["discount", "note"] {
        let created = daemon.post(
            "/checks",
            &json!({"datastore": "example", "container": "orders.csv", "fields": [field],
                    "rule": {"rule": "not_null"}}),
        );
        assert_eq!(created.status, 201, "{}", created.body);
    }
    let mut scan_jobs = Vec::new();
    for _ in 0..2 {
        let scan = daemon.submit(json!({"kind": "scan", "datastore": "example"}));
        assert_eq!(daemon.wait_job(scan)["state"], "succeeded");
        scan_jobs.push(scan);
    }
    let anomalies = daemon.get("/anomalies").body;
    let anomalies = anomalies.as_array().unwrap().clone();
    assert_eq!(anomalies.len(), 2, "{anomalies:?}");
    let (open, resolved) = (&anomalies[0], &anomalies[1]);
    let answer = daemon.post(
        &format!("/anomalies/{}/status", resolved["id"]),
        &json!({"status": "resolved", "note": "fixed upstream"}),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_ne!(open["first_scan_id"], open["last_scan_id"], "{open}");
    let serving_sha = daemon.serving("files").unwrap()["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    daemon.signal("TERM");
    assert!(daemon.wait_exit());

    // Everything recorded so far becomes 100 days old; an artifact of a plugin gone since,
    // unused for as long, lies in the cache.
    age_store(&daemon.state().join("state.db"), 100);
    let cache = daemon.dir.path().join("own-artifacts");
    let stale = cache.join(format!("{}-0000000000000000.cwasm", "ab".repeat(32)));
    std::fs::write(&stale, b"an artifact nobody uses").unwrap();
    let long_ago = SystemTime::now() - Duration::from_secs(100 * 24 * 3600);
    std::fs::File::options()
        .append(true)
        .open(&stale)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    daemon.spawn();
    // The first start pruned too (nothing): wait for the second.
    daemon.wait_for("the pruning at start", || {
        daemon.log().matches("store pruned").count() == 2
    });

    // The latest profile of each container stays; the older one is gone, with its job.
    for container in ["orders.csv", "customers.csv"] {
        let history = daemon
            .get(&format!(
                "/datastores/example/containers/{container}/profiles"
            ))
            .body;
        let history = history.as_array().unwrap();
        assert_eq!(history.len(), 1, "{history:?}");
        assert_eq!(history[0]["job_id"], latest_profile, "{history:?}");
    }
    let latest = daemon
        .get("/datastores/example/containers/orders.csv/profile")
        .body;
    assert_eq!(latest["profile"]["rows"], 1000, "{latest}");
    assert_eq!(daemon.get(&format!("/jobs/{first_profile}")).status, 404);
    assert_eq!(daemon.get(&format!("/jobs/{latest_profile}")).status, 200);
    // The open anomaly stays, with its records and the scans it refers to (and their jobs);
    // the resolved one is gone.
    let kept = daemon.get(&format!("/anomalies/{}", open["id"]));
    assert_eq!(kept.status, 200, "{}", kept.body);
    assert_eq!(kept.body["records"], open["records"]);
    assert!(!open["records"].as_array().unwrap().is_empty(), "{open}");
    for scan in [&open["first_scan_id"], &open["last_scan_id"]] {
        let answer = daemon.get(&format!("/scans/{scan}"));
        assert_eq!(answer.status, 200, "scan {scan}: {}", answer.body);
    }
    for job in &scan_jobs {
        assert_eq!(daemon.get(&format!("/jobs/{job}")).status, 200);
    }
    assert_eq!(
        daemon.get(&format!("/anomalies/{}", resolved["id"])).status,
        404
    );
    // Old plugin events are gone; the newest of each plugin is kept.
    let events = daemon.events();
    assert!(!events.is_empty());
    let cutoff = chrono::Utc::now() - chrono::Duration::days(30);
    for event in &events {
        let at = chrono::DateTime::parse_from_rfc3339(event["at"].as_str().unwrap()).unwrap();
        assert!(at > cutoff, "an old event kept: {event}");
    }
    // The unused artifact is gone; the serving plugin's is there.
    assert!(!stale.exists());
    let names: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with(&serving_sha) && n.ends_with(".cwasm")),
        "{names:?}"
    );
    // The daemon goes on: a new scan sees the open anomaly again, a new profile is exact.
    let scan = daemon.submit(json!({"kind": "scan", "datastore": "example"}));
    assert_eq!(daemon.wait_job(scan)["state"], "succeeded");
    let again = daemon.get(&format!("/anomalies/{}", open["id"])).body;
    assert_eq!(again["status"], "active", "{again}");
    profile_example(&daemon);
    still_serving_and_bounded(&daemon);
}

/// Move every time the store at `path` holds `days` into the past, as if it had all been
/// recorded then.
fn age_store(path: &Path, days: i64) {
    let shift = days * 24 * 3600 * 1_000_000;
    let store = rusqlite::Connection::open(path).unwrap();
    for (table, columns) in [
        ("profiles", &["profiled_at"][..]),
        ("scans", &["scanned_at"]),
        ("jobs", &["created_at", "started_at", "finished_at"]),
        ("anomalies", &["created_at", "updated_at"]),
        ("plugin_events", &["at"]),
        ("containers", &["updated_at"]),
    ] {
        for column in columns {
            store
                .execute(
                    &format!("UPDATE {table} SET {column} = {column} - ?1"),
                    [shift],
                )
                .unwrap();
        }
    }
}
