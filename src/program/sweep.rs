//! `PROGRAM --seeds LIST`: one training run per seed, several at a time, and a table of how
//! they did.
//!
//! Each seed's run is exactly the run `--seed N` would be, with the same other options: the
//! same [`train_into`] into a directory of its own, `OUT/seed-N/`, with the same four files
//! written the same way. A run is trained on one thread, and `--threads` runs go side by side:
//! runs share nothing, so the cores need no synchronization at all, where the two threads of
//! one run meet at every minibatch; and one thread gives the same bits as two, so each run is
//! the solo run bit for bit.
//!
//! A sweep prints one line per run as it ends (the runs' own progress lines would interleave),
//! then the table, sorted by seed, with the median, the worst and the best; the table is also
//! `OUT/seeds.txt`. SIGINT and SIGTERM stop every run between two updates, each ending as a
//! single run does; a run that diverges stops only itself. The exit status is 0 only if every
//! run spent its budget.

use super::options::Train;
use super::output::{self, OutputError};
use super::progress::Progress;
use super::rundir::RunDir;
use super::signals::{Catch, Signal};
use super::train::{Ending, Halt, Outcome, RUN_FILES, stamped_dir, train_into};
use super::{Failure, Preset, Task, final_line, terminal};
use crate::checkpoint::write_atomic;
use crate::ppo::Config;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;

/// The table's file in the sweep's directory.
pub const TABLE_FILE: &str = "seeds.txt";

/// How one seed's run ended, as far as the sweep knows.
type Ended = Result<Outcome, String>;

// ANCHOR: sweep
/// Trains every seed of `seeds`, prints a line for each as it ends and then the table, and
/// writes the table to `OUT/seeds.txt`.
///
/// # Errors
/// A one-line message and its status: the sweep's directory cannot be taken or the table
/// written (1), a run did not spend its budget (1: diverged, or a file of its own could not
/// be written), a signal stopped the sweep (128 + the signal), standard output failed.
pub fn run<T: Task>(train: Train, seeds: &[u64]) -> Result<(), Failure> {
    let Train { preset, config, out, quiet, threads, .. } = train;
    let out = out.unwrap_or_else(|| stamped_dir(preset, &format!("seeds{}", name(seeds))));
    let dir = RunDir::take_keeping(&out, &[TABLE_FILE], is_seed_dir)?;
    let signals = Catch::new(&[Signal::Interrupt, Signal::Terminate]);
    let abandoned = AtomicBool::new(false);
    let halt = || {
        let abandoned = abandoned.load(Ordering::Relaxed).then_some(Halt::Abandoned);
        signals.ending().map(Halt::Signal).or(abandoned)
    };
    let mut ended: Vec<Option<Ended>> = seeds.iter().map(|_| None).collect();
    let mut failed_output: Option<OutputError> = None;
    let sweep = Sweep { preset, config: &config, seeds, out: dir.path() };
    sweep.train::<T>(threads, &halt, |i, result| {
        if !quiet && failed_output.is_none() {
            let line = seed_line(seeds[i], &result, config.updates());
            if let Err(e) = output::println(&line) {
                // Nobody reads the lines any more: stop the runs, as a single run stops.
                failed_output = Some(e);
                abandoned.store(true, Ordering::Relaxed);
            }
        }
        ended[i] = Some(result);
    });
    let signal = signals.ending();
    drop(signals);

    let rows: Vec<Row> = seeds.iter().zip(&ended).map(|(&seed, e)| row(seed, e.as_ref())).collect();
    let table = table(&rows);
    let table_path = dir.file(TABLE_FILE);
    let shown = terminal::path(&table_path);
    write_atomic(&table_path, table.as_bytes())
        .map_err(|e| format!("cannot write {shown}: {e}"))?;
    if let Some(e) = failed_output {
        return Err(Failure::from(e));
    }
    if !quiet {
        let runs = terminal::path(&dir.file("seed-N"));
        output::println(&format!("run files: {runs} for each seed N; the table: {shown}"))?;
    }
    output::print(&table)?;
    verdict(&rows, signal, &shown)
}
// ANCHOR_END: sweep

/// Success if every seed spent its budget; otherwise one line that says which did not, and
/// the status: the signal's if one stopped the sweep, else 1.
fn verdict(rows: &[Row], signal: Option<Signal>, table: &str) -> Result<(), Failure> {
    let unfinished: Vec<String> = rows
        .iter()
        .filter_map(|r| r.score.as_ref().err().map(|why| format!("{} ({why})", r.seed)))
        .collect();
    if unfinished.is_empty() {
        return Ok(());
    }
    let listed = match unfinished.len() {
        0..=5 => unfinished.join(", "),
        n => format!("{}, and {} more", unfinished[..5].join(", "), n - 5),
    };
    let (status, start) = match signal {
        Some(signal) => (signal.exit_status(), format!("interrupted by {}: ", signal.name())),
        None => (1, String::new()),
    };
    let message = format!(
        "{start}{} of {} seeds did not spend their budget: {listed}; the table is {table}",
        unfinished.len(),
        rows.len()
    );
    Err(Failure { message: Some(message), status })
}

/// What every run of a sweep shares.
struct Sweep<'a> {
    preset: &'static Preset,
    config: &'a Config,
    seeds: &'a [u64],
    out: &'a Path,
}

impl Sweep<'_> {
    // ANCHOR: workers
    /// Trains the seeds on `workers` threads, each taking the next seed not yet taken until
    /// none is left or `halt` says to stop, and calls `report` on this thread with each
    /// seed's index and outcome as its run ends.
    fn train<T: Task>(
        &self,
        workers: usize,
        halt: &(dyn Fn() -> Option<Halt> + Sync),
        mut report: impl FnMut(usize, Ended),
    ) {
        let next = AtomicUsize::new(0);
        let (sender, ended) = mpsc::channel();
        thread::scope(|scope| {
            for _ in 0..workers.clamp(1, self.seeds.len().max(1)) {
                let sender = sender.clone();
                let next = &next;
                scope.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= self.seeds.len() || halt().is_some() {
                            break;
                        }
                        if sender.send((i, self.train_one::<T>(self.seeds[i], halt))).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(sender);
            for (i, result) in ended {
                report(i, result);
            }
        });
    }

    /// The run of one seed, on one thread, quiet, into `OUT/seed-N/`.
    fn train_one<T: Task>(&self, seed: u64, halt: &dyn Fn() -> Option<Halt>) -> Ended {
        let config = Config { seed, ..self.config.clone() };
        let dir = RunDir::take(&self.out.join(format!("seed-{seed}")), &RUN_FILES)?;
        let mut quiet = Progress::new(true, config.updates(), config.batch_size());
        train_into::<T>(self.preset, &config, 1, &dir, &mut quiet, halt)
    }
    // ANCHOR_END: workers
}

/// `seed-N`, the name of a run's directory in a sweep's.
fn is_seed_dir(name: &OsStr) -> bool {
    let digits = name.to_str().and_then(|n| n.strip_prefix("seed-"));
    digits.is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// The seeds for a directory's name, in ranges: `1-10`, `1-3,7`; a list too long for a file
/// name is its count instead, `137x`.
pub fn name(seeds: &[u64]) -> String {
    let mut sorted = seeds.to_vec();
    sorted.sort_unstable();
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for seed in sorted {
        match ranges.last_mut() {
            Some((_, last)) if last.checked_add(1) == Some(seed) => *last = seed,
            _ => ranges.push((seed, seed)),
        }
    }
    let text: Vec<String> = ranges
        .iter()
        .map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") })
        .collect();
    let text = text.join(",");
    if text.len() <= 64 { text } else { format!("{}x", seeds.len()) }
}

/// The line printed when a seed's run ends.
fn seed_line(seed: u64, ended: &Ended, updates: usize) -> String {
    match ended {
        Err(message) => format!("seed {seed} failed: {message}"),
        Ok(Outcome { ending, last_saved, seconds }) => match ending {
            Ending::Finished(result) => {
                format!("seed {seed}: {} ({seconds:.1} s)", final_line(result))
            }
            Ending::Diverged(divergence) => format!(
                "seed {seed} diverged: {divergence}; keeping the checkpoint of update {last_saved} ({seconds:.1} s)"
            ),
            Ending::Halted(Halt::Signal(signal)) => format!(
                "seed {seed} interrupted by {} after update {last_saved} of {updates} ({seconds:.1} s)",
                signal.name()
            ),
            Ending::Halted(Halt::Abandoned) | Ending::Output(_) => {
                format!("seed {seed} stopped after update {last_saved}")
            }
        },
    }
}

/// A seed's row of the table: its final evaluation, or why it has none.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub seed: u64,
    pub score: Result<Score, String>,
}

/// A finished run's final evaluation and wall time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    pub mean: f64,
    pub std: f64,
    pub seconds: f64,
}

fn row(seed: u64, ended: Option<&Ended>) -> Row {
    let score = match ended {
        None => Err("not started".to_string()),
        Some(Err(message)) => Err(format!("failed: {message}")),
        Some(Ok(Outcome { ending, last_saved, seconds })) => match ending {
            Ending::Finished(r) => Ok(Score { mean: r.mean, std: r.std, seconds: *seconds }),
            Ending::Diverged(d) => Err(format!("diverged at update {}", d.update)),
            Ending::Halted(Halt::Signal(_)) => {
                Err(format!("interrupted after update {last_saved}"))
            }
            Ending::Halted(Halt::Abandoned) | Ending::Output(_) => {
                Err(format!("stopped after update {last_saved}"))
            }
        },
    };
    Row { seed, score }
}

/// The table: a row per seed, sorted; then, over the runs that spent their budget, each
/// column's median, and the rows of the worst and the best seed (the lowest and the highest
/// mean return).
pub fn table(rows: &[Row]) -> String {
    let mut rows = rows.to_vec();
    rows.sort_by_key(|r| r.seed);
    let width = rows.iter().map(|r| r.seed.to_string().len()).max().unwrap_or(0).max(6);
    let line = |label: &str, s: &Score| {
        format!("{label:>width$}  {:>11.1}  {:>6.1}  {:>6.1}", s.mean, s.std, s.seconds)
    };
    let mut text =
        format!("{:>width$}  {:>11}  {:>6}  {:>6}\n", "seed", "mean return", "std", "wall s");
    for r in &rows {
        let _ = match &r.score {
            Ok(score) => writeln!(text, "{}", line(&r.seed.to_string(), score)),
            Err(why) => writeln!(text, "{:>width$}  {why}", r.seed),
        };
    }
    let done: Vec<(u64, Score)> =
        rows.iter().filter_map(|r| r.score.as_ref().ok().map(|s| (r.seed, *s))).collect();
    let column = |f: fn(&Score) -> f64| median(done.iter().map(|(_, s)| f(s)).collect());
    let by_mean = |a: &&(u64, Score), b: &&(u64, Score)| a.1.mean.total_cmp(&b.1.mean);
    if let (Some(worst), Some(best)) = (done.iter().min_by(by_mean), done.iter().max_by(by_mean)) {
        let middle = Score {
            mean: column(|s| s.mean),
            std: column(|s| s.std),
            seconds: column(|s| s.seconds),
        };
        let _ = writeln!(text, "{}", line("median", &middle));
        let _ = writeln!(text, "{}  seed {}", line("worst", &worst.1), worst.0);
        let _ = writeln!(text, "{}  seed {}", line("best", &best.1), best.0);
    }
    if done.len() < rows.len() {
        let _ = match done.len() {
            0 => writeln!(text, "no seed spent its budget"),
            n => writeln!(
                text,
                "median, worst and best of the {n} of {} seeds that spent their budget",
                rows.len()
            ),
        };
    }
    text
}

// ANCHOR: median
/// The middle value, or the mean of the two middle ones.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}
// ANCHOR_END: median

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(seed: u64, mean: f64, std: f64, seconds: f64) -> Row {
        Row { seed, score: Ok(Score { mean, std, seconds }) }
    }

    #[test]
    fn the_table_is_sorted_by_seed_with_each_columns_median_and_the_worst_and_best() {
        let rows = [
            finished(10, -150.0, 90.0, 1.5),
            finished(2, -170.25, 80.0, 1.9),
            Row { seed: 3, score: Err("diverged at update 4".into()) },
            finished(1, -130.0, 100.0, 1.7),
            finished(4, -160.0, 95.0, 1.4),
        ];
        let expected = "  seed  mean return     std  wall s
     1       -130.0   100.0     1.7
     2       -170.2    80.0     1.9
     3  diverged at update 4
     4       -160.0    95.0     1.4
    10       -150.0    90.0     1.5
median       -155.0    92.5     1.6
 worst       -170.2    80.0     1.9  seed 2
  best       -130.0   100.0     1.7  seed 1
median, worst and best of the 4 of 5 seeds that spent their budget
";
        assert_eq!(table(&rows), expected);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn a_table_without_a_finished_run_has_no_median() {
        let rows = [Row { seed: 7, score: Err("not started".into()) }];
        assert_eq!(
            table(&rows),
            "  seed  mean return     std  wall s\n     7  not started\nno seed spent its budget\n"
        );
    }

    #[test]
    fn directory_names_give_the_seeds_in_ranges() {
        assert_eq!(name(&[3, 1, 2, 7, 9, 8]), "1-3,7-9");
        assert_eq!(name(&[5]), "5");
        assert_eq!(name(&[u64::MAX, u64::MAX - 1]), "18446744073709551614-18446744073709551615");
        let many: Vec<u64> = (0..100).map(|i| 2 * i).collect();
        assert_eq!(name(&many), "100x");
        assert!(is_seed_dir(OsStr::new("seed-12")));
        for other in ["seed-", "seed-1a", "seeds.txt", "seed-+1"] {
            assert!(!is_seed_dir(OsStr::new(other)), "{other}");
        }
    }
}
