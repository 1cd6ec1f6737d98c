//! Cursors: where a client stands in one entity's changes, as an opaque tagged string.
//!
//! A cursor is either *caught up* at a sequence number `since` (every change up to `since` is
//! at the client) or *catching up*: a pull from `since` that has delivered every record up to
//! position `after` and will, once complete, be caught up at `snapshot` (the user's latest
//! sequence number when the catch-up started). Text form: `since` or `since-after-snapshot`,
//! then `.` and a 16-hex-digit tag: the first 8 bytes of SHA-256 over the server's secret, the
//! user, the entity and that text. The tag is a check against misuse (a cursor of another
//! server, user or entity, or an edited one), not an access control: users are authenticated
//! by the transport.

use sha2::{Digest, Sha256};
use syncwright::sync::protocol::Cursor;

/// A decoded cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    /// Every change up to this sequence number is at the client.
    pub since: u64,
    /// Set while a paged pull from `since` is in progress.
    pub catch_up: Option<CatchUp>,
}

/// The progress of a paged pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CatchUp {
    /// Every record whose position is at most this one was delivered.
    pub after: u64,
    /// Where the client will be caught up when the pull completes.
    pub snapshot: u64,
}

impl Position {
    /// The start: nothing at the client.
    pub const START: Position = Position {
        since: 0,
        catch_up: None,
    };

    /// Positions up to this one were delivered.
    pub fn after(&self) -> u64 {
        self.catch_up.map_or(0, |c| c.after)
    }
}

/// Encodes and checks cursors for one user and entity.
pub(crate) struct CursorCodec<'a> {
    pub secret: &'a [u8],
    pub user: &'a str,
    pub entity: &'a str,
}

impl CursorCodec<'_> {
    pub fn encode(&self, position: Position) -> Cursor {
        let body = match position.catch_up {
            None => position.since.to_string(),
            Some(c) => format!("{}-{}-{}", position.since, c.after, c.snapshot),
        };
        let tag = self.tag(&body);
        Cursor(format!("{body}.{tag}"))
    }

    /// The position of `cursor`, or why it was not issued by this server for this user and
    /// entity.
    pub fn decode(&self, cursor: &Cursor) -> Result<Position, String> {
        let (body, tag) = cursor
            .0
            .rsplit_once('.')
            .ok_or_else(|| format!("`{cursor}` has no check tag"))?;
        if tag != self.tag(body) {
            return Err(format!(
                "the check tag of `{cursor}` does not match (a cursor of another server, user or \
                 entity, or an edited one)"
            ));
        }
        let numbers: Vec<u64> = body
            .split('-')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| format!("`{cursor}` is malformed"))?;
        match numbers[..] {
            [since] => Ok(Position {
                since,
                catch_up: None,
            }),
            [since, after, snapshot] => Ok(Position {
                since,
                catch_up: Some(CatchUp { after, snapshot }),
            }),
            _ => Err(format!("`{cursor}` is malformed")),
        }
    }

    fn tag(&self, body: &str) -> String {
        let mut hash = Sha256::new();
        for part in [self.secret, self.user.as_bytes(), self.entity.as_bytes()] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        hash.update(body.as_bytes());
        hash.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec<'a>(user: &'a str, entity: &'a str) -> CursorCodec<'a> {
        CursorCodec {
            secret: b"0123456789abcdef",
            user,
            entity,
        }
    }

    #[test]
    fn both_cursor_forms_decode_to_what_was_encoded() {
        let codec = codec("ana", "task");
        for position in [
            Position::START,
            Position {
                since: 41,
                catch_up: Some(CatchUp {
                    after: 500,
                    snapshot: 10_000,
                }),
            },
        ] {
            assert_eq!(codec.decode(&codec.encode(position)), Ok(position));
        }
    }

    #[test]
    fn a_cursor_of_another_user_entity_or_secret_is_refused() {
        let cursor = codec("ana", "task").encode(Position {
            since: 7,
            catch_up: None,
        });
        assert!(codec("bob", "task").decode(&cursor).is_err());
        assert!(codec("ana", "project").decode(&cursor).is_err());
        let other_server = CursorCodec {
            secret: b"another secret!!",
            user: "ana",
            entity: "task",
        };
        assert!(other_server.decode(&cursor).is_err());
    }

    #[test]
    fn an_edited_or_malformed_cursor_is_refused() {
        let codec = codec("ana", "task");
        let cursor = codec.encode(Position {
            since: 7,
            catch_up: None,
        });
        let edited = Cursor(cursor.0.replacen('7', "8", 1));
        assert!(
            codec
                .decode(&edited)
                .unwrap_err()
                .contains("does not match")
        );
        assert!(
            codec
                .decode(&Cursor("7".into()))
                .unwrap_err()
                .contains("no check tag")
        );
        let tag = codec.tag("x-y");
        assert!(
            codec
                .decode(&Cursor(format!("x-y.{tag}")))
                .unwrap_err()
                .contains("malformed")
        );
    }
}
