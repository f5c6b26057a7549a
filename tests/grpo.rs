//! GRPO: group-normalized episode returns in place of a critic, groups that share a start
//! state, and the penalty that keeps the policy near its reference.

use ppo::grpo::{group_advantages, reference_penalty};
use ppo::ppo::{Config, Trainer};
use ppo::{ActionSpace, Env, Pendulum, Step, Tensor, VecEnv, gradcheck};
use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};

/// Two groups of two environments, three steps; environment 1's episode ends after its
/// first step, environment 3's after its second.
#[test]
fn group_advantages_score_each_episode_against_its_group_by_hand() {
    let rewards = [
        1.0, 4.0, 0.5, 2.0, // step 0, environments 0-3
        1.0, 9.0, 0.5, 2.0, // step 1: environment 1 is in a new episode
        1.0, 9.0, 0.5, 9.0, // step 2: so is environment 3
    ];
    let mut ends = [false; 12];
    ends[1] = true; // environment 1 after step 0
    ends[4 + 3] = true; // environment 3 after step 1
    let groups = group_advantages(&rewards, &ends, 4, 2);
    assert_eq!(groups.returns, [3.0, 4.0, 1.5, 4.0]);
    // Two returns normalized by their sample standard deviation are always ∓1/√2: group
    // {0, 1} has 3 and 4, group {2, 3} has 1.5 and 4.
    let (low, high) = (-std::f32::consts::FRAC_1_SQRT_2, std::f32::consts::FRAC_1_SQRT_2);
    let (low2, high2) = (low, high);
    let expected = [
        low, high, low2, high2, //
        low, 0.0, low2, high2, //
        low, 0.0, low2, 0.0,
    ];
    for (i, (&a, &e)) in groups.advantages.iter().zip(&expected).enumerate() {
        assert!((a - e).abs() < 1e-6, "transition {i}: {a} vs {e}");
    }
    assert_eq!(groups.rows, [0, 1, 2, 3, 4, 6, 7, 8, 10]);
}

/// `e^d − d − 1` with `d = ln π_ref − ln π`, averaged, and its gradient against finite
/// differences.
#[test]
fn the_reference_penalty_is_the_k3_estimate_by_hand() {
    let log_probs = Tensor::from_vec(&[3, 1], vec![-1.0, -0.2, -2.5]);
    let reference = Tensor::from_vec(&[3, 1], vec![-1.0, -0.7, -1.5]);
    let mut tape = ppo::Tape::new();
    let (lp, rf) = (tape.constant(&log_probs), tape.constant(&reference));
    let penalty = reference_penalty(&mut tape, lp, rf);
    let k3 = |d: f64| d.exp() - d - 1.0;
    let by_hand = (k3(0.0) + k3(-0.5) + k3(1.0)) / 3.0;
    assert!((f64::from(tape.value(penalty).item()) - by_hand).abs() < 1e-6);
    let result =
        gradcheck(&[log_probs, reference], |tape, vars| reference_penalty(tape, vars[0], vars[1]));
    assert!(result.is_ok(), "{}", result.unwrap_err());
}

#[test]
fn a_group_starts_from_one_state_and_groups_from_different_ones() {
    let mut envs = VecEnv::new((0..6).map(|_| Pendulum::new()).collect());
    let obs = envs.reset_groups(3, &mut StdRng::seed_from_u64(5)).to_vec();
    let rows: Vec<&[f32]> = obs.chunks(3).collect();
    assert_eq!((rows[0], rows[1]), (rows[1], rows[2]));
    assert_eq!((rows[3], rows[4]), (rows[4], rows[5]));
    assert_ne!(rows[0], rows[3]);
    // And the next call starts new states.
    let again = envs.reset_groups(3, &mut StdRng::seed_from_u64(6)).to_vec();
    assert_ne!(&again[..3], rows[0]);
}

/// An environment whose reward is its start state, whatever the action: a group that shares
/// its start has equal returns, so every advantage is 0 and the policy gradient is 0.
#[derive(Clone)]
struct StartIsTheReward {
    start: f32,
    t: usize,
}

impl Env for StartIsTheReward {
    type Obs = [f32; 1];
    type Action = [f32; 1];
    fn obs_size(&self) -> usize {
        1
    }
    fn action_space(&self) -> ActionSpace<'_> {
        ActionSpace::Continuous { low: &[-1.0], high: &[1.0] }
    }
    fn reset(&mut self, rng: &mut dyn Rng) -> [f32; 1] {
        (self.start, self.t) = (rng.random::<f32>(), 0);
        [self.start]
    }
    fn step(&mut self, _: [f32; 1]) -> Step<[f32; 1]> {
        self.t += 1;
        Step {
            obs: [self.start],
            reward: f64::from(self.start),
            terminated: false,
            truncated: self.t == 5,
        }
    }
}

fn grpo(group: usize, num_envs: usize) -> Config {
    Config {
        num_envs,
        rollout_steps: 5,
        total_timesteps: 2 * 5 * num_envs,
        minibatch_size: 5,
        epochs: 2,
        grpo_group: Some(group),
        std_param: ppo::nn::StdParam::LogStd { init: 0.0, clamp: None },
        ..Config::default()
    }
}

#[test]
fn returns_are_compared_only_within_a_group_that_shares_its_start() {
    let envs = || vec![StartIsTheReward { start: 0.0, t: 0 }; 4];
    // Groups of 2: equal returns within each group, no gradient, no change at all.
    let mut trainer = Trainer::new(grpo(2, 4), envs());
    let before = trainer.actor().clone();
    let stats = trainer.iterate().unwrap();
    assert_eq!(trainer.actor(), &before, "zero advantages move nothing");
    assert_eq!(stats.minibatches, 2 * 4);
    // One group of 4 is still one start: still nothing. Groups of 1 are refused.
    let mut trainer = Trainer::new(grpo(4, 4), envs());
    trainer.iterate().unwrap();
    assert_eq!(trainer.actor(), &before);
    assert!(Config { grpo_group: Some(1), ..grpo(2, 4) }.validate().is_err());
}

/// The critic is neither trained nor read; steps after an episode's end are not learned
/// from; and a reference penalty holds the policy back.
#[test]
fn grpo_trains_the_actor_alone_on_first_episodes() {
    let config = Config {
        num_envs: 4,
        rollout_steps: 250, // episodes of 200: 50 steps of a second episode, unused
        total_timesteps: 3 * 1000,
        minibatch_size: 100,
        epochs: 3,
        grpo_group: Some(2),
        ..Config::default()
    };
    let pendulums = || (0..4).map(|_| Pendulum::new()).collect::<Vec<_>>();
    let mut trainer = Trainer::new(config.clone(), pendulums());
    let (actor, critic) = (trainer.actor().clone(), trainer.critic().clone());
    let stats = trainer.iterate().unwrap();
    assert_eq!(stats.minibatches, 3 * 8, "800 transitions learned from, not 1000");
    assert_eq!((stats.value_loss, stats.explained_variance), (0.0, 0.0));
    assert_eq!(trainer.critic(), &critic);
    assert_eq!(trainer.optimizers().1.steps_taken(), 0);
    assert_ne!(trainer.actor(), &actor);
}

/// With every advantage 0 (a group's returns are all equal) the only gradient left is the
/// reference penalty's: an actor moved away from its reference (log σ raised by 0.5) is
/// pulled back toward it, and without the penalty it stays where it is.
#[test]
fn the_reference_penalty_pulls_the_policy_back_to_its_start() {
    let log_sigma_after = |reference_kl| {
        let config = Config { reference_kl, entropy_coef: 0.0, ..grpo(2, 4) };
        let mut trainer = Trainer::new(config, vec![StartIsTheReward { start: 0.0, t: 0 }; 4]);
        let names = trainer.actor().parameter_names();
        let at = names.iter().position(|n| n == "log_std").expect("a log-σ vector");
        let mut params: Vec<Tensor> = trainer.actor().parameters().into_iter().cloned().collect();
        params[at] = Tensor::from_vec(&[1], vec![0.5]);
        trainer.actor_mut().load_parameters(&params).unwrap();
        trainer.iterate().unwrap();
        trainer.actor().parameters()[at].data()[0]
    };
    assert_eq!(log_sigma_after(0.0), 0.5, "no advantage, no penalty: no gradient");
    let pulled = log_sigma_after(1.0);
    assert!(pulled < 0.5 - 1e-3, "pulled back toward 0: {pulled}");
}

#[test]
fn grpo_refuses_what_it_cannot_do() {
    let cases = [
        (Config { grpo_group: Some(3), ..grpo(2, 4) }, "divide num_envs"),
        (Config { shared_network: true, ..grpo(2, 4) }, "shared_network"),
        (Config { time_limit: ppo::gae::TimeLimit::Ignore, ..grpo(2, 4) }, "must end"),
        (Config { normalize_rewards: true, ..grpo(2, 4) }, "normalize_rewards"),
        (Config { reference_kl: -1.0, ..grpo(2, 4) }, "reference_kl must be zero or positive"),
    ];
    for (config, message) in cases {
        let error = config.validate().expect_err(message);
        assert!(error.contains(message), "{error}");
    }
}

#[test]
fn the_reference_penalty_is_read_only_by_grpo() {
    // PPO with a reference_kl set trains exactly as with none: the weight belongs to GRPO.
    let trained = |reference_kl| {
        let config = Config {
            total_timesteps: 512,
            rollout_steps: 64,
            minibatch_size: 128,
            epochs: 2,
            reference_kl,
            ..Config::default()
        };
        let mut trainer = Trainer::new(config, (0..8).map(|_| Pendulum::new()).collect());
        while !trainer.is_done() {
            trainer.iterate().expect("a short PPO run");
        }
        let params: Vec<Vec<u32>> = trainer
            .actor()
            .parameters()
            .into_iter()
            .map(|t| t.data().iter().map(|x| x.to_bits()).collect())
            .collect();
        params
    };
    assert_eq!(trained(0.5), trained(0.0));
}

/// A point on a plane pushed by a two-dimensional action, its episode of a fixed length of its
/// own: the cost is the squared distance from the origin. Two numbers per action, and
/// episodes of unequal lengths, where the pendulum has one number and always 200 steps.
#[derive(Clone)]
struct PlaneWalk {
    length: usize,
    position: [f32; 2],
    t: usize,
}

impl PlaneWalk {
    fn new(length: usize) -> PlaneWalk {
        PlaneWalk { length, position: [0.0; 2], t: 0 }
    }
}

impl Env for PlaneWalk {
    type Obs = [f32; 2];
    type Action = [f32; 2];
    fn obs_size(&self) -> usize {
        2
    }
    fn action_space(&self) -> ActionSpace<'_> {
        ActionSpace::Continuous { low: &[-1.0, -1.0], high: &[1.0, 1.0] }
    }
    fn reset(&mut self, rng: &mut dyn Rng) -> [f32; 2] {
        self.position = [rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)];
        self.t = 0;
        self.position
    }
    fn step(&mut self, action: [f32; 2]) -> Step<[f32; 2]> {
        self.t += 1;
        for (x, a) in self.position.iter_mut().zip(action) {
            *x += 0.5 * a.clamp(-1.0, 1.0);
        }
        let [x, y] = self.position;
        Step {
            obs: self.position,
            reward: -f64::from(x * x + y * y),
            terminated: self.t == self.length,
            truncated: false,
        }
    }
}

/// The actor's parameters, as bits, after the GRPO run of `config` on walks of the lengths.
fn walked(config: Config, lengths: &[usize]) -> Vec<Vec<u32>> {
    let envs = lengths.iter().map(|&n| PlaneWalk::new(n)).collect();
    let mut trainer = Trainer::new(config, envs);
    while !trainer.is_done() {
        trainer.iterate().expect("a short GRPO run");
    }
    let params = trainer.actor().parameters().into_iter();
    params.map(|t| t.data().iter().map(|x| x.to_bits()).collect()).collect()
}

fn walking(minibatch_size: usize) -> Config {
    Config {
        num_envs: 4,
        rollout_steps: 12,
        total_timesteps: 48,
        epochs: 1,
        minibatch_size,
        grpo_group: Some(2),
        time_limit: ppo::gae::TimeLimit::AsTerminal,
        ..Config::default()
    }
}

#[test]
fn advantages_are_normalized_over_episodes_of_unequal_lengths() {
    // Groups of episodes of 3 and 7 steps, and of 5 and 9: the group scores have mean 0
    // within each group, but over the 24 transitions learned from they do not, so the
    // normalization over those transitions changes them, and what is learned.
    let lengths = [3, 7, 5, 9];
    let on = walked(walking(8), &lengths);
    let off = walked(Config { normalize_advantages: false, ..walking(8) }, &lengths);
    assert_ne!(on, off, "normalize_advantages made no difference");
    let per_minibatch = Config { minibatch_advantages: true, ..walking(8) };
    assert_ne!(walked(per_minibatch, &lengths), on, "per-minibatch normalization is another");
}

#[test]
fn the_reference_is_the_policy_itself_until_the_first_step() {
    // One update, one minibatch of every transition learned from: the actor is still the
    // reference when its gradient is taken, so the k3 penalty and its gradient are exactly 0,
    // and the step is the step without it, bit for bit, if every row's reference
    // log-probability is its own (two numbers per action, two per distribution parameter).
    let lengths = [3, 7, 5, 9];
    // A state-dependent σ, so that a row's σ is its own too.
    let head = ppo::nn::StdParam::LogStdHead { clamp: (-5.0, 2.0) };
    let config = Config { std_param: head, ..walking(48) };
    let without = walked(config.clone(), &lengths);
    assert_eq!(walked(Config { reference_kl: 0.5, ..config }, &lengths), without);
}
