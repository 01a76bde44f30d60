"""Many games of Go stepped together: :class:`GoBatch`, B independent games in one array layout.

Each call (``play``, ``legal_masks``, ``features``, ``scores``, ``ownership``) is one compiled kernel over all B
games; there is no Python loop per game. The rules, colours (``BLACK = 1``, ``WHITE = -1``) and actions
(``i < N*N`` the point ``divmod(i, N)`` with row 0 at the top, ``N*N`` pass) are those of :mod:`envs.go.state`,
whose GoState runs the same kernels of :mod:`envs.go.engine` on a batch of one.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from envs.go import engine as E
from envs.go.eyes import sensible_masks
from envs.go.state import GoState, IllegalMoveError, check_komi, check_size, illegal_message

_INITIAL_CAP = 256


class GoBatch:
    """B games of Go on ``size`` x ``size`` boards with one komi, history depth and move cap.

    Games that are over stay over (their actions are ignored) until :meth:`reset` restarts them.
    Scores are from black's view (black area - white area - komi); winners are BLACK, WHITE or 0.
    """

    def __init__(
        self,
        num_games: int,
        size: int,
        komi: float = 7.5,
        history: int = 8,
        max_moves: int | None = None,
    ) -> None:
        check_size(size)
        if num_games < 1:
            raise ValueError(f"num_games must be >= 1, got {num_games!r}")
        if history < 1:
            raise ValueError(f"history must be an integer >= 1, got {history!r}")
        if max_moves is not None and max_moves < 0:
            raise ValueError(f"max_moves must be None or >= 0, got {max_moves!r}")
        self.num_games, self.size, self.history = int(num_games), int(size), int(history)
        self.komi = check_komi(komi, self.size)
        self.max_moves = max_moves
        p = self.size * self.size
        self._S = np.zeros((self.num_games, E.row_length(self.size)), np.int64)
        self._M = np.zeros((self.num_games, p + 1), np.bool_)
        self._H = np.zeros((self.num_games, self.history, p), np.int8)
        self._T = np.zeros((self.num_games, _INITIAL_CAP), np.int64)
        self._C = E.size_tables(self.size)
        self._rows = np.arange(self.num_games)
        self.reset()

    def __len__(self) -> int:
        return self.num_games

    def reset(self, indices: np.ndarray | list[int] | None = None) -> None:
        """Restart the games ``indices`` (all when None) from the empty board, black to move."""
        rows = np.arange(self.num_games) if indices is None else np.asarray(indices, dtype=np.int64).ravel()
        if rows.size and (rows.min() < 0 or rows.max() >= self.num_games):
            raise IndexError(f"game indices must be in 0..{self.num_games - 1}")
        max_code = -1 if self.max_moves is None else int(self.max_moves)
        E.reset_rows(self._S, self._M, self._H, self._T, self._C, rows.astype(np.int64), max_code)

    # -- stepping ------------------------------------------------------------------------------------------------

    def play(self, actions: np.ndarray) -> None:
        """Play ``actions[g]`` (int, shape ``(B,)``) in every game that is not over; finished games ignore theirs.

        All actions are checked before any is played: if one is illegal, IllegalMoveError names the first such
        game, the move and the reason, and no game changes.
        """
        a = np.ascontiguousarray(actions, dtype=np.int64)
        if a.shape != (self.num_games,):
            raise ValueError(f"actions must have shape ({self.num_games},), got {a.shape}")
        code = E.play_batch(self._S, self._M, self._H, self._T, self._C, a)
        if code < 0:
            g = -1 - code
            reason = E.action_status(self._S, self._T, self._C, g, int(a[g]))
            raise IllegalMoveError(illegal_message(int(a[g]), self.size, reason, game=g))
        if code == E.GROW:
            bigger = np.zeros((self.num_games, 2 * self._T.shape[1]), np.int64)
            E.rehash(self._T, bigger, self._S)
            self._T = bigger

    def resign(self, indices: np.ndarray | list[int]) -> None:
        """The player to move resigns in each game of ``indices`` that is not over."""
        for g in np.asarray(indices, dtype=np.int64).ravel():
            if not self._S[g, E.DONE]:
                self._S[g, E.RESIGNED] = self._S[g, E.TO_PLAY]
                self._S[g, E.DONE] = 1
                E.compute_mask(self._S, self._M, self._T, self._C, g)

    # -- reading -------------------------------------------------------------------------------------------------

    def legal_masks(self) -> np.ndarray:
        """bool ``(B, N*N + 1)``: legal actions per game, pass last; all False in finished games."""
        return self._M.copy()

    def sensible_masks(self) -> np.ndarray:
        """bool ``(B, N*N + 1)``: the legal moves minus own-eye fills, and minus pass while the mover has another
        such move and the opponent has not just passed (:mod:`envs.go.eyes`); what search considers."""
        return sensible_masks(self._S, self._M, self._C)

    def features(self) -> np.ndarray:
        """float32 ``(B, 2k+1, N, N)`` AlphaGo Zero planes per game, as :meth:`GoState.features`."""
        out = np.zeros((self.num_games, 2 * self.history + 1, self.size, self.size), np.float32)
        E.features_into(self._S, self._H, self._C, out)
        return out

    def legal_actions(self) -> tuple[np.ndarray, np.ndarray]:
        """``(actions, counts)``: int64 ``(B, N*N + 1)`` whose row ``g`` starts with game ``g``'s legal actions in
        ascending order (pass last), and int64 ``(B,)`` how many there are (0 in finished games)."""
        start = E.legal_offset(self.size)
        return self._S[:, start : start + self.size * self.size + 1].copy(), self._S[:, E.NLEGAL].copy()

    def random_actions(self, rng: np.random.Generator) -> np.ndarray:
        """int64 ``(B,)``: a uniformly random legal action per game (pass in finished games), in O(B) numpy."""
        counts = self._S[:, E.NLEGAL]
        pick = (rng.random(self.num_games) * counts).astype(np.int64)
        actions = self._S[self._rows, E.legal_offset(self.size) + pick]
        return np.where(counts > 0, actions, self.size * self.size)

    @property
    def done(self) -> np.ndarray:
        """bool ``(B,)``: which games are over."""
        return self._S[:, E.DONE] != 0

    @property
    def to_play(self) -> np.ndarray:
        """int8 ``(B,)``: colour to move per game (1 black, -1 white)."""
        return self._S[:, E.TO_PLAY].astype(np.int8)

    @property
    def move_count(self) -> np.ndarray:
        """int64 ``(B,)``: moves played per game, passes included."""
        return self._S[:, E.MOVE_COUNT].copy()

    @property
    def boards(self) -> np.ndarray:
        """int8 ``(B, N, N)`` copy of the stones, row 0 at the top."""
        p = self.size * self.size
        return self._S[:, E.HDR : E.HDR + p].astype(np.int8).reshape(self.num_games, self.size, self.size)

    def scores(self) -> np.ndarray:
        """float64 ``(B,)``: Tromp-Taylor black area - white area - komi of each position as it stands."""
        out = np.zeros(self.num_games, np.int64)
        E.area_scores(self._S, self._C, out)
        return out - self.komi

    def ownership(self) -> np.ndarray:
        """int8 ``(B, N, N)``: the owner of every point of each position as it stands, by the area count that
        :meth:`scores` sums: ``+1`` black, ``-1`` white, ``0`` neither. Stones count for their colour, dead or
        not (as in the score); an empty point belongs to the colour its empty region alone reaches, else to
        neither (dame, seki liberties). Row 0 at the top. At a game's end (two passes or the move cap) this is
        its final ownership: ``ownership().sum((1, 2)) - komi == scores()``."""
        out = np.zeros((self.num_games, self.size * self.size), np.int8)
        E.area_ownership(self._S, self._C, out)
        return out.reshape(self.num_games, self.size, self.size)

    def winners(self) -> np.ndarray:
        """int8 ``(B,)``: BLACK / WHITE / 0 (draw) by score, or the opponent of whoever resigned."""
        w = np.sign(self.scores()).astype(np.int8)
        resigned = self._S[:, E.RESIGNED]
        return np.where(resigned != 0, -resigned, w).astype(np.int8)

    # -- checkpoints ---------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the arrays that are the games (rows, legal masks, board histories, seen-position tables):
        :meth:`load_state_dict` puts a batch of the same size and settings back exactly where this one is."""
        return {"rows": self._S.copy(), "masks": self._M.copy(), "history": self._H.copy(), "seen": self._T.copy()}

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore :meth:`state_dict`; ``ValueError`` when it is of another number of games, board or history."""
        for key, mine in (("rows", self._S), ("masks", self._M), ("history", self._H)):
            saved = np.asarray(state[key])
            if saved.shape != mine.shape or saved.dtype != mine.dtype:
                raise ValueError(f"game batch {key} are {saved.dtype}{saved.shape}; this batch of {self.num_games} "
                                 f"games on {self.size}x{self.size} with history {self.history} has "
                                 f"{mine.dtype}{mine.shape}")
        seen = np.asarray(state["seen"])
        if seen.ndim != 2 or seen.shape[0] != self.num_games or seen.dtype != self._T.dtype:
            raise ValueError(f"game batch seen-position tables are {seen.dtype}{seen.shape}; expected int64 "
                             f"({self.num_games}, capacity)")
        self._S[:], self._M[:], self._H[:] = state["rows"], state["masks"], state["history"]
        self._T = np.array(seen, dtype=np.int64, order="C")

    def state(self, i: int) -> GoState:
        """A GoState copy of game ``i`` (independent of the batch)."""
        s = GoState.new(self.size, komi=self.komi, history=self.history, max_moves=self.max_moves)
        s._attach(*(x[i : i + 1].copy() for x in (self._S, self._M, self._H, self._T)))
        return s
