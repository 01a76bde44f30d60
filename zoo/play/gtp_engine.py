"""A GTP v2 engine front end for any :class:`zoo.play.players.Player`, so GUIs and match runners can play it.

Run ``python -m zoo.gtp --player random|capture --seed N`` to serve on stdin/stdout (GoGui, Sabaki,
gogui-twogtp, or :class:`zoo.play.gtp_client.GtpClient`).

Framing (GTP v2): a command is ``[id] name args``; the answer is ``=[id] result`` or ``?[id] message``
followed by one blank line. Control characters other than tab and newline are dropped, tabs become spaces,
everything after ``#`` is a comment, and empty lines are ignored (no answer). An unknown command, bad
arguments, or an error inside the player answers ``? message``; the engine keeps running. ``quit`` answers
``=`` and stops :meth:`GtpEngine.serve`.

Rules are the suite's (area scoring, positional superko, suicide illegal). Two consequences to know:

- colours alternate: ``play`` or ``genmove`` for the colour that is not to move answers ``? illegal move`` /
  ``? ...turn...`` (handicap stones are not supported; ``fixed_handicap`` is not offered);
- the game ends after two passes: a later ``play`` answers ``? illegal move`` and ``genmove`` answers ``pass``
  without playing (``undo`` reopens the game);
- ``final_score`` is the Tromp-Taylor area count of the current board (every stone counts as alive), and
  ``final_status_list dead`` is always empty while ``final_status_list alive`` lists every stone. Controllers
  that need dead stones removed should use a referee engine (see :func:`zoo.play.gtp_client.referee_score`).

``undo`` replays the game from the move list without its last move; with no move to take back it answers
``? cannot undo``. ``boardsize`` accepts 2..19 (a trained net: only its own size; else ``? unacceptable size``)
and clears the board.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import TextIO

from envs.go.coords import action_to_gtp, gtp_to_action
from envs.go.render import ansi
from envs.go.state import BLACK, WHITE, GoState, check_komi
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
        self.moves: list[int] = []
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
        self.moves = []
        self.state = GoState.new(self.size, komi=self.komi, history=self.history)
        reset = getattr(self.player, "reset", None)
        if callable(reset):
            reset()

    def _boardsize(self, args: list[str]) -> str:
        if len(args) != 1 or not _is_integer(args[0]):
            raise GtpCommandError("boardsize not an integer")
        size = int(args[0])
        if not MIN_SIZE <= size <= MAX_SIZE or (self.sizes is not None and size not in self.sizes):
            raise GtpCommandError("unacceptable size")
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
        if colour != self.state.to_play or not self.state.is_legal(action):
            raise GtpCommandError("illegal move")
        self.state.play(action)
        self.moves.append(action)
        return ""

    def _genmove(self, args: list[str]) -> str:
        if len(args) != 1:
            raise GtpCommandError("invalid color")
        colour = _colour(args[0])
        if self.state.is_terminal:
            return "pass"
        if colour != self.state.to_play:
            side = "black" if self.state.to_play == BLACK else "white"
            raise GtpCommandError(f"it is {side}'s turn: this engine plays the colours in turn")
        action = int(self.player.select_move(self.state.copy()))
        if action == RESIGN:
            self.state.resign()
            self.moves.append(RESIGN)
            return "resign"
        if not self.state.is_legal(action):
            raise GtpCommandError(
                f"player {self.player.name} chose an illegal move {action}: {self.state.illegal_reason(action)}"
            )
        self.state.play(action)
        self.moves.append(action)
        return action_to_gtp(action, self.size)

    def _undo(self, args: list[str]) -> str:
        if not self.moves:
            raise GtpCommandError("cannot undo")
        moves = self.moves[:-1]
        state = GoState.new(self.size, komi=self.komi, history=self.history)
        for action in moves:
            if action == RESIGN:
                state.resign()
            else:
                state.play(action)
        self.state, self.moves = state, moves
        return ""

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
                        help="a trained agent=zero checkpoint (file or run directory) to play with search")
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
