//! Rendering: the physical model to SQL text through askama templates in `templates/`.
//!
//! Output is deterministic (same model, same bytes) and meant to be read in code review.

#[cfg(feature = "generate")]
pub mod adoption;
#[cfg(feature = "generate")]
pub mod ddl;
#[cfg(feature = "generate")]
pub mod migration;
#[cfg(feature = "generate")]
pub mod rust;
pub mod sql;

#[cfg(feature = "generate")]
use askama::Template;

#[cfg(feature = "generate")]
use crate::model::Table;

#[cfg(feature = "generate")]
/// A table as the `_create_table.sql` partial shows it.
pub struct TableView {
    /// Entity name.
    pub entity: String,
    /// Conflict strategy spelling.
    pub conflict: &'static str,
    /// Quoted table name.
    pub name: String,
    /// Column lines (definitions with commas and comments).
    pub lines: Vec<String>,
    /// `CREATE INDEX` statements.
    pub indexes: Vec<String>,
    /// `CREATE TRIGGER` statements checking the values of typed fields.
    pub triggers: Vec<String>,
    /// For an adopted table, in `schema.sql`: the app's table as imported and its adoption,
    /// instead of the `CREATE TABLE` above; empty otherwise.
    pub adopted: String,
}

#[cfg(feature = "generate")]
impl TableView {
    /// The view of a physical table.
    pub fn new(table: &Table) -> Self {
        TableView {
            entity: table.entity.clone(),
            conflict: table.conflict.as_str(),
            name: sql::ident(&table.name),
            lines: ddl::column_lines(table),
            indexes: table
                .indexes
                .iter()
                .map(|i| ddl::create_index(&table.name, i))
                .collect(),
            triggers: ddl::table_triggers(table),
            adopted: String::new(),
        }
    }

    /// The view of a table in `schema.sql`: an adopted table is created as the app had it and
    /// then adopted, so a fresh install and an adopted database have one schema.
    pub fn fresh(table: &Table) -> Self {
        let mut view = TableView::new(table);
        if let Some(adopted) = &table.adopted {
            let mut statements = vec![format!(
                "-- Entity `{}` (conflict strategy: {}), adopted from the app's table",
                table.entity,
                table.conflict.as_str()
            )];
            statements.extend(adoption::imported_table_sql(&adopted.imported));
            statements.extend(adoption::adopt_sql(table));
            view.adopted = statements.join("\n");
        }
        view
    }
}

/// `schema.sql`: a fresh database at `version`, every table created directly.
#[cfg(feature = "generate")]
#[derive(Template)]
#[template(path = "schema.sql")]
pub struct SchemaSql {
    /// Schema version the script creates.
    pub version: u32,
    /// Where the schema came from, for the header (`the entity specs`, `snapshot v3`).
    pub source: String,
    /// Every entity table.
    pub tables: Vec<TableView>,
    /// The `_sync_ref_` links of adopted tables (after every table exists), each line ended.
    pub links: String,
}

/// Renders the fresh-install script for `tables` at `version`.
#[cfg(feature = "generate")]
pub fn schema_sql(version: u32, source: &str, tables: &[Table]) -> String {
    let template = SchemaSql {
        version,
        source: source.to_string(),
        tables: tables.iter().map(TableView::fresh).collect(),
        links: tables
            .iter()
            .flat_map(adoption::link_sql)
            .map(|statement| format!("{statement}\n"))
            .collect(),
    };
    render(&template)
}

/// Renders a template; our templates only fail on a bug (they call no fallible filter).
#[cfg(feature = "generate")]
pub(crate) fn render(template: &impl Template) -> String {
    let mut out = template
        .render()
        .expect("templates only format strings and cannot fail");
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}
