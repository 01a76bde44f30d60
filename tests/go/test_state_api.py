"""The public surface of GoState: constructors, properties, text forms and error messages."""

from __future__ import annotations

import numpy as np
import pytest

from envs.go.batch import GoBatch
from envs.go.game import GoGame
from envs.go.state import BLACK, EMPTY, WHITE, GoState, IllegalMoveError


def test_constants() -> None:
    assert (BLACK, WHITE, EMPTY) == (1, -1, 0)
    assert issubclass(IllegalMoveError, ValueError)


def test_new_state() -> None:
    s = GoState.new(9)
    assert (s.size, s.komi, s.history, s.max_moves) == (9, 7.5, 8, None)
    assert s.to_play == BLACK and s.move_count == 0 and s.passes == 0
    assert s.last_move is None and s.captures == (0, 0) and s.resigned is None and not s.is_terminal
    assert s.board.shape == (9, 9) and s.board.dtype == np.int8 and not s.board.any()
    mask = s.legal_mask()
    assert mask.shape == (82,) and mask.dtype == np.bool_ and mask.all()
    np.testing.assert_array_equal(s.legal_actions(), np.arange(82))
    assert s.legal_actions().dtype == np.int64
    assert s.features().shape == (17, 9, 9)


@pytest.mark.parametrize("size", [0, 1, 20, 2.5, "9"])
def test_bad_size(size: object) -> None:
    with pytest.raises(ValueError, match="board size must be an integer in 2..19"):
        GoState.new(size)  # type: ignore[arg-type]


@pytest.mark.parametrize("komi", [float("nan"), float("inf"), -float("inf"), 81.5, -1e9, "seven"])
def test_komi_must_be_finite_and_within_the_board(komi: object) -> None:
    for make in (lambda: GoState.new(9, komi=komi), lambda: GoBatch(2, 9, komi=komi), lambda: GoGame(9, komi=komi)):
        with pytest.raises(ValueError, match="komi must be a"):
            make()
    assert GoState.new(9, komi=-81).komi == -81.0 and GoState.new(9, komi="7.5").komi == 7.5


def test_bad_history_and_cap() -> None:
    with pytest.raises(ValueError, match="history"):
        GoState.new(9, history=0)
    with pytest.raises(ValueError, match="max_moves"):
        GoState.new(9, max_moves=-1)


def test_row_zero_is_the_top_and_actions_are_row_major() -> None:
    s = GoState.new(5)
    s.play(7)  # row 1, col 2
    assert s.board[1, 2] == BLACK and s.last_move == 7
    assert s.to_ascii().splitlines()[1] == "..X.."
    assert "C4" in str(s)  # GTP: column C, row 4 counted from the bottom


def test_ascii_round_trip_and_whitespace() -> None:
    text = "X.O\n.X.\nO.."
    s = GoState.from_ascii(text, to_play=WHITE, komi=0.5)
    assert s.to_ascii() == text and s.to_play == WHITE and s.komi == 0.5
    spaced = GoState.from_ascii("\n   X . O\n   . X .  \n\n   O . .\n")
    assert spaced.to_ascii() == text
    assert s.position_hash() == spaced.position_hash()


@pytest.mark.parametrize(
    "text, message",
    [
        ("X.\n.Z", "only 'X', 'O', '.'"),
        ("X..\n...", "square"),
        ("X", "board size"),
        ("XO\nOX", "without liberties"),
    ],
)
def test_bad_ascii(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GoState.from_ascii(text)


def test_illegal_move_messages_name_move_and_reason() -> None:
    s = GoState.new(9)
    s.play(0)
    with pytest.raises(IllegalMoveError, match=r"illegal move A9 \(action 0\): occupied"):
        s.play(0)
    with pytest.raises(IllegalMoveError, match=r"action 82\): out of range"):
        s.play(82)
    with pytest.raises(IllegalMoveError, match=r"action -1\): out of range"):
        s.play(-1)
    assert s.illegal_reason(82) == "out of range" and not s.is_legal(82) and not s.is_legal(-3)
    assert s.illegal_reason(1) is None and s.is_legal(1)
    t = GoState.from_ascii(".X\nX.", to_play=WHITE)
    with pytest.raises(IllegalMoveError, match=r"A2 \(action 0\): suicide"):
        t.play(0)
    assert t.move_count == 0 and t.to_play == WHITE  # a failed move changes nothing


def test_copy_keeps_everything() -> None:
    s = GoState.new(7, komi=6.5, history=4, max_moves=50)
    for a in (24, 25, 17, 49):
        s.play(a)
    t = s.copy()
    assert (t.size, t.komi, t.history, t.max_moves) == (7, 6.5, 4, 50)
    assert t.position_hash() == s.position_hash() and t.passes == 1 and t.last_move == 49
    np.testing.assert_array_equal(t.features(), s.features())
    np.testing.assert_array_equal(t.legal_mask(), s.legal_mask())


def test_mask_is_a_copy() -> None:
    s = GoState.new(5)
    m = s.legal_mask()
    m[:] = False
    assert s.legal_mask().all()


def test_hash_ignores_who_is_to_move_and_returns_after_capture() -> None:
    s = GoState.new(5)
    h0 = s.position_hash()
    s.play(25)
    assert s.position_hash() == h0
    s.play(0)
    assert s.position_hash() != h0
    assert GoState.new(5).position_hash() == h0  # the same in every state of one size
    assert GoState.new(6).position_hash() != h0


def test_long_game_grows_the_position_set() -> None:
    s = GoState.new(19)
    rng = np.random.default_rng(3)
    for _ in range(300):
        s.play(int(rng.choice(s.legal_actions()[:-1])))
    assert s.move_count == 300
