//! Who owns an in-flight queue entry, and whether that owner is still alive.
//!
//! Every open [`crate::Database`] is an *instance* with a random id. [`crate::Queue::next_batch`]
//! stamps the entries it hands out with that id (`_sync_queue.claimed_by`), and only that
//! instance may complete or fail them. To claim, an instance first holds an exclusive OS lock
//! on a lock file beside the database, `<database file>.queue-owner.<id>`, for as long as it is
//! open. Whether an owner is alive is then a question the kernel answers: the lock is released
//! when the instance is dropped *and* when its process dies, even by `SIGKILL`. Recovery at
//! open ([`crate::Queue::recover_in_flight`]) takes back only the entries of owners whose lock
//! can be taken, so a second instance (in this process or another) never takes over a live
//! instance's batch.
//!
//! An in-memory database has no other instance to share its entries with, so it needs no lock
//! file. Entries without an owner (claimed by syncwright 0.1.0, which did not record one) count
//! as abandoned.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use uuid::Uuid;

use crate::{Error, Result};

/// This instance's identity and its liveness lock.
#[derive(Debug)]
pub(crate) struct Owner {
    id: String,
    /// The database file, when there is one.
    database: Option<PathBuf>,
    /// The lock file, held from the first claim until drop.
    held: Mutex<Option<File>>,
}

/// The prefix of the lock file names of `database`'s instances.
fn lock_prefix(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".queue-owner.");
    PathBuf::from(name)
}

fn lock_path(database: &Path, id: &str) -> PathBuf {
    let mut name = lock_prefix(database).into_os_string();
    name.push(id);
    PathBuf::from(name)
}

impl Owner {
    /// A new instance of the database at `database` (`None`: in memory).
    pub fn new(database: Option<&Path>) -> Owner {
        Owner {
            id: Uuid::new_v4().hyphenated().to_string(),
            database: database.map(Path::to_path_buf),
            held: Mutex::new(None),
        }
    }

    /// The id stamped on the entries this instance claims.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn lock(&self) -> MutexGuard<'_, Option<File>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes this instance's liveness lock if it does not hold it yet; call before claiming.
    pub fn hold(&self) -> Result<()> {
        let Some(database) = &self.database else {
            return Ok(());
        };
        let mut held = self.lock();
        if held.is_some() {
            return Ok(());
        }
        let path = lock_path(database, &self.id);
        let failed = |source: std::io::Error| Error::OwnerLock {
            path: path.clone(),
            source,
        };
        // Locked under a temporary name first, so that no other instance ever sees the final
        // name unlocked (and takes it for a dead owner's).
        let mut temporary = path.clone().into_os_string();
        temporary.push(".new");
        let temporary = PathBuf::from(temporary);
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temporary)
            .map_err(failed)?;
        file.try_lock().map_err(|e| match e {
            TryLockError::Error(e) => failed(e),
            TryLockError::WouldBlock => failed(std::io::ErrorKind::WouldBlock.into()),
        })?;
        std::fs::rename(&temporary, &path).map_err(failed)?;
        *held = Some(file);
        Ok(())
    }

    /// Whether the instance `owner` (a `claimed_by` value; `None` for entries claimed before
    /// owners were recorded) is gone, so its in-flight entries may be taken back. A lock file
    /// that cannot be inspected counts as alive: an entry is never taken from a live owner.
    pub fn is_gone(&self, owner: Option<&str>) -> bool {
        let Some(owner) = owner else {
            return true;
        };
        if owner == self.id {
            return false;
        }
        let Some(database) = &self.database else {
            // No other instance can share an in-memory database.
            return true;
        };
        let path = lock_path(database, owner);
        match File::open(&path) {
            Err(e) => e.kind() == std::io::ErrorKind::NotFound,
            Ok(file) => match file.try_lock() {
                Ok(()) => {
                    // The owner died without removing its file: clean it up.
                    let _ = std::fs::remove_file(&path);
                    true
                }
                Err(_) => false,
            },
        }
    }

    /// Removes the lock files of dead instances of this database (left by crashed processes).
    pub fn sweep(&self) {
        let Some(database) = &self.database else {
            return;
        };
        let prefix = lock_prefix(database);
        let (Some(dir), Some(prefix)) =
            (prefix.parent(), prefix.file_name().and_then(|p| p.to_str()))
        else {
            return;
        };
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
                continue;
            };
            if Uuid::parse_str(id).is_ok() {
                self.is_gone(Some(id));
            }
        }
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        let held = self.held.get_mut().unwrap_or_else(|e| e.into_inner());
        if let (Some(file), Some(database)) = (held.take(), &self.database) {
            // Removed while still locked, so nobody can lock the name in between.
            let _ = std::fs::remove_file(lock_path(database, &self.id));
            drop(file);
        }
    }
}
