//! Whole PPO iterations (collect + GAE + learn), on one thread and on two:
//!
//! - the `default` preset: 8 environments × 256 steps collected, then 10 epochs of 8
//!   minibatches of 256 (the `pendulum` program's run is 49 of these plus a 100-episode
//!   evaluation);
//! - the `seed` preset: 1 × 2048 steps, 10 epochs of 32 minibatches of 64;
//! - the JAX write-up's scale on CartPole-v1: 1024 environments × 128 steps, 4 epochs of 4
//!   minibatches of 32,768, 32-32 tanh networks. Its throughput line reads in environment
//!   steps per second, learning included.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ppo::ppo::{Config, Trainer};
use ppo::{CartPole, Env, Pendulum};
use std::hint::black_box;
use std::time::Duration;

/// The JAX/Flax CartPole configuration at 1024 agents, on the `cartpole` preset otherwise.
pub fn cartpole_1024() -> Config {
    Config {
        num_envs: 1024,
        rollout_steps: 128,
        epochs: 4,
        minibatch_size: 1024 * 128 / 4,
        hidden_size: 32,
        ..Config::cartpole()
    }
}

fn bench_iterations<E: Env>(c: &mut Criterion, name: &str, config: Config, env: fn() -> E) {
    let mut group = c.benchmark_group("ppo");
    group.sample_size(10).measurement_time(Duration::from_secs(8));
    group.warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(config.batch_size() as u64));
    for threads in [1, 2] {
        // Trained without end: the iteration count only moves the learning-rate schedule.
        let config = Config { total_timesteps: usize::MAX / 2, ..config.clone() };
        let mut trainer =
            Trainer::new(config.clone(), (0..config.num_envs).map(|_| env()).collect());
        trainer.set_threads(threads);
        group.bench_function(format!("one iteration, {name}, {threads} thread(s)"), |b| {
            b.iter(|| black_box(trainer.iterate().expect("training diverged")))
        });
    }
    group.finish();
}

fn iterations(c: &mut Criterion) {
    bench_iterations(c, "default preset", Config::default(), Pendulum::new);
    bench_iterations(c, "seed preset", Config::seed(), Pendulum::new);
    bench_iterations(c, "CartPole 1024 agents", cartpole_1024(), CartPole::new);
}

criterion_group!(benches, iterations);
criterion_main!(benches);
