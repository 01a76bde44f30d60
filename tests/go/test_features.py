"""Feature planes (AlphaGo Zero layout) and the 8 board symmetries."""

from __future__ import annotations

import numpy as np
import pytest

from envs.go.features import (
    NUM_SYMMETRIES,
    action_permutation,
    inverse_symmetry,
    symmetry_planes,
    symmetry_policy,
    transform_action,
)
from envs.go.state import GoState


def test_planes_follow_history_from_the_movers_view() -> None:
    s = GoState.new(5, history=3)
    f = s.features()
    assert f.shape == (7, 5, 5) and f.dtype == np.float32
    assert not f[:6].any() and f[6].all()  # empty board, black to move
    s.play(0)  # black A5
    s.play(24)  # white E1
    s.play(12)  # black C3
    f = s.features()  # white to move
    assert not f[6].any()
    mover, opponent = f[:3], f[3:6]
    # t: white has E1, black A5 + C3
    assert mover[0, 4, 4] == 1 and mover[0].sum() == 1
    assert opponent[0, 0, 0] == 1 and opponent[0, 2, 2] == 1 and opponent[0].sum() == 2
    # t-1: before C3
    assert opponent[1].sum() == 1 and mover[1].sum() == 1
    # t-2: only A5
    assert opponent[2, 0, 0] == 1 and opponent[2].sum() == 1 and mover[2].sum() == 0


def test_positions_before_the_start_are_empty_and_passes_count_as_time() -> None:
    s = GoState.from_ascii("X..\n...\n..O", history=2)
    f = s.features()
    assert f[0, 0, 0] == 1 and f[2, 2, 2] == 1 and not f[1].any() and not f[3].any()
    s.play(9)  # black passes
    f = s.features()  # white to move: its stones first
    assert f[0, 2, 2] == 1 and f[1, 2, 2] == 1 and f[2, 0, 0] == 1 and f[3, 0, 0] == 1


def test_history_ring_wraps() -> None:
    s = GoState.new(4, history=2)
    for a in (0, 15, 5, 10, 1):
        s.play(a)
    f = s.features()  # white to move; black has 0, 5, 1; white 15, 10
    assert f[0].sum() == 2 and f[2].sum() == 3  # t
    assert f[1].sum() == 2 and f[3].sum() == 2  # t-1 (before black's 1)


@pytest.mark.parametrize("k", range(NUM_SYMMETRIES))
def test_inverse_undoes(k: int) -> None:
    x = np.random.default_rng(k).random((3, 17, 7, 7))
    y = symmetry_planes(symmetry_planes(x, k), inverse_symmetry(k))
    np.testing.assert_array_equal(x, y)
    pol = np.random.default_rng(k).random((4, 50))
    np.testing.assert_array_equal(symmetry_policy(symmetry_policy(pol, k, 7), inverse_symmetry(k), 7), pol)


def test_symmetries_are_distinct_and_identity_first() -> None:
    x = np.arange(25).reshape(5, 5)
    images = {symmetry_planes(x, k).tobytes() for k in range(NUM_SYMMETRIES)}
    assert len(images) == NUM_SYMMETRIES
    np.testing.assert_array_equal(symmetry_planes(x, 0), x)


@pytest.mark.parametrize("k", range(NUM_SYMMETRIES))
@pytest.mark.parametrize("size", [5, 9])
def test_policy_transforms_like_planes(k: int, size: int) -> None:
    p = size * size
    for action in range(p):
        plane = np.zeros((size, size))
        plane.flat[action] = 1
        onehot = np.zeros(p + 1)
        onehot[action] = 1
        moved = symmetry_policy(onehot, k, size)
        np.testing.assert_array_equal(moved[:p].reshape(size, size), symmetry_planes(plane, k))
        assert moved[p] == 0 and transform_action(action, k, size) == int(np.argmax(moved))
    pass_onehot = np.zeros(p + 1)
    pass_onehot[p] = 1
    np.testing.assert_array_equal(symmetry_policy(pass_onehot, k, size), pass_onehot)
    assert sorted(action_permutation(k, size)) == list(range(p + 1))


@pytest.mark.parametrize("k", range(NUM_SYMMETRIES))
def test_symmetry_commutes_with_the_rules(k: int) -> None:
    """Playing transformed moves from a transformed position gives the transformed features and mask."""
    rng = np.random.default_rng(k)
    size = 7
    s = GoState.new(size)
    moves = []
    for _ in range(30):
        a = int(rng.choice(s.legal_actions()[:-1]))
        moves.append(a)
        s.play(a)
    t = GoState.new(size)
    for a in moves:
        t.play(transform_action(a, k, size))
    np.testing.assert_array_equal(t.features(), symmetry_planes(s.features(), k))
    np.testing.assert_array_equal(t.legal_mask(), symmetry_policy(s.legal_mask(), k, size))
    assert t.score() == s.score()


def test_bad_symmetry_index() -> None:
    with pytest.raises(ValueError, match="0..7"):
        symmetry_planes(np.zeros((3, 3)), 8)
    with pytest.raises(ValueError, match="length 10"):
        symmetry_policy(np.zeros(9), 1, 3)
