//! `--fields`, `--limit` and `--sample`: the profile operation narrowed to some fields, the
//! first rows, or a reproducible sample.

use std::fmt::Write;
use std::path::Path;

use qualityd::operation::{ProfileOptions, Sample};
use qualityd::profile::{ContainerProfile, Value};

use crate::support::{field, fixture, profile_with};

const ROWS: u64 = 20_000;

fn numbered_file(dir: &Path) -> std::path::PathBuf {
    let mut csv = String::from("i,label\n");
    for i in 0..ROWS {
        writeln!(csv, "{i},row {i}").unwrap();
    }
    let path = dir.join("numbered.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

fn profile(path: &Path, options: ProfileOptions) -> ContainerProfile {
    let mut outcomes = profile_with(path, &[("partition_bytes", "32768")], &options);
    outcomes.remove(0).result.expect("profiling")
}

#[test]
fn fields_are_profiled_in_the_order_asked_and_unknown_ones_are_named() {
    let options = ProfileOptions {
        fields: Some(vec!["score".into(), "id".into()]),
        ..ProfileOptions::default()
    };
    let outcomes = profile_with(&fixture("people.csv"), &[], &options);
    let profile = outcomes[0].result.as_ref().unwrap();
    let names: Vec<&str> = profile.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["score", "id"]);
    assert_eq!(field(profile, "id").max, Some(Value::Int(6)));

    let options = ProfileOptions {
        fields: Some(vec!["nope".into()]),
        ..ProfileOptions::default()
    };
    let outcomes = profile_with(&fixture("people.csv"), &[], &options);
    let error = outcomes[0].result.as_ref().unwrap_err().to_string();
    assert!(
        error.contains("no field `nope`; its fields are: id, name, city"),
        "{error}"
    );
}

#[test]
fn a_limit_profiles_the_first_rows_across_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let path = numbered_file(dir.path());
    let profile = profile(
        &path,
        ProfileOptions {
            limit: Some(12_345),
            ..ProfileOptions::default()
        },
    );
    assert_eq!(profile.rows, 12_345);
    let i = field(&profile, "i");
    assert_eq!(
        (i.min.clone(), i.max.clone()),
        (Some(Value::Int(0)), Some(Value::Int(12_344)))
    );
}

#[test]
fn a_sample_is_about_the_asked_share_and_the_same_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = numbered_file(dir.path());
    let sampled = |sample| {
        profile(
            &path,
            ProfileOptions {
                sample: Some(sample),
                ..ProfileOptions::default()
            },
        )
    };
    let first = sampled(Sample::Fraction(0.1));
    assert!(first.rows.abs_diff(ROWS / 10) < 300, "{} rows", first.rows);
    assert_eq!(first.sample_fraction, Some(0.1));
    let again = sampled(Sample::Fraction(0.1));
    assert_eq!(again.rows, first.rows);
    assert_eq!(field(&again, "i").max, field(&first, "i").max);

    let by_rows = sampled(Sample::Rows(5000));
    assert!(by_rows.rows.abs_diff(5000) < 1250, "{} rows", by_rows.rows);
    assert!(
        by_rows
            .sample_fraction
            .is_some_and(|f| f > 0.15 && f < 0.35)
    );
}
