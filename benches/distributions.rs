//! What each distribution costs PPO, through the `Distribution` trait the trainer uses:
//!
//! - *learning*: a minibatch of 64 on the tape, the log-probability and the entropy recorded
//!   (with `log_prob_and_entropy_on_tape`, as the trainer does) and both differentiated (one
//!   `backward` of their sum), as in one actor step; and the same with the entropy weighted
//!   by 0, as with the presets' entropy bonus of 0. For the Categorical, whose joint operation
//!   shares the softmax, also as two operations (`log_prob_on_tape`, `entropy_on_tape`);
//! - *acting*: one sample and its log-probability, as in one environment step.
//!
//! The tanh-Normal is measured at σ = 0.5 (its entropy's quadrature works in z) and at σ = 3
//! (it works in frequency). `cargo bench --bench distributions`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ppo::Tensor;
use ppo::autodiff::Tape;
use ppo::distributions::categorical::Categorical;
use ppo::distributions::normal::Normal;
use ppo::distributions::tanh_normal::TanhNormal;
use ppo::distributions::{Distribution, Randomness};
use rand::SeedableRng;
use rand::rngs::StdRng;

const BATCH: usize = 64;

struct Case {
    name: &'static str,
    distribution: Box<dyn Distribution>,
    /// The parameters, each `[BATCH, width]`.
    params: Vec<Tensor>,
}

fn cases(rng: &mut StdRng) -> Vec<Case> {
    let mean = Tensor::randn(&[BATCH, 1], rng);
    let std = |value: f32| Tensor::filled(&[BATCH, 1], value);
    let logits = |k: usize, rng: &mut StdRng| Tensor::randn(&[BATCH, k], rng);
    vec![
        Case {
            name: "normal",
            distribution: Box::new(Normal { dims: 1 }),
            params: vec![mean.clone(), std(0.5)],
        },
        Case {
            name: "tanh-normal, σ 0.5",
            distribution: Box::new(TanhNormal { dims: 1, scale: 2.0 }),
            params: vec![mean.clone(), std(0.5)],
        },
        Case {
            name: "tanh-normal, σ 3",
            distribution: Box::new(TanhNormal { dims: 1, scale: 2.0 }),
            params: vec![mean, std(3.0)],
        },
        Case {
            name: "categorical, 2",
            distribution: Box::new(Categorical { choices: 2 }),
            params: vec![logits(2, rng)],
        },
        Case {
            name: "categorical, 10",
            distribution: Box::new(Categorical { choices: 10 }),
            params: vec![logits(10, rng)],
        },
    ]
}

fn distributions(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0);
    let cases = cases(&mut rng);
    let mut group = c.benchmark_group("distributions");
    for case in &cases {
        let d = case.distribution.as_ref();
        let width = d.sample_width();
        let mut samples = Tensor::zeros(&[BATCH, width]);
        for b in 0..BATCH {
            let rows: Vec<&[f32]> = case.params.iter().map(|p| p.row(b)).collect();
            d.sample(&rows, &mut rng, &mut samples.data_mut()[b * width..(b + 1) * width]);
        }
        let mut tape = Tape::new();
        // The loss weighs the entropy by 1, or by 0 as the presets' entropy bonus does.
        let bonuses = [(1.0, ""), (0.0, ", no entropy bonus")];
        let forms: &[_] = if case.name.starts_with("categorical") {
            &[(true, ""), (false, ", two operations")]
        } else {
            &[(true, "")]
        };
        for (bonus, label) in bonuses {
            for &(joint, form) in forms {
                let name = format!("learning, {}, batch {BATCH}{label}{form}", case.name);
                group.bench_function(name, |bench| {
                    bench.iter(|| {
                        tape.clear();
                        let params: Vec<_> = case.params.iter().map(|p| tape.param(p)).collect();
                        let sample = tape.constant(&samples);
                        let (log_prob, entropy) = if joint {
                            d.log_prob_and_entropy_on_tape(&mut tape, &params, sample)
                        } else {
                            let log_prob = d.log_prob_on_tape(&mut tape, &params, sample);
                            (log_prob, d.entropy_on_tape(&mut tape, &params))
                        };
                        let a = tape.sum(log_prob);
                        let b = tape.sum(entropy);
                        let b = tape.mul_scalar(b, bonus);
                        let loss = tape.add(a, b);
                        tape.backward(loss);
                        black_box(tape.grad(params[0]).data()[0])
                    })
                });
            }
        }
        let rows: Vec<&[f32]> = case.params.iter().map(|p| p.row(0)).collect();
        let mut sample = vec![0.0; width];
        let rng: &mut dyn Randomness = &mut rng;
        group.bench_function(format!("acting, {}", case.name), |bench| {
            bench.iter(|| {
                d.sample(black_box(&rows), rng, &mut sample);
                black_box(d.log_prob(&rows, &sample))
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = distributions
}
criterion_main!(benches);
