"""Elo figures and tables of the reports: Elo against training or against a net's cost, from ladders or rows.

:func:`pyplot` and :func:`save_figure` are the figure plumbing every plot of the reports shares.
:func:`plot_elo_vs_training` (Elo of checkpoints against their env steps or wall time) and :func:`plot_elo_vs_cost`
(Elo of nets against parameters, multiply-adds or latency) take :class:`EloPoint` rows: from a ladder file
(:func:`ladder_points`, through :mod:`zoo.play.ratings`) or from plain ``(player, elo, lo, hi)`` rows
(:func:`ladder_rows`), with costs filled in from checkpoints (:func:`checkpoint_cost`) or net statistics;
:func:`ladder_table` renders them as markdown. Matplotlib runs headless (Agg) and is imported on first use.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import UserError


def _num(value: Any) -> str:
    if value is None:
        return "-"
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt



def save_figure(plt: Any, fig: Any, path: str | Path) -> Path:
    """Lay out ``fig``, write it to ``path`` (folders made as needed), close it; returns the path."""
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


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
    """The standings of one section (board ``size``, ``komi``) of a ladder file (:class:`zoo.play.ratings.Ladder`),
    refitted from its games, best first, each with its spec; players that no chain of games links to the anchor
    have no Elo and are left out. :class:`UserError` if the section has no player."""
    from zoo.play.ratings import Ladder, section_key

    ladder = Ladder.load(path)
    if section_key(size, komi) not in ladder.sections:
        raise UserError(f"ladder {path} has no section '{section_key(size, komi)}'; sections: "
                        f"{', '.join(ladder.sections) or 'none'}")
    players = ladder.section(size, komi)["players"]
    return [EloPoint(r.name, r.elo, r.lo, r.hi, spec=str(players.get(r.name, "")))
            for r in ladder.ratings(size, komi).ratings if r.linked]


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


def plot_elo_vs_training(points: Sequence[EloPoint], path: str | Path, x: str = "wall_time",
                         xlabel: str | None = None, ylabel: str = "Elo (95% interval)") -> Path:
    """Elo of checkpoints against their training cost (``x``: ``wall_time`` or ``env_steps``), one line per
    ``series``, with 95% interval error bars; writes a PNG. ``xlabel`` names the unit of ``wall_time`` when the
    points carry another than seconds."""
    if x not in ("wall_time", "env_steps"):
        raise UserError(f"unknown x '{x}' for Elo against training; valid: wall_time, env_steps")
    xlabel = xlabel or {"wall_time": "training wall time (s)", "env_steps": "env steps"}[x]
    return _plot_elo(points, path, x, xlabel, logx=False, lines=True, ylabel=ylabel)


def plot_elo_vs_cost(points: Sequence[EloPoint], path: str | Path, x: str = "latency_ms") -> Path:
    """Elo of nets against their size or speed (``x``: ``params``, ``macs`` or ``latency_ms``; log scale), one
    marker style per ``series``, with 95% interval error bars; writes a PNG."""
    labels = {"params": "parameters", "macs": "multiply-adds per position", "latency_ms": "latency per position (ms)"}
    if x not in labels:
        raise UserError(f"unknown x '{x}' for Elo against net cost; valid: {', '.join(labels)}")
    return _plot_elo(points, path, x, labels[x], logx=True, lines=False)


def _plot_elo(points: Sequence[EloPoint], path: str | Path, x: str, xlabel: str, *, logx: bool,
              lines: bool, ylabel: str = "Elo (95% interval)") -> Path:
    usable = [p for p in points if getattr(p, x) is not None]
    if not usable:
        raise UserError(f"no ladder point has a value for '{x}'")
    plt = pyplot()
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
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if any(series):
        ax.legend(fontsize=8)
    return save_figure(plt, fig, path)


def checkpoint_cost(path: str | Path) -> tuple[int, float]:
    """``(env_steps, wall_time)`` a checkpoint was trained for (its saved counters), for Elo against training."""
    from zoo.run.checkpoint import load_checkpoint

    counters = load_checkpoint(path).get("counters", {})
    return int(counters.get("env_steps", 0)), float(counters.get("wall_time", math.nan))
