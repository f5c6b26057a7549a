"""Recording Gymnasium's Pendulum-v1 into tests/data/ for tests/pendulum.rs.

What it records, always through `gymnasium.make("Pendulum-v1", g=...)`, so with the
`TimeLimit` wrapper that ends episodes by truncation after 200 steps:

* `tests/data/pendulum_transitions.txt`: single steps from states and actions chosen to reach
  every branch of the physics: angles far beyond +-pi (the reward normalizes them), speeds at,
  next to and beyond +-8 (the clip), torques beyond +-2 (the other clip), and both g = 10 and
  g = 9.81. Each row: gravity, state before (theta, theta_dot as float64), action (float32),
  state after (float64), observation (float32) and reward (float64).
* `tests/data/pendulum_episodes.txt`: complete 200-step episodes, each from the initial state
  of a seeded reset, under a recorded action sequence: random torques inside and outside the
  bounds, no torque, bang-bang pumping that runs into the speed clip, and a swing-up-and-hold
  controller that keeps the pendulum near the unstable upright position, where the last bit
  of a difference grows exponentially. Each step: action, observation, reward, float64 state,
  terminated and truncated flags.

Actions are float32 arrays, as an agent hands them to Gymnasium: the dtype matters, because
NumPy 2 computes part of the physics in float32 when the action is float32 (see the book,
chapter 6). The float64 states are recorded too so that a failing test can say whether the
state or only the observation is off.

Run (from the repository root, with a private virtual environment):

    python3 -m venv /work/venv-gym
    /work/venv-gym/bin/pip install gymnasium numpy
    /work/venv-gym/bin/python tools/gymnasium_fixtures.py

Recorded with Gymnasium 1.4.0 and NumPy 2.4.6 (Python 3.11, x86-64 Linux, glibc libm); the
versions actually used are written into each file's header.
"""

import os
import sys

import gymnasium as gym
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import write_fixture  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
EPISODE_STEPS = 200


def header(what):
    return (
        f"{what}\n"
        f"recorded by tools/gymnasium_fixtures.py with gymnasium {gym.__version__}, "
        f"numpy {np.__version__}, python {sys.version.split()[0]}\n"
        "states are float64 (theta, theta_dot); actions and observations are float32 values"
    )


def f32(x):
    return np.array([x], dtype=np.float32)


def step_from(env, theta, theta_dot, torque):
    """One step of the wrapped env from a chosen state (reset first so the wrappers allow it)."""
    env.reset(seed=0)
    env.unwrapped.state = np.array([theta, theta_dot], dtype=np.float64)
    obs, reward, terminated, truncated, _ = env.step(f32(torque))
    assert not terminated and not truncated
    return np.array(env.unwrapped.state), obs, reward


def transitions():
    rng = np.random.default_rng(2024)
    pi = np.pi
    thetas = [0.0, pi, -pi, np.nextafter(pi, 4.0), np.nextafter(-pi, -4.0), pi / 2, -pi / 2,
              2 * pi, -2 * pi, 3 * pi, -3 * pi, 7.0, -7.0, 20.0, -20.0, 100.0, -100.0, 1e-12]
    speeds = [0.0, 8.0, -8.0, 7.99, -7.99, np.nextafter(8.0, 0.0), np.nextafter(-8.0, 0.0),
              7.9, -7.9, 8.5, -8.5, 1.0, -1.0]
    torques = [0.0, 2.0, -2.0, 2.5, -2.5, 10.0, -10.0, 1.9999999, -1.9999999, 1e-3, -1e-3,
               1.2345678, -0.7]

    rows = []  # (g, theta, theta_dot, torque)
    for theta in thetas:
        for theta_dot in speeds:
            rows.append((10.0, theta, theta_dot, float(rng.choice(torques))))
    for _ in range(50):
        rows.append((10.0, float(rng.choice(thetas)), float(rng.choice(speeds)),
                     float(rng.choice(torques))))
    for _ in range(40):
        rows.append((10.0, rng.uniform(-4 * pi, 4 * pi), rng.uniform(-8.5, 8.5),
                     rng.uniform(-3.0, 3.0)))
    for _ in range(40):
        rows.append((9.81, rng.uniform(-4 * pi, 4 * pi), rng.uniform(-8.5, 8.5),
                     rng.uniform(-3.0, 3.0)))

    envs = {g: gym.make("Pendulum-v1", g=g) for g in (10.0, 9.81)}
    out = {k: [] for k in ("g", "state", "action", "next_state", "obs", "reward")}
    for g, theta, theta_dot, torque in rows:
        next_state, obs, reward = step_from(envs[g], theta, theta_dot, torque)
        out["g"].append(g)
        out["state"].append([theta, theta_dot])
        out["action"].append(f32(torque)[0])
        out["next_state"].append(next_state)
        out["obs"].append(obs)
        out["reward"].append(reward)
    write_fixture(os.path.join(DATA, "pendulum_transitions.txt"), out,
                  header("Pendulum-v1 single transitions"))
    return len(rows)


def angle_normalize(x):
    return ((x + np.pi) % (2 * np.pi)) - np.pi


def swing_up_and_hold(g):
    """Pump energy until the rod is near the top, then hold it there with a PD law."""
    def policy(theta, theta_dot, rng):
        a = angle_normalize(theta)
        if abs(a) < 0.5:
            return -(10.0 * a + 2.0 * theta_dot)
        energy = 0.5 * theta_dot**2 + 1.5 * g * np.cos(theta)  # upright rest: 1.5 g
        return 2.0 * np.sign((1.5 * g - energy) * theta_dot + 1e-9)
    return policy


def noisy(policy, scale):
    return lambda th, thd, rng: policy(th, thd, rng) + rng.normal(0.0, scale)


EPISODES = [
    # (what, g, reset seed, policy)
    ("uniform random torque in [-2, 2]", 10.0, 0, lambda th, thd, rng: rng.uniform(-2, 2)),
    ("uniform random torque in [-4, 4], half of it clipped", 10.0, 1,
     lambda th, thd, rng: rng.uniform(-4, 4)),
    ("no torque", 10.0, 2, lambda th, thd, rng: 0.0),
    ("bang-bang along the speed, runs into the speed clip", 10.0, 3,
     lambda th, thd, rng: 2.0 if thd >= 0 else -2.0),
    ("swing up and hold upright", 10.0, 4, swing_up_and_hold(10.0)),
    ("swing up and hold, noisy torque", 10.0, 5, noisy(swing_up_and_hold(10.0), 0.3)),
    ("swing up and hold with g = 9.81", 9.81, 6, swing_up_and_hold(9.81)),
]


def episodes():
    rng = np.random.default_rng(7)
    out = {"count": [len(EPISODES)]}
    notes = []
    for k, (what, g, seed, policy) in enumerate(EPISODES):
        env = gym.make("Pendulum-v1", g=g)
        initial_obs, _ = env.reset(seed=seed)
        initial_state = np.array(env.unwrapped.state)
        rec = {k2: [] for k2 in ("action", "obs", "reward", "state", "terminated", "truncated")}
        for t in range(EPISODE_STEPS):
            theta, theta_dot = env.unwrapped.state
            action = f32(np.clip(policy(theta, theta_dot, rng), -10.0, 10.0))
            obs, reward, terminated, truncated, _ = env.step(action)
            rec["action"].append(action[0])
            rec["obs"].append(obs)
            rec["reward"].append(reward)
            rec["state"].append(np.array(env.unwrapped.state))
            rec["terminated"].append(float(terminated))
            rec["truncated"].append(float(truncated))
        out[f"ep{k}.g"] = [g]
        out[f"ep{k}.initial_state"] = initial_state
        out[f"ep{k}.initial_obs"] = initial_obs
        for name, values in rec.items():
            out[f"ep{k}.{name}"] = values
        final = sum(rec["reward"][-20:]) / 20
        notes.append(f"ep{k}: {what}; g = {g}, reset seed {seed}; "
                     f"mean reward over the last 20 steps {final:.3f}")
    write_fixture(os.path.join(DATA, "pendulum_episodes.txt"), out,
                  header("Pendulum-v1 complete episodes\n" + "\n".join(notes)))
    return notes


if __name__ == "__main__":
    print(f"{transitions()} transitions")
    for note in episodes():
        print(note)
