"""Game records for AlphaGo's first stages: SGF folders into training positions, and corpora from a GTP engine.

- :func:`generate_corpus` has an engine play itself (GNU Go 3.8 at a chosen level by default; any GTP command
  line works) and writes one SGF per game into a folder, ``game-000000.sgf`` upwards. Game ``i`` is seeded with
  ``seed + i`` (GNU Go's ``--seed``) and opens with ``random_moves`` uniformly random legal moves drawn from
  that seed, so games differ; the root property ``ZR`` records how many opening moves were random (they are
  not expert moves and are never training targets). Files that already exist are kept, so an interrupted
  generation continues where it stopped.
- :func:`load_sgf_folder` reads every ``*.sgf`` of a folder; a game is *unusable* when it does not parse, is of
  another board size, or replays an illegal move under the suite's rules (positional superko, suicide): such
  games are skipped and listed. A folder with no usable game is a :class:`zoo.errors.UserError` naming the
  folder and the first problems (file and reason).
- :func:`positions` replays usable games into training arrays: feature planes (the game's planes, from the
  mover's view), the expert's action, the rollout features of every action, and the game index (to hold out
  whole games).

    python -m zoo.corpus --out corpora/go9-gnugo --size 9 --games 300 --level 1 --jobs 2
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from envs.go.coords import action_to_gtp, gtp_to_action
from envs.go.game import GoGame
from envs.go.sgf import GameRecord, SgfError, load_sgf, record_to_state, result_string, save_sgf
from envs.go.state import BLACK, GoState
from zoo.errors import UserError
from zoo.play.gtp_client import GtpClient, GtpError, gnugo_argv
from zoo.run.progress import ProgressBar

RANDOM_MOVES_PROPERTY = "ZR"
"""Root property of generated games: how many opening moves were random (not training targets)."""


@dataclass
class Corpus:
    """Usable games of a folder and what was skipped."""

    records: list[GameRecord]
    paths: list[Path]
    skipped: list[str] = field(default_factory=list)
    """One line per unusable file: ``name: reason``."""


@dataclass
class Positions:
    """Training positions replayed from games (``n`` positions, ``A = N*N + 1`` actions)."""

    planes: np.ndarray
    """uint8 ``(n, C, N, N)``: the game's feature planes (0/1) from the mover's view."""
    actions: np.ndarray
    """int64 ``(n,)``: the move the expert played."""
    features: np.ndarray
    """int32 ``(n, A, K)``: rollout feature indices of every action (see :mod:`envs.go.rollout`)."""
    game: np.ndarray
    """int64 ``(n,)``: index of the game each position comes from."""

    def __len__(self) -> int:
        return len(self.actions)

    def subset(self, mask: np.ndarray) -> Positions:
        """The positions where ``mask`` is True."""
        return Positions(self.planes[mask], self.actions[mask], self.features[mask], self.game[mask])

    def save(self, path: str | Path) -> None:
        """Write as one ``.npz`` (atomically: a temporary file, then rename)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, planes=self.planes, actions=self.actions, features=self.features, game=self.game)
        os.replace(tmp, path)

    @staticmethod
    def load(path: str | Path) -> Positions:
        """Read what :meth:`save` wrote."""
        with np.load(path) as data:
            return Positions(data["planes"], data["actions"], data["features"], data["game"])


# -- reading -------------------------------------------------------------------------------------------------


def load_sgf_folder(folder: str | Path, size: int) -> Corpus:
    """Usable ``size`` x ``size`` games of every ``*.sgf`` in ``folder`` (sorted by name); see the module doc."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"SGF folder {folder} does not exist (agent.sgf_dir must name a folder of .sgf files)")
    files = sorted(folder.glob("*.sgf"))
    if not files:
        raise UserError(f"SGF folder {folder} holds no .sgf files")
    records, paths, skipped = [], [], []
    for path in files:
        try:
            record = load_sgf(path)
            if record.size != size:
                raise SgfError(f"board size {record.size}x{record.size}, this run plays {size}x{size}")
            record_to_state(record, history=1)
        except (SgfError, ValueError, OSError) as exc:
            message = str(exc)
            skipped.append(message if message.startswith(str(path)) else f"{path}: {message}")
            continue
        records.append(record)
        paths.append(path)
    if not records:
        shown = "; ".join(skipped[:3]) + ("; ..." if len(skipped) > 3 else "")
        raise UserError(f"SGF folder {folder} has no usable {size}x{size} game ({len(files)} files): {shown}")
    return Corpus(records, paths, skipped)


def replay_targets(records: list[GameRecord], history: int = 8,
                   progress: Callable[[int], None] | None = None) -> Iterator[tuple[int, GoState, int]]:
    """(game index, position before the move, the move) for every move of ``records`` (usable ones, see
    :func:`load_sgf_folder`) after the random opening (root property ``ZR``), passes included; setup stones are
    placed first. The position is played on after the consumer resumes: read from it before asking for the
    next. ``progress(i)`` is called after game ``i``."""
    for i, record in enumerate(records):
        skip = int(record.properties.get(RANDOM_MOVES_PROPERTY, ["0"])[0] or 0)
        start = GameRecord(size=record.size, komi=record.komi, setup_black=record.setup_black,
                           setup_white=record.setup_white, first_player=record.first_player,
                           moves=record.moves[:0])
        state = record_to_state(start, history=history)
        for number, (_, action) in enumerate(record.moves):
            if number >= skip:
                yield i, state, action
            state.play(action)
        if progress is not None:
            progress(i)


def positions(records: list[GameRecord], game: GoGame,
              progress: Callable[[int], None] | None = None) -> Positions:
    """Replay ``records`` (usable ones, see :func:`load_sgf_folder`) into training :class:`Positions`: every
    target of :func:`replay_targets`. ``progress(i)`` is called after game ``i``.
    """
    planes, actions, feats, owner = [], [], [], []
    for i, state, action in replay_targets(records, game.history, progress):
        planes.append(state.features().astype(np.uint8))
        actions.append(action)
        feats.append(game.move_features([state])[0])
        owner.append(i)
    if not actions:
        raise UserError("the games hold no moves to learn from")
    return Positions(np.stack(planes), np.asarray(actions, np.int64), np.stack(feats), np.asarray(owner, np.int64))


# -- generating ----------------------------------------------------------------------------------------------


def engine_argv(engine: str, level: int, seed: int) -> list[str]:
    """argv of the corpus engine: ``gnugo`` (at ``level``, seeded) or any GTP command line (split on spaces).

    UserError naming the package when GNU Go is not installed, or the command when it is not found.
    """
    if engine == "gnugo":
        try:
            return gnugo_argv(level=level, seed=seed)
        except FileNotFoundError:
            raise UserError("GNU Go is not installed (needed to generate the game corpus): apt-get install gnugo, "
                            "or pass agent.sgf_dir=FOLDER of SGF games") from None
    argv = engine.split()
    if not argv:
        raise UserError("agent.corpus_engine is empty; use gnugo or a GTP engine command line")
    return argv


def play_engine_game(client: GtpClient, size: int, komi: float, rng: np.random.Generator, random_moves: int,
                     max_moves: int) -> tuple[GameRecord, int]:
    """One game of the engine against itself after ``random_moves`` random opening moves; returns the record
    and how many opening moves were random. A move the suite's rules forbid (superko) ends the game as a pass."""
    client.send(f"boardsize {size}")
    client.send("clear_board")
    client.send(f"komi {komi:g}")
    state = GoState.new(size, komi=komi, history=1, max_moves=max_moves)
    actions: list[int] = []
    opening = 0
    while not state.is_terminal:
        colour = "b" if state.to_play == BLACK else "w"
        if len(actions) < random_moves:
            legal = state.legal_actions()[:-1]
            if legal.size == 0:
                break
            action = int(rng.choice(legal))
            client.send(f"play {colour} {action_to_gtp(action, size)}")
            opening += 1
        else:
            reply = client.send(f"genmove {colour}").strip().lower()
            if reply == "resign":
                state.resign()
                break
            action = gtp_to_action(reply, size)
            if not state.is_legal(action):
                action = size * size
        state.play(action)
        actions.append(action)
    colours = [BLACK if i % 2 == 0 else -BLACK for i in range(len(actions))]
    record = GameRecord(size=size, komi=komi, rules="Chinese", result=result_string(state), black="engine",
                        white="engine", moves=list(zip(colours, actions, strict=True)))
    record.properties[RANDOM_MOVES_PROPERTY] = [str(opening)]
    return record, opening


def generate_corpus(folder: str | Path, games: int, size: int, komi: float, engine: str = "gnugo", level: int = 1,
                    seed: int = 0, random_moves: int = 2, progress: bool = True, timeout: float = 60.0,
                    jobs: int = 1) -> Path:
    """Write ``games`` engine self-play games into ``folder`` (see the module docstring); returns the folder.

    ``jobs`` engine processes play at once (one per core is the fastest); game ``i`` depends only on
    ``seed + i``, so the files are the same for any ``jobs``. On Ctrl-C no new game starts, the games in play
    finish or stop with their engine, and every finished game is kept.
    """
    if jobs < 1:
        raise UserError(f"jobs must be >= 1 (got {jobs})")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    argv0 = engine_argv(engine, level, seed)
    cap = 3 * size * size
    todo = [i for i in range(games) if not (folder / f"game-{i:06d}.sgf").exists()]

    def play(i: int) -> None:
        argv = engine_argv(engine, level, seed + i) if engine == "gnugo" else argv0
        try:
            client = GtpClient(argv, timeout=timeout)
        except FileNotFoundError:
            raise UserError(f"GTP engine {argv[0]!r} not found (agent.corpus_engine)") from None
        try:
            record, _ = play_engine_game(client, size, komi, np.random.default_rng(seed + i), random_moves, cap)
        except GtpError as exc:
            raise UserError(f"GTP engine {' '.join(argv)} failed in game {i}: {exc}") from None
        finally:
            client.close()
        save_sgf(folder / f"game-{i:06d}.sgf", record)

    done = games - len(todo)
    with ProgressBar(games, done, progress, description="corpus") as bar, \
            ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="corpus") as pool:
        pending = {pool.submit(play, i) for i in todo}
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
                    done += 1
                bar.update(done)
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return folder


def main(argv: list[str] | None = None) -> None:
    """``python -m zoo.corpus --out DIR --size 9 --games 300 --level 1``: a corpus of engine self-play games."""
    parser = argparse.ArgumentParser(prog="python -m zoo.corpus", description=main.__doc__)
    parser.add_argument("--out", required=True, help="folder for the SGF files (kept files are not replayed)")
    parser.add_argument("--size", type=int, default=9)
    parser.add_argument("--komi", type=float, default=7.5)
    parser.add_argument("--games", type=int, default=300)
    parser.add_argument("--engine", default="gnugo", help="gnugo, or a GTP engine command line")
    parser.add_argument("--level", type=int, default=None, help="GNU Go level (0..10, default 1); only for "
                        "--engine gnugo")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--random-moves", type=int, default=2, help="random opening moves per game")
    parser.add_argument("--jobs", type=int, default=1, help="engine processes playing at once (the same games "
                        "for any number; one per core is the fastest)")
    args = parser.parse_args(argv)
    if not 2 <= args.size <= 19 or args.games < 1 or args.jobs < 1:
        parser.error(f"--size must be in 2..19, --games >= 1 and --jobs >= 1 "
                     f"(got {args.size}, {args.games}, {args.jobs})")
    if args.level is not None and args.engine != "gnugo":
        parser.error(f"--level sets GNU Go's level; --engine {args.engine!r} is another engine (give its own "
                     "options in its command line)")
    if args.level is not None and not 0 <= args.level <= 10:
        parser.error(f"--level must be in 0..10 (GNU Go's levels), got {args.level}")
    if args.random_moves < 0:
        parser.error(f"--random-moves must be >= 0, got {args.random_moves}")
    try:
        generate_corpus(args.out, args.games, args.size, args.komi, args.engine,
                        1 if args.level is None else args.level, args.seed,
                        args.random_moves, jobs=args.jobs)
    except UserError as exc:
        parser.error(str(exc))
    except KeyboardInterrupt:
        raise SystemExit(f"\ninterrupted; games so far are kept in {args.out} (rerun to continue)") from None
    print(f"{args.games} games in {args.out}")
