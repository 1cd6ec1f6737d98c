//! What the database must hold, worked out from the specs alone (the README's rules, not the
//! generator's code): the tables and columns of every version, the rows the test wrote at every
//! version as they must read in a later one, and the indexes the specs declare.

use std::collections::BTreeMap;

use rusqlite::Connection;
use rusqlite::types::Value;

use crate::spec::{Backfill, Field, Specs, Ty};

/// A domain column of a table in the database.
#[derive(Clone, Debug)]
pub struct PhysCol {
    pub name: String,
    pub ty: Ty,
    pub nullable: bool,
    pub default: Option<Value>,
    pub references: Option<String>,
}

impl PhysCol {
    fn of(field: &Field) -> PhysCol {
        PhysCol {
            name: field.name.clone(),
            ty: field.ty,
            nullable: field.nullable,
            default: field.default_stored(),
            references: field.references.clone(),
        }
    }
}

/// A table in the database, its domain columns in order (the sync columns come first).
#[derive(Clone, Debug)]
pub struct PhysTable {
    pub table: String,
    pub field_merge: bool,
    pub columns: Vec<PhysCol>,
}

/// How a column added to a table with rows fills them.
#[derive(Clone, Debug)]
pub enum Fill {
    /// Its default, or NULL.
    Default,
    /// The value of the column it is renamed from, where that is not NULL.
    Renamed(String),
    /// The expression, where it is not NULL; NOT NULL columns keep their default otherwise.
    Backfill(Backfill),
}

/// The tables of the version released from `specs`, after the tables `previous` of the
/// release before; and, per table with rows, the columns the upgrade adds and how it fills
/// them. A column stays while a field is named after it or renamed from it; a column nothing
/// names any more was deprecated in an earlier release and is dropped, like a table whose
/// spec was deleted.
pub fn next_tables(
    previous: &[PhysTable],
    specs: &Specs,
) -> (Vec<PhysTable>, Vec<(String, PhysCol, Fill)>) {
    let mut tables = Vec::new();
    let mut added = Vec::new();
    for entity in &specs.entities {
        let before = previous.iter().find(|t| t.table == entity.table);
        let mut columns: Vec<PhysCol> = before
            .map(|t| {
                t.columns
                    .iter()
                    .filter(|c| {
                        entity.field(&c.name).is_some()
                            || entity
                                .fields
                                .iter()
                                .any(|f| f.renamed_from.as_deref() == Some(&c.name))
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        for field in &entity.fields {
            if columns.iter().any(|c| c.name == field.name) {
                continue;
            }
            let column = PhysCol::of(field);
            if before.is_some() {
                let fill = match (&field.backfill, &field.renamed_from) {
                    (Some(backfill), _) => Fill::Backfill(backfill.clone()),
                    (None, Some(old)) => Fill::Renamed(old.clone()),
                    (None, None) => Fill::Default,
                };
                added.push((entity.table.to_string(), column.clone(), fill));
            }
            columns.push(column);
        }
        tables.push(PhysTable {
            table: entity.table.to_string(),
            field_merge: entity.field_merge(),
            columns,
        });
    }
    (tables, added)
}

/// A row: column name to value, sync columns included.
pub type Row = BTreeMap<String, Value>;

/// The rows every table must hold, by table, in id order (the order they were written in).
#[derive(Default)]
pub struct Rows {
    tables: BTreeMap<String, Vec<Row>>,
    /// Rows written so far, over all tables: the serial number of the next one.
    written: u64,
}

impl Rows {
    /// The rows after the upgrade to `tables`: dropped tables and columns are gone, added
    /// columns hold what their [`Fill`] gives.
    pub fn upgrade(&mut self, tables: &[PhysTable], added: &[(String, PhysCol, Fill)]) {
        self.tables
            .retain(|name, _| tables.iter().any(|t| &t.table == name));
        for table in tables {
            let Some(rows) = self.tables.get_mut(&table.table) else {
                continue;
            };
            for row in rows.iter_mut() {
                let mut next: Row = row
                    .iter()
                    .filter(|(name, _)| {
                        is_sync_column(name) || table.columns.iter().any(|c| &c.name == *name)
                    })
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect();
                for (_, column, fill) in added.iter().filter(|(t, ..)| t == &table.table) {
                    next.insert(column.name.clone(), filled(column, fill, row));
                }
                *row = next;
            }
        }
    }

    /// Writes two rows into every table of each database, in order (a table's references
    /// point to earlier ones, which have rows by then), in one transaction per database.
    pub fn write(&mut self, databases: &[&Connection], tables: &[PhysTable]) -> Result<(), String> {
        let mut written = Vec::new();
        for table in tables {
            for _ in 0..2 {
                let row = self.new_row(table);
                self.tables
                    .entry(table.table.clone())
                    .or_default()
                    .push(row.clone());
                written.push((&table.table, row));
            }
        }
        for conn in databases {
            conn.execute_batch("BEGIN").map_err(|e| e.to_string())?;
            for (table, row) in &written {
                let names: Vec<String> = row.keys().map(|n| quoted(n)).collect();
                let sql = format!(
                    "INSERT INTO {} ({}) VALUES ({})",
                    quoted(table),
                    names.join(", "),
                    vec!["?"; names.len()].join(", ")
                );
                conn.execute(&sql, rusqlite::params_from_iter(row.values()))
                    .map_err(|e| format!("writing a row into `{table}`: {e}\n{sql}\n{row:?}"))?;
            }
            conn.execute_batch("COMMIT")
                .map_err(|e| format!("committing the rows: {e}"))?;
        }
        Ok(())
    }

    fn new_row(&mut self, table: &PhysTable) -> Row {
        let serial = self.written;
        self.written += 1;
        let created = 1_700_000_000_000 + serial as i64 * 1000;
        let mut row = Row::new();
        row.insert("id".into(), Value::Text(id(serial)));
        row.insert(
            "server_id".into(),
            if serial.is_multiple_of(2) {
                Value::Text(format!("srv-{serial}"))
            } else {
                Value::Null
            },
        );
        row.insert("created_at".into(), Value::Integer(created));
        row.insert("updated_at".into(), Value::Integer(created + 1));
        row.insert("synced_at".into(), Value::Null);
        row.insert("is_deleted".into(), Value::Integer((serial % 2) as i64));
        row.insert("version".into(), Value::Integer(1 + (serial % 3) as i64));
        row.insert(
            "sync_status".into(),
            Value::Text(["synced", "pending", "conflict", "error"][serial as usize % 4].into()),
        );
        if table.field_merge {
            row.insert("field_timestamps".into(), Value::Text("{}".into()));
        }
        for column in &table.columns {
            let value = self.value(column, serial);
            row.insert(column.name.clone(), value);
        }
        row
    }

    /// The value row number `serial` writes into `column`: distinct per row (unique columns
    /// never collide), NULL in one row of three where allowed.
    fn value(&self, column: &PhysCol, serial: u64) -> Value {
        if column.nullable && (serial + column.name.len() as u64).is_multiple_of(3) {
            return Value::Null;
        }
        if let Some(target) = &column.references {
            let last = self.tables.get(target).and_then(|rows| rows.last());
            return last.map_or(Value::Null, |row| row["id"].clone());
        }
        let n = serial as i64;
        match column.ty {
            Ty::Text => Value::Text(format!("{}'s row {serial}", column.name)),
            Ty::Integer => Value::Integer(n * 10 + column.name.len() as i64),
            Ty::Real => Value::Real(n as f64 + 0.25),
            Ty::Bool => Value::Integer(n % 2),
            Ty::Uuid => Value::Text(format!("00000000-0000-4000-9000-{serial:012}")),
            Ty::Timestamp => Value::Integer(1_600_000_000_000 + n),
            Ty::Json => Value::Text(format!("{{\"row\":{serial}}}")),
            Ty::Blob => Value::Blob(vec![serial as u8, 0xff, column.name.len() as u8]),
        }
    }

    /// Compares the user tables of `conn` with the expected rows: the same tables, and in
    /// each the same rows with the same values.
    pub fn compare(&self, conn: &Connection, tables: &[PhysTable]) -> Result<(), String> {
        let mut found = user_tables(conn)?;
        found.sort();
        let mut expected: Vec<String> = tables.iter().map(|t| t.table.clone()).collect();
        expected.sort();
        if found != expected {
            return Err(format!(
                "the database has tables {found:?}, the specs {expected:?}"
            ));
        }
        for table in tables {
            let actual = read_rows(conn, &table.table)?;
            let expected = self.tables.get(&table.table).map_or(&[][..], Vec::as_slice);
            if actual.len() != expected.len() {
                return Err(format!(
                    "table `{}` has {} rows, {} were written",
                    table.table,
                    actual.len(),
                    expected.len()
                ));
            }
            for (actual, expected) in actual.iter().zip(expected) {
                if actual != expected {
                    return Err(describe_row_difference(&table.table, expected, actual));
                }
            }
        }
        Ok(())
    }
}

/// What an added column holds in a row written before: see [`Fill`].
fn filled(column: &PhysCol, fill: &Fill, old: &Row) -> Value {
    let or_default = |value: Value| match value {
        Value::Null => column.default.clone().unwrap_or(Value::Null),
        value => value,
    };
    match fill {
        Fill::Default => column.default.clone().unwrap_or(Value::Null),
        Fill::Renamed(from) => or_default(old[from].clone()),
        Fill::Backfill(expression) => match evaluate(expression, old) {
            Value::Null if column.nullable => Value::Null,
            value => or_default(value),
        },
    }
}

/// The value of a backfill expression on a row, as SQLite computes it.
fn evaluate(expression: &Backfill, row: &Row) -> Value {
    let column = |name: &str| row.get(name).cloned().unwrap_or(Value::Null);
    let text = |name: &str| match column(name) {
        Value::Text(s) => Some(s),
        Value::Null => None,
        other => panic!("`{name}` holds {other:?}, not text"),
    };
    let integer = |name: &str| match column(name) {
        Value::Integer(i) => Some(i),
        Value::Null => None,
        other => panic!("`{name}` holds {other:?}, not an integer"),
    };
    let or_null = |value: Option<Value>| value.unwrap_or(Value::Null);
    match expression {
        // SQLite's upper() changes ASCII letters only.
        Backfill::Upper(c) => or_null(text(c).map(|s| Value::Text(s.to_ascii_uppercase()))),
        Backfill::Exclaim(c) => or_null(text(c).map(|s| Value::Text(format!("{s}!")))),
        Backfill::Coalesce(c) => Value::Text(text(c).unwrap_or_else(|| "none".into())),
        Backfill::CastText(c) => or_null(integer(c).map(|i| Value::Text(i.to_string()))),
        Backfill::Length(c) => or_null(text(c).map(|s| Value::Integer(s.chars().count() as i64))),
        Backfill::PlusOne(c) => or_null(integer(c).map(|i| Value::Integer(i + 1))),
        Backfill::Half(c) => or_null(integer(c).map(|i| Value::Real(i as f64 * 0.5))),
        Backfill::GreaterThree(c) => or_null(integer(c).map(|i| Value::Integer((i > 3).into()))),
        Backfill::IsNotNull(c) => Value::Integer((column(c) != Value::Null).into()),
        Backfill::JsonArray(c) => Value::Text(match integer(c) {
            Some(i) => format!("[{i}]"),
            None => "[null]".into(),
        }),
        Backfill::CastBlob(c) => or_null(text(c).map(|s| Value::Blob(s.into_bytes()))),
        Backfill::Id => column("id"),
        Backfill::CreatedLater => or_null(integer("created_at").map(|i| Value::Integer(i + 1000))),
        Backfill::Constant(ty) => match ty {
            Ty::Text => Value::Text("filled".into()),
            Ty::Real => Value::Real(1.5),
            Ty::Json => Value::Text("[]".into()),
            Ty::Blob => Value::Blob(vec![0x00, 0xff]),
            _ => Value::Integer(1),
        },
    }
}

/// An index the specs ask for on a live table.
pub struct WantedIndex {
    pub table: String,
    pub columns: Vec<String>,
    pub unique: bool,
    /// Any index whose leftmost column is `columns[0]` will do: a `references` field needs its
    /// child-key lookups served, which SQLite does with any such index.
    pub leading_column_only: bool,
}

/// The indexes the specs ask for, on live tables: every `index`/`unique` field that is not
/// deprecated and every `[[indexes]]` entry exactly, and for every `references` field an index
/// that starts with its column.
pub fn declared_indexes(specs: &Specs) -> Vec<WantedIndex> {
    let mut out = Vec::new();
    for entity in specs
        .entities
        .iter()
        .filter(|e| e.deprecated_since.is_none())
    {
        let wanted = |columns: Vec<String>, unique: bool, leading_column_only: bool| WantedIndex {
            table: entity.table.to_string(),
            columns,
            unique,
            leading_column_only,
        };
        for field in entity.fields.iter().filter(|f| !f.deprecated) {
            if field.index {
                out.push(wanted(vec![field.name.clone()], false, false));
            }
            if field.unique {
                out.push(wanted(vec![field.name.clone()], true, false));
            }
            if field.references.is_some() {
                out.push(wanted(vec![field.name.clone()], false, true));
            }
        }
        for index in &entity.indexes {
            out.push(wanted(index.columns.clone(), index.unique, false));
        }
    }
    out
}

/// Checks that `conn` has every declared index: one on the table with exactly those columns,
/// in order, and that uniqueness, whatever it is named (for a foreign key, any index starting
/// with its column).
pub fn check_indexes(conn: &Connection, specs: &Specs) -> Result<(), String> {
    let mut missing = Vec::new();
    for wanted in declared_indexes(specs) {
        let found = indexes_of(conn, &wanted.table)?
            .into_iter()
            .any(|(cols, u)| {
                if wanted.leading_column_only {
                    cols.first() == wanted.columns.first()
                } else {
                    cols == wanted.columns && u == wanted.unique
                }
            });
        if !found {
            missing.push(format!(
                "{}index on `{}` {}{:?}",
                if wanted.unique { "unique " } else { "" },
                wanted.table,
                if wanted.leading_column_only {
                    "starting with "
                } else {
                    ""
                },
                wanted.columns
            ));
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the database lacks indexes the specs declare: {}",
            missing.join(", ")
        ))
    }
}

/// `(columns, unique)` of every index of `table`.
fn indexes_of(conn: &Connection, table: &str) -> Result<Vec<(Vec<String>, bool)>, String> {
    let sql = "SELECT l.\"unique\", group_concat(i.name, char(31)) \
               FROM pragma_index_list(?1) AS l, pragma_index_info(l.name) AS i \
               GROUP BY l.name ORDER BY l.name";
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([table], |r| {
            let unique: bool = r.get(0)?;
            let columns: String = r.get(1)?;
            Ok((
                columns.split('\u{1f}').map(str::to_string).collect(),
                unique,
            ))
        })
        .map_err(|e| e.to_string())?;
    rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
}

fn user_tables(conn: &Connection) -> Result<Vec<String>, String> {
    let sql = "SELECT name FROM sqlite_schema WHERE type = 'table' \
               AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_sync%' ESCAPE '\\'";
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .map_err(|e| e.to_string())?
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    Ok(names)
}

fn read_rows(conn: &Connection, table: &str) -> Result<Vec<Row>, String> {
    let sql = format!("SELECT * FROM {} ORDER BY \"id\"", quoted(table));
    let mut stmt = conn.prepare(&sql).map_err(|e| format!("{sql}: {e}"))?;
    let names: Vec<String> = stmt.column_names().map(String::from).collect();
    let rows = stmt
        .query_map([], |r| {
            names
                .iter()
                .enumerate()
                .map(|(i, name)| Ok((name.clone(), r.get::<_, Value>(i)?)))
                .collect::<Result<Row, _>>()
        })
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<Row>, _>>()
        .map_err(|e| e.to_string())?;
    Ok(rows)
}

fn describe_row_difference(table: &str, expected: &Row, actual: &Row) -> String {
    let mut lines = vec![format!(
        "table `{table}`, row {:?}: the values differ from those written (and upgraded):",
        expected.get("id")
    )];
    for (name, value) in expected {
        match actual.get(name) {
            Some(found) if found == value => {}
            Some(found) => lines.push(format!("  `{name}`: expected {value:?}, found {found:?}")),
            None => lines.push(format!(
                "  `{name}`: expected {value:?}, the column is missing"
            )),
        }
    }
    for (name, found) in actual.iter().filter(|(n, _)| !expected.contains_key(*n)) {
        lines.push(format!("  `{name}`: unexpected column, holding {found:?}"));
    }
    lines.join("\n")
}

fn is_sync_column(name: &str) -> bool {
    matches!(
        name,
        "id" | "server_id"
            | "created_at"
            | "updated_at"
            | "synced_at"
            | "is_deleted"
            | "version"
            | "sync_status"
            | "field_timestamps"
    )
}

fn id(serial: u64) -> String {
    format!("00000000-0000-4000-8000-{serial:012}")
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
