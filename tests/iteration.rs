//! Whole PPO runs against PyTorch: the training loop's wiring, not just its pieces.
//!
//! `tools/pytorch_iteration.py` runs the crate's algorithm, written again in PyTorch, on
//! Gymnasium's own pendulum, for two configurations that differ in every choice `Config`
//! offers, and records what it drew at random (initial weights, episode start states, action
//! noise, minibatch order) together with what it produced (every diagnostic of every
//! iteration, and the final parameters and Adam moments of both networks). Here the crate's
//! [`Trainer`] replays those draws through the [`Randomness`] seam and a scripted pendulum,
//! and must arrive at the same numbers.
//!
//! A wrong wiring anywhere (a learning rate from the other network, γ and λ swapped, a
//! truncation bootstrapped from the next episode's first state, advantages left unnormalized,
//! value clipping anchored at the wrong values, minibatches not shuffled, an entropy bonus or
//! a gradient limit ignored, a schedule off by one iteration) moves these numbers by far more
//! than the tolerance.

mod common;

use common::Fixture;
use ppo::gae::TimeLimit;
use ppo::loss::Objective;
use ppo::nn::{Init, StdParam};
use ppo::ppo::{Config, DistributionKind, Trainer, UpdateStats};
use ppo::tensor::Tensor;
use ppo::{ActionSpace, Env, Pendulum, Randomness, Step};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::VecDeque;

// ANCHOR: replay
/// The draws of a recorded run, handed out in the order the trainer asks for them.
struct Replay {
    noise: VecDeque<f32>,
    orders: VecDeque<Vec<usize>>,
    /// Asked only for what the recording does not cover: the networks' initialization, which
    /// the recorded weights then replace.
    generator: StdRng,
}

impl Randomness for Replay {
    fn standard_normal(&mut self) -> f32 {
        self.noise.pop_front().expect("the trainer drew more noise than the recording holds")
    }
    fn uniform(&mut self) -> f64 {
        panic!("a Normal policy draws no uniform numbers")
    }
    /// The recorded order replaces the current one, whatever it was.
    fn shuffle(&mut self, items: &mut [usize]) {
        let order = self.orders.pop_front().expect("more epochs than recorded");
        assert_eq!(order.len(), items.len(), "a recorded order of another length");
        items.copy_from_slice(&order);
    }
    fn generator(&mut self) -> &mut dyn rand::Rng {
        &mut self.generator
    }
}

/// A pendulum whose episodes start where the recording says, in turn.
struct ScriptedPendulum {
    pendulum: Pendulum,
    starts: VecDeque<(f64, f64)>,
}

impl Env for ScriptedPendulum {
    type Obs = [f32; 3];
    type Action = [f32; 1];
    fn obs_size(&self) -> usize {
        3
    }
    fn action_space(&self) -> ActionSpace<'_> {
        self.pendulum.action_space()
    }
    fn reset(&mut self, _: &mut dyn rand::Rng) -> [f32; 3] {
        let (theta, theta_dot) = self.starts.pop_front().expect("more episodes than recorded");
        self.pendulum.set_state(theta, theta_dot);
        self.pendulum.observation()
    }
    fn step(&mut self, action: [f32; 1]) -> Step {
        self.pendulum.step(&action)
    }
}
// ANCHOR_END: replay

/// The configuration the script ran, read back from the fixture.
fn config(f: &Fixture) -> Config {
    let get = |name: &str| f.get(&format!("config.{name}")).scalar();
    let count = |name: &str| get(name) as usize;
    let optional = |name: &str| Some(get(name) as f32).filter(|x| !x.is_nan());
    let std = f.get("config.std").values.clone();
    let batch = count("num_envs") * count("rollout_steps");
    Config {
        total_timesteps: count("iterations") * batch,
        num_envs: count("num_envs"),
        rollout_steps: count("rollout_steps"),
        epochs: count("epochs"),
        minibatch_size: count("minibatch_size"),
        gamma: get("gamma") as f32,
        gae_lambda: get("gae_lambda") as f32,
        clip_epsilon: get("clip_epsilon") as f32,
        actor_learning_rate: get("actor_learning_rate") as f32,
        critic_learning_rate: get("critic_learning_rate") as f32,
        anneal_learning_rate: get("anneal_learning_rate") == 1.0,
        // The script anneals over the run, as CleanRL does.
        anneal_horizon: None,
        entropy_coef: get("entropy_coef") as f32,
        max_grad_norm: optional("max_grad_norm"),
        value_clip: optional("value_clip"),
        normalize_advantages: get("normalize_advantages") == 1.0,
        time_limit: if get("time_limit_bootstrap") == 1.0 {
            TimeLimit::Bootstrap
        } else {
            TimeLimit::AsTerminal
        },
        reward_scale: get("reward_scale") as f32,
        hidden_size: count("hidden_size"),
        activation: ppo::nn::Activation::Relu,
        distribution: DistributionKind::Normal,
        std_param: match std[..] {
            [0.0] => StdParam::Softplus,
            [1.0, init, low, high] => {
                StdParam::LogStd { init: init as f32, clamp: Some((low as f32, high as f32)) }
            }
            _ => panic!("unknown σ parametrization {std:?}"),
        },
        init: Init::PyTorchDefault,
        seed: 0,
        objective: Objective::Clipped,
        kl_coef: 1.0,
        adaptive_kl: None,
        target_kl: None,
        value_coef: 1.0,
        minibatch_advantages: false,
        adam_eps: 1e-8,
        anneal_entropy: false,
        normalize_observations: false,
        normalize_rewards: false,
        shared_network: false,
        grpo_group: None,
        reference_kl: 0.0,
    }
}

fn tensors(f: &Fixture, prefix: &str, count: usize, suffix: &str) -> Vec<Tensor> {
    (0..count)
        .map(|i| {
            let array = f.get(&format!("{prefix}.{i}{suffix}"));
            Tensor::from_vec(&array.shape, array.f32s())
        })
        .collect()
}

/// Runs the recorded configuration with the recorded draws; returns the trainer and the
/// statistics of every iteration.
fn replay(f: &Fixture) -> (Trainer<ScriptedPendulum, Replay>, Vec<UpdateStats>) {
    let config = config(f);
    let noise = f.get("replay.noise").f32s().into();
    let order: Vec<usize> = f.get("replay.order").values.iter().map(|&i| i as usize).collect();
    let orders = order.chunks(config.batch_size()).map(<[usize]>::to_vec).collect();
    let randomness = Replay { noise, orders, generator: StdRng::seed_from_u64(0) };
    let envs = (0..config.num_envs)
        .map(|e| {
            let starts = f.get(&format!("replay.starts.{e}"));
            let pairs = starts.values.chunks_exact(2).map(|s| (s[0], s[1])).collect();
            ScriptedPendulum { pendulum: Pendulum::new(), starts: pairs }
        })
        .collect();
    let mut trainer = Trainer::with_randomness(config, envs, randomness);
    let actor_count = trainer.actor().parameters().len();
    let critic_count = trainer.critic().parameters().len();
    trainer.actor_mut().load_parameters(&tensors(f, "init.actor", actor_count, "")).unwrap();
    trainer.critic_mut().load_parameters(&tensors(f, "init.critic", critic_count, "")).unwrap();
    let mut stats = Vec::new();
    while !trainer.is_done() {
        stats.push(trainer.iterate().expect("the recorded run did not diverge"));
    }
    (trainer, stats)
}

// ANCHOR: tolerance
/// `max |ours − theirs| / max |theirs|`: the error relative to the quantity's largest
/// magnitude (normwise, the usual measure of a floating-point result), where a quantity is a
/// diagnostic over the iterations, or all the parameters (or all of one Adam moment) of one
/// network, seen as one vector as the optimizer and the gradient clipping see them.
///
/// Elementwise relative error would ask for something two correct float32 implementations
/// do not share: entries that are small because large terms cancel. An Adam first moment is a
/// running mean of gradients of both signs; a policy loss is the mean of ratio × advantage
/// with advantages of mean 0; an approximate KL on the last iteration of an annealed run is
/// tiny. Their absolute error is set by the size of the terms, which the largest entry
/// measures. (Measured: rounding the reference's own matrix products differently, through
/// float64, moves its first moments by up to 6.5e-4 of `√v` elementwise after three
/// iterations, while its parameters move by 1.3e-6 normwise; chapter 10 tells the story.)
fn normwise_error(ours: &[f64], theirs: &[f64]) -> f64 {
    assert_eq!(ours.len(), theirs.len(), "compared quantities differ in length");
    let scale = theirs.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let worst = ours.iter().zip(theirs).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    if worst == 0.0 { 0.0 } else { worst / scale }
}

/// About 1,000 float32 rounding units: what two implementations whose matrix products and
/// reductions sum in different orders accumulate over three iterations of tens of Adam
/// steps each. The bugs this test exists for move some quantity by 1e-2 or more.
const TOLERANCE: f64 = 1e-4;
// ANCHOR_END: tolerance

/// The normwise error of each quantity, by name: each diagnostic over the iterations; the
/// parameters and each Adam moment of both networks after the last iteration.
fn errors(f: &Fixture) -> Vec<(String, f64)> {
    let (trainer, stats) = replay(f);
    let mut errors = Vec::new();
    type Read = fn(&UpdateStats) -> f64;
    let per_iteration: [(&str, Read); 10] = [
        ("timesteps", |s| s.timesteps as f64),
        ("episode_return", |s| s.episode_return.unwrap_or(f64::NAN)),
        ("episode_length", |s| s.episode_length.unwrap_or(f64::NAN)),
        ("approx_kl", |s| f64::from(s.approx_kl)),
        ("clip_fraction", |s| f64::from(s.clip_fraction)),
        ("entropy", |s| f64::from(s.entropy)),
        ("policy_loss", |s| f64::from(s.policy_loss)),
        ("value_loss", |s| f64::from(s.value_loss)),
        ("explained_variance", |s| f64::from(s.explained_variance)),
        ("learning_rate", |s| f64::from(s.learning_rate)),
    ];
    for (name, read) in per_iteration {
        let ours: Vec<f64> = stats.iter().map(read).collect();
        let theirs = &f.get(&format!("stats.{name}")).values;
        errors.push((name.to_string(), normwise_error(&ours, theirs)));
    }
    let (actor_adam, critic_adam) = trainer.optimizers();
    let networks = [
        ("actor", trainer.actor().parameters(), actor_adam),
        ("critic", trainer.critic().parameters(), critic_adam),
    ];
    for (network, params, adam) in networks {
        let prefix = format!("final.{network}");
        let (m, v): (Vec<&Tensor>, Vec<&Tensor>) = adam.moments().unzip();
        for (what, ours, suffix) in [("parameters", &params, ""), ("m", &m, ".m"), ("v", &v, ".v")]
        {
            let theirs = tensors(f, &prefix, ours.len(), suffix);
            let theirs: Vec<&Tensor> = theirs.iter().collect();
            errors.push((format!("{network} {what}"), normwise_error(&flat(ours), &flat(&theirs))));
        }
    }
    errors
}

/// The tensors' values, one after another, as one vector.
fn flat(tensors: &[&Tensor]) -> Vec<f64> {
    tensors.iter().flat_map(|t| t.data().iter().map(|&x| f64::from(x))).collect()
}

fn check(name: &str) {
    let fixture = Fixture::load(name);
    let errors = errors(&fixture);
    let report: Vec<String> = errors.iter().map(|(q, e)| format!("{q}: {e:.2e}")).collect();
    println!("{name}: {}", report.join(", "));
    for (quantity, error) in errors {
        assert!(error <= TOLERANCE, "{name}: {quantity} differs by {error:.2e} relative");
    }
}

#[test]
fn configuration_a_matches_pytorch() {
    check("ppo_iteration_a.txt");
}

#[test]
fn configuration_b_matches_pytorch() {
    check("ppo_iteration_b.txt");
}
