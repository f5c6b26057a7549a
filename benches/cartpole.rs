//! Steps per second of one CartPole-v1 environment.
//!
//! `cargo bench --bench cartpole`; the throughput line reads in environment steps per second.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ppo::CartPole;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn single(c: &mut Criterion) {
    let mut group = c.benchmark_group("cartpole");
    group.throughput(Throughput::Elements(1));
    let mut rng = StdRng::seed_from_u64(0);
    let mut env = CartPole::new();
    env.reset(&mut rng);
    // A fixed pseudo-random action pattern, so the branch predictor cannot learn it within a
    // few steps; episodes end by termination and are reset, as in training.
    let actions: Vec<usize> =
        (0..1024_u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 31) as usize).collect();
    let mut t = 0;
    group.bench_function("1 env", |b| {
        b.iter(|| {
            t = (t + 1) % actions.len();
            let step = env.step(black_box(actions[t]));
            if step.terminated || step.truncated {
                env.reset(&mut rng);
            }
            black_box(step)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = single
}
criterion_main!(benches);
