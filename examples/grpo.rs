//! GRPO against PPO on Pendulum, seeds 1 to 10: the table of the GRPO chapter.
//!
//! ```text
//! cargo run --release --example grpo              # writes book/src/results/grpo.md
//! cargo run --release --example grpo -- 3         # seeds 1 to 3 only, nothing written
//! ```
//!
//! Two runs at a time (the machine's two cores). Each run is evaluated as the `pendulum`
//! program evaluates: the deterministic policy over 100 episodes from `evaluation_seed(seed)`.
//! "Solved at" is the first environment step after which the mean return of the episodes
//! that ended in a rollout is −200 or better.

use ppo::Pendulum;
use ppo::checkpoint::write_atomic;
use ppo::ppo::{Config, Trainer, evaluation_seed};
use std::fmt::Write as _;
use std::time::Instant;

/// GRPO's groups: 32 environments in 4 groups of 8, rollouts of exactly one 200-step episode
/// each, the `default` preset's learning settings otherwise, except that the learning rates
/// anneal over the whole run: the preset's 100,000-step horizon would leave a 300,000-step
/// GRPO run two thirds of its updates at 1/49 of the rates.
fn grpo(total_timesteps: usize, reference_kl: f32) -> Config {
    Config {
        total_timesteps,
        anneal_horizon: None,
        num_envs: 32,
        rollout_steps: 200,
        grpo_group: Some(8),
        reference_kl,
        ..Config::default()
    }
}

fn studies() -> Vec<(&'static str, Config)> {
    vec![
        ("PPO, the `default` preset, 100,000 steps", Config::default()),
        ("GRPO, groups of 8, 102,400 steps", grpo(100_000, 0.0)),
        ("GRPO, groups of 8, 300,800 steps", grpo(300_000, 0.0)),
        ("GRPO, groups of 8, reference KL 0.04, 300,800 steps", grpo(300_000, 0.04)),
        // The preset normalizes observations; this row shows what that does to GRPO.
        (
            "GRPO, groups of 8, 300,800 steps, observations not normalized",
            Config { normalize_observations: false, ..grpo(300_000, 0.0) },
        ),
    ]
}

struct Outcome {
    eval: f64,
    solved_at: Option<usize>,
    seconds: f64,
}

fn run(config: &Config, seed: u64) -> Outcome {
    let start = Instant::now();
    let config = Config { seed, ..config.clone() };
    let envs = (0..config.num_envs).map(|_| Pendulum::new()).collect();
    let mut trainer = Trainer::new(config, envs);
    let mut solved_at = None;
    while !trainer.is_done() {
        let stats = trainer.iterate().expect("training diverged");
        if solved_at.is_none() && stats.episode_return.is_some_and(|r| r >= -200.0) {
            solved_at = Some(stats.timesteps);
        }
    }
    let eval_envs = (0..100).map(|_| Pendulum::new()).collect();
    let eval = trainer.evaluate(eval_envs, evaluation_seed(seed)).mean;
    Outcome { eval, solved_at, seconds: start.elapsed().as_secs_f64() }
}

/// Seeds 1..=n, two at a time.
fn sweep(config: &Config, seeds: u64) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for pair in (1..=seeds).collect::<Vec<_>>().chunks(2) {
        let results = std::thread::scope(|scope| {
            let jobs: Vec<_> = pair.iter().map(|&s| scope.spawn(move || run(config, s))).collect();
            jobs.into_iter().map(|job| job.join().expect("a run panicked")).collect::<Vec<_>>()
        });
        outcomes.extend(results);
    }
    outcomes
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

fn main() {
    let seeds: u64 = std::env::args().nth(1).map_or(10, |s| s.parse().expect("a number of seeds"));
    let started = Instant::now();
    let mut table = String::from("| run | ");
    for s in 1..=seeds {
        write!(table, "seed {s} | ").unwrap();
    }
    table.push_str("median | worst | best | solved (of seeds) | steps to solve (median) | median wall time |\n|---|");
    table.push_str(&"---:|".repeat(seeds as usize + 6));
    table.push('\n');
    for (label, config) in studies() {
        let outcomes = sweep(&config, seeds);
        write!(table, "| {label} | ").unwrap();
        for o in &outcomes {
            write!(table, "{:.1} | ", o.eval).unwrap();
        }
        let evals: Vec<f64> = outcomes.iter().map(|o| o.eval).collect();
        let worst = evals.iter().copied().fold(f64::INFINITY, f64::min);
        let best = evals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let solved = evals.iter().filter(|&&e| e >= -200.0).count();
        let seconds = median(outcomes.iter().map(|o| o.seconds).collect());
        // A run whose rollouts never reached −200 counts as needing more than its budget.
        let steps: Vec<f64> =
            outcomes.iter().map(|o| o.solved_at.map_or(f64::INFINITY, |t| t as f64)).collect();
        let steps = median(steps);
        let steps = if steps.is_finite() { format!("{steps:.0}") } else { "—".to_string() };
        writeln!(
            table,
            "**{:.1}** | {worst:.1} | {best:.1} | {solved} | {steps} | {seconds:.1} s |",
            median(evals)
        )
        .unwrap();
        for (seed, o) in (1..).zip(&outcomes) {
            let at = o.solved_at.map_or("never".to_string(), |t| t.to_string());
            eprintln!(
                "{label}: seed {seed}: {:.1}, rollouts at −200 from step {at}, {:.1} s",
                o.eval, o.seconds
            );
        }
    }
    print!("{table}");
    if seeds == 10 {
        write_atomic("book/src/results/grpo.md".as_ref(), table.as_bytes())
            .expect("write the table");
    }
    eprintln!("took {:.0} s", started.elapsed().as_secs_f64());
}
