//! The PPO objective against closed forms (the surrogate's value and gradient on each side of
//! the clip), finite differences (every loss), and hand-computed diagnostics. The gradient of
//! the full actor loss against PyTorch is in `tests/pytorch_loss.rs`.

use approx::assert_abs_diff_eq;
use ppo::autodiff::{GradCheck, Tape, gradcheck, gradcheck_with};
use ppo::loss::{
    RatioStats, actor_loss, clipped_surrogate, explained_variance, log_ratio_stats, ratio_stats,
    value_loss,
};
use ppo::tensor::Tensor;

// ANCHOR: surrogate_cases
/// Four samples, one in each region of the clipped objective (ε = 0.2):
///
/// | sample | A  | r    | min(r·A, clip(r)·A)   | gradient flows? |
/// |--------|----|------|-----------------------|-----------------|
/// | 0      | +2 | 1.1  | 1.1·2 = 2.2 (inside)   | yes             |
/// | 1      | +2 | 1.5  | 1.2·2 = 2.4 (clipped)  | no              |
/// | 2      | −1 | 0.5  | 0.8·−1 = −0.8 (clipped)| no              |
/// | 3      | −1 | 1.5  | 1.5·−1 = −1.5 (pessimistic: unclipped) | yes |
#[test]
fn clipped_surrogate_value_and_grad_in_every_region() {
    let ratios = [1.1f32, 1.5, 0.5, 1.5];
    let advantages = [2.0f32, 2.0, -1.0, -1.0];
    let mut tape = Tape::new();
    let old = tape.constant(&Tensor::from_vec(&[4], vec![-1.0; 4]));
    let new_log_prob: Vec<f32> = ratios.iter().map(|r| r.ln() - 1.0).collect();
    let new = tape.param(&Tensor::from_vec(&[4], new_log_prob));
    let adv = tape.constant(&Tensor::from_vec(&[4], advantages.to_vec()));
    let surrogate = clipped_surrogate(&mut tape, new, old, adv, 0.2);
    let expected_loss = -(2.2 + 2.4 - 0.8 - 1.5) / 4.0;
    assert_abs_diff_eq!(tape.value(surrogate.loss).item(), expected_loss, epsilon = 1e-6);
    tape.backward(surrogate.loss);
    // d/d(log π_new) of −r·A/4 is −r·A/4 (since dr/d log π = r); zero where clipped.
    let expected_grad = [-1.1 * 2.0 / 4.0, 0.0, 0.0, 1.5 / 4.0];
    assert_abs_diff_eq!(tape.grad(new).data(), &expected_grad[..], epsilon = 1e-6);
}
// ANCHOR_END: surrogate_cases

#[test]
fn actor_loss_grad() {
    // Ratios e^{±0.1} and e^{±0.4}: well inside or outside [0.8, 1.2], away from the edges.
    let shifts = [0.1f32, -0.1, 0.4, -0.4, 0.05, -0.35, 0.3, -0.02];
    let old: Vec<f32> = (0..8).map(|i| -0.5 - 0.1 * i as f32).collect();
    let new: Vec<f32> = old.iter().zip(shifts).map(|(o, s)| o + s).collect();
    let advantages = Tensor::from_vec(&[8], vec![1.0, -0.5, 2.0, -1.5, 0.7, 1.2, -0.3, 0.9]);
    let old = Tensor::from_vec(&[8], old);
    let entropy = Tensor::from_vec(&[8], vec![1.2, 0.8, 1.0, 1.4, 0.9, 1.1, 1.3, 0.7]);
    let result = gradcheck(&[Tensor::from_vec(&[8], new), entropy], |tape, v| {
        let old = tape.constant(&old);
        let adv = tape.constant(&advantages);
        actor_loss(tape, v[0], old, adv, v[1], 0.2, 0.01).total
    });
    assert!(result.is_ok(), "{}", result.unwrap_err());
}

#[test]
fn value_loss_grad_plain_and_clipped() {
    let returns = Tensor::from_vec(&[6], vec![-10.0, -3.0, 0.0, -7.0, -1.0, -4.0]);
    let old_values = Tensor::from_vec(&[6], vec![-9.0, -4.0, -1.0, -7.5, 0.0, -3.0]);
    // New values move 0.05–0.6 from the old ones: inside or well outside ε = 0.2.
    let values = Tensor::from_vec(&[6], vec![-9.1, -3.5, -0.4, -7.45, -0.6, -3.3]);
    let plain = gradcheck(std::slice::from_ref(&values), |tape, v| {
        let ret = tape.constant(&returns);
        value_loss(tape, v[0], ret, None)
    });
    assert!(plain.is_ok(), "plain: {}", plain.unwrap_err());
    // The step must stay below the 0.05 distance to the clip edges.
    let settings = GradCheck { step: 1e-3, ..GradCheck::default() };
    let clipped = gradcheck_with(settings, &[values], |tape, v| {
        let ret = tape.constant(&returns);
        let old = tape.constant(&old_values);
        value_loss(tape, v[0], ret, Some((old, 0.2)))
    });
    assert!(clipped.is_ok(), "clipped: {}", clipped.unwrap_err());
}

/// Four samples against the closed form, old values 0 and ε = 0.2:
///
/// | sample | V    | R   | clipped V | (V − R)² | (clipped V − R)² | taken | gradient   |
/// |--------|------|-----|-----------|----------|------------------|-------|------------|
/// | 0      | 0.5  | 1   | 0.2       | 0.25     | 0.64             | 0.64  | 0          |
/// | 1      | −0.5 | −1  | −0.2      | 0.25     | 0.64             | 0.64  | 0          |
/// | 2      | 0.5  | 0.1 | 0.2       | 0.16     | 0.01             | 0.16  | 2·0.4 / 4  |
/// | 3      | 0.1  | 1   | 0.1       | 0.81     | 0.81             | 0.81  | 2·−0.9 / 4 |
///
/// Where the new value moved more than ε toward the return (0 upward, 1 downward) the clipped
/// value stays further from it: its error is taken and passes no gradient. Where the new value
/// overshot the return (2) the unclipped error is the larger, taken with its full gradient.
/// Inside the range (3) both are the same and so is the gradient.
#[test]
fn clipped_value_loss_takes_the_larger_error_on_each_side_of_the_clip() {
    let values = Tensor::from_vec(&[4], vec![0.5, -0.5, 0.5, 0.1]);
    let returns = Tensor::from_vec(&[4], vec![1.0, -1.0, 0.1, 1.0]);
    for (clip, expected_loss, expected_grad) in [
        (true, (0.64 + 0.64 + 0.16 + 0.81) / 4.0, [0.0, 0.0, 0.2, -0.45]),
        // Without clipping: the plain mean squared error and its gradient 2(V − R)/4.
        (false, (0.25 + 0.25 + 0.16 + 0.81) / 4.0, [-0.25, 0.25, 0.2, -0.45]),
    ] {
        let mut tape = Tape::new();
        let v = tape.param(&values);
        let r = tape.constant(&returns);
        let old = tape.constant(&Tensor::zeros(&[4]));
        let loss = value_loss(&mut tape, v, r, clip.then_some((old, 0.2)));
        assert_abs_diff_eq!(tape.value(loss).item(), expected_loss, epsilon = 1e-6);
        tape.backward(loss);
        assert_abs_diff_eq!(tape.grad(v).data(), &expected_grad[..], epsilon = 1e-6);
    }
}

#[test]
fn ratio_stats_by_hand() {
    // (r − 1) − ln r: 0 at r = 1; for r = 2, 1 − ln 2; for r = 0.5, −0.5 + ln 2.
    let stats = ratio_stats(&[1.0, 2.0, 0.5, 1.1], 0.2);
    let expected_kl = ((1.0 - 2f32.ln()) + (-0.5 + 2f32.ln()) + (0.1 - 1.1f32.ln())) / 4.0;
    assert_abs_diff_eq!(stats.approx_kl, expected_kl, epsilon = 1e-6);
    assert_eq!(stats.clip_fraction, 0.5);
    // A ratio exactly on the edge, |r − 1| = ε (1.25 and 0.25 are exact in binary), is not
    // counted: only 1.5, 2 and 0.5 lie beyond 1 ± 0.25.
    let stats = ratio_stats(&[1.25, 1.5, 2.0, 0.5, 1.0], 0.25);
    assert_eq!(stats.clip_fraction, 3.0 / 5.0);
    let expected_kl =
        ((0.25 - 1.25f32.ln()) + (0.5 - 1.5f32.ln()) + (1.0 - 2f32.ln()) + (-0.5 + 2f32.ln()))
            / 5.0;
    assert_abs_diff_eq!(stats.approx_kl, expected_kl, epsilon = 1e-6);
    assert_eq!(ratio_stats(&[], 0.2), RatioStats::default());
}

#[test]
fn log_ratio_stats_by_hand_including_a_ratio_that_underflows() {
    // From log-ratios x, (r − 1) − ln r = eˣ − 1 − x. At x = −200 the f32 ratio is 0 and the
    // ratio formula would give ∞; the term is e^−200 + 199, which is 199 to within 1e-86.
    let ln2 = std::f64::consts::LN_2;
    let ln15 = 1.5f64.ln();
    // The edge: a log-ratio whose f32 ratio is exactly 1 + ε. It is not counted, like a ratio
    // on the edge in `ratio_stats`.
    let edge = 0.25f32.ln_1p();
    let epsilon = edge.exp() - 1.0;
    let log_ratios = [ln15 as f32, ln2 as f32, -ln2 as f32, 0.0, -200.0, edge];
    let stats = log_ratio_stats(&log_ratios, epsilon);
    // Beyond the edge: 1.5, 2, 0.5 and 0 (the underflowed ratio).
    assert_eq!(stats.clip_fraction, 4.0 / 6.0);
    let edge_term = f64::from(edge).exp_m1() - f64::from(edge);
    let expected_kl = ((0.5 - ln15) + (1.0 - ln2) + (-0.5 + ln2) + 0.0 + 199.0 + edge_term) / 6.0;
    assert!(
        (f64::from(stats.approx_kl) / expected_kl - 1.0).abs() < 1e-6,
        "approx KL {} vs {expected_kl}",
        stats.approx_kl
    );
    // Where the ratios are representable the two agree.
    let ratios = [1.5f32, 2.0, 0.5, 1.0];
    let from_ratios = ratio_stats(&ratios, 0.25);
    let from_logs = log_ratio_stats(&ratios.map(f32::ln), 0.25);
    assert_eq!(from_logs.clip_fraction, from_ratios.clip_fraction);
    assert_abs_diff_eq!(from_logs.approx_kl, from_ratios.approx_kl, epsilon = 1e-6);
    assert_eq!(log_ratio_stats(&[], 0.2), RatioStats::default());
}

#[test]
fn explained_variance_by_hand() {
    let returns = [1.0, 2.0, 3.0, 4.0];
    assert_eq!(explained_variance(&returns, &returns), 1.0);
    // Predicting the mean explains nothing.
    assert_eq!(explained_variance(&[2.5; 4], &returns), 0.0);
    // Residuals [1, 0, 0, −1]: variance 0.5 against 1.25 → 1 − 0.4 = 0.6.
    assert_abs_diff_eq!(explained_variance(&[0.0, 2.0, 3.0, 5.0], &returns), 0.6, epsilon = 1e-6);
    assert!(explained_variance(&[1.0, 2.0], &[3.0, 3.0]).is_nan());
}

// ANCHOR: objectives_by_hand
/// Each objective's value and gradient against its closed form, on samples on both sides of
/// the clip range and of both signs of advantage. With `r = e^{ℓ − ℓ_old}`, `dr/dℓ = r`, so
/// the gradient of the loss (the objective's negated mean over n samples) with respect to a
/// sample's log-probability `ℓ` is `−r·(∂objective/∂r)/n`:
///
/// - unclipped, `r·A`: `∂/∂r = A`;
/// - SPO, `r·A − |A|·(r − 1)²/(2ε)`: `∂/∂r = A − |A|·(r − 1)/ε`, zero at `r = 1 + ε·sign(A)`;
/// - KL penalty, `r·A − β·((r − 1) − ln r)`: per sample the loss depends on `ℓ` through
///   `r·A − β(r − 1) + β(ℓ − ℓ_old)`, so `∂/∂ℓ = r·A − β·(r − 1)`.
#[test]
fn every_objective_by_hand() {
    use ppo::loss::{Objective, policy_objective};
    let ratios = [0.5f32, 0.9, 1.0, 1.1, 1.5, 2.0];
    let advantages = [1.0f32, -2.0, 0.5, 3.0, -1.0, 2.0];
    let (epsilon, beta) = (0.2f32, 0.7f32);
    let n = ratios.len() as f64;
    type Case = (Objective, fn(f64, f64, f64, f64) -> (f64, f64));
    let cases: [Case; 3] = [
        (Objective::Unclipped, |r, a, _, _| (r * a, r * a)),
        (Objective::Spo, |r, a, e, _| {
            let objective = r * a - a.abs() * (r - 1.0).powi(2) / (2.0 * e);
            (objective, r * (a - a.abs() * (r - 1.0) / e))
        }),
        (Objective::KlPenalty, |r, a, _, b| {
            (r * a - b * ((r - 1.0) - r.ln()), r * a - b * (r - 1.0))
        }),
    ];
    for (objective, by_hand) in cases {
        let mut tape = Tape::new();
        let old = tape.constant(&Tensor::from_vec(&[6], vec![-1.0; 6]));
        let new_values: Vec<f32> = ratios.iter().map(|r| r.ln() - 1.0).collect();
        let new = tape.param(&Tensor::from_vec(&[6], new_values));
        let adv = tape.constant(&Tensor::from_vec(&[6], advantages.to_vec()));
        let loss = policy_objective(&mut tape, objective, new, old, adv, epsilon, beta).loss;
        tape.backward(loss);
        let mut expected_loss = 0.0;
        for (i, (&r, &a)) in ratios.iter().zip(&advantages).enumerate() {
            let (value, gradient) = by_hand(f64::from(r), f64::from(a), 0.2, f64::from(beta));
            expected_loss -= value / n;
            let got = f64::from(tape.grad(new).data()[i]);
            assert!((got + gradient / n).abs() < 1e-6, "{objective:?} sample {i}: {got}");
        }
        let got = f64::from(tape.value(loss).item());
        assert!((got - expected_loss).abs() < 1e-6, "{objective:?}: {got} vs {expected_loss}");
    }
}
// ANCHOR_END: objectives_by_hand

#[test]
fn the_adaptive_kl_rule_step_by_step() {
    use ppo::loss::adapted_kl_coef;
    let target = 0.01;
    // Below target/1.5 = 0.00667: halve; above 1.5·target = 0.015: double; between: keep.
    let steps = [(0.001, 0.5), (0.0066, 0.25), (0.0067, 0.25), (0.01, 0.25), (0.0149, 0.25)];
    let mut beta = 1.0;
    for (kl, expected) in steps {
        beta = adapted_kl_coef(beta, kl, target);
        assert_eq!(beta, expected, "after a KL of {kl}");
    }
    for (kl, expected) in [(0.0151, 0.5), (0.3, 1.0), (0.014, 1.0)] {
        beta = adapted_kl_coef(beta, kl, target);
        assert_eq!(beta, expected, "after a KL of {kl}");
    }
}

#[test]
fn the_adaptive_kl_rule_keeps_beta_exactly_on_the_band_edges() {
    use ppo::loss::adapted_kl_coef;
    // The paper's rule is strict on both sides: a KL of exactly target/1.5 or exactly
    // 1.5·target is inside the band (computed as the rule computes it, in f64 of the f32 target).
    let target = 0.01_f32;
    let low = f64::from(target) / 1.5;
    let high = 1.5 * f64::from(target);
    assert_eq!(adapted_kl_coef(1.0, low, target), 1.0);
    assert_eq!(adapted_kl_coef(1.0, high, target), 1.0);
    // One step outside either edge changes β.
    assert_eq!(adapted_kl_coef(1.0, low.next_down(), target), 0.5);
    assert_eq!(adapted_kl_coef(1.0, high.next_up(), target), 2.0);
}
