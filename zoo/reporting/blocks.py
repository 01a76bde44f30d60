"""Generated blocks of a hand-written report: tables and plots rebuilt from the data committed beside it.

    python -m zoo.report refresh reports/zero9.md [--check]

A report's prose is written by hand; its figures are not. Each figure sits in a block that names the command that
makes it, and ``refresh`` rewrites every block's body from the committed data (game archives, ladder files, nets)::

    <!-- zoo: recount reports/games/NAME.tar.gz -->
    (the match table of the archive: games, score with its 95% interval, per colour, distinct games)
    <!-- /zoo -->

Block commands (arguments are shell-quoted; paths are relative to the working directory, the repository root):

- ``recount ARCHIVE``: the tally of a game archive (:func:`zoo.play.archive.recount`), as ``python -m zoo.arena
  recount`` prints it.
- ``ladder LADDER --board N --komi K [--anchor NAME] [--anchor-elo E]``: the standings of one ladder section
  (players, Elo, 95% interval, games, score), refitted from its games.
- ``elo-training LADDER --board N --komi K --anchor NAME --series LABEL=P1,P2,... [...] --plot PNG``: Elo of
  checkpoints against their training wall time (hours) and env steps, read from each player's spec (a committed
  checkpoint) with :func:`zoo.reporting.plots.checkpoint_cost`; one line per ``--series``; a table, and the plot
  (the block's body links it).
- ``selfplay LABEL=CHECKPOINT ...``: self-play positions (env steps), training wall time and positions per hour of
  each checkpoint's run.

``--check`` rewrites nothing and exits 1 when a block's body differs from what its command makes (a stale report).
A block whose command is malformed, or whose data is missing, is one clear error naming the report, its line and
what is valid; the file is then left as it was.
"""

from __future__ import annotations

import argparse
import math
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from zoo.errors import UserError

OPENING = re.compile(r"^<!-- zoo: (?P<command>[^\n]+?) -->\n", re.M)
"""The opening mark of a generated block: a line of its own that names the command."""

BLOCK = re.compile(r"^<!-- zoo: (?P<command>[^\n]+?) -->\n(?P<body>(?:(?!^<!-- zoo: ).)*?)^<!-- /zoo -->",
                   re.S | re.M)
"""A generated block: the opening comment with its command on a line of its own, the body (which holds no other
opening mark), the closing comment at the start of a line (prose that quotes the marks inline is left alone)."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises :class:`UserError` instead of exiting (a block's mistake names the block)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(message)


def _recount(args: list[str], check: bool) -> str:
    from zoo.play.archive import recount

    p = _Parser(prog="recount")
    p.add_argument("archive")
    a = p.parse_args(args)
    return recount(a.archive).tally.markdown()


def _section_args(p: _Parser) -> None:
    p.add_argument("ladder")
    p.add_argument("--board", type=int, required=True)
    p.add_argument("--komi", type=float, required=True)
    p.add_argument("--anchor", default=None)
    p.add_argument("--anchor-elo", type=float, default=1500.0)


def _ratings(a: argparse.Namespace):  # noqa: ANN202 - zoo.play.ratings.Ratings, imported lazily
    from zoo.play.ratings import ANCHOR, Ladder, section_key

    ladder = Ladder.load(a.ladder)
    if not Path(a.ladder).exists():
        raise UserError(f"ladder file {a.ladder} does not exist")
    if section_key(a.board, a.komi) not in ladder.sections:
        raise UserError(f"ladder {a.ladder} has no section '{section_key(a.board, a.komi)}'; sections: "
                        f"{', '.join(ladder.sections) or 'none'}")
    return ladder, ladder.ratings(a.board, a.komi, a.anchor or ANCHOR, a.anchor_elo)


def _ladder(args: list[str], check: bool) -> str:
    p = _Parser(prog="ladder")
    _section_args(p)
    a = p.parse_args(args)
    _, ratings = _ratings(a)
    lines = [f"Anchor: {ratings.anchor} = {ratings.anchor_elo:g}.", "",
             "| player | Elo | 95% interval | games | score | as black | as white |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for (_, name, _, _, _, games, pct, pb, pw), rating in zip(ratings.rows(), ratings.ratings, strict=True):
        elo, lo, hi = rating.elo, rating.lo, rating.hi  # unrounded, as the elo-training block formats them
        interval = "fixed" if name == ratings.anchor else f"{lo:.0f} .. {hi:.0f}"
        shown = f"{elo:.0f}"
        if not rating.linked:
            shown, interval = "unrated", f"no games link it to {ratings.anchor}"
        lines.append(f"| {name} | {shown} | {interval} | {games} | {pct:.1f}% | {pb:.1f}% | {pw:.1f}% |")
    lo, hi = ratings.colour_interval
    lines += ["", f"Black's advantage: {ratings.colour_advantage:+.0f} Elo (95% {lo:+.0f} .. {hi:+.0f})."]
    return "\n".join(lines)


def _elo_training(args: list[str], check: bool) -> str:
    from zoo.reporting.plots import EloPoint, checkpoint_cost, plot_elo_vs_training

    p = _Parser(prog="elo-training")
    _section_args(p)
    p.add_argument("--series", nargs="+", required=True, metavar="LABEL=P1,P2,...")
    p.add_argument("--plot", required=True, help="PNG path the plot is written to")
    a = p.parse_args(args)
    ladder, ratings = _ratings(a)
    specs = ladder.section(a.board, a.komi)["players"]
    by_name = {r.name: r for r in ratings.ratings}
    points: list[EloPoint] = []
    lines = ["| series | player | training wall time (h) | self-play positions | Elo | 95% interval |",
             "|---|---|---:|---:|---:|---:|"]
    for text in a.series:
        label, sep, names = text.partition("=")
        if not sep or not names:
            raise UserError(f"--series {text!r}: expected LABEL=PLAYER1,PLAYER2,...")
        for name in names.split(","):
            if name not in by_name:
                raise UserError(f"--series {label}: player {name!r} is not on the ladder; players: "
                                f"{', '.join(sorted(by_name))}")
            steps, wall = checkpoint_cost(_checkpoint_of(specs[name]))
            r = by_name[name]
            if not r.linked:  # no Elo to plot: the table says so
                lines.append(f"| {label} | {name} | {wall / 3600.0:.2f} | {steps:,} | unrated | "
                             f"no games link it to {ratings.anchor} |")
                continue
            points.append(EloPoint(name, r.elo, r.lo, r.hi, series=label, env_steps=steps, wall_time=wall / 3600.0))
            lines.append(f"| {label} | {name} | {wall / 3600.0:.2f} | {steps:,} | {r.elo:.0f} | "
                         f"{r.lo:.0f} .. {r.hi:.0f} |")
    if not points:
        raise UserError(f"no player of --series has an Elo (none is linked to {ratings.anchor} by games)")
    png = Path(a.plot)
    if not check:
        png = plot_elo_vs_training(points, a.plot, x="wall_time", xlabel="training wall time (hours)",
                                   ylabel=f"Elo ({ratings.anchor} = {ratings.anchor_elo:g}; 95% interval)")
    elif not png.is_file():  # --check writes nothing, the plot included; a missing plot is a stale report
        raise UserError(f"plot {png} is missing (python -m zoo.report refresh writes it)")
    return "\n".join([f"![Elo against training hours]({_relative(Path(png))})", "", *lines])


def _checkpoint_of(spec: str) -> str:
    """The checkpoint of a player spec: ``NAME=PATH@sims=64`` -> ``PATH``; ``UserError`` for a bot or an engine."""
    path = re.sub(r"@[A-Za-z_]+=.*$", "", spec.split("=", 1)[1] if re.match(r"^[\w.:-]+=", spec) else spec)
    if not Path(path).is_file():
        raise UserError(f"player spec {spec!r} is not a committed checkpoint file (elo-training reads its counters)")
    return path


def _relative(png: Path) -> str:
    """A plot's link from a report in ``reports/`` (plots live in ``reports/NAME/``)."""
    parts = png.parts
    return str(Path(*parts[1:])) if parts and parts[0] == "reports" else str(png)


def _selfplay(args: list[str], check: bool) -> str:
    from zoo.reporting.plots import checkpoint_cost

    p = _Parser(prog="selfplay")
    p.add_argument("runs", nargs="+", metavar="LABEL=CHECKPOINT")
    a = p.parse_args(args)
    lines = ["| arm | self-play positions | training wall time (min) | positions per hour |", "|---|---:|---:|---:|"]
    for text in a.runs:
        label, sep, path = text.partition("=")
        if not sep or not path:
            raise UserError(f"selfplay {text!r}: expected LABEL=CHECKPOINT")
        steps, wall = checkpoint_cost(path)
        rate = f"{steps / wall * 3600:,.0f}" if wall and math.isfinite(wall) else "-"
        lines.append(f"| {label} | {steps:,} | {wall / 60:.1f} | {rate} |")
    return "\n".join(lines)


COMMANDS: dict[str, Callable[[list[str], bool], str]] = {
    "recount": _recount, "ladder": _ladder, "elo-training": _elo_training, "selfplay": _selfplay}
"""Block command -> the function that makes its body from the command's arguments (Markdown, without the trailing
newline); its second argument is ``check``: when true it writes no file (a plot) besides returning the body."""


@dataclass(frozen=True)
class Refreshed:
    """What :func:`refresh` did: the report's path, its blocks, and those whose body changed."""

    path: Path
    blocks: int
    changed: list[str]


def render_block(command: str, check: bool = False) -> str:
    """The body of the block ``<!-- zoo: COMMAND -->`` (see the module docstring); ``UserError`` if malformed.
    With ``check`` it writes no file (an elo-training block's plot is left as it is)."""
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise UserError(f"cannot split the command ({exc})") from None
    if not words or words[0] not in COMMANDS:
        raise UserError(f"unknown block command {words[0] if words else ''!r}; valid: {', '.join(COMMANDS)}")
    return COMMANDS[words[0]](words[1:], check)


def refresh(path: str | Path, check: bool = False) -> Refreshed:
    """Rebuild every generated block of the report at ``path`` (written back unless ``check``); all blocks are
    rendered before the file is touched, so a failing block leaves the report as it was."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read report {path} ({exc.strerror})") from None
    pieces: list[str] = []
    changed: list[str] = []
    end = 0
    matches = list(BLOCK.finditer(text))
    unclosed = {m.start() for m in OPENING.finditer(text)} - {m.start() for m in matches}
    if unclosed:
        line = text.count("\n", 0, min(unclosed)) + 1
        raise UserError(f"{path}:{line}: block has no closing '<!-- /zoo -->' at the start of a line before the "
                        "next block or the end of the report")
    for m in matches:
        command = m.group("command").strip()
        line = text.count("\n", 0, m.start()) + 1
        try:
            body = render_block(command, check).rstrip("\n") + "\n"
        except UserError as exc:
            raise UserError(f"{path}:{line}: block '{command}': {exc}") from None
        if body != m.group("body"):
            changed.append(f"{path}:{line} {command.split()[0]}")
        pieces += [text[end:m.start()], f"<!-- zoo: {command} -->\n", body, "<!-- /zoo -->"]
        end = m.end()
    pieces.append(text[end:])
    if changed and not check:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("".join(pieces), encoding="utf-8")
        tmp.replace(path)
    return Refreshed(path, len(matches), changed)


def refresh_main(argv: Sequence[str]) -> int:
    """``python -m zoo.report refresh REPORT.md [...] [--check]``; user mistakes print one line and return 2."""
    import sys

    p = argparse.ArgumentParser(prog="python -m zoo.report refresh",
                                description="Rebuild the generated tables and plots of hand-written reports.")
    p.add_argument("reports", nargs="+", metavar="REPORT.md")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if a block is out of date")
    a = p.parse_args(list(argv))
    stale = False
    for report in a.reports:
        try:
            done = refresh(report, check=a.check)
        except UserError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        verb = "out of date" if a.check else "rewritten"
        print(f"{done.path}: {done.blocks} blocks, {len(done.changed)} {verb}"
              + "".join(f"\n  {c}" for c in done.changed))
        stale |= bool(done.changed)
    return 1 if a.check and stale else 0


__all__ = ["BLOCK", "COMMANDS", "Refreshed", "refresh", "refresh_main", "render_block"]
