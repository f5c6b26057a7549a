//! The three product forms side by side, as ratios: how fast `Aᵀ·B` and `A·Bᵀ` run relative
//! to `A·B` on the same shape, measured in one process with the forms interleaved.
//!
//! `cargo bench --bench tensor` measures each form on its own for two seconds. On a virtual
//! machine whose host lends it cores unevenly, two seconds of one form and the next two of
//! another can differ by half from the host's doing alone (chapter 14, seventh round). Here
//! every round times each form once, back to back, so that the host's slow spells fall on
//! all of them; the ratio of each round is kept, and the report gives each form's fastest
//! round in GFLOP/s and the median of its ratios to `A·B`.
//!
//! `cargo bench --bench kernel_ratios [-- ROUNDS]` (400 rounds unless told).

mod products;

use ppo::tensor::Write;
use products::{FORMS, SHAPES};
use std::hint::black_box;
use std::time::Instant;

/// Operations each timed sample does, at least: about 20 µs of work, short enough that a
/// round of three forms is rarely split by the host's scheduling.
const SAMPLE_FLOP: f64 = 2e6;

fn main() {
    // `cargo bench` passes `--bench` to every target; a number among the arguments is ours.
    let rounds = std::env::args().skip(1).find_map(|arg| arg.parse().ok()).unwrap_or(400);
    println!("{rounds} interleaved rounds; per form: fastest round, median ratio to A·B");
    for (m, k, n) in SHAPES {
        // Values in [−1, 1) with no pattern the kernels could exploit.
        let values = |len: usize, step: usize| -> Vec<f32> {
            (0..len).map(|i| ((i * step) % 1000) as f32 / 500.0 - 1.0).collect()
        };
        let (a, b) = (values(m * k, 7919), values(k * n, 104_729));
        let mut c = vec![0.0f32; m * n];
        let flop = 2.0 * (m * k * n) as f64;
        let calls = ((SAMPLE_FLOP / flop) as usize).max(1);
        let mut fastest = [f64::INFINITY; 3];
        let mut ratios: [Vec<f64>; 3] = Default::default();
        for _ in 0..rounds {
            let mut seconds = [0.0; 3];
            for (form, (_, kernel)) in FORMS.iter().enumerate() {
                let start = Instant::now();
                for _ in 0..calls {
                    kernel(m, k, n, black_box(&a), black_box(&b), &mut c, Write::Add);
                }
                seconds[form] = start.elapsed().as_secs_f64() / calls as f64;
                fastest[form] = fastest[form].min(seconds[form]);
            }
            for (form, ratio) in ratios.iter_mut().enumerate() {
                ratio.push(seconds[0] / seconds[form]);
            }
        }
        let mut line = format!("{:<16}", format!("{m}x{k}·{k}x{n}"));
        for (form, (name, _)) in FORMS.iter().enumerate() {
            ratios[form].sort_by(f64::total_cmp);
            let median = ratios[form][rounds / 2];
            let gflops = flop / fastest[form] / 1e9;
            line += &format!("  {name} {gflops:6.1} GFLOP/s ×{median:.2}");
        }
        println!("{line}");
    }
}
