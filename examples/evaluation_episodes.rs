//! Regenerates chapter 13's facts about the final evaluation of a `default` run: which of its
//! 100 episodes cost little and which cost most, by where each started.
//!
//! ```text
//! cargo run --release --example evaluation_episodes
//! ```
//!
//! Trains the `default` preset with seed 1 (what `pendulum` runs), then evaluates it exactly
//! as the program does: 100 episodes from starts drawn with `evaluation_seed(1)`, the
//! deterministic policy. The same generator, drawn the same way, gives each episode's start.

use ppo::Pendulum;
use ppo::ppo::{Config, Trainer, evaluation_seed};
use rand::SeedableRng;
use rand::rngs::StdRng;

const EPISODES: usize = 100;

fn main() {
    let config = Config::default();
    let envs = (0..config.num_envs).map(|_| Pendulum::new()).collect();
    let mut trainer = Trainer::new(config.clone(), envs);
    while !trainer.is_done() {
        trainer.iterate().expect("the default preset trains without diverging");
    }
    let seed = evaluation_seed(config.seed);
    let result = trainer.evaluate((0..EPISODES).map(|_| Pendulum::new()).collect(), seed);
    // The starts, drawn as `evaluate` draws them: one reset per environment, in order.
    let mut rng = StdRng::seed_from_u64(seed);
    let starts: Vec<(f64, f64)> = (0..EPISODES)
        .map(|_| {
            let mut pendulum = Pendulum::new();
            pendulum.reset(&mut rng);
            pendulum.state()
        })
        .collect();
    println!(
        "final eval: mean return {:.1} ± {:.1} over {EPISODES} episodes",
        result.mean, result.std
    );
    let mut order: Vec<usize> = (0..EPISODES).collect();
    order.sort_by(|&a, &b| result.returns[b].total_cmp(&result.returns[a]));
    println!("\nthe best five and the worst five: return, start angle θ (0 upright), speed θ̇");
    for &i in order.iter().take(5).chain(order.iter().rev().take(5).rev()) {
        let (theta, theta_dot) = starts[i];
        println!("{:>9.1}  θ = {theta:>6.3}  θ̇ = {theta_dot:>6.3}", result.returns[i]);
    }
    let bottom: Vec<f64> = (0..EPISODES)
        .filter(|&i| starts[i].0.abs() > 2.8 && starts[i].1.abs() < 0.5)
        .map(|i| result.returns[i])
        .collect();
    let (low, high) =
        bottom.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &r| (l.min(r), h.max(r)));
    println!(
        "\n{} episodes started hanging nearly still (|θ| > 2.8, |θ̇| < 0.5): returns from {low:.1} to {high:.1}",
        bottom.len()
    );
}
