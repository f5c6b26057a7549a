//! The special functions of `src/distributions/special.rs` against reference values
//! recorded by `tools/scipy_special_fixtures.py` (mpmath at 40 digits; SciPy's values
//! beside them). Each function must be within its stated tolerance of the exact value at
//! every grid point, and the test prints the largest error reached, with SciPy's for
//! comparison: `cargo test --test special -- --nocapture`.

mod common;

use common::Fixture;
use ppo::distributions::special;

/// How a function's error is measured: relative to the exact value, except where the
/// exact value is below `floor` in magnitude (near a zero, or subnormal), where the error is
/// measured relative to `floor`, that is, absolutely.
struct Check {
    name: &'static str,
    f: fn(f64) -> f64,
    /// Largest error allowed, in units of ε = 2⁻⁵³.
    tolerance: f64,
    floor: f64,
}

const EPS: f64 = f64::EPSILON / 2.0;

/// The largest error of `values` against `exact`, in units of ε, and where it occurs.
fn worst(values: &[f64], exact: &[f64], floor: f64) -> (f64, usize) {
    let mut worst = (0.0, 0);
    for (i, (&v, &e)) in values.iter().zip(exact).enumerate() {
        let error = if v == e { 0.0 } else { (v - e).abs() / e.abs().max(floor) / EPS };
        if error.is_nan() || error > worst.0 {
            worst = (if error.is_nan() { f64::INFINITY } else { error }, i);
        }
    }
    worst
}

/// Prints the largest error of `values` and returns whether it is within `tolerance`.
fn check(fixture: &Fixture, name: &str, values: &[f64], tolerance: f64, floor: f64) -> bool {
    let x = &fixture.get(&format!("{name}.x")).values;
    let exact = &fixture.get(&format!("{name}.mpmath")).values;
    let (error, at) = worst(values, exact, floor);
    let scipy = fixture_scipy(fixture, name).map(|s| worst(&s, exact, floor).0);
    let scipy = scipy.map_or("no SciPy function".to_string(), |e| format!("SciPy {e:.3}ε"));
    println!(
        "{name:24} {:4} points: largest error {error:.3}ε at x = {:e} ({scipy})",
        x.len(),
        x[at]
    );
    let pass = error <= tolerance;
    if !pass {
        println!(
            "  FAIL: {name}({:e}) = {:e}, exact {:e}: over {tolerance}ε",
            x[at], values[at], exact[at]
        );
    }
    pass
}

fn fixture_scipy(fixture: &Fixture, name: &str) -> Option<Vec<f64>> {
    let key = format!("{name}.scipy");
    fixture.names().contains(&key.as_str()).then(|| fixture.get(&key).values.clone())
}

/// Checks every function (all of them, so that one failure does not hide another).
fn run(checks: &[Check]) -> bool {
    let fixture = Fixture::load("special.txt");
    let mut all = true;
    for c in checks {
        let x = &fixture.get(&format!("{}.x", c.name)).values;
        let values: Vec<f64> = x.iter().map(|&x| (c.f)(x)).collect();
        all &= check(&fixture, c.name, &values, c.tolerance, c.floor);
    }
    all
}

/// Subnormal results carry fewer digits than ε; they are compared absolutely below the
/// smallest normal number.
const TINY: f64 = f64::MIN_POSITIVE;

#[test]
fn error_functions_match_mpmath_over_their_whole_range() {
    assert!(run(&[
        Check { name: "erf", f: special::erf, tolerance: 4.0, floor: TINY },
        Check { name: "erfc", f: special::erfc, tolerance: 5.0, floor: TINY },
        Check { name: "erfcx", f: special::erfcx, tolerance: 4.0, floor: TINY },
        Check {
            name: "erfcx_integral_1",
            f: special::erfcx_integral_1,
            tolerance: 160.0,
            floor: TINY
        },
        Check {
            name: "erfcx_integral_2",
            f: special::erfcx_integral_2,
            tolerance: 2600.0,
            floor: TINY
        },
    ]));
}

#[test]
fn normal_cdf_log_cdf_and_quantile_match_mpmath_over_their_whole_range() {
    assert!(run(&[
        Check { name: "normal_cdf", f: special::normal_cdf, tolerance: 8.0, floor: TINY },
        Check { name: "log_normal_cdf", f: special::log_normal_cdf, tolerance: 6.0, floor: TINY },
        Check { name: "normal_quantile", f: special::normal_quantile, tolerance: 6.0, floor: TINY },
        Check {
            name: "normal_quantile_offset",
            f: special::normal_quantile_offset,
            tolerance: 6.0,
            floor: TINY,
        },
    ]));
}

#[test]
fn gamma_family_matches_mpmath_including_near_zeros() {
    let mut all = run(&[
        Check { name: "ln_gamma", f: special::ln_gamma, tolerance: 8.0, floor: TINY },
        Check { name: "digamma", f: special::digamma, tolerance: 8.0, floor: 1.0 },
        Check { name: "trigamma", f: special::trigamma, tolerance: 6.0, floor: TINY },
    ]);
    let fixture = Fixture::load("special.txt");
    let (a, b) = (&fixture.get("ln_beta.x").values, &fixture.get("ln_beta.y").values);
    let values: Vec<f64> = a.iter().zip(b).map(|(&a, &b)| special::ln_beta(a, b)).collect();
    all &= check(&fixture, "ln_beta", &values, 24.0, 1.0);
    assert!(all);
}
