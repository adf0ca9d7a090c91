//! `field_count` and `expected_schema`: rules about the container's schema, decided when the
//! state is made (every batch of a container has its schema).

use arrow::datatypes::{DataType, Schema};

use super::Outcome;
use crate::checks::params::{FieldType, SchemaField};
use crate::checks::values::is_text;
use crate::profile::Kind;

/// The type family of an Arrow type, `None` for nested and other types.
pub(super) fn family(data_type: &DataType) -> Option<FieldType> {
    if is_text(data_type) {
        return Some(FieldType::String);
    }
    Some(match Kind::of(data_type) {
        Kind::Signed | Kind::Unsigned => FieldType::Integer,
        Kind::Float => FieldType::Float,
        Kind::Boolean => FieldType::Boolean,
        Kind::Date => FieldType::Date,
        Kind::Timestamp(..) => FieldType::Timestamp,
        Kind::Time => FieldType::Time,
        _ => match data_type {
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_) => FieldType::Binary,
            _ => return None,
        },
    })
}

/// Passes when the schema has `value` fields.
pub(super) fn field_count(schema: &Schema, value: u64) -> Outcome {
    let count = schema.fields().len() as u64;
    Outcome {
        passed: count == value,
        message: format!("{count} fields, expected {value}"),
        failing_rows: vec![],
    }
}

/// Passes when the schema has every expected field, of its type when one is given, and no
/// others unless they are allowed.
pub(super) fn expected(
    schema: &Schema,
    fields: &[SchemaField],
    allow_other_fields: bool,
) -> Outcome {
    let mut problems = Vec::new();
    for expected in fields {
        match schema.field_with_name(&expected.name) {
            Err(_) => problems.push(format!("`{}` is missing", expected.name)),
            Ok(field) => {
                if let Some(wanted) = expected.field_type
                    && family(field.data_type()) != Some(wanted)
                {
                    problems.push(format!(
                        "`{}` is {}, expected {}",
                        expected.name,
                        field.data_type(),
                        serde_json::to_value(wanted)
                            .map(|v| v.as_str().unwrap_or_default().to_owned())
                            .unwrap_or_default()
                    ));
                }
            }
        }
    }
    if !allow_other_fields {
        for field in schema.fields() {
            if !fields.iter().any(|f| &f.name == field.name()) {
                problems.push(format!("`{}` is not expected", field.name()));
            }
        }
    }
    Outcome {
        passed: problems.is_empty(),
        message: if problems.is_empty() {
            format!("the schema has the {} expected fields", fields.len())
        } else {
            problems.join("; ")
        },
        failing_rows: vec![],
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::datatypes::{Field, TimeUnit};
    use arrow::record_batch::RecordBatch;

    use super::*;
    use crate::checks::Rule;
    use crate::checks::testing::{check, outcome as run};

    #[test]
    fn schema_rules_compare_names_types_and_count() {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true,
            ),
            Field::new(
                "name",
                DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8)),
                true,
            ),
        ]);
        let batch = RecordBatch::new_empty(Arc::new(schema));
        let count = |value| {
            run(
                &check(Rule::FieldCount { value }, &[]),
                vec![vec![batch.clone()]],
            )
        };
        assert!(count(3).passed);
        assert_eq!(count(4).message, "3 fields, expected 4");
        let field = |name: &str, field_type| SchemaField {
            name: name.into(),
            field_type,
        };
        let expected = |fields, allow_other_fields| Rule::ExpectedSchema {
            fields,
            allow_other_fields,
        };
        let exact = expected(
            vec![
                field("id", Some(FieldType::Integer)),
                field("at", Some(FieldType::Timestamp)),
                field("name", Some(FieldType::String)),
            ],
            false,
        );
        assert!(run(&check(exact, &[]), vec![vec![batch.clone()]]).passed);
        let wrong = expected(
            vec![field("id", Some(FieldType::String)), field("gone", None)],
            false,
        );
        let outcome = run(&check(wrong, &[]), vec![vec![batch.clone()]]);
        assert_eq!(
            outcome.message,
            "`id` is Int64, expected string; `gone` is missing; `at` is not expected; `name` is not expected"
        );
        let subset = expected(vec![field("at", None)], true);
        assert!(run(&check(subset, &[]), vec![vec![batch]]).passed);
    }
}
