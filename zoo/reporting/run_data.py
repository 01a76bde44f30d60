"""Run directories as the reports read them: config, metric rows and summary of each run, grouped across seeds.

A run directory holds ``config.json`` (written by :mod:`zoo.run.loop`) with its ``metrics.jsonl`` (one JSON object
per log call: ``step`` = env steps, then metric names; ``metrics.csv`` from ``logger=csv`` is read too) and, once
finished, ``summary.json``. A folder whose run has only just started (no summary, no rows yet) is skipped.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import UserError
from zoo.run.config import env_run_name
from zoo.run.logging import read_metrics

X_AXES = {"env_steps": "step", "wall_time": "train/wall_time", "episodes": "train/episodes"}
"""``--x`` choices and the metric each reads (``step`` is the env-step counter of every row)."""
X_LABELS = {"env_steps": "env steps", "wall_time": "training wall time (s)", "episodes": "episodes (games)"}


@dataclass
class RunData:
    """One run directory: its config, metric rows (``step`` first, in logging order) and summary (or ``{}``)."""

    path: Path
    config: dict[str, Any]
    rows: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)

    def key(self, name: str) -> str:
        """The value of a ``--group-by`` key: ``env``/``agent`` are the choice names (``env=gym`` runs go by their
        Gymnasium id, ``gym-CartPole-v1``: :func:`~zoo.run.config.env_run_name`), others dotted config paths."""
        if name == "env":
            env = self.config.get("env")
            if isinstance(env, Mapping) and "name" in env:
                return env_run_name(str(env["name"]), str(env.get("id") or ""))
        path = {"env": "env.name", "agent": "agent.name"}.get(name, name)
        node: Any = self.config
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise UserError(f"run {self.path} has no config key '{path}' (--group-by {name}); "
                                f"valid keys include env, agent, seed, {', '.join(_config_keys(self.config))}")
            node = node[part]
        return str(node)

    @property
    def finished(self) -> bool:
        """Whether the run wrote its ``summary.json`` (an unfinished one is still training, or was killed)."""
        return bool(self.summary)

    def metrics(self) -> set[str]:
        """Names of every numeric metric logged by this run."""
        return {k for r in self.rows for k, v in r.items() if k != "step" and is_number(v)}

    def curve(self, metric: str, x: str = "env_steps") -> tuple[np.ndarray, np.ndarray]:
        """``(xs, ys)`` of the rows that logged ``metric``; ``x`` in :data:`X_AXES`.

        Rows that lack the x counter (evaluation rows of runs logged before the counters were added to them) take
        it by linear interpolation in env steps between the rows that have it.
        """
        col = X_AXES[x]
        picked = [r for r in self.rows if is_number(r.get(metric))]
        steps = np.array([r["step"] for r in picked], dtype=float)
        ys = np.array([r[metric] for r in picked], dtype=float)
        if col == "step":
            return steps, ys
        known = [(r["step"], r[col]) for r in self.rows if is_number(r.get(col))]
        if not known:
            raise UserError(f"run {self.path} logs no '{col}', so it has no {X_LABELS[x]} axis; use --x env_steps")
        ks, kv = np.array(known, dtype=float).T
        xs = np.array([r[col] if is_number(r.get(col)) else np.interp(r["step"], ks, kv, left=0.0)
                       for r in picked], dtype=float)
        return xs, ys

    def final(self, metric: str) -> float | None:
        """The final value of ``metric``: ``summary.json``'s when there, else the last logged one."""
        if is_number(self.summary.get(metric)):
            return float(self.summary[metric])
        values = [r[metric] for r in self.rows if is_number(r.get(metric))]
        return float(values[-1]) if values else None

    @property
    def env_steps(self) -> float:
        """Env steps trained (summary, else the last row's step)."""
        return float(self.summary.get("env_steps", self.rows[-1]["step"] if self.rows else 0))

    @property
    def wall_time(self) -> float:
        """Seconds of training (summary, else the last logged ``train/wall_time``)."""
        if is_number(self.summary.get("wall_time_s")):
            return float(self.summary["wall_time_s"])
        values = [r["train/wall_time"] for r in self.rows if is_number(r.get("train/wall_time"))]
        return float(values[-1]) if values else math.nan


def find_run_dirs(dirs: Sequence[str | Path]) -> list[Path]:
    """Every folder under ``dirs`` (each itself included) that holds a ``config.json``, sorted."""
    found: set[Path] = set()
    for d in dirs:
        root = Path(d)
        if not root.is_dir():
            raise UserError(f"--runs {d}: no such directory")
        found.update(p.parent for p in root.rglob("config.json") if p.parent.name != ".hydra")
    return sorted(found)


def load_run(path: str | Path) -> RunData:
    """Read one run directory; :class:`UserError` if its config or metrics are missing or unreadable."""
    path = Path(path)
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"run {path}: cannot read config.json ({exc})") from None
    if (path / "metrics.jsonl").is_file():
        rows = read_metrics(path / "metrics.jsonl")
    elif (path / "metrics.csv").is_file():
        rows = _read_csv(path / "metrics.csv")
    else:
        raise UserError(f"run {path} has no metrics.jsonl or metrics.csv (was it run with logger=none, or killed "
                        f"before its first log?); remove it from --runs or train it")
    if not rows:
        raise UserError(f"run {path}: metrics.jsonl holds no rows; remove it from --runs or train it")
    summary: dict[str, Any] = {}
    if (path / "summary.json").is_file():
        try:
            summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            summary = {}
    return RunData(path, config, rows, summary)


def load_runs(dirs: Sequence[str | Path]) -> list[RunData]:
    """All runs under ``dirs``; :class:`UserError` when there are none.

    A run that has just started (an empty ``metrics.jsonl`` and no ``summary.json`` yet) is left out.
    """
    paths = [p for p in find_run_dirs(dirs) if not _just_started(p)]
    if not paths:
        raise UserError(f"no runs under {', '.join(map(str, dirs))} (a run directory holds config.json and "
                        f"metrics.jsonl, as written by python train.py)")
    return [load_run(p) for p in paths]


def _just_started(path: Path) -> bool:
    metrics = path / "metrics.jsonl"
    return metrics.is_file() and not (path / "summary.json").exists() and not read_metrics(metrics)


def group_runs(runs: Iterable[RunData], keys: Sequence[str]) -> dict[tuple[str, ...], list[RunData]]:
    """Runs by the values of ``keys`` (e.g. ``("env", "agent")``), in sorted key order; each group's seeds."""
    groups: dict[tuple[str, ...], list[RunData]] = {}
    for run in runs:
        groups.setdefault(tuple(run.key(k) for k in keys), []).append(run)
    return dict(sorted(groups.items()))


def available_metrics(runs: Iterable[RunData]) -> list[str]:
    """Sorted union of the numeric metrics the runs logged."""
    return sorted(set().union(*(r.metrics() for r in runs)))


def check_metrics(metrics: Sequence[str], runs: Sequence[RunData]) -> None:
    """:class:`UserError` naming the first metric no run logged, and listing the available ones."""
    available = available_metrics(runs)
    for m in metrics:
        if m not in available:
            raise UserError(f"unknown metric '{m}'; available metrics: {', '.join(available)}")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _config_keys(config: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for k, v in config.items():
        if isinstance(v, Mapping):
            keys += _config_keys(v, f"{prefix}{k}.")
        elif k != "run_dir":
            keys.append(f"{prefix}{k}")
    return keys[:12]


def _read_csv(path: Path) -> list[dict[str, Any]]:
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for raw in csv.DictReader(fh):
            row: dict[str, Any] = {}
            for k, v in raw.items():
                if v in ("", None):
                    continue
                try:
                    row[k] = int(v) if k == "step" else float(v)
                except ValueError:
                    row[k] = v
            rows.append(row)
    return rows
