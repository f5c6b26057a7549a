//! The tanh-transformed Normal: a Normal squashed into the action bounds.
//!
//! The policy draws `z ~ N(μ, σ²)` per action dimension, as the Normal does, and acts
//! `a = scale·tanh(z)`, always inside `(−scale, scale)`: no action is clipped by the
//! environment, so the action taken is the action whose probability the policy knows.
//!
//! **The density** follows by the change of variables `a = scale·tanh(z)`, whose derivative
//! is `scale·(1 − tanh² z)`:
//! `ln π(a) = ln N(z; μ, σ) − Σⱼ [ln scale + ln(1 − tanh² zⱼ)]`.
//! In `f32`, `1 − tanh² z` is 0 from `|z| ≈ 9` on, and its logarithm −∞; the identity
//! `ln(1 − tanh² z) = 2(ln 2 − |z| − softplus(−2|z|))` has no cancellation anywhere
//! ([`log_one_minus_tanh_squared`]).
//!
//! **The rollout buffer stores z, not a.** `tanh` rounds to ±1 in `f32` from `|z| ≈ 9`, and
//! recovering `z = atanh(a/scale)` from a stored action would then give ±∞; even before
//! that, each ulp of `a` near the bound is a large step in `z`. From the stored `z` the
//! log-probability is exact and finite for every sample, and the action is one `tanh` away
//! ([`Distribution::to_action`]).
//!
//! **The entropy** `H = E[−ln π(a)] = H(N(μ, σ)) + Σⱼ (ln scale + E[ln(1 − tanh² zⱼ)])` has
//! no closed form. The expectation is estimated by Gauss–Hermite quadrature with fixed
//! points ([`RULES`]: 8 to 64, the fewer the smaller σ), applied in z while σ is small and to
//! the expectation's Fourier form (Parseval) while σ is large ([`Quadrature`]): deterministic (the same inputs
//! give the same entropy), smooth in μ and σ, differentiated by hand, and within 10⁻⁹ of a
//! 30-digit reference for σ from 10⁻⁴ to 1000 (`tests/tanh_normal.rs`).
//!
//! ```
//! use ppo::distributions::tanh_normal;
//!
//! // z = 20 is far past where f32's tanh reaches 1, yet its log-probability is finite.
//! let (mean, std) = ([19.0], [1.0]);
//! let log_pi = tanh_normal::log_prob(&mean, &std, &[20.0], 2.0);
//! assert!((log_pi - 36.5016).abs() < 1e-4);
//! let mut action = [0.0];
//! tanh_normal::to_action(&[20.0], 2.0, &mut action);
//! assert_eq!(action, [2.0]);
//! ```

use super::normal::{self, assert_same_len, batch_dims, entropy_density, for_each_row};
use super::{Distribution, Randomness};
use crate::autodiff::{Backward, Op, Params, Tape, Var};
use crate::tensor::Tensor;
use std::f64::consts::{LN_2, PI, SQRT_2};
use std::sync::OnceLock;

// ANCHOR: log_det
/// `ln(1 − tanh² z) = ln sech² z`, computed as `2(ln 2 − |z| − softplus(−2|z|))`: from
/// `sech z = 2/(e^z + e^−z) = 2e^−|z| / (1 + e^−2|z|)`. Every term is exact or well
/// conditioned (`softplus(−2|z|) = ln_1p(e^−2|z|)` of an argument in (0, 1]), for any finite
/// `z`. Its derivative is `−2 tanh z`.
#[inline]
pub fn log_one_minus_tanh_squared(z: f64) -> f64 {
    let z = z.abs();
    2.0 * (LN_2 - z - (-2.0 * z).exp().ln_1p())
}
// ANCHOR_END: log_det

/// The environment's action for a stored `z`: `action = scale·tanh(z)`, in `f64` and rounded
/// once (it reaches ±scale exactly for `|z|` beyond about 9).
///
/// # Panics
/// If the slices differ in length.
pub fn to_action(z: &[f32], scale: f32, action: &mut [f32]) {
    assert_same_len("tanh_normal::to_action (z, action)", &[z.len(), action.len()]);
    for (a, &z) in action.iter_mut().zip(z) {
        *a = (f64::from(scale) * f64::from(z).tanh()) as f32;
    }
}

// ANCHOR: log_prob
/// `ln π(a)` for the action `a = scale·tanh(z)`, from the stored `z`:
/// `Σⱼ [ln N(zⱼ; μⱼ, σⱼ) − ln scale − ln(1 − tanh² zⱼ)]`, in `f64`, rounded once.
///
/// # Panics
/// If the three slices differ in length.
pub fn log_prob(mean: &[f32], std: &[f32], z: &[f32], scale: f32) -> f32 {
    assert_same_len("tanh_normal::log_prob (mean, std, z)", &[mean.len(), std.len(), z.len()]);
    let ln_scale = f64::from(scale).ln();
    let terms = mean.iter().zip(std).zip(z);
    let per_dim = |((&m, &s), &z): ((&f32, &f32), &f32)| {
        normal::log_density(m, s, z) - ln_scale - log_one_minus_tanh_squared(f64::from(z))
    };
    terms.map(per_dim).sum::<f64>() as f32
}
// ANCHOR_END: log_prob

// ANCHOR: gauss_hermite
/// The `n`-point Gauss–Hermite rule: nodes `xᵢ` (ascending) and weights `wᵢ` with
/// `∫ e^(−x²) g(x) dx ≈ Σᵢ wᵢ g(xᵢ)`, exact for polynomials `g` of degree below `2n`.
///
/// The nodes are the roots of the Hermite polynomial `Hₙ`, which are the eigenvalues of its
/// Jacobi matrix (zero diagonal, off-diagonal `√(k/2)`). Each is found by bisection on a
/// Sturm count (how many eigenvalues lie below `x`), to the last bit, without needing a good
/// first guess. The weight is `wᵢ = 1 / (n·p̃ₙ₋₁(xᵢ)²)`, with `p̃` the orthonormal Hermite
/// polynomials, evaluated by their three-term recurrence (no factorials to overflow). The
/// rule is made exactly symmetric.
///
/// # Panics
/// If `n` is 0.
pub fn gauss_hermite(n: usize) -> Vec<(f64, f64)> {
    assert!(n > 0, "a quadrature rule needs at least one node");
    // Eigenvalues of T below x: the negative pivots of the LDLᵀ factorization of T − x·I.
    let count_below = |x: f64| {
        let (mut pivot, mut count) = (-x, usize::from(-x < 0.0));
        for k in 1..n {
            // A zero pivot is moved off zero by a relative nothing: the count is unchanged.
            let previous = if pivot == 0.0 { f64::MIN_POSITIVE } else { pivot };
            pivot = -x - (k as f64 / 2.0) / previous;
            count += usize::from(pivot < 0.0);
        }
        count
    };
    // All roots of Hₙ lie within ±√(2n + 1).
    let bound = (2.0 * n as f64 + 1.0).sqrt();
    let mut rule = vec![(0.0, 0.0); n];
    for i in n / 2..n {
        let (mut low, mut high) = (-bound, bound);
        loop {
            let mid = 0.5 * (low + high);
            if mid <= low || mid >= high {
                break;
            }
            if count_below(mid) > i { high = mid } else { low = mid }
        }
        // The root of an odd-degree polynomial at 0 is exactly 0.
        let x = if 2 * i + 1 == n { 0.0 } else { 0.5 * (low + high) };
        let weight = 1.0 / (n as f64 * orthonormal_hermite(n - 1, x).powi(2));
        rule[n - 1 - i] = (-x, weight);
        rule[i] = (x, weight);
    }
    rule
}

/// `p̃ₖ(x)`, orthonormal for the weight `e^(−x²)`: `p̃₀ = π^(−1/4)`,
/// `p̃ⱼ = x·√(2/j)·p̃ⱼ₋₁ − √((j − 1)/j)·p̃ⱼ₋₂`.
fn orthonormal_hermite(k: usize, x: f64) -> f64 {
    let (mut previous, mut current) = (0.0, PI.powf(-0.25));
    for j in 1..=k {
        let j = j as f64;
        let next = x * (2.0 / j).sqrt() * current - ((j - 1.0) / j).sqrt() * previous;
        (previous, current) = (current, next);
    }
    current
}
// ANCHOR_END: gauss_hermite

/// `E[ln(1 − tanh² z)]` for `z ~ N(μ, σ²)`, and its derivatives, by Gauss–Hermite rules
/// applied to one of two exact forms of the same expectation (see the book for both):
///
/// - **in z**, `E[f(μ + σε)]` with `f(z) = ln(1 − tanh² z)`: accurate while σ is small
///   enough for the rule's points to resolve the bend of `f` near `z = 0` (about one unit
///   wide), or that bend lies far in the tail (`|μ| > 6σ`). The error grows with σ and falls
///   with the number of points, so each band of σ has the fewest points that keep it below
///   10⁻⁹ ([`RULES`]);
/// - **in frequency**, by Parseval's theorem: with `ŝ(k) = πk / sinh(πk/2)`, the Fourier
///   transform of `sech² = −½f''`,
///   `E[f] = 2 ln 2 − 2σ√(2/π) + E[F(ε/σ)] / (σ√(2π))`,
///   `F(k) = (2ŝ(k) cos(μk) − 4)/k²`: the frequency is a Normal of width `1/σ`, and `F` is
///   smooth on the scale of 1, so the rule is accurate when σ is large (above the last band).
pub struct Quadrature {
    /// For the form in z: (largest σ, rule) by increasing σ, each rule as standard-normal
    /// points `εᵢ = √2·xᵢ` and weights `wᵢ/√π`, so that `E[g(ε)] ≈ Σᵢ wᵢ g(εᵢ)`.
    in_z: Vec<(f64, Vec<(f64, f64)>)>,
    /// For the frequency form, whose integrand is even: the positive points of the largest
    /// rule, with doubled weights.
    in_frequency: Vec<(f64, f64)>,
}

/// The rules in z by band of σ, `(largest σ, points)`: the fewest points whose error in value
/// and derivatives stays below 10⁻⁹ in the band, measured against a 30-digit reference (the
/// book has the table). Above the last band the frequency form takes over, with the largest
/// rule.
pub const RULES: [(f64, usize); 4] = [(0.2, 8), (0.4, 16), (0.6, 32), (1.2, 64)];

/// A point whose weight is below this adds less than 10⁻¹⁶ of the expectation: it is left
/// out (of 64 points, 20).
const NEGLIGIBLE_WEIGHT: f64 = 1e-18;

/// One rule for standard-normal expectations, without its negligible points.
fn standard_normal_rule(nodes: usize) -> Vec<(f64, f64)> {
    let rule = gauss_hermite(nodes).into_iter().map(|(x, w)| (x * SQRT_2, w / PI.sqrt()));
    rule.filter(|&(_, w)| w >= NEGLIGIBLE_WEIGHT).collect()
}

impl Quadrature {
    /// The crate's rules, [`RULES`].
    pub fn new() -> Quadrature {
        Quadrature::from_bands(&RULES)
    }

    /// One rule of `nodes` points for every σ, for measuring what the number of points buys.
    ///
    /// # Panics
    /// If `nodes` is 0.
    pub fn with_nodes(nodes: usize) -> Quadrature {
        Quadrature::from_bands(&[(RULES[RULES.len() - 1].0, nodes)])
    }

    /// One rule of `nodes` points, in z only, for every σ: what the frequency form is for.
    ///
    /// # Panics
    /// If `nodes` is 0.
    pub fn in_z_only(nodes: usize) -> Quadrature {
        Quadrature::from_bands(&[(f64::INFINITY, nodes)])
    }

    fn from_bands(bands: &[(f64, usize)]) -> Quadrature {
        let in_z = bands.iter().map(|&(std, nodes)| (std, standard_normal_rule(nodes))).collect();
        let largest = bands.iter().map(|band| band.1).max().expect("at least one band");
        // F(−k) = F(k): each positive point stands for its mirror image too.
        let in_frequency = standard_normal_rule(largest).into_iter().filter(|&(e, _)| e >= 0.0);
        let in_frequency = in_frequency.map(|(e, w)| (e, if e > 0.0 { 2.0 * w } else { w }));
        Quadrature { in_z, in_frequency: in_frequency.collect() }
    }

    // ANCHOR: expectation
    /// The rule for the form in z at this σ, or `None` where the frequency form is the
    /// accurate one.
    fn rule_in_z(&self, mean: f64, std: f64) -> Option<&[(f64, f64)]> {
        let (last_std, last_rule) = self.in_z.last().expect("at least one band");
        if std > *last_std {
            // Beyond the bands the bend of f can only be resolved far in the tail.
            return (mean.abs() >= 6.0 * std).then_some(last_rule.as_slice());
        }
        self.in_z.iter().find(|band| std <= band.0).map(|band| band.1.as_slice())
    }

    /// `E[ln(1 − tanh² z)]`, `z ~ N(mean, std²)`.
    pub fn expected_log_det(&self, mean: f64, std: f64) -> f64 {
        match self.rule_in_z(mean, std) {
            Some(rule) => {
                rule.iter().map(|&(e, w)| w * log_one_minus_tanh_squared(mean + std * e)).sum()
            }
            None => {
                let terms =
                    self.in_frequency.iter().map(|&(e, w)| w * frequency_integrand(mean, e / std));
                let sum: f64 = terms.sum();
                2.0 * LN_2 - 2.0 * std * (2.0 / PI).sqrt() + sum / (std * (2.0 * PI).sqrt())
            }
        }
    }

    /// `∂/∂μ` and `∂/∂σ` of [`Quadrature::expected_log_det`]. In z, the rule applied to the
    /// integrand's derivative `−2 tanh z` times `∂z/∂μ = 1` and `∂z/∂σ = εᵢ`: the exact
    /// derivative of the estimate. In frequency, the rule applied to the transforms of
    /// `∂/∂μ = −2 E[tanh z]` and (Stein's lemma) `∂/∂σ = σ E[f''(z)] = −2σ E[sech² z]`,
    /// which agree with the estimate's derivative to within its error.
    pub fn expected_log_det_grad(&self, mean: f64, std: f64) -> (f64, f64) {
        let mut grad = (0.0, 0.0);
        match self.rule_in_z(mean, std) {
            Some(rule) => {
                for &(e, w) in rule {
                    let slope = -2.0 * w * tanh(mean + std * e);
                    grad = (grad.0 + slope, grad.1 + slope * e);
                }
                grad
            }
            None => {
                for &(e, w) in &self.in_frequency {
                    let k = e / std;
                    // ŝ(k) = 2·r(πk/2) with r(x) = x/sinh x: no cancellation anywhere.
                    let r = x_over_sinh(0.5 * PI * k);
                    let d_mean = -4.0 * mean * r * sinc(mean * k);
                    let d_std = -4.0 * std * r * (mean * k).cos();
                    grad = (grad.0 + w * d_mean, grad.1 + w * d_std);
                }
                let norm = 1.0 / (std * (2.0 * PI).sqrt());
                (grad.0 * norm, grad.1 * norm)
            }
        }
    }
    // ANCHOR_END: expectation
}

impl Default for Quadrature {
    fn default() -> Self {
        Quadrature::new()
    }
}

/// `tanh z` from one exponential, `(1 − e^−2|z|)/(1 + e^−2|z|)` with the sign of z: the same
/// `e^−2|z|` that [`log_one_minus_tanh_squared`] needs, and cheaper than `f64::tanh`.
#[inline]
fn tanh(z: f64) -> f64 {
    let t = (-2.0 * z.abs()).exp();
    ((1.0 - t) / (1.0 + t)).copysign(z)
}

// ANCHOR: frequency_integrand
/// `F(k) = (2ŝ(k) cos(μk) − 4)/k²`, written so that nothing cancels as `k → 0` (σ large):
/// `F = π² q(πk/2) cos(μk) − 2μ² sinc²(μk/2)`, with `q(x) = (x/sinh x − 1)/x²`.
fn frequency_integrand(mean: f64, k: f64) -> f64 {
    let x = 0.5 * PI * k;
    // q by its series where x/sinh x − 1 would lose more than 10⁻¹¹ to cancellation; the
    // first term left out, 127x⁶/604800, is below 10⁻¹⁶ of q there.
    let q = if x.abs() < 1e-2 {
        let x2 = x * x;
        -1.0 / 6.0 + x2 * (7.0 / 360.0 - x2 * 31.0 / 15120.0)
    } else {
        (x_over_sinh(x) - 1.0) / (x * x)
    };
    PI * PI * q * (mean * k).cos() - 2.0 * (mean * sinc(0.5 * mean * k)).powi(2)
}
// ANCHOR_END: frequency_integrand

/// `x / sinh x`, 1 at 0.
fn x_over_sinh(x: f64) -> f64 {
    if x == 0.0 { 1.0 } else { x / x.sinh() }
}

/// `sin x / x`, 1 at 0.
fn sinc(x: f64) -> f64 {
    if x == 0.0 { 1.0 } else { x.sin() / x }
}

/// The entropy's rule, computed once.
fn quadrature() -> &'static Quadrature {
    static RULES: OnceLock<Quadrature> = OnceLock::new();
    RULES.get_or_init(Quadrature::new)
}

/// The entropy of the action `a = scale·tanh(z)`, `z ~ N(μ, σ²)` per dimension:
/// `Σⱼ [½ + ½ln(2π) + ln σⱼ + ln scale + E[ln(1 − tanh² zⱼ)]]`, the expectation by
/// Gauss–Hermite quadrature. It can be very negative: a distribution piled against the
/// bounds has almost no width.
///
/// # Panics
/// If `mean` and `std` differ in length.
pub fn entropy(mean: &[f32], std: &[f32], scale: f32) -> f32 {
    assert_same_len("tanh_normal::entropy (mean, std)", &[mean.len(), std.len()]);
    let ln_scale = f64::from(scale).ln();
    let per_dim = |(&m, &s): (&f32, &f32)| {
        let log_det = quadrature().expected_log_det(f64::from(m), f64::from(s));
        entropy_density(s) + ln_scale + log_det
    };
    mean.iter().zip(std).map(per_dim).sum::<f64>() as f32
}

// ANCHOR: log_prob_op
/// `y[b] = Σⱼ ln π(a[b, j])` with `a = scale·tanh(z)`: inputs `μ, σ, z`, all
/// `[batch, dims]`, parameter `scale`, output `[batch]`. The correction
/// `−ln scale − ln(1 − tanh² z)` depends on `z` alone, so the derivatives in μ and σ are the
/// Normal's, `z̃/σ` and `(z̃² − 1)/σ` with `z̃ = (z − μ)/σ`; in `z`, the correction adds
/// `+2 tanh z` to the Normal's `−z̃/σ`. (In PPO's ratio the correction cancels: it is the
/// same for the old and the new policy.)
pub struct LogProb;
impl Op for LogProb {
    fn name(&self) -> &'static str {
        "tanh_normal_log_prob"
    }
    fn forward(&self, x: &[&Tensor], params: Params, out: &mut Tensor) {
        let (batch, dims) = batch_dims(
            "tanh_normal_log_prob (mean, std, z)",
            &[x[0].shape(), x[1].shape(), x[2].shape()],
        );
        out.reset_zeros(&[batch]);
        for (b, y) in out.data_mut().iter_mut().enumerate() {
            let row = b * dims..(b + 1) * dims;
            let [mean, std, z] = [0, 1, 2].map(|i| &x[i].data()[row.clone()]);
            *y = log_prob(mean, std, z, params[0]);
        }
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        if ctx.input < 2 {
            return normal::LogProb.backward(ctx, grad);
        }
        let [mean, std, z] = [0, 1, 2].map(|i| ctx.inputs[i].data());
        for_each_row(grad, ctx.output_grad, |row, g_row, dy| {
            let terms = mean[row.clone()].iter().zip(&std[row.clone()]).zip(&z[row]);
            for (g, ((&m, &s), &z)) in g_row.iter_mut().zip(terms) {
                let (s, z) = (f64::from(s), f64::from(z));
                // −(z − μ)/σ² + 2 tanh z, with 2 tanh z = 2·sign − 2·sign·(1 − |tanh z|):
                // the two large terms meet first, then the small one, 1 − |tanh z| =
                // 2/(1 + e^2|z|), is added, so the sum is accurate where it nearly cancels.
                let sign = z.signum();
                let large = -((z - f64::from(m)) / s) / s + 2.0 * sign;
                let local = large - 2.0 * sign * (2.0 / (1.0 + (2.0 * z.abs()).exp()));
                *g += (dy * local) as f32;
            }
        });
    }
}
// ANCHOR_END: log_prob_op

// ANCHOR: entropy_op
/// `y[b] = H` of row `b`: inputs `μ, σ`, both `[batch, dims]`, parameter `scale`, output
/// `[batch]`. Differentiating the quadrature under the sum, with `zᵢ = μ + σεᵢ`:
///
/// - `∂H/∂μ = Σᵢ wᵢ (−2 tanh zᵢ)`: moving the centre towards a bound lowers the entropy;
/// - `∂H/∂σ = 1/σ + Σᵢ wᵢ (−2 tanh zᵢ) εᵢ`: the Normal's `1/σ`, less what widening
///   piles against the bounds (for a large σ the second term wins, and the entropy *falls*
///   as σ grows).
pub struct Entropy;
impl Op for Entropy {
    fn name(&self) -> &'static str {
        "tanh_normal_entropy"
    }
    fn forward(&self, x: &[&Tensor], params: Params, out: &mut Tensor) {
        let (batch, dims) =
            batch_dims("tanh_normal_entropy (mean, std)", &[x[0].shape(), x[1].shape()]);
        out.reset_zeros(&[batch]);
        for (b, y) in out.data_mut().iter_mut().enumerate() {
            let row = b * dims..(b + 1) * dims;
            *y = entropy(&x[0].data()[row.clone()], &x[1].data()[row], params[0]);
        }
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let [mean, std] = [0, 1].map(|i| ctx.inputs[i].data());
        for_each_row(grad, ctx.output_grad, |row, g_row, dy| {
            // An entropy bonus of 0 (the presets' default) sends back zeros: skip the rule.
            if dy == 0.0 {
                return;
            }
            for (g, (&m, &s)) in g_row.iter_mut().zip(mean[row.clone()].iter().zip(&std[row])) {
                let (d_mean, d_std) =
                    quadrature().expected_log_det_grad(f64::from(m), f64::from(s));
                let local = if ctx.input == 0 { d_mean } else { 1.0 / f64::from(s) + d_std };
                *g += (dy * local) as f32;
            }
        });
    }
}
// ANCHOR_END: entropy_op

/// Records `ln π(a)` for a batch on the tape, from the stored `z`: `mean`, `std` and `z` are
/// `[batch, dims]`, the result `[batch]`.
///
/// # Panics
/// If the three shapes differ or are not 2-D; the message names them.
pub fn log_prob_on_tape(tape: &mut Tape, mean: Var, std: Var, z: Var, scale: f32) -> Var {
    tape.apply(&LogProb, &[mean, std, z], [scale, 0.0])
}

/// Records the entropy for a batch on the tape: `mean`, `std` `[batch, dims]` to `[batch]`.
///
/// # Panics
/// If the shapes differ or are not 2-D.
pub fn entropy_on_tape(tape: &mut Tape, mean: Var, std: Var, scale: f32) -> Var {
    tape.apply(&Entropy, &[mean, std], [scale, 0.0])
}

// ANCHOR: tanh_normal_distribution
/// The tanh-Normal as a [`Distribution`]: parameters `[mean, std]` of `z`, each one row of
/// `dims` values; the sample is `z`, the action `scale·tanh(z)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TanhNormal {
    /// Action dimensions.
    pub dims: usize,
    /// The action bound: actions lie in `(−scale, scale)` in every dimension.
    pub scale: f32,
}

impl Distribution for TanhNormal {
    fn sample_width(&self) -> usize {
        self.dims
    }
    fn sample(&self, params: &[&[f32]], rng: &mut dyn Randomness, z: &mut [f32]) {
        normal::sample(params[0], params[1], rng, z);
    }
    /// `z = μ`. Since `tanh` is increasing, `scale·tanh(μ)` is the *median* action of each
    /// dimension; the most likely action is not a good centre here (for a large σ the density
    /// of `a` peaks at the bounds).
    fn mode(&self, params: &[&[f32]], z: &mut [f32]) {
        z.copy_from_slice(params[0]);
    }
    fn log_prob(&self, params: &[&[f32]], z: &[f32]) -> f32 {
        log_prob(params[0], params[1], z, self.scale)
    }
    fn entropy(&self, params: &[&[f32]]) -> f32 {
        entropy(params[0], params[1], self.scale)
    }
    fn log_prob_on_tape(&self, tape: &mut Tape, params: &[Var], z: Var) -> Var {
        log_prob_on_tape(tape, params[0], params[1], z, self.scale)
    }
    fn entropy_on_tape(&self, tape: &mut Tape, params: &[Var]) -> Var {
        entropy_on_tape(tape, params[0], params[1], self.scale)
    }
    fn to_action(&self, z: &[f32], action: &mut [f32]) {
        to_action(z, self.scale, action);
    }
}
// ANCHOR_END: tanh_normal_distribution
