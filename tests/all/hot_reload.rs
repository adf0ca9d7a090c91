//! Hot reload with real compiled plugins in a running daemon: a new version dropped in while
//! a long read runs (the read finishes on the old one, the next job gets the new one); a
//! half-written or corrupt file never replaces a working version; atomic renames and
//! in-place writes are both picked up; a deleted file unloads; a directory that starts empty;
//! and a restart that takes the compiled artifact from the cache instead of compiling.

use serde_json::{Value, json};

use crate::daemon_process::{
    DaemonProcess, config, install_plugin, own_cache, plugin_variant, sha256, slow_datastore,
};

/// The plugin file in the daemon's plugin directory.
fn hostile_path(daemon: &DaemonProcess) -> std::path::PathBuf {
    daemon.plugins().join("hostile.wasm")
}

/// Wait until the serving `hostile` has `sha`.
fn wait_serving(daemon: &DaemonProcess, sha: &str) {
    daemon.wait_for(&format!("hostile {sha} serving"), || {
        daemon
            .serving("hostile")
            .is_some_and(|plugin| plugin["sha256"] == sha)
    });
}

/// Run a job on `datastore` and return it when it ended.
fn run(daemon: &DaemonProcess, datastore: &str) -> Value {
    let job = daemon.submit(json!({"kind": "profile", "datastore": datastore}));
    daemon.wait_job(job)
}

/// Write `bytes` to a hidden file beside `path` and rename it in, as installers do.
fn rename_in(path: &std::path::Path, bytes: &[u8]) {
    let temporary = path.with_file_name(".hostile.wasm.tmp");
    std::fs::write(&temporary, bytes).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

/// `slow`: a read of 2.5 s; `quick`: a read of one batch.
fn datastores() -> String {
    slow_datastore("slow", 25, 100) + &slow_datastore("quick", 1, 0)
}

/// Loading a plugin reads its file; the reads must not look like changes, or the watcher
/// loads it again and again (an idle daemon once used a quarter of a core doing so).
#[test]
fn an_idle_daemon_uses_no_cpu() {
    let daemon = DaemonProcess::start(&config(&datastores()), &["hostile", "files"]);
    daemon.wait_for("both plugins serving", || {
        daemon.serving("hostile").is_some() && daemon.serving("files").is_some()
    });
    std::thread::sleep(std::time::Duration::from_secs(1));
    let before = daemon.cpu_ticks();
    std::thread::sleep(std::time::Duration::from_secs(5));
    let used = daemon.cpu_ticks() - before;
    // Clock ticks are 1/100 s: 10 ticks in 5 s would be 2% of a core.
    assert!(used <= 10, "an idle daemon used {used} ticks of CPU in 5 s");
    let loads = (daemon.events().iter())
        .filter(|e| e["plugin"] == "files")
        .count();
    assert_eq!(loads, 1, "{:?}", daemon.events());
}

#[test]
fn a_new_version_serves_new_work_while_work_in_flight_finishes_on_the_old() {
    let daemon = DaemonProcess::start(&config(&datastores()), &["hostile"]);
    let path = hostile_path(&daemon);
    let old = std::fs::read(&path).unwrap();
    let new = plugin_variant("hostile", "v2");
    // Compile the new version once and go back, so that the swap during the read takes its
    // artifact from the cache and lands well within the read.
    rename_in(&path, &new);
    wait_serving(&daemon, &sha256(&new));
    rename_in(&path, &old);
    wait_serving(&daemon, &sha256(&old));

    let long = daemon.submit(json!({"kind": "profile", "datastore": "slow"}));
    daemon.wait_running(long);
    rename_in(&path, &new);
    wait_serving(&daemon, &sha256(&new));
    let running = daemon.get(&format!("/jobs/{long}")).body;
    assert_eq!(
        running["state"], "running",
        "the swap came after the read: {running}"
    );

    let finished = daemon.wait_job(long);
    assert_eq!(finished["state"], "succeeded", "{finished}");
    assert_eq!(finished["plugin_sha256"], sha256(&old));
    assert_eq!(finished["progress"]["rows"], 75);
    let next = run(&daemon, "quick");
    assert_eq!(next["state"], "succeeded", "{next}");
    assert_eq!(next["plugin_sha256"], sha256(&new));

    let swap = &daemon.events()[0];
    assert_eq!(
        (swap["kind"].as_str(), swap["source"].as_str()),
        (Some("swapped"), Some("cached")),
        "{swap}"
    );
    assert_eq!(swap["sha256"], sha256(&new));
    assert!(
        swap["message"]
            .as_str()
            .unwrap()
            .contains("work in flight finishes on the old version")
    );
}

#[test]
fn a_broken_file_never_replaces_a_working_version() {
    let daemon = DaemonProcess::start(&config(&datastores()), &["hostile"]);
    let path = hostile_path(&daemon);
    let working = sha256(&std::fs::read(&path).unwrap());

    // Half of a new version, written in place (a copy caught mid-way).
    let new = plugin_variant("hostile", "v2");
    std::fs::write(&path, &new[..new.len() / 2]).unwrap();
    daemon.wait_for("a failed event", || daemon.events()[0]["kind"] == "failed");
    let failed = &daemon.events()[0];
    assert_eq!(failed["plugin"], "hostile");
    assert_eq!(failed["sha256"], sha256(&new[..new.len() / 2]));
    let message = failed["message"].as_str().unwrap();
    assert!(
        message.contains("hostile.wasm") && message.contains("keeps serving"),
        "{message}"
    );
    assert_eq!(daemon.serving("hostile").unwrap()["sha256"], working);
    let job = run(&daemon, "quick");
    assert_eq!(
        (job["state"].as_str(), job["plugin_sha256"].as_str()),
        (Some("succeeded"), Some(working.as_str())),
        "{job}"
    );

    // Not a component at all.
    std::fs::write(&path, b"this is not webassembly").unwrap();
    daemon.wait_for("a second failed event", || {
        daemon.events()[0]["sha256"] == sha256(b"this is not webassembly")
    });
    let message = daemon.events()[0]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("keeps serving"), "{message}");
    assert_eq!(daemon.serving("hostile").unwrap()["sha256"], working);

    // The writer finishes in place: the whole file is picked up.
    std::fs::write(&path, &new).unwrap();
    wait_serving(&daemon, &sha256(&new));
    let job = run(&daemon, "quick");
    assert_eq!(job["plugin_sha256"], sha256(&new), "{job}");
    // In-place writes can be caught part-way more than once under load: the metric counts
    // each failed load that made an event, and there were at least the two above.
    let failed_events = daemon
        .events()
        .iter()
        .filter(|e| e["kind"] == "failed" && e["plugin"] == "hostile")
        .count();
    assert!(failed_events >= 2, "{:?}", daemon.events());
    let metric = format!(
        "qualityd_plugin_reloads_total{{plugin=\"hostile\",outcome=\"failed\"}} {failed_events}\n"
    );
    let metrics = daemon.get("/metrics").body;
    assert!(
        metrics.as_str().unwrap().contains(&metric),
        "every failed load counted: {metric} in {metrics}"
    );
}

#[test]
fn renames_in_place_writes_and_deletes_are_all_picked_up() {
    let daemon = DaemonProcess::start(&config(&datastores()), &["hostile"]);
    let path = hostile_path(&daemon);

    let renamed = plugin_variant("hostile", "renamed");
    rename_in(&path, &renamed);
    wait_serving(&daemon, &sha256(&renamed));

    let written = plugin_variant("hostile", "written");
    std::fs::write(&path, &written).unwrap();
    wait_serving(&daemon, &sha256(&written));
    assert_eq!(run(&daemon, "quick")["plugin_sha256"], sha256(&written));

    std::fs::remove_file(&path).unwrap();
    daemon.wait_for("hostile unloaded", || daemon.serving("hostile").is_none());
    let removed = &daemon.events()[0];
    assert_eq!(removed["kind"], "removed", "{removed}");
    let job = run(&daemon, "quick");
    assert_eq!(job["state"], "failed", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(error.contains("plugin `hostile` is not loaded"), "{error}");

    // Nothing changed since: a reload on request finds nothing to do.
    let reload = daemon.post("/plugins/reload", &Value::Null);
    assert_eq!(reload.status, 200);
    assert_eq!(reload.body["events"], json!([]));
}

#[test]
fn a_directory_that_starts_empty_takes_plugins_as_they_arrive() {
    let daemon = DaemonProcess::start(&config(&datastores()), &[]);
    assert_eq!(daemon.get("/plugins").body, json!([]));
    let job = run(&daemon, "quick");
    assert_eq!(job["state"], "failed", "{job}");

    install_plugin(&daemon.plugins(), "hostile");
    daemon.wait_for("hostile loaded", || daemon.serving("hostile").is_some());
    assert_eq!(daemon.events()[0]["kind"], "loaded");
    assert_eq!(run(&daemon, "quick")["state"], "succeeded");
}

#[test]
fn a_restart_takes_the_compiled_artifact_from_the_cache() {
    let mut daemon = DaemonProcess::start(&own_cache(&config(&datastores())), &["hostile"]);
    let first = daemon.serving("hostile").unwrap();
    assert_eq!(first["load_source"], "compiled", "{first}");
    daemon.signal("TERM");
    assert!(daemon.wait_exit(), "SIGTERM stops the daemon cleanly");

    daemon.spawn();
    let second = daemon.serving("hostile").unwrap();
    assert_eq!(second["load_source"], "cached", "{second}");
    assert_eq!(second["sha256"], first["sha256"]);
    let loaded = &daemon.events()[0];
    assert_eq!(
        (loaded["kind"].as_str(), loaded["source"].as_str()),
        (Some("loaded"), Some("cached")),
        "{loaded}"
    );
}

/// Without `cache_dir`, the daemon uses the CLI's default cache: what `qualityd plugins`
/// compiled, the daemon's first start loads from it.
#[test]
fn the_daemon_takes_what_the_cli_compiled_from_the_shared_default_cache() {
    let no_cache_dir: String = (config(&datastores()).lines())
        .filter(|line| !line.starts_with("cache_dir"))
        .map(|line| format!("{line}\n"))
        .collect();
    let mut daemon = DaemonProcess::prepare(&no_cache_dir, &["hostile"]);
    let cache = daemon.dir.path().join("user-cache");
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_qualityd"))
        .arg("plugins")
        .env("QUALITYD_PLUGINS", daemon.plugins())
        .env("QUALITYD_CACHE", &cache)
        .output()
        .unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    daemon
        .env
        .push(("QUALITYD_CACHE".into(), cache.display().to_string()));
    daemon.spawn();
    let serving = daemon.serving("hostile").unwrap();
    assert_eq!(serving["load_source"], "cached", "{serving}");
}

#[test]
fn a_hundred_swaps_under_continuous_reads_fail_no_read() {
    let daemon = DaemonProcess::start(&config(&slow_datastore("steady", 4, 10)), &["hostile"]);
    let path = hostile_path(&daemon);
    let versions = [
        std::fs::read(&path).unwrap(),
        plugin_variant("hostile", "b"),
    ];
    // Compile the second version once; every swap after takes an artifact from the cache.
    rename_in(&path, &versions[1]);
    wait_serving(&daemon, &sha256(&versions[1]));

    let stop = std::sync::atomic::AtomicBool::new(false);
    let jobs: Vec<Value> = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let mut ended = Vec::new();
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        ended.push(run(&daemon, "steady"));
                    }
                    ended
                })
            })
            .collect();
        for swap in 0..100 {
            let bytes = &versions[swap % 2];
            rename_in(&path, bytes);
            wait_serving(&daemon, &sha256(bytes));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        readers
            .into_iter()
            .flat_map(|reader| reader.join().unwrap())
            .collect()
    });

    let failed: Vec<&Value> = jobs.iter().filter(|j| j["state"] != "succeeded").collect();
    assert!(
        failed.is_empty(),
        "{} of {} reads failed: {failed:?}",
        failed.len(),
        jobs.len()
    );
    assert!(jobs.iter().all(|j| j["progress"]["rows"] == 12));
    let on = |version: &[u8]| {
        jobs.iter()
            .filter(|j| j["plugin_sha256"] == sha256(version))
            .count()
    };
    assert!(
        on(&versions[0]) > 0 && on(&versions[1]) > 0,
        "reads ran on both versions: {} and {} of {}",
        on(&versions[0]),
        on(&versions[1]),
        jobs.len()
    );
    let metrics = daemon.get("/metrics").body;
    let swapped = "qualityd_plugin_reloads_total{plugin=\"hostile\",outcome=\"swapped\"} 101";
    assert!(metrics.as_str().unwrap().contains(swapped), "{metrics}");
}
