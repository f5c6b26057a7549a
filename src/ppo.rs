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
use crate::grpo::{group_advantages, reference_penalty};
use crate::loss::{
    ActorLoss, Objective, adapted_kl_coef, explained_variance, log_ratio_stats, policy_objective,
    value_loss, with_entropy_bonus,
};
use crate::networks::{shared_forward, shared_with};
use crate::nn::{Actor, Critic, Recorder, Workspace};
use crate::normalize::{RewardScaler, RunningStats};
use crate::parallel::Workers;
use crate::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::fmt;
use std::time::Instant;

mod pieces;
use pieces::Pieces;
pub use pieces::ROWS_PER_PIECE;

pub use crate::config::{Config, DistributionKind, LOG_STD_RANGE, PRESET_STEPS};
pub use crate::evaluate::{
    EVAL_SEED_OFFSET, Evaluation, deterministic_distribution, evaluate, evaluate_normalized,
    evaluate_with, evaluation_seed,
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
    /// Minibatch steps taken: `epochs` times the minibatches of a rollout, or fewer when the
    /// approximate KL stopped the epochs early (`target_kl`).
    pub minibatches: usize,
    /// β of the KL penalty during this iteration (adapted after each update when
    /// `adaptive_kl` is set).
    pub kl_coef: f32,
    /// With the adaptive KL penalty, the mean KL over the rollout between the collecting
    /// policy and the updated one, which decides the next β.
    pub rollout_kl: Option<f32>,
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
    /// One tape per network, so that the actor's minibatch loss can be looked at (for the KL
    /// early stop) before the critic takes its step, and so that the two networks' gradients
    /// can be computed at the same time on two threads.
    actor_tape: Tape,
    critic_work: CriticWork,
    /// The tapes of a long minibatch's pieces, when it is cut (see [`ROWS_PER_PIECE`]).
    pieces: Pieces,
    scratch: Scratch,
    /// The second thread, when the run has one: see [`Trainer::set_threads`].
    workers: Workers,
    /// The learning rates' (and, when annealed, the entropy bonus's) fraction of their
    /// configured values during this iteration.
    schedule: f32,
    /// β of the KL penalty, adapted after each update when configured.
    kl_coef: f32,
    /// The observations' running statistics, when they are normalized.
    observation_stats: Option<RunningStats>,
    /// The rewards' scaler, when they are normalized.
    reward_scaler: Option<RewardScaler>,
    /// GRPO's reference policy (the actor as initialized), when it is penalized for leaving.
    reference: Option<Actor>,
    /// GRPO: the transitions to learn from (those of each environment's first episode) and,
    /// with a reference, the reference policy's log-probability of each action.
    grpo_rows: Vec<usize>,
    reference_log_probs: Vec<f32>,
    update: usize,
    timesteps: usize,
    started: Instant,
}
// ANCHOR_END: trainer

// ANCHOR: side_by_side_envs
/// The fewest environments for which a rollout step runs the actor's and the critic's forward
/// passes side by side on two threads. Handing work to the other thread costs about a
/// microsecond when both cores are free, and far more on a virtual machine whose host has
/// taken one of them away, while the two passes over one observation take a few microseconds:
/// with the `seed` preset's one environment, a handover at every step made a two-thread run
/// two and a half times as slow, and with 1024 environments it took a sixth off the
/// collection (chapter 14). 512 lies between the two measurements. With fewer environments
/// a step runs the actor's pass alone, and the critic's values of the whole rollout are
/// computed at its end, in one pass.
pub const SIDE_BY_SIDE_ENVS: usize = 512;
// ANCHOR_END: side_by_side_envs

/// Buffers reused from step to step.
#[derive(Default)]
struct Scratch {
    workspace: Workspace,
    /// The critic's, for its forward pass while the actor's uses `workspace`.
    critic_workspace: Workspace,
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
    /// One observation, normalized: a truncated episode's last.
    final_observation: Vec<f32>,
    actor_vars: Vec<Var>,
    grads: Vec<Tensor>,
    indices: Vec<usize>,
    /// The minibatch's advantages.
    advantages: Vec<f32>,
}

/// What the critic's minibatch step writes, kept apart from the rest of the trainer so that
/// it can run on the second thread while the actor's step runs on the first.
#[derive(Default)]
struct CriticWork {
    tape: Tape,
    vars: Vec<Var>,
    grads: Vec<Tensor>,
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
        let grpo_reference = config.grpo_group.is_some() && config.reference_kl > 0.0;
        let reference = grpo_reference.then(|| actor.clone());
        let width = distribution.sample_width();
        let buffer = RolloutBuffer::new(config.rollout_steps, config.num_envs, obs_size, width);
        let adam = |rate| Adam::with_betas_eps(rate, Adam::DEFAULT_BETAS, config.adam_eps);
        Trainer {
            actor_optimizer: adam(config.actor_learning_rate),
            critic_optimizer: adam(config.critic_learning_rate),
            actor,
            distribution,
            critic,
            envs,
            buffer,
            rng,
            actor_tape: Tape::new(),
            critic_work: CriticWork::default(),
            pieces: Pieces::default(),
            scratch: Scratch::default(),
            workers: Workers::default(),
            schedule: 1.0,
            kl_coef: config.kl_coef,
            observation_stats: config.normalize_observations.then(|| RunningStats::new(obs_size)),
            reward_scaler: config
                .normalize_rewards
                .then(|| RewardScaler::new(config.num_envs, config.gamma)),
            reference,
            grpo_rows: Vec::new(),
            reference_log_probs: Vec::new(),
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

    /// The running statistics the observations are normalized with, when they are: a trained
    /// policy must be evaluated with them, frozen.
    pub fn observation_stats(&self) -> Option<&RunningStats> {
        self.observation_stats.as_ref()
    }

    /// Evaluates the trained policy as the programs do: deterministically, on `envs` (one
    /// episode each, of the training environment's kind or a wrapper of it) seeded from
    /// `seed`, with the observation statistics frozen if it normalizes observations
    /// ([`evaluate_normalized`]).
    ///
    /// # Panics
    /// As [`evaluate`].
    pub fn evaluate<V: Env>(&self, envs: Vec<V>, seed: u64) -> Evaluation {
        evaluate_normalized(&self.actor, self.observation_stats(), envs, seed)
    }

    /// The optimizers of the actor and of the critic.
    pub fn optimizers(&self) -> (&Adam, &Adam) {
        (&self.actor_optimizer, &self.critic_optimizer)
    }

    /// The value network, writable, as [`Trainer::actor_mut`].
    pub fn critic_mut(&mut self) -> &mut Critic {
        &mut self.critic
    }

    // ANCHOR: threads
    /// Runs each minibatch's actor and critic gradients on `threads` threads: 1 (the default)
    /// or 2. More gives nothing more, since there are two independent computations (with a
    /// shared network, one: it always runs on one thread). Every number is computed the same
    /// way on either thread, so a run gives the same results bit for bit whatever the count.
    ///
    /// This is a setting of the run, like the machine it runs on, not of the training: it is
    /// not in [`Config`] and not in checkpoints, so that a configuration or a checkpoint means
    /// the same thing on every machine.
    ///
    /// # Panics
    /// If the operating system cannot start a thread.
    pub fn set_threads(&mut self, threads: usize) {
        if threads.min(2) != self.workers.threads() {
            self.workers = Workers::new(threads);
        }
    }
    // ANCHOR_END: threads

    /// The threads [`Trainer::set_threads`] set: 1 or 2.
    pub fn threads(&self) -> usize {
        self.workers.threads()
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
        if let Some(group) = self.config.grpo_group {
            // Every rollout starts new groups: each environment's first episode is its sample.
            self.envs.reset_groups(group, self.rng.generator());
        } else if self.update == 0 {
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
        let explained = if let Some(group) = self.config.grpo_group {
            self.estimate_group_advantages(group);
            0.0 // there is no critic to explain anything
        } else {
            self.estimate_advantages();
            explained_variance(&self.buffer.values, &self.buffer.returns)
        };
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

    // ANCHOR: schedule
    /// Sets both optimizers' rates for this update, as the schedule says.
    fn set_learning_rates(&mut self) {
        let fraction = self.config.learning_rate_fraction(self.update);
        self.schedule = fraction;
        self.actor_optimizer.set_learning_rate(fraction * self.config.actor_learning_rate);
        self.critic_optimizer.set_learning_rate(fraction * self.config.critic_learning_rate);
    }

    /// The entropy bonus's weight during this iteration: annealed with the learning rates
    /// when configured.
    fn entropy_coef(&self) -> f32 {
        let fraction = if self.config.anneal_entropy { self.schedule } else { 1.0 };
        fraction * self.config.entropy_coef
    }
    // ANCHOR_END: schedule

    /// What the actor's loss reads, borrowed.
    fn policy_inputs(&self) -> PolicyInputs<'_> {
        PolicyInputs {
            actor: &self.actor,
            distribution: self.distribution.as_ref(),
            buffer: &self.buffer,
            config: &self.config,
            kl_coef: self.kl_coef,
            entropy_coef: self.entropy_coef(),
            reference_log_probs: self.reference.is_some().then_some(&self.reference_log_probs),
        }
    }

    // ANCHOR: collect_setup
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
        // With few environments the critic's values wait for the rollout's end: one pass over
        // all its observations costs far less than a pass over a few rows at every step.
        let values_at_the_end = !self.config.shared_network && envs < SIDE_BY_SIDE_ENVS;
        if values_at_the_end {
            // Until the critic's pass (`rollout_values`) the buffer holds NaN, which no value
            // could pass for.
            s.values.fill(f32::NAN);
        }
        // ANCHOR_END: collect_setup
        // ANCHOR: collect_act
        for _ in 0..self.config.rollout_steps {
            s.observations.clear();
            s.observations.extend_from_slice(self.envs.observations());
            // ANCHOR: observations
            if let Some(stats) = &mut self.observation_stats {
                stats.update(&s.observations);
                stats.normalize(&mut s.observations);
            }
            // ANCHOR_END: observations
            let [first, second] = &mut s.outputs;
            if self.config.shared_network {
                let outputs = [&mut first[..], &mut second[..]];
                let (actor, critic) = (&self.actor, &self.critic);
                shared_forward(
                    actor,
                    critic,
                    &s.observations,
                    &mut s.workspace,
                    outputs,
                    &mut s.values,
                );
            } else if values_at_the_end {
                // The actor's alone: the sampling needs its outputs now.
                self.actor.forward(&s.observations, &mut s.workspace, first, second);
            } else {
                // The two forward passes read the same observations and write apart: with
                // this many environments the critic's runs on the worker, as in the minibatch
                // steps.
                let (actor, critic, observations) = (&self.actor, &self.critic, &s.observations);
                let (values, critic_workspace) = (&mut s.values, &mut s.critic_workspace);
                self.workers.join(
                    || actor.forward(observations, &mut s.workspace, first, second),
                    || critic.forward(observations, critic_workspace, values),
                );
            }
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
            // ANCHOR_END: collect_act

            // ANCHOR: collect_step
            self.envs.step(&s.actions, self.rng.generator());
            // ANCHOR: rewards
            for (scaled, &reward) in s.rewards.iter_mut().zip(self.envs.rewards()) {
                *scaled = reward * self.config.reward_scale;
            }
            if let Some(scaler) = &mut self.reward_scaler {
                scaler.scale(&mut s.rewards, self.envs.terminated());
            }
            // ANCHOR_END: rewards
            // A truncated episode's last state has a future: bootstrap from its value.
            for (env, value) in s.truncation_values.iter_mut().enumerate() {
                *value = 0.0;
                if self.envs.truncated()[env]
                    && let Some(final_obs) = self.envs.final_observation(env)
                {
                    s.final_observation.clear();
                    s.final_observation.extend_from_slice(final_obs);
                    if let Some(stats) = &self.observation_stats {
                        stats.normalize(&mut s.final_observation);
                    }
                    let value = std::slice::from_mut(value);
                    let (actor, critic, shared) =
                        (&self.actor, &self.critic, self.config.shared_network);
                    value_of(actor, critic, shared, &s.final_observation, &mut s.workspace, value);
                }
            }
            // ANCHOR_END: collect_step
            // ANCHOR: collect_store
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
        if values_at_the_end {
            self.rollout_values();
        }
        self.timesteps += self.config.batch_size();
        if episodes == 0 {
            return Ok((None, None));
        }
        let n = episodes as f64;
        Ok((Some(return_sum / n), Some(length_sum / n)))
    }
    // ANCHOR_END: collect_store

    // ANCHOR: rollout_values
    /// The critic's value of every observation of the rollout, in one pass split between the
    /// two threads (or two passes on one). The critic did not change during the rollout, and
    /// each row's value is the same chain of operations whatever rows share its pass (every
    /// element of a product is summed in the same order), so these are the values one pass
    /// per step would have given, bit for bit, for a fraction of the cost: a pass over a few
    /// rows is mostly overhead (chapter 14).
    fn rollout_values(&mut self) {
        let buffer = &mut self.buffer;
        let half = buffer.capacity() / 2;
        let (first_obs, second_obs) = buffer.observations.split_at(half * buffer.obs_size());
        let (first, second) = buffer.values.split_at_mut(half);
        let (critic, s) = (&self.critic, &mut self.scratch);
        self.workers.join(
            || critic.forward(first_obs, &mut s.workspace, first),
            || critic.forward(second_obs, &mut s.critic_workspace, second),
        );
    }
    // ANCHOR_END: rollout_values

    // ANCHOR: estimate_groups
    /// Phase 2 for GRPO: each environment's first episode scored against its group's
    /// ([`group_advantages`]), and with a reference policy, its log-probability of every
    /// action taken.
    fn estimate_group_advantages(&mut self, group: usize) {
        let buffer = &mut self.buffer;
        let ends: Vec<bool> =
            buffer.terminated.iter().zip(&buffer.truncated).map(|(&a, &b)| a || b).collect();
        let groups = group_advantages(&buffer.rewards, &ends, self.config.num_envs, group);
        buffer.advantages.clear();
        buffer.advantages.extend_from_slice(&groups.advantages);
        if self.config.normalize_advantages && !self.config.minibatch_advantages {
            // Over the transitions learned from: with episodes of one length, a no-op.
            let mut learned: Vec<f32> = groups.rows.iter().map(|&i| buffer.advantages[i]).collect();
            normalize(&mut learned);
            for (&i, &a) in groups.rows.iter().zip(&learned) {
                buffer.advantages[i] = a;
            }
        }
        if let Some(reference) = &self.reference {
            let n = buffer.capacity();
            let [w1, w2] = reference.output_widths();
            let (mut first, mut second) = (vec![0.0; n * w1], vec![0.0; n * w2]);
            let s = &mut self.scratch;
            reference.forward(&buffer.observations, &mut s.workspace, &mut first, &mut second);
            let width = buffer.action_size();
            self.reference_log_probs = (0..n)
                .map(|i| {
                    let params = [&first[i * w1..][..w1], &second[i * w2..][..w2]];
                    self.distribution.log_prob(&params, &buffer.actions[i * width..][..width])
                })
                .collect();
        }
        self.grpo_rows = groups.rows;
    }
    // ANCHOR_END: estimate_groups

    // ANCHOR: estimate
    /// Phase 2: GAE advantages and returns, bootstrapped from the value of the observation
    /// each environment is in when the rollout stops.
    fn estimate_advantages(&mut self) {
        let s = &mut self.scratch;
        s.observations.clear();
        s.observations.extend_from_slice(self.envs.observations());
        if let Some(stats) = &self.observation_stats {
            stats.normalize(&mut s.observations);
        }
        let (actor, critic, shared) = (&self.actor, &self.critic, self.config.shared_network);
        value_of(actor, critic, shared, &s.observations, &mut s.workspace, &mut s.values);
        let gae = GaeParams {
            gamma: self.config.gamma,
            lambda: self.config.gae_lambda,
            time_limit: self.config.time_limit,
        };
        self.buffer.compute_advantages(&s.values, gae);
        // Per-minibatch normalization happens when the minibatch is gathered, instead.
        if self.config.normalize_advantages && !self.config.minibatch_advantages {
            normalize(&mut self.buffer.advantages);
        }
    }
    // ANCHOR_END: estimate

    // ANCHOR: learn
    /// Phase 3: `epochs` passes over the rollout in shuffled minibatches; each minibatch
    /// takes one Adam step for the critic and one for the actor. With `target_kl`, the passes
    /// stop before the first minibatch on which the policy has already moved too far.
    fn learn(&mut self) -> UpdateStats {
        let n = self.buffer.capacity();
        let mut indices = std::mem::take(&mut self.scratch.indices);
        indices.clear();
        if self.config.grpo_group.is_some() {
            indices.extend_from_slice(&self.grpo_rows);
        } else {
            indices.extend(0..n);
        }
        let mut totals = UpdateStats::default();
        let mut minibatches = 0;
        'epochs: for _ in 0..self.config.epochs {
            self.rng.shuffle(&mut indices);
            for batch in indices.chunks(self.config.minibatch_size) {
                let mut advantages = std::mem::take(&mut self.scratch.advantages);
                gathered_advantages(&self.config, &self.buffer.advantages, batch, &mut advantages);
                let rows = Rows { batch, advantages: &advantages, share: 1.0 };
                let (actor, value_loss) = if self.config.shared_network {
                    self.shared_gradients(rows)
                } else if self.config.grpo_group.is_some() {
                    (self.actor_alone_gradients(rows), 0.0)
                } else {
                    self.separate_gradients(rows)
                };
                self.scratch.advantages = advantages;
                // ANCHOR: early_stop
                if self.config.target_kl.is_some_and(|target| actor.approx_kl > 1.5 * target) {
                    break 'epochs;
                }
                // ANCHOR_END: early_stop
                // A shared network steps its value head with the actor; GRPO has no critic.
                if self.config.shared_network || self.config.grpo_group.is_some() {
                    self.actor_step();
                } else {
                    self.separate_steps();
                }
                totals.value_loss += value_loss;
                totals.policy_loss += actor.policy_loss;
                totals.entropy += actor.entropy;
                totals.approx_kl += actor.approx_kl;
                totals.clip_fraction += actor.clip_fraction;
                minibatches += 1;
            }
        }
        self.scratch.indices = indices;
        let m = minibatches.max(1) as f32;
        let kl_coef = self.kl_coef;
        UpdateStats {
            value_loss: totals.value_loss / m,
            policy_loss: totals.policy_loss / m,
            entropy: totals.entropy / m,
            approx_kl: totals.approx_kl / m,
            clip_fraction: totals.clip_fraction / m,
            minibatches,
            kl_coef,
            rollout_kl: self.adapt_kl_coef(),
            ..UpdateStats::default()
        }
    }
    // ANCHOR_END: learn

    // ANCHOR: adapt_kl
    /// The PPO paper's adaptive penalty: after an update, the mean KL between the collecting
    /// policy and the updated one over the whole rollout sets the next β
    /// ([`adapted_kl_coef`]). Returns that KL, or `None` where β is not adapted.
    fn adapt_kl_coef(&mut self) -> Option<f32> {
        let target =
            self.config.adaptive_kl.filter(|_| self.config.objective == Objective::KlPenalty)?;
        let kl = self.rollout_kl();
        self.kl_coef = adapted_kl_coef(self.kl_coef, kl, target);
        Some(kl as f32)
    }

    /// The mean over the rollout of `(r − 1) − ln r`, the estimate of KL(π_old ‖ π) the
    /// diagnostics use, with the actor as it is now.
    fn rollout_kl(&mut self) -> f64 {
        let (buffer, s) = (&self.buffer, &mut self.scratch);
        let [w1, w2] = self.actor.output_widths();
        let (obs_size, width) = (buffer.obs_size(), buffer.action_size());
        let n = buffer.capacity();
        s.outputs[0].resize(n * w1, 0.0);
        s.outputs[1].resize(n * w2, 0.0);
        let [first, second] = &mut s.outputs;
        self.actor.forward(&buffer.observations[..n * obs_size], &mut s.workspace, first, second);
        let mut sum = 0.0f64;
        for i in 0..n {
            let params = [&first[i * w1..][..w1], &second[i * w2..][..w2]];
            let new = self.distribution.log_prob(&params, &buffer.actions[i * width..][..width]);
            let log_ratio = f64::from(new) - f64::from(buffer.log_probs[i]);
            sum += log_ratio.exp_m1() - log_ratio;
        }
        sum / n as f64
    }
    // ANCHOR_END: adapt_kl

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
    /// The critic's loss on a minibatch (or a piece of one) and its gradient, left on the
    /// critic's tape for [`critic_step`](Self::critic_step): MSE to the returns, weighted by
    /// `value_coef` and by the rows' share of their minibatch. Returns the (unweighted) loss.
    /// A function of its arguments alone, not of the trainer, so that it can run on another
    /// thread while the actor's gradients are computed.
    fn critic_gradients(
        critic: &Critic,
        work: &mut CriticWork,
        buffer: &RolloutBuffer,
        config: &Config,
        rows: Rows<'_>,
    ) -> f32 {
        let (tape, batch) = (&mut work.tape, rows.batch);
        tape.clear();
        let obs = Self::gather(tape, &buffer.observations, Width::Vector(buffer.obs_size()), batch);
        let returns = Self::gather(tape, &buffer.returns, Width::Scalar, batch);
        let values = critic.forward_on_tape(tape, obs, &mut work.vars);
        let clip = config
            .value_clip
            .map(|epsilon| (Self::gather(tape, &buffer.values, Width::Scalar, batch), epsilon));
        let loss = value_loss(tape, values, returns, clip);
        let weighted = tape.mul_scalar(loss, config.value_coef * rows.share);
        tape.backward(weighted);
        tape.value(loss).item()
    }

    /// One Adam step of the critic with the gradients left on its tape, or on its `pieces`'
    /// tapes when the minibatch was cut; like the gradients, a function of its arguments
    /// alone, so that it can run on the worker.
    fn critic_step<'a>(
        critic: &mut Critic,
        optimizer: &mut Adam,
        work: &'a mut CriticWork,
        pieces: impl Iterator<Item = (&'a Tape, &'a [Var])>,
        max_grad_norm: Option<f32>,
    ) {
        let tapes = &mut pieces::or_whole(pieces, (&work.tape, &work.vars));
        let grads = &mut work.grads;
        apply_gradients(tapes, grads, max_grad_norm, optimizer, critic.parameters_mut());
    }
    // ANCHOR_END: critic_step

    // ANCHOR: actor_gradients
    /// The actor's loss on a minibatch (or a piece of one: see [`pieces`]) and its gradient,
    /// left on the actor's tape for [`actor_step`](Self::actor_step): the policy objective
    /// minus the entropy bonus, weighted by the rows' share of their minibatch. Returns the
    /// rows' diagnostics.
    fn actor_gradients(
        inputs: PolicyInputs<'_>,
        tape: &mut Tape,
        vars: &mut Vec<Var>,
        rows: Rows<'_>,
    ) -> ActorStepStats {
        tape.clear();
        let buffer = inputs.buffer;
        let obs =
            Self::gather(tape, &buffer.observations, Width::Vector(buffer.obs_size()), rows.batch);
        let outputs = inputs.actor.outputs_on_tape(tape, obs, vars);
        let loss = Self::policy_loss(inputs, tape, outputs.as_slice(), rows);
        // A whole minibatch's share is 1: nothing to multiply.
        let total =
            if rows.share == 1.0 { loss.total } else { tape.mul_scalar(loss.total, rows.share) };
        tape.backward(total);
        Self::actor_stats(tape, &loss, inputs.config.clip_epsilon)
    }
    // ANCHOR_END: actor_gradients

    // ANCHOR: separate_gradients
    /// Both networks' losses on a minibatch and their gradients, each left on its own tape:
    /// the actor's on this thread, the critic's on the worker when there is one. Neither reads
    /// anything the other writes, so running them at the same time changes no number. A
    /// minibatch of more than [`ROWS_PER_PIECE`] rows is cut into pieces instead.
    fn separate_gradients(&mut self, rows: Rows<'_>) -> (ActorStepStats, f32) {
        if rows.batch.len() > ROWS_PER_PIECE {
            self.pieced_gradients(rows)
        } else {
            self.whole_gradients(rows)
        }
    }

    fn whole_gradients(&mut self, rows: Rows<'_>) -> (ActorStepStats, f32) {
        self.pieces.clear();
        let mut tape = std::mem::take(&mut self.actor_tape);
        let mut vars = std::mem::take(&mut self.scratch.actor_vars);
        let mut work = std::mem::take(&mut self.critic_work);
        let mut workers = std::mem::take(&mut self.workers);
        let (critic, buffer, config) = (&self.critic, &self.buffer, &self.config);
        let inputs = self.policy_inputs();
        let result = workers.join(
            || Self::actor_gradients(inputs, &mut tape, &mut vars, rows),
            || Self::critic_gradients(critic, &mut work, buffer, config, rows),
        );
        self.actor_tape = tape;
        self.scratch.actor_vars = vars;
        self.critic_work = work;
        self.workers = workers;
        result
    }
    // ANCHOR_END: separate_gradients

    // ANCHOR: separate_steps
    /// The two networks' Adam steps, side by side like their gradients: the critic's on the
    /// worker, which computed its gradient, so that the critic's parameters, gradients and
    /// moments stay in that core's cache rather than cross to the other at every minibatch.
    /// The steps share nothing, so the order they run in changes no number.
    fn separate_steps(&mut self) {
        let mut workers = std::mem::take(&mut self.workers);
        let max_grad_norm = self.config.max_grad_norm;
        let (actor, actor_optimizer) = (&mut self.actor, &mut self.actor_optimizer);
        let (tape, scratch) = (&self.actor_tape, &mut self.scratch);
        let (critic, critic_optimizer) = (&mut self.critic, &mut self.critic_optimizer);
        let work = &mut self.critic_work;
        let (actor_pieces, critic_pieces) = self.pieces.tapes_mut();
        workers.join(
            || {
                let tapes = &mut pieces::or_whole(actor_pieces, (tape, &scratch.actor_vars));
                let params = actor.parameters_mut();
                let grads = &mut scratch.grads;
                apply_gradients(tapes, grads, max_grad_norm, actor_optimizer, params);
            },
            || Self::critic_step(critic, critic_optimizer, work, critic_pieces, max_grad_norm),
        );
        self.workers = workers;
    }
    // ANCHOR_END: separate_steps

    /// The actor's gradients alone, for GRPO, which has no critic to train.
    fn actor_alone_gradients(&mut self, rows: Rows<'_>) -> ActorStepStats {
        let mut tape = std::mem::take(&mut self.actor_tape);
        let mut vars = std::mem::take(&mut self.scratch.actor_vars);
        let stats = Self::actor_gradients(self.policy_inputs(), &mut tape, &mut vars, rows);
        self.actor_tape = tape;
        self.scratch.actor_vars = vars;
        stats
    }

    // ANCHOR: policy_loss
    /// The policy objective minus the entropy bonus on the rows, from the distribution's
    /// parameters `outputs` already on `tape`.
    fn policy_loss(
        inputs: PolicyInputs<'_>,
        tape: &mut Tape,
        outputs: &[Var],
        rows: Rows<'_>,
    ) -> ActorLoss {
        let (buffer, c, batch) = (inputs.buffer, inputs.config, rows.batch);
        let actions =
            Self::gather(tape, &buffer.actions, Width::Vector(buffer.action_size()), batch);
        let old_log_probs = Self::gather(tape, &buffer.log_probs, Width::Scalar, batch);
        let advantages = tape.constant_with(&[batch.len()], |a| a.copy_from_slice(rows.advantages));
        let (log_probs, entropy) =
            inputs.distribution.log_prob_and_entropy_on_tape(tape, outputs, actions);
        let surrogate = policy_objective(
            tape,
            c.objective,
            log_probs,
            old_log_probs,
            advantages,
            c.clip_epsilon,
            inputs.kl_coef,
        );
        let mut loss = with_entropy_bonus(tape, surrogate, entropy, inputs.entropy_coef);
        if let Some(reference) = inputs.reference_log_probs {
            let reference = Self::gather(tape, reference, Width::Scalar, batch);
            let penalty = reference_penalty(tape, log_probs, reference);
            let weighted = tape.mul_scalar(penalty, c.reference_kl);
            loss.total = tape.add(loss.total, weighted);
        }
        loss
    }

    /// The diagnostics of a minibatch's policy loss, read from the tape.
    fn actor_stats(tape: &Tape, loss: &ActorLoss, clip_epsilon: f32) -> ActorStepStats {
        let ratios = log_ratio_stats(tape.value(loss.surrogate.log_ratio).data(), clip_epsilon);
        ActorStepStats {
            policy_loss: tape.value(loss.surrogate.loss).item(),
            entropy: tape.value(loss.entropy).item(),
            approx_kl: ratios.approx_kl,
            clip_fraction: ratios.clip_fraction,
        }
    }
    // ANCHOR_END: policy_loss

    // ANCHOR: shared_step
    /// A shared network's loss on a minibatch and its gradient, left on the actor's tape: the
    /// policy objective minus the entropy bonus plus `value_coef` times the value loss, whose
    /// gradients meet in the common trunk. Returns the diagnostics and the value loss.
    fn shared_gradients(&mut self, rows: Rows<'_>) -> (ActorStepStats, f32) {
        let (mut tape, batch) = (std::mem::take(&mut self.actor_tape), rows.batch);
        tape.clear();
        let buffer = &self.buffer;
        let obs =
            Self::gather(&mut tape, &buffer.observations, Width::Vector(buffer.obs_size()), batch);
        let returns = Self::gather(&mut tape, &buffer.returns, Width::Scalar, batch);
        let vars = &mut self.scratch.actor_vars;
        vars.clear();
        let (outputs, values) =
            shared_with(&self.actor, &self.critic, &mut Recorder::new(&mut tape, vars), obs);
        let policy = Self::policy_loss(self.policy_inputs(), &mut tape, outputs.as_slice(), rows);
        let c = &self.config;
        let clip = c
            .value_clip
            .map(|e| (Self::gather(&mut tape, &buffer.values, Width::Scalar, batch), e));
        let value = value_loss(&mut tape, values, returns, clip);
        let weighted = tape.mul_scalar(value, c.value_coef);
        let total = tape.add(policy.total, weighted);
        tape.backward(total);
        let stats = Self::actor_stats(&tape, &policy, c.clip_epsilon);
        let value_loss = tape.value(value).item();
        self.actor_tape = tape;
        (stats, value_loss)
    }
    // ANCHOR_END: shared_step

    // ANCHOR: actor_step
    /// One Adam step of the actor with the gradients [`actor_gradients`](Self::actor_gradients)
    /// left on its tape; in a shared network, of the actor and the value head together (the
    /// gradients of [`shared_gradients`](Self::shared_gradients), clipped as one vector).
    fn actor_step(&mut self) {
        let mut params = self.actor.parameters_mut();
        if self.config.shared_network {
            params.extend(self.critic.parameters_mut());
        }
        apply_gradients(
            &mut std::iter::once((&self.actor_tape, &self.scratch.actor_vars[..])),
            &mut self.scratch.grads,
            self.config.max_grad_norm,
            &mut self.actor_optimizer,
            params,
        );
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

// ANCHOR: minibatch_advantages
/// A minibatch's advantages, in `rows`, normalized within the minibatch when configured.
fn gathered_advantages(config: &Config, advantages: &[f32], batch: &[usize], rows: &mut Vec<f32>) {
    rows.clear();
    rows.extend(batch.iter().map(|&i| advantages[i]));
    if config.normalize_advantages && config.minibatch_advantages {
        normalize(rows);
    }
}
// ANCHOR_END: minibatch_advantages

/// The value of each observation in `obs`: the critic's, or in a shared network the value
/// head's on the actor's trunk.
fn value_of(
    actor: &Actor,
    critic: &Critic,
    shared: bool,
    obs: &[f32],
    workspace: &mut Workspace,
    values: &mut [f32],
) {
    if shared {
        let batch = values.len();
        let [w1, w2] = actor.output_widths();
        // The heads' outputs are computed too and thrown away: the trunk is the cost.
        let (mut first, mut second) = (vec![0.0; batch * w1], vec![0.0; batch * w2]);
        shared_forward(actor, critic, obs, workspace, [&mut first, &mut second], values);
    } else {
        critic.forward(obs, workspace, values);
    }
}

/// How many values each transition has in a gathered array.
#[derive(Clone, Copy)]
enum Width {
    Scalar,
    Vector(usize),
}

// ANCHOR: rows
/// The rows a loss is computed on: a minibatch, or a piece of one.
#[derive(Clone, Copy)]
struct Rows<'a> {
    /// The rows' places in the rollout.
    batch: &'a [usize],
    /// Their advantages, in the same order, normalized over the minibatch where configured.
    advantages: &'a [f32],
    /// Their number over the minibatch's: 1 for a whole minibatch.
    share: f32,
}
// ANCHOR_END: rows

/// What the actor's loss reads from the trainer, so that it can be computed on either thread.
#[derive(Clone, Copy)]
struct PolicyInputs<'a> {
    actor: &'a Actor,
    distribution: &'a dyn Distribution,
    buffer: &'a RolloutBuffer,
    config: &'a Config,
    kl_coef: f32,
    entropy_coef: f32,
    /// GRPO's reference policy's log-probability of each action, when it is penalized.
    reference_log_probs: Option<&'a [f32]>,
}

/// Diagnostics of one actor minibatch.
#[derive(Clone, Copy, Default)]
struct ActorStepStats {
    policy_loss: f32,
    entropy: f32,
    approx_kl: f32,
    clip_fraction: f32,
}

// ANCHOR: apply_gradients
/// Gathers the gradients of the parameters out of the tapes that computed them (one, or
/// one per piece of a long minibatch, summed in the pieces' order), clips their global norm
/// when configured, and takes one optimizer step. Each tape comes with its parameters' nodes.
fn apply_gradients<'a>(
    tapes: &mut dyn Iterator<Item = (&'a Tape, &'a [Var])>,
    grads: &mut Vec<Tensor>,
    max_grad_norm: Option<f32>,
    optimizer: &mut Adam,
    mut params: Vec<&mut Tensor>,
) {
    for (piece, (tape, param_vars)) in tapes.enumerate() {
        grads.resize_with(param_vars.len(), Tensor::default);
        for (grad, &var) in grads.iter_mut().zip(param_vars) {
            if piece == 0 {
                grad.copy_from(tape.grad(var));
            } else {
                grad.add_assign(tape.grad(var));
            }
        }
    }
    let mut grad_refs: Vec<&mut Tensor> = grads.iter_mut().collect();
    if let Some(max_norm) = max_grad_norm {
        clip_grad_norm(&mut grad_refs, max_norm);
    }
    let grad_refs: Vec<&Tensor> = grad_refs.into_iter().map(|g| &*g).collect();
    optimizer.step(&mut params, &grad_refs);
}
// ANCHOR_END: apply_gradients

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Workspace;
    use crate::pendulum::Pendulum;

    /// The values a rollout stores are the critic's, one observation at a time, as one pass
    /// per step would have given them: with an odd number of rows to split, on one thread and
    /// two, with a single step, and with observations normalized on the way.
    #[test]
    fn a_rollouts_values_are_the_critics_one_observation_at_a_time() {
        for (envs, steps, normalize, threads) in [
            (1, 7, false, 1),
            (3, 5, false, 2),
            (8, 16, true, 2),
            (2, 1, false, 2),
            (1, 1, true, 2),
        ] {
            let config = Config {
                num_envs: envs,
                rollout_steps: steps,
                minibatch_size: envs * steps,
                normalize_observations: normalize,
                ..Config::default()
            };
            let mut trainer = Trainer::new(config, (0..envs).map(|_| Pendulum::new()).collect());
            trainer.set_threads(threads);
            trainer.envs.reset(trainer.rng.generator());
            trainer.collect().expect("a rollout of the pendulum");
            let buffer = &trainer.buffer;
            assert_eq!(buffer.values.len(), envs * steps);
            let mut workspace = Workspace::default();
            let rows = buffer.observations.chunks_exact(buffer.obs_size());
            for (i, (observation, &value)) in rows.zip(&buffer.values).enumerate() {
                let mut alone = [f32::NAN];
                trainer.critic.forward(observation, &mut workspace, &mut alone);
                let what = format!("{envs} environments × {steps} steps, {threads} threads");
                assert_eq!(value.to_bits(), alone[0].to_bits(), "row {i} of {what}");
            }
        }
    }
}
