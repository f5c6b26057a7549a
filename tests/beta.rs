//! The Beta of `src/distributions/beta.rs`: log-probability, entropy and their derivatives
//! against `torch.distributions.Beta` composed with `AffineTransform(low, high − low)`,
//! recorded by `tools/pytorch_bounded_fixtures.py` (which checks PyTorch against mpmath);
//! the fused tape operations against finite differences; the Gamma and Beta samplers against
//! their moments; and a sweep of extreme head outputs through every method, which must never
//! produce a NaN or an infinity.

mod common;

use common::{Fixture, max_relative_error, probe};
use ppo::Distribution;
use ppo::autodiff::{GradCheck, Tape, gradcheck_with};
use ppo::distributions::beta::{self, Beta, X_MAX, X_MIN, sample_log_gamma};
use ppo::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Relative tolerance against PyTorch (float64, itself within 2.3·10⁻⁸ of mpmath).
const RTOL: f64 = 1e-6;

fn assert_close(what: &str, actual: &[f64], expected: &[f64], floor: f64) -> f64 {
    let (error, at) = max_relative_error(actual, expected, floor);
    println!("{what}: largest relative error {error:.2e} ({} points)", actual.len());
    assert!(
        error <= RTOL,
        "{what}: element {at}: {} vs PyTorch {} (relative error {error:.2e})",
        actual[at],
        expected[at]
    );
    error
}

fn widen(values: &[f32]) -> Vec<f64> {
    values.iter().map(|&v| f64::from(v)).collect()
}

// ANCHOR: fixture_test
/// Both boxes of the fixture: [0, 1] with `x` from 2⁻¹²⁶ to 1 − 2⁻²⁴, and [−2, 2]; α and β
/// from 1 + 10⁻⁷ to 10⁶ (and ½). The log-probability, the entropy and the derivatives with
/// respect to α and β are compared with no floor; `∂/∂x` is PyTorch's `∂/∂a` times the
/// width.
#[test]
fn log_prob_entropy_and_grads_match_pytorch_on_a_grid_with_extreme_concentrations() {
    let fixture = Fixture::load("beta.txt");
    for b in 0..2 {
        let get = |name: &str| fixture.get(&format!("box{b}.{name}"));
        let column = |name: &str| {
            let values = get(name).f32s();
            Tensor::from_vec(&[values.len(), 1], values)
        };
        let bounds = get("bounds").f32s();
        let policy = Beta { dims: 1, low: bounds[0], high: bounds[1] };
        let [alpha, beta, x] = ["alpha", "beta", "x"].map(column);
        let n = alpha.len();
        let params = |i: usize| [alpha.row(i), beta.row(i)];
        let plain: Vec<f32> = (0..n).map(|i| policy.log_prob(&params(i), x.row(i))).collect();
        let tiny = f64::MIN_POSITIVE;
        assert_close(&format!("box {b} log_prob"), &widen(&plain), &get("log_prob").values, tiny);
        let entropy: Vec<f32> = (0..n).map(|i| policy.entropy(&params(i))).collect();
        assert_close(&format!("box {b} entropy"), &widen(&entropy), &get("entropy").values, tiny);

        let mut tape = Tape::new();
        let [a_var, b_var, x_var] = [&alpha, &beta, &x].map(|t| tape.param(t));
        let log_prob = policy.log_prob_on_tape(&mut tape, &[a_var, b_var], x_var);
        assert_eq!(tape.value(log_prob).data(), plain, "the tape and the plain function agree");
        let loss = tape.sum(log_prob);
        tape.backward(loss);
        for (var, name) in [(a_var, "dalpha"), (b_var, "dbeta")] {
            let what = format!("box {b} d log_prob / {}", &name[1..]);
            assert_close(&what, &widen(tape.grad(var).data()), &get(name).values, tiny);
        }
        // ∂/∂x = (α − 1)/x − (β − 1)/(1 − x) reaches 10⁴⁴ at x = 2⁻¹²⁶ with α = 10⁶: where it
        // is beyond f32, the result is the infinity of its sign; elsewhere it is compared.
        let width = f64::from(bounds[1]) - f64::from(bounds[0]);
        let per_x: Vec<f64> = get("daction").values.iter().map(|g| g * width).collect();
        let ours = widen(tape.grad(x_var).data());
        let fits = |i: &usize| per_x[*i].abs() <= f64::from(f32::MAX);
        let (inside, beyond): (Vec<usize>, Vec<usize>) = (0..n).partition(fits);
        for &i in &beyond {
            assert_eq!(ours[i], per_x[i].signum() * f64::INFINITY, "element {i}");
        }
        let pick = |v: &[f64]| inside.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        assert_close(&format!("box {b} d log_prob / x"), &pick(&ours), &pick(&per_x), tiny);

        tape.clear();
        let [a_var, b_var] = [&alpha, &beta].map(|t| tape.param(t));
        let h = policy.entropy_on_tape(&mut tape, &[a_var, b_var]);
        assert_eq!(tape.value(h).data(), entropy);
        let loss = tape.sum(h);
        tape.backward(loss);
        for (var, name) in [(a_var, "dentropy_dalpha"), (b_var, "dentropy_dbeta")] {
            let what = format!("box {b} {name}");
            assert_close(&what, &widen(tape.grad(var).data()), &get(name).values, tiny);
        }
    }
}
// ANCHOR_END: fixture_test

/// A `[5, 3]` batch: both operations sum over the three action dimensions, and the gradient
/// of `Σ w₁·ln π + Σ w₂·H` reaches every element as PyTorch's does.
#[test]
fn log_prob_and_entropy_on_tape_sum_over_action_dims_like_pytorch() {
    let fixture = Fixture::load("beta.txt");
    let load = |name: &str| {
        let array = fixture.get(&format!("batch.{name}"));
        Tensor::from_vec(&array.shape, array.f32s())
    };
    let policy = Beta { dims: 3, low: -2.0, high: 2.0 };
    let mut tape = Tape::new();
    let [alpha, beta, x] = ["alpha", "beta", "x"].map(|n| tape.param(&load(n)));
    let w_log_prob = tape.constant(&load("weights_log_prob"));
    let w_entropy = tape.constant(&load("weights_entropy"));
    let log_prob = policy.log_prob_on_tape(&mut tape, &[alpha, beta], x);
    let entropy = policy.entropy_on_tape(&mut tape, &[alpha, beta]);
    let weighted_log_prob = tape.mul(log_prob, w_log_prob);
    let weighted_entropy = tape.mul(entropy, w_entropy);
    let (a, b) = (tape.sum(weighted_log_prob), tape.sum(weighted_entropy));
    let loss = tape.add(a, b);
    tape.backward(loss);
    let tiny = f64::MIN_POSITIVE;
    let expected = |name: &str| fixture.get(&format!("batch.{name}")).values.clone();
    assert_close(
        "batch log_prob",
        &widen(tape.value(log_prob).data()),
        &expected("log_prob"),
        tiny,
    );
    assert_close("batch entropy", &widen(tape.value(entropy).data()), &expected("entropy"), tiny);
    assert_close("batch loss", &widen(tape.value(loss).data()), &expected("loss"), tiny);
    assert_close("grad alpha", &widen(tape.grad(alpha).data()), &expected("grad_alpha"), tiny);
    assert_close("grad beta", &widen(tape.grad(beta).data()), &expected("grad_beta"), tiny);
    let per_x: Vec<f64> = expected("grad_action").iter().map(|g| g * 4.0).collect();
    assert_close("grad x", &widen(tape.grad(x).data()), &per_x, tiny);
}

/// α, β in [1.2, 8], x in [0.1, 0.9]: where an `f32` finite difference with step 10⁻²
/// resolves the curvature (the extremes are covered by the PyTorch grid).
#[test]
fn fused_ops_grads_match_finite_differences() {
    let check = GradCheck { step: 1e-2, rtol: 1e-2, atol: 2e-3 };
    for (i, &(batch, dims)) in [(1, 1), (7, 1), (5, 3), (32, 2)].iter().enumerate() {
        let policy = Beta { dims, low: -2.0, high: 2.0 };
        let mut r = rng(40 + i as u64);
        let alpha = Tensor::rand_uniform(&[batch, dims], 1.2, 8.0, &mut r);
        let beta = Tensor::rand_uniform(&[batch, dims], 1.2, 8.0, &mut r);
        let x = Tensor::rand_uniform(&[batch, dims], 0.1, 0.9, &mut r);
        let result = gradcheck_with(check, &[alpha.clone(), beta.clone(), x], |tape, v| {
            let y = policy.log_prob_on_tape(tape, &[v[0], v[1]], v[2]);
            probe(tape, y, 9)
        });
        assert!(result.is_ok(), "log_prob [{batch}, {dims}]: {}", result.unwrap_err());
        let result = gradcheck_with(check, &[alpha, beta], |tape, v| {
            let y = policy.entropy_on_tape(tape, &[v[0], v[1]]);
            probe(tape, y, 10)
        });
        assert!(result.is_ok(), "entropy [{batch}, {dims}]: {}", result.unwrap_err());
    }
}

/// Checks that `n` draws have the given mean and variance: the sample mean within 5
/// standard errors (`√(var/n)`), the sample variance within 5 of its own (`√((μ₄ − var²)/n)`,
/// from the exact fourth central moment), plus half an `f32` step of `rounding` for samples
/// that were rounded to `f32`.
fn assert_moments(what: &str, draws: &[f64], mean: f64, variance: f64, fourth: f64, rounding: f64) {
    let n = draws.len() as f64;
    let sample_mean = draws.iter().sum::<f64>() / n;
    let sample_variance = draws.iter().map(|d| (d - sample_mean).powi(2)).sum::<f64>() / n;
    let half_step = f64::from(f32::EPSILON) * rounding / 2.0;
    let mean_bound = 5.0 * (variance / n).sqrt() + half_step;
    let variance_bound = 5.0 * ((fourth - variance * variance) / n).sqrt() + half_step * half_step;
    println!(
        "{what}: mean {sample_mean:.6e} (exact {mean:.6e}), variance {sample_variance:.6e} (exact {variance:.6e})"
    );
    assert!(
        (sample_mean - mean).abs() <= mean_bound,
        "{what}: mean off by more than {mean_bound:e}"
    );
    assert!(
        (sample_variance - variance).abs() <= variance_bound,
        "{what}: variance off by more than {variance_bound:e}"
    );
}

// ANCHOR: sample_test
/// Gamma(k) has mean k, variance k and fourth central moment `3k² + 6k`; 200 000 draws for
/// shapes from 0.3 (through the `u^{1/k}` boost) to 10⁶.
#[test]
fn gamma_sampler_has_the_gamma_moments() {
    let mut r = rng(1);
    for shape in [0.3, 1.0, 2.5, 40.0, 1e6] {
        let draws: Vec<f64> = (0..200_000).map(|_| sample_log_gamma(shape, &mut r).exp()).collect();
        let fourth = 3.0 * shape * shape + 6.0 * shape;
        assert_moments(&format!("Gamma({shape})"), &draws, shape, shape, fourth, 0.0);
    }
}

/// Beta(α, β): mean `α/s`, variance `αβ/(s²(s + 1))` with `s = α + β`, and fourth central
/// moment from the excess kurtosis `6[(α − β)²(s + 1) − αβ(s + 2)]/[αβ(s + 2)(s + 3)]`;
/// 200 000 draws per case, every one strictly inside (0, 1) and mapped inside the box.
#[test]
fn beta_sampler_has_the_beta_moments_and_stays_inside() {
    let policy = Beta { dims: 1, low: -2.0, high: 2.0 };
    let cases =
        [(2.0, 5.0), (1.0000001, 1.0000001), (0.5, 0.5), (1e6, 1e6), (1.5, 1e6), (1e3, 1.0000001)];
    let mut r = rng(2);
    for (a, b) in cases {
        let params: [&[f32]; 2] = [&[a as f32], &[b as f32]];
        let [a, b] = [a, b].map(|v: f64| f64::from(v as f32));
        let (mut x, mut action) = ([0.0f32], [0.0f32]);
        let mut draws = Vec::with_capacity(200_000);
        for _ in 0..200_000 {
            policy.sample(&params, &mut r, &mut x);
            assert!((X_MIN..=X_MAX).contains(&x[0]), "Beta({a}, {b}): sample {}", x[0]);
            policy.to_action(&x, &mut action);
            assert!((-2.0..=2.0).contains(&action[0]));
            draws.push(f64::from(x[0]));
        }
        let s = a + b;
        let (mean, variance) = (a / s, a * b / (s * s * (s + 1.0)));
        let excess = 6.0 * ((a - b).powi(2) * (s + 1.0) - a * b * (s + 2.0))
            / (a * b * (s + 2.0) * (s + 3.0));
        let fourth = (excess + 3.0) * variance * variance;
        assert_moments(&format!("Beta({a}, {b})"), &draws, mean, variance, fourth, mean);
    }
}
// ANCHOR_END: sample_test

/// The entropy is `E[−ln π]`, here of the action on [−2, 2] (including `ln 4`), over 200 000
/// samples, to 5 standard errors.
#[test]
fn mean_negative_log_prob_of_samples_is_the_entropy() {
    let policy = Beta { dims: 2, low: -2.0, high: 2.0 };
    let params: [&[f32]; 2] = [&[2.5, 1.0001], &[1.3, 40.0]];
    let (n, mut r) = (200_000, rng(6));
    let (mut sum, mut sum_sq, mut x) = (0.0f64, 0.0f64, [0.0f32; 2]);
    for _ in 0..n {
        policy.sample(&params, &mut r, &mut x);
        let v = -f64::from(policy.log_prob(&params, &x));
        (sum, sum_sq) = (sum + v, sum_sq + v * v);
    }
    let n = f64::from(n);
    let (average, spread) = (sum / n, (sum_sq / n - (sum / n).powi(2)).sqrt());
    let entropy = f64::from(policy.entropy(&params));
    assert!(
        (average - entropy).abs() < 5.0 * spread / n.sqrt(),
        "E[−ln π] {average} vs H {entropy}"
    );
}

// ANCHOR: sweep
/// Every method on every combination of extreme head outputs, α and β from 1 + 10⁻⁷ to 10⁶
/// (and 0.01, 0.5, for any positive input): samples stay in `[X_MIN, X_MAX]`; the
/// log-probability of samples, of the mode and of both clamp limits, the entropy, and the
/// gradients with respect to α and β everywhere (and to `x` at samples and the mode) are
/// finite.
#[test]
fn extreme_head_outputs_give_no_nan_or_infinity() {
    let policy = Beta { dims: 1, low: -2.0, high: 2.0 };
    let values = [0.01, 0.5, 1.0000001, 1.0001, 1.01, 1.5, 2.0, 10.0, 1e3, 1e5, 1e6];
    let mut r = rng(4);
    let (mut alphas, mut betas, mut xs, mut drawn) = (vec![], vec![], vec![], vec![]);
    for &a in &values {
        for &b in &values {
            let params: [&[f32]; 2] = [&[a], &[b]];
            let mut mode = [0.0];
            policy.mode(&params, &mut mode);
            let mut points = vec![(X_MIN, false), (X_MAX, false), (mode[0], true)];
            for _ in 0..8 {
                let mut x = [0.0];
                policy.sample(&params, &mut r, &mut x);
                assert!((X_MIN..=X_MAX).contains(&x[0]), "Beta({a}, {b}): sample {}", x[0]);
                points.push((x[0], true));
            }
            for &(x, from_distribution) in &points {
                let value = policy.log_prob(&params, &[x]);
                assert!(value.is_finite(), "Beta({a}, {b}): ln π({x}) = {value}");
                alphas.push(a);
                betas.push(b);
                xs.push(x);
                drawn.push(from_distribution);
            }
            assert!(policy.entropy(&params).is_finite(), "Beta({a}, {b}): entropy");
        }
    }
    let n = alphas.len();
    let column = |v: Vec<f32>| Tensor::from_vec(&[n, 1], v);
    let (alpha, beta, x) = (column(alphas), column(betas), column(xs));
    let mut tape = Tape::new();
    let [a, b, s] = [&alpha, &beta, &x].map(|t| tape.param(t));
    let log_prob = policy.log_prob_on_tape(&mut tape, &[a, b], s);
    let entropy = policy.entropy_on_tape(&mut tape, &[a, b]);
    let both = tape.add(log_prob, entropy);
    let loss = tape.sum(both);
    tape.backward(loss);
    for (var, name) in [(a, "alpha"), (b, "beta"), (s, "x")] {
        for (i, g) in tape.grad(var).data().iter().enumerate() {
            // ∂/∂x at the clamp limits is (α − 1)/2⁻¹²⁶ for large α: beyond f32, and never
            // asked for (the stored sample is a constant of the loss).
            if name == "x" && !drawn[i] {
                continue;
            }
            let at = (alpha.data()[i], beta.data()[i], x.data()[i]);
            assert!(g.is_finite(), "gradient of {name} at (α, β, x) = {at:?}: {g}");
        }
    }
}
// ANCHOR_END: sweep

/// Closed forms: Beta(1, 1) is uniform on the box (log-density and entropy `∓ln(width)`);
/// Beta(2, 1) has density `2x`; the mode is `(α − 1)/(α + β − 2)` or, where that is not
/// interior, the mean; `to_action` is the affine map.
#[test]
fn closed_forms_mode_and_action() {
    let policy = Beta { dims: 1, low: -2.0, high: 2.0 };
    let uniform: [&[f32]; 2] = [&[1.0], &[1.0]];
    assert_eq!(policy.log_prob(&uniform, &[0.3]), -(4f32.ln()));
    assert_eq!(policy.entropy(&uniform), 4f32.ln());
    let x = 0.7f32;
    let expected = (2.0 * f64::from(x) / 4.0).ln() as f32;
    assert_eq!(beta::log_prob(&[2.0], &[1.0], &[x], -2.0, 2.0), expected);
    let mut out = [0.0; 3];
    let shapes: [&[f32]; 2] = [&[3.0, 0.5, 1.0], &[2.0, 0.5, 4.0]];
    policy.mode(&shapes, &mut out);
    assert_eq!(out, [2.0 / 3.0, 0.5, 0.2]);
    let mut action = [0.0; 3];
    policy.to_action(&[X_MIN, 0.25, X_MAX], &mut action);
    // X_MAX = 1 − 2⁻²⁴ maps to 2 − 2⁻²², the second f32 below 2: the box is resolved to
    // the sample's precision.
    assert_eq!(action, [-2.0, -1.0, 2.0 - 2.0 * f32::EPSILON]);
}

#[test]
#[should_panic(expected = "beta_log_prob (alpha, beta, x): shapes [[4, 2], [4, 2], [4, 1]]")]
fn log_prob_on_tape_names_the_shapes_on_a_mismatch() {
    let policy = Beta { dims: 2, low: -2.0, high: 2.0 };
    let mut tape = Tape::new();
    let a = tape.param(&Tensor::filled(&[4, 2], 2.0));
    let b = tape.param(&Tensor::filled(&[4, 2], 2.0));
    let x = tape.constant(&Tensor::filled(&[4, 1], 0.5));
    policy.log_prob_on_tape(&mut tape, &[a, b], x);
}
