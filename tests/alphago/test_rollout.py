"""The rollout policy's features and compiled playouts: legal, repeatable, from the mover's view, and fast."""

from __future__ import annotations

import numpy as np
import pytest

from agents.alphago.supervised import rollout_logits
from envs.go import rollout as R
from envs.go.game import GoGame
from envs.go.state import GoState


def features_of(state: GoState, action: int) -> set[int]:
    game = GoGame(state.size, komi=state.komi)
    row = game.move_features([state])[0, action]
    return {int(f) for f in row if f != R.PAD}


def test_features_of_a_capture_an_atari_and_a_self_atari() -> None:
    state = GoState.from_ascii("""
        . X O . .
        X O . . .
        . X . . .
        . . . . .
        . . . . .
    """, to_play=1)
    assert R.CAPTURE + 0 in features_of(state, 1 * 5 + 2)   # C4 takes the white stone on B4
    assert R.PASS in features_of(state, 25) and len(features_of(state, 25)) == 1
    corner = features_of(state, 24)                   # the empty far corner: first line, no last move
    assert R.LINE + 0 in corner and R.DIST + 6 in corner and R.LIBS + 1 in corner
    code = next(f for f in corner if f < R.NUM_PATTERNS)
    digits = [(code >> (2 * (7 - j))) & 3 for j in range(8)]   # N, S, W, E, NW, NE, SW, SE
    assert digits == [0, 3, 0, 3, 0, 3, 3, 3]
    assert R.CAPTURE + 0 in features_of(GoState.from_ascii(state.to_ascii(), to_play=-1), 0)  # white takes B5
    shape = GoState.from_ascii("""
        . . O X .
        O . . . .
        . . . . .
        . . . . .
        . . . . .
    """, to_play=1)
    assert R.SELF_ATARI in features_of(shape, 0)       # A5: one liberty (B5), captures nothing
    assert R.ATARI in features_of(shape, 1)            # B5: the white stone on C5 is down to one liberty
    assert R.SELF_ATARI not in features_of(shape, 12)
    eye = GoState.from_ascii("""
        . X . . .
        X . X . .
        . X . . .
        . . . . .
        . . . . .
    """, to_play=1)
    assert R.EYE in features_of(eye, 6)
    assert R.EYE not in features_of(eye, 12)


def test_rollouts_are_legal_repeatable_and_leave_the_rows_alone() -> None:
    game = GoGame(7, komi=0.5)
    batch = game.new_batch(32)
    rng = np.random.default_rng(0)
    for _ in range(12):                                # varied positions: random legal moves
        batch.play(batch.random_actions(rng))
    before = batch._S.copy(), batch._H.copy()
    weights = np.zeros(game.rollout_features)
    weights[: R.NUM_PATTERNS] = rng.normal(0, 2, R.NUM_PATTERNS)   # any weights give legal moves
    z, moves = batch.rollout(weights, seed=5, with_moves=True)
    assert set(np.unique(z)) <= {-1.0, 0.0, 1.0} and (moves > 0).all()
    assert np.array_equal(batch._S, before[0]) and np.array_equal(batch._H, before[1])
    assert np.array_equal(batch.rollout(weights, seed=5), z)
    assert not np.array_equal(batch.rollout(weights, seed=6, rows=np.arange(32)), z)
    with pytest.raises(ValueError, match="shape"):
        batch.rollout(np.zeros(3), seed=0)


def test_rollout_outcomes_are_from_the_movers_view() -> None:
    # White owns the whole board (four one-point eyes): black to move loses, white to move wins.
    won_by_white = GoState.from_ascii("""
        O O O O O
        O O . O O
        O . O O .
        O O O . O
        O O O O O
    """, to_play=1, komi=0.5)
    game = GoGame(5, komi=0.5)
    for to_play, expected in ((1, -1.0), (-1, 1.0)):
        state = GoState.from_ascii(won_by_white.to_ascii(), to_play=to_play, komi=0.5)
        batch = game.batch_from_states([state] * 4)
        assert (batch.rollout(np.zeros(game.rollout_features), seed=0) == expected).all()


def test_rollout_policy_prefers_what_its_weights_say() -> None:
    game = GoGame(5, komi=0.5)
    state = GoState.new(5, komi=0.5)
    weights = np.zeros(game.rollout_features)
    weights[R.LINE + 2] = 5.0                          # the centre point (third line) is strongly preferred
    logits = rollout_logits(weights, game.move_features([state]))[0]
    assert int(np.argmax(logits)) == 12 and np.isfinite(logits).sum() == 26


def test_rollouts_play_whole_games_from_a_batch() -> None:
    """Zero weights (uniform over sensible moves): 16 9x9 playouts from the empty board play games out."""
    game = GoGame(9)
    batch = game.new_batch(16)
    weights = np.zeros(game.rollout_features)
    _, moves = batch.rollout(weights, seed=1, with_moves=True)
    assert moves.sum() > 16 * 20                        # the playouts really played games out
