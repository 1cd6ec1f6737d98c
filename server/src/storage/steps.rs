//! The versioned steps that create and upgrade the server's own tables, on either backend.
//!
//! The server's tables are not the app's schema: their version is the number of the last step
//! applied, recorded one row per step in `server_schema_steps`. Each backend lists its steps as
//! `const` data (step `N` at index `N - 1`); a released step never changes, a new one is only
//! ever appended. A backend opens a database by reading the applied version, refusing a
//! database a newer server wrote, and applying the [`pending`] steps in one transaction.

use super::StorageError;

/// The table recording the applied steps (the same on both backends).
pub(crate) const STEPS_TABLE: &str = "server_schema_steps";

/// One step of the server's tables.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    /// The version the database is at once the step is applied (1, 2, 3, ...).
    pub version: u32,
    /// What the step adds (logged, and a comment for readers).
    pub purpose: &'static str,
    /// The statements, run as one batch.
    pub sql: &'static str,
}

/// The steps a database at version `applied` still needs, in order; a database newer than the
/// last step is refused, since this server does not know its tables.
pub(crate) fn pending(
    steps: &'static [Step],
    applied: u32,
) -> Result<&'static [Step], StorageError> {
    let latest = latest(steps);
    if applied > latest {
        return Err(StorageError::new(format!(
            "the database was written by a newer server (storage version {applied}, this server \
             knows versions up to {latest}); run that newer server, or use another database"
        )));
    }
    Ok(&steps[applied as usize..])
}

/// The version a database is at once every step is applied.
pub(crate) fn latest(steps: &[Step]) -> u32 {
    steps.last().map_or(0, |s| s.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS: &[Step] = &[
        Step {
            version: 1,
            purpose: "one",
            sql: "",
        },
        Step {
            version: 2,
            purpose: "two",
            sql: "",
        },
    ];

    #[test]
    fn a_fresh_database_needs_every_step_and_an_up_to_date_one_none() {
        assert_eq!(pending(STEPS, 0).unwrap().len(), 2);
        assert_eq!(pending(STEPS, 1).unwrap()[0].version, 2);
        assert!(pending(STEPS, 2).unwrap().is_empty());
    }

    #[test]
    fn a_database_of_a_newer_server_is_refused_naming_both_versions() {
        let error = pending(STEPS, 3).unwrap_err().to_string();
        assert!(
            error.contains("version 3") && error.contains("up to 2") && error.contains("newer"),
            "{error}"
        );
    }

    #[test]
    fn each_backends_steps_are_numbered_1_to_n() {
        for steps in [super::super::sqlite::STEPS, super::super::postgres::STEPS] {
            for (index, step) in steps.iter().enumerate() {
                assert_eq!(step.version as usize, index + 1, "{}", step.purpose);
            }
        }
    }
}
