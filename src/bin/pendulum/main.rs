//! `pendulum`: trains a PPO agent on Pendulum-v1, saves it, evaluates it, and shows it.
//!
//! ```text
//! cargo run --release --bin pendulum -- [train] [OPTIONS]
//! cargo run --release --bin pendulum -- eval --checkpoint PATH [--episodes N] [--render] [--seed N]
//! ```
//!
//! Options are read by hand from one table ([`options::OPTIONS`]), so the crate keeps its two
//! dependencies. Bad options exit with status 2 before anything is written; a failure during a
//! run (an unwritable directory, a bad checkpoint, a diverged training) with status 1; Ctrl-C
//! during `eval --render` with status 130, as a shell reports a process ended by SIGINT.

mod eval;
mod options;
mod progress;
mod render;
mod train;

use options::Command;
use ppo::ppo::Evaluation;
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
    pub message: String,
    pub status: u8,
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure { message, status: 1 }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match options::parse(&args) {
        Err(message) => {
            eprintln!("error: {message} (see 'pendulum --help')");
            return ExitCode::from(2);
        }
        Ok(Command::Help) => {
            print!("{}", options::help_text());
            Ok(())
        }
        Ok(Command::Version) => {
            println!("pendulum {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Ok(Command::Train(settings)) => train::run(settings).map_err(Failure::from),
        Ok(Command::Eval(settings)) => eval::run(settings),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.status)
        }
    }
}
