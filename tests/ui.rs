//! `#[derive(Syncable)]` compile errors: one case per diagnostic in `tests/ui/<category>/`, its
//! expected compiler output beside it. Regenerate with `TRYBUILD=overwrite cargo test --test ui`
//! and review the `.stderr` diff.

#[test]
fn derive_diagnostics_point_at_the_offending_code() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/shape/*.rs");
    t.compile_fail("tests/ui/types/*.rs");
    t.compile_fail("tests/ui/keys/*.rs");
    t.compile_fail("tests/ui/names/*.rs");
    t.compile_fail("tests/ui/options/*.rs");
}

/// Typed column handles: a misspelt column, a value of the wrong type, or a column of another
/// entity is a compile error, not a run-time `UnknownColumn`.
#[test]
fn typed_filters_refuse_wrong_columns_and_value_types_at_compile_time() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/typed/*.rs");
}
