//! MySQL and MariaDB column types as Arrow types, and how each column is selected so that
//! its values arrive in a form the row decoder turns into that type.

use std::collections::HashMap;

use arrow_schema::{DataType, Field, TimeUnit};

/// The field metadata key for a remark about how a column is read.
pub const NOTE: &str = "qualityd.note";

/// How a column appears in the SELECT list.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The column itself.
    Plain,
    /// `CAST(col AS CHAR)`: a type without a mapping, read as its text.
    Text,
    /// `ST_AsText(col)`: a spatial type, read as well-known text.
    Wkt,
}

/// A column of a table: its Arrow field and how it is read.
#[derive(Debug, Clone)]
pub struct ColumnInfo {
    pub name: String,
    pub field: Field,
    pub source: Source,
}

/// What information_schema.COLUMNS says about a column.
pub struct ColumnRow<'a> {
    pub name: &'a str,
    /// `DATA_TYPE`, e.g. `int`, `varchar`.
    pub data_type: &'a str,
    /// `COLUMN_TYPE`, e.g. `int(10) unsigned`, `tinyint(1)`, `decimal(10,2)`.
    pub column_type: &'a str,
    pub nullable: bool,
    pub precision: Option<u64>,
    pub scale: Option<u64>,
}

/// The Arrow field of a column, and how to select it.
pub fn column(row: &ColumnRow<'_>) -> ColumnInfo {
    let data_type = row.data_type.to_ascii_lowercase();
    let column_type = row.column_type.to_ascii_lowercase();
    let unsigned = column_type.contains("unsigned");
    let int = |signed: DataType, unsigned_type: DataType| match unsigned {
        true => unsigned_type,
        false => signed,
    };
    let mut note = None;
    let mut source = Source::Plain;
    let mut nullable = row.nullable;
    let arrow = match data_type.as_str() {
        "tinyint" => {
            if column_type.starts_with("tinyint(1)") {
                note = Some("TINYINT(1) (BOOLEAN) is read as an integer".to_string());
            }
            int(DataType::Int8, DataType::UInt8)
        }
        "smallint" => int(DataType::Int16, DataType::UInt16),
        "mediumint" | "int" | "integer" => int(DataType::Int32, DataType::UInt32),
        "bigint" => int(DataType::Int64, DataType::UInt64),
        "bit" => DataType::UInt64,
        "float" => DataType::Float32,
        "double" | "real" | "double precision" => DataType::Float64,
        "decimal" | "numeric" | "fixed" | "dec" => {
            let precision = row.precision.unwrap_or(10);
            let scale = row.scale.unwrap_or(0);
            if precision <= 38 {
                DataType::Decimal128(precision as u8, scale as i8)
            } else {
                note = Some(format!(
                    "DECIMAL({precision},{scale}) is wider than Arrow's Decimal128 (38 digits): \
                     read as text"
                ));
                DataType::Utf8
            }
        }
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set"
        | "json" => DataType::Utf8,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
            DataType::Binary
        }
        "date" | "datetime" | "timestamp" => {
            // Zero dates ('0000-00-00') are read as null, so these are nullable whatever
            // the column says.
            if !nullable {
                note = Some(format!(
                    "{} NOT NULL, but zero dates ('0000-00-00') are read as null",
                    data_type.to_ascii_uppercase()
                ));
                nullable = true;
            }
            match data_type.as_str() {
                "date" => DataType::Date32,
                "datetime" => DataType::Timestamp(TimeUnit::Microsecond, None),
                _ => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            }
        }
        "time" => DataType::Duration(TimeUnit::Microsecond),
        "year" => DataType::Int16,
        "geometry" | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" | "geomcollection" => {
            source = Source::Wkt;
            note = Some(format!(
                "{} is read as well-known text (ST_AsText)",
                data_type.to_ascii_uppercase()
            ));
            DataType::Utf8
        }
        _ => {
            source = Source::Text;
            note = Some(format!(
                "type `{}` has no Arrow mapping: read as text (CAST AS CHAR)",
                row.column_type
            ));
            DataType::Utf8
        }
    };
    let mut field = Field::new(row.name, arrow, nullable);
    if let Some(note) = note {
        field = field.with_metadata(HashMap::from([(NOTE.to_string(), note)]));
    }
    ColumnInfo {
        name: row.name.to_string(),
        field,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(data_type: &str, column_type: &str, nullable: bool) -> ColumnInfo {
        column(&ColumnRow {
            name: "c",
            data_type,
            column_type,
            nullable,
            precision: Some(65),
            scale: Some(30),
        })
    }

    #[test]
    fn types_map() {
        assert_eq!(
            map("int", "int(10) unsigned", true).field.data_type(),
            &DataType::UInt32
        );
        assert_eq!(
            map("tinyint", "tinyint(1)", true).field.data_type(),
            &DataType::Int8
        );
        assert!(
            map("tinyint", "tinyint(1)", true)
                .field
                .metadata()
                .contains_key(NOTE)
        );
        assert_eq!(
            map("decimal", "decimal(65,30)", true).field.data_type(),
            &DataType::Utf8
        );
        let date = map("date", "date", false);
        assert!(date.field.is_nullable());
        let uuid = map("uuid", "uuid", true);
        assert_eq!(
            (uuid.field.data_type(), uuid.source),
            (&DataType::Utf8, Source::Text)
        );
    }
}
