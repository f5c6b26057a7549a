//! Chapter 3: networks. The actor and the critic against PyTorch (outputs and the gradient of
//! a loss with respect to every parameter, recorded by `tools/pytorch_fixtures.py`), against
//! finite differences (`gradcheck`, end to end), and against themselves (the tape-free forward
//! must equal the taped one bit for bit); initialization against its defining properties.

mod common;

use common::{Fixture, max_relative_error};
use ppo::autodiff::{GradCheck, Op, Params, Tape, Var, gradcheck_with};
use ppo::nn::{
    Activation, Actor, ActorConfig, Critic, CriticConfig, Graph, HIDDEN_GAIN, Init, LayerInit,
    Linear, POLICY_HEAD_GAIN, ParameterError, StdParam, VALUE_HEAD_GAIN, Workspace, orthogonal, qr,
    shared_forward, shared_with,
};
use ppo::normal;
use ppo::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Relative tolerance against PyTorch.
const RTOL: f64 = 1e-5;

/// Compares `actual` with a recorded array, element by element, relative to
/// `max(|expected|, floor)`; returns the largest relative error.
fn assert_close(what: &str, actual: &[f32], expected: &common::Array, floor: f64) -> f64 {
    let actual: Vec<f64> = actual.iter().map(|&x| f64::from(x)).collect();
    let (error, at) = max_relative_error(&actual, &expected.values, floor);
    assert!(
        error <= RTOL,
        "{what}: element {at}: {} vs PyTorch {} (relative error {error:.2e})",
        actual[at],
        expected.values[at]
    );
    error
}

fn tensor(array: &common::Array) -> Tensor {
    Tensor::from_vec(&array.shape, array.f32s())
}

/// The recorded parameters of network `net`, in the network's own parameter order.
fn recorded_parameters(fixture: &Fixture, net: &str, names: &[String]) -> Vec<Tensor> {
    names.iter().map(|name| tensor(fixture.get(&format!("{net}.param.{name}")))).collect()
}

struct ActorCase {
    net: &'static str,
    config: ActorConfig,
}

fn actor_cases() -> Vec<ActorCase> {
    let base = ActorConfig::default();
    vec![
        ActorCase { net: "actor_softplus", config: base.clone() },
        ActorCase {
            net: "actor_logstd",
            config: ActorConfig {
                action_size: 2,
                std: StdParam::LogStd { init: 0.0, clamp: Some((-20.0, 2.0)) },
                ..base.clone()
            },
        },
        ActorCase {
            net: "actor_tanh",
            config: ActorConfig {
                action_size: 2,
                hidden: vec![16, 8],
                activation: Activation::Tanh,
                ..base.clone()
            },
        },
    ]
}

fn critic_cases() -> Vec<(&'static str, CriticConfig)> {
    let base = CriticConfig::default();
    vec![
        ("critic", base.clone()),
        ("critic_tanh", CriticConfig { hidden: vec![16, 8], activation: Activation::Tanh, ..base }),
    ]
}

fn recorded_actor(fixture: &Fixture, case: &ActorCase) -> Actor {
    let mut actor = Actor::new(&case.config, &mut rng(0));
    let values = recorded_parameters(fixture, case.net, &actor.parameter_names());
    actor.load_parameters(&values).unwrap();
    actor
}

fn recorded_critic(fixture: &Fixture, net: &str, config: &CriticConfig) -> Critic {
    let mut critic = Critic::new(config, &mut rng(0));
    let values = recorded_parameters(fixture, net, &critic.parameter_names());
    critic.load_parameters(&values).unwrap();
    critic
}

// Outputs are compared relative to max(|expected|, 1e-3): a mean of 2·tanh(z) near z = 0 is a
// difference of nearly equal f32 sums, whose rounding error (~1e-7 of the summands) is large
// relative to a tiny result, but not relative to the scale of the output.
const OUTPUT_FLOOR: f64 = 1e-3;

#[test]
fn actor_outputs_match_pytorch() {
    let fixture = Fixture::load("nn_pytorch.txt");
    for case in actor_cases() {
        let actor = recorded_actor(&fixture, &case);
        let obs = fixture.get(&format!("{}.obs", case.net)).f32s();
        let outputs = fixture.get(&format!("{}.mean", case.net)).values.len();
        let (mut mean, mut std) = (vec![0.0; outputs], vec![0.0; outputs]);
        actor.forward(&obs, &mut Workspace::new(), &mut mean, &mut std);
        let net = case.net;
        let e_mean = assert_close(net, &mean, fixture.get(&format!("{net}.mean")), OUTPUT_FLOOR);
        let e_std = assert_close(net, &std, fixture.get(&format!("{net}.std")), OUTPUT_FLOOR);
        println!("{net}: mean relative error {e_mean:.2e}, std {e_std:.2e}");
    }
}

// ANCHOR: actor_grads
/// The gradient of `mean(log π(a|s)) + 0.5·mean(H(π(·|s)))` with respect to every parameter
/// of each actor, against PyTorch autograd.
#[test]
fn actor_grads_match_pytorch() {
    let fixture = Fixture::load("nn_pytorch.txt");
    for case in actor_cases() {
        let net = case.net;
        let actor = recorded_actor(&fixture, &case);
        let mut tape = Tape::new();
        let mut params = Vec::new();
        let obs = tape.constant(&tensor(fixture.get(&format!("{net}.obs"))));
        let action = tape.constant(&tensor(fixture.get(&format!("{net}.action"))));
        let (mean, std) = actor.forward_on_tape(&mut tape, obs, &mut params);
        let log_prob = normal::log_prob_on_tape(&mut tape, mean, std, action);
        let entropy = normal::entropy_on_tape(&mut tape, std);
        let log_prob_mean = tape.mean(log_prob);
        let entropy_mean = tape.mean(entropy);
        let bonus = tape.mul_scalar(entropy_mean, 0.5);
        let loss = tape.add(log_prob_mean, bonus);
        tape.backward(loss);

        let log_prob_expected = fixture.get(&format!("{net}.log_prob"));
        let log_prob_error =
            assert_close(net, tape.value(log_prob).data(), log_prob_expected, OUTPUT_FLOOR);
        let loss_expected = fixture.get(&format!("{net}.loss"));
        let loss_error = assert_close(net, tape.value(loss).data(), loss_expected, 0.0);
        println!("{net}: log_prob relative error {log_prob_error:.2e}, loss {loss_error:.2e}");
        for (name, &var) in actor.parameter_names().iter().zip(&params) {
            let expected = fixture.get(&format!("{net}.grad.{name}"));
            let floor = grad_floor(expected);
            let error =
                assert_close(&format!("{net} grad {name}"), tape.grad(var).data(), expected, floor);
            let unfloored = unfloored_error(tape.grad(var).data(), expected);
            println!(
                "{net} grad {name}: relative error {error:.2e} (without the floor {unfloored:.2e})"
            );
        }
    }
}
// ANCHOR_END: actor_grads

/// Gradients are compared relative to the element, or to a tenth of the largest element of
/// the same tensor, whichever is larger. A weight's gradient is a sum over the batch (and,
/// deeper in, over the units of the next layer) of terms of both signs; where they nearly
/// cancel, the f32 result carries the rounding error of the terms (about 1e-7 of the tensor's
/// scale), not of itself: an element far smaller than its neighbours can be off by 7e-4 of
/// itself (`unfloored_error` prints it). PyTorch computing in float32 shows the same effect
/// (up to 9e-6 on the critic's smallest gradient elements, where ours reach 1.3e-5).
fn grad_floor(expected: &common::Array) -> f64 {
    0.1 * expected.values.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// The error relative to each element alone, which the tests print but do not bound: what
/// the floor above hides (an element recorded as exactly 0 counts only if ours is not).
fn unfloored_error(actual: &[f32], expected: &common::Array) -> f64 {
    let actual: Vec<f64> = actual.iter().map(|&x| f64::from(x)).collect();
    max_relative_error(&actual, &expected.values, f64::MIN_POSITIVE).0
}

#[test]
fn critic_values_match_pytorch() {
    let fixture = Fixture::load("nn_pytorch.txt");
    for (net, config) in critic_cases() {
        let critic = recorded_critic(&fixture, net, &config);
        let obs = fixture.get(&format!("{net}.obs")).f32s();
        let mut values = vec![0.0; obs.len() / 3];
        critic.forward(&obs, &mut Workspace::new(), &mut values);
        let error = assert_close(net, &values, fixture.get(&format!("{net}.value")), OUTPUT_FLOOR);
        println!("{net}: value relative error {error:.2e}");
    }
}

/// The gradient of the mean squared error `mean((V(s) − R)²)` with respect to every parameter.
#[test]
fn critic_grads_match_pytorch() {
    let fixture = Fixture::load("nn_pytorch.txt");
    for (net, config) in critic_cases() {
        let critic = recorded_critic(&fixture, net, &config);
        let mut tape = Tape::new();
        let mut params = Vec::new();
        let obs = tape.constant(&tensor(fixture.get(&format!("{net}.obs"))));
        let returns = tape.constant(&tensor(fixture.get(&format!("{net}.returns"))));
        let value = critic.forward_on_tape(&mut tape, obs, &mut params);
        let error = tape.sub(value, returns);
        let squared = tape.square(error);
        let loss = tape.mean(squared);
        tape.backward(loss);
        assert_close(net, tape.value(loss).data(), fixture.get(&format!("{net}.loss")), 0.0);
        for (name, &var) in critic.parameter_names().iter().zip(&params) {
            let expected = fixture.get(&format!("{net}.grad.{name}"));
            let error = assert_close(
                &format!("{net} grad {name}"),
                tape.grad(var).data(),
                expected,
                grad_floor(expected),
            );
            let unfloored = unfloored_error(tape.grad(var).data(), expected);
            println!(
                "{net} grad {name}: relative error {error:.2e} (without the floor {unfloored:.2e})"
            );
        }
    }
}

/// The log-σ entry recorded beyond the clamp (2.5 > 2) receives exactly no gradient, as in
/// PyTorch, and its σ is e².
#[test]
fn actor_log_std_beyond_the_clamp_gets_no_grad() {
    let fixture = Fixture::load("nn_pytorch.txt");
    let case = &actor_cases()[1];
    let actor = recorded_actor(&fixture, case);
    assert_eq!(actor.parameters().last().unwrap().data(), [0.3, 2.5]);
    let expected = fixture.get("actor_logstd.grad.log_std");
    assert_eq!(expected.values[1], 0.0);
    let mut tape = Tape::new();
    let mut params = Vec::new();
    let obs = tape.constant(&tensor(fixture.get("actor_logstd.obs")));
    let (_, std) = actor.forward_on_tape(&mut tape, obs, &mut params);
    let loss = tape.sum(std);
    tape.backward(loss);
    // The first entry is inside the clamp: ∂(Σ σ)/∂(log σ₀) = Σ over the batch of σ₀ = n·e^0.3.
    let grad = tape.grad(*params.last().unwrap()).data();
    assert_eq!(grad[1], 0.0);
    let batch = tape.value(std).shape()[0] as f32;
    assert!((grad[0] / (batch * 0.3f32.exp()) - 1.0).abs() < 1e-6, "{}", grad[0]);
    assert_eq!(tape.value(std).get(&[3, 1]), 2.0f32.exp());
}

// ANCHOR: substitute
/// A [`Graph`] that records on a tape but hands out given parameter handles in order instead
/// of recording the network's own: lets `gradcheck`, which owns the parameter leaves, drive a
/// whole network.
struct Substitute<'t> {
    tape: &'t mut Tape,
    params: &'t [Var],
    next: usize,
}

impl<'p> Graph<'p> for Substitute<'_> {
    type Node = Var;
    fn param(&mut self, value: &'p Tensor) -> Var {
        let var = self.params[self.next];
        assert_eq!(self.tape.value(var).shape(), value.shape(), "parameter {}", self.next);
        self.next += 1;
        var
    }
    fn apply(&mut self, op: &'static dyn Op, inputs: &[Var], params: Params) -> Var {
        self.tape.apply(op, inputs, params)
    }
}
// ANCHOR_END: substitute

/// Reduces any output to a scalar through fixed random weights, `Σ w ⊙ y`, so that every
/// entry of the Jacobian is checked (as in tests/autodiff_grad.rs).
fn probe(tape: &mut Tape, y: Var, seed: u64) -> Var {
    let shape = tape.value(y).shape().to_vec();
    let w = tape.constant(&Tensor::randn(&shape, &mut rng(seed)));
    let weighted = tape.mul(y, w);
    tape.sum(weighted)
}

// ANCHOR: actor_grad
/// The whole actor, for each σ parametrization and both activations, against finite
/// differences: the gradient with respect to every parameter of a random probe of the mean and
/// of σ.
///
/// Inside a ReLU network the pre-activations are not ours to keep away from the kink at 0, and
/// a finite difference across the kink measures a slope that exists on neither side. See
/// `grad_settings` for the step this needs.
#[test]
fn actor_forward_on_tape_grad_matches_finite_differences() {
    let stds = [
        StdParam::Softplus,
        StdParam::LogStd { init: -0.5, clamp: Some((-20.0, 2.0)) },
        StdParam::LogStd { init: 0.7, clamp: None },
    ];
    for (i, std) in stds.into_iter().enumerate() {
        for activation in [Activation::Relu, Activation::Tanh] {
            let config = ActorConfig { action_size: 2, std, activation, ..ActorConfig::default() };
            let actor = Actor::new(&config, &mut rng(900 + i as u64));
            let obs = Tensor::randn(&[6, 3], &mut rng(910 + i as u64));
            let inputs: Vec<Tensor> = actor.parameters().into_iter().cloned().collect();
            let result = gradcheck_with(grad_settings(activation), &inputs, |tape, vars| {
                let obs = tape.constant(&obs);
                let mut graph = Substitute { tape, params: vars, next: 0 };
                let (mean, std) = actor.forward_with(&mut graph, obs);
                assert_eq!(graph.next, vars.len(), "every parameter is used");
                let mean_probe = probe(tape, mean, 1);
                let std_probe = probe(tape, std, 2);
                tape.add(mean_probe, std_probe)
            });
            assert!(result.is_ok(), "actor {std:?} {activation:?}: {}", result.unwrap_err());
        }
    }
}
// ANCHOR_END: actor_grad

/// The finite-difference step. Tanh networks are smooth: the default step of 1e-2 is fine.
/// In ReLU networks a step must be small enough not to cross a kink and large enough that the
/// f32 rounding of the loss (about 1e-7 of it) does not swamp the difference `f(x+h) − f(x−h)`.
/// With 768 pre-activations some lie within 1e-3 of 0: a step of 1e-3 crosses a kink here, and
/// one of 1e-4 fails on rounding. 3e-4 does neither for these inputs; were a gradient wrong,
/// the check would still fail.
fn grad_settings(activation: Activation) -> GradCheck {
    match activation {
        Activation::Relu => GradCheck { step: 3e-4, ..GradCheck::default() },
        Activation::Tanh => GradCheck::default(),
    }
}

#[test]
fn critic_forward_on_tape_grad_matches_finite_differences() {
    for (i, activation) in [Activation::Relu, Activation::Tanh].into_iter().enumerate() {
        let config = CriticConfig { activation, ..CriticConfig::default() };
        let critic = Critic::new(&config, &mut rng(920 + i as u64));
        let obs = Tensor::randn(&[6, 3], &mut rng(921));
        let inputs: Vec<Tensor> = critic.parameters().into_iter().cloned().collect();
        let result = gradcheck_with(grad_settings(activation), &inputs, |tape, vars| {
            let obs = tape.constant(&obs);
            let value = critic.forward_with(&mut Substitute { tape, params: vars, next: 0 }, obs);
            probe(tape, value, 3)
        });
        assert!(result.is_ok(), "critic {activation:?}: {}", result.unwrap_err());
    }
}

// ANCHOR: shared_grad
/// A shared network: the actor's trunk feeding its heads and a value head on its last layer.
/// A probe of all three outputs sends gradient into the trunk from both the policy and the
/// value, and every parameter's gradient matches finite differences.
#[test]
fn shared_network_grad_matches_finite_differences() {
    for (i, activation) in [Activation::Relu, Activation::Tanh].into_iter().enumerate() {
        let hidden = vec![16, 16];
        let actor_config = ActorConfig { activation, hidden, ..ActorConfig::default() };
        let value_config =
            CriticConfig { obs_size: 16, hidden: vec![], activation, ..CriticConfig::default() };
        let actor = Actor::new(&actor_config, &mut rng(940 + i as u64));
        let value = Critic::new(&value_config, &mut rng(950 + i as u64));
        let obs = Tensor::randn(&[6, 3], &mut rng(960));
        let inputs: Vec<Tensor> =
            actor.parameters().into_iter().chain(value.parameters()).cloned().collect();
        let result = gradcheck_with(grad_settings(activation), &inputs, |tape, vars| {
            let obs = tape.constant(&obs);
            let mut graph = Substitute { tape, params: vars, next: 0 };
            let (outputs, values) = shared_with(&actor, &value, &mut graph, obs);
            assert_eq!(graph.next, vars.len(), "every parameter is used");
            let [mean, std] = *outputs.as_slice() else {
                panic!("a Gaussian head has two outputs")
            };
            let probes = [probe(tape, mean, 4), probe(tape, std, 5), probe(tape, values, 6)];
            let sum = tape.add(probes[0], probes[1]);
            tape.add(sum, probes[2])
        });
        assert!(result.is_ok(), "shared {activation:?}: {}", result.unwrap_err());
    }
}
// ANCHOR_END: shared_grad

/// Acting through a shared network, tape-free, gives the tape's numbers bit for bit, and the
/// value head sees the trunk's features, not the observation.
#[test]
fn shared_forward_equals_the_tape_and_reads_the_trunk() {
    let actor = Actor::new(&ActorConfig::default(), &mut rng(970));
    let value_config = CriticConfig { obs_size: 64, hidden: vec![], ..CriticConfig::default() };
    let value = Critic::new(&value_config, &mut rng(971));
    let obs = Tensor::randn(&[5, 3], &mut rng(972));
    let (mut mean, mut std, mut values) = (vec![0.0; 5], vec![0.0; 5], vec![0.0; 5]);
    let mut workspace = Workspace::new();
    shared_forward(&actor, &value, obs.data(), &mut workspace, [&mut mean, &mut std], &mut values);
    let mut tape = Tape::new();
    let x = tape.constant(&obs);
    let mut vars = Vec::new();
    let (outputs, value_var) =
        shared_with(&actor, &value, &mut ppo::nn::Recorder::new(&mut tape, &mut vars), x);
    assert_eq!(tape.value(outputs.as_slice()[0]).data(), mean);
    assert_eq!(tape.value(outputs.as_slice()[1]).data(), std);
    assert_eq!(tape.value(value_var).data(), values);
    // The value head by hand on the trunk's output: Σ_j h_j w_j + b, in f64.
    let mut trunk_tape = Tape::new();
    let x = trunk_tape.constant(&obs);
    let h = actor.features_with(&mut ppo::nn::Recorder::new(&mut trunk_tape, &mut Vec::new()), x);
    let h = trunk_tape.value(h).clone();
    assert_eq!(h.shape(), [5, 64]);
    let [w, b] = value.parameters()[..] else { panic!("a value head is one layer") };
    for (row, &v) in values.iter().enumerate() {
        let by_hand = (0..64).map(|j| f64::from(h.data()[row * 64 + j] * w.data()[j])).sum::<f64>()
            + f64::from(b.data()[0]);
        assert!((f64::from(v) - by_hand).abs() < 1e-5 * by_hand.abs().max(1.0), "{v} vs {by_hand}");
    }
}

// ANCHOR: same_math
/// Acting and learning run one definition of the math through the same kernels, so their
/// outputs are equal to the last bit, for both parametrizations, both activations, and
/// batches of 1 and 64.
#[test]
fn actor_and_critic_tape_free_forward_equals_forward_on_tape_bit_for_bit() {
    let actor_configs = [
        ActorConfig::default(),
        ActorConfig {
            action_size: 2,
            std: StdParam::LogStd { init: -0.5, clamp: Some((-20.0, 2.0)) },
            activation: Activation::Tanh,
            init: Init::Orthogonal,
            ..ActorConfig::default()
        },
    ];
    let mut workspace = Workspace::new();
    for config in &actor_configs {
        let actor = Actor::new(config, &mut rng(1000));
        for batch in [1, 64] {
            let obs = Tensor::randn(&[batch, 3], &mut rng(1001));
            let outputs = batch * config.action_size;
            let (mut mean, mut std) = (vec![0.0; outputs], vec![0.0; outputs]);
            actor.forward(obs.data(), &mut workspace, &mut mean, &mut std);
            let mut tape = Tape::new();
            let obs_var = tape.constant(&obs);
            let (mean_var, std_var) = actor.forward_on_tape(&mut tape, obs_var, &mut Vec::new());
            assert_eq!(tape.value(mean_var).data(), mean, "{config:?} batch {batch}");
            assert_eq!(tape.value(std_var).data(), std, "{config:?} batch {batch}");
            assert_eq!(tape.value(std_var).shape(), [batch, config.action_size]);
        }
    }
    let critic = Critic::new(&CriticConfig::default(), &mut rng(1002));
    for batch in [1, 64] {
        let obs = Tensor::randn(&[batch, 3], &mut rng(1003));
        let mut values = vec![0.0; batch];
        critic.forward(obs.data(), &mut workspace, &mut values);
        let mut tape = Tape::new();
        let obs_var = tape.constant(&obs);
        let value = critic.forward_on_tape(&mut tape, obs_var, &mut Vec::new());
        assert_eq!(tape.value(value).data(), values);
        assert_eq!(tape.value(value).shape(), [batch]);
    }
}
// ANCHOR_END: same_math

#[test]
fn actor_forward_on_tape_records_parameters_in_parameters_order() {
    for std in [StdParam::Softplus, StdParam::LogStd { init: 0.0, clamp: None }] {
        let actor = Actor::new(&ActorConfig { std, ..ActorConfig::default() }, &mut rng(1100));
        let mut tape = Tape::new();
        let obs = tape.constant(&Tensor::zeros(&[2, 3]));
        let mut params = vec![obs]; // stale content is cleared
        actor.forward_on_tape(&mut tape, obs, &mut params);
        let expected = actor.parameters();
        assert_eq!(params.len(), expected.len());
        assert_eq!(actor.parameter_names().len(), expected.len());
        for (var, value) in params.iter().zip(expected) {
            assert_eq!(tape.value(*var), value);
        }
    }
}

#[test]
fn actor_and_critic_count_their_parameters() {
    // 3·64 + 64, 64·64 + 64, then heads of 64 + 1 each (or a log-σ of 1).
    let actor = Actor::new(&ActorConfig::default(), &mut rng(0));
    assert_eq!(actor.num_parameters(), 256 + 4160 + 65 + 65);
    let log_std =
        ActorConfig { std: StdParam::LogStd { init: 0.0, clamp: None }, ..ActorConfig::default() };
    assert_eq!(Actor::new(&log_std, &mut rng(0)).num_parameters(), 256 + 4160 + 65 + 1);
    let critic = Critic::new(&CriticConfig::default(), &mut rng(0));
    assert_eq!(critic.num_parameters(), 256 + 4160 + 65);
    assert_eq!(
        actor.parameter_names(),
        [
            "trunk.0.weight",
            "trunk.0.bias",
            "trunk.1.weight",
            "trunk.1.bias",
            "mean.weight",
            "mean.bias",
            "std.weight",
            "std.bias"
        ]
    );
    assert_eq!(critic.parameter_names()[4..], ["value.weight", "value.bias"]);
}

#[test]
fn actor_load_parameters_round_trips_and_rejects_wrong_shapes() {
    let config = ActorConfig::default();
    let source = Actor::new(&config, &mut rng(1)); // another seed
    let mut actor = Actor::new(&config, &mut rng(2));
    assert_ne!(actor, source);
    let saved: Vec<Tensor> = source.parameters().into_iter().cloned().collect();
    actor.load_parameters(&saved).unwrap();
    assert_eq!(actor, source);

    let before = actor.clone();
    let mut wrong = saved.clone();
    wrong[4] = Tensor::zeros(&[64, 2]);
    let error = actor.load_parameters(&wrong).unwrap_err();
    assert_eq!(
        error,
        ParameterError::Shape {
            name: "mean.weight".into(),
            expected: vec![64, 1],
            found: vec![64, 2]
        }
    );
    assert_eq!(error.to_string(), "parameter mean.weight: expected shape [64, 1], found [64, 2]");
    assert_eq!(
        actor.load_parameters(&saved[..3]).unwrap_err(),
        ParameterError::Count { expected: 8, found: 3 }
    );
    assert_eq!(actor, before, "a failed load changes nothing");

    // parameters_mut writes through, in the same order.
    for p in actor.parameters_mut() {
        p.data_mut().iter_mut().for_each(|x| *x = 0.5);
    }
    assert!(actor.parameters().iter().all(|p| p.data().iter().all(|&x| x == 0.5)));
}

#[test]
fn critic_load_parameters_round_trips() {
    let source = Critic::new(&CriticConfig::default(), &mut rng(3));
    let mut critic = Critic::new(&CriticConfig::default(), &mut rng(4));
    let saved: Vec<Tensor> = source.parameters().into_iter().cloned().collect();
    critic.load_parameters(&saved).unwrap();
    assert_eq!(critic, source);
    let error = critic.load_parameters(&saved[1..]).unwrap_err();
    assert_eq!(error.to_string(), "expected 6 parameter tensors, found 5");
}

#[test]
fn actor_mean_stays_in_the_action_range_and_std_above_its_floor() {
    // Huge weights saturate the heads: tanh at ±1 and softplus at 0 or at its input.
    let mut actor = Actor::new(&ActorConfig::default(), &mut rng(5));
    for p in actor.parameters_mut() {
        *p = p.scale(200.0);
    }
    let obs = Tensor::randn(&[256, 3], &mut rng(6));
    let (mut mean, mut std) = (vec![0.0; 256], vec![0.0; 256]);
    actor.forward(obs.data(), &mut Workspace::new(), &mut mean, &mut std);
    assert!(mean.iter().all(|m| (-2.0..=2.0).contains(m)));
    assert!(mean.contains(&2.0) && mean.contains(&-2.0));
    assert!(std.iter().all(|&s| s >= 1e-5 && s.is_finite()));
    assert!(std.contains(&1e-5), "softplus underflows to 0, leaving exactly the floor");
}

#[test]
fn actor_log_std_is_clamped_only_when_asked() {
    for (clamp, expected) in [(Some((-20.0, 2.0)), 2.0f32.exp()), (None, 5.0f32.exp())] {
        let config =
            ActorConfig { std: StdParam::LogStd { init: 5.0, clamp }, ..ActorConfig::default() };
        let actor = Actor::new(&config, &mut rng(7));
        let (mut mean, mut std) = ([0.0; 3], [0.0; 3]);
        actor.forward(&[0.1; 9], &mut Workspace::new(), &mut mean, &mut std);
        assert_eq!(std, [expected; 3], "clamp {clamp:?}");
    }
}

#[test]
#[should_panic(expected = "observations: 7 values do not form rows of 3")]
fn actor_forward_rejects_a_ragged_batch() {
    let actor = Actor::new(&ActorConfig::default(), &mut rng(8));
    actor.forward(&[0.0; 7], &mut Workspace::new(), &mut [0.0; 2], &mut [0.0; 2]);
}

#[test]
#[should_panic(expected = "layer_relu: shapes [2, 4] and [3, 64] do not chain")]
fn actor_forward_on_tape_names_both_shapes_on_a_mismatch() {
    let actor = Actor::new(&ActorConfig::default(), &mut rng(9));
    let mut tape = Tape::new();
    let obs = tape.constant(&Tensor::zeros(&[2, 4]));
    actor.forward_on_tape(&mut tape, obs, &mut Vec::new());
}

#[test]
fn actor_same_seed_same_weights() {
    for init in [Init::PyTorchDefault, Init::Orthogonal] {
        let config = ActorConfig { init, ..ActorConfig::default() };
        assert_eq!(Actor::new(&config, &mut rng(11)), Actor::new(&config, &mut rng(11)));
        assert_ne!(Actor::new(&config, &mut rng(11)), Actor::new(&config, &mut rng(12)));
    }
}

// ANCHOR: orthogonal_test
/// `WᵀW = gain²·I` (tall or square `W`) or `WWᵀ = gain²·I` (wide `W`), to 1e-5, at the
/// shapes of the pendulum's networks (3 → 64 → 64 → 1 or 2) and two more, one wide, one odd.
#[test]
fn orthogonal_init_is_orthonormal_times_the_gain() {
    let shapes = [(3, 64), (64, 64), (64, 1), (64, 2), (1, 64), (7, 5)];
    for (i, &(rows, cols)) in shapes.iter().enumerate() {
        for gain in [HIDDEN_GAIN, POLICY_HEAD_GAIN, VALUE_HEAD_GAIN] {
            let w = orthogonal(rows, cols, gain, &mut rng(1200 + i as u64));
            assert_eq!(w.shape(), [rows, cols]);
            let unit = w.scale(1.0 / gain);
            // The Gram matrix of the shorter side: columns if tall, rows if wide.
            let gram = if rows >= cols { unit.matmul_tn(&unit) } else { unit.matmul_nt(&unit) };
            let n = rows.min(cols);
            for a in 0..n {
                for b in 0..n {
                    let expected = if a == b { 1.0 } else { 0.0 };
                    let got = gram.get(&[a, b]);
                    assert!(
                        (got - expected).abs() <= 1e-5,
                        "{rows}x{cols} gain {gain}: [{a},{b}] = {got}"
                    );
                }
            }
            // The gain itself: ‖W‖²_F = gain²·min(rows, cols).
            let frobenius = w.data().iter().map(|x| x * x).sum::<f32>();
            let expected = gain * gain * n as f32;
            assert!(
                (frobenius / expected - 1.0).abs() <= 1e-5,
                "{rows}x{cols}: ‖W‖² {frobenius} vs {expected}"
            );
        }
    }
}
// ANCHOR_END: orthogonal_test

/// The sign fix is what makes the matrix uniformly random. Householder's reflection gives
/// `R[0, 0]` the sign opposite the first entry, so without the fix `W[0, 0]` would always be
/// negative (its mean about −0.29 for 8×8). Over 4000 draws its mean must be 0 (standard
/// error 0.0056) and its variance 1/8, as for a uniformly random orthogonal matrix.
#[test]
fn orthogonal_init_is_unbiased_in_sign_and_scale() {
    let mut r = rng(1300);
    let draws: Vec<f32> = (0..4000).map(|_| orthogonal(8, 8, 1.0, &mut r).get(&[0, 0])).collect();
    let mean = draws.iter().sum::<f32>() / 4000.0;
    let variance = draws.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / 4000.0;
    println!("W[0,0] over 4000 draws: mean {mean:.4}, variance {variance:.4}");
    assert!(mean.abs() < 0.025, "mean of W[0,0] is {mean}");
    assert!((variance - 0.125).abs() < 0.01, "variance of W[0,0] is {variance}");
}

#[test]
fn orthogonal_qr_reconstructs_the_matrix_with_orthonormal_q_and_triangular_r() {
    let mut r = rng(1400);
    for &(rows, cols) in &[(1, 1), (5, 3), (64, 64), (64, 3)] {
        let a: Vec<f64> =
            Tensor::randn(&[rows * cols], &mut r).data().iter().map(|&x| f64::from(x)).collect();
        let (q, upper) = qr(rows, cols, &a);
        for i in 0..rows {
            for j in 0..cols {
                let product: f64 = (0..cols).map(|k| q[i * cols + k] * upper[k * cols + j]).sum();
                assert!((product - a[i * cols + j]).abs() < 1e-12, "QR ≠ A at [{i},{j}]");
            }
        }
        for a_col in 0..cols {
            for b_col in 0..cols {
                let dot: f64 = (0..rows).map(|i| q[i * cols + a_col] * q[i * cols + b_col]).sum();
                let expected = if a_col == b_col { 1.0 } else { 0.0 };
                assert!((dot - expected).abs() < 1e-12, "QᵀQ ≠ I at [{a_col},{b_col}]");
            }
        }
        for k in 0..cols {
            assert!(upper[k * cols + k] >= 0.0, "R's diagonal is non-negative");
            assert!((0..k).all(|j| upper[k * cols + j] == 0.0), "R is upper triangular");
        }
    }
}

#[test]
fn orthogonal_actor_and_critic_use_cleanrl_gains_and_zero_biases() {
    let config = ActorConfig { init: Init::Orthogonal, action_size: 2, ..ActorConfig::default() };
    let actor = Actor::new(&config, &mut rng(1500));
    let params = actor.parameters();
    let gains = [HIDDEN_GAIN, HIDDEN_GAIN, POLICY_HEAD_GAIN, POLICY_HEAD_GAIN];
    for (weight, gain) in params.iter().step_by(2).zip(gains) {
        let (rows, cols) = weight.dims2();
        let frobenius = weight.data().iter().map(|x| x * x).sum::<f32>();
        let expected = gain * gain * rows.min(cols) as f32;
        assert!(
            (frobenius / expected - 1.0).abs() < 1e-5,
            "{rows}x{cols}: {frobenius} vs {expected}"
        );
    }
    assert!(params.iter().skip(1).step_by(2).all(|b| b.data().iter().all(|&x| x == 0.0)));

    let critic = Critic::new(
        &CriticConfig { init: Init::Orthogonal, ..CriticConfig::default() },
        &mut rng(1501),
    );
    let head = critic.parameters()[4];
    let norm = head.data().iter().map(|x| x * x).sum::<f32>();
    assert!((norm - VALUE_HEAD_GAIN * VALUE_HEAD_GAIN).abs() < 1e-5, "value head ‖w‖² = {norm}");
}

/// PyTorch's default: `U(−1/√fan_in, 1/√fan_in)` for weights and biases. 4096 draws: every
/// one inside the bound, the extremes near it, the mean near 0 and the variance near bound²/3.
#[test]
fn pytorch_default_init_is_uniform_within_one_over_sqrt_fan_in() {
    let layer = Linear::new(64, 64, LayerInit::PyTorchDefault, &mut rng(1600));
    let bound = 1.0 / 8.0;
    let w = layer.weight.data();
    assert!(w.iter().all(|x| x.abs() <= bound));
    let max = w.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(max > 0.99 * bound, "largest |w| {max}");
    let mean = w.iter().sum::<f32>() / 4096.0;
    let variance = w.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / 4096.0;
    assert!(mean.abs() < 0.004, "mean {mean}"); // standard error 0.0011
    assert!((variance / (bound * bound / 3.0) - 1.0).abs() < 0.07, "variance {variance}");
    assert!(layer.bias.data().iter().all(|x| x.abs() <= bound));
    assert!(layer.bias.data().iter().any(|&x| x != 0.0));
    // fan_in 3, as the first layer of the pendulum's networks.
    let first = Linear::new(3, 64, LayerInit::PyTorchDefault, &mut rng(1601));
    let bound3 = 1.0 / 3.0f32.sqrt();
    assert!(first.weight.data().iter().all(|x| x.abs() <= bound3));
    assert!(first.weight.data().iter().any(|x| x.abs() > 0.9 * bound3));
}
