"""Which float32 arithmetic do PyTorch's Adam kernels perform? The numbers of chapter 4's
"Matching PyTorch's float32 arithmetic".

Each kernel `_single_tensor_adam` calls runs on random float32 elements (100,003 of them, so
that the vectorized loops also have a tail), and its result is compared with NumPy emulations
of the candidate formulas, each operation rounded to float32 where the candidate rounds. The
script prints, per kernel and candidate, how many elements differ in any bit.

Then PyTorch's float32 `sqrt` against the correctly rounded root: over the same random
elements, and over the 2200 second moments of the fixture's `plain` run (tests/data/adam.txt),
replayed through torch.optim.Adam from the recorded gradients.

Run by hand, from the repository root (the crate itself never needs Python):

    python3 tools/adam_kernels.py
"""

import math
import os

import numpy as np
import torch

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
N = 100_003
NAMES = ["w1", "b1", "w2", "b2", "small"]
F32 = np.float32


def fma32(a, b, c):
    """a·b + c with one rounding to float32, elementwise (NumPy has no fma).

    The product of two float32 numbers is exact in float64; the float64 sum s may be
    rounded, but only a sum landing exactly on a float32 midpoint can then round the wrong
    way, and there the exact error of the sum (TwoSum) says which way to go."""
    a, b, c = (np.asarray(x, dtype=F32) for x in (a, b, c))
    p = a.astype(np.float64) * b.astype(np.float64)
    c64 = c.astype(np.float64)
    s = p + c64
    bv = s - p
    err = (p - (s - bv)) + (c64 - bv)
    r = s.astype(F32)
    other = np.nextafter(r, np.where(s > r, F32(np.inf), F32(-np.inf))).astype(F32)
    midpoint = (r.astype(np.float64) + other.astype(np.float64)) / 2 == s
    towards_other = np.sign(err) == np.sign(other.astype(np.float64) - r.astype(np.float64))
    return np.where(midpoint & (err != 0) & towards_other, other, r)


def differ(torch_result, candidate):
    a = torch_result.numpy().view(np.uint32)
    b = np.asarray(candidate, dtype=F32).view(np.uint32)
    return int(np.count_nonzero(a != b))


def correctly_rounded_sqrt(x):
    # A float64 root rounded to float32 is the correctly rounded float32 root
    # (53 >= 2·24 + 2 bits, so the double rounding is harmless).
    return np.sqrt(x.astype(np.float64)).astype(F32)


def kernels():
    gen = torch.Generator().manual_seed(4)
    m = torch.randn(N, generator=gen)
    g = torch.randn(N, generator=gen)
    # Uniform, not a square: the root of a rounded square g·g lies next to the float32
    # number |g|, far from any rounding boundary, and every approximation gets it right.
    v = torch.rand(N, generator=gen)
    p = torch.randn(N, generator=gen)
    mn, gn, vn, pn = m.numpy(), g.numpy(), v.numpy(), p.numpy()
    rows = []

    # exp_avg.lerp_(grad, 1 - beta1), with 1 - beta1 a Python float.
    w = 1 - 0.9
    wf = F32(w)
    out = m.clone().lerp_(g, w)
    lerp = "exp_avg.lerp_(grad, 0.1)"
    rows.append((lerp, "m + round(w(g - m))", differ(out, mn + wf * (gn - mn))))
    rows.append(("", "fma(w, g - m, m)", differ(out, fma32(wf, gn - mn, mn))))
    rows.append(("", "beta1 m + w g (textbook)", differ(out, (F32(1) - wf) * mn + wf * gn)))

    # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2).
    b2, w2 = 0.999, 1 - 0.999
    out = v.clone().mul_(b2).addcmul_(g, g, value=w2)
    vb = vn * F32(b2)
    wg = F32(w2) * gn
    second = "mul_(b2).addcmul_(g, g, value=1-b2)"
    rows.append((second, "v b2 + ((1-b2) g) g, unfused", differ(out, vb + wg * gn)))
    rows.append(("", "fma((1-b2) g, g, v b2)", differ(out, fma32(wg, gn, vb))))

    # exp_avg_sq.sqrt() / bias_correction2_sqrt, a Python float (here at step 10).
    s = math.sqrt(1 - 0.999**10)
    x = torch.sqrt(v)
    out = x / s
    xn = x.numpy()  # the same input as PyTorch's division
    rows.append(("x / bias_correction2_sqrt", "x * round(1/s)", differ(out, xn * F32(1 / s))))
    rows.append(("", "x / s", differ(out, xn / F32(s))))

    # param.addcdiv_(exp_avg, denom, value=-step_size): a step of about 1e-3 of p.
    step = -0.02 / (1 - 0.9**10)
    denom = x / s + 1e-8
    dn = denom.numpy()
    out = p.clone().addcdiv_(m, denom, value=step)
    addcdiv = "param.addcdiv_(m, d, value=s)"
    rows.append((addcdiv, "p + (s m) / d", differ(out, pn + (F32(step) * mn) / dn)))
    rows.append(("", "fma(s, m / d, p)", differ(out, fma32(F32(step), mn / dn, pn))))

    print(f"PyTorch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}")
    print(f"elements that differ in any bit, of {N} random elements:")
    for op, candidate, count in rows:
        print(f"  {op:38} {candidate:32} {count:6}")

    off = differ(torch.sqrt(v), correctly_rounded_sqrt(vn))
    print(f"torch.sqrt, not correctly rounded: {off} of {N} random elements ({100 * off / N:.2f}%)")


def load_fixture(path):
    arrays = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            name, shape, *values = line.split()
            dims = [int(d) for d in shape.split("x")]
            arrays[name] = np.array([float(x) for x in values]).reshape(dims)
    return arrays


def plain_run_denominators():
    """Replays the fixture's `plain` run through torch.optim.Adam and counts the second
    moments whose torch.sqrt is not the correctly rounded root."""
    fx = load_fixture(os.path.join(DATA, "adam.txt"))
    params = [
        torch.nn.Parameter(torch.tensor(fx[f"init.{n}"], dtype=torch.float32)) for n in NAMES
    ]
    lrs = fx["plain.lr"]
    opt = torch.optim.Adam(params, lr=float(lrs[0]))
    off = total = 0
    for t, lr in enumerate(lrs):
        for group in opt.param_groups:
            group["lr"] = float(lr)
        for param, n in zip(params, NAMES):
            param.grad = torch.tensor(fx[f"plain.{n}.grad"][t], dtype=torch.float32)
        # The denominator of this step is the root of the second moment it computes.
        opt.step()
        for param, n in zip(params, NAMES):
            recorded = fx[f"plain.{n}.param"][t].astype(F32)
            same = np.array_equal(param.detach().numpy(), recorded)
            assert same, f"the replay differs from the recording at {n}, step {t}"
            v = opt.state[param]["exp_avg_sq"]
            off += differ(torch.sqrt(v), correctly_rounded_sqrt(v.numpy()))
            total += v.numel()
    print(f"plain run: torch.sqrt not correctly rounded on {off} of {total} denominators")


def main():
    torch.set_num_threads(1)
    kernels()
    plain_run_denominators()


if __name__ == "__main__":
    main()
