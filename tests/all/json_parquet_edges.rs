//! Files that real writers produce and that once failed: Parquet compressed with zstd (the
//! default of Polars; pyarrow on request) and pretty-printed JSON, as an array
//! (`json.dump(indent=2)`) or as a stream of objects (`jq .`), with errors that still name the
//! line a bad record starts on. The fixtures are written by
//! `tests/fixtures/write_json_parquet_fixtures.py` with the real writers and committed.

use arrow::datatypes::DataType;
use qualityd::profile::{ContainerProfile, Value};

use crate::support::{container_error, field, fixture, profile_one, profile_path};

/// The seven birds of the fixture script, whatever the file's format.
fn assert_birds(profile: &ContainerProfile, name: &str) {
    assert_eq!(profile.rows, 7, "{name}");
    let id = field(profile, "id");
    assert_eq!(id.data_type, DataType::Int64, "{name}");
    assert_eq!((id.count, id.nulls), (7, 0), "{name}");
    assert_eq!(
        (id.min.clone(), id.max.clone()),
        (Some(Value::Int(1)), Some(Value::Int(7))),
        "{name}"
    );
    let id_sum = id.numbers.as_ref().map(|n| n.moments.sum);
    assert_eq!(id_sum, Some(28.0), "{name}");

    let species = field(profile, "species");
    assert_eq!((species.count, species.nulls), (6, 1), "{name}");
    assert_eq!(species.min, Some(Value::Text("Adelie".into())), "{name}");
    assert_eq!(species.max, Some(Value::Text("Gentoo".into())), "{name}");

    let island = field(profile, "island");
    assert_eq!((island.count, island.nulls), (7, 0), "{name}");
    assert_eq!(island.max, Some(Value::Text("Torgersen".into())), "{name}");
    assert_eq!(
        island.text.as_ref().and_then(|t| t.max_length),
        Some(19),
        "{name}: `Dream, north \"side\"` is 19 characters"
    );

    let mass = field(profile, "mass_g");
    assert_eq!(mass.data_type, DataType::Float64, "{name}");
    assert_eq!((mass.count, mass.nulls), (6, 1), "{name}");
    assert_eq!(mass.min, Some(Value::Float(2700.75)), "{name}");
    assert_eq!(mass.max, Some(Value::Float(5200.0)), "{name}");
    let mass_sum = mass.numbers.as_ref().map(|n| n.moments.sum);
    assert_eq!(mass_sum, Some(22101.5), "{name}");

    let tagged = field(profile, "tagged");
    assert_eq!(tagged.data_type, DataType::Boolean, "{name}");
    assert_eq!((tagged.count, tagged.nulls), (6, 1), "{name}");
    assert_eq!(tagged.min, Some(Value::Bool(false)), "{name}");
    assert_eq!(tagged.max, Some(Value::Bool(true)), "{name}");
}

#[test]
fn zstd_parquet_written_by_polars_is_read() {
    let profile = profile_one(&fixture("birds-polars-zstd.parquet"), &[]);
    assert_birds(&profile, "polars");
}

#[test]
fn zstd_parquet_written_by_pyarrow_in_row_groups_with_v2_pages_is_read() {
    let profile = profile_one(&fixture("birds-pyarrow-zstd.parquet"), &[]);
    assert_birds(&profile, "pyarrow");
}

/// The nested fields that JSON adds to the birds.
fn assert_nested(profile: &ContainerProfile, name: &str) {
    let ring = field(profile, "ring");
    assert!(
        matches!(&ring.data_type, DataType::Struct(f) if f.len() == 2),
        "{name}: {:?}",
        ring.data_type
    );
    assert_eq!((ring.count, ring.nulls), (7, 0), "{name}");
    let sightings = field(profile, "sightings");
    assert!(
        matches!(sightings.data_type, DataType::List(_)),
        "{name}: {:?}",
        sightings.data_type
    );
    assert_eq!((sightings.count, sightings.nulls), (7, 0), "{name}");
}

#[test]
fn a_json_array_pretty_printed_by_python_json_dump_is_read() {
    let profile = profile_one(&fixture("birds-pretty.json"), &[]);
    assert_birds(&profile, "birds-pretty.json");
    assert_nested(&profile, "birds-pretty.json");
}

#[test]
fn pretty_printed_objects_one_after_another_are_read() {
    let profile = profile_one(&fixture("birds-pretty-concatenated.json"), &[]);
    assert_birds(&profile, "birds-pretty-concatenated.json");
    assert_nested(&profile, "birds-pretty-concatenated.json");
}

#[test]
fn a_pretty_printed_sample_smaller_than_the_file_is_read() {
    // Inference sees two records; the other five are read against the inferred schema.
    let profile = profile_one(&fixture("birds-pretty.json"), &[("infer_rows", "2")]);
    assert_eq!(profile.rows, 7);
    assert_eq!(field(&profile, "mass_g").max, Some(Value::Float(5200.0)));
}

#[test]
fn errors_in_pretty_printed_json_name_the_line_the_record_starts_on() {
    let dir = tempfile::tempdir().unwrap();
    // The third record (starting on line 8) holds an object where numbers were inferred.
    let typed = "[\n  {\n    \"n\": 1\n  },\n  {\n    \"n\": 2\n  },\n  {\n    \"n\": {\n      \"deep\": true\n    }\n  }\n]\n";
    std::fs::write(dir.path().join("typed.json"), typed).unwrap();
    // The second record (starting on line 4) misses a comma between its fields.
    let broken = "{\n  \"a\": 1\n}\n{\n  \"a\": 2\n  \"b\": 3\n}\n{\n  \"a\": 4\n}\n";
    std::fs::write(dir.path().join("broken.json"), broken).unwrap();
    // A bare word between pretty records: found on line 4, where it stands.
    std::fs::write(dir.path().join("word.json"), "{\n  \"a\": 1\n}\nnope\n").unwrap();
    let outcomes = profile_path(dir.path(), &[("infer_rows", "2")]);
    let error = container_error(&outcomes, "typed.json");
    assert!(error.contains("typed.json, line 8"), "{error}");
    let error = container_error(&outcomes, "broken.json");
    assert!(error.contains("broken.json, line 4"), "{error}");
    let error = container_error(&outcomes, "word.json");
    assert!(error.contains("word.json, line 4"), "{error}");
    assert!(error.contains("expected a JSON object"), "{error}");
}

#[test]
fn ndjson_errors_past_many_batches_name_their_line() {
    // Far past the first batch, so the error is found in a later decode of a large buffer.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..30_000 {
        text.push_str(&format!("{{\"n\": {i}, \"s\": \"x{i}\"}}\n"));
    }
    text.push_str("{\"n\": 1, \"s\": \"broken\"\n");
    text.push_str("{\"n\": 2, \"s\": \"y\"}\n");
    std::fs::write(dir.path().join("long.ndjson"), &text).unwrap();
    let mut typed = text.replace(
        "{\"n\": 1, \"s\": \"broken\"\n",
        "{\"n\": \"one\", \"s\": \"z\"}\n",
    );
    typed.push_str("{\"n\": 3, \"s\": \"w\"}\n");
    std::fs::write(dir.path().join("typed.ndjson"), &typed).unwrap();
    let outcomes = profile_path(dir.path(), &[]);
    let error = container_error(&outcomes, "long.ndjson");
    assert!(error.contains("long.ndjson, line 30001"), "{error}");
    let error = container_error(&outcomes, "typed.ndjson");
    assert!(error.contains("typed.ndjson, line 30001"), "{error}");
}
