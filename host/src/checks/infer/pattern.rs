//! A regular expression for a text shape, as the profile writes shapes: `A` stands for a run
//! of upper-case letters, `a` for a run of other letters, `9` for one digit (any Unicode
//! number), and any other character for itself. The expression matches every value of that
//! shape, and as little else as it can.
//!
//! Its classes are Unicode properties, the ones Rust's `char::is_uppercase`, `is_alphabetic`
//! and `is_numeric` test (`Uppercase`, `Alphabetic`, `N`). The `regex` crate's Unicode tables
//! and the standard library's can differ in version; only characters assigned between the two
//! versions could then be read differently.

use std::fmt::Write;

/// A run of upper-case letters that are not numbers (numerals such as `Ⅻ` are digits).
const UPPER: &str = r"[\p{Uppercase}&&\P{N}]+";
/// A run of letters that are neither upper case nor numbers.
const LOWER: &str = r"[\p{Alphabetic}&&\P{Uppercase}&&\P{N}]+";
/// One number character.
const DIGIT: &str = r"\p{N}";

/// `^…$` matching the values of `shape`; `None` for an empty shape or one cut short (a shape
/// past its length limit ends in `…`, and a literal `…` cannot be told from that).
pub(super) fn pattern_of_shape(shape: &str) -> Option<String> {
    if shape.is_empty() || shape.contains('…') {
        return None;
    }
    let mut pattern = String::from("^");
    let mut symbols = shape.chars().peekable();
    while let Some(symbol) = symbols.next() {
        match symbol {
            'A' => pattern.push_str(UPPER),
            'a' => pattern.push_str(LOWER),
            '9' => {
                let mut digits = 1;
                while symbols.next_if_eq(&'9').is_some() {
                    digits += 1;
                }
                pattern.push_str(DIGIT);
                if digits > 1 {
                    let _ = write!(pattern, "{{{digits}}}");
                }
            }
            other => pattern.push_str(&regex::escape(other.encode_utf8(&mut [0; 4]))),
        }
    }
    pattern.push('$');
    Some(pattern)
}

#[cfg(test)]
mod tests {
    use regex::Regex;

    use super::*;
    use crate::profile::TextStats;

    /// The one shape of `values`, as the profile finds it.
    fn shape(values: &[&str]) -> String {
        let mut stats = TextStats::default();
        stats.add(values.iter().copied());
        let shapes = stats.top_shapes();
        assert_eq!(shapes.len(), 1, "{values:?} have one shape: {shapes:?}");
        shapes[0].value.clone()
    }

    #[test]
    fn the_pattern_of_a_shape_matches_its_values_and_not_others() {
        for (values, others) in [
            (
                &["AB-0001", "Z-9999", "XYZ-1234"][..],
                &["AB-001", "ab-0001", "AB_0001"][..],
            ),
            (
                &["Zoë Smith", "Ann Ol", "Ωmega Éa"],
                &["Zoë  Smith", "zoë Smith", "Zoë"],
            ),
            (&["2024-01-31", "٢٠٢٤-٠١-٣١"], &["2024-1-31", "2024-01-31 "]),
            (
                &["a.b+c (1)", "x.y+z (9)"],
                &["a.b+c (10)", "a.b c (1)", "a.b+c(1)"],
            ),
            (&["fragile\nhandle", "x\ny"], &["fragile handle", "x\ny\n"]),
            (&["Ⅻ", "½"], &["X", "1/2"]),
        ] {
            let shape = shape(values);
            let pattern = pattern_of_shape(&shape).expect("a whole shape");
            let regex = Regex::new(&pattern).expect("a valid expression");
            for value in values {
                assert!(
                    regex.is_match(value),
                    "{value:?} of shape {shape:?}: {pattern}"
                );
            }
            for other in others {
                assert!(
                    !regex.is_match(other),
                    "{other:?} is not {shape:?}: {pattern}"
                );
            }
        }
        assert_eq!(
            pattern_of_shape("A-9999").as_deref(),
            Some(r"^[\p{Uppercase}&&\P{N}]+\-\p{N}{4}$")
        );
        assert_eq!(pattern_of_shape(""), None);
        assert_eq!(pattern_of_shape(&format!("{}…", "9".repeat(24))), None);
    }
}
