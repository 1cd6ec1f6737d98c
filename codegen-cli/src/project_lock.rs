//! An exclusive hold on a project while a command writes into it.
//!
//! Two `syncwright migrate new` runs in one project would both read v5 as the latest release
//! and both write a `0006_*.sql`. The first command to create `.syncwright-in-progress` (next to
//! `syncwright.toml`, with `create_new`, so the file system decides the race) holds the project
//! until it finishes, and any other writing command is refused meanwhile.
//!
//! The file is removed when the command ends, whether it succeeded or failed. A command that was
//! killed (or a machine that lost power) leaves it behind: the next command is refused with the
//! holder's process id and start time, and the message says to delete the file once no
//! syncwright command is running. The file is not taken over automatically, because a process
//! id alone cannot prove the holder is gone (another machine on a network drive, a reused id).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// The file that marks a project as being written, in the folder of `syncwright.toml`.
pub const IN_PROGRESS_FILE: &str = ".syncwright-in-progress";

/// Held while a command writes into a project; dropping it releases the project.
#[derive(Debug)]
pub struct ProjectLock {
    path: PathBuf,
}

impl ProjectLock {
    /// Takes the project of `config_path` for `command` (`migrate new`, `generate`), or fails
    /// with [`Error::ProjectBusy`] when another command holds it.
    pub fn acquire(config_path: &Path, command: &str) -> Result<ProjectLock> {
        let root = config_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let path = root.join(IN_PROGRESS_FILE);
        let mut file = match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                let holder = fs::read_to_string(&path)
                    .map(|text| text.trim().to_string())
                    .unwrap_or_default();
                return Err(Error::ProjectBusy { path, holder });
            }
            // A project folder that cannot be written: the command fails when it writes, with
            // the file it could not write; a read-only project has nothing to protect.
            Err(_) => {
                return Ok(ProjectLock {
                    path: PathBuf::new(),
                });
            }
        };
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        // Only informs the message of a refused command; the file's existence is the lock.
        let _ = writeln!(
            file,
            "process {} running `syncwright {command}` since {since} (seconds since the Unix epoch)",
            std::process::id()
        );
        Ok(ProjectLock { path })
    }
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}
