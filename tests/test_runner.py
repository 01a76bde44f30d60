"""The runner end to end: run directory contents, resume, kill -9 and Ctrl-C safety, multirun."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import compose, subprocess_env, train_cmd

from zoo.errors import CheckpointError
from zoo.launch import run, run_hooks
from zoo.run.checkpoint import list_checkpoints, load_checkpoint
from zoo.run.logging import read_metrics
from zoo.run.loop import Run, RunHooks


def small(tmp_path: Path, *overrides: str):
    return compose("env=frozenlake4", "logger=csv", "progress=false", "steps=3000", "eval.every=1000",
                   "eval.episodes=20", "checkpoint_every=1000", *overrides, run_dir=str(tmp_path / "run"))


def test_run_writes_config_metrics_checkpoints_and_summary(tmp_path: Path) -> None:
    summary = run(small(tmp_path))
    run_dir = tmp_path / "run"
    assert {"config.json", "metrics.jsonl", "metrics.csv", "summary.json"} <= {p.name for p in run_dir.iterdir()}
    assert json.loads((run_dir / "config.json").read_text())["agent"]["name"] == "q"
    assert summary["env_steps"] >= 3000 and summary == json.loads((run_dir / "summary.json").read_text())
    rows = read_metrics(run_dir / "metrics.jsonl")
    assert [r["step"] for r in rows] == sorted(r["step"] for r in rows)
    assert any("eval/success_rate" in r for r in rows) and any("train/return_mean100" in r for r in rows)
    assert len(list_checkpoints(run_dir)) == 3  # keep_checkpoints


def test_resume_continues_from_the_checkpoint(tmp_path: Path) -> None:
    cfg = small(tmp_path)
    run(cfg)
    newest = list_checkpoints(tmp_path / "run")[-1]
    before = load_checkpoint(newest)
    summary = run(replace(cfg, steps=6000, resume=str(tmp_path / "run")))
    assert summary["env_steps"] >= 6000
    assert summary["episodes"] > before["counters"]["episodes"]
    steps = [r["step"] for r in read_metrics(tmp_path / "run" / "metrics.jsonl")]
    assert steps == sorted(steps) and steps[-1] >= 6000


def test_resume_refuses_another_agents_checkpoint(tmp_path: Path) -> None:
    run(small(tmp_path))
    other = compose("env=frozenlake4", "agent=vi", "logger=none", "progress=false",
                    f"resume={tmp_path / 'run'}", run_dir=str(tmp_path / "other"))
    with pytest.raises(CheckpointError, match="is of agent=q on env zoo/FrozenLake4x4-v0; this run is agent=vi"):
        run(other)



def test_the_run_loop_takes_its_evaluations_and_progress_text_as_hooks(tmp_path: Path) -> None:
    calls = []

    def evaluation(agent, env, episodes, run_dir, step, *, seed):
        calls.append((episodes, Path(run_dir), step, seed))
        return {"eval/extra": float(step)}

    hooks = RunHooks(evaluations=(evaluation,), progress_text=lambda last_eval, last_train: "hooked")
    r = Run(small(tmp_path, "steps=2000", "seed=3"), hooks)
    summary = r.train()
    steps = [c[2] for c in calls]  # two evaluations in the loop; the run ends on the second's step: no repeat
    assert len(steps) == 2 and 1000 <= steps[0] < 2000 <= steps[1] == summary["env_steps"]
    assert {c[:2] for c in calls} == {(20, tmp_path / "run")} and {c[3] for c in calls} == {3}
    assert summary["eval/extra"] == float(steps[1]) and r._metric_text() == "hooked"
    rows = read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert [row["eval/extra"] for row in rows if "eval/extra" in row] == [float(s) for s in steps]
    plain = Run(replace(small(tmp_path, "steps=1000"), run_dir=str(tmp_path / "plain")))  # no hooks: the generic loop
    assert plain.hooks == RunHooks() and "eval/extra" not in plain.train()
    calls.clear()  # a run that ends between evaluations gets a final one at its last step
    summary = Run(replace(small(tmp_path, "steps=2500", "seed=3"), run_dir=str(tmp_path / "between")), hooks).train()
    assert [c[2] for c in calls][-1] == summary["env_steps"] >= 2500 and len(calls) == 3


def test_the_launcher_hands_the_run_loop_the_go_evaluation_and_the_policy_picture() -> None:
    from zoo.play.go_eval import go_evaluation, go_progress_text
    from zoo.reporting.gridworld_policy import policy_picture

    hooks = run_hooks()
    assert list(hooks.evaluations) == [go_evaluation, policy_picture] and hooks.progress_text is go_progress_text
    assert go_progress_text({"eval/return_mean": 0.0}, {}) is None
    assert go_progress_text({"eval/win_random": 0.5, "eval/win_capture": 0.25}, {"train/loss": 1.5}) == \
        "win vs random 0.50, capture 0.25, loss 1.500"

def _start(tmp_path: Path, *overrides: str, steps: int = 100_000_000) -> subprocess.Popen:
    return subprocess.Popen(
        train_cmd("env=frozenlake8", "logger=csv", "progress=false", f"steps={steps}", "checkpoint_every=20000",
                  "eval.every=0", f"hydra.run.dir={tmp_path / 'run'}", *overrides),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env(), cwd=tmp_path,
        preexec_fn=_default_sigint)


def _default_sigint() -> None:
    """Ctrl-C as in a terminal, even when the tests themselves run in the background (where SIGINT is ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_checkpoints(proc: subprocess.Popen, run_dir: Path, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(list_checkpoints(run_dir)) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.05)


def _wait_for_metrics_past(proc: subprocess.Popen, run_dir: Path, step: int, timeout: float = 120) -> None:
    """Until ``metrics.jsonl`` (written live) holds a row logged after env step ``step``."""
    deadline = time.monotonic() + timeout
    path = run_dir / "metrics.jsonl"
    while not (path.exists() and any(r["step"] > step for r in read_metrics(path))):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"no metrics after step {step}"
        time.sleep(0.05)


def test_kill_9_then_resume_loses_only_work_since_the_checkpoint(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc = _start(tmp_path)
    _wait_for_checkpoints(proc, run_dir, 2)
    proc.kill()  # SIGKILL: no handler runs
    proc.wait(timeout=30)
    saved = load_checkpoint(list_checkpoints(run_dir)[-1])["counters"]["env_steps"]
    target = saved + 30000
    resumed = subprocess.run(
        train_cmd("env=frozenlake8", "logger=csv", "progress=false", f"steps={target}", "checkpoint_every=20000",
                  "eval.every=0", "eval.episodes=10", f"resume={run_dir}", f"hydra.run.dir={tmp_path / 'r2'}"),
        capture_output=True, text=True, env=subprocess_env(), cwd=tmp_path, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert not (tmp_path / "r2").exists(), "resume= writes into the resumed folder only"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["env_steps"] >= target
    rows = read_metrics(run_dir / "metrics.jsonl")
    steps = [r["step"] for r in rows]
    assert steps == sorted(steps), "metrics written after the checkpoint and before the kill must be dropped"
    logged = [(r["step"], key) for r in rows for key in r if key != "step"]
    assert len(logged) == len(set(logged)) and steps[-1] >= target
    assert not list((run_dir / "checkpoints").glob("*.tmp"))


def test_ctrl_c_writes_a_checkpoint_and_says_how_to_resume(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc = _start(tmp_path, steps=4_000_000)  # metrics rows every 20,000 steps, as often as checkpoints
    _wait_for_checkpoints(proc, run_dir, 1)
    periodic = load_checkpoint(list_checkpoints(run_dir)[-1])["counters"]["env_steps"]
    _wait_for_metrics_past(proc, run_dir, periodic)  # the run has moved on from its periodic checkpoint
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert f"resume={run_dir}" in out
    assert load_checkpoint(list_checkpoints(run_dir)[-1])["counters"]["env_steps"] > periodic


def test_multirun_makes_one_run_per_combination(tmp_path: Path) -> None:
    proc = subprocess.run(
        train_cmd("-m", "agent=q,sarsa", "env=frozenlake4,cliff", "seed=0", "steps=500", "eval.episodes=5",
                  "logger=csv", "progress=false", f"hydra.sweep.dir={tmp_path / 'sweep'}"),
        capture_output=True, text=True, env=subprocess_env(), cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    summaries = sorted((tmp_path / "sweep").glob("*/summary.json"))
    assert [p.parent.name for p in summaries] == ["cliff-q-seed0", "cliff-sarsa-seed0", "frozenlake4-q-seed0",
                                                  "frozenlake4-sarsa-seed0"]


def test_an_env_rejecting_its_arguments_is_a_config_error(tmp_path: Path) -> None:
    from zoo.errors import ConfigError

    with pytest.raises(ConfigError, match=r"rejected its arguments \{'slip': 2\}: slip must be in \[0, 1\]"):
        run(small(tmp_path, "env.kwargs.slip=2"))


def test_a_budget_rounds_up_to_whole_rollouts() -> None:
    from zoo.run.loop import planned_steps

    assert planned_steps(3000, 0, 2048) == (4096, 2048)
    assert planned_steps(3000, 2048, 2048) == (4096, 2048)  # a resumed run counts from where it stopped
    assert planned_steps(4096, 0, 2048) == (4096, 2048)
    assert planned_steps(3000, 0, None) == (3000, None)  # episodes of any length (tabular agents)
    assert compose("agent=ppo").agent.steps_per_collect == 2048
    assert compose("agent=dqn").agent.steps_per_collect == 256
