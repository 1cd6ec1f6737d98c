//! A derived struct round-trips through the runtime: every value conversion the derive emits
//! (plain columns, JSON, nullable JSON, blobs, timestamps, deprecated fields), against a table
//! the generator created from the same struct's source.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use syncwright::{Database, OwnedMigration, OwnedMigrations, Syncable};
use syncwright_codegen::diagnostic::{Diagnostics, SourceMap};
use syncwright_codegen::parse::rust_source::parse_source;
use syncwright_codegen::{render, resolve};

/// Compiles the items and keeps their source text, so the generator can read what the
/// compiler derives from.
macro_rules! with_source {
    ($($item:tt)*) => {
        const SOURCE: &str = stringify!($($item)*);
        $($item)*
    };
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub street: String,
    pub zip: Option<String>,
}

with_source! {
    #[derive(Debug, Clone, PartialEq, Syncable)]
    #[syncwright(conflict = "field_merge")]
    pub struct Visit {
        pub site: String,
        pub visited_at: SystemTime,
        pub photo: Option<Vec<u8>>,
        pub site_id: uuid::Uuid,
        pub rating: Option<f32>,
        pub visitors: u16,
        pub raw: serde_json::Value,
        #[syncwright(json)]
        pub address: Address,
        #[syncwright(json)]
        pub scores: Option<BTreeMap<String, i64>>,
        #[syncwright(deprecated)]
        pub legacy_note: Option<String>,
    }
}

fn migrations() -> OwnedMigrations {
    let mut sources = SourceMap::default();
    let file = sources.add("visit.rs", SOURCE);
    let mut diags = Diagnostics::new();
    let entities = parse_source(&sources, file, &mut diags);
    assert!(diags.is_empty(), "{diags:?}");
    let tables: Vec<_> = entities.iter().map(|e| resolve::table(&e.entity)).collect();
    let sql = render::schema_sql(1, "visit.rs", &tables);
    OwnedMigrations {
        version: 1,
        schema: OwnedMigration::new(1, "schema", sql.clone()),
        steps: vec![OwnedMigration::new(1, "init", sql)],
    }
}

#[test]
fn every_conversion_round_trips_through_the_database() {
    let db = Database::options()
        .entity(Visit::ENTITY)
        .open_in_memory(&migrations())
        .expect("the derive's description matches the generated table (drift check)");
    let visit = Visit {
        site: "North ridge".into(),
        visited_at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
        photo: Some(vec![0, 1, 2, 255]),
        site_id: uuid::Uuid::new_v4(),
        rating: Some(4.5),
        visitors: 3,
        raw: serde_json::json!({"weather": ["rain", 12]}),
        address: Address {
            street: "Rue du Lac 1".into(),
            zip: None,
        },
        scores: Some(BTreeMap::from([("safety".into(), 9)])),
        legacy_note: Some("not stored through the struct".into()),
    };
    let stored = db.insert(&visit).unwrap();
    let read = db.get::<Visit>(stored.id).unwrap().expect("the row exists");
    assert_eq!(
        read.data,
        Visit {
            legacy_note: None,
            ..visit.clone()
        },
        "deprecated fields are neither written nor read; everything else round-trips"
    );

    let empty = Visit {
        photo: None,
        rating: None,
        scores: None,
        ..visit
    };
    let stored = db.insert(&empty).unwrap();
    let read = db.get::<Visit>(stored.id).unwrap().unwrap();
    assert_eq!(
        read.scores, None,
        "`None` of a JSON field is SQL NULL, not JSON `null`"
    );
    assert_eq!(read.photo, None);

    let payload = empty.to_payload();
    assert_eq!(
        payload["address"]["street"], "Rue du Lac 1",
        "JSON fields nest in payloads"
    );
    assert!(payload["scores"].is_null());
    assert!(!payload.contains_key("legacy_note"));
}
