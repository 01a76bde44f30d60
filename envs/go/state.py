"""One game of Go: :class:`GoState`, a thin Python face over the numba kernels of :mod:`envs.go.engine`.

Rules (docs/design.md, "Go rules"): area scoring (Tromp-Taylor: stones plus empty regions that reach only one
colour), komi, suicide illegal, positional superko (no move may recreate an earlier whole-board position,
whoever is to move; passes never violate it), two consecutive passes end the game, an optional move cap ends
the game (and it is scored), resignation.

Vocabulary: colours ``BLACK = 1``, ``WHITE = -1``, ``EMPTY = 0`` (swap colours by multiplying by -1). An
*action* ``i < N*N`` is the point ``(row, col) = divmod(i, N)`` with row 0 at the top; action ``N*N`` is pass.
A *vertex* is the GTP name of a point (columns A..T without I, rows counted from the bottom), used in messages.

A GoState is a batch of one in the array layout of :mod:`envs.go.engine`; :class:`envs.go.batch.GoBatch` runs
the same kernels over many rows. Copies are array copies only.
"""

from __future__ import annotations

import math

import numpy as np

from envs.go import engine as E
from envs.go.coords import komi_limit
from envs.go.eyes import sensible_masks

BLACK, WHITE, EMPTY = 1, -1, 0
_COLUMNS = "ABCDEFGHJKLMNOPQRST"
_INITIAL_CAP = 64
# Hot-path names bound once (module constants, not state).
_DONE, _NLEGAL, _GROW, _play_row = E.DONE, E.NLEGAL, E.GROW, E.play_row


class IllegalMoveError(ValueError):
    """An illegal move; the message names the move (vertex and action index) and the reason."""


def vertex(action: int, size: int) -> str:
    """GTP vertex of ``action`` on a ``size`` board (``"pass"`` for ``size*size``; ``"?"`` out of range)."""
    if action == size * size:
        return "pass"
    if not 0 <= action < size * size:
        return "?"
    row, col = divmod(action, size)
    return f"{_COLUMNS[col]}{size - row}"


def illegal_message(action: int, size: int, code: int, game: int | None = None) -> str:
    """The one-line message of an illegal move (``game`` names the batch row, if any)."""
    where = "" if game is None else f"game {game}: "
    return f"{where}illegal move {vertex(action, size)} (action {action}): {E.REASONS[code]}"


def check_size(size: int) -> None:
    """Raise ValueError unless ``size`` is an int in 2..19."""
    if not isinstance(size, (int, np.integer)) or not 2 <= size <= 19:
        raise ValueError(f"board size must be an integer in 2..19, got {size!r}")


def check_komi(komi: float, size: int) -> float:
    """``komi`` as a float; ValueError unless it is finite and within ``-limit .. limit``, ``limit`` =
    :func:`komi_limit` (a larger komi decides every game before it starts)."""
    try:
        value = float(komi)
    except (TypeError, ValueError):
        raise ValueError(f"komi must be a number, got {komi!r}") from None
    limit = komi_limit(size)
    if not math.isfinite(value) or abs(value) > limit:
        raise ValueError(f"komi must be a finite number within -{limit:g}..{limit:g} on {size}x{size}, got {komi!r}")
    return value



class GoState:
    """A position of Go with its game history (positions seen, last ``history`` boards, passes, captures).

    Build with :meth:`new` or :meth:`from_ascii`; mutate with :meth:`play` / :meth:`resign`.
    ``score()`` is black's Tromp-Taylor area minus white's minus komi (positive: black ahead).
    """

    __slots__ = (
        "size",
        "komi",
        "history",
        "max_moves",
        "_S",
        "_M",
        "_H",
        "_T",
        "_C",
        "_legal",
        "_row",
        "_mask",
    )

    # -- construction --------------------------------------------------------------------------------------------

    @classmethod
    def new(cls, size: int, komi: float = 7.5, history: int = 8, max_moves: int | None = None) -> GoState:
        """Empty ``size`` x ``size`` board, black to move. ``history`` boards feed :meth:`features`;
        ``max_moves`` (moves including passes) ends and scores the game when reached."""
        self = cls._blank(size, komi, history, max_moves)
        E.reset_rows(self._S, self._M, self._H, self._T, self._C, np.zeros(1, np.int64), self._max_code())
        return self

    @classmethod
    def from_ascii(
        cls,
        text: str,
        to_play: int = BLACK,
        komi: float = 7.5,
        history: int = 8,
        max_moves: int | None = None,
    ) -> GoState:
        """Position from rows top to bottom of ``X`` (black), ``O`` (white), ``.`` (empty); whitespace is ignored
        within and around rows. The position counts as the start of the game (move 0; earlier boards empty)."""
        rows = ["".join(line.split()) for line in text.strip().splitlines()]
        rows = [r for r in rows if r]
        size = len(rows)
        bad = {ch for r in rows for ch in r} - set("XO.")
        if bad:
            raise ValueError(f"board text may hold only 'X', 'O', '.' and whitespace; found {sorted(bad)}")
        if any(len(r) != size for r in rows):
            raise ValueError(f"board text must be square: {size} rows of lengths {[len(r) for r in rows]}")
        check_size(size)
        if to_play not in (BLACK, WHITE):
            raise ValueError(f"to_play must be BLACK (1) or WHITE (-1), got {to_play!r}")
        self = cls._blank(size, komi, history, max_moves)
        S = self._S
        S[0, E.TO_PLAY] = to_play
        S[0, E.LAST_MOVE] = -1
        S[0, E.MAX_MOVES] = self._max_code()
        lookup = {"X": BLACK, "O": WHITE, ".": EMPTY}
        S[0, E.HDR : E.HDR + size * size] = [lookup[ch] for r in rows for ch in r]
        bad_point = E.rebuild(S, self._M, self._H, self._T, self._C, 0)
        if bad_point >= 0:
            raise ValueError(f"board text has a chain without liberties at {vertex(bad_point, size)}")
        if max_moves == 0:
            S[0, E.DONE] = 1
            E.compute_mask(S, self._M, self._T, self._C, 0)
        return self

    @classmethod
    def _blank(cls, size: int, komi: float, history: int, max_moves: int | None) -> GoState:
        check_size(size)
        if not isinstance(history, (int, np.integer)) or history < 1:
            raise ValueError(f"history must be an integer >= 1, got {history!r}")
        if max_moves is not None and max_moves < 0:
            raise ValueError(f"max_moves must be None or >= 0, got {max_moves!r}")
        self = object.__new__(cls)
        self.size, self.history, self.max_moves = int(size), int(history), max_moves
        self.komi = check_komi(komi, size)
        p = self.size * self.size
        self._C = E.size_tables(self.size)
        self._legal = E.legal_offset(self.size)
        self._attach(
            np.zeros((1, E.row_length(self.size)), np.int64),
            np.zeros((1, p + 1), np.bool_),
            np.zeros((1, self.history, p), np.int8),
            np.zeros((1, _INITIAL_CAP), np.int64),
        )
        return self

    def _attach(self, S: np.ndarray, M: np.ndarray, H: np.ndarray, T: np.ndarray) -> None:
        """Own the one-row arrays S, M, H, T (engine layout) and keep 1-D views of S and M."""
        self._S, self._M, self._H, self._T = S, M, H, T
        self._row, self._mask = S[0], M[0]

    def _max_code(self) -> int:
        return -1 if self.max_moves is None else int(self.max_moves)

    def copy(self) -> GoState:
        """An independent copy (array copies only)."""
        other = object.__new__(GoState)
        other.size, other.komi, other.history, other.max_moves = self.size, self.komi, self.history, self.max_moves
        other._C, other._legal = self._C, self._legal
        other._attach(self._S.copy(), self._M.copy(), self._H.copy(), self._T.copy())
        return other

    # -- reading -------------------------------------------------------------------------------------------------

    @property
    def to_play(self) -> int:
        """Colour to move: BLACK (1) or WHITE (-1)."""
        return int(self._row[E.TO_PLAY])

    @property
    def board(self) -> np.ndarray:
        """int8 ``(size, size)`` copy of the stones (1 black, -1 white, 0 empty), row 0 at the top."""
        p = self.size * self.size
        return self._row[E.HDR : E.HDR + p].astype(np.int8).reshape(self.size, self.size)

    @property
    def move_count(self) -> int:
        """Moves played so far, passes included."""
        return int(self._row[E.MOVE_COUNT])

    @property
    def passes(self) -> int:
        """Consecutive passes just played."""
        return int(self._row[E.PASSES])

    @property
    def last_move(self) -> int | None:
        """The last action played (``size*size`` for pass), None at the start."""
        a = int(self._row[E.LAST_MOVE])
        return None if a < 0 else a

    @property
    def captures(self) -> tuple[int, int]:
        """Stones captured so far (by black, by white)."""
        return int(self._row[E.CAPT_B]), int(self._row[E.CAPT_W])

    @property
    def resigned(self) -> int | None:
        """Colour that resigned, or None."""
        r = int(self._row[E.RESIGNED])
        return r if r else None

    @property
    def is_terminal(self) -> bool:
        """True once two consecutive passes, the move cap or a resignation has ended the game."""
        return bool(self._row[_DONE])

    def position_hash(self) -> int:
        """64-bit Zobrist hash (signed int) of the stones only; what positional superko compares."""
        return int(self._row[E.HASH])

    # -- legality and moves ----------------------------------------------------------------------------------------

    def legal_mask(self) -> np.ndarray:
        """bool ``(size*size + 1,)``: legal actions, pass last (legal while the game is on); all False once over."""
        return self._mask.copy()

    def sensible_mask(self) -> np.ndarray:
        """bool ``(size*size + 1,)``: the legal moves search considers (:mod:`envs.go.eyes`): no own-eye fills,
        and no pass while another such move exists unless the opponent has just passed."""
        return sensible_masks(self._S, self._M, self._C)[0]

    def legal_actions(self) -> np.ndarray:
        """int64 indices of the legal actions, ascending (pass last); empty once the game is over."""
        start = self._legal
        return self._row[start : start + self._row[_NLEGAL]].copy()

    def illegal_reason(self, action: int) -> str | None:
        """None if ``action`` is legal, else one of "occupied", "suicide", "superko", "game is over",
        "out of range"."""
        code = E.action_status(self._S, self._T, self._C, 0, int(action))
        return None if code == E.OK else E.REASONS[code]

    def is_legal(self, action: int) -> bool:
        """Whether the player to move may play ``action``."""
        a = int(action)
        return 0 <= a <= self.size * self.size and bool(self._mask[a])

    def play(self, action: int) -> None:
        """Play ``action`` for the player to move (mutates). Raises IllegalMoveError naming move and reason."""
        code = _play_row(self._S, self._M, self._H, self._T, self._C, 0, int(action))
        if code:
            if code != _GROW:
                raise IllegalMoveError(illegal_message(int(action), self.size, code))
            self._grow()

    def _grow(self) -> None:
        bigger = np.zeros((1, 2 * self._T.shape[1]), np.int64)
        E.rehash(self._T, bigger, self._S)
        self._T = bigger

    def set_to_play(self, colour: int) -> None:
        """Make ``colour`` the side to move without a move (a setup step: a GTP controller playing one colour
        twice, an SGF record where one colour moves twice, handicap stones). The stones, the seen positions
        (positional superko ignores who is to move), the pass count and the move count are kept; the legal
        mask is recomputed for the new mover. ValueError unless ``colour`` is BLACK or WHITE."""
        if colour not in (BLACK, WHITE):
            raise ValueError(f"colour must be BLACK (1) or WHITE (-1), got {colour!r}")
        if colour != self.to_play:
            self._row[E.TO_PLAY] = colour
            E.compute_mask(self._S, self._M, self._T, self._C, 0)

    def resign(self) -> None:
        """The player to move resigns; the game is over and won by the opponent."""
        if self.is_terminal:
            raise IllegalMoveError("cannot resign: game is over")
        self._row[E.RESIGNED] = self._row[E.TO_PLAY]
        self._row[E.DONE] = 1
        E.compute_mask(self._S, self._M, self._T, self._C, 0)

    # -- outcome -------------------------------------------------------------------------------------------------

    def area(self) -> int:
        """Tromp-Taylor area of black minus that of white (no komi)."""
        out = np.zeros(1, np.int64)
        E.area_scores(self._S, self._C, out)
        return int(out[0])

    def ownership(self) -> np.ndarray:
        """int8 ``(N, N)``: the owner of every point as the area count sees it (``+1`` black, ``-1`` white, ``0``
        neither; see :meth:`envs.go.batch.GoBatch.ownership`); its sum is :meth:`area`."""
        out = np.zeros((1, self.size * self.size), np.int8)
        E.area_ownership(self._S, self._C, out)
        return out.reshape(self.size, self.size)

    def score(self) -> float:
        """Tromp-Taylor score from black's view: black area - white area - komi (of the position as it stands)."""
        return self.area() - self.komi

    def winner(self) -> int:
        """BLACK, WHITE, or 0 for a draw: the opponent of whoever resigned, else the sign of :meth:`score`."""
        if self.resigned is not None:
            return -self.resigned
        s = self.score()
        return BLACK if s > 0 else WHITE if s < 0 else EMPTY

    # -- features and text -------------------------------------------------------------------------------------------

    def features(self) -> np.ndarray:
        """float32 ``(2*history + 1, size, size)`` AlphaGo Zero planes: ``[0:k]`` the mover's stones at t, t-1, ...,
        ``[k:2k]`` the opponent's, ``[2k]`` all ones if black is to move (k = history; before the start: empty)."""
        out = np.zeros((1, 2 * self.history + 1, self.size, self.size), np.float32)
        E.features_into(self._S, self._H, self._C, out)
        return out[0]

    def to_ascii(self) -> str:
        """Rows top to bottom of ``X``/``O``/``.``, joined by newlines (what :meth:`from_ascii` reads)."""
        chars = {BLACK: "X", WHITE: "O", EMPTY: "."}
        return "\n".join("".join(chars[int(v)] for v in row) for row in self.board)

    def __str__(self) -> str:
        letters = "   " + " ".join(_COLUMNS[: self.size])
        lines = [f"{self.size - i:2d} " + " ".join(row) for i, row in enumerate(self.to_ascii().splitlines())]
        mover = "black" if self.to_play == BLACK else "white"
        last = "" if self.last_move is None else f", last {vertex(self.last_move, self.size)}"
        return "\n".join([letters, *lines, letters, f"{mover} to play, move {self.move_count}{last}"])

    def __repr__(self) -> str:
        return f"GoState(size={self.size}, move={self.move_count}, to_play={self.to_play}, hash={self.position_hash()})"
