//! Planning: the steps that take a database from one snapshot's tables to the next one's.
//!
//! Planning reads only the physical layer of two released snapshots, so every migration can be
//! rendered again from the history alone. The [`crate::diff`] stage has already refused what
//! cannot be done additively; what is left is creating, adding, filling and dropping.

use crate::model::{Column, Index, Table};

/// One change to a database, in the order the migration runs them.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// A new entity: its table with sync columns and every index.
    CreateTable(Table),
    /// A table of the app's that exists already (its `adopted` is set): its sync columns
    /// added and backfilled, its sync indexes, and the trigger that gives rows the app's own
    /// code inserts their sync identity.
    Adopt(Table),
    /// After every adopted table has its `_sync_id`s: an adopted table's `_sync_ref_` columns
    /// filled from the referenced rows, and the triggers that keep them right.
    LinkAdopted(Table),
    /// A table or column stops appearing in generated code but stays in the database.
    Deprecate {
        /// The table.
        table: String,
        /// The column, or `None` for the whole table.
        column: Option<String>,
    },
    /// An index removed, or changed and about to be created again.
    DropIndex {
        /// The table.
        table: String,
        /// The index.
        index: Index,
        /// The name of an index of the next version that starts with this one's columns and
        /// so serves every lookup it served (a foreign key's own index goes once a declared
        /// index starts with its column): why the index goes, for readers.
        served_by: Option<String>,
    },
    /// A column deprecated in an earlier version, removed now (its indexes are dropped first).
    DropColumn {
        /// The table.
        table: String,
        /// The column.
        column: Column,
    },
    /// A new column of an existing table, appended after the existing ones.
    AddColumn {
        /// The table.
        table: String,
        /// The column.
        column: Column,
    },
    /// Values for the rows already in the table when a column is added: its `backfill`
    /// expression, or the column it is renamed from.
    Backfill {
        /// The table.
        table: String,
        /// The added column.
        column: Column,
    },
    /// A deprecated column brought back by a rename (`renamed_from`): its values are from before
    /// its deprecation, so every row takes the value of the column it is renamed from.
    CopyRenamed {
        /// The table.
        table: String,
        /// The column brought back; its `renamed_from` names the source.
        column: Column,
    },
    /// A new index (after backfills, so it is built over the final values).
    CreateIndex {
        /// The table.
        table: String,
        /// The index.
        index: Index,
    },
    /// An entity deprecated in an earlier version, removed now.
    DropTable(Table),
}

/// The steps from `prev` to `next` (both in snapshot order): new tables first (existing ones
/// may gain references to them), then each existing table's changes, then dropped tables.
pub fn plan(prev: &[Table], next: &[Table]) -> Vec<Step> {
    let find = |tables: &[Table], name: &str| tables.iter().position(|t| t.name == name);
    let added = next.iter().filter(|t| find(prev, &t.name).is_none());
    let mut steps: Vec<Step> = added
        .clone()
        .cloned()
        .map(|t| {
            if t.adopted.is_some() {
                Step::Adopt(t)
            } else {
                Step::CreateTable(t)
            }
        })
        .collect();
    steps.extend(
        added
            .filter(|t| t.adopted.as_ref().is_some_and(|a| !a.references.is_empty()))
            .cloned()
            .map(Step::LinkAdopted),
    );
    for table in next {
        if let Some(i) = find(prev, &table.name) {
            steps.extend(alter(&prev[i], table));
        }
    }
    steps.extend(
        prev.iter()
            .filter(|t| find(next, &t.name).is_none())
            .cloned()
            .map(Step::DropTable),
    );
    steps
}

fn alter(prev: &Table, next: &Table) -> Vec<Step> {
    let name = || next.name.clone();
    let mut steps = Vec::new();
    if next.deprecated && !prev.deprecated {
        steps.push(Step::Deprecate {
            table: name(),
            column: None,
        });
    }
    for column in &next.columns {
        if column.deprecated && prev.column(&column.name).is_some_and(|c| !c.deprecated) {
            steps.push(Step::Deprecate {
                table: name(),
                column: Some(column.name.clone()),
            });
        }
    }
    let unchanged = |index: &Index, other: &Table| other.indexes.iter().any(|i| i == index);
    for index in prev.indexes.iter().filter(|i| !unchanged(i, next)) {
        steps.push(Step::DropIndex {
            table: name(),
            index: index.clone(),
            served_by: serving_index(index, next).map(|i| i.name.clone()),
        });
    }
    for column in prev
        .columns
        .iter()
        .filter(|c| next.column(&c.name).is_none())
    {
        steps.push(Step::DropColumn {
            table: name(),
            column: column.clone(),
        });
    }
    for column in next
        .columns
        .iter()
        .filter(|c| prev.column(&c.name).is_none())
    {
        steps.push(Step::AddColumn {
            table: name(),
            column: column.clone(),
        });
        if column.backfill.is_some() || column.renamed_from.is_some() {
            steps.push(Step::Backfill {
                table: name(),
                column: column.clone(),
            });
        }
    }
    for column in next.columns.iter().filter(|c| {
        !c.deprecated
            && c.renamed_from.is_some()
            && prev.column(&c.name).is_some_and(|old| old.deprecated)
    }) {
        steps.push(Step::CopyRenamed {
            table: name(),
            column: column.clone(),
        });
    }
    for index in next.indexes.iter().filter(|i| !unchanged(i, prev)) {
        steps.push(Step::CreateIndex {
            table: name(),
            index: index.clone(),
        });
    }
    steps
}

/// An index of `table` that serves every lookup `index` served: a longer one starting with
/// its columns (SQLite uses the leftmost columns of an index alone). A unique or partial index
/// has no such stand-in: uniqueness and the predicate are not served by a prefix.
fn serving_index<'t>(index: &Index, table: &'t Table) -> Option<&'t Index> {
    if index.unique || index.predicate.is_some() {
        return None;
    }
    table.indexes.iter().find(|other| {
        other.predicate.is_none()
            && other.columns.len() > index.columns.len()
            && other.columns.starts_with(&index.columns)
    })
}

/// One line saying what a step does, for messages.
pub fn summary(step: &Step) -> String {
    match step {
        Step::CreateTable(table) => {
            format!("new entity `{}` (table `{}`)", table.entity, table.name)
        }
        Step::Adopt(table) => {
            format!(
                "entity `{}` adopts the app's table `{}`",
                table.entity, table.name
            )
        }
        Step::LinkAdopted(table) => {
            format!(
                "`{}`: references carried as the referenced rows' `_sync_id`",
                table.name
            )
        }
        Step::Deprecate {
            table,
            column: Some(column),
        } => format!("`{table}`: field `{column}` deprecated"),
        Step::Deprecate {
            table,
            column: None,
        } => format!("`{table}`: entity deprecated"),
        Step::DropIndex {
            table,
            index,
            served_by: None,
        } => format!("`{table}`: index `{}` dropped", index.name),
        Step::DropIndex {
            table,
            index,
            served_by: Some(serving),
        } => format!(
            "`{table}`: index `{}` dropped as redundant: `{serving}` starts with its columns and serves its lookups",
            index.name
        ),
        Step::DropColumn { table, column } => format!("`{table}`: field `{}` dropped", column.name),
        Step::AddColumn { table, column } => format!("`{table}`: field `{}` added", column.name),
        Step::Backfill { table, column } => {
            format!("`{table}`: field `{}` backfilled", column.name)
        }
        Step::CopyRenamed { table, column } => format!(
            "`{table}`: field `{}` renamed back from `{}`",
            column.name,
            column.renamed_from.as_deref().unwrap_or_default()
        ),
        Step::CreateIndex { table, index } => format!("`{table}`: index `{}` added", index.name),
        Step::DropTable(table) => {
            format!("entity `{}` (table `{}`) dropped", table.entity, table.name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Step, plan};
    use crate::load::schema_from_toml;
    use crate::resolve;

    /// The index drops planned from a task whose `project_id` has `prev_key` besides
    /// `references` to one with `references` alone, both with the declared
    /// `(project_id, priority)` index: `(dropped index, the index said to serve it)`.
    fn drops(prev_key: &str) -> Vec<(String, Option<String>)> {
        let project = "[entity]\nname = \"project\"\n\n[fields]\nname = \"text\"\n";
        let tables = |key: &str| {
            let task = format!(
                "[entity]\nname = \"task\"\n\n[fields]\npriority = \"integer\"\nproject_id = {{ type = \"uuid\", references = \"projects\"{key} }}\n\n[[indexes]]\ncolumns = [\"project_id\", \"priority\"]\n"
            );
            let schema = schema_from_toml(1, &[("project.toml", project), ("task.toml", &task)])
                .unwrap_or_else(|e| panic!("specs must be valid:\n{e}"));
            resolve::tables(&schema)
        };
        plan(&tables(prev_key), &tables(""))
            .into_iter()
            .filter_map(|step| match step {
                Step::DropIndex {
                    index, served_by, ..
                } => Some((index.name, served_by)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_dropped_index_is_served_only_by_a_longer_index_that_keeps_what_it_enforced() {
        assert_eq!(
            drops(", index = true"),
            [(
                "tasks(project_id)".to_string(),
                Some("tasks(project_id,priority)".to_string())
            )],
            "a plain index is served by one that starts with its columns"
        );
        assert_eq!(
            drops(", unique = true"),
            [("unique tasks(project_id)".to_string(), None)],
            "a longer index does not enforce a unique index's uniqueness"
        );
    }
}
