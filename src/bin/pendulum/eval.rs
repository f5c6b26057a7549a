//! `pendulum eval`: loads a checkpoint, runs the deterministic policy, prints the final line;
//! with `--render` on a terminal, animates the episodes first.

use crate::options::{EVAL_EPISODES, Eval, MAX_WIDTH, RENDER_EPISODES};
use crate::render::{self, Outcome};
use crate::{Failure, final_line, output, terminal};
use ppo::checkpoint::{self, size_limit, sizes_of};
use ppo::ppo::evaluate;
use ppo::{Env, Pendulum};
use std::io::IsTerminal;

/// Runs `pendulum eval`.
///
/// # Errors
/// A one-line message: the checkpoint cannot be loaded or is not for the pendulum, or the
/// animation was interrupted.
pub fn run(eval: Eval) -> Result<(), Failure> {
    let env = Pendulum::new();
    // No checkpoint of the networks the options can build is larger than this.
    let limit = size_limit(env.obs_size(), 1, MAX_WIDTH);
    let loaded = checkpoint::load(&eval.checkpoint, limit)
        .map_err(|e| e.message_with(&terminal::path(&e.path)))?;
    let actor = &loaded.actor;
    let a = actor.config();
    if a.obs_size != env.obs_size() || a.action_size != 1 || a.action_scale != Pendulum::MAX_TORQUE
    {
        return Err(Failure::from(format!(
            "checkpoint {}: its actor ({}, actions scaled to ±{}) does not fit Pendulum-v1 ({} observations, 1 action in ±{})",
            terminal::path(&eval.checkpoint),
            sizes_of(&a.hidden, a.obs_size, a.action_size),
            a.action_scale,
            env.obs_size(),
            Pendulum::MAX_TORQUE
        )));
    }
    let episodes =
        eval.episodes.unwrap_or(if eval.render { RENDER_EPISODES } else { EVAL_EPISODES });
    // By default, the starting states of the training run's own final evaluation, so that
    // this prints the same final line as the run did.
    let seed = eval.seed.unwrap_or(ppo::ppo::evaluation_seed(loaded.config.seed));
    if eval.render
        && std::io::stdout().is_terminal()
        && let Outcome::Interrupted { episode, signal } = render::animate(actor, episodes, seed)
    {
        let message =
            format!("interrupted by {} during episode {episode} of {episodes}", signal.name());
        return Err(Failure { message: Some(message), status: signal.exit_status() });
    }
    let envs = (0..episodes).map(|_| Pendulum::new()).collect();
    output::println(&final_line(&evaluate(actor, envs, seed)))?;
    Ok(())
}
