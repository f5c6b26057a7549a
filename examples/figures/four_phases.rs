//! Chapter 10's figure: the four phases of one iteration, and which arrays each reads and
//! writes, with their shapes under the `default` preset.

use crate::canvas::{Canvas, Font};
use ppo::ppo::Config;

const BLUE: &str = "#4c72b0";
const ORANGE: &str = "#dd8452";
const GREY: &str = "#888";

/// What a phase does with an array.
#[derive(Clone, Copy, PartialEq)]
enum Use {
    None,
    Reads,
    Writes,
    ReadsWrites,
    Clears,
}

/// One row of the figure: an array (or a network), its shape, and its use by each phase.
struct Row {
    name: &'static str,
    shape: String,
    uses: [Use; 4],
}

fn rows(config: &Config, obs: usize, action: usize) -> Vec<Row> {
    use Use::{Clears, None as No, Reads, ReadsWrites, Writes};
    let n = config.num_envs * config.rollout_steps;
    let column = format!("[{n}]");
    let buffer = |name, shape: String, collect, estimate, learn| Row {
        name,
        shape,
        uses: [collect, estimate, learn, Clears],
    };
    vec![
        Row { name: "actor π_θ", shape: "network".into(), uses: [Reads, No, ReadsWrites, No] },
        Row { name: "critic V_φ", shape: "network".into(), uses: [Reads, Reads, ReadsWrites, No] },
        buffer("observations", format!("[{n}, {obs}]"), Writes, No, Reads),
        buffer("actions (as sampled)", format!("[{n}, {action}]"), Writes, No, Reads),
        buffer("log_probs (ln π_old)", column.clone(), Writes, No, Reads),
        buffer("values V(s_t)", column.clone(), Writes, Reads, No),
        buffer("rewards (scaled)", column.clone(), Writes, Reads, No),
        buffer("terminated, truncated", column.clone(), Writes, Reads, No),
        buffer("truncation_values", column.clone(), Writes, Reads, No),
        Row {
            name: "last_values",
            shape: format!("[{}]", config.num_envs),
            uses: [No, Writes, No, No],
        },
        buffer("advantages Â", column.clone(), No, Writes, Reads),
        buffer("returns R = Â + V", column, No, Writes, Reads),
    ]
}

pub fn draw(config: &Config, obs: usize, action: usize) -> String {
    let rows = rows(config, obs, action);
    let (first_column, column_width, row_height, top) = (250.0, 150.0, 26.0, 175.0);
    let width = first_column + 4.0 * column_width + 20.0;
    let height = top + rows.len() as f64 * row_height + 64.0;
    let mut canvas = Canvas::new(width, height);
    canvas.text(
        (width / 2.0, 24.0),
        &format!(
            "One iteration of the default preset, {} times over: {} environments × {} steps",
            config.updates(),
            config.num_envs,
            config.rollout_steps
        ),
        Font::new(15.0).middle(),
    );
    let minibatches = config.batch_size() / config.minibatch_size;
    let phases = [
        (
            "1. collect",
            format!("{} steps of {} envs", config.rollout_steps, config.num_envs),
            "no tape".to_string(),
        ),
        ("2. estimate", "GAE, backwards".to_string(), "normalize Â".to_string()),
        (
            "3. learn",
            format!("{} epochs × {minibatches}", config.epochs),
            format!("minibatches of {}", config.minibatch_size),
        ),
        ("4. discard", "buffer.clear()".to_string(), "memory kept".to_string()),
    ];
    let centre = |k: usize| first_column + (k as f64 + 0.5) * column_width;
    for (k, (name, line1, line2)) in phases.iter().enumerate() {
        let x = centre(k);
        canvas.rect((x - 62.0, 76.0), (124.0, 66.0), "#f4f4f4", "#666");
        canvas.text((x, 96.0), name, Font::new(13.0).middle().bold());
        canvas.text((x, 114.0), line1, Font::new(11.0).middle());
        canvas.text((x, 130.0), line2, Font::new(11.0).middle());
        if k + 1 < phases.len() {
            canvas.arrow((x + 63.0, 109.0), (centre(k + 1) - 64.0, 109.0), 0.0, "#444");
        }
    }
    // The loop closes: after discarding, the next iteration collects afresh.
    canvas.arrow((centre(3), 75.0), (centre(0), 75.0), -12.0, "#444");
    let middle = (centre(0) + centre(3)) / 2.0;
    canvas.text((middle, 56.0), "next iteration", Font::new(11.0).middle().color("#444"));

    canvas.text((20.0, top - 10.0), "array or network", Font::new(11.0).color(GREY));
    canvas.text((first_column - 12.0, top - 10.0), "shape", Font::new(11.0).end().color(GREY));
    for (i, row) in rows.iter().enumerate() {
        let y = top + i as f64 * row_height;
        if i % 2 == 0 {
            canvas.rect((14.0, y), (width - 28.0, row_height), "#fafafa", "none");
        }
        canvas.text((20.0, y + 17.0), row.name, Font::new(12.0));
        canvas.text(
            (first_column - 12.0, y + 17.0),
            &row.shape,
            Font::new(12.0).end().color("#555"),
        );
        for (k, &use_) in row.uses.iter().enumerate() {
            mark(&mut canvas, (centre(k), y + row_height / 2.0), use_);
        }
    }
    let legend = top + rows.len() as f64 * row_height + 24.0;
    let notes = [
        format!(
            "The buffer holds {} transitions, step-major (index = t·E + e). Learning reads it in shuffled minibatches,",
            config.batch_size()
        ),
        format!(
            "{} Adam steps for the actor and {} for the critic per iteration.",
            config.epochs * minibatches,
            config.epochs * minibatches
        ),
    ];
    for (i, note) in notes.iter().enumerate() {
        canvas.text((20.0, legend + 16.0 * i as f64), note, Font::new(11.0).color("#444"));
    }
    canvas.finish()
}

/// A phase's use of an array, as a small labelled pill.
fn mark(canvas: &mut Canvas, (x, y): (f64, f64), use_: Use) {
    let (label, fill, text) = match use_ {
        Use::None => return,
        Use::Reads => ("reads", "white", BLUE),
        Use::Writes => ("writes", ORANGE, "white"),
        Use::ReadsWrites => ("updates", BLUE, "white"),
        Use::Clears => ("clears", "white", GREY),
    };
    let stroke = if fill == "white" { text } else { fill };
    canvas.rect((x - 32.0, y - 9.0), (64.0, 18.0), fill, stroke);
    canvas.text((x, y + 4.0), label, Font::new(11.0).middle().color(text));
}
