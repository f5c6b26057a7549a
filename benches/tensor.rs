//! Matrix products at the shapes PPO uses. Throughput is reported in floating-point
//! operations (2·m·k·n per product), so criterion prints GFLOP/s ("Gelem/s" reads as GFLOP/s).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ppo::tensor::{gemm_nn, gemm_nt, gemm_tn};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::hint::black_box;
use std::time::Duration;

/// (m, k, n): a batch of 64 through each layer of a 3→64→64→2 network (the `seed` preset's
/// minibatch), the `default` preset's minibatch of 256 through a hidden layer, a whole
/// 2048-step rollout through one, and a minibatch of 32,768 through the 32-wide hidden layer
/// of the 1024-agent CartPole configuration.
const SHAPES: [(usize, usize, usize); 6] =
    [(64, 3, 64), (64, 64, 64), (64, 64, 2), (256, 64, 64), (2048, 64, 64), (32768, 32, 32)];

type Kernel = fn(usize, usize, usize, &[f32], &[f32], &mut [f32]);

fn matmul_forms(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0);
    let forms: [(&str, Kernel); 3] = [("A·B", gemm_nn), ("Aᵀ·B", gemm_tn), ("A·Bᵀ", gemm_nt)];
    for (name, kernel) in forms {
        let mut group = c.benchmark_group(format!("matmul {name}"));
        group.measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
        for (m, k, n) in SHAPES {
            // Every form multiplies the same m×k by k×n product; only the storage differs.
            let a = ppo::Tensor::randn(&[m * k], &mut rng);
            let b = ppo::Tensor::randn(&[k * n], &mut rng);
            let mut out = vec![0.0f32; m * n];
            group.throughput(Throughput::Elements((2 * m * k * n) as u64));
            group.bench_function(format!("{m}x{k}·{k}x{n}"), |bench| {
                bench.iter(|| {
                    kernel(m, k, n, black_box(a.data()), black_box(b.data()), &mut out);
                    black_box(&mut out);
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, matmul_forms);
criterion_main!(benches);
