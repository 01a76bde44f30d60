"""Sensible moves (envs/go/eyes.py): no own-eye fills, and no pass while another move is left unless the
opponent has just passed."""

import numpy as np
import pytest

from envs.go.batch import GoBatch
from envs.go.coords import gtp_to_action
from envs.go.game import GoGame
from envs.go.state import BLACK, WHITE, GoState

PASS5 = 25


def test_the_empty_board_has_every_point_and_no_pass() -> None:
    mask = GoState.new(5).sensible_mask()
    assert mask[:PASS5].all() and not mask[PASS5]


def test_pass_is_sensible_right_after_the_opponent_passes() -> None:
    state = GoState.new(5)
    state.play(PASS5)
    mask = state.sensible_mask()
    assert mask[PASS5] and mask[:PASS5].all()


def test_own_eyes_are_left_alone_and_the_opponent_may_still_play_there() -> None:
    state = GoState.from_ascii("""
        . X . . .
        X X . . .
        . . . . .
        . . . . .
        . . . . .""", to_play=BLACK, komi=0.5)
    corner = gtp_to_action("A5", 5)
    assert state.is_legal(corner)
    mask = state.sensible_mask()
    assert not mask[corner] and mask[gtp_to_action("C3", 5)] and not mask[PASS5]
    white = GoState.from_ascii("""
        . X . . .
        X X . . .
        . . . . .
        . . . . .
        . . . . .""", to_play=WHITE, komi=0.5)
    assert not white.is_legal(corner)  # suicide for white: the rules, not the filter, keep it out


def test_a_point_with_two_opponent_diagonals_is_not_an_eye() -> None:
    state = GoState.from_ascii("""
        . . . . .
        . O X O .
        . X . X .
        . O X O .
        . . . . .""", to_play=BLACK, komi=0.5)
    centre = gtp_to_action("C3", 5)
    assert state.is_legal(centre) and state.sensible_mask()[centre]  # a false eye: filling it may be needed


def test_only_eye_fills_left_makes_pass_the_one_sensible_move() -> None:
    state = GoState.from_ascii("""
        . X . X .
        X X X X X
        X . X . X
        X X X X X
        . X . X .""", to_play=BLACK, komi=0.5)
    legal, mask = state.legal_mask(), state.sensible_mask()
    assert legal[:PASS5].sum() == 8  # black may fill any of its eight eyes
    assert np.flatnonzero(mask).tolist() == [PASS5]


@pytest.mark.parametrize("size", [5, 7])
def test_batch_rows_match_states_and_stay_inside_the_legal_moves(size: int) -> None:
    rng = np.random.default_rng(size)
    batch = GoBatch(16, size, komi=0.5, max_moves=3 * size * size)
    for _ in range(3 * size * size):
        legal, sensible = batch.legal_masks(), batch.sensible_masks()
        assert not (sensible & ~legal).any()
        live = ~batch.done
        assert sensible[live].any(axis=1).all()
        for g in (0, 7):
            np.testing.assert_array_equal(sensible[g], batch.state(g).sensible_mask())
        actions = np.array([rng.choice(np.flatnonzero(m)) if m.any() else size * size for m in sensible])
        batch.play(actions)


def test_random_sensible_games_end_with_no_dead_stones_left_to_argue_about() -> None:
    """Two players drawing uniformly from the sensible points, and passing only when there are none, end by
    passing (not the move cap) once nothing but eyes is left: every empty point is then surrounded by one side."""
    game = GoGame(5, komi=0.5)
    batch = game.new_batch(32, max_moves=400)
    rng = np.random.default_rng(0)
    while not batch.done.all():
        points = batch.sensible_masks()[:, :25]
        batch.play(np.array([rng.choice(np.flatnonzero(m)) if m.any() else 25 for m in points]))
    assert (batch.move_count < 400).all()
    for g in range(batch.num_games):
        board = batch.boards[g].ravel()
        for p in np.flatnonzero(board == 0):
            r, c = divmod(int(p), 5)
            nbrs = {int(board[rr * 5 + cc]) for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))
                    if 0 <= rr < 5 and 0 <= cc < 5}
            assert len(nbrs) == 1 and 0 not in nbrs
