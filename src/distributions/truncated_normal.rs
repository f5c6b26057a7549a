//! The truncated Normal distribution: a Normal N(μ, σ²) restricted to the action box
//! [low, high] and renormalized, so that every action it draws is one the environment
//! accepts as it is, with no clipping between the policy and the environment.
//!
//! With `α = (low − μ)/σ`, `β = (high − μ)/σ` and `z = (a − μ)/σ`, its density on the box is
//!
//! ```text
//! π(a) = φ(z) / (σ·Z),   Z = Φ(β) − Φ(α),
//! ```
//!
//! and its entropy `ln(√(2πe)·σ·Z) + (αφ(α) − βφ(β))/(2Z)`. PPO needs the same four things
//! of it as of the Normal: [`sample`](super::Distribution::sample) (by the inverse CDF, one
//! uniform draw per dimension), `log_prob`, `entropy` and `mode` (the mean clamped to the
//! box), the first two also as fused tape operations, [`LogProb`] and [`Entropy`].
//!
//! The danger is the normalizer. An actor's mean is not bounded by the box: with μ fifty σ
//! above `high`, `Z = Φ(−50) − Φ(α) ≈ 10⁻⁵⁴⁵` underflows in `f64`, and `ln Z` computed as
//! written is `−∞`. Everything here is therefore computed in `f64` from the quantities that
//! stay representable: by symmetry the box is moved to the *lower* tail (`β ≤ 0`) when it
//! lies in the upper, and there every term is written relative to the near bound,
//! `ln Z + β²/2 = ln(½·erfcx(−β/√2)) + ln(1 − Φ(α)/Φ(β))`, where `erfcx` is the scaled
//! complementary error function of [`special`](super::special). A mean 10⁶ away from a box
//! with σ = 10⁻⁹ gives finite, accurate log-probabilities, gradients and samples.
//!
//! ```
//! use ppo::distributions::truncated_normal::TruncatedNormal;
//! use ppo::Distribution;
//! use rand::SeedableRng;
//!
//! let policy = TruncatedNormal { dims: 1, low: -2.0, high: 2.0 };
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let mut action = [0.0];
//! // A mean 50σ above the box: every sample still lies in it, piled against `high`.
//! let params: [&[f32]; 2] = [&[7.0], &[0.1]];
//! policy.sample(&params, &mut rng, &mut action);
//! assert!((1.99..=2.0).contains(&action[0]));
//! assert!(policy.log_prob(&params, &action).is_finite());
//! ```

use super::normal::{HALF_LN_2PI, assert_same_len, batch_dims, for_each_row};
use super::special::{
    erf, erfcx, erfcx_integral_1, erfcx_integral_2, normal_cdf, normal_quantile,
    normal_quantile_offset,
};
use super::{Distribution, Randomness};
use crate::autodiff::{Backward, Op, Params, Tape, Var};
use crate::tensor::Tensor;
use std::f64::consts::SQRT_2;

/// `√(2/π) = 2φ(0)`: `φ(x)/Φ(x) = √(2/π)/erfcx(−x/√2)`.
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;

// ANCHOR: truncation
/// One dimension's truncation, standardized, with the terms that the log-density, the
/// entropy and their derivatives share. All of it is in the *reflected* frame when the box
/// lies above the mean (`flip = −1`: `a ↦ −a`, `μ ↦ −μ`, `[low, high] ↦ [−high, −low]`), so
/// that either the box straddles the mean (`α < 0 < β`) or lies below it (`β ≤ 0`, the lower
/// tail). In the tail every quadratic term is taken relative to `c = β`, the bound the mass
/// piles against (across the mean, `c = 0`): `Φ(β)` may underflow, `Φ(β)·e^{β²/2}` cannot.
struct Truncation {
    flip: f64,
    mean: f64,
    std: f64,
    low: f64,
    high: f64,
    alpha: f64,
    beta: f64,
    tail: bool,
    /// `ln Z + c²/2`.
    log_z_c: f64,
    /// `rα = φ(α)/Z` and `rβ = φ(β)/Z`.
    r_alpha: f64,
    r_beta: f64,
    /// `c + rβ`, small where both terms are large (`≈ −1/β` deep in the tail).
    b_c: f64,
    /// The entropy's factors `−1 − α² + P` and `1 + β² − P`, `P = αrα − βrβ` (see
    /// [`entropy_grads`]), each computed where it does not cancel.
    e_alpha: f64,
    f_beta: f64,
    /// In the tail: `q = Φ(α)/Φ(β)`, `1 − q`, `erfcx(−β/√2)` and `m(β) = φ(β)/Φ(β)`, for sampling.
    q: f64,
    one_minus_q: f64,
    erfcx_beta: f64,
    mills_beta: f64,
}
// ANCHOR_END: truncation

impl Truncation {
    fn new(mean: f32, std: f32, low: f32, high: f32) -> Truncation {
        let [mut m, s, mut lo, mut hi] = [mean, std, low, high].map(f64::from);
        let flip = if lo >= m { -1.0 } else { 1.0 };
        if flip < 0.0 {
            (m, lo, hi) = (-m, -hi, -lo);
        }
        let (alpha, beta) = ((lo - m) / s, (hi - m) / s);
        let mut t = Truncation {
            flip,
            mean: m,
            std: s,
            low: lo,
            high: hi,
            alpha,
            beta,
            tail: beta <= 0.0,
            log_z_c: 0.0,
            r_alpha: 0.0,
            r_beta: 0.0,
            b_c: 0.0,
            e_alpha: 0.0,
            f_beta: 0.0,
            q: 0.0,
            one_minus_q: 1.0,
            erfcx_beta: 1.0,
            mills_beta: 0.0,
        };
        if t.tail {
            t.lower_tail()
        } else {
            t.across()
        }
        t
    }

    /// The box contains the mean: `Z = ½(erf(β/√2) − erf(α/√2))`, a sum of two terms of the
    /// same sign, accurate even for a box much narrower than σ.
    fn across(&mut self) {
        let (alpha, beta) = (self.alpha, self.beta);
        let z = 0.5 * (erf(beta / SQRT_2) - erf(alpha / SQRT_2));
        self.log_z_c = z.ln();
        let ratio = |x: f64| (-0.5 * x * x - HALF_LN_2PI - self.log_z_c).exp();
        (self.r_alpha, self.r_beta) = (ratio(alpha), ratio(beta));
        self.b_c = self.r_beta;
        let p = alpha * self.r_alpha - beta * self.r_beta; // both terms ≤ 0
        (self.e_alpha, self.f_beta) = (-1.0 - alpha * alpha + p, 1.0 + beta * beta - p);
    }

    // ANCHOR: lower_tail
    /// The box lies below the mean (`α < β ≤ 0`). With `t = −x/√2`, `Φ(x) = ½erfcx(t)e^{−x²/2}`,
    /// so `ln q = ln(Φ(α)/Φ(β)) = ln(erfcx(tα)/erfcx(tβ)) + ½(β − α)(β + α)`, and the inverse
    /// Mills ratio `m(β) = φ(β)/Φ(β) = √(2/π)/erfcx(tβ)` exceeds `−β` by
    /// `√2·e^{t²}i¹erfc(t)/erfcx(t)`, computed without the cancellation of `m(β) + β`.
    fn lower_tail(&mut self) {
        let (alpha, beta) = (self.alpha, self.beta);
        let (t_alpha, t_beta) = (-alpha / SQRT_2, -beta / SQRT_2);
        let (erfcx_alpha, erfcx_beta) = (erfcx(t_alpha), erfcx(t_beta));
        let width = (self.high - self.low) / self.std; // β − α
        let sum = (self.high + self.low - 2.0 * self.mean) / self.std; // β + α
        let log_phi_beta = (0.5 * erfcx_beta).ln(); // ln Φ(β) + β²/2
        let (q, one_minus_q) = if width * (-0.5 * sum).max(1.0) > 2e-3 {
            let log_q = (erfcx_alpha / erfcx_beta).ln() + 0.5 * width * sum;
            (log_q.exp(), -log_q.exp_m1())
        } else {
            // A box much narrower than σ: 1 − q = Z/Φ(β) is a difference of nearly equal
            // numbers, so Z comes from the midpoint expansion instead.
            let one_minus_q = (Self::narrow_log_mass(width, sum, beta) - log_phi_beta).exp();
            (1.0 - one_minus_q, one_minus_q)
        };
        self.log_z_c = log_phi_beta + one_minus_q.ln();
        let mills_beta = SQRT_2_OVER_PI / erfcx_beta;
        let mills_beta_excess = SQRT_2 * erfcx_integral_1(t_beta) / erfcx_beta; // m(β) + β
        self.r_alpha = SQRT_2_OVER_PI / erfcx_alpha * q / one_minus_q;
        self.r_beta = mills_beta / one_minus_q;
        self.b_c = (mills_beta_excess - beta * q) / one_minus_q;
        if q < 0.5 {
            // Deep in the tail α², β² and βrβ are huge and nearly equal: 1 + β² + βrβ is
            // [(1 + β(m(β) + β)) − q(1 + β²)]/(1 − q), from the second scaled repeated
            // integral of erfc, and −1 − α² + P = −1 + (β − α)(β + α) + αrα − β(β + rβ).
            let one_plus_beta_excess = 4.0 * erfcx_integral_2(t_beta) / erfcx_beta;
            let d_beta = (one_plus_beta_excess - q * (1.0 + beta * beta)) / one_minus_q;
            self.e_alpha = -1.0 + width * sum + alpha * self.r_alpha - beta * self.b_c;
            self.f_beta = d_beta - alpha * self.r_alpha;
        } else {
            // A narrow box (q near 1): rα and rβ are nearly equal and large, so P is taken
            // about the midpoint m = (α + β)/2 with half-width h: αφ(α) − βφ(β) =
            // m(φ(α) − φ(β)) − h(φ(α) + φ(β)), and rα − rβ = −rα·expm1(−2mh).
            let (m, h) = (0.5 * sum, 0.5 * width);
            let difference = -self.r_alpha * (-2.0 * m * h).exp_m1();
            let p = m * difference - h * (self.r_alpha + self.r_beta);
            (self.e_alpha, self.f_beta) = (-1.0 - alpha * alpha + p, 1.0 + beta * beta - p);
        }
        (self.q, self.one_minus_q, self.erfcx_beta, self.mills_beta) =
            (q, one_minus_q, erfcx_beta, mills_beta);
    }
    // ANCHOR_END: lower_tail

    /// `ln Z + β²/2` for a box of standardized width `w = β − α` much narrower than σ
    /// (`w·max(1, |m|) ≤ 2·10⁻³`, `m` the midpoint): averaging `φ(m + s) = φ(m)e^{−ms − s²/2}`
    /// over `s ∈ [−w/2, w/2]` with the Hermite expansion `e^{−ms − s²/2} = Σ Heₙ(m)(−s)ⁿ/n!`
    /// gives `Z = w·φ(m)·(1 + He₂(m)h²/6 + He₄(m)h⁴/120 + …)`, `h = w/2`, whose next term is
    /// below 10⁻²⁰; and `β² − m² = h(β + m)`. (`sum` is `β + α = 2m`, from the raw bounds.)
    fn narrow_log_mass(width: f64, sum: f64, beta: f64) -> f64 {
        let (h, m) = (0.5 * width, 0.5 * sum);
        let (h2, m2) = (h * h, m * m);
        let average = 1.0 + (m2 - 1.0) * h2 / 6.0 + (m2 * m2 - 6.0 * m2 + 3.0) * h2 * h2 / 120.0;
        width.ln() - HALF_LN_2PI + average.ln() + 0.5 * h * (beta + m)
    }

    /// `(z − c, z + c, z)` for an action, in the reflected frame.
    fn offsets(&self, action: f32) -> (f64, f64, f64) {
        let a = self.flip * f64::from(action);
        let z = (a - self.mean) / self.std;
        if self.tail {
            ((a - self.high) / self.std, (a + self.high - 2.0 * self.mean) / self.std, z)
        } else {
            (z, z, z)
        }
    }
}

// ANCHOR: log_density
/// `ln π(a) = −½z² − ln σ − ½ln 2π − ln Z`, written `−½(z − c)(z + c) − ln σ − ½ln 2π −
/// (ln Z + c²/2)` so that two huge squares never meet: for a mean 10⁶ above the box with
/// σ = 10⁻⁹, `z²` and `2 ln Z` are both near 10³⁰ and their difference is the answer.
fn log_density(t: &Truncation, action: f32) -> f64 {
    let (minus, plus, _) = t.offsets(action);
    -0.5 * minus * plus - t.std.ln() - HALF_LN_2PI - t.log_z_c
}

/// `(∂/∂μ, ∂/∂σ, ∂/∂a)` of [`log_density`]. With `∂α/∂μ = ∂β/∂μ = −1/σ`, `∂α/∂σ = −α/σ`,
/// `∂β/∂σ = −β/σ`, `∂ ln Z/∂α = −φ(α)/Z` and `∂ ln Z/∂β = φ(β)/Z` (write `rα`, `rβ`):
///
/// - `σ·∂/∂μ = z + rβ − rα = (z − c) + (c + rβ) − rα`: the score `z` minus its mean
///   under the truncated distribution, `E[z] = rα − rβ`;
/// - `σ·∂/∂σ = z² − 1 + βrβ − αrα = (z − c)(z + c) + β(c + rβ) − αrα − 1`, using `c(c − β) = 0`;
/// - `σ·∂/∂a = −z`, as for the Normal: the box does not depend on `a`.
///
/// Then undo the reflection: `∂/∂μ` and `∂/∂a` change sign with the frame, `∂/∂σ` does not.
fn log_density_grads(t: &Truncation, action: f32) -> [f64; 3] {
    let (minus, plus, z) = t.offsets(action);
    let d_mean = minus + t.b_c - t.r_alpha;
    let d_std = minus * plus + t.beta * t.b_c - t.alpha * t.r_alpha - 1.0;
    [t.flip * d_mean / t.std, d_std / t.std, -t.flip * z / t.std]
}

// ANCHOR_END: log_density

// ANCHOR: entropy
/// `H = ½ln(2πe) + ln σ + ln Z + (αrα − βrβ)/2 = ½ln(2πe) + ln σ + (ln Z + c²/2) + (αrα − β(c + rβ))/2`.
fn entropy_density(t: &Truncation) -> f64 {
    HALF_LN_2PI + 0.5 + t.std.ln() + t.log_z_c + 0.5 * (t.alpha * t.r_alpha - t.beta * t.b_c)
}

/// `(∂H/∂μ, ∂H/∂σ)`. With `h(α, β) = ln Z + (αφ(α) − βφ(β))/(2Z)`, `φ′(x) = −xφ(x)` and
/// `P = αrα − βrβ`:
///
/// - `∂h/∂α = −rα + rα(1 − α²)/2 + P·rα/2 = (rα/2)(−1 − α² + P)`,
/// - `∂h/∂β = rβ − rβ(1 − β²)/2 − P·rβ/2 = (rβ/2)(1 + β² − P)`,
///
/// and `σ·∂H/∂μ = −(∂h/∂α + ∂h/∂β)`, `σ·∂H/∂σ = 1 − α·∂h/∂α − β·∂h/∂β`. The two factors are
/// where precision is lost: deep in the tail `1 + β² − P → 2/β²` is a cancellation of squares
/// near 10³⁰ in the direct form, and for a box much narrower than σ, `P` is a difference of
/// two terms of size `|β|σ/width`; [`Truncation`] computes each without the cancellation.
/// One loss remains in `σ·∂H/∂σ`, whose two terms of size β² cancel to about 2: each is
/// known to `ε·qβ²` (`q = Φ(α)/Φ(β)`), so the result to `ε·qβ⁴`, at most `4·10⁻⁶` for a mean
/// within 10⁶ of the box (reached with σ ≈ 10³), below `4·10⁻⁸` within 10⁵.
fn entropy_grads(t: &Truncation) -> [f64; 2] {
    let dh_dalpha = 0.5 * t.r_alpha * t.e_alpha;
    let dh_dbeta = 0.5 * t.r_beta * t.f_beta;
    let d_mean = -(dh_dalpha + dh_dbeta);
    let d_std = 1.0 - t.alpha * dh_dalpha - t.beta * dh_dbeta;
    [t.flip * d_mean / t.std, d_std / t.std]
}
// ANCHOR_END: entropy

// ANCHOR: sample
/// The inverse-CDF sample for one uniform draw `u`: the action `a` with
/// `Φ(z) = Φ(α) + u·(Φ(β) − Φ(α))`, always inside `[low, high]`.
///
/// - Across the mean, the target `p − ½ = ½((1 − u)·erf(α/√2) + u·erf(β/√2))` is formed
///   without subtracting anything, and inverted from the centre (Φ⁻¹ of the offset) or from
///   whichever tail it lies in (Φ⁻¹ of `p` or of `1 − p`, each a sum of positive terms).
/// - In the lower tail, the offset `y = z − β ≤ 0` from the near bound solves
///   `F(y) = ln Φ(β + y) − ln Φ(β) = ln(u + (1 − u)q)`, where `F` is written with `erfcx` as
///   in [`Truncation`]: it is concave and increasing, so Newton's method started from the
///   tangent at 0 (the exponential approximation `y₀ = ln(u + (1 − u)q)/m(β)`, which lies
///   left of the root) climbs to the root without overshooting. The action is `high + σy`, formed
///   from the bound, not from a mean that may be 10⁶ away.
fn sample_one(t: &Truncation, u: f64) -> f64 {
    // Reflected, the u-quantile is the (1 − u)-quantile (exact in f64: u is a multiple of 2⁻⁵³).
    let u = if t.flip < 0.0 { 1.0 - u } else { u };
    let a = if t.tail {
        t.high + t.std * tail_offset(t, u)
    } else {
        let (alpha, beta) = (t.alpha, t.beta);
        let delta = 0.5 * ((1.0 - u) * erf(alpha / SQRT_2) + u * erf(beta / SQRT_2));
        let z = if delta.abs() <= 0.425 {
            normal_quantile_offset(delta)
        } else if delta < 0.0 {
            normal_quantile((1.0 - u) * normal_cdf(alpha) + u * normal_cdf(beta))
        } else {
            -normal_quantile((1.0 - u) * normal_cdf(-alpha) + u * normal_cdf(-beta))
        };
        t.mean + t.std * z.clamp(alpha, beta)
    };
    // Rounding may step a hair outside the box; negation maps the reflected box onto the
    // original one exactly, and rounding to f32 keeps a value between two f32 bounds inside.
    t.flip * a.clamp(t.low, t.high)
}

// ANCHOR_END: sample

// ANCHOR: tail_offset
/// `y = z − β` in the lower tail for a uniform draw `u` (see [`sample_one`]).
fn tail_offset(t: &Truncation, u: f64) -> f64 {
    let lowest = t.alpha - t.beta;
    if u == 0.0 {
        return lowest;
    }
    // ln(u + (1 − u)q): a sum of positive terms, unless it is near 1, where the form
    // ln(1 − (1 − u)(1 − q)) keeps the digits of its logarithm.
    let rest = (1.0 - u) * t.one_minus_q;
    let target = if rest < 0.5 { (-rest).ln_1p() } else { (u + (1.0 - u) * t.q).ln() };
    let mut y = (target / t.mills_beta).max(lowest);
    for _ in 0..100 {
        let x = t.beta + y;
        let e = erfcx(-x / SQRT_2);
        let f = (e / t.erfcx_beta).ln() - 0.5 * y * (2.0 * t.beta + y) - target;
        let step = f * e / SQRT_2_OVER_PI; // f / F′(y), F′(y) = φ(x)/Φ(x)
        y = (y - step).clamp(lowest, 0.0);
        if step.is_nan() || step.abs() <= 1e-15 * y.abs() {
            break;
        }
    }
    y
}
// ANCHOR_END: tail_offset

/// Reads the bounds an operation carries in its parameters.
///
/// # Panics
/// If `low < high` does not hold (a box with no inside, or a NaN bound).
fn bounds(op: &str, params: Params) -> (f32, f32) {
    let [low, high] = params;
    assert!(low < high, "{op}: the bounds [{low}, {high}] are not an interval");
    (low, high)
}

// ANCHOR: log_prob_op
/// `y[b] = Σⱼ ln π(a[b, j]; μ[b, j], σ[b, j])` on the box `[params[0], params[1]]`: inputs
/// `μ, σ, a`, all `[batch, dims]`, output `[batch]`. The derivatives are those of
/// [`log_density_grads`]: `σ·∂/∂μ = z − E[z]`, `σ·∂/∂σ = z² − E[z²]`, `σ·∂/∂a = −z`, where
/// the expectations are over the truncated distribution, so that both scores have mean 0.
pub struct LogProb;
impl Op for LogProb {
    fn name(&self) -> &'static str {
        "truncated_normal_log_prob"
    }
    fn forward(&self, x: &[&Tensor], params: Params, out: &mut Tensor) {
        let op = "truncated_normal_log_prob (mean, std, action)";
        let (low, high) = bounds(op, params);
        let (batch, dims) = batch_dims(op, &[x[0].shape(), x[1].shape(), x[2].shape()]);
        out.reset_zeros(&[batch]);
        for (b, y) in out.data_mut().iter_mut().enumerate() {
            let row = b * dims..(b + 1) * dims;
            let [mean, std, action] = [0, 1, 2].map(|i| &x[i].data()[row.clone()]);
            *y = log_prob(mean, std, action, low, high);
        }
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let [low, high] = ctx.params;
        let [mean, std, action] = [0, 1, 2].map(|i| ctx.inputs[i].data());
        for_each_row(grad, ctx.output_grad, |row, g_row, dy| {
            let terms = mean[row.clone()].iter().zip(&std[row.clone()]).zip(&action[row]);
            for (g, ((&m, &s), &a)) in g_row.iter_mut().zip(terms) {
                let local = log_density_grads(&Truncation::new(m, s, low, high), a)[ctx.input];
                *g += (dy * local) as f32;
            }
        });
    }
}
// ANCHOR_END: log_prob_op

// ANCHOR: entropy_op
/// `y[b] = Σⱼ H(μ[b, j], σ[b, j])` on the box `[params[0], params[1]]`: inputs `μ, σ`, both
/// `[batch, dims]`, output `[batch]`, with the derivatives of [`entropy_grads`]. Unlike the
/// Normal's, this entropy depends on μ: a mean outside the box squeezes the distribution
/// against a bound, and the entropy bonus pushes the mean back in.
pub struct Entropy;
impl Op for Entropy {
    fn name(&self) -> &'static str {
        "truncated_normal_entropy"
    }
    fn forward(&self, x: &[&Tensor], params: Params, out: &mut Tensor) {
        let op = "truncated_normal_entropy (mean, std)";
        let (low, high) = bounds(op, params);
        let (batch, dims) = batch_dims(op, &[x[0].shape(), x[1].shape()]);
        out.reset_zeros(&[batch]);
        for (b, y) in out.data_mut().iter_mut().enumerate() {
            let row = b * dims..(b + 1) * dims;
            *y = entropy(&x[0].data()[row.clone()], &x[1].data()[row], low, high);
        }
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let [low, high] = ctx.params;
        let [mean, std] = [0, 1].map(|i| ctx.inputs[i].data());
        for_each_row(grad, ctx.output_grad, |row, g_row, dy| {
            let terms = mean[row.clone()].iter().zip(&std[row]);
            for (g, (&m, &s)) in g_row.iter_mut().zip(terms) {
                let local = entropy_grads(&Truncation::new(m, s, low, high))[ctx.input];
                *g += (dy * local) as f32;
            }
        });
    }
}
// ANCHOR_END: entropy_op

/// `ln π(a) = Σⱼ ln π(aⱼ; μⱼ, σⱼ)` for one sample on the box `[low, high]`. An action
/// outside the box (which no sample is) gets the formula's value, not `−∞`.
///
/// # Panics
/// If the three slices are not equally long.
pub fn log_prob(mean: &[f32], std: &[f32], action: &[f32], low: f32, high: f32) -> f32 {
    let lengths = [mean.len(), std.len(), action.len()];
    assert_same_len("truncated_normal::log_prob (mean, std, action)", &lengths);
    let terms = mean.iter().zip(std).zip(action);
    let density = |((&m, &s), &a)| log_density(&Truncation::new(m, s, low, high), a);
    terms.map(density).sum::<f64>() as f32
}

/// `H = Σⱼ H(μⱼ, σⱼ)` for one sample on the box `[low, high]`.
///
/// # Panics
/// If the two slices are not equally long.
pub fn entropy(mean: &[f32], std: &[f32], low: f32, high: f32) -> f32 {
    assert_same_len("truncated_normal::entropy (mean, std)", &[mean.len(), std.len()]);
    let terms = mean.iter().zip(std);
    terms.map(|(&m, &s)| entropy_density(&Truncation::new(m, s, low, high))).sum::<f64>() as f32
}

// ANCHOR: distribution
/// The truncated Normal on `[low, high]` (the same box for every dimension) as a
/// [`Distribution`]: parameters `[mean, std]`, each one row of `dims` values, σ > 0; the
/// sample is the action itself, always inside the box.
///
/// # Panics
/// Sampling and the tape operations panic unless `low < high`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TruncatedNormal {
    /// Action dimensions.
    pub dims: usize,
    /// The box's lower bound.
    pub low: f32,
    /// The box's upper bound, above `low`.
    pub high: f32,
}

impl Distribution for TruncatedNormal {
    fn sample_width(&self) -> usize {
        self.dims
    }
    /// One uniform draw per dimension, in order, through the inverse CDF.
    fn sample(&self, params: &[&[f32]], rng: &mut dyn Randomness, out: &mut [f32]) {
        let lengths = [params[0].len(), params[1].len(), out.len()];
        assert_same_len("truncated_normal::sample (mean, std, out)", &lengths);
        bounds("truncated_normal::sample", [self.low, self.high]);
        for ((out, &m), &s) in out.iter_mut().zip(params[0]).zip(params[1]) {
            let u = rng.uniform();
            *out = sample_one(&Truncation::new(m, s, self.low, self.high), u) as f32;
        }
    }
    /// The most likely action: the mean, clamped to the box.
    fn mode(&self, params: &[&[f32]], out: &mut [f32]) {
        for (out, &m) in out.iter_mut().zip(params[0]) {
            *out = m.clamp(self.low, self.high);
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
}
// ANCHOR_END: distribution
