//! What the trainer's second thread costs and what it saves (chapter 14, "The second core"):
//! handing a job to the waiting worker and getting it back (`Workers::join` with empty
//! closures), against starting a thread for each job (`std::thread::scope`), and the work
//! the two threads share at every minibatch of the `default` preset: the actor's and the
//! critic's gradients at batch 256 (the preset's networks), one after the other on one
//! thread, and side by side.

use criterion::{Criterion, criterion_group, criterion_main};
use ppo::nn::{Actor, ActorConfig, Critic, CriticConfig, Init, StdParam};
use ppo::normal;
use ppo::parallel::Workers;
use ppo::{Tape, Tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::hint::black_box;
use std::thread;
use std::time::Duration;

fn handoff(c: &mut Criterion) {
    let mut group = c.benchmark_group("handoff");
    group.measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    let mut workers = Workers::new(2);
    group.bench_function("join, empty closures (wake the waiting worker)", |bench| {
        bench.iter(|| black_box(workers.join(|| black_box(1), || black_box(2))))
    });
    group.bench_function("thread::scope, one spawned empty closure (start a thread)", |bench| {
        bench.iter(|| {
            thread::scope(|s| {
                let there = s.spawn(|| black_box(2));
                black_box(1);
                black_box(there.join().unwrap())
            })
        })
    });
    group.finish();
}

/// The actor's part of the loss (mean log-probability) and its gradient, on its own tape.
fn actor_gradient(tape: &mut Tape, actor: &Actor, obs: &Tensor, actions: &Tensor) -> f32 {
    let mut params = Vec::new();
    tape.clear();
    let x = tape.constant(obs);
    let a = tape.constant(actions);
    let (mean, std) = actor.forward_on_tape(tape, x, &mut params);
    let log_prob = normal::log_prob_on_tape(tape, mean, std, a);
    let loss = tape.mean(log_prob);
    tape.backward(loss);
    tape.grad(params[0]).data()[0]
}

/// The critic's part (mean squared error) and its gradient, on its own tape.
fn critic_gradient(tape: &mut Tape, critic: &Critic, obs: &Tensor, returns: &Tensor) -> f32 {
    let mut params = Vec::new();
    tape.clear();
    let x = tape.constant(obs);
    let r = tape.constant(returns);
    let value = critic.forward_on_tape(tape, x, &mut params);
    let error = tape.sub(value, r);
    let squared = tape.square(error);
    let loss = tape.mean(squared);
    tape.backward(loss);
    tape.grad(params[0]).data()[0]
}

fn minibatch(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(3);
    let batch = 256;
    let obs = Tensor::randn(&[batch, 3], &mut rng);
    let actions = Tensor::randn(&[batch, 1], &mut rng);
    let returns = Tensor::randn(&[batch], &mut rng);
    // The `default` preset's networks: log σ as a parameter, orthogonal initialization.
    let actor = ActorConfig {
        std: StdParam::LogStd { init: 0.0, clamp: Some((-20.0, 2.0)) },
        init: Init::Orthogonal,
        ..ActorConfig::default()
    };
    let actor = Actor::new(&actor, &mut rng);
    let critic =
        Critic::new(&CriticConfig { init: Init::Orthogonal, ..CriticConfig::default() }, &mut rng);
    let (mut actor_tape, mut critic_tape) = (Tape::new(), Tape::new());
    let mut group = c.benchmark_group("minibatch gradients, batch 256");
    group.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_millis(500));
    for threads in [1, 2] {
        let mut workers = Workers::new(threads);
        group.bench_function(format!("actor and critic, {threads} thread(s)"), |bench| {
            bench.iter(|| {
                black_box(workers.join(
                    || actor_gradient(&mut actor_tape, &actor, black_box(&obs), &actions),
                    || critic_gradient(&mut critic_tape, &critic, black_box(&obs), &returns),
                ))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, handoff, minibatch);
criterion_main!(benches);
