//! `PROGRAM eval`: loads a checkpoint, runs the deterministic policy, prints the final line;
//! with `--render` on a terminal, animates the episodes first.

use super::options::{EVAL_EPISODES, Eval, MAX_WIDTH, RENDER_EPISODES};
use super::render::{self, Outcome};
use super::{Failure, Task, final_line, output, terminal};
use crate::checkpoint::{self, size_limit, sizes_of};
use crate::ppo::evaluate_normalized;
use crate::{ActionSpace, Env};
use std::io::IsTerminal;

/// Runs `PROGRAM eval`.
///
/// # Errors
/// A one-line message: the checkpoint cannot be loaded or is not for this task's environment,
/// or the animation was interrupted.
pub fn run<T: Task>(eval: Eval) -> Result<(), Failure> {
    let env = T::env();
    let space = env.action_space();
    let outputs = match space {
        ActionSpace::Continuous { low, .. } => low.len(),
        ActionSpace::Discrete { choices } => choices,
    };
    // No checkpoint of the networks the options can build is larger than this.
    let limit = size_limit(env.obs_size(), outputs, MAX_WIDTH);
    let loaded = checkpoint::load(&eval.checkpoint, limit)
        .map_err(|e| e.message_with(&terminal::path(&e.path)))?;
    let env_id = T::INFO.env_id;
    if !loaded.env.is_empty() && loaded.env != env_id {
        return Err(Failure::from(format!(
            "checkpoint {} was trained on {}, not {env_id}: evaluate it with the program for {}",
            terminal::path(&eval.checkpoint),
            terminal::escape(&loaded.env),
            terminal::escape(&loaded.env)
        )));
    }
    let actor = &loaded.actor;
    let a = actor.config();
    let scale_fits = match space {
        ActionSpace::Continuous { high, .. } => a.action_scale == high[0],
        ActionSpace::Discrete { .. } => true,
    };
    if a.obs_size != env.obs_size() || a.action_size != outputs || !scale_fits {
        return Err(Failure::from(format!(
            "checkpoint {}: its actor ({}, actions scaled to ±{}) does not fit {} ({} observations, actions {:?})",
            terminal::path(&eval.checkpoint),
            sizes_of(&a.hidden, a.obs_size, a.action_size),
            a.action_scale,
            T::INFO.env_id,
            env.obs_size(),
            space
        )));
    }
    let episodes =
        eval.episodes.unwrap_or(if eval.render { RENDER_EPISODES } else { EVAL_EPISODES });
    // By default, the starting states of the training run's own final evaluation, so that
    // this prints the same final line as the run did.
    let seed = eval.seed.unwrap_or(crate::ppo::evaluation_seed(loaded.config.seed));
    if eval.render
        && std::io::stdout().is_terminal()
        && let Outcome::Interrupted { episode, signal } =
            render::animate::<T>(actor, loaded.observation_stats.as_ref(), episodes, seed)
    {
        let message =
            format!("interrupted by {} during episode {episode} of {episodes}", signal.name());
        return Err(Failure { message: Some(message), status: signal.exit_status() });
    }
    let envs = (0..episodes).map(|_| T::env()).collect();
    let stats = loaded.observation_stats.as_ref();
    output::println(&final_line(&evaluate_normalized(actor, stats, envs, seed)))?;
    Ok(())
}
