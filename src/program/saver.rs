//! A run's files, written on a thread of their own.
//!
//! After every update a run rewrites `metrics.csv` and `policy.ckpt`, each with
//! [`write_atomic`], which waits until the disk holds the bytes before it renames them into
//! place. On the book's machine that wait is about half a millisecond a file, nearly a tenth
//! of a `default` run on two threads (chapter 14), spent with both cores idle. A [`Saver`] takes
//! the bytes and writes them on its own thread while training goes on.
//!
//! Files are written in the order they were handed over, each still with [`write_atomic`], so
//! what a reader sees is what it saw before: a file's previous version or its new one, and
//! `metrics.csv` never behind the checkpoint. While the thread writes one set, the next waits;
//! a newer version of a waiting file replaces it (it would be overwritten at once), so a disk
//! slower than training holds back one version of each file at most, and memory stays
//! bounded. [`Saver::finish`] returns once every file handed over is on the disk, and so does
//! dropping a `Saver`: no write is ever cut off by the run's end.

use super::terminal;
use crate::checkpoint::write_atomic;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};

/// A file to write: its path and its new contents.
pub type File = (PathBuf, Vec<u8>);

// ANCHOR: saver
/// Writes files on a thread of its own; see the [module](self).
pub struct Saver {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Signalled when files are handed over and when the saver closes.
    handed_over: Condvar,
}

#[derive(Default)]
struct State {
    /// Files handed over that the thread has not taken yet, in the order to write them.
    waiting: Vec<File>,
    /// No more files will come: the thread ends once `waiting` is written.
    closing: bool,
    /// Why the first write that failed did, as a one-line message. Nothing is written after it.
    failed: Option<String>,
}
// ANCHOR_END: saver

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Saver {
    /// A saver and its thread.
    ///
    /// # Errors
    /// If the operating system cannot start a thread.
    pub fn new() -> Result<Saver, String> {
        let shared = Arc::new(Shared::default());
        let theirs = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name("ppo-saver".into())
            .spawn(move || write_as_handed_over(&theirs))
            .map_err(|e| format!("cannot start a thread to write the run's files: {e}"))?;
        Ok(Saver { shared, thread: Some(thread) })
    }

    // ANCHOR: save
    /// Hands `files` over to be written after every file handed over before, and returns
    /// without waiting for the disk.
    ///
    /// # Errors
    /// The message of an earlier write that failed (`cannot write PATH: why`), if one did;
    /// `files` are then dropped, as is everything handed over after the failure.
    pub fn save(&self, files: impl IntoIterator<Item = File>) -> Result<(), String> {
        let mut state = self.shared.lock();
        if let Some(failed) = &state.failed {
            return Err(failed.clone());
        }
        add_newest(&mut state.waiting, files);
        drop(state);
        self.shared.handed_over.notify_one();
        Ok(())
    }
    // ANCHOR_END: save

    /// Waits until every file handed over is written, and ends the thread.
    ///
    /// # Errors
    /// The message of the first write that failed.
    pub fn finish(mut self) -> Result<(), String> {
        self.close()
    }

    fn close(&mut self) -> Result<(), String> {
        let Some(thread) = self.thread.take() else { return Ok(()) };
        self.shared.lock().closing = true;
        self.shared.handed_over.notify_one();
        if thread.join().is_err() {
            return Err("the thread writing the run's files failed".into());
        }
        self.shared.lock().failed.clone().map_or(Ok(()), Err)
    }
}

/// Adds `files` to the end of `waiting`, except that a file already waiting gets its new
/// contents where it stands.
fn add_newest(waiting: &mut Vec<File>, files: impl IntoIterator<Item = File>) {
    for (path, bytes) in files {
        match waiting.iter_mut().find(|(waiting, _)| *waiting == path) {
            Some(older) => older.1 = bytes,
            None => waiting.push((path, bytes)),
        }
    }
}

impl Drop for Saver {
    /// Finishes the writes, as [`Saver::finish`] does, when the run ends another way.
    fn drop(&mut self) {
        let _ = self.close();
    }
}

// ANCHOR: write_as_handed_over
/// The saver's thread: takes whatever is waiting, writes it outside the lock (so that files
/// can be handed over meanwhile), and sleeps when nothing is waiting, until told to close.
fn write_as_handed_over(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        if !state.waiting.is_empty() && state.failed.is_none() {
            let files = std::mem::take(&mut state.waiting);
            drop(state);
            let failed = files.iter().find_map(|(path, bytes)| {
                let error = write_atomic(path, bytes).err()?;
                Some(format!("cannot write {}: {error}", terminal::path(path)))
            });
            state = shared.lock();
            if failed.is_some() {
                state.failed = failed;
                state.waiting.clear();
            }
        } else if state.closing {
            return;
        } else {
            state = shared.handed_over.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }
}
// ANCHOR_END: write_as_handed_over

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::atomic::tests::temp_dir;
    use std::path::Path;

    fn file(path: &Path, text: &str) -> File {
        (path.to_path_buf(), text.as_bytes().to_vec())
    }

    #[test]
    fn every_file_handed_over_is_written_by_the_time_it_finishes() {
        let dir = temp_dir("saver-finish");
        let (a, b) = (dir.join("a.txt"), dir.join("b.txt"));
        let saver = Saver::new().unwrap();
        for round in 0..200 {
            let files = [file(&a, &format!("a{round}")), file(&b, &format!("b{round}"))];
            saver.save(files).unwrap();
        }
        saver.save([file(&dir.join("c.txt"), "c")]).unwrap();
        saver.finish().unwrap();
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        assert_eq!(
            (read("a.txt"), read("b.txt"), read("c.txt")),
            ("a199".into(), "b199".into(), "c".into())
        );
        // Only the three files: every temporary one was renamed into place.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dropping_a_saver_also_waits_for_its_writes() {
        let dir = temp_dir("saver-drop");
        let path = dir.join("metrics.csv");
        {
            let saver = Saver::new().unwrap();
            saver.save([file(&path, "first")]).unwrap();
            saver.save([file(&path, "second")]).unwrap();
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_newer_version_replaces_a_waiting_one_in_its_place() {
        let mut waiting = Vec::new();
        add_newest(&mut waiting, [file(Path::new("x"), "1"), file(Path::new("y"), "1")]);
        add_newest(&mut waiting, [file(Path::new("x"), "2"), file(Path::new("z"), "1")]);
        add_newest(&mut waiting, [file(Path::new("y"), "2")]);
        let shown: Vec<_> = waiting
            .iter()
            .map(|(path, bytes)| format!("{}={}", path.display(), String::from_utf8_lossy(bytes)))
            .collect();
        assert_eq!(shown, ["x=2", "y=2", "z=1"]);
    }

    #[test]
    fn a_failed_write_is_reported_from_then_on_and_nothing_is_written_after_it() {
        let dir = temp_dir("saver-failure");
        let missing = dir.join("gone").join("metrics.csv");
        let later = dir.join("later.txt");
        let saver = Saver::new().unwrap();
        saver.save([file(&missing, "rows")]).unwrap();
        // The failure reaches a later `save` once the thread has met it.
        let started = std::time::Instant::now();
        let message = loop {
            match saver.save([file(&later, "after the failure")]) {
                Ok(()) => {
                    let waited = started.elapsed();
                    assert!(waited.as_secs() < 10, "no failure reported after {waited:?}");
                    thread::yield_now();
                }
                Err(message) => break message,
            }
        };
        let expected = format!("cannot write {}: No such file or directory", missing.display());
        assert!(message.starts_with(&expected), "{message}");
        assert_eq!(saver.finish(), Err(message));
        assert!(!later.exists(), "a file handed over after a failure was written");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
