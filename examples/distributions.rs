//! Regenerates the measurements of the bounded-actions chapter: Pendulum-v1 trained with
//! each distribution (and the Normal with a state-dependent log-σ head) at the `default`
//! preset's other settings, seeds 1 to 10, each run evaluated deterministically over 100
//! episodes, as `pendulum --distribution D` trains and evaluates it.
//!
//! ```text
//! cargo run --release --example distributions         # all seeds: 50 runs
//! cargo run --release --example distributions -- 2    # seeds 1 and 2 only
//! ```
//!
//! Two runs go at a time, one per thread (the book's machine has two cores); each run is
//! single-threaded and a pure function of its seed, so the results do not depend on the
//! order. Writes `book/src/results/distributions.md` (the table) and
//! `book/src/figures/distributions-*.svg`; prints each run as it finishes and the total wall
//! time, which depends on what else the machine is doing and is not written to the table's
//! evaluation columns (the per-run times are, as a median, for comparing the distributions'
//! cost on the same machine in the same session).

use ppo::checkpoint::write_atomic;
use ppo::config::DistributionKind;
use ppo::networks::StdParam;
use ppo::plot::{self, LinePlot, Series};
use ppo::ppo::{Config, Trainer, evaluation_seed};
use ppo::{Env, Pendulum, Workspace};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

/// A configuration under study: a short name for files, a label for tables and the flags
/// that select it in the `pendulum` program.
struct Study {
    file: &'static str,
    flags: &'static str,
    color: &'static str,
    config: Config,
}

fn studies() -> Vec<Study> {
    let with = |distribution| Config { distribution, ..Config::default() };
    vec![
        Study {
            file: "normal",
            flags: "--distribution normal",
            color: "#1f77b4",
            config: with(DistributionKind::Normal),
        },
        Study {
            file: "normal-log-std-head",
            flags: "--distribution normal --std log-std-head",
            color: "#17becf",
            config: Config {
                std_param: StdParam::LogStdHead { clamp: (-20.0, 2.0) },
                ..Config::default()
            },
        },
        Study {
            file: "tanh-normal",
            flags: "--distribution tanh-normal",
            color: "#ff7f0e",
            config: with(DistributionKind::TanhNormal),
        },
        Study {
            file: "truncated-normal",
            flags: "--distribution truncated-normal",
            color: "#2ca02c",
            config: with(DistributionKind::TruncatedNormal),
        },
        Study {
            file: "beta",
            flags: "--distribution beta",
            color: "#d62728",
            config: with(DistributionKind::Beta),
        },
    ]
}

/// One training run: per iteration (steps, mean return of the episodes that ended, entropy),
/// the deterministic evaluation, how the trained stochastic policy meets the bounds, and its
/// wall time.
struct Run {
    curve: Vec<(f64, f64, f64)>,
    eval_mean: f64,
    bounds: Bounds,
    seconds: f64,
}

/// Where the trained policy's sampled actions fall, over ten episodes of the stochastic
/// policy: the share the environment clips (drawn beyond ±2; only a Normal draws them) and
/// the share executed at or within 1% of a bound.
#[derive(Clone, Copy, Default)]
struct Bounds {
    clipped: f64,
    at_bound: f64,
}

fn run(config: &Config, seed: u64) -> Run {
    let config = Config { seed, ..config.clone() };
    let start = Instant::now();
    let envs = (0..config.num_envs).map(|_| Pendulum::new()).collect();
    let mut trainer = Trainer::new(config.clone(), envs);
    let mut curve = Vec::new();
    while !trainer.is_done() {
        let stats = trainer.iterate().expect("training diverged");
        let episode_return = stats.episode_return.unwrap_or(f64::NAN);
        curve.push((stats.timesteps as f64, episode_return, f64::from(stats.entropy)));
    }
    let eval_envs = (0..100).map(|_| Pendulum::new()).collect();
    let evaluation = trainer.evaluate(eval_envs, evaluation_seed(seed));
    let bounds = bounds(&config, trainer.actor(), evaluation_seed(seed));
    Run { curve, eval_mean: evaluation.mean, bounds, seconds: start.elapsed().as_secs_f64() }
}

/// [`Bounds`] of the trained `actor`, sampling with its own distribution.
fn bounds(config: &Config, actor: &ppo::Actor, seed: u64) -> Bounds {
    let mut env = Pendulum::new();
    let distribution = config.distribution.over(env.action_space()).expect("fits Pendulum");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut workspace = Workspace::new();
    let (mut mean, mut second, mut sample, mut action) = ([0.0], [0.0], [0.0], [0.0]);
    let (mut clipped, mut at_bound, mut steps) = (0usize, 0usize, 0usize);
    for _ in 0..10 {
        let mut obs = Env::reset(&mut env, &mut rng);
        loop {
            actor.forward(&obs, &mut workspace, &mut mean, &mut second);
            distribution.sample(&[&mean, &second], &mut rng, &mut sample);
            distribution.to_action(&sample, &mut action);
            clipped += usize::from(action[0].abs() > 2.0);
            at_bound += usize::from(action[0].abs() >= 1.98);
            steps += 1;
            let step = Env::step(&mut env, action);
            obs = step.obs;
            if step.terminated || step.truncated {
                break;
            }
        }
    }
    let share = |count: usize| count as f64 / steps as f64;
    Bounds { clipped: share(clipped), at_bound: share(at_bound) }
}

fn median(values: &[f64]) -> f64 {
    let mut values = values.to_vec();
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

/// Runs every (study, seed) pair on two threads and returns the runs by study, then seed.
fn run_all(studies: &[Study], seeds: u64) -> Vec<Vec<Run>> {
    let jobs: Vec<(usize, u64)> =
        (0..studies.len()).flat_map(|s| (1..=seeds).map(move |seed| (s, seed))).collect();
    let next = Mutex::new(0usize);
    let done = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let job = {
                        let mut next = next.lock().expect("no worker panics holding it");
                        let job = jobs.get(*next).copied();
                        *next += 1;
                        job
                    };
                    let Some((s, seed)) = job else { break };
                    let run = run(&studies[s].config, seed);
                    eprintln!(
                        "{:<20} seed {seed:>2}: {:8.1}  clipped {:5.1}%  at a bound {:5.1}%  ({:.1} s)",
                        studies[s].file,
                        run.eval_mean,
                        100.0 * run.bounds.clipped,
                        100.0 * run.bounds.at_bound,
                        run.seconds
                    );
                    done.lock().expect("no worker panics holding it").push((s, seed, run));
                }
            });
        }
    });
    let mut done = done.into_inner().expect("the workers are done");
    done.sort_by_key(|&(s, seed, _)| (s, seed));
    let mut by_study: Vec<Vec<Run>> = studies.iter().map(|_| Vec::new()).collect();
    for (s, _, run) in done {
        by_study[s].push(run);
    }
    by_study
}

/// The table: per study, every seed's evaluation, then median, worst, best, the medians of
/// the bound shares and of the wall time.
fn table(studies: &[Study], runs: &[Vec<Run>], seeds: u64) -> String {
    let mut table = String::from("| `pendulum` flags |");
    for seed in 1..=seeds {
        let _ = write!(table, " seed {seed} |");
    }
    table.push_str(" median | worst | best | clipped | at a bound | time (s) |\n|---|");
    table.push_str(&"---:|".repeat(seeds as usize + 6));
    table.push('\n');
    for (study, runs) in studies.iter().zip(runs) {
        let _ = write!(table, "| `{}` |", study.flags);
        let evals: Vec<f64> = runs.iter().map(|r| r.eval_mean).collect();
        for eval in &evals {
            let _ = write!(table, " {eval:.1} |");
        }
        let worst = evals.iter().copied().fold(f64::INFINITY, f64::min);
        let best = evals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let of = |f: fn(&Run) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
        let _ = writeln!(
            table,
            " **{:.1}** | {worst:.1} | {best:.1} | {:.1}% | {:.1}% | {:.1} |",
            median(&evals),
            100.0 * of(|r| r.bounds.clipped),
            100.0 * of(|r| r.bounds.at_bound),
            of(|r| r.seconds)
        );
    }
    table
}

/// One line per study: the median over seeds, per iteration, of `value`.
fn medians(
    title: &str,
    axis: &str,
    studies: &[Study],
    runs: &[Vec<Run>],
    value: fn(&(f64, f64, f64)) -> f64,
) -> LinePlot {
    let series = studies
        .iter()
        .zip(runs)
        .map(|(study, runs)| {
            let points = (0..runs[0].curve.len())
                .map(|i| {
                    let values: Vec<f64> = runs.iter().map(|r| value(&r.curve[i])).collect();
                    let finite: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
                    let y = if finite.is_empty() { f64::NAN } else { median(&finite) };
                    (runs[0].curve[i].0, y)
                })
                .collect();
            Series { label: study.file.into(), points, color: study.color.into() }
        })
        .collect();
    LinePlot {
        title: title.into(),
        x_label: "environment steps".into(),
        y_label: axis.into(),
        series,
        hlines: Vec::new(),
    }
}

/// Every seed's learning curve, one chart per study, stacked.
fn per_seed(studies: &[Study], runs: &[Vec<Run>]) -> String {
    const GREYS: [&str; 5] = ["#444444", "#777777", "#999999", "#bbbbbb", "#555555"];
    let charts: Vec<LinePlot> = studies
        .iter()
        .zip(runs)
        .map(|(study, runs)| LinePlot {
            title: format!("Learning curves, seeds 1-{}: pendulum {}", runs.len(), study.flags),
            x_label: "environment steps".into(),
            y_label: "mean return of the episodes ended".into(),
            series: runs
                .iter()
                .enumerate()
                .map(|(i, run)| Series {
                    label: format!("seed {}", i + 1),
                    points: run.curve.iter().map(|p| (p.0, p.1)).collect(),
                    color: if i == 0 { study.color.into() } else { GREYS[i % GREYS.len()].into() },
                })
                .collect(),
            hlines: vec![(-200.0, "−200".into())],
        })
        .collect();
    plot::stack(&charts)
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
    let start = Instant::now();
    let studies = studies();
    let runs = run_all(&studies, seeds);
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src");
    for dir in ["results", "figures"] {
        std::fs::create_dir_all(book.join(dir)).expect("create book output directories");
    }
    let table = table(&studies, &runs, seeds);
    write(&book.join("results/distributions.md"), &table);
    let returns = medians(
        &format!("Median over seeds 1-{seeds} of the training return"),
        "mean return of the episodes ended",
        &studies,
        &runs,
        |p| p.1,
    );
    let entropy = medians(
        &format!("Median over seeds 1-{seeds} of the policy's entropy"),
        "entropy of the action's distribution (nats)",
        &studies,
        &runs,
        |p| p.2,
    );
    write(&book.join("figures/distributions-return.svg"), &returns.to_svg());
    write(&book.join("figures/distributions-entropy.svg"), &entropy.to_svg());
    write(&book.join("figures/distributions-seeds.svg"), &per_seed(&studies, &runs));
    print!("{table}");
    println!(
        "{} runs in {:.0} s of wall time",
        runs.iter().map(Vec::len).sum::<usize>(),
        start.elapsed().as_secs_f64()
    );
}
