//! One full PPO iteration (collect + GAE + learn) of the `default` preset: 8 environments ×
//! 256 steps collected, then 10 epochs of 8 minibatches of 256. The `pendulum` program's run
//! is 49 of these plus a 100-episode evaluation.

use criterion::{Criterion, criterion_group, criterion_main};
use ppo::Pendulum;
use ppo::ppo::{Config, Trainer};
use std::hint::black_box;
use std::time::Duration;

fn iteration(c: &mut Criterion) {
    let mut group = c.benchmark_group("ppo");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(1));
    for (name, config) in [("default preset", Config::default()), ("seed preset", Config::seed())] {
        // Trained without end: the iteration count only moves the learning-rate schedule.
        let config = Config { total_timesteps: usize::MAX / 2, ..config };
        let envs = (0..config.num_envs).map(|_| Pendulum::new()).collect();
        let mut trainer = Trainer::new(config, envs);
        group.bench_function(format!("one iteration, {name}"), |b| {
            b.iter(|| black_box(trainer.iterate().expect("training diverged")))
        });
    }
    group.finish();
}

criterion_group!(benches, iteration);
criterion_main!(benches);
