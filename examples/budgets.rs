//! Trains one configuration at several budgets of environment steps, for seeds 1 to 10, and
//! prints for every run its final evaluation (100 deterministic episodes, as the `pendulum`
//! program evaluates), whether an update diverged, and its wall time; then, per budget, the
//! median and the worst evaluation and the largest approximate KL of any update.
//!
//! ```text
//! cargo run --release --example budgets                      # default preset, 50k to 1M steps
//! cargo run --release --example budgets -- --write   # ... and book/src/results/budgets-default.md
//! cargo run --release --example budgets -- --budgets 100000  # one budget
//! cargo run --release --example budgets -- --variant anneal-over-run --budgets 1000000 --seeds 4
//! cargo run --release --example budgets -- --trace 1000000 --seed 1   # one run, every update
//! ```
//!
//! Runs are independent, so two train at a time, one per thread (the machine this was written
//! on has two cores); a 1,000,000-step run takes about 41 s of one core. Everything printed is a
//! pure function of the code and the seeds except the wall times, which depend on what else the
//! machine is doing; the file `--write` leaves has no wall times for that reason.

use ppo::Pendulum;
use ppo::checkpoint::write_atomic;
use ppo::nn::StdParam;
use ppo::ppo::{Config, Trainer, UpdateStats, evaluation_seed};
use ppo::{Actor, Workspace};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The budgets the book's table covers.
const BUDGETS: [usize; 5] = [50_000, 100_000, 200_000, 500_000, 1_000_000];

/// Runs trained at the same time.
const THREADS: usize = 2;

/// A configuration the harness can train, by name: the presets, and the `default` preset with
/// one change, each a candidate measured for chapter 10's "Long runs".
fn variant(name: &str) -> Option<Config> {
    let default = Config::default;
    let floor = |sigma: f32| StdParam::LogStd { init: 0.0, clamp: Some((sigma.ln(), 2.0)) };
    Some(match name {
        "default" => default(),
        "seed" => Config::seed(),
        "anneal-over-run" => Config { anneal_horizon: None, ..default() },
        "no-anneal" => Config { anneal_learning_rate: false, ..default() },
        "run-floor-0.2" => Config { anneal_horizon: None, std_param: floor(0.2), ..default() },
        "run-entropy-0.01" => Config { anneal_horizon: None, entropy_coef: 0.01, ..default() },
        "run-actor-lr-3e-4" => {
            Config { anneal_horizon: None, actor_learning_rate: 3e-4, ..default() }
        }
        "run-grad-clip-0.1" => {
            Config { anneal_horizon: None, max_grad_norm: Some(0.1), ..default() }
        }
        _ => return None,
    })
}

const VARIANTS: &[&str] = &[
    "default",
    "seed",
    "anneal-over-run",
    "no-anneal",
    "run-floor-0.2",
    "run-entropy-0.01",
    "run-actor-lr-3e-4",
    "run-grad-clip-0.1",
];

/// What one run did.
struct Run {
    /// The final evaluation's mean return, when training finished.
    eval: Option<f64>,
    /// The update that diverged, and what broke.
    divergence: Option<String>,
    /// Largest approximate KL of any update, and the update it happened in.
    max_kl: (f32, usize),
    /// σ of the policy when training stopped.
    final_std: f32,
    seconds: f64,
}

/// σ of the policy in the upright state: the `default` preset's σ is the same in every state,
/// the `seed` preset's is not. Read through the network, as acting reads it.
fn policy_std(actor: &Actor) -> f32 {
    let (mut mean, mut std) = ([0.0], [0.0]);
    actor.forward(&[1.0, 0.0, 0.0], &mut Workspace::new(), &mut mean, &mut std);
    std[0]
}

/// The `pendulum` program's final evaluation: 100 episodes of the deterministic policy.
fn final_evaluation(trainer: &Trainer<Pendulum>, seed: u64) -> f64 {
    let envs = (0..100).map(|_| Pendulum::new()).collect();
    trainer.evaluate(envs, evaluation_seed(seed)).mean
}

/// Trains `config` for `budget` steps with `seed`; `trace` receives every update's statistics
/// and the trainer it left.
fn run(
    config: &Config,
    budget: usize,
    seed: u64,
    trace: &mut dyn FnMut(&UpdateStats, &Trainer<Pendulum>),
) -> Run {
    let config = Config { total_timesteps: budget, seed, ..config.clone() };
    let start = Instant::now();
    let envs = (0..config.num_envs).map(|_| Pendulum::new()).collect();
    let mut trainer = Trainer::new(config, envs);
    let (mut divergence, mut max_kl) = (None, (0.0f32, 0));
    while !trainer.is_done() {
        match trainer.iterate() {
            Ok(stats) => {
                if stats.approx_kl > max_kl.0 {
                    max_kl = (stats.approx_kl, stats.update);
                }
                trace(&stats, &trainer);
            }
            Err(diverged) => {
                divergence = Some(diverged.to_string());
                break;
            }
        }
    }
    let eval = divergence.is_none().then(|| final_evaluation(&trainer, seed));
    let final_std = policy_std(trainer.actor());
    Run { eval, divergence, max_kl, final_std, seconds: start.elapsed().as_secs_f64() }
}

/// Every (budget, seed) pair trained by `THREADS` threads, each taking the next untrained
/// pair; results in the order of `jobs`.
fn run_all(config: &Config, jobs: &[(usize, u64)]) -> Vec<Run> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Run>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(budget, seed)) = jobs.get(i) else { break };
                    let result = run(config, budget, seed, &mut |_, _| {});
                    eprintln!(
                        "{budget:>8} seed {seed:>2}: {:>9}  max KL {:.4} (update {}), final σ {:.4}  {:.1} s{}",
                        result.eval.map_or("—".into(), |e| format!("{e:.1}")),
                        result.max_kl.0,
                        result.max_kl.1,
                        result.final_std,
                        result.seconds,
                        result.divergence.as_ref().map_or(String::new(), |d| format!("  DIVERGED {d}"))
                    );
                    results.lock().expect("no thread panics holding the lock")[i] = Some(result);
                }
            });
        }
    });
    let results = results.into_inner().expect("no thread panicked holding the lock");
    results.into_iter().map(|r| r.expect("every job ran")).collect()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

/// The budget × seed table: each cell is the evaluation (or the update that diverged) and, if
/// `times`, the wall time; then the median and worst evaluation of the budget's runs (a
/// diverged run counting as the worst), how many diverged, and the largest approximate KL.
fn table(budgets: &[usize], seeds: u64, runs: &[Run], times: bool) -> String {
    let mut text = String::from("| steps |");
    for seed in 1..=seeds {
        let _ = write!(text, " seed {seed} |");
    }
    text.push_str(" median | worst | diverged | largest KL |\n|---:|");
    text.push_str(&"---:|".repeat(seeds as usize + 4));
    text.push('\n');
    for (budget, row) in budgets.iter().zip(runs.chunks_exact(seeds as usize)) {
        let _ = write!(text, "| {budget} |");
        for run in row {
            let result = match (&run.eval, &run.divergence) {
                (Some(eval), _) => format!("{eval:.1}"),
                (None, Some(what)) => {
                    format!("diverged ({})", what.split(':').next().unwrap_or(""))
                }
                (None, None) => unreachable!("a run either finishes or diverges"),
            };
            let time = if times { format!(" ({:.1} s)", run.seconds) } else { String::new() };
            let _ = write!(text, " {result}{time} |");
        }
        let mut evals: Vec<f64> = row.iter().map(|r| r.eval.unwrap_or(f64::NEG_INFINITY)).collect();
        let worst = evals.iter().copied().fold(f64::INFINITY, f64::min);
        let diverged = row.iter().filter(|r| r.divergence.is_some()).count();
        let kl = row.iter().map(|r| r.max_kl.0).fold(0.0, f32::max);
        let _ =
            writeln!(text, " **{:.1}** | {worst:.1} | {diverged} | {kl:.3} |", median(&mut evals));
    }
    text
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "error: {problem}\nusage: budgets [--variant NAME] [--budgets N,N,...] [--seeds N] \
         [--write] [--trace BUDGET --seed S]\nvariants: {}",
        VARIANTS.join(", ")
    );
    std::process::exit(2)
}

fn main() {
    let (mut config, mut name) = (Config::default(), "default".to_string());
    let (mut budgets, mut seeds, mut trace, mut trace_seed) = (BUDGETS.to_vec(), 10u64, None, 1);
    let mut write_book = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--write" {
            write_book = true;
            continue;
        }
        let value = args.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let number = |v: &str| match v.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => usage(&format!("{flag}: expected a count of at least 1, got {v}")),
        };
        match flag.as_str() {
            "--variant" => {
                config = variant(&value).unwrap_or_else(|| usage(&format!("no variant {value}")));
                name = value;
            }
            "--budgets" => budgets = value.split(',').map(number).collect(),
            "--seeds" => seeds = number(&value) as u64,
            "--trace" => trace = Some(number(&value)),
            "--seed" => trace_seed = number(&value) as u64,
            _ => usage(&format!("unknown option {flag}")),
        }
    }
    if let Some(budget) = trace {
        // `return` is the mean of the episodes that ended in the update's rollout (the
        // sampling policy before the update); `eval` the deterministic policy after it.
        println!("update    steps  rate       entropy  σ        KL       clip     return     eval");
        let mut print = |s: &UpdateStats, trainer: &Trainer<Pendulum>| {
            println!(
                "{:>6} {:>8}  {:.3e}  {:>7.4}  {:.5}  {:.5}  {:.4}  {:>7.1}  {:>7.1}",
                s.update,
                s.timesteps,
                s.learning_rate,
                s.entropy,
                policy_std(trainer.actor()),
                s.approx_kl,
                s.clip_fraction,
                s.episode_return.unwrap_or(f64::NAN),
                final_evaluation(trainer, trace_seed),
            )
        };
        let result = run(&config, budget, trace_seed, &mut print);
        println!(
            "{name}, {budget} steps, seed {trace_seed}: eval {:?}, {:?}, {:.1} s",
            result.eval, result.divergence, result.seconds
        );
        return;
    }
    let jobs: Vec<(usize, u64)> =
        budgets.iter().flat_map(|&b| (1..=seeds).map(move |s| (b, s))).collect();
    let runs = run_all(&config, &jobs);
    println!("`{name}`: final evaluation (100 episodes) and wall time of each run\n");
    print!("{}", table(&budgets, seeds, &runs, true));
    if write_book {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("book/src/results/budgets-{name}.md"));
        let text = table(&budgets, seeds, &runs, false);
        if let Err(e) = write_atomic(&path, text.as_bytes()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            std::process::exit(1)
        }
    }
}
