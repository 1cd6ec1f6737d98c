//! Writing one row of an entity table: the one place that builds the `INSERT` and `UPDATE` of
//! entity rows. Local writes ([`crate::WriteTx`], which also enqueue) and remote applies (rows
//! the server sent, which do not) differ only in the sync metadata they set.

use rusqlite::types::Value;
use rusqlite::{Transaction, params_from_iter};
use uuid::Uuid;

use crate::entity::{EntityDescriptor, quote};
use crate::sql_cache::{self, SetKind, Shape, signature};
use crate::{Error, Result};

/// The new value of a sync column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Set {
    /// This value.
    To(Value),
    /// The stored value plus one (`version` on a local write).
    Increment,
}

/// A row write: the sync columns it sets (by their names in [`crate::SYNC_COLUMNS`], mapped to
/// the entity's own names when the SQL is built), then the domain values in `entity.columns` order
/// (`None` to leave the domain columns as they are, as a delete does).
pub(crate) struct RowWrite<'v> {
    pub entity: &'static EntityDescriptor,
    pub id: Uuid,
    pub sync: Vec<(&'static str, Set)>,
    pub values: Option<&'v [Value]>,
    /// Which domain columns an update writes, by index into `values` (`None`: all). Leaving
    /// an unchanged column out of the `SET` list spares SQLite rewriting the indexes and
    /// checking the foreign keys that cover it.
    pub only: Option<&'v [usize]>,
}

impl RowWrite<'_> {
    fn domain(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        let columns = self.entity.columns;
        let values = self.values.unwrap_or_default();
        let all = self.only.is_none().then_some(0..values.len());
        all.into_iter()
            .flatten()
            .chain(self.only.into_iter().flatten().copied())
            .map(move |i| (columns[i].name, &values[i]))
    }

    /// The cache key of this write's SQL: what the entity does not decide.
    fn shape(&self, insert: bool) -> Shape {
        let sync = self.sync.iter().map(|(column, set)| {
            let kind = match set {
                Set::To(_) => SetKind::Value,
                Set::Increment => SetKind::Increment,
            };
            (*column, kind)
        });
        let domain = self.domain().map(|(column, _)| (column, SetKind::Domain));
        Shape::RowWrite {
            insert,
            signature: signature(sync.chain(domain)),
        }
    }

    /// Inserts the row under `id` ([`Set::Increment`] is not allowed here).
    pub fn insert(&self, tx: &Transaction<'_>) -> Result<()> {
        let sql = sql_cache::sql(self.entity, self.shape(true), || self.insert_sql());
        let id = Value::Text(self.id.hyphenated().to_string());
        // Bound by reference: the values are the caller's, copied only by SQLite.
        let mut params: Vec<&Value> =
            Vec::with_capacity(1 + self.sync.len() + self.entity.columns.len());
        params.push(&id);
        for (_, set) in &self.sync {
            let Set::To(value) = set else {
                unreachable!("an insert sets values, it increments nothing")
            };
            params.push(value);
        }
        params.extend(self.domain().map(|(_, value)| value));
        tx.prepare_cached(&sql)
            .and_then(|mut s| s.execute(params_from_iter(&params)))
            .map_err(Error::sql(&sql))?;
        Ok(())
    }

    fn insert_sql(&self) -> String {
        let sync = self.entity.sync;
        let columns: Vec<&str> = std::iter::once(sync.id)
            .chain(self.sync.iter().map(|(column, _)| sync.name(column)))
            .chain(self.domain().map(|(column, _)| column))
            .collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quote(self.entity.table),
            columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(", "),
            (1..=columns.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    /// Updates row `id`; returns whether it existed.
    pub fn update(&self, tx: &Transaction<'_>) -> Result<bool> {
        let sql = sql_cache::sql(self.entity, self.shape(false), || self.update_sql());
        let id = Value::Text(self.id.hyphenated().to_string());
        let mut params: Vec<&Value> =
            Vec::with_capacity(1 + self.sync.len() + self.entity.columns.len());
        for (_, set) in &self.sync {
            if let Set::To(value) = set {
                params.push(value);
            }
        }
        params.extend(self.domain().map(|(_, value)| value));
        params.push(&id);
        let changed = tx
            .prepare_cached(&sql)
            .and_then(|mut s| s.execute(params_from_iter(&params)))
            .map_err(Error::sql(&sql))?;
        Ok(changed > 0)
    }

    /// The UPDATE of this write's shape; parameters in the order [`RowWrite::update`] binds.
    fn update_sql(&self) -> String {
        let mut sets = Vec::new();
        let mut n = 0;
        for (column, set) in &self.sync {
            let column = self.entity.quoted(column);
            match set {
                Set::To(_) => {
                    n += 1;
                    sets.push(format!("{column} = ?{n}"));
                }
                Set::Increment => sets.push(format!("{column} = {column} + 1")),
            }
        }
        for (column, _) in self.domain() {
            n += 1;
            sets.push(format!("{} = ?{n}", quote(column)));
        }
        format!(
            "UPDATE {} SET {} WHERE {} = ?{}",
            quote(self.entity.table),
            sets.join(", "),
            self.entity.quoted("id"),
            n + 1
        )
    }
}

/// Records the server's id of the row `id` (its hyphenated UUID text) and keeps its values: a
/// completed queue entry's answer, or a conflict the local side won.
pub(crate) fn set_server_id(
    tx: &Transaction<'_>,
    entity: &'static EntityDescriptor,
    id: &str,
    server_id: &str,
) -> Result<()> {
    let sql = sql_cache::sql(entity, Shape::SetServerId, || {
        format!(
            "UPDATE {} SET {} = ?1 WHERE {} = ?2",
            quote(entity.table),
            entity.quoted("server_id"),
            entity.quoted("id")
        )
    });
    tx.prepare_cached(&sql)
        .and_then(|mut s| s.execute((server_id, id)))
        .map_err(Error::sql(&sql))?;
    Ok(())
}
