//! `pendulum [train]`: a training run and the four files it leaves.
//!
//! Every file is written with [`write_atomic`], so each is either absent, the previous
//! version or the new one, never half written. `config.txt` and a checkpoint of the
//! untrained networks are written before training starts, which also proves the directory
//! writable before any time is spent; `metrics.csv` and `policy.ckpt` are rewritten after every
//! update, so an interrupted run keeps its record up to its last update, and a diverged one
//! its last good networks.

use crate::final_line;
use crate::options::{Preset, Train, config_file_text};
use crate::progress::Progress;
use ppo::Pendulum;
use ppo::checkpoint::{self, write_atomic};
use ppo::plot::{LinePlot, Series};
use ppo::ppo::{Config, Trainer, UpdateStats, evaluate, evaluation_seed};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Episodes of the final evaluation.
const FINAL_EVAL_EPISODES: usize = crate::options::EVAL_EPISODES;

// ANCHOR: train
/// Trains, writes the run's files, evaluates, and prints the final line.
///
/// # Errors
/// A one-line message: the output directory cannot be written, or training diverged.
pub fn run(train: Train) -> Result<(), String> {
    let Train { preset, config, out, quiet } = train;
    let dir = out.unwrap_or_else(|| default_out_dir(preset, &config));
    prepare_out_dir(&dir)?;
    let [config_path, metrics_path, curve_path, checkpoint_path] =
        ["config.txt", "metrics.csv", "learning_curve.svg", "policy.ckpt"].map(|f| dir.join(f));
    write_file(&config_path, config_file_text(preset, &config).as_bytes())?;

    let envs = (0..config.num_envs).map(|_| Pendulum::new()).collect();
    let mut trainer = Trainer::new(config.clone(), envs);
    let save = |trainer: &Trainer<Pendulum>, stats: Option<&UpdateStats>| {
        let progress = checkpoint::Progress {
            update: stats.map_or(0, |s| s.update as u64),
            timesteps: stats.map_or(0, |s| s.timesteps as u64),
        };
        checkpoint::save(&checkpoint_path, &config, trainer.actor(), trainer.critic(), progress)
            .map_err(|e| e.to_string())
    };
    save(&trainer, None)?;

    let mut progress = Progress::new(quiet, config.updates(), config.batch_size());
    let mut metrics = Metrics::new();
    let mut last_saved = 0;
    while !trainer.is_done() {
        let stats = match trainer.iterate() {
            Ok(stats) => stats,
            Err(divergence) => {
                if let Some(stats) = &divergence.stats {
                    metrics.push(stats, &config);
                    write_file(&metrics_path, metrics.csv.as_bytes())?;
                }
                progress.end_line();
                write_file(&curve_path, learning_curve(&metrics, preset, &config).as_bytes())?;
                return Err(format!(
                    "{divergence}; keeping the checkpoint of update {last_saved} at {}",
                    checkpoint_path.display()
                ));
            }
        };
        metrics.push(&stats, &config);
        write_file(&metrics_path, metrics.csv.as_bytes())?;
        save(&trainer, Some(&stats))?;
        last_saved = stats.update;
        progress.update(&stats);
    }
    progress.end_line();
    write_file(&curve_path, learning_curve(&metrics, preset, &config).as_bytes())?;

    let eval_envs = (0..FINAL_EVAL_EPISODES).map(|_| Pendulum::new()).collect();
    let result = evaluate(trainer.actor(), eval_envs, evaluation_seed(config.seed));
    progress.say(&format!("run files: {}", dir.display()));
    println!("{}", final_line(&result));
    Ok(())
}
// ANCHOR_END: train

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    write_atomic(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn default_out_dir(preset: Preset, config: &Config) -> PathBuf {
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    PathBuf::from("runs").join(format!("{}-seed{}-{stamp}", preset.name(), config.seed))
}

/// Creates the output directory and checks that a file can be written there, before any
/// training time is spent.
fn prepare_out_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create output directory {}: {e}", dir.display()))?;
    let probe = dir.join(".write-test");
    write_atomic(&probe, b"")
        .map_err(|e| format!("cannot write in output directory {}: {e}", dir.display()))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
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

/// `learning_curve.svg`: the mean training return against environment steps, with the book's
/// two success lines (−200 and −150, chapter 6).
pub fn learning_curve(metrics: &Metrics, preset: Preset, config: &Config) -> String {
    LinePlot {
        title: format!("PPO on Pendulum-v1: preset {}, seed {}", preset.name(), config.seed),
        x_label: "environment steps".into(),
        y_label: "mean episode return".into(),
        series: vec![Series {
            label: "episodes ending in each update (stochastic policy)".into(),
            points: metrics.curve.clone(),
            color: "#1f77b4".into(),
        }],
        hlines: vec![(-150.0, "−150: good".into()), (-200.0, "−200: successful".into())],
    }
    .to_svg()
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
