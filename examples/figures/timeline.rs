//! Chapter 8's figure: GAE's backward pass over one environment's rollout, across an episode
//! end, once truncated and once terminated.

use crate::canvas::{Canvas, Font};

/// Steps in the drawn rollout, and the step at which the first episode ends.
const STEPS: usize = 8;
const LAST_OF_EPISODE: usize = 3;

const BLUE: &str = "#4c72b0";
const ORANGE: &str = "#dd8452";
const RED: &str = "#c44e52";
const GREY: &str = "#999";

/// How the first episode ends.
#[derive(Clone, Copy, PartialEq)]
enum End {
    Truncated,
    Terminated,
}

pub fn draw() -> String {
    let (width, panel) = (900.0, 250.0);
    let mut canvas = Canvas::new(width, 40.0 + 2.0 * panel);
    canvas.text(
        (width / 2.0, 24.0),
        "GAE over one environment's rollout of 8 steps, computed backwards from t = 7",
        Font::new(15.0).middle(),
    );
    draw_panel(&mut canvas, 40.0, End::Truncated);
    draw_panel(&mut canvas, 40.0 + panel, End::Terminated);
    canvas.finish()
}

/// Left edge of step `t`'s box, and the box's size.
fn box_x(t: usize) -> f64 {
    40.0 + t as f64 * 95.0
}
const BOX: (f64, f64) = (72.0, 44.0);

fn draw_panel(canvas: &mut Canvas, top: f64, end: End) {
    let heading = match end {
        End::Truncated => {
            "(a) the episode is truncated at t = 3 (time limit, TimeLimit::Bootstrap): its future is worth V(s_final)"
        }
        End::Terminated => {
            "(b) the episode terminates at t = 3 (or a truncation treated as terminal): nothing follows"
        }
    };
    canvas.text((20.0, top + 18.0), heading, Font::new(13.0).bold());
    let row = top + 105.0;
    draw_episodes(canvas, top + 40.0, row);
    for t in 0..STEPS {
        canvas.rect((box_x(t), row), BOX, "#f4f4f4", "#666");
        let centre = box_x(t) + BOX.0 / 2.0;
        canvas.text((centre, row + 18.0), &format!("t = {t}"), Font::new(12.0).middle());
        canvas.text(
            (centre, row + 35.0),
            &format!("s{0} a{0} r{0}", subscript(t)),
            Font::new(11.0).middle().color("#555"),
        );
    }
    draw_bootstraps(canvas, row, end);
    draw_recursion(canvas, row + BOX.1);
    let delta = match end {
        End::Truncated => "δ₃ = r₃ + γ·V(s_final) − V(s₃)",
        End::Terminated => "δ₃ = r₃ + 0 − V(s₃)",
    };
    canvas.text(
        (20.0, top + 236.0),
        &format!("{delta};   Â₃ = δ₃ (the cut);   δ₇ = r₇ + γ·V(s₈) − V(s₇), the rollout's end, bootstrapped from last_values"),
        Font::new(12.0),
    );
}

/// The two episodes as bands behind the steps, and the boundary between them.
fn draw_episodes(canvas: &mut Canvas, top: f64, row: f64) {
    let split = box_x(LAST_OF_EPISODE + 1) - 11.5;
    canvas.rect(
        (box_x(0) - 8.0, top),
        (split - box_x(0) + 8.0 - 4.0, row - top + BOX.1 + 52.0),
        "#eaf0f8",
        "none",
    );
    canvas.rect(
        (split + 4.0, top),
        (box_x(STEPS - 1) + BOX.0 + 8.0 - split - 4.0, row - top + BOX.1 + 52.0),
        "#eef6ee",
        "none",
    );
    canvas.text((box_x(0), top + 14.0), "episode 1", Font::new(11.0).color("#555"));
    canvas.text(
        (split + 12.0, top + 14.0),
        "episode 2 (VecEnv reset the environment)",
        Font::new(11.0).color("#555"),
    );
    canvas.line((split, top), (split, row + BOX.1 + 52.0), GREY, "5 4");
}

/// Above the boxes: what stands in for V(s_{t+1}) in each δ_t.
fn draw_bootstraps(canvas: &mut Canvas, row: f64, end: End) {
    let small = Font::new(11.0).middle();
    for t in 0..STEPS - 1 {
        if t == LAST_OF_EPISODE {
            continue;
        }
        // Within an episode: the next stored step's value.
        let from = (box_x(t + 1) + 14.0, row);
        let to = (box_x(t) + BOX.0 - 14.0, row);
        canvas.arrow(from, to, -14.0, GREY);
    }
    canvas.text(((box_x(0) + box_x(1) + BOX.0) / 2.0, row - 22.0), "V(s₁)", small.color(GREY));
    let centre3 = box_x(LAST_OF_EPISODE) + BOX.0 / 2.0;
    match end {
        End::Truncated => {
            // The final observation: not stored as a step, kept by VecEnv for this.
            let at = (centre3 + 8.0, row - 50.0);
            canvas.rect((at.0 - 30.0, at.1 - 14.0), (60.0, 20.0), "white", ORANGE);
            canvas.text((at.0, at.1), "s_final", small.color(ORANGE));
            canvas.arrow((at.0 + 4.0, at.1 + 6.0), (at.0 + 4.0, row - 2.0), 0.0, ORANGE);
            canvas.text((at.0 - 2.0, row - 22.0), "γ·V(s_final)", small.end().color(ORANGE));
        }
        End::Terminated => {
            canvas.text((centre3, row - 24.0), "0: no future", small.color(RED));
        }
    }
    // After the rollout's last step: the value of where the environment is now.
    let last = box_x(STEPS - 1) + BOX.0;
    canvas.rect((last + 28.0, row + 4.0), (44.0, 36.0), "white", ORANGE);
    canvas.text((last + 50.0, row + 27.0), "s₈", small.color(ORANGE));
    canvas.arrow((last + 28.0, row + 22.0), (last + 2.0, row + 22.0), 0.0, ORANGE);
    canvas.text((last + 50.0, row - 8.0), "last_values", small.color(ORANGE));
}

/// Below the boxes: the recursion Â_t = δ_t + γλ·Â_{t+1}, cut at the episode's end.
fn draw_recursion(canvas: &mut Canvas, bottom: f64) {
    let small = Font::new(11.0).middle();
    for t in 0..STEPS - 1 {
        let from = (box_x(t + 1) + 14.0, bottom);
        let to = (box_x(t) + BOX.0 - 14.0, bottom);
        if t == LAST_OF_EPISODE {
            let (x, y) = ((from.0 + to.0) / 2.0, bottom + 20.0);
            canvas.line((x - 7.0, y - 7.0), (x + 7.0, y + 7.0), RED, "");
            canvas.line((x - 7.0, y + 7.0), (x + 7.0, y - 7.0), RED, "");
            canvas.text((x, y + 24.0), "cut: done₃", small.color(RED));
        } else {
            canvas.arrow(from, to, 16.0, BLUE);
        }
    }
    canvas.text(((box_x(0) + box_x(1) + BOX.0) / 2.0, bottom + 44.0), "γλ·Â₁", small.color(BLUE));
}

/// `t` in Unicode subscript digits.
fn subscript(t: usize) -> String {
    t.to_string()
        .chars()
        .map(|c| {
            char::from_u32('₀' as u32 + c.to_digit(10).expect("a digit"))
                .expect("a subscript digit")
        })
        .collect()
}
