//! The test fixtures are the generator's output, never hand-written copies.

use std::path::Path;

#[test]
fn fixture_migrations_are_what_the_generator_renders() {
    let config =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tasks-notes/syncwright.toml");
    let report = syncwright_codegen::check(&config).unwrap_or_else(|e| {
        panic!(
            "runtime/tests/fixtures/tasks-notes disagrees with the generator; regenerate it with \
             `cargo run -p syncwright-codegen -- --config {} generate`:\n{e}",
            config.display()
        )
    });
    assert_eq!(report.version, 3);
}
