//! Typed reads out of a spanned TOML table, each failure a diagnostic at the offending value.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{Diagnostic, Diagnostics, FileId, Origin};
use crate::naming::did_you_mean;

/// A TOML table being read, with the file it came from and a description of where it sits
/// (`field `priority` of entity `task``) for messages.
pub(crate) struct TableReader<'a, 'i> {
    pub file: FileId,
    pub table: &'a DeTable<'i>,
    pub context: String,
}

impl<'a, 'i> TableReader<'a, 'i> {
    pub fn origin(&self, span: std::ops::Range<usize>) -> Origin {
        Origin::file(self.file, span)
    }

    /// Reports every key not in `allowed`, with a suggestion when one is close.
    pub fn check_keys(&self, allowed: &[&str], what: &str, diags: &mut Diagnostics) {
        for key in self.table.keys() {
            let name = key.get_ref().as_ref();
            if allowed.contains(&name) {
                continue;
            }
            let help = match did_you_mean(name, allowed.iter().copied()) {
                Some(suggestion) => format!("did you mean `{suggestion}`?"),
                None => format!("allowed keys are: {}", allowed.join(", ")),
            };
            diags.push(
                Diagnostic::error(
                    self.origin(key.span()),
                    format!("unknown {what} key `{name}` in {}", self.context),
                )
                .label("unknown key")
                .help(help),
            );
        }
    }

    /// The key and value of `key`, if present.
    pub fn entry(
        &self,
        key: &str,
    ) -> Option<(
        &'a Spanned<toml::de::DeString<'i>>,
        &'a Spanned<DeValue<'i>>,
    )> {
        self.table.get_key_value(key)
    }

    pub fn get(&self, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
        self.table.get(key)
    }

    fn wrong_type(&self, key: &str, expected: &str, value: &Spanned<DeValue<'_>>) -> Diagnostic {
        Diagnostic::error(
            self.origin(value.span()),
            format!(
                "`{key}` in {} must be {expected}, found {}",
                self.context,
                describe(value.get_ref())
            ),
        )
        .label(format!("expected {expected}"))
    }

    /// Reads a string value; `None` (with an error pushed) when present with the wrong type.
    pub fn string(&self, key: &str, diags: &mut Diagnostics) -> Option<Spanned<String>> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::String(s) => Some(Spanned::new(value.span(), s.to_string())),
            _ => {
                diags.push(self.wrong_type(key, "a string", value));
                None
            }
        }
    }

    /// Reads a boolean value.
    pub fn bool(&self, key: &str, diags: &mut Diagnostics) -> Option<Spanned<bool>> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::Boolean(b) => Some(Spanned::new(value.span(), *b)),
            _ => {
                diags.push(
                    self.wrong_type(key, "a boolean", value)
                        .help(format!("write `{key} = true` or `{key} = false`")),
                );
                None
            }
        }
    }

    /// Reads an array of strings.
    pub fn strings(&self, key: &str, diags: &mut Diagnostics) -> Option<Vec<Spanned<String>>> {
        let value = self.get(key)?;
        let DeValue::Array(items) = value.get_ref() else {
            diags.push(
                self.wrong_type(key, "an array of strings", value)
                    .help(format!("write `{key} = [\"a\", \"b\"]`")),
            );
            return None;
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push(Spanned::new(item.span(), s.to_string())),
                _ => diags.push(self.wrong_type(key, "an array of strings", item)),
            }
        }
        Some(out)
    }
}

/// How a TOML value is described in messages.
pub(crate) fn describe(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
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
