//! Chapter 10 (part): every hyperparameter of a training run, in one place.
//!
//! [`Config`] holds them all, each with its default and a one-line meaning; the presets are
//! configurations the book discusses ([`Config::seed`], the JAX/Flax Pendulum write-up's table,
//! and [`Config::default`], what the `pendulum` program runs). [`DistributionKind`] is the one
//! place where the policy's distribution meets the actor's head and the environment's action
//! space.

use crate::distributions::Distribution;
use crate::distributions::beta::Beta;
use crate::distributions::categorical::Categorical;
use crate::distributions::normal::Normal;
use crate::distributions::tanh_normal::TanhNormal;
use crate::distributions::truncated_normal::TruncatedNormal;
use crate::env::ActionSpace;
use crate::gae::TimeLimit;
use crate::loss::Objective;
use crate::nn::{Activation, ActorConfig, CriticConfig, Init, PolicyHead, StdParam};

// ANCHOR: config
/// Every hyperparameter of a training run.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Environment steps to train for, summed over all environments (rounded up to whole
    /// rollouts).
    pub total_timesteps: usize,
    /// Environments stepped together during collection.
    pub num_envs: usize,
    /// Steps collected from each environment per rollout (N).
    pub rollout_steps: usize,
    /// Passes over each rollout during learning (K).
    pub epochs: usize,
    /// Transitions per gradient step.
    pub minibatch_size: usize,
    /// Discount factor γ.
    pub gamma: f32,
    /// GAE's λ: 0 trusts the critic (low variance, biased), 1 trusts the returns.
    pub gae_lambda: f32,
    /// Clip range ε of the probability ratio.
    pub clip_epsilon: f32,
    /// Adam's learning rate for the actor.
    pub actor_learning_rate: f32,
    /// Adam's learning rate for the critic.
    pub critic_learning_rate: f32,
    /// Decay both learning rates linearly over the run, or over `anneal_horizon` if that is
    /// shorter: update `u` of `U` uses `1 − (u − 1)/U` times the configured rate, so the last
    /// one still uses `1/U` of it (see [`Config::learning_rate_fraction`]).
    pub anneal_learning_rate: bool,
    /// The most environment steps annealing may take: a run longer than that anneals over
    /// this many and goes on at the last rate, so that no run keeps a high rate for longer
    /// than the horizon. `None`: annealing always takes the whole run, as CleanRL does.
    pub anneal_horizon: Option<usize>,
    /// Weight α of the entropy bonus.
    pub entropy_coef: f32,
    /// Global gradient-norm limit per network, or `None` for no clipping.
    pub max_grad_norm: Option<f32>,
    /// Clip range for the critic's values around their collection-time values, or `None`.
    pub value_clip: Option<f32>,
    /// Normalize advantages over each rollout to mean 0, standard deviation 1.
    pub normalize_advantages: bool,
    /// What a time-limit truncation means: bootstrapped, treated as terminal, or ignored.
    pub time_limit: TimeLimit,
    /// Factor applied to rewards before learning (not to the reported returns).
    pub reward_scale: f32,
    /// Width of the two hidden layers of both networks.
    pub hidden_size: usize,
    /// The nonlinearity after each hidden layer of both networks.
    pub activation: Activation,
    /// The distribution the policy samples from; it decides the actor's head.
    pub distribution: DistributionKind,
    /// How the actor produces its standard deviation.
    pub std_param: StdParam,
    /// How the networks' weights are initialized.
    pub init: Init,
    /// Seed of the one random generator behind initialization, sampling and shuffling.
    pub seed: u64,
    // ANCHOR_END: config
    // ANCHOR: variants
    /// What the actor maximizes: PPO's clipped surrogate, or a variant (the Variants part).
    pub objective: Objective,
    /// β of the KL penalty ([`Objective::KlPenalty`]); its starting value when adapted.
    pub kl_coef: f32,
    /// The KL penalty's target `d_targ`: after each update β halves if the KL fell below
    /// `d_targ/1.5` and doubles if it rose above `1.5·d_targ` (the PPO paper's rule); `None`
    /// keeps β fixed.
    pub adaptive_kl: Option<f32>,
    /// Stop an update's epochs before the first minibatch whose approximate KL exceeds 1.5
    /// times this (Stable-Baselines3's rule), or `None` to run them all.
    pub target_kl: Option<f32>,
    /// Weight c₁ of the value loss. It scales the critic's loss (which Adam all but ignores,
    /// except through ε and gradient clipping) and, in a shared network, sets the balance
    /// between the value and the policy gradients in their common layers.
    pub value_coef: f32,
    /// Normalize advantages within each minibatch (CleanRL) rather than over the rollout;
    /// read only when `normalize_advantages` is on.
    pub minibatch_advantages: bool,
    /// Adam's ε for both optimizers (PyTorch's default 1e-8; many PPO codes use 1e-5).
    pub adam_eps: f32,
    /// Decay the entropy coefficient with the learning rates' schedule (the TensorFlow
    /// overview's advice: explore early, exploit late).
    pub anneal_entropy: bool,
    /// Normalize observations by their running mean and variance, clipped to ±10; the
    /// statistics are frozen for evaluation and stored in checkpoints.
    pub normalize_observations: bool,
    /// Divide rewards by the running standard deviation of the discounted return, clipped to
    /// ±10 (Gymnasium's `NormalizeReward`).
    pub normalize_rewards: bool,
    /// One trunk for policy and value (the JAX write-up's shared network): the critic becomes a
    /// linear value head on the actor's last hidden layer, and one Adam (the actor's) steps the
    /// combined loss, policy − entropy + `value_coef` × value.
    pub shared_network: bool,
    /// GRPO instead of PPO's advantages: groups of this many environments start each rollout
    /// from one shared state (the same reset randomness), each runs one episode, and every
    /// step's advantage is its episode's return normalized within the group. No critic is
    /// trained or read. `None`: PPO.
    pub grpo_group: Option<usize>,
    /// Weight of GRPO's penalty on the KL divergence from the reference policy (the actor as
    /// it was initialized); 0 for none. Read only by GRPO.
    pub reference_kl: f32,
}
// ANCHOR_END: variants

/// The budget every preset was designed for, in environment steps: the longest its learning
/// rates take to anneal, whatever the budget of a run.
pub const PRESET_STEPS: usize = 100_000;

// ANCHOR: preset_seed
impl Config {
    /// The JAX/Flax Pendulum write-up's hyperparameter table, exactly: 100,000 steps of one
    /// environment, rollouts of 2048, 10 epochs of minibatches of 64, γ 0.99, λ 0.95, ε 0.2,
    /// learning rates 3e-4 (actor) and 1e-3 (critic), the tanh·2 / softplus actor, nothing
    /// else. Its time limits are what that write-up's code does with them: it reads only
    /// `terminated` and never resets, so the pendulum runs one endless episode
    /// ([`TimeLimit::Ignore`]). (It does not anneal; its horizon matters only to a run that
    /// switches annealing on.)
    pub fn seed() -> Config {
        // ANCHOR_END: preset_seed
        Config {
            total_timesteps: 100_000,
            num_envs: 1,
            rollout_steps: 2048,
            epochs: 10,
            minibatch_size: 64,
            gamma: 0.99,
            gae_lambda: 0.95,
            clip_epsilon: 0.2,
            actor_learning_rate: 3e-4,
            critic_learning_rate: 1e-3,
            anneal_learning_rate: false,
            anneal_horizon: Some(PRESET_STEPS),
            entropy_coef: 0.0,
            max_grad_norm: None,
            value_clip: None,
            normalize_advantages: true,
            time_limit: TimeLimit::Ignore,
            reward_scale: 1.0,
            hidden_size: 64,
            activation: Activation::Relu,
            distribution: DistributionKind::Normal,
            std_param: StdParam::Softplus,
            init: Init::PyTorchDefault,
            seed: 1,
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
}

// ANCHOR: preset_default
impl Default for Config {
    /// What the `pendulum` program runs: chosen by experiment to solve Pendulum within the
    /// same 100,000 steps (the results chapter shows the search and the per-seed table). Its
    /// learning rates anneal over the run, but never over more than those 100,000 steps: a
    /// longer run is the 100,000-step run continued at its last, small rate. It normalizes
    /// its observations, adopted from the Variants part: over seeds 1 to 10 that beat the
    /// preset without it on both the median and the worst seed (chapter 18).
    fn default() -> Config {
        // ANCHOR_END: preset_default
        Config {
            total_timesteps: 100_000,
            num_envs: 8,
            rollout_steps: 256,
            epochs: 10,
            minibatch_size: 256,
            gamma: 0.95,
            gae_lambda: 0.95,
            clip_epsilon: 0.2,
            actor_learning_rate: 1e-3,
            critic_learning_rate: 1e-3,
            anneal_learning_rate: true,
            anneal_horizon: Some(PRESET_STEPS),
            entropy_coef: 0.0,
            max_grad_norm: Some(0.5),
            value_clip: None,
            normalize_advantages: true,
            time_limit: TimeLimit::Bootstrap,
            reward_scale: 0.1,
            hidden_size: 64,
            activation: Activation::Relu,
            distribution: DistributionKind::Normal,
            std_param: StdParam::LogStd { init: 0.0, clamp: Some((-20.0, 2.0)) },
            init: Init::Orthogonal,
            seed: 1,
            objective: Objective::Clipped,
            kl_coef: 1.0,
            adaptive_kl: None,
            target_kl: None,
            value_coef: 1.0,
            minibatch_advantages: false,
            adam_eps: 1e-8,
            anneal_entropy: false,
            normalize_observations: true,
            normalize_rewards: false,
            shared_network: false,
            grpo_group: None,
            reference_kl: 0.0,
        }
    }
}
/// The CartPole-v1 presets.
impl Config {
    /// What the `cartpole` program runs: chosen by experiment to solve CartPole-v1 (the
    /// deterministic policy averaging at least 475 over 100 episodes) within 100,000 steps
    /// on every seed; the discrete-actions chapter shows the search.
    pub fn cartpole() -> Config {
        Config {
            total_timesteps: 100_000,
            num_envs: 8,
            rollout_steps: 32,
            epochs: 20,
            minibatch_size: 256,
            gamma: 0.98,
            gae_lambda: 0.8,
            clip_epsilon: 0.2,
            actor_learning_rate: 1e-3,
            critic_learning_rate: 1e-3,
            anneal_learning_rate: true,
            anneal_horizon: Some(PRESET_STEPS),
            entropy_coef: 0.0,
            max_grad_norm: Some(0.5),
            value_clip: None,
            normalize_advantages: true,
            time_limit: TimeLimit::Bootstrap,
            reward_scale: 1.0,
            hidden_size: 64,
            activation: Activation::Tanh,
            distribution: DistributionKind::Categorical,
            std_param: StdParam::Softplus,
            init: Init::Orthogonal,
            seed: 1,
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

    /// The TensorFlow overview's CartPole table: a softmax policy and a critic of one hidden
    /// layer's width 64 with tanh (two layers here, as everywhere in the crate), policy
    /// learning rate 3e-4, value 1e-3, γ 0.99, λ 0.95, ε 0.2, value coefficient 0.5, entropy
    /// coefficient 0.01, 10 epochs of minibatches of 64. Its 20 whole episodes per iteration
    /// become rollouts of 2048 steps of one environment (about 20 episodes of an average
    /// length of 100). With its own Adam and no gradient clipping, the critic's loss scaled by
    /// 0.5 moves the critic almost exactly as unscaled (Adam divides the scale out, all but ε).
    pub fn cartpole_seed() -> Config {
        Config {
            total_timesteps: 100_000,
            num_envs: 1,
            rollout_steps: 2048,
            epochs: 10,
            minibatch_size: 64,
            gamma: 0.99,
            gae_lambda: 0.95,
            clip_epsilon: 0.2,
            actor_learning_rate: 3e-4,
            critic_learning_rate: 1e-3,
            anneal_learning_rate: false,
            anneal_horizon: Some(PRESET_STEPS),
            entropy_coef: 0.01,
            max_grad_norm: None,
            value_clip: None,
            normalize_advantages: true,
            time_limit: TimeLimit::AsTerminal,
            reward_scale: 1.0,
            hidden_size: 64,
            activation: Activation::Tanh,
            distribution: DistributionKind::Categorical,
            std_param: StdParam::Softplus,
            init: Init::PyTorchDefault,
            seed: 1,
            objective: Objective::Clipped,
            kl_coef: 1.0,
            adaptive_kl: None,
            target_kl: None,
            value_coef: 0.5,
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
}

impl Config {
    /// Transitions per rollout, over all environments.
    pub fn batch_size(&self) -> usize {
        self.num_envs * self.rollout_steps
    }

    /// Number of collect–learn iterations: enough rollouts to cover `total_timesteps`.
    pub fn updates(&self) -> usize {
        self.total_timesteps.div_ceil(self.batch_size()).max(1)
    }

    // ANCHOR: schedule
    /// The factor on both configured learning rates during update `update` (1-based): 1
    /// without annealing; with it, `1 − (u − 1)/U` on update `u` of the `U` updates annealing
    /// takes (the run's, or the horizon's if they are fewer), then `1/U`, its last rate.
    pub fn learning_rate_fraction(&self, update: usize) -> f32 {
        if !self.anneal_learning_rate {
            return 1.0;
        }
        let horizon = match self.anneal_horizon {
            Some(steps) => self.updates().min(steps.div_ceil(self.batch_size()).max(1)),
            None => self.updates(),
        };
        if update > horizon {
            1.0 / horizon as f32
        } else {
            1.0 - update.saturating_sub(1) as f32 / horizon as f32
        }
    }
    // ANCHOR_END: schedule

    /// Checks that the values make sense together; the message names the field.
    ///
    /// # Errors
    /// A one-line description of the first problem found.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("total_timesteps", self.total_timesteps),
            ("num_envs", self.num_envs),
            ("rollout_steps", self.rollout_steps),
            ("epochs", self.epochs),
            ("minibatch_size", self.minibatch_size),
            ("hidden_size", self.hidden_size),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        if self.minibatch_size > self.batch_size() {
            return Err(format!(
                "minibatch_size {} is larger than a rollout of {} transitions (num_envs × rollout_steps)",
                self.minibatch_size,
                self.batch_size()
            ));
        }
        for (name, value) in [("gamma", self.gamma), ("gae_lambda", self.gae_lambda)] {
            if !(0.0..=1.0).contains(&value) {
                return Err(format!("{name} must be in [0, 1], got {value}"));
            }
        }
        let rates = [
            ("actor_learning_rate", self.actor_learning_rate),
            ("critic_learning_rate", self.critic_learning_rate),
            ("clip_epsilon", self.clip_epsilon),
            ("reward_scale", self.reward_scale),
        ];
        for (name, value) in rates {
            if !(value > 0.0 && value.is_finite()) {
                return Err(format!("{name} must be a positive number, got {value}"));
            }
        }
        if self.anneal_horizon == Some(0) {
            return Err("anneal_horizon must be at least 1 step".into());
        }
        if !(self.entropy_coef >= 0.0 && self.entropy_coef.is_finite()) {
            return Err(format!(
                "entropy_coef must be zero or positive, got {}",
                self.entropy_coef
            ));
        }
        let coefficients = [
            ("kl_coef", self.kl_coef),
            ("value_coef", self.value_coef),
            ("reference_kl", self.reference_kl),
        ];
        for (name, value) in coefficients {
            if !(value >= 0.0 && value.is_finite()) {
                return Err(format!("{name} must be zero or positive, got {value}"));
            }
        }
        if !(self.adam_eps >= 0.0 && self.adam_eps.is_finite()) {
            return Err(format!("adam_eps must be zero or positive, got {}", self.adam_eps));
        }
        if let Some(group) = self.grpo_group {
            self.validate_grpo(group)?;
        }
        match self.std_param {
            StdParam::LogStd { init, clamp } => validate_log_std(init, clamp)?,
            // A head's log σ can be anything its weights make it: the clamp alone bounds it.
            StdParam::LogStdHead { clamp } => validate_log_std(clamp.0, Some(clamp))?,
            StdParam::Softplus => {}
        }
        let limits = [
            ("max_grad_norm", self.max_grad_norm),
            ("value_clip", self.value_clip),
            ("adaptive_kl", self.adaptive_kl),
            ("target_kl", self.target_kl),
        ];
        for (name, limit) in limits {
            if let Some(value) = limit
                && !(value > 0.0 && value.is_finite())
            {
                return Err(format!("{name} must be a positive number, got {value}"));
            }
        }
        Ok(())
    }

    /// GRPO's groups must divide the environments, hold two episodes at least, end their
    /// episodes, and own their statistics.
    fn validate_grpo(&self, group: usize) -> Result<(), String> {
        if group < 2 || !self.num_envs.is_multiple_of(group) {
            return Err(format!(
                "grpo_group must be at least 2 and divide num_envs {}, got {group}",
                self.num_envs
            ));
        }
        let conflicts = [
            (self.shared_network, "shared_network: GRPO has no value head"),
            (self.time_limit == TimeLimit::Ignore, "time_limit ignore: GRPO's episodes must end"),
            (self.normalize_rewards, "normalize_rewards: GRPO normalizes returns within groups"),
        ];
        match conflicts.iter().find(|(conflict, _)| *conflict) {
            Some((_, what)) => Err(format!("grpo_group does not go with {what}")),
            None => Ok(()),
        }
    }

    // ANCHOR: actor_config
    /// The actor for `obs_size` observations and actions in `space`: its outputs per row are
    /// the action's dimension (or the number of choices), its head the distribution's.
    pub fn actor_config(&self, obs_size: usize, space: ActionSpace<'_>) -> ActorConfig {
        let (action_size, action_scale) = match space {
            ActionSpace::Continuous { low, high } => {
                (low.len(), high.first().copied().unwrap_or(1.0))
            }
            ActionSpace::Discrete { choices } => (choices, 1.0),
        };
        ActorConfig {
            obs_size,
            action_size,
            hidden: vec![self.hidden_size; 2],
            activation: self.activation,
            std: self.std_param,
            init: self.init,
            action_scale,
            head: self.distribution.head(),
        }
    }
    // ANCHOR_END: actor_config

    /// The critic for `obs_size` observations; with a shared network, the value head alone: a
    /// linear layer reading the actor's last hidden layer.
    pub fn critic_config(&self, obs_size: usize) -> CriticConfig {
        if self.shared_network {
            return CriticConfig {
                obs_size: self.hidden_size,
                hidden: vec![],
                activation: self.activation,
                init: self.init,
            };
        }
        CriticConfig {
            obs_size,
            hidden: vec![self.hidden_size; 2],
            activation: self.activation,
            init: self.init,
        }
    }
}

/// The range of log σ a state-independent σ may start in or be clamped to: σ from e⁻³⁰ ≈ 1e-13
/// to e²⁰ ≈ 5e8. Outside it the numbers break before learning can do anything: σ = e⁸⁹ is
/// infinite in `f32`, σ = e⁸⁸ overflows as soon as it multiplies a noise sample above 2, and
/// σ below e⁻⁸⁷ is 0, where every log-density is infinite.
pub const LOG_STD_RANGE: (f32, f32) = (-30.0, 20.0);

/// The log σ a run starts from (`init` clamped, if a clamp is set) and the clamp itself must
/// lie in [`LOG_STD_RANGE`]; the clamp must not be empty.
fn validate_log_std(init: f32, clamp: Option<(f32, f32)>) -> Result<(), String> {
    let (low, high) = LOG_STD_RANGE;
    let inside = |x: f32| (low..=high).contains(&x);
    if let Some((lo, hi)) = clamp {
        if lo >= hi || lo.is_nan() || hi.is_nan() {
            return Err(format!("std_param's log-std clamp {lo}:{hi} is empty"));
        }
        if !(inside(lo) && inside(hi)) {
            return Err(format!(
                "std_param's log-std clamp {lo}:{hi} must lie within {low}:{high} (σ from e^{low} to e^{high})"
            ));
        }
    }
    let start = clamp.map_or(init, |(lo, hi)| init.clamp(lo, hi));
    if !(init.is_finite() && inside(start)) {
        return Err(format!(
            "std_param's log-std init {init} must be finite and start σ within e^{low} to e^{high}"
        ));
    }
    Ok(())
}

// ANCHOR: choice
/// A setting that takes one of a fixed list of values: each has a name (what options and
/// config files say) and a position in the list (what a checkpoint stores). One table per
/// setting serves reading, writing and `--help`, so the three cannot disagree.
pub trait Choice: Copy + PartialEq + 'static {
    /// Every value with its name, in a fixed order that checkpoints rely on: append only.
    const CHOICES: &'static [(&'static str, Self)];

    /// The value's name.
    fn name(self) -> &'static str {
        Self::CHOICES.iter().find(|(_, c)| *c == self).map(|(name, _)| *name).expect("listed")
    }

    /// The value's position in [`Choice::CHOICES`].
    fn code(self) -> u8 {
        let at = Self::CHOICES.iter().position(|(_, c)| *c == self).expect("listed");
        u8::try_from(at).expect("fewer than 256 choices")
    }

    /// The value at position `code`.
    fn from_code(code: u8) -> Option<Self> {
        Self::CHOICES.get(usize::from(code)).map(|&(_, c)| c)
    }

    /// The value called `name`.
    ///
    /// # Errors
    /// If no value has that name; the message lists the names.
    fn from_name(name: &str) -> Result<Self, String> {
        Self::CHOICES.iter().find(|(n, _)| *n == name).map(|&(_, c)| c).ok_or_else(|| {
            let names: Vec<String> = Self::CHOICES.iter().map(|(n, _)| format!("'{n}'")).collect();
            let (last, rest) = names.split_last().expect("at least one choice");
            let names = if rest.is_empty() {
                last.clone()
            } else {
                format!("{} or {last}", rest.join(", "))
            };
            format!("expected {names}, got '{name}'")
        })
    }
}

impl Choice for TimeLimit {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("bootstrap", TimeLimit::Bootstrap),
        ("as-terminal", TimeLimit::AsTerminal),
        ("ignore", TimeLimit::Ignore),
    ];
}

impl Choice for Init {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("pytorch", Init::PyTorchDefault),
        ("orthogonal", Init::Orthogonal),
        ("he-normal", Init::HeNormal),
        ("orthogonal-sqrt2", Init::OrthogonalSqrt2),
    ];
}

impl Choice for Objective {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("clip", Objective::Clipped),
        ("spo", Objective::Spo),
        ("kl-penalty", Objective::KlPenalty),
        ("none", Objective::Unclipped),
    ];
}

impl Choice for Activation {
    const CHOICES: &'static [(&'static str, Self)] =
        &[("relu", Activation::Relu), ("tanh", Activation::Tanh)];
}

impl Choice for DistributionKind {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("normal", DistributionKind::Normal),
        ("truncated-normal", DistributionKind::TruncatedNormal),
        ("beta", DistributionKind::Beta),
        ("categorical", DistributionKind::Categorical),
        ("tanh-normal", DistributionKind::TanhNormal),
    ];
}
// ANCHOR_END: choice

// ANCHOR: distribution_kind
/// Which distribution the policy samples from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DistributionKind {
    /// The diagonal Normal, its mean squashed into the action bounds; the environment clips
    /// the samples that fall outside (chapter 5).
    Normal,
    /// A Normal squashed by tanh into the bounds: `a = scale·tanh(z)`.
    TanhNormal,
    /// The Normal truncated to the action bounds: every sample is a valid action.
    TruncatedNormal,
    /// A Beta on an affine map of [0, 1] onto the bounds.
    Beta,
    /// One of `n` choices, by softmax of the logits: the distribution of discrete actions.
    Categorical,
}
// ANCHOR_END: distribution_kind

impl DistributionKind {
    // ANCHOR: head
    /// The head the actor needs to produce this distribution's parameters.
    pub fn head(self) -> PolicyHead {
        match self {
            DistributionKind::Normal | DistributionKind::TruncatedNormal => {
                PolicyHead::Gaussian { squash_mean: true }
            }
            DistributionKind::TanhNormal => PolicyHead::Gaussian { squash_mean: false },
            DistributionKind::Beta => PolicyHead::Beta,
            DistributionKind::Categorical => PolicyHead::Logits,
        }
    }
    // ANCHOR_END: head

    /// The kind whose deterministic action an actor with `head` takes; a squashed Gaussian
    /// head's is its mean whether it was trained as a Normal or a truncated Normal.
    pub fn of_head(head: PolicyHead) -> DistributionKind {
        match head {
            PolicyHead::Gaussian { squash_mean: true } => DistributionKind::Normal,
            PolicyHead::Gaussian { squash_mean: false } => DistributionKind::TanhNormal,
            PolicyHead::Beta => DistributionKind::Beta,
            PolicyHead::Logits => DistributionKind::Categorical,
        }
    }

    // ANCHOR: over
    /// This distribution over `space`.
    ///
    /// # Errors
    /// If the distribution does not fit the actions: a Categorical over continuous actions or
    /// another distribution over discrete ones, a box whose bounds differ between dimensions
    /// (the continuous distributions take one interval for all), or bounds that are not
    /// symmetric where the distribution scales into `±high` (Normal, tanh-Normal).
    pub fn over(self, space: ActionSpace<'_>) -> Result<Box<dyn Distribution>, String> {
        let name = self.name();
        let (low, high) = match space {
            ActionSpace::Discrete { choices } if self == DistributionKind::Categorical => {
                return Ok(Box::new(Categorical { choices }));
            }
            ActionSpace::Discrete { choices } => {
                return Err(format!(
                    "'{name}' is a distribution for continuous actions; these are a choice of {choices}, which takes 'categorical'"
                ));
            }
            ActionSpace::Continuous { .. } if self == DistributionKind::Categorical => {
                return Err(
                    "'categorical' is the distribution of discrete actions; these are continuous"
                        .into(),
                );
            }
            ActionSpace::Continuous { low, high } => (low, high),
        };
        // ANCHOR_END: over
        // ANCHOR: over_bounds
        let (dims, lo, hi) = (low.len(), low[0], high[0]);
        let box_shape = || format!("actions bounded by {low:?} and {high:?}");
        let one_interval = low.iter().all(|&l| l == lo) && high.iter().all(|&h| h == hi);
        if !one_interval || lo >= hi || lo.is_nan() || hi.is_nan() {
            return Err(format!(
                "'{name}' needs one interval for every action dimension, not {}",
                box_shape()
            ));
        }
        let symmetric = lo == -hi;
        match self {
            DistributionKind::Normal if symmetric => Ok(Box::new(Normal { dims })),
            DistributionKind::TanhNormal if symmetric => {
                Ok(Box::new(TanhNormal { dims, scale: hi }))
            }
            DistributionKind::Normal | DistributionKind::TanhNormal => {
                Err(format!("'{name}' scales into symmetric bounds, not {}", box_shape()))
            }
            DistributionKind::TruncatedNormal => {
                Ok(Box::new(TruncatedNormal { dims, low: lo, high: hi }))
            }
            DistributionKind::Beta => Ok(Box::new(Beta { dims, low: lo, high: hi })),
            DistributionKind::Categorical => unreachable!("handled with the action space"),
        }
    }
    // ANCHOR_END: over_bounds
}
