//! `NNNN_<name>.sql`: one upgrade step, rendered from the planned `Step`s.

use askama::Template;

use super::{TableView, ddl, render, sql::ident};
use crate::model::Column;
use crate::plan::Step;

/// A migration file, as `templates/migration.sql` lays it out.
#[derive(Template)]
#[template(path = "migration.sql")]
pub struct MigrationSql {
    /// The version the database is at afterwards.
    pub version: u32,
    /// The rest of the `@generated` header line.
    pub description: String,
    /// The snapshots it was rendered from, for the header.
    pub sources: String,
    /// The steps in order.
    pub steps: Vec<StepView>,
}

/// One step: either a whole new table (the `_create_table.sql` partial) or a comment and its
/// statements.
pub struct StepView {
    /// A new table, laid out like in `schema.sql`.
    pub create: Option<TableView>,
    /// What the statements do, for readers.
    pub comment: String,
    /// One statement per line.
    pub statements: Vec<String>,
}

/// Renders the migration to `version` named `name`, from the snapshots described by `sources`.
pub fn migration_sql(version: u32, name: &str, sources: &str, steps: &[Step]) -> String {
    let description = if steps.iter().any(|s| matches!(s, Step::Adopt(_))) {
        format!(
            "Migration {version} `{name}`: adopts the app's existing tables as schema version {version}."
        )
    } else if version == 1 {
        format!("Migration 1 `{name}`: creates schema version 1 on an empty database.")
    } else {
        format!(
            "Migration {version} `{name}`: upgrades schema version {} to {version}.",
            version - 1
        )
    };
    render(&MigrationSql {
        version,
        description,
        sources: sources.to_string(),
        steps: steps.iter().map(view).collect(),
    })
}

fn statements(comment: String, statements: Vec<String>) -> StepView {
    StepView {
        create: None,
        comment,
        statements,
    }
}

fn view(step: &Step) -> StepView {
    match step {
        Step::CreateTable(table) => StepView {
            create: Some(TableView::new(table)),
            comment: String::new(),
            statements: Vec::new(),
        },
        Step::Adopt(table) => statements(
            format!(
                "`{}`: adopt the app's table for entity `{}`: sync columns, the sync identity of existing rows, sync indexes",
                table.name, table.entity
            ),
            super::adoption::adopt_sql(table),
        ),
        Step::LinkAdopted(table) => statements(
            format!(
                "`{}`: carry its references to adopted tables as the referenced rows' `_sync_id`",
                table.name
            ),
            super::adoption::link_sql(table),
        ),
        Step::Deprecate {
            table,
            column: Some(column),
        } => statements(
            format!(
                "`{table}`: field `{column}` is deprecated: it stays in the database, out of generated code, until a later version drops it"
            ),
            Vec::new(),
        ),
        Step::Deprecate {
            table,
            column: None,
        } => statements(
            format!(
                "`{table}` is deprecated: it stays in the database, out of generated code, until a later version drops it"
            ),
            Vec::new(),
        ),
        Step::DropIndex {
            table,
            index,
            served_by,
        } => statements(
            match served_by {
                None => format!("`{table}`: drop index `{}`", index.name),
                // A foreign key's own index goes without a spec change once a declared index
                // starts with its column: say why, and that no row is touched.
                Some(serving) => format!(
                    "`{table}`: drop index `{}`, redundant: `{serving}` starts with its columns and serves every lookup it served (a foreign key's checks too); dropping an index loses no data",
                    index.name
                ),
            },
            vec![ddl::drop_index(index)],
        ),
        Step::DropColumn { table, column } => statements(
            format!(
                "`{table}`: drop field `{}`, deprecated in an earlier version",
                column.name
            ),
            // Its type-check triggers go first: SQLite refuses to drop a column a trigger reads.
            ddl::drop_type_triggers(table, column)
                .into_iter()
                .chain([format!(
                    "ALTER TABLE {} DROP COLUMN {};",
                    ident(table),
                    ident(&column.name)
                )])
                .collect(),
        ),
        Step::AddColumn { table, column } => statements(
            format!("`{table}`: add field `{}`", column.name),
            // The triggers before any backfill, so backfilled values are checked too.
            std::iter::once(format!(
                "ALTER TABLE {} ADD COLUMN {};",
                ident(table),
                ddl::column_definition(column)
            ))
            .chain(ddl::type_triggers(table, column))
            .collect(),
        ),
        Step::Backfill { table, column } => {
            let (from, statement) = backfill(table, column);
            statements(
                format!(
                    "`{table}`: fill `{}` of existing rows from {from}",
                    column.name
                ),
                vec![statement],
            )
        }
        Step::CopyRenamed { table, column } => {
            let from = column.renamed_from.as_deref().unwrap_or_default();
            statements(
                format!(
                    "`{table}`: `{}` is renamed back from `{from}`: copy `{from}` of every row into it, since `{}` holds values from before it was deprecated",
                    column.name, column.name
                ),
                vec![copy_renamed(table, column, from)],
            )
        }
        Step::CreateIndex { table, index } => statements(
            format!("`{table}`: add index `{}`", index.name),
            vec![ddl::create_index(table, index)],
        ),
        Step::DropTable(table) => statements(
            format!(
                "drop entity `{}` (table `{}`), deprecated in an earlier version",
                table.entity, table.name
            ),
            vec![format!("DROP TABLE IF EXISTS {};", ident(&table.name))],
        ),
    }
}

/// The `UPDATE` filling an added column, and what it fills it from. Repeating it gives the same
/// values: it reads only columns the migration does not change.
fn backfill(table: &str, column: &Column) -> (String, String) {
    let (table, name) = (ident(table), ident(&column.name));
    match (&column.backfill, &column.renamed_from) {
        (Some(expression), _) => {
            // A NOT NULL column keeps its default where the expression gives NULL, instead of
            // failing the upgrade.
            let value = match (&column.default_sql, column.nullable) {
                (Some(default), false) => format!("COALESCE(({expression}), {default})"),
                _ => format!("({expression})"),
            };
            (
                format!("`{expression}`"),
                format!("UPDATE {table} SET {name} = {value};"),
            )
        }
        (None, Some(old)) => (
            format!("`{old}`, which it replaces"),
            format!(
                "UPDATE {table} SET {name} = {old} WHERE {old} IS NOT NULL;",
                old = ident(old)
            ),
        ),
        (None, None) => (
            "its default".to_string(),
            format!("UPDATE {table} SET {name} = {name};"),
        ),
    }
}

/// The `UPDATE` giving every row of a column brought back by a rename the value of its source:
/// a NULL source gives NULL, or the default (else the old value) where NULL is not allowed.
fn copy_renamed(table: &str, column: &Column, from: &str) -> String {
    let (name, from) = (ident(&column.name), ident(from));
    let value = match (column.nullable, &column.default_sql) {
        (true, _) => from,
        (false, Some(default)) => format!("COALESCE({from}, {default})"),
        (false, None) => format!("COALESCE({from}, {name})"),
    };
    format!("UPDATE {} SET {name} = {value};", ident(table))
}
