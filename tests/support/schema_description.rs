//! A database's schema as a normalized, printable description, read with the bundled SQLite
//! alone (no `sqlite3` or `sqldiff` program): two databases have the same schema when their
//! descriptions are equal, and [`difference`] says line by line what differs.
//!
//! Every line names its object, so a line reads on its own in a diff and callers can filter
//! objects out (`line.contains("\"_sync_migrations\"")`):
//!
//! ```text
//! table "tasks": column 9 "title" type=TEXT notnull=1 default=NULL pk=0 hidden=0
//! table "tasks": index "idx_tasks_title" unique=0 partial=0 columns=("title" BINARY ASC) where=-
//! table "tasks": foreign key 0 ("project_id") -> "projects"("id") on_update=NO ACTION on_delete=NO ACTION match=NONE
//! table "tasks": sql CREATE TABLE "tasks"(...)
//! trigger "t_ai" on "tasks": sql CREATE TRIGGER ...
//! ```
//!
//! The pragmas give the structure (`table_xinfo`, `index_list`/`index_xinfo`,
//! `foreign_key_list`); the normalized `CREATE` statement is kept as well because CHECK
//! constraints, `DEFERRABLE` and collations of columns are visible nowhere else.

#![allow(dead_code)]

use rusqlite::Connection;

/// Describes every table, index, trigger and view of `conn`'s main database (SQLite's own
/// `sqlite_%` objects excluded), in a stable order.
pub fn describe(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    for (ty, name, table, sql) in objects(conn) {
        let sql = sql.as_deref().map(normalize_sql).unwrap_or_default();
        match ty.as_str() {
            "table" => {
                let owner = format!("table {}", quoted(&name));
                out.extend(
                    columns(conn, &name)
                        .into_iter()
                        .map(|c| format!("{owner}: {c}")),
                );
                out.extend(
                    indexes(conn, &name)
                        .into_iter()
                        .map(|i| format!("{owner}: {i}")),
                );
                out.extend(
                    foreign_keys(conn, &name)
                        .into_iter()
                        .map(|f| format!("{owner}: {f}")),
                );
                out.push(format!("{owner}: sql {sql}"));
            }
            // Indexes are described with their table, from the pragmas.
            "index" => {}
            other => out.push(format!(
                "{other} {} on {}: sql {sql}",
                quoted(&name),
                quoted(&table)
            )),
        }
    }
    out
}

/// `None` when `a` and `b` describe the same schema, otherwise the lines only one of them
/// has, each marked `-` (only in `a`) or `+` (only in `b`), in description order.
pub fn difference(a: &[String], b: &[String]) -> Option<String> {
    if a == b {
        return None;
    }
    let mut lines = Vec::new();
    for line in a.iter().filter(|l| !b.contains(l)) {
        lines.push(format!("- {line}"));
    }
    for line in b.iter().filter(|l| !a.contains(l)) {
        lines.push(format!("+ {line}"));
    }
    if lines.is_empty() {
        // Same lines, different order: column order or object order differs.
        lines.push("the same lines in a different order:".to_string());
        lines.extend(a.iter().map(|l| format!("- {l}")));
        lines.extend(b.iter().map(|l| format!("+ {l}")));
    }
    Some(lines.join("\n"))
}

/// Panics with the difference when `a` and `b` (named `a_name` and `b_name`) differ.
pub fn assert_same(a: &[String], a_name: &str, b: &[String], b_name: &str, context: &str) {
    if let Some(diff) = difference(a, b) {
        panic!("{context}: the schemas differ (- {a_name}, + {b_name}):\n{diff}");
    }
}

/// `(type, name, tbl_name, sql)` of every object, by type then name.
fn objects(conn: &Connection) -> Vec<(String, String, String, Option<String>)> {
    let mut stmt = conn
        .prepare(
            "SELECT type, name, tbl_name, sql FROM sqlite_schema \
             WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// One line per column, in table order, hidden (generated) columns included.
fn columns(conn: &Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(
            "SELECT cid, name, type, \"notnull\", dflt_value, pk, hidden \
             FROM pragma_table_xinfo(?1) ORDER BY cid",
        )
        .unwrap();
    stmt.query_map([table], |r| {
        Ok(format!(
            "column {} {} type={} notnull={} default={} pk={} hidden={}",
            r.get::<_, i64>(0)?,
            quoted(&r.get::<_, String>(1)?),
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, Option<String>>(4)?
                .as_deref()
                .map_or_else(|| "NULL".to_string(), normalize_sql),
            r.get::<_, i64>(5)?,
            r.get::<_, i64>(6)?,
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// One line per index of `table` (automatic ones included, named by SQLite), sorted by
/// name: `index_list`'s `seq` is creation order, which differs between a created and an
/// upgraded table and is left out.
fn indexes(conn: &Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(
            "SELECT l.name, l.\"unique\", l.origin, l.partial, s.sql \
             FROM pragma_index_list(?1) AS l \
             LEFT JOIN sqlite_schema AS s ON s.type = 'index' AND s.name = l.name \
             ORDER BY l.name",
        )
        .unwrap();
    let list: Vec<(String, i64, String, i64, Option<String>)> = stmt
        .query_map([table], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    list.into_iter()
        .map(|(name, unique, origin, partial, sql)| {
            let predicate = sql
                .as_deref()
                .map(normalize_sql)
                .and_then(|sql| where_clause(&sql).map(str::to_string))
                .unwrap_or_else(|| "-".to_string());
            format!(
                "index {} unique={unique} origin={origin} partial={partial} columns=({}) where={predicate}",
                quoted(&name),
                index_columns(conn, &name).join(", ")
            )
        })
        .collect()
}

/// The key columns of index `name`, in order, each with its collation and direction (an
/// expression column shows as `<expr>`).
fn index_columns(conn: &Connection, name: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(
            "SELECT name, \"desc\", coll FROM pragma_index_xinfo(?1) WHERE key = 1 ORDER BY seqno",
        )
        .unwrap();
    stmt.query_map([name], |r| {
        let column: Option<String> = r.get(0)?;
        let desc: i64 = r.get(1)?;
        let coll: Option<String> = r.get(2)?;
        Ok(format!(
            "{} {} {}",
            column
                .as_deref()
                .map_or_else(|| "<expr>".to_string(), quoted),
            coll.unwrap_or_default(),
            if desc == 1 { "DESC" } else { "ASC" }
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// One line per foreign key of `table` (a composite key is several pragma rows with one id).
fn foreign_keys(conn: &Connection, table: &str) -> Vec<String> {
    struct Key {
        id: i64,
        target: String,
        from: Vec<String>,
        to: Vec<String>,
        actions: String,
    }
    let mut stmt = conn
        .prepare(
            "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete, \"match\" \
             FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        )
        .unwrap();
    let mut keys: Vec<Key> = Vec::new();
    let rows = stmt
        .query_map([table], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                format!(
                    "on_update={} on_delete={} match={}",
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?
                ),
            ))
        })
        .unwrap()
        .map(Result::unwrap);
    for (id, target, from, to, actions) in rows {
        // `to` is NULL when the key references the parent's primary key implicitly.
        let to = to
            .as_deref()
            .map_or_else(|| "<primary key>".to_string(), quoted);
        match keys.last_mut() {
            Some(key) if key.id == id => {
                key.from.push(quoted(&from));
                key.to.push(to);
            }
            _ => keys.push(Key {
                id,
                target,
                from: vec![quoted(&from)],
                to: vec![to],
                actions,
            }),
        }
    }
    keys.into_iter()
        .map(|k| {
            format!(
                "foreign key {} ({}) -> {}({}) {}",
                k.id,
                k.from.join(", "),
                quoted(&k.target),
                k.to.join(", "),
                k.actions
            )
        })
        .collect()
}

/// `"name"`, as SQL quotes an identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The predicate of a normalized `CREATE INDEX ... WHERE <predicate>`, if any.
fn where_clause(sql: &str) -> Option<&str> {
    let at = top_level_keyword(sql, "WHERE")?;
    Some(sql[at + "WHERE".len()..].trim())
}

/// Where `keyword` (upper case) first appears in `sql` as a word outside quotes and
/// parentheses.
fn top_level_keyword(sql: &str, keyword: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let bytes = sql.as_bytes();
    for (i, c) in sql.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '[' => quote = Some(']'),
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ if depth == 0
                    && sql[i..]
                        .get(..keyword.len())
                        .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
                    && (i == 0 || !is_word(bytes[i - 1]))
                    && bytes.get(i + keyword.len()).is_none_or(|&b| !is_word(b)) =>
                {
                    return Some(i);
                }
                _ => {}
            },
        }
    }
    None
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// SQL without comments, with runs of whitespace outside string literals collapsed, and no
/// space next to `(`, `)` or `,`: the layout of a statement is not part of the schema.
pub fn normalize_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    let mut pending_space = false;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '-' if chars.peek() == Some(&'-') => {
                for skipped in chars.by_ref() {
                    if skipped == '\n' {
                        break;
                    }
                }
                pending_space = true;
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for skipped in chars.by_ref() {
                    if last == '*' && skipped == '/' {
                        break;
                    }
                    last = skipped;
                }
                pending_space = true;
            }
            c if c.is_whitespace() => pending_space = true,
            c => {
                let tight =
                    matches!(c, '(' | ')' | ',') || out.ends_with(['(', ',']) || out.is_empty();
                if pending_space && !tight {
                    out.push(' ');
                }
                pending_space = false;
                if matches!(c, '\'' | '"' | '`') {
                    quote = Some(c);
                } else if c == '[' {
                    quote = Some(']');
                }
                out.push(c);
            }
        }
    }
    out
}
