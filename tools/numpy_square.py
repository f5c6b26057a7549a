"""How often NumPy's scalar `x**2` differs from `x * x`, at the pendulum's reward terms: the
wrapped angle and the speed (`float64`) and the clipped torque (`float32`). Chapter 6 quotes
the rate; it is why `src/pendulum.rs` squares with `x * x`. A measuring tool, not a dependency
of the crate (`pip install numpy`).

    python3 tools/numpy_square.py

`x * x` is correctly rounded. NumPy's scalar `x**2` goes through the C library's `pow` (and
`powf` for `float32`), which is not always. Arguments are uniform over each term's range,
from a fixed seed.
"""

import numpy as np

DRAWS = 200_000
TERMS = [
    ("angle  θ_n in [-π, π]", np.float64, -np.pi, np.pi),
    ("speed  θ̇ in [-8, 8]", np.float64, -8.0, 8.0),
    ("torque u in [-2, 2]", np.float32, -2.0, 2.0),
]


def main():
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}, {DRAWS} arguments per term")
    for name, dtype, low, high in TERMS:
        xs = rng.uniform(low, high, DRAWS).astype(dtype)
        differ = sum(1 for x in xs if x**2 != x * x)
        per_thousand = 1000 * differ / DRAWS
        print(f"{name} ({np.dtype(dtype).name}): x**2 != x*x for {differ} ({per_thousand:.2f} per thousand)")


if __name__ == "__main__":
    main()
