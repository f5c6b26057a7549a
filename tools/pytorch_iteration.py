"""Recording whole PPO iterations with PyTorch and Gymnasium, for tests/iteration.rs.

The crate's pieces are each checked against a reference (networks, Adam, the Normal and the
losses against PyTorch; the physics against Gymnasium). This script checks the wiring between
them: it runs the crate's training loop, written again here from the algorithm's description,
in PyTorch (float32 networks and optimizers, as the crate computes them) on Gymnasium's own
`Pendulum-v1` and `CartPole-v1`, and records everything a run draws at random together with
everything it produces, so that the crate can replay the same draws and must arrive at the same
numbers:

* drawn here, replayed by the crate: the initial weights of both networks (PyTorch's seeded
  initialization, written in the crate's [in, out] layout), the start state of every episode
  (set on Gymnasium's environment after its reset), the standard-normal noise of every sampled
  torque or the uniform number behind every sampled choice, and the order of the transitions in
  every epoch;
* produced here, compared by the crate: every diagnostic of every iteration, and after the
  last iteration every parameter and both Adam moments of every parameter (and the running
  statistics of the observations, when they are normalized).

One iteration, for `num_envs` environments and `rollout_steps` steps each:

1. collect: observations normalized by their running statistics (Gymnasium's RunningMeanStd,
   updated with each step's batch first) when configured; a = mu(s) + sigma(s) * eps, or the
   choice where a uniform number falls in the softmax's cumulative sums; log pi(a|s) and V(s)
   recorded; rewards scaled, then divided by the running spread of the discounted return when
   configured; an episode truncated at the time limit records V(final observation) (bootstrap
   mode) and restarts from the next recorded start state, or (ignore mode) goes on, its log cut
   into stretches of the time limit;
2. estimate: GAE backwards per environment with gamma and lambda, truncation bootstrapped or
   treated as terminal, returns = advantages + values, advantages normalized (n - 1, 1e-8) over
   the rollout or within each minibatch;
3. learn: `epochs` passes in minibatches (the recorded order, cut in chunks of
   `minibatch_size`, the last one shorter). A minibatch whose approximate KL before its step
   exceeds 1.5 target_kl ends the update. Otherwise: separate networks take a critic step
   (value_coef times the MSE, optionally clipped around the collection-time values) and an
   actor step (the policy objective, clipped, SPO or KL penalty, minus the entropy bonus), each
   clipped to `max_grad_norm` and stepped by its own Adam; a shared network takes one step of
   one Adam on policy - entropy + value_coef * value, clipped as one vector. Both learning
   rates (and the entropy coefficient, when configured) anneal linearly, 1 - (k - 1)/K at
   iteration k of K. After the epochs, an adapted KL penalty halves or doubles beta by the
   mean KL over the rollout.

The log-probability and the entropy are computed in float64 from the float32 inputs and
rounded to float32, as the crate's fused operations do; everything else runs in float32.

Run by hand, from the repository root (needs PyTorch, Gymnasium and NumPy, CPU only):

    python3 tools/pytorch_iteration.py

It writes tests/data/ppo_iteration_{a,b,c,d,e,f}.txt; the versions used are written into each
file's header. `cargo test` never runs Python.
"""

import math
import os
import sys

import gymnasium
import numpy as np
import torch
import torch.nn.functional as F
from gymnasium.wrappers.utils import RunningMeanStd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import write_fixture  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
HALF_LN_2PI = 0.5 * math.log(2.0 * math.pi)
MIN_STD = 1e-5
ACTION_SCALE = 2.0
NORMALIZE_EPSILON = 1e-8  # Gymnasium's, added to the variance
NORMALIZE_CLIP = 10.0  # Stable-Baselines3's VecNormalize clip

# What a configuration does not say: the crate's Config::seed() choices.
DEFAULTS = dict(
    env="pendulum", activation="relu", objective="clip", kl_coef=1.0, adaptive_kl=None,
    target_kl=None, value_coef=1.0, minibatch_advantages=False, adam_eps=1e-8,
    anneal_entropy=False, normalize_observations=False, normalize_rewards=False,
    shared_network=False,
)

# Configurations that between them take every choice the crate's Config offers. Each pendulum
# rollout holds a time limit (at 200 steps) inside it. Configuration a runs two iterations, not
# three: the rollouts of two float32 implementations drift apart by a factor of about 50 per
# iteration (the pendulum amplifies a difference in the last bit of an action), and after a
# third the actor's Adam moments of two correct implementations already differ by about 1e-4.
#
# a, b: the original settings, with each choice taken both ways between the two.
# c: separate networks with the variants: SPO, early stopping on KL (the first iteration stops
#    at minibatch 8 of 32, its KL 0.016 against a limit of 0.006; the second, at half the
#    learning rate, stays below 0.001 and runs all 32), value_coef 0.5 (seen through Adam's eps
#    1e-5 and the gradient clip), advantages normalized per minibatch, the entropy bonus
#    annealed, tanh, observations and rewards normalized, time limits ignored, a log-sigma head.
# d: CartPole-v1 with the Categorical policy (two logits per state, where a Normal has one mean
#    and one sigma), and the KL penalty adapted: beta kept after the first iteration (its KL
#    0.0023 inside 0.002 x [1/1.5, 1.5]) and halved after the second (0.00012).
# e: the shared network, with the KL penalty adapted by the PPO paper's rule (beta doubles after
#    the first iteration, its KL 0.0013 above 1.5 x 0.0004, and halves after the second and the
#    third, 0.00024 and 0.00009 below 0.0004/1.5), value clipping and value_coef 2.
# f: CartPole with minibatches long enough for the crate to cut into pieces (4,100 rows, two
#    pieces of 2,050 each; the rollout's last 124 rows make a minibatch left whole), advantages
#    normalized within each minibatch, value clipping and the gradient clip: here every
#    minibatch is computed whole, so the crate's pieces must add up to the same step.
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
    "c": dict(
        num_envs=2, rollout_steps=256, epochs=4, minibatch_size=64, iterations=2,
        gamma=0.97, gae_lambda=0.92, clip_epsilon=0.25,
        actor_learning_rate=2e-3, critic_learning_rate=1e-3, anneal_learning_rate=True,
        entropy_coef=0.02, max_grad_norm=0.3, value_clip=None, normalize_advantages=True,
        time_limit="ignore", reward_scale=0.2, hidden_size=16,
        std=("log-std-head", -3.0, 1.0), seed=13,
        activation="tanh", objective="spo", target_kl=0.004, value_coef=0.5,
        minibatch_advantages=True, adam_eps=1e-5, anneal_entropy=True,
        normalize_observations=True, normalize_rewards=True,
    ),
    "d": dict(
        env="cartpole", num_envs=3, rollout_steps=128, epochs=3, minibatch_size=96, iterations=2,
        gamma=0.98, gae_lambda=0.8, clip_epsilon=0.2,
        actor_learning_rate=1e-3, critic_learning_rate=2e-3, anneal_learning_rate=True,
        entropy_coef=0.01, max_grad_norm=0.5, value_clip=0.5, normalize_advantages=True,
        time_limit="bootstrap", reward_scale=1.0, hidden_size=16,
        std=("softplus",), seed=14, activation="tanh", objective="kl-penalty", kl_coef=1.0,
        adaptive_kl=0.002,
    ),
    "e": dict(
        num_envs=2, rollout_steps=256, epochs=3, minibatch_size=128, iterations=3,
        gamma=0.95, gae_lambda=0.9, clip_epsilon=0.2,
        actor_learning_rate=1e-3, critic_learning_rate=1e-3, anneal_learning_rate=True,
        entropy_coef=0.005, max_grad_norm=0.5, value_clip=0.3, normalize_advantages=True,
        time_limit="bootstrap", reward_scale=0.1, hidden_size=16,
        std=("log-std", 0.0, -5.0, 1.0), seed=15,
        objective="kl-penalty", kl_coef=0.5, adaptive_kl=0.0004, value_coef=2.0,
        shared_network=True,
    ),
    "f": dict(
        env="cartpole", num_envs=33, rollout_steps=128, epochs=2, minibatch_size=4100,
        iterations=1, gamma=0.99, gae_lambda=0.95, clip_epsilon=0.2,
        actor_learning_rate=1e-3, critic_learning_rate=1e-3, anneal_learning_rate=False,
        entropy_coef=0.01, max_grad_norm=0.5, value_clip=0.2, normalize_advantages=True,
        time_limit="bootstrap", reward_scale=1.0, hidden_size=16,
        std=("softplus",), seed=16, activation="tanh", minibatch_advantages=True,
    ),
}


def f32(x):
    return np.float32(x)


class Actor:
    """obs -> H -> H -> mu = 2 tanh(.) and sigma (softplus head, log-sigma head or clamped
    log-sigma vector), or one logit per choice."""

    def __init__(self, c, obs_size, choices, generator):
        self.std = c["std"]
        self.activation = torch.tanh if c["activation"] == "tanh" else torch.relu
        self.categorical = choices is not None
        hidden = c["hidden_size"]
        sizes = [obs_size, hidden, hidden]
        self.layers = [linear(i, o, generator) for i, o in zip(sizes[:-1], sizes[1:])]
        if self.categorical:
            self.logits = linear(hidden, choices, generator)
            return
        self.mean = linear(hidden, 1, generator)
        if self.std[0] in ("softplus", "log-std-head"):
            self.std_head = linear(hidden, 1, generator)
        else:
            self.log_std = torch.full((1,), self.std[1], dtype=torch.float32, requires_grad=True)

    def parameters(self):
        """In the crate's order: trunk (weight, bias) per layer, then the heads: mean, then the
        sigma head or the log-sigma vector; or the logits."""
        params = [p for layer in self.layers for p in layer]
        if self.categorical:
            return params + list(self.logits)
        params += list(self.mean)
        if self.std[0] in ("softplus", "log-std-head"):
            return params + list(self.std_head)
        return params + [self.log_std]

    def features(self, obs):
        h = obs
        for w, b in self.layers:
            h = self.activation(h @ w + b)
        return h

    def heads(self, h):
        if self.categorical:
            return (h @ self.logits[0] + self.logits[1],)
        mean = torch.tanh(h @ self.mean[0] + self.mean[1]) * ACTION_SCALE
        if self.std[0] == "softplus":
            std = F.softplus(h @ self.std_head[0] + self.std_head[1]) + MIN_STD
        elif self.std[0] == "log-std-head":
            _, low, high = self.std
            std = torch.exp(torch.clamp(h @ self.std_head[0] + self.std_head[1], low, high))
        else:
            _, _, low, high = self.std
            std = torch.exp(torch.clamp(self.log_std, low, high)).expand_as(mean)
        return mean, std

    def forward(self, obs):
        return self.heads(self.features(obs))


class Critic:
    """obs -> H -> H -> V; for a shared network only the value head, on the actor's features."""

    def __init__(self, c, obs_size, generator):
        hidden = c["hidden_size"]
        self.activation = torch.tanh if c["activation"] == "tanh" else torch.relu
        sizes = [] if c["shared_network"] else [obs_size, hidden, hidden]
        self.layers = [linear(i, o, generator) for i, o in zip(sizes[:-1], sizes[1:])]
        self.head = linear(hidden, 1, generator)

    def parameters(self):
        return [p for layer in self.layers for p in layer] + list(self.head)

    def forward(self, obs):
        """The values of `obs` (of the actor's features `obs`, for a shared network)."""
        h = obs
        for w, b in self.layers:
            h = self.activation(h @ w + b)
        return (h @ self.head[0] + self.head[1]).reshape(-1)


def linear(fan_in, fan_out, generator):
    """Weight [in, out] (the crate's layout) and bias, uniform in +-1/sqrt(fan_in) as nn.Linear."""
    bound = 1.0 / math.sqrt(fan_in)
    w = (torch.rand(fan_in, fan_out, generator=generator) * 2 - 1) * bound
    b = (torch.rand(fan_out, generator=generator) * 2 - 1) * bound
    return (w.requires_grad_(), b.requires_grad_())


def log_prob(params, action):
    """log pi(a), summed over action dimensions, in float64 from float32 inputs: the Normal's
    density, or the log-softmax at the chosen index."""
    if len(params) == 1:
        logp = torch.log_softmax(params[0].double(), dim=-1)
        return logp.gather(-1, action.long()).reshape(-1).float()
    mean, std = params
    z = (action.double() - mean.double()) / std.double()
    return (-0.5 * z * z - torch.log(std.double()) - HALF_LN_2PI).sum(-1).float()


def entropy(params):
    if len(params) == 1:
        logp = torch.log_softmax(params[0].double(), dim=-1)
        return -(logp.exp() * logp).sum(-1).float()
    return (0.5 + HALF_LN_2PI + torch.log(params[1].double())).sum(-1).float()


def sample_choice(logits, u):
    """The first choice whose cumulative weight exp(l - max l) exceeds u times their sum, in
    float64: inverse-CDF sampling with one uniform number."""
    weights = np.exp(logits.astype(np.float64) - float(logits.max()))
    target = u * weights.sum()
    partial = 0.0
    for j, w in enumerate(weights):
        partial += w
        if target < partial:
            return j
    return len(weights) - 1


def normalize(values):
    """Mean 0, standard deviation 1 (n - 1), in float64, as the crate's gae::normalize."""
    v = values.astype(np.float64)
    if len(v) < 2:
        return np.zeros_like(values)
    mean = v.sum() / len(v)
    std = math.sqrt(((v - mean) ** 2).sum() / (len(v) - 1))
    return ((v - mean) * (1.0 / (std + 1e-8))).astype(np.float32)


def normalized(rms, obs):
    """Gymnasium's NormalizeObservation, clipped as VecNormalize clips, rounded to float32."""
    z = (obs.astype(np.float64) - rms.mean) / np.sqrt(rms.var + NORMALIZE_EPSILON)
    return np.clip(z.astype(np.float32), -NORMALIZE_CLIP, NORMALIZE_CLIP)


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
    def __init__(self, params, lr, eps):
        self.optimizer = torch.optim.Adam(params, lr=lr, eps=eps)

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


class Envs:
    """Gymnasium's environments, each episode started at a state drawn here and recorded."""

    def __init__(self, c, rng):
        self.c, self.rng = c, rng
        self.cartpole = c["env"] == "cartpole"
        self.envs = [gymnasium.make("CartPole-v1" if self.cartpole else "Pendulum-v1")
                     for _ in range(c["num_envs"])]
        self.starts = [[] for _ in self.envs]
        self.obs_size = 4 if self.cartpole else 3
        self.choices = 2 if self.cartpole else None

    def start(self, e):
        if self.cartpole:
            state = tuple(self.rng.uniform(-0.05, 0.05, 4))
        else:
            state = (self.rng.uniform(-math.pi, math.pi), self.rng.uniform(-1.0, 1.0))
        self.starts[e].append(state)
        self.envs[e].reset(seed=0)
        self.envs[e].unwrapped.state = np.array(state)
        if self.cartpole:
            return np.array(state, dtype=np.float32)
        th, thdot = state
        return np.array([math.cos(th), math.sin(th), thdot], dtype=np.float32)


def run(name, c):
    c = {**DEFAULTS, **c}
    generator = torch.Generator().manual_seed(c["seed"])
    rng = np.random.default_rng(c["seed"])
    envs = Envs(c, rng)
    actor = Actor(c, envs.obs_size, envs.choices, generator)
    critic = Critic(c, envs.obs_size, generator)
    shared = c["shared_network"]
    out = {}
    record_config(out, c)
    for prefix, net in (("init.actor", actor), ("init.critic", critic)):
        for i, p in enumerate(net.parameters()):
            out[f"{prefix}.{i}"] = p.detach().numpy().copy()  # a copy: training changes p in place

    def value(obs):
        return critic.forward(actor.features(obs) if shared else obs)

    if shared:
        actor_adam = Adam(actor.parameters() + critic.parameters(), c["actor_learning_rate"],
                          c["adam_eps"])
        critic_adam = None
    else:
        actor_adam = Adam(actor.parameters(), c["actor_learning_rate"], c["adam_eps"])
        critic_adam = Adam(critic.parameters(), c["critic_learning_rate"], c["adam_eps"])
    n_envs, steps = c["num_envs"], c["rollout_steps"]
    batch = n_envs * steps
    obs_rms = RunningMeanStd(shape=(envs.obs_size,)) if c["normalize_observations"] else None
    return_rms = RunningMeanStd(shape=()) if c["normalize_rewards"] else None
    discounted = np.zeros(n_envs)
    ignore = c["time_limit"] == "ignore"
    stretch = [None] * n_envs

    raw_obs = np.stack([envs.start(e) for e in range(n_envs)])
    running_return = np.zeros(n_envs)
    running_length = np.zeros(n_envs, dtype=np.int64)
    noises, uniforms, orders = [], [], []
    stats = {k: [] for k in STAT_NAMES}
    kl_coef = f32(c["kl_coef"])

    for k in range(1, c["iterations"] + 1):
        fraction = f32(1.0) - f32(k - 1) / f32(c["iterations"]) if c["anneal_learning_rate"] else f32(1.0)
        actor_adam.set_lr(float(fraction * f32(c["actor_learning_rate"])))
        if critic_adam is not None:
            critic_adam.set_lr(float(fraction * f32(c["critic_learning_rate"])))
        entropy_coef = (fraction if c["anneal_entropy"] else f32(1.0)) * f32(c["entropy_coef"])

        # Phase 1: collect.
        buf = {key: [] for key in ("obs", "actions", "log_probs", "values", "rewards",
                                   "terminated", "truncated", "truncation_values")}
        episode_returns, episode_lengths = [], []
        with torch.no_grad():
            for _ in range(steps):
                obs = raw_obs
                if obs_rms is not None:
                    obs_rms.update(raw_obs.astype(np.float64))
                    obs = normalized(obs_rms, raw_obs)
                x = torch.from_numpy(obs)
                params = actor.forward(x)
                values = value(x).numpy()
                if envs.cartpole:
                    u = rng.random(n_envs)
                    uniforms.append(u)
                    logits = params[0].numpy()
                    choices = [sample_choice(logits[e], u[e]) for e in range(n_envs)]
                    action = torch.tensor(choices, dtype=torch.float32).reshape(n_envs, 1)
                else:
                    eps = torch.from_numpy(rng.standard_normal((n_envs, 1)).astype(np.float32))
                    noises.append(eps.numpy().reshape(-1))
                    action = params[0] + params[1] * eps
                logp = log_prob(params, action).numpy()
                rewards = np.zeros(n_envs, dtype=np.float32)
                terminated = np.zeros(n_envs, dtype=bool)
                truncated = np.zeros(n_envs, dtype=bool)
                truncation_values = np.zeros(n_envs, dtype=np.float32)
                next_obs = raw_obs.copy()
                for e in range(n_envs):
                    a = int(action[e, 0]) if envs.cartpole else action[e].numpy()
                    o, r, term, limit, _ = envs.envs[e].step(a)
                    trunc = limit and not ignore
                    rewards[e] = f32(r) * f32(c["reward_scale"])
                    terminated[e], truncated[e] = term, trunc
                    running_return[e] += r
                    running_length[e] += 1
                    if trunc:
                        final = o[None, :].astype(np.float32)
                        if obs_rms is not None:
                            final = normalized(obs_rms, final)
                        truncation_values[e] = value(torch.from_numpy(final)).numpy()[0]
                    if ignore and not term:
                        # The log is cut into stretches as long as the first one, which ended
                        # at the time limit; the episode goes on.
                        if limit and stretch[e] is None:
                            stretch[e] = running_length[e]
                        if stretch[e] == running_length[e]:
                            episode_returns.append(running_return[e])
                            episode_lengths.append(running_length[e])
                            running_return[e], running_length[e] = 0.0, 0
                        next_obs[e] = o
                    elif term or trunc:
                        episode_returns.append(running_return[e])
                        episode_lengths.append(running_length[e])
                        running_return[e], running_length[e] = 0.0, 0
                        next_obs[e] = envs.start(e)
                    else:
                        next_obs[e] = o
                if return_rms is not None:
                    # Gymnasium's NormalizeReward, environment by environment.
                    gamma = float(f32(c["gamma"]))
                    for e in range(n_envs):
                        discounted[e] = discounted[e] * gamma * (1 - terminated[e]) + float(rewards[e])
                        return_rms.update(np.array([discounted[e]]))
                    scale = math.sqrt(return_rms.var + NORMALIZE_EPSILON)
                    rewards = np.clip((rewards.astype(np.float64) / scale).astype(np.float32),
                                      -NORMALIZE_CLIP, NORMALIZE_CLIP)
                for key, v in (("obs", obs), ("actions", action.numpy()), ("log_probs", logp),
                               ("values", values), ("rewards", rewards),
                               ("terminated", terminated), ("truncated", truncated),
                               ("truncation_values", truncation_values)):
                    buf[key].append(np.array(v))
                raw_obs = next_obs
            last_obs = raw_obs if obs_rms is None else normalized(obs_rms, raw_obs)
            last_values = value(torch.from_numpy(last_obs)).numpy()
        b = {key: np.stack(v) for key, v in buf.items()}

        # Phase 2: estimate.
        advantages, returns = gae(c, b["rewards"], b["values"], b["terminated"], b["truncated"],
                                  b["truncation_values"], last_values)
        flat = lambda a: a.reshape(batch, *a.shape[2:])  # noqa: E731  step-major, as the crate
        advantages, returns = flat(advantages), flat(returns)
        values_flat = flat(b["values"])
        explained = explained_variance(values_flat, returns)
        per_minibatch = c["normalize_advantages"] and c["minibatch_advantages"]
        if c["normalize_advantages"] and not per_minibatch:
            advantages = normalize(advantages)
        obs_t = torch.from_numpy(flat(b["obs"]))
        act_t = torch.from_numpy(flat(b["actions"]))
        old_logp_t = torch.from_numpy(flat(b["log_probs"]))
        ret_t = torch.from_numpy(returns)
        old_v_t = torch.from_numpy(values_flat)

        # Phase 3: learn.
        totals = dict(value_loss=f32(0), policy_loss=f32(0), entropy=f32(0), approx_kl=f32(0), clip_fraction=f32(0))
        minibatches = 0
        stopped = False
        for _ in range(c["epochs"]):
            order = rng.permutation(batch)
            orders.append(order)
            for at in range(0, batch, c["minibatch_size"]):
                mb = order[at:at + c["minibatch_size"]]
                adv = normalize(advantages[mb]) if per_minibatch else advantages[mb]
                mb = torch.from_numpy(mb)
                actor_adam.optimizer.zero_grad()
                h = actor.features(obs_t[mb]) if shared else obs_t[mb]
                policy_total, s = policy_loss(c, actor.heads(h) if shared else actor.forward(h),
                                              act_t[mb], old_logp_t[mb], torch.from_numpy(adv),
                                              kl_coef, entropy_coef)
                if c["target_kl"] is not None and s["approx_kl"] > f32(1.5) * f32(c["target_kl"]):
                    stopped = True
                    break
                if shared:
                    v_loss = value_loss(c, critic.forward(h), ret_t[mb], old_v_t[mb])
                    (policy_total + v_loss * c["value_coef"]).backward()
                    actor_adam.step(actor.parameters() + critic.parameters(), c["max_grad_norm"])
                else:
                    policy_total.backward()
                    critic_adam.optimizer.zero_grad()
                    v_loss = value_loss(c, critic.forward(obs_t[mb]), ret_t[mb], old_v_t[mb])
                    (v_loss * c["value_coef"]).backward()
                    critic_adam.step(critic.parameters(), c["max_grad_norm"])
                    actor_adam.step(actor.parameters(), c["max_grad_norm"])
                totals["value_loss"] += f32(v_loss.item())
                for key in ("policy_loss", "entropy", "approx_kl", "clip_fraction"):
                    totals[key] += s[key]
                minibatches += 1
            if stopped:
                break
        m = f32(max(minibatches, 1))
        stats["timesteps"].append(k * batch)
        stats["episode_return"].append(np.mean(episode_returns) if episode_returns else float("nan"))
        stats["episode_length"].append(np.mean(episode_lengths) if episode_lengths else float("nan"))
        stats["explained_variance"].append(explained)
        stats["learning_rate"].append(fraction * f32(c["actor_learning_rate"]))
        for key in ("value_loss", "policy_loss", "entropy", "approx_kl", "clip_fraction"):
            stats[key].append(totals[key] / m)
        stats["minibatches"].append(minibatches)
        stats["kl_coef"].append(kl_coef)
        if c["adaptive_kl"] is not None and c["objective"] == "kl-penalty":
            kl = rollout_kl(actor, obs_t, act_t, old_logp_t)
            target = float(f32(c["adaptive_kl"]))
            if kl < target / 1.5:
                kl_coef = kl_coef / f32(2.0)
            elif kl > 1.5 * target:
                kl_coef = kl_coef * f32(2.0)
            stats["rollout_kl"].append(kl)
        else:
            stats["rollout_kl"].append(float("nan"))
        for key, v in (("obs", b["obs"]), ("rewards", b["rewards"]), ("advantages", advantages),
                       ("returns", returns)):
            out[f"iteration{k}.{key}"] = v

    for key, values in stats.items():
        out[f"stats.{key}"] = np.array(values, dtype=np.float64)
    if envs.cartpole:
        out["replay.uniform"] = np.concatenate(uniforms)
    else:
        out["replay.noise"] = np.concatenate(noises)
    out["replay.order"] = np.concatenate(orders).astype(np.float64)
    for e in range(n_envs):
        out[f"replay.starts.{e}"] = np.array(envs.starts[e], dtype=np.float64)
    # A shared network's one Adam holds the moments of the actor's parameters, then the value
    # head's: recorded under each network's name, as the crate's actor optimizer holds them.
    networks = (("final.actor", actor, actor_adam), ("final.critic", critic, critic_adam or actor_adam))
    for prefix, net, adam in networks:
        params = net.parameters()
        m_list, v_list = adam.moments(params)
        for i, (p, m_, v_) in enumerate(zip(params, m_list, v_list)):
            out[f"{prefix}.{i}"] = p.detach().numpy().copy()  # a copy: training changes p in place
            out[f"{prefix}.{i}.m"] = m_.numpy()
            out[f"{prefix}.{i}.v"] = v_.numpy()
    if obs_rms is not None:
        out["final.observation_stats.mean"] = obs_rms.mean
        out["final.observation_stats.var"] = obs_rms.var
        out["final.observation_stats.count"] = np.array([obs_rms.count])
    path = os.path.join(DATA, f"ppo_iteration_{name}.txt")
    write_fixture(path, out, header(name, c))
    print(f"wrote {path}: episode returns {stats['episode_return']}, minibatches "
          f"{stats['minibatches']}, kl_coef {stats['kl_coef']}, rollout_kl {stats['rollout_kl']}")


STAT_NAMES = ("timesteps", "episode_return", "episode_length", "approx_kl", "clip_fraction",
              "entropy", "policy_loss", "value_loss", "explained_variance", "learning_rate",
              "minibatches", "kl_coef", "rollout_kl")


def value_loss(c, values, returns, old_values):
    squared = (values - returns) ** 2
    if c["value_clip"] is None:
        return squared.mean()
    eps = c["value_clip"]
    clipped = old_values + torch.clamp(values - old_values, -eps, eps)
    return torch.maximum(squared, (clipped - returns) ** 2).mean()


def policy_loss(c, params, actions, old_log_probs, advantages, kl_coef, entropy_coef):
    """The policy objective (negated) minus the entropy bonus, and the minibatch's diagnostics."""
    new_log_probs = log_prob(params, actions)
    log_ratio = new_log_probs - old_log_probs
    ratio = torch.exp(log_ratio)
    eps = c["clip_epsilon"]
    if c["objective"] == "clip":
        per_sample = torch.minimum(ratio * advantages, torch.clamp(ratio, 1 - eps, 1 + eps) * advantages)
    elif c["objective"] == "spo":
        per_sample = ratio * advantages - advantages.abs() * (ratio - 1) ** 2 / (2 * eps)
    elif c["objective"] == "kl-penalty":
        per_sample = ratio * advantages - float(kl_coef) * ((ratio - 1) - log_ratio)
    else:
        raise ValueError(c["objective"])
    surrogate = -per_sample.mean()
    mean_entropy = entropy(params).mean()
    loss = surrogate - mean_entropy * float(entropy_coef)
    lr = log_ratio.detach().double().numpy()
    r32 = ratio.detach().numpy()
    return loss, dict(
        policy_loss=f32(surrogate.item()),
        entropy=f32(mean_entropy.item()),
        approx_kl=f32((np.expm1(lr) - lr).mean()),
        clip_fraction=f32((np.abs(r32 - f32(1.0)) > f32(eps)).mean()),
    )


def rollout_kl(actor, obs, actions, old_log_probs):
    """The mean over the rollout of (r - 1) - ln r with the actor as the update left it."""
    with torch.no_grad():
        new = log_prob(actor.forward(obs), actions).double().numpy()
    lr = new - old_log_probs.double().numpy()
    return float((np.expm1(lr) - lr).mean())


def record_config(out, c):
    for key in ("num_envs", "rollout_steps", "epochs", "minibatch_size", "iterations",
                "gamma", "gae_lambda", "clip_epsilon", "actor_learning_rate",
                "critic_learning_rate", "entropy_coef", "reward_scale", "hidden_size",
                "kl_coef", "value_coef", "adam_eps"):
        out[f"config.{key}"] = np.array([float(np.float32(c[key]))])
    for key in ("anneal_learning_rate", "normalize_advantages", "minibatch_advantages",
                "anneal_entropy", "normalize_observations", "normalize_rewards", "shared_network"):
        out[f"config.{key}"] = np.array([1.0 if c[key] else 0.0])
    out["config.time_limit_bootstrap"] = np.array([1.0 if c["time_limit"] == "bootstrap" else 0.0])
    out["config.time_limit"] = np.array([float(("bootstrap", "as-terminal", "ignore").index(c["time_limit"]))])
    out["config.activation_tanh"] = np.array([1.0 if c["activation"] == "tanh" else 0.0])
    out["config.cartpole"] = np.array([1.0 if c["env"] == "cartpole" else 0.0])
    out["config.objective"] = np.array([float(("clip", "spo", "kl-penalty").index(c["objective"]))])
    for key in ("max_grad_norm", "value_clip", "adaptive_kl", "target_kl"):
        out[f"config.{key}"] = np.array([float("nan") if c[key] is None else float(np.float32(c[key]))])
    if c["std"][0] == "softplus":
        out["config.std"] = np.array([0.0])
    elif c["std"][0] == "log-std":
        out["config.std"] = np.array([1.0, *[float(np.float32(x)) for x in c["std"][1:]]])
    else:
        out["config.std"] = np.array([2.0, *[float(np.float32(x)) for x in c["std"][1:]]])


def header(name, c):
    return (
        f"one whole PPO run of {c['iterations']} iterations, configuration '{name}': {c}\n"
        f"recorded by tools/pytorch_iteration.py with torch {torch.__version__}, gymnasium "
        f"{gymnasium.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}\n"
        "float32 networks and optimizers; log-probabilities and entropies in float64 from float32"
    )


if __name__ == "__main__":
    torch.set_num_threads(1)
    names = sys.argv[1:] or list(CONFIGS)
    for config_name in names:
        run(config_name, CONFIGS[config_name])
