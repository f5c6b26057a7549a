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

/// Lanes of one AVX-512 register of `f32`.
const LANES: usize = 16;

// The six instructions used, each behind a safe function. SAFETY (of all four): this
// module is compiled only when the whole build enables AVX-512 (the `cfg` on `mod avx512`),
// so the instructions exist wherever the build's code may run at all; the loads and the
// store take a whole array of sixteen floats, so they stay inside it.
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
