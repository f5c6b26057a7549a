//! The Categorical distribution. Log-probability and entropy, and their gradients, against
//! `torch.distributions.Categorical` and against exact values from mpmath (both recorded by
//! `tools/pytorch_categorical_fixtures.py`); the fused tape operations against finite
//! differences; sampling against its definition (scripted draws) and its frequencies; the
//! mode; extreme logits; and the joint operation the trainer uses, bit for bit against the
//! two separate ones.

mod common;

use common::{Fixture, max_scaled_error, probe};
use ppo::autodiff::{Tape, gradcheck};
use ppo::distributions::categorical::{
    self, Categorical, entropy_on_tape, log_prob_and_entropy_on_tape, log_prob_on_tape,
};
use ppo::distributions::{Distribution, Randomness};
use ppo::tensor::Tensor;
use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Relative tolerance. Every value is computed in `f64` from the `f32` logits and rounded
/// once, so it holds with no floor other than the smallest normal `f32` (below it an `f32`
/// has fewer significant bits).
const RTOL: f64 = 1e-5;
const FLOOR: f64 = f32::MIN_POSITIVE as f64;

const CHOICES: [usize; 4] = [2, 3, 5, 10];

fn relative_error(what: &str, actual: &[f32], expected: &[f64], floor: &[f64]) -> f64 {
    let actual: Vec<f64> = actual.iter().map(|&x| f64::from(x)).collect();
    let (error, at) = max_scaled_error(&actual, expected, floor);
    assert!(
        error <= RTOL,
        "{what}: element {at}: {} vs {} (relative error {error:.2e})",
        actual[at],
        expected[at]
    );
    error
}

/// Against the exact values: relative, floored at the smallest normal `f32`.
fn against_exact(what: &str, actual: &[f32], expected: &[f64]) -> f64 {
    relative_error(what, actual, expected, &vec![FLOOR; expected.len()])
}

/// Against PyTorch: its float64 log-sum-exp is exact only to a few ulps of the row's largest
/// logit (it computes `1 − p` for a `p` within 10⁻¹³ of 1 as a difference of numbers near
/// 1, and is wrong there by 1%, as the fixture's header records against mpmath). So each
/// element may also differ by `16·ε·max(1, max|ℓ|)` of its row, ε the `f64` epsilon: its
/// floor is that over `RTOL`. (`expected` holds one value per row, or one per logit.)
fn against_pytorch(what: &str, actual: &[f32], expected: &[f64], logits: &Tensor) -> f64 {
    let rows = logits.shape()[0];
    let floors: Vec<f64> = (0..expected.len())
        .map(|i| {
            let row = logits.row(i * rows / expected.len());
            let largest = row.iter().fold(1.0f64, |m, &l| m.max(f64::from(l).abs()));
            16.0 * f64::EPSILON * largest / RTOL
        })
        .collect();
    relative_error(what, actual, expected, &floors)
}

/// The grid for `k` choices: logits `[n, k]`, choices `[n, 1]`.
fn grid(fixture: &Fixture, k: usize) -> (Tensor, Tensor) {
    let logits = fixture.get(&format!("k{k}.logits"));
    let choice = fixture.get(&format!("k{k}.choice")).f32s();
    (Tensor::from_vec(&logits.shape, logits.f32s()), Tensor::from_vec(&[choice.len(), 1], choice))
}

fn report(what: &str, errors: (f64, f64)) {
    println!("{what}: largest relative error {:.2e} (exact), {:.2e} (PyTorch)", errors.0, errors.1);
}

#[test]
fn log_prob_and_entropy_match_exact_values_and_pytorch() {
    let fixture = Fixture::load("categorical.txt");
    let (mut log_prob_errors, mut entropy_errors) = ((0.0f64, 0.0f64), (0.0f64, 0.0f64));
    for k in CHOICES {
        let (logits, choice) = grid(&fixture, k);
        let n = logits.shape()[0];
        let plain: Vec<f32> =
            (0..n).map(|i| categorical::log_prob(logits.row(i), choice.data()[i])).collect();
        let name = |what: &str| format!("k{k}.{what}");
        let exact =
            against_exact(&name("log_prob"), &plain, &fixture.get(&name("exact_log_prob")).values);
        let torch = against_pytorch(
            &name("log_prob"),
            &plain,
            &fixture.get(&name("log_prob")).values,
            &logits,
        );
        log_prob_errors = (log_prob_errors.0.max(exact), log_prob_errors.1.max(torch));

        let entropy: Vec<f32> = (0..n).map(|i| categorical::entropy(logits.row(i))).collect();
        let exact =
            against_exact(&name("entropy"), &entropy, &fixture.get(&name("exact_entropy")).values);
        let torch = against_pytorch(
            &name("entropy"),
            &entropy,
            &fixture.get(&name("entropy")).values,
            &logits,
        );
        entropy_errors = (entropy_errors.0.max(exact), entropy_errors.1.max(torch));

        // The tape computes the same numbers, bit for bit.
        let mut tape = Tape::new();
        let (l, c) = (tape.param(&logits), tape.constant(&choice));
        let on_tape = log_prob_on_tape(&mut tape, l, c);
        assert_eq!(tape.value(on_tape).data(), plain);
        let on_tape = entropy_on_tape(&mut tape, l);
        assert_eq!(tape.value(on_tape).data(), entropy);
    }
    report("log_prob", log_prob_errors);
    report("entropy", entropy_errors);
}

// ANCHOR: grid_grads
/// `∂ ln p_a/∂ℓⱼ = 1[j = a] − pⱼ` and `∂H/∂ℓⱼ = −pⱼ(ln pⱼ + H)`, from the fused operations'
/// backward rules, against mpmath's numerical derivatives and PyTorch's autograd, on every
/// (row, choice) of the grid: near-certain rows (gradients of 10⁻¹³), logits of ±10⁴.
#[test]
fn gradients_match_exact_values_and_pytorch() {
    let fixture = Fixture::load("categorical.txt");
    let (mut log_prob_errors, mut entropy_errors) = ((0.0f64, 0.0f64), (0.0f64, 0.0f64));
    for k in CHOICES {
        let (logits, choice) = grid(&fixture, k);
        let name = |what: &str| format!("k{k}.{what}");
        let mut tape = Tape::new();
        let (l, c) = (tape.param(&logits), tape.constant(&choice));
        let log_prob = log_prob_on_tape(&mut tape, l, c);
        let loss = tape.sum(log_prob);
        tape.backward(loss);
        let grad = tape.grad(l).data().to_vec();
        let exact =
            against_exact(&name("dlog_prob"), &grad, &fixture.get(&name("exact_dlog_prob")).values);
        let torch = against_pytorch(
            &name("dlog_prob"),
            &grad,
            &fixture.get(&name("dlog_prob")).values,
            &logits,
        );
        log_prob_errors = (log_prob_errors.0.max(exact), log_prob_errors.1.max(torch));

        tape.clear();
        let l = tape.param(&logits);
        let entropy = entropy_on_tape(&mut tape, l);
        let loss = tape.sum(entropy);
        tape.backward(loss);
        let grad = tape.grad(l).data().to_vec();
        let exact =
            against_exact(&name("dentropy"), &grad, &fixture.get(&name("exact_dentropy")).values);
        let torch = against_pytorch(
            &name("dentropy"),
            &grad,
            &fixture.get(&name("dentropy")).values,
            &logits,
        );
        entropy_errors = (entropy_errors.0.max(exact), entropy_errors.1.max(torch));
    }
    report("dlog_prob/dlogits", log_prob_errors);
    report("dentropy/dlogits", entropy_errors);
}
// ANCHOR_END: grid_grads

/// A `[6, 4]` batch through both operations, and the gradient of
/// `Σ w·ln p(a) + Σ v·H` with respect to the logits, against PyTorch.
#[test]
fn weighted_batch_loss_and_its_gradient_match_pytorch() {
    let fixture = Fixture::load("categorical.txt");
    let load = |name: &str| {
        let array = fixture.get(name);
        Tensor::from_vec(&array.shape, array.f32s())
    };
    let logits = load("batch.logits");
    let mut tape = Tape::new();
    let l = tape.param(&logits);
    let c = tape.constant(&load("batch.choice").reshape(&[6, 1]));
    let w = tape.constant(&load("batch.weights_log_prob"));
    let v = tape.constant(&load("batch.weights_entropy"));
    let log_prob = log_prob_on_tape(&mut tape, l, c);
    let entropy = entropy_on_tape(&mut tape, l);
    for (var, name) in [(log_prob, "batch.log_prob"), (entropy, "batch.entropy")] {
        let value = tape.value(var).data().to_vec();
        against_pytorch(name, &value, &fixture.get(name).values, &logits);
    }
    let weighted_log_prob = tape.mul(log_prob, w);
    let weighted_entropy = tape.mul(entropy, v);
    let a = tape.sum(weighted_log_prob);
    let b = tape.sum(weighted_entropy);
    let loss = tape.add(a, b);
    tape.backward(loss);
    let value = tape.value(loss).data().to_vec();
    against_pytorch("batch.loss", &value, &fixture.get("batch.loss").values, &logits);
    let grad = tape.grad(l).data().to_vec();
    against_pytorch("batch.grad_logits", &grad, &fixture.get("batch.grad_logits").values, &logits);
}

fn random_logits(batch: usize, k: usize, seed: u64) -> (Tensor, Tensor) {
    let mut r = rng(seed);
    let logits = Tensor::randn(&[batch, k], &mut r).scale(2.0);
    let choice = (0..batch).map(|_| r.random_range(0..k) as f32).collect();
    (logits, Tensor::from_vec(&[batch, 1], choice))
}

/// Both operations against central finite differences. The choice is an input too: its
/// finite difference (a step of 0.02 rounds to the same index) is 0, as its gradient is.
#[test]
fn log_prob_and_entropy_grads_match_finite_differences() {
    for (i, &(batch, k)) in [(1, 2), (7, 3), (5, 5), (16, 10)].iter().enumerate() {
        let (logits, choice) = random_logits(batch, k, 100 + i as u64);
        let result = gradcheck(&[logits.clone(), choice], |tape, v| {
            let y = log_prob_on_tape(tape, v[0], v[1]);
            probe(tape, y, 7)
        });
        assert!(result.is_ok(), "log_prob [{batch}, {k}]: {}", result.unwrap_err());
        let result = gradcheck(&[logits], |tape, v| {
            let y = entropy_on_tape(tape, v[0]);
            probe(tape, y, 8)
        });
        assert!(result.is_ok(), "entropy [{batch}, {k}]: {}", result.unwrap_err());
    }
}

/// The joint operation through the same checks.
#[test]
fn the_joint_operation_matches_finite_differences() {
    for (i, &(batch, k)) in [(1, 1), (1, 2), (7, 3), (16, 10)].iter().enumerate() {
        let (logits, choice) = random_logits(batch, k, 200 + i as u64);
        let result = gradcheck(&[logits, choice], |tape, v| {
            let (log_probs, entropies) = log_prob_and_entropy_on_tape(tape, v[0], v[1]);
            let a = probe(tape, log_probs, 9);
            let b = probe(tape, entropies, 10);
            tape.add(a, b)
        });
        assert!(result.is_ok(), "joint [{batch}, {k}]: {}", result.unwrap_err());
    }
}

/// Logits of every kind: ordinary, far apart, −∞ (a choice that cannot be made), tied.
fn assorted_logits(batch: usize, k: usize, seed: u64) -> (Tensor, Tensor) {
    let (mut logits, choice) = random_logits(batch, k, seed);
    let mut r = rng(seed + 1);
    let specials = [f32::NEG_INFINITY, 1e4, -1e4, 0.0, 30.0, 1e-30];
    for (i, x) in logits.data_mut().iter_mut().enumerate() {
        if r.random_bool(0.2) {
            *x = specials[i % specials.len()];
        }
    }
    // A chosen logit of −∞ has probability 0: make each row's choice possible.
    for b in 0..batch {
        let a = choice.data()[b] as usize;
        if logits.data()[b * k + a] == f32::NEG_INFINITY {
            logits.data_mut()[b * k + a] = -3.0;
        }
    }
    (logits, choice)
}

/// Weights that include +0 and −0, as the clipped objective sends back for clipped rows,
/// and, with `all_zero`, an entropy bonus of 0.
fn weights(batch: usize, seed: u64, all_zero: bool) -> Tensor {
    let mut r = rng(seed);
    let mut w = Tensor::randn(&[batch], &mut r);
    for x in w.data_mut() {
        match r.random_range(0..4) {
            0 => *x = 0.0,
            1 => *x = -0.0,
            _ if all_zero => *x = 0.0,
            _ => {}
        }
    }
    w
}

/// The trainer records `ln p(a)` and `H` with one operation that prepares each row once;
/// every value and every gradient bit must be what [`LogProb`] and [`Entropy`] give, with
/// the logits also used by another operation before and after (the gradients accumulate in
/// the same order), with weights of ±0 and with no entropy bonus at all.
#[test]
fn the_joint_operation_gives_the_bits_of_the_two_separate_ones() {
    let bits = |t: &Tensor| t.data().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for (i, &(batch, k)) in [(1, 1), (9, 2), (40, 3), (33, 7)].iter().enumerate() {
        for entropy_off in [false, true] {
            let seed = 300 + 10 * i as u64;
            let (logits, choice) = assorted_logits(batch, k, seed);
            let (w, v) = (weights(batch, seed + 2, false), weights(batch, seed + 3, entropy_off));
            let u = Tensor::randn(&[batch, k], &mut rng(seed + 4));
            let run = |joint: bool| {
                let mut tape = Tape::new();
                let l = tape.param(&logits);
                let (c, w, v, u) = (
                    tape.constant(&choice),
                    tape.constant(&w),
                    tape.constant(&v),
                    tape.constant(&u),
                );
                let before = tape.mul(l, u);
                let (log_probs, entropies) = if joint {
                    log_prob_and_entropy_on_tape(&mut tape, l, c)
                } else {
                    (log_prob_on_tape(&mut tape, l, c), entropy_on_tape(&mut tape, l))
                };
                let after = tape.mul(l, u);
                let terms = [
                    tape.mul(log_probs, w),
                    tape.mul(entropies, v),
                    tape.sum(before),
                    tape.sum(after),
                ];
                let sums = [tape.sum(terms[0]), tape.sum(terms[1]), terms[2], terms[3]];
                let ab = tape.add(sums[0], sums[1]);
                let abc = tape.add(ab, sums[2]);
                let loss = tape.add(abc, sums[3]);
                tape.backward(loss);
                let values = [tape.value(log_probs), tape.value(entropies), tape.grad(l)];
                values.map(bits)
            };
            let what = format!("[{batch}, {k}], entropy bonus off: {entropy_off}");
            let (separate, joint) = (run(false), run(true));
            // A choice of probability 0 (logit −∞) must add nothing, not 0·(−∞) = NaN.
            let finite = joint.iter().flatten().all(|&x| f32::from_bits(x).is_finite());
            assert!(finite, "a value or gradient of {what} is not finite");
            assert_eq!(joint[0], separate[0], "log-probabilities of {what}");
            assert_eq!(joint[1], separate[1], "entropies of {what}");
            assert_eq!(joint[2], separate[2], "gradient of {what}");
        }
    }
}

#[test]
#[should_panic(
    expected = "categorical_log_prob_and_entropy (logits, choice): shapes [4, 3] and [3, 1] must be [batch, choices] and [batch, 1]"
)]
fn the_joint_operation_names_the_shapes_on_a_mismatch() {
    let mut tape = Tape::new();
    let l = tape.param(&Tensor::zeros(&[4, 3]));
    let c = tape.constant(&Tensor::zeros(&[3, 1]));
    log_prob_and_entropy_on_tape(&mut tape, l, c);
}

#[test]
#[should_panic(expected = "categorical: choice 5 is not an index below 3")]
fn the_joint_operation_rejects_a_choice_out_of_range() {
    let mut tape = Tape::new();
    let l = tape.param(&Tensor::zeros(&[2, 3]));
    let c = tape.constant(&Tensor::from_vec(&[2, 1], vec![0.0, 5.0]));
    log_prob_and_entropy_on_tape(&mut tape, l, c);
}

/// A [`Randomness`] that hands out given uniform draws, in order.
struct Scripted {
    uniforms: Vec<f64>,
    generator: StdRng,
}

impl Randomness for Scripted {
    fn standard_normal(&mut self) -> f32 {
        unreachable!("a categorical sample draws no normal numbers")
    }
    fn uniform(&mut self) -> f64 {
        self.uniforms.remove(0)
    }
    fn shuffle(&mut self, _: &mut [usize]) {
        unreachable!("a categorical sample shuffles nothing")
    }
    fn generator(&mut self) -> &mut dyn Rng {
        &mut self.generator
    }
}

fn draws(logits: &[f32], uniforms: &[f64]) -> Vec<usize> {
    let mut scripted = Scripted { uniforms: uniforms.to_vec(), generator: rng(0) };
    uniforms.iter().map(|_| categorical::sample(logits, &mut scripted)).collect()
}

// ANCHOR: walk_test
/// Probabilities 1/6, 2/6, 3/6 divide [0, 1) at 1/6 and 1/2: each draw lands in the
/// interval of its choice, one draw per sample. (The logits are `f32`, so the boundaries are
/// exact only to about 10⁻⁷: the draws keep 10⁻⁶ from them.) The largest draw below 1 takes the last
/// choice of nonzero probability, never one of probability 0 (nor does a draw of 1, which a
/// [`Randomness`] should not return).
#[test]
fn one_uniform_draw_walks_the_cumulative_probabilities() {
    let logits = [2f32.ln(), 4f32.ln(), 6f32.ln()];
    let below_one = 1.0 - f64::EPSILON / 2.0;
    let uniforms = [0.0, 1.0 / 6.0 - 1e-6, 1.0 / 6.0 + 1e-6, 0.5 - 1e-6, 0.5 + 1e-6, below_one];
    assert_eq!(draws(&logits, &uniforms), [0, 0, 1, 1, 2, 2]);
    // A last choice of probability 0 (its logit 10⁴ below the others) is never drawn.
    assert_eq!(draws(&[0.0, 0.0, -1e4], &[0.5 - 1e-9, 0.5 + 1e-9, below_one, 1.0]), [0, 1, 1, 1]);
    // Nor a first one.
    assert_eq!(draws(&[-1e4, 0.0, 0.0], &[0.0, 0.5 + 1e-9]), [1, 2]);
    assert_eq!(draws(&[3.0], &[0.0, below_one]), [0, 0]);
    // A draw exactly on a boundary belongs to the interval that starts there: [0, 1) and
    // [1, 2) for two equal weights, scaled by S = 2.
    assert_eq!(draws(&[0.0, 0.0], &[0.5]), [1]);
    // Weights relative to the largest logit: e^(ℓ + 400) would overflow to ∞ and lose them.
    assert_eq!(draws(&[400.0, 0.0], &[0.0, 0.5, below_one]), [0, 0, 0]);
}
// ANCHOR_END: walk_test

// ANCHOR: frequencies
/// 200 000 draws from six choices (probabilities from 0.36% to 54%): Pearson's statistic
/// `X² = Σ (countⱼ − n·pⱼ)²/(n·pⱼ)` follows a χ² law with 5 degrees of freedom if the
/// sampler is right, and exceeds 35.89 with probability 10⁻⁶. The same counts are then
/// tested against two wrong answers, to show that the bound can fail: the probabilities one
/// choice over (an off-by-one walk) give X² near 2.3·10⁶, and a softmax 3% too flat (logits
/// times 0.97) about 113.
#[test]
fn sample_frequencies_match_the_probabilities() {
    let logits = [1.0f32, -0.5, 2.0, 0.0, -3.0, 0.7];
    let n = 200_000;
    let mut counts = [0usize; 6];
    let mut r = rng(2024);
    for _ in 0..n {
        counts[categorical::sample(&logits, &mut r)] += 1;
    }
    let pearson = |logits: &[f32]| {
        let p: Vec<f64> =
            (0..6).map(|j| f64::from(categorical::log_prob(logits, j as f32)).exp()).collect();
        (0..6)
            .map(|j| (counts[j] as f64 - n as f64 * p[j]).powi(2) / (n as f64 * p[j]))
            .sum::<f64>()
    };
    const BOUND: f64 = 35.89; // scipy.stats.chi2.isf(1e-6, 5)
    let statistic = pearson(&logits);
    println!("X² = {statistic:.2} over {n} draws, counts {counts:?}");
    assert!(statistic < BOUND, "X² = {statistic} (counts {counts:?})");
    let mut shifted = logits;
    shifted.rotate_right(1);
    let off_by_one = pearson(&shifted);
    let too_flat = pearson(&logits.map(|l| 0.97 * l));
    println!("the same counts against an off-by-one walk: X² = {off_by_one:.3e}");
    println!("the same counts against a softmax 3% too flat: X² = {too_flat:.1}");
    assert!(off_by_one > 1e6);
    assert!(too_flat > 3.0 * BOUND);
}
// ANCHOR_END: frequencies

#[test]
fn mode_is_the_largest_logit_and_ties_go_to_the_lowest_index() {
    assert_eq!(categorical::mode(&[0.1, 3.0, -2.0]), 1);
    assert_eq!(categorical::mode(&[1.0, 3.0, 3.0, 2.0]), 1);
    assert_eq!(categorical::mode(&[-1e4, -1e4]), 0);
    assert_eq!(categorical::mode(&[7.0]), 0);
    let distribution = Categorical { choices: 4 };
    let mut out = [f32::NAN];
    distribution.mode(&[&[0.0, -1.0, 2.5, 2.5]], &mut out);
    assert_eq!(out, [2.0]);
}

/// Closed forms: equal logits give `ln p = −ln n` and `H = ln n`; a single choice is
/// certain; logits 10⁴ apart make the likelier choice certain to `f64` precision.
#[test]
fn closed_forms() {
    for n in [1usize, 2, 3, 7] {
        let logits = vec![0.3f32; n];
        let ln_n = (n as f64).ln() as f32;
        assert_eq!(categorical::entropy(&logits), ln_n);
        assert_eq!(categorical::log_prob(&logits, (n - 1) as f32), -ln_n);
        // The same through the trait the trainer and the programs use.
        let distribution = Categorical { choices: n };
        assert_eq!(distribution.entropy(&[&logits]), ln_n);
        assert_eq!(distribution.log_prob(&[&logits], &[(n - 1) as f32]), -ln_n);
    }
    assert_eq!(categorical::log_prob(&[-1e4, 1e4], 0.0), -2e4);
    assert_eq!(categorical::log_prob(&[-1e4, 1e4], 1.0), 0.0);
    // One logit 30 above another: H = p·(30 + ln(1 + e⁻³⁰))-ish, 9.4·10⁻¹³·31 in size.
    let (rest, c) = ((-30f64).exp(), (-30f64).exp().ln_1p());
    let h = c + rest / (1.0 + rest) * 30.0;
    let error = (f64::from(categorical::entropy(&[30.0, 0.0])) / h - 1.0).abs();
    assert!(error < 1e-7, "{error:e}");
}

/// Every method on every row of logits drawn from values as large as `f32` allows (their
/// spread at most `f32::MAX`): finite log-probabilities (≤ 0), entropies in `[0, ln n]`,
/// gradients within ±1, samples that are possible choices.
#[test]
fn extreme_logits_give_no_nan_or_infinity() {
    let values = [0.0f32, 1.0, -1.0, 30.0, -30.0, 1e4, -1e4, 1e30, -1e30, 1.7e38, -1.7e38, 1e-30];
    let mut rows = Vec::new();
    for &a in &values {
        for &b in &values {
            for &c in &values {
                rows.extend([a, b, c]);
            }
        }
    }
    let batch = rows.len() / 3;
    let logits = Tensor::from_vec(&[batch, 3], rows);
    let mut r = rng(3);
    let distribution = Categorical { choices: 3 };
    let mut choices = Vec::with_capacity(batch);
    for i in 0..batch {
        let row = logits.row(i);
        let mut out = [0.0];
        distribution.sample(&[row], &mut r, &mut out);
        let log_p = distribution.log_prob(&[row], &out);
        assert!(log_p.is_finite() && log_p <= 0.0, "{row:?}: sampled {out:?}, ln p {log_p}");
        let entropy = distribution.entropy(&[row]);
        assert!((0.0..=3f32.ln()).contains(&entropy), "{row:?}: H = {entropy}");
        for a in 0..3 {
            let log_p = categorical::log_prob(row, a as f32);
            assert!(log_p.is_finite() && log_p <= 0.0, "{row:?}: ln p({a}) = {log_p}");
        }
        choices.push(out[0]);
    }
    let mut tape = Tape::new();
    let l = tape.param(&logits);
    let c = tape.constant(&Tensor::from_vec(&[batch, 1], choices));
    let log_prob = log_prob_on_tape(&mut tape, l, c);
    let entropy = entropy_on_tape(&mut tape, l);
    let a = tape.sum(log_prob);
    let b = tape.sum(entropy);
    let loss = tape.add(a, b);
    tape.backward(loss);
    let bounded = |x: &f32| x.is_finite() && x.abs() <= 2.0;
    assert!(tape.grad(l).data().iter().all(bounded), "a gradient beyond ±2");
}

#[test]
fn the_distribution_stores_the_choice_as_one_value() {
    let distribution = Categorical { choices: 3 };
    assert_eq!(distribution.sample_width(), 1);
    let mut action = [0.0];
    distribution.to_action(&[2.0], &mut action);
    assert_eq!(action, [2.0]);
    let mut out = [f32::NAN];
    let logits: [f32; 3] = [-1e4, 5.0, -1e4];
    distribution.sample(&[&logits], &mut rng(1), &mut out);
    assert_eq!(out, [1.0]);
}

#[test]
#[should_panic(expected = "categorical: choice 3 is not an index below 3")]
fn log_prob_of_a_choice_out_of_range_panics() {
    categorical::log_prob(&[0.0, 1.0, 2.0], 3.0);
}

#[test]
#[should_panic(
    expected = "categorical_log_prob (logits, choice): shapes [4, 3] and [4, 2] must be [batch, choices] and [batch, 1]"
)]
fn log_prob_on_tape_names_the_shapes_on_a_mismatch() {
    let mut tape = Tape::new();
    let l = tape.param(&Tensor::zeros(&[4, 3]));
    let c = tape.constant(&Tensor::zeros(&[4, 2]));
    log_prob_on_tape(&mut tape, l, c);
}
