//! Incremental reads of files: each partition says its file's modification time and path;
//! reading with the highest one seen returns only files added or changed since, the path
//! breaking ties between files modified at the same moment.

use std::time::{Duration, SystemTime};

use qualityd::contract::{ReadRequest, Scalar, Watermark};
use qualityd::operation::Datastore;

use crate::support::{files_datastore, first_partition, hint, read_request};

fn write_at(path: &std::path::Path, text: &str, seconds_after_epoch: u64) {
    std::fs::write(path, text).unwrap();
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds_after_epoch))
        .unwrap();
}

/// Rows read from every partition of the one container, and the highest partition watermark.
fn read_since(datastore: &Datastore, since: Option<String>) -> (usize, Option<String>) {
    let mut session = datastore.open().unwrap();
    let container = session.discover().unwrap().remove(0);
    let partitions = session.partitions(&container.name, hint(1)).unwrap();
    let mut rows = 0;
    let mut highest = None;
    for partition in partitions {
        if let Some(Scalar::Text(t)) = &partition.watermark {
            highest = highest.max(Some(t.clone()));
        }
        let request = ReadRequest {
            watermark: since.clone().map(|t| Watermark {
                field: "modified".into(),
                value: Scalar::Text(t),
            }),
            ..read_request(&container.name, partition)
        };
        let reader = session.read(request, container.schema.clone()).unwrap();
        rows += reader.map(|b| b.unwrap().num_rows()).sum::<usize>();
    }
    (rows, highest)
}

#[test]
fn a_second_read_with_the_last_watermark_returns_only_new_or_changed_files() {
    let dir = tempfile::tempdir().unwrap();
    write_at(&dir.path().join("log_1.csv"), "n\n1\n2\n", 1_700_000_000);
    write_at(&dir.path().join("log_2.csv"), "n\n3\n", 1_700_000_100);
    let datastore = files_datastore(dir.path(), &[]);

    let (rows, watermark) = read_since(&datastore, None);
    assert_eq!(rows, 3);
    assert_eq!(
        watermark.as_deref(),
        Some("2023-11-14T22:15:00.000000Z|log_2.csv"),
        "the newest file's modification time and path"
    );

    let (rows, _) = read_since(&datastore, watermark.clone());
    assert_eq!(rows, 0, "nothing changed");

    write_at(&dir.path().join("log_3.csv"), "n\n4\n5\n6\n", 1_700_000_200);
    write_at(&dir.path().join("log_1.csv"), "n\n1\n2\n7\n", 1_700_000_300);
    let (rows, newest) = read_since(&datastore, watermark);
    assert_eq!(rows, 3 + 3, "the new file and the changed one");
    assert_eq!(
        newest.as_deref(),
        Some("2023-11-14T22:18:20.000000Z|log_1.csv")
    );

    // A file modified at the same moment as the last one read, with a later path, is new.
    write_at(&dir.path().join("log_4.csv"), "n\n8\n", 1_700_000_300);
    let (rows, newest) = read_since(&datastore, newest);
    assert_eq!(rows, 1);
    assert_eq!(
        newest.as_deref(),
        Some("2023-11-14T22:18:20.000000Z|log_4.csv")
    );
}

#[test]
fn an_unknown_watermark_field_is_refused_with_the_right_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.csv"), "n\n1\n").unwrap();
    let datastore = files_datastore(dir.path(), &[]);
    let (mut session, container, partition) = first_partition(&datastore);
    let request = ReadRequest {
        watermark: Some(Watermark {
            field: "updated_at".into(),
            value: Scalar::Integer(5),
        }),
        ..read_request(&container.name, partition)
    };
    let error = session
        .read(request, container.schema.clone())
        .err()
        .expect("refused");
    assert!(
        error.to_string().contains("watermark field is `modified`"),
        "{error}"
    );
}
