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
//! The 150 runs took 23 minutes of wall time (538 s of CPU time) on the book's 2-core machine
//! while other jobs kept it busy (load average 4 to 15); chapter 11 gives the details.
//!
//! Writes `book/src/results/table.md` and `book/src/results/ablations.md` (included by the
//! chapter) and `book/src/figures/*.svg`, all a pure function of the code and the seeds. The
//! wall time of each run is printed as it finishes; it is not written to the tables, because it
//! depends on what else the machine is doing.

mod support;

use ppo::Pendulum;
use ppo::gae::TimeLimit;
use ppo::ppo::Config;
use std::fmt::Write as _;
use std::path::Path;
use support::{Measure, Run, diagnostic, learning_curves, median, write};

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
            file: "ablation-time-limit",
            label: "time limits as terminal",
            config: Config { time_limit: TimeLimit::AsTerminal, ..default() },
        },
    ]
}

/// The header of a per-seed table whose first column is `first`.
fn table_header(first: &str, seeds: u64) -> String {
    let mut table = format!("| {first} |");
    for seed in 1..=seeds {
        let _ = write!(table, " seed {seed} |");
    }
    table.push_str(" median | worst |\n|---|");
    table.push_str(&"---:|".repeat(seeds as usize + 2));
    table.push('\n');
    table
}

/// Trains `study` with every seed, printing each result as it comes, and appends its row.
fn run_study(study: &Study, seeds: u64, table: &mut String) -> Vec<Run> {
    let runs: Vec<Run> = (1..=seeds)
        .map(|seed| {
            let run = support::run(&study.config, seed, Pendulum::new).expect("training diverged");
            eprintln!(
                "{:<24} seed {seed:>2}: {:8.1} ± {:5.1}  ({:.2} s)",
                study.file, run.eval_mean, run.eval_std, run.seconds
            );
            run
        })
        .collect();
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
    let seeds: u64 = match args.first().map(|a| a.parse()) {
        None => 10,
        Some(Ok(n)) if (1..=10).contains(&n) => n,
        Some(_) => {
            eprintln!(
                "error: the argument is the number of seeds, 1 to 10 (or --diagnostics-only)"
            );
            std::process::exit(2)
        }
    };
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src");
    for dir in ["results", "figures"] {
        std::fs::create_dir_all(book.join(dir)).expect("create book output directories");
    }

    let mut table = table_header("configuration", seeds);
    let drawn = |study: &Study| study.file == "default" || study.file == "seed";
    for study in studies().into_iter().filter(|s| !diagnostics_only || drawn(s)) {
        let runs = run_study(&study, seeds, &mut table);
        let title = format!("Learning curves: {}", study.label.replace('`', ""));
        write(
            &book.join(format!("figures/curves-{}.svg", study.file)),
            &learning_curves(title, &runs).to_svg(),
        );
        if drawn(&study) {
            // Name (for the file and title), the y axis, the value. The value loss spans three
            // orders of magnitude under the `default` preset, so it is drawn on a log scale.
            let diagnostics: [(&str, &str, Measure); 6] = [
                ("approx KL", "approx KL", |u| f64::from(u.approx_kl)),
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

    let mut ablation_table = table_header("changed from `default`", seeds);
    for study in ablations() {
        run_study(&study, seeds, &mut ablation_table);
    }
    write(&book.join("results/ablations.md"), &ablation_table);
    print!("{ablation_table}");
}
