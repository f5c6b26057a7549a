//! Chapter 6 (part): Pendulum-v1, step for step identical to Gymnasium's.
//!
//! A rod hangs from a pivot; the agent applies a torque and is rewarded for holding the rod
//! upright and still. [`Pendulum`] reproduces Gymnasium 1.x
//! (`gymnasium/envs/classic_control/pendulum.py` plus the 200-step `TimeLimit` wrapper that
//! `gymnasium.make` adds): the same observations to the last bit of every `f32`, the same
//! rewards, episodes that end by truncation only. It implements [`Env`], the trait of
//! [`crate::env`] that PPO is written against.
//!
//! ```
//! use rand::SeedableRng;
//! use ppo::Pendulum;
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let mut env = Pendulum::new();
//! let obs = env.reset(&mut rng);
//! assert!(obs[2].abs() <= 1.0); // the first angular velocity is drawn from [-1, 1)
//! let step = env.step(&[0.5]);
//! assert!(step.reward <= 0.0 && !step.terminated && !step.truncated);
//! ```

use std::f64::consts::{PI, TAU};
use std::fmt;

use rand::{Rng, RngExt};

use crate::env::ActionSpace;
/// The trait and the types of [`crate::env`], where they live since discrete actions came;
/// re-exported here for code written when they were defined in this module.
pub use crate::env::{Env, Episode, Step, VecEnv};

/// A torque that is not a finite number: NaN or infinite.
///
/// Gymnasium would clip an infinite torque to ±2 and let a NaN poison the state for the rest
/// of the episode; both almost always mean the policy has diverged, so we refuse them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InvalidAction {
    /// The torque that was refused.
    pub torque: f32,
}

impl fmt::Display for InvalidAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pendulum action [{}] is not a finite number (the torque must be finite; it is clipped to [-2, 2])",
            self.torque
        )
    }
}

impl std::error::Error for InvalidAction {}

/// The inverted pendulum swing-up task, Gymnasium's `Pendulum-v1`.
///
/// θ is the angle from upright, counter-clockwise positive; θ̇ its rate. The state is kept in
/// `f64` and the observation `[cos θ, sin θ, θ̇]` is handed out in `f32`, as Gymnasium does.
#[derive(Debug, Clone)]
pub struct Pendulum {
    theta: f64,
    theta_dot: f64,
    gravity: f64,
    elapsed_steps: u32,
    last_torque: Option<f32>,
}

impl Default for Pendulum {
    fn default() -> Self {
        Self::new()
    }
}

impl Pendulum {
    /// Gravity used by [`Pendulum::new`], in m/s² (Gymnasium's default, not 9.81).
    pub const DEFAULT_GRAVITY: f64 = 10.0;
    /// Mass of the rod, kg.
    pub const MASS: f64 = 1.0;
    /// Length of the rod, m.
    pub const LENGTH: f64 = 1.0;
    /// Time step, s.
    pub const DT: f64 = 0.05;
    /// The angular velocity is clipped to ±this, rad/s.
    pub const MAX_SPEED: f64 = 8.0;
    /// The torque is clipped to ±this, N·m.
    pub const MAX_TORQUE: f32 = 2.0;
    /// Steps after which the `TimeLimit` wrapper truncates an episode.
    pub const MAX_EPISODE_STEPS: u32 = 200;

    /// A pendulum with Gymnasium's default gravity, hanging straight down at rest until
    /// [`reset`](Self::reset) or [`set_state`](Self::set_state) starts an episode.
    pub fn new() -> Self {
        Self::with_gravity(Self::DEFAULT_GRAVITY)
    }

    /// A pendulum with gravity `g` (m/s²), like `gymnasium.make("Pendulum-v1", g=g)`.
    ///
    /// # Panics
    ///
    /// If `g` is not finite.
    pub fn with_gravity(g: f64) -> Self {
        assert!(g.is_finite(), "gravity must be finite, got {g}");
        Pendulum { theta: PI, theta_dot: 0.0, gravity: g, elapsed_steps: 0, last_torque: None }
    }

    /// The gravity this pendulum was built with, m/s².
    pub fn gravity(&self) -> f64 {
        self.gravity
    }

    // ANCHOR: reset
    /// Starts a new episode: θ ~ U[-π, π), θ̇ ~ U[-1, 1), drawn from `rng`; returns the first
    /// observation.
    ///
    /// The distribution is Gymnasium's; the numbers are not, since Gymnasium draws them from
    /// NumPy's generator. Use [`set_state`](Self::set_state) to replay a recorded start.
    pub fn reset<R: Rng + ?Sized>(&mut self, rng: &mut R) -> [f32; 3] {
        let theta = rng.random_range(-PI..PI);
        let theta_dot = rng.random_range(-1.0..1.0);
        self.set_state(theta, theta_dot);
        self.observation()
    }
    // ANCHOR_END: reset

    /// Starts a new episode from the given state (angle in rad from upright, any value;
    /// angular velocity in rad/s), with the step counter at zero.
    ///
    /// # Panics
    ///
    /// If either value is not finite.
    pub fn set_state(&mut self, theta: f64, theta_dot: f64) {
        assert!(
            theta.is_finite() && theta_dot.is_finite(),
            "pendulum state must be finite, got theta = {theta}, theta_dot = {theta_dot}"
        );
        self.theta = theta;
        self.theta_dot = theta_dot;
        self.elapsed_steps = 0;
        self.last_torque = None;
    }

    /// The state `(θ, θ̇)`. θ is not wrapped: it counts whole turns, as in Gymnasium.
    pub fn state(&self) -> (f64, f64) {
        (self.theta, self.theta_dot)
    }

    /// Steps taken since the episode started.
    pub fn elapsed_steps(&self) -> u32 {
        self.elapsed_steps
    }

    // ANCHOR: observation
    /// The observation `[cos θ, sin θ, θ̇]`: computed in `f64`, then rounded to `f32`.
    pub fn observation(&self) -> [f32; 3] {
        [self.theta.cos() as f32, self.theta.sin() as f32, self.theta_dot as f32]
    }
    // ANCHOR_END: observation

    /// Applies the torque `action[0]` (clipped to ±2) for one time step.
    ///
    /// # Panics
    ///
    /// If `action` does not hold exactly one value, or if that value is NaN or infinite (the
    /// message names it). Use [`try_step`](Self::try_step) to get an error instead.
    pub fn step(&mut self, action: &[f32]) -> Step {
        self.try_step(action).unwrap_or_else(|e| panic!("{e}"))
    }

    // ANCHOR: step
    /// Like [`step`](Self::step), but a non-finite torque is an error and leaves the
    /// pendulum untouched.
    ///
    /// # Errors
    ///
    /// [`InvalidAction`] if the torque is NaN or infinite.
    ///
    /// # Panics
    ///
    /// If `action` does not hold exactly one value: that is a bug in the caller.
    pub fn try_step(&mut self, action: &[f32]) -> Result<Step, InvalidAction> {
        assert_eq!(
            action.len(),
            1,
            "pendulum action must hold 1 value (the torque), got {action:?}"
        );
        if !action[0].is_finite() {
            return Err(InvalidAction { torque: action[0] });
        }
        let torque = action[0].clamp(-Self::MAX_TORQUE, Self::MAX_TORQUE);
        // The reward judges the state the action was taken in, before the physics moves it.
        let reward = -self.cost(torque);
        self.integrate(torque);
        self.last_torque = Some(torque);
        self.elapsed_steps = self.elapsed_steps.saturating_add(1);
        Ok(Step {
            obs: self.observation(),
            reward,
            terminated: false, // no state of the pendulum ends the task
            truncated: self.elapsed_steps >= Self::MAX_EPISODE_STEPS,
        })
    }
    // ANCHOR_END: step

    // ANCHOR: cost
    /// θₙ² + 0.1·θ̇² + 0.001·u², with each term rounded exactly as NumPy rounds it.
    fn cost(&self, torque: f32) -> f64 {
        let angle = angle_normalize(self.theta);
        // Parenthesized as Python evaluates `0.1 * thdot**2`: (0.1·θ̇)·θ̇ would round differently.
        let speed_cost = 0.1 * (self.theta_dot * self.theta_dot);
        // NumPy 2 keeps `0.001 * u**2` in float32 when u is float32 (a Python float adapts
        // to the array's type, NEP 50), and only widens it when adding it to the float64 terms.
        let torque_cost = 0.001_f32 * (torque * torque);
        angle * angle + speed_cost + f64::from(torque_cost)
    }
    // ANCHOR_END: cost

    // ANCHOR: integrate
    /// One semi-implicit Euler step of θ̈ = 3g/(2l)·sin θ + 3/(ml²)·u.
    fn integrate(&mut self, torque: f32) {
        let gravity_accel = 3.0 * self.gravity / (2.0 * Self::LENGTH) * self.theta.sin();
        // Float32 again: Gymnasium multiplies the Python float 3/(ml²) by the float32 torque.
        let torque_accel = (3.0 / (Self::MASS * Self::LENGTH * Self::LENGTH)) as f32 * torque;
        let theta_dot = self.theta_dot + (gravity_accel + f64::from(torque_accel)) * Self::DT;
        let theta_dot = theta_dot.clamp(-Self::MAX_SPEED, Self::MAX_SPEED);
        // Semi-implicit: the angle moves with the new speed, not the old one.
        self.theta += theta_dot * Self::DT;
        self.theta_dot = theta_dot;
    }
    // ANCHOR_END: integrate

    // ANCHOR: render
    /// A picture of the rod in characters: the pivot `O`, the rod, the tip `@`, and a line
    /// with the angle, the speed and the last torque. Every line has the same width, so a
    /// terminal animation can redraw in place.
    pub fn render(&self) -> String {
        const ROWS_UP: usize = 5; // rod length in rows; a column is about half as wide as a row
        let (height, width) = (2 * ROWS_UP + 1, 4 * ROWS_UP + 1);
        let (center_row, center_col) = (ROWS_UP as f64, 2.0 * ROWS_UP as f64);
        let mut grid = vec![vec![' '; width]; height];
        // Counter-clockwise from upright: the tip is at (-sin θ, cos θ), y pointing up.
        let (x, y) = (-self.theta.sin(), self.theta.cos());
        let rod = rod_char(y.atan2(x));
        let segments = 2 * ROWS_UP;
        for k in 1..=segments {
            let t = k as f64 / segments as f64;
            let col = (center_col + t * x * 2.0 * ROWS_UP as f64).round() as usize;
            let row = (center_row - t * y * ROWS_UP as f64).round() as usize;
            grid[row][col] = if k == segments { '@' } else { rod };
        }
        grid[ROWS_UP][2 * ROWS_UP] = 'O';
        let mut picture: String = grid
            .iter()
            .flat_map(|line| line.iter().copied().chain(std::iter::once('\n')))
            .collect();
        let torque = self.last_torque.map_or("  -  ".to_string(), |u| format!("{u:+.2}"));
        picture.push_str(&format!(
            "theta {:+.2}  speed {:+.2}  torque {torque}\n",
            angle_normalize(self.theta),
            self.theta_dot
        ));
        picture
    }
    // ANCHOR_END: render
}

/// The character that best draws a line at `angle` (radians from the x axis, y up).
pub(crate) fn rod_char(angle: f64) -> char {
    let eighths = (angle.rem_euclid(PI) / (PI / 4.0)).round() as usize % 4;
    ['-', '/', '|', '\\'][eighths]
}

// ANCHOR: angle_normalize
/// θ wrapped into [-π, π), as Gymnasium computes it: `((θ + π) % 2π) - π`.
///
/// NumPy's `%` takes the sign of the divisor: it is C's `fmod`, plus 2π when that is
/// negative. `f64::rem_euclid` performs exactly those operations (Rust's `%` alone is `fmod`).
pub fn angle_normalize(theta: f64) -> f64 {
    (theta + PI).rem_euclid(TAU) - PI
}
// ANCHOR_END: angle_normalize

impl Env for Pendulum {
    type Obs = [f32; 3];
    type Action = [f32; 1];

    fn obs_size(&self) -> usize {
        3
    }

    fn action_space(&self) -> ActionSpace<'_> {
        ActionSpace::Continuous { low: &[-Self::MAX_TORQUE], high: &[Self::MAX_TORQUE] }
    }

    fn reset(&mut self, rng: &mut dyn Rng) -> [f32; 3] {
        Pendulum::reset(self, rng)
    }

    fn step(&mut self, action: [f32; 1]) -> Step {
        Pendulum::step(self, &action)
    }
}
