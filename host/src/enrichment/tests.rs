//! The enrichment datastore: Parquet files read back with the parquet crate's arrow reader,
//! and the PostgreSQL tables on the real server at 127.0.0.1:5432 (trust auth, database
//! `test`), each test in a schema of its own, dropped at its end.

use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Int64Type, TimestampMicrosecondType, UInt64Type};
use serde_json::json;

use super::*;
use crate::config::ConfigValue;
use crate::scan::{AnomalyKind, ContainerScanResult};
use crate::store::AnomalyStatus;

const SCANNED_AT: &str = "2026-01-02T03:04:05.123456Z";
const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn record(row: u64, amount: &str) -> FailingRecord {
    let values = json!({"id": row.to_string(), "amount": amount, "note": null});
    FailingRecord {
        row,
        values: values.as_object().unwrap().clone(),
    }
}

/// A stored anomaly last seen by `scan`, keeping `records`.
fn anomaly(
    id: i64,
    scan: i64,
    status: AnomalyStatus,
    records: Vec<FailingRecord>,
) -> AnomalyRecord {
    AnomalyRecord {
        id,
        datastore: "shop".into(),
        container: "orders.csv".into(),
        check_id: Some(id * 10),
        rule: "between".into(),
        kind: AnomalyKind::Record,
        status,
        message: format!("{} of 1000 rows fail", records.len()),
        fields: vec!["amount".into(), "missing".into()],
        failed_rows: records.len() as u64,
        rows: 1000,
        records,
        first_scan_id: 7,
        last_scan_id: scan,
        scans_seen: 1,
        created_at: "2026-01-02T03:04:05.123456Z".into(),
        updated_at: format!("2026-01-02T03:04:{:02}.000000Z", scan),
        status_note: None,
    }
}

/// A shape anomaly, with no check and no records.
fn shape(id: i64, scan: i64) -> AnomalyRecord {
    AnomalyRecord {
        check_id: None,
        rule: "schema_change".into(),
        kind: AnomalyKind::Shape,
        message: "the container's fields changed: `b` removed".into(),
        fields: vec!["b".into()],
        ..anomaly(id, scan, AnomalyStatus::Active, Vec::new())
    }
}

fn scan(id: i64, anomalies: &[AnomalyRecord]) -> ScanRecord {
    ScanRecord {
        id,
        job_id: Some(3),
        datastore: "shop".into(),
        scanned_at: SCANNED_AT.into(),
        result: ContainerScanResult {
            container: "orders.csv".into(),
            rows: 1000,
            partitions: 1,
            fields: Vec::new(),
            checks: Vec::new(),
            incremental: false,
            watermark: None,
        },
        anomalies: anomalies.iter().map(|a| a.id).collect(),
        resolved: Vec::new(),
    }
}

fn read(path: &Path) -> RecordBatch {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
}

fn strings(batch: &RecordBatch, name: &str) -> Vec<String> {
    let column = batch.column_by_name(name).unwrap().as_string::<i32>();
    column.iter().map(|v| v.unwrap().to_owned()).collect()
}

fn lists(batch: &RecordBatch, name: &str) -> Vec<Vec<String>> {
    let column = batch.column_by_name(name).unwrap().as_list::<i32>();
    (0..column.len())
        .map(|i| {
            let item = column.value(i);
            item.as_string::<i32>()
                .iter()
                .map(|v| v.unwrap().to_owned())
                .collect()
        })
        .collect()
}

fn ints(batch: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    let column = batch
        .column_by_name(name)
        .unwrap()
        .as_primitive::<Int64Type>();
    column.iter().collect()
}

fn counts(batch: &RecordBatch, name: &str) -> Vec<u64> {
    let column = batch
        .column_by_name(name)
        .unwrap()
        .as_primitive::<UInt64Type>();
    column.values().to_vec()
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn parquet_files_hold_the_anomalies_and_their_records() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("enrichment");
    let enrichment = Enrichment::open(&EnrichmentConfig::Parquet { dir: dir.clone() }).unwrap();
    assert_eq!(enrichment.destination(), dir.display().to_string());
    let found = [
        anomaly(
            1,
            7,
            AnomalyStatus::Active,
            vec![record(4, "-2"), record(9, "1e9")],
        ),
        shape(2, 7),
    ];
    enrichment.write("shop", &scan(7, &found), &found).unwrap();
    assert_eq!(files(&dir.join("anomalies")), ["scan-7.parquet"]);
    assert_eq!(files(&dir.join("failing_records")), ["scan-7.parquet"]);

    let anomalies = read(&dir.join("anomalies/scan-7.parquet"));
    assert_eq!(anomalies.schema(), super::parquet::anomalies_schema());
    assert_eq!(ints(&anomalies, "anomaly_id"), [Some(1), Some(2)]);
    assert_eq!(strings(&anomalies, "datastore"), ["shop", "shop"]);
    assert_eq!(
        strings(&anomalies, "container"),
        ["orders.csv", "orders.csv"]
    );
    assert_eq!(ints(&anomalies, "check_id"), [Some(10), None]);
    assert_eq!(strings(&anomalies, "rule"), ["between", "schema_change"]);
    assert_eq!(strings(&anomalies, "kind"), ["record", "shape"]);
    assert_eq!(strings(&anomalies, "status"), ["active", "active"]);
    assert_eq!(strings(&anomalies, "message")[0], "2 of 1000 rows fail");
    assert_eq!(
        lists(&anomalies, "fields"),
        [vec!["amount", "missing"], vec!["b"]]
    );
    assert_eq!(counts(&anomalies, "failed_rows"), [2, 0]);
    assert_eq!(counts(&anomalies, "rows"), [1000, 1000]);
    assert_eq!(ints(&anomalies, "first_scan_id"), [Some(7), Some(7)]);
    assert_eq!(ints(&anomalies, "last_scan_id"), [Some(7), Some(7)]);
    assert_eq!(ints(&anomalies, "scan_id"), [Some(7), Some(7)]);
    let scanned_at = anomalies.column_by_name("scanned_at").unwrap();
    let scanned_at = scanned_at.as_primitive::<TimestampMicrosecondType>();
    let expected = chrono::DateTime::parse_from_rfc3339(SCANNED_AT).unwrap();
    assert_eq!(scanned_at.value(0), expected.timestamp_micros());
    assert_eq!(scanned_at.timezone(), Some("UTC"));

    let records = read(&dir.join("failing_records/scan-7.parquet"));
    assert_eq!(records.schema(), super::parquet::failing_records_schema());
    assert_eq!(ints(&records, "anomaly_id"), [Some(1), Some(1)]);
    assert_eq!(ints(&records, "scan_id"), [Some(7), Some(7)]);
    assert_eq!(strings(&records, "datastore"), ["shop", "shop"]);
    assert_eq!(strings(&records, "container"), ["orders.csv", "orders.csv"]);
    assert_eq!(counts(&records, "row"), [4, 9]);
    let first: serde_json::Value = serde_json::from_str(&strings(&records, "record")[0]).unwrap();
    assert_eq!(first, json!({"id": "4", "amount": "-2", "note": null}));
    assert_eq!(
        lists(&records, "highlighted"),
        [vec!["amount"], vec!["amount"]]
    );
}

#[test]
fn each_scan_adds_its_own_files_and_a_scan_without_anomalies_none() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().to_path_buf();
    let enrichment = Enrichment::open(&EnrichmentConfig::Parquet { dir: dir.clone() }).unwrap();
    let first = [anomaly(1, 7, AnomalyStatus::Active, vec![record(4, "-2")])];
    enrichment.write("shop", &scan(7, &first), &first).unwrap();
    // The same anomaly seen again by scan 9, acknowledged since.
    let mut again = anomaly(
        1,
        9,
        AnomalyStatus::Acknowledged,
        vec![record(5, "-3"), record(6, "-4")],
    );
    again.scans_seen = 2;
    enrichment
        .write("shop", &scan(9, &[again.clone()]), &[again])
        .unwrap();
    enrichment.write("shop", &scan(10, &[]), &[]).unwrap();
    assert_eq!(
        files(&dir.join("anomalies")),
        ["scan-7.parquet", "scan-9.parquet"]
    );
    assert_eq!(
        files(&dir.join("failing_records")),
        ["scan-7.parquet", "scan-9.parquet"]
    );
    let later = read(&dir.join("anomalies/scan-9.parquet"));
    assert_eq!(ints(&later, "anomaly_id"), [Some(1)]);
    assert_eq!(ints(&later, "scan_id"), [Some(9)]);
    assert_eq!(strings(&later, "status"), ["acknowledged"]);
    assert_eq!(counts(&later, "failed_rows"), [2]);
    assert_eq!(
        counts(&read(&dir.join("failing_records/scan-9.parquet")), "row"),
        [5, 6]
    );
    // The first scan's file is as it was.
    assert_eq!(
        strings(&read(&dir.join("anomalies/scan-7.parquet")), "status"),
        ["active"]
    );
}

#[test]
fn a_parquet_directory_that_cannot_be_made_says_where() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let config = EnrichmentConfig::Parquet {
        dir: file.join("enrichment"),
    };
    let message = Enrichment::open(&config)
        .err()
        .expect("an error")
        .to_string();
    assert!(
        message.contains("a-file/enrichment") && message.contains("path"),
        "{message}"
    );
}

/// A schema of its own for one test, dropped when the test ends, even by a panic.
struct TestSchema(String);

impl TestSchema {
    fn new(test: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        TestSchema(format!("qualityd_test_{test}_{}_{n}", std::process::id()))
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        if let Ok(mut client) = ::postgres::Client::connect(PG_URL, ::postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0));
        }
    }
}

/// Run `test` on a blocking thread of a multi-thread tokio runtime, as the daemon's jobs run.
fn on_blocking_thread(test: impl FnOnce() + Send + 'static) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let joined = runtime.block_on(runtime.spawn_blocking(test));
    if let Err(e) = joined {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[test]
fn postgres_upserts_anomalies_and_replaces_a_scans_records() {
    on_blocking_thread(|| {
        let schema = TestSchema::new("upsert");
        let config = EnrichmentConfig::Postgres {
            url: ConfigValue::plain(PG_URL),
            schema: schema.0.clone(),
        };
        let enrichment = Enrichment::open(&config).unwrap_or_else(|e| {
            panic!(
                "{e}\n(these tests need PostgreSQL on 127.0.0.1:5432, trust auth, database test)"
            )
        });
        let first = [
            anomaly(
                1,
                7,
                AnomalyStatus::Active,
                vec![record(4, "-2"), record(9, "1e9")],
            ),
            shape(2, 7),
        ];
        enrichment.write("shop", &scan(7, &first), &first).unwrap();
        let mut again = anomaly(1, 9, AnomalyStatus::Acknowledged, vec![record(5, "-3")]);
        again.scans_seen = 2;
        enrichment
            .write("shop", &scan(9, &[again.clone()]), &[again.clone()])
            .unwrap();
        // Written again: scan 9's records are replaced, not added.
        enrichment
            .write("shop", &scan(9, &[again.clone()]), &[again])
            .unwrap();
        // A scan written late changes nothing of a newer state (its records still go in).
        enrichment.write("shop", &scan(7, &first), &first).unwrap();
        // A second opening finds the tables made.
        drop(enrichment);
        let enrichment = Enrichment::open(&config).unwrap();
        assert!(enrichment.destination().contains(&schema.0));

        let mut client = ::postgres::Client::connect(PG_URL, ::postgres::NoTls).unwrap();
        let s = &schema.0;
        let rows = client
            .query(
                &format!(
                    "SELECT anomaly_id, status, failed_rows, first_scan_id, last_scan_id, \
                     scans_seen, check_id, kind, fields, container FROM {s}.anomalies \
                     ORDER BY anomaly_id"
                ),
                &[],
            )
            .unwrap();
        assert_eq!(rows.len(), 2);
        let one = &rows[0];
        assert_eq!(one.get::<_, i64>(0), 1);
        assert_eq!(one.get::<_, String>(1), "acknowledged");
        assert_eq!(one.get::<_, i64>(2), 1);
        assert_eq!((one.get::<_, i64>(3), one.get::<_, i64>(4)), (7, 9));
        assert_eq!(one.get::<_, i64>(5), 2);
        assert_eq!(one.get::<_, Option<i64>>(6), Some(10));
        assert_eq!(one.get::<_, Vec<String>>(8), ["amount", "missing"]);
        assert_eq!(one.get::<_, String>(9), "orders.csv");
        let two = &rows[1];
        assert_eq!(two.get::<_, Option<i64>>(6), None);
        assert_eq!(two.get::<_, String>(7), "shape");
        let records = client
            .query(
                &format!(
                    "SELECT anomaly_id, scan_id, row, record, highlighted \
                     FROM {s}.failing_records ORDER BY scan_id, row"
                ),
                &[],
            )
            .unwrap();
        let got: Vec<(i64, i64, i64)> = records
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        assert_eq!(got, [(1, 7, 4), (1, 7, 9), (1, 9, 5)]);
        let record: serde_json::Value = records[2].get(3);
        assert_eq!(record, json!({"id": "5", "amount": "-3", "note": null}));
        assert_eq!(records[2].get::<_, Vec<String>>(4), ["amount"]);
    });
}

#[test]
fn a_dead_postgres_server_is_a_clear_error_without_the_password() {
    let config = EnrichmentConfig::Postgres {
        url: ConfigValue::plain("postgres://postgres:hunter2@127.0.0.1:1/test"),
        schema: "qualityd".into(),
    };
    let message = Enrichment::open(&config)
        .err()
        .expect("an error")
        .to_string();
    assert!(
        message.contains("postgres://postgres@127.0.0.1:1/test")
            && message.contains("cannot connect")
            && message.contains("refused"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
    assert!(!format!("{config:?}").contains("hunter2"));
}

#[test]
fn urls_are_shown_without_their_password() {
    let shown = |url: &str| shown_url(&ConfigValue::plain(url));
    assert_eq!(shown("postgres://u:pw@db:6543/x"), "postgres://u@db:6543/x");
    assert_eq!(
        shown("host=a,b port=1,2 user=u password=pw dbname=x"),
        "postgres://u@a:1,b:2/x"
    );
    assert_eq!(
        shown("postgres://u:pw@[::1]/x"),
        "postgres://u@[::1]:5432/x"
    );
    assert_eq!(shown("not a url=1 2 3"), crate::config::REDACTED);
    assert!(check_url("postgres://u@db/x").is_ok());
    let error = check_url("postgres://u@db:port/x").unwrap_err();
    assert!(error.contains("postgres://USER"), "{error}");
}
