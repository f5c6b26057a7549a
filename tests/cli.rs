//! The `pendulum` program as a user meets it: the built binary, run in a fresh directory.
//! Help and version; every kind of bad input refused with one line, status 2 and nothing
//! written; a short training run and its four files; the same seed giving the same bytes;
//! `eval` of the saved checkpoint; and damaged checkpoints named, not panicked over.

use ppo::checkpoint::{self, Progress};
use ppo::nn::{Actor, ActorConfig, Critic, CriticConfig};
use ppo::ppo::Config;
use rand::SeedableRng;
use std::path::Path;

mod support;

/// What `pendulum eval` allows a checkpoint: the networks of the widest `--hidden-size`.
const LIMIT: u64 = 134_434_828;

use support::{SHORT, TempDir, assert_final_line, pendulum, stderr, stdout, train};

#[test]
fn help_lists_the_options_and_version_prints_it() {
    let dir = TempDir::new("help");
    let output = pendulum(&dir.0, &["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    for flag in [
        "--preset",
        "--config",
        "--seed N",
        "--total-timesteps",
        "--num-envs",
        "--rollout-steps",
        "--epochs",
        "--batch-size",
        "--gamma",
        "--gae-lambda",
        "--clip-epsilon",
        "--actor-lr",
        "--critic-lr",
        "--learning-rate",
        "--anneal-lr",
        "--anneal-horizon",
        "--entropy-coef",
        "--max-grad-norm",
        "--value-clip",
        "--normalize-advantages",
        "--time-limit",
        "--reward-scale",
        "--hidden-size",
        "--std",
        "--init",
        "--out",
        "--quiet",
        "--checkpoint",
        "--episodes",
        "--render",
        "--version",
    ] {
        assert!(help.contains(flag), "{flag} missing from\n{help}");
    }
    assert!(help.contains("[default: 100000]"), "{help}");
    let output = pendulum(&dir.0, &["--version"]);
    assert_eq!(stdout(&output), format!("pendulum {}\n", env!("CARGO_PKG_VERSION")));
    assert!(dir.entries().is_empty());
}

#[test]
fn bad_input_is_one_line_status_2_and_nothing_written() {
    let dir = TempDir::new("bad");
    let cases: &[(&[&str], &str)] = &[
        (&["--bogus"], "unknown option '--bogus'"),
        (&["--gama", "0.9"], "unknown option '--gama' (did you mean --gamma?)"),
        (&["--seed"], "--seed needs a value (N)"),
        (&["--gamma", "high"], "--gamma: expected a number, got 'high'"),
        (&["--epochs", "2.5"], "--epochs: expected a whole number, got '2.5'"),
        (&["--batch-size", "0"], "--batch-size must be at least 1"),
        (&["--batch-size", "4096"], "--batch-size 4096 is larger than a rollout of 2048"),
        (&["--gamma", "1.01"], "--gamma must be in [0, 1], got 1.01"),
        (&["--gae-lambda", "-0.5"], "--gae-lambda must be in [0, 1], got -0.5"),
        (&["--actor-lr", "-3e-4"], "--actor-lr must be a positive number, got -0.0003"),
        (&["--critic-lr", "0"], "--critic-lr must be a positive number, got 0"),
        (&["--clip-epsilon", "0"], "--clip-epsilon must be a positive number, got 0"),
        (&["--total-timesteps", "0"], "--total-timesteps must be at least 1"),
        (&["--rollout-steps", "0"], "--rollout-steps must be at least 1"),
        (&["--num-envs", "100000"], "--num-envs: must be at most 4096, got 100000"),
        (&["--epochs", "18446744073709551615"], "--epochs: must be at most 1000, got 1844674"),
        (
            &["--total-timesteps", "18446744073709551615"],
            "--total-timesteps: must be at most 1000000000, got 18446744073709551615",
        ),
        // σ = e^88 would overflow as soon as it scaled a noise sample.
        (&["--std", "log-std,init=88,clamp=0:100"], "--std's log-std clamp 0:100 must lie within"),
        (&["--std", "log-std,init=89,clamp=none"], "--std's log-std init 89 must be finite"),
        (&["--max-grad-norm", "-1"], "--max-grad-norm must be a positive number, got -1"),
        (&["--anneal-lr", "maybe"], "--anneal-lr: expected true or false, got 'maybe'"),
        (&["--anneal-horizon", "0"], "--anneal-horizon must be at least 1 step"),
        (
            &["--anneal-horizon", "soon"],
            "--anneal-horizon: expected a whole number or 'none', got 'soon'",
        ),
        (
            &["--preset", "fast"],
            "--preset: expected 'default', 'seed', 'pytorch-chapter' or 'shared-trunk', got 'fast'",
        ),
        (&["--quiet=1"], "--quiet takes no value"),
        (&["extra"], "unknown command 'extra'"),
        (&["eval"], "eval needs the checkpoint to evaluate: --checkpoint PATH"),
        (&["eval", "--checkpoint", "x", "--episodes", "0"], "--episodes: must be at least 1"),
        (&["eval", "--checkpoint", "x", "--gamma", "0.9"], "--gamma is a training option"),
    ];
    let out = dir.path("run");
    for (args, expected) in cases {
        let mut args = args.to_vec();
        if args.first() != Some(&"eval") {
            args.extend_from_slice(&["--out", out.to_str().unwrap()]);
        }
        let output = pendulum(&dir.0, &args);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        assert_eq!(message.lines().count(), 1, "{args:?}: {message}");
        assert!(message.starts_with(&format!("error: {expected}")), "{args:?}: {message}");
        assert!(message.trim_end().ends_with("(see 'pendulum --help')"), "{message}");
        assert!(stdout(&output).is_empty(), "{args:?}");
        assert!(dir.entries().is_empty(), "{args:?} wrote {:?}", dir.entries());
    }
}

#[test]
fn an_unwritable_output_directory_is_reported_before_training() {
    let dir = TempDir::new("unwritable");
    std::fs::write(dir.path("taken"), "a file, not a directory").unwrap();
    for out in [dir.path("taken"), dir.path("taken").join("run")] {
        let output = pendulum(&dir.0, &["--out", out.to_str().unwrap()]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{message}");
        assert_eq!(message.lines().count(), 1, "{message}");
        let expected = format!("error: cannot create output directory {}: ", out.display());
        assert!(message.starts_with(&expected), "{message}");
        assert!(stdout(&output).is_empty(), "training started: {}", stdout(&output));
    }
    assert_eq!(dir.entries(), ["taken"]);
}

#[test]
fn a_short_run_leaves_four_files_and_ends_with_the_final_line() {
    let dir = TempDir::new("run");
    let (out, output) = train(&dir, "run", &[]);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    // Not a terminal: one plain line per update, then where the files are, then the result.
    assert!(lines[0].starts_with("update 1/2  steps    1024  return "), "{text}");
    assert!(lines[1].starts_with("update 2/2  steps    2048  return "), "{text}");
    assert_eq!(lines[2], format!("run files: {}", out.display()));
    assert_final_line(lines[3], 100);
    assert_eq!(lines.len(), 4, "{text}");
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));

    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["config.txt", "learning_curve.svg", "metrics.csv", "policy.ckpt"]);

    let config = std::fs::read_to_string(out.join("config.txt")).unwrap();
    assert!(config.starts_with("# The hyperparameters of a pendulum training run"), "{config}");
    for line in ["--preset default", "--total-timesteps 2048", "--batch-size 256", "--seed 1"] {
        assert!(config.lines().any(|l| l == line), "{line} missing from\n{config}");
    }

    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let rows: Vec<&str> = metrics.lines().collect();
    let header: Vec<&str> = rows[0].split(',').collect();
    for column in [
        "time/total_timesteps",
        "time/time_elapsed",
        "rollout/ep_rew_mean",
        "train/approx_kl",
        "train/clip_fraction",
        "train/entropy_loss",
        "train/explained_variance",
        "train/policy_gradient_loss",
        "train/value_loss",
    ] {
        assert!(header.contains(&column), "{column} missing from {header:?}");
    }
    assert_eq!(rows.len(), 3, "a header and one row per update:\n{metrics}");
    let steps = header.iter().position(|&c| c == "time/total_timesteps").unwrap();
    assert_eq!(rows[2].split(',').nth(steps), Some("2048"));

    let svg = std::fs::read_to_string(out.join("learning_curve.svg")).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{svg}");
    for text in ["environment steps", "mean episode return", "−200: successful", "−150: good"] {
        assert!(svg.contains(text), "{text} missing from the SVG");
    }

    let saved = checkpoint::load(&out.join("policy.ckpt"), LIMIT).unwrap();
    let expected = Config {
        total_timesteps: 2048,
        num_envs: 8,
        rollout_steps: 128,
        minibatch_size: 256,
        ..Config::default()
    };
    assert_eq!(saved.config, expected);
    assert_eq!(saved.progress, Progress { update: 2, timesteps: 2048 });
}

#[test]
fn quiet_prints_only_the_final_line() {
    let dir = TempDir::new("quiet");
    let (_, output) = train(&dir, "run", &["--quiet"]);
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert_final_line(text.trim_end(), 100);
}

#[test]
fn the_same_seed_gives_the_same_checkpoint_and_config_txt_repeats_a_run() {
    let dir = TempDir::new("seed");
    let (a, _) = train(&dir, "a", &["--seed", "5"]);
    let (b, _) = train(&dir, "b", &["--seed", "5"]);
    let (c, _) = train(&dir, "c", &["--seed", "6"]);
    let config = a.join("config.txt");
    let (d, _) = train(&dir, "d", &["--config", config.to_str().unwrap()]);
    let bytes = |dir: &Path| std::fs::read(dir.join("policy.ckpt")).unwrap();
    assert!(bytes(&a) == bytes(&b), "same seed, different checkpoints");
    assert!(bytes(&a) != bytes(&c), "different seeds, same checkpoint");
    assert!(bytes(&a) == bytes(&d), "--config of run a did not repeat it");
}

#[test]
fn eval_of_a_saved_checkpoint_repeats_the_final_line() {
    let dir = TempDir::new("eval");
    let (out, output) = train(&dir, "run", &[]);
    let trained = stdout(&output);
    let checkpoint = out.join("policy.ckpt");
    let checkpoint = checkpoint.to_str().unwrap();

    // By default, the same starting states as the run's own final evaluation.
    let output = pendulum(&dir.0, &["eval", "--checkpoint", checkpoint]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim_end(), trained.lines().last().unwrap());

    // Without a terminal --render prints nothing but the result.
    let output = pendulum(
        &dir.0,
        &["eval", "--checkpoint", checkpoint, "--episodes", "7", "--seed", "3", "--render"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert_final_line(text.trim_end(), 7);
}

/// `eval` of a damaged checkpoint: status 1, one line naming the file and the damage.
fn assert_refused(dir: &TempDir, path: &Path, expected: &str) {
    let output = pendulum(&dir.0, &["eval", "--checkpoint", path.to_str().unwrap()]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains(expected), "expected '{expected}' in {message}");
    assert!(stdout(&output).is_empty());
}

#[test]
fn damaged_checkpoints_are_named_not_panicked_over() {
    let dir = TempDir::new("damaged");
    let (out, _) = train(&dir, "run", &["--quiet"]);
    let bytes = std::fs::read(out.join("policy.ckpt")).unwrap();

    let truncated = dir.path("truncated.ckpt");
    std::fs::write(&truncated, &bytes[..bytes.len() - 100]).unwrap();
    assert_refused(&dir, &truncated, "is truncated");

    let corrupted = dir.path("corrupted.ckpt");
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 0x01;
    std::fs::write(&corrupted, &flipped).unwrap();
    assert_refused(&dir, &corrupted, "checksum mismatch (corrupted)");

    let version = dir.path("version.ckpt");
    let mut newer = bytes.clone();
    newer[8..12].copy_from_slice(&7u32.to_le_bytes());
    std::fs::write(&version, &newer).unwrap();
    assert_refused(&dir, &version, "has format version 7, this program reads 2");

    assert_refused(&dir, &out.join("config.txt"), "is not a ppo checkpoint");
    assert_refused(&dir, &dir.path("missing.ckpt"), "No such file");

    // A valid checkpoint of networks made for another task: 4 observations, 2 actions.
    let other = dir.path("other.ckpt");
    let config = Config::default();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let actor_config = ActorConfig {
        obs_size: 4,
        action_size: 2,
        std: config.std_param,
        init: config.init,
        ..ActorConfig::default()
    };
    let actor = Actor::new(&actor_config, &mut rng);
    let critic = Critic::new(&CriticConfig { obs_size: 4, ..CriticConfig::default() }, &mut rng);
    checkpoint::save(&other, &config, &actor, &critic, Progress::default()).unwrap();
    assert_refused(&dir, &other, "its actor (4 → 64 → 64 → 2, actions scaled to ±2) does not fit");

    // A checkpoint that records another environment is refused by name, even where the
    // networks' shapes would fit.
    let pendulum_run = checkpoint::load(&out.join("policy.ckpt"), LIMIT).unwrap();
    let (actor, critic) = (&pendulum_run.actor, &pendulum_run.critic);
    let elsewhere = dir.path("cartpole.ckpt");
    checkpoint::save_for(&elsewhere, "CartPole-v1", &config, actor, critic, Progress::default())
        .unwrap();
    assert_refused(&dir, &elsewhere, "was trained on CartPole-v1, not Pendulum-v1");
    assert_eq!(pendulum_run.env, "Pendulum-v1", "a run records its environment");
}

#[test]
fn divergence_stops_training_and_keeps_the_last_good_checkpoint() {
    // An absurd learning rate: the first update's steps overflow the actor's outputs.
    let dir = TempDir::new("diverge");
    let out = dir.path("run");
    let mut args = SHORT.to_vec();
    args.extend_from_slice(&["--actor-lr", "1e30", "--out", out.to_str().unwrap()]);
    let output = pendulum(&dir.0, &args);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    let expected = format!(
        "error: update 1: the policy loss became NaN; keeping the checkpoint of update 0 at {}\n",
        out.join("policy.ckpt").display()
    );
    assert_eq!(message, expected);
    let kept = checkpoint::load(&out.join("policy.ckpt"), LIMIT).unwrap();
    assert_eq!(kept.progress, Progress { update: 0, timesteps: 0 });
    let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 2, "the diverged update's row is kept:\n{metrics}");
    assert!(out.join("learning_curve.svg").exists());
    assert!(!stdout(&output).contains("final eval"));
}
