//! Whole PPO runs against PyTorch: the training loop's wiring, not just its pieces.
//!
//! `tools/pytorch_iteration.py` runs the crate's algorithm, written again in PyTorch, on
//! Gymnasium's own pendulum and cart-pole, for five configurations that between them take every
//! choice `Config` offers, and records what it drew at random (initial weights, episode start
//! states, action noise or the uniform numbers behind sampled choices, minibatch order)
//! together with what it produced (every diagnostic of every iteration, and the final
//! parameters and Adam moments of both networks). Here the crate's [`Trainer`] replays those
//! draws through the [`Randomness`] seam and a scripted environment, and must arrive at the
//! same numbers.
//!
//! - a, b: the original settings, each choice taken both ways between the two;
//! - c: separate networks with the variants (SPO, early stopping on KL, `value_coef`,
//!   per-minibatch advantages, Adam's ε, an annealed entropy bonus, tanh, observation and
//!   reward normalization, time limits ignored, a log-σ head);
//! - d: CartPole with the Categorical policy and the adapted KL penalty;
//! - e: the shared network with the adapted KL penalty and value clipping;
//! - f: CartPole with minibatches long enough to be cut into pieces (chapter 14), normalized
//!   per minibatch, which PyTorch computes whole.
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
use ppo::nn::{Activation, Init, StdParam};
use ppo::ppo::{Config, DistributionKind, ROWS_PER_PIECE, Trainer, UpdateStats};
use ppo::tensor::Tensor;
use ppo::{ActionSpace, CartPole, Env, Pendulum, Randomness, Step};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::collections::VecDeque;

// ANCHOR: replay
/// The draws of a recorded run, handed out in the order the trainer asks for them.
struct Replay {
    /// The standard-normal noise of a Normal policy's samples.
    noise: VecDeque<f32>,
    /// The uniform numbers behind a Categorical policy's choices.
    uniforms: VecDeque<f64>,
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
        self.uniforms.pop_front().expect("the trainer drew more uniforms than the recording holds")
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
// ANCHOR_END: replay

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

/// A cart-pole whose episodes start at the recorded states, in turn.
struct ScriptedCartPole {
    cartpole: CartPole,
    starts: VecDeque<[f64; 4]>,
}

impl Env for ScriptedCartPole {
    type Obs = [f32; 4];
    type Action = usize;
    fn obs_size(&self) -> usize {
        4
    }
    fn action_space(&self) -> ActionSpace<'_> {
        self.cartpole.action_space()
    }
    fn reset(&mut self, _: &mut dyn rand::Rng) -> [f32; 4] {
        let start = self.starts.pop_front().expect("more episodes than recorded");
        self.cartpole.set_state(start);
        self.cartpole.observation()
    }
    fn step(&mut self, action: usize) -> Step<[f32; 4]> {
        self.cartpole.step(action)
    }
}

/// The configuration the script ran, read back from the fixture.
fn config(f: &Fixture) -> Config {
    let get = |name: &str| f.get(&format!("config.{name}")).scalar();
    let count = |name: &str| get(name) as usize;
    let flag = |name: &str| get(name) == 1.0;
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
        anneal_learning_rate: flag("anneal_learning_rate"),
        // The script anneals over the run, as CleanRL does.
        anneal_horizon: None,
        entropy_coef: get("entropy_coef") as f32,
        max_grad_norm: optional("max_grad_norm"),
        value_clip: optional("value_clip"),
        normalize_advantages: flag("normalize_advantages"),
        time_limit: [TimeLimit::Bootstrap, TimeLimit::AsTerminal, TimeLimit::Ignore]
            [count("time_limit")],
        reward_scale: get("reward_scale") as f32,
        hidden_size: count("hidden_size"),
        activation: if flag("activation_tanh") { Activation::Tanh } else { Activation::Relu },
        distribution: if flag("cartpole") {
            DistributionKind::Categorical
        } else {
            DistributionKind::Normal
        },
        std_param: match std[..] {
            [0.0] => StdParam::Softplus,
            [1.0, init, low, high] => {
                StdParam::LogStd { init: init as f32, clamp: Some((low as f32, high as f32)) }
            }
            [2.0, low, high] => StdParam::LogStdHead { clamp: (low as f32, high as f32) },
            _ => panic!("unknown σ parametrization {std:?}"),
        },
        init: Init::PyTorchDefault,
        seed: 0,
        objective: [Objective::Clipped, Objective::Spo, Objective::KlPenalty][count("objective")],
        kl_coef: get("kl_coef") as f32,
        adaptive_kl: optional("adaptive_kl"),
        target_kl: optional("target_kl"),
        value_coef: get("value_coef") as f32,
        minibatch_advantages: flag("minibatch_advantages"),
        adam_eps: get("adam_eps") as f32,
        anneal_entropy: flag("anneal_entropy"),
        normalize_observations: flag("normalize_observations"),
        normalize_rewards: flag("normalize_rewards"),
        shared_network: flag("shared_network"),
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

/// The recorded start states of environment `e`, `width` numbers each.
fn starts(f: &Fixture, e: usize, width: usize) -> impl Iterator<Item = &[f64]> {
    f.get(&format!("replay.starts.{e}")).values.chunks_exact(width)
}

/// What a replayed run ended with: the networks, their optimizers' moments (a shared
/// network's one optimizer holds the actor's, then the value head's), the observations'
/// statistics, and the statistics of every iteration.
struct Outcome {
    parameters: [Vec<Tensor>; 2],
    moments: [(Vec<Tensor>, Vec<Tensor>); 2],
    observation_stats: Option<(Vec<f64>, Vec<f64>, f64)>,
    stats: Vec<UpdateStats>,
}

/// The recorded draws called `name`; none if the run drew none of that kind (a Normal policy
/// draws no uniform numbers, a Categorical one no noise).
fn recorded(f: &Fixture, name: &str) -> Vec<f64> {
    let present = f.names().contains(&name);
    if present { f.get(name).values.clone() } else { Vec::new() }
}

/// Runs the recorded configuration with the recorded draws in the environments `envs`.
fn replay<E: Env>(f: &Fixture, config: Config, envs: Vec<E>) -> Outcome {
    let noise = recorded(f, "replay.noise").iter().map(|&x| x as f32).collect();
    let uniforms = recorded(f, "replay.uniform").into();
    let order: Vec<usize> = f.get("replay.order").values.iter().map(|&i| i as usize).collect();
    let orders = order.chunks(config.batch_size()).map(<[usize]>::to_vec).collect();
    let randomness = Replay { noise, uniforms, orders, generator: StdRng::seed_from_u64(0) };
    let shared = config.shared_network;
    let mut trainer = Trainer::with_randomness(config, envs, randomness);
    let actor_count = trainer.actor().parameters().len();
    let critic_count = trainer.critic().parameters().len();
    trainer.actor_mut().load_parameters(&tensors(f, "init.actor", actor_count, "")).unwrap();
    trainer.critic_mut().load_parameters(&tensors(f, "init.critic", critic_count, "")).unwrap();
    let mut stats = Vec::new();
    while !trainer.is_done() {
        stats.push(trainer.iterate().expect("the recorded run did not diverge"));
    }
    let copies = |tensors: Vec<&Tensor>| tensors.into_iter().cloned().collect::<Vec<_>>();
    let (actor_adam, critic_adam) = trainer.optimizers();
    let moments = |adam: &ppo::Adam| -> (Vec<Tensor>, Vec<Tensor>) {
        adam.moments().map(|(m, v)| (m.clone(), v.clone())).unzip()
    };
    let (mut actor_m, mut actor_v) = moments(actor_adam);
    let critic_moments = if shared {
        assert_eq!(critic_adam.steps_taken(), 0, "a shared network's critic optimizer stepped");
        (actor_m.split_off(actor_count), actor_v.split_off(actor_count))
    } else {
        moments(critic_adam)
    };
    Outcome {
        parameters: [copies(trainer.actor().parameters()), copies(trainer.critic().parameters())],
        moments: [(actor_m, actor_v), critic_moments],
        observation_stats: trainer
            .observation_stats()
            .map(|s| (s.mean.clone(), s.var.clone(), s.count)),
        stats,
    }
}

/// The recorded run replayed in scripted environments of the recorded kind.
fn replay_recorded(f: &Fixture) -> Outcome {
    let config = config(f);
    let n = config.num_envs;
    if config.distribution == DistributionKind::Categorical {
        let envs = (0..n).map(|e| ScriptedCartPole {
            cartpole: CartPole::new(),
            starts: starts(f, e, 4).map(|s| [s[0], s[1], s[2], s[3]]).collect(),
        });
        replay(f, config, envs.collect())
    } else {
        let envs = (0..n).map(|e| ScriptedPendulum {
            pendulum: Pendulum::new(),
            starts: starts(f, e, 2).map(|s| (s[0], s[1])).collect(),
        });
        replay(f, config, envs.collect())
    }
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
    // A quantity missing on one side only (an iteration without episodes, a β not adapted)
    // is as wrong as can be; missing on both sides is agreement.
    if ours.iter().zip(theirs).any(|(a, b)| a.is_nan() != b.is_nan()) {
        return f64::INFINITY;
    }
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
    let outcome = replay_recorded(f);
    let mut errors = Vec::new();
    type Read = fn(&UpdateStats) -> f64;
    let per_iteration: [(&str, Read); 13] = [
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
        ("minibatches", |s| s.minibatches as f64),
        ("kl_coef", |s| f64::from(s.kl_coef)),
        ("rollout_kl", |s| s.rollout_kl.map_or(f64::NAN, f64::from)),
    ];
    for (name, read) in per_iteration {
        let ours: Vec<f64> = outcome.stats.iter().map(read).collect();
        let theirs = &f.get(&format!("stats.{name}")).values;
        errors.push((name.to_string(), normwise_error(&ours, theirs)));
    }
    let networks = ["actor", "critic"].iter().zip(&outcome.parameters).zip(&outcome.moments);
    for ((network, params), (m, v)) in networks {
        let prefix = format!("final.{network}");
        for (what, ours, suffix) in [("parameters", params, ""), ("m", m, ".m"), ("v", v, ".v")] {
            let theirs = tensors(f, &prefix, ours.len(), suffix);
            errors.push((format!("{network} {what}"), normwise_error(&flat(ours), &flat(&theirs))));
        }
    }
    let recorded_stats = f.names().contains(&"final.observation_stats.mean");
    assert_eq!(
        outcome.observation_stats.is_some(),
        recorded_stats,
        "observation statistics kept on one side only"
    );
    if let Some((mean, var, count)) = &outcome.observation_stats {
        let get = |what: &str| &f.get(&format!("final.observation_stats.{what}")).values;
        errors.push(("observation mean".into(), normwise_error(mean, get("mean"))));
        errors.push(("observation var".into(), normwise_error(var, get("var"))));
        errors.push(("observation count".into(), normwise_error(&[*count], get("count"))));
    }
    errors
}

/// The tensors' values, one after another, as one vector.
fn flat(tensors: &[Tensor]) -> Vec<f64> {
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

#[test]
fn configuration_c_variants_match_pytorch() {
    check("ppo_iteration_c.txt");
}

#[test]
fn configuration_d_cartpole_categorical_matches_pytorch() {
    check("ppo_iteration_d.txt");
}

#[test]
fn configuration_e_shared_network_kl_penalty_matches_pytorch() {
    check("ppo_iteration_e.txt");
}

/// PyTorch computes each minibatch whole; the crate cuts these into pieces.
#[test]
fn configuration_f_minibatches_cut_into_pieces_match_pytorch() {
    let fixture = Fixture::load("ppo_iteration_f.txt");
    let minibatch = config(&fixture).minibatch_size;
    assert!(minibatch > ROWS_PER_PIECE, "minibatches of {minibatch} rows are not cut");
    check("ppo_iteration_f.txt");
}
