//! What a training run prints while it trains.
//!
//! On a terminal, two lines rewritten in place after every update: a progress bar with the
//! steps, the speed and the time left, and under it the diagnostics of the last update. Each
//! is fitted to the terminal's width, asked again at every update, by leaving out its least
//! important fields ([`terminal::fit`]), so that no terminal wraps it (a wrapped line could not
//! be cleared in place). To redraw, `\r` returns to the start of the second line, `ESC [2K` clears it,
//! `ESC [1F` moves to the start of the line above, which is cleared too. When the output is a
//! file or a pipe, where those bytes would be garbage, a plain line per update instead. With
//! `--quiet`, nothing.

use super::output::{self, OutputError};
use super::terminal;
use crate::ppo::UpdateStats;
use std::io::IsTerminal;

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One line, rewritten in place.
    InPlace,
    /// One line per update.
    Lines,
    /// Nothing.
    Quiet,
}

pub struct Progress {
    mode: Mode,
    total_updates: usize,
    total_steps: usize,
    /// Whether the in-place lines are on the screen, to be ended before anything else prints.
    line_open: bool,
}

impl Progress {
    /// Progress for a run of `total_updates` updates of `steps_per_update` steps, shown as
    /// `quiet` and the kind of standard output say.
    pub fn new(quiet: bool, total_updates: usize, steps_per_update: usize) -> Progress {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stdout().is_terminal() {
            Mode::InPlace
        } else {
            Mode::Lines
        };
        Progress {
            mode,
            total_updates,
            total_steps: total_updates.saturating_mul(steps_per_update),
            line_open: false,
        }
    }

    /// Shows the state after an update.
    ///
    /// # Errors
    /// If standard output cannot be written.
    pub fn update(&mut self, stats: &UpdateStats) -> Result<(), OutputError> {
        match self.mode {
            Mode::Quiet => Ok(()),
            Mode::Lines => output::println(&line(stats, self.total_updates)),
            Mode::InPlace => {
                // One column spare: a line that fills the last one leaves some terminals
                // waiting to wrap, and the next `\r` would then go to the wrong line.
                let width = terminal::width().saturating_sub(1).max(1);
                let [bar, diagnostics] = status(stats, self.total_steps, width);
                let clear = if self.line_open { "\r\x1b[2K\x1b[1F\x1b[2K" } else { "" };
                self.line_open = true;
                output::print(&format!("{clear}{bar}\n{diagnostics}"))
            }
        }
    }

    /// Prints a line of its own (unless quiet), after ending the in-place line.
    ///
    /// # Errors
    /// If standard output cannot be written.
    pub fn say(&mut self, text: &str) -> Result<(), OutputError> {
        self.end_line()?;
        if self.mode == Mode::Quiet { Ok(()) } else { output::println(text) }
    }

    /// Ends the in-place line, so that what follows starts on a line of its own.
    ///
    /// # Errors
    /// If standard output cannot be written.
    pub fn end_line(&mut self) -> Result<(), OutputError> {
        if std::mem::take(&mut self.line_open) { output::println("") } else { Ok(()) }
    }
}

// ANCHOR: status
/// The in-place lines, fitted to `width` columns: a progress bar with steps, speed and time
/// left; then the diagnostics of the last update. Each field has a rank, and the ones of the
/// highest rank are left out first where the line would not fit.
pub fn status(stats: &UpdateStats, total_steps: usize, width: usize) -> [String; 2] {
    const BAR: usize = 20;
    let fraction = (stats.timesteps as f64 / total_steps.max(1) as f64).min(1.0);
    let filled = ((fraction * BAR as f64).round() as usize).min(BAR);
    let speed = steps_per_second(stats);
    let left = total_steps.saturating_sub(stats.timesteps) as f64 / speed.max(1e-9);
    let bar =
        format!("[{}{}] {:>3.0}%", "█".repeat(filled), "░".repeat(BAR - filled), 100.0 * fraction);
    let steps = format!("{}/{total_steps} steps", stats.timesteps);
    let speed = format!("{speed:.0} steps/s");
    let left = format!("{} left", duration(left));
    let bar = terminal::fit(&[(0, &bar), (2, &steps), (3, &speed), (1, &left)], width);
    let diagnostics = [
        format!("  return {}", episode_return(stats).trim_start()),
        format!("kl {:.4}", stats.approx_kl),
        format!("clip {:.3}", stats.clip_fraction),
        format!("entropy {:.2}", stats.entropy),
        format!("explained var {:.2}", stats.explained_variance),
    ];
    let ranked: Vec<(u8, &str)> = (0..).zip(diagnostics.iter().map(String::as_str)).collect();
    [bar, terminal::fit(&ranked, width)]
}
// ANCHOR_END: status

/// A plain line per update, for logs.
pub fn line(stats: &UpdateStats, total_updates: usize) -> String {
    format!(
        "update {:>w$}/{total_updates}  steps {:>7}  return {}  kl {:.4}  clip {:.3}  entropy {:.3}  explained var {:.2}  {:.0} steps/s",
        stats.update,
        stats.timesteps,
        episode_return(stats),
        stats.approx_kl,
        stats.clip_fraction,
        stats.entropy,
        stats.explained_variance,
        steps_per_second(stats),
        w = total_updates.to_string().len(),
    )
}

fn steps_per_second(stats: &UpdateStats) -> f64 {
    stats.timesteps as f64 / stats.elapsed.max(1e-9)
}

/// The mean return of the episodes that ended during the update; none may have.
fn episode_return(stats: &UpdateStats) -> String {
    stats.episode_return.map_or("    n/a".to_string(), |r| format!("{r:7.1}"))
}

/// `42s`, `3m05s`, `2h10m`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.round().max(0.0) as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> UpdateStats {
        UpdateStats {
            update: 10,
            timesteps: 20_480,
            episode_return: Some(-812.345),
            approx_kl: 0.01234,
            clip_fraction: 0.1126,
            entropy: 1.2341,
            explained_variance: 0.912,
            elapsed: 2.0,
            ..UpdateStats::default()
        }
    }

    #[test]
    fn status_shows_progress_speed_time_left_and_diagnostics() {
        // 20,480 of 102,400 steps in 2 s: 20 %, 4 of 20 cells, 10,240 steps/s, 81,920 steps
        // left: 8 s.
        let [bar, diagnostics] = status(&stats(), 102_400, 80);
        assert_eq!(bar, "[████░░░░░░░░░░░░░░░░]  20%  20480/102400 steps  10240 steps/s  8s left");
        assert_eq!(
            diagnostics,
            "  return -812.3  kl 0.0123  clip 0.113  entropy 1.23  explained var 0.91"
        );
        // The longest lines a run can show still fit in 80 columns.
        let worst = UpdateStats {
            timesteps: 99_999_999,
            episode_return: Some(-3254.9),
            approx_kl: 12.3456,
            clip_fraction: 1.0,
            entropy: -12.34,
            explained_variance: -99.99,
            elapsed: 99_999.0,
            ..stats()
        };
        for line in status(&worst, 100_000_000, 80) {
            assert!(line.chars().count() <= 80, "{line}");
        }
    }

    #[test]
    fn status_lines_fit_narrow_terminals() {
        // The time left outlasts the step counts and the speed; the return and the KL
        // outlast the other diagnostics.
        assert_eq!(
            status(&stats(), 102_400, 50),
            ["[████░░░░░░░░░░░░░░░░]  20%  8s left", "  return -812.3  kl 0.0123  clip 0.113",]
        );
        assert_eq!(
            status(&stats(), 102_400, 30),
            ["[████░░░░░░░░░░░░░░░░]  20%", "  return -812.3  kl 0.0123"]
        );
        for width in 1..100 {
            for line in status(&stats(), 102_400, width) {
                assert!(line.chars().count() <= width, "{width}: {line}");
            }
        }
        // A step count past the total (a budget rounded up to whole rollouts) is 100 %.
        let done = UpdateStats { timesteps: 200_000, ..stats() };
        assert!(status(&done, 102_400, 80)[0].contains("] 100%"));
    }

    #[test]
    fn plain_line_per_update() {
        let no_episode = UpdateStats { episode_return: None, ..stats() };
        assert_eq!(
            line(&no_episode, 50),
            "update 10/50  steps   20480  return     n/a  kl 0.0123  clip 0.113  entropy 1.234  explained var 0.91  10240 steps/s"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(duration(0.2), "0s");
        assert_eq!(duration(59.4), "59s");
        assert_eq!(duration(185.0), "3m05s");
        assert_eq!(duration(7800.0), "2h10m");
    }
}
