"""Metric sinks: the run directory always (JSONL live, CSV at close), plus Weights & Biases on request.

Pictures (:mod:`zoo.run.media`: PNG images, GIF animations) are files of the run directory already; wandb logs them
too (``wandb.Image``, ``wandb.Video``).

This is the only module of the suite that imports wandb. wandb works with no network: the mode is offline
unless the user is logged in (or sets ``WANDB_MODE=online``); offline runs land under the run directory and
can be uploaded later with ``wandb sync RUN_DIR/wandb/offline-run-*``.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from zoo.errors import ConfigError
from zoo.run.config import LoggerConfig

LOGGER_KINDS = ("wandb", "csv", "none")


class Logger(Protocol):
    """Where metrics go: ``log(metrics, step)`` (and ``log_media``) any number of times, then ``close(summary)``
    once."""

    def log(self, metrics: Mapping[str, float], step: int) -> None: ...

    def log_media(self, media: Mapping[str, Path], step: int) -> None:
        """Pictures of ``step`` by key: ``.png`` images and ``.gif`` animations (:func:`zoo.run.media.step_media`)."""
        ...

    def close(self, summary: Mapping[str, Any] | None = None) -> None: ...


class RunDirLogger:
    """Appends one JSON object per ``log`` call to ``metrics.jsonl``; writes ``metrics.csv`` on close.

    On resume, lines past ``resume_step`` (written after the checkpoint being resumed) and any half-written
    last line are dropped, so the metrics file of a killed and resumed run reads as one clean run.
    """

    def __init__(self, run_dir: str | Path, resume_step: int | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.run_dir / "metrics.jsonl"
        if resume_step is not None:
            self._truncate_after(resume_step)
        self._fh = open(self.path, "a", encoding="utf-8")

    def log(self, metrics: Mapping[str, float], step: int) -> None:
        row = {"step": int(step), **{k: _jsonable(v) for k, v in metrics.items()}}
        self._fh.write(json.dumps(row) + "\n")
        self._fh.flush()

    def log_media(self, media: Mapping[str, Path], step: int) -> None:
        """Nothing to do: the pictures are files of the run directory already."""

    def close(self, summary: Mapping[str, Any] | None = None) -> None:
        self._fh.close()
        write_csv(read_metrics(self.path), self.run_dir / "metrics.csv")

    def _truncate_after(self, step: int) -> None:
        rows = [r for r in read_metrics(self.path) if r["step"] <= step]
        with open(self.path, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in rows)


class WandbLogger:
    """Mirrors metrics and the summary to a wandb run (offline unless logged in)."""

    def __init__(self, cfg: LoggerConfig, run_dir: str | Path, config: Mapping[str, Any], *, name: str,
                 group: str, job_type: str, run_id: str | None = None) -> None:
        import wandb  # imported here: a run with logger=csv never pays for it

        # wandb mistakes this suite's package named ``agents`` for an LLM-agents library and advertises Weave.
        os.environ.setdefault("WANDB_DISABLE_WEAVE", "true")
        self._wandb = wandb
        self.run = wandb.init(
            project=cfg.project, entity=cfg.entity, group=cfg.group or group, job_type=job_type, name=name,
            tags=list(cfg.tags), config=dict(config), dir=str(run_dir), mode=wandb_mode(cfg.mode),
            id=run_id, resume="allow" if run_id else None, reinit="finish_previous",
            settings=wandb.Settings(silent=True, console="off"),
        )

    @property
    def run_id(self) -> str:
        return self.run.id

    def log(self, metrics: Mapping[str, float], step: int) -> None:
        self.run.log({k: _jsonable(v) for k, v in metrics.items()}, step=int(step))

    def log_media(self, media: Mapping[str, Path], step: int) -> None:
        """A ``.gif`` as a ``wandb.Video`` (an animation), anything else as a ``wandb.Image``."""
        if not media:
            return
        wb = self._wandb
        self.run.log({k: wb.Video(str(p), format="gif") if Path(p).suffix == ".gif" else wb.Image(str(p))
                      for k, p in media.items()}, step=int(step))

    def log_table(self, key: str, columns: list[str], rows: list[list[Any]]) -> None:
        self.run.log({key: self._wandb.Table(columns=columns, data=rows)})

    def close(self, summary: Mapping[str, Any] | None = None) -> None:
        if summary:
            self.run.summary.update({k: _jsonable(v) for k, v in summary.items()})
        self.run.finish()


class MultiLogger:
    """Fans every call out to several loggers."""

    def __init__(self, loggers: list[Logger]) -> None:
        self.loggers = loggers

    def log(self, metrics: Mapping[str, float], step: int) -> None:
        for logger in self.loggers:
            logger.log(metrics, step)

    def log_media(self, media: Mapping[str, Path], step: int) -> None:
        for logger in self.loggers:
            logger.log_media(media, step)

    def close(self, summary: Mapping[str, Any] | None = None) -> None:
        for logger in self.loggers:
            logger.close(summary)

    def find(self, kind: type) -> Any | None:
        return next((lg for lg in self.loggers if isinstance(lg, kind)), None)


def make_logger(cfg: LoggerConfig, run_dir: str | Path, config: Mapping[str, Any], *, name: str, group: str,
                job_type: str, resume_step: int | None = None, wandb_id: str | None = None) -> MultiLogger:
    """The loggers ``cfg.kind`` asks for: the run directory's JSONL/CSV (unless ``none``), then wandb."""
    if cfg.kind not in LOGGER_KINDS:
        raise ConfigError(f"unknown logger '{cfg.kind}'; valid loggers: {', '.join(LOGGER_KINDS)}")
    loggers: list[Logger] = [] if cfg.kind == "none" else [RunDirLogger(run_dir, resume_step)]
    if cfg.kind == "wandb":
        loggers.append(WandbLogger(cfg, run_dir, config, name=name, group=group, job_type=job_type,
                                   run_id=wandb_id))
    return MultiLogger(loggers)


def log_table(run_dir: str | Path, key: str, columns: list[str], rows: list[list[Any]], *, name: str | None = None,
              cfg: LoggerConfig | None = None, job_type: str = "arena") -> str:
    """Log one ``wandb.Table`` (e.g. an arena's final ratings) as its own wandb run under ``run_dir``; returns the
    run id. The run is offline unless the user is logged in (``cfg.mode``, default ``auto``)."""
    cfg = cfg or LoggerConfig(kind="wandb")
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    logger = WandbLogger(cfg, run_dir, {"table": key}, name=name or key, group=cfg.group or "arena",
                         job_type=job_type)
    logger.log_table(key, columns, rows)
    run_id = logger.run_id
    logger.close()
    return run_id


def wandb_mode(mode: str) -> str:
    """Resolve ``auto``: ``WANDB_MODE`` if set, online when an API key is known, else offline."""
    valid = ("auto", "online", "offline", "disabled")
    if mode not in valid:
        raise ConfigError(f"unknown wandb mode '{mode}'; valid modes: {', '.join(valid)}")
    if mode != "auto":
        return mode
    if os.environ.get("WANDB_MODE"):
        return os.environ["WANDB_MODE"]
    return "online" if _wandb_logged_in() else "offline"


def _wandb_logged_in() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    netrc = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    try:
        return "api.wandb.ai" in netrc.read_text(encoding="utf-8")
    except OSError:
        return False


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a ``metrics.jsonl`` file; a half-written last line (a killed run) is skipped."""
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def write_csv(rows: list[dict[str, Any]], path: str | Path) -> None:
    """Write metric rows as CSV with the union of their keys as columns (``step`` first)."""
    columns = ["step"] + sorted({k for r in rows for k in r} - {"step"})
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
