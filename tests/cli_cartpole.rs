//! The `cartpole` program: the same program as `pendulum`, run with CartPole's task. What
//! differs is checked here: its presets and help, a short run and its files, `eval` of its
//! checkpoint, refusing a pendulum's checkpoint and a distribution for continuous actions.

use ppo::checkpoint;
use std::path::PathBuf;

mod support;

use support::{TempDir, assert_final_line, cartpole, pendulum, stderr, stdout};

/// Two updates of 8 × 32 steps.
const SHORT: &[&str] = &["--total-timesteps", "512", "--quiet"];

fn train(dir: &TempDir, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.path(name);
    let out_arg = out.to_str().unwrap().to_string();
    let mut args = SHORT.to_vec();
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--out", &out_arg]);
    let output = cartpole(&dir.0, &args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_final_line(stdout(&output).trim_end(), 100);
    out
}

#[test]
fn help_names_cartpole_and_its_presets() {
    let dir = TempDir::new("cartpole-help");
    let output = cartpole(&dir.0, &["--help"]);
    let help = stdout(&output);
    assert!(help.starts_with("cartpole: train a PPO agent on CartPole-v1"), "{help}");
    assert!(help.contains("cartpole eval --checkpoint PATH"), "{help}");
    assert!(help.contains("  default ") && help.contains("TensorFlow overview"), "{help}");
    assert!(help.contains("--distribution NAME") && help.contains("[default: categorical]"));
    let version = stdout(&cartpole(&dir.0, &["--version"]));
    assert_eq!(version, format!("cartpole {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn a_short_run_records_cartpole_and_eval_repeats_its_final_line() {
    let dir = TempDir::new("cartpole-run");
    let out = train(&dir, "run", &[]);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["config.txt", "learning_curve.svg", "metrics.csv", "policy.ckpt"]);
    let config = std::fs::read_to_string(out.join("config.txt")).unwrap();
    assert!(
        config.contains("a cartpole training run") && config.contains("--distribution categorical")
    );
    let loaded = checkpoint::load(&out.join("policy.ckpt"), u64::MAX).unwrap();
    assert_eq!(loaded.env, "CartPole-v1");
    assert_eq!(loaded.actor.config().action_size, 2, "one logit per choice");
    let svg = std::fs::read_to_string(out.join("learning_curve.svg")).unwrap();
    assert!(svg.contains("PPO on CartPole-v1") && svg.contains("475: solved"), "{svg}");

    let ckpt = out.join("policy.ckpt").to_str().unwrap().to_string();
    let trained = cartpole(
        &dir.0,
        &[
            "--config",
            &format!("{}/config.txt", out.display()),
            "--quiet",
            "--out",
            dir.path("again").to_str().unwrap(),
        ],
    );
    let eval = cartpole(&dir.0, &["eval", "--checkpoint", &ckpt]);
    assert_eq!(eval.status.code(), Some(0), "{}", stderr(&eval));
    assert_eq!(
        stdout(&eval),
        stdout(&trained),
        "the run's final line, from its own evaluation seed"
    );
}

#[test]
fn each_program_refuses_the_others_checkpoint_and_distribution() {
    let dir = TempDir::new("cartpole-refusals");
    let out = train(&dir, "run", &[]);
    let ckpt = out.join("policy.ckpt").to_str().unwrap().to_string();
    let output = pendulum(&dir.0, &["eval", "--checkpoint", &ckpt]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("was trained on CartPole-v1, not Pendulum-v1"), "{message}");

    for (program, args, expected) in [
        (
            "cartpole",
            ["--distribution", "normal"],
            "error: --distribution: 'normal' is a distribution for continuous actions; these are a choice of 2, which takes 'categorical' (see 'cartpole --help')\n",
        ),
        (
            "pendulum",
            ["--distribution", "categorical"],
            "error: --distribution: 'categorical' is the distribution of discrete actions; these are continuous (see 'pendulum --help')\n",
        ),
    ] {
        let run = if program == "cartpole" { cartpole } else { pendulum };
        let output = run(&dir.0, &args);
        assert_eq!(output.status.code(), Some(2), "{program}");
        assert_eq!(stderr(&output), expected);
        assert_eq!(dir.entries(), ["run"], "nothing written");
    }
}

#[test]
fn a_sweep_trains_cartpole_seeds_too() {
    let dir = TempDir::new("cartpole-sweep");
    let out = dir.path("sweep");
    let out_arg = out.to_str().unwrap().to_string();
    let mut args = SHORT.to_vec();
    args.extend_from_slice(&["--seeds", "1-2", "--out", &out_arg]);
    let output = cartpole(&dir.0, &args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let table = std::fs::read_to_string(out.join("seeds.txt")).unwrap();
    assert_eq!(stdout(&output), table, "quiet: only the table");
    assert!(table.starts_with("  seed  mean return     std  wall s\n     1  "), "{table}");
    let loaded = checkpoint::load(&out.join("seed-2").join("policy.ckpt"), u64::MAX).unwrap();
    assert_eq!((loaded.env.as_str(), loaded.config.seed), ("CartPole-v1", 2));
}
