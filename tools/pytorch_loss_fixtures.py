"""Recording the gradient of PPO's full actor loss with PyTorch, for tests/pytorch_loss.rs.

What it records (`tests/data/ppo_loss.txt`), for two actors (the JAX/Flax Pendulum
write-up's softplus-sigma actor with one action dimension, and a state-independent clamped log-sigma actor with two)
with given weights, a batch of 64 observations, actions, old log-probabilities and
advantages:

    ratio     = exp(log pi(a|s) - log pi_old(a|s))
    surrogate = -mean(min(ratio * A, clamp(ratio, 1 - eps, 1 + eps) * A))
    loss      = surrogate - alpha * mean(entropy)          eps = 0.2, alpha = 0.01

the parameters, the ratios, the loss and its gradient with respect to every parameter. The old
log-probabilities are the current ones shifted by amounts that put every ratio either well
inside [0.8, 1.2] or well outside it (never within 0.03 of an edge), so float32 rounding
cannot move a sample across the clip boundary and the comparison measures arithmetic only.

As in tools/pytorch_fixtures.py, inputs are float32 values and references are computed from
them in float64; weights and their gradients are written in the crate's [in, out] layout.

Run by hand, from the repository root (needs PyTorch and NumPy, CPU only):

    python3 tools/pytorch_loss_fixtures.py

`cargo test` never runs Python.
"""

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import write_fixture  # noqa: E402
from pytorch_fixtures import (  # noqa: E402
    DATA,
    as_f32_then_f64,
    make_actor,
    observations,
    record_grads,
    record_params,
)

CLIP_EPSILON = 0.2
ENTROPY_COEF = 0.01
BATCH = 64


def ratio_shifts(rng, count):
    """log-ratio shifts well inside (|s| <= 0.12) or well outside (|s| >= 0.3) the clip range
    [ln 0.8, ln 1.2] = [-0.223, 0.182]."""
    inside = rng.uniform(-0.12, 0.12, count)
    outside = rng.choice([-1.0, 1.0], count) * rng.uniform(0.3, 0.6, count)
    return np.where(rng.random(count) < 0.5, inside, outside)


def actor_loss_case(arrays, net, action_size, std_kind, seed):
    params, forward = make_actor([64, 64], torch.relu, action_size, std_kind, seed, [-0.4, 0.2])
    record_params(arrays, net, params)

    obs = observations(BATCH, seed + 2)
    mean, std = forward(obs)
    dist = torch.distributions.Normal(mean, std)

    rng = np.random.default_rng(seed + 3)
    actions = as_f32_then_f64(rng.normal(mean.detach().numpy(), std.detach().numpy()))
    log_prob = dist.log_prob(actions).sum(-1)
    old_log_prob = as_f32_then_f64(log_prob.detach().numpy() - ratio_shifts(rng, BATCH))
    advantages = as_f32_then_f64(rng.normal(0.0, 1.0, BATCH))

    ratio = torch.exp(log_prob - old_log_prob)
    clipped = torch.clamp(ratio, 1.0 - CLIP_EPSILON, 1.0 + CLIP_EPSILON)
    surrogate = -torch.min(ratio * advantages, clipped * advantages).mean()
    entropy = dist.entropy().sum(-1).mean()
    loss = surrogate - ENTROPY_COEF * entropy
    loss.backward()

    arrays[f"{net}.obs"] = obs.numpy()
    arrays[f"{net}.action"] = actions.numpy()
    arrays[f"{net}.old_log_prob"] = old_log_prob.numpy()
    arrays[f"{net}.advantages"] = advantages.numpy()
    arrays[f"{net}.ratio"] = ratio.detach().numpy()
    arrays[f"{net}.surrogate"] = surrogate.detach().numpy()
    arrays[f"{net}.entropy"] = entropy.detach().numpy()
    arrays[f"{net}.loss"] = loss.detach().numpy()
    record_grads(arrays, net, params)


def header(what):
    return (
        f"{what}\n"
        f"recorded by tools/pytorch_loss_fixtures.py with torch {torch.__version__}, "
        f"numpy {np.__version__}, python {sys.version.split()[0]}\n"
        "inputs are float32 values; references computed from them in float64"
    )


def main():
    arrays = {"clip_epsilon": CLIP_EPSILON, "entropy_coef": ENTROPY_COEF}
    actor_loss_case(arrays, "softplus", 1, "softplus", seed=60)
    actor_loss_case(arrays, "logstd", 2, "logstd", seed=70)
    write_fixture(
        os.path.join(DATA, "ppo_loss.txt"),
        arrays,
        header("PPO actor loss (clipped surrogate + entropy bonus) and its parameter gradients"),
    )


if __name__ == "__main__":
    main()
