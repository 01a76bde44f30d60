"""Go as the agents' ``Game`` (see ``agents/search/game.py``): settings, batches with path replay, symmetries.

:class:`GoGame` holds the settings of one kind of game (size, komi, history planes, move cap) and makes
:class:`envs.go.state.GoState` positions and :class:`GoSearchBatch` batches. It meets the agents' protocol
structurally; nothing here imports ``agents``.

:class:`GoSearchBatch` is a :class:`envs.go.batch.GoBatch` that can also load rows from another batch and replay
a path of actions in each, in one compiled call (how batched search turns tree leaves into positions), and
load :class:`GoState` positions into rows (how a single position is searched).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from envs.go import engine as E
from envs.go import rollout as R
from envs.go.batch import GoBatch
from envs.go.features import NUM_SYMMETRIES, symmetry_planes, symmetry_policy
from envs.go.state import GoState, check_komi, check_size
from envs.registry import go_komi


class GoSearchBatch(GoBatch):
    """A :class:`GoBatch` that search can fill: :meth:`load_paths`, :meth:`set_state`, :meth:`like`."""

    def like(self, num_games: int) -> GoSearchBatch:
        """A new batch of ``num_games`` empty boards with this batch's size, komi, history and move cap."""
        return GoSearchBatch(num_games, self.size, komi=self.komi, history=self.history, max_moves=self.max_moves)

    def _grow_table(self, capacity: int) -> None:
        """Rehash every row's seen-position set into ``capacity`` slots (a power of two, not smaller)."""
        if capacity > self._T.shape[1]:
            bigger = np.zeros((self.num_games, capacity), np.int64)
            E.rehash(self._T, bigger, self._S)
            self._T = bigger

    def load_paths(self, src: GoBatch, src_rows: np.ndarray, paths: np.ndarray, depths: np.ndarray) -> None:
        """Row ``r`` := ``src`` row ``src_rows[r]`` followed by ``paths[r, :depths[r]]`` (see the protocol).

        Rows are copied with numpy; the paths are played level by level with :meth:`GoBatch.play` (one compiled
        call per level), rows whose path is over being held out of each level as finished games are. Rows
        past ``len(src_rows)`` are scratch and are left finished.
        """
        rows = np.asarray(src_rows, np.int64)
        n = rows.size
        if n > self.num_games:
            raise ValueError(f"{n} paths do not fit a batch of {self.num_games}")
        if self._T.shape[1] != src._T.shape[1]:
            self._T = np.zeros((self.num_games, src._T.shape[1]), np.int64)
        self._S[:n], self._M[:n], self._H[:n], self._T[:n] = src._S[rows], src._M[rows], src._H[rows], src._T[rows]
        self._S[n:, E.DONE] = 1
        depths = np.asarray(depths, np.int64)
        actions = np.zeros(self.num_games, np.int64)
        for d in range(int(depths.max()) if n else 0):
            held = np.flatnonzero(depths <= d)
            saved = self._S[held, E.DONE].copy()
            self._S[held, E.DONE] = 1
            actions[:n] = np.where(depths > d, paths[:, min(d, paths.shape[1] - 1)], 0)
            try:
                self.play(actions)
            finally:
                self._S[held, E.DONE] = saved

    def move_features(self, rows: np.ndarray | None = None) -> np.ndarray:
        """int32 ``(n, N*N + 1, K)``: the rollout policy's feature indices of every action in ``rows`` (all when
        None); see :mod:`envs.go.rollout` (PAD-filled, illegal actions all PAD)."""
        rows = np.arange(self.num_games) if rows is None else np.asarray(rows, np.int64)
        return R.move_features(self._S, self._M, self._C, self.size, rows)

    def rollout(self, weights: np.ndarray, seed: int, rows: np.ndarray | None = None,
                max_moves: int | None = None, with_moves: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """float32 ``(n,)``: one playout of the linear softmax policy ``weights`` (``(NUM_FEATURES + 1,)``) from
        each row of ``rows`` (all when None) to the end, +1 / -1 / 0 from the view of the row's player to move.
        At most ``max_moves`` moves (default ``3 * N*N``), then the board is scored as it stands. The rows are
        not changed; ``seed`` makes the draws repeatable. ``with_moves`` also returns the moves each playout
        played (int64 ``(n,)``)."""
        rows = np.arange(self.num_games) if rows is None else np.asarray(rows, np.int64)
        cap = 3 * self.size * self.size if max_moves is None else int(max_moves)
        out, moves = R.rollout(self._S, self._M, self._H, self._T, self._C, self.size, self.komi, rows, weights,
                               seed, cap)
        return (out, moves) if with_moves else out

    def set_state(self, i: int, state: GoState) -> None:
        """Row ``i`` := a copy of ``state`` (same size and history depth; its komi must be this batch's)."""
        if state.size != self.size or state.history != self.history:
            raise ValueError(f"state is {state.size}x{state.size} with history {state.history}; the batch is "
                             f"{self.size}x{self.size} with history {self.history}")
        cap = state._T.shape[1]
        if cap > self._T.shape[1]:
            self._grow_table(cap)
        table = np.zeros((1, self._T.shape[1]), np.int64)
        row = state._S.copy()
        E.rehash(state._T, table, row)
        self._S[i], self._M[i], self._H[i], self._T[i] = row[0], state._M[0], state._H[0], table[0]


class GoGame:
    """The settings of a game of Go and the factory of its positions and batches (the agents' ``Game``)."""

    num_symmetries = NUM_SYMMETRIES
    rollout_features = R.NUM_FEATURES + 1
    """Length of a rollout policy's weight vector (the last entry is the padding feature, kept at 0)."""
    rollout_width = R.K
    """Feature indices per move in :meth:`move_features` rows."""

    def __init__(self, size: int, komi: float = 7.5, history: int = 8, max_moves: int | None = None) -> None:
        check_size(size)
        self.board_size, self.history, self.max_moves = int(size), int(history), max_moves
        self.komi = check_komi(komi, size)
        self.num_actions = self.board_size**2 + 1
        self.num_planes = 2 * self.history + 1

    def __repr__(self) -> str:
        return (f"GoGame(size={self.board_size}, komi={self.komi}, history={self.history}, "
                f"max_moves={self.max_moves})")

    def resized(self, size: int) -> GoGame:
        """The same game on a ``size`` x ``size`` board (the agents' ``ResizableGame``): the same history depth, the
        komi the suite registers for that size (:func:`envs.registry.go_komi`: 24 on 5x5, 9 on 7x7, 7.5 from 9x9
        up) and the move cap scaled with the board's points (none stays none). ``ValueError`` for a size Go cannot
        be played on here (2..19)."""
        check_size(size)
        size = int(size)
        cap = None if self.max_moves is None else max(1, round(self.max_moves * size**2 / self.board_size**2))
        return GoGame(size, komi=go_komi(size), history=self.history, max_moves=cap)

    def new_state(self) -> GoState:
        """Empty board, black to move."""
        return GoState.new(self.board_size, komi=self.komi, history=self.history, max_moves=self.max_moves)

    def new_batch(self, num_games: int, max_moves: int | None = None) -> GoSearchBatch:
        """``num_games`` empty boards; ``max_moves`` (else the game's own cap) ends and scores each game."""
        cap = self.max_moves if max_moves is None else max_moves
        return GoSearchBatch(num_games, self.board_size, komi=self.komi, history=self.history, max_moves=cap)

    def batch_from_states(self, states: Sequence[GoState]) -> GoSearchBatch:
        """A batch holding copies of ``states`` (one size, history and komi: the first state's)."""
        if not states:
            raise ValueError("batch_from_states needs at least one state")
        first = states[0]
        batch = GoSearchBatch(len(states), first.size, komi=first.komi, history=first.history,
                              max_moves=first.max_moves)
        for i, state in enumerate(states):
            if state.komi != first.komi:
                raise ValueError(f"states mix komi {first.komi} and {state.komi}")
            batch.set_state(i, state)
        return batch

    def move_features(self, states: Sequence[GoState]) -> np.ndarray:
        """int32 ``(len(states), N*N + 1, K)``: rollout feature indices of every action of each position."""
        out = np.empty((len(states), self.num_actions, R.K), np.int32)
        rows = np.zeros(1, np.int64)
        for i, st in enumerate(states):
            out[i] = R.move_features(st._S, st._M, st._C, st.size, rows)[0]
        return out

    def augment(self, planes: np.ndarray, policy: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Symmetry ``k`` of planes ``(n, C, N, N)`` and policies ``(n, N*N + 1)`` (pass stays last)."""
        return symmetry_planes(planes, k), symmetry_policy(policy, k, self.board_size)
