use std::collections::BTreeMap;
use std::time::SystemTime;

use syncwright::Syncable;

type Millis = i64;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Address {
    street: String,
}

#[derive(Syncable)]
#[syncwright(name = "site_visit", table = "visits", conflict = "manual")]
#[syncwright(index(columns = ["a_string", "an_i32"], unique), index(columns = ["a_bool"]))]
struct Visit {
    a_string: String,
    an_i8: i8,
    an_i16: i16,
    an_i32: i32,
    an_i64: i64,
    a_u8: u8,
    a_u16: u16,
    a_u32: u32,
    an_f32: f32,
    an_f64: f64,
    a_bool: bool,
    a_uuid: uuid::Uuid,
    a_time: SystemTime,
    bytes: Vec<u8>,
    a_json: serde_json::Value,
    #[syncwright(json)]
    address: Address,
    #[syncwright(json, default = [])]
    tags: Vec<String>,
    #[syncwright(json)]
    scores: Option<BTreeMap<String, f64>>,
    #[syncwright(type = "timestamp")]
    millis: Millis,
    maybe: Option<String>,
    #[syncwright(default = -1, index)]
    rank: i64,
    #[syncwright(unique = true)]
    code: String,
    #[syncwright(deprecated)]
    legacy: Option<String>,
    #[syncwright(renamed_from = "legacy", backfill = "\"legacy\"")]
    r#type: Option<String>,
}

fn main() {
    let entity = Visit::ENTITY;
    assert_eq!(entity.name, "site_visit");
    assert_eq!(entity.table, "visits");
    assert!(entity.column("legacy").is_none(), "deprecated columns are not in the runtime's list");
    assert!(entity.column("type").is_some());
}
