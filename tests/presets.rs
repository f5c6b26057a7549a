//! The write-ups' designs as presets: each is what its doc comment (and the book) says, is
//! valid, and builds the networks it describes.

use ppo::gae::TimeLimit;
use ppo::loss::Objective;
use ppo::nn::{Activation, Init, StdParam};
use ppo::ppo::{Config, DistributionKind, Trainer};
use ppo::{CartPole, Pendulum};

#[test]
fn the_pytorch_chapter_preset_is_its_design() {
    let c = Config::pytorch_chapter();
    assert_eq!((c.num_envs, c.rollout_steps, c.epochs, c.minibatch_size), (1, 2048, 4, 64));
    assert_eq!(c.updates(), 500);
    assert_eq!((c.actor_learning_rate, c.critic_learning_rate), (3e-4, 3e-4));
    assert_eq!((c.entropy_coef, c.max_grad_norm), (0.01, Some(0.5)));
    assert_eq!(c.time_limit, TimeLimit::AsTerminal, "done = terminated or truncated");
    assert_eq!((c.hidden_size, c.activation), (128, Activation::Relu));
    assert_eq!(c.std_param, StdParam::LogStdHead { clamp: (-20.0, 2.0) });
    assert_eq!(c.init, Init::OrthogonalSqrt2);
    assert_eq!((c.gamma, c.gae_lambda, c.clip_epsilon), (0.99, 0.95, 0.2));
    assert!(!c.anneal_learning_rate && !c.shared_network);
    assert_eq!(c.validate(), Ok(()));
}

/// √2 on every layer: the mean head's weight too, whose columns are orthonormal times √2
/// (a 128 × 1 matrix: its one column has the norm √2), where `orthogonal` gives it 0.01.
#[test]
fn orthogonal_sqrt2_puts_the_same_gain_on_the_heads() {
    for (init, gain) in [(Init::OrthogonalSqrt2, 2f32.sqrt()), (Init::Orthogonal, 0.01)] {
        let config = Config { init, ..Config::pytorch_chapter() };
        let trainer = Trainer::new(config, vec![Pendulum::new()]);
        let params = trainer.actor().parameters();
        let names = trainer.actor().parameter_names();
        let mean = names.iter().position(|n| n.contains("mean") && n.contains("weight"));
        let weight = params[mean.expect("a mean head")];
        assert_eq!(weight.shape(), [128, 1]);
        let norm = weight.data().iter().map(|w| w * w).sum::<f32>().sqrt();
        assert!((norm - gain).abs() < 1e-4 * gain.max(1.0), "{init:?}: {norm}");
        let value = trainer.critic().parameters();
        let value_weight = value[value.len() - 2];
        let value_norm = value_weight.data().iter().map(|w| w * w).sum::<f32>().sqrt();
        let value_gain = if init == Init::OrthogonalSqrt2 { 2f32.sqrt() } else { 1.0 };
        assert!((value_norm - value_gain).abs() < 1e-4, "{init:?} value head: {value_norm}");
    }
}

#[test]
fn the_shared_trunk_preset_is_its_design() {
    let c = Config::shared_trunk();
    assert!(c.shared_network);
    assert_eq!(c.init, Init::HeNormal);
    assert_eq!(c.std_param, StdParam::LogStd { init: -1.0, clamp: Some((-20.0, 2.0)) });
    assert_eq!((c.value_coef, c.entropy_coef, c.max_grad_norm), (0.5, 0.01, Some(0.5)));
    assert_eq!((c.num_envs, c.rollout_steps, c.epochs, c.minibatch_size), (1, 2048, 10, 64));
    assert_eq!(c.validate(), Ok(()));
    let trainer = Trainer::new(c, vec![Pendulum::new()]);
    assert_eq!(trainer.critic().parameters()[0].shape(), [64, 1], "a value head on the trunk");
}

#[test]
fn the_1024_agent_cartpole_presets_are_the_from_scratch_jax_design() {
    let c = Config::cartpole_1024();
    assert_eq!((c.num_envs, c.rollout_steps, c.epochs), (1024, 128, 4));
    assert_eq!(c.batch_size() / c.minibatch_size, 4, "4 minibatches per epoch");
    assert_eq!((c.hidden_size, c.activation), (32, Activation::Tanh));
    assert_eq!((c.actor_learning_rate, c.critic_learning_rate), (3e-4, 3e-4));
    assert_eq!((c.clip_epsilon, c.value_coef, c.entropy_coef), (0.2, 0.5, 0.01));
    assert_eq!(c.value_clip, Some(0.2));
    assert_eq!(c.distribution, DistributionKind::Categorical);
    assert_eq!((c.objective, c.minibatch_advantages), (Objective::Clipped, false));
    assert_eq!(c.validate(), Ok(()));
    let spo = Config::cartpole_1024_spo();
    assert_eq!((spo.objective, spo.minibatch_advantages), (Objective::Spo, true));
    assert_eq!(Config { objective: Objective::Clipped, minibatch_advantages: false, ..spo }, c);
    let trainer =
        Trainer::new(Config { num_envs: 4, minibatch_size: 128, ..c }, vec![CartPole::new(); 4]);
    assert_eq!(trainer.actor().parameters()[0].shape(), [4, 32]);
}
