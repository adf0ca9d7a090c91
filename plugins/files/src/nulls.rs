//! The values a CSV file's fields read as null: the empty field, the `null_values` setting,
//! and the common null markers (`NA`, `N/A`, `null`, ...) found in the schema sample where a
//! field holds numbers, booleans, dates or times besides them.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use qualityd_plugin_sdk::{Error, Result};

/// Values that writers put for a missing value (R and pandas `NA`, spreadsheets `N/A` and
/// `#N/A`, databases `NULL`, `NaN` for dates or integers, `-` in reports). Exact matches.
pub const COMMON_MARKERS: &[&str] = &[
    "NA", "N/A", "n/a", "#N/A", "null", "NULL", "Null", "NaN", "nan", "-",
];

/// Whether a value is one of the [`COMMON_MARKERS`].
pub fn is_common_marker(value: &str) -> bool {
    COMMON_MARKERS.contains(&value)
}

/// The values read as null in one file, besides the empty field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NullValues {
    /// From the `null_values` setting, in its order.
    configured: Vec<String>,
    /// Common markers found in this file's sample, sorted.
    found: Vec<String>,
}

impl NullValues {
    /// The `null_values` setting: comma-separated values, none when empty.
    pub fn from_setting(list: &str) -> Self {
        let configured = match list {
            "" => Vec::new(),
            list => list.split(',').map(str::to_string).collect(),
        };
        NullValues {
            configured,
            found: Vec::new(),
        }
    }

    /// These values and markers found in a file.
    pub fn with_found(&self, found: impl IntoIterator<Item = String>) -> Self {
        let found: BTreeSet<String> = found
            .into_iter()
            .filter(|m| !self.configured.contains(m))
            .collect();
        NullValues {
            configured: self.configured.clone(),
            found: found.into_iter().collect(),
        }
    }

    /// The markers found in the file, not configured.
    pub fn found(&self) -> &[String] {
        &self.found
    }

    /// Whether `value` reads as null.
    pub fn contains(&self, value: &str) -> bool {
        value.is_empty()
            || self
                .configured
                .iter()
                .chain(&self.found)
                .any(|v| v == value)
    }

    /// The regex arrow-csv matches null values with (it must match the empty field too), or
    /// `None` when only the empty field is null (arrow-csv's default).
    pub fn regex(&self) -> Result<Option<regex::Regex>> {
        if self.configured.is_empty() && self.found.is_empty() {
            return Ok(None);
        }
        let alternatives: Vec<String> = self
            .configured
            .iter()
            .chain(&self.found)
            .map(|v| regex::escape(v))
            .collect();
        let pattern = format!("^(|{})$", alternatives.join("|"));
        regex::Regex::new(&pattern)
            .map(Some)
            .map_err(|e| Error::config(format!("setting `null_values` is not usable: {e}")))
    }

    /// The `null_values` setting that adds `value` to the configured ones, e.g. `N/A,NA`.
    pub fn setting_with(&self, value: &str) -> String {
        let mut values = self.configured.clone();
        values.push(value.to_string());
        values.join(",")
    }
}

/// How the sample is read: the CSV dialect and how many records.
pub struct Sample {
    pub delimiter: u8,
    pub quote: u8,
    pub escape: Option<u8>,
    pub header: bool,
    pub rows: usize,
}

/// The common markers each of `fields` (indices) holds in the first records of `input`,
/// leaving out values already read as null. Fields without any are left out.
pub fn markers_in_sample(
    input: impl Read,
    sample: &Sample,
    fields: &[usize],
    nulls: &NullValues,
) -> csv::Result<BTreeMap<usize, BTreeSet<String>>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(sample.header)
        .delimiter(sample.delimiter)
        .quote(sample.quote)
        .escape(sample.escape)
        .flexible(true)
        .from_reader(input);
    let mut found: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    let mut record = csv::StringRecord::new();
    for _ in 0..sample.rows {
        if !reader.read_record(&mut record)? {
            break;
        }
        for &field in fields {
            if let Some(value) = record.get(field)
                && is_common_marker(value)
                && !nulls.contains(value)
            {
                found.entry(field).or_default().insert(value.to_string());
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_and_found_markers_make_one_regex() {
        let nulls = NullValues::from_setting("N/A,?").with_found(["NA".to_string()]);
        let regex = nulls.regex().unwrap().unwrap();
        for null in ["", "N/A", "?", "NA"] {
            assert!(regex.is_match(null), "{null}");
        }
        for value in ["NAN", "x?", "N/A2"] {
            assert!(!regex.is_match(value), "{value}");
        }
        assert_eq!(nulls.setting_with("-"), "N/A,?,-");
        assert!(NullValues::default().regex().unwrap().is_none());
    }

    #[test]
    fn markers_are_found_per_field_in_the_sample_only() {
        let text = "a,b,c\n1,NA,x\n-,2,NA\nnull,3,y\n4,N/A,z\n";
        let sample = Sample {
            delimiter: b',',
            quote: b'"',
            escape: None,
            header: true,
            rows: 3,
        };
        let nulls = NullValues::from_setting("null");
        let found = markers_in_sample(text.as_bytes(), &sample, &[0, 1], &nulls).unwrap();
        let expect = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(found.get(&0), Some(&expect(&["-"])));
        assert_eq!(found.get(&1), Some(&expect(&["NA"])));
        assert_eq!(found.get(&2), None);
    }
}
