//! One Adam step and one gradient clip over tensors of the actor's parameter shapes
//! (3 inputs, two hidden layers of 64, a mean head and a log-std head of one output each):
//! 4,546 parameters in eight tensors.
//!
//! `cargo bench --bench adam`; the throughput lines read in parameters per second.

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
