"""Coordinates: actions <-> GTP vertices and SGF points (row 0 of an action is the top of the board)."""

from __future__ import annotations

import pytest

from envs.go.coords import (
    action_to_gtp,
    action_to_rc,
    action_to_sgf,
    gtp_to_action,
    rc_to_action,
    sgf_to_action,
)


@pytest.mark.parametrize(
    "size,action,vertex",
    [
        (9, 0, "A9"),  # top-left
        (9, 8, "J9"),  # top-right: no I column
        (9, 72, "A1"),  # bottom-left
        (9, 80, "J1"),
        (9, 81, "pass"),
        (19, 3 * 19 + 3, "D16"),
        (19, 15 * 19 + 3, "D4"),
        (19, 18 * 19 + 18, "T1"),
        (5, 12, "C3"),
    ],
)
def test_gtp_known_points(size: int, action: int, vertex: str) -> None:
    assert action_to_gtp(action, size) == vertex
    assert gtp_to_action(vertex, size) == action
    assert gtp_to_action(vertex.lower(), size) == action


@pytest.mark.parametrize("size", [2, 5, 9, 13, 19, 25])
def test_gtp_round_trip_every_action(size: int) -> None:
    for a in range(size * size + 1):
        assert gtp_to_action(action_to_gtp(a, size), size) == a


@pytest.mark.parametrize("size", [2, 9, 19, 30, 52])
def test_sgf_round_trip_every_action(size: int) -> None:
    for a in range(size * size + 1):
        assert sgf_to_action(action_to_sgf(a, size), size) == a


def test_sgf_points_and_pass() -> None:
    assert action_to_sgf(0, 9) == "aa"
    assert action_to_sgf(1, 9) == "ba"  # column first
    assert action_to_sgf(9, 9) == "ab"  # row from the top
    assert action_to_sgf(81, 9) == ""
    assert sgf_to_action("", 9) == 81
    assert sgf_to_action("tt", 9) == 81
    assert sgf_to_action("tt", 19) == 361
    assert sgf_to_action("tt", 21) == 19 * 21 + 19  # a real point on boards above 19
    assert sgf_to_action("ee", 9) == 40


def test_rc() -> None:
    assert action_to_rc(10, 9) == (1, 1)
    assert action_to_rc(81, 9) is None
    assert rc_to_action(8, 0, 9) == 72
    with pytest.raises(ValueError, match="off a 9x9 board"):
        rc_to_action(9, 0, 9)


@pytest.mark.parametrize("bad", ["I5", "Z1", "A0", "A10", "", "5A", "A", "pas", "A-1", "AA1"])
def test_malformed_gtp_names_valid_range(bad: str) -> None:
    with pytest.raises(ValueError) as err:
        gtp_to_action(bad, 9)
    assert "A..J" in str(err.value) and "1..9" in str(err.value) and repr(bad) in str(err.value)


@pytest.mark.parametrize("bad", ["j", "jj", "a", "abc", "A1", "zz"])
def test_malformed_sgf_names_valid_range(bad: str) -> None:
    with pytest.raises(ValueError, match=r"valid: two letters in a\.\.i"):
        sgf_to_action(bad, 9)


def test_out_of_range_action() -> None:
    with pytest.raises(ValueError, match=r"valid actions are 0\.\.80 \(points\) and 81 \(pass\)"):
        action_to_gtp(82, 9)
    with pytest.raises(ValueError, match="out of range"):
        action_to_sgf(-1, 9)


def test_bad_board_size() -> None:
    with pytest.raises(ValueError, match="1..25"):
        action_to_gtp(0, 26)
