//! A field's minimum or maximum, typed, and how it reads in JSON (numbers stay numbers,
//! dates and timestamps become ISO-8601 strings) and in a table.

use arrow::datatypes::TimeUnit;
use arrow::temporal_conversions::{
    date32_to_datetime, time64ns_to_time, timestamp_ms_to_datetime, timestamp_ns_to_datetime,
    timestamp_s_to_datetime, timestamp_us_to_datetime,
};
use serde::{Deserialize, Serialize};

/// A value a field can be smallest or largest at. Comparisons are between values of the same
/// variant, which is all one field ever holds.
#[derive(Debug, Clone, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A floating-point or decimal number (never NaN).
    Float(f64),
    /// `false` < `true`.
    Bool(bool),
    /// Text, ordered by its UTF-8 bytes.
    Text(String),
    /// Days since 1970-01-01.
    Date(i32),
    /// A timestamp in its unit; `utc` when it is an instant (the field has a time zone).
    Timestamp {
        /// Units since the epoch.
        value: i64,
        /// The unit.
        #[serde(with = "unit_text")]
        unit: TimeUnit,
        /// Whether it is an instant, shown in UTC with `Z`.
        utc: bool,
    },
    /// Nanoseconds since midnight.
    Time(i64),
}

impl Value {
    /// The JSON form: a number, a boolean, or a string (text, ISO-8601 dates and times).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Int(v) => (*v).into(),
            Value::UInt(v) => (*v).into(),
            // JSON has no NaN or infinities: they are written as text.
            Value::Float(v) => serde_json::Number::from_f64(*v)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|| self.to_string().into()),
            Value::Bool(v) => (*v).into(),
            Value::Text(v) => v.clone().into(),
            other => other.to_string().into(),
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::UInt(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Text(v) => write!(f, "{v}"),
            Value::Date(days) => match date32_to_datetime(*days) {
                Some(date) => write!(f, "{}", date.format("%Y-%m-%d")),
                None => write!(f, "{days} days"),
            },
            Value::Timestamp { value, unit, utc } => {
                let datetime = match unit {
                    TimeUnit::Second => timestamp_s_to_datetime(*value),
                    TimeUnit::Millisecond => timestamp_ms_to_datetime(*value),
                    TimeUnit::Microsecond => timestamp_us_to_datetime(*value),
                    TimeUnit::Nanosecond => timestamp_ns_to_datetime(*value),
                };
                match datetime {
                    Some(datetime) => {
                        write!(f, "{}", datetime.format("%Y-%m-%dT%H:%M:%S%.f"))?;
                        if *utc { write!(f, "Z") } else { Ok(()) }
                    }
                    None => write!(f, "{value} {unit:?}s"),
                }
            }
            Value::Time(nanos) => match time64ns_to_time(*nanos) {
                Some(time) => write!(f, "{}", time.format("%H:%M:%S%.f")),
                None => write!(f, "{nanos} ns"),
            },
        }
    }
}

/// A time unit in serialised profiles: `s`, `ms`, `us` or `ns`.
mod unit_text {
    use arrow::datatypes::TimeUnit;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(unit: &TimeUnit, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(match unit {
            TimeUnit::Second => "s",
            TimeUnit::Millisecond => "ms",
            TimeUnit::Microsecond => "us",
            TimeUnit::Nanosecond => "ns",
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<TimeUnit, D::Error> {
        match String::deserialize(deserializer)?.as_str() {
            "s" => Ok(TimeUnit::Second),
            "ms" => Ok(TimeUnit::Millisecond),
            "us" => Ok(TimeUnit::Microsecond),
            "ns" => Ok(TimeUnit::Nanosecond),
            other => Err(D::Error::custom(format!(
                "`{other}` is not a time unit (s, ms, us, ns)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_timestamps_are_iso_8601() {
        assert_eq!(Value::Date(19_723).to_string(), "2024-01-01");
        let ts = Value::Timestamp {
            value: 1_704_067_205_500,
            unit: TimeUnit::Millisecond,
            utc: true,
        };
        assert_eq!(ts.to_json(), serde_json::json!("2024-01-01T00:00:05.500Z"));
        assert_eq!(Value::Int(-3).to_json(), serde_json::json!(-3));
        assert_eq!(
            Value::Float(f64::INFINITY).to_json(),
            serde_json::json!("inf")
        );
        assert_eq!(Value::Float(f64::NAN).to_json(), serde_json::json!("NaN"));
    }
}
