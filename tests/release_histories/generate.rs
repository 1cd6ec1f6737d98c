//! Random valid release histories: proptest draws plain numbers, and [`interpret`] reads them
//! as a sequence of spec changes, each applied only where it is valid (an additive change, a
//! rename through `renamed_from`, a deprecation, the drop of something deprecated in an
//! earlier release). Shrinking the numbers towards zero shrinks the history: fewer versions,
//! fewer changes, and the first option of every choice (`text`, not nullable, no index...).

use proptest::prelude::*;

use crate::oracle::{self, PhysTable};
use crate::spec::{Backfill, Entity, Field, History, Index, Release, Specs, Ty};

/// Entities a history may add: keyword and mixed-case names, and the tables `a` and `a_b`,
/// whose indexes on `a.b_c` and `a_b.c` both read `idx_a_b_c` under the naive naming.
const ENTITIES: [(&str, &str, &str); 6] = [
    ("order", "order", "order.toml"),
    ("group", "groups", "group.toml"),
    ("lineItem", "lineItems", "line_item.toml"),
    ("a", "a", "a.toml"),
    ("a_b", "a_b", "a_b.toml"),
    ("note", "notes", "note.toml"),
];

/// Field names: SQL keywords, camelCase, and `b`, `c`, `b_c` (an index on `["b", "c"]` and
/// one on `b_c` read alike under the naive naming).
const FIELDS: [&str; 10] = [
    "b",
    "c",
    "b_c",
    "order",
    "group",
    "camelCase",
    "title",
    "displayName",
    "from",
    "select",
];

const CONFLICTS: [&str; 5] = ["lww", "server_wins", "client_wins", "field_merge", "manual"];

/// One change: which kind (see [`Builder::apply`]) and the numbers its choices read.
type RawChange = (u8, Vec<u16>);

/// Histories of 3 to 6 versions, each with 1 to 3 changes.
pub fn histories() -> impl Strategy<Value = History> {
    let change = (0u8..10, prop::collection::vec(any::<u16>(), 0..16));
    prop::collection::vec(prop::collection::vec(change, 1..=3), 3..=6)
        .prop_map(|raw| interpret(&raw))
}

/// Reads `raw` as a history: version `n` applies the changes of `raw[n - 1]`.
pub fn interpret(raw: &[Vec<RawChange>]) -> History {
    let mut builder = Builder::default();
    for (n, changes) in raw.iter().enumerate() {
        builder.release(n as u32 + 1, changes);
    }
    History {
        releases: builder.releases,
    }
}

/// The numbers of one change, read in order; missing ones read as zero.
struct Choices<'a> {
    values: &'a [u16],
    at: usize,
}

impl Choices<'_> {
    /// A number below `n` (at least 1).
    fn pick(&mut self, n: usize) -> usize {
        let value = self.values.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        value as usize % n.max(1)
    }

    /// True one time in `n`.
    fn one_in(&mut self, n: usize) -> bool {
        self.pick(n) == n - 1
    }

    fn item<'t, T>(&mut self, items: &'t [T]) -> Option<&'t T> {
        if items.is_empty() {
            return None;
        }
        Some(&items[self.pick(items.len())])
    }
}

#[derive(Default)]
struct Builder {
    specs: Specs,
    /// The tables of the previous release.
    tables: Vec<PhysTable>,
    releases: Vec<Release>,
    /// The version being built, what changed in it, and the columns it drops (which
    /// nothing in the same version may read or reuse).
    version: u32,
    changes: Vec<String>,
    dropped: Vec<(String, String)>,
}

impl Builder {
    fn release(&mut self, version: u32, raw: &[RawChange]) {
        self.version = version;
        self.changes.clear();
        self.dropped.clear();
        for (kind, values) in raw {
            let mut choices = Choices { values, at: 0 };
            self.apply(*kind, &mut choices);
        }
        assert!(
            !self.changes.is_empty(),
            "v{version}: no change applies (the name pools are exhausted)"
        );
        let (tables, _) = oracle::next_tables(&self.tables, &self.specs);
        self.tables = tables;
        self.releases.push(Release {
            version,
            changes: self.changes.clone(),
            specs: self.specs.clone(),
        });
    }

    /// Applies change `kind`, or, where it does not apply, a new field or a new entity.
    fn apply(&mut self, kind: u8, c: &mut Choices<'_>) {
        let applied = match kind {
            0 => self.add_entity(c),
            1 | 2 => self.add_field(c),
            3 => self.add_index(c),
            4 => self.rename_field(c),
            5 => self.deprecate_field(c),
            6 => self.drop_field(c),
            7 => self.deprecate_entity(c),
            8 => self.drop_entity(c),
            _ => self.add_lookalike_indexes(c),
        };
        if !applied && !self.add_field(c) {
            self.add_entity(c);
        }
    }

    fn previous_table(&self, table: &str) -> Option<&PhysTable> {
        self.tables.iter().find(|t| t.table == table)
    }

    /// Tables that take changes: not deprecated.
    fn live(&self) -> Vec<usize> {
        (0..self.specs.entities.len())
            .filter(|&i| self.specs.entities[i].deprecated_since.is_none())
            .collect()
    }

    /// Live tables released before this version.
    fn released_live(&self) -> Vec<usize> {
        self.live()
            .into_iter()
            .filter(|&i| self.specs.entities[i].since < self.version)
            .collect()
    }

    /// A field name for `entity` that no field or column of it has, nor one dropped now.
    fn fresh_name(&self, entity: &Entity, c: &mut Choices<'_>) -> Option<String> {
        let start = c.pick(FIELDS.len());
        (0..FIELDS.len())
            .map(|i| FIELDS[(start + i) % FIELDS.len()])
            .find(|name| !self.column_taken(entity, name))
            .map(str::to_string)
    }

    fn add_entity(&mut self, c: &mut Choices<'_>) -> bool {
        let free: Vec<_> = ENTITIES
            .iter()
            // Not a table of the previous release either: one dropped now comes back later.
            .filter(|(_, table, _)| {
                self.specs.entity(table).is_none() && self.previous_table(table).is_none()
            })
            .collect();
        let Some(&&(name, table, file)) = c.item(&free) else {
            return false;
        };
        let mut entity = Entity {
            name,
            table,
            file,
            conflict: CONFLICTS[c.pick(CONFLICTS.len())],
            fields: Vec::new(),
            indexes: Vec::new(),
            since: self.version,
            deprecated_since: None,
        };
        for _ in 0..1 + c.pick(4) {
            let Some(field_name) = self.fresh_name(&entity, c) else {
                break;
            };
            let field = self.new_field(&entity, &field_name, c);
            entity.fields.push(field);
        }
        if entity.fields.len() >= 2 && c.one_in(3) {
            let first = c.pick(entity.fields.len());
            let second = (first + 1 + c.pick(entity.fields.len() - 1)) % entity.fields.len();
            let columns = [first, second].map(|i| entity.fields[i].name.clone());
            // Bools alone would collide in a unique index over the rows the test writes.
            let unique = c.one_in(2)
                && [first, second]
                    .iter()
                    .any(|&i| entity.fields[i].ty != Ty::Bool);
            entity.indexes.push(Index {
                columns: columns.to_vec(),
                unique,
            });
        }
        let names: Vec<String> = entity.fields.iter().map(describe_field).collect();
        self.changes.push(format!(
            "add entity `{name}` (table `{table}`, {}) with {}{}",
            entity.conflict,
            names.join(", "),
            entity
                .indexes
                .first()
                .map(|i| format!(" and an index on {:?}", i.columns))
                .unwrap_or_default()
        ));
        self.specs.entities.push(entity);
        true
    }

    /// A new field of `entity`, valid whether the table is new or has rows already.
    fn new_field(&self, entity: &Entity, name: &str, c: &mut Choices<'_>) -> Field {
        let existing = self.previous_table(entity.table).is_some();
        // Tables added before this one: the test writes rows table by table in that order,
        // so every reference has a row to point to.
        let position = self
            .specs
            .entities
            .iter()
            .position(|e| e.table == entity.table)
            .unwrap_or(self.specs.entities.len());
        let targets: Vec<&'static str> = self
            .live()
            .into_iter()
            .filter(|&i| i < position)
            .map(|i| self.specs.entities[i].table)
            .collect();
        let references = if c.one_in(6) {
            c.item(&targets).map(|t| t.to_string())
        } else {
            None
        };
        let ty = if references.is_some() {
            Ty::Uuid
        } else {
            Ty::ALL[c.pick(Ty::ALL.len())]
        };
        let mut field = Field::new(name, ty, self.version);
        field.references = references;
        if field.references.is_none()
            && matches!(ty, Ty::Text | Ty::Integer | Ty::Uuid)
            && c.one_in(4)
        {
            // Unique: NULLs never collide, and a default would be shared by every old row.
            field.unique = true;
            field.nullable = true;
            return field;
        }
        field.nullable = c.one_in(2);
        let takes_default = ty != Ty::Blob && field.references.is_none();
        field.default = takes_default && ((existing && !field.nullable) || c.one_in(2));
        if existing && !field.default {
            // Old rows need a value: NULL.
            field.nullable = true;
        }
        field.index = c.one_in(3);
        if existing && field.references.is_none() && c.one_in(3) {
            field.backfill = self.backfill(entity.table, ty, c);
        }
        field
    }

    /// A backfill of type `ty` over columns table `table` had at the previous release and
    /// keeps in this one.
    fn backfill(&self, table: &str, ty: Ty, c: &mut Choices<'_>) -> Option<Backfill> {
        let previous = self.previous_table(table)?;
        let sources = |wanted: Ty| -> Vec<String> {
            previous
                .columns
                .iter()
                .filter(|col| col.ty == wanted)
                .filter(|col| {
                    !self
                        .dropped
                        .contains(&(table.to_string(), col.name.clone()))
                })
                .map(|col| col.name.clone())
                .collect()
        };
        let (texts, integers) = (sources(Ty::Text), sources(Ty::Integer));
        let mut options = vec![match ty {
            Ty::Uuid => Backfill::Id,
            Ty::Timestamp => Backfill::CreatedLater,
            other => Backfill::Constant(other),
        }];
        for text in texts {
            match ty {
                Ty::Text => options.extend([
                    Backfill::Upper(text.clone()),
                    Backfill::Exclaim(text.clone()),
                    Backfill::Coalesce(text),
                ]),
                Ty::Integer => options.push(Backfill::Length(text)),
                Ty::Blob => options.push(Backfill::CastBlob(text)),
                Ty::Bool => options.push(Backfill::IsNotNull(text)),
                _ => {}
            }
        }
        for integer in integers {
            match ty {
                Ty::Text => options.push(Backfill::CastText(integer)),
                Ty::Integer => options.push(Backfill::PlusOne(integer)),
                Ty::Real => options.push(Backfill::Half(integer)),
                Ty::Bool => options.push(Backfill::GreaterThree(integer)),
                Ty::Json => options.push(Backfill::JsonArray(integer)),
                _ => {}
            }
        }
        c.item(&options).cloned()
    }

    fn add_field(&mut self, c: &mut Choices<'_>) -> bool {
        let Some(&e) = c.item(&self.live()) else {
            return false;
        };
        let entity = &self.specs.entities[e];
        let Some(name) = self.fresh_name(entity, c) else {
            return false;
        };
        let field = self.new_field(entity, &name, c);
        self.changes.push(format!(
            "add field `{}.{}`",
            entity.table,
            describe_field(&field)
        ));
        self.specs.entities[e].fields.push(field);
        true
    }

    /// Two indexes that the naive naming `idx_<table>_<columns>` names alike, both valid:
    /// `t.x_y` and `t(x, y)`, or `a.b_c` and `a_b.c`.
    fn add_lookalike_indexes(&mut self, c: &mut Choices<'_>) -> bool {
        if c.one_in(2) {
            return self.add_lookalikes_across_tables(c);
        }
        let candidates: Vec<(usize, String, String)> = self
            .live()
            .into_iter()
            .flat_map(|e| {
                let fields: Vec<&Field> = self.specs.entities[e]
                    .fields
                    .iter()
                    .filter(|f| !f.deprecated)
                    .collect();
                let mut pairs = Vec::new();
                for x in &fields {
                    for y in &fields {
                        if x.name != y.name {
                            pairs.push((e, x.name.clone(), y.name.clone()));
                        }
                    }
                }
                pairs
            })
            .collect();
        let Some((e, x, y)) = c.item(&candidates).cloned() else {
            return false;
        };
        let joined = format!("{x}_{y}");
        let entity = &self.specs.entities[e];
        let columns = vec![x.clone(), y.clone()];
        if self.column_taken(entity, &joined) || entity.indexes.iter().any(|i| i.columns == columns)
        {
            return false;
        }
        let existing = self.previous_table(entity.table).is_some();
        let mut field = Field::new(&joined, Ty::Integer, self.version);
        field.nullable = existing || c.one_in(2);
        field.index = true;
        let table = entity.table;
        let entity = &mut self.specs.entities[e];
        entity.fields.push(field);
        entity.indexes.push(Index {
            columns,
            unique: false,
        });
        self.changes.push(format!(
            "add field `{table}.{joined}` (integer, index) and an index on `{table}` [{x:?}, {y:?}]"
        ));
        true
    }

    /// Indexed fields `a.b_c` and `a_b.c`, where the tables are there and the names free.
    fn add_lookalikes_across_tables(&mut self, c: &mut Choices<'_>) -> bool {
        let live = self.live();
        let find = |table: &str| {
            live.iter()
                .copied()
                .find(|&e| self.specs.entities[e].table == table)
        };
        let (Some(a), Some(a_b)) = (find("a"), find("a_b")) else {
            return false;
        };
        if self.column_taken(&self.specs.entities[a], "b_c")
            || self.column_taken(&self.specs.entities[a_b], "c")
        {
            return false;
        }
        for (e, name) in [(a, "b_c"), (a_b, "c")] {
            let existing = self.previous_table(self.specs.entities[e].table).is_some();
            let mut field = Field::new(name, Ty::Text, self.version);
            field.nullable = existing || c.one_in(2);
            field.index = true;
            self.specs.entities[e].fields.push(field);
        }
        self.changes
            .push("add indexed fields `a.b_c` and `a_b.c`".to_string());
        true
    }

    /// Whether `entity` has a field or a column named `name` (ignoring case), or drops one in
    /// this version.
    fn column_taken(&self, entity: &Entity, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        entity
            .fields
            .iter()
            .any(|f| f.name.to_ascii_lowercase() == name)
            || self.previous_table(entity.table).is_some_and(|t| {
                t.columns
                    .iter()
                    .any(|c| c.name.to_ascii_lowercase() == name)
            })
            || self
                .dropped
                .iter()
                .any(|(t, c)| t == entity.table && c.to_ascii_lowercase() == name)
    }

    fn add_index(&mut self, c: &mut Choices<'_>) -> bool {
        let Some(&e) = c.item(&self.live()) else {
            return false;
        };
        let entity = &self.specs.entities[e];
        let candidates: Vec<&Field> = entity.fields.iter().filter(|f| !f.deprecated).collect();
        let Some(first) = c.item(&candidates) else {
            return false;
        };
        let mut columns = vec![first.name.clone()];
        if c.one_in(2)
            && let Some(second) = c.item(&candidates)
            && second.name != first.name
        {
            columns.push(second.name.clone());
        }
        let single_field_index =
            columns.len() == 1 && (first.index || first.unique || first.references.is_some());
        if single_field_index || entity.indexes.iter().any(|i| i.columns == columns) {
            return false;
        }
        self.changes
            .push(format!("add index on `{}` {:?}", entity.table, columns));
        self.specs.entities[e].indexes.push(Index {
            columns,
            unique: false,
        });
        true
    }

    /// Fields of released live entities that a rename, deprecation or drop may touch: released
    /// before this version, not foreign keys (SQLite cannot drop those), `extra` holding.
    fn released_fields(&self, extra: impl Fn(&Entity, &Field) -> bool) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for e in self.released_live() {
            let entity = &self.specs.entities[e];
            for (f, field) in entity.fields.iter().enumerate() {
                if field.since < self.version && field.references.is_none() && extra(entity, field)
                {
                    out.push((e, f));
                }
            }
        }
        out
    }

    fn rename_field(&mut self, c: &mut Choices<'_>) -> bool {
        let version = self.version;
        let candidates = self.released_fields(|entity, field| {
            !field.deprecated
                && !entity
                    .indexes
                    .iter()
                    .any(|i| i.columns.contains(&field.name))
                && !read_by_new_backfill(entity, field.renamed_from.as_deref(), version)
        });
        let Some(&(e, f)) = c.item(&candidates) else {
            return false;
        };
        let Some(new_name) = self.fresh_name(&self.specs.entities[e], c) else {
            return false;
        };
        let entity = &mut self.specs.entities[e];
        let old = entity.fields[f].clone();
        if let Some(source) = &old.renamed_from {
            // The spec stops naming it: the earlier rename's old column is dropped now.
            self.dropped
                .push((entity.table.to_string(), source.clone()));
        }
        let mut renamed = Field {
            name: new_name.clone(),
            renamed_from: Some(old.name.clone()),
            renamed_since: Some(self.version),
            backfill: None,
            since: self.version,
            ..old.clone()
        };
        if !renamed.nullable && !renamed.default {
            // A NOT NULL column without a default cannot be added to a table with rows (the
            // copy fills it right after): the new name is nullable.
            renamed.nullable = true;
        }
        entity.fields[f] = renamed;
        self.changes.push(format!(
            "rename `{}.{}` to `{new_name}`",
            entity.table, old.name
        ));
        true
    }

    fn deprecate_field(&mut self, c: &mut Choices<'_>) -> bool {
        let candidates = self.released_fields(|_, field| !field.deprecated);
        let Some(&(e, f)) = c.item(&candidates) else {
            return false;
        };
        let entity = &mut self.specs.entities[e];
        let field = &mut entity.fields[f];
        field.deprecated = true;
        field.deprecated_since = Some(self.version);
        // A deprecated field is on its way out: the generator refuses indexes on it.
        field.index = false;
        field.unique = false;
        self.changes
            .push(format!("deprecate `{}.{}`", entity.table, field.name));
        true
    }

    /// Drops a field deprecated in an earlier release, or ends an earlier rename (the old
    /// column is dropped). Never a column a backfill of this version reads.
    fn drop_field(&mut self, c: &mut Choices<'_>) -> bool {
        let version = self.version;
        let read_now =
            |entity: &Entity, column: Option<&str>| read_by_new_backfill(entity, column, version);
        let can_drop = |entity: &Entity, field: &Field| {
            field.deprecated_since.is_some_and(|v| v < version)
                && entity.fields.len() > 1
                && !read_now(entity, Some(&field.name))
                && !read_now(entity, field.renamed_from.as_deref())
        };
        let can_end_rename = |entity: &Entity, field: &Field| {
            field.renamed_since.is_some_and(|v| v < version)
                && !read_now(entity, field.renamed_from.as_deref())
        };
        let candidates = self.released_fields(|entity, field| {
            can_drop(entity, field) || can_end_rename(entity, field)
        });
        let Some(&(e, f)) = c.item(&candidates) else {
            return false;
        };
        let entity = &mut self.specs.entities[e];
        let table = entity.table.to_string();
        if can_drop(entity, &entity.fields[f]) {
            let field = entity.fields.remove(f);
            entity.indexes.retain(|i| !i.columns.contains(&field.name));
            if let Some(source) = field.renamed_from {
                self.dropped.push((table.clone(), source));
            }
            self.changes
                .push(format!("drop deprecated field `{table}.{}`", field.name));
            self.dropped.push((table, field.name));
        } else {
            let field = &mut entity.fields[f];
            let source = field.renamed_from.take().expect("a rename to end");
            field.renamed_since = None;
            self.changes.push(format!(
                "end the rename of `{table}.{source}` to `{}` (drops `{source}`)",
                field.name
            ));
            self.dropped.push((table, source));
        }
        true
    }

    fn deprecate_entity(&mut self, c: &mut Choices<'_>) -> bool {
        let referenced = |table: &str| {
            self.tables
                .iter()
                .flat_map(|t| &t.columns)
                .any(|col| col.references.as_deref() == Some(table))
                || self
                    .specs
                    .entities
                    .iter()
                    .flat_map(|e| &e.fields)
                    .any(|f| f.references.as_deref() == Some(table))
        };
        let candidates: Vec<usize> = self
            .released_live()
            .into_iter()
            .filter(|&e| !referenced(self.specs.entities[e].table))
            .collect();
        let Some(&e) = c.item(&candidates) else {
            return false;
        };
        let entity = &mut self.specs.entities[e];
        entity.deprecated_since = Some(self.version);
        self.changes
            .push(format!("deprecate entity `{}`", entity.name));
        true
    }

    /// Drops an entity deprecated in an earlier release; never the last spec file (a glob
    /// that matches nothing is an error).
    fn drop_entity(&mut self, c: &mut Choices<'_>) -> bool {
        if self.specs.entities.len() < 2 {
            return false;
        }
        let candidates: Vec<usize> = (0..self.specs.entities.len())
            .filter(|&e| {
                self.specs.entities[e]
                    .deprecated_since
                    .is_some_and(|v| v < self.version)
            })
            .collect();
        let Some(&e) = c.item(&candidates) else {
            return false;
        };
        let entity = self.specs.entities.remove(e);
        self.changes.push(format!(
            "drop deprecated entity `{}` (delete schema/{})",
            entity.name, entity.file
        ));
        true
    }
}

/// Whether a field `entity` gets in `version` has a backfill that reads `column`.
fn read_by_new_backfill(entity: &Entity, column: Option<&str>, version: u32) -> bool {
    column.is_some_and(|column| {
        entity.fields.iter().any(|f| {
            f.since == version && f.backfill.as_ref().and_then(Backfill::source) == Some(column)
        })
    })
}

/// `name (type, nullable, default, index, unique, references, backfill)`.
fn describe_field(field: &Field) -> String {
    let mut traits = vec![field.ty.name().to_string()];
    if field.nullable {
        traits.push("nullable".into());
    }
    if field.default {
        traits.push("default".into());
    }
    if field.index {
        traits.push("index".into());
    }
    if field.unique {
        traits.push("unique".into());
    }
    if let Some(table) = &field.references {
        traits.push(format!("references {table}"));
    }
    if let Some(backfill) = &field.backfill {
        traits.push(format!("backfill {}", backfill.sql()));
    }
    format!("{} ({})", field.name, traits.join(", "))
}
