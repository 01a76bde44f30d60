"""Kill -9 and resume is exact: a run killed after its checkpoint at T1 and resumed to T2 ends in the same state
as a run that went to T2 uninterrupted, bit for bit on the CPU: net weights, optimizer state, replay contents,
every random generator, the self-play games (zero) or the episode (dqn) in progress, and the counters.

Each case trains three processes of ``python train.py``: A (uninterrupted to T2, a checkpoint after every
collect and update), B (the same command towards a far larger budget, checkpointing at T1 only, SIGKILLed as soon
as that checkpoint exists, while it trains on), and B resumed with ``resume=RUN_DIR`` to T2, again with a
checkpoint after every update. Every checkpoint of the resumed run, from the first update after T1 to T2, equals
A's at the same step. Only what cannot be equal differs: the config (budget, checkpoints, ``resume=``), wall time
and the wandb id.
"""

from __future__ import annotations

import math
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest
import torch
from conftest import subprocess_env, train_cmd

import envs  # noqa: F401  (registers the zoo envs)
from agents import build_agent
from agents.zero import ZeroConfig
from zoo.run.checkpoint import checkpoint_path, list_checkpoints, load_checkpoint, save_checkpoint
from zoo.run.config import EnvConfig
from zoo.run.make_env import EpisodeRecorder, make_env

T1, T2, EVERY = 320, 640, 32
"""Env steps of the checkpoint the killed run is resumed from, of the end of both runs, and of one collect (both
agents below play 32 env steps per collect)."""

ZERO = ("env=go5", "agent=zero", "agent.games=4", "agent.simulations=4", "agent.moves_per_collect=8",
        "agent.min_replay=16", "agent.batch_size=16", "agent.replay_size=100", "agent.best_games=0", "eval.every=0",
        "eval.episodes=0", "seed=5")
"""Self-play of 4 games x 8 moves per collect (32 positions); training starts with the first finished games, and
the window's ring wraps before T1."""

DQN = ("env=gym", "env.id=CartPole-v1", "agent=dqn", "agent.learning_starts=64", "agent.train_freq=32",
       "agent.gradient_steps=4", "agent.batch_size=32", "agent.buffer_size=200", "agent.target_update_every=8",
       "agent.epsilon_decay_steps=400", "agent.hidden_size=32", "agent.save_replay=true", "eval.every=160",
       "eval.episodes=2", "seed=3")
"""A buffer smaller than T1 (its ring wraps), evaluations before and after T1 (they draw from the agent's
generator as many times as their episodes are long), episodes that run across collects and checkpoints."""

COMMON = ("logger=csv", "progress=false", "device=cpu", "keep_checkpoints=100")

IGNORED = {("config",), ("counters", "wall_time"), ("extra", "wandb_id")}
"""Checkpoint entries that differ between the runs by nature: the command line, time, the wandb run."""


def differences(a: Any, b: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Where ``a`` and ``b`` (nested dicts and lists of tensors, arrays and plain values) differ: tensors and
    arrays by dtype, shape and every element (NaN equal to NaN), floats exactly; one line per difference."""
    where = "/".join(path) or "<root>"
    if path in IGNORED:
        return []
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        out = [f"{where}: keys only in one: {sorted(set(a) ^ set(b))}"] if set(a) != set(b) else []
        for key in sorted(set(a) & set(b), key=str):
            out += differences(a[key], b[key], (*path, str(key)))
        return out
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        same = a.dtype == b.dtype and a.shape == b.shape and (torch.equal(a, b) or (
            a.is_floating_point() and bool(((a == b) | (a.isnan() & b.isnan())).all())))
        return [] if same else [f"{where}: tensors differ ({a.dtype}{tuple(a.shape)} vs {b.dtype}{tuple(b.shape)})"]
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        same = a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        return [] if same else [f"{where}: arrays differ ({a.dtype}{a.shape} vs {b.dtype}{b.shape})"]
    if isinstance(a, Sequence) and isinstance(b, Sequence) and not isinstance(a, str) and not isinstance(b, str):
        if len(a) != len(b):
            return [f"{where}: lengths {len(a)} and {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, (*path, str(i)))]
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return []
    if type(a) is not type(b) or a != b:
        return [f"{where}: {a!r} != {b!r}"]
    return []


def _train(run_dir: Path, cwd: Path, overrides: Sequence[str], *extra: str) -> None:
    """Train to T2 with a checkpoint after every collect."""
    result = subprocess.run(train_cmd(*overrides, *COMMON, f"steps={T2}", f"checkpoint_every={EVERY}",
                                      f"hydra.run.dir={run_dir}", *extra),
                            capture_output=True, text=True, env=subprocess_env(), cwd=cwd, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


def _kill_after_checkpoint(run_dir: Path, cwd: Path, overrides: Sequence[str], timeout: float = 120) -> None:
    """Start the run towards a budget far past T2 and SIGKILL it as soon as its checkpoint at T1 exists (written
    by an atomic rename: it exists whole or not at all); it is then training on past T1."""
    proc = subprocess.Popen(train_cmd(*overrides, *COMMON, f"steps={100 * T2}", f"checkpoint_every={T1}",
                                      f"hydra.run.dir={run_dir}"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=subprocess_env(),
                            cwd=cwd)
    try:
        deadline = time.monotonic() + timeout
        while not checkpoint_path(run_dir, T1).exists():
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.monotonic() < deadline, f"no checkpoint at {T1} steps"
            time.sleep(0.01)
        proc.kill()  # SIGKILL: no handler runs, nothing is saved
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -9


def _check_resume_is_exact(tmp_path: Path, overrides: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run A, B killed, B resumed (see the module docstring); once every checkpoint of B from T1 to T2 equals A's,
    return the checkpoint B was resumed from and the final one."""
    straight, killed = tmp_path / "a", tmp_path / "b"
    _train(straight, tmp_path, overrides)
    _kill_after_checkpoint(killed, tmp_path, overrides)
    assert [p.name for p in list_checkpoints(killed)] == [checkpoint_path(killed, T1).name], (
        "the run was killed before its next checkpoint, so resume=RUN_DIR continues from T1")
    _train(killed, tmp_path, overrides, f"resume={killed}")
    steps = range(T1, T2 + 1, EVERY)
    assert [p.name for p in list_checkpoints(killed)] == [checkpoint_path(killed, s).name for s in steps]
    for step in steps:  # T1 (saving changes nothing), the first update after resuming, ..., T2
        a, b = (load_checkpoint(checkpoint_path(d, step)) for d in (straight, killed))
        assert a["counters"]["env_steps"] == b["counters"]["env_steps"] == step
        diff = differences(a, b)
        assert not diff, f"at {step} env steps the resumed run differs from the uninterrupted one:\n" + "\n".join(
            diff[:30])
    return load_checkpoint(checkpoint_path(killed, T1)), b


def test_zero_resumed_after_kill_9_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    resumed_from, final = _check_resume_is_exact(tmp_path, ZERO)
    at_t1 = resumed_from["agent"]
    assert at_t1["replay"]["added"] > 100 and at_t1["learner"]["steps"] > 0, "at T1 the window wrapped, and trained"
    games = at_t1["selfplay"]
    assert games["moves"].min() > 0 and games["search"]["size"].max() > 1, "games and kept trees in progress at T1"
    assert final["agent"]["learner"]["steps"] > at_t1["learner"]["steps"] and final["agent"]["games_played"] > 0


@pytest.mark.slow
def test_zero_with_katago_heads_resumed_after_kill_9_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    """The same with the auxiliary targets, the score utility and global pooling on: their replay targets, heads
    and optimizer state come back exactly too."""
    katago = ("agent.ownership_weight=1.5", "agent.score_weight=0.02", "agent.score_utility=0.2", "net=resnet",
              "net.preset=b2c32", "net.global_pool=true")
    resumed_from, final = _check_resume_is_exact(tmp_path, (*ZERO, *katago))
    replay = resumed_from["agent"]["replay"]
    assert "ownership" in replay and not np.isnan(np.asarray(replay["score"], np.float32)).all()
    assert final["agent"]["learner"]["steps"] > resumed_from["agent"]["learner"]["steps"]


def test_dqn_resumed_after_kill_9_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    resumed_from, final = _check_resume_is_exact(tmp_path, DQN)
    assert resumed_from["agent"]["replay"]["size"] == 200 and resumed_from["agent"]["grad_steps"] > 0, (
        "at T1 the buffer's ring wrapped, and trained")
    assert len(resumed_from["episode"]["env"]["actions"]) > 0, "an episode in progress at T1"
    assert final["agent"]["grad_steps"] > resumed_from["agent"]["grad_steps"]


@pytest.mark.parametrize("value", [0.0, float("nan")])
def test_differences_sees_every_kind_of_entry(value: float) -> None:
    base = {"w": torch.tensor([1.0, value]), "a": np.array([1, 2]), "x": [1, {"y": value}], "config": {"s": 1},
            "counters": {"env_steps": 5, "wall_time": 1.0}}
    assert differences(base, {**base, "config": {"s": 2}, "counters": {"env_steps": 5, "wall_time": 9.0}}) == []
    assert differences(base, {**base, "w": torch.tensor([1.5, value])}) == ["w: tensors differ (torch.float32(2,) "
                                                                            "vs torch.float32(2,))"]
    assert differences(base, {**base, "a": np.array([1, 2], np.int32)})[0].startswith("a: arrays differ")
    assert differences(base, {**base, "x": [1, {"y": 1.0}]}) == [f"x/1/y: {value!r} != 1.0"]
    assert differences(base, {**base, "z": 1}) == ["<root>: keys only in one: ['z']"]


def test_an_episode_recorder_puts_a_new_env_where_the_recorded_one_stands(tmp_path: Path) -> None:
    cfg = EnvConfig(name="frozenlake8", id="zoo/FrozenLake8x8-v0")  # slippery: every step draws from np_random
    env = make_env(cfg, seed=0, recorded=True)
    assert isinstance(env, EpisodeRecorder)
    for action in (1, 2, 2, 1, 2):
        if env.step(action)[2]:
            env.reset()
    state = load_checkpoint(save_checkpoint(tmp_path / "c.pt", {"episode": env.state_dict()}))["episode"]
    copy = make_env(cfg, seed=7, recorded=True)
    assert copy.load_state_dict(state)
    assert copy.unwrapped.np_random.bit_generator.state == env.unwrapped.np_random.bit_generator.state
    assert [copy.step(a)[:3] for a in (2, 1, 1, 2)] == [env.step(a)[:3] for a in (2, 1, 1, 2)]
    assert not make_env(cfg, recorded=True).load_state_dict({**state, "last_obs": 1 - state["last_obs"]}), (
        "a replay that does not reach the recorded observation says so")


def test_zero_continues_its_games_in_progress_from_its_state_dict(tmp_path: Path) -> None:
    cfg = ZeroConfig(games=4, simulations=4, moves_per_collect=6, min_replay=1, batch_size=16, replay_size=40)
    env = gymnasium.make("zoo/Go5x5-v0")

    def agent(seed: int) -> Any:
        torch.manual_seed(seed)
        return build_agent(cfg, env.observation_space, env.action_space, np.random.default_rng(seed))

    first = agent(0)
    for _ in range(8):  # past the window's capacity: its ring has wrapped
        first.update(first.collect(env))
    second = agent(1)
    second.load_state_dict(load_checkpoint(save_checkpoint(tmp_path / "c.pt", {"agent": first.state_dict()}))["agent"])
    for _ in range(2):
        a, b = first.update(first.collect(env)), second.update(second.collect(env))
        assert {k: v for k, v in a.items() if "_per_s" not in k and "share" not in k} == {
            k: v for k, v in b.items() if "_per_s" not in k and "share" not in k}
    assert differences(first.state_dict(), second.state_dict()) == []
    assert second.state_dict()["selfplay"] is not None
    second.restart_selfplay()
    assert second.state_dict()["selfplay"] is None
