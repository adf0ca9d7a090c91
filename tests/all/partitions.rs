//! Large files split into byte ranges that start on records, read in parallel, one instance
//! each: the merged profile equals the one-partition profile. Projection and limit are
//! honoured by `read`.

use std::fmt::Write;
use std::path::Path;

use qualityd::contract::ReadRequest;

use crate::support::{
    field, files_datastore, first_partition, hint, lengths, profile_one, read_request,
};

/// 20 000 records whose text holds quotes, commas and newlines, so a naive cut would land
/// inside a quoted field, and quotes that do not open a field (`5'10"`, `"ab"cd`), so
/// counting quotes alone would think it is inside one.
fn write_tricky_csv(path: &Path) {
    write_tricky_csv_ending(path, "\n");
}

const RECORDS: u32 = 20_000;

fn write_tricky_csv_ending(path: &Path, ending: &str) {
    let mut text = format!("n,label,amount{ending}");
    for i in 0..RECORDS {
        let label = match i % 6 {
            0 => format!("\"line {i}\nnext, part\""),
            1 => format!("\"say \"\"{i}\"\"\""),
            2 => String::new(),
            3 => format!("plain{i}"),
            4 => format!("5'10\" tall{i}"),
            _ => format!("\"ab\"cd{i}"),
        };
        let amount = if i % 7 == 0 {
            String::new()
        } else {
            format!("{}.5", i as i64 - 5000)
        };
        write!(text, "{i},{label},{amount}{ending}").unwrap();
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn split_reads_merge_to_the_whole_files_profile() {
    assert_split_equals_whole("\n");
}

#[test]
fn crlf_files_split_on_record_boundaries_too() {
    assert_split_equals_whole("\r\n");
}

fn assert_split_equals_whole(ending: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tricky.csv");
    write_tricky_csv_ending(&path, ending);

    let datastore = files_datastore(&path, &[("partition_bytes", "16384")]);
    let mut session = datastore.open().unwrap();
    let partitions = session.partitions("tricky.csv", hint(2)).unwrap();
    assert!(
        partitions.len() > 10,
        "only {} partitions",
        partitions.len()
    );

    let whole = profile_one(&path, &[]);
    let split = profile_one(&path, &[("partition_bytes", "16384")]);
    assert_eq!(whole.rows, u64::from(RECORDS));
    assert_eq!(split.rows, whole.rows);
    for (a, b) in whole.fields.iter().zip(&split.fields) {
        assert_eq!((a.count, a.nulls), (b.count, b.nulls), "{}", a.name);
        assert_eq!((&a.min, &a.max), (&b.min, &b.max), "{}", a.name);
        assert_eq!(
            a.distinct.as_ref().unwrap().count(),
            b.distinct.as_ref().unwrap().count()
        );
        assert_eq!(lengths(a), lengths(b));
        if let (Some(x), Some(y)) = (a.numbers.map(|n| n.moments), b.numbers.map(|n| n.moments)) {
            assert_eq!(x.n, y.n);
            assert!((x.mean - y.mean).abs() < 1e-9, "{}", a.name);
        }
    }
    let label = field(&split, "label");
    assert_eq!(
        label.nulls,
        (0..RECORDS).filter(|i| i % 6 == 2).count() as u64
    );
    assert_eq!(
        label.distinct.as_ref().unwrap().count(),
        (u64::from(RECORDS) - label.nulls, false)
    );
    assert_eq!(
        label.max,
        Some(qualityd::profile::Value::Text("say \"9997\"".into()))
    );
    assert_eq!(
        field(&split, "amount").nulls,
        (0..RECORDS).filter(|i| i % 7 == 0).count() as u64
    );
}

#[test]
fn read_honours_projection_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tricky.csv");
    write_tricky_csv(&path);
    let datastore = files_datastore(&path, &[]);
    let (mut session, container, partition) = first_partition(&datastore);
    let fields = vec!["amount".to_string(), "n".to_string()];
    let expected = container.projected(&fields).unwrap();
    let request = ReadRequest {
        projection: Some(fields),
        limit: Some(7),
        ..read_request(&container.name, partition)
    };
    let batches: Vec<_> = session
        .read(request, expected)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 7);
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["amount", "n"]);
}

#[test]
fn a_file_splits_into_a_multiple_of_the_readers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lines.csv");
    let mut csv = String::from("n,text\n");
    while csv.len() < 250_000 {
        csv.push_str(&format!("{},some text to fill the line\n", csv.len()));
    }
    std::fs::write(&path, &csv).unwrap();
    let size = csv.len() as u64;
    // 100 000-byte partitions would make 3; with 2 readers that rounds up to 4, with 3
    // readers it stays 3, and a file within one partition is never split.
    let datastore = files_datastore(&path, &[("partition_bytes", "100000")]);
    let mut session = datastore.open().unwrap();
    for (readers, expected) in [(2, 4), (3, 3), (4, 4), (1, 3)] {
        let partitions = session.partitions("lines.csv", hint(readers)).unwrap();
        assert_eq!(
            partitions.len(),
            expected,
            "{readers} readers, {size} bytes"
        );
    }
    let datastore = files_datastore(&path, &[("partition_bytes", "300000")]);
    let mut session = datastore.open().unwrap();
    assert_eq!(session.partitions("lines.csv", hint(2)).unwrap().len(), 1);
}
