"""Stable-Baselines3's PPO on Pendulum-v1 for 100,000 steps, on one thread: a measuring tool
for chapter 14. The hyperparameters are the rl-baselines3-zoo's tuned ones for Pendulum-v1
(hyperparams/ppo.yml): 4 environments, n_steps 1024, gamma 0.9, gae_lambda 0.95, 10 epochs,
learning rate 1e-3, clip 0.2, gSDE (sde_sample_freq 4), batch size 64 (SB3's default). Then
100 evaluation episodes of the deterministic policy.

    python3 tools/peers/sb3_pendulum.py               # seed 1: the final evaluation and seconds
    python3 tools/peers/sb3_pendulum.py --seed 2      # another seed
    python3 tools/peers/sb3_pendulum.py --episodes 10 # a shorter evaluation

The evaluation episodes of seed S start from Gymnasium's resets seeded with 9999 + S.
"""

import argparse
import time

import torch
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

parser = argparse.ArgumentParser(description="Stable-Baselines3's tuned PPO on Pendulum-v1")
parser.add_argument("--seed", type=int, default=1, help="seed of training (default 1)")
parser.add_argument("--episodes", type=int, default=100, help="evaluation episodes (default 100)")
args = parser.parse_args()
if args.seed < 0 or args.episodes < 1:
    parser.error("--seed must be at least 0 and --episodes at least 1")

torch.set_num_threads(1)
start = time.perf_counter()
env = make_vec_env("Pendulum-v1", n_envs=4, seed=args.seed)
model = PPO("MlpPolicy", env, n_steps=1024, gamma=0.9, gae_lambda=0.95, n_epochs=10,
            learning_rate=1e-3, clip_range=0.2, use_sde=True, sde_sample_freq=4,
            ent_coef=0.0, seed=args.seed, device="cpu", verbose=0)
model.learn(total_timesteps=100_000)
trained = time.perf_counter() - start
episodes = args.episodes
mean, std = evaluate_policy(model, make_vec_env("Pendulum-v1", n_envs=1, seed=9_999 + args.seed),
                            n_eval_episodes=episodes, deterministic=True)
print(f"seed {args.seed}: final eval: mean return {mean:.1f} ± {std:.1f} over {episodes} episodes; "
      f"training {trained:.1f} s, total {time.perf_counter() - start:.1f} s")
