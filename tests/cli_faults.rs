//! The `pendulum` program under abuse and faults, each promise of chapter 13's table checked
//! on the built binary: arguments that are not UTF-8, a standard output that is closed or
//! full, checkpoints that are altered, endless or huge, two runs on one directory, a
//! directory taken over, signals during training and during the animation, and untrusted
//! text in messages.
#![cfg(unix)]

mod support;

use ppo::checkpoint::{self, Progress};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::{SHORT, TempDir, assert_final_line, names, pendulum, stderr, stdout, train};

const LIMIT: u64 = 134_434_828;

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pendulum"))
}

/// The arguments of a short run into `out`.
fn short_into(out: &Path, extra: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = SHORT.iter().chain(extra).map(OsString::from).collect();
    args.extend(["--out".into(), out.as_os_str().to_os_string()]);
    args
}

/// Status 1 or 2 with exactly one `error:` line, nothing on stdout.
fn assert_one_error(output: &Output, status: i32, expected: &str) {
    let message = stderr(output);
    assert_eq!(output.status.code(), Some(status), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.starts_with("error: "), "{message}");
    assert!(message.contains(expected), "expected '{expected}' in {message}");
    assert!(!message.contains('\x1b'), "an escape byte reached stderr: {message:?}");
}

const RUN_FILES: [&str; 4] = ["config.txt", "learning_curve.svg", "metrics.csv", "policy.ckpt"];

#[test]
fn paths_may_hold_any_bytes_and_other_values_must_be_utf8() {
    let dir = TempDir::new("bytes");
    let out = dir.0.join(std::ffi::OsStr::from_bytes(b"run-\xff\xe9"));
    let output =
        binary().args(short_into(&out, &["--quiet"])).current_dir(&dir.0).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(names(&out), RUN_FILES);
    let output =
        binary().arg("eval").arg("--checkpoint").arg(out.join("policy.ckpt")).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_final_line(stdout(&output).trim_end(), 100);
    // A missing file of such a name: its bytes shown as \xNN.
    let missing = dir.0.join(std::ffi::OsStr::from_bytes(b"\xe9.ckpt"));
    let output = binary().arg("eval").arg("--checkpoint").arg(&missing).output().unwrap();
    assert_one_error(&output, 1, "\\xe9.ckpt: No such file or directory");
    let output = binary().arg("--seed").arg(OsString::from_vec(b"\xff".to_vec())).output().unwrap();
    assert_one_error(&output, 2, "--seed: '\\xff' is not valid UTF-8");
    assert!(!dir.0.join("runs").exists());
}

/// Runs `args` with standard output a pipe whose reader has already gone.
fn with_closed_stdout(args: &[OsString]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    binary().args(args).stdout(writer).output().unwrap()
}

#[test]
fn a_closed_stdout_ends_the_program_quietly_with_status_141() {
    let dir = TempDir::new("pipe");
    let out = dir.path("run");
    let output = with_closed_stdout(&short_into(&out, &[]));
    assert_eq!(output.status.code(), Some(141), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    // Stopped at the first line it printed, after update 1, with the run's files whole.
    let kept = checkpoint::load(&out.join("policy.ckpt"), LIMIT).unwrap();
    assert_eq!(kept.progress.update, 1);
    assert_eq!(names(&out), RUN_FILES);
    for args in [vec!["--help"], vec!["--version"]] {
        let args: Vec<OsString> = args.into_iter().map(OsString::from).collect();
        let output = with_closed_stdout(&args);
        assert_eq!((output.status.code(), stderr(&output)), (Some(141), String::new()));
    }
    let eval: Vec<OsString> =
        ["eval".into(), "--checkpoint".into(), out.join("policy.ckpt").into_os_string()].into();
    let output = with_closed_stdout(&eval);
    assert_eq!((output.status.code(), stderr(&output)), (Some(141), String::new()));
}

/// Runs `args` with standard output `/dev/full`.
fn into_full_device(args: &[OsString]) -> Output {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    binary().args(args).stdout(full).output().unwrap()
}

#[test]
fn a_full_stdout_is_an_error_with_status_1() {
    let dir = TempDir::new("full");
    let full = "cannot write to standard output: No space left on device";
    for (name, extra) in [("plain", &[][..]), ("quiet", &["--quiet"][..])] {
        let out = dir.path(name);
        assert_one_error(&into_full_device(&short_into(&out, extra)), 1, full);
        assert_eq!(names(&out), RUN_FILES);
    }
    let checkpoint = dir.path("quiet").join("policy.ckpt");
    let eval: Vec<OsString> = ["eval".into(), "--checkpoint".into(), checkpoint.into()].into();
    assert_one_error(&into_full_device(&eval), 1, full);
    assert_one_error(&into_full_device(&["--help".into()]), 1, full);
}

#[test]
fn altered_endless_and_huge_checkpoints_are_refused_fast() {
    let dir = TempDir::new("checkpoints");
    let (out, _) = train(&dir, "run", &["--quiet"]);
    let saved = checkpoint::load(&out.join("policy.ckpt"), LIMIT).unwrap();
    let eval = |path: &Path| pendulum(&dir.0, &["eval", "--checkpoint", path.to_str().unwrap()]);

    // Finite everywhere but one value, with a checksum that matches.
    let mut actor = saved.actor.clone();
    actor.parameters_mut()[2].data_mut()[7] = f32::INFINITY;
    let bytes = checkpoint::encode_snapshot(&checkpoint::Snapshot {
        env: &saved.env,
        config: &saved.config,
        actor: &actor,
        critic: &saved.critic,
        observation_stats: saved.observation_stats.as_ref(),
        progress: Progress::default(),
    });
    let altered = dir.path("altered.ckpt");
    std::fs::write(&altered, bytes).unwrap();
    assert_one_error(
        &eval(&altered),
        1,
        "the actor's parameter trunk.1.weight is inf at index [0, 7]",
    );

    // One bit of the length field flipped: the file is whole, and the message says so.
    let mut bytes = std::fs::read(out.join("policy.ckpt")).unwrap();
    let len = bytes.len();
    bytes[13] ^= 0x80;
    let flipped = dir.path("flipped.ckpt");
    std::fs::write(&flipped, &bytes).unwrap();
    let says = len ^ (0x80 << 8);
    let expected =
        format!("its length field says {says} bytes but the file has {len}, which is complete");
    assert_one_error(&eval(&flipped), 1, &expected);

    // Endless streams and huge files: refused at once.
    let started = Instant::now();
    assert_one_error(&eval(Path::new("/dev/zero")), 1, "is not a ppo checkpoint");
    let huge = dir.path("huge.ckpt");
    let mut file = std::fs::File::create(&huge).unwrap();
    file.write_all(&bytes[..20]).unwrap();
    file.set_len(1 << 40).unwrap(); // a terabyte, sparse
    drop(file);
    assert_one_error(&eval(&huge), 1, "the largest networks the options allow take 134434828");
    let fifo = dir.path("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut pipe = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            let mut x = 0x2545_f491_4f6c_dd1du64;
            // Random bytes until the reader leaves.
            while pipe.write_all(&x.to_le_bytes().repeat(512)).is_ok() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
            }
        })
    };
    assert_one_error(&eval(&fifo), 1, "is not a ppo checkpoint");
    writer.join().unwrap();
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    let output = pendulum(&dir.0, &["--config", "/dev/zero"]);
    assert_one_error(&output, 2, "--config: /dev/zero is larger than 64 KiB");
}

#[test]
fn a_non_finite_action_while_collecting_is_a_clean_divergence() {
    // log σ starts at 20 without a clamp, and the entropy bonus, at a huge learning rate
    // with one Adam step per update, raises it by about 17 an update: at update 5 σ ≈ e⁸⁸,
    // and a sampled action overflows.
    let dir = TempDir::new("overflow");
    let out = dir.path("run");
    let extra = [
        "--total-timesteps",
        "10240",
        "--batch-size",
        "1024",
        "--epochs",
        "1",
        "--anneal-lr",
        "false",
        "--entropy-coef",
        "100",
        "--actor-lr",
        "17",
        "--std",
        "log-std,init=20,clamp=none",
    ];
    let output = binary().args(short_into(&out, &extra)).output().unwrap();
    assert_one_error(&output, 1, "update 5: the policy sampled the action ");
    assert!(
        stderr(&output).contains("keeping the checkpoint of update 4 at"),
        "{}",
        stderr(&output)
    );
    let kept = checkpoint::load(&out.join("policy.ckpt"), LIMIT).unwrap();
    assert_eq!(kept.progress.update, 4);
}

/// The options of a run that lasts long enough to be interfered with: 4000 short updates.
const LONG: [&str; 10] = [
    "--total-timesteps",
    "1024000",
    "--rollout-steps",
    "32",
    "--num-envs",
    "8",
    "--batch-size",
    "256",
    "--epochs",
    "1",
];

/// Starts a run of [`LONG`] into `out`.
fn start_long_run(out: &Path) -> Child {
    binary()
        .args(LONG)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `out` holds a checkpoint of update `update` or later.
fn wait_for_update(out: &Path, update: u64) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(saved) = checkpoint::load(&out.join("policy.ckpt"), LIMIT)
            && saved.progress.update >= update
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no checkpoint of update {update} in {}", out.display());
}

fn kill(child: &Child, signal: &str) {
    let status = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

#[test]
fn a_signal_ends_training_between_updates_leaving_what_eval_needs() {
    let dir = TempDir::new("signals");
    for (signal, name, status) in [("-INT", "SIGINT", 130), ("-TERM", "SIGTERM", 143)] {
        let out = dir.path(name);
        let child = start_long_run(&out);
        wait_for_update(&out, 2);
        kill(&child, signal);
        let output = child.wait_with_output().unwrap();
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(status), "{message}");
        assert_eq!(message.lines().count(), 1, "{message}");
        let saved = checkpoint::load(&out.join("policy.ckpt"), LIMIT).unwrap();
        let update = saved.progress.update;
        let expected = format!(
            "error: interrupted by {name} after update {update} of 4000; its checkpoint, metrics.csv and learning_curve.svg are in {}",
            out.display()
        );
        assert!(message.starts_with(&expected), "{message}");
        let rows = std::fs::read_to_string(out.join("metrics.csv")).unwrap().lines().count();
        assert_eq!(rows as u64, update + 1, "a header and a row per update");
        // Every file is whole, none is a temporary one.
        assert_eq!(names(&out), RUN_FILES);
        let output = pendulum(
            &dir.0,
            &["eval", "--checkpoint", out.join("policy.ckpt").to_str().unwrap(), "--episodes", "2"],
        );
        assert_final_line(stdout(&output).trim_end(), 2);
    }
}

#[test]
fn a_file_that_cannot_be_written_mid_run_ends_it_with_one_line() {
    // The files of each update are written behind the training (chapter 14's saver): a
    // failure there must still end the run, with the file and the reason.
    let dir = TempDir::new("unwritable");
    let out = dir.path("run");
    let child = start_long_run(&out);
    wait_for_update(&out, 2);
    // The run may add a temporary file while the directory is being emptied: try again.
    let started = Instant::now();
    while let Err(e) = std::fs::remove_dir_all(&out) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "cannot remove the run's directory: {e}"
        );
    }
    let output = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(30), "the run went on after the failure");
    // metrics.csv or policy.ckpt, whichever the saver was writing when the directory went.
    assert_one_error(&output, 1, &format!("cannot write {}/", out.display()));
    let message = stderr(&output);
    assert!(message.contains("metrics.csv") || message.contains("policy.ckpt"), "{message}");
    assert!(message.contains("No such file or directory"), "{message}");
}

#[test]
fn a_signal_stops_every_run_of_a_sweep_each_ending_as_a_single_run_does() {
    let dir = TempDir::new("sweep-signals");
    let out = dir.path("sweep");
    // Three long runs, two at a time: the third is never started.
    let child = binary()
        .args(LONG)
        .args(["--seeds", "1-3", "--threads", "2", "--out"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_update(&out.join("seed-1"), 2);
    wait_for_update(&out.join("seed-2"), 1);
    kill(&child, "-INT");
    let output = child.wait_with_output().unwrap();
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(130), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");
    let table = out.join("seeds.txt");
    let update = |seed: u64| {
        let run = out.join(format!("seed-{seed}"));
        // Every file whole, none a temporary one; a row per update.
        assert_eq!(names(&run), RUN_FILES);
        let rows = std::fs::read_to_string(run.join("metrics.csv")).unwrap().lines().count();
        let update = checkpoint::load(&run.join("policy.ckpt"), LIMIT).unwrap().progress.update;
        assert_eq!(rows as u64, update + 1, "a header and a row per update");
        update
    };
    let (first, second) = (update(1), update(2));
    let expected = format!(
        "error: interrupted by SIGINT: 3 of 3 seeds did not spend their budget: 1 (interrupted after update {first}), 2 (interrupted after update {second}), 3 (not started); the table is {}\n",
        table.display()
    );
    assert_eq!(message, expected);
    assert_eq!(names(&out), ["seed-1", "seed-2", "seeds.txt"]);
    let text = stdout(&output);
    for (seed, update) in [(1, first), (2, second)] {
        let line = format!("seed {seed} interrupted by SIGINT after update {update} of 4000 (");
        assert!(text.lines().any(|l| l.starts_with(&line)), "{line} missing from\n{text}");
    }
    let table = std::fs::read_to_string(&table).unwrap();
    assert!(text.ends_with(&table), "{text}");
    assert!(table.contains("\n     3  not started\n"), "{table}");
    assert!(table.ends_with("no seed spent its budget\n"), "{table}");
}

#[test]
fn a_closed_stdout_stops_a_sweep_quietly_and_its_table_is_written() {
    let dir = TempDir::new("sweep-pipe");
    let out = dir.path("sweep");
    let args = short_into(&out, &["--seeds", "1-3", "--threads", "1"]);
    let output = with_closed_stdout(&args);
    assert_eq!((output.status.code(), stderr(&output)), (Some(141), String::new()));
    // The first run's line could not be printed, and the runs stopped: the next one at once
    // (or before it began: the one thread may have taken it while the line was printed),
    // the last before it began; every run's files whole.
    let table = std::fs::read_to_string(out.join("seeds.txt")).unwrap();
    let second = ["\n     2  stopped after update 0\n", "\n     2  not started\n"];
    assert!(second.iter().any(|row| table.contains(row)), "{table}");
    assert!(table.contains("\n     3  not started\n"), "{table}");
    // Seed 1 finished its updates and has all four files; a run stopped before its first
    // update has no metrics yet (metrics.csv is written after each update), and the rest.
    assert_eq!(names(&out.join("seed-1")), RUN_FILES);
    for name in names(&out).iter().filter(|n| n.starts_with("seed-") && *n != "seed-1") {
        let files = names(&out.join(name));
        let without_metrics: Vec<&str> =
            RUN_FILES.into_iter().filter(|f| *f != "metrics.csv").collect();
        assert!(files == RUN_FILES || files == without_metrics, "{name}: {files:?}");
    }
}

#[test]
fn a_run_owns_its_directory_and_a_new_run_clears_an_old_one() {
    let dir = TempDir::new("owner");
    let out = dir.path("run");
    let first = start_long_run(&out);
    wait_for_update(&out, 1);
    // A second run with the same --out, while the first lives: refused, nothing touched.
    let output = binary().args(short_into(&out, &["--seed", "2"])).output().unwrap();
    assert_one_error(&output, 1, "is in use by another run; give this one another --out");
    kill(&first, "-KILL");
    let _ = first.wait_with_output().unwrap();
    let config = std::fs::read_to_string(out.join("config.txt")).unwrap();
    assert!(config.contains("\n--seed 1\n") && config.contains("--total-timesteps 1024000"));

    // A run killed outright leaves its files, maybe a temporary one; plant one to be sure.
    std::fs::write(out.join(".policy.ckpt.tmp-1-0123456789abcdef"), "half a checkpoint").unwrap();
    let output = binary().args(short_into(&out, &["--seed", "5", "--quiet"])).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(names(&out), RUN_FILES);
    let config = std::fs::read_to_string(out.join("config.txt")).unwrap();
    assert!(config.contains("\n--seed 5\n"), "{config}");
    let svg = std::fs::read_to_string(out.join("learning_curve.svg")).unwrap();
    assert!(svg.contains("seed 5"));
    let saved = checkpoint::load(&out.join("policy.ckpt"), LIMIT).unwrap();
    assert_eq!((saved.config.seed, saved.progress.update), (5, 2));

    // A directory with a file no run wrote is refused, and left as it was.
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let output = binary().args(short_into(&out, &[])).output().unwrap();
    assert_one_error(&output, 1, "holds files that are not a run's (notes.txt)");
    assert_eq!(std::fs::read_to_string(out.join("config.txt")).unwrap(), config);
}

#[test]
fn untrusted_text_reaches_stderr_escaped() {
    let dir = TempDir::new("escape");
    let config = dir.path("evil\x1b[2J.txt");
    std::fs::write(&config, "--gamma \x1b]0;owned\x07\n").unwrap();
    let output = pendulum(&dir.0, &["--config", config.to_str().unwrap()]);
    assert_one_error(
        &output,
        2,
        "evil\\x1b[2J.txt line 1: --gamma: expected a number, got '\\x1b]0;owned\\x07'",
    );
}

/// A pseudo-terminal, for the animation, which runs only on a terminal.
mod pty {
    use std::ffi::{c_char, c_int};
    use std::fs::File;
    use std::os::fd::FromRawFd;

    unsafe extern "C" {
        fn posix_openpt(flags: c_int) -> c_int;
        fn grantpt(fd: c_int) -> c_int;
        fn unlockpt(fd: c_int) -> c_int;
        fn ptsname(fd: c_int) -> *const c_char;
    }

    /// The controlling side and the terminal side.
    pub fn open() -> (File, File) {
        const O_RDWR_NOCTTY: c_int = 0o2 | 0o400;
        // SAFETY: plain C calls on a descriptor this function owns; `ptsname` returns a
        // NUL-terminated string that is copied at once.
        unsafe {
            let master = posix_openpt(O_RDWR_NOCTTY);
            assert!(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
            let name = std::ffi::CStr::from_ptr(ptsname(master)).to_str().unwrap().to_string();
            let slave = std::fs::OpenOptions::new().read(true).write(true).open(name).unwrap();
            (File::from_raw_fd(master), slave)
        }
    }
}

#[test]
fn the_animation_shows_the_cursor_again_on_every_signal() {
    const HIDE: &[u8] = b"\x1b[?25l";
    const SHOW: &[u8] = b"\x1b[?25h";
    let dir = TempDir::new("render");
    let (out, _) = train(&dir, "run", &["--quiet"]);
    let count = |haystack: &[u8], needle: &[u8]| {
        haystack.windows(needle.len()).filter(|w| *w == needle).count()
    };
    for (signal, status) in [("-TERM", 143), ("-QUIT", 131), ("-INT", 130), ("-TSTP", 143)] {
        let (mut master, slave) = pty::open();
        let mut child = binary()
            .args(["eval", "--render", "--checkpoint"])
            .arg(out.join("policy.ckpt"))
            .stdout(slave)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut seen = Vec::new();
        let mut buffer = [0u8; 4096];
        let mut read_until = |seen: &mut Vec<u8>, done: &dyn Fn(&[u8]) -> bool| {
            while !done(seen) {
                let n = master.read(&mut buffer).unwrap_or(0);
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&buffer[..n]);
            }
        };
        read_until(&mut seen, &|s| count(s, b"episode 1/5") >= 2);
        kill(&child, signal);
        if signal == "-TSTP" {
            // Ctrl-Z: the cursor comes back, and is hidden again once the program goes on.
            read_until(&mut seen, &|s| count(s, SHOW) >= 1);
            kill(&child, "-CONT");
            read_until(&mut seen, &|s| count(s, HIDE) >= 2);
            kill(&child, "-TERM");
        }
        let status_code = child.wait().unwrap().code();
        read_until(&mut seen, &|s| s.ends_with(SHOW));
        let mut message = String::new();
        child.stderr.take().unwrap().read_to_string(&mut message).unwrap();
        assert_eq!(status_code, Some(status), "{signal}: {message}");
        assert!(message.starts_with("error: interrupted by SIG"), "{message}");
        assert!(seen.ends_with(SHOW), "{signal}: the cursor is left hidden");
        assert_eq!(count(&seen, HIDE), count(&seen, SHOW), "{signal}");
    }
}
