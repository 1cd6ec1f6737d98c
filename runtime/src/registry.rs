//! The entities a [`crate::Database`] knows: registered at open or on first use, each
//! drift-checked once.

use std::collections::BTreeMap;
use std::sync::RwLock;

use rusqlite::Connection;

use crate::Result;
use crate::entity::EntityDescriptor;
use crate::migrate;

/// Entity descriptors by entity name.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    entities: RwLock<BTreeMap<&'static str, &'static EntityDescriptor>>,
}

impl Registry {
    /// A registry of `entities` (already drift-checked by the caller).
    pub fn new(entities: &[&'static EntityDescriptor]) -> Registry {
        Registry {
            entities: RwLock::new(entities.iter().map(|e| (e.name, *e)).collect()),
        }
    }

    /// The registered entity called `name`.
    pub fn get(&self, name: &str) -> Option<&'static EntityDescriptor> {
        self.entities
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .copied()
    }

    /// Every registered entity, by name.
    pub fn all(&self) -> Vec<&'static EntityDescriptor> {
        self.entities
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .copied()
            .collect()
    }

    /// Drift-checks `entity` on `conn` and registers it, unless it is registered already.
    pub fn register(&self, conn: &Connection, entity: &'static EntityDescriptor) -> Result<()> {
        if self.get(entity.name).is_some() {
            return Ok(());
        }
        migrate::check_drift(conn, &[entity])?;
        self.entities
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(entity.name, entity);
        Ok(())
    }
}
