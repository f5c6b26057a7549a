//! The tanh-transformed Normal. Log-probability and its gradients against PyTorch's
//! `TransformedDistribution(Normal, [TanhTransform, AffineTransform])` and, where PyTorch
//! cannot invert tanh, against mpmath; the entropy's quadrature against a 30-digit
//! reference; the Gauss–Hermite rule against NumPy's `hermgauss` (all recorded by
//! `tools/pytorch_tanh_normal_fixtures.py`); the fused operations against finite
//! differences; sampling against its moments and the entropy's definition; extreme inputs.

mod common;

use common::{Fixture, max_relative_error, probe};
use ppo::autodiff::{Tape, gradcheck};
use ppo::distributions::tanh_normal::{
    self, Quadrature, RULES, TanhNormal, entropy_on_tape, gauss_hermite,
    log_one_minus_tanh_squared, log_prob_on_tape,
};
use ppo::distributions::{Distribution, normal};
use ppo::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Relative tolerance: each value is computed in `f64` from the `f32` inputs and rounded once.
const RTOL: f64 = 1e-5;
const SCALE: f32 = 2.0;

/// The largest relative error of `actual` against `expected`, below `floor` absolute.
fn check(what: &str, actual: &[f32], expected: &[f64], floor: f64) -> f64 {
    let actual: Vec<f64> = actual.iter().map(|&x| f64::from(x)).collect();
    let (error, at) = max_relative_error(&actual, expected, floor);
    assert!(
        error <= RTOL,
        "{what}: element {at}: {} vs {} (relative error {error:.2e})",
        actual[at],
        expected[at]
    );
    println!("{what}: largest relative error {error:.2e}");
    error
}

fn column(fixture: &Fixture, name: &str) -> Tensor {
    let values = fixture.get(name).f32s();
    Tensor::from_vec(&[values.len(), 1], values)
}

/// `torch.*` (|z| ≤ 6) and `mpmath.*` (|z| from 9 to 100, where `f64`'s tanh is within
/// 2·10⁻⁸ of 1 or equal to it): the log-probability and its three derivatives, eager and on
/// the tape. PyTorch recovers z by atanh, to about 5·10⁻¹²: where a derivative crosses 0
/// (`∂/∂σ` at `|z − μ| = σ`), that is its floor.
#[test]
fn log_prob_and_grads_match_pytorch_and_mpmath() {
    let fixture = Fixture::load("tanh_normal.txt");
    for (group, floor) in [("torch", 1e-6), ("mpmath", f64::from(f32::MIN_POSITIVE))] {
        let [mean, std, z] =
            ["mean", "std", "z"].map(|n| column(&fixture, &format!("{group}.{n}")));
        let plain: Vec<f32> = (0..mean.len())
            .map(|i| tanh_normal::log_prob(mean.row(i), std.row(i), z.row(i), SCALE))
            .collect();
        let expected = &fixture.get(&format!("{group}.log_prob")).values;
        check(&format!("{group} log_prob"), &plain, expected, floor);

        let mut tape = Tape::new();
        let [m, s, x] = [&mean, &std, &z].map(|t| tape.param(t));
        let log_prob = log_prob_on_tape(&mut tape, m, s, x, SCALE);
        assert_eq!(tape.value(log_prob).data(), plain, "the tape and the plain function agree");
        let loss = tape.sum(log_prob);
        tape.backward(loss);
        for (var, name) in [(m, "dmean"), (s, "dstd"), (x, "dz")] {
            let expected = &fixture.get(&format!("{group}.dlog_prob_{name}")).values;
            check(&format!("{group} dlog_prob_{name}"), tape.grad(var).data(), expected, floor);
        }
    }
}

/// A `[5, 3]` batch at scale 0.5: the sum over action dimensions, and the gradient of
/// `Σ w·ln π` with respect to μ and σ, against PyTorch.
#[test]
fn batch_log_prob_sums_over_action_dims_like_pytorch() {
    let fixture = Fixture::load("tanh_normal.txt");
    let load = |name: &str| {
        let array = fixture.get(name);
        Tensor::from_vec(&array.shape, array.f32s())
    };
    let mut tape = Tape::new();
    let mean = tape.param(&load("batch.mean"));
    let std = tape.param(&load("batch.std"));
    let z = tape.constant(&load("batch.z"));
    let weights = tape.constant(&load("batch.weights"));
    let log_prob = log_prob_on_tape(&mut tape, mean, std, z, 0.5);
    check(
        "batch log_prob",
        tape.value(log_prob).data(),
        &fixture.get("batch.log_prob").values,
        1e-6,
    );
    let weighted = tape.mul(log_prob, weights);
    let loss = tape.sum(weighted);
    tape.backward(loss);
    for (var, name) in [(mean, "grad_mean"), (std, "grad_std")] {
        let expected = &fixture.get(&format!("batch.{name}")).values;
        check(&format!("batch {name}"), tape.grad(var).data(), expected, 1e-6);
    }
}

// ANCHOR: hermgauss_test
/// The hand-computed Gauss–Hermite rules against NumPy's, node for node and weight for
/// weight, from 1 to 128 points.
#[test]
fn gauss_hermite_rules_match_numpy_hermgauss() {
    let fixture = Fixture::load("tanh_normal.txt");
    let (mut node_error, mut weight_error) = (0.0f64, 0.0f64);
    for n in [1, 2, 3, 5, 10, 20, 32, 64, 100, 128] {
        let rule = gauss_hermite(n);
        let nodes = &fixture.get(&format!("hermgauss.n{n}.nodes")).values;
        let weights = &fixture.get(&format!("hermgauss.n{n}.weights")).values;
        for (&(x, w), (&x_ref, &w_ref)) in rule.iter().zip(nodes.iter().zip(weights)) {
            node_error = node_error.max((x - x_ref).abs() / x_ref.abs().max(1.0));
            weight_error = weight_error.max((w - w_ref).abs() / w_ref);
        }
    }
    println!("Gauss–Hermite: nodes within {node_error:.1e}, weights within {weight_error:.1e}");
    assert!(node_error < 1e-14, "nodes: {node_error:e}");
    assert!(weight_error < 1e-11, "weights: {weight_error:e}");
}
// ANCHOR_END: hermgauss_test

/// The rule integrates `e^(−x²)·x^(2j)` exactly for `2j < 2n`: `Γ(j + ½)`, here from
/// `Γ(½) = √π` and `Γ(j + 3/2) = (j + ½)·Γ(j + ½)`.
#[test]
fn gauss_hermite_integrates_even_moments_exactly() {
    let nodes = 64;
    let rule = gauss_hermite(nodes);
    let mut gamma = std::f64::consts::PI.sqrt();
    for j in 0..nodes {
        let moment: f64 = rule.iter().map(|&(x, w)| w * x.powi(2 * j as i32)).sum();
        assert!((moment / gamma - 1.0).abs() < 1e-12, "x^{}: {moment} vs {gamma}", 2 * j);
        gamma *= j as f64 + 0.5;
        if !gamma.is_finite() {
            break;
        }
    }
}

fn entropy_grid(fixture: &Fixture) -> (Vec<f64>, Vec<f64>) {
    let mean = fixture.get("entropy.mean").values.clone();
    (mean, fixture.get("entropy.std").values.clone())
}

// ANCHOR: quadrature_error
/// The quadrature's error against mpmath's 30-digit `E[ln(1 − tanh² z)]` over μ from −20 to
/// 1000 and σ from 10⁻⁴ to 1000: for one rule of each size everywhere, and for 64 points
/// without the frequency form (printed with `--nocapture`, by band of σ); and for the
/// crate's rules, which must be within 2·10⁻⁹.
#[test]
fn quadrature_error_is_below_2e_9_on_the_grid() {
    let fixture = Fixture::load("tanh_normal.txt");
    let (mean, std) = entropy_grid(&fixture);
    let reference = &fixture.get("entropy.expected_log_det").values;
    let bands = [0.2, 0.4, 0.6, 1.2, 10.0, 1e3];
    let worst_by_band = |quadrature: &Quadrature| {
        let mut worst = [0.0f64; 6];
        for i in 0..mean.len() {
            let error = (quadrature.expected_log_det(mean[i], std[i]) - reference[i]).abs();
            let band = bands.iter().position(|&top| std[i] <= top).unwrap();
            worst[band] = worst[band].max(error);
        }
        worst
    };
    let show = |worst: [f64; 6]| worst.map(|e| format!("{e:.0e}"));
    println!("largest error for σ up to {bands:?}:");
    for nodes in [8, 16, 32, 48, 64, 96] {
        println!("{nodes:3} points: {:?}", show(worst_by_band(&Quadrature::with_nodes(nodes))));
    }
    let in_z = worst_by_band(&Quadrature::in_z_only(64));
    println!(" 64 points, in z only: {:?}", show(in_z));
    let errors = worst_by_band(&Quadrature::new());
    println!("{RULES:?}: {:?}", show(errors));
    assert!(errors.iter().all(|&e| e < 2e-9), "{errors:?}");
}
// ANCHOR_END: quadrature_error

/// The entropy and its two derivatives, eager and on the tape, against the reference
/// `½ + ½ln 2π + ln σ + ln 2 + E[…]`, `−2 E[tanh z]`, `1/σ − 2σ E[sech² z]`. The floor,
/// 10⁻³ (an absolute 10⁻⁸ below it), covers the quadrature's own error.
#[test]
fn entropy_and_grads_match_the_reference() {
    let fixture = Fixture::load("tanh_normal.txt");
    let [mean, std] = ["entropy.mean", "entropy.std"].map(|n| column(&fixture, n));
    let plain: Vec<f32> =
        (0..mean.len()).map(|i| tanh_normal::entropy(mean.row(i), std.row(i), SCALE)).collect();
    check("entropy", &plain, &fixture.get("entropy.entropy").values, 1e-3);
    let mut tape = Tape::new();
    let [m, s] = [&mean, &std].map(|t| tape.param(t));
    let entropy = entropy_on_tape(&mut tape, m, s, SCALE);
    assert_eq!(tape.value(entropy).data(), plain);
    let loss = tape.sum(entropy);
    tape.backward(loss);
    for (var, name) in [(m, "dentropy_dmean"), (s, "dentropy_dstd")] {
        let expected = &fixture.get(&format!("entropy.{name}")).values;
        check(name, tape.grad(var).data(), expected, 1e-3);
    }
}

/// Where the quadrature changes rule (σ = 0.2, 0.4, 0.6) or form (σ = 1.2; |μ| = 6σ beyond
/// it), the two sides agree within 3·10⁻⁸ (relative above 1) in value and derivatives: the
/// switch is invisible in `f32`. The largest difference is printed.
#[test]
fn the_rules_agree_where_they_meet() {
    let quadrature = Quadrature::new();
    let just = |x: f64, up: bool| if up { x * (1.0 + 1e-15) } else { x * (1.0 - 1e-15) };
    let mut points = Vec::new();
    for &(edge, _) in &RULES {
        for ratio in [0.0, 0.3, 1.0, 3.0, 5.9] {
            let (below, above) = (just(edge, false), just(edge, true));
            points.push(((ratio * edge, below), (ratio * edge, above)));
        }
    }
    for std in [1.3, 2.0, 10.0, 1e3, 1e6] {
        let edge = 6.0 * std;
        points.push(((just(edge, true), std), (just(edge, false), std)));
    }
    let mut largest = 0.0_f64;
    for ((m0, s0), (m1, s1)) in points {
        let (v0, v1) = (quadrature.expected_log_det(m0, s0), quadrature.expected_log_det(m1, s1));
        let (g0, g1) =
            (quadrature.expected_log_det_grad(m0, s0), quadrature.expected_log_det_grad(m1, s1));
        let difference = |a: f64, b: f64| (a - b).abs() / a.abs().max(1.0);
        largest = largest.max(difference(v0, v1)).max(difference(g0.0, g1.0));
        largest = largest.max(difference(g0.1, g1.1));
        let close = |a: f64, b: f64| difference(a, b) < 3e-8;
        assert!(close(v0, v1), "μ {m0}, σ {s0}: {v0} vs {v1}");
        assert!(close(g0.0, g1.0) && close(g0.1, g1.1), "μ {m0}, σ {s0}: {g0:?} vs {g1:?}");
    }
    println!("where the rules meet: values and derivatives within {largest:.1e}");
}

/// μ within a few units, σ in `[low, high)`, z a draw from each.
fn inputs(shape: [usize; 2], (low, high): (f32, f32), seed: u64) -> [Tensor; 3] {
    let mut r = rng(seed);
    let mean = Tensor::randn(&shape, &mut r).scale(1.5);
    let std = Tensor::rand_uniform(&shape, low, high, &mut r);
    let z = mean.add(&std.mul(&Tensor::randn(&shape, &mut r)));
    [mean, std, z]
}

/// Both operations against central finite differences; the entropy with σ where the rule
/// works in z (σ ≤ 1.2) and where it works in frequency (σ from 2 to 8).
#[test]
fn log_prob_and_entropy_grads_match_finite_differences() {
    let cases =
        [([1, 1], (0.3, 1.2)), ([7, 1], (0.3, 1.2)), ([5, 3], (2.0, 8.0)), ([16, 2], (0.3, 8.0))];
    for (i, &(shape, range)) in cases.iter().enumerate() {
        let [mean, std, z] = inputs(shape, range, 100 + i as u64);
        let result = gradcheck(&[mean.clone(), std.clone(), z], |tape, v| {
            let y = log_prob_on_tape(tape, v[0], v[1], v[2], SCALE);
            probe(tape, y, 7)
        });
        assert!(result.is_ok(), "log_prob {shape:?}: {}", result.unwrap_err());
        let result = gradcheck(&[mean, std], |tape, v| {
            let y = entropy_on_tape(tape, v[0], v[1], SCALE);
            probe(tape, y, 8)
        });
        assert!(result.is_ok(), "entropy {shape:?}: {}", result.unwrap_err());
    }
}

#[test]
fn the_stable_log_det_is_exact_at_both_ends_and_even() {
    assert_eq!(log_one_minus_tanh_squared(0.0), 0.0);
    for z in [0.1f64, 0.7, 2.0, 5.0] {
        let direct = (1.0 - z.tanh().powi(2)).ln();
        assert!((log_one_minus_tanh_squared(z) - direct).abs() < 1e-12 * direct.abs().max(1.0));
        assert_eq!(log_one_minus_tanh_squared(-z), log_one_minus_tanh_squared(z));
    }
    // Far out, sech² z = 4e^(−2|z|) to the last bit; the naive form is −∞ from |z| ≈ 19.
    for z in [30.0f64, 1e3, 1e6, 1e30] {
        assert_eq!(log_one_minus_tanh_squared(z), 2.0 * (std::f64::consts::LN_2 - z));
        assert_eq!((1.0 - z.tanh().powi(2)).ln(), f64::NEG_INFINITY);
    }
}

// ANCHOR: sample_test
/// 100 000 draws: z has mean μ and variance σ² (within 5 standard errors), the actions
/// `2 tanh z` have the mean `2 E[tanh z]` that the quadrature gives (`−½ ∂/∂μ` of its
/// expectation), and the mean of `−ln π` over the draws is the entropy, which is its
/// definition: `H = E[−ln π(a)]`.
#[test]
fn sample_moments_and_mean_negative_log_prob_match_the_quadrature() {
    let (mu, sigma) = ([0.3f32, -1.2], [0.5f32, 1.7]);
    let distribution = TanhNormal { dims: 2, scale: SCALE };
    let n = 100_000;
    let mut r = rng(9);
    let (mut z, mut action) = ([0.0f32; 2], [0.0f32; 2]);
    let mut sums = [[0.0f64; 2]; 3];
    let (mut neg_log_prob, mut neg_log_prob_sq) = (0.0f64, 0.0f64);
    for _ in 0..n {
        distribution.sample(&[&mu, &sigma], &mut r, &mut z);
        distribution.to_action(&z, &mut action);
        for j in 0..2 {
            let (zj, aj) = (f64::from(z[j]), f64::from(action[j]));
            assert!(aj.abs() < f64::from(SCALE));
            sums[0][j] += zj;
            sums[1][j] += zj * zj;
            sums[2][j] += aj;
        }
        let x = -f64::from(distribution.log_prob(&[&mu, &sigma], &z));
        neg_log_prob += x;
        neg_log_prob_sq += x * x;
    }
    let n_f = n as f64;
    let quadrature = Quadrature::new();
    for j in 0..2 {
        let (m, s) = (f64::from(mu[j]), f64::from(sigma[j]));
        let mean = sums[0][j] / n_f;
        let variance = sums[1][j] / n_f - mean * mean;
        assert!((mean - m).abs() < 5.0 * s / n_f.sqrt(), "mean {mean}");
        assert!((variance - s * s).abs() < 5.0 * s * s * (2.0 / n_f).sqrt(), "variance {variance}");
        let expected_action = -0.5 * quadrature.expected_log_det_grad(m, s).0 * f64::from(SCALE);
        // |a| < 2, so its standard deviation is below 2.
        let action_mean = sums[2][j] / n_f;
        assert!((action_mean - expected_action).abs() < 5.0 * 2.0 / n_f.sqrt(), "{action_mean}");
    }
    let mean = neg_log_prob / n_f;
    let sd = (neg_log_prob_sq / n_f - mean * mean).sqrt();
    let entropy = f64::from(distribution.entropy(&[&mu, &sigma]));
    println!(
        "E[−ln π] = {mean:.4} ± {:.4} over {n} draws, quadrature H = {entropy:.4}",
        sd / n_f.sqrt()
    );
    assert!((mean - entropy).abs() < 5.0 * sd / n_f.sqrt(), "E[−ln π] {mean} vs H {entropy}");
}
// ANCHOR_END: sample_test

// ANCHOR: extreme_test
/// Every head output with μ from −10⁶ to 10⁶ and σ from 10⁻⁹ to 10⁹: sampling, the mode, the
/// action (within the bounds), the log-probability of its own samples and mode with its
/// gradients, the entropy with its gradients: all finite. The log-probability of every
/// sample under every other head output is finite too (its gradient in σ can exceed
/// `f32::MAX` there: `(z − μ)²/σ³` with `z − μ` of 10⁹ and σ of 10⁻⁹).
#[test]
fn extreme_head_outputs_give_no_nan_or_infinity() {
    let means = [0.0f32, 1.0, -1.0, 20.0, -20.0, 1e3, -1e3, 1e6, -1e6];
    let stds = [1e-9f32, 1e-5, 1e-2, 1.0, 1.3, 10.0, 1e3, 1e6, 1e9];
    let distribution = TanhNormal { dims: 1, scale: SCALE };
    let mut r = rng(4);
    let (mut rows, mut samples) = (Vec::new(), Vec::new());
    for &m in &means {
        for &s in &stds {
            for draw in 0..4 {
                let mut z = [0.0];
                if draw == 0 {
                    distribution.mode(&[&[m], &[s]], &mut z);
                    assert_eq!(z, [m]);
                } else {
                    distribution.sample(&[&[m], &[s]], &mut r, &mut z);
                }
                let mut action = [0.0];
                distribution.to_action(&z, &mut action);
                assert!(z[0].is_finite() && action[0].abs() <= SCALE, "μ {m}, σ {s}: z {z:?}");
                let log_p = distribution.log_prob(&[&[m], &[s]], &z);
                assert!(log_p.is_finite(), "μ {m}, σ {s}, z {z:?}: ln π {log_p}");
                rows.push((m, s));
                samples.push(z[0]);
            }
            let entropy = distribution.entropy(&[&[m], &[s]]);
            assert!(entropy.is_finite(), "μ {m}, σ {s}: H {entropy}");
        }
    }
    for &(m, s) in &rows {
        for &z in &samples {
            let log_p = tanh_normal::log_prob(&[m], &[s], &[z], SCALE);
            assert!(log_p.is_finite(), "μ {m}, σ {s}, z {z}: ln π {log_p}");
        }
    }
    let n = rows.len();
    let mean = Tensor::from_vec(&[n, 1], rows.iter().map(|r| r.0).collect());
    let std = Tensor::from_vec(&[n, 1], rows.iter().map(|r| r.1).collect());
    let mut tape = Tape::new();
    let (m, s) = (tape.param(&mean), tape.param(&std));
    let z = tape.constant(&Tensor::from_vec(&[n, 1], samples));
    let log_prob = log_prob_on_tape(&mut tape, m, s, z, SCALE);
    let entropy = entropy_on_tape(&mut tape, m, s, SCALE);
    let a = tape.sum(log_prob);
    let b = tape.sum(entropy);
    let loss = tape.add(a, b);
    tape.backward(loss);
    for var in [log_prob, entropy] {
        assert!(tape.value(var).data().iter().all(|x| x.is_finite()));
    }
    for var in [m, s] {
        assert!(tape.grad(var).data().iter().all(|x| x.is_finite()), "{:?}", tape.grad(var));
    }
}
// ANCHOR_END: extreme_test

/// In the limit σ → 0 the action is `scale·tanh(μ)` with certainty: the entropy is the
/// Normal's plus `ln scale + ln(1 − tanh² μ)`, and the log-probability of `z = μ` the
/// Normal's peak less the same two terms.
#[test]
fn small_std_limits() {
    let (m, s) = (0.8f32, 1e-4f32);
    let log_det = log_one_minus_tanh_squared(f64::from(m));
    let ln_scale = f64::from(SCALE).ln();
    let entropy = f64::from(tanh_normal::entropy(&[m], &[s], SCALE));
    let expected = f64::from(normal::entropy(&[s])) + ln_scale + log_det;
    assert!((entropy - expected).abs() < 1e-6, "{entropy} vs {expected}");
    let log_p = f64::from(tanh_normal::log_prob(&[m], &[s], &[m], SCALE));
    let expected = f64::from(normal::log_prob(&[m], &[s], &[m])) - ln_scale - log_det;
    assert!((log_p - expected).abs() < 1e-5, "{log_p} vs {expected}");
}

#[test]
fn the_buffer_holds_z_and_the_action_is_scale_tanh_z() {
    let distribution = TanhNormal { dims: 3, scale: 0.5 };
    assert_eq!(distribution.sample_width(), 3);
    let mut action = [0.0; 3];
    distribution.to_action(&[0.0, 1.0, -40.0], &mut action);
    assert_eq!(action, [0.0, (0.5 * 1f64.tanh()) as f32, -0.5]);
    // The mode's action is the median scale·tanh(μ).
    let mut z = [0.0; 3];
    distribution.mode(&[&[0.1, -2.0, 9.0], &[1.0; 3]], &mut z);
    assert_eq!(z, [0.1, -2.0, 9.0]);
}

#[test]
#[should_panic(expected = "tanh_normal_log_prob (mean, std, z): shapes [[4, 2], [4, 2], [4, 1]]")]
fn log_prob_on_tape_names_the_shapes_on_a_mismatch() {
    let mut tape = Tape::new();
    let m = tape.param(&Tensor::zeros(&[4, 2]));
    let s = tape.param(&Tensor::filled(&[4, 2], 1.0));
    let z = tape.constant(&Tensor::zeros(&[4, 1]));
    log_prob_on_tape(&mut tape, m, s, z, SCALE);
}

#[test]
#[should_panic(expected = "tanh_normal::entropy (mean, std): lengths [2, 3] differ")]
fn entropy_names_the_lengths_on_a_mismatch() {
    tanh_normal::entropy(&[0.0; 2], &[1.0; 3], SCALE);
}
