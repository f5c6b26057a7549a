//! GAE against hand-computed cases and against its definition as a discounted sum of TD
//! errors (a different formula from the backward recursion the crate uses).

use ppo::gae::{GaeParams, Rollout, RolloutBuffer, TimeLimit, Transition, compute_gae, normalize};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

struct Case {
    rewards: Vec<f32>,
    values: Vec<f32>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    truncation_values: Vec<f32>,
    last_values: Vec<f32>,
    envs: usize,
}

impl Case {
    fn single(rewards: &[f32], values: &[f32], last_value: f32) -> Case {
        let n = rewards.len();
        Case {
            rewards: rewards.to_vec(),
            values: values.to_vec(),
            terminated: vec![false; n],
            truncated: vec![false; n],
            truncation_values: vec![f32::NAN; n], // must never be read where not truncated
            last_values: vec![last_value],
            envs: 1,
        }
    }

    fn run(&self, gamma: f32, lambda: f32, time_limit: TimeLimit) -> (Vec<f32>, Vec<f32>) {
        let n = self.rewards.len();
        let (mut advantages, mut returns) = (vec![0.0; n], vec![0.0; n]);
        let rollout = Rollout {
            envs: self.envs,
            rewards: &self.rewards,
            values: &self.values,
            terminated: &self.terminated,
            truncated: &self.truncated,
            truncation_values: &self.truncation_values,
            last_values: &self.last_values,
        };
        compute_gae(
            &rollout,
            GaeParams { gamma, lambda, time_limit },
            &mut advantages,
            &mut returns,
        );
        (advantages, returns)
    }
}

fn assert_close(actual: &[f32], expected: &[f32]) {
    assert_eq!(actual.len(), expected.len());
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= 1e-5 * (1.0 + e.abs()),
            "element {i}: {a} vs {e} (all: {actual:?})"
        );
    }
}

// ANCHOR: hand_no_ends
#[test]
fn gae_without_episode_ends_by_hand() {
    // γ = 0.5, λ = 0.5, so γλ = 0.25.
    // δ2 = 1 + 0.5·4 − 3 = 0;  δ1 = 2 + 0.5·3 − 2 = 1.5;  δ0 = 3 + 0.5·2 − 1 = 3
    // A2 = 0;  A1 = 1.5 + 0.25·0 = 1.5;  A0 = 3 + 0.25·1.5 = 3.375
    let case = Case::single(&[3.0, 2.0, 1.0], &[1.0, 2.0, 3.0], 4.0);
    let (adv, ret) = case.run(0.5, 0.5, TimeLimit::Bootstrap);
    assert_close(&adv, &[3.375, 1.5, 0.0]);
    assert_close(&ret, &[4.375, 3.5, 3.0]);
}
// ANCHOR_END: hand_no_ends

// ANCHOR: hand_termination
#[test]
fn gae_termination_in_the_middle_by_hand() {
    // Episode ends in a terminal state after step 1; steps 2–3 are a new episode.
    // γ = 0.9, λ = 0.5, γλ = 0.45.
    // δ3 = 1 + 0.9·10 − 2 = 8           A3 = 8
    // δ2 = 1 + 0.9·2 − 1 = 1.8          A2 = 1.8 + 0.45·8 = 5.4
    // δ1 = −1 + 0 − 0.5 = −1.5          A1 = −1.5 (nothing flows back across the end)
    // δ0 = 0 + 0.9·0.5 − 1 = −0.55      A0 = −0.55 + 0.45·(−1.5) = −1.225
    let mut case = Case::single(&[0.0, -1.0, 1.0, 1.0], &[1.0, 0.5, 1.0, 2.0], 10.0);
    case.terminated[1] = true;
    let (adv, _) = case.run(0.9, 0.5, TimeLimit::Bootstrap);
    assert_close(&adv, &[-1.225, -1.5, 5.4, 8.0]);
}
// ANCHOR_END: hand_termination

// ANCHOR: hand_truncation
#[test]
fn gae_truncation_in_the_middle_bootstraps_from_the_final_observation() {
    // Same as above but the episode is cut off after step 1, where V(s_final) = 4.
    // δ1 = −1 + 0.9·4 − 0.5 = 2.1       A1 = 2.1 (recursion still stops at the boundary)
    // δ0 = 0 + 0.9·0.5 − 1 = −0.55      A0 = −0.55 + 0.45·2.1 = 0.395
    let mut case = Case::single(&[0.0, -1.0, 1.0, 1.0], &[1.0, 0.5, 1.0, 2.0], 10.0);
    case.truncated[1] = true;
    case.truncation_values[1] = 4.0;
    let (adv, _) = case.run(0.9, 0.5, TimeLimit::Bootstrap);
    assert_close(&adv, &[0.395, 2.1, 5.4, 8.0]);

    // Treating the time limit as terminal drops the bootstrap: back to the terminal case.
    let (adv, _) = case.run(0.9, 0.5, TimeLimit::AsTerminal);
    assert_close(&adv, &[-1.225, -1.5, 5.4, 8.0]);
}
// ANCHOR_END: hand_truncation

#[test]
fn gae_with_gamma_zero_is_reward_minus_value() {
    let mut case = Case::single(&[1.0, -2.0, 3.0], &[0.5, 0.5, -1.0], 7.0);
    case.truncated[1] = true;
    case.truncation_values[1] = 100.0;
    let (adv, ret) = case.run(0.0, 0.95, TimeLimit::Bootstrap);
    assert_close(&adv, &[0.5, -2.5, 4.0]);
    assert_close(&ret, &[1.0, -2.0, 3.0]);
}

// ANCHOR: lambda_ends
#[test]
fn gae_with_lambda_zero_is_the_td_error() {
    // A_t = δ_t = r_t + γ·V(s_{t+1}) − V(s_t), γ = 0.5.
    let case = Case::single(&[1.0, 2.0, 3.0], &[1.0, 2.0, 4.0], 8.0);
    let (adv, _) = case.run(0.5, 0.0, TimeLimit::Bootstrap);
    assert_close(&adv, &[1.0, 2.0, 3.0]);
}

#[test]
fn gae_with_lambda_one_is_the_monte_carlo_return_minus_value() {
    // γ = λ = 1: A_t = (r_t + … + r_end + V(s_after)) − V(s_t); returns are the plain sums.
    let mut case = Case::single(&[1.0, 2.0, 3.0, 4.0], &[0.5, 1.5, 2.5, 3.5], 10.0);
    case.terminated[1] = true;
    let (adv, ret) = case.run(1.0, 1.0, TimeLimit::Bootstrap);
    assert_close(&ret, &[3.0, 2.0, 17.0, 14.0]);
    assert_close(&adv, &[2.5, 0.5, 14.5, 10.5]);
}
// ANCHOR_END: lambda_ends

// ANCHOR: definition
/// The definition: `A_t = Σ_k (γλ)^k δ_{t+k}`, summed forward until the episode ends.
fn gae_by_definition(case: &Case, gamma: f32, lambda: f32, time_limit: TimeLimit) -> Vec<f32> {
    let (n, envs) = (case.rewards.len(), case.envs);
    let as_terminal = time_limit == TimeLimit::AsTerminal;
    let delta = |t: usize| {
        let next = if case.terminated[t] || (case.truncated[t] && as_terminal) {
            0.0
        } else if case.truncated[t] {
            case.truncation_values[t]
        } else if t + envs < n {
            case.values[t + envs]
        } else {
            case.last_values[t % envs]
        };
        case.rewards[t] as f64 + gamma as f64 * next as f64 - case.values[t] as f64
    };
    (0..n)
        .map(|t| {
            let mut sum = 0.0;
            let mut weight = 1.0;
            let mut u = t;
            loop {
                sum += weight * delta(u);
                if case.terminated[u] || case.truncated[u] || u + envs >= n {
                    break;
                }
                weight *= gamma as f64 * lambda as f64;
                u += envs;
            }
            sum as f32
        })
        .collect()
}

#[test]
fn gae_matches_its_definition_on_random_rollouts_of_several_envs() {
    let mut rng = StdRng::seed_from_u64(5);
    for envs in [1, 3, 8] {
        let n = 40 * envs;
        let case = Case {
            rewards: (0..n).map(|_| rng.random_range(-16.0..0.0)).collect(),
            values: (0..n).map(|_| rng.random_range(-50.0..0.0)).collect(),
            terminated: (0..n).map(|_| rng.random_bool(0.05)).collect(),
            truncated: (0..n).map(|_| rng.random_bool(0.05)).collect(),
            truncation_values: (0..n).map(|_| rng.random_range(-50.0..0.0)).collect(),
            last_values: (0..envs).map(|_| rng.random_range(-50.0..0.0)).collect(),
            envs,
        };
        for (gamma, lambda) in [(0.99, 0.95), (0.9, 0.0), (1.0, 1.0), (0.0, 0.5)] {
            for time_limit in [TimeLimit::Bootstrap, TimeLimit::AsTerminal] {
                let (adv, ret) = case.run(gamma, lambda, time_limit);
                assert_close(&adv, &gae_by_definition(&case, gamma, lambda, time_limit));
                let expected_returns: Vec<f32> =
                    adv.iter().zip(&case.values).map(|(a, v)| a + v).collect();
                assert_close(&ret, &expected_returns);
            }
        }
    }
}
// ANCHOR_END: definition

#[test]
fn normalize_gives_mean_zero_and_unit_sample_std() {
    // [1, 2, 3, 4]: mean 2.5, sample std √(5/3).
    let mut values = vec![1.0, 2.0, 3.0, 4.0];
    normalize(&mut values);
    let s = (5.0f32 / 3.0).sqrt();
    assert_close(&values, &[-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]);
    // Two values are the smallest batch with a sample deviation: [1, 3] has mean 2 and
    // sample std √2.
    let mut two = vec![1.0, 3.0];
    normalize(&mut two);
    assert_close(&two, &[-std::f32::consts::FRAC_1_SQRT_2, std::f32::consts::FRAC_1_SQRT_2]);
    // Equal values: the 1e-8 keeps the result finite (all zero).
    let mut equal = vec![3.0; 5];
    normalize(&mut equal);
    assert_eq!(equal, [0.0; 5]);
    // A spread comparable to the 1e-8 is damped, not blown up: [0, 1e-8] has deviations
    // ±0.5e-8 and std 1e-8/√2, so each becomes ±0.5 / (1/√2 + 1) = ±(1 − 1/√2).
    let mut tiny = vec![0.0, 1e-8];
    normalize(&mut tiny);
    let damped = 1.0 - std::f32::consts::FRAC_1_SQRT_2;
    assert_close(&tiny, &[-damped, damped]);
}

#[test]
fn normalize_of_fewer_than_two_values_gives_zeros() {
    // A rollout of one transition is a valid configuration: its advantage normalizes to 0
    // (no deviation to divide by), not to NaN.
    let mut one = vec![-7.5];
    normalize(&mut one);
    assert_eq!(one, [0.0]);
    let mut none: Vec<f32> = Vec::new();
    normalize(&mut none);
    assert!(none.is_empty());
}

#[test]
fn buffer_fills_computes_and_clears_without_reallocating() {
    let (steps, envs) = (3, 2);
    let mut buffer = RolloutBuffer::new(steps, envs, 3, 2);
    assert_eq!((buffer.steps(), buffer.envs(), buffer.capacity()), (3, 2, 6));
    assert_eq!((buffer.obs_size(), buffer.action_size()), (3, 2));
    let fill = |buffer: &mut RolloutBuffer| {
        for s in 0..steps {
            let r = s as f32;
            assert!(!buffer.is_full(), "full after {s} of {steps} steps");
            buffer.push(Transition {
                observations: &[r; 6],
                actions: &[r, -r, 10.0 + r, -10.0 - r],
                log_probs: &[-1.0, -2.0],
                values: &[0.0, 1.0],
                rewards: &[1.0, 1.0],
                terminated: &[false, false],
                truncated: &[false, s == 1],
                truncation_values: &[0.0, 5.0],
            });
        }
    };
    fill(&mut buffer);
    assert!(buffer.is_full());
    // Stored step-major: step s of env e at index s·envs + e.
    assert_eq!(buffer.observations[6..12], [1.0; 6]);
    assert_eq!(buffer.actions[4..8], [1.0, -1.0, 11.0, -11.0]);
    assert_eq!(buffer.log_probs, [-1.0, -2.0, -1.0, -2.0, -1.0, -2.0]);
    assert_eq!(buffer.truncated, [false, false, false, true, false, false]);
    assert_eq!(buffer.truncation_values[3], 5.0);
    buffer.compute_advantages(
        &[0.0, 0.0],
        GaeParams { gamma: 1.0, lambda: 1.0, time_limit: TimeLimit::Bootstrap },
    );
    // Env 0: rewards 1, 1, 1 with values 0 and last value 0: A = 3, 2, 1.
    // Env 1 (index 1, 3, 5): truncated at step 1 with V(final) = 5: A1 = 1 + 5 − 1 = 5,
    // A0 = (1 + 1 − 1) + A1 = 6; step 2: 1 + 0 − 1 = 0.
    assert_close(&buffer.advantages, &[3.0, 6.0, 2.0, 5.0, 1.0, 0.0]);
    // Returns are advantages plus the collection-time values (0 for env 0, 1 for env 1).
    assert_close(&buffer.returns, &[3.0, 7.0, 2.0, 6.0, 1.0, 1.0]);
    let capacity = buffer.observations.capacity();
    buffer.clear();
    assert!(!buffer.is_full() && buffer.observations.is_empty());
    fill(&mut buffer);
    assert_eq!(buffer.observations.capacity(), capacity);
}

#[test]
#[should_panic(expected = "rollout buffer is full")]
fn buffer_rejects_a_push_past_its_size() {
    let mut buffer = RolloutBuffer::new(1, 1, 1, 1);
    let t = Transition {
        observations: &[0.0],
        actions: &[0.0],
        log_probs: &[0.0],
        values: &[0.0],
        rewards: &[0.0],
        terminated: &[false],
        truncated: &[false],
        truncation_values: &[0.0],
    };
    let again = Transition { ..t };
    buffer.push(t);
    buffer.push(again);
}

#[test]
fn an_ignored_time_limit_is_no_episode_end() {
    // A truncation flag at step 1 of 3 is read as nothing at all: GAE runs through it as
    // through any other step, exactly as if the flag were not there.
    let rollout = |truncated: [bool; 3]| {
        let (mut advantages, mut returns) = ([0.0f32; 3], [0.0f32; 3]);
        let r = Rollout {
            envs: 1,
            rewards: &[1.0, -2.0, 0.5],
            values: &[0.3, -0.4, 0.8],
            terminated: &[false; 3],
            truncated: &truncated,
            truncation_values: &[9.0; 3],
            last_values: &[0.25],
        };
        compute_gae(
            &r,
            GaeParams { gamma: 0.9, lambda: 0.8, time_limit: TimeLimit::Ignore },
            &mut advantages,
            &mut returns,
        );
        (advantages, returns)
    };
    assert_eq!(rollout([false, true, false]), rollout([false; 3]));
    // By hand: δ = r + 0.9·V' − V, A = δ + 0.72·A'.
    let (advantages, _) = rollout([false, true, false]);
    let deltas = [1.0 + 0.9 * -0.4 - 0.3, -2.0 + 0.9 * 0.8 + 0.4, 0.5 + 0.9 * 0.25 - 0.8];
    let a2 = deltas[2];
    let a1 = deltas[1] + 0.72 * a2;
    let a0 = deltas[0] + 0.72 * a1;
    for (got, want) in advantages.iter().zip([a0, a1, a2]) {
        assert!((got - want).abs() < 1e-6, "{advantages:?}");
    }
}
