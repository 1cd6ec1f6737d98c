//! Migration data: the constant the generator embeds, the same loaded from `.sql` files, and
//! the checks that make a set trustworthy.

use std::path::Path;

use crate::entity::EntityDescriptor;
use crate::statements;
use crate::{Error, Result};

/// The migrations of an app, as embedded by the generated build.rs module.
///
/// ```
/// # use syncwright::{Migration, Migrations};
/// const MIGRATIONS: Migrations = Migrations {
///     version: 1,
///     schema: Migration { version: 1, name: "schema", sql: "PRAGMA user_version = 1;", checksum: "..." },
///     steps: &[Migration { version: 1, name: "init", sql: "PRAGMA user_version = 1;", checksum: "..." }],
///     entities: &[],
/// };
/// # assert_eq!(MIGRATIONS.version, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrations {
    /// The latest schema version.
    pub version: u32,
    /// `schema.sql`: creates the latest version on an empty database.
    pub schema: Migration,
    /// `NNNN_<name>.sql` files, in version order: step `N` takes version `N-1` to `N`.
    pub steps: &'static [Migration],
    /// Every entity of the latest version: opening the database with these migrations
    /// registers and drift-checks each one (see [`MigrationSource::entities`]).
    pub entities: &'static [&'static EntityDescriptor],
}

/// One migration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// The version the database is at after this migration.
    pub version: u32,
    /// The name (`init` for `0001_init.sql`, `schema` for `schema.sql`).
    pub name: &'static str,
    /// The whole file content.
    pub sql: &'static str,
    /// SHA-256 (lower-case hex) of `sql` with every `\r\n` replaced by `\n`.
    pub checksum: &'static str,
}

/// The owned counterpart of [`Migrations`], loaded at run time by [`Migrations::from_dir`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedMigrations {
    /// The latest schema version.
    pub version: u32,
    /// `schema.sql`.
    pub schema: OwnedMigration,
    /// The `NNNN_<name>.sql` files in version order.
    pub steps: Vec<OwnedMigration>,
}

/// The owned counterpart of [`Migration`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedMigration {
    /// The version the database is at after this migration.
    pub version: u32,
    /// The name.
    pub name: String,
    /// The whole file content.
    pub sql: String,
    /// SHA-256 (lower-case hex) of the line-ending-normalized content.
    pub checksum: String,
}

/// A borrowed view of one migration, whatever its origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationRef<'a> {
    /// The version the database is at after this migration.
    pub version: u32,
    /// The name.
    pub name: &'a str,
    /// The whole file content.
    pub sql: &'a str,
    /// The recorded checksum.
    pub checksum: &'a str,
}

/// A borrowed view of a migration set, whatever its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationSet<'a> {
    /// The latest schema version.
    pub version: u32,
    /// The fresh-install schema.
    pub schema: MigrationRef<'a>,
    /// The steps, in version order.
    pub steps: Vec<MigrationRef<'a>>,
    /// For an adopted project ([`crate::AdoptedMigrations`]): the import snapshot, so the
    /// runner recognises the app's database and adopts it with step 1.
    pub adoption: Option<crate::AdoptionRef<'a>>,
}

/// Anything that provides a migration set: [`Migrations`] and [`OwnedMigrations`].
pub trait MigrationSource {
    /// A borrowed view of the set.
    fn migration_set(&self) -> MigrationSet<'_>;

    /// The entities that come with the migrations (the generated `MIGRATIONS` has every entity
    /// of the app): the database registers them at open, together with any given to
    /// [`crate::OpenOptions::entities`]. Migrations loaded from a directory have none.
    fn entities(&self) -> &[&'static EntityDescriptor] {
        &[]
    }
}

impl Migration {
    fn as_ref(&self) -> MigrationRef<'static> {
        MigrationRef {
            version: self.version,
            name: self.name,
            sql: self.sql,
            checksum: self.checksum,
        }
    }
}

impl OwnedMigration {
    /// A migration whose checksum is computed from `sql`.
    pub fn new(version: u32, name: impl Into<String>, sql: impl Into<String>) -> Self {
        let sql = sql.into();
        OwnedMigration {
            version,
            name: name.into(),
            checksum: checksum(&sql),
            sql,
        }
    }

    fn as_ref(&self) -> MigrationRef<'_> {
        MigrationRef {
            version: self.version,
            name: &self.name,
            sql: &self.sql,
            checksum: &self.checksum,
        }
    }
}

impl MigrationSource for Migrations {
    fn migration_set(&self) -> MigrationSet<'_> {
        MigrationSet {
            version: self.version,
            schema: self.schema.as_ref(),
            steps: self.steps.iter().map(Migration::as_ref).collect(),
            adoption: None,
        }
    }

    fn entities(&self) -> &[&'static EntityDescriptor] {
        self.entities
    }
}

impl MigrationSource for OwnedMigrations {
    fn migration_set(&self) -> MigrationSet<'_> {
        MigrationSet {
            version: self.version,
            schema: self.schema.as_ref(),
            steps: self.steps.iter().map(OwnedMigration::as_ref).collect(),
            adoption: None,
        }
    }
}

impl<T: MigrationSource + ?Sized> MigrationSource for &T {
    fn migration_set(&self) -> MigrationSet<'_> {
        (**self).migration_set()
    }
}

/// The checksum of a migration file: SHA-256, lower-case hex, of the content with every
/// `\r\n` replaced by `\n` (so a checkout with Windows line endings has the same checksum).
/// The generator writes the same function's result into its lock file.
pub use syncwright_checksum::checksum;

impl Migrations {
    /// Loads `schema.sql` and every `NNNN_<name>.sql` file of `dir`, computing checksums.
    /// The latest version is the highest step number. The set is checked as by
    /// [`Migrations::check`].
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<OwnedMigrations> {
        let dir = dir.as_ref();
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        let mut steps = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
                continue;
            };
            let Some(stem) = file.strip_suffix(".sql") else {
                continue;
            };
            if stem == "schema" {
                continue;
            }
            let invalid = || Error::InvalidMigrations {
                reason: format!("`{file}` is neither `schema.sql` nor `NNNN_<name>.sql`"),
            };
            let (number, name) = stem.split_once('_').ok_or_else(invalid)?;
            let version: u32 = number.parse().map_err(|_| invalid())?;
            let sql = std::fs::read_to_string(&path).map_err(io(&path))?;
            steps.push(OwnedMigration::new(version, name, sql));
        }
        steps.sort_by_key(|m| m.version);
        let version = steps.last().map_or(0, |m| m.version);
        let schema_path = dir.join("schema.sql");
        let schema_sql = std::fs::read_to_string(&schema_path).map_err(io(&schema_path))?;
        let migrations = OwnedMigrations {
            version,
            schema: OwnedMigration::new(version, "schema", schema_sql),
            steps,
        };
        migrations.migration_set().check()?;
        Ok(migrations)
    }

    /// Checks the set on its own (no database): see [`MigrationSet::check`].
    pub fn check(&self) -> Result<()> {
        self.migration_set().check()
    }
}

impl MigrationSet<'_> {
    /// Checks that every checksum matches its SQL, that the steps are exactly versions
    /// `1..=version` in order, and that the schema is at `version`.
    pub fn check(&self) -> Result<()> {
        let invalid = |reason: String| Err(Error::InvalidMigrations { reason });
        for m in self.steps.iter().chain([&self.schema]) {
            let actual = checksum(m.sql);
            if actual != m.checksum {
                return invalid(format!(
                    "migration {} (`{}`) has checksum {} but its SQL hashes to {actual}",
                    m.version, m.name, m.checksum
                ));
            }
        }
        if self.schema.version != self.version {
            return invalid(format!(
                "the schema is at version {} but the latest version is {}",
                self.schema.version, self.version
            ));
        }
        for (index, step) in self.steps.iter().enumerate() {
            let expected = u32::try_from(index + 1).unwrap_or(u32::MAX);
            if step.version != expected {
                return invalid(format!(
                    "step {} (`{}`) found where step {expected} was expected; steps must be 1..={} without gaps",
                    step.version, step.name, self.version
                ));
            }
        }
        if self.steps.len() != usize::try_from(self.version).unwrap_or(usize::MAX) {
            return invalid(format!(
                "there are {} steps for latest version {}",
                self.steps.len(),
                self.version
            ));
        }
        Ok(())
    }
}

/// One executable statement of a migration file, with the `BEGIN;`/`COMMIT;` framing left out.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Chunk<'a> {
    /// `ALTER TABLE "<table>" ADD COLUMN "<column>" ...;`: skipped when the column exists.
    AddColumn {
        table: String,
        column: String,
        sql: &'a str,
    },
    /// `ALTER TABLE "<table>" DROP COLUMN "<column>";`: skipped when the column is gone.
    DropColumn {
        table: String,
        column: String,
        sql: &'a str,
    },
    /// Any other statement, run as it is.
    Statement(&'a str),
}

/// Splits a migration file into its statements (see `docs/contracts.md`): whole statements as
/// SQLite delimits them, so a string holding a newline, a `;` or `COMMIT;` stays in its
/// statement.
pub(crate) fn chunks(sql: &str) -> Vec<Chunk<'_>> {
    statements::split(sql)
        .into_iter()
        .filter(|s| !s.is_transaction_framing())
        .map(|s| {
            if let Some((table, column)) = parse_alter(s.text, " ADD COLUMN ") {
                Chunk::AddColumn {
                    table,
                    column,
                    sql: s.text,
                }
            } else if let Some((table, column)) = parse_alter(s.text, " DROP COLUMN ") {
                Chunk::DropColumn {
                    table,
                    column,
                    sql: s.text,
                }
            } else {
                Chunk::Statement(s.text)
            }
        })
        .collect()
}

/// Table and column of an `ALTER TABLE "<t>"<action>"<c>"` statement, where `action` is
/// `" ADD COLUMN "` (followed by the definition) or `" DROP COLUMN "` (followed by `;`).
fn parse_alter(statement: &str, action: &str) -> Option<(String, String)> {
    let rest = statement.strip_prefix("ALTER TABLE ")?;
    let (table, rest) = quoted(rest)?;
    let rest = rest.strip_prefix(action)?;
    let (column, rest) = quoted(rest)?;
    (rest.starts_with(char::is_whitespace) || rest.starts_with(';')).then_some((table, column))
}

/// Parses a `"quoted"` identifier at the start of `s`, returning it and the rest.
fn quoted(s: &str) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('"')?.char_indices().peekable();
    let mut ident = String::new();
    while let Some((i, c)) = chars.next() {
        if c == '"' {
            if chars.peek().is_some_and(|&(_, c)| c == '"') {
                chars.next();
                ident.push('"');
            } else {
                return Some((ident, &s[i + 2..]));
            }
        } else {
            ident.push(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_ignores_crlf() {
        assert_eq!(checksum("a;\r\nb;\r\n"), checksum("a;\nb;\n"));
        assert_ne!(checksum("a;\n"), checksum("b;\n"));
    }

    #[test]
    fn chunks_leave_out_the_framing_and_isolate_add_column() {
        let sql = "-- c\nBEGIN;\nALTER TABLE \"t\" ADD COLUMN \"a\"\"b\" INTEGER;\nUPDATE t SET x = 1;\nPRAGMA user_version = 2;\nCOMMIT;\n";
        assert_eq!(
            chunks(sql),
            [
                Chunk::AddColumn {
                    table: "t".into(),
                    column: "a\"b".into(),
                    sql: "ALTER TABLE \"t\" ADD COLUMN \"a\"\"b\" INTEGER;"
                },
                Chunk::Statement("UPDATE t SET x = 1;"),
                Chunk::Statement("PRAGMA user_version = 2;"),
            ]
        );
    }

    #[test]
    fn chunks_isolate_drop_column() {
        let sql = "BEGIN;\nDROP INDEX IF EXISTS \"idx_t_a\";\nALTER TABLE \"t\" DROP COLUMN \"a\";\nCOMMIT;\n";
        assert_eq!(
            chunks(sql),
            [
                Chunk::Statement("DROP INDEX IF EXISTS \"idx_t_a\";"),
                Chunk::DropColumn {
                    table: "t".into(),
                    column: "a".into(),
                    sql: "ALTER TABLE \"t\" DROP COLUMN \"a\";"
                }
            ]
        );
    }

    #[test]
    fn an_add_column_whose_default_spans_lines_is_one_chunk() {
        let sql = "BEGIN;\nALTER TABLE \"t\" ADD COLUMN \"n\" TEXT NOT NULL DEFAULT 'one\nCOMMIT;\nALTER TABLE \"t\" ADD COLUMN \"x\" INTEGER;\ntwo';\nCOMMIT;\n";
        assert_eq!(
            chunks(sql),
            [Chunk::AddColumn {
                table: "t".into(),
                column: "n".into(),
                sql: "ALTER TABLE \"t\" ADD COLUMN \"n\" TEXT NOT NULL DEFAULT 'one\nCOMMIT;\nALTER TABLE \"t\" ADD COLUMN \"x\" INTEGER;\ntwo';"
            }]
        );
    }
}
