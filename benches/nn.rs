//! The JAX/Flax Pendulum write-up's actor (3 → 64 → 64 → μ, σ) and critic (3 → 64 → 64 → 1):
//! tape-free forward passes at batch 1 (acting in one environment) and 64 (a vector of
//! environments), and a forward and backward pass on the tape at batch 64 (one minibatch of
//! learning).

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use ppo::nn::{Actor, ActorConfig, Critic, CriticConfig, StdParam, Workspace};
use ppo::normal;
use ppo::{Tape, Tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::hint::black_box;
use std::time::Duration;

/// Short measurements: these benches run on a shared machine, and 2 s per case is enough for
/// a stable median at these speeds.
fn configure<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group.measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    group
}

fn actors() -> [(&'static str, Actor); 2] {
    let mut rng = StdRng::seed_from_u64(0);
    let log_std = ActorConfig {
        std: StdParam::LogStd { init: 0.0, clamp: Some((-20.0, 2.0)) },
        ..ActorConfig::default()
    };
    [
        ("softplus σ", Actor::new(&ActorConfig::default(), &mut rng)),
        ("log σ", Actor::new(&log_std, &mut rng)),
    ]
}

fn forward(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);
    let obs = Tensor::randn(&[64, 3], &mut rng);
    let mut workspace = Workspace::new();
    let mut group = configure(c, "forward (tape-free)");
    for (name, actor) in actors() {
        for batch in [1, 64] {
            let (mut mean, mut std) = (vec![0.0; batch], vec![0.0; batch]);
            let obs = &obs.data()[..batch * 3];
            group.bench_function(format!("actor, {name}, batch {batch}"), |bench| {
                bench.iter(|| {
                    actor.forward(black_box(obs), &mut workspace, &mut mean, &mut std);
                    black_box((&mean, &std));
                })
            });
        }
    }
    let critic = Critic::new(&CriticConfig::default(), &mut rng);
    for batch in [1, 64] {
        let mut values = vec![0.0; batch];
        let obs = &obs.data()[..batch * 3];
        group.bench_function(format!("critic, batch {batch}"), |bench| {
            bench.iter(|| {
                critic.forward(black_box(obs), &mut workspace, &mut values);
                black_box(&values);
            })
        });
    }
    group.finish();
}

fn forward_backward(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(2);
    let obs = Tensor::randn(&[64, 3], &mut rng);
    let actions = Tensor::randn(&[64, 1], &mut rng);
    let returns = Tensor::randn(&[64], &mut rng);
    let mut tape = Tape::new();
    let mut params = Vec::new();
    let mut group = configure(c, "forward + backward (tape), batch 64");
    for (name, actor) in actors() {
        // The actor's part of PPO's loss: the mean log-probability of the taken actions.
        group.bench_function(format!("actor, {name}, mean log-prob"), |bench| {
            bench.iter(|| {
                tape.clear();
                let x = tape.constant(black_box(&obs));
                let a = tape.constant(&actions);
                let (mean, std) = actor.forward_on_tape(&mut tape, x, &mut params);
                let log_prob = normal::log_prob_on_tape(&mut tape, mean, std, a);
                let loss = tape.mean(log_prob);
                tape.backward(loss);
                black_box(tape.grad(params[0]));
            })
        });
    }
    let critic = Critic::new(&CriticConfig::default(), &mut rng);
    group.bench_function("critic, mean squared error", |bench| {
        bench.iter(|| {
            tape.clear();
            let x = tape.constant(black_box(&obs));
            let r = tape.constant(&returns);
            let value = critic.forward_on_tape(&mut tape, x, &mut params);
            let error = tape.sub(value, r);
            let squared = tape.square(error);
            let loss = tape.mean(squared);
            tape.backward(loss);
            black_box(tape.grad(params[0]));
        })
    });
    group.finish();
}

criterion_group!(benches, forward, forward_backward);
criterion_main!(benches);
