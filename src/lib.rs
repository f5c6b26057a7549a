//! # ppo-from-scratch
//!
//! Proximal Policy Optimization (PPO) built by hand, one piece at a time, with every piece
//! checked against an independent oracle: finite differences for gradients, Gymnasium for
//! the physics, PyTorch for the optimizer and the losses.
//!
//! The crate is meant to be read alongside its book (`book/`, built with `mdbook`). Each
//! module is one chapter, and a chapter uses only the chapters before it:
//!
//! | chapter | module | what it builds |
//! |---|---|---|
//! | 1 | [`tensor`] | an owned, contiguous, row-major `f32` tensor; elementwise ops; matmul kernels |
//! | 2 | [`autodiff`] | a tape of operations (Wengert list) with reverse-mode gradients; `gradcheck` |
//! | 3 | [`nn`], [`init`], [`networks`] | linear layers, MLPs, initialization; the actor and its heads, the critic |
//! | 4 | [`adam`] | the Adam optimizer and global gradient-norm clipping |
//! | 5 | [`distributions`] | what PPO asks of a distribution; the Normal: sampling, log-probability, entropy |
//! | 6 | [`env`], [`pendulum`] | the `Env` trait, action spaces, `VecEnv`; Pendulum-v1 physics, identical to Gymnasium's |
//! | 7 | (book only) | policy gradients, importance sampling, the advantage |
//! | 8 | [`gae`], [`normalize`] | the rollout buffer and generalized advantage estimation; running statistics for normalization (the Variants part) |
//! | 9 | [`loss`] | the clipped surrogate, value loss, entropy bonus, diagnostics |
//! | 10 | [`config`], [`ppo`], [`evaluate`], [`parallel`] | configuration and presets, the four-phase training loop, evaluation; the second thread the actor's and the critic's steps share, and the pieces of a long minibatch it shares too |
//! | 11 | (book only) | results: learning curves and diagnostics over ten seeds |
//! | 12 | [`cartpole`], [`distributions::categorical`] | discrete actions: CartPole-v1, identical to Gymnasium's; the Categorical |
//! | 13 | [`checkpoint`], [`plot`], [`animation`], [`program`] | running it: saving and loading a trained agent; learning-curve plots; an episode as an animated picture; the programs |
//! | 14 | (book only) | performance: where the time goes |
//! | 16–18 | [`loss`], [`normalize`], [`ppo`] | the variants: SPO, the KL penalty, early stopping, a shared network, normalization |
//! | 19 | [`presets`] | the five write-ups' designs as presets |
//!
//! The `pendulum` program (`src/bin/pendulum.rs`, all of it in [`program`]) trains, evaluates
//! and replays agents.

pub mod adam;
pub mod animation;
pub mod autodiff;
pub mod cartpole;
pub mod checkpoint;
pub mod config;
pub mod distributions;
pub mod env;
pub mod evaluate;
pub mod gae;
pub mod grpo;
pub mod init;
pub mod loss;
pub mod networks;
pub mod nn;
pub mod normalize;
pub mod parallel;
pub mod pendulum;
pub mod plot;
pub mod ppo;
pub mod presets;
pub mod program;
pub mod tensor;

pub use adam::Adam;
pub use autodiff::{Tape, Var, gradcheck};
pub use cartpole::CartPole;
pub use distributions::normal;
pub use distributions::{Distribution, Randomness};
pub use env::{Action, ActionSpace, Env, Episode, Step, VecEnv};
pub use nn::{Actor, ActorConfig, Critic, CriticConfig, Workspace};
pub use pendulum::{InvalidAction, Pendulum};
pub use tensor::Tensor;
