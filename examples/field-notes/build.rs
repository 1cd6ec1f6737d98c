//! Embeds the migrations of `syncwright.toml` (and structs for its TOML specs) into the app.

fn main() {
    syncwright_codegen::build("syncwright.toml");
}
