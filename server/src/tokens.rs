//! The tokens file: which bearer token belongs to which user, stored hashed.
//!
//! ```toml
//! # tokens.toml: one line per user, the SHA-256 of the user's token in lower-case hex
//! # (`echo -n "$TOKEN" | syncwright-server hash-token`).
//! [users]
//! ana = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//! bob = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
//! ```
//!
//! Only hashes are kept, so a leaked tokens file does not leak the tokens. A presented token is
//! hashed and compared with every user's hash in constant time (no early exit, no
//! data-dependent branch), so response timing reveals neither which user nor how many leading
//! bytes matched.
//!
//! ```
//! use syncwright_server::tokens::{Tokens, hash_token};
//!
//! let file = format!("[users]\nana = \"{}\"\n", hash_token("s3cret"));
//! let tokens = Tokens::parse(&file, "tokens.toml").unwrap();
//! assert_eq!(tokens.user_of("s3cret"), Some("ana"));
//! assert_eq!(tokens.user_of("guess"), None);
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

/// The table of the tokens file that maps users to token hashes.
const USERS_KEY: &str = "users";

/// A SHA-256 digest.
type TokenHash = [u8; 32];

/// The users a server knows and the hashes of their tokens.
#[derive(Clone)]
pub struct Tokens {
    users: Vec<(String, TokenHash)>,
}

// Hashes are not secrets, but there is no reason to print them either.
impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field(
                "users",
                &self.users.iter().map(|(u, _)| u).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Why a tokens file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TokensError {
    /// The file could not be read.
    #[error(
        "cannot read the tokens file `{}`: {cause}; create it with a `[users]` table mapping \
         each user to the SHA-256 hex of their token (see server/README.md)",
        .path.display()
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// The file is not valid TOML, or an entry is not a user = "hash" line.
    #[error("{file}:{line}: {message}")]
    Invalid {
        /// The file, as given.
        file: String,
        /// The 1-based line of the problem.
        line: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// The tokens file's shape: `[users]`, each value a hex hash (kept with its span for errors).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    users: BTreeMap<String, toml::Spanned<String>>,
}

impl Tokens {
    /// Loads the tokens file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Tokens, TokensError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|cause| TokensError::Read {
            path: path.to_path_buf(),
            cause,
        })?;
        Tokens::parse(&text, &path.display().to_string())
    }

    /// Parses the text of a tokens file; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Tokens, TokensError> {
        let invalid = |offset: usize, message: String| TokensError::Invalid {
            file: file.to_string(),
            line: line_of(text, offset),
            message,
        };
        let parsed: TokensFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            invalid(
                offset,
                format!(
                    "{}; the file holds one `[{USERS_KEY}]` table of user = \"<sha-256 hex>\"",
                    e.message()
                ),
            )
        })?;
        let mut users = Vec::with_capacity(parsed.users.len());
        for (user, hash) in parsed.users {
            let digest = parse_hex_digest(hash.get_ref()).ok_or_else(|| {
                invalid(
                    hash.span().start,
                    format!(
                        "`{USERS_KEY}.{user}` is not a SHA-256 hash (64 hex digits); store the \
                         token's hash, not the token: `echo -n \"$TOKEN\" | syncwright-server \
                         hash-token`"
                    ),
                )
            })?;
            users.push((user, digest));
        }
        if users.is_empty() {
            return Err(invalid(
                0,
                format!("no users: add `[{USERS_KEY}]` entries, one user = \"<sha-256 hex>\" each"),
            ));
        }
        Ok(Tokens { users })
    }

    /// The user whose token is `token`, comparing its hash with every user's in constant time.
    pub fn user_of(&self, token: &str) -> Option<&str> {
        let presented = digest(token);
        let mut found = subtle::Choice::from(0);
        let mut index = 0u64;
        for (i, (_, hash)) in self.users.iter().enumerate() {
            let matches = hash.ct_eq(&presented);
            index.conditional_assign(&(i as u64), matches);
            found |= matches;
        }
        bool::from(found).then(|| self.users[index as usize].0.as_str())
    }

    /// The users, in name order.
    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.users.iter().map(|(user, _)| user.as_str())
    }
}

/// The SHA-256 of `token` as lower-case hex: what the tokens file stores for it.
pub fn hash_token(token: &str) -> String {
    digest(token).iter().map(|b| format!("{b:02x}")).collect()
}

fn digest(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

fn parse_hex_digest(hex: &str) -> Option<TokenHash> {
    let hex = hex.trim();
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}
