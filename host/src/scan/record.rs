//! Failing source records: the rows a check failed, kept (up to a limit) as they were read,
//! so an anomaly shows the data that caused it.

use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde::{Deserialize, Serialize};

/// A row a check failed, with every field of the container as text (`null` for nulls).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailingRecord {
    /// The row's number in the container, counted from 0 in read order (partition by
    /// partition).
    pub row: u64,
    /// The row's values by field name (keys sorted by name).
    pub values: serde_json::Map<String, serde_json::Value>,
}

impl FailingRecord {
    /// The row `index` of `batch`, whose first row is row `first_row` of the container.
    pub fn from_batch(batch: &RecordBatch, index: usize, first_row: u64) -> Self {
        let options = FormatOptions::default().with_null("");
        let mut values = serde_json::Map::with_capacity(batch.num_columns());
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            let value = if column.is_null(index) {
                serde_json::Value::Null
            } else {
                match ArrayFormatter::try_new(column.as_ref(), &options) {
                    Ok(formatter) => serde_json::Value::String(formatter.value(index).to_string()),
                    Err(e) => serde_json::Value::String(format!("<{e}>")),
                }
            };
            values.insert(field.name().clone(), value);
        }
        FailingRecord {
            row: first_row + index as u64,
            values,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    #[test]
    fn a_record_keeps_every_field_as_text_and_nulls_as_null() {
        let schema = Schema::new(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("amount", DataType::Float64, true),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(vec![Some("a"), None])),
                Arc::new(Float64Array::from(vec![None, Some(-2.5)])),
            ],
        )
        .expect("a batch");
        let record = FailingRecord::from_batch(&batch, 1, 100);
        assert_eq!(record.row, 101);
        assert_eq!(
            serde_json::Value::Object(record.values),
            serde_json::json!({"name": null, "amount": "-2.5"})
        );
    }
}
