//! Running statistics against Gymnasium's: the parallel-variance merge batch after batch,
//! normalized observations, rewards scaled by the spread of the discounted return; and the
//! trainer and evaluation reading them.

mod common;

use common::Fixture;
use ppo::Pendulum;
use ppo::normalize::{RewardScaler, RunningStats};
use ppo::ppo::{Config, Trainer, evaluate, evaluate_normalized};

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{what}: {a} vs {b}");
}

#[test]
fn observation_statistics_match_gymnasiums_batch_after_batch() {
    let f = Fixture::load("normalize.txt");
    let mut stats = RunningStats::new(3);
    for i in 0..f.get("obs.batches").scalar() as usize {
        let batch = f.get(&format!("obs.batch.{i}")).f32s();
        stats.update(&batch);
        for (d, (&mean, &var)) in stats.mean.iter().zip(&stats.var).enumerate() {
            close(mean, f.get(&format!("obs.mean.{i}")).values[d], &format!("batch {i} mean {d}"));
            close(var, f.get(&format!("obs.var.{i}")).values[d], &format!("batch {i} var {d}"));
        }
        close(stats.count, f.get(&format!("obs.count.{i}")).scalar(), "count");
        let mut normalized = batch.clone();
        stats.normalize(&mut normalized);
        // Rounded to f32 from the same f64 arithmetic: equal, or one rounding apart.
        for (j, (&ours, theirs)) in
            normalized.iter().zip(f.get(&format!("obs.normalized.{i}")).f32s()).enumerate()
        {
            assert!(
                (ours - theirs).abs() <= f32::EPSILON * theirs.abs().max(1.0),
                "batch {i} value {j}: {ours} vs {theirs}"
            );
        }
    }
    // The constant component normalizes to 0, not to a division by zero.
    assert!(stats.var[2] < 1e-3);
}

#[test]
fn rewards_are_scaled_as_gymnasiums_normalize_reward_scales_them() {
    let f = Fixture::load("normalize.txt");
    let rewards = f.get("reward.rewards");
    let (steps, envs) = (rewards.shape[0], rewards.shape[1]);
    let terminated: Vec<bool> =
        f.get("reward.terminated").values.iter().map(|&x| x == 1.0).collect();
    let expected = f.get("reward.scaled").f32s();
    let mut scaler = RewardScaler::new(envs, f.get("reward.gamma").scalar() as f32);
    let all = rewards.f32s();
    let mut clipped = 0;
    for t in 0..steps {
        let mut step = all[t * envs..(t + 1) * envs].to_vec();
        scaler.scale(&mut step, &terminated[t * envs..(t + 1) * envs]);
        for (e, (&ours, &theirs)) in step.iter().zip(&expected[t * envs..]).enumerate() {
            assert!(
                (ours - theirs).abs() <= 4.0 * f32::EPSILON * theirs.abs().max(1.0),
                "step {t} env {e}: {ours} vs {theirs}"
            );
            clipped += usize::from(theirs.abs() == 10.0);
        }
    }
    assert!(clipped > 0, "the burst of large rewards reaches the clip");
}

#[test]
fn a_return_of_no_spread_scales_by_the_epsilon_not_by_zero() {
    // After a long run of identical returns the spread is ~0: the ε under the root keeps the
    // scale at about 1e-4 (so a tiny reward is scaled up, not divided by zero into NaN).
    let mut scaler = RewardScaler::new(1, 0.99);
    scaler.stats = RunningStats { mean: vec![0.0], var: vec![0.0], count: 1e12 };
    let mut reward = [1e-6_f32];
    scaler.scale(&mut reward, &[false]);
    let expected = 1e-6 / (scaler.stats.var[0] + 1e-8).sqrt();
    assert!(
        (f64::from(reward[0]) - expected).abs() < 1e-6 * expected,
        "{} vs {expected}",
        reward[0]
    );
    assert!((reward[0] - 1e-2).abs() < 1e-4, "about 1e-6 / 1e-4: {}", reward[0]);
}

fn normalizing(total_timesteps: usize) -> Config {
    Config {
        total_timesteps,
        num_envs: 2,
        rollout_steps: 128,
        minibatch_size: 64,
        normalize_observations: true,
        normalize_rewards: true,
        ..Config::default()
    }
}

#[test]
fn the_trainer_gathers_observation_statistics_and_evaluation_uses_them_frozen() {
    let mut trainer = Trainer::new(normalizing(512), vec![Pendulum::new(); 2]);
    while !trainer.is_done() {
        trainer.iterate().expect("a short run");
    }
    let stats = trainer.observation_stats().expect("normalized observations have statistics");
    // Every observation of the 512 steps, and the 1e-4 of a prior.
    close(stats.count, 512.0 + 1e-4, "count");
    // cos θ and sin θ of a swinging pendulum average well inside [−1, 1], with spread.
    assert!(stats.mean.iter().all(|m| m.abs() < 1.0) && stats.var[..2].iter().all(|&v| v > 0.05));
    let frozen = stats.clone();
    let envs = || vec![Pendulum::new(); 5];
    let with = evaluate_normalized(trainer.actor(), Some(&frozen), envs(), 9);
    let again = evaluate_normalized(trainer.actor(), Some(&frozen), envs(), 9);
    assert_eq!(with, again, "evaluation does not update the statistics");
    let without = evaluate(trainer.actor(), envs(), 9);
    assert_ne!(with.returns, without.returns, "the actor sees other inputs without them");
    assert_eq!(trainer.evaluate(envs(), 9), with, "the trainer evaluates with its statistics");
    // Off, there are none.
    let plain = Trainer::new(
        Config { normalize_observations: false, ..normalizing(256) },
        vec![Pendulum::new(); 2],
    );
    assert!(plain.observation_stats().is_none());
}
