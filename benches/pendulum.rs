//! Steps per second of the pendulum: one environment alone, and vectors of 8 and 64.
//!
//! `cargo bench --bench pendulum`; the throughput lines read in environment steps per second.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ppo::{Pendulum, VecEnv};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Torques that sweep [-2.5, 2.5], so some are clipped, as a policy's samples would be.
fn torques(n: usize) -> Vec<f32> {
    (0..n).map(|i| 2.5 * (i as f32 * 0.618).sin()).collect()
}

fn single(c: &mut Criterion) {
    let mut group = c.benchmark_group("pendulum");
    group.throughput(Throughput::Elements(1));
    let mut rng = StdRng::seed_from_u64(0);
    let mut env = Pendulum::new();
    env.reset(&mut rng);
    let actions = torques(1024);
    let mut t = 0;
    group.bench_function("1 env", |b| {
        b.iter(|| {
            t = (t + 1) % actions.len();
            let step = env.step(black_box(&actions[t..t + 1]));
            if step.truncated {
                env.reset(&mut rng);
            }
            black_box(step)
        })
    });
    group.finish();
}

fn vector(c: &mut Criterion) {
    let mut group = c.benchmark_group("pendulum");
    for n in [8, 64] {
        group.throughput(Throughput::Elements(n as u64));
        let mut rng = StdRng::seed_from_u64(0);
        let mut venv = VecEnv::new(vec![Pendulum::new(); n]);
        venv.reset(&mut rng);
        let actions = torques(n * 16);
        let mut t = 0;
        group.bench_function(format!("VecEnv of {n}"), |b| {
            b.iter(|| {
                t = (t + 1) % 16;
                venv.step(black_box(&actions[t * n..(t + 1) * n]), &mut rng);
                black_box(venv.rewards()[0])
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = single, vector
}
criterion_main!(benches);
