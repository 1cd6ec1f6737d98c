//! Linking adopted entities to the import snapshot: an entity marked `adopted = true` gets the
//! app's table as `syncwright import` recorded it (`[adopted] snapshot`), which decides its key,
//! its sync column names and its `_sync_ref_` columns (docs/adoption.md).

use crate::diagnostic::{Diagnostic, Diagnostics, Origin, SourceMap, display_path};
use crate::model::{Adopted, Entity, ImportedTable, SyncReference};
use crate::parse::project::{PROJECT_FILE, ProjectConfig};

/// The snapshot `syncwright import` writes: the app's tables.
#[derive(serde::Deserialize)]
struct ImportSnapshot {
    tables: Vec<ImportedTable>,
}

/// Attaches the imported table to every entity marked `adopted = true`. Problems: an adopted
/// entity in a project without `[adopted]` or whose table the snapshot does not have, an
/// entity on an imported table that is not marked adopted, an unreadable snapshot.
pub(super) fn link(
    config: &ProjectConfig,
    sources: &mut SourceMap,
    entities: &mut [Entity],
    diags: &mut Diagnostics,
) {
    let Some(adopted) = &config.adopted else {
        for entity in entities.iter().filter(|e| e.is_adopted()) {
            diags.push(
                Diagnostic::error(
                    adopted_origin(entity),
                    format!(
                        "entity `{}` is marked `adopted` but `{PROJECT_FILE}` has no `[adopted]`",
                        entity.name.value
                    ),
                )
                .help("adopted tables come from `syncwright import`, which writes `[adopted]`; remove `adopted = true` to create the table instead"),
            );
        }
        return;
    };
    let path = config.resolve(&adopted.snapshot.value);
    let snapshot = match std::fs::read_to_string(&path) {
        Err(error) => Err(error.to_string()),
        Ok(text) => {
            sources.add(&path, text.clone());
            serde_json::from_str::<ImportSnapshot>(&text)
                .map_err(|e| format!("line {}, column {}: {e}", e.line(), e.column()))
        }
    };
    let snapshot = match snapshot {
        Ok(snapshot) => snapshot,
        Err(problem) => {
            diags.push(
                Diagnostic::error(
                    adopted.snapshot.origin.clone(),
                    format!(
                        "cannot read the import snapshot `{}`: {problem}",
                        display_path(&path)
                    ),
                )
                .help("restore the file `syncwright import` wrote from version control"),
            );
            return;
        }
    };
    let adopted_tables: Vec<&str> = entities
        .iter()
        .filter(|e| e.is_adopted())
        .map(|e| e.table.value.as_str())
        .collect();
    let find = |name: &str| {
        snapshot
            .tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    };
    let mut links = Vec::new();
    for entity in entities.iter() {
        let imported = find(&entity.table.value);
        match (entity.is_adopted(), imported) {
            (true, Some(imported)) => {
                let references = imported
                    .foreign_keys
                    .iter()
                    .filter_map(|fk| {
                        let target = find(&fk.table)?;
                        adopted_tables
                            .iter()
                            .any(|t| t.eq_ignore_ascii_case(&target.name))
                            .then(|| SyncReference {
                                column: SyncReference::column_for(&fk.columns),
                                columns: fk.columns.clone(),
                                table: target.name.clone(),
                                to_columns: if fk.to_columns.is_empty() {
                                    target.primary_key.clone()
                                } else {
                                    fk.to_columns.clone()
                                },
                            })
                    })
                    .collect();
                links.push(Some(Adopted {
                    existing_rows: adopted.existing_rows.value.clone(),
                    imported: imported.clone(),
                    references,
                }));
            }
            (true, None) => {
                diags.push(
                    Diagnostic::error(
                        entity.table.origin.clone(),
                        format!(
                            "entity `{}` is marked `adopted` but its table `{}` is not in the import snapshot `{}`",
                            entity.name.value,
                            entity.table.value,
                            display_path(&path)
                        ),
                    )
                    .label("not imported")
                    .help("an adopted entity keeps the table name `syncwright import` wrote; a new table is an ordinary entity: remove `adopted = true`"),
                );
                links.push(None);
            }
            (false, Some(imported)) => {
                diags.push(
                    Diagnostic::error(
                        entity.table.origin.clone(),
                        format!(
                            "entity `{}` is on the app's existing table `{}` but is not marked adopted",
                            entity.name.value, imported.name
                        ),
                    )
                    .label("exists in the app's databases")
                    .help("add `adopted = true` under `[entity]`: the table is adopted as it is, not created"),
                );
                links.push(None);
            }
            (false, None) => links.push(None),
        }
    }
    for (entity, link) in entities.iter_mut().zip(links) {
        entity.adoption = link;
    }
}

fn adopted_origin(entity: &Entity) -> Origin {
    entity
        .adopted
        .as_ref()
        .map_or_else(|| entity.origin.clone(), |a| a.origin.clone())
}
