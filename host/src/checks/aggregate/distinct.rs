//! `unique` and `distinct_count`: an exact map from each distinct value (of the check's
//! fields together) to the row it first appeared in. Values are keyed by their bytes in
//! arrow's row format (exact for every type; floats first made `-0.0` = `0.0` and every NaN
//! one NaN). Rows with a null in any of the fields are left out, as SQL's `UNIQUE` and
//! `COUNT(DISTINCT)` leave them out.
//!
//! Memory grows with the distinct values, without bound: each costs its key on the heap (about
//! the value's size, padded to a multiple of 8 bytes, plus a few bytes per field, rounded up by
//! the allocator) and 32 bytes in the map (pointer, length, row number, flag) plus the map's
//! spare capacity, some 70–100 bytes per short value; ten million distinct short strings take
//! about a gigabyte. `unique` also keeps one row number (8 bytes) per duplicated row. When an
//! estimate is enough, the profiler's HyperLogLog counts distinct values in bounded memory.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Schema};
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, SortField};

use super::{Outcome, known, wrong_type};
use crate::checks::row::column;
use crate::checks::rule::Rule;
use crate::checks::values::nulls;
use crate::checks::{Check, CheckError};

/// Where a value was first seen, and whether that row is already reported as a duplicate.
struct Seen {
    first_row: u64,
    reported: bool,
}

/// Distinct values of some fields, with their first rows and the rows that repeat them.
pub(super) struct Distinct {
    converter: RowConverter,
    seen: HashMap<Box<[u8]>, Seen>,
    duplicates: Vec<u64>,
}

/// The type a field's values are keyed as: floats as f64 (normalised), the rest as they are.
fn key_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => DataType::Float64,
        other => other.clone(),
    }
}

/// A column ready for keying: floats as f64 with `-0.0` made `0.0` and NaNs made one NaN.
fn key_column(array: &ArrayRef) -> Result<ArrayRef, arrow::error::ArrowError> {
    if key_type(array.data_type()) != DataType::Float64 {
        return Ok(array.clone());
    }
    let floats = cast(array, &DataType::Float64)?;
    let normal = floats
        .as_primitive::<Float64Type>()
        .unary::<_, Float64Type>(|v| {
            if v == 0.0 {
                0.0
            } else if v.is_nan() {
                f64::NAN
            } else {
                v
            }
        });
    Ok(Arc::new(normal))
}

impl Distinct {
    /// An empty map for the check's fields.
    pub fn new(check: &Check, schema: &Schema) -> Result<Self, CheckError> {
        if check.fields.is_empty() {
            return Err(CheckError::FieldCount {
                check: check.label(),
                needs: "at least one field",
                found: 0,
            });
        }
        let mut sort_fields = Vec::with_capacity(check.fields.len());
        for name in &check.fields {
            let field = known(check, schema, name)?;
            let sort_field = SortField::new(key_type(field.data_type()));
            if !RowConverter::supports_fields(std::slice::from_ref(&sort_field)) {
                return Err(wrong_type(
                    check,
                    field,
                    "values that can be compared for equality",
                ));
            }
            sort_fields.push(sort_field);
        }
        let converter = RowConverter::new(sort_fields).map_err(|e| CheckError::Arrow {
            check: check.label(),
            field: check.fields.join(","),
            reason: e.to_string(),
        })?;
        Ok(Distinct {
            converter,
            seen: HashMap::new(),
            duplicates: Vec::new(),
        })
    }

    /// Add a batch whose first row is row `first_row`.
    pub fn update(
        &mut self,
        check: &Check,
        batch: &RecordBatch,
        first_row: u64,
    ) -> Result<(), CheckError> {
        let arrow_error = |e: arrow::error::ArrowError| CheckError::Arrow {
            check: check.label(),
            field: check.fields.join(","),
            reason: e.to_string(),
        };
        let columns = check
            .fields
            .iter()
            .map(|name| key_column(column(check, batch, name)?).map_err(arrow_error))
            .collect::<Result<Vec<_>, _>>()?;
        let keys = self
            .converter
            .convert_columns(&columns)
            .map_err(arrow_error)?;
        let mut skip = vec![false; batch.num_rows()];
        for column in &columns {
            for (skip, null) in skip.iter_mut().zip(nulls(column.as_ref())) {
                *skip |= null;
            }
        }
        for (i, key) in keys.iter().enumerate() {
            if skip[i] {
                continue;
            }
            let row = first_row + i as u64;
            match self.seen.get_mut(key.as_ref()) {
                Some(seen) => {
                    report(seen, &mut self.duplicates);
                    self.duplicates.push(row);
                }
                None => {
                    let seen = Seen {
                        first_row: row,
                        reported: false,
                    };
                    self.seen.insert(key.as_ref().into(), seen);
                }
            }
        }
        Ok(())
    }

    /// Fold in the map of the rows after this one's `rows` rows.
    pub fn merge(&mut self, other: Distinct, rows: u64) {
        self.duplicates
            .extend(other.duplicates.iter().map(|r| r + rows));
        for (key, theirs) in other.seen {
            let first_row = theirs.first_row + rows;
            match self.seen.get_mut(&key) {
                Some(mine) => {
                    report(mine, &mut self.duplicates);
                    // Their first row is among their duplicates already when it was reported.
                    if !theirs.reported {
                        self.duplicates.push(first_row);
                    }
                }
                None => {
                    let seen = Seen {
                        first_row,
                        reported: theirs.reported,
                    };
                    self.seen.insert(key, seen);
                }
            }
        }
    }

    /// The outcome of `unique` or `distinct_count`.
    pub fn finish(mut self, rule: &Rule) -> Outcome {
        let distinct = self.seen.len() as u64;
        if let Rule::DistinctCount { value } = rule {
            return Outcome {
                passed: distinct == *value,
                message: format!("{distinct} distinct values, expected {value}"),
                failing_rows: vec![],
            };
        }
        self.duplicates.sort_unstable();
        let message = if self.duplicates.is_empty() {
            format!("every value is unique ({distinct} distinct)")
        } else {
            format!(
                "{} rows share their value with another row",
                self.duplicates.len()
            )
        };
        Outcome {
            passed: self.duplicates.is_empty(),
            message,
            failing_rows: self.duplicates,
        }
    }
}

/// Adds a value's first row to the duplicates, once.
fn report(seen: &mut Seen, duplicates: &mut Vec<u64>) {
    if !seen.reported {
        duplicates.push(seen.first_row);
        seen.reported = true;
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{
        ArrayRef, DictionaryArray, Float32Array, Float64Array, Int32Array, LargeStringArray,
    };
    use arrow::datatypes::Int8Type;

    use super::*;
    use crate::checks::testing::{batch, check, ints, one, outcome as run};

    #[test]
    fn unique_reports_every_row_of_a_repeated_value_across_batches() {
        let unique = check(Rule::Unique, &["v"]);
        let dirty = vec![vec![
            ints(vec![Some(1), Some(2), Some(1), None, None, Some(3)]),
            ints(vec![Some(2), Some(i64::MIN)]),
        ]];
        let outcome = run(&unique, dirty);
        assert_eq!(
            (outcome.passed, outcome.failing_rows.as_slice()),
            (false, &[0, 1, 2, 6][..])
        );
        assert!(outcome.message.contains("4 rows"), "{}", outcome.message);
        let clean = vec![vec![
            ints(vec![Some(1), Some(2), None, None]),
            ints(vec![Some(i64::MIN), Some(i64::MAX)]),
        ]];
        let outcome = run(&unique, clean);
        assert!(
            outcome.passed && outcome.failing_rows.is_empty(),
            "{outcome:?}"
        );
    }

    #[test]
    fn unique_merges_partitions_numbering_their_rows_in_order() {
        let unique = check(Rule::Unique, &["v"]);
        // Partition rows 0-1, 2-4, 5-6: 2 repeats across the first two, 3 within the second,
        // and 9 across the last two after being reported in neither alone.
        let outcome = run(
            &unique,
            vec![
                vec![ints(vec![Some(1), Some(2)])],
                vec![ints(vec![Some(2), Some(3), Some(3)])],
                vec![ints(vec![Some(3), Some(4)])],
            ],
        );
        assert_eq!(outcome.failing_rows, [1, 2, 3, 4, 5]);
        let outcome = run(
            &unique,
            vec![
                vec![ints(vec![Some(9)])],
                vec![ints(vec![Some(9), Some(9)])],
                vec![ints(vec![Some(9)])],
            ],
        );
        assert_eq!(outcome.failing_rows, [0, 1, 2, 3]);
    }

    #[test]
    fn unique_treats_negative_zero_as_zero_and_nans_as_one_value() {
        let unique = check(Rule::Unique, &["v"]);
        let floats = one(Float64Array::from(vec![
            Some(0.0),
            Some(-0.0),
            Some(f64::NAN),
            Some(1.5),
            Some(-f64::NAN),
            None,
            None,
        ]));
        assert_eq!(run(&unique, vec![vec![floats]]).failing_rows, [0, 1, 2, 4]);
        let clean = one(Float32Array::from(vec![
            Some(0.0),
            Some(f32::NAN),
            Some(f32::INFINITY),
            None,
        ]));
        assert!(run(&unique, vec![vec![clean]]).passed);
    }

    #[test]
    fn unique_over_several_fields_and_text_encodings() {
        let unique = check(Rule::Unique, &["code", "n"]);
        let codes: DictionaryArray<Int8Type> = vec![
            Some("a"),
            Some("a"),
            Some("b"),
            Some("a"),
            Some(""),
            Some(""),
            None,
            None,
        ]
        .into_iter()
        .collect();
        let data = batch(vec![
            ("code", Arc::new(codes) as ArrayRef),
            (
                "n",
                Arc::new(Int32Array::from(vec![
                    Some(1),
                    Some(2),
                    Some(1),
                    Some(1),
                    Some(0),
                    Some(0),
                    Some(5),
                    Some(5),
                ])) as _,
            ),
        ]);
        // Rows 6 and 7 have a null code: left out, as SQL leaves them out.
        assert_eq!(run(&unique, vec![vec![data]]).failing_rows, [0, 3, 4, 5]);
        let large = one(LargeStringArray::from(vec![
            Some(""),
            Some(" "),
            Some(""),
            None,
        ]));
        assert_eq!(
            run(&check(Rule::Unique, &["v"]), vec![vec![large]]).failing_rows,
            [0, 2]
        );
    }

    #[test]
    fn distinct_count_counts_non_null_values_across_partitions() {
        let two = check(Rule::DistinctCount { value: 2 }, &["v"]);
        let parts = || {
            vec![
                vec![ints(vec![Some(1), None, Some(1)])],
                vec![ints(vec![Some(2), None])],
            ]
        };
        let outcome = run(&two, parts());
        assert!(
            outcome.passed && outcome.failing_rows.is_empty(),
            "{outcome:?}"
        );
        let three = check(Rule::DistinctCount { value: 3 }, &["v"]);
        let outcome = run(&three, parts());
        assert_eq!(
            (outcome.passed, outcome.message.as_str()),
            (false, "2 distinct values, expected 3")
        );
    }
}
