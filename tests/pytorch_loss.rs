//! The gradient of PPO's full actor loss (clipped surrogate minus entropy bonus) with respect
//! to every parameter of the actor, against PyTorch (`tools/pytorch_loss_fixtures.py`), for
//! both σ parametrizations. Everything between the parameters and the loss takes part: the
//! networks (chapter 3), the fused Normal operations (chapter 5) and the objective (chapter 9).

mod common;

use common::{Fixture, max_relative_error};
use ppo::autodiff::Tape;
use ppo::loss::actor_loss;
use ppo::nn::{Actor, ActorConfig, StdParam};
use ppo::normal::{entropy_on_tape, log_prob_on_tape};
use ppo::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Relative tolerance of the issue: 1e-4 for every parameter's gradient.
const RTOL: f64 = 1e-4;

fn tensor(array: &common::Array) -> Tensor {
    Tensor::from_vec(&array.shape, array.f32s())
}

/// Loads the recorded actor `net`, evaluates the loss on the tape, and compares the loss, the
/// ratios and every parameter's gradient with PyTorch. Returns the worst gradient error.
fn check_actor_loss(net: &str, config: ActorConfig) -> f64 {
    let fixture = Fixture::load("ppo_loss.txt");
    let get = |name: &str| fixture.get(&format!("{net}.{name}"));
    let mut actor = Actor::new(&config, &mut StdRng::seed_from_u64(0));
    let names = actor.parameter_names();
    let values: Vec<Tensor> = names.iter().map(|n| tensor(get(&format!("param.{n}")))).collect();
    actor.load_parameters(&values).unwrap();

    let mut tape = Tape::new();
    let mut params = Vec::new();
    let obs = tape.constant(&tensor(get("obs")));
    let action = tape.constant(&tensor(get("action")));
    let old_log_prob = tape.constant(&tensor(get("old_log_prob")));
    let advantages = tape.constant(&tensor(get("advantages")));
    let (mean, std) = actor.forward_on_tape(&mut tape, obs, &mut params);
    let log_prob = log_prob_on_tape(&mut tape, mean, std, action);
    let entropy = entropy_on_tape(&mut tape, std);
    let clip_epsilon = fixture.get("clip_epsilon").scalar() as f32;
    let entropy_coef = fixture.get("entropy_coef").scalar() as f32;
    let loss = actor_loss(
        &mut tape,
        log_prob,
        old_log_prob,
        advantages,
        entropy,
        clip_epsilon,
        entropy_coef,
    );
    tape.backward(loss.total);

    let as_f64 = |t: &Tensor| t.data().iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    let (ratio_error, at) =
        max_relative_error(&as_f64(tape.value(loss.surrogate.ratio)), &get("ratio").values, 1.0);
    assert!(ratio_error < 1e-5, "{net}: ratio {at} off by {ratio_error:.2e}");
    let total = f64::from(tape.value(loss.total).item());
    let expected = get("loss").scalar();
    assert!(
        (total - expected).abs() <= 1e-5 * expected.abs().max(1.0),
        "{net}: loss {total} vs {expected}"
    );

    let mut worst = 0.0f64;
    for (name, &var) in names.iter().zip(&params) {
        let expected = get(&format!("grad.{name}"));
        // Relative to a tenth of the tensor's largest entry: see grad_floor in tests/nn.rs.
        let floor = 0.1 * expected.values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let (error, at) =
            max_relative_error(&as_f64(tape.grad(var)), &expected.values, floor.max(1e-12));
        assert!(
            error <= RTOL,
            "{net}: gradient of {name}, element {at}: relative error {error:.2e}"
        );
        worst = worst.max(error);
    }
    worst
}

#[test]
fn actor_loss_grad_matches_pytorch_softplus_actor() {
    let worst = check_actor_loss("softplus", ActorConfig::default());
    println!("softplus actor: largest relative gradient error {worst:.2e}");
}

#[test]
fn actor_loss_grad_matches_pytorch_log_std_actor() {
    let config = ActorConfig {
        action_size: 2,
        std: StdParam::LogStd { init: 0.0, clamp: Some((-20.0, 2.0)) },
        ..ActorConfig::default()
    };
    let worst = check_actor_loss("logstd", config);
    println!("log-std actor: largest relative gradient error {worst:.2e}");
}
