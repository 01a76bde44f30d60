"""runner=ray: self-play on Ray actors feeding the learner; shards, worker faults, and the one-line errors."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT, compose, subprocess_env, train_cmd

import train
from agents.zero.selfplay import FinishedGame
from zoo.errors import ConfigError, UserError
from zoo.run.checkpoint import list_checkpoints, load_checkpoint
from zoo.run.config import RunnerConfig
from zoo.run.loop import resolve_device

ray = pytest.importorskip("ray")

from zoo.scale.ray_selfplay import RayRun, connect, read_shard, run_ray, write_shard  # noqa: E402

# Games capped at 12 moves on 5x5, so every collect of 4 moves finishes games within a few collects.
TINY = ("env=go5", "agent=zero", "runner=ray", "agent.games=4", "agent.simulations=4", "agent.moves_per_collect=4",
        "agent.max_moves_factor=0.5", "agent.min_replay=16", "agent.batch_size=16", "eval.every=0",
        "eval.episodes=2", "logger=csv", "progress=false")


def tiny(tmp_path: Path, *overrides: str):
    return compose(*TINY, *overrides, run_dir=str(tmp_path / "run"))


# -- config and errors (fast) ------------------------------------------------------------------------------------


def test_the_runner_group_is_validated() -> None:
    assert compose().runner == RunnerConfig()
    cfg = compose("runner=ray", "runner.workers=3", "runner.address=auto")
    assert (cfg.runner.kind, cfg.runner.workers, cfg.runner.address) == ("ray", 3, "auto")
    with pytest.raises(UserError, match="valid: auto, bf16, fp16, fp32"):
        compose("runner.precision=fp8")
    assert "valid keys: kind, workers, address" in train.check_cli_overrides(["runner.wrkers=2"])
    assert "local, ray" in train.check_cli_overrides(["runner=slurm"])


def test_an_unreachable_address_is_one_line() -> None:
    with pytest.raises(ConfigError, match=r"cannot reach the Ray cluster at runner.address=127.0.0.1:1 "):
        connect(RunnerConfig(kind="ray", address="127.0.0.1:1"))
    with pytest.raises(ConfigError, match="is not HOST:PORT; valid: auto"):
        connect(RunnerConfig(kind="ray", address="headnode"))


def test_the_cli_says_an_unreachable_address_in_one_line(tmp_path: Path) -> None:
    cmd = train_cmd(*TINY, "runner.address=127.0.0.1:1", f"hydra.run.dir={tmp_path / 'run'}")
    done = subprocess.run(cmd, cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach the Ray cluster"), done.stderr
    assert not list_checkpoints(tmp_path / "run")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message given where there is no GPU")
def test_a_gpu_asked_for_without_cuda_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"runner.gpus_per_worker=0.5 but CUDA is not available"):
        run_ray(tiny(tmp_path, "runner.gpus_per_worker=0.5"))
    with pytest.raises(ConfigError, match="device=cuda but CUDA is not available"):
        resolve_device("cuda")


def test_runner_ray_needs_a_self_playing_agent(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="only agent=zero plays"):
        run_ray(compose("env=frozenlake4", "agent=q", "runner=ray", run_dir=str(tmp_path)))


def test_a_shard_round_trips_and_leaves_no_temp_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    games = [FinishedGame(rng.integers(0, 255, (n, 7), dtype=np.uint8), rng.random((n, 26)).astype(np.float32),
                          rng.choice([-1, 1], n).astype(np.int8), list(range(n + 2)), 1, False) for n in (3, 5)]
    path = write_shard(tmp_path, 40, 1, 64, games)
    assert [p.name for p in tmp_path.iterdir()] == [path.name] and path.name.startswith("000000000040-w1-")
    shard = read_shard(path)
    np.testing.assert_array_equal(shard["planes"], np.concatenate([g.planes for g in games]))
    np.testing.assert_array_equal(shard["z"], np.concatenate([g.z for g in games]))
    assert shard["policy"].dtype == np.float16 and shard["policy"].shape == (8, 26)
    assert shard["moves"].tolist() == [5, 7] and shard["meta"].tolist() == [40, 1, 64]


def test_a_shard_keeps_the_auxiliary_targets_of_its_games(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)

    def game(n: int, counted: bool) -> FinishedGame:
        owners = rng.integers(-1, 2, (n, 25)).astype(np.int8) if counted else None
        score = rng.integers(-20, 20, n).astype(np.float32) + 0.5 if counted else None
        return FinishedGame(rng.integers(0, 255, (n, 7), dtype=np.uint8), rng.random((n, 26)).astype(np.float32),
                            rng.choice([-1, 1], n).astype(np.int8), list(range(n)), 1, not counted, None, owners, score)

    games = [game(3, True), game(2, False), game(4, True)]  # the second resigned: no targets
    shard = read_shard(write_shard(tmp_path, 0, 0, 9, games))
    np.testing.assert_array_equal(shard["ownership"][:3], games[0].ownership)
    np.testing.assert_array_equal(shard["ownership"][5:], games[2].ownership)
    assert shard["score"].dtype == np.float16 and np.isnan(shard["score"][3:5]).all()
    np.testing.assert_array_equal(shard["score"][5:], games[2].score)
    assert "ownership" not in read_shard(write_shard(tmp_path, 9, 0, 9, [game(2, False)]))


# -- runs on a local Ray instance (slow: Ray and the workers take seconds to start) -------------------------------


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local Ray instance for the module's runs (the runner joins it instead of starting its own)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.mission
@pytest.mark.slow
def test_two_workers_feed_the_learner(tmp_path: Path, local_ray: None) -> None:
    # Long enough for the slower-starting worker to deliver on a loaded machine (a worker starts in seconds).
    run = RayRun(tiny(tmp_path, "steps=960"))
    summary = run.train()
    assert summary["env_steps"] >= 960 and run.agent.learner.steps > 0
    assert all(n > 0 for n in run.games_by_worker), run.games_by_worker
    shards = sorted((run.run_dir / "shards").glob("*.npz"))
    assert {p.name.split("-")[1] for p in shards} == {"w0", "w1"}
    # Every position the learner trained on is in a shard, in the order it was added.
    assert sum(len(read_shard(p)["z"]) for p in shards) == run.agent.replay.added == len(run.agent.replay)
    assert load_checkpoint(list_checkpoints(run.run_dir)[-1])["counters"]["env_steps"] == summary["env_steps"]


class KillOnce(RayRun):
    """Kills worker 0 after the learner's second batch (``no_restart``: whether Ray may restart it)."""

    no_restart = False
    killed_at: int | None = None

    def collect(self):
        if self.counters.updates == 2 and self.killed_at is None:
            self.killed_at = self.collects_by_worker[0]
            ray.kill(self.workers[0], no_restart=self.no_restart)
        return super().collect()


class HoldWorker1(KillOnce):
    """After the kill, worker 1 gets no new collect until worker 0 has delivered one (so the test cannot end
    before the restarted worker is back, however fast worker 1 plays)."""

    def _submit(self, worker: int) -> None:
        if worker == 1 and self.killed_at is not None and self.collects_by_worker[0] <= self.killed_at:
            return
        super()._submit(worker)


@pytest.mark.slow
def test_a_killed_worker_is_restarted_and_the_run_goes_on(tmp_path: Path, local_ray: None) -> None:
    run = HoldWorker1(tiny(tmp_path, "steps=192"))
    summary = run.train()
    assert summary["env_steps"] >= 192
    # The collect the kill interrupted fails once; when the kill lands while worker 0 holds no collect (its last one
    # delivered, the next not yet sent), nothing fails and the restarted actor simply takes the next one.
    assert run.failures in ([1, 0], [0, 0])
    assert run.collects_by_worker[0] > run.killed_at  # the restarted worker delivered again


class KillForGood(KillOnce):
    no_restart = True


@pytest.mark.slow
def test_a_worker_that_keeps_failing_stops_the_run_with_a_message(tmp_path: Path, local_ray: None) -> None:
    cfg = tiny(tmp_path, "steps=100000", "runner.max_restarts=1")
    run = KillForGood(cfg)
    with pytest.raises(UserError, match=r"self-play worker 0 failed 2 times \(runner.max_restarts=1\)"):
        run.train()
    run.stop_workers()
    # The learner's checkpoint is intact, and a resumed run takes back every game of the shards.
    newest = load_checkpoint(list_checkpoints(run.run_dir)[-1])
    assert newest["counters"]["updates"] >= 2
    shards = sorted((run.run_dir / "shards").glob("*.npz"))
    resumed = RayRun(tiny(tmp_path, "steps=1", f"resume={run.run_dir}"))
    try:
        assert resumed.agent.replay.added == sum(len(read_shard(p)["z"]) for p in shards) > 0
    finally:
        resumed.stop_workers()
