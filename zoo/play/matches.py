"""Matches: games between resolved player specs in worker processes, with SGF records, forfeits and a tally.

Round-robin between ``--players`` (default) or a gauntlet of ``--gauntlet`` players against them
(against the ladder's players when ``--players`` is not given), ``--games`` games per pair with colours
alternating (the first-named player has black in even games). The suite's rules and area scoring decide, or
GNU Go's ``final_score`` with ``--referee gnugo`` (for dead stones, as gogui-twogtp does; games that end by
resignation or forfeit need no referee; GNU Go's estimate is poor on small boards and unfinished positions,
e.g. it scores the empty 5x5 board B+1 whatever the komi). Every game gets a seed (from ``--seed``, the two names
and the game number): GNU Go is restarted per game with ``--seed``, the bots and agents are seeded with it, so a
match replays.
Players that ignore seeds (greedy nets, searches without noise, GNU Go) would replay one game against each other,
so every pair of games starts from an opening of ``--opening K`` plies (:mod:`zoo.play.openings`; default 2 on
boards from 5x5 up), played once with each colour; every result counts its distinct games (by move sequence).
Games run in ``--jobs`` worker processes, one game at a time per worker; GTP engines live for one game and are
closed after it (and killed with their worker: no orphan processes, even on Ctrl-C). An engine that crashes or
hangs, or a player that fails or returns an illegal move, forfeits that game (the reason is recorded) and the
match goes on. Results, per colour, and the Elo table (:mod:`zoo.play.ratings`) are printed at the end and every game
goes into ``--ladder`` as it finishes.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from envs.go.sgf import GameRecord, result_string, save_sgf
from envs.go.state import BLACK, GoState
from zoo.errors import UserError
from zoo.play.arena_specs import ENGINE_TIMEOUT, PlayerSpec
from zoo.play.gtp_client import GtpClient, GtpError, GtpPlayer, referee_score
from zoo.play.openings import (
    DISTINCT_WARNING,
    OPENING_PROPERTY,
    PAIR_PROPERTY,
    SEED_PROPERTY,
    distinct_share,
    distinct_text,
    game_digest,
    opening_set,
    play_opening,
)
from zoo.play.players import RESIGN, CapturePlayer, MctsPlayer, Player, RandomPlayer, agent_player, load_agent
from zoo.play.ratings import Ladder, wilson_interval

# -- one game (runs in a worker process) ---------------------------------------------------------------------


@dataclass(frozen=True)
class GameJob:
    """One game to play: the two players, the board, the seed, and where its SGF goes (or None)."""

    black: PlayerSpec
    white: PlayerSpec
    size: int
    komi: float
    seed: int
    history: int = 8
    max_moves: int | None = None
    sgf: str | None = None
    referee: tuple[str, ...] = ()
    engine_timeout: float = ENGINE_TIMEOUT
    pair: tuple[str, str] = ("", "")
    """The pairing's names in the order given (first-named, second-named)."""
    opening: tuple[int, ...] = ()
    """Moves played before the players take over (games 2i and 2i+1 of a pair share one, colours swapped)."""


_AGENTS: dict[tuple[str, tuple[tuple[str, Any], ...]], Any] = {}
"""Checkpoint agents already loaded in this process (loading costs far more than a game)."""


def build_player(spec: PlayerSpec, seed: int, stack: contextlib.ExitStack, engine_timeout: float = ENGINE_TIMEOUT
                 ) -> Player:
    """A fresh player for one game, seeded with ``seed``; engines are closed by ``stack``."""
    if spec.kind == "random":
        return RandomPlayer(seed, spec.name)
    if spec.kind == "capture":
        return CapturePlayer(seed, spec.name)
    if spec.kind == "mcts":
        return MctsPlayer(spec.playouts, seed, spec.name, spec.c_uct)
    if spec.kind == "gtp":
        argv = list(spec.argv) + (["--seed", str(seed % 2**31)] if spec.seed_flag else [])
        client = stack.enter_context(GtpClient(argv, timeout=engine_timeout))
        return GtpPlayer(client, spec.name, spec.genmove)
    key = (spec.path, spec.overrides)
    if key not in _AGENTS:
        _AGENTS[key] = load_agent(spec.path, dict(spec.overrides))
    player = agent_player(_AGENTS[key], spec.name)  # shared by the games of this process: reseeded, reset
    player.reseed(seed)
    player.reset()
    return player


def _score_of(result: str) -> float:
    """Black's score from an SGF-style result (``B+3.5``, ``W+R``, ``0``)."""
    text = result.strip().upper()
    if text.startswith("B+"):
        return 1.0
    if text.startswith("W+"):
        return 0.0
    if text in ("0", "DRAW", "JIGO"):
        return 0.5
    raise ValueError(f"unreadable result {result!r}")


def play_game(job: GameJob) -> dict[str, Any]:
    """Play one game; returns its record for the ladder: ``black``, ``white``, ``score`` (black's), ``result``
    (SGF ``RE``), ``reason`` (score / resign / referee / forfeit: why), ``moves``, ``seed``, ``pair``.

    Never raises for a player's failure: a player that crashes, hangs, fails to start, raises or returns an illegal
    move forfeits the game (result ``B+F`` / ``W+F``).
    """
    state = GoState.new(job.size, job.komi, job.history, max_moves=job.max_moves)
    moves: list[tuple[int, int]] = []
    forfeit: tuple[int, str] | None = None
    seeds = np.random.SeedSequence(job.seed).generate_state(2)
    moves.extend(play_opening(state, job.opening))
    opening_plies = len(moves)
    with contextlib.ExitStack() as stack:
        players: dict[int, Player] = {}
        for colour, spec, seed in ((BLACK, job.black, seeds[0]), (-BLACK, job.white, seeds[1])):
            try:
                players[colour] = build_player(spec, int(seed), stack, job.engine_timeout)
            except (GtpError, OSError, UserError, ValueError) as exc:
                forfeit = (colour, f"{spec.name} did not start: {_one_line(exc)}")
                break
        while forfeit is None and not state.is_terminal:
            colour = state.to_play
            player = players[colour]
            try:
                action = int(player.select_move(state))
            except KeyboardInterrupt:
                raise
            except GtpError as exc:
                forfeit = (colour, f"{player.name} crashed: {_one_line(exc)}")
                break
            except Exception as exc:  # a failing player loses the game, not the match
                forfeit = (colour, f"{player.name} failed: {type(exc).__name__}: {_one_line(exc)}")
                break
            if action == RESIGN:
                state.resign()
            elif not state.is_legal(action):
                forfeit = (colour, f"{player.name} played an illegal move {action}: {state.illegal_reason(action)}")
            else:
                moves.append((colour, action))
                state.play(action)
    reason, ours = "score", None
    if forfeit is not None:
        loser, why = forfeit
        result, reason = ("W+F" if loser == BLACK else "B+F"), f"forfeit: {why}"
    else:
        result = result_string(state) or "0"
        if state.resigned:
            reason = "resign"
        elif job.referee:
            ours = result
            try:
                with GtpClient(list(job.referee), timeout=job.engine_timeout) as ref:
                    result = referee_score(ref, state, [a for _, a in moves]) or ours
                reason = "referee"
            except (GtpError, OSError) as exc:
                result, reason = ours, f"score (referee failed: {_one_line(exc)})"
    score = _score_of(result)
    if job.sgf:
        record = GameRecord(size=job.size, komi=job.komi, rules="Tromp-Taylor (area, positional superko)",
                            result=result, black=job.black.name, white=job.white.name, moves=moves)
        record.properties[PAIR_PROPERTY] = list(job.pair)
        record.properties[OPENING_PROPERTY] = [str(opening_plies)]
        record.properties[SEED_PROPERTY] = [str(int(job.seed))]
        Path(job.sgf).parent.mkdir(parents=True, exist_ok=True)
        save_sgf(job.sgf, record)
    out = {"black": job.black.name, "white": job.white.name, "score": score, "result": result, "reason": reason,
           "moves": len(moves), "seed": int(job.seed), "pair": list(job.pair),
           "digest": game_digest(a for _, a in moves)}
    if opening_plies:
        out["opening"] = [a for _, a in moves[:opening_plies]]
    if ours is not None:
        out["our_result"] = ours
    return out


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__


# -- scheduling ----------------------------------------------------------------------------------------------


def game_seed(seed: int, first: str, second: str, k: int) -> int:
    """The seed of game ``k`` between the players named ``first`` and ``second`` (stable across runs)."""
    words = [seed % 2**32, zlib.crc32(first.encode()), zlib.crc32(second.encode()), k]
    return int(np.random.SeedSequence(words).generate_state(1)[0])


def pairings(players: Sequence[PlayerSpec], gauntlet: Sequence[PlayerSpec] = ()) -> list[tuple[PlayerSpec, PlayerSpec]]:
    """Round-robin pairs of ``players``, or with ``gauntlet``: each gauntlet player against each of ``players``
    (and the gauntlet players against each other)."""
    if not gauntlet:
        return [(a, b) for i, a in enumerate(players) for b in players[i + 1:]]
    out = [(g, p) for g in gauntlet for p in players if p.name != g.name]
    out += [(a, b) for i, a in enumerate(gauntlet) for b in gauntlet[i + 1:]]
    return out


def schedule(pairs: Sequence[tuple[PlayerSpec, PlayerSpec]], games: int, size: int, komi: float, seed: int = 0,
             history: int = 8, max_moves: int | None = None, sgf: str | Path | None = None,
             referee: Sequence[str] = (), engine_timeout: float = ENGINE_TIMEOUT, first_game: int = 0,
             opening: int = 0) -> list[GameJob]:
    """``games`` games per pair, colours alternating (the first-named player has black in even games), interleaved
    pair by pair so a cut-short match is balanced; games ``2i`` and ``2i+1`` of a pair start from opening ``i`` of
    the pair's :func:`zoo.play.openings.opening_set` (``opening`` plies, seeded by ``seed`` and the two names) with
    colours swapped."""
    jobs = []
    last = first_game + games
    openings = {(a.name, b.name): opening_set(size, komi, opening, last // 2 + 1,
                                              game_seed(seed + 1, a.name, b.name, 2**31))
                for a, b in pairs}
    for k in range(first_game, last):
        for a, b in pairs:
            black, white = (a, b) if k % 2 == 0 else (b, a)
            path = None
            game = game_seed(seed, a.name, b.name, k)
            if sgf:  # the seed in the name keeps the games of another --seed apart in one folder or archive
                path = str(Path(sgf) / f"{_safe(a.name)}-vs-{_safe(b.name)}-{k:04d}-{game % 16**6:06x}.sgf")
            jobs.append(GameJob(black, white, size, komi, game, history, max_moves,
                                path, tuple(referee), engine_timeout, (a.name, b.name),
                                openings[(a.name, b.name)][k // 2]))
    return jobs


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_.+" else "_" for ch in name)


def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def run_games(jobs: Iterable[GameJob], n_jobs: int, on_result: Callable[[dict[str, Any]], bool]) -> None:
    """Play ``jobs`` on ``n_jobs`` worker processes (in this process when 1), calling ``on_result`` for each
    finished game in the order they finish; ``on_result`` returns False to stop (games in flight are dropped).

    On Ctrl-C the workers are terminated (their engines die with them) and ``KeyboardInterrupt`` is re-raised.
    """
    jobs = iter(jobs)
    if n_jobs <= 1:
        for job in jobs:
            if not on_result(play_game(job)):
                return
        return
    ctx = multiprocessing.get_context("spawn")
    done: queue.Queue[tuple[bool, Any]] = queue.Queue()
    pool = ctx.Pool(n_jobs, initializer=_worker_init)
    try:
        in_flight = 0

        def submit() -> bool:
            job = next(jobs, None)
            if job is None:
                return False
            pool.apply_async(play_game, (job,), callback=lambda r: done.put((True, r)),
                             error_callback=lambda e: done.put((False, e)))
            return True

        for _ in range(2 * n_jobs):
            in_flight += submit()
        while in_flight:
            ok, value = done.get()
            in_flight -= 1
            if not ok:
                raise value
            if not on_result(value):
                return
            in_flight += submit()
    finally:
        pool.terminate()
        pool.join()


# -- a match ---------------------------------------------------------------------------------------------------


@dataclass
class MatchTally:
    """Per pair (first-named, second-named) and colour: the first-named player's points and games, and the games'
    digests (move sequences) for the distinct count."""

    table: dict[tuple[str, str], dict[str, list[float]]] = field(default_factory=dict)
    digests: dict[tuple[str, str], list[str | None]] = field(default_factory=dict)
    forfeits: list[dict[str, Any]] = field(default_factory=list)

    def add(self, game: dict[str, Any]) -> None:
        first, second = game["pair"]
        row = self.table.setdefault((first, second), {"black": [0.0, 0], "white": [0.0, 0]})
        colour = "black" if game["black"] == first else "white"
        row[colour][0] += game["score"] if colour == "black" else 1.0 - game["score"]
        row[colour][1] += 1
        self.digests.setdefault((first, second), []).append(game.get("digest"))
        if str(game.get("reason", "")).startswith("forfeit"):
            self.forfeits.append(game)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per pair: ``player``, ``opponent``, ``games``, ``points``, ``low``/``high`` (Wilson 95%),
        ``black``/``white`` (points, games), ``distinct``/``known`` (distinct move sequences among the games that
        recorded one); pairs in name order."""
        out = []
        for (a, b), row in sorted(self.table.items()):
            (pb, gb), (pw, gw) = row["black"], row["white"]
            n, pts = int(gb + gw), pb + pw
            low, high = wilson_interval(pts, n)
            distinct, known = distinct_share(self.digests.get((a, b), []))
            out.append({"player": a, "opponent": b, "games": n, "points": pts, "low": low, "high": high,
                        "black": (pb, int(gb)), "white": (pw, int(gw)), "distinct": distinct, "known": known})
        return out

    def lines(self) -> list[str]:
        """One line per pair: score, per colour, and the distinct-game count (flagged under 90%)."""
        out = []
        for r in self.rows():
            (pb, gb), (pw, gw) = r["black"], r["white"]
            out.append(f"{r['player']} vs {r['opponent']}: {r['player']} {r['points']:g}/{r['games']} "
                       f"(as black {pb:g}/{gb}, as white {pw:g}/{gw}); "
                       f"{distinct_text(r['distinct'], r['known'], r['games'])}")
        return out

    def markdown(self) -> str:
        """The tally as the Markdown table the reports print (score with its Wilson 95% interval, per colour,
        distinct games)."""
        lines = ["| player | opponent | games | score (95% interval) | as black | as white | distinct games |",
                 "|---|---|---:|---:|---:|---:|---:|"]
        for r in self.rows():
            (pb, gb), (pw, gw) = r["black"], r["white"]
            rate = r["points"] / max(r["games"], 1)
            distinct = f"{r['distinct']}/{r['known']}" if r["known"] else "?"
            if r["known"] and r["distinct"] < DISTINCT_WARNING * r["known"]:
                distinct += " (under 90%)"
            lines.append(f"| {r['player']} | {r['opponent']} | {r['games']} | {r['points']:g}/{r['games']} = "
                         f"{rate:.2f} ({r['low']:.2f}-{r['high']:.2f}) | {pb:g}/{gb} | {pw:g}/{gw} | {distinct} |")
        return "\n".join(lines)


def _progress(enabled: bool) -> Progress:
    return Progress(TextColumn("[bold]games"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[text]}"),
                    disable=not enabled, transient=False)


def play_match(jobs: list[GameJob], n_jobs: int, ladder: Ladder | None = None, progress: bool = True,
               stop: Callable[[dict[str, Any]], bool] | None = None
               ) -> tuple[list[dict[str, Any]], MatchTally, bool]:
    """Play ``jobs``; every finished game goes into ``ladder`` (saved after each game) and the tally.

    ``stop(game)`` returning True ends the match early. Ctrl-C stops it with every finished game kept. Returns the
    finished games, their tally, and whether Ctrl-C stopped the match.
    """
    games: list[dict[str, Any]] = []
    tally = MatchTally()
    bar = _progress(progress)
    task = bar.add_task("games", total=len(jobs), text="")
    size, komi = (jobs[0].size, jobs[0].komi) if jobs else (0, 0.0)

    def on_result(game: dict[str, Any]) -> bool:
        games.append(game)
        tally.add(game)
        if ladder is not None:
            ladder.add_game(size, komi, game)
            ladder.save()
        last = tally.lines()[-1] if tally.table else ""
        first, _ = game["pair"]
        row = tally.table[tuple(game["pair"])]
        pts = row["black"][0] + row["white"][0]
        n = row["black"][1] + row["white"][1]
        bar.update(task, advance=1, text=f"{first} {pts:g}/{n} ({last.split(':')[0]})")
        return not (stop is not None and stop(game))

    interrupted = False
    with bar:
        try:
            run_games(jobs, n_jobs, on_result)
        except KeyboardInterrupt:
            interrupted = True
    return games, tally, interrupted
