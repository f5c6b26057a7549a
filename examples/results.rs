//! Regenerates the measurements of the book's results chapter: every configuration below,
//! trained for 100,000 steps with seeds 1 to 10, each evaluated deterministically over 100
//! episodes; then the per-seed table and the learning-curve figures.
//!
//! ```text
//! cargo run --release --example results            # all seeds, a few minutes
//! cargo run --release --example results -- 3       # seeds 1 to 3 only
//! ```
//!
//! Writes `book/src/results/table.md` (included by the chapter) and
//! `book/src/figures/*.svg`. The numbers are a pure function of the code and the seeds, but
//! the wall times are this machine's: run it on a quiet machine.

use ppo::Pendulum;
use ppo::checkpoint::write_atomic;
use ppo::gae::TimeLimit;
use ppo::plot::{LinePlot, Series};
use ppo::ppo::{Config, Trainer, UpdateStats, evaluate, evaluation_seed};
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
            label: "`seed` preset (the documents' table)",
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

/// One training run: its learning curve and diagnostics per update, and the evaluation.
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
        updates.push(trainer.iterate());
    }
    let eval_envs = (0..100).map(|_| Pendulum::new()).collect();
    let evaluation = evaluate(trainer.actor(), eval_envs, evaluation_seed(seed));
    Run {
        updates,
        eval_mean: evaluation.mean,
        eval_std: evaluation.std,
        seconds: start.elapsed().as_secs_f64(),
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

const SEED_COLORS: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// Returns of each seed's run against environment steps, with the success lines.
fn learning_curves(title: String, runs: &[Run]) -> LinePlot {
    let series = runs
        .iter()
        .enumerate()
        .map(|(i, run)| Series {
            label: format!("seed {}", i + 1),
            points: run
                .updates
                .iter()
                .map(|u| (u.timesteps as f64, u.episode_return.unwrap_or(f64::NAN)))
                .collect(),
            color: SEED_COLORS[i % SEED_COLORS.len()].into(),
        })
        .collect();
    LinePlot {
        title,
        x_label: "environment steps".into(),
        y_label: "mean return of the episodes ended in the rollout".into(),
        series,
        hlines: vec![(-200.0, "−200".into()), (-150.0, "−150".into())],
    }
}

/// Reads one diagnostic out of an iteration's statistics.
type Measure = fn(&UpdateStats) -> f64;

/// One diagnostic of every seed's run against environment steps.
fn diagnostic(title: &str, name: &str, runs: &[Run], value: Measure) -> LinePlot {
    let series = runs
        .iter()
        .enumerate()
        .map(|(i, run)| Series {
            label: format!("seed {}", i + 1),
            points: run.updates.iter().map(|u| (u.timesteps as f64, value(u))).collect(),
            color: SEED_COLORS[i % SEED_COLORS.len()].into(),
        })
        .collect();
    LinePlot {
        title: title.into(),
        x_label: "environment steps".into(),
        y_label: name.into(),
        series,
        hlines: Vec::new(),
    }
}

fn write(path: &Path, text: &str) {
    write_atomic(path, text.as_bytes()).unwrap_or_else(|e| {
        eprintln!("error: cannot write {}: {e}", path.display());
        std::process::exit(1)
    });
}

fn main() {
    let seeds: u64 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 10,
        Some(Ok(n)) if (1..=10).contains(&n) => n,
        Some(_) => {
            eprintln!("error: the argument is the number of seeds, 1 to 10");
            std::process::exit(2)
        }
    };
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src");
    for dir in ["results", "figures"] {
        std::fs::create_dir_all(book.join(dir)).expect("create book output directories");
    }

    let mut table = String::from("| configuration |");
    for seed in 1..=seeds {
        let _ = write!(table, " seed {seed} |");
    }
    table.push_str(" median | worst | seconds per run (median) |\n|---|");
    table.push_str(&"---:|".repeat(seeds as usize + 3));
    table.push('\n');

    for study in studies() {
        let runs: Vec<Run> = (1..=seeds)
            .map(|seed| {
                let run = run(&study.config, seed);
                eprintln!(
                    "{:<22} seed {seed:>2}: {:8.1} ± {:5.1}  ({:.2} s)",
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
        let mut seconds: Vec<f64> = runs.iter().map(|r| r.seconds).collect();
        let _ = writeln!(
            table,
            " **{:.1}** | {worst:.1} | {:.2} |",
            median(&mut means),
            median(&mut seconds)
        );

        let title = format!("Learning curves: {}", study.label.replace('`', ""));
        write(
            &book.join(format!("figures/curves-{}.svg", study.file)),
            &learning_curves(title, &runs).to_svg(),
        );
        if study.file == "default" || study.file == "seed" {
            let diagnostics: [(&str, Measure); 4] = [
                ("approx KL", |u| f64::from(u.approx_kl)),
                ("clip fraction", |u| f64::from(u.clip_fraction)),
                ("entropy", |u| f64::from(u.entropy)),
                ("explained variance", |u| f64::from(u.explained_variance)),
            ];
            for (name, value) in diagnostics {
                let file = format!("figures/{}-{}.svg", study.file, name.replace(' ', "-"));
                let title = format!("{name}: {}", study.label.replace('`', ""));
                write(&book.join(file), &diagnostic(&title, name, &runs, value).to_svg());
            }
        }
    }
    write(&book.join("results/table.md"), &table);
    print!("{table}");
}
