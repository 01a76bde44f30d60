"""Built-in Go policies: the capture heuristic captures, saves, avoids its own eyes; lookup by name."""

from __future__ import annotations

import numpy as np
import pytest

from envs.go.coords import gtp_to_action
from envs.go.opponents import (
    capture_moves,
    capture_policy,
    fills_own_eye,
    get_policy,
    groups,
    random_policy,
    saving_moves,
)
from envs.go.state import BLACK, WHITE, GoState


def _state(text: str, to_play: int = BLACK) -> GoState:
    return GoState.from_ascii(text, to_play=to_play, komi=0.5)


def test_captures_the_biggest_group() -> None:
    # Two white chains are in atari: D5 (one stone, liberty D4) and G9-H9-G8-H8 (four stones, liberty J9).
    s = _state(
        """
        .....XOO.
        .....XOOX
        ......XX.
        ...X.....
        ..XOX....
        .........
        .........
        .........
        .........
        """
    )
    rng = np.random.default_rng(0)
    gains = capture_moves(s)
    assert gains == {gtp_to_action("J9", 9): 4, gtp_to_action("D4", 9): 1}
    for _ in range(5):
        a = capture_policy(s, rng)
        assert a == gtp_to_action("J9", 9)
    s.play(a)
    assert s.captures == (4, 0) and (s.board == WHITE).sum() == 1


def test_saves_own_group_in_atari() -> None:
    # Black C5 is in atari (liberty C4); extending to C4 gives it liberties. Nothing to capture.
    s = _state(
        """
        .........
        .........
        .........
        ..O......
        .OXO.....
        .........
        .........
        .........
        .........
        """
    )
    assert capture_moves(s) == {}
    assert saving_moves(s) == {gtp_to_action("C4", 9): 1}
    assert capture_policy(s, np.random.default_rng(1)) == gtp_to_action("C4", 9)


def test_no_save_when_extending_stays_in_atari() -> None:
    # Black A1 is in atari (liberty A2); after A2 the pair A1-A2 still has one liberty (B2): not a save.
    s = _state(
        """
        .....
        .....
        O....
        .....
        XO...
        """
    )
    assert capture_moves(s) == {}
    assert saving_moves(s) == {}


def test_does_not_fill_own_eye() -> None:
    s = _state(
        """
        .X.X.
        XXXXX
        OOOOO
        O.O.O
        OOOOO
        """
    )
    assert fills_own_eye(s, 0) and fills_own_eye(s, 2)
    rng = np.random.default_rng(0)
    # Black has only its own eyes (and pass): it passes rather than fill them.
    for _ in range(10):
        assert capture_policy(s, rng) == 25


def test_random_policy_is_legal_and_seeded() -> None:
    s = GoState.new(9)
    a = [random_policy(s, np.random.default_rng(7)) for _ in range(3)]
    assert len(set(a)) == 1 and s.is_legal(a[0])


def test_capture_policy_plays_legal_games() -> None:
    rng = np.random.default_rng(0)
    for size in (5, 7, 9):
        s = GoState.new(size, komi=0.5, max_moves=4 * size * size)
        while not s.is_terminal:
            a = capture_policy(s, rng)
            assert s.is_legal(a), s.illegal_reason(a)
            s.play(a)


def test_capture_beats_random_mostly() -> None:
    rng = np.random.default_rng(0)
    wins = 0
    for game in range(10):
        s = GoState.new(7, komi=0.5, max_moves=200)
        capture_colour = BLACK if game % 2 == 0 else WHITE
        while not s.is_terminal:
            policy = capture_policy if s.to_play == capture_colour else random_policy
            s.play(policy(s, rng))
        wins += s.winner() == capture_colour
    assert wins >= 7


def test_groups() -> None:
    s = _state("XX.\nO..\n...")
    found = {(c, tuple(sorted(st)), tuple(sorted(li))) for c, st, li in groups(s.board)}
    assert found == {(BLACK, (0, 1), (2, 4)), (WHITE, (3,), (4, 6))}


def test_lookup() -> None:
    assert get_policy("random") is random_policy and get_policy("capture") is capture_policy
    assert get_policy(random_policy) is random_policy
    with pytest.raises(ValueError, match="valid: capture, random"):
        get_policy("gnugo")
