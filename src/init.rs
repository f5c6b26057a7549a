//! Chapter 3 (part): how a network's weights start out.
//!
//! Two schemes: PyTorch's default for `nn.Linear` (uniform in ±1/√fan_in), and orthogonal
//! matrices scaled by a gain, computed with our own Householder QR decomposition ([`qr`]).
//! The networks of [`crate::networks`] choose a gain per layer: hidden layers, policy heads and
//! the value head start out differently, for reasons the gains' comments give.

use crate::tensor::Tensor;
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

// ANCHOR: gains
/// How a network's layers start out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Init {
    /// PyTorch's `nn.Linear` default: weights and biases uniform in ±1/√fan_in.
    PyTorchDefault,
    /// Orthogonal weights and zero biases, with gain √2 for hidden layers, 0.01 for the
    /// policy heads and 1 for the value head: the choices of CleanRL's `layer_init` (the
    /// PyTorch chapter uses √2 on every layer, heads included).
    Orthogonal,
    /// Gaussian weights of standard deviation `gain/√fan_in` and zero biases, with the same
    /// gains: He's initialization for the hidden layers (`√2/√fan_in`), heads at 0.01 of it,
    /// LeCun's for the value head. The shared-network JAX write-up's choice.
    HeNormal,
}

/// How one layer starts out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LayerInit {
    /// Weights and biases uniform in ±1/√fan_in.
    PyTorchDefault,
    /// `gain` times a random orthogonal matrix; zero bias.
    Orthogonal { gain: f32 },
    /// Weights from N(0, gain²/fan_in); zero bias.
    Normal { gain: f32 },
    /// Every weight and bias zero: a layer that is about to be overwritten (by a checkpoint's
    /// parameters), built without drawing a random number or decomposing a matrix.
    Zeros,
}

/// Gain for hidden layers followed by ReLU: it makes up for ReLU zeroing half of each
/// layer's outputs, so activations keep their scale from layer to layer.
pub const HIDDEN_GAIN: f32 = std::f32::consts::SQRT_2;
/// Gain for the policy heads: a near-zero output at first, so every state starts with mean
/// action ≈ 0 and the same spread, and no action is preferred before any learning.
pub const POLICY_HEAD_GAIN: f32 = 0.01;
/// Gain for the value head.
pub const VALUE_HEAD_GAIN: f32 = 1.0;

impl Init {
    /// The initialization of one layer with the given orthogonal gain.
    pub fn layer(self, gain: f32) -> LayerInit {
        match self {
            Init::PyTorchDefault => LayerInit::PyTorchDefault,
            Init::Orthogonal => LayerInit::Orthogonal { gain },
            Init::HeNormal => LayerInit::Normal { gain },
        }
    }
}

// ANCHOR_END: gains

// ANCHOR: orthogonal
/// A `[rows, cols]` matrix, `gain` times a random orthogonal one: its columns are orthonormal
/// if `rows ≥ cols` (`WᵀW = gain²·I`), its rows otherwise (`WWᵀ = gain²·I`). Random means
/// uniform over all such matrices (the Haar measure): a Gaussian matrix, orthonormalized by
/// [`qr`], with the signs fixed so that `R` has a positive diagonal. This is what PyTorch's
/// `nn.init.orthogonal_` does.
pub fn orthogonal<R: Rng + ?Sized>(rows: usize, cols: usize, gain: f32, rng: &mut R) -> Tensor {
    let (tall, short) = (rows.max(cols), rows.min(cols));
    let gaussian: Vec<f64> = (0..tall * short).map(|_| rng.sample(StandardNormal)).collect();
    let (q, _) = qr(tall, short, &gaussian);
    let mut weight = Tensor::zeros(&[rows, cols]);
    for i in 0..tall {
        for j in 0..short {
            // Q is tall; a wide matrix is its transpose.
            let index = if rows >= cols { [i, j] } else { [j, i] };
            weight.set(&index, (f64::from(gain) * q[i * short + j]) as f32);
        }
    }
    weight
}
// ANCHOR_END: orthogonal

// ANCHOR: qr
/// The thin QR decomposition of a `rows × cols` matrix `a` (row-major, `rows ≥ cols`):
/// `a = Q·R` with `Q` (`rows × cols`) having orthonormal columns and `R` (`cols × cols`)
/// upper triangular with a non-negative diagonal. Returns `(Q, R)`, row-major.
///
/// Householder's method: for each column `k`, a reflection `H = I − 2vvᵀ` (a mirror, so
/// exactly orthogonal) maps what is left of column `k` onto the axis `e_k`, zeroing the
/// entries below the diagonal. After `cols` reflections `a` has become `R`, and `Q` is the
/// product of the reflections. Unlike Gram–Schmidt, which subtracts projections and loses
/// orthogonality when columns are nearly parallel, reflections stay orthogonal to rounding.
/// Computed in `f64`, so that `Q` is orthogonal far beyond `f32` precision.
///
/// # Panics
/// If `rows < cols` or `a.len() != rows * cols`.
pub fn qr(rows: usize, cols: usize, a: &[f64]) -> (Vec<f64>, Vec<f64>) {
    assert!(rows >= cols, "qr needs rows ≥ cols, got {rows} × {cols}");
    assert_eq!(a.len(), rows * cols, "qr: {rows} × {cols} matrix given {} values", a.len());
    let mut r = a.to_vec();
    let mut reflections: Vec<Vec<f64>> = Vec::with_capacity(cols);
    for k in 0..cols {
        // v = x − α·e₁ with α = −sign(x₀)·‖x‖: choosing the sign away from x₀ avoids
        // subtracting two nearly equal numbers.
        let mut v: Vec<f64> = (k..rows).map(|i| r[i * cols + k]).collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let alpha = if v[0] > 0.0 { -norm } else { norm };
        v[0] -= alpha;
        let v_norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if v_norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= v_norm);
            // R ← H·R on rows k.., columns k..
            for j in k..cols {
                let dot: f64 = v.iter().enumerate().map(|(t, vt)| vt * r[(k + t) * cols + j]).sum();
                for (t, vt) in v.iter().enumerate() {
                    r[(k + t) * cols + j] -= 2.0 * vt * dot;
                }
            }
        }
        reflections.push(v);
    }
    // Q = H₀·H₁·…·H_{cols−1} applied to the first `cols` columns of the identity, last first.
    let mut q = vec![0.0; rows * cols];
    for j in 0..cols {
        q[j * cols + j] = 1.0;
    }
    for (k, v) in reflections.iter().enumerate().rev() {
        for j in 0..cols {
            let dot: f64 = v.iter().enumerate().map(|(t, vt)| vt * q[(k + t) * cols + j]).sum();
            for (t, vt) in v.iter().enumerate() {
                q[(k + t) * cols + j] -= 2.0 * vt * dot;
            }
        }
    }
    // The factorization is unique once R's diagonal is made non-negative: flip the sign of
    // column k of Q and row k of R together where R[k, k] < 0. Without this the signs would
    // follow the data (α above always has the sign opposite x₀), and the "random"
    // orthogonal matrix would not be uniformly distributed.
    let mut r_upper = vec![0.0; cols * cols];
    for k in 0..cols {
        let sign = if r[k * cols + k] < 0.0 { -1.0 } else { 1.0 };
        for j in k..cols {
            r_upper[k * cols + j] = sign * r[k * cols + j];
        }
        for i in 0..rows {
            q[i * cols + k] *= sign;
        }
    }
    (q, r_upper)
}
// ANCHOR_END: qr

/// Gaussian values of mean 0 and standard deviation `std`.
pub(crate) fn gaussian<R: Rng + ?Sized>(shape: &[usize], std: f32, rng: &mut R) -> Tensor {
    let count = shape.iter().product();
    let data = (0..count).map(|_| std * rng.sample::<f32, _>(StandardNormal)).collect();
    Tensor::from_vec(shape, data)
}

/// Uniform values in `[-bound, bound)`.
pub(crate) fn uniform<R: Rng + ?Sized>(shape: &[usize], bound: f32, rng: &mut R) -> Tensor {
    let count = shape.iter().product();
    let data = (0..count).map(|_| rng.random_range(-bound..bound)).collect();
    Tensor::from_vec(shape, data)
}
