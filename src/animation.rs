//! Chapter 13 (part): a recorded episode as an animated SVG picture.
//!
//! [`pendulum`] and [`cartpole`] turn the states of one episode into one self-contained SVG
//! document that replays it in real time, in a loop. The motion is SVG's own animation (SMIL):
//! each moving part carries an `<animateTransform>` whose `values` list holds one rotation or
//! translation per frame, and the browser interpolates linearly between them. No script is
//! needed, so the picture plays wherever an SVG is shown, including inside an `<img>` (as
//! mdBook shows figures), and it costs a few bytes per frame.
//!
//! ```
//! use ppo::{Pendulum, animation};
//!
//! // Let the pendulum fall from just off upright, with no torque.
//! let mut env = Pendulum::new();
//! env.set_state(0.1, 0.0);
//! let mut angles = vec![env.state().0];
//! for _ in 0..100 {
//!     env.step(&[0.0]);
//!     angles.push(env.state().0);
//! }
//! let svg = animation::pendulum(&angles, &[0.0; 100], "falling");
//! assert!(svg.starts_with("<svg") && svg.contains("<animateTransform"));
//! ```

use crate::plot::escape;
use crate::{CartPole, Pendulum};
use std::fmt::Write as _;

/// Seconds the last frame stays on screen before the episode starts again.
pub const HOLD_SECONDS: f64 = 1.0;

/// Steps of CartPole (0.02 s each) per frame: 25 frames per second is smooth, since the browser
/// interpolates between frames, and half the size of one frame per step.
pub const CARTPOLE_STEPS_PER_FRAME: usize = 2;

/// An animated picture of a pendulum episode: the rod swinging about its pivot, a bar showing
/// the torque, and a bar showing the time elapsed. One frame per step (0.05 s, real time).
///
/// `angles[t]` is θ before step `t` and after step `t − 1` (so `angles.len()` is one more than
/// the number of steps), as [`Pendulum::state`] returns it: from upright, counter-clockwise
/// positive, not wrapped (a pendulum that turns twice is drawn turning twice, not jumping
/// back). `torques[t]` is the action of step `t`, drawn clipped to ±2 as the physics clips it.
/// The title may have two lines (`\n`); the picture is 360 pixels wide.
///
/// # Panics
/// If `torques.len() + 1 != angles.len()` (the message names both lengths), or if an angle or
/// a torque is not finite.
pub fn pendulum(angles: &[f64], torques: &[f32], title: &str) -> String {
    assert_eq!(
        torques.len() + 1,
        angles.len(),
        "a pendulum animation needs one angle more than torques, got {} angles and {} torques",
        angles.len(),
        torques.len()
    );
    assert!(
        angles.iter().all(|a| a.is_finite()) && torques.iter().all(|u| u.is_finite()),
        "a pendulum animation needs finite angles and torques"
    );
    let timing = Timing::new(angles.len(), Pendulum::DT);
    // SVG's rotate() turns clockwise on screen (its y axis points down); θ turns counter-clockwise.
    let rotation = angles.iter().map(|theta| format!("{:.1}", -theta.to_degrees()));
    // The last state has no action of its own: the bar shows none.
    let max = f64::from(Pendulum::MAX_TORQUE);
    let torque = torques.iter().map(|&u| f64::from(u).clamp(-max, max) / max).chain([0.0]);
    let torque = torque.map(|fraction| format!("{fraction:.3} 1"));

    let (width, height, pivot, rod) = (360.0, 340.0, (180.0, 178.0), 100.0);
    let mut svg = header(width, height, title);
    // Where the rod is headed: the upright position, and the circle the tip runs on.
    let _ = writeln!(
        svg,
        r##"<circle cx="{}" cy="{}" r="{rod}" fill="none" stroke="#ddd" stroke-dasharray="4 4"/>"##,
        pivot.0, pivot.1
    );
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="{}" text-anchor="middle" fill="#999">upright</text>"##,
        pivot.0,
        pivot.1 - rod - 14.0
    );
    let _ = writeln!(svg, r#"<g transform="translate({} {})">"#, pivot.0, pivot.1);
    let _ = writeln!(svg, "{}", timing.group("rotate", rotation));
    let _ = writeln!(
        svg,
        r##"<line x1="0" y1="0" x2="0" y2="-{rod}" stroke="#b5523b" stroke-width="12" stroke-linecap="round"/>"##
    );
    let _ = writeln!(svg, "</g>");
    let _ = writeln!(svg, r##"<circle r="5" fill="#333"/></g>"##);
    torque_bar(&mut svg, &timing, torque, (pivot.0, height - 40.0));
    time_bar(&mut svg, &timing, width, height);
    svg.push_str("</svg>\n");
    svg
}

/// The torque as a bar growing left or right from the middle, full length at ±2 N·m.
fn torque_bar(
    svg: &mut String,
    timing: &Timing,
    fractions: impl Iterator<Item = String>,
    (x, y): (f64, f64),
) {
    let half = 70.0;
    let _ = writeln!(
        svg,
        r##"<rect x="{}" y="{}" width="{}" height="10" fill="#eee"/>"##,
        x - half,
        y - 5.0,
        2.0 * half
    );
    let _ = writeln!(svg, r#"<g transform="translate({x} {y})">"#);
    let _ = writeln!(svg, "{}", timing.group("scale", fractions));
    let _ = writeln!(svg, r##"<rect y="-5" width="{half}" height="10" fill="#4c72b0"/></g></g>"##);
    let _ = writeln!(
        svg,
        r##"<text x="{x}" y="{}" text-anchor="middle" fill="#555">torque (−2 to +2 N·m)</text>"##,
        y + 22.0
    );
}

/// A thin bar along the bottom edge that fills as the episode runs.
fn time_bar(svg: &mut String, timing: &Timing, width: f64, height: f64) {
    let fractions = (0..timing.frames)
        .map(|k| format!("{:.4} 1", k as f64 / (timing.frames - 1).max(1) as f64));
    let _ = writeln!(svg, "{}", timing.group("scale", fractions));
    let _ = writeln!(
        svg,
        r##"<rect y="{}" width="{width}" height="4" fill="#999"/></g>"##,
        height - 4.0
    );
}

/// An animated picture of a CartPole episode: the cart on its track between the limits at
/// ±2.4 m, the pole on its hinge, and an arrow for the push. One frame every
/// [`CARTPOLE_STEPS_PER_FRAME`] steps, in real time.
///
/// `states[t]` is `[x, ẋ, θ, θ̇]` before step `t` and after step `t − 1`, as
/// [`CartPole::state`] returns it (θ from upright, positive leaning right); `actions[t]` is the
/// action of step `t` (0 pushes left, 1 right).
///
/// # Panics
/// If `actions.len() + 1 != states.len()` (the message names both lengths), or a position or
/// an angle is not finite.
pub fn cartpole(states: &[[f64; 4]], actions: &[usize], title: &str) -> String {
    assert_eq!(
        actions.len() + 1,
        states.len(),
        "a cartpole animation needs one state more than actions, got {} states and {} actions",
        states.len(),
        actions.len()
    );
    assert!(
        states.iter().all(|s| s[0].is_finite() && s[2].is_finite()),
        "a cartpole animation needs finite positions and angles"
    );
    let frames: Vec<usize> = (0..states.len()).step_by(CARTPOLE_STEPS_PER_FRAME).collect();
    let timing = Timing::new(frames.len(), CartPole::TAU * CARTPOLE_STEPS_PER_FRAME as f64);
    let (width, height, metre) = (600.0, 240.0, 100.0);
    let (centre, track) = (width / 2.0, 170.0);
    // Past the track's ends the episode is over; the cart is drawn at most a little beyond.
    let shown = CartPole::X_THRESHOLD + 0.5;
    let position = frames
        .iter()
        .map(|&t| format!("{:.1} {track}", centre + metre * states[t][0].clamp(-shown, shown)));
    // Leaning right is clockwise on screen, which is SVG's positive rotation.
    let lean = frames.iter().map(|&t| format!("{:.1}", states[t][2].to_degrees()));
    // The push of the step each frame starts (the last state has none: it keeps the last
    // push). Between two frames of opposite pushes the arrow flips through zero in one frame.
    let push = frames.iter().map(|&t| {
        let action = actions.get(t).or(actions.last()).copied().unwrap_or(1);
        if action == 0 { "-1 1" } else { "1 1" }.to_string()
    });

    let mut svg = header(width, height, title);
    let _ = writeln!(
        svg,
        r##"<line x1="20" y1="{0}" x2="{1}" y2="{0}" stroke="#999" stroke-width="2"/>"##,
        track + 14.0,
        width - 20.0
    );
    for side in [-1.0, 1.0] {
        let x = centre + side * metre * CartPole::X_THRESHOLD;
        let _ = writeln!(
            svg,
            r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#c44" stroke-width="2"/>"##,
            track - 6.0,
            track + 22.0
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="{centre}" y="{}" text-anchor="middle" fill="#555">track limits at ±2.4 m</text>"##,
        track + 40.0
    );
    let _ = writeln!(svg, "{}", timing.group("translate", position));
    let _ = writeln!(svg, r##"<rect x="-25" y="-13" width="50" height="26" rx="3" fill="#555"/>"##);
    let _ = writeln!(svg, "{}", timing.group("scale", push));
    let _ = writeln!(
        svg,
        r##"<path d="M30 0 L44 0 M38 -5 L45 0 L38 5" stroke="#4c72b0" stroke-width="3" fill="none"/></g>"##
    );
    let pole = metre * 2.0 * CartPole::HALF_LENGTH;
    let _ = writeln!(svg, r#"<g transform="translate(0 -13)">"#);
    let _ = writeln!(svg, "{}", timing.group("rotate", lean));
    let _ = writeln!(
        svg,
        r##"<line x1="0" y1="0" x2="0" y2="-{pole}" stroke="#b5523b" stroke-width="8" stroke-linecap="round"/>"##
    );
    let _ = writeln!(svg, r##"</g><circle r="4" fill="#222"/></g></g>"##);
    time_bar(&mut svg, &timing, width, height);
    svg.push_str("</svg>\n");
    svg
}

/// The document's opening: the canvas, a white background and the title, one line of text
/// for each line of `title`.
fn header(width: f64, height: f64, title: &str) -> String {
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="{width}" height="{height}" fill="white"/>"#);
    for (i, line) in title.lines().enumerate() {
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle" font-size="13">{}</text>"#,
            width / 2.0,
            20 + 17 * i,
            escape(line)
        );
    }
    svg
}

/// The clock every moving part shares: `frames` frames `seconds_per_frame` apart, then the last
/// one held for [`HOLD_SECONDS`], then again from the start.
struct Timing {
    frames: usize,
    seconds_per_frame: f64,
}

impl Timing {
    fn new(frames: usize, seconds_per_frame: f64) -> Timing {
        Timing { frames, seconds_per_frame }
    }

    /// Frames the hold adds: copies of the last frame, so that every value stays one frame
    /// long and no `keyTimes` list is needed.
    fn hold_frames(&self) -> usize {
        (HOLD_SECONDS / self.seconds_per_frame).round() as usize
    }

    /// The opening tag of a group moved by an `<animateTransform>` of `kind` (`rotate`,
    /// `translate`, `scale`) through `values`, one per frame, interpolated linearly between
    /// them; the caller closes the group. The group's static transform is the first frame, which
    /// is what a viewer without animation (or a printout) shows.
    ///
    /// Every part of a picture gets the same duration, so that the parts stay in step when the
    /// animation repeats: `n` values (the hold included) span `n − 1` frames.
    fn group(&self, kind: &str, values: impl Iterator<Item = String>) -> String {
        let mut list: Vec<String> = values.collect();
        assert_eq!(list.len(), self.frames, "one {kind} value per frame");
        let first = list.first().cloned().unwrap_or_default();
        let last = list.last().cloned().unwrap_or_default();
        list.extend(std::iter::repeat_n(last, self.hold_frames()));
        let seconds = (list.len() - 1).max(1) as f64 * self.seconds_per_frame;
        format!(
            r#"<g transform="{kind}({first})"><animateTransform attributeName="transform" type="{kind}" dur="{seconds:.3}s" repeatCount="indefinite" values="{}"/>"#,
            list.join(";")
        )
    }
}
