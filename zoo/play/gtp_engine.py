"""A GTP v2 engine front end for any :class:`zoo.play.players.Player`, so GUIs and match runners can play it.

Run ``python -m zoo.gtp --player random|capture --seed N`` to serve on stdin/stdout (GoGui, Sabaki,
gogui-twogtp, or :class:`zoo.play.gtp_client.GtpClient`).

Framing (GTP v2): a command is ``[id] name args``; the answer is ``=[id] result`` or ``?[id] message``
followed by one blank line. Control characters other than tab and newline are dropped, tabs become spaces,
everything after ``#`` is a comment, and empty lines are ignored (no answer). An unknown command, bad
arguments, or an error inside the player answers ``? message``; the engine keeps running. ``quit`` answers
``=`` and stops :meth:`GtpEngine.serve`.

Rules are the suite's (area scoring, positional superko, suicide illegal). What a controller should know:

- either colour may move at any time, as GTP allows: ``play b`` twice in a row places two black stones, and
  ``genmove w`` with black to move plays a white move; after any move the other colour is to move. Positional
  superko still holds across such moves (it compares stones only, never who is to move);
- handicap (GTP v2, only on an empty board, not part of the move history, white to move afterwards):
  ``fixed_handicap N`` places the standard points where GNU Go places them (N in 2..9 on odd sizes from 9,
  2..4 on other sizes from 7; else ``? invalid number of stones``), ``place_free_handicap N`` (N in 2..points-1)
  places the same points, fewer when N is more than the size has (2..4 stones on 4x4..6x6), and
  ``set_free_handicap V...`` places the listed stones (``? bad vertex list`` for fewer than two, a repeat, pass
  or a bad vertex); a board with stones answers ``? board not empty``;
- ``loadsgf FILE [MOVE_NUMBER]`` sets size, komi, setup stones (``AB``/``AW``) and replays the main line up to
  the position before move MOVE_NUMBER (all of it when omitted); the moves are the move history (``undo``
  takes them back), the setup is not. A missing, unreadable or malformed file, an illegal move in it or a size
  this player cannot play answers one line ``? cannot load file: ...`` naming the problem; the game is kept;
- ``printsgf [FILE]`` answers the game so far as SGF (setup and handicap stones as ``AB``/``AW`` with ``HA``,
  then the moves) or writes it to FILE;
- ``list_stones black|white`` lists a colour's stones (a GNU Go extension, handy to check a position);
- the game ends after two passes: a later ``play`` answers ``? illegal move`` and ``genmove`` answers ``pass``
  without playing (``undo`` reopens the game);
- ``final_score`` is the Tromp-Taylor area count of the current board (every stone counts as alive), and
  ``final_status_list dead`` is always empty while ``final_status_list alive`` lists every stone. Controllers
  that need dead stones removed should use a referee engine (see :func:`zoo.play.gtp_client.referee_score`).

``undo`` takes back the last move (a ``play``, ``genmove`` or loaded move) by replaying the game from its start
position (empty, handicap or loaded setup) without it; the colour of the undone move is then to move. With no
move to take back it answers ``? cannot undo`` (so handicap stones stay, as in GNU Go). ``boardsize`` accepts
2..19 (a trained net: only its own size; else ``? unacceptable size``, naming both sizes) and clears the board.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import TextIO

from envs.go.coords import action_to_gtp, gtp_to_action
from envs.go.render import ansi
from envs.go.sgf import GameRecord, SgfError, load_sgf, result_string, save_sgf, write_sgf
from envs.go.state import BLACK, WHITE, GoState, IllegalMoveError, check_komi
from zoo.errors import UserError
from zoo.play.players import RESIGN, Player, make_player

VERSION = "0.1"
MIN_SIZE, MAX_SIZE = 2, 19
_COLOURS = {"b": BLACK, "black": BLACK, "w": WHITE, "white": WHITE}


class GtpCommandError(Exception):
    """A command failed; the message is sent back after ``?``."""


def clean_line(line: str) -> str:
    """Preprocess one input line as GTP v2 says: drop control characters but tab/newline, tab -> space, cut ``#``."""
    line = "".join(ch for ch in line if ch in "\t\n" or ord(ch) >= 32 and ord(ch) != 127)
    return line.replace("\t", " ").split("#", 1)[0].strip()


def score_text(score: float) -> str:
    """GTP/SGF result text of an area score (black minus white minus komi): ``B+3.5``, ``W+0.5`` or ``0``."""
    if score == 0:
        return "0"
    return ("B+" if score > 0 else "W+") + f"{abs(score):g}"


def fixed_handicap_points(size: int, stones: int) -> list[int] | None:
    """The actions of GNU Go's fixed handicap of ``stones`` on a ``size`` board, ascending (row 0 at the top),
    or None when that handicap has no fixed placement (GTP v2 section 4.1.1: 2..9 stones on odd sizes from 9,
    2..4 on the other sizes from 7, none below 7). The points are on the 4th line from 13x13 up, else the 3rd:
    two opposite corners, four corners, the centre for 5 and 7, the side midpoints for 6..9."""
    most = 9 if size % 2 == 1 and size >= 9 else 4 if size >= 7 else 0
    if not 2 <= stones <= most:
        return None
    return _handicap_points(size, stones, 3 if size > 11 else 2)


def _handicap_points(size: int, stones: int, line: int) -> list[int]:
    """``stones`` points of the standard pattern with corners on 0-based line ``line`` (GNU Go's order of
    placement: upper right, lower left, upper left, lower right, [centre], left/right, top/bottom midpoints)."""
    mid, far = size // 2, size - 1 - line
    order = [(line, far), (far, line), (line, line), (far, far), (mid, line), (mid, far), (line, mid), (far, mid)]
    points = []
    left = stones
    if stones in (5, 7, 9):
        points.append(mid * size + mid)
        left -= 1
    points += [r * size + c for r, c in order[:left]]
    return sorted(points)


def free_handicap_points(size: int, stones: int) -> list[int]:
    """Where ``place_free_handicap`` puts ``stones`` (>= 2): the fixed points, as many as the size has (at most
    9 on odd sizes from 9, 4 on the others from 7, 4 on the 2nd line of 4x4..6x6; none below 4)."""
    if size >= 7:
        most = 9 if size % 2 == 1 and size >= 9 else 4
        return _handicap_points(size, min(stones, most), 3 if size > 11 else 2)
    if size >= 4:
        return _handicap_points(size, min(stones, 4), 1)
    return []


def _colour(text: str) -> int:
    try:
        return _COLOURS[text.lower()]
    except KeyError:
        raise GtpCommandError("invalid color") from None


class GtpEngine:
    """GTP v2 engine state: a board, its move list, and a :class:`~zoo.play.players.Player` that answers ``genmove``."""

    def __init__(self, player: Player, name: str = "zoo", version: str = VERSION, size: int = 9, komi: float = 7.5,
                 history: int = 8, sizes: tuple[int, ...] | None = None):
        """``history``: feature planes of the positions handed to the player (a trained net's input depth);
        ``sizes``: the board sizes the player can play (``None``: any of 2..19; a trained net: its own)."""
        self.player, self.name, self.version = player, name, version
        self.size, self.komi, self.history = size, komi, history
        self.sizes = sizes
        # The game: a start position (setup stones, colour to move, handicap count) and the moves after it.
        self.setup_black: list[int] = []
        self.setup_white: list[int] = []
        self.first, self.handicap = BLACK, 0
        self.moves: list[tuple[int, int]] = []  # (colour, action or RESIGN)
        self.state = GoState.new(size, komi=komi, history=history)
        self.quit_requested = False
        self.commands: dict[str, Callable[[list[str]], str]] = {
            "protocol_version": lambda a: "2",
            "name": lambda a: self.name,
            "version": lambda a: self.version,
            "known_command": lambda a: "true" if a and a[0] in self.commands else "false",
            "list_commands": lambda a: "\n".join(sorted(self.commands)),
            "quit": self._quit,
            "boardsize": self._boardsize,
            "clear_board": self._clear_board,
            "komi": self._komi,
            "play": self._play,
            "genmove": self._genmove,
            "undo": self._undo,
            "showboard": lambda a: "\n" + ansi(self.state),
            "final_score": self._final_score,
            "final_status_list": self._final_status_list,
            "time_settings": lambda a: self._integers(a, 3, "time_settings main_time byo_yomi_time stones"),
            "time_left": self._time_left,
            "fixed_handicap": self._fixed_handicap,
            "place_free_handicap": self._place_free_handicap,
            "set_free_handicap": self._set_free_handicap,
            "loadsgf": self._loadsgf,
            "printsgf": self._printsgf,
            "list_stones": self._list_stones,
        }

    # -- framing -------------------------------------------------------------------------------------------

    def handle(self, line: str) -> str:
        """The full response to one input line (``=``/``?``, id, result, blank line), or ``""`` for no command."""
        text = clean_line(line)
        if not text:
            return ""
        parts = text.split()
        ident = parts.pop(0) if parts[0].isdigit() else ""
        if not parts:
            return f"?{ident} missing command after id\n\n"
        name, args = parts[0], parts[1:]
        command = self.commands.get(name)
        if command is None:
            return f"?{ident} unknown command\n\n"
        try:
            result = command(args)
        except GtpCommandError as e:
            return f"?{ident} {e}\n\n"
        except Exception as e:  # noqa: BLE001 - a player's failure must not kill the engine
            return f"?{ident} internal error: {type(e).__name__}: {e}".replace("\n", " ") + "\n\n"
        body = "\n".join(ln for ln in result.split("\n") if ln.strip()) if "\n" in result else result
        if result.startswith("\n"):
            body = "\n" + body
        return f"={ident} {body}\n\n"

    def serve(self, stdin: TextIO, stdout: TextIO) -> None:
        """Answer commands from ``stdin`` on ``stdout`` until ``quit`` or end of input."""
        for line in stdin:
            response = self.handle(line)
            if response:
                stdout.write(response)
                stdout.flush()
            if self.quit_requested:
                break

    # -- commands ------------------------------------------------------------------------------------------

    def _quit(self, args: list[str]) -> str:
        self.quit_requested = True
        return ""

    def _new_game(self) -> None:
        self._set_game(GoState.new(self.size, komi=self.komi, history=self.history), [], [], BLACK, 0, [])

    def _set_game(self, state: GoState, black: list[int], white: list[int], first: int, handicap: int,
                  moves: list[tuple[int, int]]) -> None:
        self.state, self.moves = state, moves
        self.setup_black, self.setup_white, self.first, self.handicap = black, white, first, handicap
        reset = getattr(self.player, "reset", None)
        if callable(reset):
            reset()

    def _start_state(self, size: int, komi: float, black: list[int], white: list[int], first: int) -> GoState:
        """The position before the first move: setup stones and the colour to move (ValueError if impossible)."""
        if not black and not white:
            state = GoState.new(size, komi=komi, history=self.history)
            state.set_to_play(first)
            return state
        cells = ["."] * (size * size)
        for stones, mark in ((black, "X"), (white, "O")):
            for a in stones:
                cells[a] = mark
        text = "\n".join("".join(cells[r * size : (r + 1) * size]) for r in range(size))
        return GoState.from_ascii(text, to_play=first, komi=komi, history=self.history)

    @staticmethod
    def _apply(state: GoState, colour: int, action: int) -> None:
        """Play ``action`` (or RESIGN) for ``colour`` in ``state``, whoever is to move (IllegalMoveError)."""
        state.set_to_play(colour)
        if action == RESIGN:
            state.resign()
        else:
            state.play(action)

    def _replay(self, moves: list[tuple[int, int]]) -> GoState:
        state = self._start_state(self.size, self.komi, self.setup_black, self.setup_white, self.first)
        for colour, action in moves:
            self._apply(state, colour, action)
        return state

    def _boardsize(self, args: list[str]) -> str:
        if len(args) != 1 or not _is_integer(args[0]):
            raise GtpCommandError("boardsize not an integer")
        size = int(args[0])
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise GtpCommandError("unacceptable size")
        if self.sizes is not None and size not in self.sizes:  # a net of one board size: say which
            plays = " or ".join(f"{n}x{n}" for n in self.sizes)
            raise GtpCommandError(f"unacceptable size: {size}x{size}; this player plays {plays} only")
        try:
            check_komi(self.komi, size)
        except ValueError:
            raise GtpCommandError(f"unacceptable size: komi {self.komi:g} does not fit {size}x{size} "
                                  "(set a smaller komi first)") from None
        self.size = size
        self._new_game()
        return ""

    def _clear_board(self, args: list[str]) -> str:
        self._new_game()
        return ""

    def _komi(self, args: list[str]) -> str:
        try:
            komi = float(args[0])
        except (IndexError, ValueError):
            raise GtpCommandError("komi not a float") from None
        try:
            komi = check_komi(komi, self.size)
        except ValueError as exc:
            raise GtpCommandError(str(exc)) from None
        self.komi = komi
        self.state.komi = komi
        return ""

    def _play(self, args: list[str]) -> str:
        if len(args) != 2:
            raise GtpCommandError("invalid color or coordinate")
        colour = _colour(args[0])
        try:
            action = gtp_to_action(args[1], self.size)
        except ValueError:
            raise GtpCommandError("invalid color or coordinate") from None
        state = self.state.copy()
        state.set_to_play(colour)
        if not state.is_legal(action):
            raise GtpCommandError("illegal move")
        state.play(action)
        self.state = state
        self.moves.append((colour, action))
        return ""

    def _genmove(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpCommandError("invalid color")
        colour = _colour(args[0])
        if self.state.is_terminal:
            return "pass"
        state = self.state.copy()
        state.set_to_play(colour)
        action = int(self.player.select_move(state.copy()))
        if action == RESIGN:
            state.resign()
            self.state = state
            self.moves.append((colour, RESIGN))
            return "resign"
        if not state.is_legal(action):
            raise GtpCommandError(
                f"player {self.player.name} chose an illegal move {action}: {state.illegal_reason(action)}"
            )
        state.play(action)
        self.state = state
        self.moves.append((colour, action))
        return action_to_gtp(action, self.size)

    def _undo(self, args: list[str]) -> str:
        if not self.moves:
            raise GtpCommandError("cannot undo")
        moves = self.moves[:-1]
        state = self._replay(moves)
        state.set_to_play(self.moves[-1][0])  # the position before the undone move: its colour is to move
        self.state, self.moves = state, moves
        return ""

    # -- handicap ------------------------------------------------------------------------------------------

    def _place_handicap(self, points: list[int]) -> str:
        """Start the game from black stones on ``points``, white to move (the stones are not moves)."""
        state = self._start_state(self.size, self.komi, points, [], WHITE)
        self._set_game(state, list(points), [], WHITE, len(points), [])
        return " ".join(action_to_gtp(a, self.size) for a in points)

    def _handicap_count(self, args: list[str]) -> int:
        if len(args) != 1 or not _is_integer(args[0]):
            raise GtpCommandError("syntax error: expected the number of handicap stones")
        if self.state.board.any():
            raise GtpCommandError("board not empty")
        return int(args[0])

    def _fixed_handicap(self, args: list[str]) -> str:
        points = fixed_handicap_points(self.size, self._handicap_count(args))
        if points is None:
            raise GtpCommandError("invalid number of stones")
        return self._place_handicap(points)

    def _place_free_handicap(self, args: list[str]) -> str:
        stones = self._handicap_count(args)
        points = free_handicap_points(self.size, stones) if 2 <= stones < self.size * self.size else []
        if len(points) < 2:
            raise GtpCommandError("invalid number of stones")
        return self._place_handicap(points)

    def _set_free_handicap(self, args: list[str]) -> str:
        if not args:
            raise GtpCommandError("syntax error: expected the vertices of the handicap stones")
        points = []
        for text in args:
            try:
                action = gtp_to_action(text, self.size)
            except ValueError:
                raise GtpCommandError(f"bad vertex list: {text} is not a vertex") from None
            if action == self.size * self.size:
                raise GtpCommandError("bad vertex list: pass is not a handicap stone")
            if action in points:
                raise GtpCommandError(f"bad vertex list: {text} repeated")
            points.append(action)
        if not 2 <= len(points) < self.size * self.size:
            raise GtpCommandError(f"bad vertex list: {len(points)} stones (2..{self.size * self.size - 1})")
        if self.state.board.any():
            raise GtpCommandError("board not empty")
        self._place_handicap(sorted(points))
        return ""

    # -- game records ----------------------------------------------------------------------------------------

    def _loadsgf(self, args: list[str]) -> str:
        if not 1 <= len(args) <= 2 or (len(args) == 2 and not (_is_integer(args[1]) and int(args[1]) >= 1)):
            raise GtpCommandError("syntax error: expected loadsgf FILE [MOVE_NUMBER >= 1]")
        path = args[0]
        try:
            record = load_sgf(path)
        except OSError as e:
            raise GtpCommandError(f"cannot load file: {path}: {e.strerror or e}") from None
        except SgfError as e:
            raise GtpCommandError(f"cannot load file: {e}") from None
        size = record.size
        if not MIN_SIZE <= size <= MAX_SIZE or (self.sizes is not None and size not in self.sizes):
            can = "2..19" if self.sizes is None else ", ".join(map(str, self.sizes))
            raise GtpCommandError(f"cannot load file: {path}: board size {size} (this engine plays {can})")
        count = len(record.moves) if len(args) == 1 else min(int(args[1]) - 1, len(record.moves))
        moves = [(c, a) for c, a in record.moves[:count]]
        first = record.first_player or (record.moves[0][0] if record.moves else BLACK)
        try:
            state = self._start_state(size, record.komi, record.setup_black, record.setup_white, first)
        except ValueError as e:
            raise GtpCommandError(f"cannot load file: {path}: setup stones AB/AW: {e}") from None
        for number, (colour, action) in enumerate(moves, start=1):
            try:
                self._apply(state, colour, action)
            except IllegalMoveError as e:
                raise GtpCommandError(f"cannot load file: {path}: move {number}: {e}") from None
        if count < len(record.moves):
            state.set_to_play(record.moves[count][0])  # the player of move MOVE_NUMBER is to move
        handicap = record.properties.get("HA", ["0"])[0].strip()
        self.size, self.komi = size, record.komi
        self._set_game(state, list(record.setup_black), list(record.setup_white), first,
                       int(handicap) if _is_integer(handicap) else 0, moves)
        return ""

    def record(self) -> GameRecord:
        """The game so far as a :class:`~envs.go.sgf.GameRecord`: setup (and handicap) stones, moves, result."""
        setup = bool(self.setup_black or self.setup_white)
        handicap = {"HA": [str(self.handicap)]} if self.handicap else {}
        return GameRecord(
            size=self.size, komi=self.komi, rules="Chinese", result=result_string(self.state),
            setup_black=list(self.setup_black), setup_white=list(self.setup_white),
            moves=[(c, a) for c, a in self.moves if a != RESIGN],
            first_player=self.first if setup or self.first != BLACK else None,
            properties={"AP": [f"{self.name}:{self.version}"], **handicap},
        )

    def _printsgf(self, args: list[str]) -> str:
        if len(args) > 1:
            raise GtpCommandError("syntax error: expected printsgf [FILE]")
        if not args:
            return write_sgf(self.record())
        try:
            save_sgf(args[0], self.record())
        except OSError as e:
            raise GtpCommandError(f"cannot save file: {args[0]}: {e.strerror or e}") from None
        return ""

    def _list_stones(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpCommandError("invalid color")
        colour = _colour(args[0])
        stones = [int(a) for a in (self.state.board.reshape(-1) == colour).nonzero()[0]]
        return " ".join(action_to_gtp(a, self.size) for a in stones)

    def _final_score(self, args: list[str]) -> str:
        if self.state.resigned:
            return ("B" if self.state.winner() == BLACK else "W") + "+R"
        return score_text(float(self.state.score()))

    def _final_status_list(self, args: list[str]) -> str:
        if len(args) != 1 or args[0] not in ("alive", "dead", "seki"):
            raise GtpCommandError("invalid status: expected alive, dead or seki")
        if args[0] != "alive":
            return ""
        stones = [int(a) for a in (self.state.board.reshape(-1) != 0).nonzero()[0]]
        return " ".join(action_to_gtp(a, self.size) for a in stones)

    def _integers(self, args: list[str], count: int, usage: str) -> str:
        if len(args) != count or not all(_is_integer(a) for a in args):
            raise GtpCommandError(f"syntax error: expected {usage} (integers >= 0)")
        return ""

    def _time_left(self, args: list[str]) -> str:
        if len(args) != 3:
            raise GtpCommandError("syntax error: expected time_left color time stones")
        _colour(args[0])
        return self._integers(args[1:], 2, "time_left color time stones")


def _is_integer(text: str) -> bool:
    """Whether ``text`` is a GTP int: ASCII digits only (no sign, no other scripts' digits)."""
    return re.fullmatch(r"[0-9]+", text) is not None


def main(argv: list[str] | None = None) -> None:
    """``python -m zoo.gtp [--player random|capture | --checkpoint RUN]``: serve GTP on stdin/stdout."""
    parser = argparse.ArgumentParser(prog="python -m zoo.gtp", description="Serve a zoo player over GTP v2.")
    parser.add_argument("--player", default="random", help="built-in player: random or capture")
    parser.add_argument("--checkpoint", default=None,
                        help="a trained agent=zero checkpoint (file, run directory, or pretrained:NAME: "
                             "python -m zoo.pretrained lists them) to play with search")
    parser.add_argument("--simulations", type=int, default=None, help="search budget per move (--checkpoint)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the player's random generator")
    parser.add_argument("--name", default="zoo", help="engine name answered to 'name'")
    args = parser.parse_args(argv)
    size, komi, history, sizes = 9, 7.5, 8, None
    try:
        if args.checkpoint:
            from zoo.play.go_eval import load_zero_player  # torch loads only for a trained player

            player, game = load_zero_player(args.checkpoint, args.simulations, seed=args.seed or 0)
            size, komi, history, sizes = game.board_size, game.komi, game.history, (game.board_size,)
        else:
            player = make_player(args.player, args.seed)
    except (ValueError, UserError) as e:
        parser.error(str(e))
    GtpEngine(player, name=args.name, size=size, komi=komi, history=history, sizes=sizes).serve(sys.stdin, sys.stdout)
