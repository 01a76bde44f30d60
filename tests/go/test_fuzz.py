"""Random-play fuzz of the Go engine against a slow, obviously-correct reference written here in plain Python.

Checked after every move: legal masks equal the reference's (suicide, positional superko), boards and capture
counts equal, no chain without liberties, incremental chains / liberties / chain hashes equal recomputed ones,
the position hash equals the one recomputed from the Zobrist keys, copies are independent, and GoBatch equals B
separate GoStates move by move.
"""

from __future__ import annotations

import numpy as np
import pytest

from envs.go import engine as E
from envs.go.batch import GoBatch
from envs.go.state import GoState


class RefGo:
    """Reference rules: flood fills, and a set of every board tuple seen (positional superko)."""

    def __init__(self, size: int) -> None:
        self.n = size
        self.board = [0] * (size * size)
        self.to_play = 1
        self.seen = {tuple(self.board)}
        self.passes = 0
        self.captures = [0, 0]

    def neighbours(self, p: int) -> list[int]:
        r, c = divmod(p, self.n)
        out = []
        for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= rr < self.n and 0 <= cc < self.n:
                out.append(rr * self.n + cc)
        return out

    def chain(self, board: list[int], p: int) -> tuple[set[int], set[int]]:
        """Stones and liberties of the chain at p."""
        colour, stones, libs, todo = board[p], {p}, set(), [p]
        while todo:
            q = todo.pop()
            for r in self.neighbours(q):
                if board[r] == 0:
                    libs.add(r)
                elif board[r] == colour and r not in stones:
                    stones.add(r)
                    todo.append(r)
        return stones, libs

    def result(self, p: int) -> tuple[str | None, list[int], int]:
        """(reason or None, board after the move, stones captured) for the player to move at point p."""
        c = self.to_play
        if self.board[p] != 0:
            return "occupied", self.board, 0
        b = list(self.board)
        b[p] = c
        taken = 0
        for r in self.neighbours(p):
            if b[r] == -c:
                stones, libs = self.chain(b, r)
                if not libs:
                    for q in stones:
                        b[q] = 0
                    taken += len(stones)
        if not self.chain(b, p)[1]:
            return "suicide", b, 0
        if tuple(b) in self.seen:
            return "superko", b, 0
        return None, b, taken

    def legal_mask(self) -> np.ndarray:
        mask = [self.result(p)[0] is None for p in range(self.n * self.n)]
        return np.array([*mask, True])

    def play(self, a: int) -> None:
        if a == self.n * self.n:
            self.passes += 1
        else:
            reason, b, taken = self.result(a)
            assert reason is None
            self.board = b
            self.captures[0 if self.to_play == 1 else 1] += taken
            self.seen.add(tuple(b))
            self.passes = 0
        self.to_play = -self.to_play


def check_invariants(s: GoState) -> None:
    """Incremental chain data of ``s`` equals data recomputed from its board; hash equals recomputed hash."""
    n, p = s.size, s.size * s.size
    row, consts = s._S[0], E.size_tables(n)
    board = row[E.HDR : E.HDR + p]
    region = {r: row[E.HDR + r * p : E.HDR + (r + 1) * p] for r in (E.HEAD, E.LIBS, E.CSIZE, E.EMPTYN, E.CHASH)}
    ref = RefGo(n)
    ref.board = [int(v) for v in board]
    zob = {1: consts[E.C_NBR + 5 * p : E.C_NBR + 6 * p], -1: consts[E.C_NBR + 6 * p : E.C_NBR + 7 * p]}
    expected_hash = int(consts[E.C_BASE])
    for q in range(p):
        if board[q] == 0:
            continue
        expected_hash ^= int(zob[int(board[q])][q])
        stones, libs = ref.chain(ref.board, q)
        head = int(region[E.HEAD][q])
        assert libs, f"chain without liberties at {q}"
        assert all(int(region[E.HEAD][r]) == head for r in stones), "stones of one chain with different heads"
        assert region[E.LIBS][head] == len(libs)
        assert region[E.CSIZE][head] == len(stones)
        chain_hash = 0
        for r in stones:
            chain_hash ^= int(zob[int(board[q])][r])
        assert int(region[E.CHASH][head]) == chain_hash
    assert s.position_hash() == expected_hash
    empty_nbrs = region[E.EMPTYN]
    for q in range(p):
        assert empty_nbrs[q] == sum(board[r] == 0 for r in ref.neighbours(q))


def random_game(size: int, rng: np.random.Generator, max_moves: int, check_every: int = 1) -> int:
    """Play one random game with GoState and RefGo side by side, checking everything; returns its length."""
    s, ref = GoState.new(size, max_moves=max_moves), RefGo(size)
    while not s.is_terminal:
        mask = s.legal_mask()
        if s.move_count % check_every == 0:
            np.testing.assert_array_equal(mask, ref.legal_mask())
            np.testing.assert_array_equal(s.legal_actions(), np.flatnonzero(mask))
            assert [s.illegal_reason(a) is None for a in range(size * size + 1)] == list(mask)
            check_invariants(s)
        legal = np.flatnonzero(mask)
        # Bias towards stones so that boards fill up and captures / superko happen.
        stones = legal[:-1]
        a = int(rng.choice(stones)) if len(stones) and rng.random() < 0.95 else size * size
        before = s.copy()
        s.play(a)
        ref.play(a)
        assert before.move_count == s.move_count - 1, "copy is not independent"
        np.testing.assert_array_equal(s.board.ravel(), ref.board)
        assert s.captures == tuple(ref.captures)
        assert s.to_play == ref.to_play
    check_invariants(s)
    return s.move_count


@pytest.mark.parametrize("size", [2, 3, 4, 5, 7, 9])
def test_random_games_match_reference(size: int) -> None:
    rng = np.random.default_rng(size)
    games = {2: 60, 3: 40, 4: 20, 5: 10, 7: 4, 9: 3}[size]
    for _ in range(games):
        random_game(size, rng, max_moves=3 * size * size)


@pytest.mark.slow
@pytest.mark.parametrize("size", [2, 3, 4, 5, 6, 9, 13])
def test_random_games_match_reference_long(size: int) -> None:
    rng = np.random.default_rng(100 + size)
    for _ in range({2: 2000, 3: 1000, 4: 500, 5: 200, 6: 100, 9: 30, 13: 5}[size]):
        random_game(size, rng, max_moves=4 * size * size, check_every=1 if size < 13 else 5)


def test_copy_is_independent() -> None:
    s = GoState.new(5)
    s.play(12)
    t = s.copy()
    t.play(13)
    assert s.move_count == 1 and t.move_count == 2
    assert s.board[2, 3] == 0 and t.board[2, 3] == -1
    assert s.is_legal(13) and not t.is_legal(13)


@pytest.mark.parametrize("size", [3, 5, 9])
def test_batch_equals_separate_states(size: int) -> None:
    rng = np.random.default_rng(7)
    b = 16
    batch = GoBatch(b, size, max_moves=3 * size * size)
    states = [GoState.new(size, max_moves=3 * size * size) for _ in range(b)]
    for _ in range(4 * size * size):
        masks = batch.legal_masks()
        for g, st in enumerate(states):
            np.testing.assert_array_equal(masks[g], st.legal_mask())
        actions = np.array([rng.choice(np.flatnonzero(m)) if m.any() else size * size for m in masks], dtype=np.int64)
        batch.play(actions)
        for g, st in enumerate(states):
            if not st.is_terminal:
                st.play(int(actions[g]))
        np.testing.assert_array_equal(batch.done, [st.is_terminal for st in states])
        np.testing.assert_array_equal(batch.to_play, [st.to_play for st in states])
        np.testing.assert_array_equal(batch.move_count, [st.move_count for st in states])
        np.testing.assert_array_equal(batch.features(), np.stack([st.features() for st in states]))
        for g, st in enumerate(states):
            np.testing.assert_array_equal(batch.state(g).board, st.board)
            assert batch.state(g).position_hash() == st.position_hash()
        if batch.done.all():
            break
    np.testing.assert_allclose(batch.scores(), [st.score() for st in states])
    np.testing.assert_array_equal(batch.winners(), [st.winner() for st in states])
