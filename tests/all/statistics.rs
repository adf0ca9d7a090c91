//! Every statistic of a field profile, through the compiled files plugin, on a file whose
//! exact answers are known: split into several partitions, so the merged result is checked.

use std::fmt::Write;

use qualityd::profile::{ContainerProfile, Quantile, TextType, Value};

use crate::support::{field, profile_one};

const ROWS: i64 = 20_000;
const CODES: &[&str] = &[
    "1,234",
    "007",
    " 42 ",
    "NaN",
    "2024-01-31",
    "01/31/2024",
    "abc",
    "x y",
];

/// `n` is a permutation of -5000..15000; `code` has 50 values, 400 times each; `mixed` cycles
/// through tricky text; `day` has 1000 dates from 2020 and then ten in 2099.
fn profile() -> (tempfile::TempDir, ContainerProfile) {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("n,code,mixed,day\n");
    for i in 0..ROWS {
        let n = i * 7919 % ROWS - 5000;
        let day = if i < ROWS - 10 {
            let date = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()
                + chrono::Days::new((i % 1000) as u64);
            date.format("%Y-%m-%d").to_string()
        } else {
            "2099-12-31".into()
        };
        let mixed = CODES[i as usize % CODES.len()];
        writeln!(csv, "{n},QX-{:03},\"{mixed}\",{day}", i % 50).unwrap();
    }
    let path = dir.path().join("stats.csv");
    std::fs::write(&path, csv).unwrap();
    let profile = profile_one(&path, &[("partition_bytes", "65536")]);
    (dir, profile)
}

#[test]
fn numbers_get_exact_counts_sum_histogram_and_quantiles_within_their_error() {
    let (_dir, profile) = profile();
    let n = field(&profile, "n");
    assert_eq!(n.count, ROWS as u64);
    assert_eq!(
        (n.min.clone(), n.max.clone()),
        (Some(Value::Int(-5000)), Some(Value::Int(14_999)))
    );
    let numbers = n.numbers.unwrap();
    assert_eq!(
        (numbers.zeros, numbers.negatives, numbers.nans),
        (1, 5000, 0)
    );
    assert_eq!(numbers.moments.sum, 99_990_000.0);
    assert_eq!(n.distinct.as_ref().unwrap().count(), (ROWS as u64, false));

    let bins = n.histogram.as_ref().unwrap().bins();
    assert!(bins.len() > 16 && bins.len() <= 32, "{} bins", bins.len());
    for bin in &bins {
        let lower = (bin.lower as i64).max(-5000);
        let upper = (bin.upper as i64).min(15_000);
        assert_eq!(bin.count, (upper - lower) as u64, "{bin:?}");
    }

    let quantiles = n.quantiles.as_ref().unwrap();
    let epsilon = quantiles.rank_error();
    for ((name, q), (_, rank)) in quantiles
        .percentiles()
        .into_iter()
        .zip(qualityd::profile::PERCENTILES)
    {
        let Quantile::Int(q) = q else {
            panic!("{name}: {q:?}")
        };
        let exact_rank = (q + 5000) as f64 / ROWS as f64;
        assert!(
            (exact_rank - rank).abs() <= epsilon,
            "{name} = {q}, rank {exact_rank}"
        );
    }
    // Every value is unique: none is certain to be frequent.
    assert!(n.top_values.as_ref().unwrap().top_keys().is_empty());
}

#[test]
fn text_gets_top_values_shapes_and_inferred_types() {
    let (_dir, profile) = profile();
    let code = field(&profile, "code");
    let top = code.top_values.as_ref().unwrap().top_texts();
    assert_eq!(top.len(), 10);
    assert!(
        top.iter().all(|t| t.count == 400 && t.error == 0),
        "{top:?}"
    );
    assert_eq!(top[0].value, "QX-000");
    let text = code.text.as_ref().unwrap();
    let shapes = text.top_shapes();
    assert_eq!(
        (shapes[0].value.as_str(), shapes[0].count),
        ("A-999", ROWS as u64)
    );
    assert_eq!(text.types.agreed(), Some(TextType::Text));

    let mixed = field(&profile, "mixed").text.as_ref().unwrap();
    let per_value = (ROWS as usize / CODES.len()) as u64;
    assert_eq!(mixed.padded, per_value);
    assert_eq!(
        mixed.types.integral,
        2 * per_value,
        "1,234 and ' 42 ': {:?}",
        mixed.types
    );
    assert_eq!(mixed.types.fractional, per_value, "NaN");
    assert_eq!(mixed.types.date, 2 * per_value);
    assert_eq!(mixed.types.text, 3 * per_value, "007, abc, x y");
    let shares = mixed.types.shares();
    assert_eq!(shares[1], (TextType::Fractional, 3.0 / 8.0));
}

#[test]
fn dates_get_future_values_and_date_quantiles() {
    let (_dir, profile) = profile();
    let day = field(&profile, "day");
    assert_eq!(day.future.unwrap().count, 10);
    assert_eq!(day.max.as_ref().unwrap().to_string(), "2099-12-31");
    let median = day.quantiles.as_ref().unwrap().percentiles()[3].1;
    let Quantile::Int(days) = median else {
        panic!("{median:?}")
    };
    let median = Value::Date(days as i32).to_string();
    assert!(
        median.as_str() > "2021-03-01" && median.as_str() < "2021-08-01",
        "{median}"
    );
    let top = day.top_values.as_ref().unwrap().top_keys();
    assert!(
        top.iter().all(|t| t.count.abs_diff(20) <= t.error),
        "{top:?}"
    );
}
