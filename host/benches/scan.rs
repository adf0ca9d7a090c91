//! A scan of 20 checks over a 5 M-row Parquet file, in one pass, through the compiled
//! `files` plugin, beside DuckDB running the same 20 checks as one SQL query (one pass too)
//! over the same file, in one run. Both report each check's failing-row count, and the bench
//! asserts they agree before it prints any time.
//!
//! `cargo bench --bench scan` (run `make plugins` first). Env: `ROWS` (default 5 000 000),
//! `ROUNDS` (default 3, alternating, median reported), `PYTHON` (a Python with `duckdb`;
//! DuckDB is skipped when it has none), `CHECKS` (indices of the checks to run, e.g. `0,4`;
//! all by default). The file is written once to
//! `target/bench-data/scan_<ROWS>.parquet` and reused.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::env_or;

use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use qualityd::checks::Check;
use qualityd::operation::{Datastore, Progress, ScanOptions, scan};
use qualityd::runtime::{Grants, Runtime};

/// The 20 checks, each with the SQL condition that marks its failing rows in DuckDB (for
/// row rules) or the SQL that computes its failure count (aggregates, prefixed `=`). `unique`
/// fails every row whose id another row has, which DuckDB counts with a grouped subquery
/// (`count(id) - count(DISTINCT id)` would count one row fewer per duplicated id).
const CHECKS: &[(&str, &str)] = &[
    (
        r#"{"fields": ["id"], "rule": {"rule": "not_null"}}"#,
        "id IS NULL",
    ),
    (
        r#"{"fields": ["id"], "rule": {"rule": "unique"}}"#,
        "=(SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM read_parquet('{file}') WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1))",
    ),
    (
        r#"{"fields": ["customer_id"], "rule": {"rule": "not_null"}}"#,
        "customer_id IS NULL",
    ),
    (
        r#"{"fields": ["customer_id"], "rule": {"rule": "min_value", "value": 1}}"#,
        "customer_id < 1",
    ),
    (
        r#"{"fields": ["amount"], "rule": {"rule": "between", "min": 0, "max": 1000}}"#,
        "amount < 0 OR amount > 1000 OR isnan(amount)",
    ),
    (
        r#"{"fields": ["amount"], "rule": {"rule": "not_negative"}}"#,
        "amount < 0 OR isnan(amount)",
    ),
    (
        r#"{"fields": ["quantity"], "rule": {"rule": "positive"}}"#,
        "quantity <= 0",
    ),
    (
        r#"{"fields": ["quantity"], "rule": {"rule": "max_value", "value": 100}}"#,
        "quantity > 100",
    ),
    (
        r#"{"fields": ["status"], "rule": {"rule": "expected_values", "values": ["placed", "shipped", "delivered", "cancelled", "returned"]}}"#,
        "status NOT IN ('placed', 'shipped', 'delivered', 'cancelled', 'returned')",
    ),
    (
        r#"{"fields": ["status"], "rule": {"rule": "not_null"}}"#,
        "status IS NULL",
    ),
    (
        r#"{"fields": ["email"], "rule": {"rule": "contains_email"}}"#,
        "NOT regexp_matches(email, '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}')",
    ),
    (
        r#"{"fields": ["email"], "rule": {"rule": "max_length", "value": 40}}"#,
        "length(email) > 40",
    ),
    (
        r#"{"fields": ["code"], "rule": {"rule": "matches_pattern", "pattern": "^[A-Z]{3}-[0-9]{4}$"}}"#,
        "NOT regexp_full_match(code, '[A-Z]{3}-[0-9]{4}')",
    ),
    (
        r#"{"fields": ["code"], "rule": {"rule": "min_length", "value": 8}}"#,
        "length(code) < 8",
    ),
    (
        r#"{"fields": ["created_at"], "rule": {"rule": "not_future"}}"#,
        "created_at > now()::TIMESTAMP",
    ),
    (
        r#"{"fields": ["created_at"], "rule": {"rule": "after_date_time", "datetime": "2020-01-01T00:00:00Z"}}"#,
        "created_at <= TIMESTAMP '2020-01-01 00:00:00'",
    ),
    (
        r#"{"fields": ["discount"], "rule": {"rule": "between", "min": 0, "max": 0.5}}"#,
        "discount < 0 OR discount > 0.5 OR isnan(discount)",
    ),
    (
        r#"{"fields": ["note"], "rule": {"rule": "max_length", "value": 30}}"#,
        "length(note) > 30",
    ),
    (
        r#"{"rule": {"rule": "satisfies_expression", "expression": "amount >= discount"}}"#,
        "NOT (amount >= discount)",
    ),
    (
        r#"{"fields": ["status"], "rule": {"rule": "distinct_count", "value": 5}}"#,
        "=CASE WHEN count(DISTINCT status) = 5 THEN 0 ELSE 1 END",
    ),
];

fn main() {
    qualityd::logging::init(qualityd::logging::LogFormat::Human, "warn");
    let rows: usize = env_or("ROWS", 5_000_000);
    let rounds: usize = env_or("ROUNDS", 3);
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let duckdb = Command::new(&python)
        .args(["-c", "import duckdb"])
        .status()
        .is_ok_and(|s| s.success());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let file = generate(&root.join("target/bench-data"), rows);
    let plugins = root.join("plugins/target/wasm32-wasip2/release");
    assert!(
        plugins.join("files.wasm").is_file(),
        "run `make plugins` first"
    );
    let cache = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(cache.path()).unwrap();
    let plugin = runtime.load_named(&plugins, "files").unwrap();
    let datastore = Datastore::for_path(plugin, &file, Grants::default()).unwrap();
    let container = file.file_name().unwrap().to_string_lossy().into_owned();
    // `CHECKS=0,4`: only these checks (to see what each costs; `CHECKS=0` is about the read).
    let only: Option<Vec<usize>> = std::env::var("CHECKS").ok().map(|list| {
        list.split(',')
            .filter_map(|i| i.trim().parse().ok())
            .collect()
    });
    let chosen: Vec<&(&str, &str)> = CHECKS
        .iter()
        .enumerate()
        .filter(|(i, _)| only.as_ref().is_none_or(|only| only.contains(i)))
        .map(|(_, check)| check)
        .collect();
    let checks: Vec<Check> = chosen
        .iter()
        .map(|(json, _)| {
            let mut value: serde_json::Value = serde_json::from_str(json).unwrap();
            value["container"] = container.clone().into();
            serde_json::from_value(value).unwrap()
        })
        .collect();

    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for round in 0..rounds {
        let started = Instant::now();
        let outcomes = scan(
            &datastore,
            &BTreeMap::new(),
            &checks,
            &BTreeMap::new(),
            &ScanOptions::default(),
            &Progress::default(),
        )
        .unwrap();
        ours.push(started.elapsed());
        let result = outcomes[0].result.as_ref().unwrap();
        assert_eq!(result.rows, rows as u64);
        let counts: Vec<u64> = result
            .checks
            .iter()
            .map(|c| {
                assert!(c.error.is_none(), "{:?}", c.error);
                match c.check.rule.name() {
                    "distinct_count" => u64::from(!c.passed),
                    _ => c.failed_rows,
                }
            })
            .collect();
        if duckdb {
            let (elapsed, peer) = run_duckdb(&python, &file, &chosen);
            theirs.push(elapsed);
            if round == 0 {
                for ((check, ours), peer) in checks.iter().zip(&counts).zip(&peer) {
                    assert_eq!(ours, peer, "{} disagrees with DuckDB", check.label());
                }
                eprintln!("failing rows per check, equal in both: {counts:?}");
            }
        }
    }
    println!(
        "scan of {} checks over {rows} rows ({}), median of {rounds}:",
        checks.len(),
        file.display()
    );
    report("qualityd scan (files plugin, one pass)", &mut ours, rows);
    if duckdb {
        report("DuckDB, the same checks as one query", &mut theirs, rows);
    } else {
        println!("  DuckDB skipped: {python} has no `duckdb` (pip install duckdb; set PYTHON)");
    }
}

fn report(label: &str, times: &mut [Duration], rows: usize) {
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "  {label:<42} {:>7.2} s  {:>6.1} M rows/s",
        median.as_secs_f64(),
        rows as f64 / median.as_secs_f64() / 1e6
    );
}

/// DuckDB's time for the query (measured inside Python, without its start-up) and its
/// failing-row count per check.
fn run_duckdb(python: &str, file: &Path, checks: &[&(&str, &str)]) -> (Duration, Vec<u64>) {
    let columns: Vec<String> = checks
        .iter()
        .map(|(_, sql)| match sql.strip_prefix('=') {
            Some(aggregate) => aggregate.replace("{file}", &file.display().to_string()),
            None => format!("count(*) FILTER (WHERE {sql})"),
        })
        .collect();
    let query = format!(
        "SELECT {} FROM read_parquet('{}')",
        columns.join(", "),
        file.display()
    );
    let script = format!(
        "import duckdb, time, json\ncon = duckdb.connect()\nt = time.perf_counter()\n\
         row = con.execute({query:?}).fetchone()\nprint(time.perf_counter() - t)\n\
         print(json.dumps([int(v) for v in row]))"
    );
    let output = Command::new(python).args(["-c", &script]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let mut lines = text.lines();
    let seconds: f64 = lines.next().unwrap().parse().unwrap();
    let counts = serde_json::from_str(lines.next().unwrap()).unwrap();
    (Duration::from_secs_f64(seconds), counts)
}

/// A Parquet file of `rows` orders with defects planted in a few rows of each field.
fn generate(dir: &Path, rows: usize) -> PathBuf {
    let path = dir.join(format!("scan_{rows}.parquet"));
    if path.is_file() {
        return path;
    }
    std::fs::create_dir_all(dir).unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("customer_id", DataType::Int64, true),
        Field::new("amount", DataType::Float64, true),
        Field::new("quantity", DataType::Int64, true),
        Field::new("status", DataType::Utf8, true),
        Field::new("email", DataType::Utf8, true),
        Field::new("code", DataType::Utf8, true),
        Field::new(
            "created_at",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            true,
        ),
        Field::new("discount", DataType::Float64, true),
        Field::new("note", DataType::Utf8, true),
    ]));
    let partial = path.with_extension("partial");
    let mut writer = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&partial).unwrap(),
        schema.clone(),
        Some(
            parquet::file::properties::WriterProperties::builder()
                .set_max_row_group_row_count(Some(128 * 1024))
                .build(),
        ),
    )
    .unwrap();
    const STATUSES: [&str; 5] = ["placed", "shipped", "delivered", "cancelled", "returned"];
    let batch = 64 * 1024;
    for start in (0..rows).step_by(batch) {
        let range = start..(start + batch).min(rows);
        // A cheap deterministic scramble per row.
        let mix = |i: usize, salt: u64| {
            (i as u64 ^ salt)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(17)
                >> 11
        };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter(range.clone().map(|i| {
                // A duplicate id every 100 000 rows.
                Some(if i % 100_000 == 99_999 {
                    i as i64 - 1
                } else {
                    i as i64
                })
            }))),
            Arc::new(Int64Array::from_iter(range.clone().map(|i| {
                match mix(i, 1) % 50_000 {
                    0 => None,
                    1 => Some(0),
                    m => Some(m as i64),
                }
            }))),
            Arc::new(Float64Array::from_iter(range.clone().map(|i| {
                match mix(i, 2) % 20_000 {
                    0 => Some(-1.0),
                    1 => Some(1500.0),
                    m => Some((m % 100_000) as f64 / 100.0),
                }
            }))),
            Arc::new(Int64Array::from_iter(range.clone().map(|i| {
                Some(match mix(i, 3) % 30_000 {
                    0 => 0,
                    1 => 150,
                    m => (m % 20) as i64 + 1,
                })
            }))),
            Arc::new(StringArray::from_iter(range.clone().map(|i| {
                match mix(i, 4) % 40_000 {
                    0 => None,
                    1 => Some("lost"),
                    m => Some(STATUSES[(m % 5) as usize]),
                }
            }))),
            Arc::new(StringArray::from_iter(range.clone().map(|i| {
                Some(match mix(i, 5) % 25_000 {
                    0 => "not an email".to_owned(),
                    1 => format!("a.very.long.address.number{i}@example-mail.com"),
                    _ => format!("user{}@example.com", i % 1_000_000),
                })
            }))),
            Arc::new(StringArray::from_iter(range.clone().map(|i| {
                Some(match mix(i, 6) % 35_000 {
                    0 => "AB-12".to_owned(),
                    m => format!(
                        "{}{}{}-{:04}",
                        letter(m),
                        letter(m / 26),
                        letter(m / 676),
                        m % 10_000
                    ),
                })
            }))),
            Arc::new(TimestampMicrosecondArray::from_iter(range.clone().map(
                |i| {
                    let base = 1_600_000_000_000_000i64; // 2020-09-13
                    Some(match mix(i, 7) % 45_000 {
                        0 => 1_500_000_000_000_000, // 2017
                        1 => 4_000_000_000_000_000, // 2096
                        m => base + (m as i64) * 1_000_000_000,
                    })
                },
            ))),
            Arc::new(Float64Array::from_iter(range.clone().map(|i| {
                match mix(i, 8) % 10 {
                    0..=5 => None,
                    6 if mix(i, 9) % 5_000 == 0 => Some(0.9),
                    m => Some(m as f64 / 40.0),
                }
            }))),
            Arc::new(StringArray::from_iter(range.clone().map(|i| {
                match mix(i, 10) % 4 {
                    0 => Some("leave at the door"),
                    1 if mix(i, 11) % 10_000 == 0 => Some("please ring twice and wait at the gate"),
                    _ => None,
                }
            }))),
        ];
        writer
            .write(&RecordBatch::try_new(schema.clone(), columns).unwrap())
            .unwrap();
    }
    writer.close().unwrap();
    std::fs::rename(&partial, &path).unwrap();
    path
}

fn letter(n: u64) -> char {
    (b'A' + (n % 26) as u8) as char
}
