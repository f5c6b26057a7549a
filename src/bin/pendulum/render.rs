//! Watching the agent: episodes animated in the terminal, in real time.
//!
//! Each frame is the pendulum chapter's text picture ([`Pendulum::render`]) under a line with
//! the episode, the step and the return so far. Frames are redrawn in place: after the first,
//! the cursor moves back up to the frame's first line (`ESC [nF`) and each line is cleared
//! (`ESC [2K`) and rewritten. The environment steps every 0.05 s, so 20 frames per second is
//! real time.
//!
//! **Ctrl-C.** The terminal is never put in raw mode or on the alternate screen; the only
//! change is a hidden cursor, so that it does not flicker across the frame. To show it again
//! even on Ctrl-C, the animation installs a handler for SIGINT through the C library's
//! `signal` function, which every Unix program links already (so no crate is needed). The
//! handler only sets a flag, the one thing a signal handler may safely do; the animation
//! checks the flag between frames, at most 50 ms later, restores the cursor and the previous
//! handler, and stops. Elsewhere than Unix the cursor is left visible and Ctrl-C keeps its
//! default meaning, so there is nothing to restore.

use ppo::nn::{Actor, Workspace};
use ppo::{Env, Pendulum};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::io::Write;
use std::time::{Duration, Instant};

/// Time per frame: the environment's time step.
const FRAME: Duration = Duration::from_millis(50);
/// Escape sequences that hide and show the cursor.
const HIDE_CURSOR: &str = "\x1b[?25l";
const SHOW_CURSOR: &str = "\x1b[?25h";

/// How an animation ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Finished,
    /// Ctrl-C during this (1-based) episode.
    Interrupted {
        episode: usize,
    },
}

/// Animates `episodes` episodes of the deterministic policy from the starting states that
/// [`ppo::ppo::evaluate`] draws with `seed`, so that the episodes watched are the ones
/// evaluated.
pub fn animate(actor: &Actor, episodes: usize, seed: u64) -> Outcome {
    let _terminal = TerminalGuard::new();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = std::io::stdout().lock();
    let mut workspace = Workspace::new();
    let (mut mean, mut std) = (vec![0.0f32; 1], vec![0.0f32; 1]);
    for episode in 1..=episodes {
        let mut env = Pendulum::new();
        let mut obs = Env::reset(&mut env, &mut rng);
        let (mut total, mut step) = (0.0f64, 0u32);
        let mut drawn_lines = 0;
        let started = Instant::now();
        loop {
            let header = format!(
                "episode {episode}/{episodes}  step {step:>3}/{}  return so far {total:8.1}",
                Pendulum::MAX_EPISODE_STEPS
            );
            let frame = format!("{header}\n{}", env.render());
            drawn_lines = draw(&mut out, &frame, drawn_lines);
            let next = started + FRAME * (step + 1);
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
            if sigint::interrupted() {
                return Outcome::Interrupted { episode };
            }
            if step == Pendulum::MAX_EPISODE_STEPS {
                break;
            }
            actor.forward(&obs, &mut workspace, &mut mean, &mut std);
            let result = env.step(&mean);
            total += result.reward;
            obs = result.obs;
            step += 1;
        }
    }
    Outcome::Finished
}

/// Writes `frame` over the `previous` lines drawn (0 for a fresh frame below the cursor);
/// returns the number of lines it drew. A failed write to the terminal is not worth
/// stopping for.
fn draw(out: &mut impl Write, frame: &str, previous: usize) -> usize {
    let mut text = String::new();
    if previous > 0 {
        text.push_str(&format!("\x1b[{previous}F"));
    }
    for line in frame.lines() {
        text.push_str("\x1b[2K");
        text.push_str(line);
        text.push('\n');
    }
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    frame.lines().count()
}

/// Hides the cursor and catches Ctrl-C while it lives; restores both when dropped, however
/// the animation ends (a panic included).
struct TerminalGuard {
    previous_handler: sigint::Handler,
}

impl TerminalGuard {
    fn new() -> TerminalGuard {
        let previous_handler = sigint::catch();
        if sigint::SUPPORTED {
            print!("{HIDE_CURSOR}");
        }
        TerminalGuard { previous_handler }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if sigint::SUPPORTED {
            print!("{SHOW_CURSOR}");
        }
        let _ = std::io::stdout().flush();
        sigint::restore(self.previous_handler);
    }
}

// ANCHOR: sigint
#[cfg(unix)]
mod sigint {
    use std::ffi::c_int;
    use std::sync::atomic::{AtomicBool, Ordering};

    pub const SUPPORTED: bool = true;
    /// The signal Ctrl-C sends; 2 on every Unix.
    const SIGINT: c_int = 2;
    /// A `sighandler_t`: a function pointer, or `SIG_DFL` (0) / `SIG_IGN` (1).
    pub type Handler = usize;

    static INTERRUPTED: AtomicBool = AtomicBool::new(false);

    unsafe extern "C" {
        /// `sighandler_t signal(int signum, sighandler_t handler)` from the C library.
        fn signal(signum: c_int, handler: Handler) -> Handler;
    }

    extern "C" fn on_sigint(_: c_int) {
        INTERRUPTED.store(true, Ordering::SeqCst);
    }

    /// Routes Ctrl-C to the flag; returns the handler it replaces.
    pub fn catch() -> Handler {
        INTERRUPTED.store(false, Ordering::SeqCst);
        let handler = on_sigint as extern "C" fn(c_int);
        // SAFETY: `on_sigint` has the C signature a handler needs and only stores to an
        // atomic, which is async-signal-safe.
        unsafe { signal(SIGINT, handler as Handler) }
    }

    pub fn restore(previous: Handler) {
        // SAFETY: `previous` is what `signal` returned, a valid handler (or SIG_DFL/SIG_IGN).
        unsafe { signal(SIGINT, previous) };
    }

    pub fn interrupted() -> bool {
        INTERRUPTED.load(Ordering::SeqCst)
    }
}
// ANCHOR_END: sigint

#[cfg(not(unix))]
mod sigint {
    pub const SUPPORTED: bool = false;
    pub type Handler = ();
    pub fn catch() {}
    pub fn restore(_: ()) {}
    pub fn interrupted() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_redrawn_over_the_previous_one() {
        let mut out = Vec::new();
        let lines = draw(&mut out, "a\nbb\n", 0);
        assert_eq!(lines, 2);
        let lines = draw(&mut out, "c\nd\n", lines);
        assert_eq!(lines, 2);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "\x1b[2Ka\n\x1b[2Kbb\n\x1b[2F\x1b[2Kc\n\x1b[2Kd\n");
    }
}
