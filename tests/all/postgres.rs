//! The `postgres` plugin against the real PostgreSQL on 127.0.0.1:5432, through the compiled
//! component and the sandbox: every mapped type read back exactly, discovery, pushdown,
//! partitions read in parallel, incremental reads, a profile through the daemon's API, and
//! each kind of bad input as its own clear error with nothing left open.

use std::net::TcpListener;
use std::process::Command;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int16Type, Int32Type,
    Int64Type, IntervalMonthDayNano, IntervalMonthDayNanoType, Time64MicrosecondType,
    TimestampMicrosecondType,
};
use serde_json::json;

use qualityd::contract::{Comparison, Predicate, ReadRequest, Scalar, Watermark};
use qualityd::operation::{self, Datastore, ProfileOptions, Progress};
use qualityd::runtime::DiscoveredContainer;

use crate::daemon_process::{DaemonProcess, EXAMPLE_DATASTORE, config, profile_through_api};
use crate::support::{hint, network_datastore, read_request};

const ADDRESS: &str = "127.0.0.1:5432";

/// Run SQL on the test database as the superuser, failing the test on any error.
fn sql(statements: &str) -> String {
    let out = Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test"])
        .args([
            "-v",
            "ON_ERROR_STOP=1",
            "-X",
            "-q",
            "-t",
            "-A",
            "-c",
            statements,
        ])
        .output()
        .expect("running psql");
    assert!(
        out.status.success(),
        "psql failed on {statements}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A datastore on the test database, as `user`, listing only `schema`.
fn datastore_in(schema: &str, extra: &[(&str, &str)]) -> Datastore {
    let mut settings = vec![
        ("address", ADDRESS),
        ("database", "test"),
        ("user", "postgres"),
        ("schemas", schema),
    ];
    settings.extend_from_slice(extra);
    network_datastore("postgres", &settings, &[ADDRESS])
}

/// A fresh schema for one test.
fn schema(name: &str) -> String {
    sql(&format!(
        "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name};"
    ));
    name.to_owned()
}

fn container(datastore: &Datastore, name: &str) -> DiscoveredContainer {
    let mut session = datastore.open().unwrap();
    session
        .discover()
        .unwrap()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no container {name}"))
}

/// Every batch of every partition of a container, read in one session.
fn read_all(
    datastore: &Datastore,
    name: &str,
    request: impl Fn(ReadRequest) -> ReadRequest,
) -> Vec<RecordBatch> {
    let mut session = datastore.open().unwrap();
    let container = session
        .discover()
        .unwrap()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap();
    let partitions = session.partitions(&container.name, hint(1)).unwrap();
    let mut batches = Vec::new();
    for partition in partitions {
        let request = request(read_request(&container.name, partition));
        let schema = match &request.projection {
            Some(fields) => Arc::new(
                container
                    .schema
                    .project(
                        &fields
                            .iter()
                            .map(|f| container.schema.index_of(f).unwrap())
                            .collect::<Vec<_>>(),
                    )
                    .unwrap(),
            ),
            None => container.schema.clone(),
        };
        for batch in session.read(request, schema).unwrap() {
            batches.push(batch.unwrap());
        }
    }
    batches
}

fn one_batch(batches: Vec<RecordBatch>) -> RecordBatch {
    arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
}

#[test]
fn every_mapped_type_reads_back_exactly() {
    let s = schema("qd_pg_types");
    sql(&format!(
        "CREATE TYPE {s}.mood AS ENUM ('sad', 'ok', 'happy');
         CREATE DOMAIN {s}.positive AS int4 CHECK (VALUE > 0);
         CREATE TABLE {s}.every (
           id int4 PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
           n numeric(12,2), nr numeric(5,-2), nfree numeric, t text, vc varchar(20), c char(3),
           d date, tm time, ts timestamp, tz timestamptz, iv interval, u uuid, j json,
           jb jsonb, by bytea, ints int4[], texts text[], m {s}.mood, dom {s}.positive,
           addr inet, o oid);
         INSERT INTO {s}.every VALUES
          (1, true, -32768, -2147483648, -9223372036854775808, '-Infinity', 'NaN',
           -9999999999.99, -9999900, '123456789012345678901234567890.123456789', '', 'ünïcødé🎉',
           'ab', '0001-01-01', '00:00:00', '1900-01-01 00:00:00.000001',
           '2024-03-10 02:30:00+05:30', '-1 year -2 days -00:00:00.000001',
           '00000000-0000-0000-0000-000000000000', '{{\"a\": [1, 2]}}', '{{\"b\": null}}',
           '\\x00ff', '{{1,NULL,3}}', '{{}}', 'sad', 1, '10.0.0.1/8', 4294967295),
          (2, false, 32767, 2147483647, 9223372036854775807, 'Infinity', '-0',
           9999999999.99, 9999900, '-0.5', 'x''y\\z', 'tab\tnew\nline', 'abc', '9999-12-31',
           '23:59:59.999999', '2262-04-11 23:47:16.854775', '1970-01-01 00:00:00+00',
           '3 months 4 days 05:06:07.000008', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '[]',
           '[1, \"two\"]', '', '{{{{1,2}},{{3,4}}}}', '{{\"a b\",NULL,\"\"}}', 'happy', 2147483647,
           '::1', 0),
          (3, NULL, NULL, NULL, NULL, 1.5, 2.25, 'NaN', NULL, NULL, NULL, NULL, NULL,
           'infinity', NULL, '-infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL);"
    ));
    let datastore = datastore_in(&s, &[]);
    let every = container(&datastore, "qd_pg_types.every");
    let types: Vec<(String, DataType, bool)> = every
        .schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone(), f.is_nullable()))
        .collect();
    let expect = |name: &str, data_type: DataType| {
        let found = types.iter().find(|(n, ..)| n == name).unwrap();
        assert_eq!(found.1, data_type, "the type of {name}");
    };
    use arrow::datatypes::{Field, IntervalUnit, TimeUnit};
    expect("id", DataType::Int32);
    expect("b", DataType::Boolean);
    expect("i2", DataType::Int16);
    expect("i8", DataType::Int64);
    expect("f4", DataType::Float32);
    expect("n", DataType::Decimal128(12, 2));
    expect("nr", DataType::Decimal128(5, -2));
    expect("nfree", DataType::Utf8);
    expect("d", DataType::Date32);
    expect("tm", DataType::Time64(TimeUnit::Microsecond));
    expect("ts", DataType::Timestamp(TimeUnit::Microsecond, None));
    expect(
        "tz",
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
    );
    expect("iv", DataType::Interval(IntervalUnit::MonthDayNano));
    expect("u", DataType::Utf8);
    expect("by", DataType::Binary);
    expect(
        "ints",
        DataType::List(Arc::new(Field::new("item", DataType::Int32, true))),
    );
    expect(
        "m",
        DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
    );
    expect("dom", DataType::Int32);
    expect("addr", DataType::Utf8);
    expect("o", DataType::Int64);
    assert!(!types[0].2, "the primary key is not nullable");
    assert!(types[1].2);
    let note = |name: &str| {
        every
            .schema
            .field_with_name(name)
            .unwrap()
            .metadata()
            .get("qualityd.note")
            .cloned()
    };
    assert!(note("nfree").unwrap().contains("read as text"));
    assert!(note("addr").unwrap().contains("inet"));
    assert_eq!(note("n"), None);

    let batch = one_batch(read_all(&datastore, "qd_pg_types.every", |r| r));
    assert_eq!(batch.num_rows(), 3);
    let col = |name: &str| batch.column_by_name(name).unwrap().clone();
    let ids = col("id");
    let order: Vec<i32> = ids.as_primitive::<Int32Type>().values().to_vec();
    assert_eq!(
        order,
        [1, 2, 3],
        "a whole-table read keeps insertion order here"
    );

    let b = col("b");
    let b = b.as_boolean();
    assert_eq!((b.value(0), b.value(1), b.is_null(2)), (true, false, true));
    let i2 = col("i2");
    assert_eq!(
        i2.as_primitive::<Int16Type>().values()[..2],
        [i16::MIN, i16::MAX]
    );
    let i4 = col("i4");
    assert_eq!(
        i4.as_primitive::<Int32Type>().values()[..2],
        [i32::MIN, i32::MAX]
    );
    let i8 = col("i8");
    assert_eq!(
        i8.as_primitive::<Int64Type>().values()[..2],
        [i64::MIN, i64::MAX]
    );
    assert!(i8.is_null(2));
    let f4 = col("f4");
    assert_eq!(
        f4.as_primitive::<Float32Type>().values()[..],
        [f32::NEG_INFINITY, f32::INFINITY, 1.5]
    );
    let f8 = col("f8");
    let f8 = f8.as_primitive::<Float64Type>();
    assert!(f8.value(0).is_nan());
    assert!(
        f8.value(1) == 0.0 && f8.value(1).is_sign_negative(),
        "-0.0 keeps its sign"
    );
    assert_eq!(f8.value(2), 2.25);
    let n = col("n");
    let n = n.as_primitive::<Decimal128Type>();
    assert_eq!(
        (n.value(0), n.value(1)),
        (-999_999_999_999, 999_999_999_999)
    );
    assert!(n.is_null(2), "NaN in a decimal column is read as null");
    let nr = col("nr");
    assert_eq!(
        nr.as_primitive::<Decimal128Type>().values()[..2],
        [-99_999, 99_999]
    );
    let nfree = col("nfree");
    let nfree = nfree.as_string::<i32>();
    assert_eq!(nfree.value(0), "123456789012345678901234567890.123456789");
    assert_eq!(nfree.value(1), "-0.5");
    let t = col("t");
    let t = t.as_string::<i32>();
    assert_eq!((t.value(0), t.value(1)), ("", "x'y\\z"));
    assert!(t.is_null(2));
    let vc = col("vc");
    let vc = vc.as_string::<i32>();
    assert_eq!((vc.value(0), vc.value(1)), ("ünïcødé🎉", "tab\tnew\nline"));
    let c = col("c");
    assert_eq!(
        c.as_string::<i32>().value(0),
        "ab ",
        "char(n) keeps its padding"
    );
    let d = col("d");
    let d = d.as_primitive::<Date32Type>();
    assert_eq!((d.value(0), d.value(1)), (-719_162, 2_932_896));
    assert!(d.is_null(2), "infinity is read as null");
    let tm = col("tm");
    assert_eq!(
        tm.as_primitive::<Time64MicrosecondType>().values()[..2],
        [0, 86_399_999_999]
    );
    let ts = col("ts");
    let ts = ts.as_primitive::<TimestampMicrosecondType>();
    assert_eq!(
        (ts.value(0), ts.value(1)),
        (-2_208_988_799_999_999, 9_223_372_036_854_775)
    );
    assert!(ts.is_null(2), "-infinity is read as null");
    let tz = col("tz");
    let tz = tz.as_primitive::<TimestampMicrosecondType>();
    assert_eq!(
        tz.value(0),
        1_710_018_000_000_000,
        "02:30+05:30 is 21:00 UTC the day before"
    );
    assert_eq!(tz.value(1), 0);
    let iv = col("iv");
    let iv = iv.as_primitive::<IntervalMonthDayNanoType>();
    assert_eq!(iv.value(0), IntervalMonthDayNano::new(-12, -2, -1_000));
    assert_eq!(
        iv.value(1),
        IntervalMonthDayNano::new(3, 4, 18_367_000_008_000)
    );
    let u = col("u");
    let u = u.as_string::<i32>();
    assert_eq!(u.value(0), "00000000-0000-0000-0000-000000000000");
    assert_eq!(u.value(1), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    let j = col("j");
    assert_eq!(
        j.as_string::<i32>().value(0),
        "{\"a\": [1, 2]}",
        "json keeps its text"
    );
    let jb = col("jb");
    let jb = jb.as_string::<i32>();
    assert_eq!(
        (jb.value(0), jb.value(1)),
        ("{\"b\": null}", "[1, \"two\"]")
    );
    let by = col("by");
    let by = by.as_binary::<i32>();
    assert_eq!((by.value(0), by.value(1)), (&[0u8, 255][..], &[][..]));
    let ints = col("ints");
    let ints = ints.as_list::<i32>();
    let first = ints.value(0);
    let first = first.as_primitive::<Int32Type>();
    assert_eq!(
        (
            first.len(),
            first.value(0),
            first.is_null(1),
            first.value(2)
        ),
        (3, 1, true, 3)
    );
    let second = ints.value(1);
    assert_eq!(
        second.as_primitive::<Int32Type>().values()[..],
        [1, 2, 3, 4],
        "two dimensions are flattened"
    );
    assert!(ints.is_null(2));
    let texts = col("texts");
    let texts = texts.as_list::<i32>();
    assert_eq!(texts.value(0).len(), 0, "an empty array is an empty list");
    let second = texts.value(1);
    let second = second.as_string::<i32>();
    assert_eq!(
        (second.value(0), second.is_null(1), second.value(2)),
        ("a b", true, "")
    );
    let m = col("m");
    let m = m.as_dictionary::<Int32Type>();
    let labels = m.values().as_string::<i32>();
    let label = |i: usize| labels.value(m.keys().value(i) as usize).to_owned();
    assert_eq!((label(0), label(1)), ("sad".into(), "happy".into()));
    assert!(m.is_null(2));
    let dom = col("dom");
    assert_eq!(dom.as_primitive::<Int32Type>().values()[..2], [1, i32::MAX]);
    let addr = col("addr");
    let addr = addr.as_string::<i32>();
    assert_eq!((addr.value(0), addr.value(1)), ("10.0.0.1/8", "::1/128"));
    let o = col("o");
    assert_eq!(
        o.as_primitive::<Int64Type>().values()[..2],
        [4_294_967_295, 0]
    );
}

#[test]
fn discovery_lists_tables_views_and_statistics() {
    let s = schema("qd_pg_discover");
    sql(&format!(
        "CREATE TABLE {s}.orders (id int8 PRIMARY KEY, total numeric(10,2) NOT NULL, note text);
         INSERT INTO {s}.orders SELECT g, g * 1.5, NULL FROM generate_series(1, 1000) g;
         ANALYZE {s}.orders;
         CREATE VIEW {s}.big_orders AS SELECT * FROM {s}.orders WHERE total > 100;
         CREATE MATERIALIZED VIEW {s}.totals AS SELECT count(*) AS n FROM {s}.orders;
         CREATE TABLE {s}.\"Odd.Name\" (\"a \"\"quoted\"\" col\" int4);
         INSERT INTO {s}.\"Odd.Name\" VALUES (7);
         CREATE TABLE {s}.events (at date NOT NULL, n int4) PARTITION BY RANGE (at);
         CREATE TABLE {s}.events_2024 PARTITION OF {s}.events
           FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');"
    ));
    let datastore = datastore_in(&s, &[]);
    let mut session = datastore.open().unwrap();
    session.check().unwrap();
    let containers = session.discover().unwrap();
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "qd_pg_discover.Odd.Name",
            "qd_pg_discover.big_orders",
            "qd_pg_discover.events",
            "qd_pg_discover.orders",
            "qd_pg_discover.totals"
        ],
        "partitions of a partitioned table are read through it, not listed"
    );
    let orders = &containers[3];
    assert_eq!(orders.row_estimate, Some(1000));
    assert!(orders.byte_size.unwrap() > 8192);
    let fields: Vec<String> = orders
        .schema
        .fields()
        .iter()
        .map(|f| format!("{} {} {}", f.name(), f.data_type(), f.is_nullable()))
        .collect();
    assert_eq!(
        fields,
        [
            "id Int64 false",
            "total Decimal128(10, 2) false",
            "note Utf8 true"
        ]
    );
    assert_eq!(containers[1].row_estimate, None, "a view has no statistics");

    // Names with dots and quotes are read as they are.
    let batch = one_batch(read_all(&datastore, "qd_pg_discover.Odd.Name", |r| r));
    assert_eq!(batch.schema().field(0).name(), "a \"quoted\" col");
    assert_eq!(batch.column(0).as_primitive::<Int32Type>().value(0), 7);
    let view = one_batch(read_all(&datastore, "qd_pg_discover.big_orders", |r| r));
    assert_eq!(
        view.num_rows(),
        934,
        "orders 67..=1000 have totals over 100"
    );
}

#[test]
fn projection_limits_filters_and_watermarks_are_pushed_into_the_query() {
    let s = schema("qd_pg_pushdown");
    sql(&format!(
        "CREATE TABLE {s}.log (id int4 PRIMARY KEY, at timestamptz NOT NULL, level text, day date);
         INSERT INTO {s}.log SELECT g, TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '1 hour',
           CASE WHEN g % 3 = 0 THEN 'error' WHEN g % 3 = 1 THEN 'info' END,
           DATE '2024-01-01' + g / 24
         FROM generate_series(1, 100) g;"
    ));
    let datastore = datastore_in(&s, &[]);
    let name = "qd_pg_pushdown.log";

    let projected = one_batch(read_all(&datastore, name, |r| ReadRequest {
        projection: Some(vec!["level".into(), "id".into()]),
        limit: Some(7),
        ..r
    }));
    assert_eq!(projected.num_rows(), 7);
    let schema = projected.schema();
    let fields: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(fields, ["level", "id"]);

    let mut session = datastore.open().unwrap();
    let log = session.discover().unwrap().remove(0);
    let partition = session.partitions(name, hint(1)).unwrap().remove(0);
    let request = ReadRequest {
        filter: vec![
            Predicate {
                field: "level".into(),
                op: Comparison::Eq,
                value: Scalar::Text("error".into()),
            },
            Predicate {
                field: "id".into(),
                op: Comparison::Le,
                value: Scalar::Integer(30),
            },
            Predicate {
                field: "day".into(),
                op: Comparison::Ge,
                value: Scalar::Date(19_723), // 2024-01-01
            },
        ],
        ..read_request(name, partition.clone())
    };
    let reader = session.read(request, log.schema.clone()).unwrap();
    assert!(
        reader.filter_applied(),
        "every predicate can be written in SQL"
    );
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 10, "ids 3, 6, ..., 30");

    let nulls = ReadRequest {
        filter: vec![Predicate {
            field: "level".into(),
            op: Comparison::IsNull,
            value: Scalar::Null,
        }],
        ..read_request(name, partition.clone())
    };
    let rows: usize = session
        .read(nulls, log.schema.clone())
        .unwrap()
        .map(|b| b.unwrap().num_rows())
        .sum();
    assert_eq!(rows, 33);

    // Incremental: only rows after the watermark, compared as instants.
    let since = |micros: i64| ReadRequest {
        watermark: Some(Watermark {
            field: "at".into(),
            value: Scalar::Timestamp(micros),
        }),
        ..read_request(name, partition.clone())
    };
    let after_90 = 1_704_067_200_000_000 + 90 * 3_600_000_000; // 2024-01-01 + 90 h
    let batches: Vec<RecordBatch> = session
        .read(since(after_90), log.schema.clone())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let ids: Vec<i32> = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int32Type>().values().to_vec())
        .collect();
    assert_eq!(ids, (91..=100).collect::<Vec<_>>());
    sql(&format!(
        "INSERT INTO {s}.log VALUES (101, '2024-01-05 06:00:00+00', 'info', '2024-01-05')"
    ));
    let rows: usize = session
        .read(since(after_90 + 10 * 3_600_000_000), log.schema.clone())
        .unwrap()
        .map(|b| b.unwrap().num_rows())
        .sum();
    assert_eq!(rows, 1, "only the row added since");
}

/// `(count, sum of id)` over every partition, each read in its own session on its own thread.
fn read_partitions_in_parallel(
    datastore: &Datastore,
    name: &str,
    readers: u32,
) -> (Vec<String>, i64, i64) {
    let mut session = datastore.open().unwrap();
    let container = container(datastore, name);
    let partitions = session.partitions(name, hint(readers)).unwrap();
    let ids: Vec<String> = partitions.iter().map(|p| p.id.clone()).collect();
    let totals = std::thread::scope(|scope| {
        let handles: Vec<_> = partitions
            .into_iter()
            .map(|partition| {
                let container = &container;
                scope.spawn(move || {
                    let mut session = datastore.open().unwrap();
                    let request = ReadRequest {
                        projection: Some(vec!["id".into()]),
                        ..read_request(name, partition)
                    };
                    let schema = Arc::new(container.schema.project(&[0]).unwrap());
                    let mut totals = (0i64, 0i64);
                    for batch in session.read(request, schema).unwrap() {
                        let batch = batch.unwrap();
                        let ids = batch.column(0).as_primitive::<Int64Type>();
                        totals.0 += ids.len() as i64;
                        totals.1 += ids.values().iter().sum::<i64>();
                    }
                    totals
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    let count = totals.iter().map(|t| t.0).sum();
    let sum = totals.iter().map(|t| t.1).sum();
    (ids, count, sum)
}

#[test]
fn large_tables_split_into_key_or_page_ranges_that_read_every_row_once() {
    let s = schema("qd_pg_partitions");
    sql(&format!(
        "CREATE TABLE {s}.keyed (id int8 PRIMARY KEY, pad text);
         INSERT INTO {s}.keyed SELECT g * 3, repeat('x', 50) FROM generate_series(1, 50000) g;
         CREATE TABLE {s}.heap (id int8, pad text);
         INSERT INTO {s}.heap SELECT g, repeat('y', 50) FROM generate_series(1, 50000) g;
         ANALYZE {s}.keyed; ANALYZE {s}.heap;"
    ));
    let datastore = datastore_in(&s, &[("partition_rows", "10000"), ("batch_rows", "4096")]);
    let expected_sum = 3 * 50_000 * 50_001 / 2;

    let (ids, count, sum) = read_partitions_in_parallel(&datastore, "qd_pg_partitions.keyed", 2);
    assert_eq!(
        ids.len(),
        6,
        "5 ranges of 10 000 rows, rounded up to a multiple of 2: {ids:?}"
    );
    assert!(
        ids.iter()
            .all(|id| id.starts_with("int:") && id.ends_with(":id")),
        "{ids:?}"
    );
    assert_eq!((count, sum), (50_000, expected_sum));

    let (ids, count, sum) = read_partitions_in_parallel(&datastore, "qd_pg_partitions.heap", 2);
    assert!(
        ids.len() >= 2 && ids.iter().all(|id| id.starts_with("ctid:")),
        "{ids:?}"
    );
    assert_eq!((count, sum), (50_000, 50_000 * 50_001 / 2));

    // The profile operation reads the partitions in parallel and merges them.
    let options = ProfileOptions {
        parallelism: 2,
        containers: Some(vec!["qd_pg_partitions.keyed".into()]),
        ..ProfileOptions::default()
    };
    let outcomes = operation::profile(&datastore, &options, &Progress::default()).unwrap();
    let profile = outcomes[0].result.as_ref().unwrap();
    assert_eq!(profile.rows, 50_000);
}

#[test]
fn a_table_is_profiled_through_the_daemon_api_in_parallel_partitions() {
    let s = schema("qd_pg_daemon");
    sql(&format!(
        "CREATE TABLE {s}.customers (id int4 PRIMARY KEY, country char(2), joined date);
         INSERT INTO {s}.customers SELECT g, CASE WHEN g % 4 = 0 THEN NULL ELSE 'DE' END,
           DATE '2020-01-01' + g % 1000 FROM generate_series(1, 40000) g;
         ANALYZE {s}.customers;"
    ));
    let datastore = format!(
        "[datastores.warehouse]\nplugin = \"postgres\"\n\
         settings = {{ address = \"{ADDRESS}\", database = \"test\", user = \"postgres\", \
         schemas = \"{s}\", partition_rows = \"10000\" }}\n\
         grants = {{ hosts = [\"{ADDRESS}\"] }}\n"
    );
    let (job, profile) = profile_through_api(
        "warehouse",
        &datastore,
        "postgres",
        "qd_pg_daemon.customers",
        4,
    );
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

/// The role pg_hba.conf sends to the `password` method (clear text), created once: the tests
/// that log in with it run in parallel, so none may drop it under another.
fn clear_password_role() {
    sql(
        "DO $$ BEGIN CREATE ROLE qd_password LOGIN PASSWORD 'clear pw';
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;",
    );
}

#[test]
fn each_password_method_logs_in_and_a_wrong_password_is_an_auth_error() {
    // pg_hba.conf sends these roles to these methods (scripts/services.sh).
    clear_password_role();
    sql("DROP ROLE IF EXISTS qd_md5; DROP ROLE IF EXISTS qd_scram;
         SET password_encryption = 'md5'; CREATE ROLE qd_md5 LOGIN PASSWORD 'md5 pw';
         SET password_encryption = 'scram-sha-256'; CREATE ROLE qd_scram LOGIN PASSWORD 'scram pw';");
    for (user, password) in [
        ("qd_password", "clear pw"),
        ("qd_md5", "md5 pw"),
        ("qd_scram", "scram pw"),
    ] {
        // A cleartext password is sent only where the datastore allows it (see below).
        let allow = if user == "qd_password" {
            "true"
        } else {
            "false"
        };
        let login = |password: &str| {
            network_datastore(
                "postgres",
                &[
                    ("address", ADDRESS),
                    ("database", "test"),
                    ("user", user),
                    ("password", password),
                    ("allow_cleartext_password", allow),
                ],
                &[ADDRESS],
            )
            .open()
            .and_then(|mut session| session.check())
        };
        login(password).unwrap_or_else(|e| panic!("{user} with the right password: {e}"));
        let err = login("wrong").unwrap_err();
        assert_eq!(err.class(), "plugin.auth", "{user}: {err}");
        assert!(err.to_string().contains(user), "{err}");
        assert!(
            !err.to_string().contains("wrong"),
            "the password is not shown: {err}"
        );
    }
    let no_password = network_datastore(
        "postgres",
        &[
            ("address", ADDRESS),
            ("database", "test"),
            ("user", "qd_scram"),
        ],
        &[ADDRESS],
    );
    let err = no_password
        .open()
        .and_then(|mut session| session.check())
        .unwrap_err();
    assert_eq!(err.class(), "plugin.auth");
    assert!(err.to_string().contains("`password` setting"), "{err}");
}

#[test]
fn a_password_asked_for_in_clear_text_is_not_sent_unless_the_datastore_allows_it() {
    // The real server, with pg_hba.conf sending `qd_password` to `password` (clear text).
    clear_password_role();
    let login = |address: &str, extra: &[(&str, &str)]| {
        let mut settings = vec![
            ("address", address),
            ("database", "test"),
            ("user", "qd_password"),
            ("password", "clear pw"),
        ];
        settings.extend_from_slice(extra);
        network_datastore("postgres", &settings, &[address])
            .open()
            .and_then(|mut session| session.check())
    };
    let err = login(ADDRESS, &[]).unwrap_err();
    assert_eq!(err.class(), "plugin.auth", "{err}");
    let message = err.to_string();
    assert!(message.contains("clear text"), "{message}");
    assert!(message.contains("allow_cleartext_password"), "{message}");
    assert!(!message.contains("clear pw"), "{message}");
    login(ADDRESS, &[("allow_cleartext_password", "true")])
        .unwrap_or_else(|e| panic!("allowed, the password logs in: {e}"));

    // What crosses the wire: a peer that asks for the password in clear and records every
    // byte it gets (PostgreSQL's AuthenticationCleartextPassword, `R` with code 3).
    let peer = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = peer.local_addr().unwrap().to_string();
    let recorder = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut stream, _) = peer.accept().unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut length = [0u8; 4];
        stream.read_exact(&mut length).unwrap();
        let mut startup = vec![0u8; u32::from_be_bytes(length) as usize - 4];
        stream.read_exact(&mut startup).unwrap();
        stream.write_all(b"R\0\0\0\x08\0\0\0\x03").unwrap();
        let mut after = Vec::new();
        let _ = stream.read_to_end(&mut after);
        after
    });
    let err = login(&address, &[]).unwrap_err();
    assert_eq!(err.class(), "plugin.auth", "{err}");
    let after = recorder.join().unwrap();
    assert!(
        !after.windows(8).any(|w| w == b"clear pw"),
        "the password crossed the wire: {after:?}"
    );
    assert!(
        !after.starts_with(b"p"),
        "no password message was sent: {after:?}"
    );
}

#[test]
fn nothing_listening_is_a_connection_error_and_an_ungranted_host_is_never_reached() {
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let open = |address: &str, granted: &str| {
        let settings = [
            ("address", address),
            ("database", "test"),
            ("user", "postgres"),
        ];
        network_datastore("postgres", &settings, &[granted])
            .open()
            .and_then(|mut session| session.check())
    };
    let started = std::time::Instant::now();
    let err = open(&closed, &closed).unwrap_err();
    assert_eq!(err.class(), "plugin.connection", "{err}");
    assert!(err.to_string().contains(&closed), "{err}");
    assert!(
        started.elapsed().as_secs() < 10,
        "refused at once, not after a timeout"
    );

    // A listener the plugin is not granted: the sandbox refuses the connect.
    let bait = TcpListener::bind("127.0.0.1:0").unwrap();
    bait.set_nonblocking(true).unwrap();
    let address = bait.local_addr().unwrap().to_string();
    let err = open(&address, ADDRESS).unwrap_err();
    assert_eq!(err.class(), "plugin.connection", "{err}");
    assert!(
        err.to_string().contains("grants"),
        "the error points at the grants: {err}"
    );
    assert!(
        bait.accept().is_err(),
        "the plugin never reached the listener"
    );
}

#[test]
fn a_table_dropped_between_partitions_is_a_data_error_naming_it() {
    let s = schema("qd_pg_dropped");
    sql(&format!(
        "CREATE TABLE {s}.doomed (id int8 PRIMARY KEY);
         INSERT INTO {s}.doomed SELECT generate_series(1, 20000);
         ANALYZE {s}.doomed;"
    ));
    let datastore = datastore_in(&s, &[("partition_rows", "5000")]);
    let name = "qd_pg_dropped.doomed";
    let mut session = datastore.open().unwrap();
    let container = session.discover().unwrap().remove(0);
    let mut partitions = session.partitions(name, hint(1)).unwrap();
    assert_eq!(partitions.len(), 4);
    let first = session
        .read(
            read_request(name, partitions.remove(0)),
            container.schema.clone(),
        )
        .unwrap()
        .map(|b| b.unwrap().num_rows())
        .sum::<usize>();
    assert_eq!(first, 5000);
    sql(&format!("DROP TABLE {s}.doomed"));
    let err = session
        .read(
            read_request(name, partitions.remove(0)),
            container.schema.clone(),
        )
        .map(|reader| reader.map(|b| b.map(drop)).collect::<Result<Vec<_>, _>>())
        .and_then(|r| r)
        .unwrap_err();
    assert_eq!(err.class(), "plugin.data", "{err}");
    assert!(err.to_string().contains(name), "{err}");
}

#[test]
fn a_connection_ended_by_the_server_mid_read_is_a_connection_error() {
    let s = schema("qd_pg_terminated");
    sql(&format!(
        "CREATE TABLE {s}.long (id int8, pad text);
         INSERT INTO {s}.long SELECT g, repeat('z', 200) FROM generate_series(1, 300000) g;"
    ));
    let datastore = datastore_in(&s, &[("batch_rows", "1000")]);
    let name = "qd_pg_terminated.long";
    let mut session = datastore.open().unwrap();
    let container = session.discover().unwrap().remove(0);
    let partition = session.partitions(name, hint(1)).unwrap().remove(0);
    let mut reader = session
        .read(read_request(name, partition), container.schema.clone())
        .unwrap();
    reader.next().unwrap().unwrap();
    // What a server restart does to a session: the backend is terminated (SQLSTATE 57P01).
    let terminated = sql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE query LIKE 'COPY (SELECT%qd_pg_terminated%' AND pid <> pg_backend_pid()",
    );
    assert_eq!(terminated, "1");
    let err = reader.find_map(Result::err).expect("the read fails");
    assert_eq!(err.class(), "plugin.connection", "{err}");
    assert!(err.to_string().contains(name), "{err}");
    drop(reader);
    // The session reconnects for the next call.
    session.check().unwrap();
    let idle = sql(
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT%qd_pg_terminated%' \
         AND pid <> pg_backend_pid()",
    );
    assert_eq!(idle, "0", "no connection is left reading");
}

#[test]
fn the_daemon_refuses_a_clear_text_password_and_keeps_profiling_beside_it() {
    // Issue 15, item 10, through the compiled daemon: the datastore that would send its
    // password in clear fails alone, with an error naming the setting; the example beside
    // it is profiled exactly; the daemon serves on with bounded memory.
    clear_password_role();
    let datastores = format!(
        "{EXAMPLE_DATASTORE}[datastores.clear]\nplugin = \"postgres\"\n\
         settings = {{ address = \"{ADDRESS}\", database = \"test\", user = \"qd_password\", \
         password = \"clear pw\" }}\n\
         grants = {{ hosts = [\"{ADDRESS}\"] }}\n"
    );
    let daemon =
        DaemonProcess::start_with_example_data(&config(&datastores), &["files", "postgres"]);
    let clear = daemon.submit(json!({"kind": "profile", "datastore": "clear"}));
    daemon.profile_example_exactly();
    let job = daemon.wait_job(clear);
    assert_eq!(job["state"], "failed", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(error.contains("allow_cleartext_password"), "{error}");
    assert!(!error.contains("clear pw"), "{error}");
    daemon.assert_serving_within_kib(1024 * 1024);
}
