//! Reading the reference values that the scripts in `tools/` record from Gymnasium and
//! PyTorch into `tests/data/`.
//!
//! A fixture file holds one named array per line:
//!
//! ```text
//! # comment lines start with '#'
//! actor.mean 4x1 0.1 -0.25 1.5 0.0
//! steps 1 200
//! ```
//!
//! The name, then the shape (dimensions joined by `x`), then the values in row-major order,
//! printed with enough digits to round-trip a float64 (`repr` in Python).
#![allow(dead_code)] // each test file uses only part of this module

use std::collections::HashMap;
use std::path::Path;

/// One recorded array: its shape and its values in row-major order.
#[derive(Debug, Clone)]
pub struct Array {
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
}

impl Array {
    /// The values converted to `f32`, as the crate stores them.
    pub fn f32s(&self) -> Vec<f32> {
        self.values.iter().map(|&v| v as f32).collect()
    }

    /// The single value of a one-element array.
    pub fn scalar(&self) -> f64 {
        assert_eq!(self.values.len(), 1, "expected one value, shape {:?}", self.shape);
        self.values[0]
    }
}

/// All arrays of one fixture file, by name.
pub struct Fixture {
    file: String,
    arrays: HashMap<String, Array>,
}

impl Fixture {
    /// Reads `tests/data/<name>`; panics with the file name and line on malformed input
    /// (a broken fixture is a bug in the test setup, not an input to recover from).
    pub fn load(name: &str) -> Fixture {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
        let mut arrays = HashMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = || format!("{}:{}", path.display(), number + 1);
            let mut fields = line.split_ascii_whitespace();
            let array_name = fields.next().expect("non-empty line has a first field");
            let shape: Vec<usize> = fields
                .next()
                .unwrap_or_else(|| panic!("{}: missing shape", at()))
                .split('x')
                .map(|d| d.parse().unwrap_or_else(|_| panic!("{}: bad shape", at())))
                .collect();
            let values: Vec<f64> = fields
                .map(|v| v.parse().unwrap_or_else(|_| panic!("{}: bad value {v}", at())))
                .collect();
            let expected: usize = shape.iter().product();
            assert_eq!(
                values.len(),
                expected,
                "{}: shape {shape:?} but {} values",
                at(),
                values.len()
            );
            arrays.insert(array_name.to_string(), Array { shape, values });
        }
        Fixture { file: name.to_string(), arrays }
    }

    /// The array called `name`; panics naming the file if it is missing.
    pub fn get(&self, name: &str) -> &Array {
        self.arrays.get(name).unwrap_or_else(|| panic!("fixture {} has no array {name}", self.file))
    }

    /// Names of all arrays, sorted, for tests that walk every record.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.arrays.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

/// Largest relative error `|a - b| / max(|b|, floor)` over two equally long slices, with the
/// index where it occurs. `floor` keeps values near zero from inflating the ratio.
pub fn max_relative_error(actual: &[f64], expected: &[f64], floor: f64) -> (f64, usize) {
    assert_eq!(actual.len(), expected.len(), "length mismatch");
    let mut worst = (0.0, 0);
    for (i, (&a, &b)) in actual.iter().zip(expected).enumerate() {
        let err = (a - b).abs() / b.abs().max(floor);
        if err > worst.0 || err.is_nan() {
            worst = (err, i);
        }
    }
    worst
}

/// Largest error `|a − b| / max(|b|, scale[i])` with a floor of its own for each element
/// (a derivative's natural unit, say), and where it occurs; NaN counts as the worst.
pub fn max_scaled_error(actual: &[f64], expected: &[f64], scale: &[f64]) -> (f64, usize) {
    assert_eq!(actual.len(), expected.len(), "length mismatch");
    assert_eq!(actual.len(), scale.len(), "length mismatch");
    let mut worst = (0.0, 0);
    for (i, ((&a, &b), &s)) in actual.iter().zip(expected).zip(scale).enumerate() {
        let err = (a - b).abs() / b.abs().max(s);
        if err > worst.0 || err.is_nan() {
            worst = (err, i);
        }
    }
    worst
}

/// Reduces any output to a scalar through fixed random weights, `Σ w ⊙ y`, so that a
/// gradient check sees every entry of the Jacobian.
pub fn probe(tape: &mut ppo::Tape, y: ppo::Var, seed: u64) -> ppo::Var {
    use rand::SeedableRng;
    let shape = tape.value(y).shape().to_vec();
    let weights = ppo::Tensor::randn(&shape, &mut rand::rngs::StdRng::seed_from_u64(seed));
    let w = tape.constant(&weights);
    let weighted = tape.mul(y, w);
    tape.sum(weighted)
}
