//! Writing generated files: all of them computed first, each written atomically, and only
//! when its content changed (so build systems and editors do not see needless changes).

use std::fs;
use std::io;
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

/// Writes every file whose content differs, all or nothing: every file is first written to a
/// temporary file in its destination folder, and only when all of them were written are they
/// renamed into place. When anything fails, the temporaries are removed, files already renamed
/// get their previous content back, and folders this call created are removed again.
pub fn write_all(files: &[OutputFile]) -> Result<Vec<(PathBuf, WriteOutcome)>> {
    let mut staging = Staging::default();
    let mut outcomes = Vec::with_capacity(files.len());
    for file in files {
        let previous = read_previous(&file.path)?;
        let result = match &previous {
            Some(existing) if existing == file.contents.as_bytes() => WriteOutcome::Unchanged,
            Some(_) => WriteOutcome::Updated,
            None => WriteOutcome::Created,
        };
        if result != WriteOutcome::Unchanged {
            staging.stage(&file.path, file.contents.as_bytes(), previous)?;
        }
        outcomes.push((file.path.clone(), result));
    }
    staging.commit()?;
    Ok(outcomes)
}

/// The current content of a destination, `None` when there is none. A destination that is a
/// folder (or anything but a file) cannot be replaced by a file: that is an error, found before
/// anything is written.
fn read_previous(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::metadata(path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Ok(meta) if !meta.is_file() => {
            return Err(write_error(
                path,
                io::Error::other(
                    "it is a folder (or another non-file); a file is expected there: move it away",
                ),
            ));
        }
        _ => {}
    }
    fs::read(path)
        .map(Some)
        .map_err(|source| write_error(path, source))
}

fn write_error(path: &Path, source: io::Error) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// Files written to temporaries and waiting to be renamed into place; undone on drop unless
/// committed.
#[derive(Default)]
struct Staging {
    staged: Vec<Staged>,
    /// Folders created for the outputs, parents first.
    created_dirs: Vec<PathBuf>,
    /// How many of `staged` were renamed into place.
    renamed: usize,
    committed: bool,
}

struct Staged {
    path: PathBuf,
    tmp: PathBuf,
    /// The destination's content before, restored when a later rename fails.
    previous: Option<Vec<u8>>,
}

impl Staging {
    /// Writes `contents` to a temporary file next to `path`, creating the folder if needed.
    fn stage(&mut self, path: &Path, contents: &[u8], previous: Option<Vec<u8>>) -> Result<()> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        self.create_dir(dir)
            .map_err(|source| write_error(path, source))?;
        // A short name of its own, whatever the length of the destination's name, hidden, and
        // unique per process and file.
        let tmp = dir.join(format!(
            ".syncwright-{}-{}.tmp",
            std::process::id(),
            self.staged.len()
        ));
        let written = fs::write(&tmp, contents);
        self.staged.push(Staged {
            path: path.to_path_buf(),
            tmp,
            previous,
        });
        written.map_err(|source| write_error(path, source))
    }

    /// Creates `dir` and its missing parents, remembering which ones it created.
    fn create_dir(&mut self, dir: &Path) -> io::Result<()> {
        let missing: Vec<&Path> = dir
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
            .collect();
        for dir in missing.into_iter().rev() {
            fs::create_dir(dir)?;
            self.created_dirs.push(dir.to_path_buf());
        }
        Ok(())
    }

    /// Renames every temporary into place.
    fn commit(mut self) -> Result<()> {
        while let Some(staged) = self.staged.get(self.renamed) {
            fs::rename(&staged.tmp, &staged.path)
                .map_err(|source| write_error(&staged.path, source))?;
            self.renamed += 1;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        // Best effort: this runs because something already failed, and that error is reported.
        for staged in &self.staged[self.renamed..] {
            let _ = fs::remove_file(&staged.tmp);
        }
        for staged in self.staged[..self.renamed].iter().rev() {
            let _ = match &staged.previous {
                Some(previous) => fs::write(&staged.path, previous),
                None => fs::remove_file(&staged.path),
            };
        }
        for dir in self.created_dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
}
