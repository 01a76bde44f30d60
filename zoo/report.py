"""Comparison reports from local run directories: markdown tables and PNG learning curves, no network.

    python -m zoo.report NAME --runs DIR [DIR ...] [--group-by env,agent] [--x env_steps,wall_time]
                         [--metric eval/success_rate ...] [--reference vi] [--target [ENV:]METRIC=VALUE ...]
                         [--band minmax|se] [--logx] [--out reports/NAME.md]

A run directory is any folder under ``--runs`` holding ``config.json`` (written by :mod:`zoo.runner`) with its
``metrics.jsonl`` (one JSON object per log call: ``step`` = env steps, then metric names) and, once finished,
``summary.json``. Runs are grouped by ``--group-by`` keys across seeds: ``env`` and ``agent`` name the env and agent
choices, any other key is a dotted path into ``config.json`` (``agent.gamma``, ``net.kind``, ``seed``).

The report (``--out``, default ``reports/NAME.md``) has, per metric, a table of final values (mean +- standard error
over seeds; the s.e. is the sample standard deviation over sqrt(runs)), env steps, training wall time and the
number of runs, and PNG plots in ``reports/NAME/``: the metric against env steps and against training wall time,
one line per group (the mean over seeds, interpolated on a common grid) with a band over seeds (``--band minmax``:
from the lowest to the highest seed; ``--band se``: mean +- 1 s.e.). ``--reference AGENT`` adds the gap of every
group to that group's mean on the same env (e.g. the value-iteration optimum); ``--target`` adds the env steps and
wall time each seed needed to first reach ``METRIC >= VALUE``. Text between ``<!-- keep -->`` and ``<!-- /keep -->``
in an existing report (a reading of the results) is carried into the regenerated one.

Metric names are the runner's, the same for every agent: ``step`` (env steps), ``train/wall_time`` (seconds of
training, evaluation excluded), ``train/episodes`` (episodes, i.e. games for self-play agents), ``eval/*``.

For ladders, :func:`plot_elo_vs_training` (Elo of checkpoints against their env steps or wall time) and
:func:`plot_elo_vs_cost` (Elo of nets against parameters, multiply-adds or latency) take :class:`EloPoint` rows,
so any report can call them: from a ladder file (:func:`ladder_points`, through :mod:`zoo.ratings`) or from plain
``(player, elo, lo, hi)`` rows (:func:`ladder_rows`), with costs filled in from checkpoints
(:func:`checkpoint_cost`) or net statistics; :func:`ladder_table` renders them.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import shlex
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import UserError
from zoo.logging import read_metrics

X_AXES = {"env_steps": "step", "wall_time": "train/wall_time", "episodes": "train/episodes"}
"""``--x`` choices and the metric each reads (``step`` is the env-step counter of every row)."""
X_LABELS = {"env_steps": "env steps", "wall_time": "training wall time (s)", "episodes": "episodes (games)"}
BANDS = ("minmax", "se")
DEFAULT_METRICS = ("eval/success_rate", "eval/return_mean")
KEEP_START, KEEP_END = "<!-- keep -->", "<!-- /keep -->"


# ---------------------------------------------------------------------------------------------------- runs
@dataclass
class RunData:
    """One run directory: its config, metric rows (``step`` first, in logging order) and summary (or ``{}``)."""

    path: Path
    config: dict[str, Any]
    rows: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)

    def key(self, name: str) -> str:
        """The value of a ``--group-by`` key: ``env``/``agent`` are the choice names, others dotted config paths."""
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
        return {k for r in self.rows for k, v in r.items() if k != "step" and _is_number(v)}

    def curve(self, metric: str, x: str = "env_steps") -> tuple[np.ndarray, np.ndarray]:
        """``(xs, ys)`` of the rows that logged ``metric``; ``x`` in :data:`X_AXES`.

        Rows that lack the x counter (evaluation rows of runs logged before the counters were added to them) take
        it by linear interpolation in env steps between the rows that have it.
        """
        col = X_AXES[x]
        picked = [r for r in self.rows if _is_number(r.get(metric))]
        steps = np.array([r["step"] for r in picked], dtype=float)
        ys = np.array([r[metric] for r in picked], dtype=float)
        if col == "step":
            return steps, ys
        known = [(r["step"], r[col]) for r in self.rows if _is_number(r.get(col))]
        if not known:
            raise UserError(f"run {self.path} logs no '{col}', so it has no {X_LABELS[x]} axis; use --x env_steps")
        ks, kv = np.array(known, dtype=float).T
        xs = np.array([r[col] if _is_number(r.get(col)) else np.interp(r["step"], ks, kv, left=0.0)
                       for r in picked], dtype=float)
        return xs, ys

    def final(self, metric: str) -> float | None:
        """The final value of ``metric``: ``summary.json``'s when there, else the last logged one."""
        if _is_number(self.summary.get(metric)):
            return float(self.summary[metric])
        values = [r[metric] for r in self.rows if _is_number(r.get(metric))]
        return float(values[-1]) if values else None

    @property
    def env_steps(self) -> float:
        """Env steps trained (summary, else the last row's step)."""
        return float(self.summary.get("env_steps", self.rows[-1]["step"] if self.rows else 0))

    @property
    def wall_time(self) -> float:
        """Seconds of training (summary, else the last logged ``train/wall_time``)."""
        if _is_number(self.summary.get("wall_time_s")):
            return float(self.summary["wall_time_s"])
        values = [r["train/wall_time"] for r in self.rows if _is_number(r.get("train/wall_time"))]
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


# ---------------------------------------------------------------------------------------------- statistics
@dataclass(frozen=True)
class Stat:
    """Mean and standard error over ``n`` seeds (``se`` is NaN for one seed)."""

    mean: float
    se: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Stat:
        v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
        if len(v) == 0:
            return cls(math.nan, math.nan, 0)
        se = float(np.std(v, ddof=1) / math.sqrt(len(v))) if len(v) > 1 else math.nan
        return cls(float(np.mean(v)), se, len(v))

    def text(self, digits: int | None = 3) -> str:
        """``mean ± se`` with ``digits`` decimals (``None``: three significant digits), ``-`` for no value."""
        if self.n == 0:
            return "-"
        fmt = _sig if digits is None else (lambda v: f"{v:.{digits}f}")
        return fmt(self.mean) if math.isnan(self.se) else f"{fmt(self.mean)} ± {fmt(self.se)}"


@dataclass(frozen=True)
class Band:
    """A group's curve on a common x grid: mean over seeds with a lower and upper band."""

    x: np.ndarray
    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def seed_band(curves: Sequence[tuple[np.ndarray, np.ndarray]], band: str = "minmax", points: int = 200) -> Band:
    """Mean over seeds on a common grid (linear interpolation), with a ``minmax`` or ``se`` (+-1 s.e.) band.

    The grid spans where every seed has data: from the largest first x to the smallest last x (one seed: all of
    its points). Curves with no points are ignored; :class:`ValueError` if none has any.
    """
    if band not in BANDS:
        raise UserError(f"unknown band '{band}'; valid bands: {', '.join(BANDS)}")
    curves = [(np.asarray(x, float), np.asarray(y, float)) for x, y in curves if len(x)]
    if not curves:
        raise ValueError("no curve has any point")
    if len(curves) == 1:
        x, y = curves[0]
        return Band(x, y, y.copy(), y.copy())
    start, stop = max(x[0] for x, _ in curves), min(x[-1] for x, _ in curves)
    union = np.unique(np.concatenate([x for x, _ in curves]))
    grid = union[(union >= start) & (union <= stop)]
    if len(grid) > points:
        grid = np.linspace(start, stop, points)
    if len(grid) == 0:
        grid = np.array([stop])
    ys = np.stack([np.interp(grid, x, y) for x, y in curves])
    mean = ys.mean(axis=0)
    if band == "minmax":
        return Band(grid, mean, ys.min(axis=0), ys.max(axis=0))
    se = ys.std(axis=0, ddof=1) / math.sqrt(len(curves))
    return Band(grid, mean, mean - se, mean + se)


def first_reach(xs: np.ndarray, ys: np.ndarray, target: float) -> float | None:
    """The first x at which ``ys >= target``, or ``None`` if never."""
    hit = np.flatnonzero(np.asarray(ys) >= target)
    return float(np.asarray(xs)[hit[0]]) if len(hit) else None


# ----------------------------------------------------------------------------------------------- the report
@dataclass(frozen=True)
class Target:
    """``[ENV:]METRIC=VALUE``: the first time ``METRIC >= VALUE`` (on ``ENV`` only, when given)."""

    metric: str
    value: float
    env: str | None = None

    @classmethod
    def parse(cls, text: str) -> Target:
        m = re.fullmatch(r"(?:([^:=]+):)?([^=]+)=(.+)", text.strip())
        try:
            if m is None:
                raise ValueError
            return cls(m.group(2), float(m.group(3)), m.group(1))
        except ValueError:
            raise UserError(f"bad --target '{text}'; expected [ENV:]METRIC=VALUE, e.g. "
                            f"frozenlake8:eval/success_rate=0.7") from None


@dataclass
class ReportSpec:
    """What :func:`write_report` builds; the CLI's options."""

    name: str
    runs: list[str]
    out: Path
    group_by: list[str] = field(default_factory=lambda: ["env", "agent"])
    xs: list[str] = field(default_factory=lambda: ["env_steps", "wall_time"])
    metrics: list[str] = field(default_factory=list)
    """Empty: whichever of :data:`DEFAULT_METRICS` the runs logged."""
    reference: str | None = None
    targets: list[Target] = field(default_factory=list)
    band: str = "minmax"
    logx: bool = False
    title: str | None = None
    command: str | None = None
    plots: bool = True
    """``False``: tables only."""


def write_report(spec: ReportSpec) -> Path:
    """Load the runs, write the markdown report and its PNG plots; returns the report's path."""
    for x in spec.xs:
        if x not in X_AXES:
            raise UserError(f"unknown --x '{x}'; valid: {', '.join(X_AXES)}")
    if spec.band not in BANDS:
        raise UserError(f"unknown band '{spec.band}'; valid bands: {', '.join(BANDS)}")
    runs = load_runs(spec.runs)
    metrics = spec.metrics or [m for m in DEFAULT_METRICS if m in available_metrics(runs)]
    if not metrics:
        raise UserError(f"the runs log none of {', '.join(DEFAULT_METRICS)}; name one with --metric; "
                        f"available metrics: {', '.join(available_metrics(runs))}")
    check_metrics(metrics + [t.metric for t in spec.targets], runs)
    groups = group_runs(runs, spec.group_by)
    fig_dir = spec.out.parent / spec.out.stem
    fig_dir.mkdir(parents=True, exist_ok=True)
    panel_key = "env" if "env" in spec.group_by and len(spec.group_by) > 1 else None

    lines = [f"# {spec.title or spec.name}", ""]
    kept = _kept_text(spec.out)
    if kept:
        lines += [KEEP_START, kept, KEEP_END, ""]
    band_text = ("from the lowest to the highest seed" if spec.band == "minmax" else "mean ± 1 standard error")
    lines += [
        f"Generated by `{spec.command or 'python -m zoo.report ' + spec.name}` from {len(runs)} runs "
        f"in {', '.join(f'`{d}`' for d in spec.runs)}; grouped by {', '.join(spec.group_by)}.",
        "Final values are the mean ± standard error over seeds (runs); wall time is training time "
        "(evaluation excluded), on the machine that ran them.",
        f"Curves: the mean over seeds; the band is {band_text}.",
        "",
    ]
    lines += _summary_table(groups, spec)
    for metric in metrics:
        lines += _final_table(groups, metric, spec)
    if spec.targets:
        lines += _target_table(groups, spec)
    lines += ["## Learning curves", ""] if spec.plots else []
    for metric in metrics if spec.plots else []:
        for panel, members in _panels(groups, spec.group_by, panel_key).items():
            for x in spec.xs:
                curves = {label: [r.curve(metric, x) for r in rs] for label, rs in members.items()
                          if any(metric in r.metrics() for r in rs)}
                if not curves:
                    continue
                fname = _slug(f"{panel + '_' if panel else ''}{metric}_{x}") + ".png"
                title = f"{panel}: {metric}" if panel else metric
                plot_curves(curves, fig_dir / fname, xlabel=X_LABELS[x], ylabel=metric, title=title,
                            band=spec.band, logx=spec.logx)
                lines += [f"![{title} against {X_LABELS[x]}]({fig_dir.name}/{fname})", ""]
    spec.out.parent.mkdir(parents=True, exist_ok=True)
    spec.out.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return spec.out


def _label(key: tuple[str, ...], names: Sequence[str], skip: str | None) -> str:
    return " ".join(v for v, n in zip(key, names, strict=True) if n != skip) or "all"


def _panels(groups: Mapping[tuple[str, ...], list[RunData]], names: Sequence[str],
            panel_key: str | None) -> dict[str, dict[str, list[RunData]]]:
    panels: dict[str, dict[str, list[RunData]]] = {}
    for key, rs in groups.items():
        panel = key[list(names).index(panel_key)] if panel_key else ""
        panels.setdefault(panel, {})[_label(key, names, panel_key)] = rs
    return panels


def _summary_table(groups: Mapping[tuple[str, ...], list[RunData]], spec: ReportSpec) -> list[str]:
    head = [*spec.group_by, "runs", "env steps (mean)", "wall time s (mean ± s.e.)", "env steps/s (mean)"]
    lines = ["## Runs", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(spec.group_by) + "---:|" * 4]
    for key, rs in groups.items():
        wall = Stat.of([r.wall_time for r in rs])
        rate = Stat.of([r.env_steps / r.wall_time for r in rs if r.wall_time > 0])
        unfinished = sum(not r.finished for r in rs)
        count = f"{len(rs)} ({unfinished} unfinished)" if unfinished else str(len(rs))
        lines.append("| " + " | ".join([*key, count, f"{Stat.of([r.env_steps for r in rs]).mean:,.0f}",
                                        wall.text(None), f"{rate.mean:,.0f}"]) + " |")
    return lines + [""]


def _final_table(groups: Mapping[tuple[str, ...], list[RunData]], metric: str, spec: ReportSpec) -> list[str]:
    ref_idx = spec.group_by.index("agent") if spec.reference and "agent" in spec.group_by else None
    env_idx = spec.group_by.index("env") if "env" in spec.group_by else None
    refs: dict[str, Stat] = {}
    if ref_idx is not None:
        for key, rs in groups.items():
            if key[ref_idx] == spec.reference:
                refs[key[env_idx] if env_idx is not None else ""] = Stat.of([r.final(metric) for r in rs])
    head = [*spec.group_by, "runs", f"final {metric} (mean ± s.e.)", "seeds: min .. max"]
    if refs:
        head.append(f"gap to {spec.reference}")
    lines = [f"## Final {metric}", "", "| " + " | ".join(head) + " |",
             "|" + "---|" * len(spec.group_by) + "---:|" * (len(head) - len(spec.group_by))]
    for key, rs in groups.items():
        values = [v for v in (r.final(metric) for r in rs) if v is not None]
        if not values:
            continue
        stat = Stat.of(values)
        row = [*key, str(stat.n), stat.text(), f"{min(values):.3f} .. {max(values):.3f}"]
        if refs:
            ref = refs.get(key[env_idx] if env_idx is not None else "")
            row.append("-" if ref is None or ref.n == 0 else f"{stat.mean - ref.mean:+.3f}")
        lines.append("| " + " | ".join(row) + " |")
    return lines + [""]


def _target_table(groups: Mapping[tuple[str, ...], list[RunData]], spec: ReportSpec) -> list[str]:
    env_idx = spec.group_by.index("env") if "env" in spec.group_by else None
    head = [*spec.group_by, "target", "seeds reached", "env steps to reach (median; per seed)",
            "wall s to reach (median; per seed)"]
    lines = ["## Cost to reach a level", "",
             "The first evaluation at which each seed's metric is at or above the target; `-`: not reached.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * (len(spec.group_by) + 1) + "---:|" * 3]
    for target in spec.targets:
        for key, rs in groups.items():
            if target.env is not None and (env_idx is None or key[env_idx] != target.env):
                continue
            if not any(target.metric in r.metrics() for r in rs):
                continue
            steps = [first_reach(*r.curve(target.metric, "env_steps"), target.value) for r in rs]
            walls = [first_reach(*r.curve(target.metric, "wall_time"), target.value)
                     if any(_is_number(row.get("train/wall_time")) for row in r.rows) else None for r in rs]
            reached = [s for s in steps if s is not None]
            lines.append("| " + " | ".join([
                *key, f"{target.metric} ≥ {target.value:g}", f"{len(reached)}/{len(rs)}",
                _median_text(steps, "{:,.0f}".format), _median_text(walls, _sig)]) + " |")
    return lines + [""]


def _median_text(values: Sequence[float | None], fmt: Callable[[float], str]) -> str:
    """``median (per seed, ...)``; a seed that never reached counts as infinite, so the median is ``-`` unless
    more than half reached."""
    per_seed = ", ".join("-" if v is None else fmt(v) for v in values)
    med = float(np.median([math.inf if v is None else v for v in values])) if values else math.inf
    return f"{fmt(med) if math.isfinite(med) else '-'} ({per_seed})"


def _kept_text(path: Path) -> str:
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8")
    start, end = text.find(KEEP_START), text.find(KEEP_END)
    if start < 0 or end < start:
        return ""
    return text[start + len(KEEP_START):end].strip("\n")


# ------------------------------------------------------------------------------------------------- plots
def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt



def _save_figure(plt: Any, fig: Any, path: str | Path) -> Path:
    """Lay out ``fig``, write it to ``path`` (folders made as needed), close it; returns the path."""
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_curves(curves: Mapping[str, Sequence[tuple[np.ndarray, np.ndarray]]], path: str | Path, *, xlabel: str,
                ylabel: str, title: str = "", band: str = "minmax", logx: bool = False) -> Path:
    """One line per label (mean over its seeds' ``(xs, ys)`` curves) with a shaded seed band; writes a PNG."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    for label, seed_curves in curves.items():
        runs = [c for c in seed_curves if len(c[0])]
        if not runs:
            continue
        b = seed_band(runs, band)
        (line,) = ax.plot(b.x, b.mean, label=f"{label} ({len(runs)})")
        ax.fill_between(b.x, b.lo, b.hi, color=line.get_color(), alpha=0.2, linewidth=0)
    if logx:
        ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    band_text = "min-max over seeds" if band == "minmax" else "±1 s.e. over seeds"
    note = f"mean over seeds (legend: runs), band: {band_text}"
    ax.set_title(f"{title}\n{note}" if title else note, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save_figure(plt, fig, path)


# -------------------------------------------------------------------------------------------------- ladders
@dataclass(frozen=True)
class EloPoint:
    """One player on a ladder: ``elo`` with its 95% interval ``[lo, hi]``, plus where it came from.

    ``series`` groups points into one line (an agent's checkpoints, a compression method); the cost fields are
    ``None`` when unknown: ``env_steps``/``wall_time`` (seconds of training) for checkpoints, ``params``,
    ``macs`` (multiply-adds per position) and ``latency_ms`` (per position) for nets.
    """

    player: str
    elo: float
    lo: float
    hi: float
    series: str = ""
    env_steps: float | None = None
    wall_time: float | None = None
    params: float | None = None
    macs: float | None = None
    latency_ms: float | None = None
    spec: str = ""
    """The player's spec in the ladder file (a checkpoint, a bot, an engine command), when read from one."""


def ladder_points(path: str | Path, size: int, komi: float) -> list[EloPoint]:
    """The standings of one section (board ``size``, ``komi``) of a ladder file (:class:`zoo.ratings.Ladder`),
    refitted from its games, best first, each with its spec; :class:`UserError` if the section has no player."""
    from zoo.ratings import Ladder, section_key

    ladder = Ladder.load(path)
    if section_key(size, komi) not in ladder.sections:
        raise UserError(f"ladder {path} has no section '{section_key(size, komi)}'; sections: "
                        f"{', '.join(ladder.sections) or 'none'}")
    players = ladder.section(size, komi)["players"]
    return [EloPoint(r.name, r.elo, r.lo, r.hi, spec=str(players.get(r.name, "")))
            for r in ladder.ratings(size, komi).ratings]


def ladder_rows(rows: Iterable[Sequence[Any]]) -> list[EloPoint]:
    """``(player, elo, lo, hi)`` rows (a ladder's standings) as :class:`EloPoint` s, best first."""
    points = []
    for row in rows:
        if len(row) != 4:
            raise UserError(f"ladder row {tuple(row)!r}: expected (player, elo, lo, hi)")
        player, elo, lo, hi = row
        points.append(EloPoint(str(player), float(elo), float(lo), float(hi)))
    return sorted(points, key=lambda p: -p.elo)


def ladder_table(points: Iterable[EloPoint], columns: Sequence[str] = ()) -> str:
    """Markdown table of players, Elo and 95% interval, best first; ``columns`` adds cost fields of
    :class:`EloPoint` (``env_steps``, ``wall_time``, ``params``, ``macs``, ``latency_ms``)."""
    names = {"env_steps": "env steps", "wall_time": "wall time s", "params": "params", "macs": "MACs",
             "latency_ms": "latency ms"}
    for c in columns:
        if c not in names:
            raise UserError(f"unknown ladder column '{c}'; valid: {', '.join(names)}")
    head = ["player", "Elo", "95% interval", *(names[c] for c in columns)]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for p in sorted(points, key=lambda p: -p.elo):
        extra = [_num(getattr(p, c)) for c in columns]
        lines.append("| " + " | ".join([p.player, f"{p.elo:.0f}", f"{p.lo:.0f} .. {p.hi:.0f}", *extra]) + " |")
    return "\n".join(lines) + "\n"


def plot_elo_vs_training(points: Sequence[EloPoint], path: str | Path, x: str = "wall_time") -> Path:
    """Elo of checkpoints against their training cost (``x``: ``wall_time`` or ``env_steps``), one line per
    ``series``, with 95% interval error bars; writes a PNG."""
    if x not in ("wall_time", "env_steps"):
        raise UserError(f"unknown x '{x}' for Elo against training; valid: wall_time, env_steps")
    return _plot_elo(points, path, x, {"wall_time": "training wall time (s)", "env_steps": "env steps"}[x],
                     logx=False, lines=True)


def plot_elo_vs_cost(points: Sequence[EloPoint], path: str | Path, x: str = "latency_ms") -> Path:
    """Elo of nets against their size or speed (``x``: ``params``, ``macs`` or ``latency_ms``; log scale), one
    marker style per ``series``, with 95% interval error bars; writes a PNG."""
    labels = {"params": "parameters", "macs": "multiply-adds per position", "latency_ms": "latency per position (ms)"}
    if x not in labels:
        raise UserError(f"unknown x '{x}' for Elo against net cost; valid: {', '.join(labels)}")
    return _plot_elo(points, path, x, labels[x], logx=True, lines=False)


def _plot_elo(points: Sequence[EloPoint], path: str | Path, x: str, xlabel: str, *, logx: bool,
              lines: bool) -> Path:
    usable = [p for p in points if getattr(p, x) is not None]
    if not usable:
        raise UserError(f"no ladder point has a value for '{x}'")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    series: dict[str, list[EloPoint]] = {}
    for p in usable:
        series.setdefault(p.series, []).append(p)
    for name, ps in series.items():
        ps = sorted(ps, key=lambda p: getattr(p, x))
        xs = [getattr(p, x) for p in ps]
        ys = np.array([p.elo for p in ps])
        err = np.array([[p.elo - p.lo for p in ps], [p.hi - p.elo for p in ps]])
        ax.errorbar(xs, ys, yerr=err, fmt="o-" if lines else "o", capsize=3, label=name or None)
        if not lines:
            for p in ps:
                ax.annotate(p.player, (getattr(p, x), p.elo), fontsize=7, xytext=(3, 3), textcoords="offset points")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Elo (95% interval)")
    ax.grid(alpha=0.3)
    if any(series):
        ax.legend(fontsize=8)
    return _save_figure(plt, fig, path)


def checkpoint_cost(path: str | Path) -> tuple[int, float]:
    """``(env_steps, wall_time)`` a checkpoint was trained for (its saved counters), for Elo against training."""
    from zoo.checkpoint import load_checkpoint

    counters = load_checkpoint(path).get("counters", {})
    return int(counters.get("env_steps", 0)), float(counters.get("wall_time", math.nan))


# ---------------------------------------------------------------------------------------------------- utils
def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _sig(value: float) -> str:
    """Three significant digits, thousands separated from 1000 on (wall times from 0.004 s to 4,000 s)."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{max(0, 2 - math.floor(math.log10(abs(value))))}f}"


def _num(value: Any) -> str:
    if value is None:
        return "-"
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


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


# ------------------------------------------------------------------------------------------------------ CLI
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m zoo.report", description=__doc__.split("\n\n")[0])
    p.add_argument("name", help="report name: the title, and reports/NAME.md with plots in reports/NAME/")
    p.add_argument("--runs", nargs="+", required=True, metavar="DIR", help="folders searched for run directories")
    p.add_argument("--group-by", default="env,agent", help="comma-separated keys: env, agent, or dotted config "
                   "paths (agent.gamma, net.kind, seed); default env,agent")
    p.add_argument("--x", default="env_steps,wall_time", help=f"comma-separated x axes for the curves: "
                   f"{', '.join(X_AXES)}; default env_steps,wall_time")
    p.add_argument("--metric", nargs="+", default=[], help="metrics to tabulate and plot (default: "
                   f"{' and '.join(DEFAULT_METRICS)}, those logged)")
    p.add_argument("--reference", help="agent whose mean on each env the table compares with (e.g. vi)")
    p.add_argument("--target", nargs="+", default=[], metavar="[ENV:]METRIC=VALUE",
                   help="levels whose first-reach env steps and wall time are tabulated")
    p.add_argument("--band", default="minmax", choices=BANDS, help="seed band: min-max over seeds, or +-1 s.e.")
    p.add_argument("--logx", action="store_true", help="log-scaled x axes (budgets that differ by orders of magnitude)")
    p.add_argument("--title", help="report title (default: NAME)")
    p.add_argument("--no-plots", action="store_true", help="tables only")
    p.add_argument("--out", help="markdown path (default reports/NAME.md)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: writes the report; user mistakes print one line and return 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", args.name):
        parser.error(f"report name '{args.name}': use letters, digits, '_', '-' or '.'")
    group_by = [k.strip() for k in args.group_by.split(",") if k.strip()]
    xs = [x.strip() for x in args.x.split(",") if x.strip()]
    if not group_by:
        parser.error("--group-by needs at least one key (env, agent, or a dotted config path)")
    bad = [x for x in xs if x not in X_AXES]
    if bad or not xs:
        parser.error(f"unknown --x '{','.join(bad)}'; valid: {', '.join(X_AXES)}")
    try:
        spec = ReportSpec(
            name=args.name, runs=args.runs, out=Path(args.out or f"reports/{args.name}.md"), group_by=group_by,
            xs=xs, metrics=args.metric, reference=args.reference, targets=[Target.parse(t) for t in args.target],
            band=args.band, logx=args.logx, title=args.title, plots=not args.no_plots,
            command="python -m zoo.report " + " ".join(shlex.quote(a) for a in argv),
        )
        out = write_report(spec)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out} and {out.parent / out.stem}/*.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
