//! Chapter 13 (part): a small SVG writer for learning curves.
//!
//! A [`LinePlot`] is a few named series of `(x, y)` points and a few labelled horizontal
//! reference lines; [`LinePlot::to_svg`] draws them with axes, ticks at round numbers, axis
//! labels, a title and a legend, as one self-contained SVG document that any browser (and
//! mdBook) shows. It is what `pendulum` draws `learning_curve.svg` with, and about as much
//! plotting as a training run needs; it writes text, so it needs no dependency.
//!
//! ```
//! use ppo::plot::{LinePlot, Series};
//!
//! let plot = LinePlot {
//!     title: "Learning curve".into(),
//!     x_label: "environment steps".into(),
//!     y_label: "episode return".into(),
//!     series: vec![Series {
//!         label: "mean return".into(),
//!         points: vec![(0.0, -1200.0), (50_000.0, -400.0), (100_000.0, -160.0)],
//!         color: "#1f77b4".into(),
//!     }],
//!     hlines: vec![(-200.0, "−200: solved".into())],
//! };
//! let svg = plot.to_svg();
//! assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
//! ```
//!
//! Points whose coordinates are NaN or infinite are not drawn: they break the line, so a
//! missing value (an update in which no episode ended) shows as a gap rather than as a made-up
//! segment.

use std::fmt::Write as _;

/// A line chart: series of points and horizontal reference lines.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinePlot {
    /// Title above the chart.
    pub title: String,
    /// Label under the x axis.
    pub x_label: String,
    /// Label beside the y axis.
    pub y_label: String,
    /// The lines to draw, in order (later ones on top), each with its legend entry.
    pub series: Vec<Series>,
    /// Dashed horizontal lines across the whole chart at `y`, each labelled at its right end.
    pub hlines: Vec<(f64, String)>,
}

/// One line of a [`LinePlot`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Its legend entry.
    pub label: String,
    /// The points, joined in the order given; a non-finite coordinate breaks the line.
    pub points: Vec<(f64, f64)>,
    /// Any SVG colour: `"#1f77b4"`, `"teal"`, …
    pub color: String,
}

// The canvas, in SVG user units (pixels when shown at 100 %).
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 440.0;
// Margins around the plotting area: room for the title and legend above, tick labels and the
// axis labels left and below, the reference lines' labels on the right.
const LEFT: f64 = 80.0;
const RIGHT: f64 = 120.0;
/// Distance between two lines of text.
const LINE_HEIGHT: f64 = 14.0;
/// Top of the plotting area under the title and a one-row legend; each further legend row
/// moves it down by [`LEGEND_ROW`].
const TOP: f64 = 64.0;
/// Height of one row of legend entries.
const LEGEND_ROW: f64 = 16.0;
const BOTTOM: f64 = 56.0;
/// Roughly how many ticks an axis gets; [`nice_ticks`] picks the round step closest to it.
const TARGET_TICKS: usize = 6;

impl LinePlot {
    /// The chart as a complete SVG document.
    pub fn to_svg(&self) -> String {
        stack(std::slice::from_ref(self))
    }

    /// The chart's elements, drawn on the canvas `WIDTH` × `HEIGHT` starting at the origin.
    fn write_chart(&self, svg: &mut String) {
        let finite = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite();
        let points = || self.series.iter().flat_map(|s| s.points.iter().copied()).filter(finite);
        let xs = range(points().map(|(x, _)| x));
        // The reference lines must be visible too: they are what the curve is judged against.
        let hline_ys = self.hlines.iter().map(|(y, _)| *y).filter(|y| y.is_finite());
        let ys = range(points().map(|(_, y)| y).chain(hline_ys));
        // A margin keeps the extreme points off the frame, where they would be hard to see.
        let legend = self.legend_layout();
        let top = TOP + LEGEND_ROW * (legend.last().map_or(0.0, |&(_, row)| row as f64));
        let frame = Frame { x: pad(xs, 0.02), y: pad(ys, 0.05), top };
        let x_ticks = nice_ticks(frame.x.0, frame.x.1, TARGET_TICKS);
        let y_ticks = nice_ticks(frame.y.0, frame.y.1, TARGET_TICKS);

        let _ = writeln!(svg, r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#);
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="22" text-anchor="middle" font-size="16">{}</text>"#,
            WIDTH / 2.0,
            escape(&self.title)
        );
        self.write_axes(svg, &frame, &x_ticks, &y_ticks);
        self.write_hlines(svg, &frame);
        for series in &self.series {
            write_series(svg, &frame, series);
        }
        self.write_legend(svg, &legend);
    }

    fn write_axes(&self, svg: &mut String, frame: &Frame, x_ticks: &Ticks, y_ticks: &Ticks) {
        let (right, bottom) = (WIDTH - RIGHT, HEIGHT - BOTTOM);
        for x in x_ticks.values() {
            let px = frame.px(x);
            let _ = writeln!(
                svg,
                r##"<line x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{bottom}" stroke="#e5e5e5"/>"##,
                frame.top
            );
            let _ = writeln!(
                svg,
                r#"<text x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                bottom + 16.0,
                x_ticks.label(x)
            );
        }
        for y in y_ticks.values() {
            let py = frame.py(y);
            let _ = writeln!(
                svg,
                r##"<line x1="{LEFT}" y1="{py:.1}" x2="{right}" y2="{py:.1}" stroke="#e5e5e5"/>"##
            );
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                LEFT - 6.0,
                py + 4.0,
                y_ticks.label(y)
            );
        }
        let _ = writeln!(
            svg,
            r#"<rect x="{LEFT}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="black"/>"#,
            frame.top,
            right - LEFT,
            bottom - frame.top
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            (LEFT + right) / 2.0,
            HEIGHT - 12.0,
            escape(&self.x_label)
        );
        let (cx, cy) = (18.0, (frame.top + bottom) / 2.0);
        let _ = writeln!(
            svg,
            r#"<text x="{cx}" y="{cy:.1}" text-anchor="middle" transform="rotate(-90 {cx} {cy:.1})">{}</text>"#,
            escape(&self.y_label)
        );
    }

    /// The reference lines, dashed, labelled in the right margin, where they cannot cover the
    /// data; labels closer than a line of text are pushed apart.
    fn write_hlines(&self, svg: &mut String, frame: &Frame) {
        let mut lines: Vec<(f64, &str)> = self
            .hlines
            .iter()
            .filter(|(y, _)| y.is_finite())
            .map(|(y, label)| (frame.py(*y), label.as_str()))
            .collect();
        lines.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut previous_label = f64::NEG_INFINITY;
        for (py, label) in lines {
            let _ = writeln!(
                svg,
                r##"<line x1="{LEFT}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" stroke="#777" stroke-dasharray="6 4"/>"##,
                WIDTH - RIGHT
            );
            let label_y = (py + 4.0).max(previous_label + LINE_HEIGHT);
            previous_label = label_y;
            let _ = writeln!(
                svg,
                r##"<text x="{:.1}" y="{label_y:.1}" fill="#555">{}</text>"##,
                WIDTH - RIGHT + 6.0,
                escape(label)
            );
        }
    }

    /// Where each legend entry starts: `(x, row)`, filling rows left to right and starting a
    /// new row when the next entry would run past the chart's right edge.
    fn legend_layout(&self) -> Vec<(f64, usize)> {
        let mut layout = Vec::with_capacity(self.series.len());
        let (mut x, mut row) = (LEFT, 0);
        for series in &self.series {
            // An estimate of the text's width: SVG has no text measurement without a renderer.
            let width = 26.0 + 7.0 * series.label.chars().count() as f64 + 24.0;
            if x > LEFT && x + width - 24.0 > WIDTH - RIGHT {
                (x, row) = (LEFT, row + 1);
            }
            layout.push((x, row));
            x += width;
        }
        layout
    }

    /// The entries between the title and the chart, where they cannot hide a line.
    fn write_legend(&self, svg: &mut String, layout: &[(f64, usize)]) {
        for (series, &(x, row)) in self.series.iter().zip(layout) {
            let y = TOP - 16.0 + LEGEND_ROW * row as f64;
            let color = escape(&series.color);
            let _ = writeln!(
                svg,
                r#"<line x1="{x:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{color}" stroke-width="2"/>"#,
                x + 20.0
            );
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
                x + 26.0,
                y + 4.0,
                escape(&series.label)
            );
        }
    }
}

/// Several charts one above the other, sharing nothing but the document: each is drawn as
/// [`LinePlot::to_svg`] would draw it, moved down by the heights of the ones before. For a
/// figure whose panels have different units (densities above, their ratio below).
pub fn stack(plots: &[LinePlot]) -> String {
    let height = HEIGHT * plots.len().max(1) as f64;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    for (k, plot) in plots.iter().enumerate() {
        if k == 0 {
            plot.write_chart(&mut svg);
        } else {
            let _ = writeln!(svg, r#"<g transform="translate(0 {:.1})">"#, HEIGHT * k as f64);
            plot.write_chart(&mut svg);
            svg.push_str("</g>\n");
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// Data coordinates to canvas coordinates.
struct Frame {
    x: (f64, f64),
    y: (f64, f64),
    /// Top of the plotting area, below the legend.
    top: f64,
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        LEFT + (x - self.x.0) / (self.x.1 - self.x.0) * (WIDTH - RIGHT - LEFT)
    }

    /// SVG's y axis points down: the largest value is at the top.
    fn py(&self, y: f64) -> f64 {
        self.top + (self.y.1 - y) / (self.y.1 - self.y.0) * (HEIGHT - BOTTOM - self.top)
    }
}

/// The series as one `<path>`: each run of finite points is a sub-path (`M` then `L`s), so a
/// non-finite point leaves a gap. A run of one point is drawn as a dot, or it would vanish.
fn write_series(svg: &mut String, frame: &Frame, series: &Series) {
    let color = escape(&series.color);
    let mut path = String::new();
    let mut dots = Vec::new();
    for run in series.points.split(|(x, y)| !(x.is_finite() && y.is_finite())) {
        match run {
            [] => {}
            [(x, y)] => dots.push((frame.px(*x), frame.py(*y))),
            _ => {
                for (i, (x, y)) in run.iter().enumerate() {
                    let command = if i == 0 { 'M' } else { 'L' };
                    let _ = write!(path, "{command}{:.1} {:.1} ", frame.px(*x), frame.py(*y));
                }
            }
        }
    }
    if !path.is_empty() {
        let _ = writeln!(
            svg,
            r#"<path d="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            path.trim_end()
        );
    }
    for (px, py) in dots {
        let _ = writeln!(svg, r#"<circle cx="{px:.1}" cy="{py:.1}" r="2.5" fill="{color}"/>"#);
    }
}

/// The smallest and largest of `values`, widened to a non-empty interval: an axis needs some
/// extent even when there is one value, or none.
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) =
        values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        (0.0, 1.0)
    } else if lo == hi {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    } else {
        (lo, hi)
    }
}

/// `(lo, hi)` widened by `fraction` of its width on each side.
fn pad((lo, hi): (f64, f64), fraction: f64) -> (f64, f64) {
    let margin = (hi - lo) * fraction;
    (lo - margin, hi + margin)
}

// ANCHOR: nice_ticks
/// Evenly spaced ticks at round numbers inside `[lo, hi]`: the step is 1, 2 or 5 times a
/// power of ten, the one that gives closest to `target` intervals over the range.
///
/// # Panics
/// If `lo` or `hi` is not finite, or `lo >= hi`.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> Ticks {
    assert!(
        lo.is_finite() && hi.is_finite() && lo < hi,
        "nice_ticks needs lo < hi, got {lo}, {hi}"
    );
    let (span, target) = (hi - lo, target.max(1) as f64);
    let magnitude = 10f64.powf((span / target).log10().floor());
    let intervals = |step: &f64| (span / step - target).abs();
    let step = [1.0, 2.0, 5.0, 10.0]
        .map(|m| m * magnitude)
        .into_iter()
        .min_by(|a, b| intervals(a).total_cmp(&intervals(b)))
        .expect("four candidates");
    // Ticks are whole multiples of the step, counted as integers, so that rounding never
    // shows up as a tick at 0.30000000000000004.
    let first = (lo / step).ceil();
    let last = (hi / step).floor();
    Ticks { first, count: (last - first + 1.0).max(0.0) as usize, step }
}
// ANCHOR_END: nice_ticks

/// Ticks from [`nice_ticks`]: the values `(first + i)·step` for `i` in `0..count`, where
/// `first` is a whole number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ticks {
    first: f64,
    count: usize,
    step: f64,
}

impl Ticks {
    /// The distance between ticks: 1, 2 or 5 times a power of ten.
    pub fn step(&self) -> f64 {
        self.step
    }

    /// The tick values, in increasing order.
    pub fn values(&self) -> Vec<f64> {
        (0..self.count).map(|i| (self.first + i as f64) * self.step).collect()
    }

    /// `value` printed with as many decimals as the step needs and no more: `0.25` for a step
    /// of 0.05, `−400` for a step of 100, with a true minus sign (U+2212), as typeset numbers
    /// have; never `−0`.
    pub fn label(&self, value: f64) -> String {
        let decimals = (-self.step.log10().floor()).max(0.0) as usize;
        let text = format!("{value:.decimals$}");
        match text.strip_prefix('-') {
            Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
            Some(rest) => format!("\u{2212}{rest}"),
            None => text,
        }
    }
}

/// `text` with the five characters that are special in XML replaced by entities.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            _ => escaped.push(c),
        }
    }
    escaped
}
