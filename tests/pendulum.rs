//! Pendulum-v1 against Gymnasium: single transitions and complete 200-step episodes recorded
//! by `tools/gymnasium_fixtures.py`, plus closed forms, the reset distribution, the time limit
//! and the vector of environments.
//!
//! Run with `cargo test --test pendulum -- --nocapture` to see the measured errors.

mod common;

use common::{Array, Fixture};
use ppo::pendulum::angle_normalize;
use ppo::{ActionSpace, Env, Episode, Pendulum, Step, VecEnv};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::f64::consts::PI;

const OBS_TOLERANCE: f64 = 1e-6;
const REWARD_TOLERANCE: f64 = 1e-5;
const STEPS: usize = Pendulum::MAX_EPISODE_STEPS as usize;

/// Row `i` of a 2-D array.
fn row(array: &Array, i: usize) -> &[f64] {
    let width = array.shape[1];
    &array.values[i * width..(i + 1) * width]
}

/// Largest absolute difference between an observation and its recorded value.
fn obs_error(obs: &[f32; 3], expected: &[f64]) -> f64 {
    obs.iter().zip(expected).map(|(&a, &b)| (f64::from(a) - b).abs()).fold(0.0, f64::max)
}

/// Worst errors seen over many steps, and how many steps were bit-exact.
#[derive(Default)]
struct Errors {
    obs: f64,
    reward: f64,
    /// Gymnasium's reward where `reward` (the worst reward error) occurred.
    reward_at: f64,
    state: f64,
    steps: usize,
    exact_obs: usize,
    exact_reward: usize,
}

impl Errors {
    fn record(&mut self, step: &Step, state: (f64, f64), obs: &[f64], reward: f64, next: &[f64]) {
        let obs_err = obs_error(&step.obs, obs);
        let reward_err = (step.reward - reward).abs();
        self.obs = self.obs.max(obs_err);
        if reward_err > self.reward {
            self.reward_at = reward;
        }
        self.reward = self.reward.max(reward_err);
        self.state = self.state.max((state.0 - next[0]).abs()).max((state.1 - next[1]).abs());
        self.steps += 1;
        self.exact_obs += usize::from(obs_err == 0.0);
        self.exact_reward += usize::from(reward_err == 0.0);
    }

    fn report(&self, what: &str) {
        println!(
            "{what}: {} steps; max |obs error| {:e} ({} bit-exact), max |reward error| {:e} \
             (at a reward of {:e}; {} bit-exact), max |state error| {:e}",
            self.steps,
            self.obs,
            self.exact_obs,
            self.reward,
            self.reward_at,
            self.exact_reward,
            self.state
        );
    }
}

#[test]
fn single_transitions_match_gymnasium() {
    let fx = Fixture::load("pendulum_transitions.txt");
    let (g, state, action) = (fx.get("g"), fx.get("state"), fx.get("action"));
    let (next_state, obs, reward) = (fx.get("next_state"), fx.get("obs"), fx.get("reward"));
    let mut errors = Errors::default();
    for i in 0..g.values.len() {
        let mut env = Pendulum::with_gravity(g.values[i]);
        env.set_state(row(state, i)[0], row(state, i)[1]);
        let step = env.step(&[action.values[i] as f32]);
        errors.record(&step, env.state(), row(obs, i), reward.values[i], row(next_state, i));
        assert!(
            obs_error(&step.obs, row(obs, i)) <= OBS_TOLERANCE
                && (step.reward - reward.values[i]).abs() <= REWARD_TOLERANCE,
            "transition {i} from state {:?} with torque {}: got obs {:?} reward {}, \
             Gymnasium {:?} {}",
            row(state, i),
            action.values[i],
            step.obs,
            step.reward,
            row(obs, i),
            reward.values[i]
        );
        assert!(!step.terminated && !step.truncated);
    }
    errors.report("single transitions");
}

/// Replays every recorded episode from its initial state; `start` can nudge that state.
fn replay_episodes(start: impl Fn(f64) -> f64, check: bool) -> Errors {
    let fx = Fixture::load("pendulum_episodes.txt");
    let mut errors = Errors::default();
    for k in 0..fx.get("count").scalar() as usize {
        let get = |name: &str| fx.get(&format!("ep{k}.{name}"));
        let mut env = Pendulum::with_gravity(get("g").scalar());
        let initial = get("initial_state").values.clone();
        env.set_state(start(initial[0]), initial[1]);
        if check {
            assert_eq!(obs_error(&env.observation(), &get("initial_obs").values), 0.0);
        }
        for t in 0..STEPS {
            let step = env.step(&[get("action").values[t] as f32]);
            let (obs, reward) = (row(get("obs"), t), get("reward").values[t]);
            errors.record(&step, env.state(), obs, reward, row(get("state"), t));
            if check {
                assert!(
                    obs_error(&step.obs, obs) <= OBS_TOLERANCE
                        && (step.reward - reward).abs() <= REWARD_TOLERANCE,
                    "episode {k}, step {}: got obs {:?} reward {}, Gymnasium {obs:?} {reward}",
                    t + 1,
                    step.obs,
                    step.reward
                );
                assert_eq!(step.terminated, get("terminated").values[t] != 0.0);
                assert_eq!(step.truncated, get("truncated").values[t] != 0.0, "step {}", t + 1);
            }
        }
    }
    errors
}

#[test]
fn full_episodes_match_gymnasium_at_every_step() {
    replay_episodes(|theta| theta, true).report("full episodes");
}

/// The episode test has teeth: near the upright position a one-ulp change of the initial angle
/// grows past the tolerance within an episode, so only a bit-exact port passes it.
#[test]
fn one_ulp_at_the_start_is_visible_at_the_end() {
    let nudged = replay_episodes(|theta| f64::from_bits(theta.to_bits() + 1), false);
    nudged.report("initial angle one ulp off");
    assert!(nudged.obs > 100.0 * OBS_TOLERANCE, "max obs error only {:e}", nudged.obs);
}

/// A port that is right "up to rounding": it widens the torque to f64 before multiplying by
/// 3/(ml²), where NumPy stays in float32. One step of it, and its observation.
fn all_f64_step(g: f64, (theta, theta_dot): (f64, f64), action: f64) -> ((f64, f64), [f32; 3]) {
    let u = f64::from(action as f32).clamp(-2.0, 2.0);
    let theta_dot = (theta_dot + (3.0 * g / 2.0 * theta.sin() + 3.0 * u) * 0.05).clamp(-8.0, 8.0);
    let theta = theta + theta_dot * 0.05;
    ((theta, theta_dot), [theta.cos() as f32, theta.sin() as f32, theta_dot as f32])
}

/// The all-f64 port passes every single recorded transition; the recorded episodes expose it.
#[test]
fn an_all_f64_port_drifts_away_from_gymnasium() {
    let fx = Fixture::load("pendulum_transitions.txt");
    let (g, state, action, obs) = (fx.get("g"), fx.get("state"), fx.get("action"), fx.get("obs"));
    let single = (0..g.values.len())
        .map(|i| {
            let from = (row(state, i)[0], row(state, i)[1]);
            obs_error(&all_f64_step(g.values[i], from, action.values[i]).1, row(obs, i))
        })
        .fold(0.0_f64, f64::max);
    println!("all-f64 port: single transitions within {single:e}");
    assert!(single <= OBS_TOLERANCE, "single transitions off by {single:e}");

    let fx = Fixture::load("pendulum_episodes.txt");
    let mut worst = (0.0_f64, 0, 0);
    for k in 0..fx.get("count").scalar() as usize {
        let get = |name: &str| fx.get(&format!("ep{k}.{name}"));
        let mut state = (get("initial_state").values[0], get("initial_state").values[1]);
        let mut first_failure = None;
        for t in 0..STEPS {
            let (next, obs) = all_f64_step(get("g").scalar(), state, get("action").values[t]);
            state = next;
            let err = obs_error(&obs, row(get("obs"), t));
            if err > OBS_TOLERANCE && first_failure.is_none() {
                first_failure = Some(t + 1);
            }
            if err > worst.0 {
                worst = (err, k, t + 1);
            }
        }
        let first = first_failure.map_or("never".to_string(), |t| format!("at step {t}"));
        println!("all-f64 port: episode {k} first off by more than 1e-6 {first}");
    }
    println!("all-f64 port: max |obs error| {:e} (episode {}, step {})", worst.0, worst.1, worst.2);
    assert!(worst.0 > 100.0 * OBS_TOLERANCE, "max obs error only {:e}", worst.0);
}

#[test]
fn closed_forms() {
    // Upright, still, no torque: nothing to pay.
    let mut env = Pendulum::new();
    env.set_state(0.0, 0.0);
    let step = env.step(&[0.0]);
    assert_eq!(step.reward, 0.0);
    assert_eq!(env.state(), (0.0, 0.0));
    assert_eq!(step.obs, [1.0, 0.0, 0.0]);

    // The worst step: hanging down, at full speed, full torque: -(π² + 0.1·8² + 0.001·2²).
    env.set_state(PI, 8.0);
    let worst = env.step(&[2.0]).reward;
    assert!((worst - -(PI * PI + 6.4 + 0.004)).abs() < 1e-6, "{worst}");
    assert!((worst - -16.2736044).abs() < 1e-6, "{worst}");

    // Horizontal, at rest, no torque: θ̇ = 3g/(2l)·sin θ·dt = 15·0.05, then θ moves by θ̇·dt.
    env.set_state(PI / 2.0, 0.0);
    env.step(&[0.0]);
    let (theta, theta_dot) = env.state();
    assert!((theta_dot - 0.75).abs() < 1e-15 && (theta - (PI / 2.0 + 0.0375)).abs() < 1e-15);

    // Torque is clipped to 2 and speed to 8.
    env.set_state(0.0, 0.0);
    env.step(&[50.0]);
    assert!((env.state().1 - 3.0 * 2.0 * 0.05).abs() < 1e-7, "{:?}", env.state());
    env.set_state(PI / 2.0, 7.9);
    env.step(&[2.0]);
    assert_eq!(env.state(), (PI / 2.0 + 8.0 * 0.05, 8.0));

    // The angle the reward sees is wrapped into [-π, π).
    assert_eq!(angle_normalize(PI), -PI);
    assert!((angle_normalize(0.5 + 6.0 * PI) - 0.5).abs() < 1e-14);
    assert!((angle_normalize(-0.5 - 4.0 * PI) + 0.5).abs() < 1e-14);
}

#[test]
fn reset_is_uniform_over_gymnasium_bounds() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut env = Pendulum::new();
    let n = 50_000;
    let (mut sum, mut sum_sq) = ([0.0; 2], [0.0; 2]);
    for _ in 0..n {
        let obs = env.reset(&mut rng);
        let (theta, theta_dot) = env.state();
        assert!((-PI..PI).contains(&theta) && (-1.0..1.0).contains(&theta_dot));
        assert_eq!(obs, [theta.cos() as f32, theta.sin() as f32, theta_dot as f32]);
        assert_eq!(env.elapsed_steps(), 0);
        for (j, v) in [theta, theta_dot].into_iter().enumerate() {
            sum[j] += v;
            sum_sq[j] += v * v;
        }
    }
    // U[-h, h): mean 0, standard deviation h/√3. Allow 5 standard errors.
    for (j, half_width) in [PI, 1.0].into_iter().enumerate() {
        let mean = sum[j] / n as f64;
        let std = (sum_sq[j] / n as f64 - mean * mean).sqrt();
        let expected_std = half_width / 3f64.sqrt();
        assert!(mean.abs() < 5.0 * expected_std / (n as f64).sqrt(), "mean {mean}");
        assert!((std - expected_std).abs() < 0.01 * expected_std, "std {std} vs {expected_std}");
    }
    // The same seed gives the same start, bit for bit.
    let first = Pendulum::new().reset(&mut StdRng::seed_from_u64(3));
    assert_eq!(first, Pendulum::new().reset(&mut StdRng::seed_from_u64(3)));
}

#[test]
fn only_the_200th_step_is_truncated_and_none_terminates() {
    let mut env = Pendulum::new();
    for episode in 0..2 {
        env.reset(&mut StdRng::seed_from_u64(episode));
        for t in 1..=STEPS {
            let step = env.step(&[1.0]);
            assert!(!step.terminated, "terminated at step {t}");
            assert_eq!(step.truncated, t == STEPS, "truncated flag at step {t}");
        }
    }
    // Like the TimeLimit wrapper, a step past the limit still says truncated.
    assert!(env.step(&[0.0]).truncated);
    env.set_state(0.0, 0.0);
    assert!(!env.step(&[0.0]).truncated, "set_state starts a new episode");
}

#[test]
fn non_finite_torque_is_rejected_and_leaves_the_state_alone() {
    let mut env = Pendulum::new();
    env.set_state(0.3, -0.2);
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let err = env.try_step(&[bad]).unwrap_err();
        assert!(err.to_string().contains(&format!("[{bad}] is not a finite number")), "{err}");
        assert_eq!((env.state(), env.elapsed_steps()), ((0.3, -0.2), 0));
    }
    assert!(env.try_step(&[1.0]).is_ok());
}

#[test]
#[should_panic(expected = "pendulum action [NaN] is not a finite number")]
fn step_panics_on_nan() {
    Pendulum::new().step(&[f32::NAN]);
}

#[test]
#[should_panic(expected = "must hold 1 value")]
fn step_panics_on_wrong_action_length() {
    Pendulum::new().step(&[0.0, 1.0]);
}

#[test]
fn render_puts_the_tip_where_the_rod_points() {
    let mut env = Pendulum::new();
    let tip = |env: &Pendulum| {
        let picture = env.render();
        let lines: Vec<&str> = picture.lines().collect();
        let pivot = lines.iter().enumerate().find_map(|(r, l)| l.find('O').map(|c| (r, c)));
        let tip = lines.iter().enumerate().find_map(|(r, l)| l.find('@').map(|c| (r, c)));
        let ((pr, pc), (tr, tc)) = (pivot.unwrap(), tip.unwrap());
        (tr as i64 - pr as i64, tc as i64 - pc as i64)
    };
    env.set_state(0.0, 0.0);
    assert_eq!(tip(&env), (-5, 0), "upright: tip straight above\n{}", env.render());
    env.set_state(PI, 0.0);
    assert_eq!(tip(&env), (5, 0), "hanging: tip straight below\n{}", env.render());
    env.set_state(PI / 2.0, 0.0);
    assert_eq!(tip(&env), (0, -10), "counter-clockwise quarter turn: left\n{}", env.render());
    assert!(env.render().contains('-'), "a horizontal rod is drawn with '-'");
    let widths: Vec<usize> = env.render().lines().take(11).map(str::len).collect();
    assert!(widths.iter().all(|&w| w == widths[0]), "{widths:?}");
}

/// Steps standalone pendulums by hand, resetting as the vector env must, and compares.
#[test]
fn vec_env_matches_stepping_by_hand() {
    let n = 3;
    let mut rng = StdRng::seed_from_u64(11);
    let mut venv = VecEnv::new(vec![Pendulum::new(); n]);
    let mut by_hand_rng = StdRng::seed_from_u64(11);
    let mut by_hand = vec![Pendulum::new(); n];
    let mut obs: Vec<[f32; 3]> = by_hand.iter_mut().map(|e| e.reset(&mut by_hand_rng)).collect();
    assert_eq!(venv.reset(&mut rng), obs.concat());

    let mut returns = vec![0.0; n];
    for t in 1..=2 * STEPS + 7 {
        let actions: Vec<f32> = (0..n).map(|i| ((t * (i + 1)) as f32 * 0.37).sin() * 2.5).collect();
        venv.step(&actions, &mut rng);
        for i in 0..n {
            let step = by_hand[i].step(&actions[i..i + 1]);
            returns[i] += step.reward;
            assert_eq!(venv.rewards()[i], step.reward as f32);
            assert_eq!(venv.truncated()[i], t % STEPS == 0);
            assert!(!venv.terminated()[i]);
            assert_eq!(&venv.next_observations()[3 * i..3 * i + 3], &step.obs);
            obs[i] = step.obs;
            if step.truncated {
                assert_eq!(venv.final_observation(i), Some(&step.obs[..]));
                obs[i] = by_hand[i].reset(&mut by_hand_rng);
            } else {
                assert_eq!(venv.final_observation(i), None);
            }
        }
        assert_eq!(venv.observations(), obs.concat(), "step {t}");
        let finished: Vec<Episode> = venv.drain_episodes().collect();
        if t % STEPS == 0 {
            let expected: Vec<Episode> = (0..n)
                .map(|i| Episode { total_reward: std::mem::take(&mut returns[i]), length: STEPS })
                .collect();
            assert_eq!(finished, expected);
        } else {
            assert!(finished.is_empty());
        }
    }
}

/// A toy environment that terminates after a fixed number of steps, to check that the vector
/// env handles termination and episodes of different lengths through the `Env` trait alone.
struct Countdown {
    length: u32,
    left: u32,
}

impl Env for Countdown {
    type Obs = [f32; 2];
    type Action = [f32; 1];
    fn obs_size(&self) -> usize {
        2
    }
    fn action_space(&self) -> ActionSpace<'_> {
        ActionSpace::Continuous { low: &[-1.0], high: &[1.0] }
    }
    fn reset(&mut self, _rng: &mut dyn rand::Rng) -> [f32; 2] {
        self.left = self.length;
        [self.left as f32, 0.0]
    }
    fn step(&mut self, action: [f32; 1]) -> Step<[f32; 2]> {
        self.left -= 1;
        Step {
            obs: [self.left as f32, action[0]],
            reward: 1.0,
            terminated: self.left == 0,
            truncated: false,
        }
    }
}

#[test]
fn vec_env_handles_termination_and_staggered_episodes() {
    let envs = vec![Countdown { length: 2, left: 0 }, Countdown { length: 3, left: 0 }];
    let mut venv = VecEnv::new(envs);
    let mut rng = StdRng::seed_from_u64(0);
    assert_eq!(venv.reset(&mut rng), [2.0, 0.0, 3.0, 0.0]);
    venv.step(&[0.5, -0.5], &mut rng);
    assert_eq!(venv.observations(), [1.0, 0.5, 2.0, -0.5]);
    venv.step(&[0.25, 0.75], &mut rng);
    assert_eq!(venv.terminated(), [true, false]);
    assert_eq!(venv.final_observation(0), Some(&[0.0, 0.25][..]));
    assert_eq!(venv.observations(), [2.0, 0.0, 1.0, 0.75], "env 0 restarted");
    venv.step(&[0.0, 0.0], &mut rng);
    assert_eq!(venv.terminated(), [false, true]);
    let finished: Vec<Episode> = venv.drain_episodes().collect();
    assert_eq!(
        finished,
        [Episode { total_reward: 2.0, length: 2 }, Episode { total_reward: 3.0, length: 3 }]
    );
}

#[test]
fn the_env_trait_is_dyn_compatible() {
    let mut env: Box<dyn Env<Obs = [f32; 3], Action = [f32; 1]>> =
        Box::new(Pendulum::with_gravity(9.81));
    assert_eq!(env.obs_size(), 3);
    assert_eq!(env.action_space(), ActionSpace::Continuous { low: &[-2.0], high: &[2.0] });
    // Through the trait object, reset and step are the pendulum's own, with its gravity.
    let mut twin = Pendulum::with_gravity(9.81);
    let first = env.reset(&mut StdRng::seed_from_u64(1));
    assert_eq!(first, twin.reset(&mut StdRng::seed_from_u64(1)));
    for torque in [0.5, -2.0, 1.0] {
        assert_eq!(env.step([torque]), twin.step(&[torque]));
    }
}

#[test]
#[should_panic(expected = "before VecEnv::reset")]
fn vec_env_step_before_reset_panics() {
    VecEnv::new(vec![Pendulum::new()]).step(&[0.0], &mut StdRng::seed_from_u64(0));
}

#[test]
#[should_panic(expected = "needs 2 envs x 1 actions")]
fn vec_env_checks_the_action_count() {
    let mut venv = VecEnv::new(vec![Pendulum::new(); 2]);
    let mut rng = StdRng::seed_from_u64(0);
    venv.reset(&mut rng);
    venv.step(&[0.0], &mut rng);
}
