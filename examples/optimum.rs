//! The yardstick for chapter 11: the best expected return any policy can reach on Pendulum-v1,
//! computed by dynamic programming on the exact dynamics.
//!
//! ```text
//! cargo run --release --example optimum                 # grids of 201², 401² and 801² states
//! cargo run --release --example optimum -- 101 1201     # other grids (states per axis)
//! cargo run --release --example optimum -- --torques 81 --refine 401
//! ```
//!
//! **Value iteration.** The state (θ, θ̇) is covered by a grid: `n` angles spaced evenly around
//! the circle and `n` speeds from −8 to 8 rad/s, the ends included (the physics clips the speed
//! there, so no state leaves the grid). The torque is chosen from 21 values, every 0.2 N·m
//! from −2 to 2 (`--torques`). `V_k(s)`, the best return of the `k` steps that remain from
//! state `s`, obeys Bellman's equation
//!
//! ```text
//! V_0(s) = 0,    V_k(s) = max over u of [ r(s, u) + V_{k−1}(f(s, u)) ],
//! ```
//!
//! where `r` and `f` are one step of the crate's `Pendulum` (bit-exact with Gymnasium). It is
//! applied 200 times, backwards from the time limit, at every node; `V_{k−1}` at `f(s, u)`, which
//! falls between nodes, is interpolated bilinearly from the four nodes around it. The horizon is
//! finite and undiscounted, as the task is: the best action depends on the steps left (on the
//! last step it is always u = 0, since nothing that follows can repay the torque's cost), so
//! every `V_k` is kept, and no discount factor has to be argued for.
//!
//! **Rollouts on the real physics.** The grid's values are an approximation, so the example also
//! *plays* the policy they define: from 10,000 starting states drawn as `Pendulum::reset` draws
//! them (`--starts`), 200 steps of the real `Pendulum`, no grid, each torque chosen by one-step
//! lookahead, `argmax_u r(s, u) + V_{199−t}(f(s, u))` with `V` interpolated. What those episodes
//! return is what a real policy achieves, so their mean is, up to its Monte-Carlo error, a lower
//! bound on the optimum. That error is mostly the spread of the starts (hanging down costs far
//! more than starting upright), and the grid's own estimate `V_200(s₀)` pays for the same
//! spread, so it serves as a control variate: `E[return] = E[return − V_200(s₀)] + E[V_200(s₀)]`,
//! the second term computed by quadrature, without sampling error. That cuts the standard error
//! from about 0.75 to 0.05.
//!
//! **Accuracy.** The table prints both estimates for each grid; refining the grid moves them
//! less and less, and how much they still move says how accurate the answer is. `--refine` adds a
//! golden-section search between the best torque of the set and its neighbours, and
//! `--torques 41` or `81` a finer set: neither changes the result by more than 0.01, because
//! the best torque is ±2 during a swing-up and nearly 0 while balancing.
//!
//! Both phases run on two threads. Memory grows as n² · 201 value tables (kept for every step,
//! because the rollouts need them all) plus n² · 21 precomputed transitions: 0.7 GB at n = 801,
//! 1.6 GB at n = 1201.

use ppo::Pendulum;
use ppo::ppo::evaluation_seed;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::f64::consts::{PI, TAU};
use std::time::Instant;

/// Steps per episode: the time limit of Pendulum-v1.
const HORIZON: usize = Pendulum::MAX_EPISODE_STEPS as usize;
/// The seed of the rollouts' starting states: the same ones for every grid, so that the grids
/// are compared on the same episodes.
const STARTS_SEED: u64 = 2024;
/// Both cores of the book's machine.
const THREADS: usize = 2;

/// A regular grid over the state: `n` angles around the circle (periodic, so −π and π are the
/// same node) and `n` speeds from −8 to 8 rad/s, both ends included. Node `(i, j)` is stored at
/// `i * n + j`: angle-major.
#[derive(Clone, Copy, Debug)]
struct Grid {
    n: usize,
}

/// Where a state falls in the grid: the lower corner `(i, j)` of its cell and how far along
/// each axis it lies towards the next node, in [0, 1].
#[derive(Clone, Copy, Debug)]
struct Cell {
    i: u16,
    j: u16,
    along_theta: f32,
    along_speed: f32,
}

impl Grid {
    fn nodes(&self) -> usize {
        self.n * self.n
    }

    fn theta_step(&self) -> f64 {
        TAU / self.n as f64
    }

    fn speed_step(&self) -> f64 {
        2.0 * Pendulum::MAX_SPEED / (self.n - 1) as f64
    }

    /// The state at node `index`.
    fn state(&self, index: usize) -> (f64, f64) {
        let (i, j) = (index / self.n, index % self.n);
        (-PI + i as f64 * self.theta_step(), -Pendulum::MAX_SPEED + j as f64 * self.speed_step())
    }

    fn locate(&self, theta: f64, speed: f64) -> Cell {
        // θ counts whole turns; only its position on the circle matters to the physics.
        let x = (theta + PI).rem_euclid(TAU) / self.theta_step();
        let i = (x.floor() as usize).min(self.n - 1);
        let y = (speed + Pendulum::MAX_SPEED) / self.speed_step();
        // The top speed is a node; its cell is the one below it, reached at weight 1.
        let j = (y.floor().max(0.0) as usize).min(self.n - 2);
        Cell {
            i: i as u16,
            j: j as u16,
            along_theta: (x - i as f64).clamp(0.0, 1.0) as f32,
            along_speed: (y - j as f64).clamp(0.0, 1.0) as f32,
        }
    }

    /// Bilinear interpolation of the node values `values` at `cell`.
    fn interpolate(&self, values: &[f32], cell: Cell) -> f64 {
        let (i, j) = (usize::from(cell.i), usize::from(cell.j));
        let i_next = if i + 1 == self.n { 0 } else { i + 1 }; // around the circle
        let (a, b) = (i * self.n + j, i_next * self.n + j);
        let (t, s) = (cell.along_theta, cell.along_speed);
        let low = values[a] + t * (values[b] - values[a]);
        let high = values[a + 1] + t * (values[b + 1] - values[a + 1]);
        f64::from(low + s * (high - low))
    }
}

/// The torques the value iteration chooses from: `count` of them, evenly spaced from −2 to 2.
#[derive(Clone, Copy, Debug)]
struct Torques {
    count: usize,
}

impl Torques {
    fn spacing(&self) -> f32 {
        2.0 * Pendulum::MAX_TORQUE / (self.count - 1) as f32
    }

    fn get(&self, a: usize) -> f32 {
        -Pendulum::MAX_TORQUE + a as f32 * self.spacing()
    }
}

/// One step of the real physics from `(theta, speed)` under `torque`: the reward and the state
/// it leads to.
fn step_from(theta: f64, speed: f64, torque: f32) -> (f64, (f64, f64)) {
    let mut pendulum = Pendulum::new();
    pendulum.set_state(theta, speed);
    let reward = pendulum.step(&[torque]).reward;
    (reward, pendulum.state())
}

/// What one torque does at one node: its reward and the cell the next state falls in. The same
/// for all 200 backups, so it is computed once.
#[derive(Clone, Copy, Debug)]
struct Transition {
    cell: Cell,
    reward: f32,
}

/// The transitions of every node under every torque, `[node * torques.count + a]`.
fn transitions(grid: Grid, torques: Torques) -> Vec<Transition> {
    let unset = Transition { cell: grid.locate(0.0, 0.0), reward: 0.0 };
    let mut table = vec![unset; grid.nodes() * torques.count];
    in_parallel(&mut table, |offset, chunk| {
        for (k, slot) in chunk.iter_mut().enumerate() {
            let (node, a) = ((offset + k) / torques.count, (offset + k) % torques.count);
            let (theta, speed) = grid.state(node);
            let (reward, (next_theta, next_speed)) = step_from(theta, speed, torques.get(a));
            // A reward is at least −(π² + 6.4 + 0.004): f32 holds it to within 10⁻⁶.
            *slot = Transition { cell: grid.locate(next_theta, next_speed), reward: reward as f32 };
        }
    });
    table
}

/// One Bellman backup: `V_k` at every node from `V_{k−1}` (`next`).
fn backup(grid: Grid, torques: Torques, table: &[Transition], next: &[f32]) -> Vec<f32> {
    let mut values = vec![0.0f32; grid.nodes()];
    in_parallel(&mut values, |offset, chunk| {
        for (k, value) in chunk.iter_mut().enumerate() {
            let choices = &table[(offset + k) * torques.count..][..torques.count];
            let best = choices
                .iter()
                .map(|t| f64::from(t.reward) + grid.interpolate(next, t.cell))
                .fold(f64::NEG_INFINITY, f64::max);
            *value = best as f32;
        }
    });
    values
}

/// `V_0, V_1, …, V_200` on the grid: `values[k]` is the best return of the last `k` steps.
fn value_iteration(grid: Grid, torques: Torques) -> Vec<Vec<f32>> {
    let table = transitions(grid, torques);
    let mut values = vec![vec![0.0f32; grid.nodes()]];
    for k in 1..=HORIZON {
        let next = backup(grid, torques, &table, &values[k - 1]);
        values.push(next);
    }
    values
}

/// How the rollouts choose each torque from the value tables.
#[derive(Clone, Copy, Debug)]
struct Greedy {
    grid: Grid,
    torques: Torques,
    /// Search between the best torque of the set and its neighbours for a better one.
    refine: bool,
}

impl Greedy {
    /// The lookahead value of `torque` from `(theta, speed)`: its reward plus the interpolated
    /// value `next` of where it leads.
    fn lookahead(&self, next: &[f32], (theta, speed): (f64, f64), torque: f32) -> f64 {
        let (reward, (next_theta, next_speed)) = step_from(theta, speed, torque);
        reward + self.grid.interpolate(next, self.grid.locate(next_theta, next_speed))
    }

    /// The torque of best lookahead value: the best of the set, refined if asked.
    fn torque(&self, next: &[f32], state: (f64, f64)) -> f32 {
        let q = |u: f32| self.lookahead(next, state, u);
        let (best, best_q) = (0..self.torques.count)
            .map(|a| (self.torques.get(a), q(self.torques.get(a))))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .expect("at least two torques");
        if !self.refine {
            return best;
        }
        let spacing = self.torques.spacing();
        let bracket = (
            (best - spacing).max(-Pendulum::MAX_TORQUE),
            (best + spacing).min(Pendulum::MAX_TORQUE),
        );
        let refined = golden_section(q, bracket);
        // The search finds a local maximum; keep it only if it beats the set's best.
        if q(refined) > best_q { refined } else { best }
    }
}

/// A maximum of `f` on `(lo, hi)` by golden-section search. Each round keeps the better of two
/// inner points and reuses it as an inner point of the shrunken bracket, so it costs one
/// evaluation; 15 rounds shrink the bracket 1,000-fold.
fn golden_section(f: impl Fn(f32) -> f64, (mut lo, mut hi): (f32, f32)) -> f32 {
    const INVERSE_GOLDEN: f32 = 0.618_034;
    let (mut a, mut b) = (hi - INVERSE_GOLDEN * (hi - lo), lo + INVERSE_GOLDEN * (hi - lo));
    let (mut fa, mut fb) = (f(a), f(b));
    for _ in 0..15 {
        if fa < fb {
            (lo, a, fa) = (a, b, fb);
            b = lo + INVERSE_GOLDEN * (hi - lo);
            fb = f(b);
        } else {
            (hi, b, fb) = (b, a, fa);
            a = hi - INVERSE_GOLDEN * (hi - lo);
            fa = f(a);
        }
    }
    (lo + hi) / 2.0
}

/// The return of one episode on the real physics from `start`, each torque chosen by lookahead
/// on the value of the steps that remain after it.
fn rollout(greedy: Greedy, values: &[Vec<f32>], start: (f64, f64)) -> f64 {
    let mut pendulum = Pendulum::new();
    pendulum.set_state(start.0, start.1);
    let mut total = 0.0;
    for t in 0..HORIZON {
        let u = greedy.torque(&values[HORIZON - 1 - t], pendulum.state());
        total += pendulum.step(&[u]).reward;
    }
    total
}

/// Starting states drawn exactly as `Pendulum::reset` draws them, θ ~ U[−π, π) and
/// θ̇ ~ U[−1, 1), from a generator seeded with `seed`.
fn starts(seed: u64, count: usize) -> Vec<(f64, f64)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut pendulum = Pendulum::new();
    (0..count)
        .map(|_| {
            pendulum.reset(&mut rng);
            pendulum.state()
        })
        .collect()
}

/// Splits `out` into one contiguous piece per thread and fills the pieces at once;
/// `fill(offset, piece)` learns where its piece starts.
fn in_parallel<T: Send>(out: &mut [T], fill: impl Fn(usize, &mut [T]) + Sync) {
    let piece = out.len().div_ceil(THREADS).max(1);
    std::thread::scope(|scope| {
        for (k, chunk) in out.chunks_mut(piece).enumerate() {
            let fill = &fill;
            scope.spawn(move || fill(k * piece, chunk));
        }
    });
}

/// Mean and its standard error (sample standard deviation over √n).
fn mean_and_error(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (variance / n).sqrt())
}

/// The mean over the start distribution (θ ∈ [−π, π), θ̇ ∈ [−1, 1), uniform) of a function of
/// the start, by the midpoint rule on a lattice of 4096 × 1024 points. For the grid's
/// interpolated values, smooth inside each cell, the rule's error is far below the
/// Monte-Carlo one (doubling the lattice moves the result by less than 0.0001).
fn start_average(f: impl Fn(f64, f64) -> f64) -> f64 {
    let (thetas, speeds) = (4096, 1024);
    let mut total = 0.0;
    for i in 0..thetas {
        let theta = -PI + (i as f64 + 0.5) * TAU / thetas as f64;
        for j in 0..speeds {
            total += f(theta, -1.0 + (j as f64 + 0.5) * 2.0 / speeds as f64);
        }
    }
    total / (thetas * speeds) as f64
}

/// What one grid gives, with the time each phase took.
struct Solution {
    /// The grid's own answer: `V_200` averaged over the start distribution.
    grid_estimate: f64,
    /// `V_200` interpolated at each start, and the return of each rollout from it.
    grid_at_starts: Vec<f64>,
    returns: Vec<f64>,
    solve_seconds: f64,
    rollout_seconds: f64,
    /// `V_0, …, V_200`, for more rollouts.
    values: Vec<Vec<f32>>,
}

fn solve(greedy: Greedy, starts: &[(f64, f64)]) -> Solution {
    let grid = greedy.grid;
    let clock = Instant::now();
    let values = value_iteration(grid, greedy.torques);
    let solve_seconds = clock.elapsed().as_secs_f64();
    let at = |theta, speed| grid.interpolate(&values[HORIZON], grid.locate(theta, speed));
    let clock = Instant::now();
    let returns = rollouts(greedy, &values, starts);
    Solution {
        grid_estimate: start_average(at),
        grid_at_starts: starts.iter().map(|&(theta, speed)| at(theta, speed)).collect(),
        returns,
        solve_seconds,
        rollout_seconds: clock.elapsed().as_secs_f64(),
        values,
    }
}

/// The return of a rollout from each of `starts`, on both threads.
fn rollouts(greedy: Greedy, values: &[Vec<f32>], starts: &[(f64, f64)]) -> Vec<f64> {
    let mut returns = vec![0.0; starts.len()];
    in_parallel(&mut returns, |offset, chunk| {
        for (k, total) in chunk.iter_mut().enumerate() {
            *total = rollout(greedy, values, starts[offset + k]);
        }
    });
    returns
}

/// The optimum on the very episodes chapter 11 evaluates its agents on: for each training seed
/// 1 to 10, the mean return of the rollouts from the 100 starts that `ppo::ppo::evaluate` draws
/// for that seed. An agent's evaluation and this are averages over the same starts, so their
/// difference is free of the luck of the draw (about ±8 for a mean of 100 episodes).
fn print_optimum_per_seed(greedy: Greedy, values: &[Vec<f32>]) {
    let n = greedy.grid.n;
    println!();
    println!("The optimum on each training seed's 100 evaluation episodes ({n} × {n} grid):");
    println!("| seed | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | mean |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let means: Vec<f64> = (1..=10)
        .map(|seed| {
            let starts = starts(evaluation_seed(seed), 100);
            mean_and_error(&rollouts(greedy, values, &starts)).0
        })
        .collect();
    let row: Vec<String> = means.iter().map(|m| format!("{m:.1}")).collect();
    let mean = means.iter().sum::<f64>() / means.len() as f64;
    println!("| optimum | {} | {mean:.1} |", row.join(" | "));
}

impl Solution {
    /// The optimum estimated from the rollouts, with its standard error, using the grid's
    /// values as a control variate: E[return] = E[return − V_200] + E[V_200]. The second term
    /// is known without sampling error (`grid_estimate`), and the first varies far less from
    /// start to start than the return does, since both terms pay for the same swing-up.
    fn controlled_estimate(&self) -> (f64, f64) {
        let gaps: Vec<f64> =
            self.returns.iter().zip(&self.grid_at_starts).map(|(r, v)| r - v).collect();
        let (gap, error) = mean_and_error(&gaps);
        (self.grid_estimate + gap, error)
    }
}

/// The command line: grid sizes, and the options that show what does not matter.
struct Options {
    sizes: Vec<usize>,
    torques: Torques,
    refine: bool,
    starts: usize,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        sizes: Vec::new(),
        torques: Torques { count: 21 },
        refine: false,
        starts: 10_000,
    };
    let mut args = std::env::args().skip(1);
    let number = |flag: &str, value: Option<String>, min: usize, max: usize| {
        let value = value.ok_or(format!("{flag} needs a value"))?;
        match value.parse() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(format!("{flag} must be a whole number from {min} to {max}, got {value:?}")),
        }
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--torques" => options.torques.count = number("--torques", args.next(), 2, 10_000)?,
            "--starts" => options.starts = number("--starts", args.next(), 2, 10_000_000)?,
            "--refine" => options.refine = true,
            _ => options.sizes.push(number("a grid size", Some(arg), 3, usize::from(u16::MAX))?),
        }
    }
    if options.sizes.is_empty() {
        options.sizes = vec![201, 401, 801];
    }
    Ok(options)
}

fn main() {
    let options = options().unwrap_or_else(|message| {
        eprintln!("error: {message}");
        eprintln!("usage: optimum [--torques N] [--refine] [--starts N] [GRID SIZE …]");
        std::process::exit(2)
    });
    let starts = starts(STARTS_SEED, options.starts);
    let refined = if options.refine { ", refined" } else { "" };
    println!(
        "Pendulum-v1, {HORIZON} steps; {} torques{refined}; {} starts (seed {STARTS_SEED}); {THREADS} threads",
        options.torques.count, options.starts
    );
    println!(
        "| grid | value iteration | rollouts | grid's estimate | rollouts: mean | rollouts, grid as control variate |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let mut finest = None;
    for n in options.sizes {
        let greedy = Greedy { grid: Grid { n }, torques: options.torques, refine: options.refine };
        // The previous grid's tables are no longer needed: free them before the next solve.
        drop(finest.take());
        let solution = solve(greedy, &starts);
        let (mean, error) = mean_and_error(&solution.returns);
        let (controlled, controlled_error) = solution.controlled_estimate();
        println!(
            "| {n} × {n} | {:.1} s | {:.1} s | {:.2} | {mean:.2} ± {error:.2} | {controlled:.2} ± {controlled_error:.2} |",
            solution.solve_seconds, solution.rollout_seconds, solution.grid_estimate
        );
        finest = Some((greedy, solution.values));
    }
    if let Some((greedy, values)) = finest {
        print_optimum_per_seed(greedy, &values);
    }
}
