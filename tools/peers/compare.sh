#!/bin/sh
# Median of 3 whole-process wall times of the crate's presets and of the peers, in one session.
# Run from the crate's root after `cargo build --release --bin pendulum`.
set -e
out=$(mktemp -d)
median() { sort -n | sed -n 2p; }
run() { for i in 1 2 3; do /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; done | median; }
uptime
echo "pendulum default, 1 thread:   $(run target/release/pendulum --quiet --threads 1 --out "$out/a") s"
echo "pendulum default, 2 threads:  $(run target/release/pendulum --quiet --threads 2 --out "$out/b") s"
echo "pendulum seed, 1 thread:      $(run target/release/pendulum --quiet --preset seed --threads 1 --out "$out/c") s"
echo "pendulum seed, 2 threads:     $(run target/release/pendulum --quiet --preset seed --threads 2 --out "$out/d") s"
echo "PyTorch port of seed:         $(run python3 tools/peers/ppo_seed_torch.py) s"
echo "Stable-Baselines3 (rl-zoo):   $(run python3 tools/peers/sb3_pendulum.py) s"
uptime
rm -rf "$out"
