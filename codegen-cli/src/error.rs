//! The generator's error type.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::diagnostic::{Diagnostics, Report, SourceMap};

/// Result of every fallible generator operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can stop a generator run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input file could not be read.
    #[error("cannot read `{}`: {source}", crate::diagnostic::display_path(path))]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// An output file could not be written.
    #[error("cannot write `{}`: {source}", crate::diagnostic::display_path(path))]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// No `syncwright.toml` where one was expected.
    #[error(
        "no `syncwright.toml` in `{}`: run syncwright in the project directory or pass `--config PATH`",
        crate::diagnostic::display_path(dir)
    )]
    ConfigNotFound {
        /// The directory searched.
        dir: PathBuf,
    },
    /// `build.rs` generation was asked for without an output directory: `OUT_DIR` is unset
    /// (it is only set while cargo runs a build script) and none was given.
    #[error(
        "`OUT_DIR` is not set: call `syncwright_codegen::Config` from a build script, or give a directory with `Config::out_dir`"
    )]
    OutDirNotSet,
    /// Another syncwright command is writing the project (a `.syncwright-in-progress` file in the project folder).
    #[error(
        "another syncwright command is writing this project ({holder}): wait for it to finish and run this command again; if no syncwright command is running (one was killed), delete `{}`",
        crate::diagnostic::display_path(path)
    )]
    ProjectBusy {
        /// The file that marks the project as being written.
        path: PathBuf,
        /// What the file says about the command holding it.
        holder: String,
    },
    /// `syncwright import` could not read or adopt a schema; nothing was written.
    #[error("cannot import `{}`: {problem}", crate::diagnostic::display_path(path))]
    Import {
        /// The database, Room export or Drift dump read.
        path: PathBuf,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// The specs (or the history) have problems; nothing was written.
    /// `syncwright init` found a project already there.
    #[error(
        "`{}` already exists: this directory is a syncwright project; edit it instead of running `init` again",
        crate::diagnostic::display_path(path)
    )]
    AlreadyInitialized {
        /// The existing project file.
        path: PathBuf,
    },

    #[error("{0}")]
    Invalid(Box<InvalidSchema>),
}

/// Every problem found in the inputs, with the files needed to quote them.
#[derive(Debug)]
pub struct InvalidSchema {
    /// The files the diagnostics point into.
    pub sources: SourceMap,
    /// The problems, sorted by file and position.
    pub diagnostics: Diagnostics,
}

impl InvalidSchema {
    /// A report of every problem, coloured when `styled`.
    pub fn report(&self, styled: bool) -> String {
        Report::plain(&self.sources, &self.diagnostics)
            .styled(styled)
            .to_string()
    }
}

impl fmt::Display for InvalidSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.report(false))
    }
}

impl Error {
    /// Wraps collected diagnostics (sorted for stable output) as an error.
    pub fn invalid(sources: SourceMap, mut diagnostics: Diagnostics) -> Self {
        diagnostics.sort();
        Error::Invalid(Box::new(InvalidSchema {
            sources,
            diagnostics,
        }))
    }
}
