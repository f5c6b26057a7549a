//! The terminal: how wide it is, how to fit a line to it, and how to show text that came from
//! outside (a config file's contents, a file name) without letting it control the terminal.
//!
//! A terminal obeys the bytes it is sent: `ESC ] 0 ; … BEL` retitles the window, `ESC [ 2 J`
//! clears the screen. A message that quotes a file verbatim would pass such bytes on, so every
//! message goes through [`escape`], which shows each control character as the Rust escape
//! that would write it (`\x1b`, `\n`, `\u{9b}`), and file names through [`os`], which shows
//! the bytes of a name that are not UTF-8 as `\xNN` (Unix allows any byte but `/` and NUL).

use std::ffi::OsStr;
use std::fmt::Write as _;

/// `text` with every control character (and every character that reorders text, such as a
/// right-to-left override) written as an escape, so that it shows as what it is.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() || is_reordering(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The Unicode characters that change the direction of the text around them.
fn is_reordering(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// An operating-system string (a path, an argument) as text: its UTF-8 parts escaped as
/// [`escape`] does, each byte that is not UTF-8 as `\xNN`.
pub fn os(text: &OsStr) -> String {
    let mut out = String::new();
    for chunk in text.as_encoded_bytes().utf8_chunks() {
        out.push_str(&escape(chunk.valid()));
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// A path as text, as [`os`] shows it.
pub fn path(path: &std::path::Path) -> String {
    os(path.as_os_str())
}

// ANCHOR: fit
/// The fields of a line joined by two spaces, leaving out the least important ones until the
/// line fits in `width` columns. `fields` are in the order they are shown, each with its rank:
/// those of rank 0 always stay (and are cut short if even they do not fit), those of the
/// highest rank go first.
pub fn fit(fields: &[(u8, &str)], width: usize) -> String {
    let mut rank = fields.iter().map(|&(r, _)| r).max().unwrap_or(0);
    loop {
        let kept: Vec<&str> = fields.iter().filter(|&&(r, _)| r <= rank).map(|&(_, f)| f).collect();
        let line = kept.join("  ");
        if line.chars().count() <= width || rank == 0 {
            return line.chars().take(width).collect();
        }
        rank -= 1;
    }
}
// ANCHOR_END: fit

/// The width of the terminal that standard output is, in columns: asked of the terminal
/// itself, else read from `COLUMNS`, else 80.
pub fn width() -> usize {
    size::columns()
        .or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok())
        .filter(|&w| w > 0)
        .unwrap_or(80)
}

#[cfg(unix)]
mod size {
    use std::ffi::{c_int, c_ulong, c_ushort};

    /// `struct winsize` of `<sys/ioctl.h>`, the same on every Unix.
    #[repr(C)]
    #[derive(Default)]
    struct WinSize {
        rows: c_ushort,
        columns: c_ushort,
        x_pixels: c_ushort,
        y_pixels: c_ushort,
    }

    /// The request that reads a terminal's size.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const TIOCGWINSZ: c_ulong = 0x5413;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const TIOCGWINSZ: c_ulong = 0x4008_7468;

    unsafe extern "C" {
        /// `int ioctl(int fd, unsigned long request, ...)` from the C library.
        fn ioctl(fd: c_int, request: c_ulong, ...) -> c_int;
    }

    /// The columns of the terminal on standard output (file descriptor 1), if it is one.
    pub fn columns() -> Option<usize> {
        let mut size = WinSize::default();
        // SAFETY: TIOCGWINSZ writes one `struct winsize` through the pointer, which points
        // to one; on a descriptor that is not a terminal it fails and writes nothing.
        let status = unsafe { ioctl(1, TIOCGWINSZ, &mut size as *mut WinSize) };
        (status == 0 && size.columns > 0).then_some(usize::from(size.columns))
    }
}

#[cfg(not(unix))]
mod size {
    pub fn columns() -> Option<usize> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(escape("seed\x1b]0;owned\x07 x"), "seed\\x1b]0;owned\\x07 x");
        assert_eq!(escape("a\nb\r\tc\x7f"), "a\\nb\\r\\tc\\x7f");
        assert_eq!(escape("\u{9b}2J \u{202e}txt"), "\\u{9b}2J \\u{202e}txt");
        assert_eq!(escape("γ = 0.99 ± 1 −200"), "γ = 0.99 ± 1 −200");
    }

    #[cfg(unix)]
    #[test]
    fn bytes_that_are_not_utf8_are_shown_as_bytes() {
        use std::os::unix::ffi::OsStrExt;
        assert_eq!(
            os(OsStr::from_bytes(b"/tmp/\xe9t\xc3\xa9\xff\x1b.ckpt")),
            "/tmp/\\xe9té\\xff\\x1b.ckpt"
        );
    }

    #[test]
    fn lines_drop_their_least_important_fields_to_fit() {
        let fields = [(0, "[bar] 20%"), (2, "123/456 steps"), (3, "99 steps/s"), (1, "8s left")];
        assert_eq!(fit(&fields, 80), "[bar] 20%  123/456 steps  99 steps/s  8s left");
        assert_eq!(fit(&fields, 40), "[bar] 20%  123/456 steps  8s left");
        assert_eq!(fit(&fields, 20), "[bar] 20%  8s left");
        assert_eq!(fit(&fields, 12), "[bar] 20%");
        assert_eq!(fit(&fields, 4), "[bar");
    }
}
