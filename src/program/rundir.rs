//! A run's directory: owned by one run at a time, and holding only that run's files.
//!
//! **Ownership.** A run locks its directory for as long as it lives: it opens the directory
//! itself and takes an exclusive `flock`-style lock on it (`File::try_lock`). A second run
//! given the same directory finds it locked and is refused. The operating system releases the
//! lock when the process ends, however it ends (SIGKILL and a power cut included), so there
//! is no lock file to go stale and nothing to clean up by hand.
//!
//! **One run's files.** Holding the lock, a run takes the directory over: it removes every
//! file that an earlier run left, its named files and the temporary files of writes that
//! were cut off, before it writes anything. A directory that holds anything else (a file a
//! person put there, another program's output) is refused instead, so that no file in a run
//! directory ever comes from elsewhere and nothing of anyone else's is deleted.

use super::terminal;
use crate::checkpoint::is_temporary_of;
use std::ffi::OsStr;
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

/// A directory that this run owns until the value is dropped.
pub struct RunDir {
    path: PathBuf,
    /// The open directory, whose lock is the ownership.
    _lock: File,
}

impl RunDir {
    // ANCHOR: take
    /// Creates `path` if needed, locks it, and removes every one of `files` (and their
    /// temporary files) that an earlier run left.
    ///
    /// # Errors
    /// A one-line message: the directory cannot be created or locked, another run holds it,
    /// it holds files that are not a run's, or a leftover file cannot be removed.
    pub fn take(path: &Path, files: &[&str]) -> Result<RunDir, String> {
        RunDir::take_keeping(path, files, |_| false)
    }

    /// As [`RunDir::take`], where `keep` names the other entries that belong to the owner
    /// and stay as they are: a sweep's directory keeps its runs' directories.
    ///
    /// # Errors
    /// As [`RunDir::take`].
    pub fn take_keeping(
        path: &Path,
        files: &[&str],
        keep: fn(&OsStr) -> bool,
    ) -> Result<RunDir, String> {
        let shown = terminal::path(path);
        std::fs::create_dir_all(path)
            .map_err(|e| format!("cannot create output directory {shown}: {e}"))?;
        let lock =
            File::open(path).map_err(|e| format!("cannot open output directory {shown}: {e}"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(format!(
                    "output directory {shown} is in use by another run; give this one another --out"
                ));
            }
            Err(TryLockError::Error(e)) => {
                return Err(format!("cannot lock output directory {shown}: {e}"));
            }
        }
        let entries = std::fs::read_dir(path)
            .and_then(|entries| entries.map(|e| e.map(|e| e.file_name())).collect())
            .map_err(|e| format!("cannot list output directory {shown}: {e}"));
        let entries: Vec<std::ffi::OsString> = entries?;
        let (ours, others): (Vec<_>, Vec<_>) =
            entries.iter().partition(|name| is_run_file(name, files));
        let foreign: Vec<_> = others.into_iter().filter(|name| !keep(name)).collect();
        if !foreign.is_empty() {
            let mut names: Vec<String> = foreign.iter().map(|n| terminal::os(n)).collect();
            names.sort();
            return Err(format!(
                "output directory {shown} holds files that are not a run's ({}); give an empty or new directory, or one a run wrote",
                names.join(", ")
            ));
        }
        for name in ours {
            let file = path.join(name);
            std::fs::remove_file(&file).map_err(|e| {
                format!("cannot remove the earlier run's {}: {e}", terminal::path(&file))
            })?;
        }
        Ok(RunDir { path: path.to_path_buf(), _lock: lock })
    }
    // ANCHOR_END: take

    /// The path of the run's file `name`.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether `name` is one of `files` or a temporary file of one.
fn is_run_file(name: &OsStr, files: &[&str]) -> bool {
    files.iter().any(|&f| name == f || is_temporary_of(name, OsStr::new(f)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILES: [&str; 2] = ["config.txt", "policy.ckpt"];

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("pendulum-rundir-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_directory_has_one_owner_at_a_time() {
        let dir = temp_dir("owner");
        let first = RunDir::take(&dir, &FILES).unwrap();
        let refused = RunDir::take(&dir, &FILES).err().unwrap();
        assert!(
            refused.ends_with("is in use by another run; give this one another --out"),
            "{refused}"
        );
        drop(first);
        let second = RunDir::take(&dir, &FILES).unwrap();
        assert_eq!(second.file("config.txt"), dir.join("config.txt"));
        drop(second);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_sweep_keeps_what_it_names_and_refuses_the_rest() {
        let dir = temp_dir("keeping");
        std::fs::create_dir_all(dir.join("seed-1")).unwrap();
        std::fs::write(dir.join("config.txt"), "old").unwrap();
        let keep = |name: &OsStr| name == "seed-1";
        let sweep = RunDir::take_keeping(&dir, &FILES, keep).unwrap();
        assert_eq!(entries(&dir), ["seed-1"]);
        drop(sweep);
        let refused = RunDir::take(&dir, &FILES).err().unwrap();
        assert!(refused.contains("holds files that are not a run's (seed-1)"), "{refused}");
        std::fs::write(dir.join("notes.txt"), "mine").unwrap();
        let refused = RunDir::take_keeping(&dir, &FILES, keep).err().unwrap();
        assert!(refused.contains("holds files that are not a run's (notes.txt)"), "{refused}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn taking_over_removes_what_an_earlier_run_left_and_nothing_else() {
        let dir = temp_dir("takeover");
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["config.txt", "policy.ckpt", ".policy.ckpt.tmp-123-00ff00ff00ff00ff"] {
            std::fs::write(dir.join(name), "old").unwrap();
        }
        let run = RunDir::take(&dir, &FILES).unwrap();
        assert!(entries(&dir).is_empty(), "{:?}", entries(&dir));
        drop(run);
        for name in ["config.txt", "notes.txt", ".policy.ckpt.bak"] {
            std::fs::write(dir.join(name), "mine").unwrap();
        }
        let refused = RunDir::take(&dir, &FILES).err().unwrap();
        assert!(
            refused.contains("holds files that are not a run's (.policy.ckpt.bak, notes.txt)"),
            "{refused}"
        );
        assert_eq!(entries(&dir), [".policy.ckpt.bak", "config.txt", "notes.txt"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
