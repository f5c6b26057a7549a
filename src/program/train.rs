//! `PROGRAM [train]`: a training run and the four files it leaves.
//!
//! The run owns its directory while it lives ([`RunDir`]): no other run can write there, and
//! every file in it is this run's. Every file is written with [`write_atomic`], so each is
//! either absent, the previous version or the new one, never half written. `config.txt` and a
//! checkpoint of the untrained networks are written before training starts, which also proves
//! the directory writable before any time is spent; `metrics.csv` and `policy.ckpt` are
//! rewritten after every update, behind the training, by a [`Saver`], so an interrupted run
//! keeps its record up to its last update, and a diverged one its last good networks.
//!
//! However a run ends, it ends the same way: the learning curve is written, and one line says
//! what happened. SIGINT and SIGTERM are caught ([`Catch`]) and acted on between two updates,
//! so that no file write is cut off; a closed or full standard output ends the run at the next
//! line it prints.

use super::options::{Train, config_file_text};
use super::output::OutputError;
use super::progress::Progress;
use super::rundir::RunDir;
use super::saver::Saver;
use super::signals::{Catch, Signal};
use super::{Failure, Info, Preset, Task, final_line, output, terminal};
use crate::checkpoint::{self, write_atomic};
use crate::plot::{LinePlot, Series};
use crate::ppo::{Config, Divergence, Evaluation, Trainer, UpdateStats, evaluation_seed};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Episodes of the final evaluation.
const FINAL_EVAL_EPISODES: usize = super::options::EVAL_EPISODES;
/// The files of a run, all that its directory may hold.
pub const RUN_FILES: [&str; 4] = ["config.txt", "metrics.csv", "learning_curve.svg", "policy.ckpt"];

/// What may stop a run between two updates, from outside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Halt {
    /// SIGINT or SIGTERM.
    Signal(Signal),
    /// Its caller gave up on it: a sweep whose standard output failed.
    Abandoned,
}

/// How a training run ended.
#[derive(Debug)]
pub enum Ending {
    /// Its budget spent, and the final evaluation of the trained policy.
    Finished(Evaluation),
    /// Training diverged.
    Diverged(Divergence),
    /// Stopped between two updates.
    Halted(Halt),
    /// Standard output failed while the progress was shown.
    Output(OutputError),
}

/// A run's ending, the update its checkpoint holds, and the wall time it took.
#[derive(Debug)]
pub struct Outcome {
    pub ending: Ending,
    pub last_saved: usize,
    pub seconds: f64,
}

// ANCHOR: train
/// A single run: trains into its directory, then says where the files are and prints the
/// final line, or why there is none.
///
/// # Errors
/// A one-line message and its status: the output directory cannot be taken or written (1),
/// training diverged (1), a signal ended it (128 + the signal), standard output failed.
pub fn run<T: Task>(train: Train) -> Result<(), Failure> {
    let Train { preset, config, out, quiet, threads, .. } = train;
    let info = &T::INFO;
    let dir = RunDir::take(&out.unwrap_or_else(|| default_out_dir(preset, &config)), &RUN_FILES)?;
    let signals = Catch::new(&[Signal::Interrupt, Signal::Terminate]);
    let mut progress = Progress::new(quiet, config.updates(), config.batch_size());
    let halt = || signals.ending().map(Halt::Signal);
    let Outcome { ending, last_saved, .. } =
        train_into::<T>(preset, &config, threads, &dir, &mut progress, &halt)?;
    drop(signals);
    let checkpoint = terminal::path(&dir.file("policy.ckpt"));
    let (status, message) = match ending {
        Ending::Finished(result) => {
            progress.say(&format!("run files: {}", terminal::path(dir.path())))?;
            output::println(&final_line(&result))?;
            return Ok(());
        }
        Ending::Output(e) => return Err(Failure::from(e)),
        Ending::Diverged(divergence) => (
            1,
            format!("{divergence}; keeping the checkpoint of update {last_saved} at {checkpoint}"),
        ),
        Ending::Halted(Halt::Signal(signal)) => (
            signal.exit_status(),
            format!(
                "interrupted by {} after update {last_saved} of {}; its checkpoint, metrics.csv and learning_curve.svg are in {} ({} eval --checkpoint {checkpoint})",
                signal.name(),
                config.updates(),
                terminal::path(dir.path()),
                info.name
            ),
        ),
        Ending::Halted(Halt::Abandoned) => (1, format!("stopped after update {last_saved}")),
    };
    progress.end_line()?;
    Err(Failure { message: Some(message), status })
}
// ANCHOR_END: train

// ANCHOR: train_into
/// Trains `config` of `preset` into `dir` on `threads` threads, writes the run's four files,
/// and evaluates the trained policy; shows the progress of each update on `progress`, and
/// asks `halt`, before each, whether to stop. The same for a single run and for each run of
/// a sweep: only the caller's printing differs.
///
/// # Errors
/// A one-line message if a file cannot be written.
pub fn train_into<T: Task>(
    preset: &Preset,
    config: &Config,
    threads: usize,
    dir: &RunDir,
    progress: &mut Progress,
    halt: &dyn Fn() -> Option<Halt>,
) -> Result<Outcome, String> {
    let started = Instant::now();
    let info = &T::INFO;
    let [config_path, metrics_path, curve_path, checkpoint_path] = RUN_FILES.map(|f| dir.file(f));
    write_file(&config_path, config_file_text(info, preset, config).as_bytes())?;

    let envs = (0..config.num_envs).map(|_| T::env()).collect();
    let mut trainer = Trainer::new(config.clone(), envs);
    trainer.set_threads(threads);
    let checkpoint_file = |trainer: &Trainer<T::Env>, stats: Option<&UpdateStats>| {
        let progress = checkpoint::Progress {
            update: stats.map_or(0, |s| s.update as u64),
            timesteps: stats.map_or(0, |s| s.timesteps as u64),
        };
        let snapshot = checkpoint::Snapshot {
            env: info.env_id,
            config,
            actor: trainer.actor(),
            critic: trainer.critic(),
            observation_stats: trainer.observation_stats(),
            progress,
        };
        (checkpoint_path.clone(), checkpoint::encode_snapshot(&snapshot))
    };
    let (path, untrained) = checkpoint_file(&trainer, None);
    write_file(&path, &untrained)?;
    // Every later file is written behind the training, on the saver's thread.
    let saver = Saver::new()?;
    // ANCHOR_END: train_into

    // ANCHOR: train_loop
    let mut metrics = Metrics::new();
    let metrics_file = |metrics: &Metrics| (metrics_path.clone(), metrics.csv.as_bytes().to_vec());
    let mut last_saved = 0;
    let stop = loop {
        if let Some(halt) = halt() {
            break Some(Ending::Halted(halt));
        }
        if trainer.is_done() {
            break None;
        }
        let stats = match trainer.iterate() {
            Ok(stats) => stats,
            Err(divergence) => {
                if let Some(stats) = &divergence.stats {
                    metrics.push(stats, config);
                    saver.save([metrics_file(&metrics)])?;
                }
                break Some(Ending::Diverged(divergence));
            }
        };
        metrics.push(&stats, config);
        saver.save([metrics_file(&metrics), checkpoint_file(&trainer, Some(&stats))])?;
        last_saved = stats.update;
        if let Err(e) = progress.update(&stats) {
            break Some(Ending::Output(e));
        }
    };
    // ANCHOR_END: train_loop
    // ANCHOR: train_end
    let curve = learning_curve::<T>(&metrics, preset, config);
    saver.save([(curve_path, curve.into_bytes())])?;
    // The last files reach the disk while the trained policy is evaluated.
    let ending = stop.unwrap_or_else(|| {
        let eval_envs = (0..FINAL_EVAL_EPISODES).map(|_| T::env()).collect();
        Ending::Finished(trainer.evaluate(eval_envs, evaluation_seed(config.seed)))
    });
    saver.finish()?;
    Ok(Outcome { ending, last_saved, seconds: started.elapsed().as_secs_f64() })
}
// ANCHOR_END: train_end

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    write_atomic(path, bytes).map_err(|e| format!("cannot write {}: {e}", terminal::path(path)))
}

fn default_out_dir(preset: &Preset, config: &Config) -> PathBuf {
    stamped_dir(preset, &format!("seed{}", config.seed))
}

/// `runs/<preset>-<what>-<milliseconds since 1970>`: a new directory for each run.
pub fn stamped_dir(preset: &Preset, what: &str) -> PathBuf {
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    PathBuf::from("runs").join(format!("{}-{what}-{stamp}", preset.name))
}

// ANCHOR: metrics
/// The rows of `metrics.csv` and the points of the learning curve.
pub struct Metrics {
    pub csv: String,
    curve: Vec<(f64, f64)>,
}

/// The columns, named as Stable-Baselines3 logs them where the two overlap, so that tools
/// written for its CSV logs read ours. Two differences: `rollout/ep_rew_mean` is the mean over
/// the episodes that ended during the update (SB3 averages the last 100 episodes), and the
/// two `time/*_seconds` columns are ours.
pub const CSV_HEADER: &str = "time/iterations,time/total_timesteps,time/time_elapsed,time/fps,\
rollout/ep_rew_mean,rollout/ep_len_mean,train/approx_kl,train/clip_fraction,train/clip_range,\
train/entropy_loss,train/explained_variance,train/learning_rate,train/policy_gradient_loss,\
train/value_loss,time/collect_seconds,time/learn_seconds";

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics { csv: format!("{CSV_HEADER}\n"), curve: Vec::new() }
    }

    /// Adds the row of one update.
    pub fn push(&mut self, s: &UpdateStats, config: &Config) {
        let optional = |x: Option<f64>| x.map_or(String::new(), |x| format!("{x:.3}"));
        let _ = writeln!(
            self.csv,
            "{},{},{:.3},{:.0},{},{},{},{},{},{},{},{},{},{},{:.4},{:.4}",
            s.update,
            s.timesteps,
            s.elapsed,
            s.timesteps as f64 / s.elapsed.max(1e-9),
            optional(s.episode_return),
            optional(s.episode_length),
            s.approx_kl,
            s.clip_fraction,
            config.clip_epsilon,
            -s.entropy, // SB3 logs the entropy *loss*: the negated entropy
            s.explained_variance,
            s.learning_rate,
            s.policy_loss,
            s.value_loss,
            s.collect_seconds,
            s.learn_seconds
        );
        // No episode ended: NaN leaves a gap in the curve rather than inventing a value.
        self.curve.push((s.timesteps as f64, s.episode_return.unwrap_or(f64::NAN)));
    }
}
// ANCHOR_END: metrics

/// `learning_curve.svg`: the mean training return against environment steps, with the
/// task's marks (for the pendulum −150, good, and −200, successful).
pub fn learning_curve<T: Task>(metrics: &Metrics, preset: &Preset, config: &Config) -> String {
    let Info { env_id, .. } = T::INFO;
    LinePlot {
        title: format!("PPO on {env_id}: preset {}, seed {}", preset.name, config.seed),
        x_label: "environment steps".into(),
        y_label: "mean episode return".into(),
        series: vec![Series {
            label: "episodes ending in each update (stochastic policy)".into(),
            points: metrics.curve.clone(),
            color: "#1f77b4".into(),
        }],
        hlines: T::MARKS
            .iter()
            .map(|&(value, meaning)| (value, format!("{}: {meaning}", signed(value))))
            .collect(),
    }
    .to_svg()
}

/// A number as the plots label it, with a true minus sign.
fn signed(value: f64) -> String {
    if value < 0.0 { format!("−{}", -value) } else { value.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_have_every_column() {
        let mut metrics = Metrics::new();
        let stats = UpdateStats {
            update: 1,
            timesteps: 2048,
            entropy: 1.5,
            elapsed: 0.5,
            ..UpdateStats::default()
        };
        metrics.push(&stats, &Config::default());
        let lines: Vec<&str> = metrics.csv.lines().collect();
        let columns = CSV_HEADER.split(',').count();
        assert_eq!(columns, 16);
        assert_eq!(lines[1].split(',').count(), columns, "{}", lines[1]);
        assert!(lines[1].starts_with("1,2048,0.500,4096,,,0,0,0.2,-1.5,"), "{}", lines[1]);
    }
}
