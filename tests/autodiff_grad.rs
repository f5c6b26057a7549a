//! Gradient checks: every differentiable operation of the tape, alone and composed, against
//! central finite differences, on random inputs of several shapes. Inputs are kept away from
//! kinks (relu at 0, clamp edges, ties in minimum); the subgradient chosen at each kink is
//! tested exactly, separately.

use ppo::autodiff::{
    AddBiasRelu, AddBiasTanh, Backward, GradCheck, LayerRelu, LayerTanh, Op, Params, Tape, Var,
    gradcheck, gradcheck_with,
};
use ppo::tensor::Tensor;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const SHAPES: [[usize; 2]; 4] = [[1, 1], [3, 5], [8, 16], [64, 3]];

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Uniform values in `[low, high)`, with a random sign when `signed`.
fn uniform(shape: &[usize], low: f32, high: f32, signed: bool, rng: &mut StdRng) -> Tensor {
    let mut t = Tensor::rand_uniform(shape, low, high, rng);
    if signed {
        t.data_mut().iter_mut().for_each(|x| {
            if rng.random::<bool>() {
                *x = -*x
            }
        });
    }
    t
}

// ANCHOR: probe
/// Reduces any output to a scalar through fixed random weights: `Σ w ⊙ y`. A plain sum
/// would check only the sum of each Jacobian's rows; random weights check every entry.
fn probe(tape: &mut Tape, y: Var, seed: u64) -> Var {
    let shape = tape.value(y).shape().to_vec();
    let w = Tensor::randn(&shape, &mut rng(seed));
    let w = tape.constant(&w);
    let weighted = tape.mul(y, w);
    tape.sum(weighted)
}
// ANCHOR_END: probe

/// Checks a one-input op on every test shape, with inputs drawn by `draw`.
fn check_unary(
    name: &str,
    draw: impl Fn(&[usize], &mut StdRng) -> Tensor,
    op: impl Fn(&mut Tape, Var) -> Var,
) {
    for (i, shape) in SHAPES.iter().enumerate() {
        let x = draw(shape, &mut rng(100 + i as u64));
        let result = gradcheck(&[x], |tape, v| {
            let y = op(tape, v[0]);
            probe(tape, y, 7)
        });
        assert!(result.is_ok(), "{name} at shape {shape:?}: {}", result.unwrap_err());
    }
}

/// Checks a two-input elementwise op on every test shape.
fn check_binary(
    name: &str,
    draw: impl Fn(&[usize], &mut StdRng) -> (Tensor, Tensor),
    op: impl Fn(&mut Tape, Var, Var) -> Var,
) {
    for (i, shape) in SHAPES.iter().enumerate() {
        let (a, b) = draw(shape, &mut rng(200 + i as u64));
        let result = gradcheck(&[a, b], |tape, v| {
            let y = op(tape, v[0], v[1]);
            probe(tape, y, 8)
        });
        assert!(result.is_ok(), "{name} at shape {shape:?}: {}", result.unwrap_err());
    }
}

fn normal(shape: &[usize], rng: &mut StdRng) -> Tensor {
    Tensor::randn(shape, rng)
}

fn normal_pair(shape: &[usize], rng: &mut StdRng) -> (Tensor, Tensor) {
    (Tensor::randn(shape, rng), Tensor::randn(shape, rng))
}

#[test]
fn add_sub_mul_grad() {
    check_binary("add", normal_pair, |t, a, b| t.add(a, b));
    check_binary("sub", normal_pair, |t, a, b| t.sub(a, b));
    check_binary("mul", normal_pair, |t, a, b| t.mul(a, b));
}

#[test]
fn div_grad() {
    // Denominators in ±[0.5, 2): far from the pole at 0.
    check_binary(
        "div",
        |s, r| (normal(s, r), uniform(s, 0.5, 2.0, true, r)),
        |t, a, b| t.div(a, b),
    );
}

#[test]
fn neg_and_scalar_ops_grad() {
    check_unary("neg", normal, |t, x| t.neg(x));
    check_unary("add_scalar", normal, |t, x| t.add_scalar(x, 1.5));
    check_unary("mul_scalar", normal, |t, x| t.mul_scalar(x, -2.5));
}

#[test]
fn smooth_activations_grad() {
    check_unary("tanh", normal, |t, x| t.tanh(x));
    check_unary("softplus", |s, r| normal(s, r).scale(3.0), |t, x| t.softplus(x));
    check_unary("exp", normal, |t, x| t.exp(x));
    check_unary("square", normal, |t, x| t.square(x));
    check_unary("ln", |s, r| uniform(s, 0.5, 3.0, false, r), |t, x| t.ln(x));
    check_unary("sqrt", |s, r| uniform(s, 0.5, 3.0, false, r), |t, x| t.sqrt(x));
}

#[test]
fn relu_grad_away_from_the_kink() {
    check_unary("relu", |s, r| uniform(s, 0.05, 2.0, true, r), |t, x| t.relu(x));
}

#[test]
fn clamp_grad_away_from_the_edges() {
    // Values inside (−0.45, 0.45) and outside ±[0.55, 2): every one at least 0.05 from an edge.
    let draw = |s: &[usize], r: &mut StdRng| {
        let mut x = uniform(s, 0.0, 0.45, true, r);
        for v in x.data_mut() {
            if r.random::<bool>() {
                *v = v.signum() * (0.55 + v.abs() * 3.0);
            }
        }
        x
    };
    check_unary("clamp", draw, |t, x| t.clamp(x, -0.5, 0.5));
}

#[test]
fn minimum_grad_away_from_ties() {
    let draw = |s: &[usize], r: &mut StdRng| {
        let a = normal(s, r);
        let gap = uniform(s, 0.05, 1.0, true, r);
        let b = a.add(&gap);
        (a, b)
    };
    check_binary("minimum", draw, |t, a, b| t.minimum(a, b));
}

#[test]
fn reductions_grad() {
    check_unary("sum", normal, |t, x| t.sum(x));
    check_unary("mean", normal, |t, x| t.mean(x));
    check_unary("flatten", normal, |t, x| t.flatten(x));
}

#[test]
fn matmul_grad_at_several_shapes() {
    for (i, &(m, k, n)) in
        [(1, 1, 1), (4, 3, 16), (5, 7, 3), (8, 16, 2), (17, 33, 20)].iter().enumerate()
    {
        let mut r = rng(300 + i as u64);
        let a = Tensor::randn(&[m, k], &mut r);
        let b = Tensor::randn(&[k, n], &mut r);
        let result = gradcheck(&[a, b], |tape, v| {
            let y = tape.matmul(v[0], v[1]);
            probe(tape, y, 9)
        });
        assert!(result.is_ok(), "matmul {m}x{k}·{k}x{n}: {}", result.unwrap_err());
    }
}

#[test]
fn add_bias_grad_for_both_bias_shapes() {
    for (i, bias_shape) in [vec![6], vec![1, 6]].into_iter().enumerate() {
        let mut r = rng(400 + i as u64);
        let x = Tensor::randn(&[5, 6], &mut r);
        let bias = Tensor::randn(&bias_shape, &mut r);
        let result = gradcheck(&[x, bias], |tape, v| {
            let y = tape.add_bias(v[0], v[1]);
            probe(tape, y, 10)
        });
        assert!(result.is_ok(), "add_bias with bias {bias_shape:?}: {}", result.unwrap_err());
    }
}

#[test]
fn bias_and_activation_fused_grad_for_both_bias_shapes() {
    for (i, bias_shape) in [vec![6], vec![1, 6]].into_iter().enumerate() {
        let mut r = rng(450 + i as u64);
        // |x| ≥ 0.5 and |b| ≤ 0.2: every x + b at least 0.3 from the ReLU's kink.
        let x = uniform(&[5, 6], 0.5, 2.0, true, &mut r);
        let bias = uniform(&bias_shape, 0.0, 0.2, true, &mut r);
        for (name, op) in [("relu", &AddBiasRelu as &'static dyn Op), ("tanh", &AddBiasTanh)] {
            let result = gradcheck(&[x.clone(), bias.clone()], |tape, v| {
                let y = tape.apply(op, &[v[0], v[1]], [0.0; 2]);
                probe(tape, y, 11)
            });
            assert!(
                result.is_ok(),
                "add_bias_{name}, bias {bias_shape:?}: {}",
                result.unwrap_err()
            );
        }
    }
}

/// Every bit of a fused bias-and-activation's value and gradients, against the two
/// operations it fuses, on a tape that still holds the last step's gradients and with the
/// input used a second time (so that its gradient is added to, not only written): the
/// fusion must change no number of any network.
#[test]
fn bias_and_activation_fused_give_the_bits_of_the_two_operations() {
    let mut r = rng(460);
    // Values around 0, including exact zeros of x + b, and a probe with negative weights, so
    // that signed zeros and the ReLU's kink both occur.
    let mut x = Tensor::randn(&[33, 7], &mut r);
    let bias = Tensor::randn(&[7], &mut r);
    for j in 0..7 {
        x.set(&[j, j], -bias.get(&[j]));
    }
    let weights = Tensor::randn(&[33, 7], &mut r);
    let run = |tape: &mut Tape, fused: bool, relu: bool| -> Vec<Vec<u32>> {
        tape.clear();
        let (xv, bv, w) = (tape.param(&x), tape.param(&bias), tape.constant(&weights));
        let y = match (fused, relu) {
            (true, true) => tape.apply(&AddBiasRelu, &[xv, bv], [0.0; 2]),
            (true, false) => tape.apply(&AddBiasTanh, &[xv, bv], [0.0; 2]),
            (false, true) => {
                let z = tape.add_bias(xv, bv);
                tape.relu(z)
            }
            (false, false) => {
                let z = tape.add_bias(xv, bv);
                tape.tanh(z)
            }
        };
        let name = if relu { "relu" } else { "tanh" };
        let name = if fused { format!("add_bias_{name}") } else { name.to_string() };
        assert_eq!(tape.recorded(y).0, Some(name.as_str()));
        let again = tape.mul(xv, w);
        let both = tape.add(y, again);
        let weighted = tape.mul(both, w);
        let loss = tape.sum(weighted);
        tape.backward(loss);
        [tape.value(y), tape.grad(xv), tape.grad(bv)]
            .iter()
            .map(|t| t.data().iter().map(|v| v.to_bits()).collect())
            .collect()
    };
    for relu in [true, false] {
        let mut tape = Tape::new();
        let two = run(&mut tape, false, relu);
        let fused = run(&mut tape, true, relu);
        assert_eq!(fused, two, "relu: {relu}: the fused operation's bits differ");
        assert_eq!(run(&mut tape, true, relu), two, "relu: {relu}: again, on a used tape");
    }
}

/// Inputs of a layer whose every `x·W + b` is at least 0.34 from the ReLU's kink: small
/// positive products (at most 4 · 0.2 · 0.2) and biases of at least 0.5 in size, of both
/// signs, so that some columns are cut off and some pass.
fn layer_inputs(
    (m, k, n): (usize, usize, usize),
    bias_shape: &[usize],
    r: &mut StdRng,
) -> [Tensor; 3] {
    let x = uniform(&[m, k], 0.05, 0.2, false, r);
    let w = uniform(&[k, n], 0.05, 0.2, false, r);
    [x, w, uniform(bias_shape, 0.5, 1.0, true, r)]
}

#[test]
fn a_whole_layer_as_one_operation_has_the_gradients_of_its_formula() {
    let layers = [("relu", &LayerRelu as &'static dyn Op), ("tanh", &LayerTanh)];
    for (i, bias_shape) in [vec![6], vec![1, 6]].into_iter().enumerate() {
        let inputs = layer_inputs((7, 4, 6), &bias_shape, &mut rng(470 + i as u64));
        for (name, op) in layers {
            let result = gradcheck(&inputs, |tape, v| {
                let y = tape.apply(op, &[v[0], v[1], v[2]], [0.0; 2]);
                probe(tape, y, 12)
            });
            assert!(result.is_ok(), "layer_{name}, bias {bias_shape:?}: {}", result.unwrap_err());
            // The observations of a first layer: a constant, whose gradient is not computed.
            let result = gradcheck(&inputs[1..], |tape, v| {
                let x = tape.constant(&inputs[0]);
                let y = tape.apply(op, &[x, v[0], v[1]], [0.0; 2]);
                probe(tape, y, 13)
            });
            assert!(result.is_ok(), "layer_{name} of a constant: {}", result.unwrap_err());
        }
    }
}

/// `relu(X·X + b)`: the same value twice among a layer's inputs, so that the tape asks for
/// their gradients one at a time (both into one buffer) rather than all in one call.
#[test]
fn a_layer_whose_input_repeats_adds_both_of_its_gradients() {
    let [x, _, bias] = layer_inputs((5, 5, 5), &[5], &mut rng(480));
    for (name, op) in [("relu", &LayerRelu as &'static dyn Op), ("tanh", &LayerTanh)] {
        let result = gradcheck(&[x.clone(), bias.clone()], |tape, v| {
            let y = tape.apply(op, &[v[0], v[0], v[1]], [0.0; 2]);
            probe(tape, y, 14)
        });
        assert!(result.is_ok(), "layer_{name} of X·X: {}", result.unwrap_err());
    }
}

/// Every bit of a whole-layer operation's value and of its three gradients, against the
/// product followed by the fused bias and activation, on a tape that still holds the last
/// step's gradients, with the input and the weight used once (their gradients written over
/// the stale ones) and used a second time (added to): the layer must change no number of
/// any network.
#[test]
fn a_whole_layer_gives_the_bits_of_the_product_then_the_bias_and_activation() {
    for (seed, (m, k, n)) in [(490, (70, 64, 64)), (491, (9, 3, 17)), (492, (33, 13, 1))] {
        let mut r = rng(seed);
        let x = Tensor::randn(&[m, k], &mut r);
        let w = Tensor::randn(&[k, n], &mut r);
        // Biases that cancel some sums exactly, so that the ReLU's kink and zeros occur.
        let mut bias = Tensor::randn(&[n], &mut r);
        let product = x.matmul(&w);
        for j in 0..n.min(m) {
            bias.set(&[j], -product.get(&[j, j]));
        }
        let (x_weights, w_weights) =
            (Tensor::randn(&[m, k], &mut r), Tensor::randn(&[k, n], &mut r));
        let out_weights = Tensor::randn(&[m, n], &mut r);
        let run = |tape: &mut Tape, whole: bool, relu: bool, twice: bool| -> Vec<Vec<u32>> {
            tape.clear();
            let (xv, wv, bv) = (tape.param(&x), tape.param(&w), tape.param(&bias));
            let y = if whole {
                let layer: &'static dyn Op = if relu { &LayerRelu } else { &LayerTanh };
                tape.apply(layer, &[xv, wv, bv], [0.0; 2])
            } else {
                let z = tape.matmul(xv, wv);
                let fused: &'static dyn Op = if relu { &AddBiasRelu } else { &AddBiasTanh };
                tape.apply(fused, &[z, bv], [0.0; 2])
            };
            let weighted = |tape: &mut Tape, v: Var, weights: &Tensor| {
                let c = tape.constant(weights);
                let product = tape.mul(v, c);
                tape.sum(product)
            };
            let mut loss = weighted(tape, y, &out_weights);
            if twice {
                let (lx, lw) = (weighted(tape, xv, &x_weights), weighted(tape, wv, &w_weights));
                let partial = tape.add(lx, lw);
                loss = tape.add(partial, loss);
            }
            tape.backward(loss);
            [tape.value(y), tape.grad(xv), tape.grad(wv), tape.grad(bv)]
                .iter()
                .map(|t| t.data().iter().map(|v| v.to_bits()).collect())
                .collect()
        };
        for (relu, twice) in [(true, true), (true, false), (false, true), (false, false)] {
            let mut tape = Tape::new();
            let apart = run(&mut tape, false, relu, twice);
            let whole = run(&mut tape, true, relu, twice);
            let case = format!("relu {relu}, used twice {twice}, {m}x{k}x{n}");
            assert_eq!(whole, apart, "{case}: the layer's bits differ");
            assert_eq!(run(&mut tape, true, relu, twice), apart, "{case}: again");
        }
    }
}

// ANCHOR: mlp_grad
/// A 3 → 16 → 16 → 1 network with ReLU then tanh, checked for every weight, bias and
/// input element at once.
///
/// Inside a network the ReLU inputs are not ours to keep away from 0: of 128 pre-activations
/// some lie within 0.01 of the kink, and a step of 1e-2 in a weight crosses it. A step of
/// 1e-3 does not, for these inputs (the test would fail if it did).
#[test]
fn mlp_chain_grad() {
    let mut r = rng(500);
    let inputs = [
        Tensor::randn(&[8, 3], &mut r),
        Tensor::randn(&[3, 16], &mut r).scale(0.5),
        Tensor::randn(&[16], &mut r).scale(0.1),
        Tensor::randn(&[16, 16], &mut r).scale(0.25),
        Tensor::randn(&[16], &mut r).scale(0.1),
        Tensor::randn(&[16, 1], &mut r).scale(0.25),
        Tensor::randn(&[1], &mut r).scale(0.1),
    ];
    let settings = GradCheck { step: 1e-3, ..GradCheck::default() };
    let result = gradcheck_with(settings, &inputs, |tape, v| {
        let h = tape.matmul(v[0], v[1]);
        let h = tape.add_bias(h, v[2]);
        let h = tape.relu(h);
        let h = tape.matmul(h, v[3]);
        let h = tape.add_bias(h, v[4]);
        let h = tape.tanh(h);
        let y = tape.matmul(h, v[5]);
        let y = tape.add_bias(y, v[6]);
        let y = tape.flatten(y);
        let target = tape.constant(&Tensor::from_vec(&[8], vec![0.5; 8]));
        let error = tape.sub(y, target);
        let squared = tape.square(error);
        tape.mean(squared)
    });
    assert!(result.is_ok(), "MLP chain: {}", result.unwrap_err());
}
// ANCHOR_END: mlp_grad

/// A loss shaped like PPO's: a probability ratio, a clipped surrogate through minimum, a
/// squared error, and a log-density through ln, sqrt, softplus and div.
#[test]
fn loss_chain_grad() {
    let mut r = rng(600);
    let log_prob = Tensor::randn(&[32], &mut r).scale(0.1);
    let scale_raw = Tensor::randn(&[32], &mut r);
    let value = Tensor::randn(&[32], &mut r);
    let old_log_prob = log_prob.add(&Tensor::rand_uniform(&[32], 0.25, 0.4, &mut r).map(|x| {
        // Ratios land well inside or well outside [0.8, 1.2], away from the clip edges.
        if x < 0.3 { -x } else { x - 0.3 }
    }));
    let advantages = Tensor::randn(&[32], &mut r);
    let returns = Tensor::randn(&[32], &mut r);
    let result = gradcheck(&[log_prob, scale_raw, value], |tape, v| {
        let old = tape.constant(&old_log_prob);
        let adv = tape.constant(&advantages);
        let ret = tape.constant(&returns);
        let diff = tape.sub(v[0], old);
        let ratio = tape.exp(diff);
        let unclipped = tape.mul(ratio, adv);
        let clipped_ratio = tape.clamp(ratio, 0.8, 1.2);
        let clipped = tape.mul(clipped_ratio, adv);
        let surrogate = tape.minimum(unclipped, clipped);
        let policy_loss = tape.mean(surrogate);
        let policy_loss = tape.neg(policy_loss);
        let value_error = tape.sub(v[2], ret);
        let value_error = tape.square(value_error);
        let value_loss = tape.mean(value_error);
        // A log-density-like term: ln(sqrt(softplus(s)) / (1 + softplus(s))).
        let sigma = tape.softplus(v[1]);
        let root = tape.sqrt(sigma);
        let shifted = tape.add_scalar(sigma, 1.0);
        let quotient = tape.div(root, shifted);
        let log_term = tape.ln(quotient);
        let log_term = tape.mean(log_term);
        let weighted = tape.mul_scalar(log_term, 0.01);
        let total = tape.add(policy_loss, value_loss);
        tape.sub(total, weighted)
    });
    assert!(result.is_ok(), "loss chain: {}", result.unwrap_err());
}

#[test]
fn relu_grad_at_zero_is_zero() {
    let mut tape = Tape::new();
    let x = tape.param(&Tensor::from_vec(&[3], vec![-1.0, 0.0, 1.0]));
    let y = tape.relu(x);
    let loss = tape.sum(y);
    tape.backward(loss);
    assert_eq!(tape.grad(x).data(), [0.0, 0.0, 1.0]);
}

#[test]
fn clamp_grad_at_the_edges_passes_through() {
    let mut tape = Tape::new();
    let x = tape.param(&Tensor::from_vec(&[5], vec![-0.6, -0.5, 0.0, 0.5, 0.6]));
    let y = tape.clamp(x, -0.5, 0.5);
    let loss = tape.sum(y);
    tape.backward(loss);
    assert_eq!(tape.grad(x).data(), [0.0, 1.0, 1.0, 1.0, 0.0]);
}

#[test]
fn minimum_grad_splits_ties_evenly() {
    let mut tape = Tape::new();
    let a = tape.param(&Tensor::from_vec(&[3], vec![1.0, 2.0, 3.0]));
    let b = tape.param(&Tensor::from_vec(&[3], vec![2.0, 2.0, 1.0]));
    let y = tape.minimum(a, b);
    let loss = tape.sum(y);
    tape.backward(loss);
    assert_eq!(tape.grad(a).data(), [1.0, 0.5, 0.0]);
    assert_eq!(tape.grad(b).data(), [0.0, 0.5, 1.0]);
}

#[test]
fn softplus_and_its_grad_stay_finite_for_large_inputs() {
    let mut tape = Tape::new();
    let x = tape.param(&Tensor::from_vec(&[4], vec![-100.0, -20.0, 20.0, 100.0]));
    let y = tape.softplus(x);
    let loss = tape.sum(y);
    tape.backward(loss);
    let values = tape.value(y).data();
    // Closed forms: softplus(x) → eˣ as x → −∞ and → x as x → +∞.
    assert!(values[0] > 0.0 && (values[0] / (-100.0f32).exp() - 1.0).abs() < 1e-3);
    assert!((values[1] / (-20.0f32).exp() - 1.0).abs() < 1e-5);
    assert_eq!(values[2], 20.0);
    assert_eq!(values[3], 100.0);
    // The gradient is the logistic sigmoid 1 / (1 + e^−x): e^−100 (a subnormal f32, kept to
    // within its spacing of 1.4e-45 rather than flushed to 0), e^−20 / (1 + e^−20), and 1
    // to f32 precision at 20 and 100.
    let grads = tape.grad(x).data();
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    assert!((f64::from(grads[0]) - sigmoid(-100.0)).abs() <= 1.5e-45, "{}", grads[0]);
    assert!((f64::from(grads[1]) / sigmoid(-20.0) - 1.0).abs() < 1e-6, "{}", grads[1]);
    assert_eq!((grads[2], grads[3]), (1.0, 1.0));
}

#[test]
fn a_value_used_twice_accumulates_both_grads() {
    let mut tape = Tape::new();
    let x = tape.param(&Tensor::from_vec(&[2], vec![3.0, -1.0]));
    let y = tape.mul(x, x); // d(x²)/dx = 2x, arriving once through each input
    let loss = tape.sum(y);
    tape.backward(loss);
    assert_eq!(tape.grad(x).data(), [6.0, -2.0]);
}

/// Backward twice on one tape: first with gradients that leave large values in every buffer,
/// then the computation under test, whose gradients must not see them.
fn on_a_tape_with_stale_gradients(
    build: impl Fn(&mut Tape, f32) -> (Vec<Var>, Var),
) -> Vec<Tensor> {
    let mut tape = Tape::new();
    let (_, loss) = build(&mut tape, 1000.0);
    tape.backward(loss);
    tape.clear();
    let (params, loss) = build(&mut tape, 1.0);
    tape.backward(loss);
    params.iter().map(|&p| tape.grad(p).clone()).collect()
}

#[test]
fn a_value_used_twice_on_a_reused_tape_adds_its_second_gradient_to_its_first() {
    let grads = on_a_tape_with_stale_gradients(|tape, scale| {
        let x = tape.param(&Tensor::from_vec(&[2], vec![3.0, -1.0]));
        let y = tape.mul(x, x);
        let y = tape.mul_scalar(y, scale);
        (vec![x], tape.sum(y))
    });
    assert_eq!(grads[0].data(), [6.0, -2.0]);
}

#[test]
fn a_parameter_the_loss_does_not_reach_gets_a_zero_gradient_on_a_reused_tape() {
    let grads = on_a_tape_with_stale_gradients(|tape, scale| {
        let used = tape.param(&Tensor::from_vec(&[2], vec![3.0, -1.0]));
        let unused = tape.param(&Tensor::from_vec(&[2], vec![5.0, 7.0]));
        // The first time, `unused` does reach the loss and its buffer gets a gradient.
        let reached = if scale > 1.0 { tape.add(used, unused) } else { used };
        let loss = tape.sum(reached);
        (vec![used, unused], tape.mul_scalar(loss, scale))
    });
    assert_eq!(grads[0].data(), [1.0, 1.0]);
    assert_eq!(grads[1].data(), [0.0, 0.0]);
}

/// `2x` by an operation that keeps the trait's default, `overwrites() == false`: the tape must
/// hand it a zeroed buffer even where the buffer's last gradient came from one that overwrites.
struct DoubleAddingOnly;
impl Op for DoubleAddingOnly {
    fn name(&self) -> &'static str {
        "double_adding_only"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        *out = x[0].scale(2.0);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        grad.add_scaled(ctx.output_grad, 2.0);
    }
}

#[test]
fn an_operation_that_only_adds_gets_a_zeroed_buffer_on_a_reused_tape() {
    let grads = on_a_tape_with_stale_gradients(|tape, scale| {
        let x = tape.param(&Tensor::from_vec(&[3], vec![1.0, -2.0, 0.5]));
        let y = if scale > 1.0 {
            tape.tanh(x) // leaves tanh' · 1000 in x's buffer
        } else {
            tape.apply(&DoubleAddingOnly, &[x], [0.0; 2])
        };
        let y = tape.mul_scalar(y, scale);
        (vec![x], tape.sum(y))
    });
    assert_eq!(grads[0].data(), [2.0, 2.0, 2.0]);
}

#[test]
#[should_panic(expected = "depends on no parameter")]
fn constants_have_no_grad() {
    let mut tape = Tape::new();
    let c = tape.constant(&Tensor::scalar(2.0));
    let p = tape.param(&Tensor::scalar(3.0));
    let y = tape.mul(c, p);
    tape.backward(y);
    tape.grad(c);
}

// ANCHOR: wrong_backward
/// `tanh` with a backward rule 3% too large: the kind of slip (a wrong constant, a missing
/// term) that a gradient check exists to catch.
struct SloppyTanh;
impl Op for SloppyTanh {
    fn name(&self) -> &'static str {
        "sloppy_tanh"
    }
    fn forward(&self, x: &[&Tensor], _: Params, out: &mut Tensor) {
        *out = x[0].map(f32::tanh);
    }
    fn backward(&self, ctx: &Backward<'_>, grad: &mut Tensor) {
        let terms = ctx.output.data().iter().zip(ctx.output_grad.data());
        for (g, (&y, &dy)) in grad.data_mut().iter_mut().zip(terms) {
            *g += 1.03 * dy * (1.0 - y * y);
        }
    }
}

#[test]
fn gradcheck_catches_a_backward_off_by_three_percent() {
    let x = Tensor::randn(&[8, 4], &mut rng(700));
    let sloppy = gradcheck(std::slice::from_ref(&x), |tape, v| {
        let y = tape.apply(&SloppyTanh, &[v[0]], [0.0; 2]);
        probe(tape, y, 11)
    });
    let mismatch = sloppy.expect_err("a 3% error in a backward rule must fail the check");
    assert!(mismatch.ratio > 1.0);
    let correct = gradcheck(&[x], |tape, v| {
        let y = tape.tanh(v[0]);
        probe(tape, y, 11)
    });
    assert!(correct.is_ok(), "the correct rule on the same inputs: {}", correct.unwrap_err());
}
// ANCHOR_END: wrong_backward

#[test]
fn gradcheck_tolerances_are_settable() {
    // With a tolerance far too loose, even the sloppy rule passes: the settings are honoured.
    let x = Tensor::randn(&[4, 4], &mut rng(701));
    let loose = GradCheck { rtol: 0.5, ..GradCheck::default() };
    let result = gradcheck_with(loose, &[x], |tape, v| {
        let y = tape.apply(&SloppyTanh, &[v[0]], [0.0; 2]);
        probe(tape, y, 12)
    });
    assert!(result.is_ok());
}

#[test]
fn a_cleared_tape_reuses_its_buffers_for_the_next_grad_step() {
    let mut r = rng(800);
    let x = Tensor::randn(&[64, 3], &mut r);
    let w = Tensor::randn(&[3, 64], &mut r);
    let b = Tensor::randn(&[64], &mut r);
    let mut tape = Tape::new();
    let step = |tape: &mut Tape| {
        tape.clear();
        let x = tape.constant(&x);
        let w = tape.param(&w);
        let b = tape.param(&b);
        let h = tape.matmul(x, w);
        let h = tape.add_bias(h, b);
        let h = tape.tanh(h);
        let loss = tape.mean(h);
        tape.backward(loss);
        tape.grad(w).sum()
    };
    let first = step(&mut tape);
    let bytes = tape.buffer_bytes();
    assert!(bytes > 0);
    for _ in 0..3 {
        assert_eq!(step(&mut tape), first, "same computation, same gradient");
        assert_eq!(tape.buffer_bytes(), bytes, "no buffer grew or was given back");
    }
}

#[test]
fn the_tape_tells_what_it_recorded_in_order() {
    // y = tanh(x·w) + b, then (y − t)², summed: the nodes come out in the order recorded, each
    // with its operation and inputs, and only those depending on w or b need a gradient.
    let mut tape = Tape::new();
    let x = tape.constant(&Tensor::from_vec(&[1, 2], vec![0.5, -1.0]));
    let w = tape.param(&Tensor::from_vec(&[2, 1], vec![0.3, 0.7]));
    let xw = tape.matmul(x, w);
    let h = tape.tanh(xw);
    let b = tape.param(&Tensor::from_vec(&[1, 1], vec![0.1]));
    let y = tape.add(h, b);
    let t = tape.constant(&Tensor::from_vec(&[1, 1], vec![1.0]));
    let e = tape.sub(y, t);
    let e2 = tape.square(e);
    let loss = tape.sum(e2);
    let vars: Vec<Var> = tape.vars().collect();
    assert_eq!(vars, [x, w, xw, h, b, y, t, e, e2, loss]);
    assert_eq!(vars.iter().map(|v| v.index()).collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
    assert_eq!(tape.recorded(x), (None, vec![], false));
    assert_eq!(tape.recorded(w), (None, vec![], true));
    assert_eq!(tape.recorded(xw), (Some("matmul"), vec![x, w], true));
    assert_eq!(tape.recorded(h), (Some("tanh"), vec![xw], true));
    assert_eq!(tape.recorded(y), (Some("add"), vec![h, b], true));
    assert_eq!(tape.recorded(t), (None, vec![], false));
    assert_eq!(tape.recorded(e), (Some("sub"), vec![y, t], true));
    assert_eq!(tape.recorded(loss), (Some("sum"), vec![e2], true));
    tape.clear();
    assert_eq!(tape.vars().count(), 0);
}

// ANCHOR: tanh_accuracy
/// The crate's `tanh` against `f64::tanh`: within half a unit in the last place of `f32`
/// (plus the 10⁻¹² relative of its `f64` arithmetic, which can tip a value lying within that
/// of a halfway point) at 5·10⁷ arguments spread over every binade from 2⁻¹³⁰ to 2⁷
/// (beyond, the answer is ±1), both signs; and it keeps the special values.
#[test]
fn tanh_is_correctly_rounded_to_half_an_ulp() {
    let ulp = |y: f32| {
        let up = f32::from_bits(y.abs().to_bits() + 1);
        f64::from(up) - f64::from(y.abs())
    };
    let mut worst = 0.0f64;
    // Every 43rd bit pattern from 2⁻¹³⁰ (a subnormal) up to 128.
    let (start, end) = (0x0000_0010u32, 128.0f32.to_bits());
    for bits in (start..end).step_by(43) {
        for x in [f32::from_bits(bits), -f32::from_bits(bits)] {
            let exact = f64::from(x).tanh();
            let error = (f64::from(ppo::autodiff::tanh(x)) - exact).abs() / ulp(exact as f32);
            worst = worst.max(error);
        }
    }
    assert!(worst <= 0.5 + 1e-4, "worst error {worst} ulps");
    assert_eq!(ppo::autodiff::tanh(0.0).to_bits(), 0.0f32.to_bits());
    assert_eq!(ppo::autodiff::tanh(-0.0).to_bits(), (-0.0f32).to_bits());
    assert_eq!(ppo::autodiff::tanh(f32::INFINITY), 1.0);
    assert_eq!(ppo::autodiff::tanh(f32::NEG_INFINITY), -1.0);
    assert!(ppo::autodiff::tanh(f32::NAN).is_nan());
}
// ANCHOR_END: tanh_accuracy

/// Below `2⁻¹²` the crate's `tanh` returns its argument, because `tanh t = t − t³/3 + …`
/// and `t³/3 < 2⁻²⁴·t/3` is less than half a unit in the last place of `t`. Every one of
/// the 965 million non-negative `f32` there, and each one's negative, is checked, and the
/// first value past them goes through the exponential and is still rounded correctly.
#[test]
fn tanh_of_every_f32_below_two_to_the_minus_twelve_is_the_argument() {
    let limit = (1.0f32 / 4096.0).to_bits();
    let mismatches = (0..limit)
        .filter(|&bits| {
            let x = f32::from_bits(bits);
            ppo::autodiff::tanh(x).to_bits() != bits || ppo::autodiff::tanh(-x) != -x
        })
        .count();
    assert_eq!(mismatches, 0);
    let edge = 1.0f32 / 4096.0;
    assert_eq!(ppo::autodiff::tanh(edge), (f64::from(edge).tanh()) as f32);
}

/// `tanh` rounds `y = −2t·log₂e` to the nearest integer with ties to even, where rounding
/// ties away from zero would do as well but for a half-integer `y`. No `f32` argument gives
/// one: here are all of those where `y` is computed and used, `2⁻¹² ≤ t ≤ 9.5` (above 9.5,
/// `t` is 9.5; below 2⁻¹², `tanh t` is `t`), 127 million of them.
#[test]
fn no_f32_argument_of_tanh_puts_its_exponent_on_a_half_integer() {
    let (first, last) = ((1.0f32 / 4096.0).to_bits(), 9.5f32.to_bits());
    let halves = (first..=last)
        .filter(|&bits| {
            let y = -2.0 * std::f64::consts::LOG2_E * f64::from(f32::from_bits(bits));
            y - y.floor() == 0.5
        })
        .count();
    assert_eq!(halves, 0);
}

/// A fingerprint of the crate's `tanh` at all 2³² `f32` bit patterns, infinities and NaNs
/// included: the wrapping sum of a 64-bit mix of each argument's bits with its result's. The
/// value was recorded from the `tanh` of commit `0af5860` (plain multiplies and adds in the
/// Horner steps, `n as i64` for the exponent), so a change that moves any result by a bit,
/// anywhere, fails here. Chapter 14 uses it to show that the fused steps and the vectorized
/// exponent that came after changed no result.
#[test]
fn tanh_at_every_f32_keeps_the_bits_recorded_before_it_was_vectorized_further() {
    fn mix(mut z: u64) -> u64 {
        // SplitMix64's finalizer: every input bit moves about half the output bits.
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    // Blocks of 2¹⁶ arguments: the tanh of a block is one vectorized loop, then its sum.
    let fingerprint = |blocks: std::ops::Range<u64>| {
        let mut results = vec![0u32; 1 << 16];
        let mut total = 0u64;
        for high in blocks {
            for (low, y) in results.iter_mut().enumerate() {
                let x = f32::from_bits((high << 16) as u32 | low as u32);
                *y = ppo::autodiff::tanh(x).to_bits();
            }
            for (low, &y) in results.iter().enumerate() {
                let argument = (high << 16) | low as u64;
                total = total.wrapping_add(mix(argument << 32 | u64::from(y)));
            }
        }
        total
    };
    // Half the arguments on each of two threads; the sum does not depend on the order.
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| fingerprint(0..1 << 15));
        (first.join().unwrap(), fingerprint(1 << 15..1 << 16))
    });
    assert_eq!(first.wrapping_add(second), 0x468d_39ef_2005_f7b5);
}

#[test]
fn abs_grad_away_from_zero_and_its_subgradient_at_zero() {
    // Values at least 0.05 from the kink, of both signs.
    let draw = |s: &[usize], r: &mut StdRng| uniform(s, 0.05, 2.0, true, r);
    check_unary("abs", draw, |t, x| t.abs(x));
    let mut tape = Tape::new();
    let x = tape.param(&Tensor::from_vec(&[3], vec![-1.5, 0.0, 2.0]));
    let y = tape.abs(x);
    assert_eq!(tape.value(y).data(), [1.5, 0.0, 2.0]);
    let loss = tape.sum(y);
    tape.backward(loss);
    assert_eq!(tape.grad(x).data(), [-1.0, 0.0, 1.0], "sign(x), and 0 at the kink as PyTorch");
}
