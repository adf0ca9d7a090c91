//! Scans end to end: checks from a check file and the API, a scan job through the real files
//! plugin and the daemon's API, anomalies with their failing records read back,
//! deduplicated across scans, acknowledged, and resolved once the data is fixed; and
//! `qualityd scan` / `qualityd checks infer` from the command line.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::daemon_process::{DaemonProcess, EXAMPLE_DATASTORE, config};

/// The example orders, with three planted defects appended: a quantity of 0, a quantity of
/// 500, and a status no order has.
const PLANTED: &str = "9001,12,2024-05-01T10:00:00,placed,0,10.5,,\n\
                       9002,13,2024-05-02T11:00:00,shipped,500,11.5,,\n\
                       9003,14,2024-05-03T12:00:00,lost,3,12.5,,\n";

const CHECKS: &str = "datastore: example
checks:
  - container: orders.csv
    fields: [quantity]
    rule: {rule: between, min: 1, max: 100}
    description: Orders are of 1 to 100 items
    tags: [sales]
  - container: orders.csv
    fields: [status]
    rule: {rule: expected_values, values: [placed, shipped, delivered, cancelled, returned]}
  - container: orders.csv
    fields: [order_id]
    rule: {rule: unique}
  - container: orders.csv
    rule: {rule: satisfies_expression, expression: unit_price > 0}
  - container: orders.csv
    fields: [discount]
    rule: {rule: not_null}
    filter: status = 'returned' AND discount IS NOT NULL
";

fn copy_example(dir: &Path, planted: bool) {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let root = crate::support::root().join("examples/data");
    std::fs::copy(root.join("customers.csv"), data.join("customers.csv")).unwrap();
    let mut orders = std::fs::read_to_string(root.join("orders.csv")).unwrap();
    if planted {
        orders.push_str(PLANTED);
    }
    std::fs::write(data.join("orders.csv"), orders).unwrap();
}

fn scan(daemon: &DaemonProcess) -> Value {
    let id = daemon.submit(json!({"kind": "scan", "datastore": "example"}));
    let job = daemon.wait_job(id);
    assert_eq!(job["state"], "succeeded", "{job}");
    let scans = daemon.get(&format!("/jobs/{id}/scans")).body;
    assert!(scans.is_array(), "{scans}");
    scans
}

fn result<'a>(scans: &'a Value, container: &str, rule: &str) -> &'a Value {
    let scan = scans
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["container"] == container)
        .unwrap_or_else(|| panic!("no scan of {container} in {scans}"));
    scan["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"]["rule"]["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} result in {scan}"))
}

fn order_ids(anomaly: &Value) -> Vec<String> {
    anomaly["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["values"]["order_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_scan_finds_the_planted_rows_keeps_them_and_follows_each_anomaly_across_scans() {
    let enrichment = "\n[enrichment]\nkind = \"parquet\"\npath = \"enrichment\"\n";
    let mut daemon = DaemonProcess::prepare(&(config(EXAMPLE_DATASTORE) + enrichment), &["files"]);
    copy_example(daemon.dir.path(), true);
    std::fs::create_dir(daemon.dir.path().join("checks")).unwrap();
    std::fs::write(daemon.dir.path().join("checks/orders.yaml"), CHECKS).unwrap();
    daemon.spawn();

    // The file's checks are in the store; one more comes through the API.
    let checks = daemon.get("/checks?datastore=example").body;
    assert_eq!(checks.as_array().unwrap().len(), 5, "{checks}");
    assert!(
        checks[0]["source"]
            .as_str()
            .unwrap()
            .ends_with("checks/orders.yaml")
    );
    let created = daemon.post(
        "/checks",
        &json!({"datastore": "example", "container": "customers.csv", "fields": ["email"],
                "rule": {"rule": "contains_email"}}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let api_check = created.body["id"].as_i64().unwrap();
    let edited = daemon.put(
        &format!("/checks/{api_check}"),
        &json!({"container": "customers.csv", "fields": ["email"],
                "rule": {"rule": "contains_email"}, "description": "Every customer has an email"}),
    );
    assert_eq!(edited.status, 200, "{}", edited.body);
    assert_eq!(edited.body["description"], "Every customer has an email");
    assert_eq!(edited.body["source"], "api");
    // A file's check is changed in its file, not through the API.
    let file_check = checks[0]["id"].as_i64().unwrap();
    let refused = daemon.delete(&format!("/checks/{file_check}"));
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("orders.yaml")
    );

    let scans = scan(&daemon);
    let between = result(&scans, "orders.csv", "between");
    assert_eq!(between["passed"], false);
    assert_eq!(between["rows"], 1003);
    assert_eq!(between["failed_rows"], 2);
    let expected = result(&scans, "orders.csv", "expected_values");
    assert_eq!(expected["failed_rows"], 1);
    for rule in ["unique", "satisfies_expression", "not_null"] {
        let passed = result(&scans, "orders.csv", rule);
        assert_eq!(passed["passed"], true, "{passed}");
        assert!(passed["error"].is_null(), "{passed}");
    }
    // The filter narrows the rows the check applies to.
    let filtered = result(&scans, "orders.csv", "not_null");
    let returned_with_discount = filtered["rows"].as_u64().unwrap();
    assert!(
        returned_with_discount > 0 && returned_with_discount < 1003,
        "{filtered}"
    );
    assert_eq!(
        result(&scans, "customers.csv", "contains_email")["passed"],
        true
    );

    // Two record anomalies, with exactly the planted rows as records, the field highlighted.
    let anomalies = daemon
        .get("/anomalies?datastore=example&status=active")
        .body;
    assert_eq!(anomalies.as_array().unwrap().len(), 2, "{anomalies}");
    let range = anomalies
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["rule"] == "between")
        .unwrap()
        .clone();
    assert_eq!(range["kind"], "record");
    assert_eq!(range["fields"], json!(["quantity"]));
    assert_eq!(order_ids(&range), ["9001", "9002"]);
    assert_eq!(range["records"][0]["row"], 1000);
    assert_eq!(range["records"][0]["values"]["quantity"], "0");
    assert_eq!(range["records"][1]["values"]["status"], "shipped");
    let id = range["id"].as_i64().unwrap();
    assert_eq!(
        daemon.get(&format!("/anomalies/{id}")).body["message"],
        range["message"]
    );

    // The enrichment destination has both anomalies and their three records.
    let enriched = daemon.dir.path().join("enrichment");
    assert_eq!(parquet_rows(&enriched.join("anomalies")), 2);
    assert_eq!(parquet_rows(&enriched.join("failing_records")), 3);

    // The same data scanned again: the same anomalies, seen twice; none new.
    let acknowledged = daemon.post(
        &format!("/anomalies/{id}/status"),
        &json!({"status": "acknowledged", "note": "looking into it"}),
    );
    assert_eq!(acknowledged.status, 200, "{}", acknowledged.body);
    scan(&daemon);
    let all = daemon.get("/anomalies?datastore=example").body;
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    let again = daemon.get(&format!("/anomalies/{id}")).body;
    assert_eq!(again["scans_seen"], 2);
    assert_eq!(again["status"], "acknowledged");
    assert_eq!(order_ids(&again), ["9001", "9002"]);

    // The data fixed: the next scan resolves both.
    copy_example(daemon.dir.path(), false);
    scan(&daemon);
    let open = daemon
        .get("/anomalies?datastore=example&status=active")
        .body;
    assert_eq!(open, json!([]));
    let resolved = daemon.get(&format!("/anomalies/{id}")).body;
    assert_eq!(resolved["status"], "resolved");
    // The resolving scan wrote both anomalies, resolved, to the enrichment destination.
    assert_eq!(parquet_rows(&enriched.join("anomalies")), 2 + 2 + 2);
    assert_eq!(parquet_rows(&enriched.join("failing_records")), 3 + 3);
    assert!(
        resolved["status_note"].as_str().unwrap().contains("passed"),
        "{resolved}"
    );
}

#[test]
fn a_check_that_does_not_fit_its_container_is_reported_and_the_others_still_run() {
    let mut daemon = DaemonProcess::prepare(&config(EXAMPLE_DATASTORE), &["files"]);
    copy_example(daemon.dir.path(), true);
    daemon.spawn();
    for check in [
        json!({"container": "orders.csv", "fields": ["no_such_field"], "rule": {"rule": "not_null"}}),
        json!({"container": "orders.csv", "rule": {"rule": "satisfies_expression", "expression": "quantity >"}}),
        json!({"container": "orders.csv", "fields": ["quantity"], "rule": {"rule": "positive"}}),
        json!({"container": "gone.csv", "fields": ["x"], "rule": {"rule": "not_null"}}),
    ] {
        let mut body = check.clone();
        body["datastore"] = json!("example");
        let created = daemon.post("/checks", &body);
        assert_eq!(created.status, 201, "{}", created.body);
    }
    let id = daemon.submit(json!({"kind": "scan", "datastore": "example"}));
    let job = daemon.wait_job(id);
    assert_eq!(job["state"], "succeeded", "{job}");
    let failures = job["failures"].as_array().unwrap();
    let message = |code: &str, needle: &str| {
        failures
            .iter()
            .find(|f| f["code"] == code && f["error"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no {code} failure naming {needle}: {job}"))
    };
    message("check", "no_such_field");
    message("check", "does not parse");
    message("no-such-container", "gone.csv");
    let scans = daemon.get(&format!("/jobs/{id}/scans")).body;
    assert_eq!(result(&scans, "orders.csv", "positive")["failed_rows"], 1);

    // A bad check body says what a check looks like.
    let bad = daemon.post(
        "/checks",
        &json!({"datastore": "example", "container": "orders.csv", "rule": {"rule": "betwen"}}),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("docs/checks.md")
    );
}

/// The rows of every Parquet file in `dir`.
fn parquet_rows(dir: &Path) -> usize {
    let mut rows = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = std::fs::File::open(entry.unwrap().path()).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        rows += reader.map(|batch| batch.unwrap().num_rows()).sum::<usize>();
    }
    rows
}

fn qualityd(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_qualityd"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn inferred_checks_pass_on_the_example_and_the_cli_scan_fails_on_a_planted_defect() {
    let daemon = DaemonProcess::prepare(&config(EXAMPLE_DATASTORE), &["files"]);
    let dir = daemon.dir.path();
    copy_example(dir, false);

    let (code, out, err) = qualityd(
        dir,
        &[
            "checks",
            "infer",
            "--datastore",
            "example",
            "--accept",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let proposals: Value = serde_json::from_str(&out).unwrap();
    let proposals = proposals.as_array().unwrap();
    assert!(proposals.len() >= 10, "{out}");
    assert!(
        proposals
            .iter()
            .all(|p| p["status"] == "active" && p["source"] == "inferred")
    );
    assert!(
        proposals
            .iter()
            .all(|p| !p["evidence"].as_str().unwrap().is_empty())
    );
    let rules: Vec<&str> = proposals
        .iter()
        .map(|p| p["rule"]["rule"].as_str().unwrap())
        .collect();
    for rule in ["not_null", "expected_values"] {
        assert!(rules.contains(&rule), "no {rule} among {rules:?}");
    }

    // Inferred from this data, they pass on it.
    let (code, out, err) = qualityd(dir, &["scan"]);
    assert_eq!(
        code, 0,
        "the example fails its own inferred checks:\n{out}\n{err}"
    );
    assert!(out.contains("orders.csv"), "{out}");

    // Inferring again proposes nothing new.
    let (code, out, _) = qualityd(dir, &["checks", "infer", "--datastore", "example"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("0 checks proposed"), "{out}");

    // A copy with planted defects fails them, and says where.
    copy_example(dir, true);
    let (code, out, err) = qualityd(dir, &["scan"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("anomaly"), "{out}");
    assert!(
        out.contains("order_id=\"9003\""),
        "the unknown status's record: {out}"
    );
    assert!(
        out.contains("*status=\"lost\"*"),
        "the failed field highlighted: {out}"
    );
}

fn write_at(path: &Path, text: &str, seconds_after_epoch: u64) {
    std::fs::write(path, text).unwrap();
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(
        std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(seconds_after_epoch),
    )
    .unwrap();
}

/// `qualityd scan --format json`: its exit code and the one container's stored scan.
fn scan_json(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["scan", "--format", "json"];
    args.extend(extra);
    let (code, out, err) = qualityd(dir, &args);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, report[0]["scans"][0].clone())
}

#[test]
fn an_incremental_scan_reads_only_new_files_and_leaves_open_anomalies_open() {
    let daemon = DaemonProcess::prepare(&config(EXAMPLE_DATASTORE), &["files"]);
    let dir = daemon.dir.path();
    let data = dir.join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::create_dir(dir.join("checks")).unwrap();
    std::fs::write(
        dir.join("checks/sales.yaml"),
        "datastore: example\nchecks:\n  - container: sales_*.csv\n    fields: [amount]\n    \
         rule: {rule: not_negative}\n",
    )
    .unwrap();
    write_at(
        &data.join("sales_2024-01.csv"),
        "id,amount\n1,5\n2,-1\n",
        1_700_000_000,
    );
    write_at(
        &data.join("sales_2024-02.csv"),
        "id,amount\n3,7\n",
        1_700_000_100,
    );

    // No watermark yet: the first incremental scan reads everything.
    let (code, first) = scan_json(dir, &["--incremental"]);
    assert_eq!(code, 1, "{first}");
    assert_eq!(first["rows"], 3);
    assert_eq!(first["incremental"], false);
    let anomaly = first["anomalies"][0].clone();

    // Nothing new: nothing read, nothing found, and the open anomaly stays open.
    let (code, second) = scan_json(dir, &["--incremental"]);
    assert_eq!(code, 0, "{second}");
    assert_eq!(
        (second["rows"].clone(), second["incremental"].clone()),
        (json!(0), json!(true))
    );
    assert_eq!(second["checks"][0]["passed"], true);

    // A new file: only it is read; its bad row updates the same open anomaly.
    write_at(
        &data.join("sales_2024-03.csv"),
        "id,amount\n4,-3\n5,2\n",
        1_700_000_200,
    );
    let (code, third) = scan_json(dir, &["--incremental"]);
    assert_eq!(code, 1, "{third}");
    assert_eq!(third["rows"], 2);
    assert_eq!(third["checks"][0]["failed_rows"], 1);
    assert_eq!(third["anomalies"], json!([anomaly]));
    assert_eq!(third["checks"][0]["records"][0]["values"]["id"], "4");

    // A full scan reads all three files again.
    let (code, full) = scan_json(dir, &[]);
    assert_eq!(code, 1);
    assert_eq!(full["rows"], 5);
    assert_eq!(full["checks"][0]["failed_rows"], 2);
}

#[test]
fn checks_against_other_containers_and_datastores_find_exactly_the_orphans() {
    let archive = "[datastores.archive]\nplugin = \"files\"\nsettings = { path = \"archive\" }\n\
                   grants = { directories = [\"archive\"] }\n";
    let mut daemon = DaemonProcess::prepare(&(config(EXAMPLE_DATASTORE) + archive), &["files"]);
    let dir = daemon.dir.path();
    copy_example(dir, false);
    let orders = dir.join("data/orders.csv");
    let mut text = std::fs::read_to_string(&orders).unwrap();
    text.push_str("9999,999,2024-05-04T12:00:00,placed,3,12.5,,\n");
    std::fs::write(&orders, text).unwrap();
    std::fs::create_dir(dir.join("archive")).unwrap();
    std::fs::write(
        dir.join("archive/blocked.csv"),
        "email\nkofi.dubois1@example.com\nrosa.müller2@example.com\nnobody@example.com\n",
    )
    .unwrap();
    // An archived copy of the customers: customer 5 moved city, customer 120 is not there.
    let customers = std::fs::read_to_string(dir.join("data/customers.csv")).unwrap();
    let copy: Vec<String> = customers
        .lines()
        .filter(|line| !line.starts_with("120,"))
        .map(|line| match line.starts_with("5,") {
            true => {
                let mut fields: Vec<&str> = line.split(',').collect();
                fields[3] = "Atlantis";
                fields.join(",")
            }
            false => line.to_owned(),
        })
        .collect();
    std::fs::write(dir.join("archive/customers.csv"), copy.join("\n") + "\n").unwrap();
    daemon.spawn();

    let checks = [
        json!({"container": "orders.csv", "fields": ["customer_id"],
               "rule": {"rule": "exists_in", "container": "customers.csv", "field": "customer_id"}}),
        json!({"container": "customers.csv", "fields": ["email"],
               "rule": {"rule": "not_exists_in", "container": "blocked.csv", "field": "email",
                        "datastore": "archive"}}),
        json!({"container": "orders.csv",
               "rule": {"rule": "aggregation_comparison", "expression": "COUNT(*)",
                        "comparison": "gte", "ref_container": "customers.csv",
                        "ref_expression": "COUNT(*)"}}),
        json!({"container": "orders.csv",
               "rule": {"rule": "aggregation_comparison", "expression": "MAX(customer_id)",
                        "comparison": "lte", "ref_container": "customers.csv",
                        "ref_expression": "max(customer_id)"}}),
        json!({"container": "orders.csv", "fields": ["customer_id"],
               "rule": {"rule": "exists_in", "container": "gone.csv", "field": "id"}}),
        json!({"container": "customers.csv",
               "rule": {"rule": "data_diff", "ref_container": "customers.csv",
                        "ref_datastore": "archive", "row_identifiers": ["customer_id"]}}),
    ];
    for check in checks {
        let mut body = check;
        body["datastore"] = json!("example");
        let created = daemon.post("/checks", &body);
        assert_eq!(created.status, 201, "{}", created.body);
    }
    let id = daemon.submit(json!({"kind": "scan", "datastore": "example"}));
    let job = daemon.wait_job(id);
    assert_eq!(job["state"], "succeeded", "{job}");
    let scans = daemon.get(&format!("/jobs/{id}/scans")).body;
    let checks_of = |container: &str| -> Vec<Value> {
        scans
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["container"] == container)
            .unwrap_or_else(|| panic!("no scan of {container}: {scans}"))["checks"]
            .as_array()
            .unwrap()
            .clone()
    };
    let orders = checks_of("orders.csv");
    // The one order whose customer does not exist, and nothing else.
    assert_eq!(orders[0]["failed_rows"], 1, "{}", orders[0]);
    assert_eq!(orders[0]["records"][0]["values"]["order_id"], "9999");
    // Counts compare: 1001 orders >= 120 customers.
    assert_eq!(orders[1]["passed"], true, "{}", orders[1]);
    assert_eq!(
        orders[1]["message"],
        "COUNT(*) = 1001 >= COUNT(*) = 120 holds"
    );
    assert_eq!(orders[2]["passed"], false, "{}", orders[2]);
    assert!(
        orders[2]["message"].as_str().unwrap().contains("999"),
        "{}",
        orders[2]
    );
    // A container that does not exist fails its check alone, naming it.
    assert_eq!(orders[3]["passed"], false);
    let error = orders[3]["error"].as_str().unwrap();
    assert!(
        error.contains("gone.csv") && error.contains("could not be read"),
        "{error}"
    );
    // Another datastore's container: the two blocked customers.
    let customers = checks_of("customers.csv");
    assert_eq!(customers[0]["failed_rows"], 2, "{}", customers[0]);
    let blocked: Vec<&str> = customers[0]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["values"]["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        blocked,
        ["kofi.dubois1@example.com", "rosa.müller2@example.com"]
    );
    // The archived copy differs in exactly the two customers changed.
    let diff = &customers[1];
    assert_eq!(diff["passed"], false, "{diff}");
    assert_eq!(diff["failed_rows"], 2, "{diff}");
    let ids: Vec<&str> = diff["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["values"]["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["5", "120"]);
    let message = diff["message"].as_str().unwrap();
    assert!(
        message.contains("0 of its 119 rows are not here"),
        "{message}"
    );
}

#[test]
fn a_failed_unique_check_keeps_the_repeated_rows_as_records_across_partitions() {
    // Small partitions: the CSV is split into many byte ranges, so the rows picked again
    // after the scan are found by each partition's place.
    let datastore = "[datastores.example]\nplugin = \"files\"\n\
                     settings = { path = \"data\", partition_bytes = 40 }\n\
                     grants = { directories = [\"data\"] }\n";
    let daemon = DaemonProcess::prepare(&config(datastore), &["files"]);
    let dir = daemon.dir.path();
    std::fs::create_dir(dir.join("data")).unwrap();
    let mut csv = String::from("id,name\n");
    for i in 0..200 {
        let id = match i {
            57 => 3,
            150 => 120,
            _ => i,
        };
        csv.push_str(&format!("{id},name {i}\n"));
    }
    std::fs::write(dir.join("data/people.csv"), csv).unwrap();
    std::fs::create_dir(dir.join("checks")).unwrap();
    std::fs::write(
        dir.join("checks/people.yaml"),
        "datastore: example\nchecks:\n  - container: people.csv\n    fields: [id]\n    \
         rule: {rule: unique}\n",
    )
    .unwrap();

    let (code, scan) = scan_json(dir, &[]);
    assert_eq!(code, 1, "{scan}");
    assert!(scan["partitions"].as_u64().unwrap() > 4, "{scan}");
    let unique = &scan["checks"][0];
    assert_eq!(unique["failed_rows"], 4, "{unique}");
    let records: Vec<(u64, String)> = unique["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let name = r["values"]["name"].as_str().unwrap().to_owned();
            (r["row"].as_u64().unwrap(), name)
        })
        .collect();
    assert_eq!(
        records,
        [
            (3, "name 3".to_owned()),
            (57, "name 57".to_owned()),
            (120, "name 120".to_owned()),
            (150, "name 150".to_owned())
        ]
    );
}

#[test]
fn row_checks_keep_their_records_in_a_scan_where_a_unique_check_fails() {
    let datastore = "[datastores.example]\nplugin = \"files\"\n\
                     settings = { path = \"data\" }\n\
                     grants = { directories = [\"data\"] }\n";
    let daemon = DaemonProcess::prepare(&config(datastore), &["files"]);
    let dir = daemon.dir.path();
    std::fs::create_dir(dir.join("data")).unwrap();
    let mut csv = String::from("id,name,score\n");
    for i in 0..50 {
        let id = if i == 40 { 7 } else { i };
        let name = if i % 20 == 5 {
            String::new()
        } else {
            format!("n{i}")
        };
        let score = if i == 12 { 500 } else { i };
        csv.push_str(&format!("{id},{name},{score}\n"));
    }
    std::fs::write(dir.join("data/people.csv"), csv).unwrap();
    std::fs::create_dir(dir.join("checks")).unwrap();
    std::fs::write(
        dir.join("checks/people.yaml"),
        "datastore: example\nchecks:\n  - container: people.csv\n    fields: [id]\n    \
         rule: {rule: unique}\n  - container: people.csv\n    fields: [name]\n    \
         rule: {rule: not_null}\n  - container: people.csv\n    fields: [score]\n    \
         rule: {rule: between, min: 0, max: 100}\n",
    )
    .unwrap();

    let (code, scan) = scan_json(dir, &[]);
    assert_eq!(code, 1, "{scan}");
    let rows_of = |rule: &str| -> Vec<u64> {
        let check = (scan["checks"].as_array().unwrap().iter())
            .find(|c| c["check"].to_string().contains(&format!("\"{rule}\"")))
            .unwrap_or_else(|| panic!("no {rule} result in {scan}"));
        (check["records"].as_array().unwrap().iter())
            .map(|r| r["row"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(rows_of("unique"), [7, 40]);
    assert_eq!(rows_of("not_null"), [5, 25, 45]);
    assert_eq!(rows_of("between"), [12]);
}
