//! Chapter 1: the tensor.
//!
//! A [`Tensor`] is an owned, contiguous, row-major block of `f32` with a shape. Everything the
//! later chapters compute (network activations, gradients, optimizer state) lives in one.
//! Only what PPO needs is here: elementwise arithmetic, adding a bias row to every row of a
//! batch, sums and means, and matrix products in the three forms that backpropagation uses.
//!
//! The loops are written so that the compiler can turn them into vector instructions:
//! contiguous inner loops over the last dimension, iteration by `zip` and fixed-size chunks
//! (no bounds check inside the innermost loop), several independent accumulators for sums,
//! and a register-blocked matrix kernel whose fused multiply-adds the target CPU executes
//! eight or sixteen lanes at a time.
//!
//! Shape mismatches are programming errors: they panic with a message naming both shapes.

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;
use std::cell::RefCell;
use std::fmt;

#[cfg(all(target_arch = "x86_64", target_feature = "avx512f"))]
mod avx512;

// ANCHOR: struct
/// An owned, contiguous, row-major tensor of `f32`.
///
/// The element at index `[i, j]` of a 2-D tensor of shape `[rows, cols]` is stored at
/// `data[i * cols + j]`: the last dimension is contiguous, which is what every hot loop of
/// the crate runs over.
#[derive(Clone, PartialEq, Default)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}
// ANCHOR_END: struct

fn element_count(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Constructors and access.
impl Tensor {
    /// A tensor with no shape and no storage, usable in constants.
    pub const EMPTY: Tensor = Tensor { shape: Vec::new(), data: Vec::new() };

    /// A tensor of the given shape filled with zeros. The empty shape `[]` is a scalar.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor::filled(shape, 0.0)
    }

    /// A tensor of the given shape with every element equal to `value`.
    pub fn filled(shape: &[usize], value: f32) -> Tensor {
        Tensor { shape: shape.to_vec(), data: vec![value; element_count(shape)] }
    }

    /// A scalar: shape `[]`, one element.
    pub fn scalar(value: f32) -> Tensor {
        Tensor { shape: Vec::new(), data: vec![value] }
    }

    /// Wraps `data` (row-major) in a tensor of the given shape.
    ///
    /// # Panics
    /// If `data.len()` is not the product of the dimensions of `shape`.
    pub fn from_vec(shape: &[usize], data: Vec<f32>) -> Tensor {
        assert_eq!(
            data.len(),
            element_count(shape),
            "Tensor::from_vec: shape {shape:?} holds {} elements but {} values were given",
            element_count(shape),
            data.len()
        );
        Tensor { shape: shape.to_vec(), data }
    }

    /// Samples every element from the standard normal distribution N(0, 1).
    pub fn randn<R: Rng + ?Sized>(shape: &[usize], rng: &mut R) -> Tensor {
        let data = (0..element_count(shape)).map(|_| rng.sample(StandardNormal)).collect();
        Tensor { shape: shape.to_vec(), data }
    }

    /// Samples every element uniformly from `[low, high)`.
    ///
    /// # Panics
    /// If `low >= high` or either bound is not finite.
    pub fn rand_uniform<R: Rng + ?Sized>(
        shape: &[usize],
        low: f32,
        high: f32,
        rng: &mut R,
    ) -> Tensor {
        assert!(low < high && low.is_finite() && high.is_finite(), "bad range [{low}, {high})");
        let data = (0..element_count(shape)).map(|_| rng.random_range(low..high)).collect();
        Tensor { shape: shape.to_vec(), data }
    }

    /// The dimensions, outermost first.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The elements in row-major order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The elements in row-major order, writable.
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Gives the storage back, for callers that want a plain `Vec`.
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }

    /// Elements the storage can hold without reallocating.
    pub fn capacity(&self) -> usize {
        self.data.capacity()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor holds no element (some dimension is zero).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// `(rows, cols)` of a 2-D tensor.
    ///
    /// # Panics
    /// If the tensor is not 2-D.
    pub fn dims2(&self) -> (usize, usize) {
        match self.shape[..] {
            [rows, cols] => (rows, cols),
            _ => panic!("expected a 2-D tensor, got shape {:?}", self.shape),
        }
    }

    /// The single value of a one-element tensor (a scalar or shape `[1]`, `[1, 1]`, ...).
    ///
    /// # Panics
    /// If the tensor has more or fewer than one element.
    pub fn item(&self) -> f32 {
        assert_eq!(self.data.len(), 1, "item() needs one element, shape is {:?}", self.shape);
        self.data[0]
    }

    fn offset(&self, index: &[usize]) -> usize {
        assert_eq!(
            index.len(),
            self.shape.len(),
            "index {index:?} does not fit shape {:?}",
            self.shape
        );
        let mut offset = 0;
        for (&i, &dim) in index.iter().zip(&self.shape) {
            assert!(i < dim, "index {index:?} out of bounds for shape {:?}", self.shape);
            offset = offset * dim + i;
        }
        offset
    }

    /// The element at a multi-dimensional index.
    ///
    /// # Panics
    /// If the index has the wrong number of dimensions or is out of bounds.
    pub fn get(&self, index: &[usize]) -> f32 {
        self.data[self.offset(index)]
    }

    /// Sets the element at a multi-dimensional index.
    ///
    /// # Panics
    /// As [`Tensor::get`].
    pub fn set(&mut self, index: &[usize], value: f32) {
        let offset = self.offset(index);
        self.data[offset] = value;
    }

    /// Row `i` of a 2-D tensor as a slice.
    ///
    /// # Panics
    /// If the tensor is not 2-D or `i` is out of bounds.
    pub fn row(&self, i: usize) -> &[f32] {
        let (rows, cols) = self.dims2();
        assert!(i < rows, "row {i} out of bounds for shape {:?}", self.shape);
        &self.data[i * cols..(i + 1) * cols]
    }

    /// The same elements under another shape with as many elements.
    ///
    /// # Panics
    /// If the element counts differ.
    pub fn reshape(mut self, shape: &[usize]) -> Tensor {
        assert_eq!(
            element_count(shape),
            self.data.len(),
            "cannot reshape {:?} into {shape:?}",
            self.shape
        );
        self.shape.clear();
        self.shape.extend_from_slice(shape);
        self
    }

    /// Makes this tensor a zero-filled tensor of `shape`, reusing its storage: once the
    /// capacity is large enough this never allocates. The autodiff tape relies on it to
    /// recycle its buffers from one training step to the next.
    pub fn reset_zeros(&mut self, shape: &[usize]) {
        self.shape.clear();
        self.shape.extend_from_slice(shape);
        self.data.clear();
        self.data.resize(element_count(shape), 0.0);
    }

    /// Makes this tensor one of `shape` for a caller that writes every element next,
    /// reusing its storage: what it holds until then is left as it was, so a buffer that
    /// already has this many elements costs nothing (where [`reset_zeros`](Self::reset_zeros)
    /// would first write zeros that are then overwritten).
    pub fn reset_for_overwrite(&mut self, shape: &[usize]) {
        self.shape.clear();
        self.shape.extend_from_slice(shape);
        self.data.resize(element_count(shape), 0.0);
    }

    /// Makes this tensor a copy of `other`, reusing its storage.
    pub fn copy_from(&mut self, other: &Tensor) {
        self.shape.clear();
        self.shape.extend_from_slice(&other.shape);
        self.data.clear();
        self.data.extend_from_slice(&other.data);
    }
}

fn assert_same_shape(op: &str, a: &Tensor, b: &Tensor) {
    assert!(a.shape == b.shape, "{op}: shapes {:?} and {:?} differ", a.shape, b.shape);
}

// ANCHOR: elementwise
/// Elementwise arithmetic. Each op is one pass over contiguous slices joined by `zip`, so
/// the compiler sees no bounds checks and emits vector instructions.
impl Tensor {
    /// Applies `f` to every element, producing a new tensor.
    pub fn map(&self, f: impl Fn(f32) -> f32) -> Tensor {
        Tensor { shape: self.shape.clone(), data: self.data.iter().map(|&x| f(x)).collect() }
    }

    /// Combines two tensors of the same shape element by element.
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn zip_map(&self, other: &Tensor, f: impl Fn(f32, f32) -> f32) -> Tensor {
        assert_same_shape("zip_map", self, other);
        let data = self.data.iter().zip(&other.data).map(|(&a, &b)| f(a, b)).collect();
        Tensor { shape: self.shape.clone(), data }
    }

    /// `self + other`, same shapes. # Panics: if the shapes differ.
    pub fn add(&self, other: &Tensor) -> Tensor {
        self.zip_map(other, |a, b| a + b)
    }

    /// `self - other`, same shapes. # Panics: if the shapes differ.
    pub fn sub(&self, other: &Tensor) -> Tensor {
        self.zip_map(other, |a, b| a - b)
    }

    /// `self * other` element by element, same shapes. # Panics: if the shapes differ.
    pub fn mul(&self, other: &Tensor) -> Tensor {
        self.zip_map(other, |a, b| a * b)
    }

    /// `self / other` element by element, same shapes. # Panics: if the shapes differ.
    pub fn div(&self, other: &Tensor) -> Tensor {
        self.zip_map(other, |a, b| a / b)
    }

    /// Every element times `factor`.
    pub fn scale(&self, factor: f32) -> Tensor {
        self.map(|x| x * factor)
    }

    /// In place: `self += other`.
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn add_assign(&mut self, other: &Tensor) {
        self.add_scaled(other, 1.0);
    }

    /// In place: `self += factor * other` (the BLAS "axpy"), the workhorse of gradient
    /// accumulation and of optimizer updates.
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn add_scaled(&mut self, other: &Tensor, factor: f32) {
        assert_same_shape("add_scaled", self, other);
        for (a, &b) in self.data.iter_mut().zip(&other.data) {
            *a = b.mul_add(factor, *a);
        }
    }
}
// ANCHOR_END: elementwise

// ANCHOR: broadcast
/// Broadcasting: the one form the networks need. A bias of shape `[cols]` (or `[1, cols]`)
/// is added to every row of a `[rows, cols]` batch. No other broadcasting exists; every
/// other binary op requires equal shapes.
impl Tensor {
    /// `self[i, j] + bias[j]` for every row `i`.
    ///
    /// # Panics
    /// If `self` is not 2-D or `bias` does not hold exactly `cols` elements in shape `[cols]`
    /// or `[1, cols]`.
    pub fn add_row(&self, bias: &Tensor) -> Tensor {
        let mut out = self.clone();
        out.add_row_in_place(bias);
        out
    }

    /// `out = self + bias`, the bias added to every row, reusing `out`'s storage: one pass
    /// over the batch instead of a copy and then an addition.
    pub fn add_row_into(&self, bias: &Tensor, out: &mut Tensor) {
        let (_, cols) = self.dims2();
        assert_is_row(bias, cols, &self.shape);
        out.reset_for_overwrite(&self.shape);
        for (out_row, row) in out.data.chunks_exact_mut(cols).zip(self.data.chunks_exact(cols)) {
            for ((o, &x), &b) in out_row.iter_mut().zip(row).zip(&bias.data) {
                *o = x + b;
            }
        }
    }

    /// In place form of [`Tensor::add_row`].
    pub fn add_row_in_place(&mut self, bias: &Tensor) {
        let (_, cols) = self.dims2();
        assert_is_row(bias, cols, &self.shape);
        for row in self.data.chunks_exact_mut(cols) {
            for (x, &b) in row.iter_mut().zip(&bias.data) {
                *x += b;
            }
        }
    }
}

/// Checks that `bias` is a row vector of `cols` elements, shaped `[cols]` or `[1, cols]`.
pub(crate) fn assert_is_row(bias: &Tensor, cols: usize, batch_shape: &[usize]) {
    let is_row = bias.shape == [cols] || bias.shape == [1, cols];
    assert!(
        is_row,
        "bias of shape {:?} does not broadcast over rows of {batch_shape:?}",
        bias.shape
    );
}
// ANCHOR_END: broadcast

// ANCHOR: sum
/// Sums `values` with sixteen independent accumulators.
///
/// Floating-point addition is not associative, so the compiler must add a naive
/// `for x in values { s += x }` one element at a time, each addition waiting for the one
/// before. Keeping sixteen partial sums, one per vector lane, lets it use a vector add (and
/// hides the add's latency); the partial sums are folded together at the end. The result
/// differs from the sequential sum only by rounding.
pub fn sum_slice(values: &[f32]) -> f32 {
    const LANES: usize = 16;
    let (chunks, tail) = values.as_chunks::<LANES>();
    let mut lanes = [0.0f32; LANES];
    for chunk in chunks {
        for (lane, &x) in lanes.iter_mut().zip(chunk) {
            *lane += x;
        }
    }
    let mut total = tail.iter().sum::<f32>();
    for lane in lanes {
        total += lane;
    }
    total
}

/// Dot product of two equally long slices, with the same independent accumulators.
///
/// # Panics
/// If the lengths differ.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 16;
    assert_eq!(a.len(), b.len(), "dot: lengths {} and {} differ", a.len(), b.len());
    let (a_chunks, a_tail) = a.as_chunks::<LANES>();
    let (b_chunks, b_tail) = b.as_chunks::<LANES>();
    let mut lanes = [0.0f32; LANES];
    for (x, y) in a_chunks.iter().zip(b_chunks) {
        for ((lane, &x), &y) in lanes.iter_mut().zip(x).zip(y) {
            *lane = x.mul_add(y, *lane);
        }
    }
    let mut total: f32 = a_tail.iter().zip(b_tail).map(|(x, y)| x * y).sum();
    for lane in lanes {
        total += lane;
    }
    total
}
// ANCHOR_END: sum

/// Reductions.
impl Tensor {
    /// Sum of all elements.
    pub fn sum(&self) -> f32 {
        sum_slice(&self.data)
    }

    /// Mean of all elements (NaN for an empty tensor).
    pub fn mean(&self) -> f32 {
        self.sum() / self.data.len() as f32
    }

    /// Sum of each row of a 2-D tensor: shape `[rows, cols]` to `[rows]`.
    ///
    /// # Panics
    /// If the tensor is not 2-D.
    pub fn row_sums(&self) -> Tensor {
        let (rows, cols) = self.dims2();
        let data = if cols == 0 {
            vec![0.0; rows]
        } else {
            self.data.chunks_exact(cols).map(sum_slice).collect()
        };
        Tensor { shape: vec![rows], data }
    }

    /// Sum of each column of a 2-D tensor: shape `[rows, cols]` to `[cols]`. This is the
    /// gradient of a bias that was broadcast over the rows.
    ///
    /// # Panics
    /// If the tensor is not 2-D.
    pub fn column_sums(&self) -> Tensor {
        let (_, cols) = self.dims2();
        let mut out = Tensor::zeros(&[cols]);
        accumulate_column_sums(&self.data, cols, &mut out.data, Write::Add);
        out
    }
}

/// `out[j] += Σ_i m[i, j]`: rows are added one after another, so the inner loop runs along a
/// contiguous row and the columns are the independent accumulators.
/// With [`Write::Overwrite`], `out` is zeroed first (it is one row: a bias's gradient).
pub(crate) fn accumulate_column_sums(m: &[f32], cols: usize, out: &mut [f32], write: Write) {
    if write == Write::Overwrite {
        out.fill(0.0);
    }
    if cols == 0 {
        return;
    }
    for row in m.chunks_exact(cols) {
        for (o, &x) in out.iter_mut().zip(row) {
            *o += x;
        }
    }
}

// ANCHOR: matmul_api
/// Matrix products in the three forms backpropagation needs, none of which materializes
/// a transpose.
impl Tensor {
    /// `A·B` for `A` of shape `[m, k]` and `B` of shape `[k, n]`, giving `[m, n]`.
    ///
    /// # Panics
    /// If either operand is not 2-D or the inner dimensions differ.
    pub fn matmul(&self, b: &Tensor) -> Tensor {
        let (m, k) = self.dims2();
        let (k2, n) = b.dims2();
        assert_eq!(k, k2, "matmul: shapes {:?} and {:?} do not chain", self.shape, b.shape);
        let mut c = Tensor::zeros(&[m, n]);
        gemm_nn(m, k, n, &self.data, &b.data, &mut c.data, Write::Add);
        c
    }

    /// `Aᵀ·B` for `A` of shape `[k, m]` and `B` of shape `[k, n]`, giving `[m, n]`. In a
    /// linear layer `Y = X·W` this is the weight gradient `dW = Xᵀ·dY`.
    ///
    /// # Panics
    /// If either operand is not 2-D or the row counts differ.
    pub fn matmul_tn(&self, b: &Tensor) -> Tensor {
        let (k, m) = self.dims2();
        let (k2, n) = b.dims2();
        assert_eq!(k, k2, "matmul_tn: shapes {:?} and {:?} differ in rows", self.shape, b.shape);
        let mut c = Tensor::zeros(&[m, n]);
        gemm_tn(m, k, n, &self.data, &b.data, &mut c.data, Write::Add);
        c
    }

    /// `A·Bᵀ` for `A` of shape `[m, k]` and `B` of shape `[n, k]`, giving `[m, n]`. In a
    /// linear layer `Y = X·W` this is the input gradient `dX = dY·Wᵀ`.
    ///
    /// # Panics
    /// If either operand is not 2-D or the column counts differ.
    pub fn matmul_nt(&self, b: &Tensor) -> Tensor {
        let (m, k) = self.dims2();
        let (n, k2) = b.dims2();
        assert_eq!(k, k2, "matmul_nt: shapes {:?} and {:?} differ in columns", self.shape, b.shape);
        let mut c = Tensor::zeros(&[m, n]);
        gemm_nt(m, k, n, &self.data, &b.data, &mut c.data, Write::Add);
        c
    }
}
// ANCHOR_END: matmul_api

// ANCHOR: write
/// What a product does with what `C` already holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    /// `C += A·B`: add to it, as a gradient that several uses of a value flow into must.
    Add,
    /// `C = A·B`: ignore it, so that it need not be zeroed first. Each element is stored as
    /// `sum + 0.0`, the bits `0 + sum` would have (a −0.0 becomes +0.0), so overwriting and
    /// adding to zeros give the same results, bit for bit.
    Overwrite,
}

impl Write {
    /// Adds `value` to `*c`, or overwrites `*c` with it.
    #[inline(always)]
    pub fn store(self, c: &mut f32, value: f32) {
        match self {
            Write::Add => *c += value,
            Write::Overwrite => *c = value + 0.0,
        }
    }
}
// ANCHOR_END: write

// ANCHOR: read_unchecked
/// Reads `values[index]` without a bounds check in optimized builds.
///
/// The products below check every slice length once, on entry, and then only ask for
/// indices inside those lengths (`i + R <= m`, `j + W <= n`, `p < k`). A bounds check per
/// element would stop the compiler from vectorizing the block and costs more than half the
/// speed; debug builds and `cargo test` (debug assertions on) still check every index.
#[inline(always)]
fn read(values: &[f32], index: usize) -> f32 {
    debug_assert!(index < values.len(), "index {index} out of {}", values.len());
    // SAFETY: callers pass indices below the lengths validated on entry to the product.
    unsafe { *values.get_unchecked(index) }
}
// ANCHOR_END: read_unchecked

// ANCHOR: operands
/// Where a blocked product reads its operands. `C[i, j] = Σ_p A(i, p)·B(p, j)` whatever the
/// storage: each form of the product says how to fetch `R` consecutive rows of column `p`
/// of the left operand, and `W` consecutive columns of row `p` of the right one.
trait Operands {
    fn left<const R: usize>(&self, i: usize, p: usize) -> [f32; R];
    fn right<const W: usize>(&self, p: usize, j: usize) -> [f32; W];
}
// ANCHOR_END: operands

// ANCHOR: block
/// The register-blocked heart of every product: the `R × W` sums `Σ_p a(p) ⊗ b(p)` over
/// `p < depth`, where `a(p)` is `R` values of the left operand and `b(p)` `W` of the right.
///
/// The `R × W` accumulators are a fixed-size array, so they stay in vector registers for the
/// whole loop over `p`; each step loads `W` values of `B` once and uses them `R` times, with
/// one fused multiply-add per element and no bounds check inside the block. Each sum is one
/// chain of multiply-adds in the order of `p`, however the block is shaped: so are its bits.
///
/// `A·Bᵀ` (below) sums each element over several such chains, its `lanes`: chain `lane` reads
/// `a(lane, q)` and `b(lane, q)`, and the chains' sums are added up lane 0 first, starting
/// from −0.0 (which leaves a lone chain's sum as it is, bit for bit: `−0.0 + x` is `x`).
#[inline(always)]
fn products<const R: usize, const W: usize>(
    (lanes, depth): (usize, usize),
    left: impl Fn(usize, usize) -> [f32; R],
    right: impl Fn(usize, usize) -> [f32; W],
) -> [[f32; W]; R] {
    #[cfg(all(target_arch = "x86_64", target_feature = "avx512f"))]
    if W == 16 || W == 32 {
        return avx512::products((lanes, depth), left, right);
    }
    portable_products((lanes, depth), left, right)
}

/// [`products`] in plain Rust, which the compiler vectorizes itself.
#[inline(always)]
fn portable_products<const R: usize, const W: usize>(
    (lanes, depth): (usize, usize),
    left: impl Fn(usize, usize) -> [f32; R],
    right: impl Fn(usize, usize) -> [f32; W],
) -> [[f32; W]; R] {
    let mut sums = [[-0.0f32; W]; R];
    for lane in 0..lanes {
        let mut acc = [[0.0f32; W]; R];
        for q in 0..depth {
            let (a, b) = (left(lane, q), right(lane, q));
            for (acc_row, &a_value) in acc.iter_mut().zip(&a) {
                for (acc_lane, &b_value) in acc_row.iter_mut().zip(&b) {
                    *acc_lane = a_value.mul_add(b_value, *acc_lane);
                }
            }
        }
        for (sum_row, acc_row) in sums.iter_mut().zip(&acc) {
            for (sum, &x) in sum_row.iter_mut().zip(acc_row) {
                *sum += x;
            }
        }
    }
    sums
}

/// Writes the `R × W` block of `A·B` whose top-left corner is `c[0]` (rows `c_stride` apart).
#[inline(always)]
fn block<const R: usize, const W: usize>(
    operands: &impl Operands,
    (i, j, k): (usize, usize, usize),
    (c, c_stride, write): (&mut [f32], usize, Write),
) {
    let acc =
        products::<R, W>((1, k), |_, p| operands.left::<R>(i, p), |_, p| operands.right::<W>(p, j));
    for (c_row, acc_row) in c.chunks_mut(c_stride).zip(&acc) {
        for (c_value, &sum) in c_row.iter_mut().zip(acc_row) {
            write.store(c_value, sum);
        }
    }
}
// ANCHOR_END: block

// ANCHOR: tiling
/// Rows of `C` computed together by one block: eight where AVX-512's 32 vector registers
/// hold an 8 × 32 block of sums (sixteen registers), four where AVX2's sixteen hold 4 × 16.
const MR: usize = if cfg!(all(target_arch = "x86_64", target_feature = "avx512f")) { 8 } else { 4 };
/// Columns of `C` computed together: two 16-lane AVX-512 registers, or, with `MR = 4`, 16
/// columns in two 8-lane AVX ones.
const NR: usize = if MR == 8 { 32 } else { 16 };

/// `C = A·B` or `C += A·B` in blocks: `MR` rows at a time (then four, then one, for the rows
/// left over), and along each band of rows, blocks `NR` columns wide, then 16, 8, 4, 2 and 1
/// wide for the columns left over. The narrow blocks matter: a policy head has only one or
/// two output columns.
fn blocked_gemm(
    operands: &impl Operands,
    (m, k, n): (usize, usize, usize),
    c: &mut [f32],
    write: Write,
) {
    let mut i = 0;
    while i + MR <= m {
        blocked_band::<MR>(operands, (i, k, n), &mut c[i * n..], write);
        i += MR;
    }
    if MR > 4 && i + 4 <= m {
        blocked_band::<4>(operands, (i, k, n), &mut c[i * n..], write);
        i += 4;
    }
    for i in i..m {
        blocked_band::<1>(operands, (i, k, n), &mut c[i * n..], write);
    }
}

#[inline(always)]
fn blocked_band<const R: usize>(
    operands: &impl Operands,
    (i, k, n): (usize, usize, usize),
    c: &mut [f32],
    write: Write,
) {
    let mut j = 0;
    while j + NR <= n {
        block::<R, NR>(operands, (i, j, k), (&mut c[j..], n, write));
        j += NR;
    }
    if NR > 16 && j + 16 <= n {
        block::<R, 16>(operands, (i, j, k), (&mut c[j..], n, write));
        j += 16;
    }
    if j + 8 <= n {
        block::<R, 8>(operands, (i, j, k), (&mut c[j..], n, write));
        j += 8;
    }
    if j + 4 <= n {
        block::<R, 4>(operands, (i, j, k), (&mut c[j..], n, write));
        j += 4;
    }
    if j + 2 <= n {
        block::<R, 2>(operands, (i, j, k), (&mut c[j..], n, write));
        j += 2;
    }
    if j < n {
        block::<R, 1>(operands, (i, j, k), (&mut c[j..], n, write));
    }
}
// ANCHOR_END: tiling

// ANCHOR: gemm_nn
/// `A·B` with `A` row-major `m×k` and `B` row-major `k×n`: column `p` of `A` is strided,
/// row `p` of `B` is contiguous.
struct Plain<'a> {
    a: &'a [f32],
    b: &'a [f32],
    k: usize,
    n: usize,
}

impl Operands for Plain<'_> {
    #[inline(always)]
    fn left<const R: usize>(&self, i: usize, p: usize) -> [f32; R] {
        std::array::from_fn(|r| read(self.a, (i + r) * self.k + p))
    }
    #[inline(always)]
    fn right<const W: usize>(&self, p: usize, j: usize) -> [f32; W] {
        std::array::from_fn(|w| read(self.b, p * self.n + j + w))
    }
}

/// `C = A·B` or `C += A·B` (as `write` says) on raw row-major slices: `A` is `m×k`, `B` is
/// `k×n`, `C` is `m×n`.
///
/// # Panics
/// If a slice's length does not match its dimensions.
pub fn gemm_nn(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32], write: Write) {
    assert!(a.len() == m * k && b.len() == k * n && c.len() == m * n, "gemm_nn: bad lengths");
    let done = narrow_rows(Form::Plain, (m, k, n), (a, b), c, write);
    let operands = Below { operands: Plain { a, b, k, n }, rows: done };
    blocked_gemm(&operands, (m - done, k, n), &mut c[done * n..], write);
}
// ANCHOR_END: gemm_nn

/// How a product stores `A`: as it is (`A·B`), or transposed (`Aᵀ·B`).
#[derive(Clone, Copy, PartialEq)]
enum Form {
    Plain,
    LeftTransposed,
}

/// The first rows of `C` (a multiple of sixteen) of a product whose `B` has one or two
/// columns, a policy or value head, from the AVX-512 kernels that put sixteen rows of `C`,
/// not its columns, in a register's lanes (`avx512::rows_in_lanes` and `rows_in_lanes_tn`).
/// Returns how many rows they wrote: none for wider products, or without AVX-512, where the
/// blocks do it all.
#[cfg(all(target_arch = "x86_64", target_feature = "avx512f"))]
fn narrow_rows(
    form: Form,
    shape: (usize, usize, usize),
    operands: (&[f32], &[f32]),
    c: &mut [f32],
    write: Write,
) -> usize {
    match shape.2 {
        1 => narrow_rows_of::<1>(form, shape, operands, c, write),
        2 => narrow_rows_of::<2>(form, shape, operands, c, write),
        _ => 0,
    }
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "avx512f")))]
fn narrow_rows(
    _: Form,
    _: (usize, usize, usize),
    _: (&[f32], &[f32]),
    _: &mut [f32],
    _: Write,
) -> usize {
    0
}

// ANCHOR: narrow_rows_of
/// [`narrow_rows`] for `W` columns: `Aᵀ·B` 64 rows at a time while it can (four chains of
/// multiply-adds per column keep both units busy), then both forms 16 at a time.
#[cfg(all(target_arch = "x86_64", target_feature = "avx512f"))]
fn narrow_rows_of<const W: usize>(
    form: Form,
    (m, k, n): (usize, usize, usize),
    operands: (&[f32], &[f32]),
    c: &mut [f32],
    write: Write,
) -> usize {
    let mut i = 0;
    while form == Form::LeftTransposed && i + 64 <= m {
        let sums = avx512::rows_in_lanes_tn::<W, 4>(operands, (i, m, k, n));
        store_each::<W>(&mut c[i * n..][..64 * n], write, |r, j| sums[j][r / 16][r % 16]);
        i += 64;
    }
    while i + 16 <= m {
        let sums = match form {
            Form::Plain => avx512::rows_in_lanes::<W>(operands, (i, k, n)),
            Form::LeftTransposed => {
                avx512::rows_in_lanes_tn::<W, 1>(operands, (i, m, k, n)).map(|[x]| x)
            }
        };
        store_each::<W>(&mut c[i * n..][..16 * n], write, |r, j| sums[j][r]);
        i += 16;
    }
    i
}
// ANCHOR_END: narrow_rows_of

/// Stores `sum(r, j)` into row `r`, column `j` of `c`, whose rows are `W` long.
#[cfg(all(target_arch = "x86_64", target_feature = "avx512f"))]
#[inline(always)]
fn store_each<const W: usize>(c: &mut [f32], write: Write, sum: impl Fn(usize, usize) -> f32) {
    for (r, c_row) in c.as_chunks_mut::<W>().0.iter_mut().enumerate() {
        for (j, c_value) in c_row.iter_mut().enumerate() {
            write.store(c_value, sum(r, j));
        }
    }
}

/// The rows of a product from row `rows` on: `operands` with their first rows skipped, for
/// the rows that [`narrow_rows`] leaves to the blocks.
struct Below<O> {
    operands: O,
    rows: usize,
}

impl<O: Operands> Operands for Below<O> {
    #[inline(always)]
    fn left<const R: usize>(&self, i: usize, p: usize) -> [f32; R] {
        self.operands.left::<R>(self.rows + i, p)
    }
    #[inline(always)]
    fn right<const W: usize>(&self, p: usize, j: usize) -> [f32; W] {
        self.operands.right::<W>(p, j)
    }
}

// ANCHOR: gemm_nn_bias_then
/// Rows of `C` that [`gemm_nn_bias_then`] finishes at a time: a few of the kernel's bands,
/// 8 KiB of `C` at 64 columns, so that they are still in the L1 cache when they are finished.
const FINISHED_ROWS: usize = 4 * MR;

/// `C = activation(A·B + bias)`, the row `bias` (`n` long) added to every row: a hidden
/// layer's forward pass. Each `FINISHED_ROWS` rows of `C` get their bias and activation as
/// soon as their products are done, while they are still in the L1 cache, rather than in a
/// second pass over a `C` that has by then left it for the L2. The bits are those of
/// [`gemm_nn`] with [`Write::Overwrite`] followed by `activation(c + bias)`.
///
/// # Panics
/// If a slice's length does not match its dimensions.
pub fn gemm_nn_bias_then(
    (m, k, n): (usize, usize, usize),
    (a, b, bias): (&[f32], &[f32], &[f32]),
    c: &mut [f32],
    activation: impl Fn(f32) -> f32,
) {
    assert!(
        a.len() == m * k && b.len() == k * n && bias.len() == n && c.len() == m * n,
        "gemm_nn_bias_then: bad lengths"
    );
    if n == 0 {
        return;
    }
    for (chunk, c_rows) in c.chunks_mut(FINISHED_ROWS * n).enumerate() {
        let (first, rows) = (chunk * FINISHED_ROWS, c_rows.len() / n);
        let a_rows = &a[first * k..(first + rows) * k];
        blocked_gemm(&Plain { a: a_rows, b, k, n }, (rows, k, n), c_rows, Write::Overwrite);
        for c_row in c_rows.chunks_exact_mut(n) {
            for (x, &b) in c_row.iter_mut().zip(bias) {
                *x = activation(*x + b);
            }
        }
    }
}
// ANCHOR_END: gemm_nn_bias_then

// ANCHOR: gemm_tn
/// `Aᵀ·B` with `A` row-major `k×m`: the `R` values the block needs from `Aᵀ` now sit side by
/// side in row `p` of `A`, so both operands are read along contiguous rows.
struct LeftTransposed<'a> {
    a: &'a [f32],
    b: &'a [f32],
    m: usize,
    n: usize,
}

impl Operands for LeftTransposed<'_> {
    #[inline(always)]
    fn left<const R: usize>(&self, i: usize, p: usize) -> [f32; R] {
        std::array::from_fn(|r| read(self.a, p * self.m + i + r))
    }
    #[inline(always)]
    fn right<const W: usize>(&self, p: usize, j: usize) -> [f32; W] {
        std::array::from_fn(|w| read(self.b, p * self.n + j + w))
    }
}

/// `C = Aᵀ·B` or `C += Aᵀ·B` on raw row-major slices: `A` is `k×m` (so `Aᵀ` is `m×k`), `B`
/// is `k×n`, `C` is `m×n`.
///
/// # Panics
/// If a slice's length does not match its dimensions.
pub fn gemm_tn(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32], write: Write) {
    assert!(a.len() == k * m && b.len() == k * n && c.len() == m * n, "gemm_tn: bad lengths");
    let done = narrow_rows(Form::LeftTransposed, (m, k, n), (a, b), c, write);
    let operands = Below { operands: LeftTransposed { a, b, m, n }, rows: done };
    blocked_gemm(&operands, (m - done, k, n), &mut c[done * n..], write);
}
// ANCHOR_END: gemm_tn

// ANCHOR: gemm_nt
/// Lanes of partial sums behind every element of `A·Bᵀ` (see [`gemm_nt`]).
const NT_LANES: usize = 8;
/// Rows of `C` in one block of `A·Bᵀ`: four, even where [`MR`] is eight, since a block holds
/// its lanes' running sums beside the lane being summed, twice the registers of `A·B`'s.
const NT_ROWS: usize = 4;

thread_local! {
    /// The packed copy of `B` that [`gemm_nt`] multiplies by, one per thread (each of the
    /// trainer's threads runs its own products). It is kept between calls: it allocates only
    /// the first time a `B` this large is seen, never in a training step after the first.
    static PACKED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Copies the first `cols` rows of `b` (each `k` long) into a reused buffer as a `k × cols`
/// row-major matrix, the transpose, with row `p` of `Bᵀ` stored at row `order(p)`. Eight rows
/// of `b` are read together, so that each store writes eight neighbours of a packed row.
fn pack_transposed(b: &[f32], k: usize, cols: usize, order: impl Fn(usize) -> usize) -> PackedB {
    const TILE: usize = 8;
    let mut packed = PACKED.take();
    if packed.len() < k * cols {
        packed.resize(k * cols, 0.0);
    }
    // A 16 × 16 register tile of a `b` with fewer than 16 columns is partly padding, and for
    // the few columns of a head's gradient or an observation mostly: there the copies below
    // are cheaper (`kernel_ratios` at 64×3·3×64: 29–32 GFLOP/s with the tiles, 39 without).
    let first = if k >= 16 { packed_by_tiles(b, k, cols, &order, &mut packed) } else { 0 };
    let full = first + (cols - first) / TILE * TILE;
    for j in (first..full).step_by(TILE) {
        let rows: [&[f32]; TILE] = std::array::from_fn(|t| &b[(j + t) * k..(j + t + 1) * k]);
        for p in 0..k {
            let out = &mut packed[order(p) * cols + j..][..TILE];
            for (x, row) in out.iter_mut().zip(&rows) {
                *x = row[p];
            }
        }
    }
    for j in full..cols {
        for (p, &x) in b[j * k..(j + 1) * k].iter().enumerate() {
            packed[order(p) * cols + j] = x;
        }
    }
    PackedB(packed)
}

/// With AVX-512, the columns of the packed `Bᵀ` in whole sixteens, a 16 × 16 tile of `b` at
/// a time turned over in registers; returns how many columns it packed (none without it).
#[cfg(all(target_arch = "x86_64", target_feature = "avx512f"))]
fn packed_by_tiles(
    b: &[f32],
    k: usize,
    cols: usize,
    order: &impl Fn(usize) -> usize,
    packed: &mut [f32],
) -> usize {
    let full = cols - cols % 16;
    for j in (0..full).step_by(16) {
        for p in (0..k).step_by(16) {
            let width = 16.min(k - p);
            let tile = avx512::transposed_tile(b, (j, p, k, width));
            for (q, column) in tile.iter().enumerate().take(width) {
                packed[order(p + q) * cols + j..][..16].copy_from_slice(column);
            }
        }
    }
    full
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "avx512f")))]
fn packed_by_tiles(
    _: &[f32],
    _: usize,
    _: usize,
    _: &impl Fn(usize) -> usize,
    _: &mut [f32],
) -> usize {
    0
}

/// The packed buffer, handed back to the thread's slot when the product is done.
struct PackedB(Vec<f32>);

impl Drop for PackedB {
    fn drop(&mut self) {
        PACKED.set(std::mem::take(&mut self.0));
    }
}

/// `C = A·Bᵀ` or `C += A·Bᵀ` on raw row-major slices: `A` is `m×k`, `B` is `n×k`, `C` is
/// `m×n`.
///
/// Row `p` of `Bᵀ`, which the blocked kernel wants contiguous, is column `p` of `B`, its
/// values `k` apart. So `B` is first *packed*: copied, transposed, into a buffer reused from
/// call to call (for a 64×64 `B`, 16 KiB, a tenth of the product's time at batch 64). Then:
///
/// - for `k < 8` (the gradient flowing back from a one- or two-output head), the packed `Bᵀ`
///   goes straight to the blocked kernel, as `A·B`;
/// - otherwise each element of `C` is summed the way a vectorized dot product of two rows
///   sums it: eight partial sums, lane `l` collecting the terms `p = l, l + 8, …`, added up
///   lane 0 first, then the `k mod 8` leftover terms. The packed rows are ordered by lane, and
///   the eight partial sums are eight blocked `A·B` products of depth `k / 8` each. Summing
///   this way (rather than `p = 0, 1, …`) keeps the results bit for bit those of the
///   dot-product kernel this one replaced, and so every training run of the book;
/// - rows and columns past the last multiple of four are plain [`dot`] products, as before.
///
/// # Panics
/// If a slice's length does not match its dimensions.
pub fn gemm_nt(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32], write: Write) {
    assert!(a.len() == m * k && b.len() == n * k && c.len() == m * n, "gemm_nt: bad lengths");
    if k < NT_LANES {
        let packed = pack_transposed(b, k, n, |p| p);
        blocked_gemm(&Plain { a, b: &packed.0, k, n }, (m, k, n), c, write);
        return;
    }
    let (full_rows, cols) = (m - m % NT_ROWS, n - n % 4);
    let (depth, tail) = (k / NT_LANES, k - k % NT_LANES);
    // Row p of Bᵀ goes to row (p mod 8)·depth + p div 8: each lane's rows together, in order.
    let packed = pack_transposed(b, k, cols, |p| {
        if p < tail { (p % NT_LANES) * depth + p / NT_LANES } else { p }
    });
    let operands = (a, &packed.0[..], k, cols);
    for i in (0..full_rows).step_by(NT_ROWS) {
        // The hidden layers' common depths get a loop the compiler can unroll completely.
        match depth {
            4 => lane_band::<4>(operands, (i, depth), (&mut c[i * n..], n, write)),
            8 => lane_band::<8>(operands, (i, depth), (&mut c[i * n..], n, write)),
            _ => lane_band::<0>(operands, (i, depth), (&mut c[i * n..], n, write)),
        }
    }
    for i in 0..m {
        let first_col = if i < full_rows { cols } else { 0 };
        for j in first_col..n {
            write.store(&mut c[i * n + j], dot(&a[i * k..(i + 1) * k], &b[j * k..(j + 1) * k]));
        }
    }
}

/// The blocks of one band of `NT_ROWS` rows of `A·Bᵀ`: `NR` columns wide, then 16, 8 and 4
/// (the packed columns are a multiple of four). `D` is the depth when known at compile time,
/// else 0.
#[inline(always)]
fn lane_band<const D: usize>(
    operands: (&[f32], &[f32], usize, usize),
    (i, depth): (usize, usize),
    (c, n, write): (&mut [f32], usize, Write),
) {
    let (mut j, cols) = (0, operands.3);
    while j + NR <= cols {
        lane_block::<NR, D>(operands, (i, j, depth), (&mut c[j..], n, write));
        j += NR;
    }
    if NR > 16 && j + 16 <= cols {
        lane_block::<16, D>(operands, (i, j, depth), (&mut c[j..], n, write));
        j += 16;
    }
    if j + 8 <= cols {
        lane_block::<8, D>(operands, (i, j, depth), (&mut c[j..], n, write));
        j += 8;
    }
    if j + 4 <= cols {
        lane_block::<4, D>(operands, (i, j, depth), (&mut c[j..], n, write));
    }
}

/// One `NT_ROWS × W` block of `A·Bᵀ` in the dot product's order: the eight lanes' partial sums,
/// each a blocked product of depth `depth` (as in [`block`]), added lane 0 first; then the
/// leftover terms (`p ≥ 8·depth`), multiplied and added one by one as [`dot`]'s tail is; then
/// into `C`. All `NT_ROWS × W` sums stay in registers throughout.
#[inline(always)]
fn lane_block<const W: usize, const D: usize>(
    (a, packed, k, cols): (&[f32], &[f32], usize, usize),
    (i, j, depth): (usize, usize, usize),
    (c, c_stride, write): (&mut [f32], usize, Write),
) {
    let depth = if D > 0 { D } else { depth };
    let mut sums = products::<NT_ROWS, W>(
        (NT_LANES, depth),
        |lane, q| std::array::from_fn(|r| read(a, (i + r) * k + q * NT_LANES + lane)),
        |lane, q| std::array::from_fn(|w| read(packed, (lane * depth + q) * cols + j + w)),
    );
    let tail = depth * NT_LANES;
    if tail < k {
        let mut rest = [[-0.0f32; W]; NT_ROWS];
        for p in tail..k {
            let a_values: [f32; NT_ROWS] = std::array::from_fn(|r| read(a, (i + r) * k + p));
            let b_values: [f32; W] = std::array::from_fn(|w| read(packed, p * cols + j + w));
            for (rest_row, &a_value) in rest.iter_mut().zip(&a_values) {
                for (x, &b_value) in rest_row.iter_mut().zip(&b_values) {
                    *x += a_value * b_value;
                }
            }
        }
        // `dot` adds its sixteen (here empty, zero) lanes after the tail: the one visible
        // effect is that a −0.0 becomes +0.0.
        for (sum_row, rest_row) in sums.iter_mut().zip(&rest) {
            for (sum, &x) in sum_row.iter_mut().zip(rest_row) {
                *sum += x + 0.0;
            }
        }
    }
    for (c_row, sum_row) in c.chunks_mut(c_stride).zip(&sums) {
        for (c_value, &sum) in c_row.iter_mut().zip(sum_row) {
            write.store(c_value, sum);
        }
    }
}

impl fmt::Debug for Tensor {
    /// Shows the shape and up to the first eight values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = &self.data[..self.data.len().min(8)];
        let more = if self.data.len() > 8 { ", …" } else { "" };
        write!(f, "Tensor{:?} {shown:?}{more}", self.shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    /// The textbook triple loop, the oracle for the blocked kernels.
    fn naive_matmul(
        m: usize,
        k: usize,
        n: usize,
        a: impl Fn(usize, usize) -> f32,
        b: impl Fn(usize, usize) -> f32,
    ) -> Vec<f32> {
        let mut c = vec![0.0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    c[i * n + j] += a(i, p) as f64 * b(p, j) as f64;
                }
            }
        }
        c.into_iter().map(|x| x as f32).collect()
    }

    fn assert_close(actual: &[f32], expected: &[f32], what: &str) {
        assert_eq!(actual.len(), expected.len());
        for (i, (&x, &y)) in actual.iter().zip(expected).enumerate() {
            assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{what}: element {i}: {x} vs {y}");
        }
    }

    #[test]
    fn all_three_matmul_forms_match_the_triple_loop() {
        let mut rng = StdRng::seed_from_u64(7);
        // Shapes straddle the block sizes: multiples, leftovers, and degenerate sizes.
        for &(m, k, n) in &[
            (1, 1, 1),
            (4, 3, 16),
            (5, 7, 17),
            (64, 3, 64),
            (64, 64, 2),
            (33, 9, 50),
            (3, 0, 4),
            (8, 40, 35),
            // A·Bᵀ's unrolled lanes at the hidden layers' depths, 32 and 64, with full columns.
            (9, 32, 20),
            (9, 64, 12),
            // Every band of rows (8, 4, 1) and every width of block (32, 16, 8, 4, 2, 1).
            (15, 9, 63),
            (12, 16, 48),
        ] {
            let a = Tensor::randn(&[m, k], &mut rng);
            let b = Tensor::randn(&[k, n], &mut rng);
            let expected =
                naive_matmul(m, k, n, |i, p| a.data[i * k + p], |p, j| b.data[p * n + j]);
            assert_close(a.matmul(&b).data(), &expected, &format!("nn {m}x{k}x{n}"));

            let at = Tensor::randn(&[k, m], &mut rng);
            let expected =
                naive_matmul(m, k, n, |i, p| at.data[p * m + i], |p, j| b.data[p * n + j]);
            assert_close(at.matmul_tn(&b).data(), &expected, &format!("tn {m}x{k}x{n}"));

            let bt = Tensor::randn(&[n, k], &mut rng);
            let expected =
                naive_matmul(m, k, n, |i, p| a.data[i * k + p], |p, j| bt.data[j * k + p]);
            assert_close(a.matmul_nt(&bt).data(), &expected, &format!("nt {m}x{k}x{n}"));
        }
    }

    /// One element of `A·Bᵀ` summed as a vectorized dot product sums it (eight lanes of
    /// fused multiply-adds, added lane 0 first, then the leftover terms one by one), written
    /// out element by element: the order the packed kernel must reproduce bit for bit.
    fn lanewise_dot(a: &[f32], b: &[f32]) -> f32 {
        let mut lanes = [0.0f32; 8];
        let full = a.len() - a.len() % 8;
        for p in 0..full {
            lanes[p % 8] = a[p].mul_add(b[p], lanes[p % 8]);
        }
        let mut sum = lanes.iter().sum::<f32>();
        if full < a.len() {
            let rest: f32 = (full..a.len()).map(|p| a[p] * b[p]).sum();
            sum += rest + 0.0;
        }
        sum
    }

    #[test]
    fn packed_a_bt_sums_each_element_in_the_dot_product_order() {
        let mut rng = StdRng::seed_from_u64(11);
        // Bands of four rows, then rows and columns of plain dot products; lanes with and
        // without leftover terms, short and long.
        let shapes = [
            (8, 64, 16),
            (12, 13, 28),
            (9, 64, 7),
            (64, 40, 64),
            (4, 8, 4),
            (13, 24, 61),
            (22, 72, 40),
            (13, 67, 36),
        ];
        for (&(m, k, n), operands) in shapes.iter().flat_map(|s| [(s, 0), (s, 1), (s, 2)]) {
            // Zeros of both signs, as dead ReLU units give, exercise the sign of zero sums;
            // so do products too small for an `f32`, which round to zeros of their sign:
            // of random signs, and all negative, whose lanes and leftover terms all sum to
            // −0.0 (and the leftover terms' `+ 0.0` is then the only +0.0 in sight).
            let sparse = |t: Tensor| t.map(|x| if x.abs() < 0.5 { 0.0 * x.signum() } else { x });
            let tiny = |t: Tensor| t.map(|x| if x < 0.0 { -1e-30 } else { 1e-30 });
            let (a, b) = (Tensor::randn(&[m, k], &mut rng), Tensor::randn(&[n, k], &mut rng));
            let (a, b, start) = match operands {
                0 => (sparse(a), sparse(b), Tensor::randn(&[m, n], &mut rng)),
                1 => (tiny(a), tiny(b), Tensor::filled(&[m, n], -0.0)),
                _ => (a.map(|_| -1e-30), b.map(|_| 1e-30), Tensor::filled(&[m, n], -0.0)),
            };
            let mut c = start.data().to_vec();
            gemm_nt(m, k, n, a.data(), b.data(), &mut c, Write::Add);
            let (full_rows, full_cols) = (m - m % 4, n - n % 4);
            for i in 0..m {
                for j in 0..n {
                    let (row_a, row_b) = (a.row(i), b.row(j));
                    let term = if i < full_rows && j < full_cols {
                        lanewise_dot(row_a, row_b)
                    } else {
                        dot(row_a, row_b)
                    };
                    let expected = start.data()[i * n + j] + term;
                    assert_eq!(
                        c[i * n + j].to_bits(),
                        expected.to_bits(),
                        "{m}x{k}x{n} at [{i}, {j}]: {} vs {expected}",
                        c[i * n + j]
                    );
                }
            }
        }
    }

    /// Products too small for an `f32` round to zeros that keep the product's sign, and
    /// negative zeros added into −0.0 stay −0.0: `A·B` and `Aᵀ·B` keep that sign, in every
    /// width of block and every band of rows, as one chain of multiply-adds from +0.0 does. (A
    /// block whose sums started from +0.0 instead of −0.0 would turn −0.0 into +0.0 here.)
    /// `A·Bᵀ` follows the dot product's order instead, checked by the next test.
    #[test]
    fn products_too_small_for_an_f32_keep_their_sign() {
        for (name, kernel, shapes) in &FORMS[..2] {
            for &(m, k, n) in &[(13, 9, 61), (13, 3, 61), (8, 64, 32), (5, 16, 17)] {
                let [a_rows, a_cols, b_rows, b_cols] = shapes(m, k, n);
                let a = vec![-1e-30f32; a_rows * a_cols];
                let b = vec![1e-30f32; b_rows * b_cols];
                let mut c = vec![-0.0f32; m * n];
                kernel(m, k, n, &a, &b, &mut c, Write::Add);
                for (index, x) in c.iter().enumerate() {
                    let what = format!("{name} {m}x{k}x{n}: element {index} is {x}");
                    assert_eq!(x.to_bits(), (-0.0f32).to_bits(), "{what}");
                }
            }
        }
    }

    type Kernel = fn(usize, usize, usize, &[f32], &[f32], &mut [f32], Write);
    /// The operand shapes of a form, `[rows of A, cols of A, rows of B, cols of B]`, for `m, k, n`.
    type Shapes = fn(usize, usize, usize) -> [usize; 4];
    /// Each form with the shapes of its operands.
    const FORMS: [(&str, Kernel, Shapes); 3] = [
        ("A·B", gemm_nn, |m, k, n| [m, k, k, n]),
        ("Aᵀ·B", gemm_tn, |m, k, n| [k, m, k, n]),
        ("A·Bᵀ", gemm_nt, |m, k, n| [m, k, n, k]),
    ];

    /// The bits of each value, to compare results exactly (zeros' signs and NaNs included).
    fn bits(values: &[f32]) -> Vec<u32> {
        values.iter().map(|x| x.to_bits()).collect()
    }

    /// `A·B`'s element `(i, j)` as every kernel must sum it: one chain of fused multiply-adds
    /// over `p` in order, from +0.0.
    fn chained_dot(a: &[f32], b: &[f32], (i, j): (usize, usize), (k, n): (usize, usize)) -> f32 {
        (0..k).fold(0.0f32, |acc, p| a[i * k + p].mul_add(b[p * n + j], acc))
    }

    #[test]
    fn a_product_of_one_or_two_columns_sums_each_element_in_order() {
        let mut rng = StdRng::seed_from_u64(31);
        // Sixteen rows and more, with rows left over, 64 rows and more for Aᵀ·B's wide
        // bands; depths of whole tiles of sixteen columns, of a part of one, and of none; one,
        // two and three columns.
        let shapes = [
            (16, 64, 2),
            (16, 64, 1),
            (256, 64, 2),
            (64, 256, 1),
            (100, 9, 2),
            (37, 17, 2),
            (48, 5, 1),
            (33, 16, 2),
            (15, 64, 2),
            (16, 0, 2),
            (32, 31, 3),
        ];
        for &(m, k, n) in &shapes {
            let sparse = |t: Tensor| t.map(|x| if x.abs() < 0.3 { 0.0 * x.signum() } else { x });
            let a = sparse(Tensor::randn(&[m, k], &mut rng));
            let b = sparse(Tensor::randn(&[k, n], &mut rng));
            let start = Tensor::randn(&[m, n], &mut rng);
            for write in [Write::Overwrite, Write::Add] {
                let mut c =
                    if write == Write::Add { start.data.clone() } else { vec![f32::NAN; m * n] };
                let mut expected = start.data.clone();
                for (index, x) in expected.iter_mut().enumerate() {
                    write.store(x, chained_dot(a.data(), b.data(), (index / n, index % n), (k, n)));
                }
                let mut c_nn = c.clone();
                gemm_nn(m, k, n, a.data(), b.data(), &mut c_nn, write);
                assert_eq!(bits(&c_nn), bits(&expected), "A·B {m}x{k}x{n}, {write:?}");
                // Aᵀ·B of the same product, from A stored transposed.
                let at: Vec<f32> = (0..k * m).map(|x| a.data[(x % m) * k + x / m]).collect();
                gemm_tn(m, k, n, &at, b.data(), &mut c, write);
                assert_eq!(bits(&c), bits(&expected), "Aᵀ·B {m}x{k}x{n}, {write:?}");
            }
        }
    }

    #[test]
    fn every_form_adds_into_c_when_asked_to() {
        for (form, gemm, _) in FORMS {
            // A = [1 2], B = [3 4]ᵀ (stored as a row for the forms that read it transposed).
            let (a, b) = ([1.0, 2.0], [3.0, 4.0]);
            let mut c = [10.0];
            gemm(1, 2, 1, &a, &b, &mut c, Write::Add);
            assert_eq!(c, [21.0], "{form}");
        }
    }

    #[test]
    fn overwriting_gives_the_bits_of_adding_to_zeros_whatever_c_held() {
        let mut rng = StdRng::seed_from_u64(13);
        // Shapes through every path: the blocks and their leftovers, A·Bᵀ's shallow path
        // (k < 8), its lanes with and without a tail, and its dot-product edges.
        for &(m, k, n) in &[(1, 1, 1), (5, 7, 17), (9, 64, 7), (12, 13, 28), (64, 3, 2), (3, 0, 4)]
        {
            for (form, gemm, shapes) in FORMS {
                // Zeros of both signs in the operands, so that many products are −0.0.
                let sparse =
                    |t: Tensor| t.map(|x| if x.abs() < 0.7 { 0.0 * x.signum() } else { x });
                let [ra, ca, rb, cb] = shapes(m, k, n);
                let a = sparse(Tensor::randn(&[ra, ca], &mut rng));
                let b = sparse(Tensor::randn(&[rb, cb], &mut rng));
                let mut added = vec![0.0; m * n];
                gemm(m, k, n, a.data(), b.data(), &mut added, Write::Add);
                let mut overwritten = vec![f32::NAN; m * n];
                gemm(m, k, n, a.data(), b.data(), &mut overwritten, Write::Overwrite);
                assert_eq!(bits(&overwritten), bits(&added), "{form} {m}x{k}x{n}");
            }
        }
    }

    #[test]
    fn a_product_finished_with_bias_and_activation_gives_the_bits_of_the_steps_apart() {
        let mut rng = StdRng::seed_from_u64(29);
        type Activation = fn(f32) -> f32;
        let activations: [(&str, Activation); 3] =
            [("relu", |z| z.max(0.0)), ("tanh", f32::tanh), ("square", |z| z * z)];
        // Fewer rows than one finished chunk, several chunks with a part left over, every
        // column leftover, a depth of zero (the bias alone) and an empty product.
        let shapes =
            [(1, 1, 1), (5, 3, 64), (70, 64, 64), (37, 9, 2), (33, 64, 1), (4, 0, 5), (0, 4, 3)];
        for &(m, k, n) in &shapes {
            // Exact zeros of both signs among the products and the biases, so that a
            // −0.0 reaching the bias addition would show in the ReLU's and the square's bits.
            let sparse = |t: Tensor| t.map(|x| if x.abs() < 0.5 { 0.0 * x.signum() } else { x });
            let a = sparse(Tensor::randn(&[m, k], &mut rng));
            let b = sparse(Tensor::randn(&[k, n], &mut rng));
            let bias = sparse(Tensor::randn(&[n], &mut rng));
            for (name, activation) in activations {
                let mut apart = vec![f32::NAN; m * n];
                gemm_nn(m, k, n, a.data(), b.data(), &mut apart, Write::Overwrite);
                for row in apart.chunks_exact_mut(n.max(1)) {
                    for (x, &b) in row.iter_mut().zip(bias.data()) {
                        *x = activation(*x + b);
                    }
                }
                let mut finished = vec![f32::NAN; m * n];
                let operands = (a.data(), b.data(), bias.data());
                gemm_nn_bias_then((m, k, n), operands, &mut finished, activation);
                assert_eq!(bits(&finished), bits(&apart), "{name} at {m}x{k}x{n}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "gemm_nn_bias_then: bad lengths")]
    fn a_bias_of_the_wrong_length_is_refused() {
        let mut c = [0.0; 4];
        gemm_nn_bias_then((2, 1, 2), (&[1.0, 2.0], &[1.0, 2.0], &[1.0]), &mut c, |z| z);
    }

    #[test]
    fn storing_over_a_value_gives_the_bits_of_adding_to_a_positive_zero() {
        // The kernels' sums start from +0.0 and never end at −0.0, but a backward rule's
        // values can (the gradient of −x where the output's is +0.0): adding −0.0 to a zeroed
        // buffer gives +0.0, and so must overwriting.
        for value in [-0.0f32, 0.0, 1.5, -2.25, f32::MIN_POSITIVE, f32::INFINITY] {
            let mut added = 0.0f32;
            Write::Add.store(&mut added, value);
            let mut overwritten = f32::NAN;
            Write::Overwrite.store(&mut overwritten, value);
            assert_eq!(overwritten.to_bits(), added.to_bits(), "storing {value:?}");
        }
        let mut held = 1.0f32;
        Write::Add.store(&mut held, 2.0);
        assert_eq!(held, 3.0);
    }

    #[test]
    fn column_sums_add_to_what_the_row_held_or_overwrite_it() {
        let m = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut out = [10.0, 20.0, 30.0];
        accumulate_column_sums(&m, 3, &mut out, Write::Add);
        assert_eq!(out, [15.0, 27.0, 39.0]);
        let mut out = [f32::NAN; 3];
        accumulate_column_sums(&m, 3, &mut out, Write::Overwrite);
        assert_eq!(out, [5.0, 7.0, 9.0]);
        // No rows: adding leaves the row as it was, overwriting leaves zeros.
        let mut out = [10.0, 20.0];
        accumulate_column_sums(&[], 2, &mut out, Write::Add);
        assert_eq!(out, [10.0, 20.0]);
        accumulate_column_sums(&[], 2, &mut out, Write::Overwrite);
        assert_eq!(out, [0.0, 0.0]);
    }

    #[test]
    fn sums_match_sequential_sums() {
        let t = Tensor::from_vec(&[2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(t.sum(), 21.0);
        assert_eq!(t.mean(), 3.5);
        assert_eq!(t.row_sums().data(), [6.0, 15.0]);
        assert_eq!(t.column_sums().data(), [5.0, 7.0, 9.0]);
        let long: Vec<f32> = (1..=1000).map(|i| i as f32).collect();
        assert_eq!(sum_slice(&long), 500_500.0);
        assert_eq!(dot(&long[..37], &[1.0; 37]), 703.0);
    }

    #[test]
    fn add_row_into_matches_add_row_and_reuses_a_dirty_buffer() {
        let x = Tensor::from_vec(&[2, 3], vec![1.0, -2.0, 3.0, 0.5, -0.0, 6.0]);
        let bias = Tensor::from_vec(&[3], vec![0.25, 0.0, -1.0]);
        // A buffer left over from other work: other shape, other values.
        let mut out = Tensor::filled(&[3, 2], 9.0);
        x.add_row_into(&bias, &mut out);
        assert_eq!(out.shape(), &[2, 3]);
        let bits = |t: &Tensor| t.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&out), bits(&x.add_row(&bias)));
        // A buffer with fewer elements than needed: it grows, and every element is written.
        let mut longer = Tensor::filled(&[1], 9.0);
        x.add_row_into(&bias, &mut longer);
        assert_eq!(bits(&longer), bits(&x.add_row(&bias)));
    }

    #[test]
    fn add_row_broadcasts_over_rows() {
        let x = Tensor::from_vec(&[2, 2], vec![1.0, 2.0, 3.0, 4.0]);
        let bias = Tensor::from_vec(&[2], vec![10.0, 20.0]);
        assert_eq!(x.add_row(&bias).data(), [11.0, 22.0, 13.0, 24.0]);
        let bias_row = bias.clone().reshape(&[1, 2]);
        assert_eq!(x.add_row(&bias_row).data(), [11.0, 22.0, 13.0, 24.0]);
    }

    #[test]
    #[should_panic(expected = "shapes [2, 3] and [4, 3] do not chain")]
    fn matmul_shape_mismatch_names_both_shapes() {
        Tensor::zeros(&[2, 3]).matmul(&Tensor::zeros(&[4, 3]));
    }

    #[test]
    #[should_panic(expected = "shape [2, 2] holds 4 elements but 3 values were given")]
    fn from_vec_checks_the_length() {
        Tensor::from_vec(&[2, 2], vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn indexing_is_row_major() {
        let mut t = Tensor::zeros(&[2, 3]);
        t.set(&[1, 2], 5.0);
        assert_eq!(t.data()[5], 5.0);
        assert_eq!(t.get(&[1, 2]), 5.0);
        assert_eq!(t.row(1), [0.0, 0.0, 5.0]);
    }

    #[test]
    fn random_constructors_follow_their_distributions() {
        let mut rng = StdRng::seed_from_u64(3);
        let n = Tensor::randn(&[100, 100], &mut rng);
        let mean = n.mean();
        let var = n.map(|x| (x - mean) * (x - mean)).mean();
        // 10,000 samples: the standard error of the mean is 0.01, of the variance about 0.014.
        assert!(mean.abs() < 0.04 && (var - 1.0).abs() < 0.06, "mean {mean}, variance {var}");
        let u = Tensor::rand_uniform(&[10_000], -2.0, 3.0, &mut rng);
        assert!(u.data().iter().all(|&x| (-2.0..3.0).contains(&x)));
        assert!((u.mean() - 0.5).abs() < 0.05, "uniform mean {}", u.mean());
    }
}
