//! Matrix products at the shapes PPO uses. Throughput is reported in floating-point
//! operations (2·m·k·n per product), so criterion prints GFLOP/s ("Gelem/s" reads as GFLOP/s).

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use ppo::tensor::{Write, gemm_tn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::hint::black_box;
use std::time::Duration;

mod products;

use products::{FORMS, Kernel, SHAPES};

/// Benches `kernel` on random operands of the lengths `(m, k, n)` asks for, counting
/// 2·m·k·n operations per call.
fn bench_product(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    kernel: Kernel,
    (m, k, n): (usize, usize, usize),
    rng: &mut StdRng,
) {
    let a = ppo::Tensor::randn(&[m * k], rng);
    let b = ppo::Tensor::randn(&[k * n], rng);
    let mut out = vec![0.0f32; m * n];
    group.throughput(Throughput::Elements((2 * m * k * n) as u64));
    group.bench_function(name, |bench| {
        bench.iter(|| {
            kernel(m, k, n, black_box(a.data()), black_box(b.data()), &mut out, Write::Add);
            black_box(&mut out);
        })
    });
}

fn matmul_forms(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0);
    for (name, kernel) in FORMS {
        let mut group = c.benchmark_group(format!("matmul {name}"));
        group.measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
        for (m, k, n) in SHAPES {
            // Every form multiplies the same m×k by k×n product; only the storage differs.
            let name = format!("{m}x{k}·{k}x{n}");
            bench_product(&mut group, &name, kernel, (m, k, n), &mut rng);
        }
        group.finish();
    }
}

/// (m, k, n) of the weight gradient `dW = Xᵀ·dY` that backpropagation asks `gemm_tn` for:
/// `X` is batch × inputs and `dY` batch × outputs, so `m` is the layer's inputs, `n` its
/// outputs and the depth `k` the batch. The `seed` preset's three layers at batch 64, a hidden
/// layer at the `default` preset's batch of 256 and at 2048, and the 1024-agent CartPole
/// configuration's first and hidden layers at its minibatch of 32,768.
const WEIGHT_GRADIENTS: [(usize, usize, usize); 7] = [
    (3, 64, 64),
    (64, 64, 64),
    (64, 64, 2),
    (64, 256, 64),
    (64, 2048, 64),
    (4, 32768, 32),
    (32, 32768, 32),
];

fn weight_gradients(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);
    let mut group = c.benchmark_group("weight gradient Xᵀ·dY");
    group.measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    for (m, k, n) in WEIGHT_GRADIENTS {
        let name = format!("batch {k}, {m} in, {n} out");
        bench_product(&mut group, &name, gemm_tn, (m, k, n), &mut rng);
    }
    group.finish();
}

criterion_group!(benches, matmul_forms, weight_gradients);
criterion_main!(benches);
