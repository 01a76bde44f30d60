"""The README's main commands, as a user types them, at the smallest budgets: train, play, arena and ladder, GTP,
report. Each runs in its own process from the repository root; each asserts what the command must leave behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, subprocess_env, train_cmd


def run(argv: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, cwd=ROOT, env=subprocess_env(), input=stdin, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{' '.join(argv)}\n{done.stderr[-2000:]}"
    return done


def module(name: str, *args: str) -> list[str]:
    return [sys.executable, "-m", name, *args]


@pytest.fixture(scope="module")
def go5_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python train.py env=go5 agent=zero`` with two collects' worth of steps and one evaluation."""
    folder = tmp_path_factory.mktemp("readme") / "run"
    run(train_cmd("env=go5", "agent=zero", "steps=64", "agent.games=4", "agent.simulations=4",
                  "agent.moves_per_collect=8", "agent.min_replay=16", "agent.batch_size=16", "agent.best_games=2",
                  "eval.every=32", "eval.episodes=2", "logger=csv", "progress=false", f"hydra.run.dir={folder}"))
    return folder


def test_train_leaves_a_run_directory(go5_run: Path) -> None:
    assert json.loads((go5_run / "summary.json").read_text())["env_steps"] >= 64
    assert list((go5_run / "checkpoints").glob("ckpt-*.pt")) and list((go5_run / "sgf").glob("*.sgf"))
    assert (go5_run / "metrics.csv").read_text().startswith("step")


def test_play_go_plays_the_checkpoint(go5_run: Path, tmp_path: Path) -> None:
    out = run(module("zoo.play_go", "--checkpoint", str(go5_run), "--opponent", "capture", "--games", "2",
                     "--simulations", "4", "--sgf", str(tmp_path / "sgf")))
    assert "capture" in out.stdout and len(list((tmp_path / "sgf").glob("*.sgf"))) == 2
    assert "zero vs capture on 5x5, komi 24: " in out.stdout and "GoGame(" not in out.stdout
    assert "Warning" not in out.stderr, out.stderr[-2000:]


def test_arena_then_ladder(go5_run: Path, tmp_path: Path) -> None:
    ladder = tmp_path / "go5.json"
    run(module("zoo.arena", "--board", "5", "--players", "random", "capture", f"zero={go5_run}@sims=4",
               "--games", "2", "--ladder", str(ladder), "--sgf", str(tmp_path / "sgf")))
    table = run(module("zoo.arena", "ladder", str(ladder))).stdout
    assert all(name in table for name in ("random", "capture", "zero"))
    assert len(list((tmp_path / "sgf").rglob("*.sgf"))) == 6


def test_gtp_serves_the_checkpoint(go5_run: Path) -> None:
    out = run(module("zoo.gtp", "--checkpoint", str(go5_run), "--simulations", "4"),
              stdin="1 boardsize 5\n2 genmove b\n3 quit\n").stdout
    assert out.startswith("=1 \n\n=2 ") and "=3" in out


def test_report_over_the_run(go5_run: Path, tmp_path: Path) -> None:
    run(module("zoo.report", "smoke", "--runs", str(go5_run.parent), "--out", str(tmp_path), "--no-plots"))
    text = (tmp_path / "smoke.md").read_text()
    assert "go5" in text and "zero" in text
