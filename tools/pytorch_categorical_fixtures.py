"""Recording torch.distributions.Categorical into tests/data/categorical.txt for tests/categorical.rs.

What it records, for 2, 3, 5 and 10 choices (arrays prefixed `k2.`, `k3.`, `k5.`, `k10.`):

* a grid of logit rows: ordinary ones (standard normal, and five times wider), all logits
  equal, near-deterministic rows (one logit 30 or 1e4 above the rest, first and last),
  rows whose logits are all near -1e4 or near +100 (a naive softmax overflows or
  underflows there), rows mixing +1e4, -1e4 and 0, one choice at -1e4 among zeros, and two
  tied largest logits;
* every (row, choice) pair as one batch row: `logits` [n, k] and `choice` [n];
* from PyTorch (float64 autograd on the float32 inputs): `log_prob`, its gradient with
  respect to the logits `dlog_prob` [n, k], `entropy` and its gradient `dentropy` [n, k];
* the same four from mpmath at 50 significant digits (`exact_*`), the values from the
  definition and the gradients by mpmath's own numerical differentiation: the yardstick for
  the crate's precision where PyTorch's float64 rounds (1 - p for p within 1e-13 of 1 is
  computed by PyTorch as a difference of two numbers near 1).

and `batch.*`: a [6, 4] batch, with the gradient of sum(w * log_prob) + sum(v * entropy).

Every input is a float32 value (as the crate stores it), and every reference is computed
from it in float64 (PyTorch) or at 50 digits (mpmath).

Run by hand, from the repository root (needs PyTorch, NumPy and mpmath, CPU only):

    python3 tools/pytorch_categorical_fixtures.py

The versions used are written into the file's header. `cargo test` never runs Python.
"""

import os
import sys

import mpmath as mp
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import write_fixture  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
mp.mp.dps = 50


def rows_for(k, rng):
    """The grid of logit rows for k choices, rounded to float32."""
    rows = [rng.normal(size=k) for _ in range(3)]
    rows += [5.0 * rng.normal(size=k) for _ in range(2)]
    rows.append(np.full(k, 0.7))
    for gap in [30.0, 1e4]:
        for position in [0, k - 1]:
            row = rng.normal(size=k)
            row[position] = row.max() + gap
            rows.append(row)
    rows.append(-1e4 + rng.normal(size=k))
    rows.append(100.0 + rng.normal(size=k))
    mixed = np.zeros(k)
    mixed[0], mixed[-1] = 1e4, -1e4
    if k > 2:
        mixed[1] = -1e4
    rows.append(mixed)
    rows.append(np.where(np.arange(k) == k // 2, -1e4, 0.0))
    tied = rng.normal(size=k) - 3.0
    tied[0] = tied[-1] = 1.5
    rows.append(tied)
    return np.array(rows, dtype=np.float32)


def torch_reference(logits, choice):
    leaf = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    log_prob = torch.distributions.Categorical(logits=leaf).log_prob(torch.tensor(choice))
    # Each row depends only on its own logits: the gradient of the sum is row by row.
    log_prob.sum().backward()
    dlog_prob = leaf.grad.numpy().copy()
    leaf = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    entropy = torch.distributions.Categorical(logits=leaf).entropy()
    entropy.sum().backward()
    return log_prob.detach().numpy(), dlog_prob, entropy.detach().numpy(), leaf.grad.numpy()


def exact_log_prob(row, a):
    return row[a] - mp.log(mp.fsum(mp.exp(v) for v in row))


def exact_entropy(row):
    lse = mp.log(mp.fsum(mp.exp(v) for v in row))
    return -mp.fsum(mp.exp(v - lse) * (v - lse) for v in row)


def partials(f, row):
    """The gradient of f at row, by mpmath's numerical differentiation."""
    out = []
    for j in range(len(row)):
        g = lambda t, j=j: f([t if i == j else v for i, v in enumerate(row)])  # noqa: E731
        out.append(mp.diff(g, row[j]))
    return out


def exact_reference(logits, choice):
    log_prob, dlog_prob, entropy, dentropy = [], [], [], []
    for row32, a in zip(logits, choice):
        row = [mp.mpf(float(v)) for v in row32]
        log_prob.append(exact_log_prob(row, int(a)))
        dlog_prob.append(partials(lambda r, a=int(a): exact_log_prob(r, a), row))
        entropy.append(exact_entropy(row))
        dentropy.append(partials(exact_entropy, row))
    as_f64 = lambda values: np.array(values, dtype=np.float64)  # noqa: E731
    return [as_f64(v) for v in (log_prob, dlog_prob, entropy, dentropy)]


def grid(arrays):
    rng = np.random.default_rng(11)
    worst = {}
    for k in [2, 3, 5, 10]:
        rows = rows_for(k, rng)
        logits = np.repeat(rows, k, axis=0)
        choice = np.tile(np.arange(k), len(rows))
        reference = torch_reference(logits, choice)
        exact = exact_reference(logits, choice)
        arrays[f"k{k}.logits"] = logits
        arrays[f"k{k}.choice"] = choice
        names = ["log_prob", "dlog_prob", "entropy", "dentropy"]
        for name, torch_value, exact_value in zip(names, reference, exact):
            arrays[f"k{k}.{name}"] = torch_value
            arrays[f"k{k}.exact_{name}"] = exact_value
            # Relative where the exact value is above 1e-30; below (0 for the entropy's gradient
            # at equal logits), the largest absolute difference.
            zero = np.abs(exact_value) < 1e-30
            difference = np.abs(torch_value - exact_value)
            relative = np.max(difference[~zero] / np.abs(exact_value[~zero]))
            absolute = np.max(difference[zero], initial=0.0)
            old = worst.get(name, (0.0, 0.0))
            worst[name] = (max(old[0], relative), max(old[1], absolute))
    return worst


def batch(arrays):
    rng = np.random.default_rng(12)
    logits = (3.0 * rng.normal(size=(6, 4))).astype(np.float32)
    logits[4, 2] += 40.0
    choice = np.array([0, 3, 1, 2, 2, 1])
    weights_log_prob = rng.normal(size=6).astype(np.float32)
    weights_entropy = rng.normal(size=6).astype(np.float32)
    leaf = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    dist = torch.distributions.Categorical(logits=leaf)
    log_prob, entropy = dist.log_prob(torch.tensor(choice)), dist.entropy()
    w = torch.tensor(weights_log_prob, dtype=torch.float64)
    v = torch.tensor(weights_entropy, dtype=torch.float64)
    loss = (w * log_prob).sum() + (v * entropy).sum()
    loss.backward()
    arrays["batch.logits"] = logits
    arrays["batch.choice"] = choice
    arrays["batch.weights_log_prob"] = weights_log_prob
    arrays["batch.weights_entropy"] = weights_entropy
    arrays["batch.log_prob"] = log_prob.detach().numpy()
    arrays["batch.entropy"] = entropy.detach().numpy()
    arrays["batch.loss"] = loss.detach().numpy()
    arrays["batch.grad_logits"] = leaf.grad.numpy()


if __name__ == "__main__":
    torch.set_num_threads(1)
    arrays = {}
    worst = grid(arrays)
    batch(arrays)
    summary = ", ".join(
        f"{name} {rel:.1e}" + (f" (absolute {abs_:.1e} where it is below 1e-30)" if abs_ > 0 else "")
        for name, (rel, abs_) in worst.items()
    )
    header = (
        "torch.distributions.Categorical log_prob and entropy with their gradients, and exact\n"
        "values from mpmath (see tools/pytorch_categorical_fixtures.py)\n"
        f"recorded with torch {torch.__version__}, numpy {np.__version__}, "
        f"mpmath {mp.__version__}, python {sys.version.split()[0]}\n"
        "inputs are float32 values; references computed from them in float64 and at 50 digits\n"
        f"PyTorch's largest relative error against mpmath: {summary}"
    )
    write_fixture(os.path.join(DATA, "categorical.txt"), arrays, header)
    print(summary)
