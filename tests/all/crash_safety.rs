//! `kill -9` at random moments during profile jobs, twenty times in a row on one state
//! directory: after every restart SQLite's integrity check passes, every job is in a final
//! state (a job the kill cut off is `interrupted`), and every completed profile is there,
//! whole. The seed is printed, so a failing sequence can be replayed with `CRASH_SEED`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::daemon_process::{DaemonProcess, EXAMPLE_DATASTORE, config, slow_datastore};

/// A small, seedable generator: the test needs only kill delays.
struct SplitMix(u64);

impl SplitMix {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % bound
    }
}

/// Rows the example datastore's containers hold.
const EXPECTED_ROWS: [(&str, u64); 2] = [("customers.csv", 120), ("orders.csv", 1000)];

#[test]
fn twenty_kills_at_random_moments_leave_a_sound_store_and_every_completed_profile() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("CRASH_SEED={seed}");
    let mut random = SplitMix(seed);
    let datastores = format!("{EXAMPLE_DATASTORE}{}", slow_datastore("slow", 30, 20));
    let mut daemon =
        DaemonProcess::start_with_example_data(&config(&datastores), &["files", "hostile"]);
    let mut submitted: Vec<i64> = Vec::new();
    let mut running_at_kill = 0;
    let started = Instant::now();
    for round in 0..20 {
        if round > 0 {
            daemon.spawn();
            check_after_restart(&daemon, &submitted, seed);
        }
        for datastore in ["example", "slow", "example"] {
            submitted.push(daemon.submit(json!({"kind": "profile", "datastore": datastore})));
        }
        std::thread::sleep(Duration::from_millis(random.below(900)));
        running_at_kill += submitted
            .iter()
            .filter(|id| {
                let state = &daemon.get(&format!("/jobs/{id}")).body["state"];
                state == "running" || state == "queued"
            })
            .count();
        daemon.kill9();
    }
    daemon.spawn();
    let (succeeded, interrupted) = check_after_restart(&daemon, &submitted, seed);
    println!(
        "20 kills in {:.1?}: {} jobs, {succeeded} succeeded, {interrupted} interrupted \
         ({running_at_kill} queued or running at the kills), integrity ok after each restart",
        started.elapsed(),
        submitted.len()
    );
    assert!(interrupted > 0, "no kill landed during a job (seed {seed})");
    assert!(succeeded > 0, "no job ever finished (seed {seed})");
}

/// The checks after a restart; returns the jobs succeeded and interrupted.
fn check_after_restart(daemon: &DaemonProcess, submitted: &[i64], seed: u64) -> (usize, usize) {
    let store = qualityd::store::Store::open(&daemon.state()).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok", "seed {seed}");
    let (mut succeeded, mut interrupted) = (0, 0);
    for id in submitted {
        let job = daemon.get(&format!("/jobs/{id}")).body;
        match job["state"].as_str() {
            Some("succeeded") => {
                succeeded += 1;
                if job["datastore"] == "example" {
                    assert_profiles_of(daemon, *id, seed);
                }
            }
            Some("interrupted") => interrupted += 1,
            _ => panic!("job {id} is not final after a restart (seed {seed}): {job}"),
        }
    }
    (succeeded, interrupted)
}

/// Job `id` of the example datastore left a whole profile of each container.
fn assert_profiles_of(daemon: &DaemonProcess, id: i64, seed: u64) {
    for (container, rows) in EXPECTED_ROWS {
        let history = daemon
            .get(&format!(
                "/datastores/example/containers/{container}/profiles?limit=1000"
            ))
            .body;
        let stored: Vec<&Value> = history
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["job_id"] == id)
            .collect();
        assert_eq!(stored.len(), 1, "job {id}, {container} (seed {seed})");
        let profile = daemon.get(&format!("/profiles/{}", stored[0]["id"])).body;
        assert_eq!(profile["profile"]["rows"], rows, "seed {seed}");
    }
}
