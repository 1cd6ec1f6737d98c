//! The migration checksum that syncwright's generator writes into its lock file and its
//! runtime checks before running a migration: one implementation for both sides.
//!
//! The checksum is SHA-256 (FIPS 180-4), written here rather than taken from a hashing crate:
//! every app compiles the runtime, and this file compiles in a fraction of the time of `sha2`
//! and the eight crates it pulls in (issue 16), while migration files are far too small for
//! the crate's speed to matter.
//!
//! ```
//! use syncwright_checksum::checksum;
//! assert_eq!(checksum("a;\r\n"), checksum("a;\n"));
//! assert_eq!(
//!     checksum("abc"),
//!     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
//! );
//! ```

mod sha256;

pub use sha256::sha256;

/// The checksum of a migration file: SHA-256, lower-case hex, of `text` with every `\r\n`
/// replaced by `\n` (so a checkout with Windows line endings has the same checksum).
pub fn checksum(text: &str) -> String {
    sha256(text.replace("\r\n", "\n").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
