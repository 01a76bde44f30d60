"""The run's start banner, a live progress bar (steps, rate, ETA, the metric text) and the end-of-run summary table,
drawn with rich.

On a terminal the bar redraws in place: one row with the step count, rate, elapsed time and ETA (sized to fit 80
columns), and the metric text (win rates, loss, self-play rate) on a line of its own below, cut with ``…`` when
it is wider than the terminal, so it never pushes the count or the ETA out. When stderr is not a terminal
(``nohup``, a batch job, CI logs, ``> file``) a live bar would show nothing until the end, so the same fields are
printed as one plain line at once, then every ``log_interval`` seconds (10 by default, also while a long collect
or evaluation runs: a background thread keeps the lines coming), and once more at the end.

The rate is the steps done in this session over its wall time (evaluations included), so it is there from the
first update; the ETA is the remaining steps at that rate.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from rich.console import Console, Group, RenderableType
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from agents.nets import NetConfig
from zoo.run.config import RunConfig


class _TwoLineProgress(Progress):
    """The task row, then its metric text on a line of its own (cut to the console width, never wrapped)."""

    def get_renderable(self) -> RenderableType:
        rows: list[RenderableType] = [self.make_tasks_table(self.tasks)]
        for task in self.tasks:
            text = task.fields.get("metric", "")
            if text:
                rows.append(Text("  " + text, overflow="ellipsis", no_wrap=True))
        return Group(*rows)


class ProgressBar:
    """``with ProgressBar(total, start, enabled) as bar: bar.update(steps, metric_text)``.

    ``pending`` says how many steps the unit of work running now (a collect) has made so far, before ``update``
    counts them: the count, rate and ETA include them, so a long first collect shows its progress. ``clock``
    (seconds, monotonic) and ``heartbeat`` (the background thread that prints the plain lines and refreshes the
    live bar between updates) are there for tests; ``console`` is the console the live bar draws on (stderr).
    """

    def __init__(self, total: int, start: int = 0, enabled: bool = True, description: str = "train",
                 log_interval: float = 10.0, *, metric: str = "", pending: Callable[[], int] | None = None,
                 clock: Callable[[], float] = time.monotonic, heartbeat: bool = True,
                 console: Console | None = None) -> None:
        self.enabled = enabled
        console = console or Console(stderr=True)
        self.plain = enabled and not console.is_terminal
        """Print plain lines instead of a live bar (stderr is not a terminal)."""
        self.total, self.description, self.log_interval = total, description, log_interval
        self._clock, self._heartbeat, self._pending = clock, heartbeat and enabled, pending
        self._start_steps, self._completed, self._metric, self._status = start, start, metric, ""
        self._t0 = self._last_line = clock()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._progress = _TwoLineProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=16),
            TextColumn("{task.fields[count]}"),
            TextColumn("{task.fields[rate]} steps/s"),
            TimeElapsedColumn(),
            TextColumn("eta {task.fields[eta]}"),
            console=console,
            disable=not enabled or self.plain,
            transient=False,
        )
        self._task = self._progress.add_task(description, total=total, completed=start, rate="-", eta="-:--:--",
                                             metric=metric, count=f"{start:,}/{total:,}")

    def __enter__(self) -> ProgressBar:
        self._progress.start()
        if self.plain:
            self._print_line()  # at once: the job says where it stands from the first second
        if self._heartbeat:
            self._thread = threading.Thread(target=self._beat, name="progress-lines", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._progress.stop()
        if self.plain:
            self._print_line()

    # ------------------------------------------------------------------ the numbers
    def completed(self) -> int:
        """Steps so far: the last update's, plus the ``pending`` steps of the work running now."""
        pending = self._pending() if self._pending is not None else 0
        return min(self._completed + max(pending, 0), max(self.total, self._completed))

    def rate(self) -> float | None:
        """Steps per second in this session so far (``None`` before the first step)."""
        elapsed = self._clock() - self._t0
        done = self.completed() - self._start_steps
        return done / elapsed if done > 0 and elapsed > 0 else None

    def eta(self) -> float | None:
        """Seconds left at :meth:`rate` (``None`` before the first step)."""
        rate = self.rate()
        return max(self.total - self.completed(), 0) / rate if rate else None

    def text(self) -> str:
        """The metric text as shown: a status (``evaluating ...``) first while one is set."""
        return " | ".join(t for t in (self._status, self._metric) if t)

    # ------------------------------------------------------------------ updates
    def update(self, completed: int, metric: str = "") -> None:
        """``completed`` steps so far and the metric text; clears the status."""
        with self._lock:
            self._completed, self._metric, self._status = completed, metric, ""
        self._refresh()
        self.poll()

    def status(self, text: str, completed: int | None = None) -> None:
        """Say what the run is doing now (``evaluating``, ...) until the next :meth:`update`, with the steps so far
        when they have moved since the last update; a plain line at once."""
        with self._lock:
            self._status = text
            if completed is not None:
                self._completed = completed
        self._refresh()
        if self.plain:
            self._print_line()

    def note(self, text: str) -> None:
        """A line of its own: above the live bar, or on stderr between the plain lines; nothing when disabled."""
        if not self.enabled or not text:
            return
        if self.plain:
            with self._lock:
                print(text, file=sys.stderr, flush=True)
        else:
            self._progress.console.print(text)

    def poll(self) -> None:
        """Print a plain line when ``log_interval`` seconds have passed since the last one (the heartbeat calls it)."""
        if self.plain and self._clock() - self._last_line >= self.log_interval:
            self._print_line()

    def _refresh(self) -> None:
        rate, eta, completed = self.rate(), self.eta(), self.completed()
        self._progress.update(self._task, completed=completed, count=f"{completed:,}/{self.total:,}",
                              metric=self.text(), rate=_rate(rate), eta=_clock(eta) if eta is not None else "-:--:--")

    def _beat(self) -> None:
        step = max(min(self.log_interval / 4, 1.0), 0.05)
        while not self._stop.wait(step):
            if self.plain:
                self.poll()
            else:
                self._refresh()

    def set_total(self, total: int) -> None:
        """Change the bar's total (a budget that turned out larger or smaller once the last batch came in)."""
        self.total = total
        self._progress.update(self._task, total=total)
        self._refresh()

    def _print_line(self) -> None:
        """``train 20,480/4,000,000 (0.5%) 70 steps/s elapsed 0:04:52 eta 15:47:01 METRIC`` on stderr."""
        with self._lock:
            now = self._clock()
            self._last_line = now
            eta = self.eta()
            completed = self.completed()
            share = 100.0 * completed / self.total if self.total else 100.0
            line = (f"{self.description} {completed:,}/{self.total:,} ({share:.1f}%) {_rate(self.rate())} "
                    f"steps/s elapsed {_clock(now - self._t0)} eta {_clock(eta) if eta is not None else '-'} "
                    f"{self.text()}")
            print(line.rstrip(), file=sys.stderr, flush=True)

    def renderable(self) -> RenderableType:
        """What the live bar draws now (tests render it to a console of a given width)."""
        self._refresh()
        return self._progress.get_renderable()


def _rate(rate: float | None) -> str:
    if rate is None:
        return "-"
    return f"{rate:,.0f}" if rate >= 10 else f"{rate:.1f}"


def _clock(seconds: float) -> str:
    """``H:MM:SS``."""
    s = int(max(seconds, 0))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``2.6 h``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def print_banner(cfg: RunConfig, run_dir: Path, resumed_at: int, agent_rows: Mapping[str, str], device: str,
                 first_eval: int | None, wandb: str | None, resume_command: Callable[[str], str]) -> None:
    """The run's start banner on stderr, where the progress lines go: what runs (env, agent and what the agent
    says of itself: net and size, self-play), on what (device, threads), for how long, where it writes (run
    directory, checkpoints, metrics, wandb as ``MODE:WHERE``) and how to resume it. Paths are shown relative to the
    working directory when inside it, so that the rows fit 80 columns."""
    kwargs = ", ".join(f"{k}={v}" for k, v in (cfg.env.kwargs or {}).items())
    title = f"train: agent={cfg.agent.name} on env={cfg.env.name} ({cfg.env.id}{', ' + kwargs if kwargs else ''})"
    shown = _shown(run_dir)
    rows = [("run folder", shown + (f" (resumed at {resumed_at:,} steps)" if resumed_at else ""))]
    rows += list(agent_rows.items())
    if "net" not in agent_rows and cfg.net is not None:
        rows.append(("net", cfg.net.label() if isinstance(cfg.net, NetConfig) else f"net={cfg.net.kind}"))
    threads = torch.get_num_threads()
    rows.append(("device", f"{device}, {threads} torch thread{'s' if threads != 1 else ''}"))
    rows.append(("budget", f"{cfg.steps:,} env steps; time: measured at the first update"))
    ev = cfg.eval
    first = f"at {first_eval:,} steps ({ev.first_episodes} episodes), " if first_eval else ""
    rows.append(("evaluation", f"{first}every {ev.every:,} ({ev.episodes}), at the end" if ev.every > 0
                 else f"at the end ({ev.episodes} episodes)"))
    every = f"every {cfg.checkpoint_every:,} steps, " if cfg.checkpoint_every > 0 else ""
    rows.append(("checkpoints", f"{every}at the end, on Ctrl-C: RUN_DIR/checkpoints"))
    if cfg.logger.kind != "none":
        rows.append(("metrics", "RUN_DIR/metrics.jsonl (metrics.csv at the end)"))
    if wandb is not None:
        mode, _, where = wandb.partition(":")
        if mode == "offline":
            rows.append(("wandb", f"offline, {_shown(Path(where))} (upload: wandb sync {_shown(Path(where))})"))
        else:
            rows.append(("wandb", f"{mode}, {where}"))
    rows.append(("resume", resume_command(shown)))
    width = max(len(label) for label, _ in rows)
    lines = [title, *(f"  {label:<{width}}  {text}" for label, text in rows)]
    print("\n".join(lines), file=sys.stderr, flush=True)


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies inside it, else as it is."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def print_summary(summary: Mapping[str, Any], title: str = "summary") -> None:
    """Print a two-column table of the run's final figures."""
    table = Table(title=title, show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key, _format(value))
    Console().print(table)


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
