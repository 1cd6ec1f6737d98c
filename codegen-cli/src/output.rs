//! Writing generated files: all of them computed first, each written atomically, and only
//! when its content changed (so build systems and editors do not see needless changes).

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A generated file: where it goes and its full content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputFile {
    /// Destination path.
    pub path: PathBuf,
    /// Full content.
    pub contents: String,
}

/// What happened to one output file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The file did not exist.
    Created,
    /// The file existed with other content.
    Updated,
    /// The file already had this content and was not touched.
    Unchanged,
}

/// The outcome `file` would have, without writing.
pub fn outcome(file: &OutputFile) -> WriteOutcome {
    match fs::read(&file.path) {
        Ok(existing) if existing == file.contents.as_bytes() => WriteOutcome::Unchanged,
        Ok(_) => WriteOutcome::Updated,
        Err(_) => WriteOutcome::Created,
    }
}

/// Writes every file whose content differs, each through a temporary file and a rename so a
/// crash never leaves a half-written file.
pub fn write_all(files: &[OutputFile]) -> Result<Vec<(PathBuf, WriteOutcome)>> {
    let mut outcomes = Vec::with_capacity(files.len());
    for file in files {
        let result = outcome(file);
        if result != WriteOutcome::Unchanged {
            write_atomically(&file.path, file.contents.as_bytes())?;
        }
        outcomes.push((file.path.clone(), result));
    }
    Ok(outcomes)
}

/// Writes `contents` to `path` via a sibling temporary file and a rename.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(err)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".syncwright-tmp");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, contents).map_err(err)?;
    fs::rename(&tmp, path).map_err(|source| {
        let _ = fs::remove_file(&tmp);
        Error::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}
