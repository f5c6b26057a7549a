//! Chapter 10: the training loop.
//!
//! PPO repeats four phases until its budget of environment steps is spent:
//!
//! 1. **collect**: run the current policy in the environments for `rollout_steps` steps,
//!    recording states, actions, rewards, log-probabilities and values (no tape: acting
//!    needs no gradients);
//! 2. **estimate**: compute GAE advantages and returns;
//! 3. **learn**: for `epochs` passes over the rollout in shuffled minibatches, fit the critic
//!    to the returns and improve the actor with the clipped objective, each with its own Adam;
//! 4. **discard**: the data was collected by a policy that no longer exists; clear it.
//!
//! Every hyperparameter lives in one [`Config`] (in [`crate::config`]); evaluation of a trained
//! policy is in [`crate::evaluate`]. Both are re-exported here.

use crate::adam::{Adam, clip_grad_norm};
use crate::autodiff::{Tape, Var};
use crate::distributions::{Distribution, Randomness};
use crate::env::{Env, VecEnv};
use crate::gae::{GaeParams, RolloutBuffer, TimeLimit, Transition, normalize};
use crate::loss::{actor_loss, explained_variance, log_ratio_stats, value_loss};
use crate::nn::{Actor, Critic, Workspace};
use crate::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::fmt;
use std::time::Instant;

pub use crate::config::{Config, DistributionKind, LOG_STD_RANGE, PRESET_STEPS};
pub use crate::evaluate::{
    EVAL_SEED_OFFSET, Evaluation, deterministic_distribution, evaluate, evaluate_with,
    evaluation_seed,
};

/// Why training cannot go on: a number the run depends on stopped being finite. The networks
/// are left as the failed update made them; a program that saved the previous update's
/// networks still has them.
#[derive(Clone, Debug, PartialEq)]
pub struct Divergence {
    /// The (1-based) update that diverged.
    pub update: usize,
    /// What became NaN or infinite, in words.
    pub what: String,
    /// The update's statistics, when the failure was found after learning (a diverged update
    /// is worth logging: which numbers broke, and how the others looked).
    pub stats: Option<Box<UpdateStats>>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "update {}: {}", self.update, self.what)
    }
}

impl std::error::Error for Divergence {}

/// What one collect–learn iteration did and measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpdateStats {
    /// 1-based index of this iteration.
    pub update: usize,
    /// Environment steps taken so far.
    pub timesteps: usize,
    /// Mean return of the episodes that ended during this rollout, if any did.
    pub episode_return: Option<f64>,
    /// Mean length of those episodes.
    pub episode_length: Option<f64>,
    /// Mean approximate KL between the collecting policy and the updated one, over minibatches.
    pub approx_kl: f32,
    /// Mean fraction of clipped ratios over minibatches.
    pub clip_fraction: f32,
    /// Mean policy entropy over minibatches.
    pub entropy: f32,
    /// Mean clipped-surrogate loss over minibatches.
    pub policy_loss: f32,
    /// Mean critic loss over minibatches.
    pub value_loss: f32,
    /// How much of the returns' variance the critic explained, at collection time.
    pub explained_variance: f32,
    /// The actor's learning rate during this iteration.
    pub learning_rate: f32,
    /// Seconds since training started.
    pub elapsed: f64,
    /// Seconds this iteration spent collecting experience (phase 1).
    pub collect_seconds: f64,
    /// Seconds this iteration spent on advantages and learning (phases 2 and 3).
    pub learn_seconds: f64,
}

// ANCHOR: trainer
/// A PPO learner: networks, optimizers, environments, the rollout buffer, and scratch space
/// reused by every iteration, so that after the first no tensor is allocated again.
///
/// `R` is where its random numbers come from: the run's seeded generator, unless a test
/// replays another implementation's draws (see [`Randomness`]).
pub struct Trainer<E: Env, R: Randomness = StdRng> {
    config: Config,
    actor: Actor,
    distribution: Box<dyn Distribution>,
    critic: Critic,
    actor_optimizer: Adam,
    critic_optimizer: Adam,
    envs: VecEnv<E>,
    buffer: RolloutBuffer,
    rng: R,
    tape: Tape,
    scratch: Scratch,
    update: usize,
    timesteps: usize,
    started: Instant,
}
// ANCHOR_END: trainer

/// Buffers reused from step to step.
#[derive(Default)]
struct Scratch {
    workspace: Workspace,
    observations: Vec<f32>,
    /// The actor's outputs for each environment: the distribution's parameters.
    outputs: [Vec<f32>; 2],
    values: Vec<f32>,
    /// What the distribution drew, as the buffer stores it.
    samples: Vec<f32>,
    /// What the environments are given: the samples mapped to actions.
    actions: Vec<f32>,
    log_probs: Vec<f32>,
    rewards: Vec<f32>,
    truncation_values: Vec<f32>,
    param_vars: Vec<Var>,
    grads: Vec<Tensor>,
    indices: Vec<usize>,
}

impl<E: Env> Trainer<E> {
    /// A learner for the given environments (one per `config.num_envs`), with networks
    /// initialized from `config.seed`, and every later random number drawn from the same
    /// generator.
    ///
    /// # Panics
    /// If the config is invalid (see [`Config::validate`]), the number of environments
    /// differs from `config.num_envs`, or the distribution does not fit the environments'
    /// actions (see [`DistributionKind::over`]).
    pub fn new(config: Config, envs: Vec<E>) -> Trainer<E> {
        let rng = StdRng::seed_from_u64(config.seed);
        Trainer::with_randomness(config, envs, rng)
    }
}

impl<E: Env, R: Randomness> Trainer<E, R> {
    /// A learner whose random numbers all come from `rng`: the networks' initialization
    /// (through [`Randomness::generator`]), the environments' initial states, the actions'
    /// noise and the minibatches' order.
    ///
    /// # Panics
    /// As [`Trainer::new`].
    pub fn with_randomness(config: Config, envs: Vec<E>, mut rng: R) -> Trainer<E, R> {
        if let Err(problem) = config.validate() {
            panic!("invalid config: {problem}");
        }
        assert_eq!(
            envs.len(),
            config.num_envs,
            "config.num_envs and the environments given differ"
        );
        let mut envs = VecEnv::new(envs);
        if config.time_limit == TimeLimit::Ignore {
            envs.ignore_time_limits();
        }
        let (obs_size, space) = (envs.obs_size(), envs.action_space());
        let distribution = config.distribution.over(space).unwrap_or_else(|e| panic!("{e}"));
        let actor = Actor::new(&config.actor_config(obs_size, space), rng.generator());
        let critic = Critic::new(&config.critic_config(obs_size), rng.generator());
        let width = distribution.sample_width();
        let buffer = RolloutBuffer::new(config.rollout_steps, config.num_envs, obs_size, width);
        Trainer {
            actor_optimizer: Adam::new(config.actor_learning_rate),
            critic_optimizer: Adam::new(config.critic_learning_rate),
            actor,
            distribution,
            critic,
            envs,
            buffer,
            rng,
            tape: Tape::new(),
            scratch: Scratch::default(),
            update: 0,
            timesteps: 0,
            started: Instant::now(),
            config,
        }
    }

    /// The configuration this learner runs.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The policy network.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The value network.
    pub fn critic(&self) -> &Critic {
        &self.critic
    }

    /// The policy network, writable: to start from other weights (a checkpoint, a reference
    /// implementation's initialization). Before the first iteration, so that the optimizer
    /// has no moments yet of the old weights.
    pub fn actor_mut(&mut self) -> &mut Actor {
        &mut self.actor
    }

    /// The optimizers of the actor and of the critic.
    pub fn optimizers(&self) -> (&Adam, &Adam) {
        (&self.actor_optimizer, &self.critic_optimizer)
    }

    /// The value network, writable, as [`Trainer::actor_mut`].
    pub fn critic_mut(&mut self) -> &mut Critic {
        &mut self.critic
    }

    /// True once the configured number of iterations has run.
    pub fn is_done(&self) -> bool {
        self.update >= self.config.updates()
    }

    // ANCHOR: iterate
    /// One iteration of the four phases: collect, estimate, learn, discard.
    ///
    /// # Errors
    /// [`Divergence`] if the policy sampled an action that is not a finite number, or if a
    /// loss, a diagnostic or a parameter of either network became NaN or infinite. The
    /// rollout is discarded; the trainer should not iterate again.
    pub fn iterate(&mut self) -> Result<UpdateStats, Divergence> {
        if self.update == 0 {
            self.envs.reset(self.rng.generator());
        }
        self.update += 1;
        self.set_learning_rates();
        let collect_start = Instant::now();
        let collected = self.collect();
        let (episode_return, episode_length) = collected.map_err(|what| {
            self.buffer.clear();
            Divergence { update: self.update, what, stats: None }
        })?;
        let learn_start = Instant::now();
        self.estimate_advantages();
        let explained = explained_variance(&self.buffer.values, &self.buffer.returns);
        let mut stats = self.learn();
        self.buffer.clear();
        stats.collect_seconds = (learn_start - collect_start).as_secs_f64();
        stats.learn_seconds = learn_start.elapsed().as_secs_f64();
        stats.update = self.update;
        stats.timesteps = self.timesteps;
        stats.episode_return = episode_return;
        stats.episode_length = episode_length;
        stats.explained_variance = explained;
        stats.learning_rate = self.actor_optimizer.learning_rate();
        stats.elapsed = self.started.elapsed().as_secs_f64();
        if let Some(what) = first_non_finite(&stats, &self.actor, &self.critic) {
            return Err(Divergence { update: self.update, what, stats: Some(Box::new(stats)) });
        }
        Ok(stats)
    }
    // ANCHOR_END: iterate

    /// Sets both optimizers' rates for this update, as the schedule says.
    fn set_learning_rates(&mut self) {
        let fraction = self.config.learning_rate_fraction(self.update);
        self.actor_optimizer.set_learning_rate(fraction * self.config.actor_learning_rate);
        self.critic_optimizer.set_learning_rate(fraction * self.config.critic_learning_rate);
    }

    // ANCHOR: collect
    /// Phase 1: runs the current policy for `rollout_steps` steps in every environment.
    /// Returns the mean return and length of the episodes that ended meanwhile, or what was
    /// wrong with an action the policy sampled.
    fn collect(&mut self) -> Result<(Option<f64>, Option<f64>), String> {
        let envs = self.config.num_envs;
        let [w1, w2] = self.actor.output_widths();
        let width = self.distribution.sample_width();
        let s = &mut self.scratch;
        s.outputs[0].resize(envs * w1, 0.0);
        s.outputs[1].resize(envs * w2, 0.0);
        s.samples.resize(envs * width, 0.0);
        s.actions.resize(envs * width, 0.0);
        s.values.resize(envs, 0.0);
        s.log_probs.resize(envs, 0.0);
        s.rewards.resize(envs, 0.0);
        s.truncation_values.resize(envs, 0.0);
        let (mut return_sum, mut length_sum, mut episodes) = (0.0, 0.0, 0usize);
        for _ in 0..self.config.rollout_steps {
            s.observations.clear();
            s.observations.extend_from_slice(self.envs.observations());
            let [first, second] = &mut s.outputs;
            self.actor.forward(&s.observations, &mut s.workspace, first, second);
            self.critic.forward(&s.observations, &mut s.workspace, &mut s.values);
            for env in 0..envs {
                let params = [&first[env * w1..][..w1], &second[env * w2..][..w2]];
                let sample = &mut s.samples[env * width..][..width];
                self.distribution.sample(&params, &mut self.rng, sample);
                s.log_probs[env] = self.distribution.log_prob(&params, sample);
                // A σ that overflowed, or a NaN mean: no environment can step with that.
                if let Some(bad) = sample.iter().find(|x| !x.is_finite()) {
                    return Err(format!(
                        "the policy sampled the action {bad} in environment {env} (its \
                         distribution's parameters: {:?} and {:?})",
                        params[0], params[1]
                    ));
                }
                self.distribution.to_action(sample, &mut s.actions[env * width..][..width]);
            }

            self.envs.step(&s.actions, self.rng.generator());
            for (scaled, &reward) in s.rewards.iter_mut().zip(self.envs.rewards()) {
                *scaled = reward * self.config.reward_scale;
            }
            // A truncated episode's last state has a future: bootstrap from its value.
            for (env, value) in s.truncation_values.iter_mut().enumerate() {
                *value = 0.0;
                if self.envs.truncated()[env]
                    && let Some(final_obs) = self.envs.final_observation(env)
                {
                    self.critic.forward(final_obs, &mut s.workspace, std::slice::from_mut(value));
                }
            }
            self.buffer.push(Transition {
                observations: &s.observations,
                actions: &s.samples,
                log_probs: &s.log_probs,
                values: &s.values,
                rewards: &s.rewards,
                terminated: self.envs.terminated(),
                truncated: self.envs.truncated(),
                truncation_values: &s.truncation_values,
            });
            for episode in self.envs.drain_episodes() {
                return_sum += episode.total_reward;
                length_sum += episode.length as f64;
                episodes += 1;
            }
        }
        self.timesteps += self.config.batch_size();
        if episodes == 0 {
            return Ok((None, None));
        }
        let n = episodes as f64;
        Ok((Some(return_sum / n), Some(length_sum / n)))
    }
    // ANCHOR_END: collect

    // ANCHOR: estimate
    /// Phase 2: GAE advantages and returns, bootstrapped from the value of the observation
    /// each environment is in when the rollout stops.
    fn estimate_advantages(&mut self) {
        let s = &mut self.scratch;
        self.critic.forward(self.envs.observations(), &mut s.workspace, &mut s.values);
        let gae = GaeParams {
            gamma: self.config.gamma,
            lambda: self.config.gae_lambda,
            time_limit: self.config.time_limit,
        };
        self.buffer.compute_advantages(&s.values, gae);
        if self.config.normalize_advantages {
            normalize(&mut self.buffer.advantages);
        }
    }
    // ANCHOR_END: estimate

    // ANCHOR: learn
    /// Phase 3: `epochs` passes over the rollout in shuffled minibatches; each minibatch
    /// takes one Adam step for the critic and one for the actor.
    fn learn(&mut self) -> UpdateStats {
        let n = self.buffer.capacity();
        let mut indices = std::mem::take(&mut self.scratch.indices);
        indices.clear();
        indices.extend(0..n);
        let mut totals = UpdateStats::default();
        let mut minibatches = 0;
        for _ in 0..self.config.epochs {
            self.rng.shuffle(&mut indices);
            for batch in indices.chunks(self.config.minibatch_size) {
                totals.value_loss += self.critic_step(batch);
                let actor = self.actor_step(batch);
                totals.policy_loss += actor.policy_loss;
                totals.entropy += actor.entropy;
                totals.approx_kl += actor.approx_kl;
                totals.clip_fraction += actor.clip_fraction;
                minibatches += 1;
            }
        }
        self.scratch.indices = indices;
        let m = minibatches as f32;
        UpdateStats {
            value_loss: totals.value_loss / m,
            policy_loss: totals.policy_loss / m,
            entropy: totals.entropy / m,
            approx_kl: totals.approx_kl / m,
            clip_fraction: totals.clip_fraction / m,
            ..UpdateStats::default()
        }
    }
    // ANCHOR_END: learn

    /// Records the rows `batch` of a per-transition array as a constant: `[batch]` for one
    /// value per transition, `[batch, width]` for vectors (observations, actions).
    fn gather(tape: &mut Tape, source: &[f32], width: Width, batch: &[usize]) -> Var {
        let (shape, dims, width) = match width {
            Width::Scalar => ([batch.len(), 1], 1, 1),
            Width::Vector(width) => ([batch.len(), width], 2, width),
        };
        tape.constant_with(&shape[..dims], |rows| {
            for (row, &i) in rows.chunks_exact_mut(width).zip(batch) {
                row.copy_from_slice(&source[i * width..(i + 1) * width]);
            }
        })
    }

    // ANCHOR: critic_step
    /// One gradient step of the critic on a minibatch: MSE to the returns.
    fn critic_step(&mut self, batch: &[usize]) -> f32 {
        let (tape, buffer) = (&mut self.tape, &self.buffer);
        tape.clear();
        let obs = Self::gather(tape, &buffer.observations, Width::Vector(buffer.obs_size()), batch);
        let returns = Self::gather(tape, &buffer.returns, Width::Scalar, batch);
        let values = self.critic.forward_on_tape(tape, obs, &mut self.scratch.param_vars);
        let clip = self
            .config
            .value_clip
            .map(|epsilon| (Self::gather(tape, &buffer.values, Width::Scalar, batch), epsilon));
        let loss = value_loss(tape, values, returns, clip);
        tape.backward(loss);
        let loss_value = tape.value(loss).item();
        apply_gradients(
            tape,
            &self.scratch.param_vars,
            &mut self.scratch.grads,
            self.config.max_grad_norm,
            &mut self.critic_optimizer,
            self.critic.parameters_mut(),
        );
        loss_value
    }
    // ANCHOR_END: critic_step

    // ANCHOR: actor_step
    /// One gradient step of the actor on a minibatch: the clipped surrogate minus the
    /// entropy bonus. Returns the minibatch's diagnostics.
    fn actor_step(&mut self, batch: &[usize]) -> ActorStepStats {
        let (tape, buffer) = (&mut self.tape, &self.buffer);
        tape.clear();
        let obs = Self::gather(tape, &buffer.observations, Width::Vector(buffer.obs_size()), batch);
        let actions =
            Self::gather(tape, &buffer.actions, Width::Vector(buffer.action_size()), batch);
        let old_log_probs = Self::gather(tape, &buffer.log_probs, Width::Scalar, batch);
        let advantages = Self::gather(tape, &buffer.advantages, Width::Scalar, batch);
        let outputs = self.actor.outputs_on_tape(tape, obs, &mut self.scratch.param_vars);
        let log_probs = self.distribution.log_prob_on_tape(tape, outputs.as_slice(), actions);
        let entropy = self.distribution.entropy_on_tape(tape, outputs.as_slice());
        let loss = actor_loss(
            tape,
            log_probs,
            old_log_probs,
            advantages,
            entropy,
            self.config.clip_epsilon,
            self.config.entropy_coef,
        );
        tape.backward(loss.total);
        let ratios =
            log_ratio_stats(tape.value(loss.surrogate.log_ratio).data(), self.config.clip_epsilon);
        let stats = ActorStepStats {
            policy_loss: tape.value(loss.surrogate.loss).item(),
            entropy: tape.value(loss.entropy).item(),
            approx_kl: ratios.approx_kl,
            clip_fraction: ratios.clip_fraction,
        };
        apply_gradients(
            tape,
            &self.scratch.param_vars,
            &mut self.scratch.grads,
            self.config.max_grad_norm,
            &mut self.actor_optimizer,
            self.actor.parameters_mut(),
        );
        stats
    }
    // ANCHOR_END: actor_step
}

// ANCHOR: non_finite
/// The first quantity of an update that is NaN or infinite: a loss, a diagnostic, or a
/// parameter of either network; `None` when all are finite. Two diagnostics are left out
/// because they are not broken numbers: the explained variance is NaN whenever the returns of
/// a rollout do not vary, and the approximate KL is computed so that it stays finite (a
/// policy that moved very far is a problem the KL shows, not a number that broke).
pub fn first_non_finite(stats: &UpdateStats, actor: &Actor, critic: &Critic) -> Option<String> {
    let became = |x: f32| if x.is_nan() { "NaN" } else { "infinite" };
    let diagnostics = [
        ("the policy loss", stats.policy_loss),
        ("the value loss", stats.value_loss),
        ("the entropy", stats.entropy),
        ("the clip fraction", stats.clip_fraction),
    ];
    if let Some((name, x)) = diagnostics.iter().find(|(_, x)| !x.is_finite()) {
        return Some(format!("{name} became {}", became(*x)));
    }
    let actor_params = actor.parameter_names().into_iter().zip(actor.parameters());
    let critic_params = critic.parameter_names().into_iter().zip(critic.parameters());
    let tagged = actor_params.map(|p| ("actor", p)).chain(critic_params.map(|p| ("critic", p)));
    for (network, (name, tensor)) in tagged {
        if let Some(&x) = tensor.data().iter().find(|x| !x.is_finite()) {
            return Some(format!("the {network} parameter {name} became {}", became(x)));
        }
    }
    None
}
// ANCHOR_END: non_finite

/// How many values each transition has in a gathered array.
#[derive(Clone, Copy)]
enum Width {
    Scalar,
    Vector(usize),
}

/// Diagnostics of one actor minibatch.
struct ActorStepStats {
    policy_loss: f32,
    entropy: f32,
    approx_kl: f32,
    clip_fraction: f32,
}

// ANCHOR: apply_gradients
/// Copies the gradients of `param_vars` out of the tape, clips their global norm when
/// configured, and takes one optimizer step.
fn apply_gradients(
    tape: &Tape,
    param_vars: &[Var],
    grads: &mut Vec<Tensor>,
    max_grad_norm: Option<f32>,
    optimizer: &mut Adam,
    mut params: Vec<&mut Tensor>,
) {
    grads.resize_with(param_vars.len(), Tensor::default);
    for (grad, &var) in grads.iter_mut().zip(param_vars) {
        grad.copy_from(tape.grad(var));
    }
    let mut grad_refs: Vec<&mut Tensor> = grads.iter_mut().collect();
    if let Some(max_norm) = max_grad_norm {
        clip_grad_norm(&mut grad_refs, max_norm);
    }
    let grad_refs: Vec<&Tensor> = grad_refs.into_iter().map(|g| &*g).collect();
    optimizer.step(&mut params, &grad_refs);
}
// ANCHOR_END: apply_gradients
