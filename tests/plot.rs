//! The SVG writer: ticks at round numbers worked out by hand, text escaped, gaps where values
//! are missing, and points where they belong.

use ppo::plot::{LinePlot, Series, escape, nice_ticks};

fn plot(series: Vec<Series>) -> LinePlot {
    LinePlot {
        title: "t".into(),
        x_label: "x".into(),
        y_label: "y".into(),
        series,
        hlines: Vec::new(),
    }
}

fn series(points: &[(f64, f64)]) -> Series {
    Series { label: "s".into(), points: points.to_vec(), color: "red".into() }
}

/// The numbers of every `d="…"` path attribute, as (x, y) pairs per sub-path.
fn subpaths(svg: &str) -> Vec<Vec<(f64, f64)>> {
    let mut result = Vec::new();
    for chunk in svg.split(" d=\"").skip(1) {
        let d = &chunk[..chunk.find('"').unwrap()];
        for sub in d.split('M').filter(|s| !s.trim().is_empty()) {
            let numbers: Vec<f64> = sub
                .split(['L', ' '])
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap())
                .collect();
            result.push(numbers.chunks(2).map(|p| (p[0], p[1])).collect());
        }
    }
    result
}

#[test]
fn ticks_are_round_numbers_inside_the_range() {
    // Span 10 in ~5 intervals: the step 2 gives exactly 5.
    let ticks = nice_ticks(0.0, 10.0, 5);
    assert_eq!(ticks.step(), 2.0);
    assert_eq!(ticks.values(), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
    // A learning curve: span 1290 in ~6 intervals. Candidates 100, 200, 500, 1000 give 12.9,
    // 6.45, 2.58 and 1.29 intervals; 200 is closest to 6. Multiples of 200 inside the range:
    // −1400 … −200.
    let ticks = nice_ticks(-1400.0, -110.0, 6);
    assert_eq!(ticks.step(), 200.0);
    assert_eq!(ticks.values(), [-1400.0, -1200.0, -1000.0, -800.0, -600.0, -400.0, -200.0]);
    // Small steps: 0.05 in [0.01, 0.29] (span 0.28, ~6 intervals: 0.05 gives 5.6).
    let ticks = nice_ticks(0.01, 0.29, 6);
    assert_eq!(ticks.step(), 0.05);
    let labels: Vec<String> = ticks.values().iter().map(|&v| ticks.label(v)).collect();
    assert_eq!(labels, ["0.05", "0.10", "0.15", "0.20", "0.25"]);
}

#[test]
fn labels_use_a_true_minus_and_never_show_minus_zero() {
    let ticks = nice_ticks(-1.0, 1.0, 4);
    assert_eq!(ticks.step(), 0.5);
    assert_eq!(ticks.label(-0.5), "\u{2212}0.5");
    assert_eq!(ticks.label(-0.0), "0.0");
    assert_eq!(ticks.label(-1e-12), "0.0");
    assert_eq!(nice_ticks(0.0, 100_000.0, 5).label(40_000.0), "40000");
}

#[test]
fn text_is_escaped() {
    assert_eq!(escape(r#"a<b & "c" 'd'>"#), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
    let mut p = plot(vec![series(&[(0.0, 0.0), (1.0, 1.0)])]);
    p.title = "<script>alert(1)</script>".into();
    p.series[0].label = "R&D".into();
    let svg = p.to_svg();
    assert!(!svg.contains("<script>"), "{svg}");
    assert!(svg.contains("&lt;script&gt;") && svg.contains("R&amp;D"), "{svg}");
}

#[test]
fn missing_values_break_the_line() {
    let nan = f64::NAN;
    let points =
        [(0.0, 0.0), (1.0, 1.0), (2.0, nan), (3.0, 3.0), (4.0, 4.0), (nan, 5.0), (6.0, 6.0)];
    let svg = plot(vec![series(&points)]).to_svg();
    let paths = subpaths(&svg);
    assert_eq!(paths.len(), 2, "{svg}");
    assert_eq!((paths[0].len(), paths[1].len()), (2, 2));
    // The lone point after the second gap is drawn as a dot.
    assert_eq!(svg.matches("<circle").count(), 1, "{svg}");
    assert!(!svg.contains("NaN"), "{svg}");
}

#[test]
fn points_land_in_order_inside_the_frame() {
    let points = [(0.0, -1000.0), (50.0, -400.0), (100.0, -150.0)];
    let mut p = plot(vec![series(&points)]);
    p.hlines = vec![(-200.0, "−200".into())];
    let svg = p.to_svg();
    let path = &subpaths(&svg)[0];
    // By hand: the frame spans x 80–600 and y 64–384 of the 720 × 440 canvas (margins 80 left,
    // 120 right, 64 above for the title and one legend row, 56 below). The x range [0, 100] is
    // padded by 2% to [−2, 102], so x = 0, 50, 100 land at 80 + 520·(2, 52, 102)/104. The y
    // range [−1000, −150] (the line at −200 lies inside it) is padded by 5% to
    // [−1042.5, −107.5], and y lands at 64 + 320·(−107.5 − y)/935: 369.45, 164.11, 78.55.
    let expected = [(90.0, 369.5), (340.0, 164.1), (590.0, 78.5)];
    for (&(x, y), &(ex, ey)) in path.iter().zip(&expected) {
        assert!((x - ex).abs() < 1e-9 && (y - ey).abs() < 1e-9, "{path:?} vs {expected:?}");
    }
    // Further right for larger x; higher up (smaller SVG y) for larger y.
    assert!(path[0].0 < path[1].0 && path[1].0 < path[2].0, "{path:?}");
    assert!(path[0].1 > path[1].1 && path[1].1 > path[2].1, "{path:?}");
    // x is linear: the middle point is halfway between the others.
    assert!((path[1].0 - (path[0].0 + path[2].0) / 2.0).abs() < 0.1, "{path:?}");
    // y too: −400 lies 600/850 of the way from −1000 to −150.
    let expected = path[0].1 + (path[2].1 - path[0].1) * 600.0 / 850.0;
    assert!((path[1].1 - expected).abs() < 0.1, "{path:?}");
    // The reference line at −200 lies between −400 and −150, at 200/250 of the way.
    let line_y: f64 = svg
        .lines()
        .find(|l| l.contains("stroke-dasharray"))
        .and_then(|l| l.split("y1=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .expect("a dashed line");
    let expected = path[1].1 + (path[2].1 - path[1].1) * 200.0 / 250.0;
    assert!((line_y - expected).abs() < 0.1, "{line_y} vs {expected}");
    assert!(svg.contains(">−200<"), "{svg}");
}

#[test]
fn degenerate_plots_are_still_documents() {
    for p in [
        plot(Vec::new()),
        plot(vec![series(&[])]),
        plot(vec![series(&[(f64::NAN, 1.0), (2.0, f64::INFINITY)])]),
        plot(vec![series(&[(5.0, 5.0)])]),
    ] {
        let svg = p.to_svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"), "{svg}");
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }
}

#[test]
fn stacked_charts_each_keep_to_their_own_panel() {
    let mut upper = plot(vec![series(&[(0.0, 0.0), (1.0, 1.0)])]);
    upper.title = "upper".into();
    let mut lower = plot(vec![series(&[(0.0, 5.0), (1.0, 3.0)])]);
    lower.title = "lower".into();
    let (one, lower_alone) = (upper.to_svg(), lower.to_svg());
    let svg = ppo::plot::stack(&[upper, lower]);
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"), "{svg}");
    // Twice the height of one chart, the second chart moved down by one chart's height.
    let height = |s: &str| -> f64 {
        let rest = &s[s.find("height=\"").unwrap() + 8..];
        rest[..rest.find('"').unwrap()].parse().unwrap()
    };
    assert_eq!(height(&svg), 2.0 * height(&one));
    assert_eq!(svg.matches("<svg").count(), 1, "one document, not nested documents");
    let shift = format!(r#"<g transform="translate(0 {:.1})">"#, height(&one));
    let (first, second) = svg.split_at(svg.find(&shift).expect("the second panel is moved down"));
    assert!(first.contains(">upper<") && !first.contains(">lower<"), "{svg}");
    assert!(second.contains(">lower<"), "{svg}");
    // The first panel is drawn exactly as the chart alone is: same elements, same coordinates.
    let alone = one.lines().skip(1).take_while(|l| *l != "</svg>").collect::<Vec<_>>().join("\n");
    assert!(first.contains(&alone), "the first panel differs from the chart drawn alone");
    // The second chart keeps its own coordinates inside the moved group.
    assert_eq!(subpaths(second), subpaths(&lower_alone));
}
