"""The main job talks from the first second: a start banner (run directory, env, agent, net and size, self-play,
device, budget, evaluations, where it writes, how to resume), progress lines from the first update with the
self-play rate and the window's fill or the loss, and a first small evaluation early."""

from __future__ import annotations

from pathlib import Path

from conftest import compose

from zoo.launch import run_hooks
from zoo.run.logging import read_metrics
from zoo.run.loop import Run


def test_the_zero_banner_and_progress_lines(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "run"
    cfg = compose("env=go5", "agent=zero", "logger=csv", "steps=64", "agent.games=4", "agent.simulations=4",
                  "agent.moves_per_collect=8", "agent.min_replay=16", "agent.batch_size=16", "agent.best_games=2",
                  "eval.every=64", "eval.episodes=2", "eval.first=16", "eval.first_episodes=2", "device=cpu",
                  run_dir=str(run_dir))
    summary = Run(cfg, run_hooks()).train()
    err = capsys.readouterr().err
    banner, _, rest = err.partition("\ntrain 0/64 (0.0%)")
    assert banner.startswith("train: agent=zero on env=go5 (zoo/Go5x5-v0, opponent=random, agent_color=black)")
    for row in (f"run folder   {run_dir}",
                "net          resnet b2c32, global pooling, ownership head, score head (auto): 0.", " M params, ",
                " M MACs per position",
                "self-play    4 games x 4 simulations (Gumbel search), collects of 8 moves (32 positions)",
                "training     once finished games hold 16 positions", "device       cpu, ",
                "budget       64 env steps", "evaluation   at 16 steps (2 episodes), every 64 (2), at the end",
                "metrics      RUN_DIR/metrics.jsonl",
                f"resume       python train.py env=go5 agent=zero resume={run_dir}"):
        assert row in banner, row
    assert rest.startswith(" - steps/s elapsed 0:00:00 eta - first collect (self-play)")
    assert "first update: " in rest and " steps/s on this machine; 32 steps more take about " in rest
    assert "window " in rest or "loss " in rest
    assert " pos/s, " in rest  # the self-play rate from the first update
    assert "evaluating (2 episodes)" in rest
    evals = [r["step"] for r in read_metrics(run_dir / "metrics.jsonl") if "eval/win_random" in r]
    assert evals[0] == 32 and 64 in evals  # the first, small evaluation after the first collect, then the cadence
    assert summary["env_steps"] == 64


def test_a_run_without_a_described_agent_has_a_banner_and_a_first_small_evaluation(tmp_path: Path, capsys) -> None:
    run_dir = tmp_path / "run"
    cfg = compose("env=frozenlake4", "agent=q", "logger=none", "steps=3000", "eval.every=2000", "eval.episodes=20",
                  "eval.first=500", "eval.first_episodes=5", "checkpoint_every=0", run_dir=str(run_dir))
    Run(cfg, run_hooks()).train()
    err = capsys.readouterr().err
    assert err.startswith("train: agent=q on env=frozenlake4 (zoo/FrozenLake4x4-v0")
    assert "self-play" not in err and "net " not in err and "metrics " not in err
    assert "evaluation   at 500 steps (5 episodes), every 2,000 (20), at the end" in err


def test_the_first_evaluation_lands_in_the_metrics(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    cfg = compose("env=frozenlake4", "agent=q", "logger=csv", "progress=false", "steps=3000", "eval.every=2000",
                  "eval.episodes=20", "eval.first=500", "eval.first_episodes=5", run_dir=str(run_dir))
    Run(cfg, run_hooks()).train()
    steps = [r["step"] for r in read_metrics(run_dir / "metrics.jsonl") if "eval/return_mean" in r]
    assert 500 <= steps[0] < 2000 and 2000 <= steps[1] < 3000


def test_no_first_evaluation_when_it_is_not_before_the_cadence(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    cfg = compose("env=frozenlake4", "agent=q", "logger=csv", "progress=false", "steps=3000", "eval.every=1000",
                  "eval.episodes=20", "eval.first=2048", run_dir=str(run_dir))
    Run(cfg, run_hooks()).train()
    steps = [r["step"] for r in read_metrics(run_dir / "metrics.jsonl") if "eval/return_mean" in r]
    assert steps and min(steps) >= 1000
