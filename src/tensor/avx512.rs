//! The blocked products' inner loop written with AVX-512 instructions, for processors that
//! have them (built with `target-cpu=native` on one, as this crate is).
//!
//! The portable loop in [`super::products`] is the same computation: the compiler turns it
//! into vector instructions by itself while the block is at most 4 × 16. Already at 8 × 16
//! the block is too large for the compiler to unroll completely: its sums stay in memory and
//! the product runs fifteen times slower (chapter 1). An 8 × 32 block, which AVX-512's 32
//! registers can hold (sixteen of them for the sums), is larger still. Here the registers
//! are named, and nothing is left to the unroller.
//!
//! Each sum is still one chain of fused multiply-adds in the order of `p`, so this loop and
//! the portable one give the same bits (`tests` below compares them on every width).

use std::arch::x86_64::{__m512, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps};
use std::arch::x86_64::{_mm512_add_ps, _mm512_setzero_ps, _mm512_storeu_ps};
use std::arch::x86_64::{_mm512_maskz_loadu_ps, _mm512_shuffle_f32x4, _mm512_shuffle_ps};
use std::arch::x86_64::{_mm512_unpackhi_ps, _mm512_unpacklo_ps};

/// Lanes of one AVX-512 register of `f32`.
const LANES: usize = 16;

// The instructions used, each behind a safe function. SAFETY (of all of them): this module
// is compiled only when the whole build enables AVX-512 (the `cfg` on `mod avx512`), so the
// instructions exist wherever the build's code may run at all; the loads and the store take
// a whole array of sixteen floats, so they stay inside it, and `load_first` reads only the
// lanes its mask enables, which lie inside its slice (a masked-off lane is never read, and
// cannot fault).
#[inline(always)]
fn zero() -> __m512 {
    unsafe { _mm512_setzero_ps() }
}
#[inline(always)]
fn broadcast(x: f32) -> __m512 {
    unsafe { _mm512_set1_ps(x) }
}
#[inline(always)]
fn load(x: &[f32; LANES]) -> __m512 {
    unsafe { _mm512_loadu_ps(x.as_ptr()) }
}
#[inline(always)]
fn store(register: __m512, out: &mut [f32; LANES]) {
    unsafe { _mm512_storeu_ps(out.as_mut_ptr(), register) }
}
/// `a + b` in each lane.
#[inline(always)]
fn add(a: __m512, b: __m512) -> __m512 {
    unsafe { _mm512_add_ps(a, b) }
}
/// `a·b + c` in each lane, rounded once: `f32::mul_add` sixteen times.
#[inline(always)]
fn multiply_add(a: __m512, b: __m512, c: __m512) -> __m512 {
    unsafe { _mm512_fmadd_ps(a, b, c) }
}
/// The first `x.len()` (at most sixteen) values of `x`, and zeros in the lanes after them.
#[inline(always)]
fn load_first(x: &[f32]) -> __m512 {
    debug_assert!(x.len() <= LANES);
    let mask = ((1u32 << x.len()) - 1) as u16;
    unsafe { _mm512_maskz_loadu_ps(mask, x.as_ptr()) }
}

// ANCHOR: products
/// `super::products` for `W` = 16 or 32 columns: each row of sums is one or two registers,
/// and each step loads `b(lane, q)` once and multiplies it by the `R` values of `a(lane, q)`,
/// each broadcast to a whole register.
#[inline(always)]
pub(super) fn products<const R: usize, const W: usize>(
    (lanes, depth): (usize, usize),
    left: impl Fn(usize, usize) -> [f32; R],
    right: impl Fn(usize, usize) -> [f32; W],
) -> [[f32; W]; R] {
    debug_assert!(W == LANES || W == 2 * LANES, "a row of sums is one or two registers");
    let registers = W / LANES;
    let mut sums = [[broadcast(-0.0); 2]; R];
    for lane in 0..lanes {
        let mut acc = [[zero(); 2]; R];
        for q in 0..depth {
            let b = right(lane, q);
            let (b, _) = b.as_chunks::<LANES>();
            let b: [__m512; 2] =
                std::array::from_fn(|v| if v < registers { load(&b[v]) } else { zero() });
            for (acc_row, a_value) in acc.iter_mut().zip(left(lane, q)) {
                let a_value = broadcast(a_value);
                for (x, &b) in acc_row.iter_mut().zip(&b).take(registers) {
                    *x = multiply_add(a_value, b, *x);
                }
            }
        }
        for (sum_row, acc_row) in sums.iter_mut().zip(&acc) {
            for (sum, &x) in sum_row.iter_mut().zip(acc_row).take(registers) {
                *sum = add(*sum, x);
            }
        }
    }
    let mut out = [[0.0f32; W]; R];
    for (out_row, sum_row) in out.iter_mut().zip(&sums) {
        let (out_row, _) = out_row.as_chunks_mut::<LANES>();
        for (out, &sum) in out_row.iter_mut().zip(sum_row) {
            store(sum, out);
        }
    }
    out
}
// ANCHOR_END: products

// ANCHOR: rows_in_lanes
/// The sixteen rows `i..i + 16` of `A·B` for a `B` of `W` (one or two) columns, a policy or
/// value head, with the rows in a register's lanes: `[j][r]` is the sum of row `i + r` and
/// column `j`. A block of [`products`] would hold such a product's sums in one or two lanes
/// of each register, and use an eighth of each multiply-add. Here each step multiplies
/// sixteen rows' values of column `p` of `A` by `B[p, j]` broadcast, so it needs those
/// values side by side, where `A`'s rows store them `k` floats apart: sixteen columns of
/// sixteen rows are loaded as they lie and transposed in registers ([`transpose`]).
///
/// Each sum is still one chain of fused multiply-adds over `p` in order, starting from +0.0,
/// as in a block: the same bits.
#[inline(always)]
pub(super) fn rows_in_lanes<const W: usize>(
    (a, b): (&[f32], &[f32]),
    (i, k, n): (usize, usize, usize),
) -> [[f32; LANES]; W] {
    let mut acc = [zero(); W];
    for p in (0..k).step_by(LANES) {
        let width = LANES.min(k - p);
        let columns = transpose(tile(a, (i, p, k, width)));
        for (q, column) in columns.into_iter().enumerate().take(width) {
            for (j, acc) in acc.iter_mut().enumerate() {
                *acc = multiply_add(column, broadcast(b[(p + q) * n + j]), *acc);
            }
        }
    }
    let mut out = [[0.0f32; LANES]; W];
    for (out, &acc) in out.iter_mut().zip(&acc) {
        store(acc, out);
    }
    out
}
// ANCHOR_END: rows_in_lanes

/// [`rows_in_lanes`] for `Aᵀ·B`, `A` stored `k × m`: the rows `i..i + 16·BANDS` of `C`. Here
/// column `p` of `Aᵀ` is row `p` of `A`, whose values for sixteen rows of `C` lie side by
/// side and load as they are. Several bands of sixteen rows go together so that the chains
/// of multiply-adds, one per band and column, are enough to keep both units busy while each
/// waits for its last result.
#[inline(always)]
pub(super) fn rows_in_lanes_tn<const W: usize, const BANDS: usize>(
    (a, b): (&[f32], &[f32]),
    (i, m, k, n): (usize, usize, usize, usize),
) -> [[[f32; LANES]; BANDS]; W] {
    let mut acc = [[zero(); BANDS]; W];
    for p in 0..k {
        let (row, _) = a[p * m + i..][..BANDS * LANES].as_chunks::<LANES>();
        for (j, acc) in acc.iter_mut().enumerate() {
            let b = broadcast(b[p * n + j]);
            for (acc, values) in acc.iter_mut().zip(row) {
                *acc = multiply_add(load(values), b, *acc);
            }
        }
    }
    let mut out = [[[0.0f32; LANES]; BANDS]; W];
    for (out, acc) in out.iter_mut().zip(&acc) {
        for (out, &acc) in out.iter_mut().zip(acc) {
            store(acc, out);
        }
    }
    out
}

/// Columns `p..p + width` (`width` ≤ 16) of the sixteen rows `j..j + 16` of `b`, whose rows
/// are `k` long, turned over: array `q` holds column `p + q` of the sixteen rows (the arrays
/// from `width` on are zeros). `A·Bᵀ` packs `B` with it.
pub(super) fn transposed_tile(
    b: &[f32],
    (j, p, k, width): (usize, usize, usize, usize),
) -> [[f32; LANES]; LANES] {
    let mut out = [[0.0f32; LANES]; LANES];
    for (out, column) in out.iter_mut().zip(transpose(tile(b, (j, p, k, width)))) {
        store(column, out);
    }
    out
}

/// Columns `p..p + width` of the sixteen rows `i..i + 16` of `x` (rows `k` long), one row per
/// register, zeros past `width`.
#[inline(always)]
fn tile(x: &[f32], (i, p, k, width): (usize, usize, usize, usize)) -> [__m512; LANES] {
    std::array::from_fn(|r| {
        let row = &x[(i + r) * k + p..][..width];
        match row.try_into() {
            Ok(whole) => load(whole),
            Err(_) => load_first(row),
        }
    })
}

// ANCHOR: transpose
/// The transpose of a 16 × 16 tile, one row per register: element `c` of register `r` out is
/// element `r` of register `c` in. Four rounds of sixteen shuffles, each round interleaving
/// pieces twice as large as the last: single floats of neighbouring rows, then pairs, then
/// the 128-bit quarters of a register, twice.
#[inline(always)]
fn transpose(rows: [__m512; LANES]) -> [__m512; LANES] {
    // Round 1: in each quarter, rows 2h and 2h + 1 interleaved, floats 0-1 then 2-3.
    let t: [__m512; LANES] = std::array::from_fn(|x| {
        let (a, b) = (rows[x & !1], rows[x | 1]);
        unsafe { if x % 2 == 0 { _mm512_unpacklo_ps(a, b) } else { _mm512_unpackhi_ps(a, b) } }
    });
    // Round 2: quarter `L` of register 4g + q holds column 4L + q of rows 4g..4g + 4.
    let u: [__m512; LANES] = std::array::from_fn(|x| {
        let (group, q) = (x / 4 * 4, x % 4);
        let (a, b) = (t[group + q / 2], t[group + 2 + q / 2]);
        unsafe {
            if q % 2 == 0 {
                _mm512_shuffle_ps::<0x44>(a, b)
            } else {
                _mm512_shuffle_ps::<0xee>(a, b)
            }
        }
    });
    // Rounds 3 and 4: the quarters of the four groups' registers gathered, for each column.
    let v: [__m512; LANES] = std::array::from_fn(|x| {
        let (q, half, odd) = (x % 4, x / 8, x / 4 % 2);
        let (a, b) = (u[8 * half + q], u[8 * half + 4 + q]);
        unsafe {
            if odd == 0 {
                _mm512_shuffle_f32x4::<0x88>(a, b)
            } else {
                _mm512_shuffle_f32x4::<0xdd>(a, b)
            }
        }
    });
    std::array::from_fn(|c| {
        let (quarter, q) = (c / 4, c % 4);
        let (a, b) = (v[4 * (quarter % 2) + q], v[8 + 4 * (quarter % 2) + q]);
        unsafe {
            if quarter < 2 {
                _mm512_shuffle_f32x4::<0x88>(a, b)
            } else {
                _mm512_shuffle_f32x4::<0xdd>(a, b)
            }
        }
    })
}
// ANCHOR_END: transpose

#[cfg(test)]
mod tests {
    use super::super::portable_products as portable;
    use super::products;

    /// Values of every magnitude and both signs, zeros of both signs among them.
    fn value(seed: usize) -> f32 {
        let x = (seed.wrapping_mul(2_654_435_761) % 10_007) as f32 / 1000.0 - 5.0;
        if seed.is_multiple_of(11) { 0.0 * x.signum() } else { x * x * x }
    }

    fn same_bits<const R: usize, const W: usize>(lanes: usize, depth: usize) {
        let left = |lane: usize, q: usize| std::array::from_fn(|r| value((lane * 97 + q) * 31 + r));
        let right =
            |lane: usize, q: usize| std::array::from_fn(|w| value((lane * 89 + q) * 57 + w));
        let shape = (lanes, depth);
        let (fast, slow) =
            (products::<R, W>(shape, left, right), portable::<R, W>(shape, left, right));
        for (r, (fast, slow)) in fast.iter().zip(&slow).enumerate() {
            for (w, (x, y)) in fast.iter().zip(slow).enumerate() {
                assert_eq!(
                    x.to_bits(),
                    y.to_bits(),
                    "{R}x{W}, {lanes} lanes of depth {depth}: sum ({r}, {w})"
                );
            }
        }
    }

    #[test]
    fn the_vector_loop_gives_the_portable_loops_bits() {
        for (lanes, depth) in [(1, 0), (1, 1), (1, 3), (1, 64), (1, 257), (8, 0), (8, 4), (8, 5)] {
            same_bits::<8, 32>(lanes, depth);
            same_bits::<8, 16>(lanes, depth);
            same_bits::<4, 32>(lanes, depth);
            same_bits::<1, 16>(lanes, depth);
        }
    }
}
