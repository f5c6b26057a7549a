//! GRPO (Group Relative Policy Optimization): PPO's update without a critic.
//!
//! Language models are trained this way: for one prompt, sample a group of completions,
//! score each with a reward model, and let each completion's advantage be its score compared
//! with the others' (normalized within the group). Here the prompt is an episode's start
//! state (every environment of a group is reset with the same randomness, see
//! [`VecEnv::reset_groups`](crate::env::VecEnv::reset_groups)), a completion is one episode,
//! and its score is the episode's return. Every step of the episode gets that one advantage:
//! no value function, no bootstrapping, no credit assigned within the episode.
//!
//! The trainer ([`Trainer`](crate::ppo::Trainer) with `grpo_group` set) collects a rollout
//! as usual, then [`group_advantages`] replaces GAE; the clipped objective is unchanged, and
//! [`reference_penalty`] optionally keeps the policy near where it started.

use crate::autodiff::{Tape, Var};
use crate::gae::normalize;

// ANCHOR: group_advantages
/// One GRPO rollout's advantages, and which transitions belong to an episode.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupAdvantages {
    /// Per transition (step-major, `step * envs + env`): the return of the episode it belongs
    /// to, normalized within its group; 0 for a transition after that episode ended.
    pub advantages: Vec<f32>,
    /// The transitions that belong to each environment's first episode, in order: the ones
    /// to learn from. An environment whose episode ended early went on into another episode
    /// (the rollout steps every environment together); those steps count as collected, but
    /// belong to no group.
    pub rows: Vec<usize>,
    /// Each environment's episode return (unscaled by normalization, as collected).
    pub returns: Vec<f64>,
}

/// Advantages for a rollout of `steps` steps of `envs` environments whose runs of `group`
/// consecutive environments started from one state: `rewards` and `ends` (terminated or
/// truncated) step-major. Each environment's episode is its steps up to its first end, or to
/// the end of the rollout; its advantage is its return minus the group's mean, over the
/// group's standard deviation ([`normalize`], as PPO normalizes advantages).
///
/// # Panics
/// If the lengths do not match `steps × envs`, or `group` does not divide `envs`.
pub fn group_advantages(
    rewards: &[f32],
    ends: &[bool],
    envs: usize,
    group: usize,
) -> GroupAdvantages {
    assert!(group > 0 && envs.is_multiple_of(group), "groups of {group} do not divide {envs} envs");
    assert_eq!(rewards.len(), ends.len(), "rewards and ends differ in length");
    assert_eq!(rewards.len() % envs, 0, "a rollout of {} is not whole steps", rewards.len());
    let steps = rewards.len() / envs;
    // The length of each environment's first episode.
    let lengths: Vec<usize> = (0..envs)
        .map(|env| (0..steps).find(|&t| ends[t * envs + env]).map_or(steps, |t| t + 1))
        .collect();
    let returns: Vec<f64> = (0..envs)
        .map(|env| (0..lengths[env]).map(|t| f64::from(rewards[t * envs + env])).sum())
        .collect();
    let mut scores: Vec<f32> = returns.iter().map(|&r| r as f32).collect();
    for members in scores.chunks_mut(group) {
        normalize(members);
    }
    let mut advantages = vec![0.0; rewards.len()];
    let mut rows = Vec::with_capacity(rewards.len());
    for t in 0..steps {
        for env in (0..envs).filter(|&env| t < lengths[env]) {
            advantages[t * envs + env] = scores[env];
            rows.push(t * envs + env);
        }
    }
    GroupAdvantages { advantages, rows, returns }
}
// ANCHOR_END: group_advantages

// ANCHOR: reference_penalty
/// The mean over a minibatch of an unbiased, never negative estimate of the KL divergence
/// from the current policy to the reference one, `KL(π_θ ‖ π_ref)`, for actions sampled from
/// the collecting policy: with `d = ln π_ref(a|s) − ln π_θ(a|s)`, `e^d − d − 1` (the estimator
/// DeepSeekMath's GRPO uses; it is 0 where the two policies agree, and its gradient pulls
/// `ln π_θ` toward `ln π_ref`).
pub fn reference_penalty(tape: &mut Tape, log_probs: Var, reference_log_probs: Var) -> Var {
    let d = tape.sub(reference_log_probs, log_probs);
    let ratio = tape.exp(d);
    let excess = tape.sub(ratio, d);
    let shifted = tape.add_scalar(excess, -1.0);
    tape.mean(shifted)
}
// ANCHOR_END: reference_penalty
