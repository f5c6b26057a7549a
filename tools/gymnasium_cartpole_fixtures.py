"""Recording Gymnasium's CartPole-v1 into tests/data/ for tests/cartpole.rs.

Everything goes through `gymnasium.make("CartPole-v1")`, so with the `TimeLimit` wrapper that
truncates after 500 steps. A start state is set the way a test sets it in Rust with
`CartPole::set_state`: reset the wrapped env (which zeroes the time limit's counter and the
env's `steps_beyond_terminated`), then assign a float64 array to `env.unwrapped.state`.

* `tests/data/cartpole_transitions.txt`: single steps from chosen states, with both actions:
  a grid of positions, speeds, angles and angular speeds (including states already past a
  threshold, angles up to pi and speeds up to 1000), uniformly random states, states whose
  values overflow to infinity (in float64, or only in the float32 observation), and states whose
  *next* position or angle lands on either side of +-2.4 or +-12 degrees, found ulp by ulp, so
  that the strict comparisons `x > 2.4` and `theta > 12 * 2 * pi / 360` are tested at the last
  bit. Each row: state before, action, state after (float64), observation (float32), reward,
  terminated, truncated.
* `tests/data/cartpole_episodes.txt`: whole episodes under recorded actions: random and biased
  random actions until termination, constant pushes, a balancing controller until truncation
  at step 500 (one of them stepped 5 steps past the limit), an episode that terminates exactly
  at step 500 (terminated and truncated together), and one stepped on after termination (the
  cart leaves the track, comes back, then the pole falls), which shows Gymnasium's rewards
  after a termination: 0 while terminated, 1 again once back inside, 0 at the second fall
  (this one is always the last episode); and a 3-step episode whose state overflows to NaN.
  Each step: action, observation, reward, float64 state, terminated, truncated.

Run (from the repository root; needs gymnasium and numpy):

    python3 tools/gymnasium_cartpole_fixtures.py

Recorded with Gymnasium 1.4.0 and NumPy 2.4.6 (Python 3.11, x86-64 Linux, glibc libm); the
versions actually used are written into each file's header.
"""

import math
import os
import sys
import warnings

import gymnasium as gym
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import write_fixture  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
TAU = 0.02
X_THRESHOLD = 2.4
THETA_THRESHOLD = 12 * 2 * math.pi / 360  # as cartpole.py writes it, one ulp below radians(12)

# Stepping after termination is what one of the episodes is about; Gymnasium warns about it.
warnings.filterwarnings("ignore", message=".*step.*terminated = True.*")


def header(what):
    return (
        f"{what}\n"
        f"recorded by tools/gymnasium_cartpole_fixtures.py with gymnasium {gym.__version__}, "
        f"numpy {np.__version__}, python {sys.version.split()[0]}\n"
        "states are float64 (x, x_dot, theta, theta_dot); observations are float32 values; "
        "flags are 0 or 1"
    )


def start(env, state):
    """What `CartPole::set_state` does: a fresh episode from a chosen float64 state."""
    env.reset(seed=0)
    env.unwrapped.state = np.array(state, dtype=np.float64)


def landing_states(threshold, speeds):
    """States (position, speed) whose Euler step `p + TAU * v` lands within a few ulps of
    `threshold`, on both sides of it and on it where that is reachable."""
    found = []
    for v in speeds:
        guess = threshold - TAU * v
        candidates = [guess]
        below, above = guess, guess
        for _ in range(12):
            below, above = np.nextafter(below, -np.inf), np.nextafter(above, np.inf)
            candidates += [below, above]
        landed = {}
        for p in candidates:
            after = p + TAU * v
            ulps = round((after - threshold) / math.ulp(threshold))
            if abs(ulps) <= 3 and ulps not in landed:
                landed[ulps] = (float(p), v)
        found += [landed[k] for k in sorted(landed)]
    return found


def transitions():
    rng = np.random.default_rng(2025)
    rows = []  # (state, action)

    xs = [0.0, 1.0, -1.0, 2.39, -2.39, 2.4, -2.4, 2.41, -2.41, 4.8, -4.8]
    x_dots = [0.0, 0.5, -0.5, 3.0, -3.0, 100.0, -100.0]
    thetas = [0.0, 0.1, -0.1, THETA_THRESHOLD, -THETA_THRESHOLD, 0.3, -0.3, math.pi / 2,
              -math.pi / 2, math.pi, 3.0, 1e-9]
    theta_dots = [0.0, 1.0, -1.0, 5.0, -5.0, 50.0, -50.0]
    for _ in range(240):
        state = [float(rng.choice(xs)), float(rng.choice(x_dots)), float(rng.choice(thetas)),
                 float(rng.choice(theta_dots))]
        rows.append((state, int(rng.integers(2))))
    for _ in range(120):  # where an episode spends its time
        state = [rng.uniform(-2.4, 2.4), rng.uniform(-3, 3), rng.uniform(-0.21, 0.21),
                 rng.uniform(-3.5, 3.5)]
        rows.append((state, int(rng.integers(2))))
    for _ in range(60):  # anywhere, fast
        state = [rng.uniform(-6, 6), rng.uniform(-60, 60), rng.uniform(-4, 4),
                 rng.uniform(-60, 60)]
        rows.append((state, int(rng.integers(2))))
    # Overflow: a huge angular speed squares to infinity, a huge cart speed moves the cart
    # past what a float32 can hold; the state stays free of NaN (theta is not 0).
    for state in ([0.0, 0.0, 0.1, 1e200], [0.5, -1.0, -0.05, -1e155], [0.0, 1e300, 0.01, 0.0],
                  [1e308, 1e308, 0.02, 0.3]):
        for action in (0, 1):
            rows.append((state, action))
    for scale in (1e3, 1e-6):
        for _ in range(10):
            state = list(rng.uniform(-1, 1, size=4) * scale)
            rows.append((state, int(rng.integers(2))))

    # Next position or angle on either side of a threshold (the step itself gets there).
    speeds = [0.5, 1.0, 2.5, 0.037, 7.0]
    edges = 0
    for sign in (1.0, -1.0):
        for x, x_dot in landing_states(sign * X_THRESHOLD, [sign * v for v in speeds]):
            for action in (0, 1):
                rows.append(([x, x_dot, 0.01, -0.02], action))
                edges += 1
        for theta, theta_dot in landing_states(sign * THETA_THRESHOLD,
                                               [sign * v for v in speeds]):
            for action in (0, 1):
                rows.append(([0.1, -0.2, theta, theta_dot], action))
                edges += 1
    # Already past a threshold and coming back inside in one step (terminated = False).
    for state in ([2.41, -1.0, 0.0, 0.0], [-2.41, 1.0, 0.0, 0.0], [0.0, 0.0, 0.21, -1.0],
                  [0.0, 0.0, -0.21, 1.0]):
        for action in (0, 1):
            rows.append((state, action))

    env = gym.make("CartPole-v1")
    out = {k: [] for k in ("state", "action", "next_state", "obs", "reward", "terminated",
                           "truncated")}
    for state, action in rows:
        start(env, state)
        with np.errstate(over="ignore", invalid="ignore"):
            obs, reward, terminated, truncated, _ = env.step(action)
        out["state"].append(state)
        out["action"].append(action)
        out["next_state"].append(np.array(env.unwrapped.state))
        out["obs"].append(obs)
        out["reward"].append(reward)
        out["terminated"].append(float(terminated))
        out["truncated"].append(float(truncated))
    terminated = int(sum(out["terminated"]))
    write_fixture(os.path.join(DATA, "cartpole_transitions.txt"), out,
                  header(f"CartPole-v1 single transitions: {len(rows)} rows, {edges} of them "
                         f"landing within 3 ulps of a threshold; {terminated} terminate"))
    return len(rows), edges, terminated


def balance(x, x_dot, theta, theta_dot):
    """Push toward the side the pole is falling to: keeps it up for 500 steps."""
    return int(theta + 0.5 * theta_dot > 0)


def balance_centred(x, x_dot, theta, theta_dot):
    """The same with a little feedback on the cart, so it also stays near the centre."""
    return int(theta + 0.5 * theta_dot + 0.01 * x + 0.05 * x_dot > 0)


def run(env, state, policy, steps):
    """Steps the env `steps` times from `state` (or until `policy` returns None)."""
    start(env, state)
    rec = {k: [] for k in ("action", "obs", "reward", "state", "terminated", "truncated")}
    for t in range(steps):
        action = policy(t, *env.unwrapped.state)
        if action is None:
            break
        obs, reward, terminated, truncated, _ = env.step(action)
        rec["action"].append(action)
        rec["obs"].append(obs)
        rec["reward"].append(reward)
        rec["state"].append(np.array(env.unwrapped.state))
        rec["terminated"].append(float(terminated))
        rec["truncated"].append(float(truncated))
    return rec


def episode(env, state, policy, extra=0):
    """An episode to its end (terminated or truncated), then `extra` steps beyond it."""
    rec = run(env, state, policy, 600 + extra)
    ends = [i for i in range(len(rec["reward"]))
            if rec["terminated"][i] or rec["truncated"][i]]
    cut = ends[0] + 1 + extra
    return {k: v[:cut] for k, v in rec.items()}


def off_and_back_on(t, x, x_dot, theta, theta_dot):
    """From a cart about to leave the track: a controller that holds the pole up and steers
    the cart back to x = 1.5 (it leaves at step 4 and is back on at step 42), then, from step
    61, a constant push right that makes the pole fall."""
    if t >= 60:
        return 1
    return int(theta + 0.5 * theta_dot + 0.2 * (x - 1.5) + 0.3 * x_dot > 0)


def terminating_at(env, state, step):
    """Balances, then pushes one way from the step that makes the pole fall exactly at `step`
    (the fall takes a dozen steps or so, and how many depends on the state at the switch)."""
    for switch in range(step - 1, step - 60, -1):
        for push in (0, 1):
            rec = run(env, state, lambda t, *s: push if t >= switch else balance(*s), step)
            falls = [i + 1 for i, done in enumerate(rec["terminated"]) if done]
            if falls and falls[0] == step:
                return rec, switch, push
    return None


def episodes():
    rng = np.random.default_rng(11)
    env = gym.make("CartPole-v1")
    specs = []  # (what, start state, recorded steps)

    def reset_state(seed):
        env.reset(seed=seed)
        return np.array(env.unwrapped.state)

    for seed in (0, 1, 2):
        s = reset_state(seed)
        specs.append((f"random actions, start of reset(seed={seed})", s,
                      episode(env, s, lambda t, *_: int(rng.integers(2)))))
    for seed, p in ((3, 0.8), (4, 0.2), (5, 0.65)):
        s = reset_state(seed)
        specs.append((f"pushes right with probability {p}, start of reset(seed={seed})", s,
                      episode(env, s, lambda t, *_, p=p: int(rng.random() < p))))
    specs.append(("always right, from rest upright", [0.0, 0.0, 0.0, 0.0],
                  episode(env, [0.0, 0.0, 0.0, 0.0], lambda t, *_: 1)))
    specs.append(("always left, cart already moving left fast", [0.5, -2.0, 0.05, 0.3],
                  episode(env, [0.5, -2.0, 0.05, 0.3], lambda t, *_: 0)))
    s = reset_state(6)
    specs.append(("balancing (theta + 0.5 theta_dot > 0) to truncation, start of reset(seed=6)",
                  s, episode(env, s, lambda t, *st: balance(*st))))
    s = reset_state(7)
    specs.append(("balancing to truncation, then 5 more steps, start of reset(seed=7)", s,
                  episode(env, s, lambda t, *st: balance(*st), extra=5)))
    s = [0.8, 0.0, 0.0, 0.0]
    specs.append(("balancing with cart feedback to truncation, from off-centre", s,
                  episode(env, s, lambda t, *st: balance_centred(*st))))
    seed, found = 8, None
    while found is None:
        s = reset_state(seed)
        found = terminating_at(env, s, 500)
        seed += 1
    rec, switch, push = found
    specs.append((f"balancing, then {['left', 'right'][push]} from step {switch + 1}: "
                  f"terminates at step 500, start of reset(seed={seed - 1})", s, rec))
    s = [0.0, 0.0, 0.0, 1e200]
    with np.errstate(over="ignore", invalid="ignore"):
        rec = run(env, s, lambda t, *_: 1, 3)
    specs.append(("overflow: theta_dot^2 = inf times sin 0 is NaN; NaN compares false, so "
                  "from the second step on nothing terminates", s, rec))
    s = [2.35, 0.6, 0.0, 0.0]
    specs.append(("stepped after termination: the cart leaves the track, comes back, then "
                  "the pole falls", s, run(env, s, off_and_back_on, 80)))

    out = {"count": [len(specs)]}
    notes = []
    for k, (what, state, rec) in enumerate(specs):
        out[f"ep{k}.initial_state"] = np.asarray(state, dtype=np.float64)
        with np.errstate(over="ignore"):
            out[f"ep{k}.initial_obs"] = np.asarray(state, dtype=np.float32)
        for name, values in rec.items():
            out[f"ep{k}.{name}"] = values
        n = len(rec["reward"])
        ends = [i + 1 for i in range(n) if rec["terminated"][i] or rec["truncated"][i]]
        notes.append(f"ep{k}: {what}; {n} steps, return {sum(rec['reward']):g}, "
                     f"first end at step {ends[0] if ends else None}")
    write_fixture(os.path.join(DATA, "cartpole_episodes.txt"), out,
                  header("CartPole-v1 complete episodes\n" + "\n".join(notes)))
    return notes


if __name__ == "__main__":
    print("%d transitions, %d at a threshold, %d terminate" % transitions())
    for note in episodes():
        print(note)
