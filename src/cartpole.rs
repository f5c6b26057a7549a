//! CartPole-v1, step for step identical to Gymnasium's.
//!
//! A pole stands on a cart by an unpowered hinge; the agent pushes the cart left or right
//! with a fixed force and earns 1 for every step the pole stays within 12° of upright and the
//! cart stays on its track. [`CartPole`] reproduces Gymnasium 1.x
//! (`gymnasium/envs/classic_control/cartpole.py` plus the 500-step `TimeLimit` wrapper that
//! `gymnasium.make("CartPole-v1")` adds): the same `f64` states to the last bit, hence the
//! same `f32` observations, the same rewards and the same `terminated` and `truncated` flags.
//!
//! ```
//! use rand::SeedableRng;
//! use ppo::CartPole;
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let mut env = CartPole::new();
//! let obs = env.reset(&mut rng);
//! assert!(obs.iter().all(|v| v.abs() <= 0.05)); // every value starts in [-0.05, 0.05)
//! let step = env.step(1); // push right
//! assert_eq!(step.reward, 1.0);
//! assert!(step.obs[1] > obs[1]); // the cart speeds up to the right
//! ```
//!
//! # What it takes to match bit for bit
//!
//! Gymnasium unpacks the `float64` state into NumPy `float64` scalars and combines them with
//! Python floats, so every operation of the physics is one `float64` operation (NumPy 2's
//! NEP 50 rules keep a Python float "weak": it takes the other operand's type). Nothing is
//! computed in `f32` until the observation is rounded, at the very end. What does matter:
//!
//! - **The order of operations.** Python evaluates `a * b * c / d` left to right, and every
//!   product rounds; `temp`, `thetaacc` and `xacc` below are written in exactly Gymnasium's
//!   order. It matters most in the pole's acceleration: the upright pole is unstable, so a
//!   last-bit difference in θ̈ grows along an episode. Folding `MASS_POLE / TOTAL_MASS` into
//!   one constant there, the natural simplification, leaves the recorded episodes, replayed
//!   open loop, by up to 0.15 in an observation. The same folding in ẍ changes the last bit
//!   of the state at most steps but never an observation, since x and ẋ feed nothing back
//!   into the accelerations; the tests compare the `f64` states too, which catches it
//!   (`careless_ports_are_told_apart` in `tests/cartpole.rs`).
//! - **The angle threshold.** `12 * 2 * math.pi / 360` is 0.20943951023931953, one ulp below
//!   `12f64.to_radians()` (0.20943951023931956, computed as `12 * (π / 180)`). An angle of
//!   exactly the latter terminates in Gymnasium; the fixtures contain such a step.
//! - **The library `sin` and `cos`.** NumPy's `float64` `sin` and `cos` give the same bits as
//!   glibc's, which Rust calls. On another C library the claim is only "almost always".
//!
//! Gymnasium computes in `float64` because its state is a `float64` array, which `reset` and
//! `step` always leave it. Assigning a `float32` array to `env.unwrapped.state` would make
//! the next step single precision (NEP 50 again); [`CartPole::set_state`] takes `f64`, the
//! case of every state Gymnasium produces itself.

use std::f64::consts::PI;
use std::fmt;

use rand::{Rng, RngExt};

use crate::env::{ActionSpace, Env, Step};

/// An action that is neither 0 (push left) nor 1 (push right).
///
/// Gymnasium asserts `action_space.contains(action)`; we return this error instead, from
/// [`CartPole::try_step`], and [`CartPole::step`] panics with its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidAction {
    /// The action that was refused.
    pub action: usize,
}

impl fmt::Display for InvalidAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cartpole action {} is not 0 (push left) or 1 (push right)", self.action)
    }
}

impl std::error::Error for InvalidAction {}

/// The cart-pole balancing task, Gymnasium's `CartPole-v1`.
///
/// The state is `[x, ẋ, θ, θ̇]` in `f64`: the cart's position (m, right positive) and speed,
/// the pole's angle from upright (rad, positive when it leans right) and its rate. The
/// observation is the same four numbers rounded to `f32`, as Gymnasium hands them out.
#[derive(Debug, Clone)]
pub struct CartPole {
    state: [f64; 4],
    elapsed_steps: u32,
    // Gymnasium's `steps_beyond_terminated is not None`: the episode has terminated before.
    terminated_once: bool,
    last_action: Option<usize>,
}

impl Default for CartPole {
    fn default() -> Self {
        Self::new()
    }
}

// ANCHOR: constants
impl CartPole {
    /// Gravity, m/s².
    pub const GRAVITY: f64 = 9.8;
    /// Mass of the cart, kg.
    pub const MASS_CART: f64 = 1.0;
    /// Mass of the pole, kg.
    pub const MASS_POLE: f64 = 0.1;
    /// Cart plus pole, kg: `0.1 + 1.0`, rounded once, as Gymnasium adds them.
    pub const TOTAL_MASS: f64 = Self::MASS_POLE + Self::MASS_CART;
    /// Half the pole's length, m (Gymnasium's `length`: the hinge to the pole's centre of mass).
    pub const HALF_LENGTH: f64 = 0.5;
    /// Pole mass times half length, kg·m.
    pub const POLEMASS_LENGTH: f64 = Self::MASS_POLE * Self::HALF_LENGTH;
    /// Magnitude of the push, N.
    pub const FORCE_MAG: f64 = 10.0;
    /// Time step, s.
    pub const TAU: f64 = 0.02;
    /// The episode terminates when |x| exceeds this, m.
    pub const X_THRESHOLD: f64 = 2.4;
    /// The episode terminates when |θ| exceeds this, rad: 12°, computed as Gymnasium
    /// writes it, `12 * 2 * π / 360`, which is one ulp below `12f64.to_radians()`.
    pub const THETA_THRESHOLD_RADIANS: f64 = 12.0 * 2.0 * PI / 360.0;
    /// Each state value of a reset is drawn from U[-this, this).
    pub const RESET_BOUND: f64 = 0.05;
    /// Steps after which the `TimeLimit` wrapper truncates an episode.
    pub const MAX_EPISODE_STEPS: u32 = 500;
    /// Number of actions: 0 pushes left, 1 pushes right.
    pub const NUM_ACTIONS: usize = 2;
}
// ANCHOR_END: constants

impl CartPole {
    /// A cart at rest in the middle of the track with the pole upright (all four state values
    /// 0) until [`reset`](Self::reset) or [`set_state`](Self::set_state) starts an episode.
    ///
    /// Gymnasium has no state before its first reset and refuses to step; here stepping the
    /// new cart is allowed and counts as an episode from that rest state.
    pub fn new() -> Self {
        CartPole { state: [0.0; 4], elapsed_steps: 0, terminated_once: false, last_action: None }
    }

    // ANCHOR: reset
    /// Starts a new episode with each of x, ẋ, θ, θ̇ drawn from U[-0.05, 0.05) by `rng`;
    /// returns the first observation.
    ///
    /// The distribution is Gymnasium's; the numbers are not, since Gymnasium draws them from
    /// NumPy's generator. Use [`set_state`](Self::set_state) to replay a recorded start.
    pub fn reset<R: Rng + ?Sized>(&mut self, rng: &mut R) -> [f32; 4] {
        let b = Self::RESET_BOUND;
        let state = [(); 4].map(|()| rng.random_range(-b..b));
        self.set_state(state);
        self.observation()
    }
    // ANCHOR_END: reset

    /// Starts a new episode from `[x, ẋ, θ, θ̇]` (any finite values), with the step counter at
    /// zero: Gymnasium's `reset` followed by an assignment to `env.unwrapped.state`.
    ///
    /// # Panics
    ///
    /// If a value is not finite.
    pub fn set_state(&mut self, state: [f64; 4]) {
        assert!(
            state.iter().all(|v| v.is_finite()),
            "cartpole state must be finite, got [x, x_dot, theta, theta_dot] = {state:?}"
        );
        self.state = state;
        self.elapsed_steps = 0;
        self.terminated_once = false;
        self.last_action = None;
    }

    /// The state `[x, ẋ, θ, θ̇]`.
    pub fn state(&self) -> [f64; 4] {
        self.state
    }

    /// Steps taken since the episode started.
    pub fn elapsed_steps(&self) -> u32 {
        self.elapsed_steps
    }

    // ANCHOR: observation
    /// The observation: the state, each value rounded to the nearest `f32` (NumPy's cast).
    pub fn observation(&self) -> [f32; 4] {
        self.state.map(|v| v as f32)
    }
    // ANCHOR_END: observation

    /// Pushes the cart left (`action` 0) or right (1) for one time step.
    ///
    /// # Panics
    ///
    /// If `action` is neither 0 nor 1 (the message names it). Use
    /// [`try_step`](Self::try_step) to get an error instead.
    pub fn step(&mut self, action: usize) -> Step<[f32; 4]> {
        self.try_step(action).unwrap_or_else(|e| panic!("{e}"))
    }

    // ANCHOR: step
    /// Like [`step`](Self::step), but an action other than 0 or 1 is an error and leaves the
    /// cart untouched.
    ///
    /// Stepping on after the episode terminated does what Gymnasium does (which warns that
    /// this is undefined behaviour, but defines it): the physics carries on, `terminated` is
    /// recomputed from the new state, and the reward is 0 whenever the episode is terminated
    /// again after its first terminating step. If the cart or the pole comes back inside the
    /// limits, the step is not terminated and earns 1, as in Gymnasium. The time limit keeps
    /// counting: every step from the 500th on is truncated. A state that has overflowed into
    /// NaN is never terminated (NaN fails both comparisons), as in Gymnasium.
    ///
    /// # Errors
    ///
    /// [`InvalidAction`] if `action` is neither 0 nor 1.
    pub fn try_step(&mut self, action: usize) -> Result<Step<[f32; 4]>, InvalidAction> {
        let force = match action {
            0 => -Self::FORCE_MAG,
            1 => Self::FORCE_MAG,
            _ => return Err(InvalidAction { action }),
        };
        self.integrate(force);
        let [x, _, theta, _] = self.state;
        // Strict comparisons, written out as Gymnasium writes them: exactly ±2.4 or exactly
        // ±12° is still inside, and a NaN (which a huge but finite state can overflow into)
        // compares false both ways, so it does not terminate; `!range.contains()` would.
        #[allow(clippy::manual_range_contains)]
        let terminated = x < -Self::X_THRESHOLD
            || x > Self::X_THRESHOLD
            || theta < -Self::THETA_THRESHOLD_RADIANS
            || theta > Self::THETA_THRESHOLD_RADIANS;
        let reward = if !terminated {
            1.0
        } else if !self.terminated_once {
            // The pole just fell (or the cart left the track): this step still counts.
            self.terminated_once = true;
            1.0
        } else {
            // Gymnasium counts these steps in `steps_beyond_terminated`, but only to warn once.
            0.0
        };
        self.last_action = Some(action);
        self.elapsed_steps = self.elapsed_steps.saturating_add(1);
        Ok(Step {
            obs: self.observation(),
            reward,
            terminated,
            truncated: self.elapsed_steps >= Self::MAX_EPISODE_STEPS,
        })
    }
    // ANCHOR_END: step

    // ANCHOR: accelerations
    /// The cart's and the pole's accelerations `(ẍ, θ̈)` under the horizontal `force`,
    /// every product and quotient in the order Gymnasium's Python evaluates it.
    fn accelerations(&self, force: f64) -> (f64, f64) {
        let [_, _, theta, theta_dot] = self.state;
        let (sin, cos) = (theta.sin(), theta.cos());
        let temp =
            (force + Self::POLEMASS_LENGTH * (theta_dot * theta_dot) * sin) / Self::TOTAL_MASS;
        // (m_p·cos²θ)/M, not (m_p/M)·cos²θ: a last-bit difference here grows (module docs).
        let theta_acc = (Self::GRAVITY * sin - cos * temp)
            / (Self::HALF_LENGTH * (4.0 / 3.0 - Self::MASS_POLE * (cos * cos) / Self::TOTAL_MASS));
        // (m_p·l·θ̈·cos θ)/M left to right, not m_p·l/M folded into one constant.
        let x_acc = temp - Self::POLEMASS_LENGTH * theta_acc * cos / Self::TOTAL_MASS;
        (x_acc, theta_acc)
    }
    // ANCHOR_END: accelerations

    // ANCHOR: integrate
    /// One explicit Euler step of length τ: positions move with the *old* speeds.
    fn integrate(&mut self, force: f64) {
        let (x_acc, theta_acc) = self.accelerations(force);
        let [x, x_dot, theta, theta_dot] = self.state;
        self.state = [
            x + Self::TAU * x_dot,
            x_dot + Self::TAU * x_acc,
            theta + Self::TAU * theta_dot,
            theta_dot + Self::TAU * theta_acc,
        ];
    }
    // ANCHOR_END: integrate

    // ANCHOR: render
    /// A picture of the cart and the pole in characters: the pole (`|`, `/`, `\`, `-`, its
    /// tip `o`), the cart `[===]`, the track with `|` at x = ±2.4, and a line with x, θ in
    /// degrees and the last action. Every frame has the same lines of the same width, so a
    /// terminal animation can redraw in place. A cart beyond ±2.8 m is drawn at the edge, and a
    /// pole that has fallen below horizontal is drawn only down to the cart.
    pub fn render(&self) -> String {
        const COLS_PER_METRE: f64 = 10.0;
        const POLE_ROWS: usize = 5; // the 1 m pole; a character is about twice as tall as wide
        const WIDTH: usize = 61;
        let centre = (WIDTH / 2) as f64;
        let column = |x: f64| (centre + x * COLS_PER_METRE).round() as usize;
        let [x, _, theta, _] = self.state;
        let cart = column(x.clamp(-2.8, 2.8));
        let mut grid = vec![vec![' '; WIDTH]; POLE_ROWS + 2];
        // θ is measured from upright, clockwise (leaning right) positive: the tip is at
        // (sin θ, cos θ) from the hinge, y pointing up.
        let (dx, dy) = (theta.sin(), theta.cos());
        let pole = crate::pendulum::rod_char(dy.atan2(dx));
        // The hinge is the top edge of the cart's row; each sample is the middle of one of
        // `segments` equal pieces of the pole, so each row gets two of them when it is upright.
        let (hinge_col, hinge_row) = (cart as f64, POLE_ROWS as f64 - 0.5);
        let segments = 2 * POLE_ROWS;
        for k in 1..=segments {
            let t = (k as f64 - 0.5) / segments as f64;
            let col = hinge_col + t * dx * 2.0 * POLE_ROWS as f64;
            let row = hinge_row - t * dy * POLE_ROWS as f64;
            if (-0.5..WIDTH as f64 - 0.5).contains(&col) && (-0.5..hinge_row).contains(&row) {
                grid[row.round() as usize][col.round() as usize] =
                    if k == segments { 'o' } else { pole };
            }
        }
        grid[POLE_ROWS][cart - 2..=cart + 2].copy_from_slice(&['[', '=', '=', '=', ']']);
        let track = &mut grid[POLE_ROWS + 1];
        track.fill('-');
        track[column(-Self::X_THRESHOLD)] = '|';
        track[column(Self::X_THRESHOLD)] = '|';
        let mut picture: String = grid
            .iter()
            .flat_map(|line| line.iter().copied().chain(std::iter::once('\n')))
            .collect();
        let action = match self.last_action {
            Some(0) => "push left ",
            Some(_) => "push right",
            None => "    -     ",
        };
        let status = format!("x {x:+6.2} m  theta {:+7.1} deg  {action}", theta.to_degrees());
        picture.push_str(&format!("{status:<WIDTH$}\n"));
        picture
    }
    // ANCHOR_END: render
}

impl Env for CartPole {
    type Obs = [f32; 4];
    type Action = usize;

    fn obs_size(&self) -> usize {
        4
    }

    fn action_space(&self) -> ActionSpace<'_> {
        ActionSpace::Discrete { choices: Self::NUM_ACTIONS }
    }

    fn reset(&mut self, rng: &mut dyn Rng) -> [f32; 4] {
        CartPole::reset(self, rng)
    }

    fn step(&mut self, action: usize) -> Step<[f32; 4]> {
        CartPole::step(self, action)
    }
}
