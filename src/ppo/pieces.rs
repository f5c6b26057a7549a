//! Long minibatches in pieces, so that both threads share every network's work (chapter 14).
//!
//! With two threads, a minibatch's actor and critic steps run side by side (chapter 10), so a
//! run goes as fast as the slower of the two; at the 1024-agent scale the actor's step is the
//! longer by half. A minibatch of more than [`ROWS_PER_PIECE`] rows is instead cut into
//! pieces of nearly equal length, each piece's loss weighted by its share of the rows, and
//! every piece of either network is a task that the first free thread takes. Each piece has
//! its own tape, and the gradients are summed over the pieces in their order after all are
//! done, so which thread took which piece changes no bit: one thread and two give the same
//! run. The cut itself does change the bits of such a minibatch's gradients (a sum over its
//! rows is now a sum of the pieces' sums), which is why the length of a piece is a constant
//! of the crate and not of the thread count.

use super::{ActorStepStats, CriticWork, Rows, Trainer};
use crate::autodiff::{Tape, Var};
use crate::distributions::Randomness;
use crate::env::Env;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

// ANCHOR: rows_per_piece
/// The most rows a piece holds, and so the longest minibatch that is not cut. A piece this
/// long keeps a 32-wide layer's activations (512 KiB) in a core's second-level cache, and
/// gives the 1024-agent preset's minibatches of 32,768 rows eight pieces a network; the
/// minibatches of every other preset stay whole.
pub const ROWS_PER_PIECE: usize = 4096;
// ANCHOR_END: rows_per_piece

/// The tapes of a minibatch's pieces, kept from one minibatch to the next.
#[derive(Default)]
pub(super) struct Pieces {
    actor: Vec<Mutex<ActorPiece>>,
    critic: Vec<Mutex<CriticPiece>>,
    /// How many pieces the last minibatch was cut into: 0 when it was not.
    used: usize,
}

#[derive(Default)]
struct ActorPiece {
    tape: Tape,
    vars: Vec<Var>,
    stats: ActorStepStats,
}

#[derive(Default)]
struct CriticPiece {
    work: CriticWork,
    loss: f32,
}

/// A task's lock. Only one task ever takes a piece's lock, so it waits for nobody; it is
/// poisoned only if that task panicked, and then `join` passes the panic on anyway.
fn lock<T>(piece: &Mutex<T>) -> MutexGuard<'_, T> {
    piece.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Piece `index` of `count` of the rows: the pieces' lengths differ by one at most.
fn piece(rows: Rows<'_>, index: usize, count: usize) -> Rows<'_> {
    let len = rows.batch.len();
    let (start, end) = (index * len / count, (index + 1) * len / count);
    Rows {
        batch: &rows.batch[start..end],
        advantages: &rows.advantages[start..end],
        share: (end - start) as f32 / len as f32,
    }
}

impl Pieces {
    /// Forgets the last cut: the next steps use the networks' own tapes.
    pub(super) fn clear(&mut self) {
        self.used = 0;
    }

    /// The actor's and the critic's tapes of the last minibatch's pieces, with the nodes
    /// of their parameters; both empty when it was not cut.
    #[allow(clippy::type_complexity)]
    pub(super) fn tapes_mut(
        &mut self,
    ) -> (impl Iterator<Item = (&Tape, &[Var])>, impl Iterator<Item = (&Tape, &[Var])>) {
        let actor = self.actor[..self.used].iter_mut().map(|piece| {
            let piece = piece.get_mut().unwrap_or_else(PoisonError::into_inner);
            (&piece.tape, &piece.vars[..])
        });
        let critic = self.critic[..self.used].iter_mut().map(|piece| {
            let piece = piece.get_mut().unwrap_or_else(PoisonError::into_inner);
            (&piece.work.tape, &piece.work.vars[..])
        });
        (actor, critic)
    }
}

/// The tapes of `pieces`, or `whole` alone when there are none.
pub(super) fn or_whole<'a>(
    pieces: impl Iterator<Item = (&'a Tape, &'a [Var])>,
    whole: (&'a Tape, &'a [Var]),
) -> impl Iterator<Item = (&'a Tape, &'a [Var])> {
    let mut pieces = pieces.peekable();
    let whole = pieces.peek().is_none().then_some(whole);
    whole.into_iter().chain(pieces)
}

impl<E: Env, R: Randomness> Trainer<E, R> {
    // ANCHOR: pieced_gradients
    /// Both networks' losses and gradients on a long minibatch, piece by piece, on every
    /// thread there is. Returns what [`separate_gradients`](Self::separate_gradients) does:
    /// the actor's diagnostics and the critic's loss, each the pieces' weighted by their
    /// shares, so that they are the whole minibatch's.
    pub(super) fn pieced_gradients(&mut self, rows: Rows<'_>) -> (ActorStepStats, f32) {
        let count = rows.batch.len().div_ceil(ROWS_PER_PIECE);
        let mut pieces = std::mem::take(&mut self.pieces);
        pieces.actor.resize_with(count.max(pieces.actor.len()), Mutex::default);
        pieces.critic.resize_with(count.max(pieces.critic.len()), Mutex::default);
        pieces.used = count;
        let mut workers = std::mem::take(&mut self.workers);
        let inputs = self.policy_inputs();
        let (critic, buffer, config) = (&self.critic, &self.buffer, &self.config);
        // Tasks 0..count are the actor's pieces, the longer ones, handed out first.
        let next_task = AtomicUsize::new(0);
        let take_tasks = || {
            loop {
                let task = next_task.fetch_add(1, Ordering::Relaxed);
                if task >= 2 * count {
                    break;
                }
                let rows = piece(rows, task % count, count);
                if task < count {
                    let piece = &mut *lock(&pieces.actor[task]);
                    piece.stats =
                        Self::actor_gradients(inputs, &mut piece.tape, &mut piece.vars, rows);
                } else {
                    let piece = &mut *lock(&pieces.critic[task - count]);
                    piece.loss =
                        Self::critic_gradients(critic, &mut piece.work, buffer, config, rows);
                }
            }
        };
        workers.join(take_tasks, take_tasks);
        self.workers = workers;
        let (mut actor, mut value_loss) = (ActorStepStats::default(), 0.0);
        for index in 0..count {
            let share = piece(rows, index, count).share;
            let stats = lock(&pieces.actor[index]).stats;
            actor.policy_loss += share * stats.policy_loss;
            actor.entropy += share * stats.entropy;
            actor.approx_kl += share * stats.approx_kl;
            actor.clip_fraction += share * stats.clip_fraction;
            value_loss += share * lock(&pieces.critic[index]).loss;
        }
        self.pieces = pieces;
        (actor, value_loss)
    }
    // ANCHOR_END: pieced_gradients
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CartPole;
    use crate::pendulum::Pendulum;
    use crate::ppo::{Config, gathered_advantages};

    #[test]
    fn pieces_cover_the_rows_in_order_with_lengths_a_row_apart_and_shares_summing_to_one() {
        let batch: Vec<usize> = (0..10_001).map(|i| (i * 7) % 10_001).collect();
        let advantages: Vec<f32> = (0..batch.len()).map(|i| i as f32).collect();
        let rows = Rows { batch: &batch, advantages: &advantages, share: 1.0 };
        let count = batch.len().div_ceil(ROWS_PER_PIECE);
        assert_eq!(count, 3);
        let pieces: Vec<Rows<'_>> = (0..count).map(|i| piece(rows, i, count)).collect();
        let lengths: Vec<usize> = pieces.iter().map(|p| p.batch.len()).collect();
        assert_eq!(lengths, [3333, 3334, 3334]);
        let joined: Vec<usize> = pieces.iter().flat_map(|p| p.batch.iter().copied()).collect();
        assert_eq!(joined, batch);
        let joined: Vec<f32> = pieces.iter().flat_map(|p| p.advantages.iter().copied()).collect();
        assert_eq!(joined, advantages);
        let shares: f32 = pieces.iter().map(|p| p.share).sum();
        assert!((shares - 1.0).abs() < 1e-6, "{shares}");
        assert_eq!(pieces[0].share, 3333.0 / 10_001.0);
    }

    /// Each parameter's gradient: from `tapes`, summed.
    fn gradients<'a>(tapes: impl Iterator<Item = (&'a Tape, &'a [Var])>) -> Vec<Vec<f32>> {
        let mut sums: Vec<Vec<f32>> = Vec::new();
        for (tape, vars) in tapes {
            sums.resize(vars.len(), Vec::new());
            for (sum, &var) in sums.iter_mut().zip(vars) {
                let grad = tape.grad(var).data();
                sum.resize(grad.len(), 0.0);
                sum.iter_mut().zip(grad).for_each(|(s, g)| *s += g);
            }
        }
        sums
    }

    fn assert_close(what: &str, pieced: &[Vec<f32>], whole: &[Vec<f32>]) {
        assert_eq!(pieced.len(), whole.len(), "{what}: parameter count");
        for (i, (p, w)) in pieced.iter().zip(whole).enumerate() {
            let scale = w.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            assert!(scale > 0.0, "{what} parameter {i}: no gradient");
            for (j, (a, b)) in p.iter().zip(w).enumerate() {
                let tolerance = 1e-4 * scale;
                assert!((a - b).abs() <= tolerance, "{what} parameter {i}[{j}]: {a} vs {b}");
            }
        }
    }

    /// The trainer after collecting one rollout and estimating its advantages, its actor then
    /// moved away from the one that collected (each parameter scaled by 1.2 and shifted by up
    /// to ±0.1, unequally), so that the ratios are not all 1 and the diagnostics not 0;
    /// `batch` the rows, shuffled.
    fn collected<E: Env>(config: Config, envs: Vec<E>) -> (Trainer<E>, Vec<usize>) {
        let mut trainer = Trainer::new(config, envs);
        trainer.envs.reset(trainer.rng.generator());
        trainer.collect().expect("the rollout diverged");
        trainer.estimate_advantages();
        for parameter in trainer.actor.parameters_mut() {
            for (i, x) in parameter.data_mut().iter_mut().enumerate() {
                *x = 1.2 * *x + 0.05 * ((i % 5) as f32 - 2.0);
            }
        }
        let mut batch: Vec<usize> = (0..trainer.buffer.capacity()).collect();
        trainer.rng.shuffle(&mut batch);
        (trainer, batch)
    }

    /// Cut into pieces or not, a minibatch's gradients and diagnostics are the same numbers
    /// up to the rounding of the sums: every piece weighted by its share, the advantages
    /// normalized over the whole minibatch, not within each piece.
    fn check_pieces_against_whole<E: Env>(name: &str, config: Config, envs: Vec<E>) {
        let (mut trainer, batch) = collected(config, envs);
        assert!(batch.len() > 2 * ROWS_PER_PIECE, "{name}: too short to cut in three");
        let mut advantages = Vec::new();
        gathered_advantages(&trainer.config, &trainer.buffer.advantages, &batch, &mut advantages);
        let rows = Rows { batch: &batch, advantages: &advantages, share: 1.0 };
        let (whole_actor, whole_value) = trainer.whole_gradients(rows);
        let (pieced_actor, pieced_value) = trainer.pieced_gradients(rows);
        assert_eq!(trainer.pieces.used, 3, "{name}");
        let actor_whole =
            gradients(std::iter::once((&trainer.actor_tape, &trainer.scratch.actor_vars[..])));
        let work = &trainer.critic_work;
        let critic_whole = gradients(std::iter::once((&work.tape, &work.vars[..])));
        let (actor_pieces, critic_pieces) = trainer.pieces.tapes_mut();
        assert_close(&format!("{name} actor"), &gradients(actor_pieces), &actor_whole);
        assert_close(&format!("{name} critic"), &gradients(critic_pieces), &critic_whole);
        let close = |a: f32, b: f32| (a - b).abs() <= 1e-5 * b.abs().max(1e-3);
        let pairs = [
            ("value loss", pieced_value, whole_value),
            ("policy loss", pieced_actor.policy_loss, whole_actor.policy_loss),
            ("entropy", pieced_actor.entropy, whole_actor.entropy),
            ("approx kl", pieced_actor.approx_kl, whole_actor.approx_kl),
            ("clip fraction", pieced_actor.clip_fraction, whole_actor.clip_fraction),
        ];
        for (what, pieced, whole) in pairs {
            assert!(whole.abs() > 1e-6, "{name} {what}: {whole}, too small to compare");
            assert!(close(pieced, whole), "{name} {what}: {pieced} vs {whole}");
        }
    }

    fn long(config: Config) -> Config {
        // 2.5 pieces' worth of rows in one minibatch: three pieces.
        let rows = 5 * ROWS_PER_PIECE / 2;
        Config {
            num_envs: 2,
            rollout_steps: rows / 2,
            minibatch_size: rows,
            total_timesteps: rows,
            ..config
        }
    }

    #[test]
    fn a_long_minibatch_in_pieces_has_the_gradients_and_diagnostics_of_the_whole() {
        let pendulums = || vec![Pendulum::new(), Pendulum::new()];
        check_pieces_against_whole("default", long(Config::default()), pendulums());
        let variants = Config {
            minibatch_advantages: true,
            value_clip: Some(0.2),
            clip_epsilon: 0.02,
            ..long(Config::seed())
        };
        check_pieces_against_whole("variants", variants, pendulums());
        let cartpole = long(Config::cartpole());
        check_pieces_against_whole("cartpole", cartpole, vec![CartPole::new(), CartPole::new()]);
    }
}
