//! Regenerates chapter 8's table of what a time limit cuts off: the discounted return of the
//! rest of an episode, for a trained agent following its deterministic policy from a few
//! states, at γ = 0.95 and γ = 0.99.
//!
//! ```text
//! cargo run --release --example cut_futures
//! ```
//!
//! The agent is the `default` preset trained with seed 1 (about a second and a half). From
//! each state the pendulum is stepped on for 3,000 steps, with no time limit: by then
//! 0.99³⁰⁰⁰ ≈ 10⁻¹³ of a reward of at most 16.3 is left, so the sums are the infinite-horizon
//! discounted returns to every digit printed. This is what bootstrapping at the time limit,
//! γ·V(s_final), estimates, and what treating the time limit as terminal drops.

use ppo::evaluate::deterministic_distribution;
use ppo::ppo::{Config, Trainer};
use ppo::{Action, Env, Pendulum, Workspace};
use std::f64::consts::{FRAC_PI_2, PI};

const STEPS: usize = 3000;

fn main() {
    let config = Config::default();
    let mut trainer =
        Trainer::new(config.clone(), (0..config.num_envs).map(|_| Pendulum::new()).collect());
    while !trainer.is_done() {
        trainer.iterate().expect("the default preset trains without diverging");
    }
    let (actor, stats) = (trainer.actor(), trainer.observation_stats());
    let distribution = deterministic_distribution(actor, Pendulum::new().action_space());
    let states = [
        ("upright and still (θ = 0)", 0.0, 0.0),
        ("horizontal, at rest (θ = π/2)", FRAC_PI_2, 0.0),
        ("hanging down, spinning at 4 rad/s", PI, 4.0),
        ("hanging down, at rest (θ = π)", PI, 0.0),
    ];
    println!("| state at the cut | future at γ = 0.95 | future at γ = 0.99 |");
    println!("|---|---|---|");
    for (name, theta, theta_dot) in states {
        let futures =
            [0.95, 0.99].map(|gamma| future(actor, stats, &*distribution, theta, theta_dot, gamma));
        let [a, b] =
            futures.map(|x| if x.abs() < 1.0 { format!("{x:.2}") } else { format!("{x:.1}") });
        println!("| {name} | {} | {} |", a.replace('-', "−"), b.replace('-', "−"));
    }
}

/// The discounted sum of rewards from state (θ, θ̇) under the deterministic policy, which
/// sees its observations normalized with the training run's frozen statistics.
fn future(
    actor: &ppo::Actor,
    stats: Option<&ppo::normalize::RunningStats>,
    distribution: &dyn ppo::Distribution,
    theta: f64,
    theta_dot: f64,
    gamma: f64,
) -> f64 {
    let mut pendulum = Pendulum::new();
    pendulum.set_state(theta, theta_dot);
    let [w1, w2] = actor.output_widths();
    let (mut first, mut second) = (vec![0.0; w1], vec![0.0; w2]);
    let (mut sample, mut action) = (vec![0.0; 1], vec![0.0; 1]);
    let mut workspace = Workspace::new();
    let (mut total, mut discount) = (0.0, 1.0);
    for _ in 0..STEPS {
        let mut observation = pendulum.observation();
        if let Some(stats) = stats {
            stats.normalize(&mut observation);
        }
        actor.forward(&observation, &mut workspace, &mut first, &mut second);
        distribution.mode(&[&first, &second], &mut sample);
        distribution.to_action(&sample, &mut action);
        // The time limit's `truncated` flag is ignored: the pendulum steps on past 200.
        let step = Env::step(&mut pendulum, <[f32; 1]>::from_row(&action));
        total += discount * step.reward;
        discount *= gamma;
    }
    total
}
