//! What the two results examples (`results` for Pendulum, `cartpole_results` for CartPole)
//! share: per-seed tables and figures, and writing them into the book.

use ppo::checkpoint::write_atomic;
use ppo::plot::{LinePlot, Series};
use std::fmt::Write as _;
use std::path::Path;

/// The median of `values` (sorted in place).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

/// One colour per seed, the same seed in the same colour in every figure.
pub const SEED_COLORS: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// A chart of one line per seed against environment steps: `points[i]` is seed `i + 1`'s.
pub fn per_seed(title: String, y_label: &str, points: Vec<Vec<(f64, f64)>>) -> LinePlot {
    let series = points
        .into_iter()
        .enumerate()
        .map(|(i, points)| Series {
            label: format!("seed {}", i + 1),
            points,
            color: SEED_COLORS[i % SEED_COLORS.len()].into(),
        })
        .collect();
    LinePlot {
        title,
        x_label: "environment steps".into(),
        y_label: y_label.into(),
        series,
        hlines: Vec::new(),
    }
}

/// The header of a per-seed table whose first column is `first` and whose last, after the
/// median, is `last`.
pub fn table_header(first: &str, seeds: u64, last: &str) -> String {
    let mut table = format!("| {first} |");
    for seed in 1..=seeds {
        let _ = write!(table, " seed {seed} |");
    }
    let _ = write!(table, " median | {last} |\n|---|");
    table.push_str(&"---:|".repeat(seeds as usize + 2));
    table.push('\n');
    table
}

/// `n` with a comma between thousands, as the book writes step counts: 100,000.
#[allow(dead_code)] // the Pendulum results example writes no step counts
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Writes `text` to `path`, or exits with a message saying why it could not.
pub fn write(path: &Path, text: &str) {
    write_atomic(path, text.as_bytes()).unwrap_or_else(|e| {
        eprintln!("error: cannot write {}: {e}", path.display());
        std::process::exit(1)
    });
}

/// The seeds to run, from the first argument (1 to 10; 10 without one), or exits with status
/// 2 and a message naming `flag`, the example's other argument.
pub fn seeds_argument(args: &[String], flag: &str) -> u64 {
    match args.first().map(|a| a.parse()) {
        None => 10,
        Some(Ok(n)) if (1..=10).contains(&n) => n,
        Some(_) => {
            eprintln!("error: the argument is the number of seeds, 1 to 10 (or {flag})");
            std::process::exit(2)
        }
    }
}
