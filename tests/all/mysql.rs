//! MySQL and MariaDB through the `mysql` plugin, against the server on 127.0.0.1:3306 (user
//! root, empty password, database `test`): every mapped type round-trips with its edge
//! values, discover describes tables and views, projection, limit, filters and watermarks
//! are pushed into the SQL, large tables split into key ranges read exactly once, and bad
//! credentials, closed ports, ungranted hosts and a table dropped mid-read fail with their
//! own error classes. Each test makes its own tables (`qd_mysql_<test>`) with the `mariadb`
//! command-line client, since the host crate has no MySQL client.

use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use arrow::array::{
    Array, AsArray, BinaryArray, Date32Array, Decimal128Array, DurationMicrosecondArray,
    Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, RecordBatch,
    StringArray, TimestampMicrosecondArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType, TimeUnit};
use qualityd::contract::{
    Comparison, ContainerKind, Partition, PluginError, Predicate, ReadRequest, Scalar, Watermark,
};
use qualityd::operation::{self, Datastore, ProfileOptions, Progress};
use qualityd::runtime::{DiscoveredContainer, PluginSession};

use crate::support::{hint, network_datastore, read_request};

const ADDRESS: &str = "127.0.0.1:3306";

/// Run SQL in database `test` with the `mariadb` client, in UTC; panics with its error.
fn sql(statements: &str) {
    let output = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "test"])
        .args(["--default-character-set=utf8mb4", "-e"])
        .arg(format!("SET time_zone = '+00:00'; {statements}"))
        .output()
        .expect("running the mariadb client");
    assert!(
        output.status.success(),
        "mariadb failed: {}\n{statements}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The `test` database as root, granted 127.0.0.1:3306, with extra settings.
fn datastore(extra: &[(&str, &str)]) -> Datastore {
    let mut settings = vec![("address", ADDRESS), ("database", "test"), ("user", "root")];
    settings.extend_from_slice(extra);
    network_datastore("mysql", &settings, &[ADDRESS])
}

/// A container of the datastore by name.
fn container(session: &mut PluginSession, name: &str) -> DiscoveredContainer {
    session
        .discover()
        .unwrap()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("discover does not list {name}"))
}

/// Every batch of a read, as one batch, and whether the filter was applied.
fn read(
    session: &mut PluginSession,
    container: &DiscoveredContainer,
    request: ReadRequest,
) -> (RecordBatch, bool) {
    let expected = match &request.projection {
        Some(fields) => container.projected(fields).unwrap(),
        None => container.schema.clone(),
    };
    let reader = session.read(request, expected.clone()).unwrap();
    let applied = reader.filter_applied();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    (concat_batches(&expected, &batches).unwrap(), applied)
}

/// The whole table (its one partition) as one batch.
fn read_whole(session: &mut PluginSession, name: &str) -> RecordBatch {
    let container = container(session, name);
    let partition = whole(session, name);
    read(session, &container, read_request(name, partition)).0
}

fn whole(session: &mut PluginSession, name: &str) -> Partition {
    let mut partitions = session.partitions(name, hint(1)).unwrap();
    assert_eq!(partitions.len(), 1);
    let partition = partitions.remove(0);
    assert_eq!(
        (partition.id.as_str(), partition.description.as_str()),
        ("all", "whole table")
    );
    partition
}

fn column<'b, T: 'static>(batch: &'b RecordBatch, name: &str) -> &'b T {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("column {name} has another type"))
}

/// The plugin's own error inside a host error.
fn plugin_error(error: &qualityd::Error) -> &PluginError {
    match error {
        qualityd::Error::Plugin { error, .. } => error,
        other => panic!("not a plugin error: {other}"),
    }
}

fn ints(batch: &RecordBatch, name: &str) -> Vec<i32> {
    column::<Int32Array>(batch, name).values().to_vec()
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

#[test]
fn every_type_round_trips_with_its_edge_values() {
    sql("DROP TABLE IF EXISTS qd_mysql_types;
        CREATE TABLE qd_mysql_types (
            id INT PRIMARY KEY,
            ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
            mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
            bi BIGINT, biu BIGINT UNSIGNED, bo BOOLEAN,
            f FLOAT, d DOUBLE,
            dec_small DECIMAL(10,2), dec_wide DECIMAL(38,10), dec_huge DECIMAL(65,30),
            c CHAR(5), vc VARCHAR(100), tx TEXT, e ENUM('red','green'), st SET('a','b','c'),
            bin BINARY(3), vb VARBINARY(10), bl BLOB, bt BIT(10),
            dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(6) NULL, yr YEAR,
            js JSON, u UUID, g POINT
        ) DEFAULT CHARSET = utf8mb4;
        INSERT INTO qd_mysql_types VALUES
        (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0,
            -9223372036854775808, 0, FALSE,
            -0.0, -0.0,
            -99999999.99, -9999999999999999999999999999.9999999999,
            -12345678901234567890123456789012345.123456789012345678901234567890,
            '', '', '', 'red', '',
            X'000102', X'', X'', b'0',
            '1000-01-01', '-838:59:59.000000', '1000-01-01 00:00:00.000000',
            '1970-01-01 00:00:01.000000', 1901,
            '[]', '00000000-0000-0000-0000-000000000000', ST_GeomFromText('POINT(1 2)')),
        (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
            9223372036854775807, 18446744073709551615, TRUE,
            1.5, 1.7976931348623157e308,
            99999999.99, 9999999999999999999999999999.9999999999,
            0.000000000000000000000000000001,
            'héllo', '日本語 😀 \\\\ \\' \"', 'a\\nb\\tc', 'green', 'a,c',
            'abc', X'FF00', X'DEADBEEF', b'1111111111',
            '9999-12-31', '25:30:00.500000', '9999-12-31 23:59:59.999999',
            '2038-01-19 03:14:07.999999', 2155,
            '{\"a\": [1, 2.5, \"x\"], \"b\": null}',
            'e0e1e2e3-e4e5-e6e7-e8e9-eaebecedeeef', ST_GeomFromText('POINT(-1.5 0)')),
        (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
            NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (4, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 0.0, 0.0, 0, 0, 0, 'x', ' ', ' a ', 'red', 'b',
            'xy', 'a', 'b', b'101', '0000-00-00', '-00:00:00.250000',
            '0000-00-00 00:00:00', '2024-02-29 12:34:56.000001', 0, '{}',
            '12345678-1234-1234-1234-123456789abc', NULL);");

    let datastore = datastore(&[]);
    let mut session = datastore.open().unwrap();
    let container = container(&mut session, "qd_mysql_types");
    let types: Vec<(String, DataType, bool)> = container
        .schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone(), f.is_nullable()))
        .collect();
    let utc = Some("UTC".into());
    let expected = [
        ("id", DataType::Int32, false),
        ("ti", DataType::Int8, true),
        ("tiu", DataType::UInt8, true),
        ("si", DataType::Int16, true),
        ("siu", DataType::UInt16, true),
        ("mi", DataType::Int32, true),
        ("miu", DataType::UInt32, true),
        ("i", DataType::Int32, true),
        ("iu", DataType::UInt32, true),
        ("bi", DataType::Int64, true),
        ("biu", DataType::UInt64, true),
        ("bo", DataType::Int8, true),
        ("f", DataType::Float32, true),
        ("d", DataType::Float64, true),
        ("dec_small", DataType::Decimal128(10, 2), true),
        ("dec_wide", DataType::Decimal128(38, 10), true),
        ("dec_huge", DataType::Utf8, true),
        ("c", DataType::Utf8, true),
        ("vc", DataType::Utf8, true),
        ("tx", DataType::Utf8, true),
        ("e", DataType::Utf8, true),
        ("st", DataType::Utf8, true),
        ("bin", DataType::Binary, true),
        ("vb", DataType::Binary, true),
        ("bl", DataType::Binary, true),
        ("bt", DataType::UInt64, true),
        ("dt", DataType::Date32, true),
        ("tm", DataType::Duration(TimeUnit::Microsecond), true),
        (
            "dtm",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            true,
        ),
        ("ts", DataType::Timestamp(TimeUnit::Microsecond, utc), true),
        ("yr", DataType::Int16, true),
        ("js", DataType::Utf8, true),
        ("u", DataType::Utf8, true),
        ("g", DataType::Utf8, true),
    ];
    let expected: Vec<(String, DataType, bool)> = expected
        .into_iter()
        .map(|(n, t, null)| (n.to_string(), t, null))
        .collect();
    assert_eq!(types, expected);
    let note = |name: &str| {
        container
            .schema
            .field_with_name(name)
            .unwrap()
            .metadata()
            .get("qualityd.note")
            .cloned()
            .unwrap_or_default()
    };
    assert!(note("bo").contains("TINYINT(1)"), "{}", note("bo"));
    assert!(
        note("dec_huge").contains("read as text"),
        "{}",
        note("dec_huge")
    );
    assert!(note("u").contains("uuid"), "{}", note("u"));
    assert!(note("g").contains("well-known text"), "{}", note("g"));
    assert_eq!(note("i"), "");

    let partition = whole(&mut session, "qd_mysql_types");
    let (batch, _) = read(
        &mut session,
        &container,
        read_request("qd_mysql_types", partition),
    );
    assert_eq!(batch.num_rows(), 4);
    assert_eq!(ints(&batch, "id"), [1, 2, 3, 4]);

    fn values<'b, A: Array + 'static, T>(
        batch: &'b RecordBatch,
        name: &str,
        get: impl Fn(&'b A, usize) -> T,
    ) -> Vec<Option<T>> {
        let array = column::<A>(batch, name);
        (0..array.len())
            .map(|i| array.is_valid(i).then(|| get(array, i)))
            .collect()
    }
    macro_rules! check {
        ($name:literal, $array:ty, [$($value:expr),*]) => {
            assert_eq!(
                values(&batch, $name, |a: &$array, i| a.value(i)),
                vec![$($value),*],
                "column {}",
                $name
            );
        };
    }
    check!("ti", Int8Array, [Some(-128), Some(127), None, Some(0)]);
    check!("tiu", UInt8Array, [Some(0), Some(255), None, Some(1)]);
    check!("si", Int16Array, [Some(-32768), Some(32767), None, Some(0)]);
    check!("siu", UInt16Array, [Some(0), Some(65535), None, Some(1)]);
    check!(
        "mi",
        Int32Array,
        [Some(-8388608), Some(8388607), None, Some(0)]
    );
    check!("miu", UInt32Array, [Some(0), Some(16777215), None, Some(1)]);
    check!(
        "i",
        Int32Array,
        [Some(i32::MIN), Some(i32::MAX), None, Some(0)]
    );
    check!("iu", UInt32Array, [Some(0), Some(u32::MAX), None, Some(1)]);
    check!(
        "bi",
        Int64Array,
        [Some(i64::MIN), Some(i64::MAX), None, Some(0)]
    );
    check!("biu", UInt64Array, [Some(0), Some(u64::MAX), None, Some(1)]);
    check!("bo", Int8Array, [Some(0), Some(1), None, Some(2)]);
    // The server keeps no negative zero: -0.0 reads back as 0.0 (bit for bit).
    let bits = |name: &str| -> Vec<Option<u64>> {
        match batch.column_by_name(name).unwrap().data_type() {
            DataType::Float32 => values(&batch, name, |a: &Float32Array, i| {
                u64::from(a.value(i).to_bits())
            }),
            _ => values(&batch, name, |a: &Float64Array, i| a.value(i).to_bits()),
        }
    };
    assert_eq!(
        bits("f"),
        [Some(0), Some(u64::from(1.5f32.to_bits())), None, Some(0)]
    );
    assert_eq!(
        bits("d"),
        [Some(0), Some(f64::MAX.to_bits()), None, Some(0)]
    );
    check!(
        "dec_small",
        Decimal128Array,
        [Some(-9_999_999_999), Some(9_999_999_999), None, Some(0)]
    );
    let wide = 10i128.pow(38) - 1;
    check!(
        "dec_wide",
        Decimal128Array,
        [Some(-wide), Some(wide), None, Some(0)]
    );
    check!(
        "dec_huge",
        StringArray,
        [
            Some("-12345678901234567890123456789012345.123456789012345678901234567890"),
            Some("0.000000000000000000000000000001"),
            None,
            Some("0.000000000000000000000000000000")
        ]
    );
    check!("c", StringArray, [Some(""), Some("héllo"), None, Some("x")]);
    check!(
        "vc",
        StringArray,
        [Some(""), Some("日本語 😀 \\ ' \""), None, Some(" ")]
    );
    check!(
        "tx",
        StringArray,
        [Some(""), Some("a\nb\tc"), None, Some(" a ")]
    );
    check!(
        "e",
        StringArray,
        [Some("red"), Some("green"), None, Some("red")]
    );
    check!("st", StringArray, [Some(""), Some("a,c"), None, Some("b")]);
    check!(
        "bin",
        BinaryArray,
        [
            Some(&[0u8, 1, 2][..]),
            Some(&b"abc"[..]),
            None,
            Some(&b"xy\0"[..])
        ]
    );
    check!(
        "vb",
        BinaryArray,
        [Some(&b""[..]), Some(&[0xFF, 0][..]), None, Some(&b"a"[..])]
    );
    check!(
        "bl",
        BinaryArray,
        [
            Some(&b""[..]),
            Some(&[0xDE, 0xAD, 0xBE, 0xEF][..]),
            None,
            Some(&b"b"[..])
        ]
    );
    check!("bt", UInt64Array, [Some(0), Some(1023), None, Some(5)]);
    // 1000-01-01 and 9999-12-31 as days since 1970-01-01; the zero date is null.
    check!(
        "dt",
        Date32Array,
        [Some(-354_285), Some(2_932_896), None, None]
    );
    let hours = |h: i64| h * 3_600_000_000;
    check!(
        "tm",
        DurationMicrosecondArray,
        [
            Some(-(hours(838) + 59 * 60_000_000 + 59_000_000)),
            Some(hours(25) + 30 * 60_000_000 + 500_000),
            None,
            Some(-250_000)
        ]
    );
    check!(
        "dtm",
        TimestampMicrosecondArray,
        [
            Some(-354_285 * MICROS_PER_DAY),
            Some(2_932_897 * MICROS_PER_DAY - 1),
            None,
            None
        ]
    );
    check!(
        "ts",
        TimestampMicrosecondArray,
        [
            Some(1_000_000),
            Some(2_147_483_647_999_999),
            None,
            Some(1_709_210_096_000_001)
        ]
    );
    check!("yr", Int16Array, [Some(1901), Some(2155), None, Some(0)]);
    check!(
        "js",
        StringArray,
        [
            Some("[]"),
            Some("{\"a\": [1, 2.5, \"x\"], \"b\": null}"),
            None,
            Some("{}")
        ]
    );
    check!(
        "u",
        StringArray,
        [
            Some("00000000-0000-0000-0000-000000000000"),
            Some("e0e1e2e3-e4e5-e6e7-e8e9-eaebecedeeef"),
            None,
            Some("12345678-1234-1234-1234-123456789abc")
        ]
    );
    check!(
        "g",
        StringArray,
        [Some("POINT(1 2)"), Some("POINT(-1.5 0)"), None, None]
    );
}

#[test]
fn discover_lists_tables_and_views_with_types_nullability_and_estimates() {
    sql("DROP VIEW IF EXISTS qd_mysql_discover_view;
        DROP TABLE IF EXISTS qd_mysql_discover;
        CREATE TABLE qd_mysql_discover (
            id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
            name VARCHAR(20) NOT NULL,
            price DECIMAL(12,3),
            born DATE NOT NULL,
            `odd ``name` TEXT
        );
        INSERT INTO qd_mysql_discover (name, price, born) VALUES
            ('a', 1.5, '2020-01-01'), ('b', NULL, '2021-06-30'), ('c', 2, '2022-12-31');
        ANALYZE TABLE qd_mysql_discover;
        CREATE VIEW qd_mysql_discover_view AS
            SELECT id, UPPER(name) AS shout FROM qd_mysql_discover WHERE price IS NOT NULL;");

    let datastore = datastore(&[]);
    let mut session = datastore.open().unwrap();
    session.check().unwrap();
    let table = container(&mut session, "qd_mysql_discover");
    assert_eq!(table.kind, ContainerKind::Table);
    assert!(table.error.is_none());
    let fields: Vec<(String, DataType, bool)> = table
        .schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone(), f.is_nullable()))
        .collect();
    assert_eq!(
        fields,
        [
            ("id".to_string(), DataType::UInt64, false),
            ("name".to_string(), DataType::Utf8, false),
            ("price".to_string(), DataType::Decimal128(12, 3), true),
            // Zero dates read as null, so a NOT NULL date is nullable (with a note).
            ("born".to_string(), DataType::Date32, true),
            ("odd `name".to_string(), DataType::Utf8, true),
        ]
    );
    assert!(
        table.schema.field(3).metadata()["qualityd.note"].contains("zero dates"),
        "{:?}",
        table.schema.field(3).metadata()
    );
    assert_eq!(table.row_estimate, Some(3), "ANALYZE TABLE makes it exact");
    assert!(table.byte_size.is_some_and(|b| b > 0));

    let view = container(&mut session, "qd_mysql_discover_view");
    assert_eq!(view.kind, ContainerKind::View);
    assert_eq!(view.row_estimate, None);
    let fields: Vec<(&str, &DataType)> = view
        .schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type()))
        .collect();
    assert_eq!(
        fields,
        [("id", &DataType::UInt64), ("shout", &DataType::Utf8)]
    );
    let partitions = session.partitions(&view.name, hint(4)).unwrap();
    assert_eq!(partitions.len(), 1, "a view is read whole");
    let (batch, _) = read(
        &mut session,
        &view,
        read_request(&view.name, partitions[0].clone()),
    );
    assert_eq!(column::<UInt64Array>(&batch, "id").values(), &[1, 3]);
    let shout = column::<StringArray>(&batch, "shout");
    assert_eq!((shout.value(0), shout.value(1)), ("A", "C"));

    let batch = read_whole(&mut session, "qd_mysql_discover");
    let odd = batch.column(4).as_string::<i32>();
    assert_eq!(odd.null_count(), 3, "a backquote in a name is quoted");

    let error = session
        .partitions("qd_mysql_no_such_table", hint(1))
        .unwrap_err();
    assert_eq!(error.class(), "plugin.not-found", "{error}");
}

/// Ten rows: id 1..10, name n1..n10, amount id * 1.5, created and updated a day apart.
fn reads_table() {
    sql("DROP TABLE IF EXISTS qd_mysql_reads;
        CREATE TABLE qd_mysql_reads (
            id INT PRIMARY KEY, name VARCHAR(10), amount DOUBLE,
            day DATE, updated TIMESTAMP(6) NULL
        );
        INSERT INTO qd_mysql_reads
            SELECT seq, CONCAT('n', seq), seq * 1.5,
                   DATE_ADD('2024-01-01', INTERVAL seq DAY),
                   TIMESTAMP('2024-01-01 00:00:00.5') + INTERVAL seq DAY
            FROM seq_1_to_10;");
}

#[test]
fn projection_limit_filter_and_watermark_are_pushed_down() {
    reads_table();
    let datastore = datastore(&[("batch_rows", "3")]);
    let mut session = datastore.open().unwrap();
    let table = container(&mut session, "qd_mysql_reads");
    let all = whole(&mut session, "qd_mysql_reads");
    let request = |f: &dyn Fn(&mut ReadRequest)| {
        let mut request = read_request("qd_mysql_reads", all.clone());
        f(&mut request);
        request
    };

    // Projection in the order asked, and a limit.
    let (batch, _) = read(
        &mut session,
        &table,
        request(&|r| {
            r.projection = Some(vec!["name".into(), "id".into()]);
            r.limit = Some(4);
        }),
    );
    assert_eq!(batch.schema().field(0).name(), "name");
    assert_eq!(batch.num_columns(), 2);
    assert_eq!(ints(&batch, "id"), [1, 2, 3, 4]);
    let names = column::<StringArray>(&batch, "name");
    assert_eq!(
        names.iter().flatten().collect::<Vec<_>>(),
        ["n1", "n2", "n3", "n4"]
    );

    // No fields at all: the rows are still counted.
    let (batch, _) = read(
        &mut session,
        &table,
        request(&|r| {
            r.projection = Some(Vec::new());
            r.limit = Some(5);
        }),
    );
    assert_eq!((batch.num_columns(), batch.num_rows()), (0, 5));

    // A filter the server applies: ids 3 to 7 but not 5, compared exactly.
    let predicate = |field: &str, op, value| Predicate {
        field: field.into(),
        op,
        value,
    };
    let (batch, applied) = read(
        &mut session,
        &table,
        request(&|r| {
            r.filter = vec![
                predicate("id", Comparison::Ge, Scalar::Integer(3)),
                predicate("day", Comparison::Le, Scalar::Date(19_730)), // 2024-01-08
                predicate("name", Comparison::Ne, Scalar::Text("n5".into())),
                predicate("amount", Comparison::IsNotNull, Scalar::Null),
            ];
        }),
    );
    assert!(applied);
    assert_eq!(ints(&batch, "id"), [3, 4, 6, 7]);

    // Text compares by bytes, not by the column's case-insensitive collation.
    let (batch, applied) = read(
        &mut session,
        &table,
        request(&|r| r.filter = vec![predicate("name", Comparison::Eq, Scalar::Text("N5".into()))]),
    );
    assert!(applied);
    assert_eq!(batch.num_rows(), 0);

    // A predicate that cannot be written as SQL: none is applied, every row comes back.
    let (batch, applied) = read(
        &mut session,
        &table,
        request(&|r| {
            r.filter = vec![
                predicate("id", Comparison::Ge, Scalar::Integer(3)),
                predicate("amount", Comparison::Gt, Scalar::Boolean(true)),
            ];
        }),
    );
    assert!(!applied);
    assert_eq!(batch.num_rows(), 10);

    // Watermarks: rows after the last one seen, by timestamp or by id.
    let sixth = (19_723 + 6) * MICROS_PER_DAY + 500_000; // 2024-01-07 00:00:00.5 UTC
    let (batch, _) = read(
        &mut session,
        &table,
        request(&|r| {
            r.watermark = Some(Watermark {
                field: "updated".into(),
                value: Scalar::Timestamp(sixth),
            });
        }),
    );
    assert_eq!(ints(&batch, "id"), [7, 8, 9, 10]);
    assert_eq!(
        column::<TimestampMicrosecondArray>(&batch, "updated").value(0),
        sixth + MICROS_PER_DAY
    );
    let (batch, _) = read(
        &mut session,
        &table,
        request(&|r| {
            r.watermark = Some(Watermark {
                field: "id".into(),
                value: Scalar::Integer(8),
            });
            r.projection = Some(vec!["id".into()]);
        }),
    );
    assert_eq!(ints(&batch, "id"), [9, 10]);

    // Fields that are not there.
    let expected = table.schema.clone();
    let error = session
        .read(
            request(&|r| r.projection = Some(vec!["nope".into()])),
            expected.clone(),
        )
        .err()
        .unwrap();
    assert_eq!(error.class(), "plugin.not-found", "{error}");
    assert!(error.to_string().contains("nope"), "{error}");
    let error = session
        .read(
            request(&|r| r.partition.id = "int:id:0:zz".into()),
            expected,
        )
        .err()
        .unwrap();
    assert_eq!(error.class(), "plugin.config", "{error}");
    assert!(error.to_string().contains("int:id:0:zz"), "{error}");
}

#[test]
fn large_tables_split_into_key_ranges_read_exactly_once() {
    sql("DROP TABLE IF EXISTS qd_mysql_partitions;
        CREATE TABLE qd_mysql_partitions (id INT PRIMARY KEY, v INT NOT NULL);
        INSERT INTO qd_mysql_partitions SELECT seq, seq % 7 FROM seq_1_to_50000;
        ANALYZE TABLE qd_mysql_partitions;");
    let datastore = datastore(&[("partition_rows", "10000"), ("batch_rows", "4096")]);
    let mut session = datastore.open().unwrap();
    let table = container(&mut session, "qd_mysql_partitions");
    let estimate = table.row_estimate.unwrap();
    assert!(estimate > 10_000, "estimate {estimate}");

    let partitions = session.partitions(&table.name, hint(2)).unwrap();
    assert_eq!(partitions.len() as u64, estimate.div_ceil(10_000).max(2));
    assert_eq!(
        partitions[0].id.split(':').take(2).collect::<Vec<_>>(),
        ["int", "id"]
    );
    assert!(
        partitions[0].id.starts_with("int:id:1:"),
        "{}",
        partitions[0].id
    );
    assert!(
        partitions.last().unwrap().id.ends_with(":50001"),
        "the last range ends after the maximum: {}",
        partitions.last().unwrap().id
    );
    assert!(partitions[0].description.starts_with("`id` in [1, "));
    let (mut rows, mut sum) = (0u64, 0i64);
    for partition in &partitions {
        let (batch, _) = read(
            &mut session,
            &table,
            read_request(&table.name, partition.clone()),
        );
        rows += batch.num_rows() as u64;
        sum += ints(&batch, "id")
            .iter()
            .map(|&i| i64::from(i))
            .sum::<i64>();
    }
    assert_eq!((rows, sum), (50_000, 50_000 * 50_001 / 2));

    let options = ProfileOptions {
        containers: Some(vec![table.name.clone()]),
        parallelism: 2,
        ..ProfileOptions::default()
    };
    let outcomes = operation::profile(&datastore, &options, &Progress::default()).unwrap();
    assert_eq!(outcomes.len(), 1);
    let profile = outcomes[0].result.as_ref().unwrap();
    assert_eq!(profile.rows, 50_000);
}

#[test]
fn wrong_password_is_an_auth_error_naming_the_user_and_address() {
    sql("DROP USER IF EXISTS 'qd_mysql_user'@'%';
        CREATE USER 'qd_mysql_user'@'%' IDENTIFIED BY 'qd-right-pw';
        GRANT SELECT ON test.* TO 'qd_mysql_user'@'%';");
    let with = |user: &str, password: &str| {
        let settings = [
            ("address", ADDRESS),
            ("database", "test"),
            ("user", user),
            ("password", password),
        ];
        network_datastore("mysql", &settings, &[ADDRESS])
    };
    with("qd_mysql_user", "qd-right-pw")
        .open()
        .unwrap()
        .check()
        .unwrap();
    for (user, password) in [("qd_mysql_user", "qd-wrong-pw"), ("root", "qd-wrong-pw")] {
        let error = with(user, password).open().unwrap().check().unwrap_err();
        assert_eq!(error.class(), "plugin.auth", "{error}");
        let message = error.to_string();
        assert!(
            message.contains(user) && message.contains(ADDRESS),
            "{message}"
        );
        assert!(!message.contains("qd-wrong-pw"), "{message}");
    }
    let settings = [
        ("address", ADDRESS),
        ("database", "qd_mysql_nope"),
        ("user", "root"),
    ];
    let error = network_datastore("mysql", &settings, &[ADDRESS])
        .open()
        .unwrap()
        .check()
        .unwrap_err();
    assert_eq!(error.class(), "plugin.config", "{error}");
    assert!(error.to_string().contains("qd_mysql_nope"), "{error}");
}

#[test]
fn a_closed_port_is_a_quick_connection_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let settings = [
        ("address", address.as_str()),
        ("database", "test"),
        ("user", "root"),
    ];
    let mut session = network_datastore("mysql", &settings, &[&address])
        .open()
        .unwrap();
    let started = Instant::now();
    let error = session.check().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(error.class(), "plugin.connection", "{error}");
    assert!(error.to_string().contains(&address), "{error}");
}

#[test]
fn hosts_not_granted_are_refused_by_the_sandbox() {
    let settings = [
        ("address", "127.0.0.1:3307"),
        ("database", "test"),
        ("user", "root"),
    ];
    let error = network_datastore("mysql", &settings, &[ADDRESS])
        .open()
        .unwrap()
        .check()
        .unwrap_err();
    assert_eq!(error.class(), "plugin.connection", "{error}");
    let message = error.to_string();
    assert!(
        message.contains("permission denied") && message.contains("not granted"),
        "{message}"
    );

    let error = network_datastore("mysql", &settings, &[])
        .open()
        .err()
        .unwrap();
    assert_eq!(error.class(), "not-granted", "{error}");
}

#[test]
fn a_table_dropped_during_a_read_is_finished_consistently_then_a_data_error() {
    // About 48 MB, more than the socket buffers hold: the server is still sending when the
    // DROP comes, and the DROP waits for the read's statement (its metadata lock).
    sql("DROP TABLE IF EXISTS qd_mysql_dropped;
        CREATE TABLE qd_mysql_dropped (id INT PRIMARY KEY, pad LONGBLOB);
        INSERT INTO qd_mysql_dropped SELECT seq, REPEAT('x', 4000) FROM seq_1_to_12000;");
    let datastore = datastore(&[("batch_rows", "100")]);
    let mut session = datastore.open().unwrap();
    let table = container(&mut session, "qd_mysql_dropped");
    let partition = whole(&mut session, "qd_mysql_dropped");
    let request = read_request(&table.name, partition);
    let mut reader = session.read(request.clone(), table.schema.clone()).unwrap();
    let mut rows = reader.next().unwrap().unwrap().num_rows();
    assert_eq!(rows, 100);

    let drop = std::thread::spawn(|| sql("DROP TABLE qd_mysql_dropped"));
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !drop.is_finished(),
        "the DROP waits while the server is still sending the rows"
    );
    for batch in reader {
        rows += batch.unwrap().num_rows();
    }
    assert_eq!(
        rows, 12_000,
        "the read started before the DROP sees every row"
    );
    drop.join().unwrap();

    // The next read of the table (as of the next partition) finds it gone.
    let error = session.read(request, table.schema.clone()).err().unwrap();
    assert_eq!(error.class(), "plugin.data", "{error}");
    match plugin_error(&error) {
        PluginError::Data(data) => {
            assert_eq!(data.location.path.as_deref(), Some("qd_mysql_dropped"))
        }
        other => panic!("{other:?}"),
    }
    assert!(
        session
            .discover()
            .unwrap()
            .iter()
            .all(|c| c.name != "qd_mysql_dropped")
    );
}

/// The `mariadb` client's output of one query, tab-separated, without column names.
fn query(statement: &str) -> String {
    let output = Command::new("mariadb")
        .args([
            "-h",
            "127.0.0.1",
            "-P",
            "3306",
            "-u",
            "root",
            "test",
            "-N",
            "-B",
            "-e",
        ])
        .arg(statement)
        .output()
        .expect("running the mariadb client");
    assert!(output.status.success(), "{statement}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn a_connection_killed_by_the_server_mid_read_is_a_connection_error() {
    sql("DROP TABLE IF EXISTS qd_mysql_killed;
         CREATE TABLE qd_mysql_killed (id BIGINT PRIMARY KEY, pad VARCHAR(200));
         INSERT INTO qd_mysql_killed SELECT seq, REPEAT('z', 200) FROM seq_1_to_300000;");
    let datastore = datastore(&[("batch_rows", "1000")]);
    let mut session = datastore.open().unwrap();
    let killed = container(&mut session, "qd_mysql_killed");
    let partition = whole(&mut session, "qd_mysql_killed");
    let mut reader = session
        .read(
            read_request("qd_mysql_killed", partition),
            killed.schema.clone(),
        )
        .unwrap();
    reader.next().unwrap().unwrap();
    // What a server restart does to a session: the server ends its connection.
    let id = query(
        "SELECT id FROM information_schema.PROCESSLIST \
         WHERE INFO LIKE '%qd_mysql_killed%' AND INFO NOT LIKE '%PROCESSLIST%'",
    );
    assert!(
        !id.is_empty(),
        "the read's connection is in the process list"
    );
    query(&format!("KILL CONNECTION {id}"));
    let err = reader.find_map(Result::err).expect("the read fails");
    assert_eq!(err.class(), "plugin.connection", "{err}");
    assert!(err.to_string().contains("qd_mysql_killed"), "{err}");
    drop(reader);
    session.check().unwrap();
}

#[test]
fn a_table_is_profiled_through_the_daemon_api_in_parallel_partitions() {
    use crate::daemon_process::profile_through_api;

    sql("DROP TABLE IF EXISTS qd_mysql_daemon;
         CREATE TABLE qd_mysql_daemon (id INT PRIMARY KEY, country CHAR(2), joined DATE);
         INSERT INTO qd_mysql_daemon SELECT seq, IF(seq % 4 = 0, NULL, 'DE'),
           DATE '2020-01-01' + INTERVAL (seq % 1000) DAY FROM seq_1_to_40000;
         ANALYZE TABLE qd_mysql_daemon;");
    let datastore = format!(
        "[datastores.shop]\nplugin = \"mysql\"\n\
         settings = {{ address = \"{ADDRESS}\", database = \"test\", user = \"root\", \
         partition_rows = \"10000\" }}\n\
         grants = {{ hosts = [\"{ADDRESS}\"] }}\n"
    );
    let (job, profile) = profile_through_api("shop", &datastore, "mysql", "qd_mysql_daemon", 4);
    assert_eq!(job["progress"]["rows"], 40_000);
    assert_eq!(profile["rows"], 40_000, "{profile}");
    let country = profile["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "country")
        .unwrap();
    assert_eq!(country["nulls"], 10_000, "{country}");
}
