"""Pure random-rollout MCTS (envs/go/uct.py): legal, seeded, finds the obvious capture, beats random play."""

from __future__ import annotations

import numpy as np
import pytest

from envs.go.opponents import random_policy
from envs.go.state import BLACK, GoState
from envs.go.uct import uct_move, uct_policy, uct_search

ATARI = """
. X O . .
X O . . .
. X . . .
. . . . .
. . . . .
"""


def test_search_spends_every_playout_on_legal_moves_and_leaves_the_state_alone() -> None:
    state = GoState.from_ascii(ATARI, komi=0.5)
    before = (state.to_ascii(), state.to_play, state.move_count, state.position_hash())
    visits, wins = uct_search(state, 300, seed=3)
    assert visits.sum() == 300
    assert np.all(visits[~state.legal_mask()] == 0)
    assert np.all((wins >= 0) & (wins <= visits))
    assert (state.to_ascii(), state.to_play, state.move_count, state.position_hash()) == before


def test_same_seed_same_search_other_seed_other_search() -> None:
    state = GoState.new(5, komi=0.5)
    a, _ = uct_search(state, 200, seed=1)
    b, _ = uct_search(state, 200, seed=1)
    c, _ = uct_search(state, 200, seed=2)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_it_captures_the_stone_in_atari() -> None:
    state = GoState.from_ascii(ATARI, komi=0.5)  # white's B4 stone has one liberty, at C4 (action 7)
    assert state.to_play == BLACK
    assert [uct_move(state, 500, seed=s) for s in range(3)] == [7, 7, 7]


def test_after_the_opponent_passes_it_passes_to_win() -> None:
    # 8 points each; komi -0.5 puts black ahead, so black's pass ends the game as a win.
    state = GoState.from_ascii(". X O .\nX X O O\n. X O .\nX X O .", to_play=-BLACK, komi=-0.5)
    state.play(16)  # white passes
    assert state.score() > 0
    assert uct_move(state, 200, seed=0) == 16


def test_it_beats_random_play_on_5x5() -> None:
    policy, wins = uct_policy(100), 0
    for game in range(8):
        rng = np.random.default_rng(game)
        state = GoState.new(5, komi=0.5, max_moves=50)
        mcts_colour = BLACK if game % 2 == 0 else -BLACK
        while not state.is_terminal:
            move = policy if state.to_play == mcts_colour else random_policy
            state.play(move(state.copy(), rng))
        wins += state.winner() == mcts_colour
    assert wins >= 7


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="playouts"):
        uct_search(GoState.new(5), 0)
    over = GoState.new(5)
    over.play(25)
    over.play(25)
    with pytest.raises(ValueError, match="finished"):
        uct_search(over, 10)
