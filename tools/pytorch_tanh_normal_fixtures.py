"""Recording the tanh-transformed Normal into tests/data/tanh_normal.txt for tests/tanh_normal.rs.

The distribution: z ~ N(mu, sigma^2), action a = scale * tanh(z). What it records:

* `torch.*`: the log-probability of actions from
  `TransformedDistribution(Normal(mu, sigma), [TanhTransform(), AffineTransform(0, scale)])`,
  with its gradients with respect to mu, sigma and z, on a grid of (mu, sigma, z) with
  |z| <= 6 and scale 2. PyTorch is given the action computed from z in float64 and inverts
  it with atanh; for |z| <= 6, 1 - |tanh z| >= 1.2e-5 and the round trip loses at most
  about 5e-12 of z (the script checks every point against mpmath: within 1e-9, relative
  above 1 and absolute below).
* `mpmath.*`: the same for |z| from 9 to 100, where float64's tanh(z) is within 2e-8 of 1
  (and is exactly 1 from |z| = 19.1): PyTorch's atanh cannot recover z there, so the
  reference is mpmath at 40 digits, log N(z) - log scale - log sech^2(z), its gradients by
  mpmath's numerical differentiation.
* `batch.*`: a [5, 3] batch at scale 0.5 (the sum over action dimensions), with the gradient
  of sum(w * log_prob) with respect to mu and sigma, from PyTorch.
* `entropy.*`: E[log(1 - tanh^2 z)] for z ~ N(mu, sigma^2) over mu from -20 to 1000 and
  sigma from 1e-4 to 1000, by mpmath.quad at 30 digits (the integral split where
  mu + sigma*eps crosses 0); its derivatives -2 E[tanh z] (in mu) and -2 sigma E[sech^2 z] (in
  sigma, Stein's lemma), by the same quadrature; the entropy at scale 2,
  H = 1/2 + log(2 pi)/2 + log sigma + log 2 + E[...]. (TransformedDistribution has no entropy:
  there is no closed form.) The derivative formulas are checked against mpmath.diff.
* `hermgauss.n{N}.*`: numpy.polynomial.hermite.hermgauss nodes and weights, for the crate's
  own Gauss-Hermite rule.

Every input is a float32 value (as the crate stores it); references are computed from it in
float64 (PyTorch) or with mpmath.

Run by hand, from the repository root (needs PyTorch, NumPy and mpmath, CPU only):

    python3 tools/pytorch_tanh_normal_fixtures.py

The versions used are written into the file's header. `cargo test` never runs Python.
"""

import os
import sys

import mpmath as mp
import numpy as np
import torch
from torch.distributions import AffineTransform, Normal, TanhTransform, TransformedDistribution

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import write_fixture  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
SCALE = 2.0


def f32(values):
    return np.asarray(values, dtype=np.float32)


def torch_log_prob(mu, sigma, z, scale):
    """PyTorch's log-probability of a = scale * tanh(z), and its gradients in mu, sigma, z."""
    leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (mu, sigma, z)]
    mu_t, sigma_t, z_t = leaves
    action = scale * torch.tanh(z_t)
    dist = TransformedDistribution(
        Normal(mu_t, sigma_t), [TanhTransform(), AffineTransform(0.0, scale)]
    )
    log_prob = dist.log_prob(action)
    # Each element depends only on its own (mu, sigma, z): the gradient of the sum is the
    # elementwise derivative.
    log_prob.sum().backward()
    return log_prob.detach().numpy(), [leaf.grad.numpy() for leaf in leaves]


def exact_log_prob(mu, sigma, z, scale):
    u = (z - mu) / sigma
    log_normal = -u * u / 2 - mp.log(sigma) - mp.log(2 * mp.pi) / 2
    return log_normal - mp.log(scale) - mp.log(mp.sech(z) ** 2)


def exact_log_prob_and_grads(mu, sigma, z, scale):
    mp.mp.dps = 40
    values, grads = [], [[], [], []]
    for m, s, x in zip(mu, sigma, z):
        point = [mp.mpf(float(v)) for v in (m, s, x)]
        values.append(exact_log_prob(*point, scale))
        for i in range(3):
            def along(t, i=i):
                moved = list(point)
                moved[i] = t
                return exact_log_prob(*moved, scale)

            grads[i].append(mp.diff(along, point[i]))
    as_f64 = lambda v: np.array(v, dtype=np.float64)  # noqa: E731
    return as_f64(values), [as_f64(g) for g in grads]


def log_prob_grids(arrays):
    means = [-2.0, 0.0, 0.7, 3.0]
    stds = [1e-3, 0.1, 0.5, 1.0, 3.0]
    small_z = [-6.0, -3.0, -1.0, -0.2, 0.0, 0.5, 2.0, 4.0, 6.0]
    large_z = [-100.0, -40.0, -15.0, -9.0, 9.0, 15.0, 40.0, 100.0]
    worst = 0.0
    for name, zs in [("torch", small_z), ("mpmath", large_z)]:
        grid = f32([(m, s, z) for m in means for s in stds for z in zs])
        mu, sigma, z = grid[:, 0], grid[:, 1], grid[:, 2]
        exact, exact_grads = exact_log_prob_and_grads(mu, sigma, z, SCALE)
        if name == "torch":
            value, grads = torch_log_prob(mu, sigma, z, SCALE)
            for got, want in zip([value] + grads, [exact] + exact_grads):
                # Relative, and absolute below 1 (where a derivative crosses 0).
                error = np.max(np.abs(got - want) / np.maximum(np.abs(want), 1.0))
                assert error < 1e-9, f"PyTorch and mpmath differ by {error:.1e}"
                worst = max(worst, error)
        else:
            value, grads = exact, exact_grads
        arrays[f"{name}.mean"] = mu
        arrays[f"{name}.std"] = sigma
        arrays[f"{name}.z"] = z
        arrays[f"{name}.log_prob"] = value
        for suffix, grad in zip(["dmean", "dstd", "dz"], grads):
            arrays[f"{name}.dlog_prob_{suffix}"] = grad
    return worst


def batch(arrays):
    rng = np.random.default_rng(21)
    shape = (5, 3)
    mu, sigma = f32(rng.uniform(-2, 2, shape)), f32(np.exp(rng.uniform(-3, 1, shape)))
    z = f32(mu + sigma * rng.normal(size=shape))
    weights = f32(rng.normal(size=5))
    leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (mu, sigma)]
    dist = TransformedDistribution(
        Normal(*leaves), [TanhTransform(), AffineTransform(0.0, 0.5)]
    )
    log_prob = dist.log_prob(0.5 * torch.tanh(torch.tensor(z, dtype=torch.float64))).sum(-1)
    loss = (torch.tensor(weights, dtype=torch.float64) * log_prob).sum()
    loss.backward()
    arrays["batch.mean"] = mu
    arrays["batch.std"] = sigma
    arrays["batch.z"] = z
    arrays["batch.weights"] = weights
    arrays["batch.log_prob"] = log_prob.detach().numpy()
    arrays["batch.grad_mean"] = leaves[0].grad.numpy()
    arrays["batch.grad_std"] = leaves[1].grad.numpy()


def gaussian_expectation(g, mu, sigma):
    """E[g(mu + sigma*eps)], eps ~ N(0, 1), split where the argument crosses 0 and one and
    three units either side (where log sech^2 bends)."""
    points = {mp.mpf(0)}
    for d in [0, -3, -1, 1, 3]:
        points.add((d - mu) / sigma)
    points = [-mp.inf] + sorted(points) + [mp.inf]
    return mp.quad(lambda e: mp.npdf(e) * g(mu + sigma * e), points)


def log_sech2(x):
    return mp.log(mp.sech(x) ** 2)


def entropy_grid(arrays):
    mp.mp.dps = 30
    means = [0.0, 0.5, 1.0, 2.0, 5.0, 7.1, 7.5, 10.0, 20.0, -20.0, 100.0, 1000.0]
    # At sigma = 0.2, 0.4, 0.6 the crate changes rules, at 1.2 and |mu| = 6 sigma forms: the
    # grid holds points just below each edge, where a rule's error is largest (as float32,
    # 0.2 itself is above the edge).
    stds = [1e-4, 1e-3, 1e-2, 0.1, 0.199, 0.3, 0.399, 0.5, 0.599, 1.0, 1.19, 1.2, 1.25, 1.3]
    stds += [1.5]
    stds += [2.0, 3.0, 5.0, 10.0]
    stds += [100.0, 1000.0]
    grid = f32([(m, s) for m in means for s in stds])
    values, d_mean, d_std = [], [], []
    for m32, s32 in grid:
        m, s = mp.mpf(float(m32)), mp.mpf(float(s32))
        values.append(gaussian_expectation(log_sech2, m, s))
        d_mean.append(-2 * gaussian_expectation(mp.tanh, m, s))
        d_std.append(-2 * s * gaussian_expectation(lambda x: mp.sech(x) ** 2, m, s))
    # Differentiation under the integral and Stein's lemma, checked numerically.
    for i in [7, 30, 55, 80]:
        m, s = [mp.mpf(float(v)) for v in grid[i]]
        numeric_mean = mp.diff(lambda t: gaussian_expectation(log_sech2, t, s), m)
        numeric_std = mp.diff(lambda t: gaussian_expectation(log_sech2, m, t), s)
        assert abs(numeric_mean - d_mean[i]) < 1e-12 * max(1, abs(d_mean[i])), i
        assert abs(numeric_std - d_std[i]) < 1e-12 * max(1, abs(d_std[i])), i
    values = np.array(values, dtype=np.float64)
    sigma = grid[:, 1].astype(np.float64)
    arrays["entropy.mean"] = grid[:, 0]
    arrays["entropy.std"] = grid[:, 1]
    arrays["entropy.expected_log_det"] = values
    arrays["entropy.dexpected_log_det_dmean"] = np.array(d_mean, dtype=np.float64)
    arrays["entropy.dexpected_log_det_dstd"] = np.array(d_std, dtype=np.float64)
    normal_entropy = 0.5 + 0.5 * np.log(2 * np.pi) + np.log(sigma)
    arrays["entropy.entropy"] = normal_entropy + np.log(SCALE) + values
    arrays["entropy.dentropy_dmean"] = np.array(d_mean, dtype=np.float64)
    arrays["entropy.dentropy_dstd"] = 1.0 / sigma + np.array(d_std, dtype=np.float64)


def hermgauss(arrays):
    for n in [1, 2, 3, 5, 10, 20, 32, 64, 100, 128]:
        nodes, weights = np.polynomial.hermite.hermgauss(n)
        arrays[f"hermgauss.n{n}.nodes"] = nodes
        arrays[f"hermgauss.n{n}.weights"] = weights


if __name__ == "__main__":
    torch.set_num_threads(1)
    arrays = {}
    worst = log_prob_grids(arrays)
    batch(arrays)
    entropy_grid(arrays)
    hermgauss(arrays)
    header = (
        "the tanh-transformed Normal: PyTorch's TransformedDistribution(Normal, [TanhTransform,\n"
        "AffineTransform]) log_prob and gradients, mpmath where PyTorch cannot invert tanh,\n"
        "the entropy's expectation by mpmath.quad, numpy's hermgauss (see\n"
        "tools/pytorch_tanh_normal_fixtures.py)\n"
        f"recorded with torch {torch.__version__}, numpy {np.__version__}, "
        f"mpmath {mp.__version__}, python {sys.version.split()[0]}\n"
        "inputs are float32 values; references computed from them in float64 or with mpmath\n"
        f"PyTorch's largest difference from mpmath on the torch grid (relative above 1): {worst:.1e}"
    )
    write_fixture(os.path.join(DATA, "tanh_normal.txt"), arrays, header)
    print(f"PyTorch vs mpmath on the torch grid: {worst:.1e}")
