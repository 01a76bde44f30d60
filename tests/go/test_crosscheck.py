"""Cross-check of the Go engine against OpenSpiel's ``go`` over random games.

What OpenSpiel's go does (open_spiel/games/go/go.cc, go_board.cc, read for this test):
- actions number the points from the *bottom* row: OpenSpiel action ``r_b * N + c`` is our point
  ``(N - 1 - r_b, c)``; pass is ``N*N`` in both.
- legal moves: empty, not suicide, and not the *simple-ko point* (set when a stone played into an enemy eye
  captures exactly one stone; a pass clears it). It has no superko check in its legal moves.
- instead, a non-pass move that recreates any earlier board (a positional repetition) ends the game at once,
  scored as a draw.
- the game ends after two consecutive passes, or when the history reaches ``max_game_length`` (default
  ``2 * N * N``), and is scored by Tromp-Taylor area with komi.

So the expected difference: a move that our positional superko forbids but that is not OpenSpiel's ko point is
legal there. Those moves are counted and skipped; every other legal-move set must be identical, and we never play
such a move, so OpenSpiel's repetition ending never fires. Final area scores are compared exactly by replaying
each finished game in OpenSpiel with komi just below, at and just above our area difference.
"""

from __future__ import annotations

import numpy as np
import pytest

from envs.go.state import GoState

pyspiel = pytest.importorskip("pyspiel")


def to_ours(a: int, n: int) -> int:
    """OpenSpiel action (rows from the bottom) -> our action (rows from the top); an involution."""
    if a == n * n:
        return a
    r, c = divmod(a, n)
    return (n - 1 - r) * n + c


def openspiel_outcome(n: int, komi: float, actions: list[int]) -> float:
    """Black's return in OpenSpiel after replaying ``actions`` (ours) with ``komi``."""
    game = pyspiel.load_game(f"go(board_size={n},komi={komi})")
    st = game.new_initial_state()
    for a in actions:
        st.apply_action(to_ours(a, n))
    assert st.is_terminal()
    return st.returns()[0]


def crosscheck_games(n: int, games: int, seed: int) -> dict[str, int]:
    """Play ``games`` random games in both engines; assert agreement; return counts of what was compared."""
    rng = np.random.default_rng(seed)
    game = pyspiel.load_game(f"go(board_size={n},komi=7.5)")
    cap = game.max_game_length()
    stats = {"positions": 0, "superko_only_ours": 0, "ko_points": 0, "captures": 0}
    for i in range(games):
        ours, theirs = GoState.new(n, komi=7.5, max_moves=cap), game.new_initial_state()
        played: list[int] = []
        pass_weight = 1.0 if i % 2 == 0 else 0.02  # half the games rarely pass, to fill boards and make kos
        while not ours.is_terminal:
            assert not theirs.is_terminal()
            mask = ours.legal_mask()
            os_legal = {to_ours(a, n) for a in theirs.legal_actions()}
            ours_legal = set(np.flatnonzero(mask).tolist())
            extra = os_legal - ours_legal
            assert ours_legal <= os_legal, f"ours allows {ours_legal - os_legal} that OpenSpiel forbids"
            for a in extra:
                assert ours.illegal_reason(a) == "superko", (a, ours.illegal_reason(a), ours)
            stats["superko_only_ours"] += len(extra)
            stats["ko_points"] += sum(ours.illegal_reason(a) == "superko" for a in range(n * n)) - len(extra)
            stats["positions"] += 1
            weights = mask.astype(np.float64)
            weights[-1] *= pass_weight
            a = int(rng.choice(len(mask), p=weights / weights.sum()))
            before = sum(ours.captures)
            ours.play(a)
            theirs.apply_action(to_ours(a, n))
            stats["captures"] += sum(ours.captures) != before
            board = np.asarray(theirs.observation_tensor(0)).reshape(4, n, n)
            expected = (board[0] - board[1])[::-1]  # black plane - white plane, rows flipped to top-first
            np.testing.assert_array_equal(ours.board, expected)
            played.append(a)
        assert theirs.is_terminal()
        area = ours.area()
        assert theirs.returns()[0] == {1: 1.0, -1: -1.0, 0: 0.0}[ours.winner()]
        assert openspiel_outcome(n, area - 0.5, played) == 1.0
        assert openspiel_outcome(n, area + 0.5, played) == -1.0
        assert openspiel_outcome(n, float(area), played) == 0.0
    return stats


@pytest.mark.parametrize("n, games", [(3, 200), (5, 150), (7, 80), (9, 40)])
def test_crosscheck_openspiel(n: int, games: int) -> None:
    stats = crosscheck_games(n, games, seed=n)
    assert stats["captures"] > 0 and stats["ko_points"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("n, games", [(3, 2000), (4, 2000), pytest.param(5, 2000, marks=pytest.mark.mission),
                                      pytest.param(7, 1000, marks=pytest.mark.mission),
                                      pytest.param(9, 1000, marks=pytest.mark.mission), (13, 100)])
def test_crosscheck_openspiel_many(n: int, games: int) -> None:
    stats = crosscheck_games(n, games, seed=1000 + n)
    print(f"\n{n}x{n}: {games} games, {stats}")
    assert stats["captures"] > 0
