//! CartPole-v1 against Gymnasium: single transitions and whole episodes recorded by
//! `tools/gymnasium_cartpole_fixtures.py`, compared bit for bit; plus the thresholds, careless
//! ports that the fixtures tell apart, the reset distribution, the time limit, stepping after
//! termination, invalid actions and the text picture.
//!
//! Run with `cargo test --test cartpole -- --nocapture` to see the measured errors.

mod common;

use common::{Array, Fixture};
use ppo::CartPole;
use ppo::Step;
use ppo::cartpole::InvalidAction;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const STEPS: usize = CartPole::MAX_EPISODE_STEPS as usize;

/// Row `i` of a 2-D array.
fn row(array: &Array, i: usize) -> &[f64] {
    let width = array.shape[1];
    &array.values[i * width..(i + 1) * width]
}

fn state_of(values: &[f64]) -> [f64; 4] {
    values.try_into().expect("a state has 4 values")
}

fn action_of(value: f64) -> usize {
    assert!(value == 0.0 || value == 1.0, "recorded action {value}");
    value as usize
}

/// An implementation of the physics under test, started from a state: each call takes an
/// action and returns the step and the new `f64` state.
type Port = Box<dyn FnMut(usize) -> (Step<[f32; 4]>, [f64; 4])>;

/// Our `CartPole`, started with `set_state`.
fn ours(start: [f64; 4]) -> Port {
    let mut env = CartPole::new();
    env.set_state(start);
    assert_eq!(env.observation(), start.map(|v| v as f32));
    Box::new(move |action| (env.step(action), env.state()))
}

/// How a port compares with the recorded steps.
#[derive(Default)]
struct Tally {
    steps: usize,
    /// Steps whose four observation values have Gymnasium's `f32` bit patterns.
    obs_exact: usize,
    /// Steps whose `f64` state has Gymnasium's bit patterns.
    state_exact: usize,
    /// Steps with Gymnasium's reward, `terminated` and `truncated`.
    rest_exact: usize,
    max_obs_error: f64,
    max_reward_error: f64,
    first_mismatch: Option<String>,
}

impl Tally {
    /// Compares one step; `expected` is (observation, reward, terminated, truncated, state).
    fn record(
        &mut self,
        what: String,
        got: (Step<[f32; 4]>, [f64; 4]),
        expected: (&[f64], f64, f64, f64, &[f64]),
    ) {
        let (step, state) = got;
        let (obs, reward, terminated, truncated, next_state) = expected;
        // Widening f32 to f64 is exact and one-to-one, so comparing the widened bits compares
        // the f32 bits. NaN is NaN whatever its payload (NumPy's is negative, Rust's positive).
        let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
        let error = |a: f64, b: f64| if same(a, b) { 0.0 } else { (a - b).abs() };
        let obs_exact = step.obs.iter().zip(obs).all(|(&a, &b)| same(f64::from(a), b));
        let state_exact = state.iter().zip(next_state).all(|(&a, &b)| same(a, b));
        let rest_exact = same(step.reward, reward)
            && step.terminated == (terminated != 0.0)
            && step.truncated == (truncated != 0.0);
        self.steps += 1;
        self.obs_exact += usize::from(obs_exact);
        self.state_exact += usize::from(state_exact);
        self.rest_exact += usize::from(rest_exact);
        let obs_error =
            step.obs.iter().zip(obs).map(|(&a, &b)| error(f64::from(a), b)).fold(0.0, f64::max);
        self.max_obs_error = self.max_obs_error.max(obs_error);
        self.max_reward_error = self.max_reward_error.max(error(step.reward, reward));
        if !(obs_exact && state_exact && rest_exact) && self.first_mismatch.is_none() {
            self.first_mismatch = Some(format!(
                "{what}: got state {state:?}, obs {:?}, reward {}, terminated {}, truncated {}; \
                 Gymnasium {next_state:?}, {obs:?}, {reward}, {terminated}, {truncated}",
                step.obs, step.reward, step.terminated, step.truncated
            ));
        }
    }

    fn report(&self, what: &str) {
        println!(
            "{what}: {} steps; bit-exact: {} observations, {} states, {} rewards and flags; \
             max |obs error| {:e}, max |reward error| {:e}",
            self.steps,
            self.obs_exact,
            self.state_exact,
            self.rest_exact,
            self.max_obs_error,
            self.max_reward_error
        );
    }

    fn assert_bit_exact(&self) {
        assert!(self.first_mismatch.is_none(), "{}", self.first_mismatch.as_deref().unwrap_or(""));
        assert_eq!((self.max_obs_error, self.max_reward_error), (0.0, 0.0));
    }
}

/// Steps `port` once from every recorded state with the recorded action.
fn replay_transitions(port: impl Fn([f64; 4]) -> Port) -> Tally {
    let fx = Fixture::load("cartpole_transitions.txt");
    let (state, action) = (fx.get("state"), fx.get("action"));
    let mut tally = Tally::default();
    for i in 0..action.values.len() {
        let got = port(state_of(row(state, i)))(action_of(action.values[i]));
        let expected = (
            row(fx.get("obs"), i),
            fx.get("reward").values[i],
            fx.get("terminated").values[i],
            fx.get("truncated").values[i],
            row(fx.get("next_state"), i),
        );
        let what =
            format!("transition {i} from {:?} with action {}", row(state, i), action.values[i]);
        tally.record(what, got, expected);
    }
    tally
}

/// Replays every recorded episode open loop: `port` started from the initial state, then fed
/// the recorded actions one by one.
fn replay_episodes(port: impl Fn([f64; 4]) -> Port) -> Tally {
    let fx = Fixture::load("cartpole_episodes.txt");
    let mut tally = Tally::default();
    for k in 0..fx.get("count").scalar() as usize {
        let get = |name: &str| fx.get(&format!("ep{k}.{name}"));
        let mut step = port(state_of(&get("initial_state").values));
        for (t, &action) in get("action").values.iter().enumerate() {
            let expected = (
                row(get("obs"), t),
                get("reward").values[t],
                get("terminated").values[t],
                get("truncated").values[t],
                row(get("state"), t),
            );
            tally.record(format!("episode {k}, step {}", t + 1), step(action_of(action)), expected);
        }
    }
    tally
}

#[test]
fn single_transitions_match_gymnasium_bit_for_bit() {
    let tally = replay_transitions(ours);
    tally.report("single transitions");
    tally.assert_bit_exact();
}

#[test]
fn full_episodes_match_gymnasium_at_every_step() {
    let tally = replay_episodes(ours);
    tally.report("full episodes");
    tally.assert_bit_exact();
}

/// The fixtures reach both sides of every threshold at the last bit, by the step itself.
#[test]
fn the_fixtures_step_onto_both_sides_of_each_threshold() {
    let fx = Fixture::load("cartpole_transitions.txt");
    let (next_state, terminated) = (fx.get("next_state"), fx.get("terminated"));
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..terminated.values.len() {
        let [x, _, theta, _] = state_of(row(next_state, i));
        let done = terminated.values[i] != 0.0;
        // Only rows where the other coordinate is well inside its limit decide a threshold.
        for (value, threshold, name, other_inside) in [
            (x, CartPole::X_THRESHOLD, "x", theta.abs() < 0.2),
            (theta, CartPole::THETA_THRESHOLD_RADIANS, "theta", x.abs() < 2.3),
        ] {
            let ulps = value.abs().to_bits() as i64 - threshold.to_bits() as i64;
            if other_inside && ulps.abs() <= 3 {
                seen.insert((name, value > 0.0, ulps, done));
            }
        }
    }
    for name in ["x", "theta"] {
        for positive in [true, false] {
            // One ulp inside or exactly on the limit: still running; one ulp beyond: over.
            for (ulps, done) in [(-1, false), (0, false), (1, true)] {
                let case = (name, positive, ulps, done);
                assert!(seen.contains(&case), "no transition {case:?} in {seen:?}");
            }
        }
    }
}

/// Ways to write the physics that are right on paper and round differently from Gymnasium.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Careless {
    /// `m_p·l / M` folded into one constant in ẍ.
    FoldedInXAcc,
    /// `m_p / M` folded into one constant in θ̈'s denominator.
    FoldedInThetaAcc,
    /// `m_p·l·(θ̇²·sin θ)`: the product in `temp` grouped the other way.
    RegroupedTemp,
    /// The 12° threshold written as `12f64.to_radians()`, one ulp above Gymnasium's.
    ToRadians,
}

/// A port of the physics in `f64` with one careless change (rewards are always 1: the
/// comparisons that use it look at observations, states and flags).
fn careless(variant: Careless) -> impl Fn([f64; 4]) -> Port {
    move |start| {
        let mut s = start;
        Box::new(move |action| {
            let (mp, m, pml, l) = (0.1, 0.1 + 1.0, 0.1 * 0.5, 0.5);
            let force = if action == 1 { 10.0 } else { -10.0 };
            let [x, x_dot, theta, theta_dot] = s;
            let (sin, cos) = (theta.sin(), theta.cos());
            let temp = match variant {
                Careless::RegroupedTemp => (force + pml * (theta_dot * theta_dot * sin)) / m,
                _ => (force + pml * (theta_dot * theta_dot) * sin) / m,
            };
            let ratio = match variant {
                Careless::FoldedInThetaAcc => (mp / m) * (cos * cos),
                _ => mp * (cos * cos) / m,
            };
            let theta_acc = (9.8 * sin - cos * temp) / (l * (4.0 / 3.0 - ratio));
            let x_acc = match variant {
                Careless::FoldedInXAcc => temp - (pml / m) * theta_acc * cos,
                _ => temp - pml * theta_acc * cos / m,
            };
            s = [
                x + 0.02 * x_dot,
                x_dot + 0.02 * x_acc,
                theta + 0.02 * theta_dot,
                theta_dot + 0.02 * theta_acc,
            ];
            let limit = match variant {
                Careless::ToRadians => 12f64.to_radians(),
                _ => CartPole::THETA_THRESHOLD_RADIANS,
            };
            let terminated = s[0].abs() > 2.4 || s[2].abs() > limit;
            (Step { obs: s.map(|v| v as f32), reward: 1.0, terminated, truncated: false }, s)
        })
    }
}

/// The physics in `f32` throughout, as a port to a GPU might write it.
fn all_f32(start: [f64; 4]) -> Port {
    let mut s = start.map(|v| v as f32);
    Box::new(move |action| {
        let force: f32 = if action == 1 { 10.0 } else { -10.0 };
        let [x, x_dot, theta, theta_dot] = s;
        let (sin, cos) = (theta.sin(), theta.cos());
        let temp = (force + 0.05 * (theta_dot * theta_dot) * sin) / 1.1;
        let theta_acc = (9.8 * sin - cos * temp) / (0.5 * (4.0 / 3.0 - 0.1 * (cos * cos) / 1.1));
        let x_acc = temp - 0.05 * theta_acc * cos / 1.1;
        s = [
            x + 0.02 * x_dot,
            x_dot + 0.02 * x_acc,
            theta + 0.02 * theta_dot,
            theta_dot + 0.02 * theta_acc,
        ];
        let wide = s.map(f64::from);
        let terminated = wide[0].abs() > 2.4 || wide[2].abs() > CartPole::THETA_THRESHOLD_RADIANS;
        (Step { obs: s, reward: 1.0, terminated, truncated: false }, wide)
    })
}

/// What the fixtures can tell apart. The upright pole is unstable, so an error in θ or θ̇
/// grows along an episode until the `f32` observations show it; x and ẋ feed nothing back, so
/// an error there only accumulates, and only the `f64` state comparison sees it.
#[test]
fn careless_ports_are_told_apart() {
    // Sanity: our port counts as exact by the same measure.
    assert_eq!(replay_episodes(ours).obs_exact, replay_episodes(ours).steps);

    let nudged = replay_episodes(|mut s| {
        s[2] = f64::from_bits(s[2].to_bits() + 1);
        ours(s)
    });
    nudged.report("ours, initial angle one ulp off");
    assert!(nudged.max_obs_error > 1e-3, "{:e}", nudged.max_obs_error);

    let theta_acc = replay_episodes(careless(Careless::FoldedInThetaAcc));
    theta_acc.report("m_p / M folded in the angular acceleration");
    assert!(theta_acc.max_obs_error > 1e-2, "{:e}", theta_acc.max_obs_error);

    let f32_port = replay_episodes(all_f32);
    f32_port.report("all f32");
    assert!(f32_port.max_obs_error > 1.0, "{:e}", f32_port.max_obs_error);

    let x_acc = replay_episodes(careless(Careless::FoldedInXAcc));
    x_acc.report("m_p l / M folded in the cart's acceleration");
    assert_eq!(x_acc.obs_exact, x_acc.steps, "the observations cannot see it");
    assert!(x_acc.state_exact < x_acc.steps / 2, "the states can");

    // The 12° written as to_radians is one ulp too large: only the threshold transitions see it.
    assert_eq!(12f64.to_radians(), f64::from_bits(CartPole::THETA_THRESHOLD_RADIANS.to_bits() + 1));
    let threshold = replay_transitions(careless(Careless::ToRadians));
    threshold.report("12f64.to_radians() as the threshold, single transitions");
    assert_eq!(replay_episodes(careless(Careless::ToRadians)).max_obs_error, 0.0);
    let flags_wrong = threshold.steps - threshold.rest_exact;
    assert!(flags_wrong > 0 && threshold.obs_exact == threshold.steps);

    // Grouping the small term of `temp` differently rounds it differently, but it is added to
    // ±10 N, whose ulp mostly swallows the difference: no episode sees it, and only the
    // states of a few fast single transitions do.
    let temp = replay_transitions(careless(Careless::RegroupedTemp));
    temp.report("m_p l (θ̇² sin θ) in temp, single transitions");
    assert!(temp.obs_exact == temp.steps && temp.state_exact < temp.steps);
    assert_eq!(replay_episodes(careless(Careless::RegroupedTemp)).state_exact, x_acc.steps);
}

#[test]
fn reset_is_uniform_in_plus_minus_0_05() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut env = CartPole::new();
    let n = 100_000;
    let (mut min, mut max) = ([f64::INFINITY; 4], [f64::NEG_INFINITY; 4]);
    let (mut sum, mut sum_sq, mut cross) = ([0.0; 4], [0.0; 4], [0.0; 4]);
    for _ in 0..n {
        let obs = env.reset(&mut rng);
        let s = env.state();
        assert_eq!(obs, s.map(|v| v as f32));
        assert_eq!(env.elapsed_steps(), 0);
        for j in 0..4 {
            assert!((-0.05..0.05).contains(&s[j]), "{s:?}");
            min[j] = min[j].min(s[j]);
            max[j] = max[j].max(s[j]);
            sum[j] += s[j];
            sum_sq[j] += s[j] * s[j];
            cross[j] += s[j] * s[(j + 1) % 4];
        }
    }
    let n = n as f64;
    // U[-0.05, 0.05): standard deviation 0.1/√12. The chance that no draw of 100 000 comes
    // within 1e-4 of an end is 0.999^100000 ≈ e^-100; means and correlations within 5
    // standard errors, standard deviations within 1 %.
    let std = 0.1 / 12f64.sqrt();
    for j in 0..4 {
        assert!(min[j] < -0.0499 && max[j] > 0.0499, "value {j}: min {} max {}", min[j], max[j]);
        let mean = sum[j] / n;
        assert!(mean.abs() < 5.0 * std / n.sqrt(), "value {j}: mean {mean}");
        let measured = (sum_sq[j] / n - mean * mean).sqrt();
        assert!((measured - std).abs() < 0.01 * std, "value {j}: std {measured} vs {std}");
        // The four values are drawn independently (not one draw copied four times).
        let correlation = (cross[j] / n) / (std * std);
        assert!(correlation.abs() < 5.0 / n.sqrt(), "values {j}, {}: {correlation}", (j + 1) % 4);
    }
    let first = CartPole::new().reset(&mut StdRng::seed_from_u64(3));
    assert_eq!(
        first,
        CartPole::new().reset(&mut StdRng::seed_from_u64(3)),
        "same seed, same start"
    );
}

/// Push right when the pole falls right: keeps it up far longer than 500 steps.
fn balance(env: &CartPole) -> usize {
    let [_, _, theta, theta_dot] = env.state();
    usize::from(theta + 0.5 * theta_dot > 0.0)
}

#[test]
fn only_the_500th_step_is_truncated() {
    let mut env = CartPole::new();
    for seed in 0..3 {
        env.reset(&mut StdRng::seed_from_u64(seed));
        for t in 1..=STEPS {
            let step = env.step(balance(&env));
            assert!(!step.terminated, "seed {seed}: terminated at step {t}");
            assert_eq!(step.truncated, t == STEPS, "seed {seed}: truncated flag at step {t}");
            assert_eq!(step.reward, 1.0);
        }
        assert_eq!(env.elapsed_steps(), CartPole::MAX_EPISODE_STEPS);
    }
    // Like the TimeLimit wrapper, a step past the limit still says truncated.
    assert!(env.step(balance(&env)).truncated);
    env.set_state([0.0; 4]);
    assert!(!env.step(0).truncated, "set_state starts a new episode");
}

/// Gymnasium reports a termination on the 500th step as terminated *and* truncated (the
/// `TimeLimit` wrapper sets `truncated` whatever the env says); the fixtures hold such an
/// episode, and we say the same.
#[test]
fn a_fall_on_the_500th_step_is_terminated_and_truncated() {
    let fx = Fixture::load("cartpole_episodes.txt");
    let mut found = 0;
    for k in 0..fx.get("count").scalar() as usize {
        let get = |name: &str| fx.get(&format!("ep{k}.{name}"));
        let (terminated, truncated) = (&get("terminated").values, &get("truncated").values);
        if terminated.len() == STEPS && terminated[STEPS - 1] != 0.0 {
            assert_eq!(truncated[STEPS - 1], 1.0, "episode {k}");
            assert_eq!(get("reward").values[STEPS - 1], 1.0, "episode {k}");
            let mut env = CartPole::new();
            env.set_state(state_of(&get("initial_state").values));
            let steps: Vec<Step<[f32; 4]>> =
                get("action").values.iter().map(|&a| env.step(action_of(a))).collect();
            assert!(steps[..STEPS - 1].iter().all(|s| !s.terminated && !s.truncated));
            let last = steps[STEPS - 1];
            assert!(last.terminated && last.truncated && last.reward == 1.0, "{last:?}");
            found += 1;
        }
    }
    assert_eq!(found, 1, "the fixtures should hold one episode that falls at step 500");
}

/// After the terminating step Gymnasium keeps stepping the physics and pays 0 while the
/// episode is terminated; back inside the limits it pays 1 again, and a second fall pays 0.
#[test]
fn stepping_after_termination_pays_what_gymnasium_pays() {
    let mut env = CartPole::new();
    env.set_state([2.39, 1.0, 0.0, 0.0]);
    let first = env.step(1);
    assert!(first.terminated && first.reward == 1.0, "x = 2.41: {first:?}");
    let after = env.step(1);
    assert!(after.terminated && after.reward == 0.0, "{after:?}");
    // The same from the recorded episode that leaves the track, comes back and falls.
    let fx = Fixture::load("cartpole_episodes.txt");
    let last = fx.get("count").scalar() as usize - 1;
    // One character per step: `yes` where the recorded value is not 0.
    let pattern = |name: &str, yes: char, no: char| -> String {
        let values = &fx.get(&format!("ep{last}.{name}")).values;
        values.iter().map(|&v| if v != 0.0 { yes } else { no }).collect()
    };
    let (flags, rewards) = (pattern("terminated", 'T', '.'), pattern("reward", '1', '0'));
    // Runs of terminated (T) and running (.) steps: ...TTTT.....TTT
    let first_fall = flags.find('T').unwrap();
    let back_on = first_fall + flags[first_fall..].find('.').unwrap();
    let second_fall = back_on + flags[back_on..].find('T').unwrap();
    assert!(flags[second_fall..].chars().all(|c| c == 'T'), "{flags}");
    let expected = format!(
        "{}1{}{}{}",
        "1".repeat(first_fall),
        "0".repeat(back_on - first_fall - 1),
        "1".repeat(second_fall - back_on),
        "0".repeat(flags.len() - second_fall)
    );
    assert_eq!(rewards, expected, "terminated steps:\n{flags}");
}

#[test]
fn invalid_actions_are_refused_and_leave_the_state_alone() {
    let mut env = CartPole::new();
    env.set_state([0.1, -0.2, 0.03, 0.4]);
    for bad in [2, 3, usize::MAX] {
        assert_eq!(env.try_step(bad).unwrap_err(), InvalidAction { action: bad });
        assert_eq!((env.state(), env.elapsed_steps()), ([0.1, -0.2, 0.03, 0.4], 0));
    }
    let message = env.try_step(2).unwrap_err().to_string();
    assert_eq!(message, "cartpole action 2 is not 0 (push left) or 1 (push right)");
    assert!(env.try_step(0).is_ok() && env.try_step(1).is_ok());
    assert_eq!(env.elapsed_steps(), 2);
}

#[test]
#[should_panic(expected = "cartpole action 7 is not 0 (push left) or 1 (push right)")]
fn step_panics_on_an_invalid_action() {
    CartPole::new().step(7);
}

#[test]
#[should_panic(expected = "cartpole state must be finite")]
fn set_state_refuses_nan() {
    CartPole::new().set_state([0.0, f64::NAN, 0.0, 0.0]);
}

/// From rest, upright, the equations reduce to ẍ = F/M + m_p·l·θ̈/M... with sin θ = 0:
/// θ̈ = −F / (l·(4M/3 − m_p)) and ẍ = (F − m_p·l·θ̈) / M, and Euler moves only the speeds.
#[test]
fn one_push_from_rest_follows_the_closed_form() {
    let (m, mp, l, f, tau) = (1.1, 0.1, 0.5, 10.0, 0.02);
    let theta_acc = -f / (l * (4.0 * m / 3.0 - mp));
    let x_acc = (f - mp * l * theta_acc) / m;
    for (action, sign) in [(1, 1.0), (0, -1.0)] {
        let mut env = CartPole::new();
        let step = env.step(action);
        let [x, x_dot, theta, theta_dot] = env.state();
        assert_eq!((x, theta), (0.0, 0.0), "positions move with the old speeds");
        assert!((x_dot - sign * tau * x_acc).abs() < 1e-15, "{x_dot}");
        assert!((theta_dot - sign * tau * theta_acc).abs() < 1e-15, "{theta_dot}");
        assert!(sign * x_dot > 0.0 && sign * theta_dot < 0.0, "the pole tips away from the push");
        assert_eq!((step.reward, step.terminated, step.truncated), (1.0, false, false));
    }
}

/// Column of the first `c` in the line that holds it, and that line's index.
fn find(picture: &str, c: char) -> Option<(usize, usize)> {
    picture
        .lines()
        .enumerate()
        .find_map(|(r, line)| line.chars().position(|x| x == c).map(|col| (r, col)))
}

#[test]
fn render_has_a_fixed_size_and_draws_cart_and_pole_where_they_are() {
    let mut env = CartPole::new();
    let shape =
        |picture: &str| -> Vec<usize> { picture.lines().map(|l| l.chars().count()).collect() };
    let reference = shape(&env.render());
    assert!(reference.iter().all(|&w| w == reference[0]), "{reference:?}");
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..500 {
        let s = [
            rng.random_range(-6.0..6.0),
            rng.random_range(-50.0..50.0),
            rng.random_range(-7.0..7.0),
            0.0,
        ];
        env.set_state(s);
        env.step(rng.random_range(0..2));
        assert_eq!(shape(&env.render()), reference, "state {s:?}\n{}", env.render());
    }
    // The cart moves with x; the track limits stay put.
    let cart_at = |env: &mut CartPole, x: f64| {
        env.set_state([x, 0.0, 0.0, 0.0]);
        let (row, col) = find(&env.render(), '[').unwrap();
        (row, col + 2) // the middle of "[===]"
    };
    let (cart_row, centre) = cart_at(&mut env, 0.0);
    assert_eq!(cart_at(&mut env, 1.0), (cart_row, centre + 10));
    assert_eq!(cart_at(&mut env, -2.4), (cart_row, centre - 24));
    assert_eq!(cart_at(&mut env, 100.0), cart_at(&mut env, 2.8), "kept in the picture");
    let track = env.render().lines().nth(cart_row + 1).unwrap().to_string();
    let limits: Vec<usize> =
        track.char_indices().filter(|&(_, c)| c == '|').map(|(i, _)| i).collect();
    assert_eq!(limits, [centre - 24, centre + 24], "{track}");
    // The pole leans with θ: its tip is above the cart when upright, right of it when θ > 0.
    let tip = |env: &mut CartPole, theta: f64| {
        env.set_state([0.0, 0.0, theta, 0.0]);
        let (row, col) = find(&env.render(), 'o').unwrap();
        (cart_row as i64 - row as i64, col as i64 - centre as i64)
    };
    assert_eq!(tip(&mut env, 0.0), (5, 0), "upright\n{}", env.render());
    let (up, right) = tip(&mut env, 0.2);
    assert!(up == 5 && right == 2, "12 degrees right: {up}, {right}\n{}", env.render());
    assert_eq!(tip(&mut env, -0.2), (5, -2), "12 degrees left\n{}", env.render());
    assert_eq!(tip(&mut env, 1.4), (1, 9), "80 degrees, nearly flat\n{}", env.render());
    assert!(tip(&mut env, 0.8).1 > tip(&mut env, 0.4).1, "leaning further reaches further");
    // The status line names x, θ in degrees and the last push.
    env.set_state([1.25, 0.0, -0.1, 0.0]);
    assert!(env.render().contains("    -     "), "no action yet");
    env.step(0);
    let status = env.render().lines().last().unwrap().to_string();
    assert!(
        status.contains("x  +1.25 m")
            && status.contains("theta    -5.7 deg")
            && status.contains("push left"),
        "{status}"
    );
}
