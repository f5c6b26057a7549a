//! Chapter 10 (part): evaluating a policy.
//!
//! Training reports the returns of the stochastic policy, noise included. What a trained agent
//! is worth is the return of its deterministic policy (the distribution's most likely action)
//! over fresh episodes, from starting states that training never drew.

use crate::config::DistributionKind;
use crate::distributions::Distribution;
use crate::env::{Action, ActionSpace, Env};
use crate::nn::{Actor, Workspace};
use crate::normalize::RunningStats;
use rand::SeedableRng;
use rand::rngs::StdRng;

// ANCHOR: evaluate
/// Evaluation episodes start from a generator seeded with the training seed plus this
/// offset: a stream of initial states disjoint from anything training drew.
pub const EVAL_SEED_OFFSET: u64 = 1_000_000_007;

/// The seed of the evaluation of a run trained with `seed`.
pub fn evaluation_seed(seed: u64) -> u64 {
    seed.wrapping_add(EVAL_SEED_OFFSET)
}

/// The result of evaluating a policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Return of each episode.
    pub returns: Vec<f64>,
    /// Mean return.
    pub mean: f64,
    /// Standard deviation of the returns (population, as NumPy's `std`).
    pub std: f64,
}

// ANCHOR_END: evaluate

// ANCHOR: evaluate_entry
/// Runs one episode in each of `envs` with the deterministic policy (the distribution's most
/// likely action: the mean of a Normal, the likeliest choice of a Categorical), all episodes in
/// lockstep as one batch, from initial states drawn with `seed`. The distribution is the one
/// the actor's head parametrizes over the environments' action space.
///
/// # Panics
/// If `envs` is empty, or the actor does not fit the environments.
pub fn evaluate<E: Env>(actor: &Actor, envs: Vec<E>, seed: u64) -> Evaluation {
    evaluate_normalized(actor, None, envs, seed)
}

/// [`evaluate`] for an actor trained on normalized observations: each observation is
/// normalized with `observation_stats`, frozen, before the actor sees it.
///
/// # Panics
/// As [`evaluate`].
pub fn evaluate_normalized<E: Env>(
    actor: &Actor,
    observation_stats: Option<&RunningStats>,
    envs: Vec<E>,
    seed: u64,
) -> Evaluation {
    assert!(!envs.is_empty(), "evaluate needs at least one environment");
    let distribution = deterministic_distribution(actor, envs[0].action_space());
    evaluate_with(actor, &*distribution, observation_stats, envs, seed)
}

// ANCHOR_END: evaluate_entry

// ANCHOR: evaluate_with
/// [`evaluate_normalized`] with the distribution given.
///
/// # Panics
/// If `envs` is empty.
pub fn evaluate_with<E: Env>(
    actor: &Actor,
    distribution: &dyn Distribution,
    observation_stats: Option<&RunningStats>,
    envs: Vec<E>,
    seed: u64,
) -> Evaluation {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut envs = envs;
    let count = envs.len();
    assert!(count > 0, "evaluate needs at least one environment");
    let (obs_size, width) = (envs[0].obs_size(), distribution.sample_width());
    let mut observations = Vec::with_capacity(count * obs_size);
    for env in &mut envs {
        observations.extend_from_slice(env.reset(&mut rng).as_ref());
    }
    let [w1, w2] = actor.output_widths();
    let mut outputs = [vec![0.0; count * w1], vec![0.0; count * w2]];
    let (mut sample, mut action) = (vec![0.0; width], vec![0.0; width]);
    let mut workspace = Workspace::new();
    let mut returns = vec![0.0f64; count];
    let mut running = vec![true; count];
    let mut seen = observations.clone();
    while running.iter().any(|&r| r) {
        let [first, second] = &mut outputs;
        seen.copy_from_slice(&observations);
        if let Some(stats) = observation_stats {
            stats.normalize(&mut seen);
        }
        actor.forward(&seen, &mut workspace, first, second);
        let episodes = returns.iter_mut().zip(running.iter_mut());
        for (i, ((env, obs), (total, alive))) in
            envs.iter_mut().zip(observations.chunks_exact_mut(obs_size)).zip(episodes).enumerate()
        {
            if *alive {
                let params = [&first[i * w1..][..w1], &second[i * w2..][..w2]];
                distribution.mode(&params, &mut sample);
                distribution.to_action(&sample, &mut action);
                let step = env.step(E::Action::from_row(&action));
                *total += step.reward;
                obs.copy_from_slice(step.obs.as_ref());
                *alive = !(step.terminated || step.truncated);
            }
        }
    }
    let n = count as f64;
    let mean_return = returns.iter().sum::<f64>() / n;
    let variance = returns.iter().map(|r| (r - mean_return).powi(2)).sum::<f64>() / n;
    Evaluation { mean: mean_return, std: variance.sqrt(), returns }
}
// ANCHOR_END: evaluate_with

/// The distribution whose most likely action is the deterministic policy of `actor` over
/// `space`: the head alone decides it.
///
/// # Panics
/// If the head does not fit the action space.
pub fn deterministic_distribution(actor: &Actor, space: ActionSpace<'_>) -> Box<dyn Distribution> {
    let head = actor.config().head;
    DistributionKind::of_head(head)
        .over(space)
        .unwrap_or_else(|e| panic!("an actor with a {head:?} head does not fit: {e}"))
}
