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

/// After its first iteration a `Trainer` allocates only short lists: those of parameter and
/// gradient references that each minibatch step hands to the optimizers, a fixed number per
/// step, and a fixed few per iteration; never a tensor, and nothing per sample. Measured at
/// two epoch counts, whose difference separates the two. On one thread, so that the counter
/// sees every allocation.
#[test]
fn an_iteration_allocates_a_fixed_few_lists_per_minibatch_step_after_the_first() {
    use ppo::Pendulum;
    use ppo::ppo::{Config, Trainer};
    let per_iteration = |epochs: usize| {
        let config = Config { epochs, ..Config::default() };
        let envs = (0..config.num_envs).map(|_| Pendulum::new()).collect();
        let mut trainer = Trainer::new(config, envs);
        trainer.set_threads(1);
        trainer.iterate().expect("the first iteration trains");
        let counts: Vec<usize> = (0..2)
            .map(|_| {
                allocations_during(|| {
                    trainer.iterate().expect("it keeps training");
                })
            })
            .collect();
        assert_eq!(counts[0], counts[1], "the count does not grow from iteration to iteration");
        counts[0]
    };
    let minibatches = Config::default().batch_size() / Config::default().minibatch_size;
    let (ten, five) = (per_iteration(10), per_iteration(5));
    let per_step = (ten - five) / (5 * minibatches);
    let fixed = ten - per_step * 10 * minibatches;
    println!(
        "default preset: {ten} allocations per iteration, {per_step} per minibatch step \
         ({} steps) and {fixed} per iteration",
        10 * minibatches
    );
    assert_eq!((ten - five) % (5 * minibatches), 0, "the same number at every minibatch step");
    assert!(per_step <= 8, "{per_step} allocations per minibatch step");
    assert!(fixed <= 64, "{fixed} allocations per iteration besides the minibatch steps");
}
