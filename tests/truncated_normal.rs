//! The truncated Normal of `src/distributions/truncated_normal.rs`: log-probability,
//! entropy and their derivatives against mpmath at 80 digits (with SciPy's
//! `scipy.stats.truncnorm` beside it), recorded by `tools/pytorch_bounded_fixtures.py`; the
//! fused tape operations against finite differences; the sampler against the exact
//! inverse-CDF quantiles and the exact moments; and a sweep of extreme head outputs through
//! every method, which must never produce a NaN or an infinity.

mod common;

use common::{Fixture, max_scaled_error, probe};
use ppo::Distribution;
use ppo::autodiff::{GradCheck, Tape, gradcheck_with};
use ppo::distributions::Randomness;
use ppo::distributions::truncated_normal::{self, TruncatedNormal};
use ppo::tensor::Tensor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Relative tolerance against the exact values: every output is computed in `f64` and
/// rounded once to `f32`, so it is met everywhere on the grid, including σ from 10⁻⁹ to
/// 10⁹ and means 10⁶ outside the box.
const RTOL: f64 = 1e-6;

/// The largest `|actual − expected| / max(|expected|, scale[i])` and where it occurs.
fn worst(actual: &[f32], expected: &[f64], scale: &[f64]) -> (f64, usize) {
    let actual: Vec<f64> = actual.iter().map(|&a| f64::from(a)).collect();
    max_scaled_error(&actual, expected, scale)
}

fn assert_close(what: &str, actual: &[f32], expected: &[f64], scale: &[f64]) -> f64 {
    assert_within(RTOL, what, actual, expected, scale)
}

fn assert_within(rtol: f64, what: &str, actual: &[f32], expected: &[f64], scale: &[f64]) -> f64 {
    let (error, at) = worst(actual, expected, scale);
    println!("{what}: largest relative error {error:.2e} ({} points)", actual.len());
    assert!(
        error <= rtol,
        "{what}: element {at}: {} vs exact {} (relative error {error:.2e})",
        actual[at],
        expected[at]
    );
    error
}

/// One box of the fixture: its bounds and its grid as `[n, 1]` tensors.
struct Grid<'a> {
    fixture: &'a Fixture,
    prefix: String,
    low: f32,
    high: f32,
}

impl Grid<'_> {
    fn load(fixture: &Fixture, box_index: usize) -> Grid<'_> {
        let prefix = format!("box{box_index}");
        let bounds = fixture.get(&format!("{prefix}.bounds")).f32s();
        Grid { fixture, prefix, low: bounds[0], high: bounds[1] }
    }
    fn values(&self, name: &str) -> &[f64] {
        &self.fixture.get(&format!("{}.{name}", self.prefix)).values
    }
    fn column(&self, name: &str) -> Tensor {
        let values = self.fixture.get(&format!("{}.{name}", self.prefix)).f32s();
        Tensor::from_vec(&[values.len(), 1], values)
    }
    fn distribution(&self) -> TruncatedNormal {
        TruncatedNormal { dims: 1, low: self.low, high: self.high }
    }
}

fn no_floor(n: usize) -> Vec<f64> {
    vec![f64::MIN_POSITIVE; n]
}

// ANCHOR: fixture_test
/// `ln π(a)` and its three derivatives against mpmath, at every grid point. The values are
/// compared with no floor at all; the derivatives with respect to μ and σ relative to
/// `max(|exact|, 1/σ)`: where the box is much narrower than σ the distribution is nearly
/// uniform, both derivatives vanish like `(width/σ)²/σ`, and `1/σ` is their natural unit.
#[test]
fn log_prob_and_grads_match_mpmath_with_means_far_outside_and_extreme_std() {
    let fixture = Fixture::load("truncated_normal.txt");
    for b in 0..2 {
        let grid = Grid::load(&fixture, b);
        let (policy, [mean, std, action]) =
            (grid.distribution(), ["mean", "std", "action"].map(|n| grid.column(n)));
        let n = mean.len();
        let plain: Vec<f32> =
            (0..n).map(|i| policy.log_prob(&[mean.row(i), std.row(i)], action.row(i))).collect();
        let exact = grid.values("log_prob");
        assert_close(&format!("box {b} log_prob"), &plain, exact, &no_floor(n));
        // Far outside: log-probabilities near −10²⁴ and near +10¹⁶ (σ = 10⁻⁹ against a bound).
        assert!(exact.iter().any(|&v| v < -1e24) && exact.iter().any(|&v| v > 20.0));
        report_scipy(&plain, grid.values("log_prob_scipy"));

        let mut tape = Tape::new();
        let [m, s, a] = [&mean, &std, &action].map(|t| tape.param(t));
        let y = policy.log_prob_on_tape(&mut tape, &[m, s], a);
        assert_eq!(tape.value(y).data(), plain, "the tape and the plain function agree exactly");
        let loss = tape.sum(y);
        tape.backward(loss);
        let per_std: Vec<f64> = std.data().iter().map(|&s| 1.0 / f64::from(s)).collect();
        for (var, name, scale) in
            [(m, "dmean", &per_std), (s, "dstd", &per_std), (a, "daction", &no_floor(n))]
        {
            let what = format!("box {b} d log_prob / {}", &name[1..]);
            assert_close(&what, tape.grad(var).data(), grid.values(name), scale);
        }
    }
}
// ANCHOR_END: fixture_test

/// The entropy's σ-derivative is the one quantity that loses more than an `f32` rounding: it
/// is `1 − α·∂h/∂α − β·∂h/∂β`, two terms of size β² that cancel to about 2, each known to
/// `ε·qβ²` (`q = Φ(α)/Φ(β)`). The loss peaks where the box lies about 10³ standard deviations
/// into a tail and is only a few tail scales wide (a mean 10⁶ outside with σ ≈ 10³), at
/// 2·10⁻⁶ of `1/σ`; for means within 10⁵ of the box it is one `f32` rounding (the test prints both).
const SIGMA_RTOL: f64 = 5e-6;

#[test]
fn entropy_and_grads_match_mpmath_with_means_far_outside_and_extreme_std() {
    let fixture = Fixture::load("truncated_normal.txt");
    for b in 0..2 {
        let grid = Grid::load(&fixture, b);
        let (policy, [mean, std]) =
            (grid.distribution(), ["params_mean", "params_std"].map(|n| grid.column(n)));
        let n = mean.len();
        let plain: Vec<f32> = (0..n).map(|i| policy.entropy(&[mean.row(i), std.row(i)])).collect();
        assert_close(&format!("box {b} entropy"), &plain, grid.values("entropy"), &no_floor(n));
        report_scipy(&plain, grid.values("entropy_scipy"));

        let mut tape = Tape::new();
        let [m, s] = [&mean, &std].map(|t| tape.param(t));
        let y = policy.entropy_on_tape(&mut tape, &[m, s]);
        assert_eq!(tape.value(y).data(), plain);
        let loss = tape.sum(y);
        tape.backward(loss);
        let per_std: Vec<f64> = std.data().iter().map(|&s| 1.0 / f64::from(s)).collect();
        for (var, name, rtol) in [(m, "dentropy_dmean", RTOL), (s, "dentropy_dstd", SIGMA_RTOL)] {
            let what = format!("box {b} {name}");
            assert_within(rtol, &what, tape.grad(var).data(), grid.values(name), &per_std);
            // The same without the means 10⁶ away, where SIGMA_RTOL's loss lives.
            let near: Vec<usize> = (0..n).filter(|&i| mean.data()[i].abs() < 1e5).collect();
            let pick = |v: &[f64]| near.iter().map(|&i| v[i]).collect::<Vec<f64>>();
            let ours: Vec<f32> = near.iter().map(|&i| tape.grad(var).data()[i]).collect();
            let (error, _) = worst(&ours, &pick(grid.values(name)), &pick(&per_std));
            println!("  for |μ| < 10⁵: {error:.2e}");
            assert!(error <= RTOL);
        }
    }
}

/// How far SciPy's `truncnorm` is from the exact values where it is finite: it loses the
/// normalizer when both bounds are deep in one tail (the test prints where).
fn report_scipy(ours: &[f32], scipy: &[f64]) {
    let finite: Vec<usize> = (0..scipy.len()).filter(|&i| scipy[i].is_finite()).collect();
    let ours_f: Vec<f32> = finite.iter().map(|&i| ours[i]).collect();
    let scipy_f: Vec<f64> = finite.iter().map(|&i| scipy[i]).collect();
    let (error, _) = worst(&ours_f, &scipy_f, &no_floor(finite.len()));
    let off = finite
        .iter()
        .filter(|&&i| (f64::from(ours[i]) - scipy[i]).abs() > 1e-5 * scipy[i].abs())
        .count();
    println!(
        "  SciPy: finite at {}/{} points; beyond 1e-5 of ours at {off} of them (largest {error:.1e})",
        finite.len(),
        scipy.len()
    );
}

/// μ from 2.5 below to 2.5 above the box [−2, 2], σ in [0.3, 2], actions anywhere in the
/// box: where an `f32` finite difference with step 10⁻² resolves the curvature. The
/// extremes are covered by the mpmath grid.
fn inputs(batch: usize, dims: usize, seed: u64) -> [Tensor; 3] {
    let mut r = rng(seed);
    let mean = Tensor::rand_uniform(&[batch, dims], -4.5, 4.5, &mut r);
    let std = Tensor::rand_uniform(&[batch, dims], 0.3, 2.0, &mut r);
    let action = Tensor::rand_uniform(&[batch, dims], -1.9, 1.9, &mut r);
    [mean, std, action]
}

/// Finite differences of an `f32` log-probability of size ~10 need a looser absolute
/// tolerance than the default.
const CHECK: GradCheck = GradCheck { step: 1e-2, rtol: 1e-2, atol: 2e-3 };

#[test]
fn fused_ops_grads_match_finite_differences() {
    let policy = TruncatedNormal { dims: 3, low: -2.0, high: 2.0 };
    for (i, &(batch, dims)) in [(1, 1), (7, 1), (5, 3), (32, 2)].iter().enumerate() {
        let policy = TruncatedNormal { dims, ..policy };
        let [mean, std, action] = inputs(batch, dims, 100 + i as u64);
        let result = gradcheck_with(CHECK, &[mean.clone(), std.clone(), action], |tape, v| {
            let y = policy.log_prob_on_tape(tape, &[v[0], v[1]], v[2]);
            probe(tape, y, 7)
        });
        assert!(result.is_ok(), "log_prob [{batch}, {dims}]: {}", result.unwrap_err());
        let result = gradcheck_with(CHECK, &[mean, std], |tape, v| {
            let y = policy.entropy_on_tape(tape, &[v[0], v[1]]);
            probe(tape, y, 8)
        });
        assert!(result.is_ok(), "entropy [{batch}, {dims}]: {}", result.unwrap_err());
    }
}

/// Uniform draws replayed from a list: the sampler's output for a given `u` can then be
/// compared with the exact quantile.
struct Replay(Vec<f64>);
impl Randomness for Replay {
    fn standard_normal(&mut self) -> f32 {
        unreachable!("the truncated Normal draws uniforms only")
    }
    fn uniform(&mut self) -> f64 {
        self.0.remove(0)
    }
    fn shuffle(&mut self, _: &mut [usize]) {
        unreachable!()
    }
    fn generator(&mut self) -> &mut dyn Rng {
        unreachable!()
    }
}

// ANCHOR: quantile_test
/// The sample for a uniform `u` is the exact `u`-quantile `μ + σΦ⁻¹(Φ(α) + u(Φ(β) − Φ(α)))`,
/// rounded once to `f32`, for `u` from 0 to `1 − 2⁻⁵³` and boxes from the centre of the
/// distribution to 10¹⁵ standard deviations into its tail.
#[test]
fn sample_is_the_exact_inverse_cdf_quantile_even_deep_in_a_tail() {
    let fixture = Fixture::load("truncated_normal.txt");
    let cases = fixture.get("sampler.cases").f32s();
    let uniforms = &fixture.get("sampler.uniforms").values;
    let quantiles = &fixture.get("sampler.quantiles").values;
    let policy = TruncatedNormal { dims: 1, low: -2.0, high: 2.0 };
    let mut worst = 0.0f64;
    for (c, pair) in cases.chunks_exact(2).enumerate() {
        for (k, &u) in uniforms.iter().enumerate() {
            let mut action = [0.0];
            policy.sample(&[&pair[..1], &pair[1..]], &mut Replay(vec![u]), &mut action);
            let exact = quantiles[c * uniforms.len() + k];
            // One f32 rounding of the exact quantile: half an f32 step at its magnitude (at
            // least at 10⁻⁶, for a quantile at 0 in a box of width 4).
            let half_step = f64::from(f32::EPSILON) * exact.abs().max(1e-6) / 2.0;
            let error = (f64::from(action[0]) - exact).abs() / half_step;
            worst = worst.max(error);
            assert!(
                error <= 1.0 + 1e-6,
                "μ = {}, σ = {}, u = {u}: sample {} vs exact quantile {exact}",
                pair[0],
                pair[1],
                action[0]
            );
        }
    }
    println!("largest sampling error: {worst:.3} of half an f32 step");
}
// ANCHOR_END: quantile_test

/// 200 000 draws for each case of the fixture (a box around the mean, a mean 50σ above the
/// box, 1000σ below it, σ = 1000 over a box of width 4, σ = 10⁻⁹ with the mean 10⁶ away…):
/// every sample lies in the box, the sample mean is within 5 standard errors of the exact
/// mean, and the sample variance within 5 standard errors of the exact variance (the
/// standard error of a variance is `√((μ₄ − σ⁴)/n)`, from the exact fourth moment). Where
/// the spread is below `f32` resolution, half an `f32` step (the samples' rounding) is added
/// to the bound.
#[test]
fn sample_moments_match_the_exact_truncated_moments_and_stay_in_the_box() {
    let fixture = Fixture::load("truncated_normal.txt");
    let cases = fixture.get("sampler.cases").f32s();
    let moments = &fixture.get("sampler.moments").values;
    let policy = TruncatedNormal { dims: 1, low: -2.0, high: 2.0 };
    let n = 200_000;
    let mut r = rng(21);
    for (c, pair) in cases.chunks_exact(2).enumerate() {
        let [mean, variance, fourth] = [0, 1, 2].map(|k| moments[3 * c + k]);
        let (mut sum, mut sum_sq) = (0.0f64, 0.0f64);
        let mut action = [0.0];
        for _ in 0..n {
            policy.sample(&[&pair[..1], &pair[1..]], &mut r, &mut action);
            assert!((-2.0..=2.0).contains(&action[0]), "{pair:?}: sample {} outside", action[0]);
            let a = f64::from(action[0]);
            sum += a;
            sum_sq += (a - mean) * (a - mean);
        }
        let n_f = f64::from(n);
        let sample_mean = sum / n_f;
        let sample_variance = sum_sq / n_f - (sample_mean - mean).powi(2);
        let rounding = f64::from(f32::EPSILON) * mean.abs() / 2.0;
        let mean_bound = 5.0 * (variance / n_f).sqrt() + rounding;
        let variance_bound =
            5.0 * ((fourth - variance * variance).max(0.0) / n_f).sqrt() + rounding * rounding;
        println!(
            "μ = {:e}, σ = {:e}: mean {sample_mean:.9e} (exact {mean:.9e}), variance {sample_variance:.4e} (exact {variance:.4e})",
            pair[0], pair[1]
        );
        assert!(
            (sample_mean - mean).abs() <= mean_bound,
            "{pair:?}: mean off by more than {mean_bound:e}"
        );
        assert!(
            (sample_variance - variance).abs() <= variance_bound,
            "{pair:?}: variance off by more than {variance_bound:e}"
        );
    }
}

/// The entropy is `E[−ln π(a)]`: over 200 000 samples the mean of `−ln π` matches it to 5
/// standard errors, for a box around the mean and for a mean 50σ above the box, where the
/// normalizer is about `Φ(−50) ≈ 10⁻⁵⁴⁵`.
#[test]
fn mean_negative_log_prob_of_samples_is_the_entropy() {
    let policy = TruncatedNormal { dims: 2, low: -2.0, high: 2.0 };
    let (mean, std) = ([0.4f32, 7.0], [1.3f32, 0.1]);
    let params: [&[f32]; 2] = [&mean, &std];
    let n = 200_000;
    let mut r = rng(5);
    let (mut sum, mut sum_sq) = (0.0f64, 0.0f64);
    let mut action = [0.0; 2];
    for _ in 0..n {
        policy.sample(&params, &mut r, &mut action);
        let v = -f64::from(policy.log_prob(&params, &action));
        sum += v;
        sum_sq += v * v;
    }
    let n_f = f64::from(n);
    let (average, spread) = (sum / n_f, (sum_sq / n_f - (sum / n_f).powi(2)).sqrt());
    let entropy = f64::from(policy.entropy(&params));
    assert!(
        (average - entropy).abs() < 5.0 * spread / n_f.sqrt(),
        "E[−ln π] {average} vs H {entropy}"
    );
}

// ANCHOR: sweep
/// Every method on every combination of extreme head outputs: μ from −10⁶ to 10⁶ (inside,
/// at, and far beyond the bounds), σ from 10⁻⁹ to 10⁹. Samples lie in the box; every
/// log-probability (of samples, of both bounds and of the mode), entropy and gradient is
/// finite.
#[test]
fn extreme_head_outputs_give_no_nan_or_infinity() {
    let policy = TruncatedNormal { dims: 1, low: -2.0, high: 2.0 };
    let means = [-1e6, -1e3, -50.0, -2.5, -2.0, -1.999, 0.0, 1.999, 2.0, 2.5, 50.0, 1e3, 1e6];
    let stds = [1e-9, 1e-6, 1e-3, 0.1, 1.0, 10.0, 1e3, 1e6, 1e9];
    let mut r = rng(3);
    let (mut means_col, mut stds_col, mut actions_col) = (vec![], vec![], vec![]);
    for &m in &means {
        for &s in &stds {
            let params: [&[f32]; 2] = [&[m], &[s]];
            let mut mode = [0.0];
            policy.mode(&params, &mut mode);
            let mut points = vec![-2.0, 2.0, mode[0]];
            for _ in 0..8 {
                let mut a = [0.0];
                policy.sample(&params, &mut r, &mut a);
                assert!((-2.0..=2.0).contains(&a[0]), "μ = {m}, σ = {s}: sample {}", a[0]);
                points.push(a[0]);
            }
            for &a in &points {
                let value = policy.log_prob(&params, &[a]);
                assert!(value.is_finite(), "μ = {m}, σ = {s}: ln π({a}) = {value}");
                means_col.push(m);
                stds_col.push(s);
                actions_col.push(a);
            }
            assert!(policy.entropy(&params).is_finite(), "μ = {m}, σ = {s}: entropy");
        }
    }
    let n = means_col.len();
    let column = |v: Vec<f32>| Tensor::from_vec(&[n, 1], v);
    let (mean, std, action) = (column(means_col), column(stds_col), column(actions_col));
    let mut tape = Tape::new();
    let [m, s, a] = [&mean, &std, &action].map(|t| tape.param(t));
    let log_prob = policy.log_prob_on_tape(&mut tape, &[m, s], a);
    let entropy = policy.entropy_on_tape(&mut tape, &[m, s]);
    let both = tape.add(log_prob, entropy);
    let loss = tape.sum(both);
    tape.backward(loss);
    for (var, name) in [(m, "mean"), (s, "std"), (a, "action")] {
        let grad = tape.grad(var).data();
        let bad = grad.iter().position(|g| !g.is_finite());
        assert!(
            bad.is_none(),
            "gradient of {name} at row {bad:?}: μ, σ, a = {}, {}, {}",
            mean.data()[bad.unwrap()],
            std.data()[bad.unwrap()],
            action.data()[bad.unwrap()]
        );
    }
}
// ANCHOR_END: sweep

#[test]
fn mode_is_the_mean_clamped_to_the_box() {
    let policy = TruncatedNormal { dims: 3, low: -2.0, high: 2.0 };
    let mut out = [0.0; 3];
    policy.mode(&[&[-7.0, 0.5, 2.5], &[1.0; 3]], &mut out);
    assert_eq!(out, [-2.0, 0.5, 2.0]);
}

/// Closed forms: with the box symmetric about the mean the density at the mean is
/// `φ(0)/(σ(2Φ(β) − 1))`; with σ huge the distribution is uniform on the box, with
/// log-density and entropy `∓ln(width)`.
#[test]
fn log_prob_and_entropy_closed_forms() {
    let policy = TruncatedNormal { dims: 1, low: -1.0, high: 1.0 };
    // β = 1: 2Φ(1) − 1 = erf(1/√2) = 0.682689492137086.
    let expected = -(0.5 * (2.0 * std::f64::consts::PI).ln()) - 0.682_689_492_137_086f64.ln();
    assert!((f64::from(policy.log_prob(&[&[0.0], &[1.0]], &[0.0])) - expected).abs() < 1e-6);
    let uniform: [&[f32]; 2] = [&[0.3], &[1e9]];
    assert!((policy.log_prob(&uniform, &[0.7]) + 2f32.ln()).abs() < 1e-6);
    assert!((policy.entropy(&uniform) - 2f32.ln()).abs() < 1e-6);
    assert_eq!(
        truncated_normal::log_prob(&[0.3, 0.3], &[1e9, 1e9], &[0.7, -0.2], -1.0, 1.0),
        -2.0 * 2f32.ln()
    );
}

#[test]
#[should_panic(
    expected = "truncated_normal_log_prob (mean, std, action): shapes [[4, 2], [4, 2], [4, 1]]"
)]
fn log_prob_on_tape_names_the_shapes_on_a_mismatch() {
    let policy = TruncatedNormal { dims: 2, low: -2.0, high: 2.0 };
    let mut tape = Tape::new();
    let m = tape.param(&Tensor::zeros(&[4, 2]));
    let s = tape.param(&Tensor::filled(&[4, 2], 1.0));
    let a = tape.constant(&Tensor::zeros(&[4, 1]));
    policy.log_prob_on_tape(&mut tape, &[m, s], a);
}

#[test]
#[should_panic(
    expected = "truncated_normal_entropy (mean, std): the bounds [2, -2] are not an interval"
)]
fn a_box_with_no_inside_is_refused() {
    let policy = TruncatedNormal { dims: 1, low: 2.0, high: -2.0 };
    let mut tape = Tape::new();
    let m = tape.param(&Tensor::zeros(&[4, 1]));
    let s = tape.param(&Tensor::filled(&[4, 1], 1.0));
    policy.entropy_on_tape(&mut tape, &[m, s]);
}
