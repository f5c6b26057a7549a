"""Reference values for the bounded distributions, tests/truncated_normal.rs and tests/beta.rs.

What it records:

* `tests/data/truncated_normal.txt`: the Normal N(mu, sigma^2) truncated to [low, high], on a
  grid of float32 (mu, sigma, a) for two boxes, [-2, 2] and [-1, 3]. The mean runs from 1e6
  below the box to 1e6 above it (both bounds deep in one tail, on either side), sigma from
  1e-9 to 1e9, the action sits at the bounds, 1e-6 inside them and in between. For each
  point: `scipy.stats.truncnorm`'s logpdf and entropy, and the same two computed with mpmath
  at 160 digits (`log_prob`, `entropy`), with their derivatives with respect to mu, sigma and
  a by central differences at 160 digits (steps 1e-40 and 1e-36 relative, which must agree
  to 1e-25: the entropy of a distribution 1e15 standard deviations into a tail cancels about
  60 digits). Also, for a few boxes, the exact quantile a(u) of the inverse-CDF
  sampler for given uniforms u (bisection at 160 digits), and the mean, variance and fourth
  central moment (from the moment recursion of the truncated normal) for the sampling test.
* `tests/data/beta.txt`: `torch.distributions.Beta` composed with `AffineTransform(low,
  high - low)` in float64: log_prob of the action a = low + (high - low) x with its autograd
  derivatives with respect to alpha, beta and a, and the entropy plus log(high - low) with
  its derivatives. alpha and beta run from 1 + 1e-7 to 1e6 (and 0.5), x from the smallest
  normal float32 to 1 - 2^-24 on [0, 1], and through the exactly representable points of
  [-2, 2] (where a + 2 = 4x is exact, so that the transform's inverse is exact in float64).
  The script checks every value and derivative against mpmath at 40 digits and prints the
  largest disagreement; a [5, 3] batch with a weighted loss checks the sum over dimensions.

    python3 tools/pytorch_bounded_fixtures.py
"""

import math
import os
import sys

import mpmath as mp
import numpy as np
import scipy
import scipy.stats
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import write_fixture  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")


def f32(values):
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def versions():
    return (
        f"torch {torch.__version__}, scipy {scipy.__version__}, mpmath {mp.__version__}, "
        f"numpy {np.__version__}, python {sys.version.split()[0]}"
    )


# --- the truncated normal at 160 digits ---------------------------------------------------


def tn_mass(alpha, beta):
    """Z = Phi(beta) - Phi(alpha), from the side where nothing cancels."""
    r2 = mp.sqrt(2)
    if beta <= 0:
        return (mp.erfc(-beta / r2) - mp.erfc(-alpha / r2)) / 2
    if alpha >= 0:
        return (mp.erfc(alpha / r2) - mp.erfc(beta / r2)) / 2
    return (mp.erf(beta / r2) - mp.erf(alpha / r2)) / 2


def tn_log_prob(mu, sigma, a, lo, hi):
    alpha, beta, z = (lo - mu) / sigma, (hi - mu) / sigma, (a - mu) / sigma
    return -z * z / 2 - mp.log(sigma) - mp.log(2 * mp.pi) / 2 - mp.log(tn_mass(alpha, beta))


def tn_entropy(mu, sigma, lo, hi):
    alpha, beta = (lo - mu) / sigma, (hi - mu) / sigma
    z = tn_mass(alpha, beta)
    phi = lambda x: mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)  # noqa: E731
    return mp.log(mp.sqrt(2 * mp.pi * mp.e) * sigma * z) + (alpha * phi(alpha) - beta * phi(beta)) / (2 * z)


def central_difference(f, args, i):
    """df/dx_i by central differences with two steps, 1e-40 and 1e-36 relative: with 160
    digits (of which the deepest tails lose about 60 to cancellation) both are accurate to
    far beyond float64, and the script checks that they agree to 1e-25."""
    x = args[i]

    def with_step(exponent):
        h = (abs(x) if x != 0 else mp.mpf(1)) * mp.mpf(10) ** -exponent
        up, down = list(args), list(args)
        up[i], down[i] = x + h, x - h
        return (f(*up) - f(*down)) / (2 * h)

    fine, coarse = with_step(40), with_step(36)
    assert abs(fine - coarse) <= mp.mpf(10) ** -25 * max(abs(fine), 1 / args[1]), (args, i, fine, coarse)
    return fine


def tn_moments(mu, sigma, lo, hi):
    """Mean, variance and fourth central moment of the action, from the recursion
    m_k = (k-1) m_{k-2} - (beta^{k-1} phi(beta) - alpha^{k-1} phi(alpha))/Z of the standardized
    truncated normal."""
    alpha, beta = (lo - mu) / sigma, (hi - mu) / sigma
    z = tn_mass(alpha, beta)
    phi = lambda x: mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)  # noqa: E731
    m = [mp.mpf(1), -(phi(beta) - phi(alpha)) / z]
    for k in range(2, 5):
        m.append((k - 1) * m[k - 2] - (beta ** (k - 1) * phi(beta) - alpha ** (k - 1) * phi(alpha)) / z)
    m1 = m[1]
    var = m[2] - m1 * m1
    c4 = m[4] - 4 * m[3] * m1 + 6 * m[2] * m1**2 - 3 * m1**4
    return mu + sigma * m1, sigma**2 * var, sigma**4 * c4


def tn_quantile(mu, sigma, lo, hi, u):
    """The action a with Phi((a - mu)/sigma) = Phi(alpha) + u Z, by bisection on the CDF
    measured from the side where it is small."""
    alpha, beta = (lo - mu) / sigma, (hi - mu) / sigma
    total = tn_mass(alpha, beta)
    left, right = alpha, beta
    for _ in range(400):
        middle = (left + right) / 2
        if tn_mass(alpha, middle) < u * total:
            left = middle
        else:
            right = middle
    return mu + sigma * (left + right) / 2


def truncated_normal():
    mp.mp.dps = 160
    arrays = {}
    boxes = [(-2.0, 2.0), (-1.0, 3.0)]
    sigmas = [1e-9, 1e-4, 0.01, 0.3, 1.0, 4.0, 1e3, 1e9]
    for box, (lo, hi) in enumerate(boxes):
        means = [-1e6, -1e5, -1e4, -60.0, lo - 3.0, lo - 0.01, lo, lo + 1e-3, 0.5 * (lo + hi) + 0.1]
        means += [hi - 1e-3, hi, hi + 0.01, hi + 3.0, 60.0, 1e4, 1e5, 1e6]
        actions = [lo, lo + 1e-6, lo + 0.3 * (hi - lo), 0.5 * (lo + hi) - 0.05, hi - 1e-6, hi]
        grid = f32([(m, s, a) for m in means for s in sigmas for a in actions])
        rows = {k: [] for k in ["log_prob", "log_prob_scipy", "dmean", "dstd", "daction"]}
        for m, s, a in grid:
            args = [mp.mpf(m), mp.mpf(s), mp.mpf(a)]
            f = lambda m, s, a: tn_log_prob(m, s, a, mp.mpf(lo), mp.mpf(hi))  # noqa: E731
            rows["log_prob"].append(float(f(*args)))
            for i, name in enumerate(["dmean", "dstd", "daction"]):
                rows[name].append(float(central_difference(f, args, i)))
            alpha, beta = (lo - m) / s, (hi - m) / s
            rows["log_prob_scipy"].append(float(scipy.stats.truncnorm.logpdf(a, alpha, beta, loc=m, scale=s)))
        prefix = f"box{box}"
        arrays[f"{prefix}.bounds"] = [lo, hi]
        arrays[f"{prefix}.mean"], arrays[f"{prefix}.std"], arrays[f"{prefix}.action"] = grid.T
        for name, values in rows.items():
            arrays[f"{prefix}.{name}"] = values

        params = f32([(m, s) for m in means for s in sigmas])
        rows = {k: [] for k in ["entropy", "entropy_scipy", "dentropy_dmean", "dentropy_dstd"]}
        for m, s in params:
            args = [mp.mpf(m), mp.mpf(s)]
            f = lambda m, s: tn_entropy(m, s, mp.mpf(lo), mp.mpf(hi))  # noqa: E731
            rows["entropy"].append(float(f(*args)))
            rows["dentropy_dmean"].append(float(central_difference(f, args, 0)))
            rows["dentropy_dstd"].append(float(central_difference(f, args, 1)))
            alpha, beta = (lo - m) / s, (hi - m) / s
            rows["entropy_scipy"].append(float(scipy.stats.truncnorm.entropy(alpha, beta, loc=m, scale=s)))
        arrays[f"{prefix}.params_mean"], arrays[f"{prefix}.params_std"] = params.T
        for name, values in rows.items():
            arrays[f"{prefix}.{name}"] = values
        report(arrays, prefix)

    # The sampler: exact quantiles, and moments for the statistical test, on [-2, 2].
    cases = f32(
        [(0.3, 1.0), (2.5, 0.5), (7.0, 0.1), (-1e3, 1.0), (0.0, 1e3), (1.9, 0.01), (1e6, 1e-9), (-5.0, 1e-3)]
    )
    uniforms = [0.0, 2.0**-40, 0.1, 0.5, 0.9, 1.0 - 2.0**-53]
    quantiles, moments = [], []
    for m, s in cases:
        args = (mp.mpf(m), mp.mpf(s), mp.mpf(-2), mp.mpf(2))
        quantiles.append([float(tn_quantile(*args, mp.mpf(u))) for u in uniforms])
        moments.append([float(v) for v in tn_moments(*args)])
    arrays["sampler.cases"] = cases
    arrays["sampler.uniforms"] = uniforms
    arrays["sampler.quantiles"] = quantiles
    arrays["sampler.moments"] = moments
    header = (
        "the truncated normal: scipy.stats.truncnorm logpdf and entropy; mpmath (160 digits) values,\n"
        "derivatives by central differences, sampler quantiles and moments\n"
        f"recorded by tools/pytorch_bounded_fixtures.py with {versions()}\n"
        "inputs are float32 values; references computed from them"
    )
    write_fixture(os.path.join(DATA, "truncated_normal.txt"), arrays, header)


def report(arrays, prefix):
    for exact, other in [("log_prob", "log_prob_scipy"), ("entropy", "entropy_scipy")]:
        e, o = np.array(arrays[f"{prefix}.{exact}"]), np.array(arrays[f"{prefix}.{other}"])
        finite = np.isfinite(o)
        rel = np.abs(o[finite] - e[finite]) / np.maximum(np.abs(e[finite]), 1e-300)
        print(
            f"{prefix} {exact}: SciPy finite at {finite.sum()}/{len(e)} points, "
            f"largest relative error where finite {rel.max():.2e}"
        )


# --- the Beta -------------------------------------------------------------------------------


def beta_torch(alpha, beta, x, lo, hi):
    """log_prob of a = lo + (hi - lo) x and the entropy plus log(hi - lo), with autograd
    derivatives, all float64."""
    alpha = torch.tensor(alpha, dtype=torch.float64, requires_grad=True)
    beta = torch.tensor(beta, dtype=torch.float64, requires_grad=True)
    action = torch.tensor(lo + (hi - lo) * np.asarray(x), dtype=torch.float64, requires_grad=True)
    base = torch.distributions.Beta(alpha, beta, validate_args=True)
    transform = torch.distributions.AffineTransform(lo, hi - lo)
    dist = torch.distributions.TransformedDistribution(base, [transform], validate_args=False)
    log_prob = dist.log_prob(action)
    log_prob.sum().backward()
    out = dict(
        action=action.detach().numpy(),
        log_prob=log_prob.detach().numpy(),
        dalpha=alpha.grad.numpy().copy(),
        dbeta=beta.grad.numpy().copy(),
        daction=action.grad.numpy().copy(),
    )
    alpha.grad, beta.grad = None, None
    entropy = base.entropy() + math.log(hi - lo)
    entropy.sum().backward()
    out.update(entropy=entropy.detach().numpy(), dentropy_dalpha=alpha.grad.numpy(), dentropy_dbeta=beta.grad.numpy())
    return out


def beta_mpmath(alpha, beta, x, lo, hi):
    a, b, x = mp.mpf(alpha), mp.mpf(beta), mp.mpf(x)
    w = mp.mpf(hi) - mp.mpf(lo)
    log_b = mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)
    psi = lambda v: mp.digamma(v)  # noqa: E731
    tri = lambda v: mp.psi(1, v)  # noqa: E731
    return dict(
        log_prob=(a - 1) * mp.log(x) + (b - 1) * mp.log1p(-x) - log_b - mp.log(w),
        dalpha=mp.log(x) - psi(a) + psi(a + b),
        dbeta=mp.log1p(-x) - psi(b) + psi(a + b),
        daction=((a - 1) / x - (b - 1) / (1 - x)) / w,
        entropy=log_b - (a - 1) * psi(a) - (b - 1) * psi(b) + (a + b - 2) * psi(a + b) + mp.log(w),
        dentropy_dalpha=-(a - 1) * tri(a) + (a + b - 2) * tri(a + b),
        dentropy_dbeta=-(b - 1) * tri(b) + (a + b - 2) * tri(a + b),
    )


def beta():
    mp.mp.dps = 40
    arrays = {}
    concentrations = [0.5, 1.0 + 1e-7, 1.001, 1.5, 2.0, 7.5, 40.0, 1e3, 1e6]
    boxes = [
        (0.0, 1.0, [np.finfo(np.float32).tiny, 1e-30, 1e-7, 1e-3, 0.2, 0.5, 0.9, 1 - 1e-3, 1 - 2.0**-20, 1 - 2.0**-24]),
        (-2.0, 2.0, [2.0**-27, 1e-5, 0.3, 0.5, 0.85, 1 - 1e-5, 1 - 2.0**-24]),
    ]
    for box, (lo, hi, xs) in enumerate(boxes):
        grid = f32([(a, b, x) for a in concentrations for b in concentrations for x in xs])
        alpha, beta_, x = grid.T
        if lo != 0.0:
            assert np.all((lo + (hi - lo) * x - lo) / (hi - lo) == x), "the affine map is not exact"
        ref = beta_torch(alpha, beta_, x, lo, hi)
        prefix = f"box{box}"
        arrays[f"{prefix}.bounds"] = [lo, hi]
        arrays[f"{prefix}.alpha"], arrays[f"{prefix}.beta"], arrays[f"{prefix}.x"] = alpha, beta_, x
        for name, values in ref.items():
            arrays[f"{prefix}.{name}"] = values
        exact = [beta_mpmath(a, b, v, lo, hi) for a, b, v in grid]
        for name in exact[0]:
            e = np.array([float(row[name]) for row in exact])
            scale = np.maximum(np.abs(e), 1e-300)
            rel = np.abs(ref[name] - e) / scale
            print(f"beta {prefix} {name:16s}: torch vs mpmath largest relative error {rel.max():.2e}")

    # A batch: the sum over three action dimensions and a weighted loss, on [-2, 2].
    rng = np.random.default_rng(11)
    shape = (5, 3)
    alpha = f32(1.0 + np.exp(rng.uniform(-3, 4, shape)))
    beta_ = f32(1.0 + np.exp(rng.uniform(-3, 4, shape)))
    x = f32(rng.uniform(0.02, 0.98, shape))
    x = np.round(x * 2.0**20) / 2.0**20  # exactly representable after the affine map
    a_t = torch.tensor(alpha, dtype=torch.float64, requires_grad=True)
    b_t = torch.tensor(beta_, dtype=torch.float64, requires_grad=True)
    act = torch.tensor(-2.0 + 4.0 * x, dtype=torch.float64, requires_grad=True)
    base = torch.distributions.Beta(a_t, b_t)
    dist = torch.distributions.TransformedDistribution(base, [torch.distributions.AffineTransform(-2.0, 4.0)])
    log_prob = dist.log_prob(act).sum(-1)
    entropy = (base.entropy() + math.log(4.0)).sum(-1)
    w_lp = torch.tensor(f32(rng.normal(size=5)), dtype=torch.float64)
    w_h = torch.tensor(f32(rng.normal(size=5)), dtype=torch.float64)
    loss = (w_lp * log_prob).sum() + (w_h * entropy).sum()
    loss.backward()
    for name, value in [
        ("alpha", alpha),
        ("beta", beta_),
        ("x", x),
        ("weights_log_prob", w_lp.numpy()),
        ("weights_entropy", w_h.numpy()),
        ("log_prob", log_prob.detach().numpy()),
        ("entropy", entropy.detach().numpy()),
        ("loss", loss.detach().numpy()),
        ("grad_alpha", a_t.grad.numpy()),
        ("grad_beta", b_t.grad.numpy()),
        ("grad_action", act.grad.numpy()),
    ]:
        arrays[f"batch.{name}"] = value
    header = (
        "torch.distributions.Beta with AffineTransform(low, high - low): log_prob of the action,\n"
        "entropy + log(high - low), autograd derivatives (float64; checked against mpmath)\n"
        f"recorded by tools/pytorch_bounded_fixtures.py with {versions()}\n"
        "inputs are float32 values; x is the stored sample, a = low + (high - low) x"
    )
    write_fixture(os.path.join(DATA, "beta.txt"), arrays, header)


if __name__ == "__main__":
    torch.set_num_threads(1)
    beta()
    truncated_normal()
