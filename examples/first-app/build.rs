// Embeds the released migrations (and, for TOML specs, the entity structs) in OUT_DIR.
// Fails the build with `run syncwright migrate new <name>` when the model changed without a
// release.
fn main() {
    syncwright_codegen::build("syncwright.toml");
}
