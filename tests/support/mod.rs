//! What the tests of the built `pendulum` and `cartpole` programs share: a directory of their
//! own, running a binary, a short training run.
// Each test file uses its own part of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Two updates of 1024 steps: enough for every file to have real contents, fast to run.
pub const SHORT: &[&str] = &[
    "--total-timesteps",
    "2048",
    "--num-envs",
    "8",
    "--rollout-steps",
    "128",
    "--batch-size",
    "256",
];

/// A directory of its own for each test, removed afterwards.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("pendulum-cli-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the `pendulum` binary in `dir` (so that a default run directory would land there).
pub fn pendulum(dir: &Path, args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_pendulum"), dir, args)
}

/// Runs the `cartpole` binary in `dir`.
pub fn cartpole(dir: &Path, args: &[&str]) -> Output {
    run(env!("CARGO_BIN_EXE_cartpole"), dir, args)
}

fn run(binary: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(binary).args(args).current_dir(dir).output().expect("the binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Runs `pendulum` with the short settings and `extra` into `dir/name`, however it ends;
/// returns the directory and what it printed.
pub fn run_short(dir: &TempDir, name: &str, extra: &[&str]) -> (PathBuf, Output) {
    let out = dir.path(name);
    let mut args = SHORT.to_vec();
    args.extend_from_slice(extra);
    let out_arg = out.to_str().unwrap().to_string();
    args.extend_from_slice(&["--out", &out_arg]);
    let output = pendulum(&dir.0, &args);
    (out, output)
}

/// Trains a short run into `dir/name`, which must succeed, and returns its directory.
pub fn train(dir: &TempDir, name: &str, extra: &[&str]) -> (PathBuf, Output) {
    let (out, output) = run_short(dir, name, extra);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    (out, output)
}

/// The names in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `final eval: mean return X ± Y over N episodes`, with X and Y to one decimal.
pub fn assert_final_line(line: &str, episodes: usize) {
    let rest = line.strip_prefix("final eval: mean return ").unwrap_or_else(|| panic!("{line}"));
    let (numbers, tail) = rest.split_once(" over ").unwrap_or_else(|| panic!("{line}"));
    assert_eq!(tail, format!("{episodes} episodes"));
    let (mean, std) = numbers.split_once(" ± ").unwrap_or_else(|| panic!("{line}"));
    for x in [mean, std] {
        let (_, decimals) = x.split_once('.').unwrap_or_else(|| panic!("{line}"));
        assert_eq!(decimals.len(), 1, "{line}");
        x.parse::<f64>().unwrap_or_else(|_| panic!("{line}"));
    }
}
