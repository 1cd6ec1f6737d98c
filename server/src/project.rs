//! Projecting a stored record onto a client's schema version.

use syncwright::sync::protocol::RemoteRecord;

use crate::catalog::SchemaVersion;
use crate::storage::StoredRecord;

/// `record` as a client at `version` sees it: only the fields that version knows (an older
/// client drops the newer ones), and a field it knows that the record never got (added after
/// the record was last written) as its default, or `null` when it is nullable.
pub(crate) fn project(record: &StoredRecord, version: &SchemaVersion) -> RemoteRecord {
    let (fields, field_timestamps) = match version.entity(&record.entity) {
        Some(entity) => (
            entity
                .fields
                .iter()
                .filter_map(|f| {
                    let value = record
                        .fields
                        .get(&f.name)
                        .cloned()
                        .or_else(|| f.fill_value())?;
                    Some((f.name.clone(), value))
                })
                .collect(),
            record
                .field_timestamps
                .iter()
                .filter(|(name, _)| entity.field(name).is_some())
                .map(|(name, at)| (name.clone(), *at))
                .collect(),
        ),
        None => (record.fields.clone(), record.field_timestamps.clone()),
    };
    RemoteRecord {
        entity: record.entity.clone(),
        id: record.id,
        server_id: record.server_id.clone(),
        server_version: record.version,
        schema_version: record.schema_version,
        deleted: record.deleted,
        created_at: record.created_at,
        updated_at: record.updated_at,
        fields,
        field_timestamps,
    }
}
