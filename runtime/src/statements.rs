//! Splitting SQL text into whole statements, the way SQLite itself decides where one ends.
//!
//! Migration files are not line-oriented: a text default may hold a newline, a `;` or a line
//! that reads `COMMIT;`. [`split`] walks the text with the token classes and state machine of
//! SQLite's `sqlite3_complete()` (strings, quoted identifiers, comments and `CREATE TRIGGER ...
//! END;` bodies included), so a statement ends only where SQLite would end it. (The C function
//! itself is not called: the workspace forbids `unsafe`, and the FFI call needs it.)

/// One statement of a SQL text: from its first token to its terminating `;` (included), without
/// the comments and whitespace before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Statement<'a> {
    /// The statement's text.
    pub text: &'a str,
}

/// The token classes of `sqlite3_complete()`.
#[derive(Clone, Copy)]
enum Token {
    Semi,
    Space,
    Other,
    Explain,
    Create,
    Temp,
    Trigger,
    End,
}

/// `sqlite3_complete()`'s transitions: `TRANSITIONS[state][token]`. States: 0 invalid,
/// 1 start (after a complete statement), 2 normal, 3 explain, 4 create, 5 inside a trigger,
/// 6 `;` inside a trigger, 7 `END` inside a trigger.
const TRANSITIONS: [[u8; 8]; 8] = [
    [1, 0, 2, 3, 4, 2, 2, 2],
    [1, 1, 2, 3, 4, 2, 2, 2],
    [1, 2, 2, 2, 2, 2, 2, 2],
    [1, 3, 3, 2, 4, 2, 2, 2],
    [1, 4, 2, 2, 2, 4, 5, 2],
    [6, 5, 5, 5, 5, 5, 5, 5],
    [6, 6, 5, 5, 5, 5, 5, 7],
    [1, 7, 5, 5, 5, 5, 5, 5],
];

fn is_id_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn keyword(word: &[u8]) -> Token {
    let is = |k: &str| word.eq_ignore_ascii_case(k.as_bytes());
    if is("create") {
        Token::Create
    } else if is("trigger") {
        Token::Trigger
    } else if is("temp") || is("temporary") {
        Token::Temp
    } else if is("end") {
        Token::End
    } else if is("explain") {
        Token::Explain
    } else {
        Token::Other
    }
}

/// The next token at `bytes[at..]` and where it ends. An unterminated string or comment runs
/// to the end of the text.
fn next_token(bytes: &[u8], at: usize) -> (Token, usize) {
    let rest = &bytes[at..];
    let until = |pattern: &[u8], from: usize| {
        rest[from..]
            .windows(pattern.len())
            .position(|w| w == pattern)
            .map_or(bytes.len(), |p| at + from + p + pattern.len())
    };
    match rest[0] {
        b';' => (Token::Semi, at + 1),
        b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => (Token::Space, at + 1),
        b'/' if rest.get(1) == Some(&b'*') => (Token::Space, until(b"*/", 2)),
        b'-' if rest.get(1) == Some(&b'-') => (Token::Space, until(b"\n", 2)),
        b'[' => (Token::Other, until(b"]", 1)),
        quote @ (b'\'' | b'"' | b'`') => {
            // A doubled quote inside is two adjacent quoted tokens to this scanner, which
            // classifies them the same way.
            (Token::Other, until(&[quote], 1))
        }
        b if is_id_char(b) => {
            let len = rest.iter().take_while(|&&b| is_id_char(b)).count();
            (keyword(&rest[..len]), at + len)
        }
        _ => (Token::Other, at + 1),
    }
}

/// Splits `sql` into its statements, in order. Text after the last `;` that holds more than
/// comments and whitespace is returned as a last statement (SQLite runs it too).
pub(crate) fn split(sql: &str) -> Vec<Statement<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut state = 0u8;
    let mut start: Option<usize> = None;
    let mut at = 0;
    while at < bytes.len() {
        let (token, end) = next_token(bytes, at);
        if !matches!(token, Token::Space) && start.is_none() {
            start = Some(at);
        }
        state = TRANSITIONS[usize::from(state)][token as usize];
        if matches!(token, Token::Semi)
            && state == 1
            && let Some(from) = start.take()
        {
            out.push(Statement {
                text: &sql[from..end],
            });
        }
        at = end;
    }
    if let Some(from) = start {
        out.push(Statement {
            text: sql[from..].trim_end(),
        });
    }
    out
}

impl Statement<'_> {
    /// The statement's words, upper-cased and single-spaced, without the final `;`.
    fn normalized(&self) -> String {
        self.text
            .trim_end_matches(';')
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_uppercase()
    }

    /// Whether this is the `BEGIN;` or `COMMIT;` framing of a migration file, which the runner
    /// replaces with its own transaction.
    pub fn is_transaction_framing(&self) -> bool {
        matches!(
            self.normalized().as_str(),
            "BEGIN"
                | "BEGIN TRANSACTION"
                | "BEGIN DEFERRED"
                | "BEGIN DEFERRED TRANSACTION"
                | "BEGIN IMMEDIATE"
                | "BEGIN IMMEDIATE TRANSACTION"
                | "BEGIN EXCLUSIVE"
                | "BEGIN EXCLUSIVE TRANSACTION"
                | "COMMIT"
                | "COMMIT TRANSACTION"
                | "END"
                | "END TRANSACTION"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn statements_end_at_semicolons_outside_strings_and_comments() {
        let sql = "-- a comment; not a statement\nBEGIN;\nINSERT INTO t VALUES ('a;\nCOMMIT;\nb', \"x;y\", [z;], `w;`);\n/* c; */ SELECT 1;\nCOMMIT;\n-- trailing\n";
        assert_eq!(
            texts(sql),
            [
                "BEGIN;",
                "INSERT INTO t VALUES ('a;\nCOMMIT;\nb', \"x;y\", [z;], `w;`);",
                "SELECT 1;",
                "COMMIT;"
            ]
        );
    }

    #[test]
    fn a_trigger_body_stays_one_statement() {
        let sql = "CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; DELETE FROM u; END;\nSELECT 2;";
        assert_eq!(
            texts(sql),
            [
                "CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; DELETE FROM u; END;",
                "SELECT 2;"
            ]
        );
    }

    #[test]
    fn doubled_quotes_and_a_missing_last_semicolon() {
        assert_eq!(
            texts("SELECT 'it''s; fine';\nSELECT \"a\"\"b;\"  \n SELECT 3  \n"),
            ["SELECT 'it''s; fine';", "SELECT \"a\"\"b;\"  \n SELECT 3"]
        );
    }

    #[test]
    fn only_whole_framing_statements_are_framing() {
        let framing = |sql: &str| split(sql)[0].is_transaction_framing();
        assert!(framing("BEGIN;"));
        assert!(framing("commit ;"));
        assert!(framing("BEGIN IMMEDIATE TRANSACTION;"));
        assert!(!framing("SELECT 'COMMIT;';"));
        assert!(!framing("BEGIN_x;"));
    }
}
