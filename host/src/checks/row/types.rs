//! `is_type`: text values that parse as a type, by the profiler's type inference (values
//! trimmed; an empty value parses as nothing, so it fails). Fields of other types pass or fail
//! as a whole by their Arrow type: integers are integers (and floats), decimals and floats
//! are floats, and so on; their nulls pass, as everywhere.

use super::Target;
use crate::checks::CheckError;
use crate::checks::params::ValueType;
use crate::checks::values::{is_text, text_failures};
use crate::profile::{Kind, TextType, classify};

/// The failing rows of `is_type`.
pub(super) fn failures(wanted: ValueType, target: &Target) -> Result<Vec<bool>, CheckError> {
    let array = target.array.as_ref();
    if is_text(array.data_type()) {
        return text_failures(array, |v| !accepts(wanted, classify(v.trim())))
            .ok_or_else(|| target.unsupported("text"));
    }
    let fits = matches!(
        (wanted, Kind::of(array.data_type())),
        (
            ValueType::Integer | ValueType::Float,
            Kind::Signed | Kind::Unsigned
        ) | (ValueType::Float, Kind::Float)
            | (ValueType::Boolean, Kind::Boolean)
            | (ValueType::Date, Kind::Date)
            | (ValueType::Timestamp, Kind::Timestamp(..))
    );
    Ok((0..array.len())
        .map(|i| !fits && array.is_valid(i))
        .collect())
}

/// Whether a text value of type `found` is of the type asked for: any number is a float.
fn accepts(wanted: ValueType, found: TextType) -> bool {
    matches!(
        (wanted, found),
        (ValueType::Integer, TextType::Integral)
            | (ValueType::Float, TextType::Integral | TextType::Fractional)
            | (ValueType::Boolean, TextType::Boolean)
            | (ValueType::Date, TextType::Date)
            | (ValueType::Timestamp, TextType::Timestamp)
    )
}

#[cfg(test)]
mod tests {
    use arrow::array::{
        Decimal128Array, DictionaryArray, Float64Array, Int64Array, LargeStringArray, StringArray,
        StringViewArray, TimestampNanosecondArray, UInt8Array,
    };
    use arrow::datatypes::Int8Type;

    use super::*;
    use crate::checks::rule::Rule;
    use crate::checks::testing::failing_one;

    const NONE: [usize; 0] = [];

    fn is(value_type: ValueType) -> Rule {
        Rule::IsType { value_type }
    }

    #[test]
    fn integers_and_floats_in_text_by_the_profilers_rules() {
        let values = || {
            StringArray::from(vec![
                Some("42"),
                Some(" 42 "),
                Some(""),
                Some("4.5"),
                Some("007"),
                None,
                Some("1,234"),
                Some("abc"),
                Some("-9223372036854775808"),
            ])
        };
        assert_eq!(failing_one(&is(ValueType::Integer), values()), [2, 3, 4, 7]);
        assert_eq!(failing_one(&is(ValueType::Float), values()), [2, 4, 7]);
        let clean = LargeStringArray::from(vec![Some("NaN"), Some("-0.0"), None, Some("1e308")]);
        assert_eq!(failing_one(&is(ValueType::Float), clean), NONE);
    }

    #[test]
    fn booleans_dates_and_timestamps_in_text() {
        let booleans =
            StringViewArray::from(vec![Some("yes"), Some("N"), Some(""), Some("1"), None]);
        assert_eq!(failing_one(&is(ValueType::Boolean), booleans), [2, 3]);
        let dates: DictionaryArray<Int8Type> = vec![
            Some("2024-01-31"),
            Some("31-Jan-2024"),
            Some("2024-02-30"),
            Some("2024-01-31T00:00:00Z"),
            Some("1969-07-20"),
        ]
        .into_iter()
        .collect();
        assert_eq!(failing_one(&is(ValueType::Date), dates), [2, 3]);
        let stamps = StringArray::from(vec![
            Some("2024-01-31T12:00:00Z"),
            Some("2024-01-31 12:00"),
            Some("2024-01-31"),
            None,
        ]);
        assert_eq!(failing_one(&is(ValueType::Timestamp), stamps), [2]);
    }

    #[test]
    fn other_fields_pass_or_fail_by_their_arrow_type() {
        let ints = || Int64Array::from(vec![Some(i64::MIN), None, Some(i64::MAX)]);
        assert_eq!(failing_one(&is(ValueType::Integer), ints()), NONE);
        assert_eq!(failing_one(&is(ValueType::Float), ints()), NONE);
        assert_eq!(failing_one(&is(ValueType::Date), ints()), [0, 2]);
        assert_eq!(
            failing_one(
                &is(ValueType::Integer),
                Float64Array::from(vec![Some(1.0), None])
            ),
            [0]
        );
        let decimals = Decimal128Array::from(vec![Some(1), None])
            .with_precision_and_scale(5, 2)
            .unwrap();
        assert_eq!(failing_one(&is(ValueType::Float), decimals), NONE);
        assert_eq!(
            failing_one(
                &is(ValueType::Boolean),
                UInt8Array::from(vec![Some(1), Some(0)])
            ),
            [0, 1]
        );
        let stamps = TimestampNanosecondArray::from(vec![Some(-1), None]).with_timezone("UTC");
        assert_eq!(failing_one(&is(ValueType::Timestamp), stamps), NONE);
    }
}
