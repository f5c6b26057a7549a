"""The machine's tuned single-thread rate for float32 matrix products: NumPy's matmul (OpenBLAS's
sgemm on the book's machine) at the shapes of `benches/tensor.rs`, in GFLOP/s. Chapters 1 and 14
measure the crate's kernels against these numbers (the roofline). A measuring tool, not a
dependency of the crate (`pip install numpy`).

    OPENBLAS_NUM_THREADS=1 python3 tools/peers/numpy_sgemm.py

Each shape is timed as criterion times the crate's kernels: many products into a preallocated
output, the median over 31 samples of the time per product. The thread count is pinned to one
here too, before NumPy loads, so the variable above is a second guard, not a requirement.
"""

import os

for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

# (m, k, n): A is m×k, B is k×n, as in benches/tensor.rs.
SHAPES = [(64, 3, 64), (64, 64, 64), (64, 64, 2), (256, 64, 64), (2048, 64, 64), (32768, 32, 32)]
SAMPLES = 31
TARGET_SECONDS = 0.02  # per sample


def per_product_seconds(a, b, out):
    """The median time of one product, over SAMPLES samples of enough products each."""
    repeats = 1
    while True:
        start = time.perf_counter()
        for _ in range(repeats):
            np.matmul(a, b, out=out)
        if time.perf_counter() - start >= TARGET_SECONDS:
            break
        repeats *= 2
    samples = []
    for _ in range(SAMPLES):
        start = time.perf_counter()
        for _ in range(repeats):
            np.matmul(a, b, out=out)
        samples.append((time.perf_counter() - start) / repeats)
    return statistics.median(samples)


def main():
    rng = np.random.default_rng(0)
    config = np.show_config(mode="dicts") if hasattr(np, "show_config") else None
    blas = (config or {}).get("Build Dependencies", {}).get("blas", {}).get("name", "unknown")
    print(f"NumPy {np.__version__}, BLAS {blas}, one thread")
    print(f"{'shape (m×k·k×n)':<22}{'FLOP':>12}{'time':>12}{'GFLOP/s':>10}")
    for m, k, n in SHAPES:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        out = np.empty((m, n), dtype=np.float32)
        flop = 2 * m * k * n
        seconds = per_product_seconds(a, b, out)
        shown = f"{seconds * 1e6:.2f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.3f} ms"
        print(f"{f'{m}×{k}·{k}×{n}':<22}{flop:>12,}{shown:>12}{flop / seconds / 1e9:>10.1f}")


if __name__ == "__main__":
    main()
