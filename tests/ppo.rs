//! The training loop: the presets say what the JAX/Flax Pendulum write-up's table and the
//! results chapter say they do, bad configurations are refused with the field's name, a run is
//! a pure function of its seed, evaluation adds up episodes correctly, and the default presets
//! solve Pendulum and CartPole.

use ppo::gae::TimeLimit;
use ppo::nn::{Init, StdParam};
use ppo::ppo::{
    Config, ROWS_PER_PIECE, SIDE_BY_SIDE_ENVS, Trainer, UpdateStats, evaluate, evaluation_seed,
    first_non_finite,
};
use ppo::tensor::Tensor;
use ppo::{CartPole, Pendulum, Randomness};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::cell::RefCell;
use std::rc::Rc;

fn pendulums(n: usize) -> Vec<Pendulum> {
    (0..n).map(|_| Pendulum::new()).collect()
}

/// A run short enough for a unit test: two small rollouts.
fn short(config: Config) -> Config {
    Config {
        total_timesteps: 2 * 128,
        rollout_steps: 128 / config.num_envs,
        minibatch_size: 32,
        ..config
    }
}

#[test]
fn seed_preset_is_the_jax_flax_pendulum_table() {
    let c = Config::seed();
    assert_eq!((c.total_timesteps, c.num_envs, c.rollout_steps), (100_000, 1, 2048));
    assert_eq!((c.epochs, c.minibatch_size), (10, 64));
    assert_eq!((c.gamma, c.gae_lambda, c.clip_epsilon), (0.99, 0.95, 0.2));
    assert_eq!((c.actor_learning_rate, c.critic_learning_rate), (3e-4, 1e-3));
    assert_eq!(c.std_param, StdParam::Softplus);
    assert_eq!(c.time_limit, TimeLimit::Ignore, "its code never resets");
    assert_eq!((c.max_grad_norm, c.value_clip, c.anneal_learning_rate), (None, None, false));
    assert_eq!(c.updates(), 49, "100,000 steps in rollouts of 2048, rounded up");
}

#[test]
fn invalid_configs_name_the_field() {
    type Breakage = fn(&mut Config);
    let cases: [(&str, Breakage); 10] = [
        ("minibatch_size must be at least 1", |c| c.minibatch_size = 0),
        ("minibatch_size 4096 is larger than a rollout", |c| c.minibatch_size = 4096),
        ("gamma must be in [0, 1]", |c| c.gamma = 1.5),
        ("gae_lambda must be in [0, 1]", |c| c.gae_lambda = -0.1),
        ("actor_learning_rate must be a positive number", |c| c.actor_learning_rate = 0.0),
        ("critic_learning_rate must be a positive number", |c| c.critic_learning_rate = f32::NAN),
        ("clip_epsilon must be a positive number", |c| c.clip_epsilon = -0.2),
        ("total_timesteps must be at least 1", |c| c.total_timesteps = 0),
        ("max_grad_norm must be a positive number", |c| c.max_grad_norm = Some(0.0)),
        ("anneal_horizon must be at least 1 step", |c| c.anneal_horizon = Some(0)),
    ];
    for (message, break_it) in cases {
        let mut config = Config::default();
        break_it(&mut config);
        let error = config.validate().expect_err(message);
        assert!(error.starts_with(message), "expected '{message}…', got '{error}'");
    }
    assert_eq!(Config::default().validate(), Ok(()));
    assert_eq!(Config::seed().validate(), Ok(()));
}

fn trained_parameters(config: Config) -> Vec<Tensor> {
    let envs = pendulums(config.num_envs);
    let mut trainer = Trainer::new(config, envs);
    while !trainer.is_done() {
        trainer.iterate().expect("training diverged");
    }
    let mut params: Vec<Tensor> = trainer.actor().parameters().into_iter().cloned().collect();
    params.extend(trainer.critic().parameters().into_iter().cloned());
    params
}

#[test]
fn same_seed_gives_the_same_networks_bit_for_bit() {
    for preset in [Config::default(), Config::seed()] {
        let config = short(Config { seed: 7, ..preset });
        let first = trained_parameters(config.clone());
        assert_eq!(first, trained_parameters(config.clone()), "rerun with the same seed differs");
        let other = trained_parameters(Config { seed: 8, ..config });
        assert_ne!(first, other, "a different seed gave the same networks");
    }
}

/// Trains with the given number of threads; returns every parameter's bits and each update's
/// losses and minibatch count.
fn trained_with_threads(config: &Config, threads: usize) -> (Vec<Vec<u32>>, Vec<[u32; 4]>) {
    let mut trainer = Trainer::new(config.clone(), pendulums(config.num_envs));
    trainer.set_threads(threads);
    assert_eq!(trainer.threads(), threads.min(2));
    let mut updates = Vec::new();
    while !trainer.is_done() {
        let s = trainer.iterate().expect("training diverged");
        let bits = [s.value_loss, s.policy_loss, s.approx_kl].map(f32::to_bits);
        updates.push([bits[0], bits[1], bits[2], s.minibatches as u32]);
    }
    let actor = trainer.actor().parameters().into_iter();
    let params = actor.chain(trainer.critic().parameters());
    (params.map(|t| t.data().iter().map(|x| x.to_bits()).collect()).collect(), updates)
}

#[test]
fn two_threads_give_the_same_run_bit_for_bit_as_one() {
    let early_stop = Config { target_kl: Some(0.002), ..Config::default() };
    let shared = Config { shared_network: true, ..Config::default() };
    for (name, preset) in [
        ("default", Config::default()),
        ("seed", Config::seed()),
        ("target_kl", early_stop),
        ("shared", shared),
    ] {
        let config = short(Config { total_timesteps: 4 * 128, ..preset });
        let one = trained_with_threads(&config, 1);
        assert_eq!(one, trained_with_threads(&config, 2), "{name}: 2 threads differ from 1");
        assert_eq!(one, trained_with_threads(&config, 3), "{name}: 3 threads differ from 1");
        if name == "target_kl" {
            let full = config.epochs * 128 / config.minibatch_size;
            assert!(one.1.iter().any(|u| (u[3] as usize) < full), "the early stop never fired");
        }
    }
    // Minibatches cut into three pieces, which either thread may take.
    let rows = 5 * ROWS_PER_PIECE / 2;
    let pieced = Config {
        num_envs: 2,
        rollout_steps: rows / 2,
        minibatch_size: rows,
        total_timesteps: 2 * rows,
        epochs: 3,
        ..Config::default()
    };
    let one = trained_with_threads(&pieced, 1);
    assert_eq!(one, trained_with_threads(&pieced, 2), "pieces: 2 threads differ from 1");
    assert_eq!(one, trained_with_threads(&pieced, 3), "pieces: 3 threads differ from 1");
    // Enough environments that each rollout step runs the critic's forward pass on the
    // worker, beside the actor's.
    let many = Config {
        num_envs: SIDE_BY_SIDE_ENVS,
        rollout_steps: 2,
        total_timesteps: 2 * 2 * SIDE_BY_SIDE_ENVS,
        epochs: 1,
        ..Config::default()
    };
    let one = trained_with_threads(&many, 1);
    assert_eq!(one, trained_with_threads(&many, 2), "many envs: 2 threads differ from 1");
}

/// The counters. The diagnostics' values are checked against PyTorch in `tests/iteration.rs`
/// (and `iterate` returns an error for any that is not finite).
#[test]
fn iterations_count_updates_and_timesteps() {
    let config = short(Config::default());
    let mut trainer = Trainer::new(config.clone(), pendulums(config.num_envs));
    let first = trainer.iterate().expect("training diverged");
    assert_eq!((first.update, first.timesteps), (1, config.batch_size()));
    assert!(!trainer.is_done());
    let second = trainer.iterate().expect("training diverged");
    assert_eq!((second.update, second.timesteps), (2, 2 * config.batch_size()));
    assert!(trainer.is_done());
}

#[test]
fn evaluate_of_a_zero_torque_policy_matches_stepping_the_pendulum_by_hand() {
    // All-zero parameters: μ = 2·tanh(0) = 0, so the deterministic policy applies no torque.
    let config = Config::default();
    let mut trainer = Trainer::new(short(config), pendulums(8));
    trainer.iterate().expect("training diverged");
    let mut actor = trainer.actor().clone();
    let zeros: Vec<Tensor> = actor.parameters().iter().map(|p| Tensor::zeros(p.shape())).collect();
    actor.load_parameters(&zeros).unwrap();

    let result = evaluate(&actor, pendulums(5), 42);
    // The oracle: the same initial states (the evaluator resets its envs in order from one
    // generator seeded with 42), stepped 200 times with zero torque.
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(42);
    let expected: Vec<f64> = (0..5)
        .map(|_| {
            let mut env = Pendulum::new();
            env.reset(&mut rng);
            (0..200).map(|_| env.step(&[0.0]).reward).sum()
        })
        .collect();
    assert_eq!(result.returns, expected);
    let mean = expected.iter().sum::<f64>() / 5.0;
    assert!((result.mean - mean).abs() < 1e-9);
}

// ANCHOR: solves
/// The default preset, seed 1, the full 100,000 steps: the deterministic policy must hold the
/// pendulum up. −400 is the floor for any seed; a swing-up that fails scores below
/// −700, so this cannot pass by luck. Takes about 3 s (the test profile is optimized).
#[test]
fn default_preset_solves_pendulum_in_100k_steps() {
    let config = Config::default();
    let envs = pendulums(config.num_envs);
    let mut trainer = Trainer::new(config, envs);
    while !trainer.is_done() {
        trainer.iterate().expect("training diverged");
    }
    let result = trainer.evaluate(pendulums(100), evaluation_seed(1));
    assert!(result.mean > -400.0, "mean return {:.1} over 100 episodes", result.mean);
}
// ANCHOR_END: solves

/// The CartPole `default` preset, seed 1, the full 100,000 steps: the deterministic policy
/// must reach Gymnasium's threshold, 475, over 100 episodes. A policy that has not learned to
/// balance drops the pole within a few dozen steps (pushing at random, after about 22), so this
/// cannot pass by luck; the discrete-actions chapter measures 500.0 on every seed 1 to 10.
#[test]
fn cartpole_preset_solves_cartpole_in_100k_steps() {
    let cartpoles = |n| (0..n).map(|_| CartPole::new()).collect::<Vec<_>>();
    let config = Config::cartpole();
    let mut trainer = Trainer::new(config.clone(), cartpoles(config.num_envs));
    while !trainer.is_done() {
        trainer.iterate().expect("training diverged");
    }
    let result = trainer.evaluate(cartpoles(100), evaluation_seed(1));
    assert!(result.mean >= 475.0, "mean return {:.1} over 100 episodes", result.mean);
}

// ANCHOR: schedule_tests
#[test]
fn the_default_schedule_anneals_over_the_run_or_100k_steps_whichever_is_shorter() {
    // Rollouts of 2048: 50,000 steps are 25 updates, 100,000 are 49. A run anneals over its
    // own updates up to 49; a longer one anneals over 49 and stays at 1/49 of the rate.
    for (budget, horizon) in [(50_000, 25), (100_000, 49), (200_000, 49), (1_000_000, 49)] {
        let config = Config { total_timesteps: budget, ..Config::default() };
        for update in 1..=config.updates() {
            let expected = if update <= horizon {
                (horizon + 1 - update) as f32 / horizon as f32
            } else {
                1.0 / horizon as f32
            };
            let fraction = config.learning_rate_fraction(update);
            assert!((fraction - expected).abs() < 1e-6, "{budget} steps, update {update}");
        }
    }
    // Annealing over the run whatever its length, as CleanRL does: a 1,000,000-step run (489
    // updates) is still at 0.9 of its rate on update 50, where the 100,000-step run ended.
    let over_run = Config { total_timesteps: 1_000_000, anneal_horizon: None, ..Config::default() };
    assert_eq!(over_run.learning_rate_fraction(1), 1.0);
    assert!((over_run.learning_rate_fraction(50) - 440.0 / 489.0).abs() < 1e-6);
    assert!((over_run.learning_rate_fraction(489) - 1.0 / 489.0).abs() < 1e-6);
    let constant = Config { anneal_learning_rate: false, ..Config::default() };
    assert_eq!(constant.learning_rate_fraction(1_000), 1.0);
}

#[test]
fn a_run_longer_than_the_horizon_continues_the_horizon_run_bit_for_bit() {
    // A horizon of 3 small rollouts: the 6-rollout run must be the 3-rollout run, then 3
    // updates at 1/3 of the rate. Annealing over each run instead, the second update of the
    // longer run would already use 5/6 of the rate instead of 2/3, and the networks differ.
    // A 2-rollout run, shorter than the horizon, anneals over its own 2.
    let config = short(Config { anneal_horizon: Some(3 * 128), ..Config::default() });
    let trainer = |updates: usize| {
        let config = Config { total_timesteps: updates * 128, ..config.clone() };
        Trainer::new(config, pendulums(8))
    };
    let rates = |trainer: &mut Trainer<Pendulum>, updates: usize| -> Vec<f32> {
        (0..updates).map(|_| trainer.iterate().expect("training diverged").learning_rate).collect()
    };
    let (mut horizon_run, mut long_run, mut short_run) = (trainer(3), trainer(6), trainer(2));
    let horizon_rates = rates(&mut horizon_run, 3);
    let mut long_rates = rates(&mut long_run, 3);
    assert_eq!(long_run.actor(), horizon_run.actor());
    assert_eq!(long_run.critic(), horizon_run.critic());
    assert_eq!(long_rates, horizon_rates);
    long_rates.extend(rates(&mut long_run, 3));
    assert!(long_run.is_done());
    let rate = config.actor_learning_rate;
    let expected = [1.0, 2.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0].map(|f| f * rate);
    for (got, want) in long_rates.iter().zip(expected) {
        assert!((got - want).abs() < 1e-9, "rates {long_rates:?}, expected {expected:?}");
    }
    assert_eq!(rates(&mut short_run, 2), [rate, 0.5 * rate]);
}
// ANCHOR_END: schedule_tests

fn small_networks() -> (ppo::Actor, ppo::Critic) {
    let config = short(Config::default());
    let trainer = Trainer::new(config, pendulums(8));
    (trainer.actor().clone(), trainer.critic().clone())
}

#[test]
fn finite_updates_are_not_divergence() {
    let (actor, critic) = small_networks();
    assert_eq!(first_non_finite(&UpdateStats::default(), &actor, &critic), None);
    // A NaN explained variance (returns that do not vary) and a huge approximate KL are
    // reported, not treated as broken numbers.
    let stats = UpdateStats {
        explained_variance: f32::NAN,
        approx_kl: f32::INFINITY,
        ..UpdateStats::default()
    };
    assert_eq!(first_non_finite(&stats, &actor, &critic), None);
}

#[test]
fn the_first_non_finite_quantity_is_named() {
    let (mut actor, mut critic) = small_networks();
    for (stats, expected) in [
        (UpdateStats { policy_loss: f32::NAN, ..Default::default() }, "the policy loss became NaN"),
        (
            UpdateStats { value_loss: f32::INFINITY, ..Default::default() },
            "the value loss became infinite",
        ),
        (
            UpdateStats { entropy: f32::NEG_INFINITY, ..Default::default() },
            "the entropy became infinite",
        ),
        (
            UpdateStats { clip_fraction: f32::NAN, ..Default::default() },
            "the clip fraction became NaN",
        ),
    ] {
        assert_eq!(first_non_finite(&stats, &actor, &critic).as_deref(), Some(expected));
    }
    critic.parameters_mut()[3].data_mut()[7] = f32::NAN;
    assert_eq!(
        first_non_finite(&UpdateStats::default(), &actor, &critic).as_deref(),
        Some("the critic parameter trunk.1.bias became NaN")
    );
    actor.parameters_mut()[0].data_mut()[0] = f32::NEG_INFINITY;
    assert_eq!(
        first_non_finite(&UpdateStats::default(), &actor, &critic).as_deref(),
        Some("the actor parameter trunk.0.weight became infinite")
    );
}

#[test]
fn a_sigma_that_overflows_while_collecting_is_a_clean_divergence() {
    // log σ = 20 is allowed (σ ≈ 5e8); an actor whose log σ is pushed to 100 afterwards
    // samples infinite actions, which must stop the iteration before any environment steps.
    let config = short(Config {
        std_param: StdParam::LogStd { init: 20.0, clamp: None },
        ..Config::default()
    });
    let mut trainer = Trainer::new(config, pendulums(8));
    trainer.iterate().expect("σ = e^20 still gives finite actions");

    let config = short(Config {
        std_param: StdParam::LogStd { init: 0.0, clamp: None },
        ..Config::default()
    });
    let mut trainer = Trainer::new(config, pendulums(8));
    let mut actor = trainer.actor().clone();
    let last = actor.parameters().len() - 1;
    actor.parameters_mut()[last].data_mut()[0] = 100.0; // the log-σ vector
    *trainer.actor_mut() = actor;
    let divergence = trainer.iterate().expect_err("σ = e^100 is infinite");
    assert_eq!(divergence.update, 1);
    assert!(
        divergence.to_string().starts_with("update 1: the policy sampled the action"),
        "{divergence}"
    );
}

#[test]
fn impossible_log_std_settings_are_refused() {
    let with =
        |init, clamp| Config { std_param: StdParam::LogStd { init, clamp }, ..Config::default() };
    for (config, message) in [
        (with(88.0, Some((0.0, 100.0))), "std_param's log-std clamp 0:100 must lie within -30:20"),
        (with(89.0, None), "std_param's log-std init 89 must be finite"),
        (with(-90.0, None), "std_param's log-std init -90 must be finite"),
        (with(f32::NAN, Some((-20.0, 2.0))), "std_param's log-std init NaN must be finite"),
        (with(0.0, Some((2.0, -20.0))), "std_param's log-std clamp 2:-20 is empty"),
    ] {
        let error = config.validate().expect_err(message);
        assert!(error.starts_with(message), "expected '{message}…', got '{error}'");
    }
    // A start outside the range is fine when the clamp brings it inside.
    assert_eq!(with(50.0, Some((-20.0, 2.0))).validate(), Ok(()));
}

#[test]
fn the_init_setting_reaches_the_networks() {
    // Orthogonal: every hidden layer's weight has orthonormal columns times √2 and zero bias.
    // PyTorch's default: weights and biases uniform in ±1/√fan_in, so biases are not zero.
    // He-normal: Gaussian weights of variance 2/fan_in, not orthogonal, and zero biases.
    for init in [Init::Orthogonal, Init::PyTorchDefault, Init::HeNormal, Init::OrthogonalSqrt2] {
        let config = short(Config { init, ..Config::default() });
        let trainer = Trainer::new(config, pendulums(8));
        for (network, params) in
            [("actor", trainer.actor().parameters()), ("critic", trainer.critic().parameters())]
        {
            let (weight, bias) = (params[2], params[3]); // the second hidden layer, 64 × 64
            let (rows, cols) = (weight.shape()[0], weight.shape()[1]);
            let gram = |i: usize, j: usize| -> f32 {
                (0..rows).map(|k| weight.data()[k * cols + i] * weight.data()[k * cols + j]).sum()
            };
            match init {
                // Its hidden layers are orthogonal's; its heads are tested in tests/presets.rs.
                Init::Orthogonal | Init::OrthogonalSqrt2 => {
                    assert!(bias.data().iter().all(|&b| b == 0.0), "{network}");
                    for (i, j) in [(0, 0), (5, 5), (0, 1), (7, 30)] {
                        let expected = if i == j { 2.0 } else { 0.0 };
                        assert!((gram(i, j) - expected).abs() < 1e-4, "{network} WᵀW[{i},{j}]");
                    }
                }
                Init::HeNormal => {
                    assert!(bias.data().iter().all(|&b| b == 0.0), "{network}");
                    // The mean square of 4096 N(0, 2/64) weights: 1/32, within 10% (its
                    // relative standard error is √(2/4096) ≈ 2.2%).
                    let mean_square =
                        weight.data().iter().map(|w| w * w).sum::<f32>() / weight.len() as f32;
                    assert!(
                        (mean_square - 1.0 / 32.0).abs() < 0.1 / 32.0,
                        "{network} {mean_square}"
                    );
                    // Not orthogonal: two columns' inner product is of order √64·(1/32).
                    let off: f32 = (1..20).map(|j| gram(0, j).abs()).sum::<f32>() / 19.0;
                    assert!(off > 0.05, "{network}: columns look orthogonal ({off})");
                    // The heads at 0.01 of the hidden layers' scale.
                    let head = params[4];
                    let head_rms =
                        (head.data().iter().map(|w| w * w).sum::<f32>() / head.len() as f32).sqrt();
                    let expected = if network == "actor" { 0.01 } else { 1.0 } / 8.0;
                    assert!(
                        (head_rms - expected).abs() < 0.35 * expected,
                        "{network} head {head_rms}"
                    );
                }
                Init::PyTorchDefault => {
                    let bound = 1.0 / (rows as f32).sqrt();
                    assert!(weight.data().iter().all(|w| w.abs() <= bound), "{network}");
                    assert!(bias.data().iter().filter(|&&b| b != 0.0).count() > 60, "{network}");
                    // A uniform column has squared norm 64·bound²/3 = 1/3, far from 2.
                    assert!((gram(0, 0) - 1.0 / 3.0).abs() < 0.2, "{network} {}", gram(0, 0));
                }
            }
        }
    }
}

#[test]
fn the_log_std_setting_starts_the_actor_at_its_init() {
    let config = short(Config {
        std_param: StdParam::LogStd { init: -0.7, clamp: Some((-5.0, 1.0)) },
        ..Config::default()
    });
    let trainer = Trainer::new(config, pendulums(8));
    let params = trainer.actor().parameters();
    assert_eq!(params.last().unwrap().data(), [-0.7]);
    let (mut mean, mut std) = ([0.0], [0.0]);
    trainer.actor().forward(&[1.0, 0.0, 0.0], &mut ppo::Workspace::new(), &mut mean, &mut std);
    assert_eq!(std[0], (-0.7f32).exp());
}

#[test]
fn evaluation_reports_the_population_standard_deviation() {
    let config = Config::default();
    let mut trainer = Trainer::new(short(config), pendulums(8));
    trainer.iterate().expect("training diverged");
    let result = trainer.evaluate(pendulums(7), 3);
    let n = result.returns.len() as f64;
    assert_eq!(n, 7.0);
    let mean = result.returns.iter().sum::<f64>() / n;
    let variance = result.returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n;
    assert!((result.mean - mean).abs() < 1e-9);
    assert!((result.std - variance.sqrt()).abs() < 1e-9, "{} vs {}", result.std, variance.sqrt());
    assert!(result.std > 10.0, "the episodes differ, so the spread is not 0 or 1");
}

#[test]
fn a_rollout_of_one_transition_trains() {
    // One environment, one step per rollout, minibatches of one: every normalization sees a
    // single value, which must become 0, not NaN.
    let config = Config {
        total_timesteps: 3,
        num_envs: 1,
        rollout_steps: 1,
        minibatch_size: 1,
        ..Config::default()
    };
    let mut trainer = Trainer::new(config, pendulums(1));
    for update in 1..=3 {
        let stats = trainer.iterate().expect("a one-transition rollout is valid");
        assert_eq!((stats.update, stats.timesteps), (update, update));
        // The one normalized advantage is 0: the surrogate is exactly 0.
        assert_eq!(stats.policy_loss, 0.0);
        assert!(stats.value_loss.is_finite());
    }
    assert!(trainer.is_done());
}

#[test]
fn target_kl_stops_the_epochs_before_the_minibatch_that_moved_too_far() {
    let base = Config {
        total_timesteps: 256,
        num_envs: 2,
        rollout_steps: 128,
        minibatch_size: 32,
        epochs: 4,
        ..Config::default()
    };
    // No limit: 4 epochs of 8 minibatches. The first minibatch always runs: before any step
    // the policy is the collecting one and its KL is exactly 0.
    for (target_kl, expected) in [(None, 32), (Some(1e-12), 1), (Some(1e6), 32)] {
        let mut trainer = Trainer::new(Config { target_kl, ..base.clone() }, pendulums(2));
        let stats = trainer.iterate().expect("a short run");
        assert_eq!(stats.minibatches, expected, "target_kl {target_kl:?}");
    }
    // A limit between the smallest and the largest KL the unlimited run meets stops it in
    // between, and the mean KL it reports stays below the limit's 1.5 times.
    let mut trainer = Trainer::new(Config { target_kl: Some(0.002), ..base.clone() }, pendulums(2));
    let stats = trainer.iterate().expect("a short run");
    assert!((1..32).contains(&stats.minibatches), "{} minibatches", stats.minibatches);
    assert!(stats.approx_kl <= 1.5 * 0.002, "{}", stats.approx_kl);
}

#[test]
fn the_adaptive_kl_penalty_follows_the_rule_from_update_to_update() {
    use ppo::loss::{Objective, adapted_kl_coef};
    let config = Config {
        total_timesteps: 5 * 256,
        num_envs: 2,
        rollout_steps: 128,
        minibatch_size: 64,
        objective: Objective::KlPenalty,
        kl_coef: 1.0,
        adaptive_kl: Some(0.005),
        ..Config::default()
    };
    let mut trainer = Trainer::new(config, pendulums(2));
    let mut beta = 1.0;
    let mut changed = 0;
    while !trainer.is_done() {
        let stats = trainer.iterate().expect("a short run");
        assert_eq!(stats.kl_coef, beta, "update {}", stats.update);
        let kl = stats.rollout_kl.expect("the adaptive penalty measures the rollout's KL");
        let next = adapted_kl_coef(beta, f64::from(kl), 0.005);
        changed += usize::from(next != beta);
        beta = next;
    }
    assert!(changed > 0, "β never moved: the rule was not exercised");
    // A fixed penalty, and any other objective, measure nothing and keep β.
    let fixed = Config { adaptive_kl: None, ..trainer.config().clone() };
    let stats = Trainer::new(fixed, pendulums(2)).iterate().unwrap();
    assert_eq!((stats.kl_coef, stats.rollout_kl), (1.0, None));
}

/// A point on a plane pushed by a two-dimensional action: an environment whose actions are
/// wider than one number, so that every per-row stride of the loop is more than 1. It logs
/// each position it was in and the action it was given there.
struct Plane {
    position: [f32; 2],
    steps: usize,
    log: PlaneLog,
}

/// Each (position, action) pair a [`Plane`] saw, shared with the test that reads it.
type PlaneLog = Rc<RefCell<Vec<([f32; 2], [f32; 2])>>>;

impl ppo::Env for Plane {
    type Obs = [f32; 2];
    type Action = [f32; 2];
    fn obs_size(&self) -> usize {
        2
    }
    fn action_space(&self) -> ppo::ActionSpace<'_> {
        ppo::ActionSpace::Continuous { low: &[-1.0, -1.0], high: &[1.0, 1.0] }
    }
    fn reset(&mut self, rng: &mut dyn rand::Rng) -> [f32; 2] {
        use rand::RngExt;
        self.position = [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)];
        self.steps = 0;
        self.position
    }
    fn step(&mut self, action: [f32; 2]) -> ppo::Step<[f32; 2]> {
        self.log.borrow_mut().push((self.position, action));
        for (x, a) in self.position.iter_mut().zip(action) {
            *x += 0.1 * a.clamp(-1.0, 1.0);
        }
        self.steps += 1;
        let [x, y] = self.position;
        ppo::Step {
            obs: self.position,
            reward: -f64::from(x * x + y * y),
            terminated: false,
            truncated: self.steps == 20,
        }
    }
}

/// The seeded generator, keeping a note of every standard-normal number it draws.
struct Noted(StdRng, Rc<RefCell<Vec<f32>>>);

impl Randomness for Noted {
    fn standard_normal(&mut self) -> f32 {
        let x = self.0.standard_normal();
        self.1.borrow_mut().push(x);
        x
    }
    fn uniform(&mut self) -> f64 {
        self.0.uniform()
    }
    fn shuffle(&mut self, items: &mut [usize]) {
        self.0.shuffle(items);
    }
    fn generator(&mut self) -> &mut dyn rand::Rng {
        &mut self.0
    }
}

#[test]
fn two_dimensional_actions_reach_their_environments_and_the_rollout_kl() {
    use ppo::loss::Objective;
    // Learning rates so small that no parameter changes: the policy after the update is the
    // collecting one, so each environment must have been given mean + σ·noise at the position
    // it was in, with the noise drawn for it, and the KL over the rollout between the two policies is 0, if
    // every row of observations, distribution parameters and actions is read where it was
    // written. A stride of 1 in place of 2 anywhere pairs an action with another state.
    let config = Config {
        total_timesteps: 2 * 32,
        num_envs: 2,
        rollout_steps: 32,
        minibatch_size: 32,
        epochs: 1,
        actor_learning_rate: 1e-30,
        critic_learning_rate: 1e-30,
        objective: Objective::KlPenalty,
        adaptive_kl: Some(0.01),
        // The actor must see the positions the environments logged, not their normalization.
        normalize_observations: false,
        ..Config::default()
    };
    let log = Rc::new(RefCell::new(Vec::new()));
    let planes = (0..2).map(|_| Plane { position: [0.0; 2], steps: 0, log: log.clone() }).collect();
    let noise = Rc::new(RefCell::new(Vec::new()));
    let randomness = Noted(StdRng::seed_from_u64(3), noise.clone());
    let mut trainer = Trainer::with_randomness(config, planes, randomness);
    let before = trainer.actor().clone();
    let stats = trainer.iterate().expect("a short run");
    let moved =
        before.parameters().iter().zip(trainer.actor().parameters()).fold(0.0f32, |m, (a, b)| {
            a.data().iter().zip(b.data()).fold(m, |m, (x, y)| m.max((x - y).abs()))
        });
    assert!(moved < 1e-20, "a step of 1e-30 moved a parameter by {moved}");
    let kl = stats.rollout_kl.expect("the adaptive penalty measures the rollout's KL");
    assert!(kl.abs() < 1e-9, "the unchanged policy's rollout KL is {kl}");
    assert!(stats.approx_kl.abs() < 1e-9, "the unchanged policy's minibatch KL");
    assert_eq!(stats.kl_coef, 1.0);
    // Each step draws the noise of environment 0, then of environment 1, then steps both.
    let (log, noise) = (log.borrow(), noise.borrow());
    assert_eq!((log.len(), noise.len()), (64, 128));
    let (mut mean, mut std) = ([0.0; 2], [0.0; 2]);
    for ((position, action), noise) in log.iter().zip(noise.chunks_exact(2)) {
        trainer.actor().forward(position, &mut ppo::Workspace::default(), &mut mean, &mut std);
        // The parameters of one row, or of the two rows collection evaluated together: the
        // same sums, within a rounding.
        let expected = [0, 1].map(|j| mean[j] + std[j] * noise[j]);
        let close = action.iter().zip(&expected).all(|(a, e)| (a - e).abs() <= 1e-6);
        assert!(close, "at {position:?} the environment was given {action:?}, not {expected:?}");
    }
}

#[test]
fn a_kl_exactly_at_the_limit_does_not_stop_the_epochs() {
    // Stable-Baselines3's rule stops on a KL strictly above 1.5 × target_kl. One epoch of two
    // minibatches: the first's KL is exactly 0 (nothing has moved yet), so the mean KL the run
    // reports is half the second's, and the second's is known to the last bit. A target whose
    // 1.5 times is that KL exactly must let the second minibatch run.
    let base = Config {
        total_timesteps: 64,
        num_envs: 1,
        rollout_steps: 64,
        minibatch_size: 32,
        epochs: 1,
        ..Config::default()
    };
    let free = Trainer::new(base.clone(), pendulums(1)).iterate().unwrap();
    assert_eq!(free.minibatches, 2);
    let second = 2.0 * free.approx_kl;
    assert!(second > 0.0);
    // Among the floats next to second / 1.5, one whose product with 1.5 rounds to second.
    let near = second / 1.5;
    let target = [near, f32::from_bits(near.to_bits() + 1), f32::from_bits(near.to_bits() - 1)]
        .into_iter()
        .find(|&t| 1.5 * t == second)
        .expect("a float target at the limit");
    let at_limit = Config { target_kl: Some(target), ..base.clone() };
    let stats = Trainer::new(at_limit, pendulums(1)).iterate().unwrap();
    assert_eq!(stats.minibatches, 2, "a KL equal to the limit stopped the update");
    // A hair below it, the same KL is above the limit and the second minibatch is skipped.
    let below = f32::from_bits(target.to_bits() - 1);
    let stats =
        Trainer::new(Config { target_kl: Some(below), ..base }, pendulums(1)).iterate().unwrap();
    assert_eq!(stats.minibatches, 1);
}
