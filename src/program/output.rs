//! Standard output that a closed pipe or a full disk ends cleanly instead of in a panic.
//!
//! Rust's `println!` panics when a write fails. Two failures are ordinary, though. The reader
//! of a pipe may stop reading (`pendulum | head -1`): the write then fails with "broken pipe"
//! (Rust ignores the SIGPIPE signal that would otherwise end the program on the spot). And the
//! disk or device may be full (`> /dev/full`). Every write to standard output goes through
//! [`print`], which flushes (so that a failure surfaces at the write that caused it, not at an
//! exit where it could not be reported) and says which of the two happened.

use std::io::{self, Write};

/// Why standard output could not be written.
#[derive(Debug)]
pub enum OutputError {
    /// Nobody reads it any more: a pipe whose reader has gone.
    Closed,
    /// Any other failure, such as a full device.
    Failed(io::Error),
}

impl OutputError {
    fn from_io(e: io::Error) -> OutputError {
        if e.kind() == io::ErrorKind::BrokenPipe {
            OutputError::Closed
        } else {
            OutputError::Failed(e)
        }
    }

    /// The exit status that reports it: 141 for a closed pipe, which is what a shell shows for
    /// a program ended by SIGPIPE (128 + 13), as `yes | head -1` is; 1 for a failure.
    pub fn status(&self) -> u8 {
        match self {
            OutputError::Closed => 141,
            OutputError::Failed(_) => 1,
        }
    }

    /// The line to print on stderr: none for a closed pipe (the reader left on purpose).
    pub fn message(&self) -> Option<String> {
        match self {
            OutputError::Closed => None,
            OutputError::Failed(e) => Some(format!("cannot write to standard output: {e}")),
        }
    }
}

/// Writes `text` to `out` and flushes it.
///
/// # Errors
/// [`OutputError::Closed`] if the reader has gone, [`OutputError::Failed`] otherwise.
pub fn write_to(out: &mut impl Write, text: &str) -> Result<(), OutputError> {
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(OutputError::from_io)
}

/// Writes `text` to standard output and flushes it.
///
/// # Errors
/// As [`write_to`].
pub fn print(text: &str) -> Result<(), OutputError> {
    write_to(&mut io::stdout().lock(), text)
}

/// `text` and a newline, as [`print`].
///
/// # Errors
/// As [`write_to`].
pub fn println(text: &str) -> Result<(), OutputError> {
    print(&format!("{text}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails as a closed pipe or a full disk does.
    struct Failing(io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(self.0))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_quiet_and_a_full_disk_is_an_error() {
        let closed = write_to(&mut Failing(io::ErrorKind::BrokenPipe), "x").unwrap_err();
        assert_eq!((closed.status(), closed.message()), (141, None));
        let full = write_to(&mut Failing(io::ErrorKind::StorageFull), "x").unwrap_err();
        assert_eq!(full.status(), 1);
        assert!(full.message().unwrap().starts_with("cannot write to standard output: "));
        let mut fine = Vec::new();
        write_to(&mut fine, "line\n").unwrap();
        assert_eq!(fine, b"line\n");
    }
}
