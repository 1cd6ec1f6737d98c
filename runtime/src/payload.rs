//! The JSON payload of a mutation and its inverse.
//!
//! A payload is a JSON object with one member per domain column, encoded by column type:
//! `text`/`uuid` as strings, `integer`/`timestamp` (epoch ms) as numbers, `real` as a number
//! (`null` for NaN/infinity), `bool` as `true`/`false`, `json` as the JSON value itself, `blob`
//! as a base64 string (standard alphabet, padded), SQL `NULL` as `null`.

use rusqlite::types::Value;
use serde_json::{Map, Number, Value as Json};

use crate::entity::{ColumnType, EntityDescriptor};
use crate::{Error, Result};

/// Encodes domain values (in `entity.columns` order) as a payload object.
pub fn to_payload(entity: &EntityDescriptor, values: &[Value]) -> Map<String, Json> {
    to_payload_of(entity, values, None)
}

/// Encodes the domain values (in `entity.columns` order) of the columns named in `fields`
/// (all of them when `None`) as a payload object.
pub(crate) fn to_payload_of(
    entity: &EntityDescriptor,
    values: &[Value],
    fields: Option<&[&str]>,
) -> Map<String, Json> {
    entity
        .columns
        .iter()
        .zip(values)
        .filter(|(column, _)| fields.is_none_or(|fields| fields.contains(&column.name)))
        .map(|(column, value)| (column.name.to_owned(), encode(column.ty, value)))
        .collect()
}

fn encode(ty: ColumnType, value: &Value) -> Json {
    match (ty, value) {
        (_, Value::Null) => Json::Null,
        (ColumnType::Bool, Value::Integer(i)) => Json::Bool(*i != 0),
        (ColumnType::Json, Value::Text(s)) => {
            serde_json::from_str(s).unwrap_or_else(|_| Json::String(s.clone()))
        }
        (_, Value::Integer(i)) => Json::Number((*i).into()),
        (_, Value::Real(f)) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        (_, Value::Text(s)) => Json::String(s.clone()),
        (_, Value::Blob(b)) => Json::String(base64_encode(b)),
    }
}

/// Decodes a payload back into domain values in `entity.columns` order: what a sync engine
/// applying a remote change, or a test replaying the queue, needs. A missing member is `NULL`.
pub fn values_from_payload(
    entity: &EntityDescriptor,
    payload: &Map<String, Json>,
) -> Result<Vec<Value>> {
    entity
        .columns
        .iter()
        .map(|column| {
            let json = payload.get(column.name).unwrap_or(&Json::Null);
            decode(column.ty, json).ok_or_else(|| Error::Conversion {
                column: column.name.to_owned(),
                row: None,
                reason: format!("payload value {json} does not fit a {:?} column", column.ty),
            })
        })
        .collect()
}

fn decode(ty: ColumnType, json: &Json) -> Option<Value> {
    Some(match (ty, json) {
        (_, Json::Null) => Value::Null,
        (ColumnType::Json, other) => Value::Text(other.to_string()),
        (ColumnType::Bool, Json::Bool(b)) => Value::Integer(i64::from(*b)),
        (ColumnType::Integer | ColumnType::Timestamp | ColumnType::Bool, Json::Number(n)) => {
            Value::Integer(n.as_i64()?)
        }
        (ColumnType::Real, Json::Number(n)) => Value::Real(n.as_f64()?),
        (ColumnType::Text | ColumnType::Uuid, Json::String(s)) => Value::Text(s.clone()),
        (ColumnType::Blob, Json::String(s)) => Value::Blob(base64_decode(s)?),
        _ => return None,
    })
}

/// Whether `json` (not `null`) is exactly the payload encoding of a `ty` value, as a sync
/// server checks a pushed field (`docs/protocol.md`, "Identity and values"): stricter than
/// [`values_from_payload`], which also reads a number as a `bool` and any string as a `uuid`.
///
/// ```
/// use serde_json::json;
/// use syncwright::ColumnType;
/// use syncwright::payload::is_encoding_of;
/// assert!(is_encoding_of(ColumnType::Bool, &json!(true)));
/// assert!(!is_encoding_of(ColumnType::Bool, &json!(1)));
/// assert!(!is_encoding_of(ColumnType::Uuid, &json!("not-a-uuid")));
/// assert!(is_encoding_of(ColumnType::Blob, &json!("AAE=")));
/// ```
pub fn is_encoding_of(ty: ColumnType, json: &Json) -> bool {
    match ty {
        ColumnType::Text => json.is_string(),
        ColumnType::Integer | ColumnType::Timestamp => json.is_i64(),
        ColumnType::Real => json.is_number(),
        ColumnType::Bool => json.is_boolean(),
        ColumnType::Uuid => json
            .as_str()
            .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok()),
        ColumnType::Json => true,
        ColumnType::Blob => json.as_str().and_then(base64_decode).is_some(),
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)?;
        acc = acc << 6 | u32::try_from(v).ok()?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from(acc >> bits & 0xff).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_every_length() {
        for len in 0..10u8 {
            let bytes: Vec<u8> = (0..len).map(|i| i.wrapping_mul(97)).collect();
            assert_eq!(
                base64_decode(&base64_encode(&bytes)).unwrap(),
                bytes,
                "length {len}"
            );
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
    }
}
