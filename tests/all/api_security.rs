//! The HTTP API's guard through the compiled daemon (`docs/SECURITY.md`, "The HTTP API"):
//! bearer tokens and their roles, the `Host` and `Origin` allow-lists, JSON-only writes, no
//! CORS, the refusal to listen beyond loopback without tokens or TLS, and HTTPS verified
//! against a test CA. Each daemon also serves the example datastore, which must keep
//! profiling exactly, and its peak memory must stay bounded.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::daemon_process::{DaemonProcess, EXAMPLE_DATASTORE, config, slow_datastore};

/// The daemon's peak resident memory must stay under this (a files plugin profiling the
/// example data).
const PEAK_RSS_KIB: u64 = 1024 * 1024;

const READ_TOKEN: &str = "read-token-3f9a1c0d5e7b2468";
const ADMIN_TOKEN: &str = "admin-token-8e1b7c2a9f4d6035";

/// A raw HTTP/1.1 answer: status, headers (lowercase names) and body.
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        (self.headers.iter())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Headers whose name starts with `access-control-`.
    fn cors(&self) -> Vec<&(String, String)> {
        (self.headers.iter())
            .filter(|(n, _)| n.starts_with("access-control-"))
            .collect()
    }

    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// The `IP:PORT` the daemon listens on.
fn address(daemon: &DaemonProcess) -> String {
    std::fs::read_to_string(daemon.state().join(qualityd::daemon::LISTEN_FILE))
        .unwrap()
        .trim()
        .to_owned()
}

/// Send `method path` with exactly `headers` (no `Host` unless given) and `body`, over a
/// plain connection, as a browser or a script could; read the whole answer.
fn raw(
    daemon: &DaemonProcess,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Raw {
    let mut stream = TcpStream::connect(address(daemon)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nconnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || !matches!(method, "GET" | "HEAD" | "OPTIONS") {
        request.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Raw {
        status: status.parse().unwrap(),
        headers,
        body: serde_json::from_str(body).unwrap_or(Value::String(body.to_owned())),
    }
}

/// The `Host` header a local client sends.
fn local_host(daemon: &DaemonProcess) -> String {
    address(daemon)
}

/// The example datastore profiles exactly (1120 rows, orders.csv 1000), the daemon still
/// answers, and its peak memory stayed bounded.
fn example_profiles_and_daemon_is_bounded(daemon: &DaemonProcess) {
    daemon.profile_example_exactly();
    daemon.assert_serving_within_kib(PEAK_RSS_KIB);
}

/// A daemon with the example datastore, a slow one, and `api` (TOML after the basics).
fn daemon_with(api: &str) -> DaemonProcess {
    let text = config(&format!(
        "{EXAMPLE_DATASTORE}{}",
        slow_datastore("slow", 200, 100)
    ));
    // `[api]` must come before the datastores' tables.
    let (basics, datastores) = text.split_once("[datastores.").unwrap();
    let text = format!("{basics}{api}\n[datastores.{datastores}");
    let mut daemon = DaemonProcess::prepare(&text, &["files", "hostile"]);
    daemon.copy_example_data();
    std::fs::write(
        daemon.dir.path().join("admin.token"),
        format!("{ADMIN_TOKEN}\n"),
    )
    .unwrap();
    daemon
        .env
        .push(("QUALITYD_TEST_READ_TOKEN".into(), READ_TOKEN.into()));
    daemon.spawn();
    daemon
}

/// Two tokens: `viewer` (read, from the environment) and `ops` (admin, from a file).
const TOKENS: &str = "[[api.tokens]]\nname = \"viewer\"\nrole = \"read\"\n\
    token = \"${env:QUALITYD_TEST_READ_TOKEN}\"\n\n\
    [[api.tokens]]\nname = \"ops\"\nrole = \"admin\"\ntoken = \"${file:admin.token}\"\n";

#[test]
fn tokens_are_required_and_a_read_token_cannot_write() {
    let mut daemon = daemon_with(TOKENS);
    let host = local_host(&daemon);

    // No token, or a wrong one: 401 with a JSON error and a Bearer challenge, for reads and
    // writes. Probes stay open.
    for (method, path) in [
        ("GET", "/datastores"),
        ("GET", "/anomalies"),
        ("POST", "/plugins/reload"),
    ] {
        let answer = raw(
            &daemon,
            method,
            path,
            &[("host", &host), ("content-type", "application/json")],
            "",
        );
        assert_eq!(answer.status, 401, "{method} {path}: {}", answer.body);
        assert_eq!(answer.code(), "unauthorized");
        assert!(
            answer
                .header("www-authenticate")
                .unwrap()
                .starts_with("Bearer")
        );
        let wrong = raw(
            &daemon,
            method,
            path,
            &[
                ("host", &host),
                ("content-type", "application/json"),
                ("authorization", "Bearer admin-token-8e1b7c2a9f4d6036"),
            ],
            "",
        );
        assert_eq!(wrong.status, 401, "{method} {path}: {}", wrong.body);
    }
    assert_eq!(daemon.get("/healthz").status, 200);
    assert_eq!(daemon.get("/datastores").status, 401);

    // The read token reads, and every write is 403.
    daemon.token = Some(READ_TOKEN.into());
    assert_eq!(daemon.get("/datastores").status, 200);
    assert_eq!(daemon.get("/jobs").status, 200);
    let job = daemon.post("/jobs", &json!({"kind": "profile", "datastore": "example"}));
    assert_eq!(job.status, 403, "{}", job.body);
    assert_eq!(job.body["error"]["code"], "forbidden");
    let message = job.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("viewer") && message.contains("admin"),
        "{message}"
    );
    assert_eq!(daemon.post("/plugins/reload", &Value::Null).status, 403);
    assert_eq!(daemon.post("/checks/sync", &Value::Null).status, 403);
    assert_eq!(daemon.delete("/checks/1").status, 403);
    assert_eq!(daemon.put("/checks/1", &json!({})).status, 403);
    assert!(
        daemon.get("/jobs").body.as_array().unwrap().is_empty(),
        "a refused write ran"
    );

    // The admin token does everything; the example datastore profiles exactly.
    daemon.token = Some(ADMIN_TOKEN.into());
    let slow = daemon.submit(json!({"kind": "profile", "datastore": "slow"}));
    daemon.wait_running(slow);
    daemon.token = Some(READ_TOKEN.into());
    assert_eq!(
        daemon
            .post(&format!("/jobs/{slow}/cancel"), &Value::Null)
            .status,
        403
    );
    daemon.token = Some(ADMIN_TOKEN.into());
    assert_eq!(
        daemon
            .post(&format!("/jobs/{slow}/cancel"), &Value::Null)
            .status,
        202
    );
    assert_eq!(daemon.wait_job(slow)["state"], "cancelled");
    assert_eq!(daemon.post("/plugins/reload", &Value::Null).status, 200);
    example_profiles_and_daemon_is_bounded(&daemon);

    // Token values never reach the log.
    let log = daemon.log();
    assert!(
        !log.contains(READ_TOKEN) && !log.contains(ADMIN_TOKEN),
        "a token is in the log"
    );
}

#[test]
fn a_foreign_host_or_origin_is_refused() {
    let daemon = daemon_with("[api]\nallowed_hosts = [\"qualityd.test\"]\n");
    let address = address(&daemon);
    let port = address.rsplit_once(':').unwrap().1;
    let local = [
        address.clone(),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        "qualityd.test".to_owned(),
        format!("qualityd.test:{port}"),
    ];
    for host in &local {
        let answer = raw(&daemon, "GET", "/anomalies", &[("host", host)], "");
        assert_eq!(answer.status, 200, "Host {host}: {}", answer.body);
    }
    // DNS rebinding: a page at attacker.example:PORT whose name now points at 127.0.0.1.
    let foreign = [
        format!("attacker.example:{port}"),
        "attacker.example".to_owned(),
        format!("localhost:{}", port.parse::<u16>().unwrap() + 1),
        "localhost".to_owned(),
        format!("qualityd.test.attacker.example:{port}"),
    ];
    for host in &foreign {
        for (method, path) in [
            ("GET", "/anomalies"),
            ("GET", "/healthz"),
            ("POST", "/jobs"),
        ] {
            let answer = raw(
                &daemon,
                method,
                path,
                &[("host", host), ("content-type", "application/json")],
                r#"{"kind": "profile", "datastore": "example"}"#,
            );
            assert_eq!(
                answer.status, 421,
                "Host {host}, {method} {path}: {}",
                answer.body
            );
            assert_eq!(answer.code(), "host-not-allowed");
            assert!(
                answer
                    .header("content-type")
                    .unwrap()
                    .starts_with("application/json")
            );
        }
    }
    // An absolute target naming another host, and an HTTP/1.0 request without a Host.
    let absolute = raw(
        &daemon,
        "GET",
        "http://attacker.example/anomalies",
        &[("host", &address)],
        "",
    );
    assert_eq!(absolute.status, 421, "{}", absolute.body);
    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .write_all(b"GET /anomalies HTTP/1.0\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.0 421") || answer.starts_with("HTTP/1.1 421"),
        "{answer}"
    );

    // A page of another origin, even with an allowed Host.
    for origin in [
        "http://attacker.example",
        "null",
        &format!("http://localhost:{}", port.parse::<u16>().unwrap() + 1),
    ] {
        let answer = raw(
            &daemon,
            "POST",
            "/plugins/reload",
            &[
                ("host", &address),
                ("origin", origin),
                ("content-type", "application/json"),
            ],
            "",
        );
        assert_eq!(answer.status, 403, "Origin {origin}: {}", answer.body);
        assert_eq!(answer.code(), "origin-not-allowed");
    }
    let same = raw(
        &daemon,
        "GET",
        "/anomalies",
        &[("host", &address), ("origin", &format!("http://{address}"))],
        "",
    );
    assert_eq!(same.status, 200, "{}", same.body);
    assert!(
        daemon.get("/jobs").body.as_array().unwrap().is_empty(),
        "a refused write ran"
    );
    example_profiles_and_daemon_is_bounded(&daemon);
}

#[test]
fn form_posts_and_requests_without_json_cannot_reach_any_write() {
    let daemon = daemon_with("");
    let host = local_host(&daemon);
    let slow = daemon.submit(json!({"kind": "profile", "datastore": "slow"}));
    daemon.wait_running(slow);
    // A check file written after start: only a sync would bring it into the store.
    let checks = daemon.dir.path().join("checks");
    std::fs::create_dir_all(&checks).unwrap();
    std::fs::write(
        checks.join("orders.yaml"),
        "datastore: example\nchecks:\n  - container: orders.csv\n    fields: [order_id]\n    rule: {rule: unique}\n",
    )
    .unwrap();
    let cancel = format!("/jobs/{slow}/cancel");
    let writes = [
        ("POST", cancel.as_str()),
        ("POST", "/plugins/reload"),
        ("POST", "/checks/sync"),
        ("POST", "/checks/1/accept"),
        ("POST", "/checks/1/reject"),
        ("POST", "/jobs"),
        ("DELETE", "/checks/1"),
    ];
    // What a web page can send without a preflight: forms (urlencoded, multipart) and
    // text/plain, or nothing at all.
    let types = [
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("text/plain"),
        Some("application/jsonx"),
        None,
    ];
    for (method, path) in writes {
        for content_type in types {
            let mut headers = vec![("host", host.as_str())];
            if let Some(content_type) = content_type {
                headers.push(("content-type", content_type));
            }
            let answer = raw(
                &daemon,
                method,
                path,
                &headers,
                "kind=profile&datastore=example",
            );
            assert_eq!(
                answer.status, 415,
                "{method} {path} as {content_type:?}: {}",
                answer.body
            );
            assert_eq!(answer.code(), "unsupported-media-type");
        }
    }
    // None of them did anything: the job still runs, no check was synced, no job was made.
    assert_eq!(
        daemon.get(&format!("/jobs/{slow}")).body["state"],
        "running"
    );
    assert!(
        daemon
            .get("/checks?datastore=example")
            .body
            .as_array()
            .unwrap()
            .is_empty(),
        "a refused sync ran"
    );
    assert_eq!(daemon.get("/jobs").body.as_array().unwrap().len(), 1);
    // With the JSON content type (and its parameters) the same writes work.
    let answer = raw(
        &daemon,
        "POST",
        &cancel,
        &[
            ("host", &host),
            ("content-type", "Application/JSON; charset=utf-8"),
        ],
        "",
    );
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(daemon.wait_job(slow)["state"], "cancelled");
    let synced = daemon.post("/checks/sync", &Value::Null);
    assert_eq!(synced.status, 200, "{}", synced.body);
    assert_eq!(
        daemon
            .get("/checks?datastore=example")
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    example_profiles_and_daemon_is_bounded(&daemon);
}

#[test]
fn no_cors_headers_on_answers_or_preflights() {
    let daemon = daemon_with("");
    let address = address(&daemon);
    let origin = format!("http://{address}");
    let preflight = |origin: &str, path: &str| {
        raw(
            &daemon,
            "OPTIONS",
            path,
            &[
                ("host", &address),
                ("origin", origin),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "content-type, authorization",
                ),
            ],
            "",
        )
    };
    for path in ["/jobs", "/plugins/reload", "/anomalies", "/jobs/1/cancel"] {
        for from in [origin.as_str(), "http://attacker.example"] {
            let answer = preflight(from, path);
            assert!(
                answer.cors().is_empty(),
                "OPTIONS {path} from {from}: {:?}",
                answer.headers
            );
            assert!(
                !(200..300).contains(&answer.status),
                "OPTIONS {path} from {from}: {}",
                answer.status
            );
        }
    }
    for (method, path, content_type) in [
        ("GET", "/anomalies", None),
        ("GET", "/datastores", None),
        ("POST", "/jobs", Some("application/json")),
        ("POST", "/plugins/reload", Some("text/plain")),
    ] {
        let mut headers = vec![("host", address.as_str()), ("origin", origin.as_str())];
        headers.extend(content_type.map(|t| ("content-type", t)));
        let answer = raw(
            &daemon,
            method,
            path,
            &headers,
            r#"{"kind": "catalog", "datastore": "example"}"#,
        );
        assert!(
            answer.cors().is_empty(),
            "{method} {path}: {:?}",
            answer.headers
        );
    }
    example_profiles_and_daemon_is_bounded(&daemon);
}

/// `qualityd serve` on `config` exits at once; returns its stderr.
fn refused_at_start(config: &str) -> String {
    let daemon = DaemonProcess::prepare(config, &[]);
    let output = Command::new(env!("CARGO_BIN_EXE_qualityd"))
        .args(["serve", "--config", "qualityd.toml"])
        .current_dir(daemon.dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "it started: {output:?}");
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn a_listener_beyond_loopback_needs_tokens_and_tls() {
    let beyond = config("").replace("127.0.0.1:0", "0.0.0.0:0");
    let line = beyond
        .lines()
        .position(|l| l.starts_with("listen"))
        .unwrap()
        + 1;
    let place = format!("qualityd.toml:{line}: `listen`");
    let error = refused_at_start(&beyond);
    assert!(error.contains(&place), "{error}");
    assert!(
        error.contains("api.tokens") && error.contains("not a loopback"),
        "{error}"
    );

    let tokens = format!(
        "{beyond}\n[[api.tokens]]\nname = \"ops\"\nrole = \"admin\"\ntoken = \"{ADMIN_TOKEN}\"\n"
    );
    let error = refused_at_start(&tokens);
    assert!(error.contains(&place), "{error}");
    assert!(
        error.contains("api.tls") && error.contains("allow_plaintext"),
        "{error}"
    );

    // Saying plain HTTP is meant: it starts, and tokens hold there too.
    let plain = tokens.replace(
        "[[api.tokens]]",
        "[api]\nallow_plaintext = true\n\n[[api.tokens]]",
    );
    let text = format!("{plain}\n{EXAMPLE_DATASTORE}");
    let mut daemon = DaemonProcess::prepare(&text, &["files"]);
    let data = daemon.dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for file in ["customers.csv", "orders.csv"] {
        std::fs::copy(
            crate::support::root().join("examples/data").join(file),
            data.join(file),
        )
        .unwrap();
    }
    daemon.spawn();
    // The listen file holds 0.0.0.0:PORT: the helpers reach it on 127.0.0.1, a loopback name.
    assert_eq!(daemon.get("/datastores").status, 401);
    daemon.token = Some(ADMIN_TOKEN.into());
    assert_eq!(daemon.get("/datastores").status, 200);
    assert!(
        daemon.log().contains("plain HTTP"),
        "no warning:\n{}",
        daemon.log()
    );
    example_profiles_and_daemon_is_bounded(&daemon);
}

/// A test CA and a server certificate it signed for 127.0.0.1 and localhost: (CA PEM,
/// certificate PEM, key PEM).
fn test_certificates() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "qualityd test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    (ca.pem(), server.pem(), key.serialize_pem())
}

#[test]
fn the_api_serves_https_verified_against_its_ca() {
    let (ca, cert, key) = test_certificates();
    let text = config(EXAMPLE_DATASTORE).replacen(
        "\n[datastores.",
        "\n[api.tls]\ncert = \"tls/cert.pem\"\nkey = \"tls/key.pem\"\n\n[datastores.",
        1,
    );
    let mut daemon = DaemonProcess::prepare(&text, &["files"]);
    let tls = daemon.dir.path().join("tls");
    std::fs::create_dir(&tls).unwrap();
    std::fs::write(tls.join("cert.pem"), &cert).unwrap();
    std::fs::write(tls.join("key.pem"), &key).unwrap();
    let data = daemon.dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for file in ["customers.csv", "orders.csv"] {
        std::fs::copy(
            crate::support::root().join("examples/data").join(file),
            data.join(file),
        )
        .unwrap();
    }
    daemon.trust(&ca);
    daemon.spawn();
    assert!(daemon.base().starts_with("https://"), "{}", daemon.base());
    example_profiles_and_daemon_is_bounded(&daemon);

    // A client that does not trust the CA is refused at the handshake; plain HTTP gets no
    // HTTP answer.
    let stranger = ureq::Agent::config_builder().build().new_agent();
    let refused = stranger.get(format!("{}/healthz", daemon.base())).call();
    let error = refused
        .expect_err("an untrusted certificate was accepted")
        .to_string();
    assert!(
        error.to_lowercase().contains("certificate") || error.contains("UnknownIssuer"),
        "{error}"
    );
    let mut plain = TcpStream::connect(address(&daemon)).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    plain
        .write_all(
            format!(
                "GET /healthz HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
                address(&daemon)
            )
            .as_bytes(),
        )
        .unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer);
    assert!(!answer.starts_with(b"HTTP/"), "plain HTTP was answered");
    // The daemon still serves over TLS after both.
    assert_eq!(daemon.get("/readyz").status, 200);
}

#[test]
fn a_bad_certificate_or_key_is_refused_at_start_naming_the_key() {
    let (_, cert, _) = test_certificates();
    let (_, _, other_key) = test_certificates();
    let text = config("").replace(
        "shutdown_grace_secs = 30\n",
        "shutdown_grace_secs = 30\n\n[api.tls]\ncert = \"cert.pem\"\nkey = \"key.pem\"\n",
    );
    let daemon = DaemonProcess::prepare(&text, &[]);
    std::fs::write(daemon.dir.path().join("cert.pem"), &cert).unwrap();
    std::fs::write(daemon.dir.path().join("key.pem"), &other_key).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_qualityd"))
        .args(["serve", "--config", "qualityd.toml"])
        .current_dir(daemon.dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "it started: {output:?}");
    let error = String::from_utf8(output.stderr).unwrap();
    assert!(
        error.contains("api.tls") && error.contains("does not go with"),
        "{error}"
    );
    std::fs::write(daemon.dir.path().join("key.pem"), "not a key").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_qualityd"))
        .args(["serve", "--config", "qualityd.toml"])
        .current_dir(daemon.dir.path())
        .output()
        .unwrap();
    let error = String::from_utf8(output.stderr).unwrap();
    assert!(
        error.contains("api.tls") && error.contains("private key"),
        "{error}"
    );
}
