"""Comparison reports from local run directories: markdown tables and PNG learning curves, no network.

    python -m zoo.report NAME --runs DIR [DIR ...] [--group-by env,agent] [--x env_steps,wall_time]
                         [--metric eval/success_rate ...] [--reference vi] [--target [ENV:]METRIC=VALUE ...]
                         [--band minmax|se] [--logx] [--out reports/NAME.md]
    python -m zoo.report refresh REPORT.md [--check]   # the generated blocks of a hand-written report

A run directory is any folder under ``--runs`` holding ``config.json`` (written by :mod:`zoo.run.loop`) with its
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

Runs that drew pictures at their evaluations (:mod:`zoo.run.media`) have the latest of each copied into
``reports/NAME/`` and shown after the curves, a row of images per group (at most :data:`MEDIA_RUNS` runs each):
the final position of a Go run's sample game (``eval``), a gridworld agent's greedy policy and values (``policy``).

Metric names are the runner's, the same for every agent: ``step`` (env steps), ``train/wall_time`` (seconds of
training, evaluation excluded), ``train/episodes`` (episodes, i.e. games for self-play agents), ``eval/*``.

``refresh`` rebuilds the tables and plots of a hand-written report from its committed games, ladders and nets
(:mod:`zoo.reporting.blocks`).

Elo plots and tables of ladders (Elo against training time or a net's cost) live in :mod:`zoo.reporting.plots`.
"""

from __future__ import annotations

import argparse
import math
import re
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import UserError
from zoo.reporting.plots import pyplot, save_figure
from zoo.reporting.run_data import (
    X_AXES,
    X_LABELS,
    RunData,
    available_metrics,
    check_metrics,
    group_runs,
    is_number,
    load_runs,
)
from zoo.run.media import latest_media, media_title

BANDS = ("minmax", "se")
DEFAULT_METRICS = ("eval/success_rate", "eval/return_mean")
KEEP_START, KEEP_END = "<!-- keep -->", "<!-- /keep -->"
MEDIA_SECTIONS = (
    ("eval", "Sample games", "The final position of the sample game of each run's latest evaluation (its first "
     "game against the last built-in opponent, `capture`); `RUN/media/eval-STEP.gif` plays the whole game."),
    ("policy", "Greedy policies", "Each run's greedy actions (arrows; every tied best action) over max_a Q(s, a) "
     "(colour) at its latest evaluation; walls, holes, goals and cliffs are lettered."),
)
"""``(picture name, section title, what it shows)`` of the pictures a report embeds."""
MEDIA_RUNS = 4
"""Runs per group whose pictures a report shows (the first ones, in the group's order)."""


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
    if spec.plots:
        lines += _media_sections(groups, spec.group_by, fig_dir)
    spec.out.parent.mkdir(parents=True, exist_ok=True)
    spec.out.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return spec.out


def _media_sections(groups: Mapping[tuple[str, ...], list[RunData]], names: Sequence[str],
                    fig_dir: Path) -> list[str]:
    """The pictures of :data:`MEDIA_SECTIONS` the runs drew: each run's latest, copied into ``fig_dir``, one line
    of images per group; no section for a picture no run has."""
    lines: list[str] = []
    for name, heading, text in MEDIA_SECTIONS:
        section: list[str] = []
        for key, rs in groups.items():
            label, images, whens = _label(key, names, None), [], []
            for r in rs[:MEDIA_RUNS]:
                source = latest_media(r.path, name)
                if source is None:
                    continue
                step = int(source.stem.rsplit("-", 1)[1])
                title = media_title(source)
                when = f"seed {r.config.get('seed', '?')} at {step:,} env steps" + (f" ({title})" if title else "")
                fname = _slug(f"{label}_{r.path.name}_{name}") + ".png"
                shutil.copyfile(source, fig_dir / fname)
                images.append(f"![{label}, {when}]({fig_dir.name}/{fname})")
                whens.append(when)
            if images:
                section += [f"**{label}**: {'; '.join(whens)}", "", " ".join(images), ""]
        if section:
            lines += [f"## {heading}", "", text, "", *section]
    return lines


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
                     if any(is_number(row.get("train/wall_time")) for row in r.rows) else None for r in rs]
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
def plot_curves(curves: Mapping[str, Sequence[tuple[np.ndarray, np.ndarray]]], path: str | Path, *, xlabel: str,
                ylabel: str, title: str = "", band: str = "minmax", logx: bool = False) -> Path:
    """One line per label (mean over its seeds' ``(xs, ys)`` curves) with a shaded seed band; writes a PNG."""
    plt = pyplot()
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
    return save_figure(plt, fig, path)


# ---------------------------------------------------------------------------------------------------- utils
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
    p.add_argument("--out", help="markdown path, or a folder to write NAME.md into (default reports/NAME.md)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: writes the report; user mistakes print one line and return 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["refresh"]:
        from zoo.reporting.blocks import refresh_main

        return refresh_main(argv[1:])
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
            name=args.name, runs=args.runs, out=_out_path(args.out, args.name), group_by=group_by,
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


def _out_path(out: str | None, name: str) -> Path:
    """``--out``: a markdown file, or a folder (existing, or named with a trailing slash) that gets ``NAME.md``."""
    if out is None:
        return Path("reports") / f"{name}.md"
    path = Path(out)
    return path / f"{name}.md" if path.is_dir() or out.endswith(("/", "\\")) else path
