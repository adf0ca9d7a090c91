//! arrow-csv's errors, reworded for the user and located on the file's physical line.
//!
//! arrow-csv numbers records three ways: the `csv` crate (schema inference) counts physical
//! lines; its record decoder ("for line N") counts records from 1 including the header; its
//! value parser ("at line N") counts records from 0 including the header. A record can span several lines
//! (quoted newlines), so the reader maps record numbers back to lines by re-walking the bytes.
//! A value that does not parse as its field's type is named with its field, and the advice
//! fits the value: a common null marker is to be listed in `null_values`, anything else means
//! the schema sample was too small.

use std::path::Path;

use arrow_schema::{ArrowError, Fields};
use qualityd_plugin_sdk::Error;

use crate::nulls::{NullValues, is_common_marker};

/// What a read knows to word an error: the file's fields and the values it reads as null.
pub struct ReadContext<'a> {
    pub fields: &'a Fields,
    pub nulls: &'a NullValues,
}

/// How a number in an arrow-csv message counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Numbering {
    /// Physical lines from 1.
    Lines,
    /// Records from 1, the header included.
    RecordsFromOne,
    /// Records from 0, the header included.
    RecordsFromZero,
}

/// A data error naming the file and, where `locate` can tell, the physical line.
pub fn data_error(
    path: &Path,
    e: &ArrowError,
    context: Option<&ReadContext>,
    locate: impl Fn(u64, Numbering) -> Option<u64>,
) -> Error {
    let message = match e {
        ArrowError::CsvError(m) | ArrowError::ParseError(m) => m.clone(),
        other => other.to_string(),
    };
    let line = record_number(&message).and_then(|(n, numbering)| locate(n, numbering));
    let bad = bad_value(&message);
    let field = bad
        .as_ref()
        .and_then(|bad| Some(context?.fields.get(bad.column?)?.name().clone()));
    let reworded = match &bad {
        Some(bad) => bad_value_message(bad, context),
        None => reword(&message),
    };
    let mut error = Error::data(reworded).path(path.display().to_string());
    if let Some(line) = line {
        error = error.line(line);
    }
    if let Some(field) = field {
        error = error.field(field);
    }
    error.into()
}

/// A value arrow-csv could not parse as its field's type.
#[derive(Debug, PartialEq)]
struct BadValue {
    value: String,
    /// The field's index in the file.
    column: Option<usize>,
    /// The type, when the message names it.
    type_name: Option<String>,
}

/// The bad value in arrow-csv's two wordings: `Error while parsing value 'V' as type 'T' for
/// column I at line N` (numbers, booleans, dates) and `Error parsing column I at line N:
/// ... from 'V': ...` (timestamps).
fn bad_value(message: &str) -> Option<BadValue> {
    const VALUE: &str = "Error while parsing value '";
    const COLUMN: &str = "Error parsing column ";
    if let Some(start) = message.find(VALUE) {
        let (value, rest) = message[start + VALUE.len()..].split_once("' as type '")?;
        let (type_name, rest) = rest.split_once('\'')?;
        return Some(BadValue {
            value: value.to_string(),
            column: numbers_after(rest, &["for column "]).and_then(|n| usize::try_from(n).ok()),
            type_name: Some(type_name.to_string()),
        });
    }
    let start = message.find(COLUMN)?;
    let rest = &message[start..];
    let from = rest.find(" from '")? + " from '".len();
    let end = rest.rfind("': ").filter(|&end| end >= from)?;
    Some(BadValue {
        value: rest[from..end].to_string(),
        column: numbers_after(rest, &[COLUMN]).and_then(|n| usize::try_from(n).ok()),
        type_name: None,
    })
}

/// What is wrong with a bad value, and what to do: list a null marker in `null_values`, or
/// sample more records for any other value.
fn bad_value_message(bad: &BadValue, context: Option<&ReadContext>) -> String {
    let type_name = bad.type_name.clone().or_else(|| {
        let field = context?.fields.get(bad.column?)?;
        Some(field.data_type().to_string())
    });
    let what = match type_name {
        Some(type_name) => format!("'{}' does not parse as {type_name}", bad.value),
        None => format!("'{}' does not parse as the field's type", bad.value),
    };
    if is_common_marker(&bad.value) {
        let setting = match context {
            Some(context) => context.nulls.setting_with(&bad.value),
            None => bad.value.clone(),
        };
        format!(
            "{what}; if it means a missing value, add `null_values={setting}` to the \
             datastore's settings (`--set null_values={setting}` on the CLI)"
        )
    } else {
        format!(
            "{what}; the field's type was inferred from a sample: raise `infer_rows` if the \
             sample missed values like this one"
        )
    }
}

/// The message without arrow's record numbers (the location carries the line).
fn reword(message: &str) -> String {
    if message.contains("unequal lengths") || message.contains("incorrect number of fields") {
        let numbers = numbers_after(message, &["Expected ", "expected "])
            .zip(numbers_after(message, &["found ", "got "]));
        return match numbers {
            Some((expected, got)) => format!("expected {expected} fields, found {got}"),
            None => "a record has a different number of fields than the others".into(),
        };
    }
    if message.contains("UTF-8") || message.contains("utf-8") {
        return "not valid UTF-8; this connector reads UTF-8 text only: convert the file \
                (for example `iconv -f latin1 -t utf-8`)"
            .into();
    }
    message.to_string()
}

/// The record number arrow-csv put in a message, and how it counts.
fn record_number(message: &str) -> Option<(u64, Numbering)> {
    let markers = [
        ("records at line ", Numbering::Lines),
        ("near byte index", Numbering::Lines),
        ("for line ", Numbering::RecordsFromOne),
        ("at line ", Numbering::RecordsFromZero),
    ];
    for (marker, numbering) in markers {
        if message.contains(marker) {
            let after = if marker == "near byte index" {
                " at line "
            } else {
                marker
            };
            return numbers_after(message, &[after]).map(|n| (n, numbering));
        }
    }
    None
}

/// The first whole number right after the last occurrence of any of `markers`.
fn numbers_after(message: &str, markers: &[&str]) -> Option<u64> {
    markers.iter().find_map(|marker| {
        let at = message.rfind(marker)? + marker.len();
        let digits: String = message[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_wordings_of_a_bad_value_are_understood() {
        let number = "Error while parsing value 'N/A' as type 'Int64' for column 2 at line 7. \
                      Row data: '[1,x,N/A]'";
        assert_eq!(
            bad_value(number),
            Some(BadValue {
                value: "N/A".into(),
                column: Some(2),
                type_name: Some("Int64".into()),
            })
        );
        let timestamp = "Error parsing column 1 at line 3: Parser error: Error parsing \
                         timestamp from 'NA': timestamp must contain at least 10 characters";
        assert_eq!(
            bad_value(timestamp),
            Some(BadValue {
                value: "NA".into(),
                column: Some(1),
                type_name: None,
            })
        );
        assert_eq!(bad_value("incorrect number of fields for line 3"), None);
    }

    #[test]
    fn a_marker_is_to_be_listed_and_another_value_sampled() {
        let fields: Fields = vec![arrow_schema::Field::new(
            "n",
            arrow_schema::DataType::Int64,
            true,
        )]
        .into();
        let nulls = NullValues::from_setting("?");
        let context = ReadContext {
            fields: &fields,
            nulls: &nulls,
        };
        let marker = BadValue {
            value: "NA".into(),
            column: Some(0),
            type_name: None,
        };
        let message = bad_value_message(&marker, Some(&context));
        assert!(
            message.starts_with("'NA' does not parse as Int64"),
            "{message}"
        );
        assert!(message.contains("`--set null_values=?,NA`"), "{message}");
        assert!(!message.contains("infer_rows"), "{message}");
        let other = BadValue {
            value: "four".into(),
            ..marker
        };
        let message = bad_value_message(&other, Some(&context));
        assert!(message.contains("raise `infer_rows`"), "{message}");
    }
}
