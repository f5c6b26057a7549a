//! Regenerates the measurements of the discrete-actions chapter: the two CartPole-v1 presets
//! trained with seeds 1 to 10, each evaluated deterministically over 100 episodes (the most
//! probable action, starting states from a seed disjoint from training, as the `cartpole`
//! program evaluates); the `default` preset trained with smaller budgets, to find the fewest
//! steps that solve every seed; and the `default` preset with each of its choices put back to the
//! `seed` preset's, one at a time.
//!
//! ```text
//! cargo run --release --example cartpole_results                 # everything, seeds 1 to 10
//! cargo run --release --example cartpole_results -- 3            # seeds 1 to 3 only
//! cargo run --release --example cartpole_results -- 10 presets   # some parts only: presets,
//!                                                                # budgets, ablations
//! ```
//!
//! Runs go two at a time, one thread each (the book's machine has two cores). Writes
//! `book/src/results/cartpole*.md` (included by the chapter) and `book/src/figures/cartpole-*.svg`,
//! all a pure function of the code and the seeds except `cartpole-runs.md`, the presets' wall
//! and CPU times, which depend on the machine and on what else it is doing.

mod common;

use common::{median, per_seed, seeds_argument, table_header, thousands, write};
use ppo::CartPole;
use ppo::ppo::{Config, Trainer, UpdateStats, evaluation_seed};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Gymnasium's reward threshold for CartPole-v1: a mean return at or above it is "solved".
const SOLVED: f64 = 475.0;

/// During the preset runs, the deterministic policy is also evaluated every this many steps,
/// for the figure of the evaluation return against training steps.
const EVAL_EVERY: usize = 5_000;

/// A configuration under study: a short name for files, a label for tables, the config, and
/// whether its runs are evaluated along the way (for a figure) or only at the end.
struct Study {
    file: String,
    label: String,
    config: Config,
    checkpoints: bool,
}

impl Study {
    fn new(file: &str, label: &str, config: Config) -> Study {
        Study { file: file.into(), label: label.into(), config, checkpoints: false }
    }
}

fn presets() -> Vec<Study> {
    let mut studies = vec![
        Study::new("default", "`default` preset", Config::cartpole()),
        Study::new(
            "seed",
            "`seed` preset (the TensorFlow overview's table)",
            Config::cartpole_seed(),
        ),
    ];
    for study in &mut studies {
        study.checkpoints = true;
    }
    studies
}

/// The `default` preset with smaller budgets: each row is a run of its own, whose learning
/// rate anneals over its own budget.
fn budgets() -> Vec<Study> {
    [10_000, 15_000, 20_000, 25_000, 30_000, 40_000, 50_000]
        .into_iter()
        .map(|steps| {
            Study::new(
                &format!("budget-{steps}"),
                &format!("{} steps", thousands(steps)),
                Config { total_timesteps: steps, ..Config::cartpole() },
            )
        })
        .collect()
}

/// The `default` preset with one of its choices put back to the `seed` preset's value: what
/// each choice is worth.
fn ablations() -> Vec<Study> {
    let default = Config::cartpole;
    let seed = Config::cartpole_seed();
    let changed = Study::new;
    vec![
        changed("ablation-none", "none: the `default` preset", default()),
        changed("ablation-gamma", "γ = 0.99", Config { gamma: 0.99, ..default() }),
        changed("ablation-lambda", "λ = 0.95", Config { gae_lambda: 0.95, ..default() }),
        changed(
            "ablation-one-env",
            "1 environment × 2048 steps",
            Config { num_envs: 1, rollout_steps: 2048, ..default() },
        ),
        changed("ablation-epochs", "10 epochs", Config { epochs: 10, ..default() }),
        changed(
            "ablation-minibatch",
            "minibatches of 64",
            Config { minibatch_size: 64, ..default() },
        ),
        changed(
            "ablation-learning-rate",
            "learning rates 3e-4 (actor) and 1e-3 (critic), not annealed",
            Config {
                actor_learning_rate: seed.actor_learning_rate,
                critic_learning_rate: seed.critic_learning_rate,
                anneal_learning_rate: false,
                ..default()
            },
        ),
        changed(
            "ablation-entropy",
            "entropy coefficient 0.01",
            Config { entropy_coef: 0.01, ..default() },
        ),
        changed(
            "ablation-grad-clip",
            "no gradient clipping",
            Config { max_grad_norm: None, ..default() },
        ),
        changed(
            "ablation-time-limit",
            "time limits as terminal",
            Config { time_limit: seed.time_limit, ..default() },
        ),
        changed(
            "ablation-init",
            "PyTorch's default initialization",
            Config { init: seed.init, ..default() },
        ),
    ]
}

/// One training run: its learning curve per update, the deterministic evaluations along the
/// way (if asked for), and the final evaluation.
struct Run {
    updates: Vec<UpdateStats>,
    checkpoints: Vec<(usize, f64)>,
    eval_mean: f64,
    eval_std: f64,
    seconds: f64,
    cpu_seconds: Option<f64>,
}

/// Time this thread has spent on a CPU so far, from Linux's `/proc/thread-self/schedstat`
/// (its first field, in nanoseconds), or `None` where there is no such file. Unlike wall
/// time, it does not grow when other programs share the cores.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanoseconds: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(nanoseconds * 1e-9)
}

fn evaluate_actor(trainer: &Trainer<CartPole>, seed: u64) -> (f64, f64) {
    let envs = (0..100).map(|_| CartPole::new()).collect();
    let evaluation = trainer.evaluate(envs, evaluation_seed(seed));
    (evaluation.mean, evaluation.std)
}

fn run(study: &Study, seed: u64) -> Run {
    let config = Config { seed, ..study.config.clone() };
    let (start, cpu_start) = (Instant::now(), thread_cpu_seconds());
    let envs = (0..config.num_envs).map(|_| CartPole::new()).collect();
    let mut trainer = Trainer::new(config, envs);
    let (mut updates, mut checkpoints) = (Vec::new(), Vec::new());
    let mut next_checkpoint = EVAL_EVERY;
    // The evaluations along the way are for the figure, not part of the run: their time is
    // taken out of the run's.
    let (mut aside, mut cpu_aside) = (0.0, 0.0);
    while !trainer.is_done() {
        let stats = trainer.iterate().expect("training diverged");
        if study.checkpoints && stats.timesteps >= next_checkpoint && !trainer.is_done() {
            let (wall, cpu) = (Instant::now(), thread_cpu_seconds());
            checkpoints.push((stats.timesteps, evaluate_actor(&trainer, seed).0));
            aside += wall.elapsed().as_secs_f64();
            cpu_aside += thread_cpu_seconds().zip(cpu).map_or(0.0, |(end, start)| end - start);
            next_checkpoint += EVAL_EVERY;
        }
        updates.push(stats);
    }
    let (eval_mean, eval_std) = evaluate_actor(&trainer, seed);
    let total = updates.last().map_or(0, |u| u.timesteps);
    checkpoints.push((total, eval_mean));
    let cpu_seconds =
        thread_cpu_seconds().zip(cpu_start).map(|(end, start)| end - start - cpu_aside);
    let seconds = start.elapsed().as_secs_f64() - aside;
    Run { updates, checkpoints, eval_mean, eval_std, seconds, cpu_seconds }
}

/// Runs every study with every seed, `THREADS` runs at a time, each on a thread of its own;
/// prints each result as it comes. Returns the runs of each study, in seed order.
fn run_all(studies: &[Study], seeds: u64) -> Vec<Vec<Run>> {
    const THREADS: usize = 2;
    let jobs: Vec<(usize, u64)> =
        (0..studies.len()).flat_map(|s| (1..=seeds).map(move |seed| (s, seed))).collect();
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Option<Run>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                while let Some(&(s, seed)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let result = run(&studies[s], seed);
                    eprintln!(
                        "{:<24} seed {seed:>2}: {:6.1} ± {:5.1}  ({:.1} s, {:.1} s on a CPU)",
                        studies[s].file,
                        result.eval_mean,
                        result.eval_std,
                        result.seconds,
                        result.cpu_seconds.unwrap_or(f64::NAN)
                    );
                    let index = (s * seeds as usize) + (seed as usize - 1);
                    done.lock().expect("no worker panicked")[index] = Some(result);
                }
            });
        }
    });
    let mut runs = done.into_inner().expect("no worker panicked").into_iter();
    studies
        .iter()
        .map(|_| (0..seeds).map(|_| runs.next().flatten().expect("every job ran")).collect())
        .collect()
}

/// Appends the row of `study`: each seed's mean evaluation return (with its spread over the
/// 100 episodes, if `spread`), the median and the worst.
fn table_row(table: &mut String, study: &Study, runs: &[Run], spread: bool) {
    let _ = write!(table, "| {} |", study.label);
    for run in runs {
        if spread {
            let _ = write!(table, " {:.1} ± {:.1} |", run.eval_mean, run.eval_std);
        } else {
            let _ = write!(table, " {:.1} |", run.eval_mean);
        }
    }
    let mut means: Vec<f64> = runs.iter().map(|r| r.eval_mean).collect();
    let worst = means.iter().copied().fold(f64::INFINITY, f64::min);
    let _ = writeln!(table, " **{:.1}** | {worst:.1} |", median(&mut means));
}

/// A row's name and what it reads out of a run.
type Named<'a, T> = (&'a str, &'a dyn Fn(&Run) -> T);

/// When, within its run, each seed's deterministic policy first reached the threshold, and
/// from when on it stayed there at every later evaluation: two rows per study, in steps.
fn checkpoint_rows(table: &mut String, study: &Study, runs: &[Run]) {
    let first = |run: &Run| run.checkpoints.iter().find(|c| c.1 >= SOLVED).map(|c| c.0);
    let stays = |run: &Run| {
        let last_miss = run.checkpoints.iter().rposition(|c| c.1 < SOLVED);
        let from = last_miss.map_or(0, |i| i + 1);
        run.checkpoints.get(from).map(|c| c.0)
    };
    let rows: [Named<Option<usize>>; 2] =
        [("first reaches 475", &first), ("stays at 475 or above from", &stays)];
    for (what, when) in rows {
        let _ = write!(table, "| {}: {what} |", study.label);
        let mut steps = Vec::new();
        for run in runs {
            match when(run) {
                Some(t) => {
                    let _ = write!(table, " {} |", thousands(t));
                    steps.push(t as f64);
                }
                None => table.push_str(" never |"),
            }
        }
        if steps.len() == runs.len() {
            let worst = steps.iter().copied().fold(0.0, f64::max);
            let _ = writeln!(
                table,
                " **{}** | {} |",
                thousands(median(&mut steps) as usize),
                thousands(worst as usize)
            );
        } else {
            table.push_str(" | never |\n");
        }
    }
}

/// The mean length of the episodes that ended in each seed's first rollout and in its last
/// one in which any ended: how many steps "20 whole episodes" would have been.
fn episode_rows(table: &mut String, study: &Study, runs: &[Run]) {
    let first = |run: &Run| run.updates.iter().find_map(|u| u.episode_length);
    let last = |run: &Run| run.updates.iter().rev().find_map(|u| u.episode_length);
    let rows: [Named<Option<f64>>; 2] = [("first rollout", &first), ("last rollout", &last)];
    for (what, length) in rows {
        let _ = write!(table, "| {}: {what} |", study.label);
        let mut lengths: Vec<f64> =
            runs.iter().map(|run| length(run).unwrap_or(f64::NAN)).collect();
        for length in &lengths {
            let _ = write!(table, " {length:.1} |");
        }
        let shortest = lengths.iter().copied().fold(f64::INFINITY, f64::min);
        let _ = writeln!(table, " **{:.1}** | {shortest:.1} |", median(&mut lengths));
    }
}

/// Each preset's steps trained, and the wall and CPU time of each run (training and the
/// final evaluation, without the evaluations along the way): median and longest.
fn time_rows(table: &mut String, study: &Study, runs: &[Run]) {
    let steps = |run: &Run| run.updates.last().map_or(0.0, |u| u.timesteps as f64);
    let wall = |run: &Run| run.seconds;
    let cpu = |run: &Run| run.cpu_seconds.unwrap_or(f64::NAN);
    let count = |v: f64| thousands(v as usize);
    let seconds = |v: f64| format!("{v:.1}");
    type Row<'a> = (&'a str, &'a dyn Fn(&Run) -> f64, &'a dyn Fn(f64) -> String);
    let rows: [Row; 3] = [
        ("steps", &steps, &count),
        ("wall time (s)", &wall, &seconds),
        ("CPU time (s)", &cpu, &seconds),
    ];
    for (what, value, shown) in rows {
        let _ = write!(table, "| {}: {what} |", study.label);
        let mut values: Vec<f64> = runs.iter().map(value).collect();
        for &v in &values {
            let _ = write!(table, " {} |", shown(v));
        }
        let longest = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let _ = writeln!(table, " **{}** | {} |", shown(median(&mut values)), shown(longest));
    }
}

/// Points of a run to draw: `(environment steps, value)`.
type Points = fn(&Run) -> Vec<(f64, f64)>;

/// The figures of a preset: its learning curves, its deterministic evaluations along the way
/// and its entropy, one line per seed, in `figures/cartpole-{curves,eval,entropy}-FILE.svg`.
fn draw_figures(book: &Path, study: &Study, runs: &[Run]) {
    let every = thousands(EVAL_EVERY);
    // An update in which no episode ended has no return; the line joins the others.
    let training: Points = |run| {
        run.updates.iter().filter_map(|u| Some((u.timesteps as f64, u.episode_return?))).collect()
    };
    let evaluations: Points = |run| run.checkpoints.iter().map(|&(t, r)| (t as f64, r)).collect();
    let entropy: Points =
        |run| run.updates.iter().map(|u| (u.timesteps as f64, f64::from(u.entropy))).collect();
    let figures = [
        ("curves", "learning curves", "mean return of the episodes ended in the rollout", training),
        (
            "eval",
            &format!("the deterministic policy every {every} steps") as &str,
            "mean return over 100 evaluation episodes",
            evaluations,
        ),
        ("entropy", "the policy's entropy", "entropy (nats; ln 2 = 0.693 is a coin flip)", entropy),
    ];
    for (file, what, y_label, points) in figures {
        let title = format!("CartPole-v1, {what}: {}", study.label.replace('`', ""));
        let mut plot = per_seed(title, y_label, runs.iter().map(points).collect());
        if file != "entropy" {
            plot.hlines = vec![(SOLVED, format!("{SOLVED}: solved"))];
        }
        write(&book.join(format!("figures/cartpole-{file}-{}.svg", study.file)), &plot.to_svg());
    }
}

/// Trains `studies`, writes their table to `results/NAME.md`, and returns their runs.
fn tabulate(
    book: &Path,
    name: &str,
    first: &str,
    studies: &[Study],
    seeds: u64,
    spread: bool,
) -> Vec<Vec<Run>> {
    let runs = run_all(studies, seeds);
    let mut table = table_header(first, seeds, "worst");
    for (study, runs) in studies.iter().zip(&runs) {
        table_row(&mut table, study, runs, spread);
    }
    write(&book.join(format!("results/{name}.md")), &table);
    print!("{table}");
    runs
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    const PARTS: [&str; 3] = ["presets", "budgets", "ablations"];
    let asked: Vec<String> = args.iter().filter(|a| PARTS.contains(&a.as_str())).cloned().collect();
    args.retain(|a| !PARTS.contains(&a.as_str()));
    let part = |name: &str| asked.is_empty() || asked.iter().any(|a| a == name);
    let seeds = seeds_argument(&args, "the parts presets, budgets, ablations");
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src");
    for dir in ["results", "figures"] {
        std::fs::create_dir_all(book.join(dir)).expect("create book output directories");
    }
    let started = Instant::now();

    if part("presets") {
        presets_part(&book, seeds);
    }
    if part("budgets") {
        tabulate(&book, "cartpole-budgets", "`default` trained for", &budgets(), seeds, false);
    }
    if part("ablations") {
        tabulate(&book, "cartpole-ablations", "changed from `default`", &ablations(), seeds, false);
    }
    eprintln!("all runs: {:.0} s of wall time", started.elapsed().as_secs_f64());
}

/// The two presets: their final evaluations, when they reached the threshold, their episode
/// lengths, their times and their figures.
fn presets_part(book: &Path, seeds: u64) {
    let studies = presets();
    let runs = tabulate(book, "cartpole", "configuration", &studies, seeds, true);
    let mut table = table_header("preset: the deterministic policy", seeds, "latest");
    for (study, runs) in studies.iter().zip(&runs) {
        checkpoint_rows(&mut table, study, runs);
    }
    write(&book.join("results/cartpole-checkpoints.md"), &table);
    print!("{table}");
    let mut table = table_header("preset: mean episode length in the", seeds, "shortest");
    for (study, runs) in studies.iter().zip(&runs) {
        episode_rows(&mut table, study, runs);
    }
    write(&book.join("results/cartpole-episodes.md"), &table);
    print!("{table}");
    let mut table = table_header("preset", seeds, "longest");
    for (study, runs) in studies.iter().zip(&runs) {
        time_rows(&mut table, study, runs);
    }
    write(&book.join("results/cartpole-runs.md"), &table);
    print!("{table}");
    for (study, runs) in studies.iter().zip(&runs) {
        draw_figures(book, study, runs);
    }
}
