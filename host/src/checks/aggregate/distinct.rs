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
use std::collections::hash_map::Entry;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Schema};
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, SortField};
use xxhash_rust::xxh3::Xxh3DefaultBuilder;

use super::{Outcome, known, wrong_type};
use crate::checks::row::column;
use crate::checks::rule::Rule;
use crate::checks::values::{for_each_text, is_text, nulls};
use crate::checks::{Check, CheckError};

/// Where a value was first seen, and whether that row is already reported as a duplicate.
struct Seen {
    first_row: u64,
    reported: bool,
}

/// Distinct values of some fields, with their first rows and the rows that repeat them.
pub(super) struct Distinct {
    converter: RowConverter,
    seen: Keys,
    duplicates: Vec<u64>,
    /// For one integer field (an id, the usual `unique`): every (value, row) pair, sorted
    /// at the end instead of hashed as it comes. 16 bytes a row, appended without hashing,
    /// merged by concatenation, and one sort: several times faster than a map of millions.
    pairs: Option<Vec<(u64, u64)>>,
    /// For one text field: the strings themselves as keys, looked up without copying them
    /// into arrow's row format first.
    texts: Option<HashMap<Box<str>, Seen, Xxh3DefaultBuilder>>,
}

/// A single integer field's values as order-preserving `u64`s, or `None` for other types.
fn integer_keys(array: &dyn Array) -> Option<Vec<Option<u64>>> {
    use arrow::datatypes::{Int64Type, UInt64Type};
    let signed = |array: &dyn Array| {
        let values = cast(array, &DataType::Int64).ok()?;
        let values = values.as_primitive::<Int64Type>();
        Some(
            values
                .iter()
                .map(|v| v.map(|v| (v as u64) ^ (1 << 63)))
                .collect(),
        )
    };
    match array.data_type() {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => signed(array),
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 => signed(array),
        DataType::UInt64 => Some(array.as_primitive::<UInt64Type>().iter().collect()),
        _ => None,
    }
}

fn is_integer(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
    )
}

/// The keys seen: those of at most 16 bytes (an integer, a date, a pair of small numbers)
/// inline, without an allocation each; longer ones on the heap. A key's length decides its
/// map, so a value is never in both. Hashed with xxh3, several times faster than SipHash
/// here; the keys come from the container's data, so the hash is not exposed to anyone
/// choosing collisions except the data's own author.
#[derive(Default)]
struct Keys {
    short: HashMap<(u8, u128), Seen, Xxh3DefaultBuilder>,
    long: HashMap<Box<[u8]>, Seen, Xxh3DefaultBuilder>,
}

/// A key of at most 16 bytes, packed.
fn short(key: &[u8]) -> Option<(u8, u128)> {
    let mut packed = [0u8; 16];
    packed.get_mut(..key.len())?.copy_from_slice(key);
    Some((key.len() as u8, u128::from_le_bytes(packed)))
}

impl Keys {
    fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }

    /// The entry of `key`: its first sighting, or `None` after inserting `seen` for it.
    fn first_or_insert(&mut self, key: &[u8], seen: Seen) -> Option<&mut Seen> {
        match short(key) {
            Some(packed) => match self.short.entry(packed) {
                Entry::Occupied(entry) => Some(entry.into_mut()),
                Entry::Vacant(entry) => {
                    entry.insert(seen);
                    None
                }
            },
            None if self.long.contains_key(key) => self.long.get_mut(key),
            None => {
                self.long.insert(key.into(), seen);
                None
            }
        }
    }
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
            seen: Keys::default(),
            duplicates: Vec::new(),
            pairs: match check.fields.as_slice() {
                [name] if is_integer(known(check, schema, name)?.data_type()) => Some(Vec::new()),
                _ => None,
            },
            texts: match check.fields.as_slice() {
                [name] if is_text(known(check, schema, name)?.data_type()) => {
                    Some(HashMap::default())
                }
                _ => None,
            },
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
        if let Some(pairs) = &mut self.pairs {
            let name = &check.fields[0];
            let array = column(check, batch, name)?;
            let keys = integer_keys(array.as_ref())
                .ok_or_else(|| wrong_type_of(check, name, array.data_type()))?;
            let rows = first_row..;
            pairs.extend(
                keys.into_iter()
                    .zip(rows)
                    .filter_map(|(key, row)| Some((key?, row))),
            );
            return Ok(());
        }
        if let Some(texts) = &mut self.texts {
            let name = &check.fields[0];
            let array = column(check, batch, name)?;
            let mut row = first_row;
            let duplicates = &mut self.duplicates;
            let known = for_each_text(array.as_ref(), |value| {
                if let Some(value) = value {
                    match texts.get_mut(value) {
                        Some(first) => {
                            report(first, duplicates);
                            duplicates.push(row);
                        }
                        None => {
                            let seen = Seen {
                                first_row: row,
                                reported: false,
                            };
                            texts.insert(value.into(), seen);
                        }
                    }
                }
                row += 1;
            });
            return match known {
                true => Ok(()),
                false => Err(wrong_type_of(check, name, array.data_type())),
            };
        }
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
            let seen = Seen {
                first_row: row,
                reported: false,
            };
            if let Some(first) = self.seen.first_or_insert(key.as_ref(), seen) {
                report(first, &mut self.duplicates);
                self.duplicates.push(row);
            }
        }
        Ok(())
    }

    /// Fold in the map of the rows after this one's `rows` rows.
    pub fn merge(&mut self, other: Distinct, rows: u64) {
        if let (Some(mine), Some(theirs)) = (&mut self.pairs, other.pairs) {
            mine.extend(theirs.into_iter().map(|(key, row)| (key, row + rows)));
            return;
        }
        if let (Some(mine), Some(theirs)) = (&mut self.texts, other.texts) {
            self.duplicates
                .extend(other.duplicates.iter().map(|r| r + rows));
            for (key, theirs) in theirs {
                let first_row = theirs.first_row + rows;
                match mine.entry(key) {
                    Entry::Occupied(entry) => {
                        report(entry.into_mut(), &mut self.duplicates);
                        if !theirs.reported {
                            self.duplicates.push(first_row);
                        }
                    }
                    Entry::Vacant(entry) => {
                        entry.insert(Seen {
                            first_row,
                            reported: theirs.reported,
                        });
                    }
                }
            }
            return;
        }
        self.duplicates
            .extend(other.duplicates.iter().map(|r| r + rows));
        let Keys { short, long } = other.seen;
        let theirs = (short.into_iter().map(|(k, s)| (Key::Short(k), s)))
            .chain(long.into_iter().map(|(k, s)| (Key::Long(k), s)));
        for (key, theirs) in theirs {
            let first_row = theirs.first_row + rows;
            let seen = Seen {
                first_row,
                reported: theirs.reported,
            };
            let mine = match key {
                Key::Short(packed) => match self.seen.short.entry(packed) {
                    Entry::Occupied(entry) => Some(entry.into_mut()),
                    Entry::Vacant(entry) => {
                        entry.insert(seen);
                        None
                    }
                },
                Key::Long(bytes) => match self.seen.long.entry(bytes) {
                    Entry::Occupied(entry) => Some(entry.into_mut()),
                    Entry::Vacant(entry) => {
                        entry.insert(seen);
                        None
                    }
                },
            };
            if let Some(mine) = mine {
                report(mine, &mut self.duplicates);
                // Their first row is among their duplicates already when it was reported.
                if !theirs.reported {
                    self.duplicates.push(first_row);
                }
            }
        }
    }

    /// The outcome of `unique` or `distinct_count`.
    pub fn finish(mut self, rule: &Rule) -> Outcome {
        let mut distinct = self.seen.len() as u64;
        if let Some(texts) = &self.texts {
            distinct = texts.len() as u64;
        }
        if let Some(mut pairs) = self.pairs.take() {
            sort_by_key_in_parallel(&mut pairs);
            distinct = 0;
            for group in pairs.chunk_by(|a, b| a.0 == b.0) {
                distinct += 1;
                if group.len() > 1 {
                    self.duplicates.extend(group.iter().map(|(_, row)| row));
                }
            }
        }
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

/// A key taken from a map being merged.
enum Key {
    Short((u8, u128)),
    Long(Box<[u8]>),
}

/// Sort (key, row) pairs by key on every core: the scan is over, its readers are idle, and
/// one sort of millions of pairs would otherwise be the slowest step of a `unique` check.
fn sort_by_key_in_parallel(pairs: &mut Vec<(u64, u64)>) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = pairs.len().div_ceil(cores).max(1 << 16);
    std::thread::scope(|scope| {
        for part in pairs.chunks_mut(chunk) {
            scope.spawn(|| part.sort_unstable_by_key(|pair| pair.0));
        }
    });
    let mut width = chunk;
    while width < pairs.len() {
        let mut merged = Vec::with_capacity(pairs.len());
        for runs in pairs.chunks(2 * width) {
            let (left, right) = runs.split_at(width.min(runs.len()));
            let (mut l, mut r) = (0, 0);
            while l < left.len() && r < right.len() {
                if right[r].0 < left[l].0 {
                    merged.push(right[r]);
                    r += 1;
                } else {
                    merged.push(left[l]);
                    l += 1;
                }
            }
            merged.extend_from_slice(&left[l..]);
            merged.extend_from_slice(&right[r..]);
        }
        *pairs = merged;
        width *= 2;
    }
}

/// The error for a batch whose field changed type under the state.
fn wrong_type_of(check: &Check, field: &str, data_type: &DataType) -> CheckError {
    CheckError::UnsupportedType {
        check: check.label(),
        field: field.into(),
        data_type: data_type.to_string(),
        needs: "the integer type the check started with".into(),
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
    fn the_parallel_sort_sorts_runs_of_any_length_by_key() {
        for len in [0, 1, 65_536, 65_537, 300_001] {
            let mut pairs: Vec<(u64, u64)> = (0..len as u64)
                .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % 1000, i))
                .collect();
            let mut expected = pairs.clone();
            expected.sort_unstable();
            sort_by_key_in_parallel(&mut pairs);
            assert!(pairs.windows(2).all(|w| w[0].0 <= w[1].0), "{len}");
            pairs.sort_unstable();
            assert_eq!(pairs, expected, "{len}");
        }
    }

    #[test]
    fn unique_on_many_integers_finds_each_duplicated_row() {
        let unique = check(Rule::Unique, &["v"]);
        // 200 000 ids where every 50 000th repeats the one before it.
        let values = |range: std::ops::Range<i64>| {
            ints(
                range
                    .map(|i| Some(if i % 50_000 == 49_999 { i - 1 } else { i }))
                    .collect(),
            )
        };
        let outcome = run(
            &unique,
            vec![vec![values(0..100_000)], vec![values(100_000..200_000)]],
        );
        assert_eq!(
            outcome.failing_rows,
            [
                49_998, 49_999, 99_998, 99_999, 149_998, 149_999, 199_998, 199_999
            ]
        );
    }

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
