//! Chapter 4: Adam, and clipping gradients by their global norm.
//!
//! [`Adam`] turns gradients into parameter updates the way `torch.optim.Adam` does: a running
//! mean of the gradient (`m`) and of its square (`v`) for every parameter, both corrected for
//! starting at zero, and a step of about the learning rate in the direction of `m / √v`.
//! [`clip_grad_norm`] is `torch.nn.utils.clip_grad_norm_`: if all the gradients together,
//! seen as one long vector, are longer than a threshold, scale them down to that length.
//!
//! Parameters and gradients are plain [`Tensor`]s in matching lists, so this chapter needs
//! nothing but chapter 1. The arithmetic follows PyTorch's float32 operations one for one
//! (which value is rounded to `f32` where, which operations are fused), so the two agree to
//! the last bit or two; `tests/adam.rs` checks this against values recorded from PyTorch.
//!
//! ```
//! use ppo::Tensor;
//! use ppo::adam::{Adam, clip_grad_norm};
//!
//! let mut weight = Tensor::from_vec(&[2], vec![1.0, -1.0]);
//! let mut grad = Tensor::from_vec(&[2], vec![3.0, -4.0]);
//! let mut adam = Adam::new(0.01);
//! let norm = clip_grad_norm(&mut [&mut grad], 0.5);
//! assert_eq!(norm, 5.0); // the norm before clipping; grad is now about [0.3, -0.4]
//! adam.step(&mut [&mut weight], &[&grad]);
//! // The first step moves every parameter by the learning rate, against its gradient.
//! assert!((weight.data()[0] - 0.99).abs() < 1e-6 && (weight.data()[1] + 0.99).abs() < 1e-6);
//! ```

use crate::tensor::{Tensor, dot};

/// The optimizer's memory for one parameter tensor: running averages of the gradient and of
/// its elementwise square, each of the parameter's shape. PyTorch calls them `exp_avg` and
/// `exp_avg_sq`.
#[derive(Clone, Debug)]
struct Moments {
    m: Tensor,
    v: Tensor,
}

// ANCHOR: struct
/// The Adam optimizer (Kingma and Ba, 2015), as implemented by `torch.optim.Adam` without
/// weight decay or AMSGrad.
///
/// The optimizer holds the list of moments, one entry per parameter tensor, created on the
/// first [`step`](Adam::step). Every later step must pass tensors of the same shapes in the
/// same order.
#[derive(Clone, Debug)]
pub struct Adam {
    learning_rate: f32,
    // β₁, β₂ are f64 because PyTorch keeps them as Python floats: the bias corrections are
    // computed in double precision from 0.9 and 0.999 themselves, not from their f32 roundings
    // (0.9f32 is 0.89999998, which would move 1 − β₁ by 2.4e-7 relative).
    beta1: f64,
    beta2: f64,
    eps: f32,
    steps: u64,
    moments: Vec<Moments>,
}
// ANCHOR_END: struct

impl Adam {
    /// PyTorch's default betas, `(0.9, 0.999)`.
    pub const DEFAULT_BETAS: (f64, f64) = (0.9, 0.999);
    /// PyTorch's default epsilon, `1e-8`.
    pub const DEFAULT_EPS: f32 = 1e-8;

    /// Adam with the given learning rate and PyTorch's defaults for the rest:
    /// β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    ///
    /// # Panics
    /// If the learning rate is negative or not finite.
    pub fn new(learning_rate: f32) -> Adam {
        Adam::with_betas_eps(learning_rate, Adam::DEFAULT_BETAS, Adam::DEFAULT_EPS)
    }

    /// Adam with every hyperparameter chosen. (CleanRL's PPO, for one, uses `eps = 1e-5`.)
    ///
    /// # Panics
    /// If the learning rate is negative or not finite, a beta is outside `[0, 1)`, or `eps`
    /// is negative or not finite.
    pub fn with_betas_eps(learning_rate: f32, betas: (f64, f64), eps: f32) -> Adam {
        assert_learning_rate(learning_rate);
        let (beta1, beta2) = betas;
        assert!(
            (0.0..1.0).contains(&beta1) && (0.0..1.0).contains(&beta2),
            "Adam: betas must lie in [0, 1), got ({beta1}, {beta2})"
        );
        assert!(eps >= 0.0 && eps.is_finite(), "Adam: eps must be finite and >= 0, got {eps}");
        Adam { learning_rate, beta1, beta2, eps, steps: 0, moments: Vec::new() }
    }

    /// The learning rate the next step will use.
    pub fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    /// Changes the learning rate from the next step on, keeping the moments: this is how a
    /// schedule (linear annealing, say) drives the optimizer.
    ///
    /// # Panics
    /// If the learning rate is negative or not finite.
    pub fn set_learning_rate(&mut self, learning_rate: f32) {
        assert_learning_rate(learning_rate);
        self.learning_rate = learning_rate;
    }

    /// `(β₁, β₂)`.
    pub fn betas(&self) -> (f64, f64) {
        (self.beta1, self.beta2)
    }

    /// ε, added to the bias-corrected `√v` in the denominator.
    pub fn eps(&self) -> f32 {
        self.eps
    }

    /// How many steps have been taken since creation or the last [`reset`](Adam::reset).
    pub fn steps_taken(&self) -> u64 {
        self.steps
    }

    /// The moments `(m, v)` of each parameter tensor, in the order of the parameters given to
    /// [`step`](Adam::step); empty before the first step. PyTorch calls them `exp_avg` and
    /// `exp_avg_sq`.
    pub fn moments(&self) -> impl Iterator<Item = (&Tensor, &Tensor)> {
        self.moments.iter().map(|moments| (&moments.m, &moments.v))
    }

    /// Forgets the moments and the step count, as if newly created with the same
    /// hyperparameters and learning rate; the next step may use different shapes.
    pub fn reset(&mut self) {
        self.steps = 0;
        self.moments.clear();
    }

    // ANCHOR: step
    /// One Adam update of every parameter tensor from its gradient: `params[i]` moves by
    /// its own moments, which are updated from `grads[i]`.
    ///
    /// The moments are created (zero) on the first call. After that, a step allocates
    /// nothing.
    ///
    /// # Panics
    /// If `params` and `grads` differ in length, `params[i]` and `grads[i]` differ in shape,
    /// or the shapes differ from those of the first step (the message names both lists).
    pub fn step(&mut self, params: &mut [&mut Tensor], grads: &[&Tensor]) {
        self.check_shapes(params, grads);
        self.steps += 1;
        let t = self.steps as f64;

        // Scalars in f64, as PyTorch computes them in Python floats; `powf` is the C
        // library's `pow`, the same function Python's `**` calls.
        let bias_correction1 = 1.0 - self.beta1.powf(t);
        let bias_correction2 = 1.0 - self.beta2.powf(t);
        let step_size = f64::from(self.learning_rate) / bias_correction1;
        // PyTorch writes `** 0.5`; C's `pow(x, 0.5)` may differ from `sqrt` in the last bit of
        // an f64, a difference the rounding to f32 below erases except in rare cases.
        let bias_correction2_sqrt = bias_correction2.sqrt();

        // Each scalar is rounded to f32 once, where PyTorch hands it to a float32 kernel.
        let coefficients = Coefficients {
            one_minus_beta1: (1.0 - self.beta1) as f32,
            beta2: self.beta2 as f32,
            one_minus_beta2: (1.0 - self.beta2) as f32,
            bias_correction2_sqrt: bias_correction2_sqrt as f32,
            eps: self.eps,
            neg_step_size: (-step_size) as f32,
        };
        for ((param, grad), moments) in params.iter_mut().zip(grads).zip(&mut self.moments) {
            let Moments { m, v } = moments;
            update(param.data_mut(), grad.data(), m.data_mut(), v.data_mut(), &coefficients);
        }
    }
    // ANCHOR_END: step

    /// Creates the moments on the first step; on later steps checks that the shapes are the
    /// ones the moments were made for.
    fn check_shapes(&mut self, params: &[&mut Tensor], grads: &[&Tensor]) {
        let same_pairs = params.len() == grads.len()
            && params.iter().zip(grads).all(|(p, g)| p.shape() == g.shape());
        assert!(
            same_pairs,
            "Adam::step: parameter shapes {:?} do not match gradient shapes {:?}",
            shapes(params.iter().map(|p| &**p)),
            shapes(grads.iter().copied())
        );
        if self.moments.is_empty() {
            self.moments = params
                .iter()
                .map(|p| Moments { m: Tensor::zeros(p.shape()), v: Tensor::zeros(p.shape()) })
                .collect();
            return;
        }
        let same_as_before = params.len() == self.moments.len()
            && params.iter().zip(&self.moments).all(|(p, s)| p.shape() == s.m.shape());
        assert!(
            same_as_before,
            "Adam::step: parameter shapes {:?} differ from the shapes {:?} of the first step \
             (call reset() to start over with new parameters)",
            shapes(params.iter().map(|p| &**p)),
            shapes(self.moments.iter().map(|s| &s.m))
        );
    }
}

fn assert_learning_rate(learning_rate: f32) {
    assert!(
        learning_rate >= 0.0 && learning_rate.is_finite(),
        "Adam: the learning rate must be finite and >= 0, got {learning_rate}"
    );
}

/// The shapes of a list of tensors, for panic messages.
fn shapes<'a>(tensors: impl Iterator<Item = &'a Tensor>) -> Vec<Vec<usize>> {
    tensors.map(|t| t.shape().to_vec()).collect()
}

/// The per-step constants of the update, each already rounded to f32.
struct Coefficients {
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    bias_correction2_sqrt: f32,
    eps: f32,
    neg_step_size: f32,
}

// ANCHOR: update
/// The elementwise update of one parameter tensor, one pass over four equally long slices.
///
/// Each line is one PyTorch kernel call of `_single_tensor_adam`, with its rounding:
/// `exp_avg.lerp_(grad, 1 - β₁)` computes `m + w·(g − m)` as one fused multiply-add;
/// `exp_avg_sq.mul_(β₂).addcmul_(grad, grad, value=1 - β₂)` rounds `v·β₂` and then fuses
/// `((1 − β₂)·g)·g + v·β₂`; `denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)`
/// divides (it does not multiply by a reciprocal); `param.addcdiv_(exp_avg, denom,
/// value=-step_size)` computes `p + (−step_size·m) / denom` unfused.
///
/// One departure, which changes no parameter: a moment that decays into the subnormal range
/// (below `f32::MIN_POSITIVE`, about 1.2e-38) is set to zero. A unit that a ReLU has switched
/// off receives gradient exactly 0, so its first moment shrinks by β₁ every step and after
/// about 800 steps turns subnormal, where x86 processors compute through a microcode assist
/// a hundred times slower. Keeping such a moment could move its parameter by at most
/// `lr·1.2e-38/ε ≈ 1e-33`, some 25 orders of magnitude below the rounding unit of any
/// parameter the network holds, so the parameters stay bit for bit what they would be.
fn update(param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32], c: &Coefficients) {
    let flush = |x: f32| if x.abs() < f32::MIN_POSITIVE { 0.0 } else { x };
    let moments = m.iter_mut().zip(v.iter_mut());
    for ((p, &g), (m, v)) in param.iter_mut().zip(grad).zip(moments) {
        *m = flush(c.one_minus_beta1.mul_add(g - *m, *m));
        *v = flush((c.one_minus_beta2 * g).mul_add(g, *v * c.beta2));
        let denom = v.sqrt() / c.bias_correction2_sqrt + c.eps;
        *p += (c.neg_step_size * *m) / denom;
    }
}
// ANCHOR_END: update

// ANCHOR: clip
/// Clips gradients by their global norm, as `torch.nn.utils.clip_grad_norm_` does: if the
/// Euclidean norm of all the gradients together (as if concatenated into one vector) exceeds
/// `max_norm`, every gradient is multiplied by `max_norm / (norm + 1e-6)`, so the direction
/// is kept and the norm becomes `max_norm` (less by a relative 1e-6/norm). Returns the norm
/// **before** clipping, which is worth logging: how often it exceeds `max_norm` says how
/// often the clip is doing something.
///
/// A gradient holding ∞ gives a norm of ∞ and a factor of 0 (∞·0 is NaN); one holding NaN
/// gives a NaN norm and makes every gradient NaN. Both are PyTorch's behaviour; a caller
/// that wants to skip such a step checks the returned norm.
pub fn clip_grad_norm(grads: &mut [&mut Tensor], max_norm: f32) -> f32 {
    let total_norm = global_norm(grads.iter().map(|g| &**g));
    // PyTorch writes `max_norm / (total_norm + 1e-6)`; a float divided by a tensor is
    // evaluated as `tensor.reciprocal() * float`, so: reciprocal first, then the product.
    let clip_coef = (1.0 / (total_norm + 1e-6)) * max_norm;
    // Written so that a NaN coefficient is kept, like `torch.clamp(clip_coef, max=1.0)`.
    let clip_coef = if clip_coef > 1.0 { 1.0 } else { clip_coef };
    // PyTorch multiplies even by 1.0 (to avoid a device synchronization); x·1 = x, so we skip.
    if clip_coef != 1.0 {
        for grad in grads.iter_mut() {
            for x in grad.data_mut() {
                *x *= clip_coef;
            }
        }
    }
    total_norm
}

/// The Euclidean norm of several tensors seen as one vector. Like PyTorch, it takes the norm
/// of each tensor and then the norm of those norms; each sum of squares runs with sixteen
/// independent accumulators ([`dot`]).
pub fn global_norm<'a>(tensors: impl IntoIterator<Item = &'a Tensor>) -> f32 {
    let sum_of_squared_norms: f32 = tensors
        .into_iter()
        .map(|t| {
            let norm = dot(t.data(), t.data()).sqrt();
            norm * norm
        })
        .sum();
    sum_of_squared_norms.sqrt()
}
// ANCHOR_END: clip
