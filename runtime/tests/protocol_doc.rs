//! Every JSON example in `docs/protocol.md` is a message the protocol types parse and write
//! back identically, so the contract and the code cannot drift apart.

use serde::Serialize;
use serde::de::DeserializeOwned;
use syncwright::sync::protocol::{
    ErrorResponse, PullRequest, PullResponse, PushRequest, PushResponse,
};

const DOC: &str = include_str!("../../docs/protocol.md");

/// Parses `json` as `T` and checks it serializes back to the same JSON value.
fn reads_as<T: Serialize + DeserializeOwned>(json: &serde_json::Value) -> bool {
    serde_json::from_value::<T>(json.clone())
        .is_ok_and(|message| serde_json::to_value(message).unwrap() == *json)
}

#[test]
fn every_json_example_in_the_protocol_doc_is_a_protocol_message() {
    let blocks: Vec<&str> = DOC
        .split("```json\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 10, "found only {} examples", blocks.len());
    let mut kinds = Vec::new();
    for block in blocks {
        let json: serde_json::Value = serde_json::from_str(block)
            .unwrap_or_else(|e| panic!("an example is not JSON ({e}):\n{block}"));
        let kind = if reads_as::<PullRequest>(&json) {
            "pull request"
        } else if reads_as::<PullResponse>(&json) {
            "pull response"
        } else if reads_as::<PushRequest>(&json) {
            "push request"
        } else if reads_as::<PushResponse>(&json) {
            "push response"
        } else if reads_as::<ErrorResponse>(&json) {
            "error"
        } else {
            panic!("this example is no protocol message:\n{block}")
        };
        kinds.push(kind);
    }
    for kind in [
        "pull request",
        "pull response",
        "push request",
        "push response",
        "error",
    ] {
        assert!(kinds.contains(&kind), "the doc shows no {kind}");
    }
}
