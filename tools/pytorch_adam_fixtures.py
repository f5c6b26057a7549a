"""Recording torch.optim.Adam and torch.nn.utils.clip_grad_norm_ into tests/data/adam.txt
for tests/adam.rs.

The fixed problem: a small tanh network (3 inputs, 6 hidden units, 2 outputs) fits 32
regression targets by squared error (summed over the two outputs, averaged over the batch),
in float32 on the CPU. Its parameters are five tensors of different shapes:

    w1 [3, 6]   b1 [6]   w2 [6, 2]   b2 [2]   small [3, 2]

where `small` enters the output scaled by 1e-4, so its gradients are about 1e-5: the size at
which Adam's epsilon stops being negligible when it is 1e-5 (the `custom` run).

Three runs of 50 steps each, all from the same initial parameters:

* `plain`:   torch.optim.Adam with its defaults (betas 0.9, 0.999, eps 1e-8), no clipping;
* `clipped`: the same, with clip_grad_norm_(max_norm=0.5) before every step. The gradient
             norm starts above 0.5, falls below it for 13 steps and then hovers just above
             it, so clipping is active on 37 steps and not on the other 13;
* `custom`:  betas (0.8, 0.99) and eps 1e-5, no clipping.

Every run changes the learning rate between steps, as a schedule would: 0.02 for 20 steps,
then a linear decay to 0.002 (every value is a float32 number, so that Rust's f32 learning
rate and PyTorch's Python float are the same number).

Recorded per run R and parameter P (arrays of 50 steps, step index first):

    init.P            the initial parameters (shared by the runs)
    R.betas, R.eps    the hyperparameters
    R.lr              the learning rate used at each step
    R.P.grad          the gradient autograd computed at each step, before clipping
    R.P.param         the parameters after each step
    clipped.max_norm  the clipping threshold
    clipped.norm      the total norm clip_grad_norm_ returned at each step
    clipped.P.clipped the gradients after clipping, as Adam received them

Rust replays the recorded gradients (not its own: the crate has no network yet in this
chapter), so the comparison isolates the optimizer and the clipping.

Run by hand, from the repository root:

    python3 tools/pytorch_adam_fixtures.py

Recorded with PyTorch 2.15.0 (CPU) and NumPy 2.4.6; the versions actually used are written
into the file's header.
"""

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import write_fixture  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
STEPS = 50
MAX_NORM = 0.5
NAMES = ["w1", "b1", "w2", "b2", "small"]


def f32(x):
    """The float32 number nearest to x, as a Python float."""
    return float(np.float32(x))


def learning_rate(step):
    """0.02 for steps 0..19, then linear decay to 0.002 at step 49."""
    if step < 20:
        return f32(0.02)
    return f32(0.02 + (0.002 - 0.02) * (step - 20) / (STEPS - 1 - 20))


def problem():
    """Inputs, targets and initial parameters, all float32, from a fixed seed."""
    gen = torch.Generator().manual_seed(2024)
    x = torch.randn(32, 3, generator=gen)
    target = torch.stack(
        [
            2.5 * torch.sin(x @ torch.tensor([1.0, -2.0, 0.5])),
            2.0 * torch.tanh(x[:, 0] * x[:, 1]),
        ],
        dim=1,
    )
    init = {
        "w1": torch.randn(3, 6, generator=gen) * 0.5,
        "b1": torch.randn(6, generator=gen) * 0.1,
        "w2": torch.randn(6, 2, generator=gen) * 0.5,
        "b2": torch.randn(2, generator=gen) * 0.1,
        "small": torch.randn(3, 2, generator=gen),
    }
    return x, target, init


def loss_fn(params, x, target):
    hidden = torch.tanh(x @ params["w1"] + params["b1"])
    out = hidden @ params["w2"] + params["b2"] + 1e-4 * (x @ params["small"])
    return ((out - target) ** 2).sum(dim=1).mean()


def run(name, x, target, init, betas, eps, max_norm):
    params = {n: torch.nn.Parameter(init[n].clone()) for n in NAMES}
    ordered = [params[n] for n in NAMES]
    opt = torch.optim.Adam(ordered, lr=learning_rate(0), betas=betas, eps=eps)
    record = {n: {"grad": [], "clipped": [], "param": []} for n in NAMES}
    norms, lrs = [], []
    for step in range(STEPS):
        for group in opt.param_groups:
            group["lr"] = learning_rate(step)
        lrs.append(learning_rate(step))
        opt.zero_grad()
        loss_fn(params, x, target).backward()
        for n in NAMES:
            record[n]["grad"].append(params[n].grad.detach().clone())
        if max_norm is not None:
            norms.append(torch.nn.utils.clip_grad_norm_(ordered, max_norm).item())
            for n in NAMES:
                record[n]["clipped"].append(params[n].grad.detach().clone())
        opt.step()
        for n in NAMES:
            record[n]["param"].append(params[n].detach().clone())

    arrays = {
        f"{name}.betas": list(betas),
        f"{name}.eps": [eps],
        f"{name}.lr": lrs,
    }
    if max_norm is not None:
        arrays[f"{name}.max_norm"] = [max_norm]
        arrays[f"{name}.norm"] = norms
        active = sum(n > max_norm for n in norms)
        print(f"{name}: clipping active on {active} of {STEPS} steps")
    for n in NAMES:
        arrays[f"{name}.{n}.grad"] = torch.stack(record[n]["grad"]).numpy()
        if max_norm is not None:
            arrays[f"{name}.{n}.clipped"] = torch.stack(record[n]["clipped"]).numpy()
        arrays[f"{name}.{n}.param"] = torch.stack(record[n]["param"]).numpy()
    return arrays


def main():
    torch.set_num_threads(1)
    x, target, init = problem()
    arrays = {f"init.{n}": init[n].numpy() for n in NAMES}
    arrays.update(run("plain", x, target, init, (0.9, 0.999), 1e-8, None))
    arrays.update(run("clipped", x, target, init, (0.9, 0.999), 1e-8, MAX_NORM))
    arrays.update(run("custom", x, target, init, (0.8, 0.99), 1e-5, None))
    header = (
        "torch.optim.Adam and torch.nn.utils.clip_grad_norm_ on a fixed problem, 50 steps\n"
        f"recorded by tools/pytorch_adam_fixtures.py with torch {torch.__version__}, "
        f"numpy {np.__version__}, python {sys.version.split()[0]}\n"
        "all tensors are float32 values; arrays of steps have the step index first"
    )
    path = os.path.join(DATA, "adam.txt")
    write_fixture(path, arrays, header)
    print(f"wrote {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
