"""Final ownership by the area count: who owns each point, as the score counts it (GoState and GoBatch)."""

from __future__ import annotations

import numpy as np

from envs.go.batch import GoBatch
from envs.go.state import GoState

TERRITORY_AND_DAME = """
    . X . O .
    X X . O O
    . X . O .
    X X . O O
    . X . O ."""
"""Black owns columns 0-1, white columns 3-4, column 2 touches both (dame)."""

EXPECTED_TERRITORY_AND_DAME = np.array([[1, 1, 0, -1, -1]] * 5, np.int8)

DEAD_STONE = """
    . . X . O
    . O X . O
    . . X . O
    . . X . O
    . . X . O"""
"""An uncaptured white stone inside black's area: the area count takes it as alive, so its stone is white's and
the empty region around it, touching both colours, is no one's (as in the score); column 3 is dame."""

EXPECTED_DEAD_STONE = np.array([[0, 0, 1, 0, -1],
                                [0, -1, 1, 0, -1],
                                [0, 0, 1, 0, -1],
                                [0, 0, 1, 0, -1],
                                [0, 0, 1, 0, -1]], np.int8)


def test_ownership_of_hand_built_positions() -> None:
    for text, expected, area in ((TERRITORY_AND_DAME, EXPECTED_TERRITORY_AND_DAME, 0),
                                 (DEAD_STONE, EXPECTED_DEAD_STONE, -1)):
        state = GoState.from_ascii(text, komi=0.5)
        np.testing.assert_array_equal(state.ownership(), expected)
        assert state.ownership().dtype == np.int8
        assert int(state.ownership().sum()) == state.area() == area  # the ownership sums to the area count


def test_batch_ownership_matches_states_and_scores_on_random_games() -> None:
    """Over random games played to the end: each row's ownership is its GoState's, and sums to the score + komi."""
    rng = np.random.default_rng(0)
    batch = GoBatch(16, 7, komi=6.5, max_moves=120)
    for _ in range(200):
        batch.play(batch.random_actions(rng))
    assert batch.done.any()
    own = batch.ownership()
    assert own.shape == (16, 7, 7) and own.dtype == np.int8 and set(np.unique(own)) <= {-1, 0, 1}
    np.testing.assert_allclose(own.sum(axis=(1, 2)) - 6.5, batch.scores())
    for g in range(16):
        state = batch.state(g)
        np.testing.assert_array_equal(state.ownership(), own[g])
        stones = batch.boards[g] != 0
        np.testing.assert_array_equal(own[g][stones], batch.boards[g][stones])  # a stone is its colour's
