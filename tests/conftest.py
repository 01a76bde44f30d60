"""Shared test setup: tests never touch the network, and wandb runs offline in a temporary directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``gnugo`` need GNU Go: skipped where it is not installed, but failed under ``CI=true`` (CI
    installs it, so its absence there is a broken install, not a reason to test less)."""
    if item.get_closest_marker("gnugo") is None:
        return
    from zoo.play.gtp_client import find_gnugo

    if find_gnugo() is None:
        message = "GNU Go is not installed (apt-get install gnugo; Debian puts it at /usr/games/gnugo)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI=true requires it", pytrace=False)
        pytest.skip(message)


@pytest.fixture(autouse=True)
def _offline_wandb(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path_factory.getbasetemp()))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)


def train_cmd(*overrides: str) -> list[str]:
    """argv for ``python train.py OVERRIDES`` with the interpreter running the tests."""
    return [sys.executable, str(ROOT / "train.py"), *overrides]


def subprocess_env() -> dict[str, str]:
    """Environment for CLI subprocesses: offline wandb, no colour codes, one thread."""
    env = dict(os.environ)
    env.update({"WANDB_MODE": "offline", "WANDB_SILENT": "true", "NO_COLOR": "1", "OMP_NUM_THREADS": "1",
                "HYDRA_FULL_ERROR": "0"})
    env.pop("WANDB_API_KEY", None)
    return env


def compose(*overrides: str, run_dir: str = "runs/test"):
    """Compose ``conf/`` with Hydra's compose API and validate it as ``train.py`` does; returns a RunConfig."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    import train

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        cfg = hydra_compose(config_name="config", overrides=list(overrides))
    return train.to_run_config(cfg, run_dir)
