//! Plugins that try to hold the daemon forever or make it keep memory on their behalf
//! (issue 15, items 4 to 6), each in a running daemon beside the well-behaved example
//! datastore: streams of empty chunks, calls blocked where no time limit reaches, a FIFO in
//! a granted directory, SIGTERM with stuck jobs or during the first compile, several linear
//! memories, a flood of partitions and a stalled first partition. Each test checks that the
//! daemon serves, the example's results are exact, the hostile job ends with its error code
//! and the daemon's peak memory stayed bounded.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::daemon_process::{DaemonProcess, EXAMPLE_DATASTORE, config, own_cache};

/// The most resident memory the daemon may reach in these tests, in KiB.
const PEAK_RSS_KIB: u64 = 1 << 20;

/// Limits small enough for the tests to hit quickly, as `key = value` pairs.
const GRANTS: [(&str, &str); 4] = [
    ("directories", "[\"data\"]"),
    ("memory_mib", "64"),
    ("call_timeout_secs", "2"),
    ("job_timeout_secs", "60"),
];

/// The `[datastores.NAME]` table of `hostile` in `mode`, with extra `settings` (TOML
/// inline-table entries, each ending with a comma, or empty) and grants replacing the
/// test's [`GRANTS`].
fn hostile(name: &str, mode: &str, settings: &str, grants: &[(&str, &str)]) -> String {
    let grants: Vec<String> = GRANTS
        .iter()
        .map(|(key, value)| {
            let value = grants
                .iter()
                .find(|(k, _)| k == key)
                .map_or(*value, |g| g.1);
            format!("{key} = {value}")
        })
        .collect();
    format!(
        "[datastores.{name}]\nplugin = \"hostile\"\n\
         settings = {{ {settings} mode = \"{mode}\" }}\n\
         grants = {{ {} }}\n",
        grants.join(", ")
    )
}

/// A daemon with the example datastore and the given hostile datastores.
fn daemon(hostile: &str) -> DaemonProcess {
    let text = config(&format!("{EXAMPLE_DATASTORE}{hostile}"));
    DaemonProcess::start_with_example_data(&text, &["files", "hostile"])
}

/// Profile the example datastore and check its results are exact.
fn example_is_exact(daemon: &DaemonProcess) {
    daemon.profile_example_exactly();
    let customers = daemon
        .get("/datastores/example/containers/customers.csv/profile")
        .body;
    assert_eq!(customers["profile"]["rows"], 120);
}

/// The daemon still serves, and its peak memory stayed bounded.
fn serving_and_bounded(daemon: &DaemonProcess) {
    daemon.assert_serving_within_kib(PEAK_RSS_KIB);
}

/// Start a profile of `hostile` and, while it runs, profile the example; return the hostile
/// job's id.
fn beside_the_example(daemon: &DaemonProcess, datastore: &str) -> i64 {
    let hostile = daemon.submit(json!({"kind": "profile", "datastore": datastore}));
    example_is_exact(daemon);
    hostile
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
fn a_stream_of_empty_chunks_is_abandoned_after_the_bound() {
    let daemon = daemon(&hostile("empty", "empty-chunks", "pause_ms = 0,", &[]));
    let job = beside_the_example(&daemon, "empty");
    let error = failed_reading(&daemon.wait_job(job), "limit");
    assert!(
        error.contains("1024 empty chunks without a batch"),
        "{error}"
    );
    serving_and_bounded(&daemon);
}

#[test]
fn cancelling_stops_a_stream_of_empty_chunks() {
    // 50 ms per chunk: the bound is 50 s away, so only the cancel can stop it soon.
    let daemon = daemon(&hostile("empty", "empty-chunks", "pause_ms = 50,", &[]));
    let job = beside_the_example(&daemon, "empty");
    daemon.wait_running(job);
    std::thread::sleep(Duration::from_millis(500));
    let asked = Instant::now();
    let answer = daemon.post(&format!("/jobs/{job}/cancel"), &json!({}));
    assert_eq!(answer.status, 202, "{}", answer.body);
    let job = daemon.wait_job(job);
    assert!(asked.elapsed() < Duration::from_secs(5), "{job}");
    assert_eq!(job["state"], "cancelled", "{job}");
    assert_eq!(job["error_code"], "cancelled", "{job}");
    serving_and_bounded(&daemon);
}

#[test]
fn the_job_time_limit_stops_a_stream_of_empty_chunks() {
    let daemon = daemon(&hostile(
        "empty",
        "empty-chunks",
        "pause_ms = 50,",
        &[("job_timeout_secs", "3")],
    ));
    let started = Instant::now();
    let job = daemon.wait_job(beside_the_example(&daemon, "empty"));
    assert!(started.elapsed() < Duration::from_secs(20), "{job}");
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error_code"], "time-limit", "{job}");
    serving_and_bounded(&daemon);
}

#[test]
fn a_fifo_in_a_granted_directory_is_skipped_with_a_warning() {
    let mut daemon = DaemonProcess::prepare(&config(EXAMPLE_DATASTORE), &["files"]);
    daemon.copy_example_data();
    let data = daemon.dir.path().join("data");
    // Named like data: opening it would block until someone writes, which nobody does.
    let fifo = data.join("stuck.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    daemon.spawn();
    example_is_exact(&daemon);
    let catalog = daemon.submit(json!({"kind": "catalog", "datastore": "example"}));
    assert_eq!(daemon.wait_job(catalog)["state"], "succeeded");
    let containers = daemon
        .get("/datastores/example/containers")
        .body
        .to_string();
    assert!(!containers.contains("stuck.csv"), "{containers}");
    let log = daemon.log();
    assert!(
        log.lines()
            .any(|l| l.contains("stuck.csv") && l.contains("not a regular file")),
        "{log}"
    );
    serving_and_bounded(&daemon);
}

#[test]
fn sigterm_ends_within_the_grace_period_while_two_jobs_are_stuck() {
    let stuck = format!(
        "{}{}",
        hostile("stuck1", "stall-next", "", &[]),
        hostile("stuck2", "stall-next", "", &[])
    );
    let text = config(&format!("{EXAMPLE_DATASTORE}{stuck}")).replace(
        "shutdown_grace_secs = 30",
        "shutdown_grace_secs = 1\nmax_jobs = 2",
    );
    let mut daemon = DaemonProcess::start_with_example_data(&text, &["files", "hostile"]);
    example_is_exact(&daemon);
    let stuck: Vec<i64> = ["stuck1", "stuck2"]
        .iter()
        .map(|name| daemon.submit(json!({"kind": "profile", "datastore": name})))
        .collect();
    for job in &stuck {
        daemon.wait_running(*job);
    }
    // Both slots are taken: the example waits.
    let queued = daemon.submit(json!({"kind": "profile", "datastore": "example"}));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        daemon.get(&format!("/jobs/{queued}")).body["state"],
        "queued"
    );
    serving_and_bounded(&daemon);

    let asked = Instant::now();
    daemon.signal("TERM");
    assert!(daemon.wait_exit(), "exits cleanly\n{}", daemon.log());
    let took = asked.elapsed();
    // The grace period, the time cancelled jobs get to stop, a second for the store.
    assert!(took < Duration::from_secs(1 + 2 + 3), "took {took:?}");

    let store = qualityd::store::Store::open(&daemon.state()).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    for job in stuck {
        let record = store.job(job).unwrap().unwrap();
        assert_eq!(
            record.state,
            qualityd::store::JobState::Cancelled,
            "{record:?}"
        );
        let error = record.error.unwrap();
        assert!(error.contains("abandoned"), "{error}");
    }
    let record = store.job(queued).unwrap().unwrap();
    assert_eq!(
        record.state,
        qualityd::store::JobState::Cancelled,
        "{record:?}"
    );
    drop(store);

    // It starts again on the same state and serves.
    daemon.spawn();
    example_is_exact(&daemon);
}

#[test]
fn sigterm_during_the_first_compile_exits_at_once() {
    let text = own_cache(&config(EXAMPLE_DATASTORE));
    let mut daemon = DaemonProcess::prepare(&text, &["files", "hostile"]);
    daemon.copy_example_data();
    daemon.spawn_listening();
    let artifacts = daemon.dir.path().join("own-artifacts");
    let compiled = || {
        std::fs::read_dir(&artifacts)
            .map(|dir| {
                (dir.filter_map(|e| e.ok()))
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".cwasm"))
                    .count()
            })
            .unwrap_or(0)
    };
    assert_eq!(daemon.get("/readyz").status, 503, "still compiling");
    assert!(compiled() < 2, "compiled before the signal: no test");
    let asked = Instant::now();
    daemon.signal("TERM");
    assert!(daemon.wait_exit(), "exits cleanly\n{}", daemon.log());
    let took = asked.elapsed();
    assert!(compiled() < 2, "the exit waited for the compiles");
    assert!(
        took < Duration::from_secs(3),
        "took {took:?}\n{}",
        daemon.log()
    );

    let store = qualityd::store::Store::open(&daemon.state()).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    drop(store);
    daemon.spawn();
    example_is_exact(&daemon);
    serving_and_bounded(&daemon);
}

/// The hostile component with one more core module, defining `memories` linear memories of
/// `pages` 64 KiB pages each, instantiated at the component's top level.
fn with_memories(memories: u32, pages: u32) -> Vec<u8> {
    let mut component = std::fs::read(crate::support::plugin_dir().join("hostile.wasm")).unwrap();
    // Core modules defined at the top level so far: the new one's index.
    let mut modules = 0;
    let mut at = 8;
    while at < component.len() {
        let id = component[at];
        let (size, after) = read_leb(&component, at + 1);
        modules += u32::from(id == 1);
        at = after + size as usize;
    }
    let mut section = leb(memories);
    for _ in 0..memories {
        section.push(0x00); // no maximum
        section.extend(leb(pages));
    }
    let mut module = b"\0asm\x01\0\0\0".to_vec();
    module.push(5); // the memory section
    module.extend(leb(section.len() as u32));
    module.extend(section);
    component.push(1); // a core module section
    component.extend(leb(module.len() as u32));
    component.extend(module);
    // A core instance section: one instance of the new module, with no arguments.
    let mut instance = vec![1, 0x00];
    instance.extend(leb(modules));
    instance.push(0);
    component.push(2);
    component.extend(leb(instance.len() as u32));
    component.extend(instance);
    component
}

fn leb(mut value: u32) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn read_leb(bytes: &[u8], mut at: usize) -> (u64, usize) {
    let (mut value, mut shift) = (0u64, 0);
    loop {
        let byte = bytes[at];
        at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        if byte < 0x80 {
            return (value, at);
        }
    }
}

/// A daemon whose `hostile.wasm` is `component`, beside the example.
fn daemon_serving(component: &[u8], hostile: &str) -> DaemonProcess {
    let text = config(&format!("{EXAMPLE_DATASTORE}{hostile}"));
    let mut daemon = DaemonProcess::prepare(&text, &["files"]);
    std::fs::write(daemon.plugins().join("hostile.wasm"), component).unwrap();
    daemon.copy_example_data();
    daemon.spawn();
    daemon
}

#[test]
fn linear_memories_are_capped_together() {
    // Three memories of 40 MiB: each under the 64 MiB cap, 120 MiB together.
    let daemon = daemon_serving(&with_memories(3, 640), &hostile("multi", "", "", &[]));
    let job = daemon.wait_job(beside_the_example(&daemon, "multi"));
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error_code"], "trap", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("memory cap of 64 MiB") && error.contains("hostile@0.0.1"),
        "{error}"
    );
    serving_and_bounded(&daemon);
}

#[test]
fn more_linear_memories_than_a_plugin_may_have_are_refused_at_load() {
    let daemon = daemon_serving(&with_memories(8, 1), &hostile("multi", "", "", &[]));
    let events = daemon.events();
    let failed = events
        .iter()
        .find(|e| e["plugin"] == "hostile" && e["kind"] == "failed")
        .unwrap_or_else(|| panic!("no failed event: {events:?}"));
    let message = failed["message"].as_str().unwrap();
    assert!(
        message.contains("at most 4 linear memories") && message.contains("memory count"),
        "{message}"
    );
    assert!(daemon.serving("hostile").is_none());
    let job = daemon.wait_job(beside_the_example(&daemon, "multi"));
    assert_eq!(job["error_code"], "plugin-not-loaded", "{job}");
    serving_and_bounded(&daemon);
}

#[test]
fn a_flood_of_partitions_is_refused() {
    let daemon = daemon(&hostile(
        "flood",
        "many-partitions",
        "",
        &[("memory_mib", "256")],
    ));
    let job = daemon.wait_job(beside_the_example(&daemon, "flood"));
    let error = failed_reading(&job, "limit");
    assert!(
        error.contains("announced 200000 partitions") && error.contains("100000"),
        "{error}"
    );
    assert_eq!(job["progress"]["partitions_total"], 0, "{job}");
    serving_and_bounded(&daemon);
}

#[test]
fn a_stalled_first_partition_holds_the_others_back() {
    let daemon = daemon(&hostile(
        "stalled",
        "stall-first-partition",
        "pause_ms = 100,",
        &[],
    ));
    let job = beside_the_example(&daemon, "stalled");
    daemon.wait_running(job);
    // The daemon reads as many partitions at once as it has cores, and runs four per
    // reader ahead of the oldest partition not merged.
    let cores = std::thread::available_parallelism().unwrap().get() as u64;
    let bound = 4 * cores + cores;
    let mut done = 0;
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(100));
        let state = daemon.get(&format!("/jobs/{job}")).body;
        assert_eq!(state["state"], "running", "{state}");
        done = state["progress"]["partitions_done"].as_u64().unwrap();
        assert!(
            done <= bound,
            "{done} of 2000 partitions read ahead: {state}"
        );
    }
    assert!(done > 0, "the others were read up to the bound");
    let answer = daemon.post(&format!("/jobs/{job}/cancel"), &json!({}));
    assert_eq!(answer.status, 202, "{}", answer.body);
    let job = daemon.wait_job(job);
    assert_eq!(job["state"], "cancelled", "{job}");
    example_is_exact(&daemon);
    serving_and_bounded(&daemon);
}
