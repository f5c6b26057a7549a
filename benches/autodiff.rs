//! One training step's worth of autodiff: a 3→64→64→1 ReLU network and a mean-squared-error
//! loss on a batch of 64, recorded on a tape that is cleared and reused every iteration, as
//! training reuses it. Measured twice: forward alone, and forward plus backward.
//!
//! And chapter 2's `tanh` alone, over as many elements as a hidden layer of the 1024-agent
//! CartPole configuration holds in one minibatch (32,768 rows of 32): elements per second.
//!
//! Throughput counts only the floating-point operations of the matrix products (2·m·k·n
//! each), so criterion's "Gelem/s" reads as GFLOP/s of matmul work; the elementwise ops
//! (bias, ReLU, the loss) add about 1% more arithmetic and are not counted.
//!
//! `cargo bench --bench autodiff`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ppo::autodiff::{Tape, Var};
use ppo::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::hint::black_box;
use std::time::Duration;

const BATCH: usize = 64;
/// Layer widths: 3 inputs (the pendulum's observation), two hidden layers, one output.
const WIDTHS: [usize; 4] = [3, 64, 64, 1];

/// FLOPs of the products in the forward pass: one `X·W` per layer.
fn forward_flops() -> u64 {
    WIDTHS.windows(2).map(|w| 2 * BATCH * w[0] * w[1]).sum::<usize>() as u64
}

/// FLOPs of the products in the backward pass. Every layer computes `dW = Xᵀ·dY`, as many
/// FLOPs as its forward product; every layer but the first also computes `dX = dY·Wᵀ`. The
/// first layer's input is data (a constant on the tape), so nobody asks for its gradient and
/// the tape skips that product.
fn backward_flops() -> u64 {
    let per_layer: Vec<u64> = WIDTHS.windows(2).map(|w| (2 * BATCH * w[0] * w[1]) as u64).collect();
    let weight_grads: u64 = per_layer.iter().sum();
    let input_grads: u64 = per_layer[1..].iter().sum();
    weight_grads + input_grads
}

struct Problem {
    x: Tensor,
    target: Tensor,
    /// Weight and bias of each layer, in order.
    params: Vec<Tensor>,
}

impl Problem {
    fn new() -> Problem {
        let mut rng = StdRng::seed_from_u64(0);
        let x = Tensor::randn(&[BATCH, WIDTHS[0]], &mut rng);
        let target = Tensor::randn(&[BATCH], &mut rng);
        let mut params = Vec::new();
        for w in WIDTHS.windows(2) {
            let scale = (2.0 / w[0] as f32).sqrt(); // He initialization keeps ReLUs alive
            params.push(Tensor::randn(&[w[0], w[1]], &mut rng).scale(scale));
            params.push(Tensor::zeros(&[w[1]]));
        }
        Problem { x, target, params }
    }

    /// Clears the tape and records the network and its loss; returns the loss.
    fn forward(&self, tape: &mut Tape) -> Var {
        tape.clear();
        let mut h = tape.constant(&self.x);
        let layers = self.params.len() / 2;
        for (l, pair) in self.params.chunks_exact(2).enumerate() {
            let w = tape.param(&pair[0]);
            let b = tape.param(&pair[1]);
            h = tape.matmul(h, w);
            h = tape.add_bias(h, b);
            if l + 1 < layers {
                h = tape.relu(h);
            }
        }
        let y = tape.flatten(h);
        let target = tape.constant(&self.target);
        let error = tape.sub(y, target);
        let squared = tape.square(error);
        tape.mean(squared)
    }
}

fn mlp(c: &mut Criterion) {
    let problem = Problem::new();
    let mut tape = Tape::new();
    let mut group = c.benchmark_group("mlp 3-64-64-1 batch 64");
    group.measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));

    group.throughput(Throughput::Elements(forward_flops()));
    group.bench_function("forward", |bench| {
        bench.iter(|| {
            let loss = problem.forward(&mut tape);
            black_box(tape.value(loss).item())
        })
    });

    group.throughput(Throughput::Elements(forward_flops() + backward_flops()));
    group.bench_function("forward+backward", |bench| {
        bench.iter(|| {
            let loss = problem.forward(&mut tape);
            tape.backward(loss);
            black_box(tape.value(loss).item())
        })
    });
    group.finish();
}

fn activation(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);
    let x = Tensor::randn(&[32_768, 32], &mut rng);
    let mut y = vec![0.0f32; x.len()];
    let mut group = c.benchmark_group("activation 32768x32");
    group.measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    group.throughput(Throughput::Elements(x.len() as u64));
    group.bench_function("tanh", |bench| {
        bench.iter(|| {
            for (y, &x) in y.iter_mut().zip(x.data()) {
                *y = ppo::autodiff::tanh(x);
            }
            black_box(y[0])
        })
    });
    group.finish();
}

criterion_group!(benches, mlp, activation);
criterion_main!(benches);
