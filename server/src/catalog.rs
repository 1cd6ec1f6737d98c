//! The app's entity model per schema version: what the server validates payloads against and
//! projects records onto.
//!
//! Built from the generator's frozen history with [`Catalog::from_project`]
//! (one adapter module reads the snapshots), or in code:
//!
//! ```
//! use syncwright_server::catalog::{Catalog, EntitySchema, FieldSchema, FieldType, SchemaVersion};
//!
//! let v1 = SchemaVersion::new(1).with_entity(
//!     EntitySchema::new("project").with_field(FieldSchema::new("name", FieldType::Text)),
//! );
//! let catalog = Catalog::new().with_version(v1);
//! assert_eq!(catalog.latest_version(), Some(1));
//! assert!(catalog.version(1).unwrap().entity("project").unwrap().field("name").is_some());
//! ```

use std::collections::BTreeMap;

use serde_json::Value as Json;

/// Every schema version the server accepts, by number.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    versions: BTreeMap<u32, SchemaVersion>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Catalog::default()
    }

    /// Adds (or replaces) one version.
    pub fn with_version(mut self, version: SchemaVersion) -> Self {
        self.versions.insert(version.version, version);
        self
    }

    /// The newest version, `None` when the catalog is empty.
    pub fn latest_version(&self) -> Option<u32> {
        self.versions.keys().next_back().copied()
    }

    /// The newest version's schema.
    pub fn latest(&self) -> Option<&SchemaVersion> {
        self.versions.values().next_back()
    }

    /// The schema of `version`.
    pub fn version(&self, version: u32) -> Option<&SchemaVersion> {
        self.versions.get(&version)
    }
}

/// The entities of one schema version.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaVersion {
    /// The version number.
    pub version: u32,
    /// Entities by name.
    pub entities: BTreeMap<String, EntitySchema>,
}

impl SchemaVersion {
    /// A version without entities.
    pub fn new(version: u32) -> Self {
        SchemaVersion {
            version,
            entities: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) one entity.
    pub fn with_entity(mut self, entity: EntitySchema) -> Self {
        self.entities.insert(entity.name.clone(), entity);
        self
    }

    /// Looks an entity up by name.
    pub fn entity(&self, name: &str) -> Option<&EntitySchema> {
        self.entities.get(name)
    }
}

/// One entity's domain fields (sync columns are not fields: they travel as protocol members).
#[derive(Debug, Clone, PartialEq)]
pub struct EntitySchema {
    /// The entity name (`task`).
    pub name: String,
    /// The domain fields in column order.
    pub fields: Vec<FieldSchema>,
}

impl EntitySchema {
    /// An entity without fields.
    pub fn new(name: impl Into<String>) -> Self {
        EntitySchema {
            name: name.into(),
            fields: Vec::new(),
        }
    }

    /// Appends a field.
    pub fn with_field(mut self, field: FieldSchema) -> Self {
        self.fields.push(field);
        self
    }

    /// Looks a field up by name.
    pub fn field(&self, name: &str) -> Option<&FieldSchema> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// One domain field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSchema {
    /// The column name.
    pub name: String,
    /// Its type, which decides the JSON it accepts.
    pub ty: FieldType,
    /// Whether `null` is allowed.
    pub nullable: bool,
    /// The value a create that does not send the field gets. `None` when the column has no
    /// default or its default is an SQL expression the server cannot evaluate.
    pub default: Option<Json>,
    /// The entity this field references by `id`.
    pub references: Option<String>,
}

impl FieldSchema {
    /// A required (non-null, no default) field.
    pub fn new(name: impl Into<String>, ty: FieldType) -> Self {
        FieldSchema {
            name: name.into(),
            ty,
            nullable: false,
            default: None,
            references: None,
        }
    }

    /// Allows `null`.
    pub fn nullable(mut self) -> Self {
        self.nullable = true;
        self
    }

    /// Sets the default a create gets when it does not send the field.
    pub fn with_default(mut self, default: Json) -> Self {
        self.default = Some(default);
        self
    }

    /// Makes the field a reference to `entity`'s `id`.
    pub fn references(mut self, entity: impl Into<String>) -> Self {
        self.references = Some(entity.into());
        self
    }

    /// True when a create must send the field.
    pub fn is_required(&self) -> bool {
        !self.nullable && self.default.is_none()
    }

    /// What a create that does not send the field stores: its default, else `null` when the
    /// field is nullable.
    pub fn fill_value(&self) -> Option<Json> {
        self.default
            .clone()
            .or_else(|| self.nullable.then_some(Json::Null))
    }
}

/// A field's type: the runtime's column type, whose payload encoding the server checks with
/// [`syncwright::payload::is_encoding_of`] (see `docs/protocol.md`).
pub use syncwright::ColumnType as FieldType;
