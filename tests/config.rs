//! `Config::validate` field by field, at each boundary; the choices' names and codes; which
//! distribution `DistributionKind::over` builds for which action space; the CartPole presets
//! as their doc comments describe them. Each assertion here is one a mutant of `config.rs`
//! survived before it was written.

use ppo::config::{Choice, DistributionKind, LOG_STD_RANGE};
use ppo::gae::TimeLimit;
use ppo::loss::Objective;
use ppo::nn::{Activation, Init, StdParam};
use ppo::ppo::Config;
use ppo::{ActionSpace, Distribution};

fn refused(config: &Config, start: &str) {
    let error = config.validate().expect_err(start);
    assert!(error.starts_with(start), "expected '{start}…', got '{error}'");
}

type Setter = fn(&mut Config, f32);

#[test]
fn rates_must_be_positive_and_finite() {
    let fields: [(&str, Setter); 4] = [
        ("actor_learning_rate", |c, x| c.actor_learning_rate = x),
        ("critic_learning_rate", |c, x| c.critic_learning_rate = x),
        ("clip_epsilon", |c, x| c.clip_epsilon = x),
        ("reward_scale", |c, x| c.reward_scale = x),
    ];
    for (name, set) in fields {
        for bad in [0.0, -1e-3, f32::NAN, f32::INFINITY] {
            let mut config = Config::default();
            set(&mut config, bad);
            refused(&config, &format!("{name} must be a positive number, got {bad}"));
        }
        let mut config = Config::default();
        set(&mut config, f32::MIN_POSITIVE);
        assert_eq!(config.validate(), Ok(()), "{name} = the smallest positive float");
    }
}

#[test]
fn coefficients_may_be_zero_but_not_negative_or_non_finite() {
    let fields: [(&str, Setter); 5] = [
        ("entropy_coef", |c, x| c.entropy_coef = x),
        ("kl_coef", |c, x| c.kl_coef = x),
        ("value_coef", |c, x| c.value_coef = x),
        ("reference_kl", |c, x| c.reference_kl = x),
        ("adam_eps", |c, x| c.adam_eps = x),
    ];
    for (name, set) in fields {
        for bad in [-1e-6, f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut config = Config::default();
            set(&mut config, bad);
            refused(&config, &format!("{name} must be zero or positive, got {bad}"));
        }
        for good in [0.0, 2.5] {
            let mut config = Config::default();
            set(&mut config, good);
            assert_eq!(config.validate(), Ok(()), "{name} = {good}");
        }
    }
}

#[test]
fn optional_limits_must_be_positive_and_finite_when_set() {
    type Limit = fn(&mut Config, Option<f32>);
    let fields: [(&str, Limit); 4] = [
        ("max_grad_norm", |c, x| c.max_grad_norm = x),
        ("value_clip", |c, x| c.value_clip = x),
        ("adaptive_kl", |c, x| c.adaptive_kl = x),
        ("target_kl", |c, x| c.target_kl = x),
    ];
    for (name, set) in fields {
        for bad in [0.0, -0.5, f32::NAN, f32::INFINITY] {
            let mut config = Config::default();
            set(&mut config, Some(bad));
            refused(&config, &format!("{name} must be a positive number, got {bad}"));
        }
        for good in [None, Some(1e-4)] {
            let mut config = Config::default();
            set(&mut config, good);
            assert_eq!(config.validate(), Ok(()), "{name} = {good:?}");
        }
    }
}

#[test]
fn counts_must_be_at_least_one() {
    type Count = fn(&mut Config, usize);
    let fields: [(&str, Count); 6] = [
        ("total_timesteps", |c, n| c.total_timesteps = n),
        ("num_envs", |c, n| c.num_envs = n),
        ("rollout_steps", |c, n| c.rollout_steps = n),
        ("epochs", |c, n| c.epochs = n),
        ("minibatch_size", |c, n| c.minibatch_size = n),
        ("hidden_size", |c, n| c.hidden_size = n),
    ];
    for (name, set) in fields {
        let mut config = Config::default();
        set(&mut config, 0);
        refused(&config, &format!("{name} must be at least 1"));
    }
    // A minibatch of the whole rollout is allowed, one transition more is not.
    let whole = Config { minibatch_size: Config::default().batch_size(), ..Config::default() };
    assert_eq!(whole.validate(), Ok(()));
    refused(&Config { minibatch_size: whole.minibatch_size + 1, ..whole }, "minibatch_size 2049");
}

#[test]
fn discounts_may_be_exactly_zero_or_one() {
    for x in [0.0, 1.0] {
        assert_eq!(Config { gamma: x, gae_lambda: x, ..Config::default() }.validate(), Ok(()));
    }
    let above = 1.0_f32.next_up();
    refused(&Config { gamma: above, ..Config::default() }, "gamma must be in [0, 1]");
    refused(&Config { gae_lambda: 0.0_f32.next_down(), ..Config::default() }, "gae_lambda");
    refused(&Config { gamma: f32::NAN, ..Config::default() }, "gamma must be in [0, 1]");
}

#[test]
fn log_std_clamps_may_reach_the_range_and_no_further() {
    let (low, high) = LOG_STD_RANGE;
    let with =
        |init, clamp| Config { std_param: StdParam::LogStd { init, clamp }, ..Config::default() };
    let head = |clamp| Config { std_param: StdParam::LogStdHead { clamp }, ..Config::default() };
    assert_eq!(with(0.0, Some((low, high))).validate(), Ok(()), "the whole range");
    assert_eq!(with(low, None).validate(), Ok(()), "an init on the lower edge");
    assert_eq!(with(high, None).validate(), Ok(()), "an init on the upper edge");
    assert_eq!(head((low, high)).validate(), Ok(()));
    let outside = "std_param's log-std clamp";
    refused(&with(0.0, Some((low.next_down(), 0.0))), outside);
    refused(&with(0.0, Some((0.0, high.next_up()))), outside);
    refused(&head((low.next_down(), 0.0)), outside);
    refused(&head((0.0, high.next_up())), outside);
    // Empty: equal ends, or a NaN at either end.
    for (lo, hi) in [(1.0, 1.0), (f32::NAN, 1.0), (-1.0, f32::NAN)] {
        let empty = format!("std_param's log-std clamp {lo}:{hi} is empty");
        refused(&with(0.0, Some((lo, hi))), &empty);
        refused(&head((lo, hi)), &empty);
    }
    refused(&with(f32::INFINITY, Some((low, high))), "std_param's log-std init inf");
    refused(&with(high.next_up(), None), "std_param's log-std init");
    refused(&with(low.next_down(), None), "std_param's log-std init");
    assert_eq!(Config { std_param: StdParam::Softplus, ..Config::default() }.validate(), Ok(()));
}

fn round_trips<C: Choice + std::fmt::Debug>() {
    for (code, &(name, choice)) in C::CHOICES.iter().enumerate() {
        assert_eq!(choice.name(), name);
        assert_eq!(usize::from(choice.code()), code, "{name}");
        assert_eq!(C::from_code(choice.code()), Some(choice), "{name}");
        assert_eq!(C::from_name(name), Ok(choice), "{name}");
    }
    let error = C::from_name("no-such-choice").expect_err("an unknown name");
    assert!(
        error.starts_with("expected '") && error.ends_with(", got 'no-such-choice'"),
        "{error}"
    );
    assert_eq!(C::from_code(u8::try_from(C::CHOICES.len()).unwrap()), None);
    assert_eq!(C::from_code(u8::MAX), None);
}

#[test]
fn every_choice_has_its_name_and_its_code() {
    round_trips::<TimeLimit>();
    round_trips::<Init>();
    round_trips::<Objective>();
    round_trips::<Activation>();
    round_trips::<DistributionKind>();
    // The codes checkpoints store: append-only, so these never change.
    assert_eq!(DistributionKind::TanhNormal.code(), 4);
    assert_eq!(Init::OrthogonalSqrt2.code(), 3);
    assert_eq!(Objective::Unclipped.code(), 3);
    assert_eq!(TimeLimit::Ignore.code(), 2);
}

fn action_of(distribution: &dyn Distribution, params: &[&[f32]]) -> Vec<f32> {
    let width = distribution.sample_width();
    let (mut sample, mut action) = (vec![0.0; width], vec![0.0; width]);
    distribution.mode(params, &mut sample);
    distribution.to_action(&sample, &mut action);
    action
}

#[test]
fn over_builds_the_distribution_of_the_kind_with_the_space_bounds() {
    let (low, high) = ([-3.0_f32, -3.0], [3.0_f32, 3.0]);
    let space = ActionSpace::Continuous { low: &low, high: &high };
    let mean = [0.5_f32, 9.0];
    let spread = [0.0_f32, 0.0];
    let normal = DistributionKind::Normal.over(space).unwrap();
    assert_eq!(normal.sample_width(), 2);
    assert_eq!(action_of(normal.as_ref(), &[&mean, &spread]), mean, "the mean itself");
    let tanh = DistributionKind::TanhNormal.over(space).unwrap();
    let squashed = action_of(tanh.as_ref(), &[&mean, &spread]);
    assert_eq!(squashed, mean.map(|m| (3.0 * f64::from(m).tanh()) as f32), "3·tanh(mean)");
    let truncated = DistributionKind::TruncatedNormal.over(space).unwrap();
    assert_eq!(action_of(truncated.as_ref(), &[&mean, &spread]), [0.5, 3.0], "clamped to ±3");
    let beta = DistributionKind::Beta.over(space).unwrap();
    let (a, b) = ([2.0_f32, 3.0], [2.0_f32, 2.0]);
    let mode = action_of(beta.as_ref(), &[&a, &b]);
    let expected = [0.0, -3.0 + 6.0 * (2.0 / 3.0)];
    assert!(mode.iter().zip(expected).all(|(m, e)| (m - e).abs() < 1e-5), "{mode:?}");

    // An asymmetric interval: the bounded distributions take it, the scaled ones refuse it.
    let (low, high) = ([0.0_f32], [2.0_f32]);
    let space = ActionSpace::Continuous { low: &low, high: &high };
    let truncated = DistributionKind::TruncatedNormal.over(space).unwrap();
    assert_eq!(action_of(truncated.as_ref(), &[&[-1.0], &[0.0]]), [0.0]);
    let beta = DistributionKind::Beta.over(space).unwrap();
    assert!((action_of(beta.as_ref(), &[&[2.0], &[2.0]])[0] - 1.0).abs() < 1e-6, "the middle");
    for kind in [DistributionKind::Normal, DistributionKind::TanhNormal] {
        let error = kind.over(space).err().expect("asymmetric bounds");
        assert!(error.contains("scales into symmetric bounds"), "{error}");
    }
}

#[test]
fn over_refuses_what_does_not_fit() {
    let continuous = [
        DistributionKind::Normal,
        DistributionKind::TanhNormal,
        DistributionKind::TruncatedNormal,
        DistributionKind::Beta,
    ];
    let discrete = ActionSpace::Discrete { choices: 3 };
    for kind in continuous {
        let error = kind.over(discrete).err().expect("continuous over discrete");
        assert!(error.contains("these are a choice of 3"), "{error}");
        // Two intervals, or one bound shared and the other not.
        let (low, high) = ([-1.0, -1.0], [1.0, 1.0]);
        for (low, high) in [([-1.0, -2.0], [1.0, 2.0]), ([-1.0, -2.0], high), (low, [1.0, 2.0])] {
            let unequal = ActionSpace::Continuous { low: &low, high: &high };
            let error = kind.over(unequal).err().expect("two intervals");
            assert!(error.contains("needs one interval for every action dimension"), "{error}");
        }
        for (lo, hi) in [(1.0, 1.0), (2.0, -2.0), (f32::NAN, 1.0), (-1.0, f32::NAN)] {
            let error = kind.over(ActionSpace::Continuous { low: &[lo], high: &[hi] }).err();
            assert!(error.expect("empty").contains("needs one interval"), "{kind:?} {lo}:{hi}");
        }
    }
    let categorical = DistributionKind::Categorical.over(discrete).unwrap();
    assert_eq!(categorical.sample_width(), 1);
    let logits = [0.1_f32, 2.0, -1.0];
    assert_eq!(action_of(categorical.as_ref(), &[&logits]), [1.0], "the most likely choice");
    let box_space = ActionSpace::Continuous { low: &[-1.0], high: &[1.0] };
    let error =
        DistributionKind::Categorical.over(box_space).err().expect("categorical over a box");
    assert!(error.contains("these are continuous"), "{error}");
}

#[test]
fn each_head_names_the_kind_it_acts_for() {
    for kind in [DistributionKind::Normal, DistributionKind::TanhNormal, DistributionKind::Beta] {
        assert_eq!(DistributionKind::of_head(kind.head()), kind);
    }
    assert_eq!(
        DistributionKind::of_head(DistributionKind::Categorical.head()),
        DistributionKind::Categorical
    );
    // A truncated Normal acts like a Normal: its mode is the (squashed) mean.
    assert_eq!(DistributionKind::TruncatedNormal.head(), DistributionKind::Normal.head());
}

#[test]
fn the_cartpole_presets_are_what_their_doc_comments_say() {
    let c = Config::cartpole();
    assert_eq!((c.num_envs, c.rollout_steps, c.epochs, c.minibatch_size), (8, 32, 20, 256));
    assert_eq!((c.gamma, c.gae_lambda, c.clip_epsilon), (0.98, 0.8, 0.2));
    assert_eq!((c.actor_learning_rate, c.critic_learning_rate), (1e-3, 1e-3));
    assert_eq!((c.max_grad_norm, c.time_limit), (Some(0.5), TimeLimit::Bootstrap));
    assert_eq!((c.hidden_size, c.activation), (64, Activation::Tanh));
    assert_eq!((c.distribution, c.init), (DistributionKind::Categorical, Init::Orthogonal));
    assert!(c.anneal_learning_rate);
    assert_eq!(c.validate(), Ok(()));

    // The TensorFlow overview's table.
    let t = Config::cartpole_seed();
    assert_eq!((t.num_envs, t.rollout_steps, t.epochs, t.minibatch_size), (1, 2048, 10, 64));
    assert_eq!((t.gamma, t.gae_lambda, t.clip_epsilon), (0.99, 0.95, 0.2));
    assert_eq!((t.actor_learning_rate, t.critic_learning_rate), (3e-4, 1e-3));
    assert_eq!((t.value_coef, t.entropy_coef, t.max_grad_norm), (0.5, 0.01, None));
    assert_eq!((t.hidden_size, t.activation), (64, Activation::Tanh));
    assert_eq!((t.distribution, t.init), (DistributionKind::Categorical, Init::PyTorchDefault));
    assert!(!t.anneal_learning_rate);
    assert_eq!(t.validate(), Ok(()));
    assert_eq!((c.total_timesteps, t.total_timesteps), (100_000, 100_000));
}

#[test]
fn the_learning_rate_schedule_is_its_formula_then_its_last_rate() {
    // Ten updates, annealing over the first four: 1 − (u − 1)/4 for u = 1..4, then 1/4.
    let batch = Config::default().batch_size();
    let c = Config {
        total_timesteps: 10 * batch,
        anneal_horizon: Some(4 * batch),
        ..Config::default()
    };
    let fractions: Vec<f32> = (1..=10).map(|u| c.learning_rate_fraction(u)).collect();
    assert_eq!(fractions, [1.0, 0.75, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25]);
    // On the horizon's own update the formula, not 1/U: in f32 the two differ for some U.
    for updates in 2..=200_usize {
        let c =
            Config { total_timesteps: updates * batch, anneal_horizon: None, ..Config::default() };
        let formula = 1.0 - (updates - 1) as f32 / updates as f32;
        assert_eq!(c.learning_rate_fraction(updates), formula, "update {updates} of {updates}");
        assert_eq!(c.learning_rate_fraction(updates + 1), 1.0 / updates as f32);
    }
    let constant = Config { anneal_learning_rate: false, ..c };
    assert_eq!(constant.learning_rate_fraction(7), 1.0);
}
