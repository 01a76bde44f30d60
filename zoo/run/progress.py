"""A live progress bar (steps, rate, ETA, the main metric) and the end-of-run summary table, drawn with rich.

On a terminal the bar redraws in place. When stderr is not a terminal (``nohup``, a batch job, CI logs) a live bar
would show nothing until the end, so the same fields are printed as one plain line at most every
``log_interval`` seconds, and once more at the end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table


class ProgressBar:
    """``with ProgressBar(total, start, enabled) as bar: bar.update(steps, metric_text)``."""

    def __init__(self, total: int, start: int = 0, enabled: bool = True, description: str = "train",
                 log_interval: float = 60.0) -> None:
        self.enabled = enabled
        self.plain = enabled and not Console(stderr=True).is_terminal
        """Print plain lines instead of a live bar (stderr is not a terminal)."""
        self.total, self.description, self.log_interval = total, description, log_interval
        self._start_steps, self._completed, self._metric = start, start, ""
        self._t0 = self._last_line = time.monotonic()
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>9} steps/s"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[metric]}"),
            disable=not enabled or self.plain,
            transient=False,
        )
        self._task = self._progress.add_task(description, total=total, completed=start, rate="-", metric="")

    def __enter__(self) -> ProgressBar:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()
        if self.plain:
            self._print_line()

    def update(self, completed: int, metric: str = "") -> None:
        task = self._progress.tasks[0]
        rate = task.speed
        self._progress.update(self._task, completed=completed, metric=metric,
                              rate=f"{rate:,.0f}" if rate else "-")
        self._completed, self._metric = completed, metric
        if self.plain and time.monotonic() - self._last_line >= self.log_interval:
            self._print_line()

    def set_total(self, total: int) -> None:
        """Change the bar's total (a budget that turned out larger or smaller once the last batch came in)."""
        self.total = total
        self._progress.update(self._task, total=total)

    def _print_line(self) -> None:
        """``train 20,480/4,000,000 (0.5%) 70 steps/s elapsed 0:04:52 eta 15:47:01 METRIC`` on stderr."""
        now = time.monotonic()
        self._last_line = now
        elapsed = now - self._t0
        done = self._completed - self._start_steps
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = _clock((self.total - self._completed) / rate) if rate > 0 else "-"
        share = 100.0 * self._completed / self.total if self.total else 100.0
        print(f"{self.description} {self._completed:,}/{self.total:,} ({share:.1f}%) {rate:,.0f} steps/s "
              f"elapsed {_clock(elapsed)} eta {eta} {self._metric}".rstrip(), file=sys.stderr, flush=True)


def _clock(seconds: float) -> str:
    """``H:MM:SS``."""
    s = int(max(seconds, 0))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


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
