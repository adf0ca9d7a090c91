//! A real `qualityd serve` for the daemon tests: the compiled binary, started on a temporary
//! state directory with a config the test writes, talked to over HTTP, stopped with signals
//! or `kill -9` and started again on the same state.
//!
//! Every write is sent with `Content-Type: application/json` (the API refuses others), and
//! with `Authorization: Bearer` when [`DaemonProcess::token`] is set; [`DaemonProcess::trust`]
//! talks HTTPS to a daemon whose certificate the given CA signed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long the daemon may take to be ready: a plugin compile on a loaded 2-core machine.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// A running daemon and the directory it lives in.
pub struct DaemonProcess {
    /// The directory holding the config, `state/`, `plugins/` and the daemon's log.
    pub dir: tempfile::TempDir,
    /// Environment variables the daemon is started with, besides the test's own.
    pub env: Vec<(String, String)>,
    /// The bearer token sent with every request, when the config has tokens.
    pub token: Option<String>,
    child: Option<Child>,
    base: String,
    agent: ureq::Agent,
    /// `https` once [`DaemonProcess::trust`] was called.
    scheme: &'static str,
}

/// An HTTP answer: its status and its body as JSON (`Value::String` when it is not JSON).
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

impl DaemonProcess {
    /// Write `config` (TOML; its paths are relative to the directory) and `plugins` (copied
    /// from the build into `plugins/`) into a new directory, start the daemon there and
    /// wait until it is ready.
    pub fn start(config: &str, plugins: &[&str]) -> DaemonProcess {
        let mut daemon = DaemonProcess::prepare(config, plugins);
        daemon.spawn();
        daemon
    }

    /// As [`DaemonProcess::start`], with a copy of `examples/data` in `data/` for a files
    /// datastore to read.
    pub fn start_with_example_data(config: &str, plugins: &[&str]) -> DaemonProcess {
        let mut daemon = DaemonProcess::prepare(config, plugins);
        daemon.copy_example_data();
        daemon.spawn();
        daemon
    }

    /// Copy `examples/data` into `data/` of the daemon's directory (before it starts), for
    /// [`EXAMPLE_DATASTORE`] to read.
    pub fn copy_example_data(&self) {
        let data = self.dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        for file in ["customers.csv", "orders.csv"] {
            let example = crate::support::root().join("examples/data").join(file);
            std::fs::copy(example, data.join(file)).unwrap();
        }
    }

    /// Profile [`EXAMPLE_DATASTORE`] and check it is exact: the job succeeded with its 1120
    /// rows, and the profile of `orders.csv` (1000 rows) is this job's. Returns the job's id.
    pub fn profile_example_exactly(&self) -> i64 {
        let example = self.submit(serde_json::json!({"kind": "profile", "datastore": "example"}));
        let good = self.wait_job(example);
        assert_eq!(good["state"], "succeeded", "{good}");
        assert_eq!(good["progress"]["rows"], 1120, "{good}");
        let orders = self
            .get("/datastores/example/containers/orders.csv/profile")
            .body;
        assert_eq!(orders["job_id"], example, "{orders}");
        assert_eq!(orders["profile"]["rows"], 1000, "{orders}");
        example
    }

    /// The daemon still answers `/healthz`, and its peak memory stayed under `kib`.
    pub fn assert_serving_within_kib(&self, kib: u64) {
        assert_eq!(self.get("/healthz").status, 200);
        let peak = self.peak_rss_kib();
        assert!(peak < kib, "peak RSS {peak} KiB");
    }

    /// The directory, config and plugins, without starting the daemon.
    pub fn prepare(config: &str, plugins: &[&str]) -> DaemonProcess {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("plugins")).unwrap();
        for plugin in plugins {
            install_plugin(&dir.path().join("plugins"), plugin);
        }
        std::fs::write(dir.path().join("qualityd.toml"), config).unwrap();
        DaemonProcess {
            dir,
            env: Vec::new(),
            token: None,
            child: None,
            base: String::new(),
            agent: agent(None),
            scheme: "http",
        }
    }

    /// Talk HTTPS to the daemon, trusting only the CA certificate `ca_pem` (call before
    /// [`DaemonProcess::spawn`]).
    pub fn trust(&mut self, ca_pem: &str) {
        self.agent = agent(Some(ca_pem));
        self.scheme = "https";
    }

    /// The daemon's plugin directory.
    pub fn plugins(&self) -> PathBuf {
        self.dir.path().join("plugins")
    }

    /// The daemon's state directory.
    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Start the daemon (again) and wait for `/readyz`.
    pub fn spawn(&mut self) {
        let started = Instant::now();
        self.spawn_listening();
        while self.get("/readyz").status != 200 {
            self.assert_alive(started);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Start the daemon (again) and wait until it listens, not until its plugins are loaded.
    pub fn spawn_listening(&mut self) {
        let listen_file = self.state().join(qualityd::daemon::LISTEN_FILE);
        let _ = std::fs::remove_file(&listen_file);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        // A relative config path, as ops type it: relative paths inside it still resolve.
        let child = Command::new(env!("CARGO_BIN_EXE_qualityd"))
            .args(["serve", "--config", "qualityd.toml"])
            .current_dir(self.dir.path())
            .env("QUALITYD_LOG", "qualityd=debug")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting qualityd serve");
        self.child = Some(child);
        let started = Instant::now();
        self.base = loop {
            if let Ok(address) = std::fs::read_to_string(&listen_file) {
                // A daemon listening on every address is reached on loopback.
                let address = address.trim().replace("0.0.0.0:", "127.0.0.1:");
                break format!("{}://{address}", self.scheme);
            }
            self.assert_alive(started);
            std::thread::sleep(Duration::from_millis(20));
        };
    }

    fn assert_alive(&mut self, since: Instant) {
        let child = self.child.as_mut().expect("the daemon was started");
        if let Some(status) = child.try_wait().unwrap() {
            panic!("qualityd exited with {status}:\n{}", self.log());
        }
        assert!(
            since.elapsed() < READY_TIMEOUT,
            "qualityd not ready in time:\n{}",
            self.log()
        );
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("qualityd.log")
    }

    /// What the daemon wrote to stderr, every run of it.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The API's base URL, `http(s)://IP:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `request` with the token, when there is one.
    fn authorized<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.token {
            Some(token) => request.header("authorization", format!("Bearer {token}")),
            None => request,
        }
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Answer {
        let request = self.authorized(self.agent.get(format!("{}{path}", self.base)));
        answer(request.call(), path)
    }

    /// `POST path` with a JSON body (`Value::Null` for none: an empty body, still sent as
    /// `application/json`).
    pub fn post(&self, path: &str, body: &Value) -> Answer {
        let request = self
            .authorized(self.agent.post(format!("{}{path}", self.base)))
            .header("content-type", "application/json");
        let response = match body {
            Value::Null => request.send_empty(),
            body => request.send(body.to_string()),
        };
        answer(response, path)
    }

    /// `PUT path` with a JSON body.
    pub fn put(&self, path: &str, body: &Value) -> Answer {
        let response = self
            .authorized(self.agent.put(format!("{}{path}", self.base)))
            .header("content-type", "application/json")
            .send(body.to_string());
        answer(response, path)
    }

    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> Answer {
        let response = self
            .authorized(self.agent.delete(format!("{}{path}", self.base)))
            .header("content-type", "application/json")
            .call();
        answer(response, path)
    }

    /// Start a job (`{"kind": ..., "datastore": ...}`) and return its id.
    pub fn submit(&self, job: Value) -> i64 {
        let answer = self.post("/jobs", &job);
        assert_eq!(answer.status, 202, "POST /jobs {job}: {}", answer.body);
        answer.body["id"].as_i64().unwrap()
    }

    /// Wait until job `id` is in a final state, and return it.
    pub fn wait_job(&self, id: i64) -> Value {
        let started = Instant::now();
        loop {
            let job = self.get(&format!("/jobs/{id}")).body;
            if !matches!(job["state"].as_str(), Some("queued" | "running")) {
                return job;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "job {id} did not end: {job}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait until job `id` is running.
    pub fn wait_running(&self, id: i64) {
        self.wait_for(&format!("job {id} running"), || {
            self.get(&format!("/jobs/{id}")).body["state"] == "running"
        });
    }

    /// Poll `check` every 20 ms until it holds; fail after a minute, naming `what`.
    pub fn wait_for(&self, what: &str, mut check: impl FnMut() -> bool) {
        let started = Instant::now();
        while !check() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "timed out waiting for {what}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The serving version of plugin `name` in `GET /plugins`, if any.
    pub fn serving(&self, name: &str) -> Option<Value> {
        let plugins = self.get("/plugins").body;
        plugins
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
    }

    /// The plugin events, newest first.
    pub fn events(&self) -> Vec<Value> {
        self.get("/plugins/events").body.as_array().unwrap().clone()
    }

    /// The CPU time the daemon process has used so far, user and system, in clock ticks
    /// (from `/proc/PID/stat`).
    pub fn cpu_ticks(&self) -> u64 {
        let pid = self.child.as_ref().expect("the daemon runs").id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        // The fields after the command's `(name)`: state is the 3rd, utime the 14th, stime
        // the 15th of the whole line.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }

    /// The daemon's peak resident memory so far, in KiB (`VmHWM` in `/proc/PID/status`).
    pub fn peak_rss_kib(&self) -> u64 {
        let pid = self.child.as_ref().expect("the daemon runs").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// The daemon's peak resident memory so far, in MiB.
    pub fn peak_rss_mib(&self) -> u64 {
        self.peak_rss_kib() / 1024
    }

    /// Send a signal (`TERM`, `KILL`, `HUP`) to the daemon.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("the daemon runs").id();
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} {pid}");
    }

    /// Wait for the daemon to exit after a signal; returns whether it exited successfully.
    pub fn wait_exit(&mut self) -> bool {
        let mut child = self.child.take().expect("the daemon runs");
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.success();
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "qualityd did not stop\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -9` the daemon and reap it.
    pub fn kill9(&mut self) {
        self.signal("KILL");
        self.wait_exit();
    }
}

/// The tests' HTTP client: statuses are answers, not errors; with `ca_pem`, HTTPS that trusts
/// that CA alone.
fn agent(ca_pem: Option<&str>) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)));
    if let Some(pem) = ca_pem {
        let ca = ureq::tls::Certificate::from_pem(pem.as_bytes()).expect("a PEM certificate");
        config = config.tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::new_with_certs(&[ca]))
                .build(),
        );
    }
    config.build().new_agent()
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>, path: &str) -> Answer {
    let mut response = response.unwrap_or_else(|e| panic!("{path}: {e}"));
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer { status, body }
}

/// Copy the built plugin `name` into `dir` as `NAME.wasm`, by writing a new file and renaming
/// it in (as an installer would).
pub fn install_plugin(dir: &Path, name: &str) {
    let built = crate::support::plugin_dir().join(format!("{name}.wasm"));
    let temporary = dir.join(format!(".{name}.wasm.part"));
    std::fs::copy(&built, &temporary).unwrap();
    std::fs::rename(&temporary, dir.join(format!("{name}.wasm"))).unwrap();
}

/// The bytes of the built plugin `name` as another version: the same component with a custom
/// section appended, so its SHA-256 (the daemon's identity of a version) differs.
pub fn plugin_variant(name: &str, tag: &str) -> Vec<u8> {
    let mut bytes =
        std::fs::read(crate::support::plugin_dir().join(format!("{name}.wasm"))).unwrap();
    let section_name = b"qualityd-test-variant";
    let mut payload = vec![section_name.len() as u8];
    payload.extend_from_slice(section_name);
    payload.extend_from_slice(tag.as_bytes());
    bytes.push(0); // custom section
    leb128(&mut bytes, payload.len());
    bytes.extend_from_slice(&payload);
    bytes
}

fn leb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The SHA-256 of `bytes` in hex, as the daemon reports versions.
pub fn sha256(bytes: &[u8]) -> String {
    qualityd::runtime::sha256_hex(bytes)
}

/// A config with the daemon's basics: a random port, state and plugins in the directory,
/// compiled plugins in the cache all tests share (see [`own_cache`]).
pub fn config(datastores: &str) -> String {
    let cache = crate::support::root().join("target/test-artifact-cache");
    format!(
        "listen = \"127.0.0.1:0\"\nstate_dir = \"state\"\nplugin_dir = \"plugins\"\n\
         cache_dir = \"{}\"\nshutdown_grace_secs = 30\n\n{datastores}",
        cache.display()
    )
}

/// `config` with the daemon's own artifact cache (in its directory), empty at first.
pub fn own_cache(config: &str) -> String {
    config
        .lines()
        .map(|line| {
            if line.starts_with("cache_dir") {
                "cache_dir = \"own-artifacts\""
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The files datastore `example` over the copy of `examples/data`.
pub const EXAMPLE_DATASTORE: &str = "[datastores.example]\nplugin = \"files\"\n\
    settings = { path = \"data\" }\ngrants = { directories = [\"data\"] }\n";

/// A datastore served by the hostile plugin in its `slow` mode: one read of `batches`
/// batches, `pause_ms` apart.
pub fn slow_datastore(name: &str, batches: u32, pause_ms: u32) -> String {
    format!(
        "[datastores.{name}]\nplugin = \"hostile\"\n\
         settings = {{ mode = \"slow\", batches = {batches}, pause_ms = {pause_ms} }}\n\
         grants = {{ directories = [\"plugins\"] }}\n"
    )
}

/// Start a daemon serving `datastore` (a `[datastores.NAME]` table of `plugin`), catalog it
/// and profile `container` through the API; assert the job succeeded over at least
/// `min_partitions` partitions, and return the job and the stored profile.
pub fn profile_through_api(
    name: &str,
    datastore: &str,
    plugin: &str,
    container: &str,
    min_partitions: u64,
) -> (Value, Value) {
    let daemon = DaemonProcess::start(&config(datastore), &[plugin]);
    let catalog = daemon.submit(serde_json::json!({"kind": "catalog", "datastore": name}));
    assert_eq!(daemon.wait_job(catalog)["state"], "succeeded");
    let job = daemon.submit(serde_json::json!({
        "kind": "profile", "datastore": name, "containers": [container]
    }));
    let job = daemon.wait_job(job);
    assert_eq!(job["state"], "succeeded", "{job}");
    let partitions = job["progress"]["partitions_total"].as_u64().unwrap();
    assert!(partitions >= min_partitions, "{job}");
    let latest = daemon
        .get(&format!(
            "/datastores/{name}/containers/{container}/profile"
        ))
        .body;
    (job, latest["profile"].clone())
}
