//! Watching the agent: episodes animated in the terminal, in real time.
//!
//! Each frame is the task's text picture ([`Task::picture`]: the pendulum chapter's rod, or the
//! cart and its pole) under a line with the episode, the step and the return so far. Frames
//! are redrawn in place: after the first, the cursor moves back up to the frame's first line
//! (`ESC [nF`) and each line is cleared (`ESC [2K`) and rewritten. A frame lasts one step of
//! simulated time ([`Task::STEP`]: 0.05 s for the pendulum, 0.02 s for CartPole), so the
//! animation runs in real time.
//!
//! **Signals.** The terminal is never put in raw mode or on the alternate screen; the only
//! change is a hidden cursor, so that it does not flicker across the frame. To show it again
//! however the animation is left, it catches SIGINT (Ctrl-C), SIGTERM, SIGQUIT (Ctrl-\\) and
//! SIGTSTP (Ctrl-Z) for as long as it runs ([`Catch`]) and looks at them between frames, at most
//! 50 ms later. An ending signal shows the cursor and stops the animation; Ctrl-Z shows the
//! cursor, stops the program as Ctrl-Z does, and once the program is continued (`fg`) hides
//! the cursor again and draws the next frame afresh below what the shell printed meanwhile.
//! Elsewhere than Unix the cursor is left visible and the signals keep their default meaning.

use super::Task;
use super::signals::{Catch, Signal};
use crate::nn::{Actor, Workspace};
use crate::normalize::RunningStats;
use crate::ppo::deterministic_distribution;
use crate::{Action, Env};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::io::Write;
use std::time::Instant;

/// Escape sequences that hide and show the cursor.
const HIDE_CURSOR: &str = "\x1b[?25l";
const SHOW_CURSOR: &str = "\x1b[?25h";

/// How an animation ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Finished,
    /// A signal ended it during this (1-based) episode.
    Interrupted {
        episode: usize,
        signal: Signal,
    },
}

/// Animates `episodes` episodes of the deterministic policy from the starting states that
/// [`crate::ppo::evaluate`] draws with `seed`, so that the episodes watched are the ones
/// evaluated.
pub fn animate<T: Task>(
    actor: &Actor,
    observation_stats: Option<&RunningStats>,
    episodes: usize,
    seed: u64,
) -> Outcome {
    let terminal = TerminalGuard::new();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = std::io::stdout().lock();
    let mut workspace = Workspace::new();
    let distribution = deterministic_distribution(actor, T::env().action_space());
    let [w1, w2] = actor.output_widths();
    let (mut first, mut second) = (vec![0.0f32; w1], vec![0.0f32; w2]);
    let width = distribution.sample_width();
    let (mut sample, mut action) = (vec![0.0f32; width], vec![0.0f32; width]);
    let mut seen = Vec::new();
    for episode in 1..=episodes {
        let mut env = T::env();
        let mut obs = env.reset(&mut rng);
        let (mut total, mut step, mut over) = (0.0f64, 0u32, false);
        let mut drawn_lines = 0;
        let started = Instant::now();
        loop {
            let header = format!(
                "episode {episode}/{episodes}  step {step:>3}/{}  return so far {total:8.1}",
                T::TIME_LIMIT
            );
            let frame = format!("{header}\n{}", T::picture(&env));
            drawn_lines = draw(&mut out, &frame, drawn_lines);
            let next = started + T::STEP * (step + 1);
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
            if let Some(signal) = terminal.signals.ending() {
                return Outcome::Interrupted { episode, signal };
            }
            if terminal.signals.stop_requested() {
                terminal.stop();
                drawn_lines = 0;
            }
            if over {
                break;
            }
            seen.clear();
            seen.extend_from_slice(obs.as_ref());
            if let Some(stats) = observation_stats {
                stats.normalize(&mut seen);
            }
            actor.forward(&seen, &mut workspace, &mut first, &mut second);
            distribution.mode(&[&first, &second], &mut sample);
            distribution.to_action(&sample, &mut action);
            let result = env.step(<T::Env as Env>::Action::from_row(&action));
            total += result.reward;
            obs = result.obs;
            step += 1;
            over = result.terminated || result.truncated;
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

/// Hides the cursor and catches the signals while it lives; restores both when dropped,
/// however the animation ends (a panic included).
struct TerminalGuard {
    signals: Catch,
}

impl TerminalGuard {
    fn new() -> TerminalGuard {
        let signals =
            Catch::new(&[Signal::Interrupt, Signal::Terminate, Signal::Quit, Signal::Stop]);
        show(HIDE_CURSOR);
        TerminalGuard { signals }
    }

    /// Ctrl-Z: the cursor shown while the program is stopped, hidden again once continued.
    fn stop(&self) {
        show(SHOW_CURSOR);
        self.signals.stop_now();
        show(HIDE_CURSOR);
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        show(SHOW_CURSOR);
    }
}

/// Sends an escape sequence to the terminal (on Unix, where the cursor is hidden at all).
fn show(sequence: &str) {
    if cfg!(unix) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(sequence.as_bytes()).and_then(|()| out.flush());
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
