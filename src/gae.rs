//! Chapter 8: the rollout buffer and generalized advantage estimation (GAE).
//!
//! PPO is on-policy: it learns only from experience collected by the current policy. The
//! [`RolloutBuffer`] holds one batch of that experience, `steps × envs` transitions, is
//! filled once, used for a few epochs of learning, and cleared (keeping its memory).
//!
//! [`compute_gae`] turns rewards and value estimates into advantages, walking each
//! environment's steps backwards. The subtle part is how an episode ends: a *terminated*
//! episode reached a state with no future (its value is 0), while a *truncated* one was cut
//! off by a time limit and its last state still has a future, which the critic estimates.
//! Pendulum episodes are only ever truncated.

// ANCHOR: time_limit
/// What a time-limit truncation means to the advantage estimate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeLimit {
    /// Correct: the episode was cut off, not finished. Bootstrap from the value of the final
    /// observation, `r + γ·V(s_final)`, and stop the recursion at the boundary.
    Bootstrap,
    /// What many implementations do (the PyTorch chapter's code and CleanRL's among them):
    /// treat the cut as a terminal state, `r + 0`. The critic then learns that a state's future
    /// depends on the clock, which the observation does not show; and since Pendulum's rewards
    /// are never positive, dropping the missing future makes the last states of an episode look
    /// better than they are.
    AsTerminal,
    /// What the JAX/Flax Pendulum write-up's code does: it reads only `terminated` and never
    /// resets, so a truncation is no episode end at all. The environment runs on past its
    /// time limit, one endless episode (Gymnasium keeps stepping and raising `truncated`,
    /// which that code discards); no step is cut off, so nothing needs bootstrapping.
    Ignore,
}
// ANCHOR_END: time_limit

// ANCHOR: buffer
/// One rollout: `steps` transitions from each of `envs` environments, stored step-major
/// (`index = step * envs + env`) in flat vectors that are allocated once.
#[derive(Clone, Debug)]
pub struct RolloutBuffer {
    steps: usize,
    envs: usize,
    obs_size: usize,
    action_size: usize,
    filled: usize,
    /// Observations `s_t`, `[steps * envs, obs_size]`.
    pub observations: Vec<f32>,
    /// Actions `a_t` as sampled (before the environment clips them), `[steps * envs, action_size]`.
    pub actions: Vec<f32>,
    /// `log π_old(a_t | s_t)` under the policy that collected the data.
    pub log_probs: Vec<f32>,
    /// Critic estimates `V(s_t)` at collection time.
    pub values: Vec<f32>,
    /// Rewards `r_t`.
    pub rewards: Vec<f32>,
    /// The episode reached a terminal state at this step.
    pub terminated: Vec<bool>,
    /// The episode was cut off by the time limit at this step.
    pub truncated: Vec<bool>,
    /// `V(s_final)` for a truncated step: the value of the observation the episode ended on
    /// (not the first observation of the next episode). Unused elsewhere.
    pub truncation_values: Vec<f32>,
    /// GAE advantages, filled by [`RolloutBuffer::compute_advantages`].
    pub advantages: Vec<f32>,
    /// Critic targets `A_t + V(s_t)`, filled by [`RolloutBuffer::compute_advantages`].
    pub returns: Vec<f32>,
}
// ANCHOR_END: buffer

impl RolloutBuffer {
    /// A buffer for `steps` steps of `envs` environments.
    pub fn new(steps: usize, envs: usize, obs_size: usize, action_size: usize) -> RolloutBuffer {
        let n = steps * envs;
        RolloutBuffer {
            steps,
            envs,
            obs_size,
            action_size,
            filled: 0,
            observations: Vec::with_capacity(n * obs_size),
            actions: Vec::with_capacity(n * action_size),
            log_probs: Vec::with_capacity(n),
            values: Vec::with_capacity(n),
            rewards: Vec::with_capacity(n),
            terminated: Vec::with_capacity(n),
            truncated: Vec::with_capacity(n),
            truncation_values: Vec::with_capacity(n),
            advantages: Vec::with_capacity(n),
            returns: Vec::with_capacity(n),
        }
    }

    /// Transitions per environment when full.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Number of environments.
    pub fn envs(&self) -> usize {
        self.envs
    }

    /// Total transitions when full (`steps * envs`).
    pub fn capacity(&self) -> usize {
        self.steps * self.envs
    }

    /// Observation size.
    pub fn obs_size(&self) -> usize {
        self.obs_size
    }

    /// Action size.
    pub fn action_size(&self) -> usize {
        self.action_size
    }

    /// True once `steps` steps have been pushed.
    pub fn is_full(&self) -> bool {
        self.filled == self.steps
    }

    /// Empties the buffer, keeping its memory for the next rollout.
    pub fn clear(&mut self) {
        self.filled = 0;
        self.observations.clear();
        self.actions.clear();
        self.log_probs.clear();
        self.values.clear();
        self.rewards.clear();
        self.terminated.clear();
        self.truncated.clear();
        self.truncation_values.clear();
        self.advantages.clear();
        self.returns.clear();
    }

    /// Appends one step of every environment.
    ///
    /// # Panics
    /// If the buffer is full or a slice does not hold one entry per environment (times the
    /// observation or action size).
    pub fn push(&mut self, step: Transition<'_>) {
        assert!(!self.is_full(), "rollout buffer is full ({} steps)", self.steps);
        let e = self.envs;
        assert_eq!(step.observations.len(), e * self.obs_size, "observations for {e} envs");
        assert_eq!(step.actions.len(), e * self.action_size, "actions for {e} envs");
        for (name, len) in [
            ("log_probs", step.log_probs.len()),
            ("values", step.values.len()),
            ("rewards", step.rewards.len()),
            ("terminated", step.terminated.len()),
            ("truncated", step.truncated.len()),
            ("truncation_values", step.truncation_values.len()),
        ] {
            assert_eq!(len, e, "{name}: {len} entries for {e} envs");
        }
        self.observations.extend_from_slice(step.observations);
        self.actions.extend_from_slice(step.actions);
        self.log_probs.extend_from_slice(step.log_probs);
        self.values.extend_from_slice(step.values);
        self.rewards.extend_from_slice(step.rewards);
        self.terminated.extend_from_slice(step.terminated);
        self.truncated.extend_from_slice(step.truncated);
        self.truncation_values.extend_from_slice(step.truncation_values);
        self.filled += 1;
    }

    /// Computes advantages and returns for the full buffer. `last_values[e]` is `V` of the
    /// observation each environment is in after the last step (the rollout is cut there,
    /// so it is bootstrapped like a truncation).
    ///
    /// # Panics
    /// If the buffer is not full or `last_values` does not hold one value per environment.
    pub fn compute_advantages(&mut self, last_values: &[f32], gae: GaeParams) {
        assert!(
            self.is_full(),
            "advantages need a full buffer ({} of {} steps)",
            self.filled,
            self.steps
        );
        self.advantages.resize(self.capacity(), 0.0);
        self.returns.resize(self.capacity(), 0.0);
        let rollout = Rollout {
            envs: self.envs,
            rewards: &self.rewards,
            values: &self.values,
            terminated: &self.terminated,
            truncated: &self.truncated,
            truncation_values: &self.truncation_values,
            last_values,
        };
        compute_gae(&rollout, gae, &mut self.advantages, &mut self.returns);
    }
}

/// One step of every environment, as handed to [`RolloutBuffer::push`].
#[derive(Clone, Copy)]
pub struct Transition<'a> {
    pub observations: &'a [f32],
    pub actions: &'a [f32],
    pub log_probs: &'a [f32],
    pub values: &'a [f32],
    pub rewards: &'a [f32],
    pub terminated: &'a [bool],
    pub truncated: &'a [bool],
    /// `V(s_final)` where `truncated`, anything elsewhere.
    pub truncation_values: &'a [f32],
}

/// The discount and the GAE parameter, and what a truncation means.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GaeParams {
    /// Discount factor γ in [0, 1].
    pub gamma: f32,
    /// GAE's λ in [0, 1]: 0 is the one-step TD error, 1 the Monte Carlo return minus V.
    pub lambda: f32,
    /// How time-limit truncations are treated.
    pub time_limit: TimeLimit,
}

/// The per-step data GAE reads, step-major (`index = step * envs + env`).
pub struct Rollout<'a> {
    pub envs: usize,
    pub rewards: &'a [f32],
    pub values: &'a [f32],
    pub terminated: &'a [bool],
    pub truncated: &'a [bool],
    pub truncation_values: &'a [f32],
    /// `V` of each environment's observation after the last step.
    pub last_values: &'a [f32],
}

// ANCHOR: gae
/// Generalized advantage estimation, backwards through each environment's steps:
///
/// ```text
/// δ_t = r_t + γ·V(s_{t+1})·(1 − terminated_t) − V(s_t)
/// A_t = δ_t + γ·λ·(1 − done_t)·A_{t+1}          done_t = terminated_t or truncated_t
/// R_t = A_t + V(s_t)
/// ```
///
/// `V(s_{t+1})` is the next step's value within an episode, the truncation value where the
/// episode was cut off (the next stored observation already belongs to a new episode), and
/// `last_values` after the rollout's last step.
///
/// # Panics
/// If the slices' lengths disagree.
pub fn compute_gae(
    rollout: &Rollout<'_>,
    params: GaeParams,
    advantages: &mut [f32],
    returns: &mut [f32],
) {
    let n = rollout.rewards.len();
    let envs = rollout.envs;
    assert!(envs > 0 && n.is_multiple_of(envs), "{n} transitions do not split into {envs} envs");
    for (name, len) in [
        ("values", rollout.values.len()),
        ("terminated", rollout.terminated.len()),
        ("truncated", rollout.truncated.len()),
        ("truncation_values", rollout.truncation_values.len()),
        ("advantages", advantages.len()),
        ("returns", returns.len()),
    ] {
        assert_eq!(len, n, "{name}: {len} entries for {n} transitions");
    }
    assert_eq!(rollout.last_values.len(), envs, "last_values: one per env");
    let GaeParams { gamma, lambda, time_limit } = params;

    for env in 0..envs {
        let mut next_advantage = 0.0;
        let mut next_value = rollout.last_values[env];
        for t in (env..n).step_by(envs).rev() {
            let terminated = rollout.terminated[t];
            let truncated = rollout.truncated[t] && time_limit != TimeLimit::Ignore;
            let bootstrap = if terminated || (truncated && time_limit == TimeLimit::AsTerminal) {
                0.0
            } else if truncated {
                rollout.truncation_values[t]
            } else {
                next_value
            };
            let delta = rollout.rewards[t] + gamma * bootstrap - rollout.values[t];
            let continues = if terminated || truncated { 0.0 } else { 1.0 };
            let advantage = delta + gamma * lambda * continues * next_advantage;
            advantages[t] = advantage;
            returns[t] = advantage + rollout.values[t];
            next_advantage = advantage;
            next_value = rollout.values[t];
        }
    }
}
// ANCHOR_END: gae

// ANCHOR: normalize
/// Shifts and scales `values` to mean 0 and standard deviation 1 (the sample standard
/// deviation, with `n − 1`, as `torch.Tensor.std` computes it), adding `1e-8` to the
/// deviation so that a batch of equal advantages does not divide by zero.
///
/// Normalizing keeps the size of the policy step independent of the reward scale: only the
/// sign and the relative size of each advantage steer the update.
pub fn normalize(values: &mut [f32]) {
    let n = values.len();
    if n < 2 {
        values.iter_mut().for_each(|v| *v = 0.0);
        return;
    }
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
    let variance = values.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let scale = 1.0 / (variance.sqrt() + 1e-8);
    for v in values.iter_mut() {
        *v = ((*v as f64 - mean) * scale) as f32;
    }
}
// ANCHOR_END: normalize
