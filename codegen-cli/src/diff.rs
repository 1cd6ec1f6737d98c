//! Diffing: the current entity specs against the latest released snapshot, into the tables of
//! the next version, or the reasons the change cannot ship as an additive migration.
//!
//! The next version keeps what users' databases already have: existing tables and columns keep
//! their order and new ones are appended, exactly where `ALTER TABLE ... ADD COLUMN` and
//! `CREATE TABLE` put them, so a fresh database and an upgraded one have the same schema.
//! A column leaves the schema only after a release that deprecated it (expand/contract): a
//! field with `renamed_from` keeps its old column, deprecated, as long as the spec names it.
//!
//! Every refusal is one diagnostic naming the entity, the field, both versions and the additive
//! way to get the same result; all of them are reported together.

use crate::diagnostic::{Diagnostic, Diagnostics, Origin};
use crate::history::Snapshot;
use crate::model::{Column, ColumnRole, ConflictStrategy, Entity, Field, Index, Schema, Table};
use crate::resolve;

/// The tables of version `to`: the specs of `schema` applied to the `latest` released
/// snapshot (everything new when nothing is released yet). Changes that cannot be made
/// additively are reported in `diags`; the returned tables then keep the released layout for
/// the refused parts.
pub fn next_tables(
    latest: Option<&Snapshot>,
    schema: &Schema,
    to: u32,
    diags: &mut Diagnostics,
) -> Vec<Table> {
    let Some(prev) = latest else {
        return resolve::tables(schema);
    };
    let mut refusals = Refusals {
        from: prev.version,
        to,
        diags,
    };
    let mut next = Vec::new();
    for table in &prev.tables {
        match schema.entities.iter().find(|e| e.table.value == table.name) {
            Some(entity) => next.push(evolve_table(table, entity, &mut refusals)),
            None if table.deprecated => {}
            None => {
                refusals.entity_removed(table, schema);
                next.push(table.clone());
            }
        }
    }
    let added: Vec<Table> = schema
        .entities
        .iter()
        .filter(|e| prev.table(&e.table.value).is_none())
        .map(|e| new_table(e, &mut refusals))
        .collect();
    next.extend(resolve::order_by_references(added));
    let dropped: Vec<&Table> = prev
        .tables
        .iter()
        .filter(|t| !next.iter().any(|n| n.name == t.name))
        .collect();
    for dropped in dropped {
        let referencing = next.iter().find_map(|t| {
            t.columns
                .iter()
                .find(|c| c.references.as_deref() == Some(&dropped.name))
                .map(|c| (t.clone(), c.clone()))
        });
        if let Some((table, column)) = referencing {
            refusals.dropped_table_referenced(dropped, &table, &column, schema);
            next.push(dropped.clone());
        }
    }
    next
}

/// The refusals of one release step (v`from` to v`to`): every change no additive migration can
/// make, collected into `diags`.
struct Refusals<'d> {
    from: u32,
    to: u32,
    diags: &'d mut Diagnostics,
}

fn evolve_table(prev: &Table, entity: &Entity, refusals: &mut Refusals<'_>) -> Table {
    let fresh = resolve::table(entity);
    if entity.name.value != prev.entity {
        refusals.entity_renamed(prev, entity);
    }
    if (prev.conflict == ConflictStrategy::FieldMerge)
        != (fresh.conflict == ConflictStrategy::FieldMerge)
    {
        refusals.conflict_changed(prev, entity);
    }
    let conflict = if (prev.conflict == ConflictStrategy::FieldMerge)
        == (fresh.conflict == ConflictStrategy::FieldMerge)
    {
        fresh.conflict
    } else {
        prev.conflict
    };

    let renamed_sources: Vec<&str> = entity
        .fields
        .iter()
        .filter_map(|f| f.renamed_from.as_ref().map(|r| r.value.as_str()))
        .collect();
    let added: Vec<&Field> = entity
        .fields
        .iter()
        .filter(|f| prev.column(&f.name.value).is_none())
        .collect();

    let mut columns = Vec::new();
    for column in &prev.columns {
        if column.role == ColumnRole::Sync {
            columns.push(column.clone());
            continue;
        }
        if let Some(field) = entity.field(&column.name) {
            let wanted = fresh
                .column(&column.name)
                .expect("every field has a column");
            let mut evolved = evolve_column(column, wanted, field, entity, refusals);
            evolved.renamed_from =
                renamed_onto_existing(prev, column, wanted, field, entity, refusals)
                    .or(evolved.renamed_from);
            columns.push(evolved);
        } else if renamed_sources.contains(&column.name.as_str()) {
            // Expand phase of a rename: the old column stays, deprecated, while the spec says
            // the new field is renamed from it.
            columns.push(Column {
                deprecated: true,
                ..column.clone()
            });
        } else if column.deprecated {
            // Contract phase: deprecated in a released version, removed now.
            if column.references.is_some() {
                refusals.foreign_key_dropped(prev, column, entity);
                columns.push(column.clone());
            }
        } else {
            let lookalikes: Vec<&&Field> = added
                .iter()
                .filter(|f| f.renamed_from.is_none() && f.ty.value == column.ty)
                .collect();
            match lookalikes.as_slice() {
                [renamed] => refusals.renamed_without_renamed_from(column, renamed, entity),
                _ => refusals.field_removed(column, entity),
            }
            columns.push(column.clone());
        }
    }
    for field in added {
        let column = fresh
            .column(&field.name.value)
            .expect("every field has a column");
        refusals.check_new_field(prev, column, field, entity);
        columns.push(column.clone());
    }

    let mut indexes: Vec<Index> = Vec::new();
    for index in &prev.indexes {
        // Matched by columns: the name also says whether the index is unique.
        let Some(wanted) = fresh.indexes.iter().find(|i| i.columns == index.columns) else {
            continue;
        };
        if wanted.unique && !index.unique {
            refusals.unique_added(wanted, entity);
            indexes.push(index.clone());
        } else {
            indexes.push(wanted.clone());
        }
    }
    for index in fresh
        .indexes
        .iter()
        .filter(|i| prev.indexes.iter().all(|p| p.columns != i.columns))
    {
        if index.unique && index.columns.iter().any(|c| prev.column(c).is_some()) {
            refusals.unique_added(index, entity);
            continue;
        }
        indexes.push(index.clone());
    }

    Table {
        name: prev.name.clone(),
        entity: prev.entity.clone(),
        conflict,
        columns,
        indexes,
        deprecated: fresh.deprecated,
        adopted: prev.adopted.clone(),
    }
}

/// An existing column as the spec now describes it. Only code-level attributes may change
/// (`deprecated`); the physical definition is fixed once released.
fn evolve_column(
    prev: &Column,
    wanted: &Column,
    field: &Field,
    entity: &Entity,
    refusals: &mut Refusals<'_>,
) -> Column {
    if wanted.ty != prev.ty {
        refusals.type_changed(prev, wanted, field, entity);
    } else if prev.nullable != wanted.nullable {
        refusals.nullability_changed(prev, field, entity);
    } else if wanted.default_sql != prev.default_sql {
        refusals.default_changed(prev, wanted, field, entity);
    } else if wanted.references != prev.references {
        refusals.references_changed(prev, wanted, field, entity);
    }
    if let Some(backfill) = &field.backfill
        && prev.backfill.as_deref() != Some(backfill.value.as_str())
    {
        refusals.backfill_on_existing(prev, field, entity);
    }
    Column {
        deprecated: wanted.deprecated,
        ..prev.clone()
    }
}

/// The column a field existing in `prev` is now renamed from, when the release copies its
/// values: a deprecated column brought back by a rename (`phone renamed_from = "mobile"` after
/// `mobile` replaced `phone`) holds values from before its deprecation, so every row gets the
/// source's value again (the plan's [`crate::plan::Step::CopyRenamed`]). A rename onto a
/// column still in use, or bringing back a column whose values moved to another one without
/// saying so, is refused: the app would read the old values.
fn renamed_onto_existing(
    prev: &Table,
    column: &Column,
    wanted: &Column,
    field: &Field,
    entity: &Entity,
    refusals: &mut Refusals<'_>,
) -> Option<String> {
    let revived = column.deprecated && !wanted.deprecated;
    let Some(from) = &field.renamed_from else {
        if revived
            && let Some(successor) = prev
                .columns
                .iter()
                .find(|c| !c.deprecated && c.renamed_from.as_deref() == Some(column.name.as_str()))
        {
            refusals.revived_without_renamed_from(column, successor, field, entity);
        }
        return None;
    };
    if !revived {
        if !column.deprecated && column.renamed_from.as_deref() != Some(from.value.as_str()) {
            refusals.renamed_onto_live_column(column, field, entity);
        }
        return None;
    }
    refusals
        .check_rename_source(prev, wanted, field, entity)
        .then(|| from.value.clone())
}

fn new_table(entity: &Entity, refusals: &mut Refusals<'_>) -> Table {
    for field in &entity.fields {
        if let Some(from) = &field.renamed_from {
            refusals.renamed_from_unknown(&from.value, &entity.table.value, field, entity);
        }
    }
    resolve::table(entity)
}

/// `the value `0``, or `no default`, for messages.
fn describe_default(default: Option<&str>) -> String {
    match default {
        Some(sql) => format!("default `{sql}`"),
        None => "no default".to_string(),
    }
}

fn origin_or<T>(located: Option<&crate::model::Located<T>>, fallback: &Origin) -> Origin {
    located.map_or_else(|| fallback.clone(), |l| l.origin.clone())
}

/// One function per refusal, each with the one wording of its kind.
impl Refusals<'_> {
    fn push(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    /// A column's type is fixed: SQLite cannot change it in place.
    fn type_changed(&mut self, prev: &Column, wanted: &Column, field: &Field, entity: &Entity) {
        let (name, entity_name) = (&prev.name, &entity.name.value);
        let to = wanted.ty.as_str();
        self.push(
            Diagnostic::error(
                field.ty.origin.clone(),
                format!(
                    "field `{name}` of entity `{entity_name}` changes type from `{}` in v{} to `{to}` in v{}",
                    prev.ty.as_str(),
                    self.from,
                    self.to
                ),
            )
            .label("type changed")
            .help(format!(
                "SQLite cannot change a column's type, and apps on v{} still write `{}` values: keep `type = \"{}\"`, or add a new field `{name}_{to}` of type `{to}` with `backfill = \"CAST(\\\"{name}\\\" AS ...)\"` and mark `{name}` `deprecated = true`",
                self.from,
                prev.ty.as_str(),
                prev.ty.as_str()
            )),
        );
    }

    /// NULL-ability is fixed: SQLite cannot add or remove NOT NULL on a column.
    fn nullability_changed(&mut self, prev: &Column, field: &Field, entity: &Entity) {
        let (name, entity_name) = (&prev.name, &entity.name.value);
        let (message, help) = if prev.nullable {
            (
                format!(
                    "field `{name}` of entity `{entity_name}` becomes NOT NULL in v{} but is nullable in v{}",
                    self.to, self.from
                ),
                format!(
                    "rows written before v{} may hold NULL and SQLite cannot add NOT NULL to a column: keep `nullable = true` (the app may still always write a value), or add a new NOT NULL field with a `default` and `backfill = \"COALESCE(\\\"{name}\\\", ...)\"` and mark `{name}` `deprecated = true`",
                    self.to
                ),
            )
        } else {
            (
                format!(
                    "field `{name}` of entity `{entity_name}` becomes nullable in v{} but is NOT NULL in v{}",
                    self.to, self.from
                ),
                format!(
                    "SQLite cannot drop NOT NULL from a column, and apps on v{} expect a value: keep the field NOT NULL, or add a new nullable field with `renamed_from = \"{name}\"` (it copies the values) and remove `{name}` from the spec",
                    self.from
                ),
            )
        };
        self.push(
            Diagnostic::error(field.origin.clone(), message)
                .label("nullability changed")
                .help(help),
        );
    }

    /// A column's default is fixed: SQLite cannot change it, and older code relies on it.
    fn default_changed(&mut self, prev: &Column, wanted: &Column, field: &Field, entity: &Entity) {
        let name = &prev.name;
        self.push(
            Diagnostic::error(
                origin_or(field.default.as_ref(), &field.origin),
                format!(
                    "default of field `{name}` of entity `{}` changes from {} in v{} to {} in v{}",
                    entity.name.value,
                    describe_default(prev.default_sql.as_deref()),
                    self.from,
                    describe_default(wanted.default_sql.as_deref()),
                    self.to
                ),
            )
            .label("default changed")
            .help(format!(
                "SQLite cannot change a column's default, and apps on v{} insert rows relying on it: keep the {} (the app can write any value explicitly), or add a new field with the new default and `renamed_from = \"{name}\"`",
                self.from,
                describe_default(prev.default_sql.as_deref()),
            )),
        );
    }

    /// A foreign key is fixed: SQLite cannot change a column's REFERENCES clause.
    fn references_changed(
        &mut self,
        prev: &Column,
        wanted: &Column,
        field: &Field,
        entity: &Entity,
    ) {
        let show = |r: &Option<String>| match r {
            Some(t) => format!("`{t}`"),
            None => "nothing".to_string(),
        };
        self.push(
            Diagnostic::error(
                origin_or(field.references.as_ref(), &field.origin),
                format!(
                    "field `{}` of entity `{}` changes `references` from {} in v{} to {} in v{}",
                    prev.name,
                    entity.name.value,
                    show(&prev.references),
                    self.from,
                    show(&wanted.references),
                    self.to
                ),
            )
            .label("foreign key changed")
            .help(format!(
                "SQLite cannot change a column's foreign key: keep it as in v{}, or add a new nullable field with the new `references` and mark `{}` `deprecated = true`",
                self.from, prev.name
            )),
        );
    }

    /// A backfill runs once, when its column is added; it cannot be added or changed later.
    fn backfill_on_existing(&mut self, prev: &Column, field: &Field, entity: &Entity) {
        self.push(
            Diagnostic::error(
                origin_or(field.backfill.as_ref(), &field.origin),
                format!(
                    "`backfill` of field `{}` of entity `{}` changes in v{}, but the column exists since v{} or earlier",
                    prev.name, entity.name.value, self.to, self.from
                ),
            )
            .label("backfill of an existing column")
            .help(match &prev.backfill {
                Some(old) => format!("a backfill runs once, when its column is added: restore `backfill = {old:?}`; to recompute values, add a new field with the new backfill"),
                None => "a backfill runs once, when its column is added: remove it; to compute values for existing rows, add a new field with the backfill".to_string(),
            }),
        );
    }

    /// A field leaves the schema only after a released version deprecated it.
    fn field_removed(&mut self, column: &Column, entity: &Entity) {
        let name = &column.name;
        self.push(
            Diagnostic::error(
                entity.origin.clone(),
                format!(
                    "field `{name}` of entity `{}` is removed in v{} but was not deprecated in v{}",
                    entity.name.value, self.to, self.from
                ),
            )
            .label(format!("`{name}` is missing from this entity"))
            .help(format!(
                "apps on v{} still read and write `{name}`: keep it with `deprecated = true` in v{} and remove it in a later version; if it was renamed, add `renamed_from = \"{name}\"` to the new field",
                self.from, self.to
            )),
        );
    }

    /// A removed field and a new field of the same type look like a rename, which needs
    /// `renamed_from` so the values are copied.
    fn renamed_without_renamed_from(&mut self, column: &Column, renamed: &Field, entity: &Entity) {
        let (old, new) = (&column.name, &renamed.name.value);
        self.push(
            Diagnostic::error(
                renamed.name.origin.clone(),
                format!(
                    "field `{old}` of entity `{}` looks renamed to `{new}` in v{} without `renamed_from`",
                    entity.name.value, self.to
                ),
            )
            .label(format!("new field; `{old}` of v{} is gone", self.from))
            .help(format!(
                "add `renamed_from = \"{old}\"` to `{new}`: the upgrade adds `{new}`, copies `{old}` into it and keeps `{old}` (deprecated) for apps still on v{}; if `{new}` is unrelated, keep `{old}` with `deprecated = true`",
                self.from
            )),
        );
    }

    /// A new column of an existing table needs a value for the rows already there.
    fn check_new_field(&mut self, prev: &Table, column: &Column, field: &Field, entity: &Entity) {
        let (name, entity_name) = (&column.name, &entity.name.value);
        if !column.nullable && column.default_sql.is_none() {
            let help = if column.references.is_some() {
                format!(
                    "rows written before v{} have no value for it: make it `nullable = true` (a foreign-key column is added with default NULL)",
                    self.to
                )
            } else {
                format!(
                    "rows written before v{} need a value: add a `default` (and a `backfill` to compute better values from other columns), or make it `nullable = true`",
                    self.to
                )
            };
            self.push(
                Diagnostic::error(
                    field.name.origin.clone(),
                    format!(
                        "new field `{name}` of entity `{entity_name}` is NOT NULL without a default, but table `{}` has rows since v{}",
                        prev.name, self.from
                    ),
                )
                .label("NOT NULL without default")
                .help(help),
            );
        } else if column.references.is_some() && column.default_sql.is_some() {
            self.push(
                Diagnostic::error(
                    origin_or(field.default.as_ref(), &field.origin),
                    format!(
                        "new foreign-key field `{name}` of entity `{entity_name}` has a default, but table `{}` exists since v{}",
                        prev.name, self.from
                    ),
                )
                .label("default on a new foreign key")
                .help("SQLite only adds a REFERENCES column whose default is NULL: remove the default and make it `nullable = true`"),
            );
        }
        if field.is_unique() && column.default_sql.is_some() {
            self.push(
                Diagnostic::error(
                    origin_or(field.unique.as_ref(), &field.origin),
                    format!(
                        "new unique field `{name}` of entity `{entity_name}` has a default, so every row of `{}` from v{} gets the same value",
                        prev.name, self.from
                    ),
                )
                .label("unique with a default")
                .help("the unique index would fail on upgrade: remove the default and make it `nullable = true` (NULLs never collide), then fill it from the app"),
            );
        }
        if field.renamed_from.is_some() {
            self.check_rename_source(prev, column, field, entity);
        }
    }

    /// `renamed_from` names a domain column of the latest released version, of the same type
    /// (a rename copies the values as they are). True when it does.
    fn check_rename_source(
        &mut self,
        prev: &Table,
        column: &Column,
        field: &Field,
        entity: &Entity,
    ) -> bool {
        let (name, entity_name) = (&column.name, &entity.name.value);
        if let Some(from) = &field.renamed_from {
            match prev.column(&from.value) {
                Some(old) if old.role == ColumnRole::Domain && old.ty != column.ty => self.push(
                    Diagnostic::error(
                        from.origin.clone(),
                        format!(
                            "field `{name}` of entity `{entity_name}` has type `{}` but is renamed from `{}`, of type `{}` in v{}",
                            column.ty.as_str(),
                            old.name,
                            old.ty.as_str(),
                            self.from
                        ),
                    )
                    .label("type differs")
                    .help(format!(
                        "a rename keeps the type: give `{name}` type `{}`, or replace `renamed_from` with `backfill = \"CAST(\\\"{}\\\" AS ...)\"` to convert the values",
                        old.ty.as_str(),
                        old.name
                    )),
                ),
                Some(old) if old.role == ColumnRole::Domain => return true,
                _ => self.renamed_from_unknown(&from.value, &prev.name, field, entity),
            }
        }
        false
    }

    /// A rename copies the old column into a new one; onto a column in use, the field would
    /// keep that column's own values, not the ones it claims to be renamed from.
    fn renamed_onto_live_column(&mut self, column: &Column, field: &Field, entity: &Entity) {
        let name = &column.name;
        let from = field.renamed_from.as_ref().expect("called for renames");
        self.push(
            Diagnostic::error(
                from.origin.clone(),
                format!(
                    "field `{name}` of entity `{}` is renamed from `{}` in v{}, but `{name}` is a column in use in v{}",
                    entity.name.value, from.value, self.to, self.from
                ),
            )
            .label("rename onto an existing column")
            .help(format!(
                "`{name}` keeps its own values, so the app would not read those of `{}`: deprecate `{name}` first (`deprecated = true`) and rename onto it in a later version, or give the renamed field a new name",
                from.value
            )),
        );
    }

    /// A deprecated column whose values moved to another column by a rename is stale: bringing
    /// it back needs `renamed_from` so the values are copied back.
    fn revived_without_renamed_from(
        &mut self,
        column: &Column,
        successor: &Column,
        field: &Field,
        entity: &Entity,
    ) {
        let (name, newer) = (&column.name, &successor.name);
        self.push(
            Diagnostic::error(
                field.name.origin.clone(),
                format!(
                    "field `{name}` of entity `{}` is no longer deprecated in v{}, but its values moved to `{newer}` (renamed from it) in v{} or earlier",
                    entity.name.value, self.to, self.from
                ),
            )
            .label("stale values")
            .help(format!(
                "apps since the rename write `{newer}`, not `{name}`: add `renamed_from = \"{newer}\"` to `{name}` so the upgrade copies the values back (`{newer}` then stays, deprecated)"
            )),
        );
    }

    /// `renamed_from` names a column of the latest released version.
    fn renamed_from_unknown(&mut self, old: &str, table: &str, field: &Field, entity: &Entity) {
        let origin = origin_or(field.renamed_from.as_ref(), &field.origin);
        self.push(
            Diagnostic::error(
                origin,
                format!(
                    "field `{}` of entity `{}` is renamed from `{old}`, which is not a field of table `{table}` in v{}",
                    field.name.value, entity.name.value, self.from
                ),
            )
            .label("unknown column")
            .help(format!(
                "`renamed_from` names a field of the latest released version (v{}); remove it if the field is new",
                self.from
            )),
        );
    }

    /// Uniqueness cannot be added over rows that already exist: they may collide.
    fn unique_added(&mut self, index: &Index, entity: &Entity) {
        let declared = entity.indexes.iter().find(|spec| {
            spec.columns
                .iter()
                .map(|c| &c.value)
                .eq(index.columns.iter())
        });
        let field = entity.field(&index.columns[0]);
        let (origin, what) = match (declared, field) {
            (Some(spec), _) => (
                spec.origin.clone(),
                format!(
                    "unique index on existing fields {} of entity `{}`",
                    index
                        .columns
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    entity.name.value
                ),
            ),
            (None, Some(field)) => (
                origin_or(field.unique.as_ref(), &field.origin),
                format!(
                    "`unique` on existing field `{}` of entity `{}`",
                    field.name.value, entity.name.value
                ),
            ),
            (None, None) => (
                entity.origin.clone(),
                format!(
                    "unique index `{}` of entity `{}`",
                    index.name, entity.name.value
                ),
            ),
        };
        self.push(
            Diagnostic::error(
                origin,
                format!("{what} is added in v{} over rows from v{}", self.to, self.from),
            )
            .label("unique added")
            .help(format!(
                "rows written before v{} may share a value, and building the unique index would fail the upgrade: use a plain `index = true`, or add a new nullable unique field and fill it from the app",
                self.to
            )),
        );
    }

    /// An entity leaves the schema only after a released version deprecated it.
    fn entity_removed(&mut self, table: &Table, schema: &Schema) {
        if let Some(entity) = schema
            .entities
            .iter()
            .find(|e| e.name.value == table.entity)
        {
            self.push(
                Diagnostic::error(
                    entity.table.origin.clone(),
                    format!(
                        "table of entity `{}` changes from `{}` in v{} to `{}` in v{}",
                        table.entity, table.name, self.from, entity.table.value, self.to
                    ),
                )
                .label("table renamed")
                .help(format!(
                    "SQLite databases of apps on v{} keep `{}`: restore `table = \"{}\"`, or add a new entity and deprecate `{}`",
                    self.from, table.name, table.name, table.entity
                )),
            );
            return;
        }
        self.push(
            Diagnostic::error(
                schema.version_origin.clone(),
                format!(
                    "entity `{}` (table `{}`) is removed since v{}: no spec declares it, but v{} did not deprecate it",
                    table.entity, table.name, schema.version, self.from
                ),
            )
            .label(format!("`{}` removed since v{}", table.entity, schema.version))
            .help(format!(
                "apps on v{} still read and write it: restore its spec with `deprecated = true` under `[entity]` for v{} and remove it in a later version",
                self.from, self.to
            )),
        );
    }

    /// A table still referenced by a foreign key cannot be dropped.
    fn dropped_table_referenced(
        &mut self,
        dropped: &Table,
        table: &Table,
        column: &Column,
        schema: &Schema,
    ) {
        let origin = schema
            .entities
            .iter()
            .find(|e| e.table.value == table.name)
            .and_then(|e| e.field(&column.name))
            .map_or(Origin::Generated, |f| f.origin.clone());
        self.push(
            Diagnostic::error(
                origin,
                format!(
                    "entity `{}` (table `{}`) cannot be dropped in v{}: field `{}` of entity `{}` references it",
                    dropped.entity, dropped.name, self.to, column.name, table.entity
                ),
            )
            .help(format!(
                "keep the spec of `{}` with `deprecated = true` under `[entity]`: SQLite cannot drop a foreign-key column, so the table stays while `{}` references it",
                dropped.entity, column.name
            )),
        );
    }

    /// SQLite cannot drop a column that is part of a foreign key.
    fn foreign_key_dropped(&mut self, table: &Table, column: &Column, entity: &Entity) {
        self.push(
            Diagnostic::error(
                entity.origin.clone(),
                format!(
                    "field `{}` of entity `{}` cannot be dropped in v{}: it is a foreign key to `{}`",
                    column.name,
                    table.entity,
                    self.to,
                    column.references.as_deref().unwrap_or_default()
                ),
            )
            .label(format!("`{}` is missing from this entity", column.name))
            .help(format!(
                "SQLite cannot drop a foreign-key column: keep `{}` in the spec with `deprecated = true` (it stays out of generated code)",
                column.name
            )),
        );
    }

    /// The entity name is what queued changes and the server know a table by.
    fn entity_renamed(&mut self, prev: &Table, entity: &Entity) {
        self.push(
            Diagnostic::error(
                entity.name.origin.clone(),
                format!(
                    "entity of table `{}` is renamed from `{}` in v{} to `{}` in v{}",
                    prev.name, prev.entity, self.from, entity.name.value, self.to
                ),
            )
            .label("entity renamed")
            .help(format!(
                "queued changes and the server know the entity as `{}`: keep `name = \"{}\"` (the table name is separate: `table = \"...\"`)",
                prev.entity, prev.entity
            )),
        );
    }

    /// `field_merge` needs the `field_timestamps` sync column, which cannot be added among the
    /// sync columns of an existing table (or removed from it).
    fn conflict_changed(&mut self, prev: &Table, entity: &Entity) {
        self.push(
            Diagnostic::error(
                entity.conflict.origin.clone(),
                format!(
                    "conflict strategy of entity `{}` changes from `{}` in v{} to `{}` in v{}",
                    prev.entity,
                    prev.conflict.as_str(),
                    self.from,
                    entity.conflict.value.as_str(),
                    self.to
                ),
            )
            .label("changes `field_merge`")
            .help(format!(
                "`field_merge` keeps per-field timestamps in the `field_timestamps` sync column, which only tables created with it have: keep `conflict = \"{}\"` (changes between the other strategies are fine), or add a new entity with the new strategy",
                prev.conflict.as_str(),
            )),
        );
    }
}
