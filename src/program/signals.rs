//! Catching the signals that end or stop a program, so that it can finish the file it is
//! writing, or restore the terminal, before it goes.
//!
//! By default SIGINT (Ctrl-C), SIGTERM (`kill`) and SIGQUIT (Ctrl-\) end a program wherever
//! it is, and SIGTSTP (Ctrl-Z) stops it; nothing it meant to do afterwards happens. While a
//! [`Catch`] lives, the signals it was given only set a flag instead, through a handler
//! installed with the C library's `signal` function (which every Unix program links already,
//! so no crate is needed). Setting an atomic flag is the one kind of thing a signal handler
//! may safely do; the program looks at the flags where it can act on them, between two
//! updates or two frames. A second SIGINT, SIGTERM or SIGQUIT of the same kind before the
//! program has acted ends it at once, as if no handler were there: someone who presses
//! Ctrl-C twice means it. Elsewhere than Unix nothing is caught.

use std::sync::atomic::{AtomicU64, Ordering};

/// A signal that can be caught.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM: `kill`, a service manager, a batch system at its time limit.
    Terminate,
    /// SIGQUIT: Ctrl-\.
    Quit,
    /// SIGTSTP: Ctrl-Z, a request to stop until continued.
    Stop,
}

/// Each bit, `1 << signal number`, says that the signal arrived and was not yet handled.
static PENDING: AtomicU64 = AtomicU64::new(0);

impl Signal {
    const ALL: [Signal; 4] = [Signal::Interrupt, Signal::Terminate, Signal::Quit, Signal::Stop];

    /// Its number on this system.
    fn number(self) -> i32 {
        match self {
            Signal::Interrupt => 2,
            Signal::Quit => 3,
            Signal::Terminate => 15,
            Signal::Stop => sys::SIGTSTP,
        }
    }

    /// Its name, as `kill -l` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::Quit => "SIGQUIT",
            Signal::Stop => "SIGTSTP",
        }
    }

    /// The exit status that reports a program ended by it: 128 plus its number, as a shell
    /// shows one that the signal killed (130 for SIGINT, 143 for SIGTERM, 131 for SIGQUIT).
    pub fn exit_status(self) -> u8 {
        128 + self.number() as u8
    }

    fn bit(self) -> u64 {
        1 << self.number()
    }
}

/// The caught signals' handlers, put back when this is dropped.
pub struct Catch {
    previous: Vec<(Signal, sys::Handler)>,
}

impl Catch {
    /// Catches `signals` until the returned value is dropped. Flags from an earlier catch
    /// are cleared.
    pub fn new(signals: &[Signal]) -> Catch {
        PENDING.store(0, Ordering::SeqCst);
        let previous = signals.iter().map(|&s| (s, sys::catch(s.number()))).collect();
        Catch { previous }
    }

    /// The first ending signal (SIGINT, SIGTERM, SIGQUIT) that arrived, if any did.
    pub fn ending(&self) -> Option<Signal> {
        let pending = PENDING.load(Ordering::SeqCst);
        Signal::ALL.into_iter().filter(|&s| s != Signal::Stop).find(|s| pending & s.bit() != 0)
    }

    /// Whether Ctrl-Z was pressed since the last call (which answered it).
    pub fn stop_requested(&self) -> bool {
        PENDING.fetch_and(!Signal::Stop.bit(), Ordering::SeqCst) & Signal::Stop.bit() != 0
    }

    /// Stops the program as Ctrl-Z would have, until it is continued (`fg`), then catches
    /// Ctrl-Z again.
    pub fn stop_now(&self) {
        sys::stop();
    }
}

impl Drop for Catch {
    fn drop(&mut self) {
        for &(signal, handler) in self.previous.iter().rev() {
            sys::restore(signal.number(), handler);
        }
    }
}

// ANCHOR: sys
#[cfg(unix)]
mod sys {
    use super::PENDING;
    use std::ffi::c_int;
    use std::sync::atomic::Ordering;

    /// Ctrl-Z's signal: 20 on Linux, 18 on the BSDs and macOS.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const SIGTSTP: i32 = 20;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub const SIGTSTP: i32 = 18;
    /// A `sighandler_t`: a function pointer, or `SIG_DFL` (0) / `SIG_IGN` (1).
    pub type Handler = usize;
    const SIG_DFL: Handler = 0;

    unsafe extern "C" {
        /// `sighandler_t signal(int signum, sighandler_t handler)` from the C library.
        fn signal(signum: c_int, handler: Handler) -> Handler;
        /// `int raise(int sig)`: sends `sig` to the calling thread.
        fn raise(sig: c_int) -> c_int;
    }

    extern "C" fn on_signal(signum: c_int) {
        let bit = 1u64 << signum;
        let before = PENDING.fetch_or(bit, Ordering::SeqCst);
        if before & bit != 0 && signum != SIGTSTP {
            // The second of its kind: do what the signal does by default, now. `signal`
            // and `raise` are async-signal-safe.
            // SAFETY: SIG_DFL is a valid handler; the signal is re-sent to this thread.
            unsafe {
                signal(signum, SIG_DFL);
                raise(signum);
            }
        }
    }

    fn handler() -> Handler {
        on_signal as extern "C" fn(c_int) as Handler
    }

    /// Routes `signum` to the flags; returns the handler it replaces.
    pub fn catch(signum: i32) -> Handler {
        // SAFETY: `on_signal` has the C signature a handler needs and only touches an atomic
        // (or, the second time, calls async-signal-safe functions).
        unsafe { signal(signum, handler()) }
    }

    pub fn restore(signum: i32, previous: Handler) {
        // SAFETY: `previous` is what `signal` returned, a valid handler (or SIG_DFL/SIG_IGN).
        unsafe { signal(signum, previous) };
    }

    /// Stops with SIGTSTP's default action; once continued, catches it again.
    pub fn stop() {
        // SAFETY: as in `catch` and `restore`; `raise` returns once the process continues.
        unsafe {
            signal(SIGTSTP, SIG_DFL);
            raise(SIGTSTP);
            signal(SIGTSTP, handler());
        }
    }
}
// ANCHOR_END: sys

#[cfg(not(unix))]
mod sys {
    pub const SIGTSTP: i32 = 18;
    pub type Handler = ();
    pub fn catch(_: i32) {}
    pub fn restore(_: i32, _: ()) {}
    pub fn stop() {}
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    unsafe extern "C" {
        fn raise(sig: std::ffi::c_int) -> std::ffi::c_int;
    }

    #[test]
    fn caught_signals_set_flags_and_their_handlers_come_back() {
        // One test for every signal: the flags are one static, shared by the whole process.
        let catch = Catch::new(&[Signal::Terminate, Signal::Stop]);
        assert_eq!(catch.ending(), None);
        // SAFETY: both signals are caught, so raising them only sets flags.
        unsafe { raise(Signal::Stop.number()) };
        assert!(catch.stop_requested());
        assert!(!catch.stop_requested(), "a stop request is answered once");
        unsafe { raise(Signal::Terminate.number()) };
        assert_eq!(catch.ending(), Some(Signal::Terminate));
        assert_eq!(catch.ending(), Some(Signal::Terminate), "an ending signal stays pending");
        drop(catch);
        // Restored: the handler now in place is the default one, which `catch` returns.
        let previous = sys::catch(Signal::Terminate.number());
        sys::restore(Signal::Terminate.number(), previous);
        assert_eq!(previous, 0);
        assert_eq!(
            [Signal::Interrupt, Signal::Terminate, Signal::Quit].map(Signal::exit_status),
            [130, 143, 131]
        );
    }
}
