"""Our GTP engine against GNU Go, the reference GTP engine: the same command lines to both, the answers compared.

Compared are the deterministic answers: whether a command succeeds (``=``/``?``), the stones on the board
(``list_stones``), handicap vertices, ``final_score`` of a settled position, the position of a ``printsgf``
record parsed back, and the colour to move after ``loadsgf``. Not compared: ``genmove`` vertices (each engine
chooses its own; a generated move is taken back with ``undo`` before comparing boards), ``place_free_handicap``
points (the engine's choice), and error texts where GNU Go 3.8 departs from the GTP v2 texts we answer
(``invalid handicap`` for ``invalid number of stones``, ``repeated vertex`` for ``bad vertex list``). GNU Go
leaves stones of a refused ``set_free_handicap`` on the board, so each refusal is followed by ``clear_board``.
Skipped when GNU Go is not installed.
"""

from __future__ import annotations

import pytest

from envs.go.coords import action_to_gtp
from envs.go.sgf import parse_sgf
from envs.go.state import BLACK, WHITE
from zoo.play.gtp_client import GtpClient, GtpError, find_gnugo, gnugo_argv
from zoo.play.gtp_engine import GtpEngine
from zoo.play.players import RandomPlayer

GNUGO = find_gnugo()
pytestmark = pytest.mark.skipif(GNUGO is None, reason="GNU Go not installed (apt-get install gnugo; Debian puts it "
                                                      "at /usr/games/gnugo)")

KO = ["play b B4", "play b A3", "play b B2", "play w C4", "play w B3", "play w D3", "play w C2"]


@pytest.fixture
def pair():
    with GtpClient(gnugo_argv(level=1, seed=1, chinese_rules=True), timeout=30) as gnugo:
        yield GtpEngine(RandomPlayer(seed=0)), gnugo


def ours(engine: GtpEngine, line: str) -> tuple[bool, str]:
    reply = engine.handle(line)
    return reply[0] == "=", reply[1:].lstrip("0123456789").strip()


def theirs(gnugo: GtpClient, line: str) -> tuple[bool, str]:
    try:
        return True, gnugo.send(line)
    except GtpError as e:
        return False, str(e).split("with error: ", 1)[-1]


def both(pair, line: str) -> tuple[tuple[bool, str], tuple[bool, str]]:
    engine, gnugo = pair
    return ours(engine, line), theirs(gnugo, line)


def agree(pair, lines: list[str], texts: bool = True) -> None:
    """Each line succeeds or fails on both engines alike (and answers the same text, when ``texts``)."""
    for line in lines:
        a, b = both(pair, line)
        assert a[0] == b[0], (line, a, b)
        if texts:
            assert a[1] == b[1], (line, a, b)


def same_stones(pair) -> set[str]:
    black, white = both(pair, "list_stones black"), both(pair, "list_stones white")
    for a, b in (black, white):
        assert set(a[1].split()) == set(b[1].split()), (a, b)
    return set(black[0][1].split()) | set(white[0][1].split())


def test_fixed_handicap_vertices_match_gnugo(pair) -> None:
    for size in range(2, 20):
        agree(pair, [f"boardsize {size}"])
        for stones in range(1, 11):
            agree(pair, ["clear_board"])
            (ok, vertices), (gg_ok, gg_vertices) = both(pair, f"fixed_handicap {stones}")
            assert ok == gg_ok, (size, stones, vertices, gg_vertices)
            if ok:
                assert vertices == gg_vertices, (size, stones)
                assert pair[0].state.to_play == WHITE
                agree(pair, ["undo"])  # handicap stones are not moves: "cannot undo" on both
                agree(pair, [f"fixed_handicap {stones}"])  # "board not empty" on both
            else:
                assert vertices == "invalid number of stones" and gg_vertices == "invalid handicap"


def test_free_handicap_matches_gnugo(pair) -> None:
    agree(pair, ["boardsize 9", "clear_board", "set_free_handicap E5 C3 G7", "play w C7", "play w G3"])
    assert same_stones(pair) == {"E5", "C3", "G7", "C7", "G3"}
    agree(pair, ["undo", "undo", "undo", "set_free_handicap A1 B2"])  # cannot undo; board not empty
    for bad in ("A1", "A1 A1", "A1 Z9", "A1 pass"):
        agree(pair, ["clear_board", f"set_free_handicap {bad}", "clear_board"], texts=False)
    agree(pair, ["place_free_handicap 4"], texts=False)
    black = both(pair, "list_stones black")
    assert len(black[0][1].split()) == len(black[1][1].split()) == 4


def test_moves_out_of_turn_match_gnugo(pair) -> None:
    agree(pair, ["boardsize 9", "clear_board", "komi 0.5", *KO])
    agree(pair, ["play b C3", "play w B3", "play w E1", "play w B3"])  # ko taken, retake refused, then legal
    assert same_stones(pair) == {"B4", "A3", "B2", "C4", "B3", "D3", "C2", "E1"}
    agree(pair, ["play b J1", "play w J2", "play w H1", "play b J1"])  # capture by two white moves; suicide
    for colour in ("b", "b", "w", "w"):  # genmove for either colour, whoever is to move; undo takes it back
        (ok, vertex), (gg_ok, gg_vertex) = both(pair, f"genmove {colour}")
        assert ok and gg_ok and vertex in ours(pair[0], f"list_stones {colour}")[1].split()
        agree(pair, ["undo"])
        same_stones(pair)
    agree(pair, ["undo", "undo"])  # white's two moves around J1: the captured black stone is back
    assert "J1" in same_stones(pair)


def test_final_score_of_two_walls_built_by_one_colour_each(pair) -> None:
    agree(pair, ["boardsize 9", "clear_board", "komi 0.5"])
    agree(pair, [f"play b D{row}" for row in range(1, 10)] + [f"play w E{row}" for row in range(1, 10)])
    agree(pair, ["final_score"])  # W+9.5: columns A..D against E..J
    assert ours(pair[0], "final_score") == (True, "W+9.5")


def test_printsgf_parsed_back_gives_gnugos_position(pair) -> None:
    agree(pair, ["boardsize 9", "clear_board", "komi 0.5", "fixed_handicap 4", "play w E5", "play b D5",
                 "play b F5", "play w E6", "play w E4"])
    records = [parse_sgf(text) for (ok, text) in both(pair, "printsgf")]
    (mine, gg) = records
    assert (mine.size, mine.komi, mine.properties["HA"]) == (gg.size, gg.komi, gg.properties["HA"]) == (9, 0.5, ["4"])
    assert {action_to_gtp(a, 9) for a in mine.setup_black} == {"C7", "G7", "C3", "G3"}  # handicap stones: AB
    assert set(mine.setup_black) <= set(gg.setup_black) and not mine.setup_white
    # GNU Go writes the position as setup stones; ours writes setup and moves: replayed, the boards agree.
    replayed = {colour: set(stones) for colour, stones in ((BLACK, mine.setup_black), (WHITE, mine.setup_white))}
    for colour, action in mine.moves:
        replayed[colour].add(action)
    assert replayed == {BLACK: set(gg.setup_black), WHITE: set(gg.setup_white)}
    assert {action_to_gtp(a, 9) for a in replayed[BLACK]} == set(ours(pair[0], "list_stones black")[1].split())


def test_loadsgf_matches_gnugo(pair, tmp_path) -> None:
    path = tmp_path / "game.sgf"
    path.write_text("(;GM[1]FF[4]SZ[9]KM[6.5]AB[cc][gg]AW[cg];W[ee];B[ec];B[ce];W[gc];W[fd];B[ab])")
    engine, gnugo = pair
    for number in [None, *range(1, 9)]:
        line = f"loadsgf {path}" + ("" if number is None else f" {number}")
        (ok, _), (gg_ok, colour) = both(pair, line)
        assert ok and gg_ok
        assert engine.state.to_play == (BLACK if colour == "black" else WHITE), line
        same_stones(pair)
        assert engine.komi == 6.5
        undos = 0
        while both(pair, "undo") == ((True, ""), (True, "")):
            same_stones(pair)
            undos += 1
        assert undos == (6 if number is None else min(number - 1, 6)), line
        assert not ours(engine, "undo")[0] and not theirs(gnugo, "undo")[0]
    (ok, text), (gg_ok, gg_text) = both(pair, f"loadsgf {tmp_path / 'missing.sgf'}")
    assert not ok and not gg_ok and text.startswith("cannot load file: ")
