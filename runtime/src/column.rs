//! Typed column handles and the filter expressions built from them.
//!
//! `#[derive(Syncable)]` emits one associated constant per domain column (`Task::PRIORITY`,
//! a [`Column<Task, i64>`]) plus `ID`, `CREATED_AT` and `UPDATED_AT`, so a filter names its
//! column and compares it with a value of the column's type, and the compiler checks both:
//! `db.query::<Task>().filter_by(Task::PRIORITY.gt(2).or(Task::DUE_ON.is_null()))`. A typo in
//! the column is an unknown associated constant, a wrong value type an unsatisfied
//! [`Operand`] bound, a column of another entity a mismatched [`Filter`] type. The string
//! forms ([`crate::Query::filter`], [`crate::Query::order_by`]) stay as the escape for column
//! names only known at run time.

use std::fmt;
use std::marker::PhantomData;

use rusqlite::types::Value;

use crate::entity::{EntityDescriptor, quote};
use crate::value::ColumnValue;
use crate::{Error, Result};

/// The column `name` of entity `E`, whose Rust type is `V` (an `Option` for a nullable column).
pub struct Column<E, V> {
    name: &'static str,
    _types: PhantomData<fn() -> (E, V)>,
}

// Manual impls: a column is copyable whatever `E` and `V` are.
impl<E, V> Clone for Column<E, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E, V> Copy for Column<E, V> {}

impl<E, V> fmt::Debug for Column<E, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Column").field(&self.name).finish()
    }
}

/// A value a column of type `V` can be compared with: `V` itself, the `T` of an `Option<T>`
/// column, and `&str` for text columns.
#[diagnostic::on_unimplemented(
    message = "a column of type `{V}` cannot be compared with `{Self}`",
    label = "expected a value of the column's type `{V}`"
)]
pub trait Operand<V> {
    /// The SQLite value to compare with.
    fn into_operand(self) -> Value;
}

impl<V: ColumnValue> Operand<V> for V {
    fn into_operand(self) -> Value {
        self.to_value()
    }
}

impl<V: ColumnValue> Operand<Option<V>> for V {
    fn into_operand(self) -> Value {
        self.to_value()
    }
}

impl Operand<String> for &str {
    fn into_operand(self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl Operand<Option<String>> for &str {
    fn into_operand(self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl<E, V> Column<E, V> {
    /// The handle of column `name`; the derive emits these, apps use the constants.
    #[doc(hidden)]
    pub const fn new(name: &'static str) -> Self {
        Column {
            name,
            _types: PhantomData,
        }
    }

    /// The column's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    fn compare(self, op: &'static str, value: impl Operand<V>) -> Filter<E> {
        Filter::new(Expr::Compare(self.name, op, value.into_operand()))
    }

    /// `column = value`.
    pub fn eq(self, value: impl Operand<V>) -> Filter<E> {
        self.compare("=", value)
    }

    /// `column <> value`.
    pub fn ne(self, value: impl Operand<V>) -> Filter<E> {
        self.compare("<>", value)
    }

    /// `column < value`.
    pub fn lt(self, value: impl Operand<V>) -> Filter<E> {
        self.compare("<", value)
    }

    /// `column <= value`.
    pub fn le(self, value: impl Operand<V>) -> Filter<E> {
        self.compare("<=", value)
    }

    /// `column > value`.
    pub fn gt(self, value: impl Operand<V>) -> Filter<E> {
        self.compare(">", value)
    }

    /// `column >= value`.
    pub fn ge(self, value: impl Operand<V>) -> Filter<E> {
        self.compare(">=", value)
    }

    /// `column LIKE pattern` (`%` any run, `_` one character; ASCII case-insensitive).
    pub fn like(self, pattern: impl Operand<V>) -> Filter<E> {
        self.compare("LIKE", pattern)
    }

    /// `column IN (values...)`; an empty list matches nothing.
    pub fn is_in<I>(self, values: I) -> Filter<E>
    where
        I: IntoIterator,
        I::Item: Operand<V>,
    {
        let values = values.into_iter().map(Operand::into_operand).collect();
        Filter::new(Expr::In(self.name, values))
    }

    /// `column IS NULL`.
    pub fn is_null(self) -> Filter<E> {
        Filter::new(Expr::Null(self.name, true))
    }

    /// `column IS NOT NULL`.
    pub fn is_not_null(self) -> Filter<E> {
        Filter::new(Expr::Null(self.name, false))
    }
}

/// A condition on entity `E`'s records, built from its typed [`Column`]s and combined with
/// [`Filter::and`], [`Filter::or`] and [`Filter::not`] (each combination is parenthesised, so
/// grouping is exactly the nesting of the calls). Passed to [`crate::Query::filter_by`].
pub struct Filter<E> {
    expr: Expr,
    _entity: PhantomData<fn() -> E>,
}

// Manual impls: a filter is cloneable and printable whatever `E` is.
impl<E> Clone for Filter<E> {
    fn clone(&self) -> Self {
        Filter::new(self.expr.clone())
    }
}

impl<E> fmt::Debug for Filter<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Filter").field(&self.expr).finish()
    }
}

#[derive(Debug, Clone)]
enum Expr {
    Compare(&'static str, &'static str, Value),
    In(&'static str, Vec<Value>),
    Null(&'static str, bool),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

impl<E> Filter<E> {
    fn new(expr: Expr) -> Self {
        Filter {
            expr,
            _entity: PhantomData,
        }
    }

    /// Both `self` and `other`.
    pub fn and(self, other: Filter<E>) -> Filter<E> {
        Filter::new(Expr::And(Box::new(self.expr), Box::new(other.expr)))
    }

    /// Either `self` or `other`.
    pub fn or(self, other: Filter<E>) -> Filter<E> {
        Filter::new(Expr::Or(Box::new(self.expr), Box::new(other.expr)))
    }

    /// Not `self`. Like SQL, a `NULL` comparison is neither true nor false: `not(eq)` does not
    /// match rows whose column is `NULL`.
    #[allow(clippy::should_implement_trait)] // a builder step, not negation of a value
    pub fn not(self) -> Filter<E> {
        Filter::new(Expr::Not(Box::new(self.expr)))
    }

    /// The SQL of the condition, its parameters appended to `params` (numbered `?N` after the
    /// ones already there). Every column is checked against `entity`.
    pub(crate) fn render(
        &self,
        entity: &'static EntityDescriptor,
        params: &mut Vec<Value>,
    ) -> Result<String> {
        render(&self.expr, entity, params)
    }
}

fn checked(entity: &'static EntityDescriptor, column: &str) -> Result<String> {
    if entity.has_column(column) {
        Ok(quote(column))
    } else {
        Err(Error::UnknownColumn {
            entity: entity.name,
            column: column.to_owned(),
        })
    }
}

fn render(
    expr: &Expr,
    entity: &'static EntityDescriptor,
    params: &mut Vec<Value>,
) -> Result<String> {
    Ok(match expr {
        Expr::Compare(column, op, value) => {
            let column = checked(entity, column)?;
            params.push(value.clone());
            format!("{column} {op} ?{}", params.len())
        }
        Expr::In(column, values) => {
            let column = checked(entity, column)?;
            if values.is_empty() {
                return Ok("0".to_owned());
            }
            let mut slots = Vec::with_capacity(values.len());
            for value in values {
                params.push(value.clone());
                slots.push(format!("?{}", params.len()));
            }
            format!("{column} IN ({})", slots.join(", "))
        }
        Expr::Null(column, true) => format!("{} IS NULL", checked(entity, column)?),
        Expr::Null(column, false) => format!("{} IS NOT NULL", checked(entity, column)?),
        Expr::And(a, b) => format!(
            "({} AND {})",
            render(a, entity, params)?,
            render(b, entity, params)?
        ),
        Expr::Or(a, b) => format!(
            "({} OR {})",
            render(a, entity, params)?,
            render(b, entity, params)?
        ),
        Expr::Not(a) => format!("(NOT {})", render(a, entity, params)?),
    })
}
