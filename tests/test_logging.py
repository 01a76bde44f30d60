"""Metric sinks: the run directory files, and wandb in offline mode (the mode that checks what is logged)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from zoo.run.config import LoggerConfig  # noqa: E402
from zoo.run.logging import RunDirLogger, WandbLogger, make_logger, read_metrics, wandb_mode  # noqa: E402


def test_run_dir_logger_writes_jsonl_and_csv(tmp_path: Path) -> None:
    logger = RunDirLogger(tmp_path)
    logger.log({"loss": 1.5}, step=10)
    logger.log({"eval/return_mean": 0.25}, step=20)
    logger.close()
    assert read_metrics(tmp_path / "metrics.jsonl") == [{"step": 10, "loss": 1.5},
                                                        {"step": 20, "eval/return_mean": 0.25}]
    assert (tmp_path / "metrics.csv").read_text().splitlines() == ["step,eval/return_mean,loss", "10,,1.5", "20,0.25,"]


def test_resume_drops_rows_after_the_checkpoint_and_a_torn_last_line(tmp_path: Path) -> None:
    rows = [{"step": s, "x": s} for s in (10, 20, 30)]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"step": 40, "x"')
    logger = RunDirLogger(tmp_path, resume_step=20)
    logger.log({"x": 25}, step=25)
    logger.close()
    assert [r["step"] for r in read_metrics(tmp_path / "metrics.jsonl")] == [10, 20, 25]


def test_wandb_offline_run_lands_in_the_run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import wandb

    monkeypatch.delenv("WANDB_DIR", raising=False)
    logger = make_logger(LoggerConfig(kind="wandb", mode="offline"), tmp_path, {"seed": 1}, name="r", group="cliff",
                         job_type="q")
    wandb_logger = logger.find(WandbLogger)
    assert wandb_logger.run.group == "cliff" and wandb_logger.run.job_type == "q"
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    logger.log({"loss": 0.5}, step=1)
    wandb_logger.run.log({"curve": wandb.Image(fig)}, step=2)  # figures go through wandb.Image: offline checks it
    wandb_logger.log_table("ladder", ["player", "elo"], [["q", 1000.0]])
    logger.close({"final": 1.0})
    plt.close(fig)
    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and list(runs[0].glob("run-*.wandb"))


def test_wandb_mode_auto(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
    assert wandb_mode("auto") == "offline"
    (tmp_path / "netrc").write_text("machine api.wandb.ai\n  login user\n  password x\n")
    assert wandb_mode("auto") == "online"
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert wandb_mode("auto") == "offline"
    assert wandb_mode("online") == "online"
    with pytest.raises(ValueError, match="valid modes: auto, online, offline, disabled"):
        wandb_mode("cloud")
