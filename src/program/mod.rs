//! Chapter 13 (part): the programs. `pendulum` trains a PPO agent on Pendulum-v1, saves it,
//! evaluates it, and shows it; `cartpole` does the same on CartPole-v1. Both are this module,
//! run with a different [`Task`]: the environment, its presets and its picture are all that
//! differ.
//!
//! ```text
//! cargo run --release --bin pendulum -- [train] [OPTIONS]
//! cargo run --release --bin pendulum -- --seeds 1-10 [OPTIONS]
//! cargo run --release --bin pendulum -- eval --checkpoint PATH [--episodes N] [--render] [--seed N]
//! ```
//!
//! Options are read by hand from one table ([`options::OPTIONS`]), so the crate keeps its two
//! dependencies. Bad options exit with status 2 before anything is written; a failure during a
//! run (an unwritable directory, a bad checkpoint, a diverged training, a full disk) with
//! status 1; SIGINT, SIGTERM or SIGQUIT during training or `eval --render` with 128 plus the
//! signal's number, as a shell reports a process the signal ended (130, 143, 131), and a closed
//! standard output with 141 (SIGPIPE's), quietly.

pub mod eval;
pub mod options;
pub mod output;
pub mod progress;
pub mod render;
pub mod rundir;
pub mod saver;
pub mod signals;
pub mod sweep;
pub mod tasks;
pub mod terminal;
pub mod train;

use crate::env::Env;
use crate::ppo::{Config, Evaluation};
use options::Command;
use output::OutputError;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

// ANCHOR: task
/// What a program trains on, and how it shows it: everything in which `pendulum` and
/// `cartpole` differ.
pub trait Task: 'static {
    /// The environment.
    type Env: Env;
    /// The program's name, its environment, its presets.
    const INFO: Info;
    /// Simulated time per step: the pace of `--render`.
    const STEP: Duration;
    /// Steps after which an episode is cut off.
    const TIME_LIMIT: usize;
    /// Returns worth marking on the learning curve, each with what it means.
    const MARKS: &'static [(f64, &'static str)];
    /// A new environment.
    fn env() -> Self::Env;
    /// A text picture of the environment, of the same size at every step.
    fn picture(env: &Self::Env) -> String;
}

/// The parts of a [`Task`] that do not depend on its environment's type.
#[derive(Debug)]
pub struct Info {
    /// The program's name, as its user types it: `pendulum`.
    pub name: &'static str,
    /// Gymnasium's name for the environment: `Pendulum-v1`; checkpoints record it.
    pub env_id: &'static str,
    /// One line for `--help`.
    pub about: &'static str,
    /// The presets a run can start from; the first is the default.
    pub presets: &'static [Preset],
}

/// A named starting configuration.
#[derive(Debug)]
pub struct Preset {
    /// What `--preset` takes.
    pub name: &'static str,
    /// One line for `--help`: what it is and where it comes from.
    pub about: &'static str,
    /// The configuration.
    pub config: fn() -> Config,
}
// ANCHOR_END: task

/// The last line of a training run and of `eval`.
pub fn final_line(result: &Evaluation) -> String {
    format!(
        "final eval: mean return {:.1} ± {:.1} over {} episodes",
        result.mean,
        result.std,
        result.returns.len()
    )
}

/// Why a command failed, and the exit status that says so.
pub struct Failure {
    /// One line for stderr; none when the failure speaks for itself (a closed pipe).
    pub message: Option<String>,
    pub status: u8,
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure { message: Some(message), status: 1 }
    }
}

impl From<OutputError> for Failure {
    fn from(e: OutputError) -> Failure {
        Failure { message: e.message(), status: e.status() }
    }
}

// ANCHOR: main
/// The program of task `T`: reads the command line, runs the command, and says how it went
/// with one line on stderr and the exit status.
pub fn main<T: Task>() -> ExitCode {
    let info = &T::INFO;
    // Arguments as the system gave them: a path may hold bytes that are not UTF-8.
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let result = match options::parse(&args, info) {
        Err(message) => {
            say_error(&format!("{message} (see '{} --help')", info.name));
            return ExitCode::from(2);
        }
        Ok(Command::Help) => output::print(&options::help_text(info)).map_err(Failure::from),
        Ok(Command::Version) => {
            let version = format!("{} {}", info.name, env!("CARGO_PKG_VERSION"));
            output::println(&version).map_err(Failure::from)
        }
        Ok(Command::Train(mut settings)) => {
            match settings.config.distribution.over(T::env().action_space()) {
                Err(problem) => {
                    say_error(&format!("--distribution: {problem} (see '{} --help')", info.name));
                    return ExitCode::from(2);
                }
                Ok(_) => match settings.seeds.take() {
                    Some(seeds) => sweep::run::<T>(settings, &seeds),
                    None => train::run::<T>(settings),
                },
            }
        }
        Ok(Command::Eval(settings)) => eval::run::<T>(settings),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if let Some(message) = failure.message {
                say_error(&message);
            }
            ExitCode::from(failure.status)
        }
    }
}

/// `error: MESSAGE` on stderr, with any control character in it shown escaped (a message may
/// quote a file's contents or name), and no panic if stderr itself cannot be written.
fn say_error(message: &str) {
    let _ = writeln!(std::io::stderr(), "error: {}", terminal::escape(message));
}
// ANCHOR_END: main
