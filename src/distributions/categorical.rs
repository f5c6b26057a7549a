//! The Categorical distribution: one choice among `n`, for discrete actions.
//!
//! The actor outputs one number per choice, a *logit* `ℓⱼ`, and the policy is the softmax
//! of the logits, `pⱼ = exp ℓⱼ / Σᵢ exp ℓᵢ`. Adding the same number to every logit changes
//! nothing, so every computation here first subtracts the row's largest logit: with
//! `dⱼ = ℓⱼ − max ℓ ≤ 0` no exponential can overflow, and the largest one is exactly 1, so the
//! normalizer `c = ln Σᵢ exp dᵢ` lies in `[0, ln n]` (log-sum-exp, in `f64`). Then
//!
//! - `ln pⱼ = dⱼ − c`, accurate even for logits 10⁴ apart;
//! - `H = −Σⱼ pⱼ ln pⱼ = c − Σⱼ pⱼ dⱼ`: two non-negative terms, so nothing cancels even when
//!   the distribution is nearly certain and `H` is 10⁻¹²;
//! - a sample is one uniform draw walked through the cumulative probabilities;
//! - the mode is the largest logit.
//!
//! A choice is stored as its index written as an `f32` (exact below 2²⁴), the same row of
//! one value that the environments read as an action.
//!
//! ```
//! use ppo::distributions::categorical;
//!
//! let logits = [2.0, 0.0, -1.0];
//! let p0 = categorical::log_prob(&logits, 0.0).exp();
//! assert!((p0 - 0.8438).abs() < 1e-4);
//! // Logits 10⁴ apart are no trouble: the unlikely choice has log-probability −10⁴.
//! assert_eq!(categorical::log_prob(&[1e4, 0.0], 1.0), -1e4);
//! assert_eq!(categorical::entropy(&[1e4, 0.0]), 0.0);
//! ```

use super::normal::{batch_dims, for_each_row};
use super::{Distribution, Randomness};
use crate::autodiff::{Backward, Op, Params, Tape, Var};
use crate::tensor::Tensor;

// ANCHOR: normalizer
/// One row of logits, prepared: the largest logit and the log-normalizer
/// `c = ln Σᵢ exp(ℓᵢ − max)`.
struct Softmax {
    max: f64,
    log_norm: f64,
}

impl Softmax {
    /// Prepares a row of logits, finite or −∞ (a choice that can never be made), at least one
    /// finite. The sum is `1 + rest`, the 1 being the largest term: `ln_1p(rest)` keeps
    /// `c` accurate when the other choices are 10⁻¹³ likely and `1 + rest` rounds.
    ///
    /// # Panics
    /// If the row is empty.
    fn new(logits: &[f32]) -> Softmax {
        let argmax = argmax(logits);
        let max = f64::from(logits[argmax]);
        let rest: f64 = logits
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != argmax)
            .map(|(_, &logit)| (f64::from(logit) - max).exp())
            .sum();
        Softmax { max, log_norm: rest.ln_1p() }
    }

    /// `ln pⱼ = (ℓⱼ − max) − c`, never above 0.
    #[inline]
    fn log_p(&self, logit: f32) -> f64 {
        (f64::from(logit) - self.max) - self.log_norm
    }

    /// `Σⱼ pⱼ dⱼ` with `dⱼ = ℓⱼ − max ≤ 0`: the mean logit under `p`, less the largest. A
    /// choice of probability 0 adds nothing (its `dⱼ` may be −∞, and `0·(−∞)` is NaN).
    fn mean_offset(&self, logits: &[f32]) -> f64 {
        self.mean_offset_from(logits, logits.iter().map(|&logit| self.log_p(logit).exp()))
    }

    /// [`mean_offset`](Softmax::mean_offset) given the row's probabilities.
    fn mean_offset_from(&self, logits: &[f32], probabilities: impl Iterator<Item = f64>) -> f64 {
        let mut sum = 0.0;
        for (&logit, p) in logits.iter().zip(probabilities) {
            if p > 0.0 {
                sum += p * (f64::from(logit) - self.max);
            }
        }
        sum
    }

    /// The row's probabilities `pⱼ = exp(ln pⱼ)`, into `p`, resized to the row: the
    /// gradients below read each several times.
    fn probabilities(&self, logits: &[f32], p: &mut Vec<f64>) {
        p.clear();
        p.extend(logits.iter().map(|&logit| self.log_p(logit).exp()));
    }

    /// `H = −Σⱼ pⱼ ln pⱼ = −Σⱼ pⱼ (dⱼ − c) = c − Σⱼ pⱼ dⱼ`, a sum of two terms ≥ 0.
    fn entropy(&self, logits: &[f32]) -> f64 {
        self.log_norm - self.mean_offset(logits)
    }
}
// ANCHOR_END: normalizer

/// The first index of the largest value.
///
/// # Panics
/// If `logits` is empty.
fn argmax(logits: &[f32]) -> usize {
    assert!(!logits.is_empty(), "a categorical distribution needs at least one choice");
    let mut argmax = 0;
    for (j, &logit) in logits.iter().enumerate() {
        // Strictly greater: ties go to the lowest index, so the mode is well defined.
        if logit > logits[argmax] {
            argmax = j;
        }
    }
    argmax
}

/// The index a stored choice stands for. Rounding, as the environments do, forgives a value
/// one ulp off; anything else is not a sample of this distribution, a programming error.
///
/// # Panics
/// If `choice` does not round to an index below `choices`.
fn index(choice: f32, choices: usize) -> usize {
    let i = choice.round();
    assert!(
        i >= 0.0 && (i as usize) < choices,
        "categorical: choice {choice} is not an index below {choices}"
    );
    i as usize
}

/// `ln p(a)`: the log-probability of choice `a` (its index as an `f32`) under the softmax
/// of `logits`, computed in `f64` and rounded once.
///
/// # Panics
/// If `logits` is empty or `a` is not an index into it.
pub fn log_prob(logits: &[f32], a: f32) -> f32 {
    let a = index(a, logits.len());
    Softmax::new(logits).log_p(logits[a]) as f32
}

/// `H = −Σⱼ pⱼ ln pⱼ`, between 0 (one certain choice) and `ln n` (all equally likely).
///
/// # Panics
/// If `logits` is empty.
pub fn entropy(logits: &[f32]) -> f32 {
    Softmax::new(logits).entropy(logits) as f32
}

/// The most likely choice: the first index of the largest logit (ties go to the lowest).
///
/// # Panics
/// If `logits` is empty.
pub fn mode(logits: &[f32]) -> usize {
    argmax(logits)
}

// ANCHOR: sample
/// Draws a choice with probabilities `softmax(logits)`, from one uniform draw `u ∈ [0, 1)`.
///
/// The choices divide `[0, S)`, `S = Σᵢ exp dᵢ`, into consecutive intervals of lengths
/// `exp dⱼ`; the choice is the interval that holds `t = u·S`: the first `j` whose partial sum
/// `cⱼ` exceeds `t`. Scaling the draw rather than dividing every weight by `S` makes the last
/// partial sum *equal* to `S`, computed by the same additions in the same order, and since
/// `u ≤ 1 − 2⁻⁵³`, `u·S` rounds to below `S`: the walk always stops inside the intervals. (With
/// probabilities instead, their sum may round to `1 − 2⁻⁵³` and a draw above it fall past the
/// last choice.) A choice of probability 0 has an empty interval and is never drawn. Should a
/// [`Randomness`] return 1 nonetheless, the answer is the last choice of nonzero probability,
/// whose interval the draw is at the top of.
///
/// # Panics
/// If `logits` is empty.
pub fn sample<R: Randomness + ?Sized>(logits: &[f32], rng: &mut R) -> usize {
    let top = argmax(logits);
    let weight = |logit: f32| (f64::from(logit) - f64::from(logits[top])).exp();
    // The same additions, in the same order, as the partial sums below.
    let total = logits.iter().fold(0.0, |sum, &logit| sum + weight(logit));
    let target = rng.uniform() * total;
    let (mut partial, mut last_possible) = (0.0, top);
    for (j, &logit) in logits.iter().enumerate() {
        let w = weight(logit);
        partial += w;
        if w > 0.0 {
            last_possible = j;
            if target < partial {
                return j;
            }
        }
    }
    last_possible
}
// ANCHOR_END: sample

/// Checks that the logits are `[batch, choices]` and the choices `[batch, 1]`.
fn batch_choices(op: &str, logits: &[usize], choices: &[usize]) -> (usize, usize) {
    match (logits, choices) {
        ([batch, n], [b, 1]) if batch == b => (*batch, *n),
        _ => panic!(
            "{op}: shapes {logits:?} and {choices:?} must be [batch, choices] and [batch, 1]"
        ),
    }
}

// ANCHOR: log_prob_op
/// `y[b] = ln p(a_b) = ℓ[b, a_b] − ln Σⱼ exp ℓ[b, j]`: inputs the logits `[batch, choices]`
/// and the choices `[batch, 1]`, output `[batch]`. With `p = softmax(ℓ)`,
///
/// `∂ ln p_a / ∂ℓⱼ = 1[j = a] − pⱼ`:
///
/// raising the chosen logit makes the choice likelier, raising any logit takes probability
/// from all the others in proportion to what it gains. For `j = a`, `1 − p_a` is computed as
/// `−expm1(ln p_a)`, exact to the last bit when `p_a` is within 10⁻¹³ of 1. The choice is an
/// index, constant between integers: it receives no gradient.
pub struct LogProb;
impl Op for LogProb {
    fn name(&self) -> &'static str {
        "categorical_log_prob"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        let op = "categorical_log_prob (logits, choice)";
        let (batch, n) = batch_choices(op, x[0].shape(), x[1].shape());
        out.reset_zeros(&[batch]);
        for (b, y) in out.data_mut().iter_mut().enumerate() {
            *y = log_prob(&x[0].data()[b * n..(b + 1) * n], x[1].data()[b]);
        }
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        if ctx.input != 0 {
            return;
        }
        let (logits, choices) = (ctx.inputs[0].data(), ctx.inputs[1].data());
        let mut p = Vec::new();
        for_each_row(grad, ctx.output_grad, |row, g_row, dy| {
            let b = row.start / g_row.len();
            let logits = &logits[row];
            let (softmax, a) = (Softmax::new(logits), index(choices[b], logits.len()));
            softmax.probabilities(logits, &mut p);
            add_log_prob_grad(&softmax, logits, &p, a, dy, g_row);
        });
    }
}

/// Adds `dy · ∂ ln p_a / ∂ℓ` for one row, of probabilities `p`, into `g_row`.
fn add_log_prob_grad(
    softmax: &Softmax,
    logits: &[f32],
    p: &[f64],
    a: usize,
    dy: f64,
    g_row: &mut [f32],
) {
    for (j, (g, &p)) in g_row.iter_mut().zip(p).enumerate() {
        let local = if j == a { -softmax.log_p(logits[j]).exp_m1() } else { -p };
        *g += (dy * local) as f32;
    }
}
// ANCHOR_END: log_prob_op

// ANCHOR: entropy_op
/// `y[b] = H(softmax(ℓ[b, ·]))`: input the logits `[batch, choices]`, output `[batch]`.
/// With `ln pᵢ = ℓᵢ − c`, `∂pᵢ/∂ℓⱼ = pᵢ(1[i = j] − pⱼ)` and `Σᵢ pᵢ = 1`,
///
/// `∂H/∂ℓⱼ = −Σᵢ (ln pᵢ + 1) ∂pᵢ/∂ℓⱼ = −pⱼ (ln pⱼ + H) = −pⱼ (ℓⱼ − Σᵢ pᵢ ℓᵢ)`:
///
/// the bonus lowers logits above the mean logit and raises those below it, in proportion to
/// their probability, flattening the distribution. The last form is what is computed (with
/// `dⱼ = ℓⱼ − max` in place of `ℓⱼ`, the shift cancelling): no `ln pⱼ + H` whose two terms
/// nearly cancel for a certain choice.
pub struct Entropy;
impl Op for Entropy {
    fn name(&self) -> &'static str {
        "categorical_entropy"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        let (batch, n) = batch_dims("categorical_entropy (logits)", &[x[0].shape()]);
        out.reset_zeros(&[batch]);
        for (b, y) in out.data_mut().iter_mut().enumerate() {
            *y = entropy(&x[0].data()[b * n..(b + 1) * n]);
        }
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let logits = ctx.inputs[0].data();
        let mut p = Vec::new();
        for_each_row(grad, ctx.output_grad, |row, g_row, dy| {
            // An entropy bonus of 0 (the presets' default) sends back zeros: nothing to add.
            if dy != 0.0 {
                let logits = &logits[row];
                let softmax = Softmax::new(logits);
                softmax.probabilities(logits, &mut p);
                add_entropy_grad(&softmax, logits, &p, dy, g_row);
            }
        });
    }
}

/// Adds `dy · ∂H/∂ℓ` for one row, of probabilities `p`, into `g_row`.
fn add_entropy_grad(softmax: &Softmax, logits: &[f32], p: &[f64], dy: f64, g_row: &mut [f32]) {
    let mean = softmax.mean_offset_from(logits, p.iter().copied());
    for (g, (&logit, &p)) in g_row.iter_mut().zip(logits.iter().zip(p)) {
        if p > 0.0 {
            *g -= (dy * p * (f64::from(logit) - softmax.max - mean)) as f32;
        }
    }
}
// ANCHOR_END: entropy_op

// ANCHOR: both_op
/// The policy loss needs both `ln p(a_b)` and `H_b` of the same logits, and each of
/// [`LogProb`] and [`Entropy`] prepares every row's [`Softmax`] (an `exp` and an `ln_1p` in
/// `f64` per row) in its forward and again in its backward: four preparations a row. This
/// operation computes both, with one preparation a row forward and one backward, and the
/// same bits: the same functions on the same row, the entropy's gradient added before the
/// log-probability's, as the tape, going backward, ran the two operations. Inputs as
/// [`LogProb`]'s; output `[2, batch]`, the log-probabilities in row 0 and the entropies in
/// row 1, which [`log_prob_and_entropy_on_tape`] hands on as two `[batch]` nodes.
pub struct LogProbAndEntropy;
impl Op for LogProbAndEntropy {
    fn name(&self) -> &'static str {
        "categorical_log_prob_and_entropy"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        let op = "categorical_log_prob_and_entropy (logits, choice)";
        let (batch, n) = batch_choices(op, x[0].shape(), x[1].shape());
        out.reset_zeros(&[2, batch]);
        let (log_probs, entropies) = out.data_mut().split_at_mut(batch);
        for (b, (log_prob, entropy)) in log_probs.iter_mut().zip(entropies).enumerate() {
            let logits = &x[0].data()[b * n..(b + 1) * n];
            let softmax = Softmax::new(logits);
            *log_prob = softmax.log_p(logits[index(x[1].data()[b], n)]) as f32;
            *entropy = softmax.entropy(logits) as f32;
        }
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        if ctx.input != 0 {
            return;
        }
        let (logits, choices) = (ctx.inputs[0].data(), ctx.inputs[1].data());
        let (d_log_probs, d_entropies) = ctx.output_grad.data().split_at(choices.len());
        let n = grad.dims2().1;
        if n == 0 {
            return;
        }
        let rows = grad.data_mut().chunks_exact_mut(n).zip(logits.chunks_exact(n));
        let mut p = Vec::with_capacity(n);
        for (b, (g_row, logits)) in rows.enumerate() {
            let softmax = Softmax::new(logits);
            softmax.probabilities(logits, &mut p);
            let d_entropy = f64::from(d_entropies[b]);
            if d_entropy != 0.0 {
                add_entropy_grad(&softmax, logits, &p, d_entropy, g_row);
            }
            let a = index(choices[b], n);
            add_log_prob_grad(&softmax, logits, &p, a, f64::from(d_log_probs[b]), g_row);
        }
    }
}

/// Row `row` of a `[rows, batch]` input, as a `[batch]` output.
struct RowOf {
    row: usize,
}
impl Op for RowOf {
    fn name(&self) -> &'static str {
        "row_of"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        let batch = x[0].dims2().1;
        out.reset_zeros(&[batch]);
        out.data_mut().copy_from_slice(&x[0].data()[self.row * batch..(self.row + 1) * batch]);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let batch = ctx.output_grad.len();
        let row = &mut grad.data_mut()[self.row * batch..(self.row + 1) * batch];
        for (g, &dy) in row.iter_mut().zip(ctx.output_grad.data()) {
            *g += dy;
        }
    }
}
// ANCHOR_END: both_op

/// Records `ln p(choice)` for a batch on the tape: `logits: [batch, choices]`,
/// `choices: [batch, 1]` (indices as `f32`), result `[batch]`.
///
/// # Panics
/// If the shapes do not fit or a choice is not an index into its row.
pub fn log_prob_on_tape(tape: &mut Tape, logits: Var, choices: Var) -> Var {
    tape.apply(&LogProb, &[logits, choices], [0.0; 2])
}

/// Records the entropy for a batch on the tape: `logits: [batch, choices]` to `[batch]`.
///
/// # Panics
/// If `logits` is not 2-D.
pub fn entropy_on_tape(tape: &mut Tape, logits: Var) -> Var {
    tape.apply(&Entropy, &[logits], [0.0; 2])
}

/// Records `(ln p(choice), H)` for a batch on the tape, as [`log_prob_on_tape`] and
/// [`entropy_on_tape`] would, in half their work: `logits: [batch, choices]`,
/// `choices: [batch, 1]`, two results `[batch]`.
///
/// # Panics
/// If the shapes do not fit or a choice is not an index into its row.
pub fn log_prob_and_entropy_on_tape(tape: &mut Tape, logits: Var, choices: Var) -> (Var, Var) {
    let both = tape.apply(&LogProbAndEntropy, &[logits, choices], [0.0; 2]);
    let log_probs = tape.apply(&RowOf { row: 0 }, &[both], [0.0; 2]);
    let entropies = tape.apply(&RowOf { row: 1 }, &[both], [0.0; 2]);
    (log_probs, entropies)
}

// ANCHOR: categorical_distribution
/// The Categorical as a [`Distribution`]: parameters `[logits]`, one row of `choices`
/// values; the sample is the choice's index as one `f32`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Categorical {
    /// How many choices there are.
    pub choices: usize,
}

impl Distribution for Categorical {
    fn sample_width(&self) -> usize {
        1
    }
    fn sample(&self, params: &[&[f32]], rng: &mut dyn Randomness, out: &mut [f32]) {
        out[0] = sample(params[0], rng) as f32;
    }
    /// The most likely choice (the lowest of those tied).
    fn mode(&self, params: &[&[f32]], out: &mut [f32]) {
        out[0] = mode(params[0]) as f32;
    }
    fn log_prob(&self, params: &[&[f32]], sample: &[f32]) -> f32 {
        log_prob(params[0], sample[0])
    }
    fn entropy(&self, params: &[&[f32]]) -> f32 {
        entropy(params[0])
    }
    fn log_prob_on_tape(&self, tape: &mut Tape, params: &[Var], sample: Var) -> Var {
        log_prob_on_tape(tape, params[0], sample)
    }
    fn entropy_on_tape(&self, tape: &mut Tape, params: &[Var]) -> Var {
        entropy_on_tape(tape, params[0])
    }
    fn log_prob_and_entropy_on_tape(
        &self,
        tape: &mut Tape,
        params: &[Var],
        sample: Var,
    ) -> (Var, Var) {
        log_prob_and_entropy_on_tape(tape, params[0], sample)
    }
}
// ANCHOR_END: categorical_distribution
