"""Recording whole PPO iterations with PyTorch and Gymnasium, for tests/iteration.rs.

The crate's pieces are each checked against a reference (networks, Adam, the Normal and the
losses against PyTorch; the physics against Gymnasium). This script checks the wiring between
them: it runs the crate's training loop, written again here from the algorithm's description,
in PyTorch (float32 networks and optimizers, as the crate computes them) on Gymnasium's own
`Pendulum-v1`, and records everything a run draws at random together with everything it
produces, so that the crate can replay the same draws and must arrive at the same numbers:

* drawn here, replayed by the crate: the initial weights of both networks (PyTorch's seeded
  initialization, written in the crate's [in, out] layout), the start state of every episode
  (set on Gymnasium's pendulum after its reset), the standard-normal noise of every sampled
  action, and the order of the transitions in every epoch;
* produced here, compared by the crate: every diagnostic of every iteration, and after the
  last iteration every parameter and both Adam moments of every parameter.

One iteration, for `num_envs` pendulums and `rollout_steps` steps each:

1. collect: a = mu(s) + sigma(s) * eps; log pi(a|s) and V(s) recorded; rewards scaled; an
   episode truncated at 200 steps records V(final observation) (bootstrap mode) and restarts
   from the next recorded start state;
2. estimate: GAE backwards per environment with gamma and lambda, truncation bootstrapped or
   treated as terminal, returns = advantages + values, advantages normalized (n - 1, 1e-8);
3. learn: `epochs` passes in minibatches (the recorded order, cut in chunks of
   `minibatch_size`, the last one shorter), each a critic step (MSE, optionally clipped
   around the collection-time values) and then an actor step (clipped surrogate minus the
   entropy bonus), each network clipped to `max_grad_norm` and stepped by its own Adam, both
   learning rates annealed linearly (1 - (k - 1)/K at iteration k of K) when configured.

The log-probability and the entropy are computed in float64 from the float32 inputs and
rounded to float32, as the crate's fused operations do; everything else runs in float32.

Run by hand, from the repository root (needs PyTorch, Gymnasium and NumPy, CPU only):

    python3 tools/pytorch_iteration.py

It writes tests/data/ppo_iteration_a.txt and tests/data/ppo_iteration_b.txt; the versions used
are written into each file's header. `cargo test` never runs Python.
"""

import math
import os
import sys

import gymnasium
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import write_fixture  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
HALF_LN_2PI = 0.5 * math.log(2.0 * math.pi)
MIN_STD = 1e-5
ACTION_SCALE = 2.0

# Two configurations that differ in every choice the crate's Config offers. Each rollout holds a
# truncation (at 200 steps) inside it. Configuration a runs two iterations, not three: the
# rollouts of two float32 implementations drift apart by a factor of about 50 per iteration
# (the pendulum amplifies a difference in the last bit of an action), and after a third the
# actor's Adam moments of two correct implementations already differ by about 1e-4.
CONFIGS = {
    "a": dict(
        num_envs=2, rollout_steps=256, epochs=3, minibatch_size=64, iterations=2,
        gamma=0.99, gae_lambda=0.9, clip_epsilon=0.2,
        actor_learning_rate=3e-4, critic_learning_rate=1e-3, anneal_learning_rate=True,
        entropy_coef=0.01, max_grad_norm=0.5, value_clip=0.2, normalize_advantages=True,
        time_limit="bootstrap", reward_scale=0.1, hidden_size=16,
        std=("softplus",), seed=11,
    ),
    "b": dict(
        num_envs=3, rollout_steps=220, epochs=2, minibatch_size=100, iterations=3,
        gamma=0.9, gae_lambda=0.97, clip_epsilon=0.3,
        actor_learning_rate=1e-3, critic_learning_rate=5e-4, anneal_learning_rate=False,
        entropy_coef=0.002, max_grad_norm=None, value_clip=None, normalize_advantages=False,
        time_limit="as-terminal", reward_scale=0.5, hidden_size=32,
        std=("log-std", -0.5, -5.0, 1.0), seed=12,
    ),
}


def f32(x):
    return np.float32(x)


class Actor:
    """3 -> H -> H (ReLU) -> mu = 2 tanh(.), sigma from a softplus head or a clamped log-sigma."""

    def __init__(self, hidden, std, generator):
        self.std = std
        sizes = [3, hidden, hidden]
        self.layers = [linear(i, o, generator) for i, o in zip(sizes[:-1], sizes[1:])]
        self.mean = linear(hidden, 1, generator)
        if std[0] == "softplus":
            self.std_head = linear(hidden, 1, generator)
        else:
            self.log_std = torch.full((1,), std[1], dtype=torch.float32, requires_grad=True)

    def parameters(self):
        """In the crate's order: trunk (weight, bias) per layer, mean head, sigma head or log-sigma."""
        params = [p for layer in self.layers for p in layer] + list(self.mean)
        if self.std[0] == "softplus":
            return params + list(self.std_head)
        return params + [self.log_std]

    def forward(self, obs):
        h = obs
        for w, b in self.layers:
            h = torch.relu(h @ w + b)
        mean = torch.tanh(h @ self.mean[0] + self.mean[1]) * ACTION_SCALE
        if self.std[0] == "softplus":
            std = F.softplus(h @ self.std_head[0] + self.std_head[1]) + MIN_STD
        else:
            _, _, low, high = self.std
            std = torch.exp(torch.clamp(self.log_std, low, high)).expand_as(mean)
        return mean, std


class Critic:
    def __init__(self, hidden, generator):
        sizes = [3, hidden, hidden]
        self.layers = [linear(i, o, generator) for i, o in zip(sizes[:-1], sizes[1:])]
        self.head = linear(hidden, 1, generator)

    def parameters(self):
        return [p for layer in self.layers for p in layer] + list(self.head)

    def forward(self, obs):
        h = obs
        for w, b in self.layers:
            h = torch.relu(h @ w + b)
        return (h @ self.head[0] + self.head[1]).reshape(-1)


def linear(fan_in, fan_out, generator):
    """Weight [in, out] (the crate's layout) and bias, uniform in +-1/sqrt(fan_in) as nn.Linear."""
    bound = 1.0 / math.sqrt(fan_in)
    w = (torch.rand(fan_in, fan_out, generator=generator) * 2 - 1) * bound
    b = (torch.rand(fan_out, generator=generator) * 2 - 1) * bound
    return (w.requires_grad_(), b.requires_grad_())


def log_prob(mean, std, action):
    """Sum over action dimensions of log N(a; mu, sigma), in float64 from float32 inputs."""
    z = (action.double() - mean.double()) / std.double()
    return (-0.5 * z * z - torch.log(std.double()) - HALF_LN_2PI).sum(-1).float()


def entropy(std):
    return (0.5 + HALF_LN_2PI + torch.log(std.double())).sum(-1).float()


def normalize(values):
    """Mean 0, standard deviation 1 (n - 1), in float64, as the crate's gae::normalize."""
    v = values.astype(np.float64)
    if len(v) < 2:
        return np.zeros_like(values)
    mean = v.sum() / len(v)
    std = math.sqrt(((v - mean) ** 2).sum() / (len(v) - 1))
    return ((v - mean) * (1.0 / (std + 1e-8))).astype(np.float32)


def explained_variance(values, returns):
    r = returns.astype(np.float64)
    residual = (returns - values).astype(np.float64)
    var_r = ((r - r.mean()) ** 2).mean()
    var_res = ((residual - residual.mean()) ** 2).mean()
    return float("nan") if var_r == 0 else 1.0 - var_res / var_r


def gae(c, rewards, values, terminated, truncated, truncation_values, last_values):
    """Advantages and returns, float32, step-major arrays [steps, envs]."""
    steps, envs = rewards.shape
    gamma, lam = f32(c["gamma"]), f32(c["gae_lambda"])
    advantages = np.zeros((steps, envs), dtype=np.float32)
    for e in range(envs):
        next_adv, next_value = f32(0.0), last_values[e]
        for t in reversed(range(steps)):
            if terminated[t, e] or (truncated[t, e] and c["time_limit"] == "as-terminal"):
                bootstrap = f32(0.0)
            elif truncated[t, e]:
                bootstrap = truncation_values[t, e]
            else:
                bootstrap = next_value
            delta = rewards[t, e] + gamma * bootstrap - values[t, e]
            continues = f32(0.0) if terminated[t, e] or truncated[t, e] else f32(1.0)
            advantage = delta + gamma * lam * continues * next_adv
            advantages[t, e] = advantage
            next_adv, next_value = advantage, values[t, e]
    return advantages, advantages + values


class Adam:
    def __init__(self, params, lr):
        self.optimizer = torch.optim.Adam(params, lr=lr, eps=1e-8)

    def set_lr(self, lr):
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def step(self, params, max_norm):
        if max_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, max_norm)
        self.optimizer.step()

    def moments(self, params):
        state = [self.optimizer.state[p] for p in params]
        return [s["exp_avg"] for s in state], [s["exp_avg_sq"] for s in state]


def run(name, c):
    generator = torch.Generator().manual_seed(c["seed"])
    rng = np.random.default_rng(c["seed"])
    actor = Actor(c["hidden_size"], c["std"], generator)
    critic = Critic(c["hidden_size"], generator)
    out = {}
    record_config(out, c)
    for prefix, net in (("init.actor", actor), ("init.critic", critic)):
        for i, p in enumerate(net.parameters()):
            out[f"{prefix}.{i}"] = p.detach().numpy().copy()  # a copy: training changes p in place

    actor_adam = Adam(actor.parameters(), c["actor_learning_rate"])
    critic_adam = Adam(critic.parameters(), c["critic_learning_rate"])
    n_envs, steps = c["num_envs"], c["rollout_steps"]
    batch = n_envs * steps
    envs = [gymnasium.make("Pendulum-v1") for _ in range(n_envs)]
    starts = [[] for _ in range(n_envs)]

    def start(e):
        theta, theta_dot = rng.uniform(-math.pi, math.pi), rng.uniform(-1.0, 1.0)
        starts[e].append((theta, theta_dot))
        envs[e].reset(seed=0)
        envs[e].unwrapped.state = np.array([theta, theta_dot])
        th, thdot = envs[e].unwrapped.state
        return np.array([math.cos(th), math.sin(th), thdot], dtype=np.float32)

    obs = np.stack([start(e) for e in range(n_envs)])
    running_return = np.zeros(n_envs)
    running_length = np.zeros(n_envs, dtype=np.int64)
    noises, orders = [], []
    stats = {k: [] for k in STAT_NAMES}

    for k in range(1, c["iterations"] + 1):
        fraction = f32(1.0) - f32(k - 1) / f32(c["iterations"]) if c["anneal_learning_rate"] else f32(1.0)
        actor_lr = fraction * f32(c["actor_learning_rate"])
        critic_lr = fraction * f32(c["critic_learning_rate"])
        actor_adam.set_lr(float(actor_lr))
        critic_adam.set_lr(float(critic_lr))

        # Phase 1: collect.
        buf = {key: [] for key in ("obs", "actions", "log_probs", "values", "rewards",
                                   "terminated", "truncated", "truncation_values")}
        episode_returns, episode_lengths = [], []
        with torch.no_grad():
            for _ in range(steps):
                x = torch.from_numpy(obs)
                mean, std = actor.forward(x)
                values = critic.forward(x).numpy()
                eps = torch.from_numpy(rng.standard_normal((n_envs, 1)).astype(np.float32))
                noises.append(eps.numpy().reshape(-1))
                action = mean + std * eps
                logp = log_prob(mean, std, action).numpy()
                rewards = np.zeros(n_envs, dtype=np.float32)
                terminated = np.zeros(n_envs, dtype=bool)
                truncated = np.zeros(n_envs, dtype=bool)
                truncation_values = np.zeros(n_envs, dtype=np.float32)
                next_obs = obs.copy()
                for e in range(n_envs):
                    o, r, term, trunc, _ = envs[e].step(action[e].numpy())
                    rewards[e] = f32(r) * f32(c["reward_scale"])
                    terminated[e], truncated[e] = term, trunc
                    running_return[e] += r
                    running_length[e] += 1
                    if trunc:
                        truncation_values[e] = critic.forward(torch.from_numpy(o[None, :].astype(np.float32))).numpy()[0]
                    if term or trunc:
                        episode_returns.append(running_return[e])
                        episode_lengths.append(running_length[e])
                        running_return[e], running_length[e] = 0.0, 0
                        next_obs[e] = start(e)
                    else:
                        next_obs[e] = o
                for key, value in (("obs", obs), ("actions", action.numpy()), ("log_probs", logp),
                                   ("values", values), ("rewards", rewards),
                                   ("terminated", terminated), ("truncated", truncated),
                                   ("truncation_values", truncation_values)):
                    buf[key].append(np.array(value))
                obs = next_obs
            last_values = critic.forward(torch.from_numpy(obs)).numpy()
        b = {key: np.stack(v) for key, v in buf.items()}

        # Phase 2: estimate.
        advantages, returns = gae(c, b["rewards"], b["values"], b["terminated"], b["truncated"],
                                  b["truncation_values"], last_values)
        flat = lambda a: a.reshape(batch, *a.shape[2:])  # noqa: E731  step-major, as the crate
        advantages, returns = flat(advantages), flat(returns)
        values_flat = flat(b["values"])
        explained = explained_variance(values_flat, returns)
        if c["normalize_advantages"]:
            advantages = normalize(advantages)
        obs_t = torch.from_numpy(flat(b["obs"]))
        act_t = torch.from_numpy(flat(b["actions"]))
        old_logp_t = torch.from_numpy(flat(b["log_probs"]))
        adv_t = torch.from_numpy(advantages)
        ret_t = torch.from_numpy(returns)
        old_v_t = torch.from_numpy(values_flat)

        # Phase 3: learn.
        totals = dict(value_loss=f32(0), policy_loss=f32(0), entropy=f32(0), approx_kl=f32(0), clip_fraction=f32(0))
        minibatches = 0
        for _ in range(c["epochs"]):
            order = rng.permutation(batch)
            orders.append(order)
            for at in range(0, batch, c["minibatch_size"]):
                mb = torch.from_numpy(order[at:at + c["minibatch_size"]])
                totals["value_loss"] += critic_step(c, critic, critic_adam, obs_t[mb], ret_t[mb], old_v_t[mb])
                s = actor_step(c, actor, actor_adam, obs_t[mb], act_t[mb], old_logp_t[mb], adv_t[mb])
                for key in ("policy_loss", "entropy", "approx_kl", "clip_fraction"):
                    totals[key] += s[key]
                minibatches += 1
        m = f32(minibatches)
        stats["timesteps"].append(k * batch)
        stats["episode_return"].append(np.mean(episode_returns) if episode_returns else float("nan"))
        stats["episode_length"].append(np.mean(episode_lengths) if episode_lengths else float("nan"))
        stats["explained_variance"].append(explained)
        stats["learning_rate"].append(actor_lr)
        for key in ("value_loss", "policy_loss", "entropy", "approx_kl", "clip_fraction"):
            stats[key].append(totals[key] / m)
        for key, value in (("obs", b["obs"]), ("rewards", b["rewards"]), ("advantages", advantages),
                           ("returns", returns)):
            out[f"iteration{k}.{key}"] = value

    for key, values in stats.items():
        out[f"stats.{key}"] = np.array(values, dtype=np.float64)
    out["replay.noise"] = np.concatenate(noises)
    out["replay.order"] = np.concatenate(orders).astype(np.float64)
    for e in range(n_envs):
        out[f"replay.starts.{e}"] = np.array(starts[e], dtype=np.float64)
    for prefix, net, adam in (("final.actor", actor, actor_adam), ("final.critic", critic, critic_adam)):
        params = net.parameters()
        m_list, v_list = adam.moments(params)
        for i, (p, m_, v_) in enumerate(zip(params, m_list, v_list)):
            out[f"{prefix}.{i}"] = p.detach().numpy().copy()  # a copy: training changes p in place
            out[f"{prefix}.{i}.m"] = m_.numpy()
            out[f"{prefix}.{i}.v"] = v_.numpy()
    path = os.path.join(DATA, f"ppo_iteration_{name}.txt")
    write_fixture(path, out, header(name, c))
    print(f"wrote {path}: episode returns {stats['episode_return']}")


STAT_NAMES = ("timesteps", "episode_return", "episode_length", "approx_kl", "clip_fraction",
              "entropy", "policy_loss", "value_loss", "explained_variance", "learning_rate")


def critic_step(c, critic, adam, obs, returns, old_values):
    adam.optimizer.zero_grad()
    values = critic.forward(obs)
    squared = (values - returns) ** 2
    if c["value_clip"] is None:
        loss = squared.mean()
    else:
        eps = c["value_clip"]
        clipped = old_values + torch.clamp(values - old_values, -eps, eps)
        loss = torch.maximum(squared, (clipped - returns) ** 2).mean()
    loss.backward()
    adam.step(critic.parameters(), c["max_grad_norm"])
    return f32(loss.item())


def actor_step(c, actor, adam, obs, actions, old_log_probs, advantages):
    adam.optimizer.zero_grad()
    mean, std = actor.forward(obs)
    new_log_probs = log_prob(mean, std, actions)
    log_ratio = new_log_probs - old_log_probs
    ratio = torch.exp(log_ratio)
    eps = c["clip_epsilon"]
    surrogate = -torch.minimum(ratio * advantages, torch.clamp(ratio, 1 - eps, 1 + eps) * advantages).mean()
    mean_entropy = entropy(std).mean()
    loss = surrogate - mean_entropy * c["entropy_coef"]
    loss.backward()
    adam.step(actor.parameters(), c["max_grad_norm"])
    lr = log_ratio.detach().double().numpy()
    r32 = ratio.detach().numpy()
    return dict(
        policy_loss=f32(surrogate.item()),
        entropy=f32(mean_entropy.item()),
        approx_kl=f32((np.expm1(lr) - lr).mean()),
        clip_fraction=f32((np.abs(r32 - f32(1.0)) > f32(eps)).mean()),
    )


def record_config(out, c):
    for key in ("num_envs", "rollout_steps", "epochs", "minibatch_size", "iterations",
                "gamma", "gae_lambda", "clip_epsilon", "actor_learning_rate",
                "critic_learning_rate", "entropy_coef", "reward_scale", "hidden_size"):
        out[f"config.{key}"] = np.array([float(np.float32(c[key]))])
    out["config.anneal_learning_rate"] = np.array([1.0 if c["anneal_learning_rate"] else 0.0])
    out["config.normalize_advantages"] = np.array([1.0 if c["normalize_advantages"] else 0.0])
    out["config.time_limit_bootstrap"] = np.array([1.0 if c["time_limit"] == "bootstrap" else 0.0])
    for key in ("max_grad_norm", "value_clip"):
        out[f"config.{key}"] = np.array([float("nan") if c[key] is None else float(np.float32(c[key]))])
    if c["std"][0] == "softplus":
        out["config.std"] = np.array([0.0])
    else:
        out["config.std"] = np.array([1.0, *[float(np.float32(x)) for x in c["std"][1:]]])


def header(name, c):
    return (
        f"one whole PPO run of {c['iterations']} iterations, configuration '{name}': {c}\n"
        f"recorded by tools/pytorch_iteration.py with torch {torch.__version__}, gymnasium "
        f"{gymnasium.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}\n"
        "float32 networks and optimizers; log-probabilities and entropies in float64 from float32"
    )


if __name__ == "__main__":
    torch.set_num_threads(1)
    for config_name, config in CONFIGS.items():
        run(config_name, config)
