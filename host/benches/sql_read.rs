//! Reading a relational table to Arrow: a generated 5 M-row × 8-column table, read through
//! the compiled `postgres` and `mysql` plugins (one partition, then two sessions in
//! parallel, each decoded and validated in the host), beside the database's own client
//! dumping it to /dev/null and ConnectorX reading it to Arrow, in one run.
//!
//! `cargo bench --bench sql_read` (builds nothing itself: run `make plugins` first).
//! Env: `ROWS` (default 5 000 000), `ROUNDS` (default 3, alternating, median reported),
//! `PYTHON` (a Python with `connectorx` and `pyarrow`; ConnectorX is skipped when it has
//! none), `ONLY` (`postgres` or `mysql`). The table is created once (`qd_bench.wide_<ROWS>`
//! in PostgreSQL, `test.qd_bench_wide_<ROWS>` in MariaDB) and reused.

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{env_or, median};

use qualityd::contract::{PartitionHint, Setting};
use qualityd::operation::Datastore;
use qualityd::runtime::{Grants, Plugin, Runtime};

fn main() {
    qualityd::logging::init(qualityd::logging::LogFormat::Human, "warn");
    let rows: usize = env_or("ROWS", 5_000_000);
    let rounds: usize = env_or("ROUNDS", 3);
    let only = std::env::var("ONLY").ok();
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let connectorx = Command::new(&python)
        .args(["-c", "import connectorx, pyarrow"])
        .status()
        .is_ok_and(|s| s.success());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let plugins = root.join("plugins/target/wasm32-wasip2/release");
    let cache = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(cache.path()).unwrap();

    for engine in [Engine::Postgres, Engine::Mysql] {
        if only.as_deref().is_some_and(|o| o != engine.plugin()) {
            continue;
        }
        let wasm = plugins.join(format!("{}.wasm", engine.plugin()));
        assert!(
            wasm.is_file(),
            "{} missing: run `make plugins` first",
            wasm.display()
        );
        let plugin = runtime.load_named(&plugins, engine.plugin()).unwrap();
        let table = engine.prepare(rows);
        let mut timings: Vec<(&str, Vec<Duration>)> = vec![
            ("plugin, 1 partition", vec![]),
            ("plugin, 2 partitions in parallel", vec![]),
            (engine.client_label(), vec![]),
        ];
        if connectorx {
            timings.push(("ConnectorX to Arrow, 1 connection", vec![]));
            timings.push(("ConnectorX to Arrow, 2 partitions", vec![]));
        }
        for _ in 0..rounds {
            for (label, times) in timings.iter_mut() {
                let started = Instant::now();
                let read = match *label {
                    "plugin, 1 partition" => read_plugin(&plugin, engine, &table, 1, rows),
                    "plugin, 2 partitions in parallel" => {
                        read_plugin(&plugin, engine, &table, 2, rows)
                    }
                    "ConnectorX to Arrow, 1 connection" => {
                        connectorx_read(&python, engine, &table, 1)
                    }
                    "ConnectorX to Arrow, 2 partitions" => {
                        connectorx_read(&python, engine, &table, 2)
                    }
                    _ => engine.client_dump(&table, rows),
                };
                times.push(started.elapsed());
                assert_eq!(read, rows, "{label}: rows read");
            }
        }
        println!(
            "\n| {}: {rows} rows x 8 columns | median of {rounds} | M rows/s |",
            engine.plugin()
        );
        println!("|---|---|---|");
        for (label, times) in timings {
            let t = median(times);
            println!(
                "| {label} | {:.2} s | {:.2} |",
                t.as_secs_f64(),
                rows as f64 / t.as_secs_f64() / 1e6
            );
        }
    }
}

#[derive(Clone, Copy)]
enum Engine {
    Postgres,
    Mysql,
}

impl Engine {
    fn plugin(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Mysql => "mysql",
        }
    }

    fn address(self) -> &'static str {
        match self {
            Engine::Postgres => "127.0.0.1:5432",
            Engine::Mysql => "127.0.0.1:3306",
        }
    }

    fn client_label(self) -> &'static str {
        match self {
            Engine::Postgres => "psql \\copy (binary) to /dev/null",
            Engine::Mysql => "mariadb --quick (text) to /dev/null",
        }
    }

    fn sql(self, statements: &str) -> String {
        let output = match self {
            Engine::Postgres => Command::new("psql")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-d",
                    "test",
                    "-X",
                    "-q",
                ])
                .args(["-v", "ON_ERROR_STOP=1", "-t", "-A", "-c", statements])
                .output(),
            Engine::Mysql => Command::new("mariadb")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-u",
                    "root",
                    "test",
                    "-N",
                    "-B",
                    "-e",
                    statements,
                ])
                .output(),
        }
        .unwrap();
        assert!(
            output.status.success(),
            "{statements}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// The table of `rows` rows, created unless it is already there. Returns its container
    /// name.
    fn prepare(self, rows: usize) -> String {
        let (table, container) = match self {
            Engine::Postgres => (
                format!("qd_bench.wide_{rows}"),
                format!("qd_bench.wide_{rows}"),
            ),
            Engine::Mysql => (
                format!("qd_bench_wide_{rows}"),
                format!("qd_bench_wide_{rows}"),
            ),
        };
        let exists = match self {
            Engine::Postgres => format!("SELECT to_regclass('{table}') IS NOT NULL"),
            Engine::Mysql => format!(
                "SELECT count(*) > 0 FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = 'test' AND TABLE_NAME = '{table}'"
            ),
        };
        let exists = matches!(self.sql(&exists).as_str(), "t" | "1");
        if exists && self.sql(&format!("SELECT count(*) FROM {table}")) == rows.to_string() {
            return container;
        }
        eprintln!("creating {table} ({rows} rows)");
        let create = match self {
            Engine::Postgres => format!(
                "CREATE SCHEMA IF NOT EXISTS qd_bench; DROP TABLE IF EXISTS {table};
                 CREATE TABLE {table} (id int8 PRIMARY KEY, qty int4, score float8,
                   price numeric(12,2), code text, category text, at timestamptz, flag bool);
                 INSERT INTO {table} SELECT g, (g * 7) % 1000, g * 0.37,
                   ((g * 13) % 100000) / 100.0, 'C-' || (g * 31) % 1000000,
                   (ARRAY['alpha','beta','gamma','delta','epsilon'])[g % 5 + 1],
                   TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '1 second',
                   g % 3 = 0
                 FROM generate_series(1, {rows}) g;
                 ANALYZE {table};"
            ),
            Engine::Mysql => format!(
                "DROP TABLE IF EXISTS {table};
                 CREATE TABLE {table} (id BIGINT PRIMARY KEY, qty INT, score DOUBLE,
                   price DECIMAL(12,2), code VARCHAR(16), category VARCHAR(8),
                   at DATETIME(6), flag BOOLEAN);
                 INSERT INTO {table} SELECT seq, (seq * 7) % 1000, seq * 0.37,
                   ((seq * 13) % 100000) / 100.0, CONCAT('C-', (seq * 31) % 1000000),
                   ELT(seq % 5 + 1, 'alpha','beta','gamma','delta','epsilon'),
                   TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND, seq % 3 = 0
                 FROM seq_1_to_{rows};
                 ANALYZE TABLE {table};"
            ),
        };
        self.sql(&create);
        container
    }

    fn client_dump(self, table: &str, rows: usize) -> usize {
        let status = match self {
            Engine::Postgres => Command::new("psql")
                .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-X", "-q", "-c"])
                .arg(format!(
                    "\\copy (SELECT * FROM {table}) TO '/dev/null' WITH (FORMAT binary)"
                ))
                .status(),
            Engine::Mysql => Command::new("sh")
                .args(["-c"])
                .arg(format!(
                    "mariadb -h 127.0.0.1 -u root test --quick -N -B -e 'SELECT * FROM {table}' > /dev/null"
                ))
                .status(),
        }
        .unwrap();
        assert!(status.success());
        rows
    }
}

fn datastore(plugin: &Arc<Plugin>, engine: Engine, partition_rows: usize) -> Datastore {
    let settings = [
        ("address", engine.address()),
        ("database", "test"),
        (
            "user",
            match engine {
                Engine::Postgres => "postgres",
                Engine::Mysql => "root",
            },
        ),
    ];
    let mut settings: Vec<Setting> = settings
        .iter()
        .map(|(name, value)| Setting {
            name: (*name).into(),
            value: (*value).into(),
        })
        .collect();
    settings.push(Setting {
        name: "partition_rows".into(),
        value: partition_rows.to_string(),
    });
    if let Engine::Postgres = engine {
        settings.push(Setting {
            name: "schemas".into(),
            value: "qd_bench".into(),
        });
    }
    Datastore {
        name: "bench".into(),
        plugin: plugin.clone(),
        settings,
        grants: Grants {
            hosts: vec![engine.address().parse().unwrap()],
            ..Grants::default()
        },
    }
}

/// Every partition through the plugin, `workers` sessions at once; returns rows.
fn read_plugin(
    plugin: &Arc<Plugin>,
    engine: Engine,
    table: &str,
    workers: usize,
    rows: usize,
) -> usize {
    // 1.2x the rows per worker: a row estimate a little off still gives `workers` partitions.
    let datastore = datastore(plugin, engine, rows * 6 / 5 / workers);
    let mut session = datastore.open().unwrap();
    let container = session
        .discover()
        .unwrap()
        .into_iter()
        .find(|c| c.name == table)
        .unwrap_or_else(|| panic!("no container {table}"));
    let hint = PartitionHint {
        parallelism: workers as u32,
        target_bytes: None,
    };
    let partitions = session.partitions(&container.name, hint).unwrap();
    assert_eq!(partitions.len(), workers, "partitions");
    support::read_partitions(&datastore, &container, partitions)
        .iter()
        .map(|read| read.rows)
        .sum()
}

fn connectorx_read(python: &str, engine: Engine, table: &str, partitions: usize) -> usize {
    let url = match engine {
        Engine::Postgres => "postgresql://postgres@127.0.0.1:5432/test",
        Engine::Mysql => "mysql://root@127.0.0.1:3306/test",
    };
    let partition = match partitions {
        1 => String::new(),
        n => format!(", partition_on='id', partition_num={n}"),
    };
    let script = format!(
        "import connectorx as cx\n\
         t = cx.read_sql('{url}', 'SELECT * FROM {table}', return_type='arrow'{partition})\n\
         print(t.num_rows)"
    );
    let output = Command::new(python).args(["-c", &script]).output().unwrap();
    assert!(
        output.status.success(),
        "ConnectorX: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}
