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
