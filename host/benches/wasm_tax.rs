//! The WASM tax: a generated 1 M-row × 10-column table, as CSV and as Parquet, read natively
//! with arrow-rs in the host and through the compiled files plugin (one partition, then two in
//! parallel), the full profile operation, and a plugin's first start (compile) against its
//! second (cached).
//!
//! `cargo bench --bench wasm_tax` (builds nothing itself: run `make plugins` first).
//! Env: `ROWS` (default 1 000 000), `ROUNDS` (default 3, alternating, median reported).

mod support;

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{env_or, median};

use arrow::csv::reader::{Format, ReaderBuilder};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use qualityd::contract::{PartitionHint, Setting};
use qualityd::operation::{self, Datastore, ProfileOptions, Progress};
use qualityd::runtime::{Grants, Plugin, Runtime};

fn main() {
    qualityd::logging::init(qualityd::logging::LogFormat::Human, "warn");
    let rows: usize = env_or("ROWS", 1_000_000);
    let rounds: usize = env_or("ROUNDS", 3);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let plugins = root.join("plugins/target/wasm32-wasip2/release");
    let wasm = plugins.join("files.wasm");
    assert!(
        wasm.is_file(),
        "{} missing: run `make plugins` first",
        wasm.display()
    );

    let work = tempfile::tempdir().unwrap();
    let csv = work.path().join("bench.csv");
    let started = Instant::now();
    generate(&csv, rows);
    let size = std::fs::metadata(&csv).unwrap().len();
    println!(
        "generated {rows} rows x 10 columns, {:.1} MiB, in {:.1?}",
        size as f64 / (1 << 20) as f64,
        started.elapsed()
    );

    // Start-up: compile into an empty cache, then load from it.
    let cache = work.path().join("cache");
    let t = Instant::now();
    let compiled = Runtime::new(&cache).unwrap().load(&wasm).unwrap();
    let first_start = t.elapsed();
    drop(compiled);
    let t = Instant::now();
    let runtime = Runtime::new(&cache).unwrap();
    let plugin = runtime.load(&wasm).unwrap();
    let second_start = t.elapsed();

    let parquet = work.path().join("bench.parquet");
    let t = Instant::now();
    write_parquet(&csv, &parquet, rows);
    let parquet_size = std::fs::metadata(&parquet).unwrap().len();
    println!(
        "wrote the same rows as Parquet (snappy, 8 row groups), {:.1} MiB, in {:.1?}",
        parquet_size as f64 / (1 << 20) as f64,
        t.elapsed()
    );

    let mut out = String::new();
    // Targets that split each file in two: CSV at its middle byte, Parquet after half of its
    // row groups.
    for (format, path, size, half) in [
        ("CSV", &csv, size, size / 2 + 1),
        ("Parquet", &parquet, parquet_size, parquet_size / 2 + 1),
    ] {
        let native_read = |path: &Path| match format {
            "CSV" => read_native_csv(path),
            _ => read_native_parquet(path),
        };
        let mut native = Vec::new();
        let mut one = Vec::new();
        let mut two = Vec::new();
        let mut profile = Vec::new();
        let mut split = Vec::new();
        let mut planning = Vec::new();
        for _ in 0..rounds {
            native.push(time(|| native_read(path), rows));
            one.push(time(
                || {
                    let stats = read_plugin(&plugin, path, 1, u64::MAX / 4);
                    split.push((stats.waiting, stats.decoding));
                    stats.rows
                },
                rows,
            ));
            two.push(time(
                || {
                    let stats = read_plugin(&plugin, path, 2, half);
                    planning.push(stats.planning);
                    stats.rows
                },
                rows,
            ));
            profile.push(time(|| run_profile(&plugin, path, half), rows));
        }
        let (native, one, two, profile) =
            (median(native), median(one), median(two), median(profile));
        let rate = |d: Duration| rows as f64 / d.as_secs_f64() / 1e6;
        let mib = |d: Duration| size as f64 / (1 << 20) as f64 / d.as_secs_f64();
        writeln!(
            out,
            "\n| {format}: read of {rows} rows x 10 columns | median of {rounds} | M rows/s | MiB/s | vs native |"
        )
        .unwrap();
        writeln!(out, "| --- | --- | --- | --- | --- |").unwrap();
        for (name, d) in [
            ("native arrow-rs reader in the host, 1 thread", native),
            ("files plugin, 1 partition (per core)", one),
            ("files plugin, 2 partitions in parallel (both cores)", two),
            (
                "`profile` operation (plugin + profiler, 2 workers)",
                profile,
            ),
        ] {
            writeln!(
                out,
                "| {name} | {:.3} s | {:.2} | {:.0} | {:.2}x |",
                d.as_secs_f64(),
                rate(d),
                mib(d),
                d.as_secs_f64() / native.as_secs_f64()
            )
            .unwrap();
        }
        split.sort();
        let (waiting, decoding) = split[split.len() / 2];
        writeln!(
            out,
            "\n{format}, 1 partition: {:.3} s in the plugin's `next` (guest work + copy out), {:.3} s decoding and validating IPC in the host; both cores read {:.2}x as fast as one; planning 2 partitions took {:.3} s",
            waiting.as_secs_f64(),
            decoding.as_secs_f64(),
            one.as_secs_f64() / two.as_secs_f64(),
            median(planning).as_secs_f64()
        )
        .unwrap();
    }
    writeln!(out, "\n| plugin start | time |\n| --- | --- |").unwrap();
    writeln!(
        out,
        "| first start (compile + cache write + describe) | {:.0} ms |",
        first_start.as_secs_f64() * 1e3
    )
    .unwrap();
    writeln!(
        out,
        "| second start (cached artifact + describe) | {:.1} ms |",
        second_start.as_secs_f64() * 1e3
    )
    .unwrap();
    print!("{out}");
}

fn time(f: impl FnOnce() -> usize, expected: usize) -> Duration {
    let t = Instant::now();
    let rows = f();
    let elapsed = t.elapsed();
    assert_eq!(rows, expected, "row count");
    elapsed
}

/// Ten columns: ids, small ints, floats, prices, short and medium strings, a category, a
/// date, a timestamp and a boolean; about 5% empty fields in the nullable ones.
fn generate(path: &Path, rows: usize) {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path).unwrap());
    writeln!(out, "id,qty,score,price,code,name,category,day,at,flag").unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let categories = ["alpha", "beta", "gamma", "delta", "epsilon"];
    let mut line = String::with_capacity(128);
    for id in 0..rows {
        let r = next();
        line.clear();
        let null = |k: u64| r.rotate_left(k as u32) % 20 == 0;
        write!(line, "{id},").unwrap();
        if !null(1) {
            write!(line, "{}", r % 1000).unwrap();
        }
        line.push(',');
        if !null(2) {
            write!(line, "{:.6}", (r % 1_000_000) as f64 / 7.0).unwrap();
        }
        line.push(',');
        write!(line, "{}.{:02},", r % 10_000, r % 100).unwrap();
        write!(line, "C{:05},", r % 50_000).unwrap();
        if !null(3) {
            write!(line, "name_{}", r % 200_000).unwrap();
        }
        line.push(',');
        write!(line, "{},", categories[(r % 5) as usize]).unwrap();
        write!(line, "2024-{:02}-{:02},", 1 + r % 12, 1 + (r >> 8) % 28).unwrap();
        write!(
            line,
            "2024-{:02}-{:02}T{:02}:{:02}:{:02},",
            1 + r % 12,
            1 + (r >> 9) % 28,
            (r >> 16) % 24,
            (r >> 24) % 60,
            (r >> 32) % 60
        )
        .unwrap();
        writeln!(line, "{}", r % 2 == 0).unwrap();
        out.write_all(line.as_bytes()).unwrap();
    }
    out.flush().unwrap();
}

fn read_native_csv(path: &Path) -> usize {
    native_csv_batches(path).map(|b| b.num_rows()).sum()
}

fn native_csv_batches(path: &Path) -> impl Iterator<Item = RecordBatch> {
    let (schema, _) = Format::default()
        .with_header(true)
        .infer_schema(File::open(path).unwrap(), Some(1000))
        .unwrap();
    ReaderBuilder::new(Arc::new(schema))
        .with_header(true)
        .with_batch_size(65536)
        .build_buffered(std::io::BufReader::with_capacity(
            1 << 20,
            File::open(path).unwrap(),
        ))
        .unwrap()
        .map(|b| b.unwrap())
}

/// The CSV's rows as Parquet, snappy-compressed, in eight row groups.
fn write_parquet(csv: &Path, parquet: &Path, rows: usize) {
    let mut batches = native_csv_batches(csv).peekable();
    let schema = batches.peek().unwrap().schema();
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some((rows / 8).max(1)))
        .build();
    let mut writer =
        ArrowWriter::try_new(File::create(parquet).unwrap(), schema, Some(props)).unwrap();
    for batch in batches {
        writer.write(&batch).unwrap();
    }
    writer.close().unwrap();
}

fn read_native_parquet(path: &Path) -> usize {
    ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .with_batch_size(65536)
        .build()
        .unwrap()
        .map(|b| b.unwrap().num_rows())
        .sum()
}

fn datastore(plugin: &Arc<Plugin>, path: &Path, partition_bytes: u64) -> Datastore {
    let mut datastore = Datastore::for_path(plugin.clone(), path, Grants::default()).unwrap();
    datastore.settings.push(Setting {
        name: "partition_bytes".into(),
        value: partition_bytes.to_string(),
    });
    datastore
}

/// What one read through the plugin took.
#[derive(Debug, Default, Clone, Copy)]
struct ReadStats {
    rows: usize,
    /// `partitions()`: finding record-aligned cuts.
    planning: Duration,
    /// In the plugin's `next`, summed over partitions.
    waiting: Duration,
    /// Decoding IPC in the host, summed over partitions.
    decoding: Duration,
}

/// Read every partition through the plugin (decoded and validated in the host), `workers`
/// at a time, each in its own instance. Returns rows, and the time spent waiting on the
/// plugin and decoding in the host (summed over partitions).
fn read_plugin(
    plugin: &Arc<Plugin>,
    path: &Path,
    workers: usize,
    partition_bytes: u64,
) -> ReadStats {
    let datastore = datastore(plugin, path, partition_bytes);
    let mut session = datastore.open().unwrap();
    let container = session.discover().unwrap().remove(0);
    let planning = Instant::now();
    let partitions = session
        .partitions(
            &container.name,
            PartitionHint {
                parallelism: workers as u32,
                target_bytes: None,
            },
        )
        .unwrap();
    let planning = planning.elapsed();
    assert_eq!(partitions.len(), workers, "partitions");
    let mut stats = ReadStats {
        planning,
        ..ReadStats::default()
    };
    for read in support::read_partitions(&datastore, &container, partitions) {
        stats.rows += read.rows;
        stats.waiting += read.waiting;
        stats.decoding += read.decoding;
    }
    stats
}

fn run_profile(plugin: &Arc<Plugin>, path: &Path, half: u64) -> usize {
    let datastore = datastore(plugin, path, half);
    let outcomes =
        operation::profile(&datastore, &ProfileOptions::default(), &Progress::default()).unwrap();
    outcomes[0].result.as_ref().unwrap().rows as usize
}
