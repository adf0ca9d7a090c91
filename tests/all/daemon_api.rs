//! `qualityd serve` end to end over HTTP: the example datastore configured, catalogued and
//! profiled, its profiles read back (latest and history), jobs listed, metrics and the
//! OpenAPI document served, and bad requests answered with JSON errors that say what to do.

use serde_json::{Value, json};

use crate::daemon_process::{DaemonProcess, EXAMPLE_DATASTORE, config};

fn field<'a>(profile: &'a Value, name: &str) -> &'a Value {
    profile["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field {name} in {profile}"))
}

#[test]
fn the_example_datastore_is_catalogued_profiled_and_read_back() {
    let daemon = DaemonProcess::start_with_example_data(&config(EXAMPLE_DATASTORE), &["files"]);

    let datastores = daemon.get("/datastores").body;
    assert_eq!(datastores[0]["name"], "example");
    assert_eq!(datastores[0]["plugin"], "files");
    assert_eq!(datastores[0]["settings"]["path"], "data");
    let plugin = daemon.serving("files").expect("the files plugin serves");
    assert!(plugin["version"].as_str().unwrap().starts_with("files@"));

    // Catalog: both files, with their fields and types.
    let catalog = daemon.submit(json!({"kind": "catalog", "datastore": "example"}));
    let job = daemon.wait_job(catalog);
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["plugin"], plugin["version"]);
    assert_eq!(job["plugin_sha256"], plugin["sha256"]);
    let containers = daemon.get("/datastores/example/containers").body;
    let names: Vec<&str> = containers
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["customers.csv", "orders.csv"]);
    let customers = daemon
        .get("/datastores/example/containers/customers.csv")
        .body;
    let fields: Vec<(&str, &str)> = customers["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap(),
                f["data_type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(fields[0], ("customer_id", "Int64"));
    assert_eq!(fields.len(), 6, "{customers}");

    // Profile one container; read it back.
    let profile_job = daemon.submit(json!({
        "kind": "profile", "datastore": "example", "containers": ["customers.csv"]
    }));
    let job = daemon.wait_job(profile_job);
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["progress"]["rows"], 120);
    assert!(job["finished_at"].is_string() && job["started_at"].is_string());
    let latest = daemon
        .get("/datastores/example/containers/customers.csv/profile")
        .body;
    assert_eq!(latest["job_id"], profile_job);
    let profile = &latest["profile"];
    assert_eq!(profile["rows"], 120);
    let id = field(profile, "customer_id");
    assert_eq!(
        (id["min"].clone(), id["max"].clone()),
        (json!(1), json!(120))
    );
    assert_eq!(id["distinct"], 120);
    assert_eq!(field(profile, "email")["nulls"], 7);
    assert_eq!(field(profile, "city")["distinct"], 10);
    let none = daemon.get("/datastores/example/containers/orders.csv/profile");
    assert_eq!(
        none.status, 404,
        "orders.csv was not profiled: {}",
        none.body
    );

    // A second run of the whole datastore adds records; history is newest first.
    let again = daemon.submit(json!({"kind": "profile", "datastore": "example"}));
    assert_eq!(daemon.wait_job(again)["state"], "succeeded");
    let history = daemon
        .get("/datastores/example/containers/customers.csv/profiles")
        .body;
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0]["job_id"], again);
    assert_eq!(history[1]["job_id"], profile_job);
    let first = daemon.get(&format!("/profiles/{}", history[1]["id"])).body;
    assert_eq!(first["profile"]["rows"], 120);
    let orders = daemon
        .get("/datastores/example/containers/orders.csv/profile")
        .body;
    assert_eq!(orders["profile"]["rows"], 1000);

    // Jobs listed newest first, filtered; metrics count what happened.
    let jobs = daemon.get("/jobs?datastore=example&state=succeeded").body;
    let ids: Vec<i64> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [again, profile_job, catalog]);
    let metrics = daemon.get("/metrics").body;
    let metrics = metrics.as_str().unwrap();
    assert!(
        metrics.contains("qualityd_jobs_total{kind=\"profile\",state=\"succeeded\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("qualityd_rows_read_total 1240"),
        "{metrics}"
    );
    assert!(
        metrics.contains("qualityd_plugin_reloads_total{plugin=\"files\",outcome=\"loaded\"} 1"),
        "{metrics}"
    );
    let health = daemon.get("/healthz").body;
    assert_eq!(
        (health["status"].clone(), health["ready"].clone()),
        (json!("ok"), json!(true))
    );
}

#[test]
fn bad_requests_get_json_errors_that_say_what_to_do() {
    let daemon = DaemonProcess::start_with_example_data(&config(EXAMPLE_DATASTORE), &["files"]);
    let cases: [(&str, Option<Value>, u16, &str, &str); 8] = [
        (
            "/datastores/nope",
            None,
            404,
            "no-such-datastore",
            "the config has: example",
        ),
        ("/jobs/abc", None, 400, "bad-request", "not a job id"),
        ("/jobs/999", None, 404, "not-found", "no job 999"),
        ("/no/such/path", None, 404, "not-found", "openapi.json"),
        (
            "/datastores/example/containers/missing.csv",
            None,
            404,
            "no-such-container",
            "run a catalog job",
        ),
        (
            "/jobs",
            Some(json!({"kind": "profile", "datastore": "nope"})),
            404,
            "no-such-datastore",
            "no datastore named `nope`",
        ),
        (
            "/jobs",
            Some(json!({"kind": "scrub", "datastore": "example"})),
            400,
            "bad-request",
            "\"kind\": \"catalog\"|\"profile\"",
        ),
        (
            "/jobs",
            Some(json!({"kind": "catalog", "datastore": "example", "containers": ["a"]})),
            400,
            "bad-request",
            "leave `containers` out",
        ),
    ];
    for (path, body, status, code, says) in cases {
        let answer = match &body {
            Some(body) => daemon.post(path, body),
            None => daemon.get(path),
        };
        assert_eq!(answer.status, status, "{path} {body:?}: {}", answer.body);
        assert_eq!(
            answer.body["error"]["code"], code,
            "{path}: {}",
            answer.body
        );
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{path}: {message}");
    }

    // A profile of a container that is not there fails the job and names what there is.
    let job = daemon.submit(json!({
        "kind": "profile", "datastore": "example", "containers": ["nope.csv"]
    }));
    let job = daemon.wait_job(job);
    assert_eq!(job["state"], "failed");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("nope.csv") && error.contains("customers.csv"),
        "{error}"
    );

    // Cancelling a job that ended is a conflict.
    let cancel = daemon.post(&format!("/jobs/{}/cancel", job["id"]), &Value::Null);
    assert_eq!(cancel.status, 409, "{}", cancel.body);
}

#[test]
fn the_openapi_document_describes_every_route() {
    let daemon = DaemonProcess::start(&config(""), &[]);
    let document = daemon.get("/openapi.json").body;
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = document["paths"].as_object().unwrap();
    for (path, method) in [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/datastores", "get"),
        ("/datastores/{datastore}", "get"),
        ("/datastores/{datastore}/containers", "get"),
        ("/datastores/{datastore}/containers/{container}", "get"),
        (
            "/datastores/{datastore}/containers/{container}/profile",
            "get",
        ),
        (
            "/datastores/{datastore}/containers/{container}/profiles",
            "get",
        ),
        ("/profiles/{id}", "get"),
        ("/jobs", "get"),
        ("/jobs", "post"),
        ("/jobs/{id}", "get"),
        ("/jobs/{id}/cancel", "post"),
        ("/jobs/{id}/scans", "get"),
        ("/scans/{id}", "get"),
        ("/checks", "get"),
        ("/checks", "post"),
        ("/checks/infer", "post"),
        ("/checks/sync", "post"),
        ("/checks/{id}", "get"),
        ("/checks/{id}", "put"),
        ("/checks/{id}", "delete"),
        ("/checks/{id}/accept", "post"),
        ("/checks/{id}/reject", "post"),
        ("/anomalies", "get"),
        ("/anomalies/{id}", "get"),
        ("/anomalies/{id}/status", "post"),
        ("/plugins", "get"),
        ("/plugins/events", "get"),
        ("/plugins/reload", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is not documented"
        );
    }
}

#[test]
fn a_running_job_can_be_cancelled() {
    let slow = crate::daemon_process::slow_datastore("slow", 600, 100);
    let daemon = DaemonProcess::start(&config(&slow), &["hostile"]);
    let job = daemon.submit(json!({"kind": "profile", "datastore": "slow"}));
    daemon.wait_running(job);
    daemon.wait_for("some rows read", || {
        daemon.get(&format!("/jobs/{job}")).body["progress"]["rows"]
            .as_u64()
            .unwrap_or(0)
            > 0
    });
    let cancel = daemon.post(&format!("/jobs/{job}/cancel"), &Value::Null);
    assert_eq!(cancel.status, 202, "{}", cancel.body);
    let ended = daemon.wait_job(job);
    assert_eq!(ended["state"], "cancelled", "{ended}");
    assert_eq!(ended["error"], "cancelled on request");
    let rows = ended["progress"]["rows"].as_u64().unwrap();
    assert!(rows > 0 && rows < 1800, "{ended}");
}
