"""Arena: Go matches between any players, an Elo ladder anchored on GNU Go, and SPRT for "is A better than B".

    python -m zoo.arena --board 5 --players random capture mcts:200 gnugo runs/go5/zero/RUN --games 40 --jobs 2 \\
        --ladder reports/ladders/go5.json --sgf games/
    python -m zoo.arena --board 5 --ladder reports/ladders/go5.json --gauntlet new=runs/go5/ppo/RUN --games 40
    python -m zoo.arena ladder reports/ladders/go5.json
    python -m zoo.arena sprt runs/go5/zero/RUN@sims=64 runs/go5/zero/RUN@sims=16 --board 5 --elo0 0 --elo1 50
    python -m zoo.arena recount reports/games/NAME.tar.gz [--referee gnugo]

**Openings.** Every pair of games starts from an opening of ``--opening K`` plies (default 2 from 5x5 up), played
once with each colour, so that deterministic players do not replay one game; every result gives the games, the
distinct games (by move sequence) and the score per colour, and flags a pairing whose games are under 90%
distinct. ``--sgf NAME.tar.gz`` packs the games into an archive that ``recount`` turns back into the table.

**Player specs** (all resolved, and checked, before any game is played; a spec that does not resolve stops the
command with one line naming it and what is valid):

- ``random``, ``capture``: the built-in bots of :mod:`envs.go.opponents` (uniform legal moves; capture-first).
- ``mcts:N``: pure Monte Carlo tree search with random rollouts, N playouts per move (:mod:`envs.go.uct`).
- ``gnugo``, ``gnugo:LEVEL``: GNU Go 3.8 in GTP mode with Chinese (area) rules at LEVEL 0..10 (default 10, GNU Go's
  own default; ``gnugo`` and ``gnugo:10`` are the same player, named ``gnugo``: the ladder's anchor). It is asked
  for moves with ``kgs-genmove_cleanup``, so it captures dead stones before it passes: the suite's area count
  (no dead-stone phase) then scores its games as a human would.
- ``gnugo-mc``: GNU Go's Monte Carlo mode (``--monte-carlo``), boards up to 9x9.
- ``gtp:COMMAND LINE``: any GTP engine, e.g. ``"gtp:python -m zoo.gtp --player capture"``.
- a checkpoint file or run directory (its newest checkpoint) of any agent of the suite trained on a Go env of
  this board size, or ``pretrained:NAME``, a net the suite ships (``python -m zoo.pretrained`` lists them).
  Agents that search Go states (``zero``; ``alphago``) play their ``select_move``; the others (``ppo``, ``a2c``,
  ``reinforce``, ``dqn``, ...) play ``act(obs, mask, greedy=True)`` on the observation the Go env would give them.

Options: ``SPEC@key=value[,key=value]`` sets agent settings of a checkpoint (``sims=N`` is short for
``simulations=N``; ``temp_moves=N`` makes a searching agent draw its first N moves of a game in proportion to
the visits, off by default; ``search=gumbel`` or ``search=puct`` picks a zero agent's search) or ``c=`` (the
exploration constant) of ``mcts:N``; ``NAME=SPEC`` gives the player a display name (defaults: the spec for bots,
engines and ``pretrained:NAME``, ``AGENT:RUN`` for checkpoints). Names identify players in the ladder: a name must
always stand for the same spec there.

Matches are played by :mod:`zoo.play.matches` (colours, seeds, openings, worker processes, forfeits).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zoo.errors import UserError
from zoo.play.archive import is_archive, merge_into, recount
from zoo.play.arena_specs import (
    ENGINE_TIMEOUT,
    PlayerSpec,
    arena_history,
    default_komi,
    resolve_spec,
    resolve_specs,
    unique_names,
)
from zoo.play.gtp_client import find_gnugo
from zoo.play.matches import MatchTally, pairings, play_match, schedule
from zoo.play.openings import default_opening
from zoo.play.ratings import ANCHOR, ANCHOR_ELO, GameResult, Ladder, Ratings, fit_ratings, format_table, sprt

# -- command line ----------------------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--board", type=int, default=None, help="board size (default: the ladder's, else 9)")
    parser.add_argument("--komi", type=float, default=None, help="komi (default: 24 on 5x5, 9 on 7x7, 7.5 on 9x9+)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: the cores)")
    parser.add_argument("--ladder", default=None, help="JSON ladder file: games are added, ratings use all its games")
    parser.add_argument("--sgf", default=None, help="folder to write every game's SGF into, or NAME.tar.gz: an "
                        "archive (games added to one that exists) for `python -m zoo.arena recount`")
    parser.add_argument("--referee", default=None, choices=["gnugo"], help="score finished games with GNU Go's "
                        "final_score (dead stones) instead of the suite's area count")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-moves", type=int, default=None, help="move cap per game (default 2 * N * N)")
    parser.add_argument("--opening", type=int, default=None, metavar="K",
                        help="start every pair of games from an opening of K random sensible moves (no pass, no "
                        "repeat within the match), played once with each colour, so that deterministic players "
                        "play different games (default 2 on boards from 5x5 up; 0: the empty board)")
    parser.add_argument("--engine-timeout", type=float, default=ENGINE_TIMEOUT,
                        help="seconds an engine may take per answer before it forfeits the game")
    parser.add_argument("--anchor", default=ANCHOR, help=f"player held at --anchor-elo (default {ANCHOR})")
    parser.add_argument("--anchor-elo", type=float, default=ANCHOR_ELO)
    parser.add_argument("--wandb", default=None, metavar="DIR", help="also log the final ratings as a wandb Table "
                        "in a wandb run under DIR (offline unless logged in)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _board_and_komi(args: argparse.Namespace, ladder: Ladder | None, parser: argparse.ArgumentParser
                    ) -> tuple[int, float]:
    size = args.board
    if size is None and ladder is not None and len(ladder.sections) == 1:
        size = next(iter(ladder.sections.values()))["size"]
    size = 9 if size is None else size
    if not 2 <= size <= 19:
        parser.error(f"--board must be in 2..19, got {size}")
    komi = args.komi
    if komi is None and args.board is None and ladder is not None and len(ladder.sections) == 1:
        komi = next(iter(ladder.sections.values()))["komi"]
    return size, default_komi(size) if komi is None else komi


def _referee(args: argparse.Namespace) -> tuple[str, ...]:
    if not args.referee:
        return ()
    path = find_gnugo()
    if path is None:
        raise UserError("--referee gnugo: GNU Go is not installed (not on PATH nor at /usr/games/gnugo)")
    return (path, "--mode", "gtp", "--chinese-rules")


def _opening(args: argparse.Namespace, size: int, parser: argparse.ArgumentParser) -> int:
    opening = default_opening(size) if args.opening is None else args.opening
    if not 0 <= opening < size * size // 2:
        parser.error(f"--opening must be in 0..{size * size // 2 - 1} on a {size}x{size} board, got {opening}")
    return opening


@contextlib.contextmanager
def _sgf_folder(target: str | None) -> Iterator[str | None]:
    """The folder the games' SGF files go to: ``target`` itself, or for an archive (``NAME.tar.gz``) a temporary
    folder whose games are packed into it on the way out (after Ctrl-C too), with the games it already held."""
    if not target or not is_archive(target):
        yield target
        return
    folder = tempfile.mkdtemp(prefix="zoo-arena-sgf-")
    try:
        yield folder
    finally:
        merge_into(target, folder)
        shutil.rmtree(folder, ignore_errors=True)
        print(f"games: {target} (recount: python -m zoo.arena recount {target})", flush=True)


def _report(ratings: Ratings, tally: MatchTally, title: str, wandb_dir: str | None) -> None:
    for line in tally.lines():
        print(line)
    if tally.table:
        print(tally.markdown())
    for g in tally.forfeits:
        print(f"forfeit: {g['black']} (B) vs {g['white']} (W), seed {g['seed']}: {g['reason']}")
    print(format_table(ratings, title), flush=True)
    if wandb_dir:
        from zoo.run.logging import log_table

        log_table(wandb_dir, "arena/ratings", Ratings.COLUMNS, ratings.rows(), name=title)


def _ladder_opponents(texts: list[str], size: int, komi: float, path: str) -> list[PlayerSpec]:
    """The ladder's players as a gauntlet's opponents; ``UserError`` naming in one line every one that does not
    resolve here (a checkpoint of another machine, an engine not installed) and that ``--players`` picks them."""
    specs, missing = [], []
    for text in texts:
        try:
            specs.append(resolve_spec(text, size, komi))
        except UserError:
            missing.append(text)
    if missing:
        example = " ".join(s.spec if s.name == s.spec else f"{s.name}={s.spec}" for s in specs)
        hint = f"e.g. --players {example}" if specs else "--players SPEC ..."
        raise UserError(f"--gauntlet without --players plays every player of ladder {path}, and these cannot be "
                        f"played here (checkpoint or engine missing): {', '.join(missing)}; pick the opponents "
                        f"with --players ({hint})")
    return specs


def match_main(argv: list[str]) -> int:
    """``python -m zoo.arena --players A B ... [--gauntlet NEW ...] --games N``: see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m zoo.arena", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--players", nargs="*", default=[], metavar="SPEC", help="player specs (round-robin)")
    parser.add_argument("--gauntlet", nargs="*", default=[], metavar="SPEC",
                        help="new players, each against every --players player (or every ladder player)")
    parser.add_argument("--games", type=int, default=20, help="games per pair (colours alternate)")
    _common(parser)
    args = parser.parse_args(argv)
    try:
        ladder = Ladder.load(args.ladder) if args.ladder else None
        size, komi = _board_and_komi(args, ladder, parser)
        texts = list(args.players)
        from_ladder = bool(args.gauntlet and not texts and ladder is not None)
        if from_ladder:
            texts = [f"{n}={s}" if n != s else s for n, s in ladder.section(size, komi)["players"].items()]
        if len(texts) + len(args.gauntlet) < 2 or (args.gauntlet and not texts):
            parser.error("need at least two players: --players A B ..., or --gauntlet NEW with --players or a "
                         "--ladder that has players")
        if args.games < 1:
            parser.error("--games must be >= 1")
        if from_ladder:
            opponents = _ladder_opponents(texts, size, komi, args.ladder)
            specs = unique_names([*opponents, *resolve_specs(args.gauntlet, size, komi)])
        else:
            specs = resolve_specs([*texts, *args.gauntlet], size, komi)
        players, gauntlet = specs[: len(texts)], specs[len(texts):]
        history = arena_history(specs)
        opening = _opening(args, size, parser)
        referee = _referee(args)
        if ladder is not None:
            for s in specs:
                ladder.register(size, komi, s.name, s.spec)
            ladder.save()
    except UserError as exc:
        parser.error(str(exc))
    pairs = pairings(players, gauntlet)
    first = 0
    if ladder is not None:  # new games of a pair continue its game numbers (new seeds)
        section = ladder.section(size, komi)
        first = max((sum(1 for g in section["games"] if set(g["pair"]) == {a.name, b.name}) for a, b in pairs),
                    default=0)
        first += first % 2
    title = f"{size}x{size} komi {komi:g}"
    print(f"{len(pairs)} pairs x {args.games} games on {title}, openings of {opening} plies, {args.jobs} jobs",
          flush=True)
    start = time.time()
    with _sgf_folder(args.sgf) as sgf:
        jobs = schedule(pairs, args.games, size, komi, args.seed, history, args.max_moves or 2 * size * size,
                        sgf, referee, args.engine_timeout, first, opening)
        games, tally, interrupted = play_match(jobs, args.jobs, ladder, not args.no_progress)
    results = ladder.games(size, komi) if ladder is not None else [GameResult(g["black"], g["white"], g["score"])
                                                                    for g in games]
    names = [s.name for s in specs]
    ratings = fit_ratings(results, args.anchor, args.anchor_elo, players=names)
    print(f"{'stopped by Ctrl-C' if interrupted else 'done'}: {len(games)} games in {time.time() - start:.0f} s")
    _report(ratings, tally, title, args.wandb)
    if ladder is not None:
        print(f"ladder: {ladder.path}")
    return 130 if interrupted else 0


def ladder_main(argv: list[str]) -> int:
    """``python -m zoo.arena ladder FILE [--board N --komi K]``: print the ratings of a ladder file."""
    parser = argparse.ArgumentParser(prog="python -m zoo.arena ladder", description=ladder_main.__doc__)
    parser.add_argument("file")
    parser.add_argument("--board", type=int, default=None)
    parser.add_argument("--komi", type=float, default=None)
    parser.add_argument("--anchor", default=ANCHOR)
    parser.add_argument("--anchor-elo", type=float, default=ANCHOR_ELO)
    parser.add_argument("--wandb", default=None, metavar="DIR", help="also log each table as a wandb Table")
    args = parser.parse_args(argv)
    if not Path(args.file).is_file():
        parser.error(f"ladder file {args.file} does not exist")
    try:
        ladder = Ladder.load(args.file)
    except UserError as exc:
        parser.error(str(exc))
    sections = [s for s in ladder.sections.values()
                if (args.board is None or s["size"] == args.board) and (args.komi is None or s["komi"] == args.komi)]
    if not sections:
        parser.error(f"no section of {args.file} matches; sections: {', '.join(ladder.sections) or 'none'}")
    for s in sections:
        ratings = ladder.ratings(s["size"], s["komi"], args.anchor, args.anchor_elo)
        tally = MatchTally()
        for g in s["games"]:
            tally.add(g)
        _report(ratings, tally, f"{s['size']}x{s['size']} komi {s['komi']:g}", args.wandb)
    return 0


def sprt_main(argv: list[str]) -> int:
    """``python -m zoo.arena sprt A B [--elo0 0 --elo1 50 --alpha 0.05 --beta 0.05 --max-games 1000]``: play A
    against B, colours alternating, until the SPRT decides whether A is elo1 stronger (H1) or not (H0)."""
    parser = argparse.ArgumentParser(prog="python -m zoo.arena sprt", description=sprt_main.__doc__)
    parser.add_argument("a", metavar="A")
    parser.add_argument("b", metavar="B")
    parser.add_argument("--elo0", type=float, default=0.0)
    parser.add_argument("--elo1", type=float, default=50.0)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--beta", type=float, default=0.05)
    parser.add_argument("--max-games", type=int, default=1000)
    _common(parser)
    args = parser.parse_args(argv)
    try:
        sprt([], args.elo0, args.elo1, args.alpha, args.beta)
        ladder = Ladder.load(args.ladder) if args.ladder else None
        size, komi = _board_and_komi(args, ladder, parser)
        a, b = resolve_specs([args.a, args.b], size, komi)
        history = arena_history([a, b])
        opening = _opening(args, size, parser)
        referee = _referee(args)
        if ladder is not None:
            for s in (a, b):
                ladder.register(size, komi, s.name, s.spec)
    except (UserError, ValueError) as exc:
        parser.error(str(exc))
    scores: list[float] = []

    def decided(game: dict[str, Any]) -> bool:
        scores.append(game["score"] if game["black"] == a.name else 1.0 - game["score"])
        return sprt(scores, args.elo0, args.elo1, args.alpha, args.beta).decision is not None

    with _sgf_folder(args.sgf) as sgf:
        jobs = schedule([(a, b)], args.max_games, size, komi, args.seed, history,
                        args.max_moves or 2 * size * size, sgf, referee, args.engine_timeout, 0, opening)
        _, tally, interrupted = play_match(jobs, args.jobs, ladder, not args.no_progress, stop=decided)
    result = sprt(scores, args.elo0, args.elo1, args.alpha, args.beta)
    for line in tally.lines():
        print(line)
    verdict = {"H1": f"H1: {a.name} is stronger than {b.name} by about {args.elo1:g} Elo or more",
               "H0": f"H0: {a.name} is not {args.elo1:g} Elo stronger than {b.name} (at most about {args.elo0:g})",
               None: "undecided"}[result.decision]
    print(f"SPRT elo0={args.elo0:g} elo1={args.elo1:g} alpha={args.alpha:g} beta={args.beta:g}: LLR {result.llr:.2f} "
          f"in [{result.lower:.2f}, {result.upper:.2f}] after {result.games} games (score {result.score:g}): {verdict}")
    return 130 if interrupted else 0


def recount_main(argv: list[str]) -> int:
    """``python -m zoo.arena recount ARCHIVE [--referee gnugo]``: the table of a match from its games (a
    ``.tar.gz`` archive written by ``--sgf NAME.tar.gz``, or a folder of SGF files): score per pairing with its 95%
    interval, per colour, distinct games; with ``--referee gnugo`` also GNU Go's ``final_score`` of every game that
    ended on the board, and how many results it agrees with."""
    parser = argparse.ArgumentParser(prog="python -m zoo.arena recount", description=recount_main.__doc__)
    parser.add_argument("archive", help="NAME.tar.gz or a folder of .sgf files")
    parser.add_argument("--referee", default=None, choices=["gnugo"])
    parser.add_argument("--engine-timeout", type=float, default=ENGINE_TIMEOUT)
    args = parser.parse_args(argv)
    try:
        result = recount(args.archive, _referee(args), args.engine_timeout)
    except UserError as exc:
        parser.error(str(exc))
    print(f"{args.archive}: {len(result.games)} games")
    print(result.text())
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m zoo.arena [ladder|sprt|recount] ...``; see the module docstring."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "recount":
        return recount_main(argv[1:])
    if argv and argv[0] == "ladder":
        return ladder_main(argv[1:])
    if argv and argv[0] == "sprt":
        return sprt_main(argv[1:])
    return match_main(argv)


__all__ = ["ladder_main", "main", "match_main", "recount_main", "sprt_main"]
