//! A CSV with every basic type, quoting, embedded newlines, UTF-8 and empty fields, profiled
//! through the compiled files plugin: every statistic checked against hand-computed values.

use arrow::datatypes::DataType;
use qualityd::profile::Value;

use crate::support::{field, fixture, lengths, profile_one};

#[test]
fn every_statistic_of_a_mixed_csv_is_exact() {
    let profile = profile_one(&fixture("people.csv"), &[]);
    assert_eq!(profile.name, "people.csv");
    assert_eq!(profile.rows, 6);

    let id = field(&profile, "id");
    assert_eq!(id.data_type, DataType::Int64);
    assert_eq!((id.count, id.nulls), (6, 0));
    assert_eq!(id.distinct.as_ref().unwrap().count(), (6, false));
    assert_eq!(
        (id.min.clone(), id.max.clone()),
        (Some(Value::Int(1)), Some(Value::Int(6)))
    );
    let moments = id.numbers.unwrap().moments;
    assert_eq!(moments.mean(), Some(3.5));
    assert!((moments.stddev().unwrap() - 3.5f64.sqrt()).abs() < 1e-9);

    let name = field(&profile, "name");
    assert_eq!(name.data_type, DataType::Utf8);
    assert_eq!((name.count, name.nulls), (5, 1));
    assert_eq!(name.distinct.as_ref().unwrap().count(), (5, false));
    assert_eq!(name.min, Some(Value::Text("Ann".into())));
    assert_eq!(name.max, Some(Value::Text("Émile".into())));
    assert_eq!(lengths(name), (Some(3), Some(17)));

    let city = field(&profile, "city");
    assert_eq!((city.count, city.nulls), (5, 1));
    assert_eq!(city.min, Some(Value::Text("New\nYork".into())));
    assert_eq!(city.max, Some(Value::Text("Zürich".into())));
    assert_eq!(lengths(city), (Some(5), Some(13)));

    let score = field(&profile, "score");
    assert_eq!(score.data_type, DataType::Float64);
    assert_eq!((score.count, score.nulls), (5, 1));
    assert_eq!(score.min, Some(Value::Float(-1.5)));
    assert_eq!(score.max, Some(Value::Float(10.0)));
    let moments = score.numbers.unwrap().moments;
    assert!((moments.mean().unwrap() - 3.25).abs() < 1e-9);
    assert!((moments.stddev().unwrap() - (79.75f64 / 4.0).sqrt()).abs() < 1e-9);

    let joined = field(&profile, "joined");
    assert_eq!(joined.data_type, DataType::Date32);
    assert_eq!((joined.count, joined.nulls), (5, 1));
    assert_eq!(joined.distinct.as_ref().unwrap().count(), (4, false));
    assert_eq!(joined.min.as_ref().unwrap().to_string(), "2020-12-31");
    assert_eq!(joined.max.as_ref().unwrap().to_string(), "2021-03-10");
    assert!(joined.numbers.is_none());

    let active = field(&profile, "active");
    assert_eq!(active.data_type, DataType::Boolean);
    assert_eq!((active.count, active.nulls), (5, 1));
    assert_eq!(active.distinct.as_ref().unwrap().count(), (2, false));
    assert_eq!(
        (active.min.clone(), active.max.clone()),
        (Some(Value::Bool(false)), Some(Value::Bool(true)))
    );
}

#[test]
fn semicolon_delimited_files_read_with_the_delimiter_setting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("semi.csv");
    std::fs::write(&path, "a;b\n1;x,y\n2;z\n").unwrap();
    let profile = profile_one(&path, &[("delimiter", ";")]);
    assert_eq!(profile.rows, 2);
    let b = field(&profile, "b");
    assert_eq!(b.max, Some(Value::Text("z".into())));
    assert_eq!(b.min, Some(Value::Text("x,y".into())));
}
