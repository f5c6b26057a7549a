//! The returns of policies that learn nothing, the floor every trained score stands on:
//! torques drawn uniformly at random, no torque at all, and the full torque in one direction.
//!
//! ```text
//! cargo run --release --example reference_policies          # seeds 1 to 10
//! cargo run --release --example reference_policies -- 3     # seeds 1 to 3
//! ```
//!
//! Each policy plays the 100 episodes that the `pendulum` program evaluates a run of seed `s`
//! on (starts drawn with `evaluation_seed(s)`, one reset per episode, in order), so its score
//! for seed `s` can be set beside that run's. The random policy draws its torques from a
//! generator of its own, seeded with `s`.

use ppo::Pendulum;
use ppo::ppo::evaluation_seed;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const EPISODES: usize = 100;

/// A policy that ignores what it observes: the torque of each step from `draw`.
type Policy = fn(&mut StdRng) -> f32;

const POLICIES: [(&str, Policy); 4] = [
    ("uniform random torque in [-2, 2]", |rng| rng.random_range(-2.0..=2.0)),
    ("no torque", |_| 0.0),
    ("full torque +2", |_| 2.0),
    ("full torque -2", |_| -2.0),
];

/// The mean return of `policy` over the evaluation episodes of seed `seed`.
fn mean_return(policy: Policy, seed: u64) -> f64 {
    let mut starts = StdRng::seed_from_u64(evaluation_seed(seed));
    let mut torques = StdRng::seed_from_u64(seed);
    let mut total = 0.0;
    for _ in 0..EPISODES {
        let mut pendulum = Pendulum::new();
        pendulum.reset(&mut starts);
        loop {
            let step = pendulum.step(&[policy(&mut torques)]);
            total += step.reward;
            if step.terminated || step.truncated {
                break;
            }
        }
    }
    total / EPISODES as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

fn main() {
    let seeds: u64 = match std::env::args().nth(1) {
        None => 10,
        Some(text) => match text.parse() {
            Ok(n) if n >= 1 => n,
            _ => {
                eprintln!("reference_policies: the number of seeds must be a whole number ≥ 1");
                std::process::exit(2);
            }
        },
    };
    for (name, policy) in POLICIES {
        let means: Vec<f64> = (1..=seeds).map(|seed| mean_return(policy, seed)).collect();
        let listed: Vec<String> = means.iter().map(|m| format!("{m:.1}")).collect();
        let worst = means.iter().copied().fold(f64::INFINITY, f64::min);
        let best = means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        println!(
            "{name:<34} median {:>7.1}  worst {worst:>7.1}  best {best:>7.1}  (seeds 1-{seeds}: {})",
            median(means.clone()),
            listed.join(", ")
        );
    }
}
