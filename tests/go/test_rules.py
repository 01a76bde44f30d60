"""Rules of Go on ASCII boards: captures, suicide, ko, positional superko, scoring, ending the game."""

from __future__ import annotations

import numpy as np
import pytest

from envs.go.state import BLACK, WHITE, GoState, IllegalMoveError


def pt(size: int, row: int, col: int) -> int:
    return row * size + col


def test_single_stone_capture() -> None:
    s = GoState.from_ascii(
        """
        .X...
        XO...
        .X...
        .....
        .....
        """
    )
    s.play(pt(5, 1, 2))
    assert s.board[1, 1] == 0 and s.captures == (1, 0)
    assert s.to_play == WHITE


def test_multi_stone_capture() -> None:
    s = GoState.from_ascii(
        """
        .XX..
        XOOX.
        .X...
        .....
        .....
        """
    )
    s.play(pt(5, 2, 2))
    assert s.board[1, 1] == 0 and s.board[1, 2] == 0 and s.captures == (2, 0)


def test_capture_of_two_groups_at_once() -> None:
    s = GoState.from_ascii(
        """
        XO.OX
        .X.X.
        .....
        .....
        .....
        """
    )
    s.play(pt(5, 0, 2))
    assert s.to_ascii().splitlines()[0] == "X.X.X"
    assert s.captures == (2, 0)


def test_multi_stone_suicide_illegal_and_capture_that_looks_like_suicide_legal() -> None:
    text = """
        .OX..
        OOX..
        XX...
        .....
        .....
        """
    white = GoState.from_ascii(text, to_play=WHITE)
    assert white.illegal_reason(0) == "suicide"
    with pytest.raises(IllegalMoveError, match="suicide"):
        white.play(0)
    black = GoState.from_ascii(text, to_play=BLACK)
    assert black.is_legal(0)
    black.play(0)
    assert black.captures == (3, 0)
    assert black.to_ascii().splitlines()[:2] == ["X.X..", "..X.."]


def test_single_stone_suicide_illegal() -> None:
    s = GoState.from_ascii(".X.\nX..\n...", to_play=WHITE)
    assert s.illegal_reason(0) == "suicide" and not s.legal_mask()[0]
    assert s.illegal_reason(1) == "occupied"


def test_eye_filling_is_legal() -> None:
    s = GoState.from_ascii(".X...\nXX...\n.....\n.....\n.....")
    assert s.is_legal(0)
    s.play(0)
    assert s.board[0, 0] == BLACK


def test_simple_ko() -> None:
    s = GoState.from_ascii(
        """
        .XO..
        XO.O.
        .XO..
        .....
        .....
        """
    )
    s.play(pt(5, 1, 2))  # black takes the ko
    assert s.board[1, 1] == 0
    assert s.illegal_reason(pt(5, 1, 1)) == "superko"
    with pytest.raises(IllegalMoveError, match=r"B4 \(action 6\): superko"):
        s.play(pt(5, 1, 1))
    s.play(pt(5, 4, 4))  # white plays elsewhere (a ko threat)
    s.play(pt(5, 4, 0))  # black answers
    assert s.is_legal(pt(5, 1, 1))  # now white may retake
    s.play(pt(5, 1, 1))
    assert s.board[1, 2] == 0 and s.captures == (1, 1)


# Three kos on a 9x9 board: K1 (rows 0-2, cols 0-3) and K2 (rows 0-2, cols 5-8) hold a white stone in the ko
# (black may take), K3 (rows 4-6, cols 0-3) holds a black stone in the ko (white may take).
TRIPLE_KO = """
    .XO...XO.
    XO.O.XO.O
    .XO...XO.
    .........
    .XO......
    X.XO.....
    .XO......
    .........
    .........
"""
B_K1, W_K1 = pt(9, 1, 2), pt(9, 1, 1)
B_K2, W_K2 = pt(9, 1, 7), pt(9, 1, 6)
B_K3, W_K3 = pt(9, 5, 2), pt(9, 5, 1)
PASS = 81


def test_triple_ko_cycle_is_rejected_by_superko() -> None:
    s = GoState.from_ascii(TRIPLE_KO)
    start = s.position_hash()
    for a in (B_K1, W_K3, B_K2, W_K1, B_K3):  # each takes a ko; none retakes the ko just taken
        s.play(a)
    assert s.captures == (3, 2)
    # White's retake of K2 is not a simple-ko violation (black's last capture was in K3), but it would
    # recreate the starting position six moves back.
    assert s.illegal_reason(W_K2) == "superko"
    assert not s.legal_mask()[W_K2]
    with pytest.raises(IllegalMoveError, match="superko"):
        s.play(W_K2)
    assert s.position_hash() != start


def test_superko_is_positional_whoever_is_to_move() -> None:
    s = GoState.from_ascii(TRIPLE_KO)
    start = s.position_hash()
    for a in (B_K1, W_K3, B_K2, W_K1, PASS, W_K2):
        s.play(a)
    # Taking K3 would recreate the start position with white (not black) to move: still forbidden.
    assert s.to_play == BLACK
    assert s.illegal_reason(B_K3) == "superko"
    t = s.copy()
    t.play(PASS)  # passes never violate superko, and the position stays
    assert t.position_hash() == s.position_hash() != start


def test_seki_neutral_points_count_for_nobody() -> None:
    # One white and one black chain share the only two liberties (a seki); both are neutral points.
    s = GoState.from_ascii(
        """
        OOOXX
        OXOXX
        OXO.X
        OXOXX
        .XXXX
        """,
        komi=0.5,
    )
    assert s.area() == 14 - 9
    assert s.score() == 14 - 9 - 0.5
    assert s.is_legal(pt(5, 2, 3)) and s.is_legal(pt(5, 4, 0))  # self-atari, not suicide


def test_territory_and_komi() -> None:
    s = GoState.from_ascii(".X.O.\n.X.O.\n.X.O.\n.X.O.\n.X.O.", komi=7.5)
    # Black: 5 stones + column 0; white: 5 stones + column 4; column 2 touches both (neutral).
    assert s.area() == 0
    assert s.score() == -7.5 and s.winner() == WHITE
    t = GoState.from_ascii("XX.O.\nXX.O.\nXX.O.\nXX.O.\nXX.O.", komi=0)
    assert t.score() == 0 and t.winner() == 0  # integer komi: a draw


def test_two_passes_end_the_game_and_play_after_raises() -> None:
    s = GoState.new(5, komi=0.5)
    s.play(12)
    s.play(25)
    assert s.passes == 1 and not s.is_terminal
    s.play(25)
    assert s.is_terminal and s.passes == 2
    assert s.score() == 25 - 0.5 and s.winner() == BLACK
    assert not s.legal_mask().any() and len(s.legal_actions()) == 0
    assert s.illegal_reason(0) == "game is over"
    with pytest.raises(IllegalMoveError, match="game is over"):
        s.play(0)
    with pytest.raises(IllegalMoveError, match="game is over"):
        s.play(25)


def test_pass_then_move_resets_consecutive_passes() -> None:
    s = GoState.new(5)
    s.play(25)
    s.play(0)
    s.play(25)
    assert s.passes == 1 and not s.is_terminal and s.last_move == 25


def test_move_cap_ends_and_scores() -> None:
    s = GoState.new(5, komi=0.5, max_moves=3)
    s.play(0)
    s.play(24)
    assert not s.is_terminal
    s.play(12)
    assert s.is_terminal and s.move_count == 3
    assert s.score() == 2 - 1 - 0.5 and s.winner() == BLACK
    assert GoState.new(3, max_moves=0).is_terminal


def test_resignation() -> None:
    s = GoState.new(9)
    s.play(40)
    s.resign()  # white resigns
    assert s.is_terminal and s.resigned == WHITE and s.winner() == BLACK
    assert not s.legal_mask().any()
    with pytest.raises(IllegalMoveError, match="game is over"):
        s.play(0)
    with pytest.raises(IllegalMoveError):
        s.resign()


def test_two_sizes_interleaved_in_one_process() -> None:
    a, b = GoState.new(9), GoState.new(13)
    rng = np.random.default_rng(0)
    for _ in range(60):
        for s in (a, b):
            s.play(int(rng.choice(s.legal_actions()[:-1])))
    assert a.board.shape == (9, 9) and b.board.shape == (13, 13)
    assert a.legal_mask().shape == (82,) and b.legal_mask().shape == (170,)
    assert (a.board != 0).sum() + sum(a.captures) == 60 and (b.board != 0).sum() + sum(b.captures) == 60
    assert GoState.new(2).legal_mask().shape == (5,) and GoState.new(19).legal_mask().shape == (362,)
