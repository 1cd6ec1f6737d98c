//! Diagnostics: every problem found in a run, with the place it comes from.
//!
//! Stages never stop at the first mistake: they push into a [`Diagnostics`] collector and keep
//! going, so a user fixes a spec in one pass (the same idea as serde_derive's `Ctxt`).

use std::ops::Range;
use std::path::{Path, PathBuf};

#[cfg(feature = "generate")]
mod report;
#[cfg(feature = "generate")]
pub use report::Report;

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub usize);

/// One input file kept in memory so diagnostics can quote it.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as shown to the user (relative to where the tool was pointed).
    pub path: PathBuf,
    /// The whole text of the file.
    pub text: String,
}

/// Every input file read in a run.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// Adds a file and returns its id.
    pub fn add(&mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> FileId {
        self.files.push(SourceFile {
            path: path.into(),
            text: text.into(),
        });
        FileId(self.files.len() - 1)
    }

    /// The file behind an id.
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0]
    }

    /// Every file, in the order it was added.
    pub fn files(&self) -> impl Iterator<Item = &SourceFile> {
        self.files.iter()
    }
}

/// Where a piece of the schema came from.
#[derive(Clone, Debug, Default)]
pub enum Origin {
    /// A byte range in a file of the run's [`SourceMap`] (TOML spec or Rust source file).
    File {
        /// The file.
        file: FileId,
        /// Byte range of the key or value in it.
        range: Range<usize>,
    },
    /// A token of derive input; errors become `compile_error!` at this span.
    Macro(proc_macro2::Span),
    /// Built by the tool itself (sync columns, snapshots): no place to point at.
    #[default]
    Generated,
}

impl Origin {
    /// The origin of a byte range in a file.
    pub fn file(file: FileId, range: Range<usize>) -> Self {
        Origin::File { file, range }
    }
}

/// One problem, with where it is and how to fix it.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// What is wrong, one line, naming the entity and field.
    pub message: String,
    /// Where it is.
    pub origin: Origin,
    /// A short label under the caret.
    pub label: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
    /// Other places that matter (for example the first definition of a duplicate).
    pub notes: Vec<(String, Origin)>,
}

impl Diagnostic {
    /// A new error at `origin`.
    pub fn error(origin: Origin, message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            origin,
            label: None,
            help: None,
            notes: Vec::new(),
        }
    }

    /// Adds the label shown under the caret.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds the line that says how to fix the problem.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Points at a second place, such as the earlier definition of a duplicate name.
    pub fn note(mut self, message: impl Into<String>, origin: Origin) -> Self {
        self.notes.push((message.into(), origin));
        self
    }
}

/// Collects every diagnostic of a run (serde_derive's `Ctxt`, without the drop bomb: the
/// pipeline returns it inside [`crate::Error::Invalid`]).
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// Moves every problem of `other` into `self`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// True when nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Number of problems.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The problems, in the order they were found.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Sorts problems by file and position so output is stable whatever order checks ran in.
    pub fn sort(&mut self) {
        self.items.sort_by_key(|d| match &d.origin {
            Origin::File { file, range } => (0, file.0, range.start),
            Origin::Macro(_) | Origin::Generated => (1, 0, 0),
        });
    }
}

/// Paths print with `/` on every platform so reports and snapshots are identical everywhere.
pub fn display_path(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}
