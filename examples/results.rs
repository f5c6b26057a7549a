//! Regenerates the measurements of the book's results chapter: every configuration below,
//! trained for 100,000 steps with seeds 1 to 10, each evaluated deterministically over 100
//! episodes; then the per-seed tables and the learning-curve figures.
//!
//! ```text
//! cargo run --release --example results            # all seeds: 150 runs
//! cargo run --release --example results -- 3       # seeds 1 to 3 only
//! cargo run --release --example results -- --diagnostics-only   # 20 runs, figures only
//! ```
//!
//! `--diagnostics-only` trains only the two presets whose diagnostics are drawn (`seed` and
//! `default`) and rewrites their figures, leaving the tables alone: a quick way to redraw
//! those figures after changing how they are drawn.
//!
//! The 150 runs (17 rows, two of them in both tables and trained once) took 472 s of wall
//! time (260 s of CPU time: one run at a time, on one thread) on the book's 2-core machine
//! while `examples/variants.rs` ran beside it; chapter 11 gives the details.
//!
//! Writes `book/src/results/table.md` and `book/src/results/ablations.md` (included by the
//! chapter) and `book/src/figures/*.svg`, all a pure function of the code and the seeds. The
//! wall time of each run is printed as it finishes; it is not written to the tables, because it
//! depends on what else the machine is doing.

mod common;

use common::{median, per_seed, seeds_argument, table_header, write};
use ppo::Pendulum;
use ppo::gae::TimeLimit;
use ppo::plot::LinePlot;
use ppo::ppo::{Config, Trainer, UpdateStats, evaluation_seed};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

/// A configuration under study: a short name for files, a label for tables, the config.
struct Study {
    file: &'static str,
    label: &'static str,
    config: Config,
}

fn studies() -> Vec<Study> {
    vec![
        Study {
            file: "seed",
            label: "`seed` preset (the JAX/Flax Pendulum table)",
            config: Config::seed(),
        },
        Study {
            file: "seed-gamma-0.9",
            label: "`seed` preset with γ = 0.9",
            config: Config { gamma: 0.9, ..Config::seed() },
        },
        Study {
            file: "seed-as-terminal",
            label: "`seed` preset with time limits as terminal",
            config: Config { time_limit: TimeLimit::AsTerminal, ..Config::seed() },
        },
        Study {
            file: "seed-bootstrap",
            label: "`seed` preset with time limits bootstrapped",
            config: Config { time_limit: TimeLimit::Bootstrap, ..Config::seed() },
        },
        Study { file: "default", label: "`default` preset", config: Config::default() },
        Study {
            file: "default-as-terminal",
            label: "`default` with time limits as terminal",
            config: Config { time_limit: TimeLimit::AsTerminal, ..Config::default() },
        },
        Study {
            file: "default-ignore",
            label: "`default` with time limits ignored",
            config: Config { time_limit: TimeLimit::Ignore, ..Config::default() },
        },
    ]
}

/// The `default` preset with one of its choices put back to the `seed` preset's value: what
/// each choice is worth. Only the table is written for these.
fn ablations() -> Vec<Study> {
    let default = Config::default;
    let seed = Config::seed();
    vec![
        Study { file: "ablation-none", label: "none: the `default` preset", config: default() },
        Study {
            file: "ablation-gamma",
            label: "γ = 0.99",
            config: Config { gamma: 0.99, ..default() },
        },
        Study {
            file: "ablation-one-env",
            label: "1 environment × 2048 steps",
            config: Config { num_envs: 1, rollout_steps: 2048, ..default() },
        },
        Study {
            file: "ablation-minibatch",
            label: "minibatches of 64",
            config: Config { minibatch_size: 64, ..default() },
        },
        Study {
            file: "ablation-learning-rate",
            label: "learning rates 3e-4 (actor) and 1e-3 (critic), not annealed",
            config: Config {
                actor_learning_rate: seed.actor_learning_rate,
                critic_learning_rate: seed.critic_learning_rate,
                anneal_learning_rate: false,
                ..default()
            },
        },
        Study {
            file: "ablation-reward-scale",
            label: "rewards not scaled",
            config: Config { reward_scale: 1.0, ..default() },
        },
        Study {
            file: "ablation-std",
            label: "softplus σ head, PyTorch's default initialization",
            config: Config { std_param: seed.std_param, init: seed.init, ..default() },
        },
        Study {
            file: "ablation-grad-clip",
            label: "no gradient clipping",
            config: Config { max_grad_norm: None, ..default() },
        },
        Study {
            file: "ablation-observations",
            label: "observations not normalized",
            config: Config { normalize_observations: seed.normalize_observations, ..default() },
        },
        Study {
            file: "ablation-time-limit",
            label: "time limits ignored (one endless episode per environment)",
            config: Config { time_limit: seed.time_limit, ..default() },
        },
    ]
}

/// One training run: its learning curve and diagnostics per update, and the evaluation.
#[derive(Clone)]
struct Run {
    updates: Vec<UpdateStats>,
    eval_mean: f64,
    eval_std: f64,
    seconds: f64,
}

fn run(config: &Config, seed: u64) -> Run {
    let config = Config { seed, ..config.clone() };
    let start = Instant::now();
    let envs = (0..config.num_envs).map(|_| Pendulum::new()).collect();
    let mut trainer = Trainer::new(config, envs);
    let mut updates = Vec::new();
    while !trainer.is_done() {
        updates.push(trainer.iterate().expect("training diverged"));
    }
    let eval_envs = (0..100).map(|_| Pendulum::new()).collect();
    let evaluation = trainer.evaluate(eval_envs, evaluation_seed(seed));
    Run {
        updates,
        eval_mean: evaluation.mean,
        eval_std: evaluation.std,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// Returns of each seed's run against environment steps, with the success lines.
fn learning_curves(title: String, runs: &[Run]) -> LinePlot {
    let points = runs
        .iter()
        .map(|run| {
            let returns = run.updates.iter();
            returns.map(|u| (u.timesteps as f64, u.episode_return.unwrap_or(f64::NAN))).collect()
        })
        .collect();
    let y_label = "mean return of the episodes ended in the rollout";
    let mut plot = per_seed(title, y_label, points);
    plot.hlines = vec![(-200.0, "−200".into()), (-150.0, "−150".into())];
    plot
}

/// Reads one diagnostic out of an iteration's statistics.
type Measure = fn(&UpdateStats) -> f64;

/// One diagnostic of every seed's run against environment steps.
fn diagnostic(title: &str, name: &str, runs: &[Run], value: Measure) -> LinePlot {
    let points = runs
        .iter()
        .map(|run| run.updates.iter().map(|u| (u.timesteps as f64, value(u))).collect())
        .collect();
    per_seed(title.into(), name, points)
}

/// The runs already made, by configuration (its `Debug` text), so that a configuration that
/// appears in both tables (the `default` preset, its time-limit treatments) is trained once:
/// the same configuration and seed give the same run, bit for bit.
type Done = HashMap<String, Vec<Run>>;

/// Trains `study` with every seed, printing each result as it comes, and appends its row.
fn run_study(study: &Study, seeds: u64, table: &mut String, done: &mut Done) -> Vec<Run> {
    let key = format!("{:?}", study.config);
    let runs = match done.get(&key) {
        Some(runs) => {
            eprintln!("{:<24} the same configuration as a study above", study.file);
            runs.clone()
        }
        None => {
            let runs: Vec<Run> = (1..=seeds)
                .map(|seed| {
                    let run = run(&study.config, seed);
                    eprintln!(
                        "{:<24} seed {seed:>2}: {:8.1} ± {:5.1}  ({:.2} s)",
                        study.file, run.eval_mean, run.eval_std, run.seconds
                    );
                    run
                })
                .collect();
            done.insert(key, runs.clone());
            runs
        }
    };
    let _ = write!(table, "| {} |", study.label);
    for run in &runs {
        let _ = write!(table, " {:.1} |", run.eval_mean);
    }
    let mut means: Vec<f64> = runs.iter().map(|r| r.eval_mean).collect();
    let worst = means.iter().copied().fold(f64::INFINITY, f64::min);
    let _ = writeln!(table, " **{:.1}** | {worst:.1} |", median(&mut means));
    runs
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let diagnostics_only = args.iter().any(|a| a == "--diagnostics-only");
    args.retain(|a| a != "--diagnostics-only");
    let seeds = seeds_argument(&args, "--diagnostics-only");
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src");
    for dir in ["results", "figures"] {
        std::fs::create_dir_all(book.join(dir)).expect("create book output directories");
    }

    let mut done = Done::new();
    let mut table = table_header("configuration", seeds, "worst");
    let drawn = |study: &Study| study.file == "default" || study.file == "seed";
    for study in studies().into_iter().filter(|s| !diagnostics_only || drawn(s)) {
        let runs = run_study(&study, seeds, &mut table, &mut done);
        let title = format!("Learning curves: {}", study.label.replace('`', ""));
        write(
            &book.join(format!("figures/curves-{}.svg", study.file)),
            &learning_curves(title, &runs).to_svg(),
        );
        if drawn(&study) {
            // Name (for the file and title), the y axis, the value. The value loss spans three
            // orders of magnitude under the `default` preset, and the `seed` preset's approximate
            // KL from about 0.01 to spikes above 1,000, so both are drawn on a log scale.
            let diagnostics: [(&str, &str, Measure); 6] = [
                ("approx KL", "log₁₀ of the approx KL", |u| f64::from(u.approx_kl).log10()),
                ("clip fraction", "clip fraction", |u| f64::from(u.clip_fraction)),
                ("entropy", "entropy", |u| f64::from(u.entropy)),
                ("explained variance", "explained variance", |u| f64::from(u.explained_variance)),
                ("policy loss", "policy loss", |u| f64::from(u.policy_loss)),
                ("value loss", "log₁₀ of the value loss", |u| f64::from(u.value_loss).log10()),
            ];
            for (name, axis, value) in diagnostics {
                let file = format!("figures/{}-{}.svg", study.file, name.replace(' ', "-"));
                let title = format!("{name}: {}", study.label.replace('`', ""));
                write(&book.join(file), &diagnostic(&title, axis, &runs, value).to_svg());
            }
        }
    }
    if diagnostics_only {
        return;
    }
    write(&book.join("results/table.md"), &table);
    print!("{table}");

    let mut ablation_table = table_header("changed from `default`", seeds, "worst");
    for study in ablations() {
        run_study(&study, seeds, &mut ablation_table, &mut done);
    }
    write(&book.join("results/ablations.md"), &ablation_table);
    print!("{ablation_table}");
}
