//! A stored entity with its sync metadata.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row};
use uuid::Uuid;

use crate::clock::from_millis;
use crate::entity::{ColumnDescriptor, EntityDescriptor, Syncable};
use crate::sql_cache::{self, Shape};
use crate::{Error, Result};

/// The sync state of a record (`sync_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncStatus {
    /// The server has the record as stored locally.
    Synced,
    /// A local change waits in the queue.
    Pending,
    /// Local and remote changes conflict; the app must resolve.
    Conflict,
    /// A push failed permanently (its queue entry is `failed` or was discarded).
    Error,
}

impl SyncStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Synced => "synced",
            SyncStatus::Pending => "pending",
            SyncStatus::Conflict => "conflict",
            SyncStatus::Error => "error",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "synced" => SyncStatus::Synced,
            "pending" => SyncStatus::Pending,
            "conflict" => SyncStatus::Conflict,
            "error" => SyncStatus::Error,
            _ => return None,
        })
    }
}

impl fmt::Display for SyncStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored entity: the user's data beside its sync metadata. Derefs to the data.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<T> {
    /// The client-generated id.
    pub id: Uuid,
    /// The id the server assigned, once synced.
    pub server_id: Option<String>,
    /// When the record was created locally.
    pub created_at: SystemTime,
    /// When the record was last written locally.
    pub updated_at: SystemTime,
    /// When the server last confirmed the record.
    pub synced_at: Option<SystemTime>,
    /// Whether the record is a tombstone.
    pub is_deleted: bool,
    /// Incremented by every local write (starts at 1).
    pub version: i64,
    /// The sync state.
    pub sync_status: SyncStatus,
    /// For `field_merge` entities: when each domain field last changed locally (empty
    /// otherwise). Derefs to a map from field name to time.
    pub field_timestamps: FieldChangeTimes,
    /// The user's data.
    pub data: T,
}

impl<T> Deref for Record<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T> Record<T> {
    /// Consumes the record, returning the data.
    pub fn into_data(self) -> T {
        self.data
    }
}

/// The SELECT list of a record of `entity`: its sync columns in [`EntityDescriptor::sync_columns`]
/// order (so at the indexes of [`SyncIndex`]), then its domain columns. Built once per entity.
pub(crate) fn select_list(entity: &'static EntityDescriptor) -> Arc<str> {
    sql_cache::sql(entity, Shape::SelectList, || {
        entity
            .sync_columns()
            .chain(entity.columns.iter().map(|c| c.name))
            .map(crate::entity::quote)
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// Where [`select_list`] puts each sync column: reading by index spares the name lookup, which
/// compares the name with every column of the row.
struct SyncIndex;

impl SyncIndex {
    const ID: usize = 0;
    const SERVER_ID: usize = 1;
    const CREATED_AT: usize = 2;
    const UPDATED_AT: usize = 3;
    const SYNCED_AT: usize = 4;
    const IS_DELETED: usize = 5;
    const VERSION: usize = 6;
    const SYNC_STATUS: usize = 7;
    const FIELD_TIMESTAMPS: usize = 8;
}

/// When each domain field of a `field_merge` record last changed locally, as a map from field
/// name to time (empty for other entities).
///
/// Parsed from the stored JSON the first time it is looked at: a page of records read for a
/// list does not pay for maps nobody reads. The stored text was checked when the record was
/// read, so a corrupt value is still an error of the read.
#[derive(Clone)]
pub struct FieldChangeTimes {
    /// The stored, sparse JSON object (`None`: not a `field_merge` entity).
    stored: Option<String>,
    /// When fields absent from the stored object last changed: the record's creation.
    created_at: SystemTime,
    columns: &'static [ColumnDescriptor],
    parsed: OnceLock<BTreeMap<String, SystemTime>>,
}

impl FieldChangeTimes {
    /// No per-field times: the entity is not `field_merge`.
    pub(crate) fn none() -> Self {
        FieldChangeTimes {
            stored: None,
            created_at: std::time::UNIX_EPOCH,
            columns: &[],
            parsed: OnceLock::new(),
        }
    }

    /// The times of `entity`'s fields from `stored` (a sparse object already checked by
    /// [`check_field_timestamps`]); a field it lacks last changed at `created_at`.
    pub(crate) fn stored(
        entity: &'static EntityDescriptor,
        stored: String,
        created_at: SystemTime,
    ) -> Self {
        FieldChangeTimes {
            stored: Some(stored),
            created_at,
            columns: entity.columns,
            parsed: OnceLock::new(),
        }
    }

    /// The stored JSON object, sparse (`None` for entities without per-field times).
    pub(crate) fn stored_text(&self) -> Option<&str> {
        self.stored.as_deref()
    }

    fn parse(&self) -> BTreeMap<String, SystemTime> {
        let Some(text) = &self.stored else {
            return BTreeMap::new();
        };
        // Checked when the record was read or written, so this parse does not fail.
        let sparse: BTreeMap<String, i64> = serde_json::from_str(text).unwrap_or_default();
        let mut stamps: BTreeMap<String, SystemTime> = sparse
            .into_iter()
            .map(|(k, v)| (k, from_millis(v)))
            .collect();
        // Stored sparsely: a field that never changed after the insert last changed then.
        for column in self.columns {
            stamps
                .entry(column.name.to_owned())
                .or_insert(self.created_at);
        }
        stamps
    }
}

impl Deref for FieldChangeTimes {
    type Target = BTreeMap<String, SystemTime>;
    fn deref(&self) -> &Self::Target {
        self.parsed.get_or_init(|| self.parse())
    }
}

impl PartialEq for FieldChangeTimes {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl fmt::Debug for FieldChangeTimes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// A record's sync metadata: everything but the data.
pub(crate) struct Meta {
    pub id: Uuid,
    pub server_id: Option<String>,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
    pub synced_at: Option<SystemTime>,
    pub is_deleted: bool,
    pub version: i64,
    pub sync_status: SyncStatus,
    pub field_timestamps: FieldChangeTimes,
}

impl Meta {
    /// The record of this metadata and `data`.
    pub fn with_data<T>(self, data: T) -> Record<T> {
        Record {
            id: self.id,
            server_id: self.server_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
            synced_at: self.synced_at,
            is_deleted: self.is_deleted,
            version: self.version,
            sync_status: self.sync_status,
            field_timestamps: self.field_timestamps,
            data,
        }
    }
}

/// Reads a record from a row selected with [`select_list`].
pub(crate) fn read<T: Syncable>(row: &Row<'_>) -> Result<Record<T>> {
    let meta = read_meta(T::ENTITY, row)?;
    let data = T::from_row(row).map_err(|e| e.with_row(&meta.id.hyphenated().to_string()))?;
    Ok(meta.with_data(data))
}

/// Reads the sync columns of a row selected with [`select_list`] for `entity`.
pub(crate) fn read_meta(entity: &'static EntityDescriptor, row: &Row<'_>) -> Result<Meta> {
    let id_ref = row.get_ref(SyncIndex::ID)?;
    let raw_id = || match id_ref {
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        other => format!("{other:?}"),
    };
    let corrupt = |column: &str, reason: String| Error::CorruptRow {
        table: entity.table.to_owned(),
        row: raw_id(),
        column: column.to_owned(),
        reason,
    };
    let id = match id_ref {
        ValueRef::Text(t) => Uuid::try_parse_ascii(t).map_err(|e| e.to_string()),
        other => Err(format!("{other:?}")),
    }
    .map_err(|e| corrupt("id", format!("not a UUID: {e}")))?;
    let int = |column: &str, index: usize| -> Result<Option<i64>> {
        match row.get_ref(index)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(i) => Ok(Some(i)),
            other => Err(corrupt(
                column,
                format!("expected INTEGER, found {other:?}"),
            )),
        }
    };
    let required = |column: &str, index: usize| {
        int(column, index)?.ok_or_else(|| corrupt(column, "is NULL".into()))
    };
    let server_id = match row.get_ref(SyncIndex::SERVER_ID)? {
        ValueRef::Null => None,
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        other => {
            return Err(corrupt(
                "server_id",
                format!("expected TEXT, found {other:?}"),
            ));
        }
    };
    let is_deleted = match required("is_deleted", SyncIndex::IS_DELETED)? {
        0 => false,
        1 => true,
        other => return Err(corrupt("is_deleted", format!("{other} is not 0 or 1"))),
    };
    let sync_status = match row.get_ref(SyncIndex::SYNC_STATUS)? {
        ValueRef::Text(t) => std::str::from_utf8(t).ok().and_then(SyncStatus::parse),
        _ => None,
    }
    .ok_or_else(|| {
        let status = match row.get_ref(SyncIndex::SYNC_STATUS) {
            Ok(ValueRef::Text(t)) => String::from_utf8_lossy(t).into_owned(),
            other => format!("{other:?}"),
        };
        corrupt("sync_status", format!("unknown sync status {status:?}"))
    })?;
    let created_at = from_millis(required("created_at", SyncIndex::CREATED_AT)?);
    let field_timestamps = if entity.is_field_merge() {
        let text: String = row.get(SyncIndex::FIELD_TIMESTAMPS)?;
        check_field_timestamps(&text).map_err(|reason| corrupt("field_timestamps", reason))?;
        FieldChangeTimes::stored(entity, text, created_at)
    } else {
        FieldChangeTimes::none()
    };
    Ok(Meta {
        id,
        server_id,
        created_at,
        updated_at: from_millis(required("updated_at", SyncIndex::UPDATED_AT)?),
        synced_at: int("synced_at", SyncIndex::SYNCED_AT)?.map(from_millis),
        is_deleted,
        version: required("version", SyncIndex::VERSION)?,
        sync_status,
        field_timestamps,
    })
}

/// Checks that `text` is what `field_timestamps` holds, a JSON object of integers, without
/// building the map (see [`FieldChangeTimes`]).
pub(crate) fn check_field_timestamps(text: &str) -> std::result::Result<(), String> {
    /// A JSON object whose values are `i64`s, its contents ignored.
    struct ObjectOfIntegers;

    impl<'de> serde::de::Visitor<'de> for ObjectOfIntegers {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object of integers")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> std::result::Result<(), A::Error> {
            while map.next_entry::<serde::de::IgnoredAny, i64>()?.is_some() {}
            Ok(())
        }
    }

    let mut de = serde_json::Deserializer::from_str(text);
    serde::Deserializer::deserialize_map(&mut de, ObjectOfIntegers)
        .and_then(|()| de.end())
        .map_err(|e| format!("not a JSON object of integers: {e}"))
}

/// Reads record `id` of `T` (tombstones only when `include_deleted`).
pub(crate) fn fetch_one<T: Syncable>(
    conn: &Connection,
    id: Uuid,
    include_deleted: bool,
) -> Result<Option<Record<T>>> {
    let sql = fetch_one_sql(T::ENTITY, include_deleted);
    let mut stmt = conn.prepare_cached(&sql).map_err(Error::sql(&sql))?;
    let mut rows = stmt
        .query([id.hyphenated().to_string()])
        .map_err(Error::sql(&sql))?;
    match rows.next().map_err(Error::sql(&sql))? {
        Some(row) => read::<T>(row).map(Some),
        None => Ok(None),
    }
}

/// The SELECT of one record of `entity` by id (tombstones only when `include_deleted`).
pub(crate) fn fetch_one_sql(entity: &'static EntityDescriptor, include_deleted: bool) -> Arc<str> {
    sql_cache::sql(entity, Shape::FetchOne { include_deleted }, || {
        format!(
            "SELECT {} FROM {} WHERE {} = ?1{}",
            select_list(entity),
            crate::entity::quote(entity.table),
            entity.quoted("id"),
            if include_deleted {
                String::new()
            } else {
                format!(" AND {} = 0", entity.quoted("is_deleted"))
            }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::ColumnType;

    static NOTE: EntityDescriptor = EntityDescriptor {
        name: "note",
        table: "notes",
        conflict: crate::ConflictStrategy::FieldMerge,
        columns: &[
            ColumnDescriptor {
                name: "body",
                ty: ColumnType::Text,
                nullable: false,
                references: None,
            },
            ColumnDescriptor {
                name: "pinned",
                ty: ColumnType::Bool,
                nullable: false,
                references: None,
            },
        ],
        indexes: &[],
        sync: &crate::SyncColumns::STANDARD,
    };

    #[test]
    fn field_change_times_are_parsed_on_first_look_and_filled_from_created_at() {
        let created = from_millis(1_000);
        let times = FieldChangeTimes::stored(&NOTE, r#"{"pinned":5000}"#.to_owned(), created);
        assert!(times.parsed.get().is_none(), "parsed before anyone looked");
        assert_eq!(times.get("pinned"), Some(&from_millis(5_000)));
        assert_eq!(
            times.get("body"),
            Some(&created),
            "an absent field changed at creation"
        );
        assert!(times.parsed.get().is_some());
        assert!(FieldChangeTimes::none().is_empty());
    }

    #[test]
    fn stored_field_timestamps_must_be_an_object_of_integers() {
        assert_eq!(check_field_timestamps(r#"{"a":1,"b":-2}"#), Ok(()));
        assert_eq!(check_field_timestamps("{}"), Ok(()));
        for bad in [r#"{"a":"x"}"#, "[1]", r#"{"a":1.5}"#, r#"{"a":1} x"#, ""] {
            let err = check_field_timestamps(bad).expect_err(bad);
            assert!(
                err.starts_with("not a JSON object of integers"),
                "{bad}: {err}"
            );
        }
    }
}
