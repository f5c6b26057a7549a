"""Recording Gymnasium's running statistics, for tests/normalize.rs.

What it records (`tests/data/normalize.txt`):

* `obs.*`: batches of 3-component float32 observations of varying sizes, spreads and offsets
  (one of them constant, one of a single vector), and after each batch the mean, variance
  and count of Gymnasium's `RunningMeanStd(shape=(3,))` updated with it, and the batch
  normalized as `NormalizeObservation` does, then clipped to +-10 as Stable-Baselines3's
  `VecNormalize` does;
* `reward.*`: 300 steps of 4 environments' rewards and `terminated` flags, and the rewards
  scaled as Gymnasium's `NormalizeReward(gamma=0.97)` scales them, one wrapper per environment
  updating in environment order (the crate keeps one statistic for all environments, updated
  in the same order), then clipped to +-10.

Run by hand, from the repository root (needs Gymnasium and NumPy):

    python3 tools/gymnasium_normalize_fixtures.py

`cargo test` never runs Python.
"""

import os
import sys

import gymnasium
import numpy as np
from gymnasium.wrappers.utils import RunningMeanStd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import write_fixture  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
EPSILON = 1e-8
CLIP = 10.0


def observations(arrays, rng):
    rms = RunningMeanStd(shape=(3,))
    specs = [(5, 1.0, 0.0), (1, 1.0, 3.0), (64, 0.01, -2.0), (8, 100.0, 50.0), (33, 1.0, 0.0)]
    for i, (n, spread, offset) in enumerate(specs):
        batch = (offset + spread * rng.standard_normal((n, 3))).astype(np.float32)
        batch[:, 2] = np.float32(0.5)  # one component that never varies
        rms.update(batch.astype(np.float64))
        normalized = np.float32((batch - rms.mean) / np.sqrt(rms.var + EPSILON))
        arrays[f"obs.batch.{i}"] = batch
        arrays[f"obs.mean.{i}"] = rms.mean
        arrays[f"obs.var.{i}"] = rms.var
        arrays[f"obs.count.{i}"] = np.array([rms.count])
        arrays[f"obs.normalized.{i}"] = np.clip(normalized, -CLIP, CLIP)
    arrays["obs.batches"] = np.array([len(specs)])


def rewards(arrays, rng):
    envs, steps, gamma = 4, 300, 0.97
    rewards = (rng.standard_normal((steps, envs)) * 5 - 1).astype(np.float32)
    rewards[100:110] *= 1000  # a burst that the clip must catch
    terminated = rng.random((steps, envs)) < 0.03
    # One return per environment, and one statistic updated in environment order: what the
    # crate does for a vector of environments.
    rms = RunningMeanStd(shape=())
    discounted = np.zeros(envs)
    scaled = np.zeros((steps, envs), dtype=np.float32)
    for t in range(steps):
        for e in range(envs):
            discounted[e] = discounted[e] * gamma * (1 - terminated[t, e]) + float(rewards[t, e])
            rms.update(np.array([discounted[e]]))
        for e in range(envs):
            scaled[t, e] = np.float32(rewards[t, e] / np.sqrt(rms.var + EPSILON))
    arrays["reward.rewards"] = rewards
    arrays["reward.terminated"] = terminated.astype(np.float64)
    arrays["reward.scaled"] = np.clip(scaled, -CLIP, CLIP)
    arrays["reward.gamma"] = np.array([gamma])
    # The same formula through Gymnasium's own wrapper, one environment: the reference the
    # loop above must agree with.
    env = gymnasium.wrappers.NormalizeReward(gymnasium.make("CartPole-v1"), gamma=gamma)
    env.reset(seed=0)
    check = RunningMeanStd(shape=())
    g = 0.0
    for t in range(50):
        _, r, term, trunc, _ = env.step(int(t % 2))
        raw = 1.0
        g = g * gamma * (1 - term) + raw
        check.update(np.array([g]))
        assert abs(r - raw / np.sqrt(check.var + EPSILON)) < 1e-12, (t, r)
        if term or trunc:
            break


def main():
    rng = np.random.default_rng(13)
    arrays = {}
    observations(arrays, rng)
    rewards(arrays, rng)
    header = (
        "Gymnasium's running statistics (RunningMeanStd, NormalizeObservation, NormalizeReward)\n"
        f"recorded by tools/gymnasium_normalize_fixtures.py with gymnasium {gymnasium.__version__}, "
        f"numpy {np.__version__}, python {sys.version.split()[0]}"
    )
    write_fixture(os.path.join(DATA, "normalize.txt"), arrays, header)


if __name__ == "__main__":
    main()
