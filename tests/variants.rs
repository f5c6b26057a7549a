//! The variants that change the networks' shape or the loop's structure: the shared network.

use ppo::Pendulum;
use ppo::ppo::{Config, Trainer};
use ppo::tensor::Tensor;

fn pendulums(n: usize) -> Vec<Pendulum> {
    (0..n).map(|_| Pendulum::new()).collect()
}

/// A shared network for a unit test: one rollout of 128 steps, minibatches of 32.
fn shared(value_coef: f32) -> Config {
    Config {
        total_timesteps: 128,
        rollout_steps: 128,
        minibatch_size: 32,
        epochs: 2,
        num_envs: 1,
        shared_network: true,
        value_coef,
        ..Config::default()
    }
}

fn snapshot(params: Vec<&Tensor>) -> Vec<Tensor> {
    params.into_iter().cloned().collect()
}

#[test]
fn a_shared_network_is_one_trunk_stepped_by_one_optimizer() {
    let mut trainer = Trainer::new(shared(0.5), pendulums(1));
    let value_shapes: Vec<Vec<usize>> =
        trainer.critic().parameters().iter().map(|p| p.shape().to_vec()).collect();
    assert_eq!(value_shapes, [vec![64, 1], vec![1]], "the value head alone, on 64 features");
    let stats = trainer.iterate().unwrap();
    let (actor_adam, critic_adam) = trainer.optimizers();
    assert_eq!(critic_adam.steps_taken(), 0, "the critic's own optimizer is never used");
    assert_eq!(actor_adam.steps_taken(), 2 * 4, "one step per minibatch: 2 epochs of 4");
    assert_eq!(stats.minibatches, 8);
    let moments = actor_adam.moments().count();
    let parameters = trainer.actor().parameters().len() + trainer.critic().parameters().len();
    assert_eq!(
        moments, parameters,
        "Adam holds moments for the trunk, the heads and the value head"
    );
}

/// The value loss reaches the value head and, through it, the trunk, weighed by `value_coef`;
/// with a weight of 0 the value head gets no gradient at all and Adam leaves it exactly where
/// it was, while the trunk still learns from the policy.
#[test]
fn value_coef_weighs_the_value_loss_in_the_shared_trunk() {
    let trained = |value_coef| {
        let mut trainer = Trainer::new(shared(value_coef), pendulums(1));
        let before =
            (snapshot(trainer.actor().parameters()), snapshot(trainer.critic().parameters()));
        trainer.iterate().unwrap();
        let after =
            (snapshot(trainer.actor().parameters()), snapshot(trainer.critic().parameters()));
        (before, after)
    };
    let ((actor0, value0), (actor_after0, value_after0)) = trained(0.0);
    assert_eq!(value0, value_after0, "no value loss, no value-head step");
    assert_ne!(actor0[0], actor_after0[0], "the policy alone still moves the trunk");
    let ((actor1, value1), (actor_after1, value_after1)) = trained(1.0);
    assert_eq!(
        (&actor0, &value0),
        (&actor1, &value1),
        "the same seed starts from the same networks"
    );
    assert_ne!(value1, value_after1, "the value head learns");
    assert_ne!(actor_after0[0], actor_after1[0], "the value loss reaches the trunk's first layer");
}

/// A shared network learns Pendulum's value: the value loss of a short run falls.
#[test]
fn a_shared_network_fits_the_value() {
    let config = Config {
        total_timesteps: 20 * 512,
        rollout_steps: 512,
        num_envs: 1,
        shared_network: true,
        ..Config::default()
    };
    let mut trainer = Trainer::new(config, pendulums(1));
    let losses: Vec<f32> = (0..20).map(|_| trainer.iterate().unwrap().value_loss).collect();
    let first: f32 = losses[..3].iter().sum();
    let last: f32 = losses[17..].iter().sum();
    assert!(last < 0.5 * first, "value losses {losses:?}");
}
