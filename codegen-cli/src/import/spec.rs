//! Renders an [`ImportedSchema`](super::ImportedSchema) as TOML entity specs, one file per table.
//!
//! Names are kept exactly (keywords and camelCase included; TOML keys that are not bare words
//! are quoted). Types follow SQLite's affinity rules for the declared type; defaults that are
//! literals are carried over, others (`CURRENT_TIMESTAMP`, expressions) stay in the table and
//! are noted in a comment. Single-column unique and plain indexes become `unique`/`index` on
//! the field, the others `[[indexes]]`; a single-column foreign key becomes `references`.

use std::fmt::Write as _;

use super::schema::{ImportedColumn, ImportedTable};

/// The syncwright type for a declared SQLite column type, by SQLite's affinity rules
/// (<https://sqlite.org/datatype3.html#determination_of_column_affinity>), with `BOOL…`
/// as `bool` and dates (stored as the app wrote them) as `text`.
pub fn field_type(declared: &str) -> &'static str {
    let t = declared.to_ascii_uppercase();
    if t.contains("BOOL") {
        "bool"
    } else if t.contains("INT") {
        "integer"
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        "text"
    } else if t.is_empty() || t.contains("BLOB") {
        "blob"
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        "real"
    } else if t.contains("DATE") || t.contains("TIME") {
        "text"
    } else {
        // NUMERIC affinity (NUMERIC, DECIMAL, …): numbers that may have a fraction.
        "real"
    }
}

/// A TOML key: bare when it can be, quoted otherwise.
pub fn toml_key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        name.to_owned()
    } else {
        toml_string(name)
    }
}

/// A TOML basic string.
pub fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// The TOML value of a SQL `DEFAULT` literal for a field of `ty`, or `None` when the default
/// is not a literal of that type (it then stays in the table only).
fn default_value(sql: &str, ty: &str) -> Option<String> {
    let sql = sql.trim();
    let unparenthesized = sql
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(sql)
        .trim();
    match ty {
        "bool" => match unparenthesized.to_ascii_uppercase().as_str() {
            "1" | "TRUE" => Some("true".to_owned()),
            "0" | "FALSE" => Some("false".to_owned()),
            _ => None,
        },
        "integer" => unparenthesized.parse::<i64>().ok().map(|i| i.to_string()),
        "real" => unparenthesized
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| toml::Value::Float(f).to_string()),
        "text" => {
            let inner = unparenthesized.strip_prefix('\'')?.strip_suffix('\'')?;
            if inner.replace("''", "").contains('\'') {
                return None;
            }
            Some(toml_string(&inner.replace("''", "'")))
        }
        _ => None,
    }
}

/// The entity name for a table: its snake_case, kept as the table is (not singularized,
/// so the name stays recognisable; rename the entity in the spec if wanted).
pub fn entity_name(table: &str) -> String {
    let snake = crate::naming::snake_case(table);
    crate::naming::to_identifier(&snake.to_ascii_lowercase())
}

/// The spec file of one table.
pub fn render_spec(table: &ImportedTable, from: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Imported from `{from}` by `syncwright import`. The table exists in the app's \
         databases:\n# the project's first release adopts it as it is (see \
         `schema/import.json`).\n# The app's key stays the primary key: {}.",
        if table.primary_key.is_empty() {
            "none (the rowid)".to_owned()
        } else {
            table
                .primary_key
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    let _ = writeln!(out, "\n[entity]");
    let _ = writeln!(out, "name = {}", toml_string(&entity_name(&table.name)));
    let _ = writeln!(out, "table = {}", toml_string(&table.name));
    let _ = writeln!(out, "{} = true", crate::symbol::ADOPTED);
    let _ = writeln!(out, "\n[fields]");
    for column in &table.columns {
        let _ = writeln!(out, "{}", render_field(table, column));
    }
    for index in &table.indexes {
        if index.columns.len() == 1 {
            continue; // on the field itself
        }
        let _ = writeln!(out, "\n[[indexes]]");
        let columns: Vec<String> = index.columns.iter().map(|c| toml_string(c)).collect();
        let _ = writeln!(out, "columns = [{}]", columns.join(", "));
        if index.unique {
            let _ = writeln!(out, "unique = true");
        }
    }
    out
}

fn render_field(table: &ImportedTable, column: &ImportedColumn) -> String {
    let ty = field_type(&column.declared_type);
    let mut keys = vec![format!("type = {}", toml_string(ty))];
    let in_key = table.primary_key.contains(&column.name);
    if !column.not_null && !in_key {
        keys.push("nullable = true".to_owned());
    }
    let mut note = None;
    if let Some(sql) = &column.default_sql {
        match default_value(sql, ty) {
            Some(value) => keys.push(format!("default = {value}")),
            None if sql.eq_ignore_ascii_case("NULL") => {}
            None => note = Some(format!("default kept in the table: {sql}")),
        }
    }
    let alone = |unique: bool| {
        table
            .indexes
            .iter()
            .any(|i| i.unique == unique && i.columns.len() == 1 && i.columns[0] == column.name)
    };
    if alone(true) {
        keys.push("unique = true".to_owned());
    } else if alone(false) {
        keys.push("index = true".to_owned());
    }
    if let Some(fk) = table
        .foreign_keys
        .iter()
        .find(|fk| fk.columns.len() == 1 && fk.columns[0] == column.name)
    {
        keys.push(format!("references = {}", toml_string(&fk.table)));
    }
    let mut line = format!("{} = {{ {} }}", toml_key(&column.name), keys.join(", "));
    if let Some(note) = note {
        let _ = write!(line, " # {note}");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_types_map_by_sqlite_affinity() {
        for (declared, ty) in [
            ("INTEGER", "integer"),
            ("BIGINT", "integer"),
            ("BOOLEAN", "bool"),
            ("VARCHAR(200)", "text"),
            ("CLOB", "text"),
            ("", "blob"),
            ("BLOB", "blob"),
            ("DOUBLE PRECISION", "real"),
            ("FLOAT", "real"),
            ("DECIMAL(10,2)", "real"),
            ("DATETIME", "text"),
        ] {
            assert_eq!(field_type(declared), ty, "{declared}");
        }
    }

    #[test]
    fn only_literal_defaults_of_the_fields_type_are_carried_over() {
        assert_eq!(
            default_value("'it''s'", "text").as_deref(),
            Some("\"it's\"")
        );
        assert_eq!(default_value("(-3)", "integer").as_deref(), Some("-3"));
        assert_eq!(default_value("0.5", "real").as_deref(), Some("0.5"));
        assert_eq!(default_value("TRUE", "bool").as_deref(), Some("true"));
        assert_eq!(default_value("CURRENT_TIMESTAMP", "text"), None);
        assert_eq!(default_value("'a' || 'b'", "text"), None);
        assert_eq!(default_value("'x'", "integer"), None);
    }

    #[test]
    fn keys_that_are_not_bare_words_are_quoted() {
        assert_eq!(toml_key("displayName"), "displayName");
        assert_eq!(toml_key("order"), "order");
        assert_eq!(toml_key("my col"), "\"my col\"");
    }
}
