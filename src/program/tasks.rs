//! The two tasks: Pendulum-v1 and CartPole-v1, with their presets.

use super::{Info, Preset, Task};
use crate::cartpole::CartPole;
use crate::pendulum::Pendulum;
use crate::ppo::Config;
use std::time::Duration;

// ANCHOR: pendulum_task
/// `pendulum`: Gymnasium's Pendulum-v1.
pub struct PendulumTask;

impl Task for PendulumTask {
    type Env = Pendulum;
    const INFO: Info = Info {
        name: "pendulum",
        env_id: "Pendulum-v1",
        about: "train a PPO agent on Pendulum-v1, save it, evaluate it, watch it",
        presets: &[
            Preset {
                name: "default",
                about: "what solves Pendulum-v1 in 100,000 steps (chosen by experiment, chapter 11)",
                config: Config::default,
            },
            Preset {
                name: "seed",
                about: "the JAX/Flax Pendulum write-up's hyperparameter table, exactly",
                config: Config::seed,
            },
        ],
    };
    const STEP: Duration = Duration::from_millis(50);
    const TIME_LIMIT: usize = Pendulum::MAX_EPISODE_STEPS as usize;
    const MARKS: &'static [(f64, &'static str)] = &[(-150.0, "good"), (-200.0, "successful")];

    fn env() -> Pendulum {
        Pendulum::new()
    }

    fn picture(env: &Pendulum) -> String {
        env.render()
    }
}
// ANCHOR_END: pendulum_task

// ANCHOR: cartpole_task
/// `cartpole`: Gymnasium's CartPole-v1.
pub struct CartPoleTask;

impl Task for CartPoleTask {
    type Env = CartPole;
    const INFO: Info = Info {
        name: "cartpole",
        env_id: "CartPole-v1",
        about: "train a PPO agent on CartPole-v1, save it, evaluate it, watch it",
        presets: &[
            Preset {
                name: "default",
                about: "what solves CartPole-v1 in 100,000 steps on every seed (chosen by experiment)",
                config: Config::cartpole,
            },
            Preset {
                name: "seed",
                about: "the TensorFlow overview's table, its 20 episodes per iteration as rollouts of 2048 steps",
                config: Config::cartpole_seed,
            },
        ],
    };
    const STEP: Duration = Duration::from_millis(20);
    const TIME_LIMIT: usize = CartPole::MAX_EPISODE_STEPS as usize;
    const MARKS: &'static [(f64, &'static str)] = &[(475.0, "solved (Gymnasium's threshold)")];

    fn env() -> CartPole {
        CartPole::new()
    }

    fn picture(env: &CartPole) -> String {
        env.render()
    }
}
// ANCHOR_END: cartpole_task
