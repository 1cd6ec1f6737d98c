//! Differences between two [`ImportedSchema`]s, one line each, for people to read.
//!
//! `inspect` uses it for drift between a database and the project's specs; the runtime has
//! its own copy of the same rules for refusing a changed database at adoption (it does not
//! depend on the generator).

use super::schema::{ImportedSchema, ImportedTable};

/// Every difference from `expected` to `live`: missing and extra tables, and per table
/// columns, types, nullability, defaults, keys, indexes and foreign keys. Empty when equal.
pub fn differences(expected: &ImportedSchema, live: &ImportedSchema) -> Vec<String> {
    let mut out = Vec::new();
    for table in &expected.tables {
        match live.table(&table.name) {
            None => out.push(format!("table `{}` is missing", table.name)),
            Some(found) => table_differences(table, found, &mut out),
        }
    }
    for table in &live.tables {
        if expected.table(&table.name).is_none() {
            out.push(format!("table `{}` is not expected", table.name));
        }
    }
    out
}

fn table_differences(expected: &ImportedTable, live: &ImportedTable, out: &mut Vec<String>) {
    let t = &expected.name;
    for column in &expected.columns {
        let Some(found) = live.column(&column.name) else {
            out.push(format!("table `{t}`: column `{}` is missing", column.name));
            continue;
        };
        let c = &column.name;
        if !found
            .declared_type
            .eq_ignore_ascii_case(&column.declared_type)
        {
            out.push(format!(
                "table `{t}` column `{c}`: type `{}` expected, found `{}`",
                column.declared_type, found.declared_type
            ));
        }
        if found.not_null != column.not_null {
            let says = |n: bool| if n { "NOT NULL" } else { "nullable" };
            out.push(format!(
                "table `{t}` column `{c}`: {} expected, found {}",
                says(column.not_null),
                says(found.not_null)
            ));
        }
        if found.default_sql != column.default_sql {
            let says = |d: &Option<String>| d.clone().unwrap_or_else(|| "no default".into());
            out.push(format!(
                "table `{t}` column `{c}`: default `{}` expected, found `{}`",
                says(&column.default_sql),
                says(&found.default_sql)
            ));
        }
    }
    for column in &live.columns {
        if expected.column(&column.name).is_none() {
            out.push(format!(
                "table `{t}`: column `{}` is not expected",
                column.name
            ));
        }
    }
    if expected.primary_key != live.primary_key {
        out.push(format!(
            "table `{t}`: primary key ({}) expected, found ({})",
            expected.primary_key.join(", "),
            live.primary_key.join(", ")
        ));
    }
    let shape = |table: &ImportedTable| {
        let mut v: Vec<(Vec<String>, bool)> = table
            .indexes
            .iter()
            .map(|i| (i.columns.clone(), i.unique))
            .collect();
        v.sort();
        v
    };
    let (want, have) = (shape(expected), shape(live));
    for (columns, unique) in &want {
        if !have.contains(&(columns.clone(), *unique)) {
            out.push(format!(
                "table `{t}`: {}index on ({}) is missing",
                if *unique { "unique " } else { "" },
                columns.join(", ")
            ));
        }
    }
    for (columns, unique) in &have {
        if !want.contains(&(columns.clone(), *unique)) {
            out.push(format!(
                "table `{t}`: {}index on ({}) is not expected",
                if *unique { "unique " } else { "" },
                columns.join(", ")
            ));
        }
    }
    for fk in &expected.foreign_keys {
        if !live.foreign_keys.contains(fk) {
            out.push(format!(
                "table `{t}`: foreign key ({}) -> `{}` is missing",
                fk.columns.join(", "),
                fk.table
            ));
        }
    }
    for fk in &live.foreign_keys {
        if !expected.foreign_keys.contains(fk) {
            out.push(format!(
                "table `{t}`: foreign key ({}) -> `{}` is not expected",
                fk.columns.join(", "),
                fk.table
            ));
        }
    }
}
