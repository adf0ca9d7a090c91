//! What a text value looks like: the type it parses as and its shape. Text fields are
//! profiled with these, so a data owner learns that a `string` column holds dates, or codes
//! of the shape `AA-9999`.
//!
//! The rules, as `docs/profile-json.md` states them:
//! - values are classified after trimming surrounding whitespace; empty values are not;
//! - *integral*: an optional sign and digits, or digits grouped by commas in threes
//!   (`1,234,567`); a leading zero (`007`) makes a code, which is text;
//! - *fractional*: any other number Rust's `f64` parser takes (`1.5`, `-2e-3`, `.5`, `NaN`,
//!   `inf`), with the same grouping and leading-zero rules for its integer part;
//! - *boolean*: `true`, `false`, `yes`, `no`, `t`, `f`, `y`, `n`, any case;
//! - *date*: `2024-01-31`, `2024/01/31`, `01/31/2024`, `31/01/2024`, `31.01.2024`,
//!   `31-Jan-2024`, `Jan 31, 2024`;
//! - *timestamp*: RFC 3339, or a date as above in ISO order followed by `T` or a space and
//!   `HH:MM[:SS[.fff]]`, or `01/31/2024 13:45[:00]`.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// The most specific type a text value parses as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextType {
    /// A whole number.
    Integral,
    /// A number with a fraction or an exponent (or `NaN`, `inf`).
    Fractional,
    /// A truth value.
    Boolean,
    /// A calendar date.
    Date,
    /// A date with a time of day.
    Timestamp,
    /// None of the above.
    Text,
}

const BOOLEANS: [&str; 8] = ["true", "false", "yes", "no", "t", "f", "y", "n"];

/// Words that parse as floating-point numbers.
const SPECIAL_NUMBERS: [&str; 3] = ["nan", "inf", "infinity"];

/// The type of a trimmed, non-empty text value.
pub fn classify(value: &str) -> TextType {
    let Some(&first) = value.as_bytes().first() else {
        return TextType::Text;
    };
    if BOOLEANS.iter().any(|b| value.eq_ignore_ascii_case(b)) {
        return TextType::Boolean;
    }
    let unsigned = value.strip_prefix(['+', '-']).unwrap_or(value);
    if SPECIAL_NUMBERS
        .iter()
        .any(|s| unsigned.eq_ignore_ascii_case(s))
    {
        return TextType::Fractional;
    }
    if first.is_ascii_alphabetic() {
        return if is_date(value) {
            TextType::Date
        } else {
            TextType::Text
        };
    }
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return TextType::Text;
    }
    if let Some(number) = number_type(unsigned) {
        number
    } else if is_date(value) {
        TextType::Date
    } else if is_timestamp(value) {
        TextType::Timestamp
    } else {
        TextType::Text
    }
}

/// Integral or fractional, if `unsigned` (a value without its sign) is a number by the
/// rules above.
fn number_type(unsigned: &str) -> Option<TextType> {
    let integer_end = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == ','))
        .unwrap_or(unsigned.len());
    let (integer, rest) = unsigned.split_at(integer_end);
    let digits = ungrouped(integer)?;
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    if rest.is_empty() {
        return (!digits.is_empty()).then_some(TextType::Integral);
    }
    if !rest.starts_with(['.', 'e', 'E']) || (digits.is_empty() && !rest.starts_with('.')) {
        return None;
    }
    let parses = match digits {
        Cow::Borrowed(_) => unsigned.parse::<f64>().is_ok(),
        Cow::Owned(digits) => format!("{digits}{rest}").parse::<f64>().is_ok(),
    };
    parses.then_some(TextType::Fractional)
}

/// The digits of an integer part, without its thousands separators if they are well placed.
fn ungrouped(integer: &str) -> Option<Cow<'_, str>> {
    if !integer.contains(',') {
        return Some(Cow::Borrowed(integer));
    }
    let mut groups = integer.split(',');
    let head = groups.next()?;
    let well_placed = (1..=3).contains(&head.len()) && groups.all(|g| g.len() == 3);
    well_placed.then(|| Cow::Owned(integer.replace(',', "")))
}

fn is_date(value: &str) -> bool {
    if !(8..=12).contains(&value.len()) || digit_count(value) < 6 {
        return false;
    }
    // Only the formats whose separator the value has: most text is rejected before parsing.
    let formats: &[&str] = match value.bytes().find(|b| !b.is_ascii_alphanumeric()) {
        Some(b'-') => &["%Y-%m-%d", "%d-%b-%Y"],
        Some(b'/') => &["%Y/%m/%d", "%m/%d/%Y", "%d/%m/%Y"],
        Some(b'.') => &["%d.%m.%Y"],
        Some(b' ') => &["%b %d, %Y"],
        _ => return false,
    };
    formats
        .iter()
        .any(|format| NaiveDate::parse_from_str(value, format).is_ok())
}

fn is_timestamp(value: &str) -> bool {
    if value.len() < 14 || !value.contains(':') || digit_count(value) < 10 {
        return false;
    }
    let formats: &[&str] = match value.as_bytes().get(2) {
        Some(b'/') => &["%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M"],
        _ => &[
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
        ],
    };
    DateTime::parse_from_rfc3339(value).is_ok()
        || formats
            .iter()
            .any(|format| NaiveDateTime::parse_from_str(value, format).is_ok())
}

fn digit_count(value: &str) -> usize {
    value.bytes().filter(u8::is_ascii_digit).count()
}

/// The longest shape kept; longer values end in `…`.
pub const MAX_SHAPE_CHARS: usize = 24;

/// Write the shape of `value` into `shape`: an upper-case letter becomes `A`, a lower-case
/// one `a`, a digit `9`, and anything else stays itself. A run of letters of one case
/// becomes one symbol (a word's length rarely matters); digits are kept one for one (a
/// code's length does).
pub fn shape_of(value: &str, shape: &mut String) {
    shape.clear();
    let (mut last, mut written) = (None, 0);
    for c in value.chars() {
        let symbol = if c.is_numeric() {
            '9'
        } else if c.is_uppercase() {
            'A'
        } else if c.is_alphabetic() {
            'a'
        } else {
            c
        };
        if matches!(symbol, 'A' | 'a') && last == Some(symbol) {
            continue;
        }
        if written >= MAX_SHAPE_CHARS {
            shape.push('…');
            return;
        }
        shape.push(symbol);
        last = Some(symbol);
        written += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::TextType::*;
    use super::*;

    #[test]
    fn numbers_with_leading_zeros_signs_and_thousands_separators() {
        for (value, expected) in [
            ("42", Integral),
            ("-42", Integral),
            ("+7", Integral),
            ("0", Integral),
            ("007", Text),
            ("-007", Text),
            ("1,234,567", Integral),
            ("1,23,4", Text),
            ("12,34", Text),
            ("1,234.50", Fractional),
            ("0.5", Fractional),
            ("00.5", Text),
            (".5", Fractional),
            ("-2e-3", Fractional),
            ("1E6", Fractional),
            ("NaN", Fractional),
            ("nan", Fractional),
            ("inf", Fractional),
            ("-inf", Fractional),
            ("infinity", Fractional),
            ("1.2.3", Text),
            ("12abc", Text),
            ("-", Text),
            ("+", Text),
            ("e5", Text),
            ("1e", Text),
        ] {
            assert_eq!(classify(value), expected, "{value:?}");
        }
    }

    #[test]
    fn booleans_dates_and_timestamps_in_common_formats() {
        for (value, expected) in [
            ("true", Boolean),
            ("FALSE", Boolean),
            ("Yes", Boolean),
            ("n", Boolean),
            ("2024-01-31", Date),
            ("2024/01/31", Date),
            ("01/31/2024", Date),
            ("31/01/2024", Date),
            ("31.01.2024", Date),
            ("31-Jan-2024", Date),
            ("Jan 31, 2024", Date),
            ("2024-02-30", Text),
            ("2024-13-01", Text),
            ("20240131", Integral),
            ("2024-01-31T12:00:00Z", Timestamp),
            ("2024-01-31T12:00:00.123+02:00", Timestamp),
            ("2024-01-31 12:00:00", Timestamp),
            ("2024-01-31 12:00", Timestamp),
            ("01/31/2024 13:45:10", Timestamp),
            ("2024-01-31 25:00:00", Text),
            ("Smith", Text),
            ("Nancy", Text),
        ] {
            assert_eq!(classify(value), expected, "{value:?}");
        }
    }

    #[test]
    fn shapes_keep_digits_and_fold_words() {
        let mut shape = String::new();
        for (value, expected) in [
            ("Xy3-45", "Aa9-99"),
            ("ABC-123", "A-999"),
            ("John Smith", "Aa Aa"),
            ("2024-01-05", "9999-99-99"),
            ("jane.doe@example.com", "a.a@a.a"),
            ("", ""),
            ("Zoë", "Aa"),
        ] {
            shape_of(value, &mut shape);
            assert_eq!(shape, expected, "{value:?}");
        }
        shape_of(&"1".repeat(30), &mut shape);
        assert_eq!(shape, format!("{}…", "9".repeat(MAX_SHAPE_CHARS)));
    }
}
