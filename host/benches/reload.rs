//! The daemon as ops run it: `qualityd serve` started on a fresh state directory, timed from
//! spawn to `/readyz` with several plugins (first start compiles, later starts map cached
//! artifacts); then plugin swaps timed from the file's rename to `GET /plugins` showing the
//! new version, with a cached artifact and with a compile, while `/healthz` is polled and a
//! job reads, to show that compiles block neither requests nor running jobs.
//!
//! `cargo bench --bench reload` (run `make plugins` first). Env: `ROUNDS` (default 5).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Plugins in the directory: two built plugins and two more versions of them under other
/// names, so start-up loads four components.
const PLUGINS: [(&str, &str); 4] = [
    ("files", "files"),
    ("hostile", "hostile"),
    ("files", "files2"),
    ("hostile", "hostile2"),
];

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let built = root.join("plugins/target/wasm32-wasip2/release");
    assert!(
        built.join("files.wasm").is_file(),
        "run `make plugins` first"
    );
    let work = tempfile::tempdir().unwrap();
    let plugins = work.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    for (source, name) in PLUGINS {
        let bytes = variant(&built.join(format!("{source}.wasm")), name);
        std::fs::write(plugins.join(format!("{name}.wasm")), bytes).unwrap();
    }
    std::fs::write(
        work.path().join("qualityd.toml"),
        "listen = \"127.0.0.1:0\"\nstate_dir = \"state\"\nplugin_dir = \"plugins\"\n\
         [datastores.slow]\nplugin = \"hostile\"\n\
         settings = { mode = \"slow\", batches = 40, pause_ms = 100 }\n",
    )
    .unwrap();

    // Start-up to ready: the first start compiles all four, later ones use the cache.
    let (daemon, cold) = Daemon::start(work.path());
    drop(daemon);
    let mut warm = Vec::new();
    for _ in 0..rounds {
        let (daemon, took) = Daemon::start(work.path());
        warm.push(took);
        drop(daemon);
    }
    let (daemon, _) = Daemon::start(work.path());

    // Swaps of the files plugin: A -> B compiles B; then B -> A -> B ... are cached.
    let files = plugins.join("files.wasm");
    let a = std::fs::read(&files).unwrap();
    let b = variant(&built.join("files.wasm"), "files-b");
    let health = HealthProbe::start(daemon.base.clone());
    let job = daemon.post_job("slow");
    let mut uncached = vec![daemon.swap(&files, &b)];
    let mut cached = Vec::new();
    for round in 0..rounds {
        let bytes = if round % 2 == 0 { &a } else { &b };
        cached.push(daemon.swap(&files, bytes));
    }
    for round in 1..rounds.min(3) {
        let fresh = variant(&built.join("files.wasm"), &format!("files-fresh-{round}"));
        uncached.push(daemon.swap(&files, &fresh));
    }
    let (probes, slowest) = health.stop();
    let (job_state, job_seconds) = daemon.wait_job(job);

    println!("| daemon with 4 plugins (files x2, hostile x2) | median | min | max |");
    println!("| --- | --- | --- | --- |");
    println!("| first start to ready (compiles all 4) | {cold:.2?} | | |");
    row("start to ready, cached artifacts", &warm);
    row("swap to a new version, cached artifact", &cached);
    row(
        "swap to a new version, compiled (12.8 MB files plugin)",
        &uncached,
    );
    println!();
    println!(
        "during the swaps: {probes} GET /healthz, slowest {slowest:.1?}; a job reading 40 \
         batches 100 ms apart (4.0 s of pauses) ended {job_state} in {job_seconds:.2} s"
    );
}

fn row(what: &str, times: &[Duration]) {
    let mut sorted = times.to_vec();
    sorted.sort();
    println!(
        "| {what} | {:.1?} | {:.1?} | {:.1?} |",
        sorted[sorted.len() / 2],
        sorted[0],
        sorted[sorted.len() - 1]
    );
}

/// The built component with a custom section naming `tag`: another version to the daemon.
fn variant(path: &Path, tag: &str) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    let name = b"qualityd-bench-variant";
    let mut payload = vec![name.len() as u8];
    payload.extend_from_slice(name);
    payload.extend_from_slice(tag.as_bytes());
    bytes.push(0);
    let mut size = payload.len();
    loop {
        let byte = (size & 0x7f) as u8;
        size >>= 7;
        if size == 0 {
            bytes.push(byte);
            break;
        }
        bytes.push(byte | 0x80);
    }
    bytes.extend_from_slice(&payload);
    bytes
}

struct Daemon {
    child: Child,
    base: String,
    agent: ureq::Agent,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
}

impl Daemon {
    /// Start `qualityd serve` in `dir` and time it to `/readyz`.
    fn start(dir: &Path) -> (Daemon, Duration) {
        let listen = dir.join("state/listen.addr");
        let _ = std::fs::remove_file(&listen);
        let started = Instant::now();
        let child = Command::new(env!("CARGO_BIN_EXE_qualityd"))
            .arg("serve")
            .arg("--config")
            .arg(dir.join("qualityd.toml"))
            .env("QUALITYD_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let base = loop {
            if let Ok(address) = std::fs::read_to_string(&listen) {
                break format!("http://{}", address.trim());
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        let daemon = Daemon {
            child,
            base,
            agent: agent(),
        };
        while daemon.get("/readyz").0 != 200 {
            std::thread::sleep(Duration::from_millis(1));
        }
        (daemon, started.elapsed())
    }

    fn get(&self, path: &str) -> (u16, Value) {
        let mut response = self
            .agent
            .get(format!("{}{path}", self.base))
            .call()
            .unwrap();
        let text = response.body_mut().read_to_string().unwrap();
        (
            response.status().as_u16(),
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    fn post_job(&self, datastore: &str) -> i64 {
        let mut response = self
            .agent
            .post(format!("{}/jobs", self.base))
            .header("content-type", "application/json")
            .send(format!(
                "{{\"kind\": \"profile\", \"datastore\": \"{datastore}\"}}"
            ))
            .unwrap();
        let job: Value =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        job["id"].as_i64().unwrap()
    }

    fn wait_job(&self, id: i64) -> (String, f64) {
        loop {
            let (_, job) = self.get(&format!("/jobs/{id}"));
            let state = job["state"].as_str().unwrap_or("").to_owned();
            if state != "queued" && state != "running" {
                let micros = |key: &str| {
                    chrono::DateTime::parse_from_rfc3339(job[key].as_str().unwrap())
                        .unwrap()
                        .timestamp_micros()
                };
                let seconds = (micros("finished_at") - micros("started_at")) as f64 / 1e6;
                return (state, seconds);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Rename `bytes` in as `path`; the time until `GET /plugins` serves them.
    fn swap(&self, path: &Path, bytes: &[u8]) -> Duration {
        let sha = qualityd::runtime::sha256_hex(bytes);
        let temporary: PathBuf = path.with_file_name(".swap.tmp");
        std::fs::write(&temporary, bytes).unwrap();
        let started = Instant::now();
        std::fs::rename(&temporary, path).unwrap();
        loop {
            let (_, plugins) = self.get("/plugins");
            let serving = plugins
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "files" && p["sha256"] == sha.as_str());
            if serving {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "swap timed out"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// Polls `/healthz` from its own thread and keeps the slowest answer.
struct HealthProbe {
    stop: Arc<AtomicBool>,
    result: Arc<Mutex<(usize, Duration)>>,
    thread: std::thread::JoinHandle<()>,
}

impl HealthProbe {
    fn start(base: String) -> HealthProbe {
        let stop = Arc::new(AtomicBool::new(false));
        let result = Arc::new(Mutex::new((0, Duration::ZERO)));
        let (stop2, result2) = (stop.clone(), result.clone());
        let thread = std::thread::spawn(move || {
            let agent = agent();
            while !stop2.load(Ordering::Relaxed) {
                let started = Instant::now();
                agent.get(format!("{base}/healthz")).call().unwrap();
                let took = started.elapsed();
                let mut result = result2.lock().unwrap();
                result.0 += 1;
                result.1 = result.1.max(took);
                drop(result);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        HealthProbe {
            stop,
            result,
            thread,
        }
    }

    fn stop(self) -> (usize, Duration) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        *self.result.lock().unwrap()
    }
}
