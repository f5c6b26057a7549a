//! The actor's heads driven to extreme pre-activations, through every distribution the
//! trainer can pair them with: sampling, the mode, the action, the log-probability and the
//! entropy, eagerly and on the tape, and the gradients back through the heads to the actor's
//! parameters. Nothing may be NaN or infinite on any input the actor can produce.
//!
//! The per-distribution tests sweep each distribution's own parameters (μ, σ, α, β) over wide
//! grids; this one starts a step earlier, at the linear layers' outputs, so that what reaches
//! the distributions is exactly what the heads make of them: `2·tanh` rounding to ±2, a
//! softplus of −10⁴ rounding to 0 (σ = 10⁻⁵, α = β = 1 exactly), σ at both ends of the log-σ
//! clamp, logits 2·10⁴ apart.
//!
//! How: every weight of an actor is zero and the trunk's last biases are 1, so each head's
//! output is its bias. With `action_size = 121`, the mean (or α) head's bias holds each
//! pre-activation of [`PRE`] eleven times over and the σ (or β) head's cycles through them, so one
//! row of parameters holds every pair. Each sample row is then also evaluated under every
//! rotation of the dimensions: the sample of one pair under every other pair, which is what
//! PPO asks when it evaluates old samples under a policy that has moved.

use ppo::config::DistributionKind;
use ppo::networks::{PolicyHead, StdParam};
use ppo::nn::Activation;
use ppo::{ActionSpace, Actor, ActorConfig, Distribution, Tape, Tensor, Workspace};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The linear layers' outputs swept: both signs of huge (softplus and tanh saturate, exp
/// would overflow), of the edge of `f32`'s exp (88), of tiny, zero, and the log-σ clamp's
/// two ends (−20 and 2).
const PRE: [f32; 11] = [-1e4, -88.0, -20.0, -2.0, -1e-30, 0.0, 1e-30, 2.0, 20.0, 88.0, 1e4];

/// The log-σ clamp the program uses (the PyTorch chapter's).
const CLAMP: (f32, f32) = (-20.0, 2.0);

/// Samples drawn per parameter row (the mode is evaluated too).
const DRAWS: usize = 6;

// ANCHOR: zeroed_actor
/// The actor of `head` and `std` with every weight zero and every head bias set by `bias`
/// (given the parameter's name and its length); the trunk's features are all 1.
fn actor(head: PolicyHead, std: StdParam, dims: usize, bias: impl Fn(&str) -> Vec<f32>) -> Actor {
    let config = ActorConfig {
        obs_size: 3,
        action_size: dims,
        hidden: vec![4, 4],
        activation: Activation::Relu,
        std,
        init: ppo::init::Init::PyTorchDefault,
        action_scale: 2.0,
        head,
    };
    let mut actor = Actor::zeroed(&config);
    let names = actor.parameter_names();
    for (name, tensor) in names.iter().zip(actor.parameters_mut()) {
        let data = tensor.data_mut();
        if name == "trunk.1.bias" {
            data.fill(1.0);
        } else if name.starts_with("trunk") || name.ends_with("weight") {
            data.fill(0.0);
        } else {
            data.copy_from_slice(&bias(name));
        }
    }
    actor
}

// ANCHOR_END: zeroed_actor

/// Row `r` of the pair grid: pre-activation `i` for the first parameter, `j` for the second.
fn pairs(first: bool) -> Vec<f32> {
    let n = PRE.len();
    (0..n * n).map(|k| if first { PRE[k / n] } else { PRE[k % n] }).collect()
}

/// Asserts every value is finite, naming the case, the quantity and where it failed.
fn assert_finite(case: &str, what: &str, values: &[f32]) {
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        panic!("{case}: {what} [{i}] = {}", values[i]);
    }
}

/// Everything the trainer asks of `distribution` for the actor's outputs, eagerly and on the
/// tape, with `samples` (rows of the sample width) evaluated as they are and, when `rotate`,
/// under every rotation of the dimensions.
fn sweep(case: &str, actor: &Actor, distribution: &dyn Distribution, rotate: bool) {
    let obs = [0.3f32, -0.2, 0.7];
    let [w1, w2] = actor.output_widths();
    let (mut first, mut second) = (vec![0.0; w1], vec![0.0; w2]);
    actor.forward(&obs, &mut Workspace::new(), &mut first, &mut second);
    assert_finite(case, "first parameter", &first);
    assert_finite(case, "second parameter", &second);
    let params: Vec<&[f32]> = if w2 == 0 { vec![&first] } else { vec![&first, &second] };

    let width = distribution.sample_width();
    let mut rng = StdRng::seed_from_u64(7);
    let mut rows = Vec::new();
    for draw in 0..=DRAWS {
        let mut sample = vec![0.0; width];
        if draw == 0 {
            distribution.mode(&params, &mut sample);
        } else {
            distribution.sample(&params, &mut rng, &mut sample);
        }
        let mut action = vec![0.0; width];
        distribution.to_action(&sample, &mut action);
        assert_finite(case, "sample", &sample);
        assert_finite(case, "action", &action);
        let log_prob = distribution.log_prob(&params, &sample);
        assert_finite(case, &format!("ln π of draw {draw}"), &[log_prob]);
        rows.push(sample);
    }
    assert_finite(case, "entropy", &[distribution.entropy(&params)]);
    if rotate {
        let originals = std::mem::take(&mut rows);
        for sample in &originals {
            for shift in 0..width {
                let mut rotated = sample.clone();
                rotated.rotate_left(shift);
                rows.push(rotated);
            }
        }
    }
    for sample in &rows {
        let log_prob = distribution.log_prob(&params, sample);
        assert_finite(case, &format!("ln π of {sample:?}"), &[log_prob]);
    }

    let batch = rows.len();
    let mut tape = Tape::new();
    let obs_batch = Tensor::from_vec(&[batch, 3], obs.repeat(batch));
    let obs_var = tape.constant(&obs_batch);
    let mut param_vars = Vec::new();
    let outputs = actor.outputs_on_tape(&mut tape, obs_var, &mut param_vars);
    let samples = tape.constant(&Tensor::from_vec(&[batch, width], rows.concat()));
    let log_prob = distribution.log_prob_on_tape(&mut tape, outputs.as_slice(), samples);
    let entropy = distribution.entropy_on_tape(&mut tape, outputs.as_slice());
    // The loss weights both terms as PPO does, by numbers of order 1 (an advantage, the
    // entropy coefficient); its value can be huge, and only its gradient is asked about.
    let log_prob_sum = tape.sum(log_prob);
    let entropy_sum = tape.sum(entropy);
    let scaled = tape.mul_scalar(entropy_sum, 0.01);
    let loss = tape.add(log_prob_sum, scaled);
    tape.backward(loss);
    assert_finite(case, "ln π on the tape", tape.value(log_prob).data());
    assert_finite(case, "entropy on the tape", tape.value(entropy).data());
    for (k, &output) in outputs.as_slice().iter().enumerate() {
        assert_finite(case, &format!("gradient of output {k}"), tape.grad(output).data());
    }
    for (name, &var) in actor.parameter_names().iter().zip(&param_vars) {
        assert_finite(case, &format!("gradient of {name}"), tape.grad(var).data());
    }
}

/// The program's σ choices for a Gaussian head.
fn std_choices() -> [(&'static str, StdParam); 3] {
    [
        ("softplus", StdParam::Softplus),
        ("log-std", StdParam::LogStd { init: 0.0, clamp: Some(CLAMP) }),
        ("log-std-head", StdParam::LogStdHead { clamp: CLAMP }),
    ]
}

// ANCHOR: continuous_sweep
#[test]
fn continuous_distributions_stay_finite_at_extreme_pre_activations() {
    let dims = PRE.len() * PRE.len();
    let (low, high) = (vec![-2.0f32; dims], vec![2.0f32; dims]);
    let space = ActionSpace::Continuous { low: &low, high: &high };
    let kinds = [
        ("normal", DistributionKind::Normal),
        ("tanh-normal", DistributionKind::TanhNormal),
        ("truncated-normal", DistributionKind::TruncatedNormal),
        ("beta", DistributionKind::Beta),
    ];
    for (name, kind) in kinds {
        let distribution = kind.over(space).expect("a continuous distribution");
        let stds: Vec<_> = match kind.head() {
            PolicyHead::Beta => vec![("", StdParam::Softplus)],
            _ => std_choices().to_vec(),
        };
        for (std_name, std) in stds {
            let actor = actor(kind.head(), std, dims, |param| match param {
                "mean.bias" | "alpha.bias" => pairs(true),
                _ => pairs(false),
            });
            sweep(&format!("{name} {std_name}"), &actor, distribution.as_ref(), true);
        }
    }
}

// ANCHOR_END: continuous_sweep

#[test]
fn categorical_stays_finite_at_extreme_logits() {
    let distribution = DistributionKind::Categorical
        .over(ActionSpace::Discrete { choices: PRE.len() })
        .expect("the categorical");
    let rows: [Vec<f32>; 4] = [
        PRE.to_vec(),
        vec![1e4; PRE.len()],
        vec![-1e4; PRE.len()],
        (0..PRE.len()).map(|i| if i % 2 == 0 { 1e4 } else { -1e4 }).collect(),
    ];
    for (r, logits) in rows.iter().enumerate() {
        let actor = actor(PolicyHead::Logits, StdParam::Softplus, PRE.len(), |_| logits.clone());
        sweep(&format!("categorical row {r}"), &actor, distribution.as_ref(), false);
        // Every choice, not only the drawn ones: the rollout holds choices of older policies.
        for choice in 0..PRE.len() {
            let log_prob = distribution.log_prob(&[logits], &[choice as f32]);
            assert_finite(&format!("categorical row {r}"), "ln π of a choice", &[log_prob]);
        }
    }
}
