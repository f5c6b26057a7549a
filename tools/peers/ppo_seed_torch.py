"""The `seed` preset's design in PyTorch, on one thread: a measuring tool for chapter 14.

The same algorithm and sizes as `pendulum --preset seed` (the JAX/Flax Pendulum write-up's
table): one Gymnasium Pendulum-v1 that never resets (time limit ignored), rollouts of 2048
steps, 100,000 steps in all (49 rollouts, rounded up as the crate does), 10 epochs of
minibatches of 64, gamma 0.99, lambda 0.95, clip 0.2, Adam 3e-4 (actor) and 1e-3 (critic),
advantages normalized over the rollout, no gradient clipping, no entropy bonus; an actor
3-64-64 (ReLU) with a mean head 2*tanh and a softplus sigma head, a critic 3-64-64-1 (ReLU),
PyTorch's default initialization. Then 100 evaluation episodes of the deterministic policy.

It is written for speed the ordinary PyTorch way (float32, no autograd while acting), not
to reproduce the crate's random numbers: its return differs run to run; its time is what
the comparison is about.

    python3 tools/peers/ppo_seed_torch.py            # prints the final evaluation and seconds
"""

import sys
import time

import gymnasium as gym
import numpy as np
import torch
from torch import nn

torch.set_num_threads(1)
torch.manual_seed(1)
rng = np.random.default_rng(1)

STEPS, ROLLOUT, EPOCHS, MINIBATCH = 100_000, 2048, 10, 64
GAMMA, LAMBDA, CLIP = 0.99, 0.95, 0.2


class Actor(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(3, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.mean = nn.Linear(64, 1)
        self.std = nn.Linear(64, 1)

    def forward(self, obs):
        h = self.trunk(obs)
        return 2.0 * torch.tanh(self.mean(h)), nn.functional.softplus(self.std(h))


actor = Actor()
critic = nn.Sequential(nn.Linear(3, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
actor_opt = torch.optim.Adam(actor.parameters(), lr=3e-4, eps=1e-8)
critic_opt = torch.optim.Adam(critic.parameters(), lr=1e-3, eps=1e-8)

env = gym.make("Pendulum-v1").unwrapped  # no TimeLimit: one endless episode
obs, _ = env.reset(seed=1)
start = time.perf_counter()
updates = -(-STEPS // ROLLOUT)
for update in range(updates):
    observations = np.zeros((ROLLOUT, 3), np.float32)
    actions = np.zeros((ROLLOUT, 1), np.float32)
    log_probs = np.zeros(ROLLOUT, np.float32)
    values = np.zeros(ROLLOUT + 1, np.float32)
    rewards = np.zeros(ROLLOUT, np.float32)
    with torch.no_grad():
        for t in range(ROLLOUT):
            x = torch.as_tensor(obs, dtype=torch.float32).unsqueeze(0)
            mean, std = actor(x)
            dist = torch.distributions.Normal(mean, std)
            action = dist.sample()
            observations[t] = obs
            actions[t] = action.numpy()[0]
            log_probs[t] = dist.log_prob(action).item()
            values[t] = critic(x).item()
            obs, reward, _, _, _ = env.step(action.numpy()[0])
            rewards[t] = reward
        values[ROLLOUT] = critic(torch.as_tensor(obs, dtype=torch.float32).unsqueeze(0)).item()
    advantages = np.zeros(ROLLOUT, np.float32)
    gae = 0.0
    for t in reversed(range(ROLLOUT)):
        delta = rewards[t] + GAMMA * values[t + 1] - values[t]
        gae = delta + GAMMA * LAMBDA * gae
        advantages[t] = gae
    returns = torch.as_tensor(advantages + values[:ROLLOUT])
    adv = torch.as_tensor((advantages - advantages.mean()) / (advantages.std(ddof=1) + 1e-8))
    obs_t, act_t = torch.as_tensor(observations), torch.as_tensor(actions)
    old_t = torch.as_tensor(log_probs)
    for _ in range(EPOCHS):
        for batch in torch.as_tensor(rng.permutation(ROLLOUT)).split(MINIBATCH):
            value_loss = ((critic(obs_t[batch]).squeeze(-1) - returns[batch]) ** 2).mean()
            critic_opt.zero_grad()
            value_loss.backward()
            critic_opt.step()
            mean, std = actor(obs_t[batch])
            new = torch.distributions.Normal(mean, std).log_prob(act_t[batch]).squeeze(-1)
            ratio = torch.exp(new - old_t[batch])
            a = adv[batch]
            loss = -torch.min(ratio * a, torch.clamp(ratio, 1 - CLIP, 1 + CLIP) * a).mean()
            actor_opt.zero_grad()
            loss.backward()
            actor_opt.step()
trained = time.perf_counter() - start

episodes = int(sys.argv[1]) if len(sys.argv) > 1 else 100
eval_env = gym.make("Pendulum-v1")
scores = []
with torch.no_grad():
    for episode in range(episodes):
        obs, _ = eval_env.reset(seed=10_000 + episode)
        total, done = 0.0, False
        while not done:
            mean, _ = actor(torch.as_tensor(obs, dtype=torch.float32).unsqueeze(0))
            obs, reward, terminated, truncated, _ = eval_env.step(mean.numpy()[0])
            total += reward
            done = terminated or truncated
        scores.append(total)
print(f"final eval: mean return {np.mean(scores):.1f} ± {np.std(scores):.1f} over {episodes} "
      f"episodes; training {trained:.1f} s, total {time.perf_counter() - start:.1f} s")
