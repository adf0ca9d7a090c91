//! Directories of many small files: a group's small files are packed many to a partition,
//! every row of every file is read exactly once whatever the layout, a read touches only the
//! files of its partition (so reading is linear in the files, not quadratic), and errors
//! still name the file and the line, including a file removed after the read was planned.

use std::path::Path;

use arrow::array::{Array, Int64Array};
use arrow::datatypes::SchemaRef;
use qualityd::contract::{Partition, PartitionHint, ReadRequest, Scalar, Watermark};
use qualityd::operation::Datastore;
use qualityd::profile::Value;

use crate::support::{container_error, field, files_datastore, hint, profile_path, read_request};

/// `count` files `part_NNNNN.csv` of one group; file `i` holds ids `3i`, `3i+1`, `3i+2`.
fn write_parts(dir: &Path, count: usize) {
    for i in 0..count {
        let first = 3 * i;
        let text = format!(
            "id,label\n{first},a{i}\n{},b{i}\n{},c{i}\n",
            first + 1,
            first + 2
        );
        std::fs::write(dir.join(format!("part_{i:05}.csv")), text).unwrap();
    }
}

/// The container's partitions and schema, planned in one session as the host does.
fn plan(datastore: &Datastore, hint: PartitionHint) -> (String, Vec<Partition>, SchemaRef) {
    let mut session = datastore.open().unwrap();
    let mut containers = session.discover().unwrap();
    assert_eq!(containers.len(), 1, "one group");
    let container = containers.remove(0);
    let partitions = session.partitions(&container.name, hint).unwrap();
    (container.name, partitions, container.schema)
}

/// The ids a partition holds, read in a fresh instance as the host reads it: with the
/// schema discovered when the read was planned.
fn read_ids(
    datastore: &Datastore,
    container: &str,
    partition: &Partition,
    schema: &SchemaRef,
) -> Vec<i64> {
    let mut session = datastore.open().unwrap();
    let reader = session
        .read(read_request(container, partition.clone()), schema.clone())
        .unwrap();
    let mut ids = Vec::new();
    for batch in reader {
        let batch = batch.unwrap_or_else(|e| panic!("{}: {e}", partition.description));
        let column = batch.column_by_name("id").unwrap();
        let column = column.as_any().downcast_ref::<Int64Array>().unwrap();
        ids.extend(column.iter().map(|v| v.unwrap()));
    }
    ids
}

#[test]
fn packed_partitions_read_every_row_of_every_file_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    write_parts(dir.path(), 600);
    // A file large enough to be split on its own, between the small ones.
    let mut big = String::from("id,label\n");
    for id in 100_000..104_000 {
        big.push_str(&format!("{id},big\n"));
    }
    std::fs::write(dir.path().join("part_00300_5.csv"), &big).unwrap();
    let datastore = files_datastore(dir.path(), &[]);
    // Files are read in name order: `part_00300.csv`, then `part_00300_5.csv`, then the rest.
    let expected: Vec<i64> = (0..903).chain(100_000..104_000).chain(903..1800).collect();

    let layouts = [
        (1, None),
        (2, None),
        (3, None),
        // The big file split into byte ranges, the small files packed by bytes.
        (2, Some(4_000)),
        (4, Some(1_000)),
    ];
    for (readers, target) in layouts {
        let hint = PartitionHint {
            parallelism: readers,
            target_bytes: target,
        };
        let (name, partitions, schema) = plan(&datastore, hint);
        assert_eq!(name, "part_*.csv");
        if target.is_some() {
            assert!(
                partitions
                    .iter()
                    .filter(|p| p.description.starts_with("part_00300_5.csv bytes"))
                    .count()
                    > 1,
                "{hint:?}: the big file is split"
            );
        }
        let mut ids: Vec<i64> = Vec::new();
        for partition in &partitions {
            ids.extend(read_ids(&datastore, &name, partition, &schema));
        }
        assert_eq!(ids, expected, "{hint:?}: every row once, in file order");
    }

    let outcomes = profile_path(dir.path(), &[]);
    let profile = outcomes[0].result.as_ref().unwrap();
    assert_eq!(profile.rows, 5800);
    let id = field(profile, "id");
    assert_eq!(
        (id.min.clone(), id.max.clone()),
        (Some(Value::Int(0)), Some(Value::Int(103_999)))
    );
}

#[test]
fn three_thousand_small_files_are_a_dozen_partitions_not_three_thousand() {
    let dir = tempfile::tempdir().unwrap();
    write_parts(dir.path(), 3000);
    let datastore = files_datastore(dir.path(), &[]);
    let (_, partitions, _) = plan(&datastore, hint(2));
    assert_eq!(partitions.len(), 12, "3000 files in packs of at most 256");
    let files: usize = partitions
        .iter()
        .map(|p| {
            p.description
                .split(' ')
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(files, 3000);
    let outcomes = profile_path(dir.path(), &[]);
    let profile = outcomes[0].result.as_ref().unwrap();
    assert_eq!(profile.rows, 9000);
    assert_eq!(field(profile, "id").max, Some(Value::Int(8999)));
}

#[test]
fn a_read_touches_only_the_files_of_its_partition() {
    let dir = tempfile::tempdir().unwrap();
    write_parts(dir.path(), 600);
    let datastore = files_datastore(dir.path(), &[]);
    let (name, partitions, schema) = plan(&datastore, hint(2));
    let first = &partitions[0];
    // After planning, a file of another partition no longer fits the group's schema and
    // another is removed: the first partition neither lists nor infers them, so it reads
    // as planned. (A read that re-inferred the whole group would fail, and cost every
    // read as much as planning.)
    std::fs::write(
        dir.path().join("part_00590.csv"),
        "id,label\nnot a number,x\n",
    )
    .unwrap();
    std::fs::remove_file(dir.path().join("part_00591.csv")).unwrap();
    let files: i64 = first
        .description
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        first.description.starts_with(&format!(
            "{files} files, part_00000.csv to part_{:05}.csv",
            files - 1
        )) && (100..200).contains(&files),
        "about a quarter of the files: {}",
        first.description
    );
    let ids = read_ids(&datastore, &name, first, &schema);
    assert_eq!(ids, (0..3 * files).collect::<Vec<i64>>());
}

#[test]
fn a_file_removed_after_planning_fails_its_partition_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write_parts(dir.path(), 20);
    let datastore = files_datastore(dir.path(), &[]);
    let (name, partitions, _) = plan(&datastore, hint(1));
    assert_eq!(partitions.len(), 1);
    std::fs::remove_file(dir.path().join("part_00007.csv")).unwrap();
    let mut session = datastore.open().unwrap();
    let schema = session.discover().unwrap().remove(0).schema;
    let error = session
        .read(read_request(&name, partitions[0].clone()), schema)
        .and_then(|reader| reader.collect::<Result<Vec<_>, _>>())
        .expect_err("the partition fails");
    let error = error.to_string();
    assert!(
        error.contains("part_00007.csv was removed after the read was planned; run it again"),
        "{error}"
    );
}

#[test]
fn an_error_in_a_packed_file_names_the_file_and_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write_parts(dir.path(), 40);
    // Past the schema sample of two records: found while reading the file's pack.
    std::fs::write(
        dir.path().join("part_00031.csv"),
        "id,label\n93,a\n94,b\n95,c,extra\n",
    )
    .unwrap();
    let outcomes = profile_path(dir.path(), &[("infer_rows", "2")]);
    let error = container_error(&outcomes, "part_*.csv");
    assert!(error.contains("part_00031.csv, line 4"), "{error}");
    assert!(error.contains("expected 2 fields, found 3"), "{error}");
}

#[test]
fn a_partition_of_another_container_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_parts(dir.path(), 3);
    std::fs::write(dir.path().join("other.csv"), "id\n1\n").unwrap();
    let datastore = files_datastore(dir.path(), &[]);
    let mut session = datastore.open().unwrap();
    let containers = session.discover().unwrap();
    let parts = session.partitions("part_*.csv", hint(1)).unwrap();
    let other = containers.iter().find(|c| c.name == "other.csv").unwrap();
    let error = session
        .read(
            read_request("other.csv", parts[0].clone()),
            other.schema.clone(),
        )
        .err()
        .expect("refused")
        .to_string();
    assert!(
        error.contains("`part_00000.csv` is not a file of container `other.csv`"),
        "{error}"
    );
}

#[test]
fn a_pack_read_past_a_watermark_returns_only_the_newer_files() {
    let dir = tempfile::tempdir().unwrap();
    write_parts(dir.path(), 3);
    for (i, seconds) in [(0, 1_700_000_000), (1, 1_700_000_100), (2, 1_700_000_200)] {
        let file = std::fs::File::options()
            .write(true)
            .open(dir.path().join(format!("part_{i:05}.csv")))
            .unwrap();
        file.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds))
            .unwrap();
    }
    let datastore = files_datastore(dir.path(), &[]);
    let (name, partitions, _) = plan(&datastore, hint(1));
    assert_eq!(partitions.len(), 1, "the three files in one pack");
    assert!(
        matches!(&partitions[0].watermark,
            Some(Scalar::Text(t)) if t == "2023-11-14T22:16:40.000000Z|part_00002.csv"),
        "the newest file's: {:?}",
        partitions[0].watermark
    );
    let mut session = datastore.open().unwrap();
    let schema = session.discover().unwrap().remove(0).schema;
    // The host passes the last watermark back with the empty field name.
    let request = ReadRequest {
        watermark: Some(Watermark {
            field: String::new(),
            value: Scalar::Text("2023-11-14T22:15:00.000000Z|part_00001.csv".into()),
        }),
        ..read_request(&name, partitions[0].clone())
    };
    let reader = session.read(request, schema).unwrap();
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 3, "only part_00002.csv is past it");
}
