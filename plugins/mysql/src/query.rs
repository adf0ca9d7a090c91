//! The SELECT a read sends: backquoted identifiers, the projected columns in order, the
//! partition's key range, the pushed-down filter and the watermark as `?` parameters (never
//! spliced into the SQL), and the row limit.

use arrow_schema::DataType;
use qualityd_plugin_sdk::{Comparison, Error, Predicate, Result, Scalar, Watermark};

use crate::catalog::TableInfo;
use crate::civil::civil_from_days;
use crate::connection::Param;
use crate::partitions::KeyRange;
use crate::types::{ColumnInfo, Source};

/// A statement and its parameters.
#[derive(Debug)]
pub struct Query {
    pub sql: String,
    pub params: Vec<Param>,
    /// Whether every predicate of the request's filter is in the WHERE clause.
    pub filter_applied: bool,
}

/// What a read asks for, resolved against the table.
pub struct Selection<'a> {
    pub database: &'a str,
    pub table: &'a TableInfo,
    pub columns: &'a [&'a ColumnInfo],
    pub range: Option<&'a KeyRange>,
    pub filter: &'a [Predicate],
    pub watermark: Option<&'a Watermark>,
    pub limit: Option<u64>,
}

/// An identifier in backquotes (a backquote inside is doubled).
pub fn quote(identifier: &str) -> String {
    format!("`{}`", identifier.replace('`', "``"))
}

/// The SELECT for a read.
pub fn select(s: &Selection<'_>) -> Result<Query> {
    let mut list = Vec::with_capacity(s.columns.len());
    for column in s.columns {
        let name = quote(&column.name);
        list.push(match column.source {
            Source::Plain => name,
            Source::Text => format!("CAST({name} AS CHAR)"),
            Source::Wkt => format!("ST_AsText({name})"),
        });
    }
    // A projection of no columns still reads the rows (their count).
    if list.is_empty() {
        list.push("NULL".into());
    }
    let mut conditions = Vec::new();
    let mut params = Vec::new();
    if let Some(range) = s.range {
        let key = quote(&range.column);
        conditions.push(format!("{key} >= ? AND {key} <= ?"));
        params.push(integer(range.lo));
        params.push(integer(range.hi - 1));
    }
    let mut pushed = Vec::new();
    let mut filter_applied = true;
    for predicate in s.filter {
        let column = find(s.table, &predicate.field, "filter")?;
        match condition(column, predicate.op, &predicate.value) {
            Some(written) => pushed.push(written),
            None => filter_applied = false,
        }
    }
    // All or nothing: the host applies the whole filter when any part could not be pushed.
    if filter_applied {
        for (sql, values) in pushed {
            conditions.push(sql);
            params.extend(values);
        }
    }
    if let Some(watermark) = s.watermark
        && !matches!(watermark.value, Scalar::Null)
    {
        let column = find(s.table, &watermark.field, "watermark")?;
        let (sql, values) =
            condition(column, Comparison::Gt, &watermark.value).ok_or_else(|| {
                Error::unsupported(format!(
                    "field `{}` ({}) cannot be compared with the watermark {:?}; use an \
                     integer, date or timestamp field with a value of its type",
                    watermark.field,
                    column.field.data_type(),
                    watermark.value
                ))
            })?;
        conditions.push(sql);
        params.extend(values);
    }
    let mut sql = format!(
        "SELECT {} FROM {}.{}",
        list.join(", "),
        quote(s.database),
        quote(&s.table.name)
    );
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    if let Some(limit) = s.limit {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    Ok(Query {
        sql,
        params,
        filter_applied,
    })
}

fn find<'t>(table: &'t TableInfo, field: &str, what: &str) -> Result<&'t ColumnInfo> {
    table.column(field).ok_or_else(|| {
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        Error::not_found(format!(
            "the {what} names field `{field}`, which `{}` does not have; its fields are: {}",
            table.name,
            names.join(", ")
        ))
    })
}

/// An integer as a parameter of the narrowest form that holds it.
fn integer(n: i128) -> Param {
    match i64::try_from(n) {
        Ok(n) => Param::Int(n),
        Err(_) => Param::UInt(n.clamp(0, i128::from(u64::MAX)) as u64),
    }
}

/// `column <op> value` as SQL with the same meaning as on the Arrow values, or `None` when
/// it cannot be written so (the host applies it then).
fn condition(column: &ColumnInfo, op: Comparison, value: &Scalar) -> Option<(String, Vec<Param>)> {
    if column.source != Source::Plain {
        return None;
    }
    let name = quote(&column.name);
    let data_type = column.field.data_type();
    let temporal = matches!(data_type, DataType::Date32 | DataType::Timestamp(..));
    let sign = match op {
        // MySQL finds zero dates with IS NULL on NOT NULL columns: leave those to the host.
        Comparison::IsNull | Comparison::IsNotNull if temporal => return None,
        Comparison::IsNull => return Some((format!("{name} IS NULL"), Vec::new())),
        Comparison::IsNotNull => return Some((format!("{name} IS NOT NULL"), Vec::new())),
        Comparison::Eq => "=",
        Comparison::Ne => "<>",
        Comparison::Lt => "<",
        Comparison::Le => "<=",
        Comparison::Gt => ">",
        Comparison::Ge => ">=",
    };
    let plain = |param: Param| Some((format!("{name} {sign} ?"), vec![param]));
    // Zero dates are null in Arrow but the smallest dates to MySQL: keep them out of `<`,
    // `<=` and `<>`.
    let guarded = |param: Param, floor: Param| match op {
        Comparison::Lt | Comparison::Le | Comparison::Ne => Some((
            format!("({name} {sign} ? AND {name} >= ?)"),
            vec![param, floor],
        )),
        _ => Some((format!("{name} {sign} ?"), vec![param])),
    };
    match (data_type, value) {
        (t, Scalar::Integer(n)) if t.is_integer() => plain(Param::Int(*n)),
        // Float32 values compare as doubles in MySQL (0.1f32 != 0.1): left to the host.
        (DataType::Float64, Scalar::Float(x)) if x.is_finite() => plain(Param::Double(*x)),
        // Byte order (code point order, trailing spaces significant), as Arrow compares
        // text, rather than the column's collation.
        (DataType::Utf8, Scalar::Text(text)) => Some((
            format!("CAST({name} AS BINARY) {sign} CAST(? AS BINARY)"),
            vec![Param::Bytes(text.as_bytes().to_vec())],
        )),
        (DataType::Date32, Scalar::Date(days)) => {
            guarded(date(i64::from(*days))?, Param::Date(1, 1, 1))
        }
        (DataType::Timestamp(..), Scalar::Timestamp(micros)) => {
            guarded(datetime(*micros)?, Param::DateTime(1, 1, 1, 0, 0, 0, 0))
        }
        _ => None,
    }
}

/// A day number as a DATE parameter, within MySQL's years 1 to 9999.
fn date(days: i64) -> Option<Param> {
    let (year, month, day) = civil_from_days(days);
    (1..=9999)
        .contains(&year)
        .then_some(Param::Date(year as u16, month, day))
}

/// Microseconds since the epoch (UTC) as a DATETIME parameter.
fn datetime(micros: i64) -> Option<Param> {
    let days = micros.div_euclid(86_400_000_000);
    let rest = micros.rem_euclid(86_400_000_000);
    let Param::Date(year, month, day) = date(days)? else {
        return None;
    };
    let seconds = rest / 1_000_000;
    Some(Param::DateTime(
        year,
        month,
        day,
        (seconds / 3600) as u8,
        (seconds / 60 % 60) as u8,
        (seconds % 60) as u8,
        (rest % 1_000_000) as u32,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote("a`b"), "`a``b`");
    }

    #[test]
    fn timestamps_become_datetimes() {
        assert_eq!(
            datetime(1_700_000_000_123_456),
            Some(Param::DateTime(2023, 11, 14, 22, 13, 20, 123_456))
        );
        assert_eq!(
            datetime(-1),
            Some(Param::DateTime(1969, 12, 31, 23, 59, 59, 999_999))
        );
    }
}
