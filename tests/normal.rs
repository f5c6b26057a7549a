//! Chapter 5: the Normal distribution. Log-probability and entropy against PyTorch's
//! `torch.distributions.Normal` (values and derivatives, recorded by
//! `tools/pytorch_fixtures.py`), the fused tape operations against finite differences and
//! against the same formula composed from primitive operations, and sampling against its
//! definition and its moments.

mod common;

use common::{Fixture, max_relative_error};
use ppo::autodiff::{Tape, Var, gradcheck};
use ppo::normal::{self, HALF_LN_2PI, entropy_on_tape, log_prob_on_tape};
use ppo::tensor::Tensor;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Relative tolerance against PyTorch. Every quantity here is computed in f64 from the f32
/// inputs and rounded once, so it is met with no floor, even where a log-probability is near 0.
const RTOL: f64 = 1e-5;

fn assert_relative(what: &str, actual: &[f32], expected: &[f64]) -> f64 {
    let actual: Vec<f64> = actual.iter().map(|&x| f64::from(x)).collect();
    let (error, at) = max_relative_error(&actual, expected, f64::MIN_POSITIVE);
    assert!(
        error <= RTOL,
        "{what}: element {at}: {} vs PyTorch {} (relative error {error:.2e})",
        actual[at],
        expected[at]
    );
    println!("{what}: largest relative error {error:.2e}");
    error
}

/// The grid as `[n, 1]` tensors: each (μ, σ, a) a batch row with one action dimension.
fn grid(fixture: &Fixture) -> [Tensor; 3] {
    ["grid.mean", "grid.std", "grid.action"].map(|name| {
        let values = fixture.get(name).f32s();
        Tensor::from_vec(&[values.len(), 1], values)
    })
}

#[test]
fn log_prob_matches_pytorch_on_a_grid_including_tiny_std_and_far_actions() {
    let fixture = Fixture::load("normal.txt");
    let [mean, std, action] = grid(&fixture);
    let plain: Vec<f32> =
        (0..mean.len()).map(|i| normal::log_prob(mean.row(i), std.row(i), action.row(i))).collect();
    let expected = &fixture.get("grid.log_prob").values;
    assert_relative("log_prob (plain)", &plain, expected);
    // The grid reaches σ = 1e-5 with |a − μ| = 100 (log-probabilities near −5·10¹³), and
    // points where two terms of ±11.5 cancel to a log-probability below 10⁻⁶.
    assert!(expected.iter().any(|&v| v < -1e13));
    assert!(expected.iter().any(|&v| v.abs() < 1e-6));

    let mut tape = Tape::new();
    let [m, s, a] = [&mean, &std, &action].map(|t| tape.param(t));
    let y = log_prob_on_tape(&mut tape, m, s, a);
    assert_eq!(tape.value(y).data(), plain, "the tape and the plain function agree exactly");
}

#[test]
fn entropy_matches_pytorch_on_a_grid() {
    let fixture = Fixture::load("normal.txt");
    let [_, std, _] = grid(&fixture);
    let plain: Vec<f32> = (0..std.len()).map(|i| normal::entropy(std.row(i))).collect();
    assert_relative("entropy (plain)", &plain, &fixture.get("grid.entropy").values);
    let mut tape = Tape::new();
    let s = tape.param(&std);
    let y = entropy_on_tape(&mut tape, s);
    assert_eq!(tape.value(y).data(), plain);
}

// ANCHOR: grid_grads
/// The hand-derived derivatives `∂/∂μ = z/σ`, `∂/∂σ = (z² − 1)/σ`, `∂/∂a = −z/σ` and
/// `∂H/∂σ = 1/σ`, against PyTorch autograd, over the whole grid (σ from 1e-5 to 20, |a − μ|
/// from 0 to 100, so derivatives from 0 to 10²³).
#[test]
fn log_prob_and_entropy_grads_match_pytorch_on_a_grid() {
    let fixture = Fixture::load("normal.txt");
    let [mean, std, action] = grid(&fixture);
    let mut tape = Tape::new();
    let [m, s, a] = [&mean, &std, &action].map(|t| tape.param(t));
    let log_prob = log_prob_on_tape(&mut tape, m, s, a);
    let loss = tape.sum(log_prob);
    tape.backward(loss);
    for (var, name) in [(m, "dlog_prob_dmean"), (s, "dlog_prob_dstd"), (a, "dlog_prob_daction")] {
        let expected = &fixture.get(&format!("grid.{name}")).values;
        assert_relative(name, tape.grad(var).data(), expected);
    }

    tape.clear();
    let s = tape.param(&std);
    let entropy = entropy_on_tape(&mut tape, s);
    let loss = tape.sum(entropy);
    tape.backward(loss);
    assert_relative(
        "dentropy_dstd",
        tape.grad(s).data(),
        &fixture.get("grid.dentropy_dstd").values,
    );
}
// ANCHOR_END: grid_grads

/// A `[5, 3]` batch: both operations sum over the three action dimensions, as
/// `dist.log_prob(a).sum(-1)` does, and the gradient of `Σ w₁·log π + Σ w₂·H` reaches every
/// element.
#[test]
fn log_prob_and_entropy_on_tape_sum_over_action_dims_like_pytorch() {
    let fixture = Fixture::load("normal.txt");
    let load = |name: &str| {
        let array = fixture.get(name);
        Tensor::from_vec(&array.shape, array.f32s())
    };
    let mut tape = Tape::new();
    let mean = tape.param(&load("batch.mean"));
    let std = tape.param(&load("batch.std"));
    let action = tape.param(&load("batch.action"));
    let w_log_prob = tape.constant(&load("batch.weights_log_prob"));
    let w_entropy = tape.constant(&load("batch.weights_entropy"));
    let log_prob = log_prob_on_tape(&mut tape, mean, std, action);
    let entropy = entropy_on_tape(&mut tape, std);
    assert_eq!(tape.value(log_prob).shape(), [5]);
    assert_relative(
        "batch log_prob",
        tape.value(log_prob).data(),
        &fixture.get("batch.log_prob").values,
    );
    assert_relative(
        "batch entropy",
        tape.value(entropy).data(),
        &fixture.get("batch.entropy").values,
    );
    let weighted_log_prob = tape.mul(log_prob, w_log_prob);
    let weighted_entropy = tape.mul(entropy, w_entropy);
    let a = tape.sum(weighted_log_prob);
    let b = tape.sum(weighted_entropy);
    let loss = tape.add(a, b);
    tape.backward(loss);
    assert_relative("batch loss", tape.value(loss).data(), &fixture.get("batch.loss").values);
    for (var, name) in [(mean, "grad_mean"), (std, "grad_std"), (action, "grad_action")] {
        let expected = &fixture.get(&format!("batch.{name}")).values;
        assert_relative(name, tape.grad(var).data(), expected);
    }
}

/// Reduces a `[batch]` output to a scalar through fixed random weights, so that every entry
/// of the Jacobian is checked.
fn probe(tape: &mut Tape, y: Var, seed: u64) -> Var {
    let shape = tape.value(y).shape().to_vec();
    let w = tape.constant(&Tensor::randn(&shape, &mut rng(seed)));
    let weighted = tape.mul(y, w);
    tape.sum(weighted)
}

/// σ in [0.3, 2), actions within a few σ of the mean: where a finite difference with the
/// default step of 1e-2 resolves the curvature. (Tiny σ is covered by the PyTorch grid.)
fn normal_inputs(batch: usize, dims: usize, seed: u64) -> [Tensor; 3] {
    let mut r = rng(seed);
    let mean = Tensor::randn(&[batch, dims], &mut r);
    let std = Tensor::rand_uniform(&[batch, dims], 0.3, 2.0, &mut r);
    let action = mean.add(&std.mul(&Tensor::randn(&[batch, dims], &mut r)).scale(1.5));
    [mean, std, action]
}

#[test]
fn log_prob_on_tape_grad_matches_finite_differences() {
    for (i, &(batch, dims)) in [(1, 1), (7, 1), (5, 3), (64, 2)].iter().enumerate() {
        let inputs = normal_inputs(batch, dims, 100 + i as u64);
        let result = gradcheck(&inputs, |tape, v| {
            let y = log_prob_on_tape(tape, v[0], v[1], v[2]);
            probe(tape, y, 7)
        });
        assert!(result.is_ok(), "log_prob [{batch}, {dims}]: {}", result.unwrap_err());
    }
}

#[test]
fn entropy_on_tape_grad_matches_finite_differences() {
    for (i, &(batch, dims)) in [(1, 1), (7, 1), (5, 3), (64, 2)].iter().enumerate() {
        let [_, std, _] = normal_inputs(batch, dims, 200 + i as u64);
        let result = gradcheck(&[std], |tape, v| {
            let y = entropy_on_tape(tape, v[0]);
            probe(tape, y, 8)
        });
        assert!(result.is_ok(), "entropy [{batch}, {dims}]: {}", result.unwrap_err());
    }
}

// ANCHOR: composed
/// The fused operation against the same log-density built from nine primitive operations of
/// chapter 2: `−½((a − μ)/σ)² − ln σ − ½ln 2π`, summed over the action dimensions (a matrix
/// product with a column of ones). Values and gradients agree to f32 rounding.
#[test]
fn log_prob_fused_op_agrees_with_the_composed_primitives() {
    let [mean, std, action] = normal_inputs(64, 2, 300);
    let weights = Tensor::randn(&[64], &mut rng(301));
    let run = |fused: bool| {
        let mut tape = Tape::new();
        let [m, s, a] = [&mean, &std, &action].map(|t| tape.param(t));
        let log_prob = if fused {
            log_prob_on_tape(&mut tape, m, s, a)
        } else {
            let diff = tape.sub(a, m);
            let z = tape.div(diff, s);
            let z2 = tape.square(z);
            let half_z2 = tape.mul_scalar(z2, -0.5);
            let ln_s = tape.ln(s);
            let per_dim = tape.sub(half_z2, ln_s);
            let per_dim = tape.add_scalar(per_dim, -HALF_LN_2PI as f32);
            let ones = tape.constant(&Tensor::filled(&[2, 1], 1.0));
            let summed = tape.matmul(per_dim, ones);
            tape.flatten(summed)
        };
        let w = tape.constant(&weights);
        let weighted = tape.mul(log_prob, w);
        let loss = tape.sum(weighted);
        tape.backward(loss);
        let grads = [m, s, a].map(|v| tape.grad(v).clone());
        (tape.value(log_prob).clone(), grads)
    };
    let (fused_value, fused_grads) = run(true);
    let (composed_value, composed_grads) = run(false);
    let close = |x: &Tensor, y: &Tensor| {
        x.data().iter().zip(y.data()).all(|(a, b)| (a - b).abs() <= 1e-5 * b.abs().max(1.0))
    };
    assert!(close(&fused_value, &composed_value));
    for (f, c) in fused_grads.iter().zip(&composed_grads) {
        assert!(close(f, c), "{f:?} vs {c:?}");
    }
}
// ANCHOR_END: composed

// ANCHOR: sample_test
/// `sample` is exactly `μ + σ·ε` with `ε` the standard-normal draws of the same generator, in
/// order; the same seed gives the same actions.
#[test]
fn sample_is_mean_plus_std_times_standard_normal_draws() {
    let mean = [0.5, -1.0, 2.0, 0.0];
    let std = [1.0, 0.1, 1e-5, 3.0];
    let mut out = [0.0; 4];
    normal::sample(&mean, &std, &mut rng(42), &mut out);
    let mut twin = rng(42);
    for i in 0..4 {
        let epsilon: f32 = twin.sample(StandardNormal);
        assert_eq!(out[i], mean[i] + std[i] * epsilon);
    }
    let mut again = [0.0; 4];
    normal::sample(&mean, &std, &mut rng(42), &mut again);
    assert_eq!(out, again);
}
// ANCHOR_END: sample_test

/// 100 000 draws of a two-dimensional action: the sample mean is within 5 standard errors of
/// μ, the sample variance within 5 of σ², and the mean of `−log π(a)` over the draws is the
/// entropy (its definition, `H = E[−log π(a)]`), within 5 standard errors (`−log π` is `½z²`
/// plus a constant per dimension, whose standard deviation is `1/√2`: 1 for the two
/// dimensions together).
#[test]
fn sample_moments_and_mean_negative_log_prob_match_mean_std_and_entropy() {
    let (mu, sigma) = ([1.5f32, -0.7], [0.4f32, 2.5]);
    let n = 100_000;
    let mut r = rng(7);
    let mut action = [0.0f32; 2];
    let (mut sum, mut sum_sq, mut neg_log_prob) = ([0.0f64; 2], [0.0f64; 2], 0.0f64);
    for _ in 0..n {
        normal::sample(&mu, &sigma, &mut r, &mut action);
        for j in 0..2 {
            sum[j] += f64::from(action[j]);
            sum_sq[j] += f64::from(action[j]).powi(2);
        }
        neg_log_prob -= f64::from(normal::log_prob(&mu, &sigma, &action));
    }
    let n_f = n as f64;
    for j in 0..2 {
        let mean = sum[j] / n_f;
        let variance = sum_sq[j] / n_f - mean * mean;
        let s = f64::from(sigma[j]);
        assert!((mean - f64::from(mu[j])).abs() < 5.0 * s / n_f.sqrt(), "mean {mean}");
        // The variance of a sample variance of Normal draws is 2σ⁴/n.
        assert!((variance - s * s).abs() < 5.0 * s * s * (2.0 / n_f).sqrt(), "variance {variance}");
    }
    let entropy = f64::from(normal::entropy(&sigma));
    let error = (neg_log_prob / n_f - entropy).abs();
    assert!(error < 5.0 / n_f.sqrt(), "E[−log π] {} vs H {entropy}", neg_log_prob / n_f);
}

/// Closed forms: at `a = μ` the density of N(μ, 1) is `1/√(2π)`; the entropy of N(·, 1) is
/// `½(1 + ln 2π)`; one σ away the log-density drops by exactly ½; dimensions add.
#[test]
fn log_prob_and_entropy_closed_forms() {
    let peak = -(0.5 * (2.0 * std::f64::consts::PI).ln()) as f32;
    assert_eq!(normal::log_prob(&[0.3], &[1.0], &[0.3]), peak);
    assert_eq!(normal::log_prob(&[0.3], &[1.0], &[1.3]), peak - 0.5);
    assert_eq!(normal::entropy(&[1.0]), (0.5 + HALF_LN_2PI) as f32);
    assert_eq!(normal::log_prob(&[0.0, 0.0], &[1.0, 1.0], &[0.0, 0.0]), 2.0 * peak);
    // Scaling σ by e lowers the log-density at the mean by 1 and raises the entropy by 1.
    let e = std::f32::consts::E;
    assert!((normal::log_prob(&[0.0], &[e], &[0.0]) - (peak - 1.0)).abs() < 1e-6);
    assert!((normal::entropy(&[e]) - (normal::entropy(&[1.0]) + 1.0)).abs() < 1e-6);
}

/// The PPO ratio `exp(log π_new − log π_old)` is the ratio of the densities themselves.
#[test]
fn log_prob_difference_exponentiates_to_the_density_ratio() {
    let density = |m: f64, s: f64, a: f64| {
        (-0.5 * ((a - m) / s).powi(2)).exp() / (s * (2.0 * std::f64::consts::PI).sqrt())
    };
    let (a, old, new) = (0.8f32, (0.2f32, 0.5f32), (0.5f32, 0.4f32));
    let ratio = (normal::log_prob(&[new.0], &[new.1], &[a])
        - normal::log_prob(&[old.0], &[old.1], &[a]))
    .exp();
    let expected = density(new.0.into(), new.1.into(), a.into())
        / density(old.0.into(), old.1.into(), a.into());
    assert!((f64::from(ratio) / expected - 1.0).abs() < 1e-6, "{ratio} vs {expected}");
}

#[test]
#[should_panic(expected = "normal_log_prob (mean, std, action): shapes [[4, 2], [4, 2], [4, 1]]")]
fn log_prob_on_tape_names_the_shapes_on_a_mismatch() {
    let mut tape = Tape::new();
    let m = tape.param(&Tensor::zeros(&[4, 2]));
    let s = tape.param(&Tensor::filled(&[4, 2], 1.0));
    let a = tape.constant(&Tensor::zeros(&[4, 1]));
    log_prob_on_tape(&mut tape, m, s, a);
}

#[test]
#[should_panic(expected = "normal::sample (mean, std, out): lengths [2, 2, 3] differ")]
fn sample_names_the_lengths_on_a_mismatch() {
    normal::sample(&[0.0; 2], &[1.0; 2], &mut rng(0), &mut [0.0; 3]);
}
