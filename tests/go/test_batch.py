"""GoBatch: B games stepped together, the same rules as GoState."""

from __future__ import annotations

import numpy as np
import pytest

from envs.go.batch import GoBatch
from envs.go.state import BLACK, WHITE, IllegalMoveError


def test_shapes_and_start() -> None:
    b = GoBatch(4, 5, history=3)
    assert len(b) == 4
    assert b.legal_masks().shape == (4, 26) and b.legal_masks().all()
    assert b.features().shape == (4, 7, 5, 5) and b.features().dtype == np.float32
    np.testing.assert_array_equal(b.to_play, [BLACK] * 4)
    assert b.to_play.dtype == np.int8 and b.done.dtype == np.bool_
    np.testing.assert_array_equal(b.move_count, 0)
    np.testing.assert_array_equal(b.scores(), -7.5)


def test_illegal_action_names_the_game_and_changes_nothing() -> None:
    b = GoBatch(3, 5)
    b.play(np.array([0, 1, 2]))
    with pytest.raises(IllegalMoveError, match=r"game 1: illegal move B5 \(action 1\): occupied"):
        b.play(np.array([3, 1, 7]))
    np.testing.assert_array_equal(b.move_count, 1)
    with pytest.raises(IllegalMoveError, match=r"game 0: .*out of range"):
        b.play(np.array([26, 3, 3]))
    with pytest.raises(ValueError, match="shape"):
        b.play(np.array([3, 3]))


def test_finished_games_ignore_actions_until_reset() -> None:
    b = GoBatch(2, 3, komi=0.5)
    b.play(np.array([9, 4]))
    b.play(np.array([9, 9]))
    np.testing.assert_array_equal(b.done, [True, False])
    assert not b.legal_masks()[0].any()
    b.play(np.array([0, 0]))  # game 0 is over: its action is ignored
    np.testing.assert_array_equal(b.move_count, [2, 3])
    b.reset([0])
    np.testing.assert_array_equal(b.done, [False, False])
    np.testing.assert_array_equal(b.move_count, [0, 3])
    assert b.state(0).position_hash() == b.state(0).copy().position_hash()
    assert not b.state(0).board.any()


def test_scores_winners_resign() -> None:
    b = GoBatch(3, 3, komi=0.5)
    b.play(np.array([4, 9, 9]))
    b.resign([2])  # white (to move after black's pass) resigns game 2
    np.testing.assert_allclose(b.scores(), [9 - 0.5, -0.5, -0.5])
    np.testing.assert_array_equal(b.winners(), [BLACK, WHITE, BLACK])
    np.testing.assert_array_equal(b.done, [False, False, True])
    assert b.state(2).resigned == WHITE and b.state(2).winner() == BLACK


def test_move_cap_and_state_copy() -> None:
    b = GoBatch(2, 5, max_moves=2)
    b.play(np.array([0, 1]))
    s = b.state(1)
    assert s.max_moves == 2 and s.board[0, 1] == BLACK and s.to_play == WHITE
    s.play(2)
    assert s.is_terminal
    assert not b.done.any()  # the copy is independent
    b.play(np.array([5, 6]))
    assert b.done.all()


def test_long_batch_grows_the_position_sets() -> None:
    b = GoBatch(8, 9, max_moves=400)
    rng = np.random.default_rng(0)
    while not b.done.all():
        masks = b.legal_masks()
        masks[:, -1] &= ~masks[:, :-1].any(axis=1)  # pass only when nothing else is legal
        b.play(np.argmax(rng.random(masks.shape) * masks, axis=1))
    assert (b.move_count > 128).all()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="board size"):
        GoBatch(2, 20)
    with pytest.raises(ValueError, match="num_games"):
        GoBatch(0, 9)
    with pytest.raises(IndexError):
        GoBatch(2, 9).reset([2])
