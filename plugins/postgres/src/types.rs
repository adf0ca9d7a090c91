//! PostgreSQL types to Arrow: which binary decoder reads a column and which Arrow type it
//! makes. A type with no binary decoder here is read as text (`col::text`), and its field
//! says so in the `qualityd.note` metadata.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, IntervalUnit, TimeUnit};

/// How the values of one column (or of a list's items) are decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    /// bool
    Bool,
    /// int2
    Int16,
    /// int4
    Int32,
    /// int8
    Int64,
    /// oid: an unsigned 32-bit number
    Oid,
    /// float4
    Float32,
    /// float8
    Float64,
    /// numeric with a precision of at most 38
    Numeric {
        /// Decimal digits in all.
        precision: u8,
        /// Digits after the point (negative: rounded to tens, hundreds, ...).
        scale: i8,
    },
    /// text, varchar, char(n), name, "char", json and anything read as `::text`
    Text,
    /// jsonb (a version byte, then the text)
    Jsonb,
    /// uuid, as its canonical text
    Uuid,
    /// bytea
    Binary,
    /// date
    Date,
    /// time
    Time,
    /// timestamp (`tz` false) and timestamptz (`tz` true)
    Timestamp {
        /// With time zone: values are UTC instants.
        tz: bool,
    },
    /// interval
    Interval,
    /// an enum's label
    Enum,
    /// a one-dimensional array (more dimensions are flattened)
    List(Box<ValueKind>),
}

impl ValueKind {
    /// The Arrow type of the values.
    pub fn data_type(&self) -> DataType {
        match self {
            ValueKind::Bool => DataType::Boolean,
            ValueKind::Int16 => DataType::Int16,
            ValueKind::Int32 => DataType::Int32,
            ValueKind::Int64 | ValueKind::Oid => DataType::Int64,
            ValueKind::Float32 => DataType::Float32,
            ValueKind::Float64 => DataType::Float64,
            ValueKind::Numeric { precision, scale } => DataType::Decimal128(*precision, *scale),
            ValueKind::Text | ValueKind::Jsonb | ValueKind::Uuid => DataType::Utf8,
            ValueKind::Binary => DataType::Binary,
            ValueKind::Date => DataType::Date32,
            ValueKind::Time => DataType::Time64(TimeUnit::Microsecond),
            ValueKind::Timestamp { tz: false } => DataType::Timestamp(TimeUnit::Microsecond, None),
            ValueKind::Timestamp { tz: true } => {
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
            }
            ValueKind::Interval => DataType::Interval(IntervalUnit::MonthDayNano),
            ValueKind::Enum => {
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
            }
            ValueKind::List(item) => {
                DataType::List(Arc::new(Field::new("item", item.data_type(), true)))
            }
        }
    }
}

/// What the catalog says of a column's type (domains already resolved to their base type).
#[derive(Debug, Clone)]
pub struct PgType {
    /// The type's oid.
    pub oid: u32,
    /// The type's name, for notes.
    pub name: String,
    /// `b` base, `e` enum, `c` composite, `r` range, `d` domain (over a domain), ...
    pub typtype: String,
    /// The column's type modifier (-1 when none): numeric precision and scale.
    pub typmod: i32,
    /// For an array: its element's oid, typtype and name.
    pub element: Option<(u32, String, String)>,
}

/// A column to read: the expression that selects it and how its values decode.
#[derive(Debug, Clone)]
pub struct ColumnPlan {
    /// The field as the container's schema has it.
    pub field: Field,
    /// The select-list expression (the quoted name, or a cast to text).
    pub expression: String,
    /// The decoder.
    pub kind: ValueKind,
}

impl ColumnPlan {
    /// How `name` of type `pg` is read.
    pub fn new(name: &str, pg: &PgType, nullable: bool) -> ColumnPlan {
        let quoted = crate::query::quote_ident(name);
        let kind = match &pg.element {
            Some((oid, typtype, _)) => {
                scalar_kind(*oid, typtype, pg.typmod).map(|item| ValueKind::List(Box::new(item)))
            }
            None => scalar_kind(pg.oid, &pg.typtype, pg.typmod),
        };
        let (kind, expression, note) = match kind {
            Some(kind) => (kind, quoted, None),
            None => (
                ValueKind::Text,
                format!("{quoted}::text"),
                Some(text_note(pg)),
            ),
        };
        let mut field = Field::new(name, kind.data_type(), nullable);
        if let Some(note) = note {
            field.set_metadata(HashMap::from([("qualityd.note".to_owned(), note)]));
        }
        ColumnPlan {
            field,
            expression,
            kind,
        }
    }
}

fn text_note(pg: &PgType) -> String {
    if pg.oid == NUMERIC {
        return "numeric without a precision of at most 38 digits: read as text, exactly".into();
    }
    format!("type {} has no Arrow mapping: read as text", pg.name)
}

const NUMERIC: u32 = 1700;

/// The decoder for a scalar type, if it has one.
fn scalar_kind(oid: u32, typtype: &str, typmod: i32) -> Option<ValueKind> {
    if typtype == "e" {
        return Some(ValueKind::Enum);
    }
    Some(match oid {
        16 => ValueKind::Bool,
        21 => ValueKind::Int16,
        23 => ValueKind::Int32,
        20 => ValueKind::Int64,
        26 => ValueKind::Oid,
        700 => ValueKind::Float32,
        701 => ValueKind::Float64,
        NUMERIC => numeric(typmod)?,
        // text, varchar, bpchar, name, "char", json
        25 | 1043 | 1042 | 19 | 18 | 114 => ValueKind::Text,
        3802 => ValueKind::Jsonb,
        2950 => ValueKind::Uuid,
        17 => ValueKind::Binary,
        1082 => ValueKind::Date,
        1083 => ValueKind::Time,
        1114 => ValueKind::Timestamp { tz: false },
        1184 => ValueKind::Timestamp { tz: true },
        1186 => ValueKind::Interval,
        _ => return None,
    })
}

/// numeric(p, s) fits Decimal128 when p ≤ 38; unconstrained numeric does not.
fn numeric(typmod: i32) -> Option<ValueKind> {
    if typmod < 4 {
        return None;
    }
    let packed = typmod - 4;
    let precision = (packed >> 16) & 0xffff;
    // The scale is 11 bits, signed since PostgreSQL 15.
    let scale = ((packed & 0x7ff) ^ 1024) - 1024;
    if !(1..=38).contains(&precision) {
        return None;
    }
    Some(ValueKind::Numeric {
        precision: precision as u8,
        scale: scale as i8,
    })
}
