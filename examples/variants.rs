//! Regenerates the measurements of the book's Variants part: each variant of PPO, and each
//! design of the write-ups, trained with seeds 1 to 10 and evaluated as the programs evaluate
//! (the deterministic policy over 100 fresh episodes); one table per group and its learning
//! curves, and the per-sample objectives of chapter 16.
//!
//! ```text
//! cargo run --release --example variants                          # every group, seeds 1-10
//! cargo run --release --example variants -- --group objectives    # one group (repeatable)
//! cargo run --release --example variants -- --seeds 3             # seeds 1 to 3 only
//! cargo run --release --example variants -- --list                # the groups
//! ```
//!
//! Runs go two at a time (`--jobs`), one per core of the book's machine. A configuration that
//! appears in several groups (the `default` preset is in most) is trained once per invocation.
//! The light groups come first; `designs` holds the three heavy presets (the PyTorch
//! chapter's million steps, the JAX write-up's 5.2 million with and without SPO) and comes
//! last. `--heavy-seeds` sets their seeds apart from the others'.
//!
//! How long it takes, on the book's 2-core machine (for its first 472 s `examples/results.rs`
//! ran beside it, one run at a time; the rest on the idle machine): every group over ten seeds,
//! the heavy designs too (`--seeds 10 --heavy-seeds 10`, the defaults), took 1157 s of wall
//! time, about 19 minutes. By group, in the order they ran: objectives 103 s, shared-trunk
//! 112 s, shared-network 31 s, early-stopping 31 s, normalization 47 s, entropy 23 s,
//! activation 19 s, adam-eps 12 s, adopted 0 s (every run it needs was already trained),
//! budgets 72 s, and designs 708 s, most of it the 30 heavy runs: 29 to 40 s each for
//! the PyTorch chapter's design, 44 to 52 s for the 1024-environment ones. Run again alone on
//! 3 December 2026, after the 1024-environment minibatches were cut into pieces, designs took
//! 583 s: 31 to 36 s a PyTorch-chapter run, 30 to 39 s a 1024-environment one.
//!
//! Writes `book/src/results/variants-GROUP.md` and `book/src/figures/variants-GROUP-*.svg`,
//! all a pure function of the code and the seeds except the wall-time column, which depends on
//! what else the machine is doing.

mod support;

use ppo::autodiff::Tape;
use ppo::gae::TimeLimit;
use ppo::loss::{Objective, policy_objective};
use ppo::nn::{Activation, StdParam};
use ppo::plot::{LinePlot, Series, stack};
use ppo::ppo::{Config, Divergence, UpdateStats};
use ppo::tensor::Tensor;
use ppo::{CartPole, Pendulum};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::rc::Rc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use support::{Measure, Run, SEED_COLORS, median, thousands, write};

/// The environment a variant is trained on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Task {
    Pendulum,
    CartPole,
}

impl Task {
    fn name(self) -> &'static str {
        match self {
            Task::Pendulum => "pendulum",
            Task::CartPole => "cartpole",
        }
    }

    /// The return that counts as solved: Pendulum's −200 (chapter 6), Gymnasium's 475 for
    /// CartPole-v1.
    fn solved(self) -> f64 {
        match self {
            Task::Pendulum => -200.0,
            Task::CartPole => 475.0,
        }
    }

    fn marks(self) -> Vec<(f64, String)> {
        match self {
            Task::Pendulum => vec![(-200.0, "−200".into()), (-150.0, "−150".into())],
            Task::CartPole => vec![(475.0, "475".into())],
        }
    }

    fn run(self, config: &Config, seed: u64) -> Result<Run, Divergence> {
        match self {
            Task::Pendulum => support::run(config, seed, Pendulum::new),
            Task::CartPole => support::run(config, seed, CartPole::new),
        }
    }
}

/// One row of a table: a configuration on a task.
struct Variant {
    label: String,
    task: Task,
    config: Config,
}

fn pendulum(label: &str, config: Config) -> Variant {
    Variant { label: label.into(), task: Task::Pendulum, config }
}

fn cartpole(label: &str, config: Config) -> Variant {
    Variant { label: label.into(), task: Task::CartPole, config }
}

/// A table of the book and its figures.
struct Group {
    name: &'static str,
    about: &'static str,
    variants: Vec<Variant>,
    /// Draw the approximate KL and the clip fraction beside the returns.
    diagnostics: bool,
}

fn groups() -> Vec<Group> {
    let default = Config::default;
    let reference = || pendulum("the `default` preset", default());
    vec![
        Group {
            name: "objectives",
            about: "the policy objective, on the default preset",
            diagnostics: true,
            variants: vec![
                pendulum("clip (the `default` preset)", default()),
                pendulum("SPO", Config { objective: Objective::Spo, ..default() }),
                pendulum(
                    "SPO, advantages normalized per minibatch",
                    Config { objective: Objective::Spo, minibatch_advantages: true, ..default() },
                ),
                pendulum(
                    "KL penalty, fixed β = 1",
                    Config { objective: Objective::KlPenalty, kl_coef: 1.0, ..default() },
                ),
                pendulum(
                    "KL penalty, adaptive (d_targ = 0.01, β from 1)",
                    Config {
                        objective: Objective::KlPenalty,
                        kl_coef: 1.0,
                        adaptive_kl: Some(0.01),
                        ..default()
                    },
                ),
                pendulum(
                    "none (no clip, no penalty)",
                    Config { objective: Objective::Unclipped, ..default() },
                ),
            ],
        },
        Group {
            name: "shared-trunk",
            about: "what makes or breaks the shared-network write-up's design on Pendulum",
            diagnostics: false,
            variants: shared_trunk_ablation(),
        },
        Group {
            name: "shared-network",
            about: "one trunk for policy and value, by value coefficient",
            diagnostics: false,
            variants: [0.25, 0.5, 1.0, 2.0]
                .into_iter()
                .map(|c| {
                    let config = Config { shared_network: true, value_coef: c, ..default() };
                    pendulum(&format!("shared, value_coef {c}"), config)
                })
                .fold(vec![pendulum("two networks (the `default` preset)", default())], push),
        },
        Group {
            name: "early-stopping",
            about: "stopping the epochs on the approximate KL (Stable-Baselines3's rule)",
            diagnostics: false,
            variants: [0.01, 0.02, 0.05]
                .into_iter()
                .map(|t| {
                    pendulum(&format!("target_kl {t}"), Config { target_kl: Some(t), ..default() })
                })
                .fold(vec![reference()], push),
        },
        Group {
            name: "normalization",
            about: "running normalization of observations, rewards; advantages per minibatch",
            diagnostics: false,
            variants: vec![
                pendulum("observations (the `default` preset)", default()),
                pendulum("none", Config { normalize_observations: false, ..default() }),
                pendulum(
                    "rewards",
                    Config { normalize_observations: false, normalize_rewards: true, ..default() },
                ),
                pendulum(
                    "observations and rewards",
                    Config { normalize_rewards: true, ..default() },
                ),
                pendulum(
                    "observations, advantages per minibatch",
                    Config { minibatch_advantages: true, ..default() },
                ),
            ],
        },
        Group {
            name: "entropy",
            about: "the entropy bonus, fixed or decayed",
            diagnostics: false,
            variants: vec![
                pendulum("0 (the `default` preset)", default()),
                pendulum("0.01", Config { entropy_coef: 0.01, ..default() }),
                pendulum(
                    "0.01, decayed linearly",
                    Config { entropy_coef: 0.01, anneal_entropy: true, ..default() },
                ),
            ],
        },
        Group {
            name: "activation",
            about: "the hidden layers' nonlinearity",
            diagnostics: false,
            variants: vec![
                pendulum("ReLU (the `default` preset)", default()),
                pendulum("tanh", Config { activation: Activation::Tanh, ..default() }),
            ],
        },
        Group {
            name: "adam-eps",
            about: "Adam's ε",
            diagnostics: false,
            variants: vec![
                pendulum("1e-8 (the `default` preset)", default()),
                pendulum("1e-5", Config { adam_eps: 1e-5, ..default() }),
            ],
        },
        Group {
            name: "adopted",
            about: "the `default` preset before and after adopting observation normalization",
            diagnostics: false,
            variants: vec![
                pendulum("the `default` preset (observations normalized)", default()),
                pendulum(
                    "before the adoption (observations not normalized)",
                    Config { normalize_observations: false, ..default() },
                ),
            ],
        },
        Group {
            name: "budgets",
            about: "the heavy designs at smaller budgets",
            diagnostics: false,
            variants: vec![
                pendulum(
                    "`pytorch-chapter` for 100,000 steps",
                    Config { total_timesteps: 100_000, ..Config::pytorch_chapter() },
                ),
                pendulum(
                    "`pytorch-chapter` for 100,000 steps, time limits bootstrapped",
                    Config {
                        total_timesteps: 100_000,
                        time_limit: TimeLimit::Bootstrap,
                        ..Config::pytorch_chapter()
                    },
                ),
                cartpole(
                    "`jax-1024` with 64 environments (40 updates)",
                    jax_64(Config::cartpole_1024()),
                ),
                cartpole(
                    "`jax-1024-spo` with 64 environments (40 updates)",
                    jax_64(Config::cartpole_1024_spo()),
                ),
            ],
        },
        Group {
            name: "designs",
            about: "the five write-ups' designs side by side",
            diagnostics: false,
            variants: vec![
                pendulum("`seed` (the JAX/Flax table)", Config::seed()),
                pendulum("`default`", default()),
                pendulum(
                    "`shared-trunk` (the shared-network JAX write-up)",
                    Config::shared_trunk(),
                ),
                pendulum("`pytorch-chapter` (the PyTorch chapter)", Config::pytorch_chapter()),
                cartpole("`seed` (the TensorFlow overview)", Config::cartpole_seed()),
                cartpole("`default`", Config::cartpole()),
                cartpole("`jax-1024` (the from-scratch JAX write-up)", Config::cartpole_1024()),
                cartpole("`jax-1024-spo` (its SPO switch)", Config::cartpole_1024_spo()),
            ],
        },
    ]
}

fn push(mut variants: Vec<Variant>, variant: Variant) -> Vec<Variant> {
    variants.push(variant);
    variants
}

/// The `shared-trunk` preset with one or two of its choices changed: each suspect of its
/// failure on Pendulum, alone and together.
fn shared_trunk_ablation() -> Vec<Variant> {
    let trunk = Config::shared_trunk;
    let bootstrap = TimeLimit::Bootstrap;
    vec![
        pendulum("`shared-trunk`", trunk()),
        pendulum("time limits bootstrapped", Config { time_limit: bootstrap, ..trunk() }),
        pendulum("rewards × 0.1", Config { reward_scale: 0.1, ..trunk() }),
        pendulum("value_coef 0.05", Config { value_coef: 0.05, ..trunk() }),
        pendulum(
            "log σ starting at 0",
            Config {
                std_param: StdParam::LogStd { init: 0.0, clamp: Some((-20.0, 2.0)) },
                ..trunk()
            },
        ),
        pendulum("learning rate 1e-3", Config { actor_learning_rate: 1e-3, ..trunk() }),
        pendulum("two networks", Config { shared_network: false, ..trunk() }),
        pendulum(
            "time limits bootstrapped, rewards × 0.1",
            Config { time_limit: bootstrap, reward_scale: 0.1, ..trunk() },
        ),
    ]
}

/// A 1024-environment design with 64 environments, its updates and minibatch count kept.
fn jax_64(config: Config) -> Config {
    let updates = config.updates();
    Config {
        num_envs: 64,
        total_timesteps: updates * 64 * config.rollout_steps,
        minibatch_size: 64 * config.rollout_steps / 4,
        ..config
    }
}

/// How one seed's run ended.
enum Outcome {
    Trained(Run),
    Diverged { update: usize, seconds: f64 },
}

impl Outcome {
    /// The evaluation, a diverged run counting as the worst possible.
    fn score(&self) -> f64 {
        match self {
            Outcome::Trained(run) => run.eval_mean,
            Outcome::Diverged { .. } => f64::NEG_INFINITY,
        }
    }

    fn seconds(&self) -> f64 {
        match self {
            Outcome::Trained(run) => run.seconds,
            Outcome::Diverged { seconds, .. } => *seconds,
        }
    }

    fn updates(&self) -> &[UpdateStats] {
        match self {
            Outcome::Trained(run) => &run.updates,
            Outcome::Diverged { .. } => &[],
        }
    }
}

/// Trains and remembers: a configuration measured once is not trained again.
struct Lab {
    seeds: u64,
    /// Seeds of the heavy variants (see [`is_heavy`]).
    heavy_seeds: u64,
    jobs: usize,
    measured: HashMap<String, Rc<Vec<Outcome>>>,
}

/// A variant of more than a million steps: minutes per seed.
fn is_heavy(variant: &Variant) -> bool {
    variant.config.total_timesteps > 1_000_000
}

fn key(variant: &Variant) -> String {
    format!("{:?} {:?}", variant.task, variant.config)
}

impl Lab {
    /// Every seed of every variant, the new ones trained `jobs` at a time.
    fn measure(&mut self, group: &str, variants: &[Variant]) -> Vec<Rc<Vec<Outcome>>> {
        let mut todo: Vec<&Variant> = Vec::new();
        for variant in variants {
            if !self.measured.contains_key(&key(variant))
                && !todo.iter().any(|v| key(v) == key(variant))
            {
                todo.push(variant);
            }
        }
        let seeds_of =
            |v: &Variant| if is_heavy(v) { self.heavy_seeds } else { self.seeds } as usize;
        // Each run is a variant and a seed, the variants' runs one after another.
        let jobs: Vec<(&Variant, u64)> = todo
            .iter()
            .flat_map(|&v| (1..=seeds_of(v) as u64).map(move |seed| (v, seed)))
            .collect();
        let runs = jobs.len();
        let next = AtomicUsize::new(0);
        let slots: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..runs).map(|_| None).collect());
        std::thread::scope(|scope| {
            for _ in 0..self.jobs.min(runs) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= runs {
                            break;
                        }
                        let (variant, seed) = jobs[i];
                        let start = Instant::now();
                        let outcome = match variant.task.run(&variant.config, seed) {
                            Ok(run) => {
                                eprintln!(
                                    "{group:<15} {:<50} seed {seed:>2}: {:8.1} ± {:5.1}  ({:.1} s)",
                                    variant.label, run.eval_mean, run.eval_std, run.seconds
                                );
                                Outcome::Trained(run)
                            }
                            Err(divergence) => {
                                eprintln!(
                                    "{group:<15} {:<50} seed {seed:>2}: {divergence}",
                                    variant.label
                                );
                                let seconds = start.elapsed().as_secs_f64();
                                Outcome::Diverged { update: divergence.update, seconds }
                            }
                        };
                        slots.lock().expect("no worker panicked")[i] = Some(outcome);
                    }
                });
            }
        });
        let mut slots = slots.into_inner().expect("no worker panicked").into_iter();
        for variant in todo {
            let outcomes =
                slots.by_ref().take(seeds_of(variant)).map(|o| o.expect("every run ran")).collect();
            self.measured.insert(key(variant), Rc::new(outcomes));
        }
        variants.iter().map(|v| Rc::clone(&self.measured[&key(v)])).collect()
    }
}

/// The first environment step at which the training return reached the task's mark, or
/// `None` if it never did.
fn steps_to_solve(updates: &[UpdateStats], task: Task) -> Option<usize> {
    updates
        .iter()
        .find(|u| u.episode_return.is_some_and(|r| r >= task.solved()))
        .map(|u| u.timesteps)
}

fn score(x: f64) -> String {
    if x == f64::NEG_INFINITY { "diverged".into() } else { format!("{x:.1}") }
}

/// The group's table: one row per variant.
fn table(group: &Group, results: &[Rc<Vec<Outcome>>]) -> String {
    let tasks = group.variants.iter().any(|v| v.task != group.variants[0].task);
    let mut table = String::from(if tasks { "| task " } else { "" });
    table.push_str(
        "| variant | median | worst | best | solved | steps to solve (median) | seconds per run (median) |\n",
    );
    table.push_str(if tasks { "|---" } else { "" });
    table.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
    for (variant, outcomes) in group.variants.iter().zip(results) {
        let mut scores: Vec<f64> = outcomes.iter().map(Outcome::score).collect();
        let solved = scores.iter().filter(|&&s| s >= variant.task.solved()).count();
        let n = scores.len();
        let middle = median(&mut scores);
        let (worst, best) = (scores[0], scores[n - 1]);
        // A seed that never reached the mark counts as the slowest; if half of them never
        // did, neither did the median.
        let mut steps: Vec<f64> = outcomes
            .iter()
            .map(|o| steps_to_solve(o.updates(), variant.task).map_or(f64::INFINITY, |s| s as f64))
            .collect();
        let reached = steps.iter().filter(|s| s.is_finite()).count();
        let steps = median(&mut steps);
        let steps =
            if steps.is_finite() { thousands(steps as usize) } else { "not reached".into() };
        let mut seconds: Vec<f64> = outcomes.iter().map(Outcome::seconds).collect();
        if tasks {
            let _ = write!(table, "| {} ", variant.task.name());
        }
        let _ = writeln!(
            table,
            "| {} | **{}** | {} | {} | {solved}/{n} | {steps} ({reached}/{n}) | {:.0} |",
            variant.label,
            score(middle),
            score(worst),
            score(best),
            median(&mut seconds)
        );
        for outcome in outcomes.iter() {
            if let Outcome::Diverged { update, .. } = outcome {
                eprintln!("note: {} diverged at update {update}", variant.label);
            }
        }
    }
    table
}

/// The median over seeds of one measure, update by update, for each variant on `task`.
fn median_curves(
    title: &str,
    y_label: &str,
    task: Task,
    group: &Group,
    results: &[Rc<Vec<Outcome>>],
    value: Measure,
) -> LinePlot {
    let series = group
        .variants
        .iter()
        .zip(results)
        .enumerate()
        .filter(|(_, (v, _))| v.task == task)
        .map(|(i, (variant, outcomes))| {
            let longest = outcomes.iter().map(|o| o.updates().len()).max().unwrap_or(0);
            let points = (0..longest)
                .map(|k| {
                    let at: Vec<&UpdateStats> =
                        outcomes.iter().filter_map(|o| o.updates().get(k)).collect();
                    let mut values: Vec<f64> =
                        at.iter().map(|u| value(u)).filter(|x| x.is_finite()).collect();
                    let y = if values.is_empty() { f64::NAN } else { median(&mut values) };
                    (at[0].timesteps as f64, y)
                })
                .collect();
            Series {
                label: variant.label.replace('`', ""),
                points,
                color: SEED_COLORS[i % SEED_COLORS.len()].into(),
            }
        })
        .collect();
    LinePlot {
        title: title.into(),
        x_label: "environment steps".into(),
        y_label: y_label.into(),
        series,
        hlines: if y_label.contains("return") { task.marks() } else { Vec::new() },
    }
}

fn figures(book: &Path, group: &Group, results: &[Rc<Vec<Outcome>>]) {
    let mut tasks: Vec<Task> = group.variants.iter().map(|v| v.task).collect();
    tasks.dedup();
    let several = tasks.len() > 1;
    for task in tasks {
        let stem = if several {
            format!("figures/variants-{}-{}", group.name, task.name())
        } else {
            format!("figures/variants-{}", group.name)
        };
        let mut charts: Vec<(&str, &str, Measure)> =
            vec![("returns", "median return of the episodes ended in the rollout", |u| {
                u.episode_return.unwrap_or(f64::NAN)
            })];
        if group.diagnostics {
            charts.push(("approx-KL", "log₁₀ of the approximate KL", |u| {
                f64::from(u.approx_kl).log10()
            }));
            charts.push(("clip-fraction", "clip fraction", |u| f64::from(u.clip_fraction)));
        }
        for (name, y_label, value) in charts {
            let title = format!("{}, {}: median of seeds", group.about, task.name());
            let plot = median_curves(&title, y_label, task, group, results, value);
            write(&book.join(format!("{stem}-{name}.svg")), &plot.to_svg());
        }
    }
}

/// The per-sample objective of each [`Objective`] and its derivative in the ratio, for an
/// advantage of +1 and of −1, computed by the library's own `policy_objective` on a tape.
fn objective_shapes(book: &Path) {
    let (epsilon, beta) = (0.2f32, 1.0f32);
    let ratios: Vec<f32> = (0..=200).map(|i| 0.4 + 1.2 * i as f32 / 200.0).collect();
    let objectives = [
        ("clip", Objective::Clipped, SEED_COLORS[0]),
        ("SPO", Objective::Spo, SEED_COLORS[1]),
        ("KL penalty, β = 1", Objective::KlPenalty, SEED_COLORS[2]),
        ("none", Objective::Unclipped, SEED_COLORS[3]),
    ];
    let mut plots = Vec::new();
    for advantage in [1.0f32, -1.0] {
        let mut values = Vec::new();
        let mut slopes = Vec::new();
        for &(label, objective, color) in &objectives {
            let (mut value, mut slope) = (Vec::new(), Vec::new());
            for &r in &ratios {
                let mut tape = Tape::new();
                let new = tape.param(&Tensor::from_vec(&[1], vec![r.ln()]));
                let old = tape.constant(&Tensor::from_vec(&[1], vec![0.0]));
                let a = tape.constant(&Tensor::from_vec(&[1], vec![advantage]));
                let loss = policy_objective(&mut tape, objective, new, old, a, epsilon, beta).loss;
                tape.backward(loss);
                // The loss is the negated objective; d/dr = d/d(log r) ÷ r.
                value.push((f64::from(r), -f64::from(tape.value(loss).item())));
                slope.push((f64::from(r), -f64::from(tape.grad(new).item() / r)));
            }
            let series = |points| Series { label: label.into(), points, color: color.into() };
            values.push(series(value));
            slopes.push(series(slope));
        }
        let sign = if advantage > 0.0 { "+1" } else { "−1" };
        plots.push(LinePlot {
            title: format!("per-sample objective, advantage {sign} (ε = 0.2)"),
            x_label: "probability ratio r".into(),
            y_label: "objective".into(),
            series: values,
            hlines: Vec::new(),
        });
        plots.push(LinePlot {
            title: format!("its derivative in r, advantage {sign}"),
            x_label: "probability ratio r".into(),
            y_label: "d objective / dr".into(),
            series: slopes,
            hlines: vec![(0.0, "0".into())],
        });
    }
    write(&book.join("figures/variants-objective-shapes.svg"), &stack(&plots));
}

struct Options {
    groups: Vec<String>,
    seeds: u64,
    heavy_seeds: Option<u64>,
    jobs: usize,
}

const USAGE: &str = "usage: variants [--group NAME]... [--seeds N (1-10)] [--heavy-seeds N] [--jobs N] [--list]\n\
  --seeds N        train seeds 1 to N (10)\n\
  --heavy-seeds N  seeds of the variants of more than a million steps (as --seeds)";

fn options() -> Result<Options, String> {
    let mut options = Options { groups: Vec::new(), seeds: 10, heavy_seeds: None, jobs: 2 };
    let mut args = std::env::args().skip(1);
    let known: Vec<&str> = groups().iter().map(|g| g.name).collect();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--group" => {
                let name = value("--group")?;
                if !known.contains(&name.as_str()) {
                    return Err(format!("no group '{name}'; the groups are {}", known.join(", ")));
                }
                options.groups.push(name);
            }
            "--seeds" => {
                options.seeds = match value("--seeds")?.parse() {
                    Ok(n) if (1..=10).contains(&n) => n,
                    _ => return Err("--seeds takes a number from 1 to 10".into()),
                }
            }
            "--heavy-seeds" => {
                options.heavy_seeds = match value("--heavy-seeds")?.parse() {
                    Ok(n) if (1..=10).contains(&n) => Some(n),
                    _ => return Err("--heavy-seeds takes a number from 1 to 10".into()),
                }
            }
            "--jobs" => {
                options.jobs = match value("--jobs")?.parse() {
                    Ok(n) if n >= 1 => n,
                    _ => return Err("--jobs takes a number of at least 1".into()),
                }
            }
            "--list" => {
                for group in groups() {
                    println!(
                        "{:<15} {} ({} variants)",
                        group.name,
                        group.about,
                        group.variants.len()
                    );
                }
                std::process::exit(0);
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unexpected argument '{other}'\n{USAGE}")),
        }
    }
    Ok(options)
}

fn main() {
    let options = options().unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2)
    });
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src");
    for dir in ["results", "figures"] {
        std::fs::create_dir_all(book.join(dir)).expect("create book output directories");
    }
    let started = Instant::now();
    objective_shapes(&book);
    let mut lab = Lab {
        seeds: options.seeds,
        heavy_seeds: options.heavy_seeds.unwrap_or(options.seeds),
        jobs: options.jobs,
        measured: HashMap::new(),
    };
    // The groups asked for, in the order asked; all of them, the light ones first, if none was.
    let mut chosen = groups();
    if !options.groups.is_empty() {
        let mut all = chosen;
        chosen = options
            .groups
            .iter()
            .filter_map(|name| all.iter().position(|g| g.name == name).map(|at| all.remove(at)))
            .collect();
    }
    for group in chosen {
        let group_start = Instant::now();
        let results = lab.measure(group.name, &group.variants);
        let table = table(&group, &results);
        write(&book.join(format!("results/variants-{}.md", group.name)), &table);
        figures(&book, &group, &results);
        println!("## {} ({:.0} s)\n\n{table}", group.name, group_start.elapsed().as_secs_f64());
    }
    println!("took {:.0} s in all", started.elapsed().as_secs_f64());
}
