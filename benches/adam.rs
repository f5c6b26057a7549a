//! One Adam step and one gradient clip over tensors of the actor's parameter shapes
//! (3 inputs, two hidden layers of 64, a mean head and a log-std head of one output each):
//! 4,546 parameters in eight tensors.
//!
//! `cargo bench --bench adam`; the throughput lines read in parameters per second.
//! `cargo bench --bench adam -- step` runs only the two Adam steps: `Adam::step`, and a copy
//! of its update that multiplies by `1/√(1−β₂ᵗ)` instead of dividing (faster, and no longer
//! bit-exact with PyTorch).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ppo::Tensor;
use ppo::adam::{Adam, clip_grad_norm};
use rand::SeedableRng;
use rand::rngs::StdRng;

const ACTOR_SHAPES: [&[usize]; 8] =
    [&[3, 64], &[64], &[64, 64], &[64], &[64, 1], &[1], &[64, 1], &[1]];

fn tensors(rng: &mut StdRng, scale: f32) -> Vec<Tensor> {
    ACTOR_SHAPES.iter().map(|shape| Tensor::randn(shape, rng).scale(scale)).collect()
}

/// `Adam::step` with the default hyperparameters, except that the denominator multiplies by a
/// precomputed `1/√(1−β₂ᵗ)` where `ppo::adam` divides by `√(1−β₂ᵗ)`, as PyTorch does. Only
/// here to time the division that matching PyTorch costs.
struct ReciprocalAdam {
    learning_rate: f32,
    steps: i32,
    moments: Vec<(Vec<f32>, Vec<f32>)>,
}

impl ReciprocalAdam {
    fn step(&mut self, params: &mut [&mut Tensor], grads: &[&Tensor]) {
        let (beta1, beta2, eps) = (0.9f64, 0.999f64, 1e-8f32);
        if self.moments.is_empty() {
            self.moments =
                params.iter().map(|p| (vec![0.0; p.len()], vec![0.0; p.len()])).collect();
        }
        self.steps += 1;
        let t = f64::from(self.steps);
        let neg_step_size = (-f64::from(self.learning_rate) / (1.0 - beta1.powf(t))) as f32;
        let inverse_bias_correction2_sqrt = (1.0 / (1.0 - beta2.powf(t)).sqrt()) as f32;
        let (one_minus_beta1, one_minus_beta2) = ((1.0 - beta1) as f32, (1.0 - beta2) as f32);
        let flush = |x: f32| if x.abs() < f32::MIN_POSITIVE { 0.0 } else { x };
        for ((param, grad), (m, v)) in params.iter_mut().zip(grads).zip(&mut self.moments) {
            let moments = m.iter_mut().zip(v.iter_mut());
            for ((p, &g), (m, v)) in param.data_mut().iter_mut().zip(grad.data()).zip(moments) {
                *m = flush(one_minus_beta1.mul_add(g - *m, *m));
                *v = flush((one_minus_beta2 * g).mul_add(g, *v * beta2 as f32));
                let denom = v.sqrt() * inverse_bias_correction2_sqrt + eps;
                *p += (neg_step_size * *m) / denom;
            }
        }
    }
}

fn adam(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0);
    let mut params = tensors(&mut rng, 0.1);
    let grads = tensors(&mut rng, 0.01);
    let count: usize = params.iter().map(Tensor::len).sum();
    let mut group = c.benchmark_group("adam");
    group.throughput(Throughput::Elements(count as u64));

    let mut adam = Adam::new(3e-4);
    let mut param_refs: Vec<&mut Tensor> = params.iter_mut().collect();
    let grad_refs: Vec<&Tensor> = grads.iter().collect();
    group.bench_function("step, actor shapes", |b| {
        b.iter(|| adam.step(black_box(&mut param_refs), black_box(&grad_refs)))
    });
    let mut reciprocal = ReciprocalAdam { learning_rate: 3e-4, steps: 0, moments: Vec::new() };
    group.bench_function("step, actor shapes, multiplying by 1/sqrt(1 - beta2^t)", |b| {
        b.iter(|| reciprocal.step(black_box(&mut param_refs), black_box(&grad_refs)))
    });

    // Clipping changes the gradients, so each iteration starts from a fresh copy (made
    // outside the timed part). A norm of about 0.67 is above the threshold: the norm is
    // computed and every gradient scaled. With a threshold of 1 only the norm is computed.
    let fresh = tensors(&mut rng, 0.01);
    for (name, max_norm) in [("clip_grad_norm, clipping", 0.5), ("clip_grad_norm, norm only", 1.0)]
    {
        group.bench_function(name, |b| {
            b.iter_batched_ref(
                || fresh.clone(),
                |grads| {
                    let mut refs: Vec<&mut Tensor> = grads.iter_mut().collect();
                    black_box(clip_grad_norm(black_box(&mut refs), max_norm))
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = adam
}
criterion_main!(benches);
