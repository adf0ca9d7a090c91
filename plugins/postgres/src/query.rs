//! SQL text: quoted identifiers, literals for the contract's scalars, and the WHERE clause a
//! read's partition, filter and watermark make. Every value is written as a literal the
//! server parses the same whatever its `standard_conforming_strings`.

use arrow_schema::{DataType, Field};
use qualityd_plugin_sdk::{Comparison, Predicate, Scalar};

/// `"name"`, with inner quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A text literal: `E'...'` with quotes and backslashes escaped. `None` for text holding a
/// NUL, which PostgreSQL text cannot.
pub fn quote_text(text: &str) -> Option<String> {
    if text.contains('\0') {
        return None;
    }
    Some(format!(
        "E'{}'",
        text.replace('\\', "\\\\").replace('\'', "\\'")
    ))
}

/// A literal for `value`, compared with a column of `field`'s type.
pub fn literal(value: &Scalar, field: &Field) -> Option<String> {
    Some(match value {
        Scalar::Null => return None,
        Scalar::Boolean(b) => b.to_string().to_uppercase(),
        Scalar::Integer(i) => i.to_string(),
        Scalar::Float(f) if f.is_finite() => format!("{f:?}::float8"),
        Scalar::Float(f) if f.is_nan() => "'NaN'::float8".into(),
        Scalar::Float(f) if *f > 0.0 => "'Infinity'::float8".into(),
        Scalar::Float(_) => "'-Infinity'::float8".into(),
        Scalar::Text(t) => quote_text(t)?,
        Scalar::Date(days) => format!("(DATE '1970-01-01' + {days})"),
        Scalar::Timestamp(micros) => {
            let base = match field.data_type() {
                DataType::Timestamp(_, Some(_)) => "TIMESTAMPTZ '1970-01-01 00:00:00+00'",
                _ => "TIMESTAMP '1970-01-01 00:00:00'",
            };
            format!("({base} + {micros} * INTERVAL '1 microsecond')")
        }
    })
}

/// `column <op> literal`, or `None` when it cannot be written.
pub fn predicate(predicate: &Predicate, field: &Field) -> Option<String> {
    let column = quote_ident(&predicate.field);
    let op = match predicate.op {
        Comparison::IsNull => return Some(format!("{column} IS NULL")),
        Comparison::IsNotNull => return Some(format!("{column} IS NOT NULL")),
        Comparison::Eq => "=",
        Comparison::Ne => "<>",
        Comparison::Lt => "<",
        Comparison::Le => "<=",
        Comparison::Gt => ">",
        Comparison::Ge => ">=",
    };
    Some(format!(
        "{column} {op} {}",
        literal(&predicate.value, field)?
    ))
}
