//! The catalog operation: open a datastore, check it, and list its containers with their
//! fields, as the store keeps them.

use crate::Result;
use crate::store::{CatalogEntry, FieldEntry};

use super::Datastore;

/// List a datastore's containers. A container the plugin cannot read is listed with its error.
pub fn catalog(datastore: &Datastore) -> Result<Vec<CatalogEntry>> {
    let span = tracing::info_span!("operation.catalog", datastore = %datastore.name, plugin = %datastore.plugin.label());
    let _entered = span.enter();
    let mut session = datastore.open()?;
    session.check()?;
    let containers = session.discover()?;
    Ok(containers
        .into_iter()
        .map(|container| CatalogEntry {
            kind: container.kind.as_str().to_owned(),
            fields: container
                .schema
                .fields()
                .iter()
                .map(|field| FieldEntry {
                    name: field.name().clone(),
                    data_type: field.data_type().to_string(),
                    nullable: field.is_nullable(),
                })
                .collect(),
            row_estimate: container.row_estimate,
            byte_size: container.byte_size,
            error: container.error.map(|e| e.to_string()),
            name: container.name,
            updated_at: String::new(),
        })
        .collect())
}
