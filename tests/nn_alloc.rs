//! Acting allocates nothing: once warmed up, the tape-free forward passes of the actor and the
//! critic, sampling and the log-probability reuse their buffers, and so does a whole training
//! step on a cleared tape. Checked by counting allocations in a global allocator (kept in its
//! own test binary, so that it sees only these tests; counts are per thread, so tests running
//! in parallel do not disturb each other).

mod counting;

use counting::allocations_during;
use ppo::autodiff::Tape;
use ppo::nn::{Actor, ActorConfig, Critic, CriticConfig, StdParam, Workspace};
use ppo::normal;
use ppo::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;

#[test]
fn actor_and_critic_forward_allocate_nothing_after_warm_up() {
    let mut rng = StdRng::seed_from_u64(0);
    let log_std = ActorConfig {
        std: StdParam::LogStd { init: 0.0, clamp: Some((-20.0, 2.0)) },
        ..ActorConfig::default()
    };
    let actors = [Actor::new(&ActorConfig::default(), &mut rng), Actor::new(&log_std, &mut rng)];
    let critic = Critic::new(&CriticConfig::default(), &mut rng);
    let obs = Tensor::randn(&[64, 3], &mut rng);
    let (mut mean, mut std, mut action, mut values) =
        (vec![0.0; 64], vec![0.0; 64], vec![0.0; 64], vec![0.0; 64]);
    let mut workspace = Workspace::new();
    let mut act = |batch: usize| {
        let obs = &obs.data()[..batch * 3];
        for actor in &actors {
            actor.forward(obs, &mut workspace, &mut mean[..batch], &mut std[..batch]);
        }
        normal::sample(&mean[..batch], &std[..batch], &mut rng, &mut action[..batch]);
        let log_prob = normal::log_prob(&mean[..1], &std[..1], &action[..1]);
        critic.forward(obs, &mut workspace, &mut values[..batch]);
        log_prob
    };
    // Warm-up at the largest batch: the buffers are created here, and the counter sees them.
    assert!(allocations_during(|| assert!(act(64).is_finite())) > 0);
    for batch in [64, 1, 8, 64] {
        assert_eq!(allocations_during(|| assert!(act(batch).is_finite())), 0, "batch {batch}");
    }
}

#[test]
fn actor_and_critic_training_step_on_a_cleared_tape_allocates_nothing_after_warm_up() {
    let mut rng = StdRng::seed_from_u64(1);
    let actor = Actor::new(&ActorConfig::default(), &mut rng);
    let critic = Critic::new(&CriticConfig::default(), &mut rng);
    let obs = Tensor::randn(&[64, 3], &mut rng);
    let actions = Tensor::randn(&[64, 1], &mut rng);
    let returns = Tensor::randn(&[64], &mut rng);
    let mut tape = Tape::new();
    let (mut actor_vars, mut critic_vars) = (Vec::new(), Vec::new());
    let mut step = || {
        tape.clear();
        let x = tape.constant(&obs);
        let a = tape.constant(&actions);
        let r = tape.constant(&returns);
        let (mean, std) = actor.forward_on_tape(&mut tape, x, &mut actor_vars);
        let log_prob = normal::log_prob_on_tape(&mut tape, mean, std, a);
        let entropy = normal::entropy_on_tape(&mut tape, std);
        let value = critic.forward_on_tape(&mut tape, x, &mut critic_vars);
        let error = tape.sub(value, r);
        let squared = tape.square(error);
        let terms = [tape.mean(log_prob), tape.mean(entropy), tape.mean(squared)];
        let partial = tape.add(terms[0], terms[1]);
        let loss = tape.add(partial, terms[2]);
        tape.backward(loss);
        tape.grad(actor_vars[0]).sum() + tape.grad(critic_vars[0]).sum()
    };
    let mut first = 0.0;
    assert!(allocations_during(|| first = step()) > 0, "the first step creates the tape's buffers");
    assert_eq!(allocations_during(|| assert_eq!(step(), first)), 0);
}
