//! TOML into the shared key reader's input: a spanned TOML table becomes [`Entry`]s, each
//! value a [`RawValue`] that points at where it was written.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::keys::{Entry, KeyReader, Raw, RawValue, Syntax};
use crate::diagnostic::{Diagnostic, Diagnostics, FileId, Origin};
use crate::model::Located;

/// A reader of the keys of `table` in `file`, which sits in `context` (for messages).
pub(crate) fn reader(file: FileId, table: &DeTable<'_>, context: impl Into<String>) -> KeyReader {
    KeyReader::new(Syntax::Toml, context, entries(file, table))
}

/// Every key of `table`, in the order written.
pub(crate) fn entries(file: FileId, table: &DeTable<'_>) -> Vec<Entry> {
    table
        .iter()
        .map(|(key, value)| Entry {
            key: Located::new(key.get_ref().to_string(), Origin::file(file, key.span())),
            value: raw_value(file, value),
        })
        .collect()
}

/// A TOML value as the key reader reads it.
pub(crate) fn raw_value(file: FileId, value: &Spanned<DeValue<'_>>) -> RawValue {
    let raw = match value.get_ref() {
        DeValue::String(s) => Raw::Str(s.to_string()),
        DeValue::Integer(i) => Raw::Int(i64::from_str_radix(i.as_str(), i.radix()).ok()),
        DeValue::Float(f) => Raw::Float(f.as_str().parse::<f64>().ok().filter(|f| f.is_finite())),
        DeValue::Boolean(b) => Raw::Bool(*b),
        DeValue::Datetime(d) => Raw::Datetime(d.to_string()),
        DeValue::Array(items) => Raw::Array(items.iter().map(|v| raw_value(file, v)).collect()),
        DeValue::Table(table) => Raw::Table(entries(file, table)),
    };
    RawValue {
        raw,
        origin: Origin::file(file, value.span()),
    }
}

/// How a TOML value is described in messages (the key reader's words).
pub(crate) fn describe(file: FileId, value: &Spanned<DeValue<'_>>) -> &'static str {
    raw_value(file, value).describe()
}

/// Reports TOML syntax errors; true when there were any.
pub(crate) fn report_syntax_errors(
    file: FileId,
    errors: &[toml::de::Error],
    text_len: usize,
    diags: &mut Diagnostics,
) -> bool {
    for (i, error) in errors.iter().enumerate() {
        let span = error.span().unwrap_or(text_len..text_len);
        // One mistake can fail several enclosing rules at the same place (an unclosed string
        // also leaves its inline table unclosed): report the innermost, reported last, once.
        let start = |e: &toml::de::Error| e.span().map_or(text_len, |s| s.start);
        if errors[i + 1..]
            .iter()
            .any(|later| start(later) == span.start)
        {
            continue;
        }
        let message = error.message().trim_end().to_string();
        diags.push(
            Diagnostic::error(Origin::file(file, span), format!("invalid TOML: {message}"))
                .label("here")
                .help("fix the TOML syntax; see docs/spec-format.md for the entity spec format"),
        );
    }
    !errors.is_empty()
}
