//! What the two product benches (`tensor` and `kernel_ratios`) share: the shapes and the
//! three forms.

use ppo::tensor::{Write, gemm_nn, gemm_nt, gemm_tn};

/// (m, k, n): a batch of 64 through each layer of a 3→64→64→2 network (the `seed` preset's
/// minibatch), the `default` preset's minibatch of 256 through a hidden layer, a whole
/// 2048-step rollout through one, and a minibatch of 32,768 through the 32-wide hidden layer
/// of the 1024-agent CartPole configuration.
pub const SHAPES: [(usize, usize, usize); 6] =
    [(64, 3, 64), (64, 64, 64), (64, 64, 2), (256, 64, 64), (2048, 64, 64), (32768, 32, 32)];

pub type Kernel = fn(usize, usize, usize, &[f32], &[f32], &mut [f32], Write);

/// The three forms of the product, named as the benches print them. Every form multiplies
/// an m×k by a k×n; only the storage of the operands differs.
pub const FORMS: [(&str, Kernel); 3] = [("A·B", gemm_nn), ("Aᵀ·B", gemm_tn), ("A·Bᵀ", gemm_nt)];
