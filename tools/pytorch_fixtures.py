"""Recording PyTorch reference values into tests/data/ for tests/nn.rs and tests/normal.rs.

What it records:

* `tests/data/nn_pytorch.txt`: actors and critics with given weights (drawn by PyTorch's own
  `nn.Linear` initialization, seeded, in float32), evaluated on a batch of 8 pendulum
  observations; for each network its parameters, its outputs, a scalar loss and the gradient
  of that loss with respect to every parameter.
    - `actor_softplus`: the JAX/Flax Pendulum write-up's actor, 3 -> 64 -> 64 (ReLU) -> mu = 2 tanh(.),
      sigma = softplus(.) + 1e-5, one action dimension.
    - `actor_logstd`: the same trunk, two action dimensions, a state-independent log-sigma
      vector clamped to [-20, 2], one of whose entries (2.5) lies beyond the clamp, so that
      its gradient is 0.
    - `actor_tanh`: 3 -> 16 -> 8 (tanh), two action dimensions, softplus sigma.
    - `critic`: 3 -> 64 -> 64 (ReLU) -> 1; `critic_tanh`: 3 -> 16 -> 8 (tanh) -> 1.
  Actor loss: mean over the batch of log pi(a|s) (summed over action dimensions) plus 0.5 times
  the mean entropy, for given actions a, some far outside [-2, 2]. Critic loss: mean of
  (V(s) - R)^2 for given returns R.
* `tests/data/normal.txt`: `torch.distributions.Normal` log-probability and entropy, and their
  derivatives, on a grid of (mu, sigma, a) including sigma = 1e-5, |a - mu| up to 100, and
  points where the log-density crosses 0 (two large terms cancelling); and a
  batch of shape [5, 3] for the sum over action dimensions, with the gradient of a weighted
  sum of log-probabilities and entropies.

Every input is a float32 value (as the crate stores it), and every reference is computed from
those inputs in float64, so the fixtures hold the exact answer to float64 precision and the
tests measure the crate's own error. PyTorch stores an `nn.Linear` weight as [out, in]; the
crate stores [in, out], so weights and their gradients are written transposed.

Run by hand, from the repository root (needs PyTorch and NumPy, CPU only):

    python3 tools/pytorch_fixtures.py

The versions used are written into each file's header. `cargo test` never runs Python.
"""

import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import write_fixture  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
MIN_STD = 1e-5
ACTION_SCALE = 2.0


def header(what):
    return (
        f"{what}\n"
        f"recorded by tools/pytorch_fixtures.py with torch {torch.__version__}, "
        f"numpy {np.__version__}, python {sys.version.split()[0]}\n"
        "inputs are float32 values; references computed from them in float64"
    )


def as_f32_then_f64(values):
    """Round to float32 (what the crate holds), then compute in float64."""
    return torch.tensor(np.asarray(values, dtype=np.float32), dtype=torch.float64)


def make_layers(sizes, seed):
    """nn.Linear layers with PyTorch's default initialization, drawn in float32, held in float64."""
    torch.manual_seed(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layer = torch.nn.Linear(fan_in, fan_out, dtype=torch.float32)
        layers.append(layer.to(torch.float64))
    return layers


def trunk_forward(layers, activation, x):
    for layer in layers:
        x = activation(layer(x))
    return x


def linear_params(prefix, layer):
    # The crate's layout: weight [in, out].
    return [(f"{prefix}.weight", layer.weight, True), (f"{prefix}.bias", layer.bias, False)]


def observations(batch, seed):
    rng = np.random.default_rng(seed)
    theta = rng.uniform(-np.pi, np.pi, batch)
    theta_dot = rng.uniform(-8.0, 8.0, batch)
    return as_f32_then_f64(np.stack([np.cos(theta), np.sin(theta), theta_dot], axis=1))


def record_params(arrays, net, params):
    for name, tensor, transpose in params:
        value = tensor.detach().numpy()
        arrays[f"{net}.param.{name}"] = value.T if transpose else value


def record_grads(arrays, net, params):
    for name, tensor, transpose in params:
        grad = tensor.grad.detach().numpy()
        arrays[f"{net}.grad.{name}"] = grad.T if transpose else grad


def make_actor(hidden, activation, action_size, std_kind, seed, log_std_init):
    """The crate's actor in PyTorch: a trunk, a 2·tanh mean head, and either a softplus σ head
    or a state-independent log-σ vector (clamped to [-20, 2]) starting at `log_std_init`.
    Returns the parameters in the crate's order and a function from observations to (μ, σ)."""
    sizes = [3] + hidden
    layers = make_layers(sizes + [action_size], seed)
    trunk, mean_head = layers[:-1], layers[-1]
    torch.manual_seed(seed + 1)
    params = []
    for i, layer in enumerate(trunk):
        params += linear_params(f"trunk.{i}", layer)
    params += linear_params("mean", mean_head)
    if std_kind == "softplus":
        std_head = torch.nn.Linear(sizes[-1], action_size, dtype=torch.float32).to(torch.float64)
        params += linear_params("std", std_head)
    else:
        log_std = torch.nn.Parameter(as_f32_then_f64(log_std_init[:action_size]))
        params.append(("log_std", log_std, False))

    def forward(obs):
        h = trunk_forward(trunk, activation, obs)
        mean = ACTION_SCALE * torch.tanh(mean_head(h))
        if std_kind == "softplus":
            std = F.softplus(std_head(h)) + MIN_STD
        else:
            std = torch.exp(torch.clamp(log_std, -20.0, 2.0)).expand_as(mean)
        return mean, std

    return params, forward


def actor_case(arrays, net, hidden, activation, action_size, std_kind, seed):
    # log-σ: one entry inside the clamp range, one beyond its upper end (gradient 0 there).
    params, forward = make_actor(hidden, activation, action_size, std_kind, seed, [0.3, 2.5])
    record_params(arrays, net, params)

    obs = observations(8, seed + 2)
    mean, std = forward(obs)
    rng = np.random.default_rng(seed + 3)
    actions = as_f32_then_f64(rng.uniform(-3.0, 3.0, (8, action_size)))
    dist = torch.distributions.Normal(mean, std)
    log_prob = dist.log_prob(actions).sum(-1)
    entropy = dist.entropy().sum(-1)
    loss = log_prob.mean() + 0.5 * entropy.mean()
    loss.backward()

    arrays[f"{net}.obs"] = obs.numpy()
    arrays[f"{net}.mean"] = mean.detach().numpy()
    arrays[f"{net}.std"] = std.detach().numpy()
    arrays[f"{net}.action"] = actions.numpy()
    arrays[f"{net}.log_prob"] = log_prob.detach().numpy()
    arrays[f"{net}.entropy"] = entropy.detach().numpy()
    arrays[f"{net}.loss"] = loss.detach().numpy()
    record_grads(arrays, net, params)


def critic_case(arrays, net, hidden, activation, seed):
    layers = make_layers([3] + hidden + [1], seed)
    trunk, head = layers[:-1], layers[-1]
    params = []
    for i, layer in enumerate(trunk):
        params += linear_params(f"trunk.{i}", layer)
    params += linear_params("value", head)
    record_params(arrays, net, params)

    obs = observations(8, seed + 2)
    value = head(trunk_forward(trunk, activation, obs)).reshape(-1)
    rng = np.random.default_rng(seed + 3)
    returns = as_f32_then_f64(rng.uniform(-5.0, 1.0, 8))
    loss = ((value - returns) ** 2).mean()
    loss.backward()

    arrays[f"{net}.obs"] = obs.numpy()
    arrays[f"{net}.value"] = value.detach().numpy()
    arrays[f"{net}.returns"] = returns.numpy()
    arrays[f"{net}.loss"] = loss.detach().numpy()
    record_grads(arrays, net, params)


def networks():
    arrays = {}
    actor_case(arrays, "actor_softplus", [64, 64], torch.relu, 1, "softplus", seed=10)
    actor_case(arrays, "actor_logstd", [64, 64], torch.relu, 2, "logstd", seed=20)
    actor_case(arrays, "actor_tanh", [16, 8], torch.tanh, 2, "softplus", seed=30)
    critic_case(arrays, "critic", [64, 64], torch.relu, seed=40)
    critic_case(arrays, "critic_tanh", [16, 8], torch.tanh, seed=50)
    write_fixture(
        os.path.join(DATA, "nn_pytorch.txt"),
        arrays,
        header("actor and critic outputs and parameter gradients (see tools/pytorch_fixtures.py)"),
    )


def normal():
    arrays = {}
    means = [-2.0, -0.3, 0.0, 1.7]
    stds = [1e-5, 1e-3, 0.05, 0.6, 1.0, 3.0, 20.0]
    offsets = [0.0, 1e-5, -3e-4, 0.02, -0.5, 1.0, -2.5, 4.0, -10.0, 100.0]
    points = [(m, s, m + d) for m in means for s in stds for d in offsets]
    # Where the log-density crosses 0: |a - mu| = sigma * sqrt(2 (-ln sigma - ln sqrt(2 pi))).
    # Two large terms cancel there, so the result is tiny and only an accurate computation
    # gets it to 1e-5 relative.
    for s in [1e-5, 1e-3, 0.05, 0.2]:
        d = s * math.sqrt(2.0 * (-math.log(s) - 0.5 * math.log(2.0 * math.pi)))
        points += [(0.3, s, 0.3 + d), (-1.1, s, -1.1 - d)]
    grid = np.array(points, dtype=np.float32)
    mu = torch.tensor(grid[:, 0], dtype=torch.float64, requires_grad=True)
    sigma = torch.tensor(grid[:, 1], dtype=torch.float64, requires_grad=True)
    action = torch.tensor(grid[:, 2], dtype=torch.float64, requires_grad=True)
    dist = torch.distributions.Normal(mu, sigma)
    log_prob = dist.log_prob(action)
    # Each element depends only on its own (mu, sigma, a): the gradient of the sum is the
    # elementwise derivative.
    log_prob.sum().backward()
    arrays["grid.mean"] = grid[:, 0]
    arrays["grid.std"] = grid[:, 1]
    arrays["grid.action"] = grid[:, 2]
    arrays["grid.log_prob"] = log_prob.detach().numpy()
    arrays["grid.dlog_prob_dmean"] = mu.grad.numpy()
    arrays["grid.dlog_prob_dstd"] = sigma.grad.numpy()
    arrays["grid.dlog_prob_daction"] = action.grad.numpy()

    sigma = torch.tensor(grid[:, 1], dtype=torch.float64, requires_grad=True)
    entropy = torch.distributions.Normal(torch.zeros_like(sigma), sigma).entropy()
    entropy.sum().backward()
    arrays["grid.entropy"] = entropy.detach().numpy()
    arrays["grid.dentropy_dstd"] = sigma.grad.numpy()

    # A batch: the sum over action dimensions, and a loss that weighs each row differently.
    rng = np.random.default_rng(5)
    shape = (5, 3)
    mu = torch.tensor(rng.uniform(-2, 2, shape).astype(np.float32), dtype=torch.float64, requires_grad=True)
    sigma = torch.tensor(
        np.exp(rng.uniform(-4, 1, shape)).astype(np.float32), dtype=torch.float64, requires_grad=True
    )
    action = torch.tensor(rng.uniform(-3, 3, shape).astype(np.float32), dtype=torch.float64, requires_grad=True)
    weights_log_prob = as_f32_then_f64(rng.normal(size=5))
    weights_entropy = as_f32_then_f64(rng.normal(size=5))
    dist = torch.distributions.Normal(mu, sigma)
    log_prob = dist.log_prob(action).sum(-1)
    entropy = dist.entropy().sum(-1)
    loss = (weights_log_prob * log_prob).sum() + (weights_entropy * entropy).sum()
    loss.backward()
    arrays["batch.mean"] = mu.detach().numpy()
    arrays["batch.std"] = sigma.detach().numpy()
    arrays["batch.action"] = action.detach().numpy()
    arrays["batch.weights_log_prob"] = weights_log_prob.numpy()
    arrays["batch.weights_entropy"] = weights_entropy.numpy()
    arrays["batch.log_prob"] = log_prob.detach().numpy()
    arrays["batch.entropy"] = entropy.detach().numpy()
    arrays["batch.loss"] = loss.detach().numpy()
    arrays["batch.grad_mean"] = mu.grad.numpy()
    arrays["batch.grad_std"] = sigma.grad.numpy()
    arrays["batch.grad_action"] = action.grad.numpy()
    assert math.isfinite(float(loss.detach()))
    write_fixture(
        os.path.join(DATA, "normal.txt"),
        arrays,
        header("torch.distributions.Normal log_prob and entropy with their derivatives"),
    )


if __name__ == "__main__":
    torch.set_num_threads(1)
    networks()
    normal()
