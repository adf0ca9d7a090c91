//! The daemon's life: `kill -9` during a profile job leaves a sound store, earlier profiles
//! intact and the job marked interrupted after the restart; SIGTERM lets a running job finish
//! within the grace period, and cancels it cleanly once the period is over.

use qualityd::store::JobState;
use serde_json::json;

use crate::daemon_process::{DaemonProcess, EXAMPLE_DATASTORE, config, slow_datastore};

#[test]
fn kill_9_during_a_profile_job_marks_it_interrupted_and_keeps_the_store_sound() {
    let datastores = format!("{EXAMPLE_DATASTORE}{}", slow_datastore("slow", 600, 100));
    let mut daemon =
        DaemonProcess::start_with_example_data(&config(&datastores), &["files", "hostile"]);
    let done = daemon.submit(json!({"kind": "profile", "datastore": "example"}));
    assert_eq!(daemon.wait_job(done)["state"], "succeeded");
    let before = daemon
        .get("/datastores/example/containers/orders.csv/profile")
        .body;

    let cut = daemon.submit(json!({"kind": "profile", "datastore": "slow"}));
    daemon.wait_running(cut);
    daemon.wait_for("rows read", || {
        daemon.get(&format!("/jobs/{cut}")).body["progress"]["rows"]
            .as_u64()
            .unwrap_or(0)
            > 0
    });
    // Progress is saved every second: wait for one save.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    daemon.kill9();

    daemon.spawn();
    let job = daemon.get(&format!("/jobs/{cut}")).body;
    assert_eq!(job["state"], "interrupted", "{job}");
    assert!(
        job["progress"]["rows"].as_u64().unwrap() > 0,
        "progress saved: {job}"
    );
    assert!(
        job["error"].as_str().unwrap().contains("run it again"),
        "{job}"
    );
    assert!(job["finished_at"].is_string());
    let after = daemon
        .get("/datastores/example/containers/orders.csv/profile")
        .body;
    assert_eq!(after, before, "the earlier profile is intact");
    assert_eq!(
        daemon.get(&format!("/jobs/{done}")).body["state"],
        "succeeded"
    );
    let store = qualityd::store::Store::open(&daemon.state()).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");

    // The restarted daemon works: the same job runs again to its end.
    let again = daemon.submit(json!({"kind": "profile", "datastore": "example"}));
    assert_eq!(daemon.wait_job(again)["state"], "succeeded");
}

/// Start a daemon from `config` with the `slow` datastore, SIGTERM it while a profile job of
/// `slow` runs, and return the job as stored once the daemon exited (cleanly).
fn sigterm_during_a_job(config: &str) -> (DaemonProcess, qualityd::store::JobRecord) {
    let mut daemon = DaemonProcess::start(config, &["hostile"]);
    let job = daemon.submit(json!({"kind": "profile", "datastore": "slow"}));
    daemon.wait_running(job);
    daemon.signal("TERM");
    assert!(
        daemon.wait_exit(),
        "the daemon exits cleanly\n{}",
        daemon.log()
    );
    let store = qualityd::store::Store::open(&daemon.state()).unwrap();
    let stored = store.job(job).unwrap().unwrap();
    (daemon, stored)
}

#[test]
fn sigterm_lets_a_running_job_finish() {
    let (daemon, stored) = sigterm_during_a_job(&config(&slow_datastore("slow", 10, 100)));
    assert_eq!(stored.state, JobState::Succeeded, "{stored:?}");
    assert_eq!(stored.progress.rows, 30);
    let log = daemon.log();
    assert!(log.contains("stopping: no new jobs"), "{log}");
}

#[test]
fn sigterm_cancels_what_outlives_the_grace_period() {
    let text = config(&slow_datastore("slow", 600, 100))
        .replace("shutdown_grace_secs = 30", "shutdown_grace_secs = 0");
    let (_, stored) = sigterm_during_a_job(&text);
    assert_eq!(stored.state, JobState::Cancelled, "{stored:?}");
    let error = stored.error.unwrap();
    assert!(
        error.contains("shut down before the job finished"),
        "{error}"
    );
}
