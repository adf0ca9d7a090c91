//! Rules against a second container (possibly of another datastore): `exists_in` and
//! `not_exists_in` look each value up in the set of another container's field values;
//! `aggregation_comparison` compares a SQL aggregate of this container with one of the
//! other; `data_diff` matches each row with the other's by identifying fields and compares
//! digests of their values. The scan reads the other container first, into a [`ValueSet`],
//! an [`SqlAggregate`] or [`RowDigests`]; the rule then runs over this container's batches
//! like any other.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Schema};
use arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3DefaultBuilder;

use super::params::{Comparison, Number};
use super::values::{Instants, Numbers, for_each_text};
use super::{Check, CheckError, Rule, SqlExpression};

/// The most distinct values a reference field may hold: the set lives in memory.
pub const MAX_REFERENCE_VALUES: usize = 10_000_000;

/// What a rule needs read from another container before the scan.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Reference {
    /// The other datastore; `None` for the check's own.
    pub datastore: Option<String>,
    /// The other container.
    pub container: String,
    /// What is read from it.
    pub read: ReferenceRead,
}

/// What is read from the other container.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ReferenceRead {
    /// The distinct values of a field.
    Values(String),
    /// A SQL aggregate (`SUM(amount)`).
    Aggregate(String),
    /// Each row's identifiers and a digest of the compared fields (all but the identifiers
    /// when none are listed).
    Rows {
        /// The fields that identify a row.
        identifiers: Vec<String>,
        /// The fields compared.
        fields: Vec<String>,
    },
}

/// What was read from another container.
#[derive(Debug)]
pub enum Referenced {
    /// A field's distinct values.
    Values(ValueSet),
    /// An aggregate's value (`None`: SQL's NULL).
    Aggregate(Option<f64>),
    /// Row digests by identifiers.
    Rows(RowDigests),
}

/// The other containers a scan read, by what was read from them; an error says why one
/// could not be read.
pub type ReferenceData = BTreeMap<Reference, Result<Arc<Referenced>, String>>;

impl Rule {
    /// Whether the rule fails individual rows (row rules, `exists_in`, `not_exists_in`),
    /// rather than the container as a whole.
    pub fn fails_rows(&self) -> bool {
        use super::Evaluation;
        match self.evaluation() {
            Evaluation::Row => true,
            Evaluation::Reference => !matches!(self, Rule::AggregationComparison { .. }),
            _ => false,
        }
    }

    /// What the rule needs read from another container, if anything.
    pub fn reference(&self) -> Option<Reference> {
        match self {
            Rule::ExistsIn {
                container,
                field,
                datastore,
            }
            | Rule::NotExistsIn {
                container,
                field,
                datastore,
            } => Some(Reference {
                datastore: datastore.clone(),
                container: container.clone(),
                read: ReferenceRead::Values(field.clone()),
            }),
            Rule::AggregationComparison {
                ref_container,
                ref_expression,
                ref_datastore,
                ..
            } => Some(Reference {
                datastore: ref_datastore.clone(),
                container: ref_container.clone(),
                read: ReferenceRead::Aggregate(ref_expression.clone()),
            }),
            _ => None,
        }
    }

    /// The reference of a `data_diff` check, which also depends on the check's fields.
    pub fn row_reference(check: &Check) -> Option<Reference> {
        match &check.rule {
            Rule::DataDiff {
                ref_container,
                row_identifiers,
                ref_datastore,
            } => Some(Reference {
                datastore: ref_datastore.clone(),
                container: ref_container.clone(),
                read: ReferenceRead::Rows {
                    identifiers: row_identifiers.clone(),
                    fields: check.fields.clone(),
                },
            }),
            _ => None,
        }
    }
}

impl Check {
    /// What the check needs read from another container, if anything.
    pub fn reference(&self) -> Option<Reference> {
        Rule::row_reference(self).or_else(|| self.rule.reference())
    }
}

/// A value as a set keeps it: numbers by value (`3` and `3.0` are one), instants in
/// nanoseconds, text exactly, booleans.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Int(i128),
    Float(u64),
    Instant(i128),
    Text(String),
    Bool(bool),
}

impl Key {
    /// The key's bytes, tagged by kind, for a digest.
    fn encode(key: Option<&Key>, out: &mut Vec<u8>) {
        match key {
            None => out.push(0),
            Some(Key::Int(v)) => {
                out.push(1);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Some(Key::Float(v)) => {
                out.push(2);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Some(Key::Instant(v)) => {
                out.push(3);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Some(Key::Text(v)) => {
                out.push(4);
                out.extend_from_slice(&(v.len() as u64).to_le_bytes());
                out.extend_from_slice(v.as_bytes());
            }
            Some(Key::Bool(v)) => out.extend_from_slice(&[5, u8::from(*v)]),
        }
    }
}

fn number_key(n: Number) -> Key {
    match n {
        Number::Int(v) => Key::Int(v as i128),
        Number::UInt(v) => Key::Int(v as i128),
        Number::Float(f) if f.fract() == 0.0 && f.abs() < 1e30 => Key::Int(f as i128),
        // -0.0 was caught above (its fraction is 0); NaNs are one value.
        Number::Float(f) if f.is_nan() => Key::Float(f64::NAN.to_bits()),
        Number::Float(f) => Key::Float(f.to_bits()),
    }
}

/// Each row's key (`None` for nulls), or the error for a type no key is made of.
fn keys(check: &Check, field: &str, array: &dyn Array) -> Result<Vec<Option<Key>>, CheckError> {
    if let Some(numbers) = Numbers::of(array) {
        return Ok((0..array.len())
            .map(|i| numbers.get(i).map(number_key))
            .collect());
    }
    if let Some(instants) = Instants::of(array) {
        return Ok((0..array.len())
            .map(|i| instants.get(i).map(Key::Instant))
            .collect());
    }
    if let DataType::Boolean = array.data_type() {
        return Ok(array
            .as_boolean()
            .iter()
            .map(|v| v.map(Key::Bool))
            .collect());
    }
    let mut out = Vec::with_capacity(array.len());
    if for_each_text(array, |v| out.push(v.map(|s| Key::Text(s.to_owned())))) {
        return Ok(out);
    }
    Err(CheckError::UnsupportedType {
        check: check.label(),
        field: field.into(),
        data_type: array.data_type().to_string(),
        needs: "numbers, dates, timestamps, text or booleans".into(),
    })
}

/// The distinct non-null values of another container's field.
#[derive(Debug, Default)]
pub struct ValueSet {
    values: HashSet<Key>,
}

impl ValueSet {
    /// Add a batch's values of `field` (of the check that needs the set).
    pub fn add(&mut self, check: &Check, field: &str, array: &dyn Array) -> Result<(), CheckError> {
        self.values
            .extend(keys(check, field, array)?.into_iter().flatten());
        self.within(check, MAX_REFERENCE_VALUES)
    }

    /// Fold in the values of another part of the container; past [`MAX_REFERENCE_VALUES`]
    /// distinct values together, an error (as for [`ValueSet::add`]).
    pub fn merge(&mut self, check: &Check, other: ValueSet) -> Result<(), CheckError> {
        self.merge_within(check, other, MAX_REFERENCE_VALUES)
    }

    fn merge_within(
        &mut self,
        check: &Check,
        other: ValueSet,
        cap: usize,
    ) -> Result<(), CheckError> {
        // The smaller set goes into the larger; each is within the cap already.
        if other.values.len() > self.values.len() {
            let mine = std::mem::replace(&mut self.values, other.values);
            self.values.extend(mine);
        } else {
            self.values.extend(other.values);
        }
        self.within(check, cap)
    }

    fn within(&self, check: &Check, cap: usize) -> Result<(), CheckError> {
        if self.values.len() > cap {
            return Err(CheckError::Parameter {
                check: check.label(),
                parameter: "field",
                reason: format!(
                    "has more than {cap} distinct values, more than a scan holds in memory; \
                     check a narrower field or filter the reference"
                ),
            });
        }
        Ok(())
    }

    /// How many distinct values it holds.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The rows of `batch` failing `check` (`exists_in`: a value not in the set;
    /// `not_exists_in`: a value in it). Nulls never fail.
    pub fn failing_rows(
        &self,
        check: &Check,
        batch: &RecordBatch,
    ) -> Result<BooleanArray, CheckError> {
        let absent_fails = match &check.rule {
            Rule::ExistsIn { .. } => true,
            Rule::NotExistsIn { .. } => false,
            _ => {
                return Err(CheckError::WrongEvaluation {
                    check: check.label(),
                    rule: check.rule.name(),
                    kind: "not a lookup rule",
                    with: "its own evaluation",
                });
            }
        };
        if check.fields.is_empty() {
            return Err(CheckError::FieldCount {
                check: check.label(),
                needs: "at least one field",
                found: 0,
            });
        }
        let mut failing = vec![false; batch.num_rows()];
        for field in &check.fields {
            let array = super::row::column(check, batch, field)?;
            for (row, key) in keys(check, field, array.as_ref())?.into_iter().enumerate() {
                if let Some(key) = key {
                    failing[row] |= self.values.contains(&key) != absent_fails;
                }
            }
        }
        Ok(BooleanArray::from(failing))
    }
}

/// Each row of a batch as (identifiers' digest, compared values' digest); `None` for a row
/// with a null identifier, which matches nothing.
fn digests(
    check: &Check,
    batch: &RecordBatch,
    identifiers: &[String],
    fields: &[String],
) -> Result<Vec<Option<(u128, u64)>>, CheckError> {
    let columns = |names: &[String]| {
        names
            .iter()
            .map(|name| {
                keys(
                    check,
                    name,
                    super::row::column(check, batch, name)?.as_ref(),
                )
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let ids = columns(identifiers)?;
    let values = columns(fields)?;
    let mut buffer = Vec::new();
    Ok((0..batch.num_rows())
        .map(|row| {
            buffer.clear();
            for column in &ids {
                Key::encode(Some(column[row].as_ref()?), &mut buffer);
            }
            let id = xxhash_rust::xxh3::xxh3_128(&buffer);
            buffer.clear();
            for column in &values {
                Key::encode(column[row].as_ref(), &mut buffer);
            }
            Some((id, xxhash_rust::xxh3::xxh3_64(&buffer)))
        })
        .collect())
}

/// Another container's rows for `data_diff`: a digest of each row's compared values by a
/// digest of its identifiers (128 bits: a collision is not a practical worry), in memory,
/// at most [`MAX_REFERENCE_VALUES`] rows.
#[derive(Debug, Default)]
pub struct RowDigests {
    /// The fields compared.
    pub fields: Vec<String>,
    rows: HashMap<u128, u64, Xxh3DefaultBuilder>,
    /// Rows whose identifiers another row had already (the first one is kept).
    pub repeated: u64,
}

impl RowDigests {
    /// An empty set comparing `fields`.
    pub fn new(fields: Vec<String>) -> Self {
        RowDigests {
            fields,
            ..RowDigests::default()
        }
    }

    /// Add a batch of the other container.
    pub fn add(
        &mut self,
        check: &Check,
        batch: &RecordBatch,
        identifiers: &[String],
    ) -> Result<(), CheckError> {
        for (id, digest) in digests(check, batch, identifiers, &self.fields)?
            .into_iter()
            .flatten()
        {
            match self.rows.entry(id) {
                Entry::Occupied(_) => self.repeated += 1,
                Entry::Vacant(entry) => {
                    entry.insert(digest);
                }
            }
        }
        self.within(check, MAX_REFERENCE_VALUES)
    }

    /// Fold in the rows of a later part of the container; past [`MAX_REFERENCE_VALUES`]
    /// rows together, an error (as for [`RowDigests::add`]).
    pub fn merge(&mut self, check: &Check, other: RowDigests) -> Result<(), CheckError> {
        self.merge_within(check, other, MAX_REFERENCE_VALUES)
    }

    fn merge_within(
        &mut self,
        check: &Check,
        other: RowDigests,
        cap: usize,
    ) -> Result<(), CheckError> {
        for (id, digest) in other.rows {
            match self.rows.entry(id) {
                Entry::Occupied(_) => self.repeated += 1,
                Entry::Vacant(entry) => {
                    entry.insert(digest);
                }
            }
            // Checked as it grows: the merged map never holds more than the cap and one.
            self.within(check, cap)?;
        }
        self.repeated += other.repeated;
        Ok(())
    }

    fn within(&self, check: &Check, cap: usize) -> Result<(), CheckError> {
        if self.rows.len() > cap {
            return Err(CheckError::Parameter {
                check: check.label(),
                parameter: "ref_container",
                reason: format!("has more than {cap} rows, more than a scan holds in memory"),
            });
        }
        Ok(())
    }

    /// How many rows it holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows of `batch` that differ (no row with their identifiers, or other values),
    /// and the identifiers of every row the other container has too, to count the other's
    /// rows missing here.
    pub fn failing_rows(
        &self,
        check: &Check,
        batch: &RecordBatch,
        identifiers: &[String],
        seen: &mut HashSet<u128, Xxh3DefaultBuilder>,
    ) -> Result<BooleanArray, CheckError> {
        let rows = digests(check, batch, identifiers, &self.fields)?;
        Ok(rows
            .into_iter()
            .map(|row| match row {
                None => true,
                Some((id, digest)) => {
                    let theirs = self.rows.get(&id);
                    // Only identifiers the other container has: `seen` stays within its cap
                    // however many rows this one has.
                    if theirs.is_some() {
                        seen.insert(id);
                    }
                    theirs != Some(&digest)
                }
            })
            .collect::<Vec<bool>>()
            .into())
    }

    /// The other's rows whose identifiers are not among `seen`.
    pub fn missing(&self, seen: &HashSet<u128, Xxh3DefaultBuilder>) -> usize {
        self.rows.keys().filter(|id| !seen.contains(id)).count()
    }
}

/// The SQL aggregates `aggregation_comparison` takes: `SUM`, `AVG`, `MIN`, `MAX` or `COUNT`
/// of a SQL expression (`COUNT(*)` counts rows), kept as a running state.
#[derive(Debug, Clone)]
pub struct SqlAggregate {
    function: Function,
    /// `None` for `COUNT(*)`.
    expression: Option<SqlExpression>,
    rows: u64,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Function {
    Sum,
    Avg,
    Min,
    Max,
    Count,
}

impl SqlAggregate {
    /// Compile `sql` (`SUM(amount * 2)`) against a container's schema.
    pub fn compile(check: &Check, sql: &str, schema: &Schema) -> Result<Self, CheckError> {
        let bad = |reason: &str| CheckError::Expression {
            check: check.label(),
            expression: sql.into(),
            reason: format!(
                "{reason}; write SUM, AVG, MIN, MAX or COUNT of an expression, e.g. SUM(amount) \
                 or COUNT(*)"
            ),
        };
        let text = sql.trim();
        let (name, rest) = text
            .split_once('(')
            .ok_or_else(|| bad("is not an aggregate"))?;
        let inner = rest
            .strip_suffix(')')
            .ok_or_else(|| bad("does not end with `)`"))?
            .trim();
        let function = match name.trim().to_ascii_uppercase().as_str() {
            "SUM" => Function::Sum,
            "AVG" => Function::Avg,
            "MIN" => Function::Min,
            "MAX" => Function::Max,
            "COUNT" => Function::Count,
            other => return Err(bad(&format!("`{other}` is not a supported aggregate"))),
        };
        let expression = match (function, inner) {
            (Function::Count, "*") => None,
            (_, "*") => return Err(bad("only COUNT takes `*`")),
            _ => Some(SqlExpression::compile(check, inner, schema)?),
        };
        Ok(SqlAggregate {
            function,
            expression,
            rows: 0,
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        })
    }

    /// Add a batch.
    pub fn update(&mut self, check: &Check, batch: &RecordBatch) -> Result<(), CheckError> {
        self.rows += batch.num_rows() as u64;
        let Some(expression) = &self.expression else {
            return Ok(());
        };
        let values: ArrayRef = expression.evaluate(batch)?;
        let values = cast(&values, &DataType::Float64).map_err(|e| CheckError::Expression {
            check: check.label(),
            expression: expression.sql().into(),
            reason: format!("gives {} values, not numbers ({e})", values.data_type()),
        })?;
        for value in values.as_primitive::<Float64Type>().iter().flatten() {
            self.count += 1;
            self.sum += value;
            self.min = self.min.min(value);
            self.max = self.max.max(value);
        }
        Ok(())
    }

    /// Fold in the state over other rows of the container.
    pub fn merge(&mut self, other: &SqlAggregate) {
        self.rows += other.rows;
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// The aggregate's value; `None` (SQL's NULL) for SUM, AVG, MIN and MAX of no values.
    pub fn value(&self) -> Option<f64> {
        match (self.function, self.count) {
            (Function::Count, _) if self.expression.is_none() => Some(self.rows as f64),
            (Function::Count, count) => Some(count as f64),
            (_, 0) => None,
            (Function::Sum, _) => Some(self.sum),
            (Function::Avg, count) => Some(self.sum / count as f64),
            (Function::Min, _) => Some(self.min),
            (Function::Max, _) => Some(self.max),
        }
    }
}

/// Whether `value` compares with `reference` as `comparison` asks, and the message.
pub fn judge_comparison(
    expression: &str,
    value: Option<f64>,
    comparison: Comparison,
    ref_expression: &str,
    reference: Option<f64>,
) -> (bool, String) {
    let shown = |v: Option<f64>| v.map_or("NULL".to_owned(), |v| v.to_string());
    let (symbol, holds) = match (value, reference) {
        (Some(a), Some(b)) => match comparison {
            Comparison::Eq => ("=", a == b),
            Comparison::Lt => ("<", a < b),
            Comparison::Lte => ("<=", a <= b),
            Comparison::Gt => (">", a > b),
            Comparison::Gte => (">=", a >= b),
        },
        _ => ("compared with", false),
    };
    let verdict = if holds { "holds" } else { "does not hold" };
    (
        holds,
        format!(
            "{expression} = {} {symbol} {ref_expression} = {} {verdict}",
            shown(value),
            shown(reference)
        ),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int32Array, Int64Array, StringArray};

    use super::*;
    use crate::checks::testing::{batch, check};

    fn exists_in(fields: &[&str]) -> Check {
        let rule = Rule::ExistsIn {
            container: "customers".into(),
            field: "id".into(),
            datastore: None,
        };
        check(rule, fields)
    }

    fn set_of(check: &Check, array: &dyn Array) -> ValueSet {
        let mut set = ValueSet::default();
        set.add(check, "id", array).expect("keys");
        set
    }

    #[test]
    fn exists_in_fails_exactly_the_values_missing_from_the_other_field() {
        let check = exists_in(&["customer"]);
        // The reference is Int32; the checked field Int64 and floats: numbers match by value.
        let mut set = set_of(
            &check,
            &Int32Array::from(vec![Some(1), Some(2), None, Some(3)]),
        );
        set.merge(&check, set_of(&check, &Int32Array::from(vec![Some(7)])))
            .expect("within the cap");
        assert_eq!(set.len(), 4);
        let orders = batch(vec![(
            "customer",
            Arc::new(Int64Array::from(vec![
                Some(1),
                Some(9),
                None,
                Some(7),
                Some(4),
            ])) as _,
        )]);
        let failing = set.failing_rows(&check, &orders).expect("evaluates");
        assert_eq!(
            failing,
            BooleanArray::from(vec![false, true, false, false, true])
        );
        let floats = batch(vec![(
            "customer",
            Arc::new(Float64Array::from(vec![1.0, 2.5, -0.0, 3.0])) as _,
        )]);
        let failing = set.failing_rows(&check, &floats).expect("evaluates");
        assert_eq!(failing, BooleanArray::from(vec![false, true, true, false]));
        // The clean copy.
        let clean = batch(vec![(
            "customer",
            Arc::new(Int64Array::from(vec![Some(3), None, Some(7)])) as _,
        )]);
        assert_eq!(set.failing_rows(&check, &clean).unwrap().true_count(), 0);
    }

    #[test]
    fn not_exists_in_fails_the_values_found_and_text_matches_exactly() {
        let rule = Rule::NotExistsIn {
            container: "blocked".into(),
            field: "id".into(),
            datastore: Some("crm".into()),
        };
        let check = check(rule, &["email"]);
        let set = set_of(&check, &StringArray::from(vec!["a@x.com", "", "B@x.com"]));
        let emails = batch(vec![(
            "email",
            Arc::new(StringArray::from(vec![
                Some("a@x.com"),
                Some("b@x.com"),
                Some(""),
                None,
                Some("A@x.com "),
            ])) as _,
        )]);
        let failing = set.failing_rows(&check, &emails).expect("evaluates");
        assert_eq!(
            failing,
            BooleanArray::from(vec![true, false, true, false, false])
        );
        assert_eq!(
            check.rule.reference().unwrap().datastore.as_deref(),
            Some("crm")
        );
    }

    #[test]
    fn a_reference_of_a_type_without_keys_is_an_error_naming_the_field() {
        let check = exists_in(&["v"]);
        let list = arrow::array::ListArray::from_iter_primitive::<arrow::datatypes::Int32Type, _, _>(
            vec![Some(vec![Some(1)])],
        );
        let error = ValueSet::default().add(&check, "id", &list).unwrap_err();
        assert!(
            matches!(error, CheckError::UnsupportedType { .. }),
            "{error}"
        );
    }

    #[test]
    fn merges_apply_the_reference_cap() {
        // Each part is within the cap alone; together they pass it.
        let check = exists_in(&["customer"]);
        let mut set = set_of(&check, &Int32Array::from(vec![1, 2, 3]));
        let error = set
            .merge_within(&check, set_of(&check, &Int32Array::from(vec![4, 5])), 4)
            .unwrap_err();
        assert!(
            error.to_string().contains("more than 4 distinct values"),
            "{error}"
        );
        let mut small = set_of(&check, &Int32Array::from(vec![1]));
        let big = set_of(&check, &Int32Array::from(vec![1, 2, 3]));
        small.merge_within(&check, big, 4).expect("within the cap");
        assert_eq!(small.len(), 3);

        let rule = Rule::DataDiff {
            ref_container: "copy".into(),
            row_identifiers: vec!["id".into()],
            ref_datastore: None,
        };
        let check = crate::checks::testing::check(rule, &["name"]);
        let identifiers = ["id".to_owned()];
        let rows = |ids: Vec<i64>| {
            let names: Vec<String> = ids.iter().map(|id| format!("n{id}")).collect();
            let mut digests = RowDigests::new(vec!["name".into()]);
            let table = batch(vec![
                ("id", Arc::new(Int64Array::from(ids)) as _),
                ("name", Arc::new(StringArray::from(names)) as _),
            ]);
            digests.add(&check, &table, &identifiers).expect("digests");
            digests
        };
        let mut digests = rows(vec![1, 2, 3]);
        let error = digests
            .merge_within(&check, rows(vec![4, 5, 6]), 4)
            .unwrap_err();
        assert!(error.to_string().contains("more than 4 rows"), "{error}");
        assert!(digests.len() <= 5, "stopped as it passed the cap");
    }

    #[test]
    fn data_diff_fails_rows_that_differ_or_are_missing_and_counts_the_others_missing() {
        let rule = Rule::DataDiff {
            ref_container: "copy".into(),
            row_identifiers: vec!["id".into()],
            ref_datastore: None,
        };
        let check = check(rule, &["name", "amount"]);
        let identifiers = ["id".to_owned()];
        let table = |ids: Vec<Option<i64>>, names: Vec<&str>, amounts: Vec<f64>| {
            batch(vec![
                ("id", Arc::new(Int64Array::from(ids)) as _),
                ("name", Arc::new(StringArray::from(names)) as _),
                ("amount", Arc::new(Float64Array::from(amounts)) as _),
            ])
        };
        let mut other = RowDigests::new(vec!["name".into(), "amount".into()]);
        let first = table(vec![Some(1), Some(2)], vec!["a", "b"], vec![1.0, 2.0]);
        other.add(&check, &first, &identifiers).expect("digests");
        let mut rest = RowDigests::new(other.fields.clone());
        let second = table(
            vec![Some(3), Some(4), Some(4)],
            vec!["c", "d", "x"],
            vec![3.0, 4.0, 9.0],
        );
        rest.add(&check, &second, &identifiers).expect("digests");
        other.merge(&check, rest).expect("within the cap");
        assert_eq!((other.len(), other.repeated), (4, 1));

        let mut seen = HashSet::default();
        let mine = table(
            vec![Some(1), Some(2), Some(3), Some(5), None],
            vec!["a", "B", "c", "e", "a"],
            vec![1.0, 2.0, 3.0, 5.0, 1.0],
        );
        let failing = other
            .failing_rows(&check, &mine, &identifiers, &mut seen)
            .expect("compares");
        // Row 2 differs in case, row 4 is not in the other, row 5 has no identifier.
        assert_eq!(
            failing,
            BooleanArray::from(vec![false, true, false, true, true])
        );
        assert_eq!(other.missing(&seen), 1, "id 4 is not here");
        // The clean copy: every row matches and none is missing.
        let mut seen = HashSet::default();
        let copy = table(
            vec![Some(4), Some(3), Some(2), Some(1)],
            vec!["d", "c", "b", "a"],
            vec![4.0, 3.0, 2.0, 1.0],
        );
        let failing = other
            .failing_rows(&check, &copy, &identifiers, &mut seen)
            .unwrap();
        assert_eq!((failing.true_count(), other.missing(&seen)), (0, 0));
    }

    fn aggregate(sql: &str, batches: &[RecordBatch]) -> Option<f64> {
        let rule = Rule::AggregationComparison {
            expression: sql.into(),
            comparison: Comparison::Eq,
            ref_container: "other".into(),
            ref_expression: sql.into(),
            ref_datastore: None,
        };
        let check = check(rule, &[]);
        let mut total: Option<SqlAggregate> = None;
        for data in batches {
            let mut part = SqlAggregate::compile(&check, sql, &data.schema()).expect("compiles");
            part.update(&check, data).expect("evaluates");
            match &mut total {
                Some(total) => total.merge(&part),
                None => total = Some(part),
            }
        }
        total.and_then(|t| t.value())
    }

    #[test]
    fn sql_aggregates_merge_across_batches_and_null_when_empty() {
        let amounts = |values: Vec<Option<i64>>| {
            batch(vec![("amount", Arc::new(Int64Array::from(values)) as _)])
        };
        let parts = [
            amounts(vec![Some(2), None, Some(5)]),
            amounts(vec![Some(-1)]),
        ];
        assert_eq!(aggregate("SUM(amount)", &parts), Some(6.0));
        assert_eq!(aggregate("sum(amount * 2)", &parts), Some(12.0));
        assert_eq!(aggregate("AVG(amount)", &parts), Some(2.0));
        assert_eq!(aggregate("MIN(amount)", &parts), Some(-1.0));
        assert_eq!(aggregate("MAX(amount)", &parts), Some(5.0));
        assert_eq!(aggregate("COUNT(amount)", &parts), Some(3.0));
        assert_eq!(aggregate("COUNT(*)", &parts), Some(4.0));
        let nulls = [amounts(vec![None, None])];
        assert_eq!(aggregate("SUM(amount)", &nulls), None);
        assert_eq!(aggregate("COUNT(*)", &nulls), Some(2.0));
    }

    #[test]
    fn unsupported_aggregates_say_what_is_supported() {
        let data = batch(vec![("amount", Arc::new(Int64Array::from(vec![1])) as _)]);
        let check = exists_in(&[]);
        for sql in ["MEDIAN(amount)", "amount", "SUM(amount", "SUM(*)"] {
            let error = SqlAggregate::compile(&check, sql, &data.schema()).unwrap_err();
            assert!(
                error.to_string().contains("SUM, AVG, MIN, MAX or COUNT"),
                "{sql}: {error}"
            );
        }
    }

    #[test]
    fn comparisons_hold_or_not_and_null_never_holds() {
        let (holds, message) =
            judge_comparison("SUM(a)", Some(5.0), Comparison::Lte, "SUM(b)", Some(5.0));
        assert!(holds, "{message}");
        assert_eq!(message, "SUM(a) = 5 <= SUM(b) = 5 holds");
        let (holds, _) = judge_comparison("x", Some(6.0), Comparison::Lt, "y", Some(5.0));
        assert!(!holds);
        let (holds, message) = judge_comparison("x", None, Comparison::Eq, "y", Some(0.0));
        assert!(!holds);
        assert!(message.contains("NULL"), "{message}");
    }
}
