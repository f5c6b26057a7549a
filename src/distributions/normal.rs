//! Chapter 5: the Normal distribution.
//!
//! The actor of chapter 3 outputs, for each observation, a mean μ and a standard deviation σ
//! per action dimension. The policy is the Normal distribution they describe, with the action
//! dimensions independent. PPO needs three things from it:
//!
//! - [`sample`]: an action to take, `a = μ + σ·ε` with `ε ~ N(0, 1)`;
//! - the log-probability of an action, `log π(a | s)`, summed over the action dimensions:
//!   [`log_prob`] when acting (recorded as `log π_old`), [`log_prob_on_tape`] when learning,
//!   where its gradient with respect to μ and σ is what moves the policy;
//! - the entropy, [`entropy`] and [`entropy_on_tape`], for the exploration bonus.
//!
//! The on-tape forms are fused operations: one node each, with the derivatives worked out by
//! hand in `backward` (see the book for why fusing pays here).
//!
//! ```
//! use ppo::normal;
//! use rand::SeedableRng;
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let (mean, std) = ([0.5, -1.0], [0.2, 1.0]);
//! let mut action = [0.0; 2];
//! normal::sample(&mean, &std, &mut rng, &mut action);
//! let log_pi_old = normal::log_prob(&mean, &std, &action); // stored when acting
//! // After an update the policy is N(0.6, 0.2²) × N(−1, 1): the PPO ratio for this action.
//! let log_pi_new = normal::log_prob(&[0.6, -1.0], &std, &action);
//! let ratio = (log_pi_new - log_pi_old).exp();
//! assert!(ratio > 0.0 && ratio.is_finite());
//! assert!((normal::entropy(&[1.0]) - 1.4189385).abs() < 1e-6);
//! ```

use super::{Distribution, Randomness};
use crate::autodiff::{Backward, Op, Params, Tape, Var};
use crate::tensor::Tensor;

/// `½·ln(2π)`, the log of the Normal density's normalizing constant √(2π).
pub const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

// ANCHOR: density
/// `ln N(a; μ, σ) = −½z² − ln σ − ½ln(2π)` with `z = (a − μ)/σ`, for one dimension.
///
/// Computed in `f64` from `f32` inputs: for a small σ the two first terms are large and of
/// opposite signs, and PPO then subtracts two log-probabilities again in its ratio. Dividing
/// before squaring (`z²` rather than `(a − μ)²/σ²`) keeps σ² from underflowing.
#[inline]
pub(super) fn log_density(mean: f32, std: f32, action: f32) -> f64 {
    let z = (f64::from(action) - f64::from(mean)) / f64::from(std);
    -0.5 * z * z - f64::from(std).ln() - HALF_LN_2PI
}

/// `H = ½ + ½ln(2π) + ln σ`, the entropy of one dimension. It depends on σ only: moving the
/// mean slides the bell curve without changing its shape.
#[inline]
pub(super) fn entropy_density(std: f32) -> f64 {
    0.5 + HALF_LN_2PI + f64::from(std).ln()
}
// ANCHOR_END: density

pub(super) fn assert_same_len(what: &str, lengths: &[usize]) {
    assert!(
        lengths.windows(2).all(|pair| pair[0] == pair[1]),
        "{what}: lengths {lengths:?} differ"
    );
}

// ANCHOR: sample
/// Writes `out[i] = mean[i] + std[i]·εᵢ`, each `εᵢ` drawn from `N(0, 1)` with `rng`, in order.
/// The same generator state gives the same actions.
///
/// # Panics
/// If the four slices are not equally long.
pub fn sample<R: Randomness + ?Sized>(mean: &[f32], std: &[f32], rng: &mut R, out: &mut [f32]) {
    assert_same_len("normal::sample (mean, std, out)", &[mean.len(), std.len(), out.len()]);
    for ((out, &mean), &std) in out.iter_mut().zip(mean).zip(std) {
        let epsilon = rng.standard_normal();
        *out = mean + std * epsilon;
    }
}
// ANCHOR_END: sample

/// `log π(a) = Σⱼ ln N(aⱼ; μⱼ, σⱼ)` for one sample: the log-probability of an action whose
/// dimensions are independent, the sum over the action dimensions. σ must be positive (a
/// σ ≤ 0 gives NaN, as in IEEE arithmetic).
///
/// # Panics
/// If the three slices are not equally long.
pub fn log_prob(mean: &[f32], std: &[f32], action: &[f32]) -> f32 {
    assert_same_len("normal::log_prob (mean, std, action)", &[mean.len(), std.len(), action.len()]);
    let terms = mean.iter().zip(std).zip(action);
    terms.map(|((&m, &s), &a)| log_density(m, s, a)).sum::<f64>() as f32
}

/// `H = Σⱼ (½ + ½ln(2π) + ln σⱼ)` for one sample.
pub fn entropy(std: &[f32]) -> f32 {
    std.iter().map(|&s| entropy_density(s)).sum::<f64>() as f32
}

/// Checks that `mean`, `std` (and `action`) are equal `[batch, dims]` shapes.
pub(super) fn batch_dims(op: &str, shapes: &[&[usize]]) -> (usize, usize) {
    let equal = shapes.windows(2).all(|pair| pair[0] == pair[1]);
    match shapes[0] {
        [batch, dims] if equal => (*batch, *dims),
        _ => panic!("{op}: shapes {shapes:?} must be equal and [batch, action_size]"),
    }
}

// ANCHOR: log_prob_op
/// `y[b] = Σⱼ ln N(a[b, j]; μ[b, j], σ[b, j])`: inputs `μ, σ, a`, all `[batch, dims]`, output
/// `[batch]`. With `z = (a − μ)/σ`, the derivatives of each term are
///
/// - `∂/∂μ = z/σ`: the mean moves toward the action;
/// - `∂/∂σ = (z² − 1)/σ`: σ grows if the action was further than one σ away, shrinks if closer;
/// - `∂/∂a = −z/σ`.
pub struct LogProb;
impl Op for LogProb {
    fn name(&self) -> &'static str {
        "normal_log_prob"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        let (batch, dims) = batch_dims(
            "normal_log_prob (mean, std, action)",
            &[x[0].shape(), x[1].shape(), x[2].shape()],
        );
        out.reset_zeros(&[batch]);
        for (b, y) in out.data_mut().iter_mut().enumerate() {
            let row = b * dims..(b + 1) * dims;
            *y = log_prob(&x[0].data()[row.clone()], &x[1].data()[row.clone()], &x[2].data()[row]);
        }
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let [mean, std, action] = [0, 1, 2].map(|i| ctx.inputs[i].data());
        for_each_row(grad, ctx.output_grad, |row, g_row, dy| {
            let terms = mean[row.clone()].iter().zip(&std[row.clone()]).zip(&action[row]);
            for (g, ((&m, &s), &a)) in g_row.iter_mut().zip(terms) {
                let s = f64::from(s);
                let z = (f64::from(a) - f64::from(m)) / s;
                let local = match ctx.input {
                    0 => z / s,
                    1 => (z * z - 1.0) / s,
                    _ => -z / s,
                };
                *g += (dy * local) as f32;
            }
        });
    }
}
// ANCHOR_END: log_prob_op

// ANCHOR: entropy_op
/// `y[b] = Σⱼ (½ + ½ln(2π) + ln σ[b, j])`: input `σ: [batch, dims]`, output `[batch]`.
/// The derivative of each term is `∂/∂σ = 1/σ`: the entropy bonus always pushes σ up, the
/// harder the smaller σ is.
pub struct Entropy;
impl Op for Entropy {
    fn name(&self) -> &'static str {
        "normal_entropy"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        let (batch, dims) = batch_dims("normal_entropy (std)", &[x[0].shape()]);
        out.reset_zeros(&[batch]);
        for (b, y) in out.data_mut().iter_mut().enumerate() {
            *y = entropy(&x[0].data()[b * dims..(b + 1) * dims]);
        }
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let std = ctx.inputs[0].data();
        for_each_row(grad, ctx.output_grad, |row, g_row, dy| {
            for (g, &s) in g_row.iter_mut().zip(&std[row]) {
                *g += (dy / f64::from(s)) as f32;
            }
        });
    }
}
// ANCHOR_END: entropy_op

/// Calls `f(elements of row b, gradient of row b, dy[b] as f64)` for each row `b` of a
/// `[batch, dims]` input gradient: the output was one sum per row, so each of its elements
/// receives that row's output gradient times its own local derivative.
pub(super) fn for_each_row(
    grad: &mut Tensor,
    output_grad: &Tensor,
    mut f: impl FnMut(std::ops::Range<usize>, &mut [f32], f64),
) {
    let dims = grad.dims2().1;
    if dims == 0 {
        return;
    }
    let rows = grad.data_mut().chunks_exact_mut(dims).zip(output_grad.data()).enumerate();
    for (b, (g_row, &dy)) in rows {
        f(b * dims..(b + 1) * dims, g_row, f64::from(dy));
    }
}

/// Records `log π(a)` for a batch on the tape: `mean`, `std` and `action` are `[batch, dims]`,
/// the result is `[batch]`, summed over the action dimensions.
///
/// # Panics
/// If the three shapes differ or are not 2-D; the message names them.
pub fn log_prob_on_tape(tape: &mut Tape, mean: Var, std: Var, action: Var) -> Var {
    tape.apply(&LogProb, &[mean, std, action], [0.0; 2])
}

/// Records the entropy for a batch on the tape: `std: [batch, dims]` to `[batch]`.
///
/// # Panics
/// If `std` is not 2-D.
pub fn entropy_on_tape(tape: &mut Tape, std: Var) -> Var {
    tape.apply(&Entropy, &[std], [0.0; 2])
}

// ANCHOR: normal_distribution
/// The diagonal Normal as a [`Distribution`]: parameters `[mean, std]`, each one row of
/// `dims` values; the sample is the action itself (an environment clips it to its bounds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normal {
    /// Action dimensions.
    pub dims: usize,
}

impl Distribution for Normal {
    fn sample_width(&self) -> usize {
        self.dims
    }
    fn sample(&self, params: &[&[f32]], rng: &mut dyn Randomness, out: &mut [f32]) {
        sample(params[0], params[1], rng, out);
    }
    /// The mean: the Normal's most likely action.
    fn mode(&self, params: &[&[f32]], out: &mut [f32]) {
        out.copy_from_slice(params[0]);
    }
    fn log_prob(&self, params: &[&[f32]], sample: &[f32]) -> f32 {
        log_prob(params[0], params[1], sample)
    }
    fn entropy(&self, params: &[&[f32]]) -> f32 {
        entropy(params[1])
    }
    fn log_prob_on_tape(&self, tape: &mut Tape, params: &[Var], sample: Var) -> Var {
        log_prob_on_tape(tape, params[0], params[1], sample)
    }
    fn entropy_on_tape(&self, tape: &mut Tape, params: &[Var]) -> Var {
        entropy_on_tape(tape, params[1])
    }
}
// ANCHOR_END: normal_distribution
