//! Chapter 9: the objective.
//!
//! PPO improves the policy by maximizing a *surrogate*: the advantage weighted by the
//! probability ratio between the new policy and the one that collected the data, with the
//! ratio clipped so that no single update can move the policy far. The critic is fitted to
//! the returns by mean squared error. Everything here is built from the tape's operations,
//! so the gradients come from chapter 2 and need no new backward rules.
//!
//! The diagnostics PPO practitioners watch (approximate KL, clip fraction, entropy) are
//! computed alongside, from values the loss already holds.

use crate::autodiff::{Tape, Var};

// ANCHOR: surrogate
/// The clipped surrogate loss and the ratio it was computed from.
#[derive(Clone, Copy, Debug)]
pub struct Surrogate {
    /// `−mean(min(r·A, clip(r, 1−ε, 1+ε)·A))`, a scalar to minimize.
    pub loss: Var,
    /// `r = exp(log π_new − log π_old)` for every sample, `[batch]`.
    pub ratio: Var,
    /// `log π_new − log π_old` for every sample, `[batch]`: the diagnostics read it rather
    /// than the ratio, which underflows to 0 once the log-ratio is below about −104.
    pub log_ratio: Var,
}

/// The clipped surrogate objective of PPO, negated to be a loss:
///
/// ```text
/// r_t = exp(log π_new(a_t|s_t) − log π_old(a_t|s_t))
/// L   = −mean_t min(r_t·A_t, clip(r_t, 1 − ε, 1 + ε)·A_t)
/// ```
///
/// `new_log_prob` carries the gradient; `old_log_prob` and `advantages` are constants.
/// Taking the minimum makes the objective a pessimistic bound: where the ratio has moved
/// past `1 ± ε` in the direction the advantage rewards, the clipped term is the smaller one
/// and its gradient is zero, so the update stops pushing.
///
/// # Panics
/// If the three inputs do not share one shape.
pub fn clipped_surrogate(
    tape: &mut Tape,
    new_log_prob: Var,
    old_log_prob: Var,
    advantages: Var,
    clip_epsilon: f32,
) -> Surrogate {
    let log_ratio = tape.sub(new_log_prob, old_log_prob);
    let ratio = tape.exp(log_ratio);
    let unclipped = tape.mul(ratio, advantages);
    let clipped_ratio = tape.clamp(ratio, 1.0 - clip_epsilon, 1.0 + clip_epsilon);
    let clipped = tape.mul(clipped_ratio, advantages);
    let pessimistic = tape.minimum(unclipped, clipped);
    let objective = tape.mean(pessimistic);
    Surrogate { loss: tape.neg(objective), ratio, log_ratio }
}
// ANCHOR_END: surrogate

// ANCHOR: objective
/// What the actor maximizes, from the probability ratio `r` and the advantage `Â` of each
/// sample. The clipped surrogate is PPO's; the others are the variants the book measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objective {
    /// `E[min(r·Â, clip(r, 1 − ε, 1 + ε)·Â)]`: flat once the ratio has moved past `1 ± ε` in
    /// the direction the advantage rewards (chapter 9).
    Clipped,
    /// Simple Policy Optimization (Xie et al., 2024): `E[r·Â − |Â|·(r − 1)²/(2ε)]`. A
    /// quadratic penalty in place of the clip: its gradient in `r` is `Â − |Â|(r − 1)/ε`,
    /// which pulls the ratio back toward `1 ± ε` instead of going to zero there.
    Spo,
    /// `E[r·Â] − β·KL(π_old, π)`, the PPO paper's penalty, with the KL estimated per sample as
    /// `(r − 1) − ln r` (never negative; its expected gradient is the KL's).
    KlPenalty,
    /// `E[r·Â]` alone: no clip and no penalty, the ablation that shows why PPO has them.
    Unclipped,
}
// ANCHOR_END: objective

// ANCHOR: policy_objective
/// The policy objective `objective`, negated to be a loss, from the same inputs as
/// [`clipped_surrogate`]; `kl_coef` is the penalty's β (read by [`Objective::KlPenalty`] only).
///
/// # Panics
/// If the three inputs do not share one shape.
pub fn policy_objective(
    tape: &mut Tape,
    objective: Objective,
    new_log_prob: Var,
    old_log_prob: Var,
    advantages: Var,
    clip_epsilon: f32,
    kl_coef: f32,
) -> Surrogate {
    if objective == Objective::Clipped {
        return clipped_surrogate(tape, new_log_prob, old_log_prob, advantages, clip_epsilon);
    }
    let log_ratio = tape.sub(new_log_prob, old_log_prob);
    let ratio = tape.exp(log_ratio);
    let weighted = tape.mul(ratio, advantages);
    let per_sample = match objective {
        // ANCHOR: spo
        Objective::Spo => {
            let moved = tape.add_scalar(ratio, -1.0);
            let squared = tape.square(moved);
            let size = tape.abs(advantages);
            let penalty = tape.mul(size, squared);
            let penalty = tape.mul_scalar(penalty, 1.0 / (2.0 * clip_epsilon));
            tape.sub(weighted, penalty)
        }
        // ANCHOR_END: spo
        // ANCHOR: kl_penalty
        Objective::KlPenalty => {
            let moved = tape.add_scalar(ratio, -1.0);
            let kl = tape.sub(moved, log_ratio);
            let penalty = tape.mul_scalar(kl, kl_coef);
            tape.sub(weighted, penalty)
        }
        // ANCHOR_END: kl_penalty
        Objective::Unclipped | Objective::Clipped => weighted,
    };
    let objective = tape.mean(per_sample);
    Surrogate { loss: tape.neg(objective), ratio, log_ratio }
}
// ANCHOR_END: policy_objective

// ANCHOR: adapted_kl_coef
/// The PPO paper's adaptive KL penalty (its section 4), one step: after an update whose mean
/// KL was `kl`, β is halved if `kl < target/1.5`, doubled if `kl > 1.5·target`, and kept
/// otherwise; the factor 1.5 leaves a band where nothing changes, so that β does not
/// oscillate around the target.
pub fn adapted_kl_coef(kl_coef: f32, kl: f64, target: f32) -> f32 {
    let target = f64::from(target);
    if kl < target / 1.5 {
        kl_coef / 2.0
    } else if kl > 1.5 * target {
        kl_coef * 2.0
    } else {
        kl_coef
    }
}
// ANCHOR_END: adapted_kl_coef

// ANCHOR: actor_loss
/// The actor's loss: the clipped surrogate minus an entropy bonus.
#[derive(Clone, Copy, Debug)]
pub struct ActorLoss {
    /// What the actor's optimizer minimizes: `surrogate − α·mean(entropy)`.
    pub total: Var,
    /// The clipped surrogate part.
    pub surrogate: Surrogate,
    /// `mean(entropy)`, a scalar.
    pub entropy: Var,
}

/// The surrogate minus `entropy_coef` (α) times the mean entropy of the policy at the
/// batch's states. Rewarding entropy keeps the policy from collapsing to a near-deterministic
/// one before it has found good actions: exploration is paid for, not left to chance.
pub fn actor_loss(
    tape: &mut Tape,
    new_log_prob: Var,
    old_log_prob: Var,
    advantages: Var,
    entropy: Var,
    clip_epsilon: f32,
    entropy_coef: f32,
) -> ActorLoss {
    let surrogate = clipped_surrogate(tape, new_log_prob, old_log_prob, advantages, clip_epsilon);
    with_entropy_bonus(tape, surrogate, entropy, entropy_coef)
}

/// The policy loss `surrogate` (any [`Objective`]'s) minus `entropy_coef` times the mean of
/// `entropy`.
pub fn with_entropy_bonus(
    tape: &mut Tape,
    surrogate: Surrogate,
    entropy: Var,
    entropy_coef: f32,
) -> ActorLoss {
    let entropy = tape.mean(entropy);
    let bonus = tape.mul_scalar(entropy, entropy_coef);
    let total = tape.sub(surrogate.loss, bonus);
    ActorLoss { total, surrogate, entropy }
}
// ANCHOR_END: actor_loss

// ANCHOR: value_loss
/// The critic's loss: mean squared error between its values and the returns,
/// `mean((V(s) − R)²)`.
///
/// With `clip = Some((old_values, ε))`, the clipped variant that OpenAI's baselines, CleanRL
/// and the from-scratch JAX write-up use: the new value may move at most `ε` from the value at
/// collection time, and the loss takes the larger (more pessimistic) of the clipped and
/// unclipped errors,
/// `mean(max((V − R)², (V_old + clip(V − V_old, −ε, ε) − R)²))`.
///
/// # Panics
/// If the inputs do not share one shape.
pub fn value_loss(tape: &mut Tape, values: Var, returns: Var, clip: Option<(Var, f32)>) -> Var {
    let error = tape.sub(values, returns);
    let squared = tape.square(error);
    let Some((old_values, epsilon)) = clip else {
        return tape.mean(squared);
    };
    let change = tape.sub(values, old_values);
    let change = tape.clamp(change, -epsilon, epsilon);
    let clipped_values = tape.add(old_values, change);
    let clipped_error = tape.sub(clipped_values, returns);
    let clipped_squared = tape.square(clipped_error);
    // max(a, b) = −min(−a, −b): the tape's minimum, with its tie rule, serves both.
    let neg_a = tape.neg(squared);
    let neg_b = tape.neg(clipped_squared);
    let neg_max = tape.minimum(neg_a, neg_b);
    let worst = tape.neg(neg_max);
    tape.mean(worst)
}
// ANCHOR_END: value_loss

// ANCHOR: diagnostics
/// How far an update moved the policy, from the ratios of one minibatch.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RatioStats {
    /// `mean((r − 1) − ln r)`: an estimate of KL(π_old ‖ π_new) that is never negative and
    /// has low variance (Schulman, "Approximating KL divergence", 2020).
    pub approx_kl: f32,
    /// Fraction of samples with `|r − 1| > ε`, as CleanRL and Stable-Baselines3 count it: an
    /// upper bound on how often clipping switched the gradient off (where the advantage
    /// pulls the ratio back toward 1, the gradient still flows).
    pub clip_fraction: f32,
}

/// Approximate KL and clip fraction of a batch of ratios.
pub fn ratio_stats(ratios: &[f32], clip_epsilon: f32) -> RatioStats {
    if ratios.is_empty() {
        return RatioStats::default();
    }
    let n = ratios.len() as f32;
    let kl: f32 = ratios.iter().map(|&r| (r - 1.0) - r.ln()).sum();
    let clipped = ratios.iter().filter(|&&r| (r - 1.0).abs() > clip_epsilon).count();
    RatioStats { approx_kl: kl / n, clip_fraction: clipped as f32 / n }
}

/// [`ratio_stats`] from the log-ratios, as the trainer reports it: `(r − 1) − ln r` is
/// computed as `expm1(x) − x` in `f64`, which stays finite however far a ratio has moved. A
/// ratio that underflowed to 0 would make the `f32` formula infinite, although nothing the
/// update computes is (its surrogate term is then `0·A`); a huge KL is a symptom worth
/// reporting, not a broken number.
pub fn log_ratio_stats(log_ratios: &[f32], clip_epsilon: f32) -> RatioStats {
    if log_ratios.is_empty() {
        return RatioStats::default();
    }
    let n = log_ratios.len() as f64;
    let kl: f64 = log_ratios.iter().map(|&x| f64::from(x).exp_m1() - f64::from(x)).sum();
    // Counted on the f32 ratio the loss itself clips, so that the two agree at the edges.
    let clipped = log_ratios.iter().filter(|&&x| (x.exp() - 1.0).abs() > clip_epsilon).count();
    RatioStats { approx_kl: (kl / n) as f32, clip_fraction: (clipped as f64 / n) as f32 }
}

/// How much of the variance of the returns the critic explains: `1 − Var(R − V) / Var(R)`.
/// 1 is perfect, 0 is no better than predicting the mean, negative is worse than that.
/// NaN when the returns do not vary.
pub fn explained_variance(values: &[f32], returns: &[f32]) -> f32 {
    assert_eq!(values.len(), returns.len(), "explained_variance: lengths differ");
    // Two passes over the data (mean, then squared deviations), in f64, without a copy.
    let variance = |x: &dyn Fn(usize) -> f64| {
        let n = returns.len() as f64;
        let mean = (0..returns.len()).map(x).sum::<f64>() / n;
        (0..returns.len()).map(|i| (x(i) - mean).powi(2)).sum::<f64>() / n
    };
    let var_returns = variance(&|i| f64::from(returns[i]));
    let var_residual = variance(&|i| f64::from(returns[i] - values[i]));
    if var_returns == 0.0 { f32::NAN } else { (1.0 - var_residual / var_returns) as f32 }
}
// ANCHOR_END: diagnostics
