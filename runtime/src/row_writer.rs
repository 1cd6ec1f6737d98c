//! Writing one row of an entity table: the one place that builds the `INSERT` and `UPDATE` of
//! entity rows. Local writes ([`crate::WriteTx`], which also enqueue) and remote applies (rows
//! the server sent, which do not) differ only in the sync metadata they set.

use rusqlite::types::Value;
use rusqlite::{Transaction, params_from_iter};
use uuid::Uuid;

use crate::entity::{EntityDescriptor, quote};
use crate::{Error, Result};

/// The new value of a sync column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Set {
    /// This value.
    To(Value),
    /// The stored value plus one (`version` on a local write).
    Increment,
}

/// A row write: the sync columns it sets, then the domain values in `entity.columns` order
/// (`None` to leave the domain columns as they are, as a delete does).
pub(crate) struct RowWrite<'a> {
    pub entity: &'a EntityDescriptor,
    pub id: Uuid,
    pub sync: Vec<(&'static str, Set)>,
    pub values: Option<Vec<Value>>,
}

impl RowWrite<'_> {
    fn domain(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        self.entity
            .columns
            .iter()
            .map(|c| c.name)
            .zip(self.values.iter().flatten())
    }

    /// Inserts the row under `id` ([`Set::Increment`] is not allowed here).
    pub fn insert(&self, tx: &Transaction<'_>) -> Result<()> {
        let mut columns = vec!["id"];
        let mut params = vec![Value::Text(self.id.hyphenated().to_string())];
        for (column, set) in &self.sync {
            let Set::To(value) = set else {
                unreachable!("an insert sets values, it increments nothing")
            };
            columns.push(column);
            params.push(value.clone());
        }
        for (column, value) in self.domain() {
            columns.push(column);
            params.push(value.clone());
        }
        let sql = format!(
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
        );
        tx.prepare_cached(&sql)
            .and_then(|mut s| s.execute(params_from_iter(&params)))
            .map_err(Error::sql(&sql))?;
        Ok(())
    }

    /// Updates row `id`; returns whether it existed.
    pub fn update(&self, tx: &Transaction<'_>) -> Result<bool> {
        let mut sets = Vec::new();
        let mut params = Vec::new();
        for (column, set) in &self.sync {
            match set {
                Set::To(value) => {
                    params.push(value.clone());
                    sets.push(format!("{} = ?{}", quote(column), params.len()));
                }
                Set::Increment => sets.push(format!("{c} = {c} + 1", c = quote(column))),
            }
        }
        for (column, value) in self.domain() {
            params.push(value.clone());
            sets.push(format!("{} = ?{}", quote(column), params.len()));
        }
        params.push(Value::Text(self.id.hyphenated().to_string()));
        let sql = format!(
            "UPDATE {} SET {} WHERE \"id\" = ?{}",
            quote(self.entity.table),
            sets.join(", "),
            params.len()
        );
        let changed = tx
            .prepare_cached(&sql)
            .and_then(|mut s| s.execute(params_from_iter(&params)))
            .map_err(Error::sql(&sql))?;
        Ok(changed > 0)
    }
}
