//! Typed queries over an entity's records.

use std::marker::PhantomData;

use rusqlite::types::Value;

use crate::column::{Column, Filter};
use crate::entity::{Syncable, quote};
use crate::record::{Record, SyncStatus, select_list};
use crate::store::Database;
use crate::value::ColumnValue;
use crate::{Error, Result};

/// A value usable in a query filter: every [`ColumnValue`] (so a `Uuid` compares as its
/// hyphenated text, a `bool` as 0/1, a `SystemTime` as epoch ms) and `&str`.
pub trait QueryValue {
    /// The SQLite value to compare with.
    fn into_value(self) -> Value;
}

impl<T: ColumnValue> QueryValue for T {
    fn into_value(self) -> Value {
        self.to_value()
    }
}

impl QueryValue for &str {
    fn into_value(self) -> Value {
        Value::Text(self.to_owned())
    }
}

/// A comparison operator of [`Query::filter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=` (`IS NULL` for a `NULL` value).
    Eq,
    /// `<>` (`IS NOT NULL` for a `NULL` value).
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `LIKE`.
    Like,
}

/// Sort direction of [`Query::order_by`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// A query over `T`'s records, built by [`Database::query`]. Filters are ANDed; tombstones are
/// excluded unless [`Query::include_deleted`] or [`Query::only_deleted`] is called. Column
/// names (sync or domain) are checked against the entity, so user input cannot inject SQL.
/// For example `db.query::<Task>().filter_eq("done", false).order_by("priority", Order::Desc)
/// .limit(20).fetch()?` (the crate docs have a complete, runnable example).
#[must_use = "a query does nothing until fetched"]
pub struct Query<'db, T> {
    db: &'db Database,
    filters: Vec<(String, Op, Value)>,
    typed: Vec<Filter<T>>,
    deleted: Option<bool>,
    order: Vec<(String, Order)>,
    limit: Option<u64>,
    offset: Option<u64>,
    _entity: PhantomData<fn() -> T>,
}

impl<'db, T: Syncable> Query<'db, T> {
    pub(crate) fn new(db: &'db Database) -> Self {
        Query {
            db,
            filters: Vec::new(),
            typed: Vec::new(),
            deleted: Some(false),
            order: Vec::new(),
            limit: None,
            offset: None,
            _entity: PhantomData,
        }
    }

    /// The database the query runs on.
    pub(crate) fn database(&self) -> &'db Database {
        self.db
    }

    /// Keeps records whose `column` equals `value`.
    pub fn filter_eq(self, column: &str, value: impl QueryValue) -> Self {
        self.filter(column, Op::Eq, value)
    }

    /// Keeps records whose `column` compares to `value` with `op`.
    pub fn filter(mut self, column: &str, op: Op, value: impl QueryValue) -> Self {
        self.filters
            .push((column.to_owned(), op, value.into_value()));
        self
    }

    /// Keeps records matching `filter`, built from `T`'s typed columns (ANDed with the other
    /// filters): `.filter_by(Task::PRIORITY.is_in([1, 2]).or(Task::DUE_ON.is_null()))`.
    pub fn filter_by(mut self, filter: Filter<T>) -> Self {
        self.typed.push(filter);
        self
    }

    /// [`Query::order_by`] with a typed column.
    pub fn sort_by<V>(self, column: Column<T, V>, order: Order) -> Self {
        self.order_by(column.name(), order)
    }

    /// Keeps records in sync state `status`.
    pub fn sync_status(self, status: SyncStatus) -> Self {
        self.filter_eq(T::ENTITY.sync_column("sync_status"), status.as_str())
    }

    /// Includes tombstones.
    pub fn include_deleted(mut self) -> Self {
        self.deleted = None;
        self
    }

    /// Returns only tombstones.
    pub fn only_deleted(mut self) -> Self {
        self.deleted = Some(true);
        self
    }

    /// Sorts by `column` (later calls break ties of earlier ones). Without ordering, records
    /// come in `created_at`, then `id` order.
    pub fn order_by(mut self, column: &str, order: Order) -> Self {
        self.order.push((column.to_owned(), order));
        self
    }

    /// Returns at most `n` records.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skips the first `n` records.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }

    fn where_clause(&self) -> Result<(String, Vec<Value>)> {
        let entity = T::ENTITY;
        let check = |column: &str| {
            if entity.has_column(column) {
                Ok(quote(column))
            } else {
                Err(Error::UnknownColumn {
                    entity: entity.name,
                    column: column.to_owned(),
                })
            }
        };
        let mut clauses = Vec::new();
        let mut params = Vec::new();
        if let Some(deleted) = self.deleted {
            clauses.push(format!(
                "{} = {}",
                entity.quoted("is_deleted"),
                i32::from(deleted)
            ));
        }
        for (column, op, value) in &self.filters {
            let column = check(column)?;
            let clause = match (op, value) {
                (Op::Eq, Value::Null) => format!("{column} IS NULL"),
                (Op::Ne, Value::Null) => format!("{column} IS NOT NULL"),
                _ => {
                    params.push(value.clone());
                    let op = match op {
                        Op::Eq => "=",
                        Op::Ne => "<>",
                        Op::Lt => "<",
                        Op::Le => "<=",
                        Op::Gt => ">",
                        Op::Ge => ">=",
                        Op::Like => "LIKE",
                    };
                    format!("{column} {op} ?{}", params.len())
                }
            };
            clauses.push(clause);
        }
        for filter in &self.typed {
            clauses.push(filter.render(entity, &mut params)?);
        }
        let sql = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        Ok((sql, params))
    }

    fn order_clause(&self) -> Result<String> {
        let mut order = Vec::new();
        for (column, dir) in &self.order {
            if !T::ENTITY.has_column(column) {
                return Err(Error::UnknownColumn {
                    entity: T::ENTITY.name,
                    column: column.clone(),
                });
            }
            let dir = if *dir == Order::Asc { "ASC" } else { "DESC" };
            order.push(format!("{} {dir}", quote(column)));
        }
        // Ties break by insertion order (rowid), in the direction of the last explicit key:
        // results stay deterministic, and an index over the ordered columns (which ends in the
        // rowid) still serves the ORDER BY without sorting every matching row.
        let tie = match self.order.last() {
            Some((_, Order::Desc)) => "DESC",
            _ => "ASC",
        };
        order.push(format!("\"rowid\" {tie}"));
        Ok(format!(" ORDER BY {}", order.join(", ")))
    }

    /// Runs the query.
    pub fn fetch(&self) -> Result<Vec<Record<T>>> {
        let entity = T::ENTITY;
        let (where_clause, params) = self.where_clause()?;
        let mut sql = format!(
            "SELECT {} FROM {}{where_clause}{}",
            select_list(entity),
            quote(entity.table),
            self.order_clause()?
        );
        if self.limit.is_some() || self.offset.is_some() {
            let limit = self
                .limit
                .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
            sql.push_str(&format!(
                " LIMIT {limit} OFFSET {}",
                self.offset.unwrap_or(0)
            ));
        }
        self.db.run_query::<T>(&sql, &params)
    }

    /// The first record of the query, if any.
    pub fn first(&self) -> Result<Option<Record<T>>> {
        let q = Query {
            db: self.db,
            filters: self.filters.clone(),
            typed: self.typed.clone(),
            deleted: self.deleted,
            order: self.order.clone(),
            limit: Some(1),
            offset: self.offset,
            _entity: PhantomData,
        };
        Ok(q.fetch()?.into_iter().next())
    }

    /// The number of matching records (ignoring limit and offset).
    pub fn count(&self) -> Result<u64> {
        let (where_clause, params) = self.where_clause()?;
        let sql = format!(
            "SELECT count(*) FROM {}{where_clause}",
            quote(T::ENTITY.table)
        );
        self.db.run_count(T::ENTITY, &sql, &params)
    }

    /// Whether any record matches (ignoring limit and offset); stops at the first.
    pub fn exists(&self) -> Result<bool> {
        let (where_clause, params) = self.where_clause()?;
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {}{where_clause})",
            quote(T::ENTITY.table)
        );
        Ok(self.db.run_count(T::ENTITY, &sql, &params)? == 1)
    }
}
