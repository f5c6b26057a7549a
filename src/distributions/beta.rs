//! The Beta distribution on the action box: `x ~ Beta(α, β)` on (0, 1), mapped to the action
//! `a = low + (high − low)·x`.
//!
//! The density of `x` is `x^{α−1}(1 − x)^{β−1}/B(α, β)` with `B(α, β) = Γ(α)Γ(β)/Γ(α + β)`,
//! and the action's density carries the affine map's Jacobian: per dimension
//!
//! ```text
//! ln π(a) = (α − 1) ln x + (β − 1) ln(1 − x) − ln B(α, β) − ln(high − low),
//! ```
//!
//! `H(a) = ln B(α, β) − (α − 1)ψ(α) − (β − 1)ψ(β) + (α + β − 2)ψ(α + β) + ln(high − low)`.
//! The actor produces `α, β = 1 + softplus(·)`, both above 1, so that the density is
//! unimodal and vanishes at the bounds; the code stays finite for any `α, β > 0`.
//!
//! **What the rollout buffer stores: `x`, not the action.** Every quantity above is a
//! function of `x`, `ln x` and `ln(1 − x)`. Stored as an `f32`, `x` keeps its full relative
//! precision near the lower bound (`x = 10⁻³⁰` is a number like any other), and `1 − x` is
//! exact in `f64`, so `ln(1 − x)` is exact too; recovering `x = (a − low)/(high − low)`
//! from a stored action would round both ends to the action's resolution (`2.4·10⁻⁷` at
//! `a = ±2`). [`to_action`](super::Distribution::to_action) gives the environment its action.
//! A sample is kept strictly inside (0, 1) in `f32`, in `[2⁻¹²⁶, 1 − 2⁻²⁴]` (see [`X_MIN`],
//! [`X_MAX`]), so that `ln x ≥ −87.4` and `ln(1 − x) ≥ −16.7` and every log-probability is
//! finite. The price is near the upper bound, where an `f32` resolves `1 − x` only in steps of
//! `6·10⁻⁸`: a Beta concentrated within 10⁻⁶ of `high` (α ≳ 10⁶β) is sampled on a coarse grid.
//!
//! Sampling draws two Gamma variates by Marsaglia and Tsang's method and returns
//! `x = G₁/(G₁ + G₂)`, computed from their logarithms as `1/(1 + e^{ln G₂ − ln G₁})`, which
//! neither overflows nor divides 0 by 0.
//!
//! ```
//! use ppo::distributions::beta::Beta;
//! use ppo::Distribution;
//! use rand::SeedableRng;
//!
//! let policy = Beta { dims: 1, low: -2.0, high: 2.0 };
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let params: [&[f32]; 2] = [&[3.0], &[1.5]];
//! let (mut x, mut action) = ([0.0], [0.0]);
//! policy.sample(&params, &mut rng, &mut x); // what the buffer stores
//! policy.to_action(&x, &mut action); // what the environment receives
//! assert!(0.0 < x[0] && x[0] < 1.0 && (-2.0..=2.0).contains(&action[0]));
//! assert!(policy.log_prob(&params, &x).is_finite());
//! ```

use super::normal::{assert_same_len, batch_dims, for_each_row};
use super::special::{digamma, ln_beta, trigamma};
use super::{Distribution, Randomness};
use crate::autodiff::{Backward, Op, Params, Tape, Var};
use crate::tensor::Tensor;

/// The smallest stored sample, `f32`'s smallest normal number `2⁻¹²⁶`.
pub const X_MIN: f32 = f32::MIN_POSITIVE;
/// The largest stored sample, the largest `f32` below 1, `1 − 2⁻²⁴`.
pub const X_MAX: f32 = 1.0 - f32::EPSILON / 2.0;

// ANCHOR: density
/// `ln p(x) = (α − 1) ln x + (β − 1) ln(1 − x) − ln B(α, β)` for one dimension, in `f64`:
/// `α − 1` and `1 − x` are exact there for `f32` inputs, and with α, β near 10⁶ the three
/// terms are near 10⁶ while their sum is near 7.
fn log_density(alpha: f32, beta: f32, x: f32) -> f64 {
    let [a, b, x] = [alpha, beta, x].map(f64::from);
    (a - 1.0) * x.ln() + (b - 1.0) * (-x).ln_1p() - ln_beta(a, b)
}

/// `(∂/∂α, ∂/∂β, ∂/∂x)` of [`log_density`]: `∂ ln B/∂α = ψ(α) − ψ(α + β)`, so
/// `∂/∂α = ln x − ψ(α) + ψ(α + β)` (the sample's log minus its expectation, `E[ln x]`),
/// `∂/∂β = ln(1 − x) − ψ(β) + ψ(α + β)`, `∂/∂x = (α − 1)/x − (β − 1)/(1 − x)`.
fn log_density_grads(alpha: f32, beta: f32, x: f32) -> [f64; 3] {
    let [a, b, x] = [alpha, beta, x].map(f64::from);
    let psi_sum = digamma(a + b);
    [
        x.ln() - digamma(a) + psi_sum,
        (-x).ln_1p() - digamma(b) + psi_sum,
        (a - 1.0) / x - (b - 1.0) / (1.0 - x),
    ]
}

// ANCHOR_END: density

// ANCHOR: entropy
/// The entropy of `x`, `ln B − (α − 1)ψ(α) − (β − 1)ψ(β) + (α + β − 2)ψ(α + β)`, summed as
/// `ln B + (α − 1)(ψ(α + β) − ψ(α)) + (β − 1)(ψ(α + β) − ψ(β))`: the differences of ψ are
/// small where α and β are large, and the terms that cancel are ten times smaller.
fn entropy_density(alpha: f32, beta: f32) -> f64 {
    let [a, b] = [alpha, beta].map(f64::from);
    let psi_sum = digamma(a + b);
    ln_beta(a, b) + (a - 1.0) * (psi_sum - digamma(a)) + (b - 1.0) * (psi_sum - digamma(b))
}

/// `(∂H/∂α, ∂H/∂β)`: the ψ terms of `∂ ln B` cancel those of the product rule, leaving
/// `∂H/∂α = −(α − 1)ψ′(α) + (α + β − 2)ψ′(α + β)` and the same with α and β exchanged.
fn entropy_grads(alpha: f32, beta: f32) -> [f64; 2] {
    let [a, b] = [alpha, beta].map(f64::from);
    let tri_sum = (a + b - 2.0) * trigamma(a + b);
    [tri_sum - (a - 1.0) * trigamma(a), tri_sum - (b - 1.0) * trigamma(b)]
}
// ANCHOR_END: entropy

// ANCHOR: gamma
/// `ln G` for `G ~ Gamma(shape, 1)`, `shape > 0`, by G. Marsaglia and W. W. Tsang, "A simple
/// method for generating gamma variables", ACM TOMS 26 (2000) 363–372. For `shape ≥ 1`, with
/// `d = shape − ⅓` and `c = 1/√(9d)`: draw `z ~ N(0, 1)` and `u ~ U(0, 1)`, set
/// `v = (1 + cz)³`, and accept `d·v` if `v > 0` and `ln u < z²/2 + d − dv + d ln v` (after
/// the cheap squeeze `u < 1 − 0.0331z⁴`); the acceptance rate is above 95%. For `shape < 1`,
/// `G = G′·u^{1/shape}` with `G′ ~ Gamma(shape + 1)`. Returned as a logarithm because
/// `u^{1/shape}` underflows for small shapes, where `ln G` is an ordinary negative number.
pub fn sample_log_gamma<R: Randomness + ?Sized>(shape: f64, rng: &mut R) -> f64 {
    if shape < 1.0 {
        let boosted = sample_log_gamma(shape + 1.0, rng);
        return boosted + (1.0 - rng.uniform()).ln() / shape; // 1 − u ∈ (0, 1]: ln is finite
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let z = f64::from(rng.standard_normal());
        let v = 1.0 + c * z;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = rng.uniform();
        let z2 = z * z;
        if u < 1.0 - 0.0331 * z2 * z2 || u.ln() < 0.5 * z2 + d * (1.0 - v + v.ln()) {
            return d.ln() + v.ln();
        }
    }
}
// ANCHOR_END: gamma

// ANCHOR: sample
/// One stored sample `x = G₁/(G₁ + G₂) = 1/(1 + e^{ln G₂ − ln G₁})`, in `[X_MIN, X_MAX]`.
fn sample_one<R: Randomness + ?Sized>(alpha: f32, beta: f32, rng: &mut R) -> f32 {
    let log_g1 = sample_log_gamma(f64::from(alpha), rng);
    let log_g2 = sample_log_gamma(f64::from(beta), rng);
    let x = 1.0 / (1.0 + (log_g2 - log_g1).exp());
    (x as f32).clamp(X_MIN, X_MAX)
}
// ANCHOR_END: sample

/// `ln π(a) = Σⱼ [ln p(xⱼ; αⱼ, βⱼ) − ln(high − low)]` for one stored sample `x`.
///
/// # Panics
/// If the three slices are not equally long.
pub fn log_prob(alpha: &[f32], beta: &[f32], x: &[f32], low: f32, high: f32) -> f32 {
    assert_same_len("beta::log_prob (alpha, beta, x)", &[alpha.len(), beta.len(), x.len()]);
    let ln_width = (f64::from(high) - f64::from(low)).ln();
    let terms = alpha.iter().zip(beta).zip(x);
    terms.map(|((&a, &b), &x)| log_density(a, b, x) - ln_width).sum::<f64>() as f32
}

/// `H(a) = Σⱼ [H(xⱼ) + ln(high − low)]` for one sample's parameters.
///
/// # Panics
/// If the two slices are not equally long.
pub fn entropy(alpha: &[f32], beta: &[f32], low: f32, high: f32) -> f32 {
    assert_same_len("beta::entropy (alpha, beta)", &[alpha.len(), beta.len()]);
    let ln_width = (f64::from(high) - f64::from(low)).ln();
    let terms = alpha.iter().zip(beta);
    terms.map(|(&a, &b)| entropy_density(a, b) + ln_width).sum::<f64>() as f32
}

/// The width `high − low` an operation carries in its parameters.
///
/// # Panics
/// If `low < high` does not hold.
fn ln_width(op: &str, params: Params) -> f64 {
    let [low, high] = params;
    assert!(low < high, "{op}: the bounds [{low}, {high}] are not an interval");
    (f64::from(high) - f64::from(low)).ln()
}

// ANCHOR: log_prob_op
/// `y[b] = Σⱼ ln π(a[b, j])` for the stored samples `x`: inputs `α, β, x`, all
/// `[batch, dims]`, the bounds in `params`, output `[batch]`, with the derivatives of
/// [`log_density_grads`] (the Jacobian term `−ln(high − low)` depends on no input).
pub struct LogProb;
impl Op for LogProb {
    fn name(&self) -> &'static str {
        "beta_log_prob"
    }
    fn forward(&self, x: &[&Tensor], params: Params, out: &mut Tensor) {
        let op = "beta_log_prob (alpha, beta, x)";
        ln_width(op, params);
        let (batch, dims) = batch_dims(op, &[x[0].shape(), x[1].shape(), x[2].shape()]);
        out.reset_zeros(&[batch]);
        let [low, high] = params;
        for (b, y) in out.data_mut().iter_mut().enumerate() {
            let row = b * dims..(b + 1) * dims;
            let [alpha, beta, sample] = [0, 1, 2].map(|i| &x[i].data()[row.clone()]);
            *y = log_prob(alpha, beta, sample, low, high);
        }
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let [alpha, beta, sample] = [0, 1, 2].map(|i| ctx.inputs[i].data());
        for_each_row(grad, ctx.output_grad, |row, g_row, dy| {
            let terms = alpha[row.clone()].iter().zip(&beta[row.clone()]).zip(&sample[row]);
            for (g, ((&a, &b), &x)) in g_row.iter_mut().zip(terms) {
                *g += (dy * log_density_grads(a, b, x)[ctx.input]) as f32;
            }
        });
    }
}
// ANCHOR_END: log_prob_op

// ANCHOR: entropy_op
/// `y[b] = Σⱼ H(α[b, j], β[b, j])` with the bounds in `params`: inputs `α, β`, both
/// `[batch, dims]`, output `[batch]`, with the derivatives of [`entropy_grads`].
pub struct Entropy;
impl Op for Entropy {
    fn name(&self) -> &'static str {
        "beta_entropy"
    }
    fn forward(&self, x: &[&Tensor], params: Params, out: &mut Tensor) {
        let op = "beta_entropy (alpha, beta)";
        ln_width(op, params);
        let (batch, dims) = batch_dims(op, &[x[0].shape(), x[1].shape()]);
        out.reset_zeros(&[batch]);
        let [low, high] = params;
        for (b, y) in out.data_mut().iter_mut().enumerate() {
            let row = b * dims..(b + 1) * dims;
            *y = entropy(&x[0].data()[row.clone()], &x[1].data()[row], low, high);
        }
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let [alpha, beta] = [0, 1].map(|i| ctx.inputs[i].data());
        for_each_row(grad, ctx.output_grad, |row, g_row, dy| {
            let terms = alpha[row.clone()].iter().zip(&beta[row]);
            for (g, (&a, &b)) in g_row.iter_mut().zip(terms) {
                *g += (dy * entropy_grads(a, b)[ctx.input]) as f32;
            }
        });
    }
}
// ANCHOR_END: entropy_op

// ANCHOR: distribution
/// The Beta on `[low, high]` (the same box for every dimension) as a [`Distribution`]:
/// parameters `[alpha, beta]`, each one row of `dims` values, both positive; the sample is
/// `x` in (0, 1), and the environment's action `low + (high − low)·x`.
///
/// # Panics
/// The tape operations panic unless `low < high`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Beta {
    /// Action dimensions.
    pub dims: usize,
    /// The box's lower bound.
    pub low: f32,
    /// The box's upper bound, above `low`.
    pub high: f32,
}

impl Distribution for Beta {
    fn sample_width(&self) -> usize {
        self.dims
    }
    /// Two Gamma variates per dimension, in order (each a variable number of draws).
    fn sample(&self, params: &[&[f32]], rng: &mut dyn Randomness, out: &mut [f32]) {
        let lengths = [params[0].len(), params[1].len(), out.len()];
        assert_same_len("beta::sample (alpha, beta, out)", &lengths);
        for ((out, &a), &b) in out.iter_mut().zip(params[0]).zip(params[1]) {
            *out = sample_one(a, b, rng);
        }
    }
    /// The mode `(α − 1)/(α + β − 2)` where it is interior (α, β > 1, as the actor's
    /// `1 + softplus` heads give); otherwise the density has no interior maximum (it is
    /// unbounded or flat at a bound) and this is the mean `α/(α + β)`.
    fn mode(&self, params: &[&[f32]], out: &mut [f32]) {
        for ((out, &a), &b) in out.iter_mut().zip(params[0]).zip(params[1]) {
            let [a, b] = [a, b].map(f64::from);
            let x = if a > 1.0 && b > 1.0 { (a - 1.0) / (a + b - 2.0) } else { a / (a + b) };
            *out = (x as f32).clamp(X_MIN, X_MAX);
        }
    }
    fn log_prob(&self, params: &[&[f32]], sample: &[f32]) -> f32 {
        log_prob(params[0], params[1], sample, self.low, self.high)
    }
    fn entropy(&self, params: &[&[f32]]) -> f32 {
        entropy(params[0], params[1], self.low, self.high)
    }
    fn log_prob_on_tape(&self, tape: &mut Tape, params: &[Var], sample: Var) -> Var {
        tape.apply(&LogProb, &[params[0], params[1], sample], [self.low, self.high])
    }
    fn entropy_on_tape(&self, tape: &mut Tape, params: &[Var]) -> Var {
        tape.apply(&Entropy, &[params[0], params[1]], [self.low, self.high])
    }
    /// `a = low + (high − low)·x`, in `f64` and rounded once, inside the box.
    fn to_action(&self, sample: &[f32], action: &mut [f32]) {
        let (low, width) = (f64::from(self.low), f64::from(self.high) - f64::from(self.low));
        for (a, &x) in action.iter_mut().zip(sample) {
            *a = ((low + width * f64::from(x)) as f32).clamp(self.low, self.high);
        }
    }
}
// ANCHOR_END: distribution
