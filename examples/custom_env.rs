//! Training PPO on an environment of your own: everything the trainer needs is the `Env`
//! trait, written here for a small task.
//!
//! **The corridor.** A walker stands on one of `LENGTH` cells of a corridor and steps left or
//! right; the exit is the last cell. Each step costs 0.01, reaching the exit pays 1 instead and
//! ends the episode (terminated); after 50 steps the episode is cut off (truncated). The
//! walker starts on a random cell of the left half and sees its position and its distance to
//! the exit, both scaled to [0, 1]. The best policy walks straight right: from cell `c` it
//! earns `1 − 0.01·(LENGTH − 2 − c)`.
//!
//! ```text
//! cargo run --release --example custom_env
//! ```
//!
//! CI runs it, and it exits with status 1 if the trained policy is not close to the best.
//!
//! It trains for 20,000 steps with the CartPole preset's settings (a discrete action space
//! takes the Categorical distribution) and prints the deterministic policy's mean return over
//! 100 episodes beside the best possible return from the same starts.

use ppo::ppo::{Config, Trainer, evaluation_seed};
use ppo::{ActionSpace, Env, Step};
use rand::{Rng, RngExt};

/// Cells in the corridor; the exit is the last.
const LENGTH: usize = 10;
/// Steps after which an episode is cut off.
const TIME_LIMIT: u32 = 50;

// ANCHOR: corridor
/// A corridor of `LENGTH` cells with the exit at the right end.
#[derive(Clone, Debug, Default)]
struct Corridor {
    cell: usize,
    steps: u32,
}

impl Corridor {
    fn observation(&self) -> [f32; 2] {
        let last = (LENGTH - 1) as f32;
        [self.cell as f32 / last, (LENGTH - 1 - self.cell) as f32 / last]
    }
}

impl Env for Corridor {
    type Obs = [f32; 2];
    /// 0 steps left, 1 steps right.
    type Action = usize;

    fn obs_size(&self) -> usize {
        2
    }

    fn action_space(&self) -> ActionSpace<'_> {
        ActionSpace::Discrete { choices: 2 }
    }

    fn reset(&mut self, rng: &mut dyn Rng) -> [f32; 2] {
        self.cell = rng.random_range(0..LENGTH / 2);
        self.steps = 0;
        self.observation()
    }

    fn step(&mut self, action: usize) -> Step<[f32; 2]> {
        match action {
            0 => self.cell = self.cell.saturating_sub(1),
            1 => self.cell = (self.cell + 1).min(LENGTH - 1),
            other => panic!("the corridor takes action 0 (left) or 1 (right), not {other}"),
        }
        self.steps += 1;
        let terminated = self.cell == LENGTH - 1;
        Step {
            obs: self.observation(),
            reward: if terminated { 1.0 } else { -0.01 },
            terminated,
            truncated: !terminated && self.steps >= TIME_LIMIT,
        }
    }
}
// ANCHOR_END: corridor

fn main() {
    // ANCHOR: train
    let config = Config { total_timesteps: 20_000, ..Config::cartpole() };
    let envs = vec![Corridor::default(); config.num_envs];
    let mut trainer = Trainer::new(config.clone(), envs);
    while !trainer.is_done() {
        let stats = trainer.iterate().expect("the corridor's numbers stay finite");
        if stats.update % 10 == 0 {
            let mean = stats.episode_return.map_or("n/a".into(), |r| format!("{r:.3}"));
            println!("update {:>3}: mean training return {mean}", stats.update);
        }
    }
    let eval_envs = vec![Corridor::default(); 100];
    let result = trainer.evaluate(eval_envs, evaluation_seed(config.seed));
    // ANCHOR_END: train
    // The best return from cell c is 1 − 0.01·(LENGTH − 2 − c). The evaluation's episodes
    // start where a generator seeded as `evaluate` seeds its own puts them.
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(evaluation_seed(1));
    let best: f64 = (0..100)
        .map(|_| {
            let mut corridor = Corridor::default();
            corridor.reset(&mut rng);
            1.0 - 0.01 * (LENGTH - 2 - corridor.cell) as f64
        })
        .sum::<f64>()
        / 100.0;
    println!(
        "deterministic policy: mean return {:.3} over 100 episodes; walking straight to the exit: {best:.3}",
        result.mean
    );
    // CI runs this example: a policy that has not learned to walk to the exit fails it.
    if result.mean < best - 0.05 {
        eprintln!("error: the policy did not learn the corridor");
        std::process::exit(1);
    }
}
