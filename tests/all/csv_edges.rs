//! CSV files at their edges, read by the compiled files plugin: a last record without a
//! newline in every partition layout, null markers such as `NA` (inferred from the sample, or
//! named in the error past it), and files thousands of fields wide under the default memory
//! grant.

use std::fmt::Write;
use std::path::Path;
use std::process::Command;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int64Type};
use qualityd::operation::{self, ProfileOptions, Progress};
use qualityd::profile::Value;
use qualityd::runtime::Grants;

use crate::support::{
    container_error, field, files_datastore, hint, plugin, plugin_dir, profile_one, profile_path,
    read_request, root,
};

/// Every `(id, label)` record of a one-file datastore, reading each of its partitions.
fn records_read(path: &Path, extra: &[(&str, &str)]) -> (usize, Vec<(i64, Option<String>)>) {
    let datastore = files_datastore(path, extra);
    let mut session = datastore.open().unwrap();
    let container = session.discover().unwrap().remove(0);
    let partitions = session.partitions(&container.name, hint(2)).unwrap();
    let count = partitions.len();
    let mut records = Vec::new();
    for partition in partitions {
        let description = partition.description.clone();
        let batches = session
            .read(
                read_request(&container.name, partition),
                container.schema.clone(),
            )
            .unwrap();
        for batch in batches {
            let batch = batch.unwrap_or_else(|e| panic!("{description}: {e}"));
            let ids = batch.column(0).as_primitive::<Int64Type>();
            let labels = batch.column(1).as_string::<i32>();
            for row in 0..batch.num_rows() {
                let label = labels.is_valid(row).then(|| labels.value(row).to_string());
                records.push((ids.value(row), label));
            }
        }
    }
    records.sort();
    (count, records)
}

#[test]
fn a_last_record_without_a_newline_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.csv");
    std::fs::write(&one, "a\n1\n2\n3\n4\n5").unwrap();
    let profile = profile_one(&one, &[]);
    assert_eq!(profile.rows, 5);
    assert_eq!(field(&profile, "a").max, Some(Value::Int(5)));

    let names = dir.path().join("names.csv");
    std::fs::write(&names, "name\nfoo\nbar").unwrap();
    let profile = profile_one(&names, &[]);
    assert_eq!(profile.rows, 2);
    assert_eq!(field(&profile, "name").min, Some(Value::Text("bar".into())));

    // Several fields: arrow-csv refused these ("Cannot flush part way through record").
    let stocks = dir.path().join("stocks.csv");
    std::fs::write(
        &stocks,
        "symbol,date,price\nMSFT,Jan 1 2000,39.81\nAAPL,Mar 1 2010,223.02",
    )
    .unwrap();
    let profile = profile_one(&stocks, &[]);
    assert_eq!(profile.rows, 2);
    assert_eq!(field(&profile, "price").max, Some(Value::Float(223.02)));
}

/// A file of `records` records `id,label` whose labels hold quoted delimiters, quotes and
/// newlines; the last label is quoted when `quoted_last`, and the file ends with `ending`
/// only when `final_newline`.
fn write_records(
    path: &Path,
    records: i64,
    ending: &str,
    final_newline: bool,
    quoted_last: bool,
) -> Vec<(i64, Option<String>)> {
    let mut text = format!("id,label{ending}");
    let mut expected = Vec::new();
    for id in 0..records {
        let last = id == records - 1;
        let (written, value) = match id % 4 {
            _ if last && quoted_last => (
                "\"the, \"\"last\"\"\nlabel\"".to_string(),
                Some("the, \"last\"\nlabel".to_string()),
            ),
            0 => (format!("\"a,{id}\nb\""), Some(format!("a,{id}\nb"))),
            1 => (String::new(), None),
            2 => (format!("\"q\"\"{id}\""), Some(format!("q\"{id}"))),
            _ => (format!("plain{id}"), Some(format!("plain{id}"))),
        };
        write!(text, "{id},{written}").unwrap();
        if !last || final_newline {
            text.push_str(ending);
        }
        expected.push((id, value));
    }
    std::fs::write(path, text).unwrap();
    expected
}

#[test]
fn every_partition_layout_reads_every_record_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.csv");
    for ending in ["\n", "\r\n"] {
        for final_newline in [true, false] {
            for quoted_last in [false, true] {
                let expected = write_records(&path, 30, ending, final_newline, quoted_last);
                let size = std::fs::metadata(&path).unwrap().len();
                for partition_bytes in [1, 5, 23, 64, 200, size - 1, 1 << 20] {
                    let layout = format!(
                        "ending {ending:?}, final newline {final_newline}, quoted last \
                         {quoted_last}, partition_bytes {partition_bytes}"
                    );
                    let (partitions, records) =
                        records_read(&path, &[("partition_bytes", &partition_bytes.to_string())]);
                    if partition_bytes == 1 {
                        assert!(partitions > 20, "{layout}: {partitions} partitions");
                    }
                    assert_eq!(records, expected, "{layout}");
                }
            }
        }
    }
}

#[test]
fn a_bad_last_record_without_a_newline_names_its_line_in_a_later_partition() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("n,m\n");
    for i in 0..200 {
        writeln!(text, "{i},{i}").unwrap();
    }
    text.push_str("200,x");
    std::fs::write(dir.path().join("tail.csv"), text).unwrap();
    let outcomes = profile_path(
        dir.path(),
        &[("infer_rows", "10"), ("partition_bytes", "256")],
    );
    let error = container_error(&outcomes, "tail.csv");
    assert!(error.contains("tail.csv, line 202, field `m`"), "{error}");
    assert!(error.contains("'x' does not parse as Int64"), "{error}");
    assert!(error.contains("raise `infer_rows`"), "{error}");
}

/// A penguins-like file: numbers, dates and booleans with `NA` and `-` where a value is
/// missing, and a text field with `NA` too.
const PENGUINS: &str = "id,species,bill_mm,mass_g,seen,banded,sex\n\
                        1,Adelie,39.1,3750,2007-11-11,true,male\n\
                        2,Adelie,NA,-,NA,NA,NA\n\
                        3,Gentoo,46.1,4500,2007-11-27,false,female\n\
                        4,Gentoo,-,NA,2007-11-28,true,NA\n\
                        5,Chinstrap,50.0,3900,NA,false,female\n";

#[test]
fn common_null_markers_in_the_sample_read_as_null() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("penguins.csv");
    std::fs::write(&path, PENGUINS).unwrap();
    let profile = profile_one(&path, &[]);
    assert_eq!(profile.rows, 5);
    let expect = [
        ("id", DataType::Int64, 0),
        ("species", DataType::Utf8, 0),
        ("bill_mm", DataType::Float64, 2),
        ("mass_g", DataType::Int64, 2),
        ("seen", DataType::Date32, 2),
        ("banded", DataType::Boolean, 1),
        // A text field reads the file's markers as null too.
        ("sex", DataType::Utf8, 2),
    ];
    for (name, data_type, nulls) in expect {
        let field = field(&profile, name);
        assert_eq!(field.data_type, data_type, "{name}");
        assert_eq!((field.count, field.nulls), (5 - nulls, nulls), "{name}");
    }
    assert_eq!(field(&profile, "bill_mm").max, Some(Value::Float(50.0)));
    assert_eq!(field(&profile, "mass_g").min, Some(Value::Int(3750)));
}

#[test]
fn markers_only_in_text_fields_stay_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("countries.csv");
    std::fs::write(
        &path,
        "code,name,rank\nNA,Namibia,1\nFR,France,2\n-,none,3\n",
    )
    .unwrap();
    let profile = profile_one(&path, &[]);
    let code = field(&profile, "code");
    assert_eq!(code.data_type, DataType::Utf8);
    assert_eq!((code.count, code.nulls), (3, 0));
    assert_eq!(code.min, Some(Value::Text("-".into())));
    assert_eq!(field(&profile, "rank").data_type, DataType::Int64);
}

#[test]
fn the_null_values_setting_works_beside_the_markers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.csv");
    std::fs::write(&path, "n,m\n1,NA\n?,2\n3,4\n").unwrap();
    let profile = profile_one(&path, &[("null_values", "?")]);
    for name in ["n", "m"] {
        let field = field(&profile, name);
        assert_eq!(field.data_type, DataType::Int64, "{name}");
        assert_eq!((field.count, field.nulls), (2, 1), "{name}");
    }
}

#[test]
fn a_marker_past_the_sample_says_to_add_it_to_null_values() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("id,score\n");
    for i in 0..50 {
        writeln!(text, "{i},{}", i * 2).unwrap();
    }
    text.push_str("50,NA\n51,N/A\n");
    std::fs::write(dir.path().join("late.csv"), &text).unwrap();

    let outcomes = profile_path(dir.path(), &[("infer_rows", "10")]);
    let error = container_error(&outcomes, "late.csv");
    assert!(
        error.contains("late.csv, line 52, field `score`: 'NA' does not parse as Int64"),
        "{error}"
    );
    assert!(
        error.contains(
            "add `null_values=NA` to the datastore's settings (`--set null_values=NA` on the CLI)"
        ),
        "{error}"
    );
    assert!(!error.contains("infer_rows"), "{error}");

    // The advice extends a setting already given, and following it reads the file.
    let outcomes = profile_path(dir.path(), &[("infer_rows", "10"), ("null_values", "NA")]);
    let error = container_error(&outcomes, "late.csv");
    assert!(error.contains("line 53, field `score`: 'N/A'"), "{error}");
    assert!(error.contains("`--set null_values=NA,N/A`"), "{error}");
    let path = dir.path().join("late.csv");
    let profile = profile_one(&path, &[("infer_rows", "10"), ("null_values", "NA,N/A")]);
    let score = field(&profile, "score");
    assert_eq!((score.count, score.nulls), (50, 2));
}

#[test]
fn markers_read_as_null_are_logged_with_the_file_and_fields() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("penguins.csv");
    std::fs::write(&path, PENGUINS).unwrap();
    plugin("files");
    let out = Command::new(env!("CARGO_BIN_EXE_qualityd"))
        .args(["profile", path.to_str().unwrap(), "--format", "json"])
        .env("QUALITYD_LOG", "info")
        .env("QUALITYD_PLUGINS", plugin_dir())
        .env("QUALITYD_CACHE", root().join("target/test-artifact-cache"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("read as null"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    for part in [
        "penguins.csv: `-`, `NA` read as null in every field of this file",
        "`bill_mm` (Float64), `mass_g` (Int64), `seen` (Date32), `banded` (Boolean)",
    ] {
        assert!(lines[0].contains(part), "{part} in {}", lines[0]);
    }
}

/// A file of `fields` integer fields and `rows` records: field `c{j}` of record `i` is
/// `i + j`.
fn write_wide(path: &Path, fields: usize, rows: usize) {
    let mut text = String::with_capacity(fields * rows * 5);
    let header: Vec<String> = (0..fields).map(|j| format!("c{j}")).collect();
    text.push_str(&header.join(","));
    text.push('\n');
    for i in 0..rows {
        for j in 0..fields {
            if j > 0 {
                text.push(',');
            }
            write!(text, "{}", i + j).unwrap();
        }
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

fn assert_wide_profile(fields: usize, rows: usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.csv");
    write_wide(&path, fields, rows);
    // The default grant: 1 GiB per instance.
    let profile = profile_one(&path, &[]);
    assert_eq!(profile.rows, rows as u64);
    assert_eq!(profile.fields.len(), fields);
    for j in [0, fields / 2, fields - 1] {
        let field = field(&profile, &format!("c{j}"));
        assert_eq!(field.data_type, DataType::Int64);
        assert_eq!((field.count, field.nulls), (rows as u64, 0));
        assert_eq!(field.min, Some(Value::Int(j as i64)));
        assert_eq!(field.max, Some(Value::Int((rows - 1 + j) as i64)));
    }
}

#[test]
fn a_file_of_2000_fields_profiles_under_the_default_memory_grant() {
    assert_wide_profile(2_000, 1_000);
}

#[test]
fn a_file_of_10000_fields_profiles_under_the_default_memory_grant() {
    assert_wide_profile(10_000, 300);
}

#[test]
fn a_read_beyond_the_memory_grant_says_which_grant_to_raise() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.csv");
    write_wide(&path, 2_000, 1_000);
    let mut datastore = files_datastore(&path, &[]);
    datastore.grants = Grants {
        memory_bytes: 48 << 20,
        ..datastore.grants
    };
    let outcomes =
        operation::profile(&datastore, &ProfileOptions::default(), &Progress::default()).unwrap();
    let error = container_error(&outcomes, "wide.csv");
    assert!(
        error.contains("exceeded its memory cap of 48 MiB"),
        "{error}"
    );
    assert!(
        error.contains("raise the datastore's memory grant (`grants.memory_mib`"),
        "{error}"
    );
}
