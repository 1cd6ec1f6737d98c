//! SQL text built once per entity and statement shape, not on every call.
//!
//! The store's statements depend only on the entity (its table and columns) and on the shape
//! of the statement (which sync columns a row write sets, whether a read includes tombstones).
//! Building them with `format!`/`quote` on every call cost as much as running them; here each
//! text is built the first time and shared after, so the connection's statement cache
//! (`prepare_cached`, keyed by the text) finds it without rebuilding anything.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use crate::entity::EntityDescriptor;

/// What a statement does, beside which entity it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Shape {
    /// The record SELECT list ([`crate::record::select_list`]).
    SelectList,
    /// One record by id, tombstones included or not.
    FetchOne { include_deleted: bool },
    /// A completed entry's record becomes `synced` (see `Queue::complete`).
    MarkSynced,
    /// A record gets the server's id (a completed entry, a conflict the local side won).
    SetServerId,
    /// A record's `sync_status` (and `synced_at`) set by the sync engine.
    SetStatus,
    /// A record whose last open change the server accepted: id, status, `synced_at`.
    SetSynced,
    /// The local row as the sync engine compares it with the server's.
    LocalRow,
    /// Whether a record waits in manual conflict.
    InConflict,
    /// A row write: `insert` or update, and the columns it sets (sync and domain), as a
    /// signature (see [`signature`]).
    RowWrite { insert: bool, signature: u64 },
}

type Key = (usize, Shape);

fn cache() -> &'static RwLock<HashMap<Key, Arc<str>>> {
    static CACHE: OnceLock<RwLock<HashMap<Key, Arc<str>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The SQL of `shape` for `entity`, built by `build` the first time it is asked for.
///
/// Entities are keyed by address: a descriptor is a `'static` value, and two descriptors at the
/// same address are the same descriptor (so the same SQL).
pub(crate) fn sql(
    entity: &'static EntityDescriptor,
    shape: Shape,
    build: impl FnOnce() -> String,
) -> Arc<str> {
    let key = (std::ptr::from_ref(entity) as usize, shape);
    if let Some(sql) = cache().read().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Arc::clone(sql);
    }
    let built: Arc<str> = build().into();
    cache()
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_insert(built)
        .clone()
}

/// How a row write sets a column, for its [`signature`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetKind {
    /// A sync column set to a value.
    Value,
    /// A sync column incremented.
    Increment,
    /// A domain column set to a value.
    Domain,
}

/// A 64-bit FNV-1a signature of the columns a row write sets (name, and how): the part of a
/// row write's SQL its entity does not decide.
pub(crate) fn signature<'a>(columns: impl Iterator<Item = (&'a str, SetKind)>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |byte: u8| {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    };
    for (name, kind) in columns {
        name.bytes().for_each(&mut eat);
        // A separator no column name holds, then the kind of set.
        eat(0);
        eat(kind as u8);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    static ENTITY: EntityDescriptor = EntityDescriptor {
        name: "cached",
        table: "cached",
        conflict: crate::ConflictStrategy::LastWriteWins,
        columns: &[],
        indexes: &[],
        sync: &crate::SyncColumns::STANDARD,
    };

    #[test]
    fn each_statement_is_built_once_per_entity_and_shape() {
        let mut builds = 0;
        let mut get = |shape| {
            sql(&ENTITY, shape, || {
                builds += 1;
                format!("SELECT {shape:?}")
            })
        };
        let first = get(Shape::MarkSynced);
        let again = get(Shape::MarkSynced);
        let other = get(Shape::SelectList);
        assert!(
            Arc::ptr_eq(&first, &again),
            "the second call rebuilt the SQL"
        );
        assert_ne!(first, other);
        assert_eq!(builds, 2);
    }

    #[test]
    fn signatures_tell_apart_order_names_and_kinds_of_set() {
        use SetKind::{Domain, Increment, Value};
        let sig = |cols: &[(&str, SetKind)]| signature(cols.iter().copied());
        assert_ne!(
            sig(&[("a", Value), ("b", Value)]),
            sig(&[("b", Value), ("a", Value)])
        );
        assert_ne!(sig(&[("ab", Value)]), sig(&[("a", Value), ("b", Value)]));
        assert_ne!(sig(&[("version", Increment)]), sig(&[("version", Value)]));
        assert_ne!(sig(&[("title", Domain)]), sig(&[("title", Value)]));
        assert_eq!(sig(&[("x", Increment)]), sig(&[("x", Increment)]));
    }
}
