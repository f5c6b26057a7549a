//! `cartpole`: trains a PPO agent on Gymnasium's CartPole-v1, saves it, evaluates it, shows
//! it. All of it is [`ppo::program`], run with CartPole's [`ppo::program::Task`].

fn main() -> std::process::ExitCode {
    ppo::program::main::<ppo::program::tasks::CartPoleTask>()
}
