//! Reading the other containers that checks compare with, before a scan: a field's distinct
//! values (`exists_in`, `not_exists_in`) or an aggregate (`aggregation_comparison`), each
//! read once however many checks need it, through the same partition loop as the scan (the
//! other container may be in another datastore, with its own plugin and sandbox).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::checks::{
    Check, Reference, ReferenceData, ReferenceRead, Referenced, RowDigests, SqlAggregate, ValueSet,
};
use crate::contract::Partition;
use crate::runtime::DiscoveredContainer;
use crate::{Error, Result};

use super::fold::{self, Fold, ReadScope};
use super::{Datastore, Progress};

/// Read what `checks` need from other containers. `datastore` is the scanned one; `others`
/// the other datastores checks name. A reference that cannot be read is kept as its error,
/// which fails only the checks that need it.
pub(super) fn read_references(
    datastore: &Datastore,
    others: &BTreeMap<String, Datastore>,
    checks: &[Check],
    parallelism: usize,
    progress: &Progress,
) -> ReferenceData {
    let mut wanted: BTreeMap<Reference, &Check> = BTreeMap::new();
    for check in checks {
        if let Some(reference) = check.reference() {
            wanted.entry(reference).or_insert(check);
        }
    }
    let mut data = ReferenceData::new();
    for (reference, check) in wanted {
        let span = tracing::info_span!("reference", container = %reference.container, datastore = ?reference.datastore);
        let _entered = span.enter();
        let read = match &reference.datastore {
            None => Ok(datastore),
            Some(name) => others.get(name).ok_or_else(|| {
                format!(
                    "datastore `{name}` is not configured, or its plugin is not loaded; \
                     configure it or name another datastore"
                )
            }),
        }
        .and_then(|source| {
            read_one(source, &reference, check, parallelism, progress).map_err(|e| e.to_string())
        });
        data.insert(reference, read.map(Arc::new));
    }
    data
}

fn read_one(
    datastore: &Datastore,
    reference: &Reference,
    check: &Check,
    parallelism: usize,
    progress: &Progress,
) -> Result<Referenced> {
    let scope = ReadScope {
        operation: "scan",
        parallelism,
        fields: match &reference.read {
            ReferenceRead::Values(field) => Some(vec![field.clone()]),
            ReferenceRead::Rows {
                identifiers,
                fields,
            } if !fields.is_empty() => Some(identifiers.iter().chain(fields).cloned().collect()),
            ReferenceRead::Aggregate(_) | ReferenceRead::Rows { .. } => None,
        },
        limit: None,
        containers: Some(vec![reference.container.clone()]),
    };
    let fold = ReferenceFold { reference, check };
    let folded = fold::read(datastore, &scope, &fold, progress)?;
    let (_, state) = folded
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal("a reference read returned no container".into()))?
        .result?;
    Ok(match state {
        Partial::Values(set) => Referenced::Values(set),
        Partial::Aggregate(aggregate) => Referenced::Aggregate(aggregate.value()),
        Partial::Rows(digests) => Referenced::Rows(digests),
    })
}

/// Reading a reference as a fold: each partition into a value set or an aggregate.
struct ReferenceFold<'a> {
    reference: &'a Reference,
    /// The first check that needs it, which errors name.
    check: &'a Check,
}

enum Partial {
    Values(ValueSet),
    Aggregate(Box<SqlAggregate>),
    Rows(RowDigests),
}

fn invalid(e: crate::checks::CheckError) -> Error {
    Error::Invalid(e.to_string())
}

impl Fold for ReferenceFold<'_> {
    type Plan = SchemaRef;
    type State = Partial;

    fn plan(
        &self,
        _: &DiscoveredContainer,
        schema: &SchemaRef,
        _: &mut Vec<Partition>,
    ) -> Result<SchemaRef> {
        Ok(schema.clone())
    }

    fn empty(&self, schema: &SchemaRef, _: &DiscoveredContainer) -> Result<Partial> {
        Ok(match &self.reference.read {
            ReferenceRead::Values(_) => Partial::Values(ValueSet::default()),
            ReferenceRead::Aggregate(sql) => Partial::Aggregate(Box::new(
                SqlAggregate::compile(self.check, sql, schema).map_err(invalid)?,
            )),
            // No fields listed: every field of the other container but the identifiers.
            ReferenceRead::Rows {
                identifiers,
                fields,
            } => {
                let fields = match fields.is_empty() {
                    false => fields.clone(),
                    true => (schema.fields().iter())
                        .map(|f| f.name().clone())
                        .filter(|name| !identifiers.contains(name))
                        .collect(),
                };
                Partial::Rows(RowDigests::new(fields))
            }
        })
    }

    fn start(
        &self,
        schema: &SchemaRef,
        container: &DiscoveredContainer,
        _: &Partition,
    ) -> Result<Partial> {
        self.empty(schema, container)
    }

    fn update(&self, _: &SchemaRef, state: &mut Partial, batch: RecordBatch) -> Result<()> {
        match (state, &self.reference.read) {
            (Partial::Values(set), ReferenceRead::Values(field)) => {
                let column = batch.column_by_name(field).ok_or_else(|| {
                    Error::Invalid(format!("the other container has no field `{field}`"))
                })?;
                set.add(self.check, field, column.as_ref()).map_err(invalid)
            }
            (Partial::Aggregate(aggregate), _) => {
                aggregate.update(self.check, &batch).map_err(invalid)
            }
            (Partial::Rows(digests), ReferenceRead::Rows { identifiers, .. }) => digests
                .add(self.check, &batch, identifiers)
                .map_err(invalid),
            _ => Err(Error::Internal(
                "a reference state of the wrong kind".into(),
            )),
        }
    }

    fn merge(&self, _: &SchemaRef, into: &mut Partial, next: Partial) -> Result<()> {
        match (into, next) {
            (Partial::Values(mine), Partial::Values(theirs)) => {
                mine.merge(self.check, theirs).map_err(invalid)
            }
            (Partial::Aggregate(mine), Partial::Aggregate(theirs)) => {
                mine.merge(&theirs);
                Ok(())
            }
            (Partial::Rows(mine), Partial::Rows(theirs)) => {
                mine.merge(self.check, theirs).map_err(invalid)
            }
            _ => Err(Error::Internal(
                "reference states of different kinds".into(),
            )),
        }
    }
}
