//! Trains one configuration at several budgets of environment steps, for seeds 1 to 10, and
//! prints for every run its final evaluation (100 deterministic episodes), whether an update
//! diverged, and its wall time; then the median and the worst evaluation per budget.
//!
//! ```text
//! cargo run --release --example budgets                      # default preset, 50k to 1M
//! cargo run --release --example budgets -- --budgets 100000  # one budget
//! cargo run --release --example budgets -- --variant lr-3e-4 --seeds 3
//! cargo run --release --example budgets -- --trace 1000000 --seed 1   # one run, every update
//! ```
//!
//! Runs are independent, so two of them train at a time, one per thread (the machine this was
//! written on has two cores). The table is a pure function of the code and the seeds except
//! for the wall times, which depend on what else the machine is doing.

use ppo::Pendulum;
use ppo::nn::StdParam;
use ppo::ppo::{Config, Trainer, UpdateStats, evaluate, evaluation_seed};
use ppo::{Actor, Workspace};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The budgets the book's table covers.
const BUDGETS: [usize; 5] = [50_000, 100_000, 200_000, 500_000, 1_000_000];

/// Runs trained at the same time.
const THREADS: usize = 2;

/// A configuration the harness can train: a name for the command line and the config.
fn variant(name: &str) -> Option<Config> {
    let default = Config::default;
    Some(match name {
        "default" => default(),
        "seed" => Config::seed(),
        "horizon-100k" => Config { anneal_horizon: Some(100_000), ..default() },
        "horizon-200k" => Config { anneal_horizon: Some(200_000), ..default() },
        "floor-0.2" => Config {
            std_param: StdParam::LogStd { init: 0.0, clamp: Some((0.2f32.ln(), 2.0)) },
            ..default()
        },
        "floor-0.1" => Config {
            std_param: StdParam::LogStd { init: 0.0, clamp: Some((0.1f32.ln(), 2.0)) },
            ..default()
        },
        "entropy-0.001" => Config { entropy_coef: 0.001, ..default() },
        "entropy-0.01" => Config { entropy_coef: 0.01, ..default() },
        "adam-eps-1e-5" => Config { adam_eps: 1e-5, ..default() },
        "actor-lr-3e-4" => Config { actor_learning_rate: 3e-4, ..default() },
        "grad-clip-0.1" => Config { max_grad_norm: Some(0.1), ..default() },
        "no-anneal" => Config { anneal_learning_rate: false, ..default() },
        _ => return None,
    })
}

const VARIANTS: &[&str] = &[
    "default",
    "seed",
    "horizon-100k",
    "horizon-200k",
    "floor-0.2",
    "floor-0.1",
    "entropy-0.001",
    "entropy-0.01",
    "adam-eps-1e-5",
    "actor-lr-3e-4",
    "grad-clip-0.1",
    "no-anneal",
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

/// σ of a state-independent policy (the `default` preset's), or of the first observation's
/// action for a state-dependent one: read through the network, as acting reads it.
fn policy_std(actor: &Actor) -> f32 {
    let (mut mean, mut std) = ([0.0], [0.0]);
    actor.forward(&[1.0, 0.0, 0.0], &mut Workspace::new(), &mut mean, &mut std);
    std[0]
}

/// Trains `config` for `budget` steps with `seed`; `trace` receives every update's statistics.
fn run(config: &Config, budget: usize, seed: u64, trace: &mut dyn FnMut(&UpdateStats, f32)) -> Run {
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
                trace(&stats, policy_std(trainer.actor()));
            }
            Err(diverged) => {
                divergence = Some(diverged.to_string());
                break;
            }
        }
    }
    let eval = divergence.is_none().then(|| {
        let envs = (0..100).map(|_| Pendulum::new()).collect();
        evaluate(trainer.actor(), envs, evaluation_seed(seed)).mean
    });
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

/// The budget × seed table: each cell is the evaluation (or the update that diverged) and the
/// wall time; then the median and worst evaluation of the budget's runs, a diverged run
/// counting as the worst.
fn table(budgets: &[usize], seeds: u64, runs: &[Run]) -> String {
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
            let _ = write!(text, " {result} ({:.1} s) |", run.seconds);
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
         [--trace BUDGET --seed S]\nvariants: {}",
        VARIANTS.join(", ")
    );
    std::process::exit(2)
}

fn main() {
    let (mut config, mut name) = (Config::default(), "default".to_string());
    let (mut budgets, mut seeds, mut trace, mut trace_seed) = (BUDGETS.to_vec(), 10u64, None, 1);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let number = |v: &str| {
            v.parse::<usize>().unwrap_or_else(|_| usage(&format!("{flag}: not a count: {v}")))
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
        println!("update  steps      lr        entropy   σ        KL       clip    return");
        let mut print = |s: &UpdateStats, std: f32| {
            println!(
                "{:>6} {:>8} {:.3e} {:>8.4} {:.5} {:.5} {:.4} {:>8.1}",
                s.update,
                s.timesteps,
                s.learning_rate,
                s.entropy,
                std,
                s.approx_kl,
                s.clip_fraction,
                s.episode_return.unwrap_or(f64::NAN)
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
    print!("{}", table(&budgets, seeds, &runs));
}
