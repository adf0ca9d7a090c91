//! Rules about text and listed values: `matches_pattern` (a regular expression found in the
//! value), `min_length` and `max_length` (in characters), and `expected_values` (the value is
//! one of a list; numbers compared as numbers, booleans as booleans, text exactly, other
//! types by Arrow's text form, so dates as `YYYY-MM-DD`).

use std::collections::HashSet;

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use regex::Regex;

use super::Target;
use crate::checks::CheckError;
use crate::checks::params::{Number, Scalar};
use crate::checks::rule::Rule;
use crate::checks::values::{Numbers, compare, is_text, text_failures};

/// The failing rows of a text rule.
pub(super) fn failures(rule: &Rule, target: &Target) -> Result<Vec<bool>, CheckError> {
    let array = target.array.as_ref();
    let needs = "text (Utf8, LargeUtf8, Utf8View or a dictionary of them)";
    let outcome = match rule {
        Rule::MatchesPattern { pattern } => {
            // Compiled per batch: microseconds, beside a batch's thousands of matches.
            let regex = Regex::new(pattern).map_err(|e| {
                target.parameter("pattern", format!("is not a regular expression: {e}"))
            })?;
            text_failures(array, |v| !regex.is_match(v))
        }
        Rule::MinLength { value } => text_failures(array, |v| (length(v) as u64) < *value),
        Rule::MaxLength { value } => text_failures(array, |v| (length(v) as u64) > *value),
        Rule::ExpectedValues { values } => return expected_values(target, values),
        _ => unreachable!("not a text rule"),
    };
    outcome.ok_or_else(|| target.unsupported(needs))
}

/// A value's length in characters.
fn length(v: &str) -> usize {
    if v.is_ascii() {
        v.len()
    } else {
        v.chars().count()
    }
}

/// The text form of a listed value: text as it is, numbers and booleans as written in JSON.
pub(crate) fn text_form(value: &Scalar) -> String {
    match value {
        Scalar::Text(text) => text.clone(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Number(Number::Int(v)) => v.to_string(),
        Scalar::Number(Number::UInt(v)) => v.to_string(),
        Scalar::Number(Number::Float(v)) => v.to_string(),
    }
}

/// Values not in the list.
fn expected_values(target: &Target, values: &[Scalar]) -> Result<Vec<bool>, CheckError> {
    let array = target.array.as_ref();
    if let Some(numbers) = Numbers::of(array) {
        let listed = numbers_listed(target, values)?;
        return Ok((0..array.len())
            .map(|i| {
                numbers.get(i).is_some_and(|v| {
                    !listed
                        .iter()
                        .any(|n| compare(v, *n) == Some(std::cmp::Ordering::Equal))
                })
            })
            .collect());
    }
    if let DataType::Boolean = array.data_type() {
        let listed = values
            .iter()
            .map(|v| match v {
                Scalar::Bool(b) => Ok(*b),
                other => Err(wrong_kind(target, other, "true or false")),
            })
            .collect::<Result<Vec<bool>, _>>()?;
        return Ok(array
            .as_boolean()
            .iter()
            .map(|v| v.is_some_and(|v| !listed.contains(&v)))
            .collect());
    }
    let forms: Vec<String> = values.iter().map(text_form).collect();
    let listed: HashSet<&str> = forms.iter().map(String::as_str).collect();
    if is_text(array.data_type()) {
        return text_failures(array, |v| !listed.contains(v))
            .ok_or_else(|| target.unsupported("text"));
    }
    let text = cast(array, &DataType::Utf8).map_err(|_| {
        target.unsupported("numbers, booleans, text, or a type with a text form (dates, times)")
    })?;
    text_failures(text.as_ref(), |v| !listed.contains(v)).ok_or_else(|| target.unsupported("text"))
}

/// The listed values as numbers, for a numeric field.
fn numbers_listed(target: &Target, values: &[Scalar]) -> Result<Vec<Number>, CheckError> {
    values
        .iter()
        .map(|v| match v {
            Scalar::Number(n) => Ok(*n),
            other => Err(wrong_kind(target, other, "a number")),
        })
        .collect()
}

fn wrong_kind(target: &Target, value: &Scalar, needs: &str) -> CheckError {
    target.parameter(
        "values",
        format!(
            "lists `{}`, but field `{}` is {}: list {needs} instead",
            text_form(value),
            target.name,
            target.array.data_type()
        ),
    )
}

#[cfg(test)]
mod tests {
    use arrow::array::{
        BooleanArray, Date32Array, DictionaryArray, Float64Array, Int64Array, LargeStringArray,
        StringArray, StringViewArray,
    };
    use arrow::datatypes::Int16Type;

    use super::*;
    use crate::checks::testing::{check, failing_one, one};

    const NONE: [usize; 0] = [];

    fn pattern(p: &str) -> Rule {
        Rule::MatchesPattern { pattern: p.into() }
    }

    #[test]
    fn matches_pattern_fails_values_without_a_match_including_empty_ones() {
        let code = pattern(r"^[A-Z]{2}-\d{4}$");
        let dirty = StringArray::from(vec![
            Some("AB-1234"),
            Some(""),
            None,
            Some("ab-1234"),
            Some("AB-12345"),
        ]);
        assert_eq!(failing_one(&code, dirty), [1, 3, 4]);
        assert_eq!(
            failing_one(&code, StringArray::from(vec![Some("ZZ-0000"), None])),
            NONE
        );
        let digit = pattern(r"\d");
        assert_eq!(
            failing_one(&digit, LargeStringArray::from(vec!["a1", "b", "٣"])),
            [1]
        );
        let dictionary: DictionaryArray<Int16Type> = vec![Some("x1"), Some("y"), None, Some("y")]
            .into_iter()
            .collect();
        assert_eq!(failing_one(&digit, dictionary), [1, 3]);
    }

    #[test]
    fn matches_pattern_explains_a_bad_expression_and_refuses_numbers() {
        let text = one(StringArray::from(vec!["a"]));
        let error = check(pattern("(unclosed"), &["v"])
            .failing_rows(&text, 0)
            .unwrap_err();
        assert!(
            matches!(
                error,
                CheckError::Parameter {
                    parameter: "pattern",
                    ..
                }
            ),
            "{error}"
        );
        let numbers = one(Int64Array::from(vec![1]));
        let error = check(pattern("1"), &["v"])
            .failing_rows(&numbers, 0)
            .unwrap_err();
        assert!(error.to_string().contains("needs text"), "{error}");
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let values = || {
            StringViewArray::from(vec![
                Some(""),
                Some("é"),
                Some("abc"),
                Some("ab"),
                None,
                Some("日本"),
            ])
        };
        assert_eq!(failing_one(&Rule::MinLength { value: 1 }, values()), [0]);
        assert_eq!(failing_one(&Rule::MaxLength { value: 2 }, values()), [2]);
        assert_eq!(failing_one(&Rule::MinLength { value: 0 }, values()), NONE);
        assert_eq!(failing_one(&Rule::MaxLength { value: 3 }, values()), NONE);
        let large = LargeStringArray::from(vec![Some("a very long value"), None]);
        assert_eq!(failing_one(&Rule::MaxLength { value: 5 }, large), [0]);
    }

    #[test]
    fn expected_values_on_text_dictionaries_with_empty_strings() {
        let rule = Rule::ExpectedValues {
            values: vec![
                Scalar::Text("open".into()),
                Scalar::Text("".into()),
                Scalar::Number(Number::Int(7)),
            ],
        };
        let dirty: DictionaryArray<Int16Type> = vec![
            Some("open"),
            Some("Open"),
            Some(""),
            None,
            Some("7"),
            Some(" open"),
        ]
        .into_iter()
        .collect();
        assert_eq!(failing_one(&rule, dirty), [1, 5]);
        assert_eq!(
            failing_one(&rule, StringArray::from(vec![Some("open"), None, Some("")])),
            NONE
        );
    }

    #[test]
    fn expected_values_on_numbers_booleans_and_dates() {
        let numbers = Rule::ExpectedValues {
            values: vec![
                Scalar::Number(Number::Int(1)),
                Scalar::Number(Number::Float(2.5)),
                Scalar::Number(Number::Int(0)),
            ],
        };
        let floats = Float64Array::from(vec![
            Some(1.0),
            Some(2.5),
            Some(-0.0),
            Some(f64::NAN),
            None,
            Some(2.0),
        ]);
        assert_eq!(failing_one(&numbers, floats), [3, 5]);
        assert_eq!(
            failing_one(
                &numbers,
                Int64Array::from(vec![Some(1), Some(i64::MIN), None])
            ),
            [1]
        );
        assert_eq!(
            failing_one(&numbers, Int64Array::from(vec![Some(0), Some(1)])),
            NONE
        );
        let yes = Rule::ExpectedValues {
            values: vec![Scalar::Bool(true)],
        };
        assert_eq!(
            failing_one(
                &yes,
                BooleanArray::from(vec![Some(true), None, Some(false)])
            ),
            [2]
        );
        let dates = Rule::ExpectedValues {
            values: vec![Scalar::Text("1969-12-31".into())],
        };
        assert_eq!(
            failing_one(&dates, Date32Array::from(vec![Some(-1), None, Some(0)])),
            [2]
        );
        let error = check(yes, &["v"])
            .failing_rows(&one(Int64Array::from(vec![1])), 0)
            .unwrap_err();
        assert!(
            error.to_string().contains("list a number instead"),
            "{error}"
        );
    }
}
