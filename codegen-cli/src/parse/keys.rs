//! The key reader both front ends share: what each spec key means, and every wording about a
//! key, exist here once.
//!
//! A front end only turns its syntax into [`Entry`]s (a TOML table, or the items of a
//! `#[syncwright(...)]` attribute) and reads them with a [`KeyReader`]; so the TOML spec and
//! the Rust attributes accept the same keys and values, and report them in the same words.

use crate::diagnostic::{Diagnostic, Diagnostics, Origin};
use crate::model::{ConflictStrategy, DefaultValue, Entity, Field, FieldType, IndexSpec, Located};
use crate::naming::{did_you_mean, plural};
use crate::symbol;

/// A value as written, before a key gives it a meaning.
#[derive(Clone, Debug)]
pub(crate) enum Raw {
    /// A string.
    Str(String),
    /// A boolean.
    Bool(bool),
    /// An integer; `None` when it does not fit in an `i64`.
    Int(Option<i64>),
    /// A float; `None` when it is not finite (`nan`, `inf`, an overflowing literal).
    Float(Option<f64>),
    /// An array.
    Array(Vec<RawValue>),
    /// A table of keys and values (TOML).
    // Only the TOML front end (the `generate` feature) builds the TOML-only values.
    #[cfg_attr(not(feature = "generate"), allow(dead_code))]
    Table(Vec<Entry>),
    /// A TOML datetime, as written.
    #[cfg_attr(not(feature = "generate"), allow(dead_code))]
    Datetime(String),
    /// A key written alone, with no value (Rust: `#[syncwright(index)]`).
    Flag,
    /// A key with a parenthesised list of items (Rust: `index(columns = [...])`).
    List(Vec<Entry>),
    /// Anything else, as described in messages ("a path", "an expression").
    Other(&'static str),
}

/// A [`Raw`] value and where it was written.
#[derive(Clone, Debug)]
pub(crate) struct RawValue {
    /// The value.
    pub raw: Raw,
    /// Where it was written (for a [`Raw::Flag`], the key; for a [`Raw::List`], its
    /// parentheses).
    pub origin: Origin,
}

impl RawValue {
    /// How the value is described in messages.
    pub fn describe(&self) -> &'static str {
        match &self.raw {
            Raw::Str(_) => "a string",
            Raw::Bool(_) => "a boolean",
            Raw::Int(_) => "an integer",
            Raw::Float(_) => "a float",
            Raw::Array(_) => "an array",
            Raw::Table(_) => "a table",
            Raw::Datetime(_) => "a datetime",
            Raw::Flag => "no value",
            Raw::List(_) => "a list",
            Raw::Other(what) => what,
        }
    }
}

/// One `key = value` (or `key`, or `key(...)`).
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// The key and where it was written.
    pub key: Located<String>,
    /// Its value.
    pub value: RawValue,
}

/// The front end a reader reads for: the few messages that show syntax say it in that
/// front end's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// An entity spec or `syncwright.toml`.
    #[cfg_attr(not(feature = "generate"), allow(dead_code))]
    Toml,
    /// `#[syncwright(...)]` attributes.
    Rust,
}

impl Syntax {
    /// How to write a boolean key.
    fn bool_help(self, key: &str) -> String {
        match self {
            Syntax::Toml => format!("write `{key} = true` or `{key} = false`"),
            Syntax::Rust => format!("write `{key}` or `{key} = false`"),
        }
    }

    /// How to write an index's columns.
    fn index_columns_help(self) -> &'static str {
        match self {
            Syntax::Toml => "add `columns = [\"field_a\", \"field_b\"]`",
            Syntax::Rust => "write `index(columns = [\"field_a\", \"field_b\"])`",
        }
    }
}

/// Typed reads out of the entries of one table or attribute, each failure a diagnostic at the
/// offending key or value.
pub(crate) struct KeyReader {
    /// The front end, for the few messages that show syntax.
    pub syntax: Syntax,
    /// Where the entries sit, for messages (`field `priority` of entity `task``).
    pub context: String,
    /// The entries, in the order written.
    pub entries: Vec<Entry>,
}

impl KeyReader {
    /// A reader of `entries` found in `context`.
    pub fn new(syntax: Syntax, context: impl Into<String>, entries: Vec<Entry>) -> Self {
        KeyReader {
            syntax,
            context: context.into(),
            entries,
        }
    }

    /// Reports every key not in `allowed` (with a suggestion when one is close) and every
    /// repeated key except `repeatable` ones, and keeps only the first of each.
    pub fn check_keys(
        &mut self,
        allowed: &[&str],
        repeatable: &[&str],
        what: &str,
        diags: &mut Diagnostics,
    ) {
        let mut kept: Vec<Entry> = Vec::new();
        for entry in std::mem::take(&mut self.entries) {
            let name = entry.key.value.as_str();
            if !allowed.contains(&name) {
                let help = match did_you_mean(name, allowed.iter().copied()) {
                    Some(suggestion) => format!("did you mean `{suggestion}`?"),
                    None => format!("allowed keys are: {}", allowed.join(", ")),
                };
                diags.push(
                    Diagnostic::error(
                        entry.key.origin.clone(),
                        format!("unknown {what} key `{name}` in {}", self.context),
                    )
                    .label("unknown key")
                    .help(help),
                );
                continue;
            }
            if !repeatable.contains(&name)
                && let Some(first) = kept.iter().find(|e| e.key.value == name)
            {
                diags.push(
                    Diagnostic::error(
                        entry.key.origin.clone(),
                        format!("duplicate key `{name}` in {}", self.context),
                    )
                    .label("given again here")
                    .note("first given here", first.key.origin.clone())
                    .help(format!("give `{name}` once")),
                );
                continue;
            }
            kept.push(entry);
        }
        self.entries = kept;
    }

    /// The first entry of `key`.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key.value == key)
    }

    /// Every entry of `key`, for keys that may repeat.
    pub fn all<'r>(&'r self, key: &'r str) -> impl Iterator<Item = &'r Entry> + 'r {
        self.entries.iter().filter(move |e| e.key.value == key)
    }

    fn wrong_type(&self, entry: &Entry, expected: &str, found: &RawValue) -> Diagnostic {
        Diagnostic::error(
            found.origin.clone(),
            format!(
                "`{}` in {} must be {expected}, found {}",
                entry.key.value,
                self.context,
                found.describe()
            ),
        )
        .label(format!("expected {expected}"))
    }

    /// A key written without the value it needs (`#[syncwright(table)]`).
    fn needs_value(&self, entry: &Entry, expected: &str, example: &str) -> Diagnostic {
        Diagnostic::error(
            entry.key.origin.clone(),
            format!("`{}` in {} needs {expected}", entry.key.value, self.context),
        )
        .label("no value")
        .help(format!("write `{} = {example}`", entry.key.value))
    }

    /// `key = "text"`; `None` (with an error pushed) when present with another kind of value.
    pub fn string(&self, key: &str, diags: &mut Diagnostics) -> Option<Located<String>> {
        let entry = self.get(key)?;
        match &entry.value.raw {
            Raw::Str(s) => Some(Located::new(s.clone(), entry.value.origin.clone())),
            Raw::Flag | Raw::List(_) => {
                diags.push(self.needs_value(entry, "a string", "\"...\""));
                None
            }
            _ => {
                diags.push(self.wrong_type(entry, "a string", &entry.value));
                None
            }
        }
    }

    /// `key = true|false`, or `key` alone (true).
    pub fn bool(&self, key: &str, diags: &mut Diagnostics) -> Option<Located<bool>> {
        let entry = self.get(key)?;
        // A Rust attribute points at its key (`index`, `index = true`), a TOML one at its value.
        let origin = match self.syntax {
            Syntax::Toml => entry.value.origin.clone(),
            Syntax::Rust => entry.key.origin.clone(),
        };
        match &entry.value.raw {
            Raw::Bool(b) => Some(Located::new(*b, origin)),
            Raw::Flag => Some(Located::new(true, origin)),
            Raw::List(_) => {
                diags.push(
                    Diagnostic::error(
                        entry.value.origin.clone(),
                        format!("`{key}` in {} takes no list", self.context),
                    )
                    .label("unexpected list")
                    .help(self.syntax.bool_help(key)),
                );
                None
            }
            _ => {
                diags.push(
                    self.wrong_type(entry, "a boolean", &entry.value)
                        .help(self.syntax.bool_help(key)),
                );
                None
            }
        }
    }

    /// `key = ["a", "b"]`.
    pub fn strings(&self, key: &str, diags: &mut Diagnostics) -> Option<Vec<Located<String>>> {
        let entry = self.get(key)?;
        let items = match &entry.value.raw {
            Raw::Array(items) => items,
            Raw::Flag | Raw::List(_) => {
                diags.push(self.needs_value(entry, "an array of strings", "[\"a\", \"b\"]"));
                return None;
            }
            _ => {
                diags.push(
                    self.wrong_type(entry, "an array of strings", &entry.value)
                        .help(format!("write `{key} = [\"a\", \"b\"]`")),
                );
                return None;
            }
        };
        let mut out = Vec::new();
        for item in items {
            match &item.raw {
                Raw::Str(s) => out.push(Located::new(s.clone(), item.origin.clone())),
                _ => diags.push(self.wrong_type(entry, "an array of strings", item)),
            }
        }
        Some(out)
    }

    /// `conflict = "..."`: one of the strategies; the default when absent or unknown.
    pub fn conflict(&self, diags: &mut Diagnostics) -> Located<ConflictStrategy> {
        let Some(value) = self.string(symbol::CONFLICT, diags) else {
            return Located::new(ConflictStrategy::default(), Origin::Generated);
        };
        if let Some(strategy) = ConflictStrategy::parse(&value.value) {
            return Located::new(strategy, value.origin);
        }
        let names = ConflictStrategy::ALL.map(ConflictStrategy::as_str);
        let help = match did_you_mean(&value.value, names) {
            Some(s) => format!("did you mean `{s}`? strategies are: {}", names.join(", ")),
            None => format!("strategies are: {}", names.join(", ")),
        };
        diags.push(
            Diagnostic::error(
                value.origin.clone(),
                format!(
                    "unknown conflict strategy `{}` in {}",
                    value.value, self.context
                ),
            )
            .label("unknown strategy")
            .help(help),
        );
        Located::new(ConflictStrategy::default(), value.origin)
    }

    /// `type = "..."`: one of the field types.
    pub fn field_type(&self, diags: &mut Diagnostics) -> Option<Located<FieldType>> {
        let name = self.string(symbol::TYPE, diags)?;
        field_type(&self.context, name, diags)
    }

    /// `default = ...`: a literal, or (for `json` fields) an array or table.
    pub fn default(&self, diags: &mut Diagnostics) -> Option<Located<DefaultValue>> {
        let entry = self.get(symbol::DEFAULT)?;
        let value = &entry.value;
        let origin = value.origin.clone();
        let context = &self.context;
        let parsed = match &value.raw {
            Raw::Str(s) => DefaultValue::Text(s.clone()),
            Raw::Bool(b) => DefaultValue::Bool(*b),
            Raw::Int(Some(i)) => DefaultValue::Integer(*i),
            Raw::Int(None) => {
                diags.push(default_out_of_range(origin, context));
                return None;
            }
            Raw::Float(Some(f)) => DefaultValue::Real(*f),
            Raw::Float(None) => {
                diags.push(default_not_finite(origin, context));
                return None;
            }
            Raw::Array(_) | Raw::Table(_) => match to_json(value, context) {
                Ok(json) => DefaultValue::Json(json.to_string()),
                Err(diagnostics) => {
                    diags.extend(diagnostics);
                    return None;
                }
            },
            Raw::Datetime(_) => {
                diags.push(
                    Diagnostic::error(origin, format!("default of {context} is a TOML datetime"))
                        .label("not supported")
                        .help("timestamps are epoch milliseconds (UTC): write the default as an integer, such as `default = 0`"),
                );
                return None;
            }
            Raw::Flag | Raw::List(_) => {
                diags.push(self.needs_value(entry, "a value", "0"));
                return None;
            }
            Raw::Other(_) => {
                diags.push(not_a_literal(value, context));
                return None;
            }
        };
        Some(Located::new(parsed, origin))
    }

    /// The entity the `[entity]` keys describe, once its `name` is known: its `table` (the
    /// plural of the name by default), `conflict` and `deprecated`; fields and indexes empty,
    /// for the front end to fill. `origin` is the whole declaration.
    pub fn entity(&self, name: Located<String>, origin: Origin, diags: &mut Diagnostics) -> Entity {
        let table = self
            .string(symbol::TABLE, diags)
            .unwrap_or_else(|| Located::new(plural(&name.value), name.origin.clone()));
        Entity {
            table,
            conflict: self.conflict(diags),
            deprecated: self.bool(symbol::DEPRECATED, diags),
            adopted: self.bool(symbol::ADOPTED, diags),
            adoption: None,
            name,
            fields: Vec::new(),
            indexes: Vec::new(),
            origin,
        }
    }

    /// Every option of a field besides its name, type and nullability, into `field`.
    pub fn field_options(&self, field: &mut Field, diags: &mut Diagnostics) {
        field.default = self.default(diags);
        field.index = self.bool(symbol::INDEX, diags);
        field.unique = self.bool(symbol::UNIQUE, diags);
        field.references = self.string(symbol::REFERENCES, diags);
        field.renamed_from = self.string(symbol::RENAMED_FROM, diags);
        field.backfill = self.string(symbol::BACKFILL, diags);
        field.deprecated = self.bool(symbol::DEPRECATED, diags);
    }

    /// The keys of one index (`[[indexes]]` entry or `index(...)`), whose whole declaration is
    /// at `origin` and whose keys are inside `body`.
    pub fn index(
        &self,
        origin: Origin,
        body: Origin,
        diags: &mut Diagnostics,
    ) -> Option<IndexSpec> {
        let unique = self.bool(symbol::UNIQUE, diags).is_some_and(|b| b.value);
        let Some(columns) = self.strings(symbol::COLUMNS, diags) else {
            if self.get(symbol::COLUMNS).is_none() {
                diags.push(
                    Diagnostic::error(body, format!("{} has no `columns`", self.context))
                        .help(self.syntax.index_columns_help()),
                );
            }
            return None;
        };
        if columns.is_empty() {
            diags.push(
                Diagnostic::error(
                    body,
                    format!("{} has an empty `columns` list", self.context),
                )
                .help("name at least one field: `columns = [\"field_a\"]`"),
            );
            return None;
        }
        Some(IndexSpec {
            columns,
            unique,
            origin,
        })
    }
}

/// A type name read from `name` (a `type` key, or the TOML shorthand `title = "text"`).
pub(crate) fn field_type(
    context: &str,
    name: Located<String>,
    diags: &mut Diagnostics,
) -> Option<Located<FieldType>> {
    if let Some(parsed) = FieldType::parse(&name.value) {
        return Some(Located::new(parsed, name.origin));
    }
    let names = FieldType::ALL.map(FieldType::as_str);
    let help = match did_you_mean(&name.value, names) {
        Some(s) => format!("did you mean `{s}`? types are: {}", type_names()),
        None => format!("types are: {}", type_names()),
    };
    diags.push(
        Diagnostic::error(
            name.origin,
            format!("unknown type `{}` for {context}", name.value),
        )
        .label("unknown type")
        .help(help),
    );
    None
}

/// Every field type, for messages.
pub(crate) fn type_names() -> String {
    FieldType::ALL.map(FieldType::as_str).join(", ")
}

/// A value as JSON, for `json` defaults written as arrays or tables. A number JSON cannot hold
/// (`nan`, `inf`, an integer beyond 64 bits) or a value that is no literal is an error where it
/// stands, never a silent `null`; every such error is returned.
fn to_json(value: &RawValue, context: &str) -> Result<serde_json::Value, Diagnostics> {
    use serde_json::Value as J;
    let fail = |diagnostic: Diagnostic| {
        let mut diags = Diagnostics::new();
        diags.push(diagnostic);
        Err(diags)
    };
    let origin = value.origin.clone();
    Ok(match &value.raw {
        Raw::Str(s) | Raw::Datetime(s) => J::String(s.clone()),
        Raw::Bool(b) => J::Bool(*b),
        Raw::Int(Some(i)) => J::from(*i),
        Raw::Int(None) => return fail(default_out_of_range(origin, context)),
        Raw::Float(Some(f)) => J::from(*f),
        Raw::Float(None) => return fail(default_not_finite(origin, context)),
        Raw::Array(items) => J::Array(all_json(items.iter(), context)?),
        Raw::Table(entries) => {
            let values = all_json(entries.iter().map(|e| &e.value), context)?;
            J::Object(
                entries
                    .iter()
                    .map(|e| e.key.value.clone())
                    .zip(values)
                    .collect(),
            )
        }
        Raw::Flag | Raw::List(_) | Raw::Other(_) => return fail(not_a_literal(value, context)),
    })
}

/// Every value as JSON, or every error among them.
fn all_json<'v>(
    values: impl Iterator<Item = &'v RawValue>,
    context: &str,
) -> Result<Vec<serde_json::Value>, Diagnostics> {
    let mut out = Vec::new();
    let mut errors = Diagnostics::new();
    for value in values {
        match to_json(value, context) {
            Ok(json) => out.push(json),
            Err(diags) => errors.extend(diags),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn not_a_literal(value: &RawValue, context: &str) -> Diagnostic {
    Diagnostic::error(
        value.origin.clone(),
        format!(
            "default of {context} must be a literal, found {}",
            value.describe()
        ),
    )
    .label("not a literal")
    .help("write a string, a number, `true`/`false`, or an array of them (json fields)")
}

/// A default integer outside SQLite's signed 64-bit range.
fn default_out_of_range(origin: Origin, context: &str) -> Diagnostic {
    Diagnostic::error(
        origin,
        format!("default of {context} does not fit in 64 bits"),
    )
    .help("use a value between -9223372036854775808 and 9223372036854775807")
}

/// A default float that is infinite or NaN.
fn default_not_finite(origin: Origin, context: &str) -> Diagnostic {
    Diagnostic::error(
        origin,
        format!("default of {context} must be a finite number"),
    )
    .help("SQLite cannot store inf or nan as a default; use a finite value")
}
