//! `pendulum`: trains a PPO agent on Gymnasium's Pendulum-v1, saves it, evaluates it, shows
//! it. All of it is [`ppo::program`], run with the pendulum's [`ppo::program::Task`].

fn main() -> std::process::ExitCode {
    ppo::program::main::<ppo::program::tasks::PendulumTask>()
}
