"""Our PPO and DQN against Stable-Baselines3's on CartPole-v1 (and on our FrozenLake 4x4), one protocol for all.

Protocol (issue 4): train, and every ``--eval-every`` env steps play ``--eval-episodes`` greedy episodes on a
separate env; "solved" is a mean return >= 475 (CartPole) or a success rate of 1 (FrozenLake). A run stops when
solved or at its budget. Reported per agent: seeds solved, steps to solve (median), wall seconds to solve
(training only: evaluation time is excluded for every agent) and env steps per second of training.

- ours PPO / DQN: ``conf/agent/ppo.yaml`` / ``conf/agent/dqn.yaml`` as they are (what ``agent=ppo`` runs), driven
  by the same collect/update loop as ``zoo.runner``;
- SB3 PPO: SB3's defaults; SB3 DQN: the RL Zoo's CartPole-v1 hyperparameters (``agents.sb3.RLZOO``), each with
  one ``learn(budget)`` call and the evaluation in a callback.

Both sides run with one torch thread (``torch.set_num_threads(1)``), in one process, seeds interleaved.

    OMP_NUM_THREADS=1 python benchmarks/cartpole_vs_sb3.py [--seeds 0 1 2 3 4] [--out reports/cartpole_vs_sb3.json]
    OMP_NUM_THREADS=1 python benchmarks/cartpole_vs_sb3.py --env frozenlake --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium
import numpy as np
import torch
import yaml
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.callbacks import BaseCallback

import envs  # noqa: F401  (registers the zoo/ ids)
from agents import build_agent
from agents.dqn import DQNConfig
from agents.pg import PGConfig
from agents.sb3 import RLZOO

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {  # env -> (id, kwargs, budget per agent, solved(metrics))
    "cartpole": ("CartPole-v1", {}, {"ppo": 100_000, "dqn": 100_000}, lambda r, s: r >= 475.0),
    "frozenlake": ("zoo/FrozenLake4x4Det-v0", {}, {"ppo": 30_000, "dqn": 30_000}, lambda r, s: s >= 1.0),
}
FROZENLAKE_DQN = {"learning_starts": 500, "train_freq": 16, "gradient_steps": 8, "epsilon_decay_steps": 2500,
                  "lr": 1e-3, "hidden_size": 64}
"""Our DQN on FrozenLake: the CartPole defaults replay 128 minibatches per 256 steps; a 16-state grid needs fewer."""


def evaluate(policy: Callable[[np.ndarray], int], env: gymnasium.Env, episodes: int) -> tuple[float, float]:
    """Mean return and success rate of ``episodes`` greedy episodes."""
    returns, successes = [], []
    for _ in range(episodes):
        obs, info = env.reset()
        total, done = 0.0, False
        while not done:
            obs, reward, terminated, truncated, info = env.step(policy(obs))
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
        successes.append(float(info.get("is_success", False)))
    return float(np.mean(returns)), float(np.mean(successes))


class Clock:
    """Training wall time with evaluation excluded; records the first evaluation that counts as solved."""

    def __init__(self, env_name: str, eval_env: gymnasium.Env, args: argparse.Namespace) -> None:
        self.solved_fn, self.eval_env, self.args = SETTINGS[env_name][3], eval_env, args
        self.start, self.paused = time.perf_counter(), 0.0
        self.next_eval, self.solved_at, self.solved_wall, self.evals = args.eval_every, None, None, []

    def train_time(self) -> float:
        return time.perf_counter() - self.start - self.paused

    def maybe_eval(self, steps: int, policy: Callable[[np.ndarray], int]) -> bool:
        """Evaluate when ``steps`` passed the next multiple of eval_every; True once solved."""
        if steps < self.next_eval:
            return False
        t0 = time.perf_counter()
        wall = self.train_time()
        ret, success = evaluate(policy, self.eval_env, self.args.eval_episodes)
        self.evals.append((steps, ret, success))
        self.next_eval = (steps // self.args.eval_every + 1) * self.args.eval_every
        if self.solved_at is None and self.solved_fn(ret, success):
            # the evaluation milestone reached (ours collect whole rollouts, so they pass it by < 1 rollout)
            self.solved_at, self.solved_wall = steps // self.args.eval_every * self.args.eval_every, wall
        self.paused += time.perf_counter() - t0
        return self.solved_at is not None


def run_ours(algo: str, env_name: str, seed: int, args: argparse.Namespace) -> dict:
    """Our agent with its conf/agent YAML, the runner's collect/update loop."""
    env_id, kwargs, budgets, _ = SETTINGS[env_name]
    fields = yaml.safe_load((ROOT / "conf" / "agent" / f"{algo}.yaml").read_text())
    if algo == "dqn" and env_name == "frozenlake":
        fields.update(FROZENLAKE_DQN)
    cfg = (PGConfig if algo == "ppo" else DQNConfig)(**fields)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    if cfg.num_envs > 1:
        env = gymnasium.make_vec(env_id, num_envs=cfg.num_envs, vectorization_mode="sync", **kwargs)
        spaces = (env.single_observation_space, env.single_action_space)
    else:
        env = gymnasium.make(env_id, **kwargs)
        spaces = (env.observation_space, env.action_space)
    env.reset(seed=seed)
    eval_env = gymnasium.make(env_id, **kwargs)
    eval_env.reset(seed=seed + 1_000_003)
    agent = build_agent(cfg, *spaces, rng, "cpu")
    clock, steps = Clock(env_name, eval_env, args), 0
    while steps < budgets[algo]:
        batch = agent.collect(env)
        agent.update(batch)
        steps += batch.env_steps
        if clock.maybe_eval(steps, lambda o: agent.act(o, None, greedy=True)):
            break
    return _result(f"ours {algo.upper()}", seed, steps, clock)


class _EvalCallback(BaseCallback):
    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def _on_step(self) -> bool:
        policy = lambda o: int(self.model.predict(o, deterministic=True)[0])  # noqa: E731
        return not self.clock.maybe_eval(self.model.num_timesteps, policy)


def run_sb3(algo: str, env_name: str, seed: int, args: argparse.Namespace) -> dict:
    """SB3 PPO (defaults) or DQN (RL Zoo CartPole hyperparameters), evaluated from a callback."""
    env_id, kwargs, budgets, _ = SETTINGS[env_name]
    env = gymnasium.make(env_id, **kwargs)
    eval_env = gymnasium.make(env_id, **kwargs)
    eval_env.reset(seed=seed + 1_000_003)
    model = (PPO("MlpPolicy", env, seed=seed, verbose=0, device="cpu") if algo == "ppo"
             else DQN("MlpPolicy", env, seed=seed, verbose=0, device="cpu", **RLZOO["DQN"]))
    clock = Clock(env_name, eval_env, args)
    model.learn(budgets[algo], callback=_EvalCallback(clock))
    return _result(f"SB3 {algo.upper()}", seed, model.num_timesteps, clock)


def _result(label: str, seed: int, steps: int, clock: Clock) -> dict:
    train = clock.train_time()
    return {"agent": label, "seed": seed, "solved_at": clock.solved_at, "solved_wall_s": clock.solved_wall,
            "steps": steps, "train_s": train, "steps_per_s": steps / max(train, 1e-9), "evals": clock.evals}


def _milestone(r: dict) -> int | None:
    """The evaluation milestone (a multiple of eval_every) at which ``r`` was first solved."""
    if r["solved_at"] is None or not r["evals"]:
        return r["solved_at"]
    first = r["evals"][0][0]
    every = 10_000 if first >= 10_000 else 1000
    return r["solved_at"] // every * every


def table(results: list[dict]) -> str:
    """Markdown: one row per agent, medians over its seeds (steps/wall to solve over solved seeds only), the
    per-seed steps in ascending seed order whatever order the seeds ran in ("n/a" where an agent lacks a seed)."""
    results = [{**r, "solved_at": _milestone(r)} for r in results]
    seeds = sorted({r["seed"] for r in results})
    lines = [f"| agent | solved | steps to solve (median; per seed {', '.join(map(str, seeds))}) | wall s to solve "
             "(median) | env steps/s |", "|---|---|---|---|---|"]
    for label in dict.fromkeys(r["agent"] for r in results):
        rows = sorted((r for r in results if r["agent"] == label), key=lambda r: r["seed"])
        solved = [r for r in rows if r["solved_at"] is not None]
        by_seed = {r["seed"]: r for r in rows}  # "-": not solved; "n/a": this agent did not run the seed
        per_seed = ", ".join("n/a" if s not in by_seed else f"{by_seed[s]['solved_at'] // 1000}k"
                             if by_seed[s]["solved_at"] else "-" for s in seeds)
        median = f"{statistics.median(r['solved_at'] for r in solved):,.0f}" if solved else "-"
        steps = f"{median} ({per_seed})"
        wall = f"{statistics.median(r['solved_wall_s'] for r in solved):.1f}" if solved else "-"
        speed = statistics.median(r["steps_per_s"] for r in rows)
        lines.append(f"| {label} | {len(solved)}/{len(rows)} | {steps} | {wall} | {speed:,.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", choices=sorted(SETTINGS), default="cartpole")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--agents", nargs="+", default=["ours-ppo", "sb3-ppo", "ours-dqn", "sb3-dqn"])
    parser.add_argument("--eval-every", type=int, default=None, help="default: 10000 (cartpole), 1000 (frozenlake)")
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None, help="write all results (with eval curves) as JSON")
    parser.add_argument("--table-from", type=Path, default=None, help="print the table of a saved --out JSON")
    args = parser.parse_args()
    if args.table_from:
        print(table(json.loads(args.table_from.read_text(encoding="utf-8"))))
        return
    args.eval_every = args.eval_every or (10_000 if args.env == "cartpole" else 1000)
    torch.set_num_threads(1)
    results = []
    for seed in args.seeds:
        for name in args.agents:
            side, algo = name.split("-")
            r = (run_ours if side == "ours" else run_sb3)(algo, args.env, seed, args)
            results.append(r)
            print(f"{r['agent']:9s} seed {seed}: solved at {r['solved_at']} steps, {r['solved_wall_s']} s; "
                  f"{r['steps_per_s']:,.0f} steps/s", flush=True)
    print(table(results))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
