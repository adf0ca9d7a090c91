//! Hostile plugins in a running daemon, one test each: the misbehaving datastore's job ends
//! with the exact error class and a message naming the plugin and the limit, while at the
//! same moment a well-behaved datastore in the same daemon profiles the example data
//! correctly.

use serde_json::{Value, json};

use crate::daemon_process::{DaemonProcess, EXAMPLE_DATASTORE, config};

/// Limits small enough for the tests to hit quickly.
const GRANTS: &str = "grants = { directories = [\"data\"], memory_mib = 64, call_timeout_secs = 1, \
    job_timeout_secs = 60, ipc_chunk_mib = 16, ipc_batch_mib = 32 }";

/// A daemon with the example datastore and `hostile` in `mode` (with `target`).
fn daemon(mode: &str, target: &str) -> DaemonProcess {
    daemon_granting(mode, target, GRANTS)
}

/// As [`daemon`], with other grants for `hostile`.
fn daemon_granting(mode: &str, target: &str, grants: &str) -> DaemonProcess {
    let hostile = format!(
        "[datastores.hostile]\nplugin = \"hostile\"\n\
         settings = {{ mode = \"{mode}\", target = \"{target}\" }}\n{grants}\n"
    );
    let text = config(&format!("{EXAMPLE_DATASTORE}{hostile}"));
    DaemonProcess::start_with_example_data(&text, &["files", "hostile"])
}

/// Run a profile of `hostile` and of `example` at once; check the example's profile and
/// return the hostile job as it ended.
fn beside_the_example(daemon: &DaemonProcess) -> Value {
    let hostile = daemon.submit(json!({"kind": "profile", "datastore": "hostile"}));
    daemon.profile_example_exactly();
    daemon.wait_job(hostile)
}

/// The job failed as a whole (at `discover`) with `code`; returns its error.
fn failed_whole(job: &Value, code: &str) -> String {
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error_code"], code, "{job}");
    let error = job["error"].as_str().unwrap().to_owned();
    assert!(error.contains("hostile@0.0.1"), "names the plugin: {error}");
    error
}

/// The job's one container failed while reading, with `code`; returns its error.
fn failed_reading(job: &Value, code: &str) -> String {
    assert_eq!(job["state"], "failed", "{job}");
    let failure = &job["failures"][0];
    assert_eq!(failure["container"], "numbers", "{job}");
    assert_eq!(failure["code"], code, "{job}");
    let error = failure["error"].as_str().unwrap().to_owned();
    assert!(error.contains("hostile@0.0.1"), "names the plugin: {error}");
    error
}

#[test]
fn a_discover_that_never_returns_is_stopped_at_the_call_limit() {
    let daemon = daemon("spin", "");
    let error = failed_whole(&beside_the_example(&daemon), "trap");
    assert!(
        error.contains("discover") && error.contains("time limit of 1s"),
        "{error}"
    );
}

#[test]
fn a_next_that_never_returns_is_stopped_at_the_call_limit() {
    let daemon = daemon("spin-next", "");
    let error = failed_reading(&beside_the_example(&daemon), "trap");
    assert!(
        error.contains("read `numbers`") && error.contains("time limit of 1s"),
        "{error}"
    );
}

#[test]
fn allocation_past_the_cap_is_refused() {
    let daemon = daemon("hog", "");
    let error = failed_whole(&beside_the_example(&daemon), "trap");
    let named = error.contains("memory cap of 64 MiB") && error.contains("grants.memory_mib");
    assert!(named, "{error}");
}

#[test]
fn a_panic_fails_only_its_job() {
    let daemon = daemon("panic", "");
    let error = failed_whole(&beside_the_example(&daemon), "trap");
    assert!(error.contains("panics in discover, as asked"), "{error}");
    // Its stderr reached the host's log too, line by line, tagged with the plugin.
    let log = daemon.log();
    let line = log.lines().find(|line| {
        line.contains("panics in discover, as asked") && line.contains("stream=\"stderr\"")
    });
    assert!(line.is_some_and(|l| l.contains("hostile@0.0.1")), "{log}");
}

#[test]
fn malformed_ipc_is_rejected() {
    let daemon = daemon("malformed-ipc", "");
    failed_reading(&beside_the_example(&daemon), "ipc");
}

#[test]
fn a_batch_of_another_schema_is_rejected() {
    let daemon = daemon("schema-mismatch", "");
    failed_reading(&beside_the_example(&daemon), "schema-mismatch");
}

#[test]
fn an_ipc_message_claiming_a_huge_length_stops_at_the_batch_cap() {
    let daemon = daemon("huge-claim", "");
    let error = failed_reading(&beside_the_example(&daemon), "limit");
    assert!(
        error.contains("32 MiB") && error.contains("ipc_batch_mib"),
        "{error}"
    );
}

#[test]
fn a_chunk_over_the_cap_is_refused() {
    // Memory and time enough for the guest to build the chunk and the host to copy it out:
    // the host's cap is what refuses it.
    let daemon = daemon_granting(
        "big-chunk",
        "",
        &GRANTS
            .replace("memory_mib = 64", "memory_mib = 256")
            .replace("call_timeout_secs = 1", "call_timeout_secs = 30"),
    );
    let error = failed_reading(&beside_the_example(&daemon), "limit");
    assert!(
        error.contains("96 MiB") && error.contains("ipc_chunk_mib"),
        "{error}"
    );
}

#[test]
fn a_stream_that_never_ends_is_stopped_at_the_job_limit() {
    let limit = GRANTS.replace("job_timeout_secs = 60", "job_timeout_secs = 3");
    let daemon = daemon_granting("endless", "", &limit);
    let job = beside_the_example(&daemon);
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error_code"], "time-limit", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("job_timeout_secs") && error.contains("3 s"),
        "{error}"
    );
    assert!(job["progress"]["rows"].as_u64().unwrap() > 0, "{job}");
}

#[test]
fn a_log_flood_is_rate_limited() {
    // Time enough for 100 000 log calls on a loaded machine.
    let roomy = GRANTS.replace("call_timeout_secs = 1", "call_timeout_secs = 20");
    let daemon = daemon_granting("log-flood", "", &roomy);
    let job = beside_the_example(&daemon);
    assert_eq!(
        job["state"], "succeeded",
        "the plugin answers after its flood: {job}"
    );
    let log = daemon.log();
    let lines = log.matches("flood line").count();
    assert!(
        (100..2_000).contains(&lines),
        "{lines} of 100 000 flood lines reached the log"
    );
    assert!(log.contains("log lines dropped"), "the drop is said");
}

#[test]
fn paths_outside_the_grant_are_not_found() {
    let mut daemon = DaemonProcess::prepare(&config(""), &["files", "hostile"]);
    let root = daemon.dir.path().canonicalize().unwrap();
    let data = root.join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(root.join("secret.txt"), "outside").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", data.join("passwd")).unwrap();
    std::os::unix::fs::symlink(root.join("secret.txt"), data.join("secret")).unwrap();
    let targets = [
        "/etc/passwd".to_owned(),
        format!("{}/../secret.txt", data.display()),
        format!("{}/passwd", data.display()),
        format!("{}/secret", data.display()),
    ];
    let mut text = String::new();
    for (i, target) in targets.iter().enumerate() {
        text += &format!(
            "[datastores.h{i}]\nplugin = \"hostile\"\n\
             settings = {{ mode = \"read-file\", target = \"{target}\" }}\n{GRANTS}\n"
        );
    }
    std::fs::write(daemon.dir.path().join("qualityd.toml"), config(&text)).unwrap();
    daemon.spawn();
    for (i, target) in targets.iter().enumerate() {
        let job = daemon.submit(json!({"kind": "profile", "datastore": format!("h{i}")}));
        let error = failed_reading(&daemon.wait_job(job), "plugin.not-found");
        assert!(error.contains(&format!("cannot open {target}")), "{error}");
    }
}

#[test]
fn granted_directories_are_read_only() {
    let mut daemon = DaemonProcess::prepare(&config(""), &["hostile"]);
    let data = daemon.dir.path().canonicalize().unwrap().join("data");
    std::fs::create_dir(&data).unwrap();
    let target = data.join("new.txt");
    let hostile = format!(
        "[datastores.hostile]\nplugin = \"hostile\"\n\
         settings = {{ mode = \"write-file\", target = \"{}\" }}\n{GRANTS}\n",
        target.display()
    );
    std::fs::write(daemon.dir.path().join("qualityd.toml"), config(&hostile)).unwrap();
    daemon.spawn();
    let job = daemon.submit(json!({"kind": "profile", "datastore": "hostile"}));
    let error = failed_reading(&daemon.wait_job(job), "plugin.not-found");
    assert!(error.contains("cannot write"), "{error}");
    assert!(
        !target.exists(),
        "the plugin wrote into a granted directory"
    );
}

#[test]
fn no_environment_or_arguments_reach_a_plugin() {
    // The daemon runs with the test's environment; the plugin must see none of it.
    let daemon = daemon("ambient", "");
    let job = beside_the_example(&daemon);
    let error = failed_reading(&job, "plugin.internal");
    assert!(
        error.contains("sees 0 environment variables [] and 0 arguments []"),
        "{error}"
    );
}

#[test]
fn a_plugin_asking_for_more_than_its_grants_is_refused_before_any_call() {
    // `panic` would trap in `discover`: the job must fail before that.
    let bare = "[datastores.bare]\nplugin = \"hostile\"\nsettings = { mode = \"panic\" }\n";
    let daemon = DaemonProcess::start(&config(bare), &["hostile"]);
    let job = daemon.submit(json!({"kind": "catalog", "datastore": "bare"}));
    let job = daemon.wait_job(job);
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error_code"], "not-granted", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("hostile@0.0.1 needs read access to directories")
            && error.contains("grants.directories"),
        "{error}"
    );
    let metrics = daemon.get("/metrics").body;
    let calls = metrics.as_str().unwrap();
    assert!(calls.contains("qualityd_plugin_calls_total 0"), "{calls}");
}

#[test]
fn secrets_never_reach_logs_events_job_errors_api_answers_or_the_store() {
    const FROM_FILE: &str = "file-secret-4711";
    const IN_CLEAR: &str = "clear-secret-0815";
    let echo = format!(
        "[datastores.echo]\nplugin = \"hostile\"\n\
         settings = {{ mode = \"echo-secret\", target = \"${{file:token.txt}}\", \
         token = \"{IN_CLEAR}\" }}\n{GRANTS}\n"
    );
    let mut daemon =
        DaemonProcess::prepare(&config(&format!("{EXAMPLE_DATASTORE}{echo}")), &["hostile"]);
    std::fs::create_dir(daemon.dir.path().join("data")).unwrap();
    std::fs::write(
        daemon.dir.path().join("token.txt"),
        format!("{FROM_FILE}\n"),
    )
    .unwrap();
    daemon.spawn();

    let job = daemon.submit(json!({"kind": "profile", "datastore": "echo"}));
    let error = failed_reading(&daemon.wait_job(job), "trap");
    assert!(
        error.contains("leaking [redacted] and [redacted]"),
        "the panic is reported, scrubbed: {error}"
    );
    let catalog = daemon.submit(json!({"kind": "catalog", "datastore": "echo"}));
    daemon.wait_job(catalog);

    let datastore = daemon.get("/datastores/echo").body;
    assert_eq!(datastore["settings"]["target"], "${file:token.txt}");
    assert_eq!(datastore["settings"]["token"], "[redacted]");
    let answers: Vec<String> = [
        "/datastores",
        "/jobs",
        &format!("/jobs/{job}"),
        "/plugins",
        "/plugins/events",
        "/metrics",
    ]
    .iter()
    .map(|path| daemon.get(path).body.to_string())
    .collect();
    let log = daemon.log();
    assert!(
        log.contains("target is [redacted], token is [redacted]"),
        "{log}"
    );
    let mut stored = Vec::new();
    for file in ["state.db", "state.db-wal"] {
        if let Ok(bytes) = std::fs::read(daemon.state().join(file)) {
            stored.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    for secret in [FROM_FILE, IN_CLEAR] {
        assert!(!log.contains(secret), "{secret} in the log");
        for answer in &answers {
            assert!(!answer.contains(secret), "{secret} in {answer}");
        }
        for bytes in &stored {
            assert!(!bytes.contains(secret), "{secret} in the store");
        }
    }
}

/// A TCP listener on a free loopback port that answers `pong` to whoever connects, counting
/// connections until it is dropped.
struct Listener {
    port: u16,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Listener {
    fn start() -> Listener {
        use std::io::{Read, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (count, stopped) = (accepted.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        count.fetch_add(1, Ordering::Relaxed);
                        stream.set_nonblocking(false).unwrap();
                        let mut ping = [0u8; 4];
                        if stream.read_exact(&mut ping).is_ok() {
                            let _ = stream.write_all(b"pong");
                        }
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                }
            }
        });
        Listener {
            port,
            accepted,
            stop,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn only_granted_host_ports_can_be_reached() {
    let (granted, other) = (Listener::start(), Listener::start());
    let (p1, p2) = (granted.port, other.port);
    // (datastore, granted hosts, target, what the plugin reports)
    let cases = [
        (
            "granted",
            format!("\"127.0.0.1:{p1}\""),
            format!("127.0.0.1:{p1}"),
            "which answered pong",
        ),
        (
            "by_name",
            format!("\"localhost:{p1}\""),
            format!("localhost:{p1}"),
            "which answered pong",
        ),
        (
            "other_port",
            format!("\"127.0.0.1:{p1}\""),
            format!("127.0.0.1:{p2}"),
            "cannot connect",
        ),
        (
            "no_grant",
            String::new(),
            format!("127.0.0.1:{p1}"),
            "cannot connect",
        ),
        (
            "name_not_granted",
            format!("\"127.0.0.1:{p1}\""),
            format!("localhost:{p1}"),
            "cannot connect",
        ),
    ];
    let mut text = String::new();
    for (name, hosts, target, _) in &cases {
        text += &format!(
            "[datastores.{name}]\nplugin = \"hostile\"\n\
             settings = {{ mode = \"connect\", target = \"{target}\" }}\n\
             grants = {{ directories = [\"plugins\"], hosts = [{hosts}], call_timeout_secs = 5 }}\n"
        );
    }
    let daemon = DaemonProcess::start(&config(&text), &["hostile"]);
    for (name, _, target, says) in &cases {
        let job = daemon.submit(json!({"kind": "profile", "datastore": name}));
        let job = daemon.wait_job(job);
        let error = job["failures"][0]["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(says) && error.contains(target.as_str()),
            "{name}: {job}"
        );
    }
    assert_eq!(granted.accepted(), 2, "the two granted connections arrived");
    assert_eq!(
        other.accepted(),
        0,
        "the port not granted was never reached"
    );
    let shown = daemon.get("/datastores/granted").body;
    assert_eq!(shown["grants"]["hosts"], json!([format!("127.0.0.1:{p1}")]));
}

#[test]
fn a_component_built_against_another_contract_is_refused_at_load() {
    let slow = crate::daemon_process::slow_datastore("quick", 1, 0);
    let daemon = DaemonProcess::start(&config(&slow), &["hostile"]);
    let serving = daemon.serving("hostile").unwrap()["sha256"].clone();
    let future = crate::support::plugin_dir().join("future_contract.wasm");
    let temporary = daemon.plugins().join(".hostile.wasm.tmp");
    std::fs::copy(future, &temporary).unwrap();
    std::fs::rename(&temporary, daemon.plugins().join("hostile.wasm")).unwrap();
    daemon.wait_for("a failed event", || daemon.events()[0]["kind"] == "failed");
    let message = daemon.events()[0]["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("qualityd:connector@0.1.0") && message.contains("keeps serving"),
        "{message}"
    );
    assert_eq!(daemon.serving("hostile").unwrap()["sha256"], serving);
    let job = daemon.submit(json!({"kind": "profile", "datastore": "quick"}));
    assert_eq!(daemon.wait_job(job)["state"], "succeeded");
}
