//! `pendulum`: trains a PPO agent on Pendulum-v1, saves it, evaluates it, and shows it.
//!
//! ```text
//! cargo run --release --bin pendulum -- [train] [OPTIONS]
//! cargo run --release --bin pendulum -- eval --checkpoint PATH [--episodes N] [--render] [--seed N]
//! ```
//!
//! Options are read by hand from one table ([`options::OPTIONS`]), so the crate keeps its two
//! dependencies. Bad options exit with status 2 before anything is written; a failure during a
//! run (an unwritable directory, a bad checkpoint, a diverged training, a full disk) with
//! status 1; SIGINT, SIGTERM or SIGQUIT during training or `eval --render` with 128 plus the
//! signal's number, as a shell reports a process the signal ended (130, 143, 131), and a closed
//! standard output with 141 (SIGPIPE's), quietly.

mod eval;
mod options;
mod output;
mod progress;
mod render;
mod rundir;
mod signals;
mod terminal;
mod train;

use options::Command;
use output::OutputError;
use ppo::ppo::Evaluation;
use std::io::Write as _;
use std::process::ExitCode;

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
fn main() -> ExitCode {
    // Arguments as the system gave them: a path may hold bytes that are not UTF-8.
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let result = match options::parse(&args) {
        Err(message) => {
            say_error(&format!("{message} (see 'pendulum --help')"));
            return ExitCode::from(2);
        }
        Ok(Command::Help) => output::print(&options::help_text()).map_err(Failure::from),
        Ok(Command::Version) => output::println(&format!("pendulum {}", env!("CARGO_PKG_VERSION")))
            .map_err(Failure::from),
        Ok(Command::Train(settings)) => train::run(settings),
        Ok(Command::Eval(settings)) => eval::run(settings),
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
