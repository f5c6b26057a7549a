//! What `variants` adds to what the results examples share (`examples/common`): one training
//! run of any environment evaluated as the programs evaluate it, and the learning-curve and
//! diagnostic figures of a group of runs.
#![allow(dead_code)] // each example uses part of this module

#[path = "../common/mod.rs"]
mod common;
pub use common::{SEED_COLORS, median, per_seed, thousands, write};

use ppo::Env;
use ppo::plot::LinePlot;
use ppo::ppo::{Config, Divergence, Trainer, UpdateStats, evaluation_seed};
use std::time::Instant;

/// Episodes of a run's final evaluation, as many as the programs' (`options::EVAL_EPISODES`).
pub const EVAL_EPISODES: usize = 100;

/// One training run: its learning curve and diagnostics per update, and the evaluation.
pub struct Run {
    pub updates: Vec<UpdateStats>,
    pub eval_mean: f64,
    pub eval_std: f64,
    pub seconds: f64,
}

/// Trains `config` with `seed` on environments made by `env`, then evaluates the deterministic
/// policy over [`EVAL_EPISODES`] fresh episodes (with the observation statistics frozen, when
/// they are normalized), exactly as the programs' final line does.
///
/// # Errors
/// The [`Divergence`] that ended training.
pub fn run<E: Env>(config: &Config, seed: u64, env: fn() -> E) -> Result<Run, Divergence> {
    let config = Config { seed, ..config.clone() };
    let start = Instant::now();
    let envs = (0..config.num_envs).map(|_| env()).collect();
    let mut trainer = Trainer::new(config, envs);
    let mut updates = Vec::new();
    while !trainer.is_done() {
        updates.push(trainer.iterate()?);
    }
    let eval_envs = (0..EVAL_EPISODES).map(|_| env()).collect();
    let evaluation = trainer.evaluate(eval_envs, evaluation_seed(seed));
    Ok(Run {
        updates,
        eval_mean: evaluation.mean,
        eval_std: evaluation.std,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Returns of each seed's run against environment steps, with the success lines.
pub fn learning_curves(title: String, runs: &[Run]) -> LinePlot {
    let plot = diagnostic(&title, "", runs, |u| u.episode_return.unwrap_or(f64::NAN));
    LinePlot {
        y_label: "mean return of the episodes ended in the rollout".into(),
        hlines: vec![(-200.0, "−200".into()), (-150.0, "−150".into())],
        ..plot
    }
}

/// Reads one diagnostic out of an iteration's statistics.
pub type Measure = fn(&UpdateStats) -> f64;

/// One diagnostic of every seed's run against environment steps.
pub fn diagnostic(title: &str, name: &str, runs: &[Run], value: Measure) -> LinePlot {
    let points = runs
        .iter()
        .map(|run| run.updates.iter().map(|u| (u.timesteps as f64, value(u))).collect())
        .collect();
    per_seed(title.into(), name, points)
}
