//! A few SVG drawing primitives for the book's diagrams: boxes, text, lines and arrows, with
//! coordinates in pixels from the top left corner.

use ppo::plot::escape;
use std::fmt::Write as _;

/// A document being drawn.
pub struct Canvas {
    width: f64,
    height: f64,
    body: String,
    /// Colours used by arrows: each needs its own arrowhead marker.
    arrow_colors: Vec<String>,
}

/// Text placement: where the anchor point is, and how it looks.
#[derive(Clone, Copy)]
pub struct Font {
    pub size: f64,
    pub anchor: &'static str,
    pub color: &'static str,
    pub bold: bool,
}

impl Font {
    pub const fn new(size: f64) -> Font {
        Font { size, anchor: "start", color: "#222", bold: false }
    }
    pub const fn middle(self) -> Font {
        Font { anchor: "middle", ..self }
    }
    pub const fn end(self) -> Font {
        Font { anchor: "end", ..self }
    }
    pub const fn color(self, color: &'static str) -> Font {
        Font { color, ..self }
    }
    pub const fn bold(self) -> Font {
        Font { bold: true, ..self }
    }
}

impl Canvas {
    pub fn new(width: f64, height: f64) -> Canvas {
        let mut body = String::new();
        let _ = writeln!(body, r#"<rect width="{width}" height="{height}" fill="white"/>"#);
        Canvas { width, height, body, arrow_colors: Vec::new() }
    }

    pub fn text(&mut self, (x, y): (f64, f64), text: &str, font: Font) {
        let weight = if font.bold { r#" font-weight="bold""# } else { "" };
        let _ = writeln!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{}" text-anchor="{}" fill="{}"{weight}>{}</text>"#,
            font.size,
            font.anchor,
            font.color,
            escape(text)
        );
    }

    /// A rectangle with rounded corners; `stroke` "none" for none.
    pub fn rect(&mut self, (x, y): (f64, f64), (w, h): (f64, f64), fill: &str, stroke: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" rx="4" fill="{fill}" stroke="{stroke}"/>"#
        );
    }

    /// A straight line; `dash` is an SVG dash pattern ("" for solid).
    pub fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), color: &str, dash: &str) {
        let dash =
            if dash.is_empty() { String::new() } else { format!(r#" stroke-dasharray="{dash}""#) };
        let _ = writeln!(
            self.body,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{color}" stroke-width="1.5"{dash}/>"#
        );
    }

    /// An arrow from `from` to `to`, bowed sideways by `bend` pixels (0 for straight; positive
    /// bends to the left of the direction of travel).
    pub fn arrow(&mut self, from: (f64, f64), to: (f64, f64), bend: f64, color: &str) {
        let marker = self.marker(color);
        let (mx, my) = ((from.0 + to.0) / 2.0, (from.1 + to.1) / 2.0);
        let (dx, dy) = (to.0 - from.0, to.1 - from.1);
        let length = dx.hypot(dy).max(1e-9);
        // The control point sits `bend` away from the midpoint, square to the chord; a
        // quadratic curve passes halfway there.
        let control = (mx + 2.0 * bend * dy / length, my - 2.0 * bend * dx / length);
        let _ = writeln!(
            self.body,
            r#"<path d="M{:.1} {:.1} Q{:.1} {:.1} {:.1} {:.1}" fill="none" stroke="{color}" stroke-width="1.5" marker-end="url(#{marker})"/>"#,
            from.0, from.1, control.0, control.1, to.0, to.1
        );
    }

    /// The id of the arrowhead in `color`, defined once per colour.
    fn marker(&mut self, color: &str) -> String {
        let index = match self.arrow_colors.iter().position(|c| c == color) {
            Some(i) => i,
            None => {
                self.arrow_colors.push(color.to_string());
                self.arrow_colors.len() - 1
            }
        };
        format!("arrow{index}")
    }

    pub fn finish(self) -> String {
        let (width, height) = (self.width, self.height);
        let mut svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif">
"#
        );
        svg.push_str("<defs>\n");
        for (i, color) in self.arrow_colors.iter().enumerate() {
            let _ = writeln!(
                svg,
                r#"<marker id="arrow{i}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="{color}"/></marker>"#
            );
        }
        svg.push_str("</defs>\n");
        svg.push_str(&self.body);
        svg.push_str("</svg>\n");
        svg
    }
}
