//! The test's own model of a project's entity specs at one version, and its TOML rendering:
//! what a user writes, independent of the generator's parser and model.

use std::fmt;

use rusqlite::types::Value;

/// A field type, as the spec names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Text,
    Integer,
    Real,
    Bool,
    Uuid,
    Timestamp,
    Json,
    Blob,
}

impl Ty {
    pub const ALL: [Ty; 8] = [
        Ty::Text,
        Ty::Integer,
        Ty::Real,
        Ty::Bool,
        Ty::Uuid,
        Ty::Timestamp,
        Ty::Json,
        Ty::Blob,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Ty::Text => "text",
            Ty::Integer => "integer",
            Ty::Real => "real",
            Ty::Bool => "bool",
            Ty::Uuid => "uuid",
            Ty::Timestamp => "timestamp",
            Ty::Json => "json",
            Ty::Blob => "blob",
        }
    }

    /// The `default` of this type the histories use, as written in TOML and as SQLite stores
    /// it (`None` for `blob`, which takes no default). The text one has a quote, a `;` and a
    /// `--` that SQL must keep inside the string.
    pub fn default_value(self) -> Option<(&'static str, Value)> {
        Some(match self {
            Ty::Text => ("\"it's; -- ok\"", Value::Text("it's; -- ok".into())),
            Ty::Integer => ("-3", Value::Integer(-3)),
            Ty::Real => ("0.5", Value::Real(0.5)),
            Ty::Bool => ("true", Value::Integer(1)),
            Ty::Uuid => (
                "\"00000000-0000-4000-8000-00000000abcd\"",
                Value::Text("00000000-0000-4000-8000-00000000abcd".into()),
            ),
            Ty::Timestamp => ("0", Value::Integer(0)),
            Ty::Json => ("\"[1, 2]\"", Value::Text("[1, 2]".into())),
            Ty::Blob => return None,
        })
    }
}

/// A `backfill` expression, with the column it reads (if any).
#[derive(Clone, Debug, PartialEq)]
pub enum Backfill {
    /// `upper("c")`, text.
    Upper(String),
    /// `"c" || '!'`, text.
    Exclaim(String),
    /// `coalesce("c", 'none')`, text.
    Coalesce(String),
    /// `CAST("c" AS TEXT)` of an integer column.
    CastText(String),
    /// `length("c")` of a text column.
    Length(String),
    /// `"c" + 1` of an integer column.
    PlusOne(String),
    /// `"c" * 0.5` of an integer column, real.
    Half(String),
    /// `"c" > 3` of an integer column, bool.
    GreaterThree(String),
    /// `"c" IS NOT NULL`, bool.
    IsNotNull(String),
    /// `json_array("c")` of an integer column.
    JsonArray(String),
    /// `CAST("c" AS BLOB)` of a text column.
    CastBlob(String),
    /// `"id"`, uuid: the row's own id.
    Id,
    /// `"created_at" + 1000`, timestamp.
    CreatedLater,
    /// A constant of the field's type.
    Constant(Ty),
}

impl Backfill {
    /// The domain column the expression reads, if any.
    pub fn source(&self) -> Option<&str> {
        match self {
            Backfill::Upper(c)
            | Backfill::Exclaim(c)
            | Backfill::Coalesce(c)
            | Backfill::CastText(c)
            | Backfill::Length(c)
            | Backfill::PlusOne(c)
            | Backfill::Half(c)
            | Backfill::GreaterThree(c)
            | Backfill::IsNotNull(c)
            | Backfill::JsonArray(c)
            | Backfill::CastBlob(c) => Some(c),
            Backfill::Id | Backfill::CreatedLater | Backfill::Constant(_) => None,
        }
    }

    /// The SQL expression, as written in the spec.
    pub fn sql(&self) -> String {
        match self {
            Backfill::Upper(c) => format!("upper(\"{c}\")"),
            Backfill::Exclaim(c) => format!("\"{c}\" || '!'"),
            Backfill::Coalesce(c) => format!("coalesce(\"{c}\", 'none')"),
            Backfill::CastText(c) => format!("CAST(\"{c}\" AS TEXT)"),
            Backfill::Length(c) => format!("length(\"{c}\")"),
            Backfill::PlusOne(c) => format!("\"{c}\" + 1"),
            Backfill::Half(c) => format!("\"{c}\" * 0.5"),
            Backfill::GreaterThree(c) => format!("\"{c}\" > 3"),
            Backfill::IsNotNull(c) => format!("\"{c}\" IS NOT NULL"),
            Backfill::JsonArray(c) => format!("json_array(\"{c}\")"),
            Backfill::CastBlob(c) => format!("CAST(\"{c}\" AS BLOB)"),
            Backfill::Id => "\"id\"".to_string(),
            Backfill::CreatedLater => "\"created_at\" + 1000".to_string(),
            Backfill::Constant(Ty::Text) => "'filled'".to_string(),
            Backfill::Constant(Ty::Real) => "1.5".to_string(),
            Backfill::Constant(Ty::Json) => "'[]'".to_string(),
            Backfill::Constant(Ty::Blob) => "x'00ff'".to_string(),
            Backfill::Constant(_) => "1".to_string(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub ty: Ty,
    pub nullable: bool,
    /// Whether the field has the type's [`Ty::default_value`].
    pub default: bool,
    pub index: bool,
    pub unique: bool,
    /// The referenced table.
    pub references: Option<String>,
    pub renamed_from: Option<String>,
    pub backfill: Option<Backfill>,
    pub deprecated: bool,
    /// The version that added the field, deprecated it and added its `renamed_from`.
    pub since: u32,
    pub deprecated_since: Option<u32>,
    pub renamed_since: Option<u32>,
}

impl Field {
    pub fn new(name: &str, ty: Ty, since: u32) -> Field {
        Field {
            name: name.to_string(),
            ty,
            nullable: false,
            default: false,
            index: false,
            unique: false,
            references: None,
            renamed_from: None,
            backfill: None,
            deprecated: false,
            since,
            deprecated_since: None,
            renamed_since: None,
        }
    }

    /// The stored default, if the field has one.
    pub fn default_stored(&self) -> Option<Value> {
        self.default
            .then(|| self.ty.default_value().map(|(_, v)| v))
            .flatten()
    }

    fn toml(&self) -> String {
        let mut keys = vec![format!("type = \"{}\"", self.ty.name())];
        if self.nullable {
            keys.push("nullable = true".into());
        }
        if self.default {
            keys.push(format!(
                "default = {}",
                self.ty.default_value().expect("a type with a default").0
            ));
        }
        if self.index {
            keys.push("index = true".into());
        }
        if self.unique {
            keys.push("unique = true".into());
        }
        if let Some(table) = &self.references {
            keys.push(format!("references = {}", toml_string(table)));
        }
        if let Some(old) = &self.renamed_from {
            keys.push(format!("renamed_from = {}", toml_string(old)));
        }
        if let Some(backfill) = &self.backfill {
            keys.push(format!("backfill = {}", toml_string(&backfill.sql())));
        }
        if self.deprecated {
            keys.push("deprecated = true".into());
        }
        format!("{} = {{ {} }}", self.name, keys.join(", "))
    }
}

/// A declared `[[indexes]]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Index {
    pub columns: Vec<String>,
    pub unique: bool,
}

#[derive(Clone, Debug)]
pub struct Entity {
    pub name: &'static str,
    pub table: &'static str,
    /// The spec's file name under `schema/`.
    pub file: &'static str,
    pub conflict: &'static str,
    pub fields: Vec<Field>,
    pub indexes: Vec<Index>,
    pub since: u32,
    pub deprecated_since: Option<u32>,
}

impl Entity {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn field_merge(&self) -> bool {
        self.conflict == "field_merge"
    }

    /// The spec file's text.
    pub fn toml(&self) -> String {
        let mut out = format!(
            "[entity]\nname = {}\ntable = {}\nconflict = \"{}\"\n",
            toml_string(self.name),
            toml_string(self.table),
            self.conflict
        );
        if self.deprecated_since.is_some() {
            out.push_str("deprecated = true\n");
        }
        out.push_str("\n[fields]\n");
        for field in &self.fields {
            out.push_str(&field.toml());
            out.push('\n');
        }
        for index in &self.indexes {
            let columns: Vec<String> = index.columns.iter().map(|c| toml_string(c)).collect();
            out.push_str(&format!(
                "\n[[indexes]]\ncolumns = [{}]\n",
                columns.join(", ")
            ));
            if index.unique {
                out.push_str("unique = true\n");
            }
        }
        out
    }
}

/// The specs of one version: every entity still in the project, in the order they were added.
#[derive(Clone, Debug, Default)]
pub struct Specs {
    pub entities: Vec<Entity>,
}

impl Specs {
    pub fn entity(&self, table: &str) -> Option<&Entity> {
        self.entities.iter().find(|e| e.table == table)
    }
}

/// One released version: what changed, and the specs it is released from.
#[derive(Clone)]
pub struct Release {
    pub version: u32,
    pub changes: Vec<String>,
    pub specs: Specs,
}

/// A history of releases, printed as each version's changes and spec files, so a failing
/// case reads as the project a user would have written.
#[derive(Clone)]
pub struct History {
    pub releases: Vec<Release>,
}

impl fmt::Debug for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "a history of {} releases (each shows the spec files it changes):",
            self.releases.len()
        )?;
        let mut before: Vec<(&str, String)> = Vec::new();
        for release in &self.releases {
            writeln!(
                f,
                "=== v{}: {}",
                release.version,
                release.changes.join("; ")
            )?;
            let now: Vec<(&str, String)> = release
                .specs
                .entities
                .iter()
                .map(|e| (e.file, e.toml()))
                .collect();
            for (file, text) in &now {
                if !before.contains(&(file, text.clone())) {
                    writeln!(f, "--- schema/{file}")?;
                    write!(f, "{text}")?;
                }
            }
            for (file, _) in before
                .iter()
                .filter(|(b, _)| now.iter().all(|(n, _)| n != b))
            {
                writeln!(f, "--- schema/{file}: deleted")?;
            }
            before = now;
        }
        Ok(())
    }
}

/// A TOML basic string.
pub fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
