"""Self-play throughput on Ray: games/hour and positions/s with 1, 2, ... worker actors against one local process.

    python benchmarks/ray_selfplay.py                                  # 5x5, b2c32, 32 games x 16 sims, 60 s each
    python benchmarks/ray_selfplay.py --board 9 --games 64 --sims 32 --seconds 120 --workers 1 2 4

The peer is the local runner's self-play: the same agent collecting in this process (``agent.collect``), no
training, for the same time. Each Ray setting starts the workers of ``runner=ray`` (:class:`zoo.distributed.
SelfPlayWorker`, one CPU each), waits until they are built, then keeps every worker busy with collects for the
same time; workers load the weights once (version 0). Printed per setting: finished games per hour, positions
(moves) per second, the share of worker time inside the net's forward pass, and the ratio of positions/s to the
local process. Last, the same self-play with a free evaluator (uniform priors) gives the CPU-side ceiling of
one process: what rules, tree and features cost per position when the net runs on a GPU (the projection in
``reports/scale.md`` uses it). The machine's load average is printed before and after: on a shared machine
compare ratios from one run only.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

import envs  # noqa: F401  (registers the zoo/ ids)
from agents import build_agent
from agents.search.evaluator import UniformEvaluator
from agents.zero.config import ZeroConfig
from agents.zero.selfplay import SelfPlay
from zoo.run.config import EnvConfig, RunConfig, RunnerConfig
from zoo.run.make_env import make_env


def run_config(board: int, games: int, sims: int, moves: int) -> RunConfig:
    env = EnvConfig(name=f"go{board}", id=f"zoo/Go{board}x{board}-v0", kwargs={})
    agent = ZeroConfig(games=games, simulations=sims, moves_per_collect=moves)
    return RunConfig(env=env, agent=agent, runner=RunnerConfig(kind="ray", cpus_per_worker=1.0), device="cpu",
                     progress=False)


def local(cfg: RunConfig, seconds: float) -> dict[str, float]:
    """The local runner's self-play for ``seconds`` (after one warm-up collect)."""
    torch.set_num_threads(1)
    env = make_env(cfg.env, seed=0)
    agent = build_agent(cfg.agent, env.observation_space, env.action_space, np.random.default_rng(0), "cpu")
    agent.collect(env)
    games = positions = 0
    forward = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        batch = agent.collect(env)
        games, positions = games + len(batch.games), positions + batch.env_steps
        forward.append(batch.metrics["selfplay/forward_share"])
    wall = time.perf_counter() - start
    return {"games_per_h": games / wall * 3600, "positions_per_s": positions / wall, "forward": float(np.mean(forward))}


def search_only(cfg: RunConfig, seconds: float) -> dict[str, float]:
    """The same self-play with a free evaluator (uniform priors, value 0): the CPU-side ceiling of one process,
    i.e. what rules, tree and features cost when the net runs elsewhere (a GPU)."""
    env = make_env(cfg.env, seed=0)
    selfplay = SelfPlay(cfg.agent, env.unwrapped.game, UniformEvaluator(), np.random.default_rng(0))
    selfplay.play(1)
    positions, evals = selfplay.positions, selfplay.search.evaluator.positions
    games = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        games += len(selfplay.play(cfg.agent.moves_per_collect))
    wall = time.perf_counter() - start
    return {"games_per_h": games / wall * 3600, "positions_per_s": (selfplay.positions - positions) / wall,
            "evals_per_s": (selfplay.search.evaluator.positions - evals) / wall, "forward": 0.0}


def on_ray(ray: object, cfg: RunConfig, workers: int, seconds: float) -> dict[str, float]:
    """``workers`` SelfPlayWorker actors kept busy for ``seconds`` (after each one's warm-up collect)."""
    from zoo.scale.ray_selfplay import SelfPlayWorker

    actor = ray.remote(SelfPlayWorker).options(num_cpus=1)
    pool = [actor.remote(cfg, i, "cpu") for i in range(workers)]
    env = make_env(cfg.env, seed=0)
    net = build_agent(cfg.agent, env.observation_space, env.action_space, np.random.default_rng(0), "cpu").net
    weights = [ray.put({k: v.detach().clone() for k, v in net.state_dict().items()})]
    ray.get([w.collect.remote(0, weights) for w in pool])  # built, weights loaded, kernels warm
    pending = {w.collect.remote(0, weights): i for i, w in enumerate(pool)}
    games = positions = 0
    forward = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        ready, _ = ray.wait(list(pending), num_returns=1)
        i = pending.pop(ready[0])
        out = ray.get(ready[0])
        games, positions = games + len(out["games"]), positions + out["env_steps"]
        forward.append(out["metrics"]["selfplay/forward_share"])
        pending[pool[i].collect.remote(0, weights)] = i
    wall = time.perf_counter() - start
    for w in pool:
        ray.kill(w)
    return {"games_per_h": games / wall * 3600, "positions_per_s": positions / wall, "forward": float(np.mean(forward))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--board", type=int, default=5)
    parser.add_argument("--games", type=int, default=32, help="self-play games per process (B)")
    parser.add_argument("--sims", type=int, default=16)
    parser.add_argument("--moves", type=int, default=8, help="moves per game per collect")
    parser.add_argument("--seconds", type=float, default=60.0, help="timed seconds per setting")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    try:
        import ray
    except ImportError:
        parser.error('needs Ray: pip install -e ".[ray]"')
    cfg = run_config(args.board, args.games, args.sims, args.moves)
    print(f"{args.board}x{args.board}, {args.games} games x {args.sims} simulations per process, {args.seconds:g} s "
          f"per setting; {os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.1f}")
    rows = [("local process", local(cfg, args.seconds))]
    ceiling = search_only(cfg, min(args.seconds, 20.0))
    ray.init(num_cpus=max(os.cpu_count() or 1, max(args.workers)), include_dashboard=False, log_to_driver=False)
    try:
        for n in args.workers:
            rows.append((f"ray, {n} worker{'s' if n > 1 else ''}", on_ray(ray, cfg, n, args.seconds)))
    finally:
        ray.shutdown()
    base = rows[0][1]["positions_per_s"]
    print(f"{'setting':<18}{'games/h':>10}{'positions/s':>13}{'forward share':>15}{'x local':>9}")
    for name, r in rows:
        print(f"{name:<18}{r['games_per_h']:>10,.0f}{r['positions_per_s']:>13,.1f}{r['forward']:>15.2f}"
              f"{r['positions_per_s'] / base:>9.2f}")
    print(f"search without a net (CPU-side ceiling of one process): {ceiling['positions_per_s']:,.0f} positions/s, "
          f"{ceiling['evals_per_s']:,.0f} leaf evaluations/s")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
