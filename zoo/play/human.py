"""Play Go against an agent in the terminal: ``python -m zoo.play_go --human``.

    python -m zoo.play_go --human --checkpoint pretrained:go7
    python -m zoo.play_go --human --opponent mcts:400 --board 9 --color white --sgf mygame.sgf

The opponent is a checkpoint of any agent of the suite (``--checkpoint``; ``--sims N`` sets a searching agent's
budget) or any arena player spec (``--opponent``: ``random``, ``capture``, ``mcts:N``, ``gnugo[:LEVEL]``,
``gtp:COMMAND``; default ``mcts:400``), resolved and built by the arena's own machinery
(:func:`zoo.play.arena_specs.resolve_spec`, :func:`zoo.play.matches.build_player`). With a checkpoint the board
size and komi are the checkpoint's unless given; a ``--board`` other than the checkpoint's is refused.

Each turn shows the board (:func:`envs.go.render.ansi`: GTP coordinates, the last move framed, side to move, move
count, captures per side) and an area count of the position as it stands (Tromp-Taylor: every stone counts as
alive, plus komi; before the dead stones are captured it is an estimate, not a prediction). The human types a
GTP vertex (``D4``, any case), ``pass``, ``undo`` (takes back the human's last move and the reply to it),
``resign``, ``help`` or ``quit``. A bad input (malformed or off-board vertex, occupied point, suicide, positional
superko, nothing to undo) prints its reason and asks again. Two passes in a row or a resignation end the game; the
result is the SGF result with the area count. End of input or Ctrl-C stops the game. In every case the moves
played are saved as SGF (:func:`envs.go.sgf.save_sgf`) to ``--sgf`` or ``runs/human/DATE-TIME-NxN.sgf``.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from envs.go.coords import action_to_gtp, gtp_to_action
from envs.go.render import ansi
from envs.go.sgf import GameRecord, result_string, save_sgf
from envs.go.state import BLACK, WHITE, GoState, check_komi
from zoo.errors import UserError
from zoo.play.arena_specs import PlayerSpec, default_komi, resolve_spec
from zoo.play.matches import build_player
from zoo.play.players import RESIGN, Player, load_agent

DEFAULT_OPPONENT = "mcts:400"
"""The opponent without ``--checkpoint`` or ``--opponent``."""
DEFAULT_BOARD = 9
"""The board without a checkpoint or ``--board``."""
RULES = "Tromp-Taylor (area, positional superko)"
COMMANDS = ("pass", "undo", "resign", "help", "quit")
HELP = """\
Type a point as a GTP vertex, column letter then row number (A1 is the bottom-left corner; there is no I column),
in either case: D4, d4. Commands:
  pass     pass (two passes in a row end the game, which is then scored by area)
  undo     take back your last move and the reply to it
  resign   give up the game
  help     this text
  quit     stop here; the moves so far are saved (no result)"""


# -- settings --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HumanOptions:
    """What ``python -m zoo.play_go --human`` was told (``None``: not given, the default applies)."""

    checkpoint: str | None = None
    """Checkpoint file or run directory of the opponent (any agent)."""
    opponent: str | None = None
    """Arena player spec of the opponent when there is no checkpoint (default :data:`DEFAULT_OPPONENT`)."""
    board: int | None = None
    """Board size; default the checkpoint's, else :data:`DEFAULT_BOARD`."""
    komi: float | None = None
    """Komi; default the checkpoint's, else :func:`zoo.play.arena_specs.default_komi` of the board."""
    colour: str = "black"
    """The human's colour, ``black`` or ``white``."""
    sims: int | None = None
    """Search budget per move of a checkpoint that searches (its own setting when ``None``)."""
    sgf: str | None = None
    """SGF file of the game (an existing folder: a new file in it); default ``runs/human/DATE-TIME-NxN.sgf``."""
    seed: int = 0
    """Seed of the opponent's generator."""


@dataclass(frozen=True)
class Setup:
    """A resolved game: the opponent's arena spec, the board it is played on and where its record goes."""

    spec: PlayerSpec
    size: int
    komi: float
    history: int
    sgf: Path


def _checkpoint_board(options: HumanOptions) -> tuple[str, int, float, int]:
    """``(spec text, board size, komi, history)`` of ``options.checkpoint``; ``UserError`` naming both sizes when
    ``--board`` differs from the checkpoint's."""
    overrides = {} if options.sims is None else {"simulations": options.sims}
    loaded = load_agent(options.checkpoint, overrides)
    agent = str(loaded.config["agent"].get("name", "agent"))
    size = loaded.board_size
    if size is None:
        env = loaded.config["env"].get("name") or loaded.config["env"].get("id")
        raise UserError(f"--checkpoint {options.checkpoint}: agent {agent} was trained on env {env}, not on Go")
    if options.board is not None and options.board != size:
        raise UserError(f"--board {options.board} does not match --checkpoint {options.checkpoint}, which plays "
                        f"{size}x{size} Go: pass --board {size} or leave --board out")
    komi = float(loaded.env.unwrapped.game.komi)
    stem = Path(options.checkpoint).name.removesuffix(".pt") or "checkpoint"
    name = "".join(ch if ch.isalnum() or ch in "_-.+:" else "-" for ch in f"{agent}:{stem}")
    sims = "" if options.sims is None else f"@sims={options.sims}"
    return f"{name}={options.checkpoint}{sims}", size, komi, loaded.history


def _sgf_path(target: str | None, size: int) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(target) if target else Path("runs") / "human" / f"{stamp}-{size}x{size}.sgf"
    if path.is_dir():
        path = path / f"{stamp}-{size}x{size}.sgf"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"--sgf {target or path}: cannot create its folder ({exc.strerror})") from None
    return path


def resolve(options: HumanOptions) -> Setup:
    """Check ``options`` and resolve the opponent; ``UserError`` with one line naming what is wrong and what is
    valid (both sizes for a ``--board`` that is not the checkpoint's)."""
    if options.colour not in ("black", "white"):
        raise UserError(f"--color must be black or white, got {options.colour!r}")
    if options.checkpoint and options.opponent:
        raise UserError("--human plays one opponent: give --checkpoint CKPT or --opponent SPEC, not both")
    if options.sims is not None and not options.checkpoint:
        raise UserError("--sims sets a checkpoint's search budget; give --checkpoint, or --opponent mcts:N")
    if options.sims is not None and options.sims < 1:
        raise UserError(f"--sims must be >= 1, got {options.sims}")
    if options.board is not None and not 2 <= options.board <= 19:
        raise UserError(f"--board must be in 2..19, got {options.board}")
    history = 8
    if options.checkpoint:
        text, size, komi, history = _checkpoint_board(options)
    else:
        text, size = options.opponent or DEFAULT_OPPONENT, options.board or DEFAULT_BOARD
        komi = default_komi(size)
    if options.komi is not None:
        try:
            komi = check_komi(options.komi, size)
        except ValueError as exc:
            raise UserError(f"--komi: {exc}") from None
    spec = resolve_spec(text, size, komi)
    if spec.kind == "checkpoint":
        history = spec.history or history
    return Setup(spec, size, komi, history, _sgf_path(options.sgf, size))


# -- one game --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """A parsed input line: ``kind`` is ``move`` (with ``action``, ``N * N`` for pass) or one of :data:`COMMANDS`."""

    kind: str
    action: int = -1


def parse_input(text: str, size: int) -> Command:
    """The command of one input line (case-insensitive); ``ValueError`` naming what is valid otherwise."""
    word = text.strip().lower()
    if word == "pass":
        return Command("move", size * size)
    if word in COMMANDS:
        return Command(word)
    try:
        return Command("move", gtp_to_action(text.strip(), size))
    except ValueError as exc:
        raise ValueError(f"{exc}; or {', '.join(COMMANDS[1:])}") from None


def area_counts(board: np.ndarray) -> tuple[int, int]:
    """Tromp-Taylor area of black and of white on ``board`` (``(N, N)``, 1 black, -1 white): stones plus the empty
    regions that reach stones of that colour only."""
    n = board.shape[0]
    counts = {BLACK: int((board == BLACK).sum()), WHITE: int((board == WHITE).sum())}
    seen = np.zeros_like(board, dtype=bool)
    for r0, c0 in zip(*np.nonzero(board == 0), strict=True):
        if seen[r0, c0]:
            continue
        seen[r0, c0] = True
        region, borders, todo = 0, set(), deque([(r0, c0)])
        while todo:
            r, c = todo.popleft()
            region += 1
            for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
                if 0 <= rr < n and 0 <= cc < n:
                    if board[rr, cc] != 0:
                        borders.add(int(board[rr, cc]))
                    elif not seen[rr, cc]:
                        seen[rr, cc] = True
                        todo.append((rr, cc))
        if len(borders) == 1:
            counts[borders.pop()] += region
    return counts[BLACK], counts[WHITE]


def _area(state: GoState) -> tuple[str, str]:
    """``("W+9", "black 5, white 5, komi 9")``: the area count of ``state`` as it stands and its terms."""
    black, white = area_counts(state.board)
    score = black - white - state.komi
    lead = "0 (draw)" if score == 0 else ("B+" if score > 0 else "W+") + f"{abs(score):g}"
    return lead, f"black {black}, white {white}, komi {state.komi:g}"


def score_line(state: GoState) -> str:
    """``area count: B+3 (black 20, white 8, komi 9; every stone counted alive)`` for the position as it stands."""
    lead, terms = _area(state)
    return f"area count: {lead} ({terms}; every stone counted alive)"


def _moves_text(count: int) -> str:
    return f"{count} move" + ("" if count == 1 else "s")


def _colour_name(colour: int) -> str:
    return "black (X)" if colour == BLACK else "white (O)"


class HumanGame:
    """One game between a human reading ``out`` and typing into ``inp`` and a :class:`~zoo.play.players.Player`.

    ``moves`` holds the ``(colour, action)`` pairs played (after undos: those that stand); ``state`` the position.
    """

    def __init__(self, opponent: Player, state: GoState, human: int, inp: TextIO, out: TextIO,
                 opponent_name: str = "agent", human_name: str = "human") -> None:
        if human not in (BLACK, WHITE):
            raise ValueError(f"human colour must be BLACK (1) or WHITE (-1), got {human!r}")
        self.opponent, self.human, self.inp, self.out = opponent, human, inp, out
        self.names = {human: human_name, -human: opponent_name}
        self.start = state.copy()
        self.state = state.copy()
        self.moves: list[tuple[int, int]] = []
        self.stopped: str | None = None
        """Why the game stopped before its end (quit, end of input, Ctrl-C, the opponent failed), else None."""

    def say(self, text: str = "") -> None:
        """Write a line to the human."""
        self.out.write(text + "\n")
        self.out.flush()

    def play(self) -> GameRecord:
        """Play until the game ends or stops; returns its record (result ``None`` when it stopped unfinished)."""
        n = self.state.size
        self.say(f"{n}x{n}, komi {self.state.komi:g}: you play {_colour_name(self.human)}, "
                 f"{self.names[-self.human]} plays {_colour_name(-self.human)}. Type 'help' for the commands.")
        try:
            while not self.state.is_terminal and self.stopped is None:
                if self.state.to_play == self.human:
                    self._human_turn()
                else:
                    self._opponent_turn()
        except KeyboardInterrupt:
            self.stopped = "Ctrl-C"
            self.say()
        if self.state.is_terminal:
            self._show()
        self.say(self.result_text())
        return self.record()

    def _show(self) -> None:
        self.say()
        self.say(ansi(self.state))
        self.say(score_line(self.state))

    def _read(self, prompt: str) -> str | None:
        self.out.write(prompt)
        self.out.flush()
        line = self.inp.readline()
        if line and not self.inp.isatty():  # a terminal echoes what is typed; a pipe or a script does not
            self.out.write(line if line.endswith("\n") else line + "\n")
        return line if line else None

    def _human_turn(self) -> None:
        self._show()
        prompt = f"you, {_colour_name(self.human)}, move {self.state.move_count + 1}> "
        while True:
            line = self._read(prompt)
            if line is None:
                self.stopped = "end of input"
                self.say()
                return
            if not line.strip():
                continue
            try:
                command = parse_input(line, self.state.size)
            except ValueError as exc:
                self.say(f"not a move: {exc}")
                continue
            if command.kind == "help":
                self.say(HELP)
            elif command.kind == "quit":
                self.stopped = "quit"
                return
            elif command.kind == "resign":
                self.state.resign()
                return
            elif command.kind == "undo":
                problem = self.undo()
                if problem is None:
                    return
                self.say(problem)
            else:
                reason = self.state.illegal_reason(command.action)
                if reason is None:
                    self._play(command.action)
                    return
                self.say(f"{action_to_gtp(command.action, self.state.size)} is illegal ({reason}); try another "
                         "move")

    def _opponent_turn(self) -> None:
        name, colour = self.names[-self.human], self.state.to_play
        try:
            action = int(self.opponent.select_move(self.state.copy()))
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # an engine that crashes stops the game, keeping what was played
            self.stopped = f"{name} failed: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            return
        if action == RESIGN:
            self.say(f"{name} ({_colour_name(colour)}) resigns")
            self.state.resign()
            return
        reason = self.state.illegal_reason(action)
        if reason is not None:
            self.stopped = f"{name} returned an illegal move (action {action}: {reason})"
            return
        self.say(f"{name} ({_colour_name(colour)}) plays {action_to_gtp(action, self.state.size)}")
        self._play(action)

    def _play(self, action: int) -> None:
        self.moves.append((self.state.to_play, action))
        self.state.play(action)

    def undo(self) -> str | None:
        """Take back the human's last move and every move after it; the reason it cannot, or None."""
        mine = [i for i, (colour, _) in enumerate(self.moves) if colour == self.human]
        if not mine:
            return "nothing to undo: you have not moved yet"
        taken = self.moves[mine[-1]:]
        self.moves = self.moves[:mine[-1]]
        state = self.start.copy()
        for _, action in self.moves:
            state.play(action)
        self.state = state
        n = state.size
        self.say("took back " + ", ".join(f"{'B' if c == BLACK else 'W'} {action_to_gtp(a, n)}" for c, a in taken))
        return None

    def result(self) -> str | None:
        """SGF result of the game (``B+3``, ``W+R``, ``0``), ``None`` while it is unfinished."""
        return result_string(self.state)

    def result_text(self) -> str:
        """One line for the human: the result and the area count, or why the game stopped unfinished."""
        if self.stopped is not None:
            return f"game stopped ({self.stopped}) after {_moves_text(len(self.moves))}; no result"
        result = self.result() or "0"
        winner = self.state.winner()
        who = "draw" if winner == 0 else ("you win" if winner == self.human else f"{self.names[-self.human]} wins")
        lead, terms = _area(self.state)
        if self.state.resigned:
            colour = _colour_name(self.state.resigned).split()[0]
            return f"result: {result}, {who}: {colour} resigned (area count then {lead}: {terms})"
        return f"result: {result}, {who}: two passes, area count {terms}"

    def record(self) -> GameRecord:
        """The game so far as an SGF record."""
        black, white = self.names[BLACK], self.names[WHITE]
        return GameRecord(size=self.state.size, komi=self.state.komi, rules=RULES, result=self.result(),
                          black=black, white=white, moves=list(self.moves))


def play_human(options: HumanOptions, inp: TextIO | None = None, out: TextIO | None = None) -> GameRecord:
    """Resolve ``options`` (``UserError`` before any move if they are wrong), play one game on ``inp``/``out``
    (default the terminal) and save its SGF; returns the record."""
    inp, out = inp or sys.stdin, out or sys.stdout
    setup = resolve(options)
    spec = setup.spec
    human = BLACK if options.colour == "black" else WHITE
    with contextlib.ExitStack() as stack:
        opponent = build_player(spec, options.seed, stack)
        state = GoState.new(setup.size, setup.komi, history=setup.history)
        game = HumanGame(opponent, state, human, inp, out, opponent_name=spec.name)
        out.write(f"game record: {setup.sgf}\n")
        try:
            game.play()
        finally:
            record = game.record()
            save_sgf(setup.sgf, record)
            out.write(f"saved {_moves_text(len(record.moves))} to {setup.sgf}\n")
            out.flush()
    return record
