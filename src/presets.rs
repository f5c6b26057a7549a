//! The other designs of the write-ups this crate follows, each as a preset: what the write-up
//! describes, written as the changes it makes to a preset the reader already knows (the
//! JAX/Flax table, [`Config::seed`], or the TensorFlow overview's CartPole table,
//! [`Config::cartpole_seed`]), so that the differences are the listing.

use crate::config::{Config, DistributionKind};
use crate::gae::TimeLimit;
use crate::loss::Objective;
use crate::nn::{Activation, Init, StdParam};

impl Config {
    // ANCHOR: design_pytorch
    /// The PyTorch chapter's design on Pendulum: two 128-128 ReLU networks, orthogonal
    /// initialization with the gain √2 on every layer, a state-dependent log-σ head clamped
    /// to [−20, 2], Adam at 3e-4 for both, rollouts of 2048 steps, 4 epochs of minibatches of
    /// 64, an entropy coefficient of 0.01, gradient norms clipped at 0.5, episode ends as
    /// `done = terminated or truncated`, and 500 updates. The chapter gives no γ, λ or ε of
    /// its own; they stay the JAX/Flax table's 0.99, 0.95 and 0.2.
    pub fn pytorch_chapter() -> Config {
        Config {
            total_timesteps: 500 * 2048,
            epochs: 4,
            actor_learning_rate: 3e-4,
            critic_learning_rate: 3e-4,
            entropy_coef: 0.01,
            max_grad_norm: Some(0.5),
            time_limit: TimeLimit::AsTerminal,
            hidden_size: 128,
            std_param: StdParam::LogStdHead { clamp: (-20.0, 2.0) },
            init: Init::OrthogonalSqrt2,
            ..Config::seed()
        }
    }
    // ANCHOR_END: design_pytorch

    // ANCHOR: design_shared
    /// The shared-network JAX write-up's design on Pendulum (its own tasks are MuJoCo's,
    /// which this crate does not have): one 64-64 ReLU trunk with a policy head and a value
    /// head, trained by one Adam on `policy − c₂·entropy + c₁·value`; hidden layers
    /// He-normal, heads at the scale 0.01 (the value head at 1, as everywhere in the crate),
    /// log σ a free vector starting at −1. The coefficients are the common c₁ = 0.5 and
    /// c₂ = 0.01 and the gradient limit 0.5; everything else is the JAX/Flax table.
    pub fn shared_trunk() -> Config {
        Config {
            actor_learning_rate: 3e-4,
            entropy_coef: 0.01,
            max_grad_norm: Some(0.5),
            std_param: StdParam::LogStd { init: -1.0, clamp: Some((-20.0, 2.0)) },
            init: Init::HeNormal,
            value_coef: 0.5,
            shared_network: true,
            ..Config::seed()
        }
    }
    // ANCHOR_END: design_shared

    // ANCHOR: design_jax
    /// The from-scratch JAX write-up's CartPole design: 1024 environments × 128 steps per
    /// rollout, 4 epochs of 4 minibatches (of 32,768 transitions), two 32-32 tanh networks,
    /// Adam at 3e-4, ε 0.2, a value coefficient of 0.5, an entropy coefficient of 0.01 and
    /// value clipping at ε; γ and λ 0.99 and 0.95. Forty updates: 5.2 million steps.
    pub fn cartpole_1024() -> Config {
        Config {
            total_timesteps: 40 * 1024 * 128,
            num_envs: 1024,
            rollout_steps: 128,
            epochs: 4,
            minibatch_size: 1024 * 128 / 4,
            critic_learning_rate: 3e-4,
            value_clip: Some(0.2),
            hidden_size: 32,
            activation: Activation::Tanh,
            distribution: DistributionKind::Categorical,
            value_coef: 0.5,
            ..Config::cartpole_seed()
        }
    }

    /// [`Config::cartpole_1024`] with the write-up's switch to Simple Policy Optimization:
    /// SPO's objective with advantages normalized per minibatch, as its authors'
    /// code does.
    pub fn cartpole_1024_spo() -> Config {
        Config { objective: Objective::Spo, minibatch_advantages: true, ..Config::cartpole_1024() }
    }
    // ANCHOR_END: design_jax
}
