//! Rules that look for well-known kinds of values in text: `contains_email`, `contains_url`,
//! `contains_credit_card` and `contains_social_security_number` fail the values that contain
//! none (as in Qualytics, they assert that a field holds such values; they are not a
//! sensitive-data scan), and `is_credit_card` fails values that are not a card number as a
//! whole.
//!
//! - an email is `local@domain.tld`, letters, digits and `._%+-` in the local part;
//! - a URL is `http://` or `https://` followed by a host;
//! - a card number is 13 to 19 digits, written together or in groups separated by one space
//!   or dash, that pass the Luhn checksum; any run of whole groups counts, so a card number
//!   followed by another number is found, but digits inside a longer number are not;
//! - a US social security number is `AAA-GG-SSSS` with an area other than 000, 666 or
//!   900–999, a group other than 00 and a serial other than 0000.

use std::sync::LazyLock;

use regex::Regex;

use super::Target;
use crate::checks::CheckError;
use crate::checks::rule::Rule;
use crate::checks::values::text_failures;

/// Only tested with `is_match`, so one local-part character before the `@` is as good as
/// all of them (`x+@` is found exactly where `x@` is), and twice as fast to search for.
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[a-z0-9._%+-]@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}").expect("valid")
});
static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bhttps?://[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::\d+)?(?:[/?#]\S*)?").expect("valid")
});
/// Runs of digit groups separated by one space or dash.
static DIGIT_GROUPS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d+(?:[ -]\d+)*").expect("valid"));
static SSN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{3})-(\d{2})-(\d{4})\b").expect("valid"));

/// The failing rows of a pattern rule.
pub(super) fn failures(rule: &Rule, target: &Target) -> Result<Vec<bool>, CheckError> {
    let array = target.array.as_ref();
    let outcome = match rule {
        Rule::ContainsEmail => text_failures(array, |v| !contains_email(v)),
        Rule::ContainsUrl => text_failures(array, |v| !URL.is_match(v)),
        Rule::ContainsCreditCard => text_failures(array, |v| !contains_card(v)),
        Rule::ContainsSocialSecurityNumber => text_failures(array, |v| !contains_ssn(v)),
        Rule::IsCreditCard => text_failures(array, |v| !is_card(v)),
        _ => unreachable!("not a pattern rule"),
    };
    outcome.ok_or_else(|| {
        target.unsupported("text (Utf8, LargeUtf8, Utf8View or a dictionary of them)")
    })
}

/// Whether `value` contains an email address. ASCII text is scanned by hand, around each
/// `@` (the hot path of a scan's email checks: a third of the regex's time); other text goes
/// to [`EMAIL`], whose case-insensitive classes also match a few non-ASCII letters.
fn contains_email(value: &str) -> bool {
    if !value.is_ascii() {
        return EMAIL.is_match(value);
    }
    let bytes = value.as_bytes();
    let local = |b: u8| b.is_ascii_alphanumeric() || b"._%+-".contains(&b);
    let label = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
    (1..bytes.len())
        .filter(|&at| bytes[at] == b'@' && local(bytes[at - 1]))
        .any(|at| domain_follows(&bytes[at + 1..], label))
}

/// Whether `rest` starts with `[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}` (any case): labels,
/// then a dot and two letters.
fn domain_follows(rest: &[u8], label: impl Fn(u8) -> bool) -> bool {
    let mut in_label = false;
    for (i, &b) in rest.iter().enumerate() {
        if label(b) {
            in_label = true;
        } else if b == b'.' && in_label {
            let tld = |j: usize| rest.get(i + j).is_some_and(u8::is_ascii_alphabetic);
            if tld(1) && tld(2) {
                return true;
            }
            in_label = false;
        } else {
            return false;
        }
    }
    false
}

/// Whether the whole value is a card number.
fn is_card(value: &str) -> bool {
    DIGIT_GROUPS
        .find(value)
        .is_some_and(|m| m.len() == value.len() && card_digits(m.as_str()))
}

/// Whether any run of whole digit groups in the value is a card number.
fn contains_card(value: &str) -> bool {
    DIGIT_GROUPS.find_iter(value).any(|run| {
        let groups: Vec<&str> = run.as_str().split([' ', '-']).collect();
        (0..groups.len()).any(|start| {
            (start + 1..=groups.len()).any(|end| card_digits(&groups[start..end].concat()))
        })
    })
}

/// Whether digits (separators allowed) are 13 to 19 long and pass the Luhn checksum.
fn card_digits(text: &str) -> bool {
    let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| match (i % 2, d * 2) {
            (0, _) => d,
            (_, doubled) if doubled > 9 => doubled - 9,
            (_, doubled) => doubled,
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether the value contains a valid social security number.
fn contains_ssn(value: &str) -> bool {
    SSN.captures_iter(value).any(|c| {
        let area: u32 = c[1].parse().unwrap_or(0);
        area != 0 && area != 666 && area < 900 && &c[2] != "00" && &c[3] != "0000"
    })
}

#[cfg(test)]
mod tests {
    use arrow::array::{DictionaryArray, Int64Array, LargeStringArray, StringArray};
    use arrow::datatypes::Int32Type;

    use super::*;
    use crate::checks::testing::{check, failing_one, one};

    const NONE: [usize; 0] = [];

    #[test]
    fn contains_email_fails_values_without_an_address() {
        let dirty = StringArray::from(vec![
            Some("mail me at a.b+c@example.co.uk"),
            Some(""),
            Some("no email here"),
            None,
            Some("user@localhost"),
            Some("X@Y.IO"),
        ]);
        assert_eq!(failing_one(&Rule::ContainsEmail, dirty), [1, 2, 4]);
        let clean = LargeStringArray::from(vec![Some("jane.doe@example.com"), None]);
        assert_eq!(failing_one(&Rule::ContainsEmail, clean), NONE);
    }

    /// The hand-written scan of ASCII text finds an address exactly where the regex does.
    #[test]
    fn the_ascii_email_scan_agrees_with_the_regex() {
        let cases = [
            "a@b.co",
            "a@b.c",
            "@b.co",
            "a@.co",
            "a@b..co",
            "a@b.c1",
            "a@b-c.de",
            "a@-b.de",
            "x a@b.co y",
            "a@b@c.de",
            "a.@b.co",
            "a@b.co.uk",
            "a@b.c.de",
            "a@b",
            "a@b.",
            "A@B.CO",
            "a@b.9z",
            "a@b.zz9",
            "a@b_c.de",
            "..@x.yz",
            "a@x.y.zz",
            "a@xy",
            "",
            "a b@c.de",
            "a@b.c d.ef",
            "a@@b.co",
            "%@1.ab",
            "a@b.-c.de",
            "a@b-.cd",
        ];
        for case in cases {
            assert_eq!(contains_email(case), EMAIL.is_match(case), "{case:?}");
        }
    }

    #[test]
    fn contains_url_needs_a_scheme_and_a_host() {
        let dirty = StringArray::from(vec![
            Some("see https://example.com/a?b=1"),
            Some("http://localhost:8080"),
            Some("example.com"),
            Some(""),
            Some("ftp://x.y"),
            None,
            Some("https://"),
        ]);
        assert_eq!(failing_one(&Rule::ContainsUrl, dirty), [2, 3, 4, 6]);
        let clean: DictionaryArray<Int32Type> = vec![Some("HTTPS://EXAMPLE.ORG"), None]
            .into_iter()
            .collect();
        assert_eq!(failing_one(&Rule::ContainsUrl, clean), NONE);
    }

    #[test]
    fn contains_credit_card_finds_luhn_valid_numbers_in_groups() {
        let dirty = StringArray::from(vec![
            Some("card 4111 1111 1111 1111 exp 12/30"),
            Some("4111-1111-1111-1112"),
            Some("amex 378282246310005"),
            Some("41111111111111111111"),
            Some(""),
            Some("4111 1111 1111 1111 1"),
            None,
            Some("phone 555-1234"),
            Some("5555-5555-5555-4444"),
        ]);
        assert_eq!(failing_one(&Rule::ContainsCreditCard, dirty), [1, 3, 4, 7]);
        let clean = StringArray::from(vec![
            Some("4222222222222"),
            None,
            Some("x5555555555554444x"),
        ]);
        assert_eq!(failing_one(&Rule::ContainsCreditCard, clean), NONE);
    }

    #[test]
    fn is_credit_card_needs_the_whole_value() {
        let dirty = StringArray::from(vec![
            Some("4111111111111111"),
            Some("4111 1111 1111 1111"),
            Some("card 4111111111111111"),
            Some("4111111111111112"),
            Some(""),
            None,
            Some("4222222222222"),
            Some("4111111111111111 "),
            Some("4111  1111 1111 1111"),
        ]);
        assert_eq!(failing_one(&Rule::IsCreditCard, dirty), [2, 3, 4, 7, 8]);
        let clean = StringArray::from(vec![Some("378282246310005"), None]);
        assert_eq!(failing_one(&Rule::IsCreditCard, clean), NONE);
    }

    #[test]
    fn contains_social_security_number_excludes_invalid_ranges() {
        let dirty = StringArray::from(vec![
            Some("ssn 123-45-6789"),
            Some("000-12-3456"),
            Some("666-12-3456"),
            Some("900-12-3456"),
            Some("123-00-4567"),
            Some("123-45-0000"),
            Some("123456789"),
            Some(""),
            None,
            Some("123-45-67890"),
            Some("x 078-05-1120 y"),
            Some("899-99-9999"),
        ]);
        assert_eq!(
            failing_one(&Rule::ContainsSocialSecurityNumber, dirty),
            [1, 2, 3, 4, 5, 6, 7, 9]
        );
        let clean = StringArray::from(vec![Some("001-01-0001"), None]);
        assert_eq!(
            failing_one(&Rule::ContainsSocialSecurityNumber, clean),
            NONE
        );
    }

    #[test]
    fn pattern_rules_refuse_numbers() {
        let error = check(Rule::IsCreditCard, &["v"])
            .failing_rows(&one(Int64Array::from(vec![4_111_111_111_111_111])), 0)
            .unwrap_err();
        assert!(error.to_string().contains("`v` is Int64"), "{error}");
    }
}
