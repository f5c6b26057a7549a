//! Chapter 5: distributions over actions, and where their random numbers come from.
//!
//! The actor of chapter 3 does not output an action: it outputs the parameters of a
//! probability distribution over actions (a mean and a standard deviation, or one logit per
//! choice), and the action is drawn from that distribution. PPO asks every such distribution
//! the same few questions, the [`Distribution`] trait: draw a sample, give the
//! log-probability of a sample (eagerly when acting, on the tape when learning, where its
//! gradient moves the policy), give the entropy (for the exploration bonus), and name the
//! most likely sample (for evaluating the deterministic policy). The trainer is written
//! against the trait alone, so a new distribution costs one file and touches no caller.
//!
//! The files of this module, one distribution each, are explained where the book needs them:
//! [`normal`] in chapter 5, [`categorical`] with discrete actions, and the bounded
//! distributions with the variants.
//!
//! Every random number the trainer draws goes through [`Randomness`]. A seeded generator is
//! the only implementation a program needs; a test can put a recording in its place and
//! replay another implementation's draws, number for number (chapter 10).

pub mod beta;
pub mod categorical;
pub mod normal;
pub mod special;
pub mod tanh_normal;
pub mod truncated_normal;

use crate::autodiff::{Tape, Var};
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

// ANCHOR: randomness
/// Where the random numbers of acting and learning come from.
///
/// Every generator (anything implementing [`rand::Rng`]) is one, drawing exactly what the
/// crate drew before this seam existed, so a seed gives the same run through it. The seam is
/// generic, not a trait object: the trainer is compiled for the generator it is given, and
/// the default build pays nothing for it.
pub trait Randomness {
    /// A draw from the standard normal distribution N(0, 1).
    fn standard_normal(&mut self) -> f32;

    /// A draw from the uniform distribution on [0, 1), in `f64` so that the tails of an
    /// inverse-CDF sampler keep their resolution.
    fn uniform(&mut self) -> f64;

    /// Puts `items` in a uniformly random order.
    fn shuffle(&mut self, items: &mut [usize]);

    /// The generator behind everything else: the environments' initial states.
    fn generator(&mut self) -> &mut dyn Rng;
}

impl<R: Rng> Randomness for R {
    fn standard_normal(&mut self) -> f32 {
        self.sample(StandardNormal)
    }

    fn uniform(&mut self) -> f64 {
        self.random::<f64>()
    }

    /// Fisher–Yates, from the last position down: each position takes a uniformly chosen
    /// item among those not yet placed.
    fn shuffle(&mut self, items: &mut [usize]) {
        for i in (1..items.len()).rev() {
            let j = self.random_range(0..=i);
            items.swap(i, j);
        }
    }

    fn generator(&mut self) -> &mut dyn Rng {
        self
    }
}
// ANCHOR_END: randomness

// ANCHOR: distribution
/// A batch of distributions over actions, one per observation, as PPO uses them.
///
/// A distribution is described by the actor's outputs for one observation: its *parameters*,
/// one or two rows of numbers (a Normal's mean and σ; a Categorical's logits). Methods that
/// act take those rows as slices (`params[0]`, `params[1]`); methods that learn take the
/// parameters as tape nodes of shape `[batch, width]`.
///
/// A *sample* is what the rollout buffer stores and `log_prob` is asked about: a row of
/// [`sample_width`](Distribution::sample_width) values. Usually it is the action itself;
/// [`to_action`](Distribution::to_action) says how the environment's action follows from it
/// when it is not (a tanh-squashed Normal stores the value before the squashing).
pub trait Distribution: Sync {
    /// Values in one sample: the action dimension, or 1 for a choice stored as its index.
    fn sample_width(&self) -> usize;

    /// Draws one sample from the distribution with parameters `params`, into `sample`.
    fn sample(&self, params: &[&[f32]], rng: &mut dyn Randomness, sample: &mut [f32]);

    /// The deterministic policy's sample: the most likely one (or, where the book says so,
    /// the distribution's centre).
    fn mode(&self, params: &[&[f32]], sample: &mut [f32]);

    /// `log π(sample)`, summed over the action's dimensions.
    fn log_prob(&self, params: &[&[f32]], sample: &[f32]) -> f32;

    /// The entropy of the distribution.
    fn entropy(&self, params: &[&[f32]]) -> f32;

    /// Records `log π(sample)` for a batch: parameters and samples `[batch, width]`, result
    /// `[batch]`.
    fn log_prob_on_tape(&self, tape: &mut Tape, params: &[Var], sample: Var) -> Var;

    /// Records the entropy for a batch: result `[batch]`.
    fn entropy_on_tape(&self, tape: &mut Tape, params: &[Var]) -> Var;

    /// Both of the above, `(log π(sample), entropy)`, for a distribution that can share work
    /// between them (the Categorical does); the same values and gradients either way.
    fn log_prob_and_entropy_on_tape(
        &self,
        tape: &mut Tape,
        params: &[Var],
        sample: Var,
    ) -> (Var, Var) {
        let log_probs = self.log_prob_on_tape(tape, params, sample);
        (log_probs, self.entropy_on_tape(tape, params))
    }

    /// The environment's action for a sample (by default the sample itself).
    fn to_action(&self, sample: &[f32], action: &mut [f32]) {
        action.copy_from_slice(sample);
    }
}
// ANCHOR_END: distribution
