"""Gridworld speed: our FrozenLake 8x8 (slippery) against Gymnasium's ``FrozenLake8x8-v1``, same driver code.

Two measurements, each on both envs in one process, interleaved over several rounds (order alternating), the
median reported:

- ``q-learning``: env steps per second of tabular Q-learning (``agents.tabular.TabularAgent.collect``, the
  same agent code and seed on both) through ``gymnasium.make`` (with its ``TimeLimit`` and checker wrappers).
- ``env.step``: the raw unwrapped env stepping through a fixed sequence of random actions (reset on
  termination): the env's own cost.

    python benchmarks/gridworld_speed.py [--steps 200000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import gymnasium
import numpy as np

import envs  # noqa: F401  (registers the zoo/ ids)
from agents.tabular import TabularAgent, TabularConfig

ENVS = {"zoo/FrozenLake8x8-v0": "ours", "FrozenLake8x8-v1": "gymnasium"}


def q_learning_rate(env_id: str, steps: int, seed: int = 0) -> float:
    """Env steps/second of Q-learning episodes (default ``TabularConfig``) until ``steps`` steps are taken."""
    env = gymnasium.make(env_id)
    env.reset(seed=seed)
    agent = TabularAgent(TabularConfig(), env.observation_space, env.action_space, np.random.default_rng(seed))
    done = 0
    start = time.perf_counter()
    while done < steps:
        batch = agent.collect(env)
        agent.update(batch)
        done += batch.env_steps
    return done / (time.perf_counter() - start)


def env_step_rate(env_id: str, steps: int, seed: int = 0) -> float:
    """Raw ``env.unwrapped.step`` calls/second on a fixed random action sequence, resetting on termination."""
    env = gymnasium.make(env_id).unwrapped
    env.reset(seed=seed)
    actions = np.random.default_rng(seed).integers(0, 4, size=steps).tolist()
    step, reset = env.step, env.reset
    start = time.perf_counter()
    for action in actions:
        if step(action)[2]:
            reset()
    return steps / (time.perf_counter() - start)


def measure(fn: Callable[[str, int], float], steps: int, rounds: int) -> dict[str, float]:
    """Median rate per env over ``rounds`` interleaved rounds (the order flips every round)."""
    rates: dict[str, list[float]] = {env_id: [] for env_id in ENVS}
    order = list(ENVS)
    for _ in range(rounds):
        for env_id in order:
            rates[env_id].append(fn(env_id, steps))
        order.reverse()
    return {env_id: statistics.median(values) for env_id, values in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000, help="env steps per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; the median is reported")
    args = parser.parse_args()
    measure(env_step_rate, 10_000, 1)  # warm-up
    results = {
        "q-learning": measure(q_learning_rate, args.steps, args.rounds),
        "env.step": measure(env_step_rate, args.steps, args.rounds),
    }
    ours, theirs = ENVS
    print(f"FrozenLake 8x8 slippery, {args.steps} steps x {args.rounds} rounds, median steps/s")
    print(f"| loop | ours ({ours}) | gymnasium ({theirs}) | ratio ours/gymnasium |")
    print("|---|---:|---:|---:|")
    for loop, rates in results.items():
        print(f"| {loop} | {rates[ours]:,.0f} | {rates[theirs]:,.0f} | {rates[ours] / rates[theirs]:.2f}x |")


if __name__ == "__main__":
    main()
