//! Chapter 6: environments.
//!
//! PPO learns by acting in an environment and watching what happens. The [`Env`] trait is all
//! the trainer knows of one: the size of an observation, the kind of action it takes (its
//! [`ActionSpace`]), how to start an episode and how to take a step. [`VecEnv`] steps several
//! environments together and resets them automatically, keeping what PPO needs from an
//! episode that just ended.
//!
//! Actions come in two kinds. A *continuous* action is a vector of numbers inside a box (the
//! pendulum's torque in [−2, 2]); a *discrete* one is a choice among `n` (CartPole's push left
//! or right). The policy writes either as a row of `f32` (a discrete choice as its index),
//! because that row is what the rollout buffer stores and the tape reads back; each
//! environment says, through its [`Action`] type, how such a row becomes the action it takes.
//! The trainer therefore never asks which kind it is dealing with.

use rand::Rng;

// ANCHOR: action_space
/// The actions an environment accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ActionSpace<'a> {
    /// A vector of `low.len()` numbers, each within `[low[i], high[i]]` (an environment clips
    /// what lies outside, as Gymnasium's `Box` environments do).
    Continuous {
        /// Smallest meaningful value of each component.
        low: &'a [f32],
        /// Largest meaningful value of each component.
        high: &'a [f32],
    },
    /// One of `choices` actions, numbered from 0.
    Discrete {
        /// How many actions there are.
        choices: usize,
    },
}

impl ActionSpace<'_> {
    /// Values in the policy's row for one action: the dimension of a box, 1 for a choice.
    pub fn width(&self) -> usize {
        match self {
            ActionSpace::Continuous { low, .. } => low.len(),
            ActionSpace::Discrete { .. } => 1,
        }
    }
}
// ANCHOR_END: action_space

// ANCHOR: action
/// How an action is read from the policy's row of `f32`.
///
/// `[f32; N]` serves continuous environments and `usize` discrete ones; an environment of
/// your own picks the one that matches its [`ActionSpace`].
pub trait Action: Sized {
    /// Values in the row: `N` for `[f32; N]`, 1 for a discrete choice.
    const WIDTH: usize;

    /// The action the row `row` (of [`Self::WIDTH`] values) stands for.
    fn from_row(row: &[f32]) -> Self;
}

impl<const N: usize> Action for [f32; N] {
    const WIDTH: usize = N;
    fn from_row(row: &[f32]) -> Self {
        row.try_into().unwrap_or_else(|_| panic!("an action row of {} values, not {N}", row.len()))
    }
}

/// A discrete choice travels as its index written as an `f32`, exact for any index below
/// 2²⁴; rounding (rather than truncating) guards against a value one ulp off.
impl Action for usize {
    const WIDTH: usize = 1;
    fn from_row(row: &[f32]) -> Self {
        assert!(
            row.len() == 1 && row[0] >= 0.0 && row[0].is_finite(),
            "a discrete action row holds one index, got {row:?}"
        );
        row[0].round() as usize
    }
}
// ANCHOR_END: action

// ANCHOR: env
/// An environment, as PPO sees it.
///
/// The trait is dyn-compatible (`Box<dyn Env<Obs = [f32; 3], Action = [f32; 1]>>` works):
/// the random generator is passed as `&mut dyn Rng` rather than as a generic parameter, which
/// costs one indirect call per reset and nothing per step.
pub trait Env {
    /// What `reset` and `step` return; a fixed-size array avoids a heap allocation per step.
    type Obs: AsRef<[f32]>;

    /// What `step` takes: `[f32; N]` for a box of `N` numbers, `usize` for a choice.
    type Action: Action;

    /// Number of values in an observation.
    fn obs_size(&self) -> usize;

    /// The actions this environment accepts; its width must be [`Action::WIDTH`].
    fn action_space(&self) -> ActionSpace<'_>;

    /// Starts a new episode from a random initial state and returns its first observation.
    fn reset(&mut self, rng: &mut dyn Rng) -> Self::Obs;

    /// Applies one action and advances time by one step.
    ///
    /// # Panics
    ///
    /// Implementations panic if the action is not usable (for the pendulum: not finite; for
    /// CartPole: not 0 or 1).
    fn step(&mut self, action: Self::Action) -> Step<Self::Obs>;
}

/// The outcome of one step.
///
/// `terminated` means the episode reached a terminal state: nothing follows, its value is 0.
/// `truncated` means the episode was cut off by the time limit: the state still has a future,
/// so a learner should bootstrap from the value of `obs`. The pendulum never terminates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step<O = [f32; 3]> {
    /// The observation after the step.
    pub obs: O,
    /// The reward for the step, in `f64` as Gymnasium returns it.
    pub reward: f64,
    /// The episode ended in a terminal state.
    pub terminated: bool,
    /// The episode was cut off by the time limit.
    pub truncated: bool,
}
// ANCHOR_END: env

/// One finished episode, for logging.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Episode {
    /// Sum of the episode's rewards (the undiscounted return).
    pub total_reward: f64,
    /// Number of steps in the episode.
    pub length: usize,
}

/// N environments stepped together, each reset automatically when its episode ends.
///
/// Observations, action rows and rewards are flat, env-major: env `i` owns
/// `obs[i * obs_size..(i + 1) * obs_size]` and `actions[i * width..(i + 1) * width]`, where
/// `width` is [`Action::WIDTH`] of the environments' action type. Nothing is allocated per
/// step (the finished episode log only grows if it is never drained).
///
/// A truncation ends an episode, unless [`ignore_time_limits`](Self::ignore_time_limits) says
/// otherwise: then an environment runs on past its time limit, one endless episode, as code
/// that reads only `terminated` and never resets would have it.
#[derive(Debug, Clone)]
pub struct VecEnv<E: Env> {
    envs: Vec<E>,
    obs_size: usize,
    action_width: usize,
    obs: Vec<f32>,
    next_obs: Vec<f32>,
    rewards: Vec<f32>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    running_return: Vec<f64>,
    running_length: Vec<usize>,
    finished: Vec<Episode>,
    started: bool,
    /// With time limits ignored, each environment's log is cut into stretches as long as its
    /// first one (the time limit), here once known.
    stretch: Option<Vec<Option<usize>>>,
}

impl<E: Env> VecEnv<E> {
    /// Wraps `envs`; call [`reset`](Self::reset) before the first step.
    ///
    /// # Panics
    ///
    /// If `envs` is empty, the environments disagree on their observation size or action
    /// space, or an action space's width is not the action type's [`Action::WIDTH`].
    pub fn new(envs: Vec<E>) -> Self {
        assert!(!envs.is_empty(), "VecEnv needs at least one environment");
        let (obs_size, space) = (envs[0].obs_size(), envs[0].action_space());
        assert_eq!(
            space.width(),
            E::Action::WIDTH,
            "the action space {space:?} does not fit an action type of width {}",
            E::Action::WIDTH
        );
        for (i, env) in envs.iter().enumerate() {
            assert!(
                env.obs_size() == obs_size && env.action_space() == space,
                "env {i} has obs size {} and actions {:?}, env 0 has {obs_size} and {space:?}",
                env.obs_size(),
                env.action_space()
            );
        }
        let n = envs.len();
        VecEnv {
            envs,
            obs_size,
            action_width: E::Action::WIDTH,
            obs: vec![0.0; n * obs_size],
            next_obs: vec![0.0; n * obs_size],
            rewards: vec![0.0; n],
            terminated: vec![false; n],
            truncated: vec![false; n],
            running_return: vec![0.0; n],
            running_length: vec![0; n],
            finished: Vec::with_capacity(n),
            started: false,
            stretch: None,
        }
    }

    /// From now on a truncation does not end an episode: the environment is not reset, and
    /// [`truncated`](Self::truncated) stays false, so a learner sees one endless episode. For
    /// the log, that episode is cut into stretches as long as the time limit (measured at
    /// the first truncation); [`drain_episodes`](Self::drain_episodes) returns those.
    pub fn ignore_time_limits(&mut self) {
        self.stretch = Some(vec![None; self.envs.len()]);
    }

    /// Number of environments.
    pub fn num_envs(&self) -> usize {
        self.envs.len()
    }

    /// Values per observation of one environment.
    pub fn obs_size(&self) -> usize {
        self.obs_size
    }

    /// Values in the action row of one environment ([`Action::WIDTH`]).
    pub fn action_width(&self) -> usize {
        self.action_width
    }

    /// The actions the environments accept (all the same).
    pub fn action_space(&self) -> ActionSpace<'_> {
        self.envs[0].action_space()
    }

    /// The environments themselves, e.g. to render one.
    pub fn envs(&self) -> &[E] {
        &self.envs
    }

    /// Resets every environment and returns all first observations (N × obs_size).
    pub fn reset(&mut self, rng: &mut dyn Rng) -> &[f32] {
        for (env, obs) in self.envs.iter_mut().zip(self.obs.chunks_exact_mut(self.obs_size)) {
            obs.copy_from_slice(env.reset(rng).as_ref());
        }
        self.next_obs.copy_from_slice(&self.obs);
        self.rewards.fill(0.0);
        self.terminated.fill(false);
        self.truncated.fill(false);
        self.running_return.fill(0.0);
        self.running_length.fill(0);
        self.started = true;
        &self.obs
    }

    // ANCHOR: vec_step
    /// Steps every environment with its row of `actions` (N × action width). An env whose
    /// episode ends is reset at once with `rng`; its end is kept in
    /// [`final_observation`](Self::final_observation) and [`drain_episodes`](Self::drain_episodes).
    ///
    /// # Panics
    ///
    /// If `actions` has the wrong length, if [`reset`](Self::reset) was never called, or if
    /// an environment rejects its action.
    pub fn step(&mut self, actions: &[f32], rng: &mut dyn Rng) {
        assert!(self.started, "VecEnv::step called before VecEnv::reset");
        assert_eq!(
            actions.len(),
            self.envs.len() * self.action_width,
            "VecEnv::step needs {} envs x {} actions",
            self.envs.len(),
            self.action_width
        );
        let rows = self.envs.iter_mut().zip(actions.chunks_exact(self.action_width));
        let rows = rows.zip(self.obs.chunks_exact_mut(self.obs_size));
        let rows = rows.zip(self.next_obs.chunks_exact_mut(self.obs_size));
        for (i, (((env, action), obs), next_obs)) in rows.enumerate() {
            let step = env.step(E::Action::from_row(action));
            next_obs.copy_from_slice(step.obs.as_ref());
            self.rewards[i] = step.reward as f32;
            self.terminated[i] = step.terminated;
            self.truncated[i] = step.truncated && self.stretch.is_none();
            self.running_return[i] += step.reward;
            self.running_length[i] += 1;
            if let Some(stretches) = &mut self.stretch
                && !step.terminated
            {
                // The time limit is ignored: the episode goes on, and the log is cut into
                // stretches as long as the first one, which ended at the time limit.
                if step.truncated && stretches[i].is_none() {
                    stretches[i] = Some(self.running_length[i]);
                }
                if stretches[i] == Some(self.running_length[i]) {
                    self.finished.push(Episode {
                        total_reward: std::mem::take(&mut self.running_return[i]),
                        length: std::mem::take(&mut self.running_length[i]),
                    });
                }
                obs.copy_from_slice(next_obs);
            } else if step.terminated || self.truncated[i] {
                self.finished.push(Episode {
                    total_reward: std::mem::take(&mut self.running_return[i]),
                    length: std::mem::take(&mut self.running_length[i]),
                });
                obs.copy_from_slice(env.reset(rng).as_ref());
            } else {
                obs.copy_from_slice(next_obs);
            }
        }
    }
    // ANCHOR_END: vec_step

    /// Where each environment is now (N × obs_size): the observation after the last step, or
    /// the first observation of a new episode for an env that was just reset.
    pub fn observations(&self) -> &[f32] {
        &self.obs
    }

    /// The observation each env's last action led to, before any automatic reset
    /// (N × obs_size). It differs from [`observations`](Self::observations) only for envs
    /// whose episode just ended; a learner bootstraps a truncated episode from it.
    pub fn next_observations(&self) -> &[f32] {
        &self.next_obs
    }

    /// The last observation of env `i`'s episode if that episode ended at the last step.
    pub fn final_observation(&self, i: usize) -> Option<&[f32]> {
        (self.terminated[i] || self.truncated[i])
            .then(|| &self.next_obs[i * self.obs_size..(i + 1) * self.obs_size])
    }

    /// The reward of each env at the last step, rounded to `f32` for the learner.
    pub fn rewards(&self) -> &[f32] {
        &self.rewards
    }

    /// Whether each env's episode reached a terminal state at the last step.
    pub fn terminated(&self) -> &[bool] {
        &self.terminated
    }

    /// Whether each env's episode was cut off by its time limit at the last step.
    pub fn truncated(&self) -> &[bool] {
        &self.truncated
    }

    /// Takes the episodes finished since the last drain, in the order they finished.
    pub fn drain_episodes(&mut self) -> std::vec::Drain<'_, Episode> {
        self.finished.drain(..)
    }
}
