//! The runtime cannot depend on the generator, so the names both sides of docs/contracts.md
//! spell out are compared here.

use syncwright_codegen::model::ConflictStrategy;
use syncwright_codegen::resolve;

fn names(strategy: ConflictStrategy) -> Vec<String> {
    resolve::sync_columns(strategy)
        .into_iter()
        .map(|c| c.name)
        .collect()
}

#[test]
fn runtime_and_generator_agree_on_the_sync_columns_and_their_order() {
    assert_eq!(
        names(ConflictStrategy::LastWriteWins),
        syncwright::SYNC_COLUMNS
    );
    let mut field_merge = syncwright::SYNC_COLUMNS.to_vec();
    field_merge.push(syncwright::FIELD_TIMESTAMPS);
    assert_eq!(names(ConflictStrategy::FieldMerge), field_merge);
    assert_eq!(
        syncwright_codegen::symbol::SYNC_COLUMNS,
        field_merge.as_slice()
    );
}

#[test]
fn both_sides_compute_the_same_checksum() {
    let sql = "-- header\r\nBEGIN;\r\nCREATE TABLE t (x);\r\nCOMMIT;\r\n";
    assert_eq!(
        syncwright::checksum(sql),
        syncwright_codegen::rendered::checksum(sql)
    );
    assert_eq!(
        syncwright::checksum(sql),
        syncwright::checksum(&sql.replace("\r\n", "\n")),
        "checksums ignore line endings"
    );
}
