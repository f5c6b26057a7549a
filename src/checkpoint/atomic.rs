//! Writing a file so that no reader ever sees half of it, and no one else's file is touched.

use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

// ANCHOR: write_atomic
/// Writes `bytes` to `path` so that a reader never sees a half-written file: the bytes go to
/// a temporary file in the same directory, are flushed to the disk, and the temporary file is
/// renamed over `path`. A rename within one file system replaces the old file in one step, so
/// `path` holds either the old contents or the new, even if the program is killed midway. (A
/// temporary file in another directory could be on another file system, where a rename is a
/// copy.)
///
/// The temporary file is created with `create_new` (`O_CREAT | O_EXCL`), which fails rather
/// than open anything that already exists, a symbolic link included, and its name ends in
/// random bits: another user cannot plant a link under the name in advance and have this
/// write through it. A program killed between creating and renaming it leaves the temporary
/// file behind; [`is_temporary_of`] recognizes such leftovers.
///
/// # Errors
/// Any I/O error; the temporary file is then removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (tmp, mut file) = create_temporary(path)?;
    let mut write = || -> io::Result<()> {
        file.write_all(bytes)?;
        // Without this the rename could reach the disk before the data does, and a crash
        // would leave an empty file under the final name.
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// A new, empty temporary file beside `path`: `.NAME.tmp-PID-RANDOM`.
fn create_temporary(path: &Path) -> io::Result<(PathBuf, File)> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file")
    })?;
    // 64 bits from a generator seeded by the operating system: a name nobody can guess, so
    // a clash means that someone planted a file; a few more tries settle a coincidence.
    for _ in 0..8 {
        let mut tmp = temporary_prefix(name);
        tmp.push(format!("{}-{:016x}", std::process::id(), rand::random::<u64>()));
        let tmp = path.with_file_name(tmp);
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(io::ErrorKind::AlreadyExists, "no free temporary file name"))
}
// ANCHOR_END: write_atomic

/// `.NAME.tmp-`: how every temporary file of `NAME` begins.
fn temporary_prefix(name: &OsStr) -> OsString {
    let mut prefix = OsString::from(".");
    prefix.push(name);
    prefix.push(".tmp-");
    prefix
}

/// Whether `candidate` is the name of a temporary file that [`write_atomic`] made (and a
/// killed program left) on its way to writing a file called `name`.
pub fn is_temporary_of(candidate: &OsStr, name: &OsStr) -> bool {
    candidate.as_encoded_bytes().starts_with(temporary_prefix(name).as_encoded_bytes())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A new, empty directory for one test, named after it and this process.
    pub(crate) fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ppo-atomic-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn temporary_names_are_new_and_unpredictable() {
        let dir = temp_dir("names");
        let path = dir.join("policy.ckpt");
        let (a, _) = create_temporary(&path).unwrap();
        let (b, _) = create_temporary(&path).unwrap();
        assert_ne!(a, b);
        for tmp in [&a, &b] {
            let name = tmp.file_name().unwrap();
            assert!(is_temporary_of(name, OsStr::new("policy.ckpt")), "{name:?}");
            assert!(!is_temporary_of(name, OsStr::new("policy")), "{name:?}");
            let random = name.to_str().unwrap().rsplit('-').next().unwrap();
            assert_eq!(random.len(), 16, "{name:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_is_never_written_through() {
        let dir = temp_dir("links");
        let victim = dir.join("victim.txt");
        std::fs::write(&victim, "precious").unwrap();
        // A link under the name an earlier version chose (the process id alone), and the
        // final name itself a link: the rename replaces the link, not what it points to.
        let target = dir.join("config.txt");
        let planted = dir.join(format!(".config.txt.tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        write_atomic(&target, b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert!(!std::fs::symlink_metadata(&target).unwrap().file_type().is_symlink());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
