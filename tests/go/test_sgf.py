"""SGF FF[4]: parsing real-world-looking files, writing, round trips, replay into GoState, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from envs.go.sgf import (
    GameRecord,
    SgfError,
    load_sgf,
    parse_sgf,
    record_from_actions,
    record_to_state,
    result_string,
    save_sgf,
    write_sgf,
)
from envs.go.state import BLACK, WHITE, GoState

# A file as a server or editor writes it: comments with escaped brackets, unknown properties, a variation,
# FF[3] pass as tt, a soft line break, whitespace everywhere.
REAL = r"""garbage before the tree is ignored
(;FF[4]GM[1]SZ[9]CA[UTF-8]AP[SomeEditor:1.2]
KM[6.5]RU[Japanese]PB[Alice [3d\]]PW[Bob\\Smith]RE[W+R]DT[2024-01-02]
GC[a long \
comment]XX[unknown][values]
;B[ee]C[first move \] with bracket]BL[300]
;W[cc]WL[299]
(;B[gg];W[tt]
;B[gc]
)
(;B[cg]C[a variation, ignored]
(;W[gg])(;W[gc]))
)
(;FF[4]GM[1]SZ[19];B[aa])
"""


def test_parse_real_world_file() -> None:
    rec = parse_sgf(REAL)
    assert rec.size == 9 and rec.komi == 6.5 and rec.rules == "Japanese" and rec.result == "W+R"
    assert rec.black == "Alice [3d]" and rec.white == "Bob\\Smith"
    assert rec.moves == [(BLACK, 40), (WHITE, 20), (BLACK, 60), (WHITE, 81), (BLACK, 24)]
    assert rec.properties["XX"] == ["unknown", "values"]
    assert rec.properties["GC"] == ["a long comment"]
    assert rec.properties["DT"] == ["2024-01-02"] and rec.properties["AP"] == ["SomeEditor:1.2"]
    assert "FF" not in rec.properties and "B" not in rec.properties


def test_minimal_and_defaults() -> None:
    rec = parse_sgf("(;)")
    assert rec == GameRecord()
    rec = parse_sgf(b"(;GM[1]SZ[5];B[];W[])")
    assert rec.size == 5 and rec.moves == [(BLACK, 25), (WHITE, 25)]


def test_setup_stones_compressed_and_pl() -> None:
    rec = parse_sgf("(;SZ[9]HA[2]AB[cc][gg]AW[ac:bd]PL[W];W[ee])")
    assert rec.setup_black == [20, 60]
    assert rec.setup_white == [18, 19, 27, 28]
    assert rec.first_player == WHITE and rec.properties["HA"] == ["2"]
    state = record_to_state(rec)
    assert state.board[2, 2] == BLACK and state.board[3, 1] == WHITE and state.board[4, 4] == WHITE
    assert state.to_play == BLACK and state.move_count == 1


def test_lowercase_ident_letters_dropped() -> None:
    rec = parse_sgf("(;GaMe[1]SiZe[9]AddBlack[aa];Black[bb])")
    assert rec.size == 9 and rec.setup_black == [0] and rec.moves == [(BLACK, 10)]


def test_write_then_parse_round_trip() -> None:
    rec = GameRecord(
        size=9, komi=7.5, rules="Chinese", result="B+3.5", black="x]y", white="back\\slash",
        setup_black=[0, 80], setup_white=[8], moves=[(BLACK, 40), (WHITE, 81), (BLACK, 41)],
        properties={"C": ["multi\nline ] comment"], "HA": ["2"]},
    )
    text = write_sgf(rec)
    assert ";W[]" in text and "RE[B+3.5]" in text and "x\\]y" in text and text.startswith("(;FF[4]GM[1]")
    back = parse_sgf(text)
    assert back.properties.pop("AP") == ["zoo:0.1"]
    assert back == rec
    assert write_sgf(parse_sgf(text)) == text


def test_real_file_round_trip_keeps_main_line() -> None:
    rec = parse_sgf(REAL)
    again = parse_sgf(write_sgf(rec))
    assert again == rec


def test_save_and_load_atomic(tmp_path) -> None:
    rec = record_from_actions([40, 41, 81, 81], 9, komi=7.5, black="a", white="b")
    path = tmp_path / "game.sgf"
    save_sgf(path, rec)
    assert load_sgf(path) == parse_sgf(path.read_text())
    assert load_sgf(path).moves == rec.moves
    assert [p.name for p in tmp_path.iterdir()] == ["game.sgf"]  # no temporary left behind
    (tmp_path / "bad.sgf").write_text("(;SZ[9];B[zz])")
    with pytest.raises(SgfError, match="bad.sgf"):
        load_sgf(tmp_path / "bad.sgf")


def test_record_from_actions_sets_result() -> None:
    rec = record_from_actions([40, 81, 81], 9, komi=7.5)
    assert rec.result == "B+73.5" and rec.rules == "Chinese"
    assert record_from_actions([40], 9).result is None
    assert record_from_actions([12, 25, 25], 5, komi=25.0).result == "0"


def test_result_string_resign() -> None:
    s = GoState.new(9)
    s.play(40)
    s.resign()
    assert result_string(s) == "B+R"


def test_replay_matches_direct_play() -> None:
    rng = np.random.default_rng(3)
    state = GoState.new(9)
    actions = []
    while not state.is_terminal and len(actions) < 150:
        a = int(rng.choice(state.legal_actions()))
        actions.append(a)
        state.play(a)
    replayed = record_to_state(parse_sgf(write_sgf(record_from_actions(actions, 9))))
    assert np.array_equal(replayed.board, state.board)
    assert replayed.position_hash() == state.position_hash() and replayed.to_play == state.to_play


def test_illegal_move_names_move_number() -> None:
    with pytest.raises(SgfError, match=r"move 3 B\[ee\] is illegal: .*occupied"):
        record_to_state(parse_sgf("(;SZ[9];B[ee];W[cc];B[ee])"))
    with pytest.raises(SgfError, match="move 2 B.*twice"):
        record_to_state(parse_sgf("(;SZ[9];B[ee];B[cc])"))
    with pytest.raises(SgfError, match="2..19"):
        record_to_state(parse_sgf("(;SZ[21];B[aa])"))


@pytest.mark.parametrize(
    "text,where,what",
    [
        ("", None, "no game tree"),
        ("(;SZ[9]\n;B[ee]", "line 2", "not closed"),
        ("(;SZ[9]\n;B[ee", "line 2, column 3", r"'\[' is never closed"),
        ("(;SZ[9];B[ee])\n", None, None),
        ("(;SZ[9]\n  ;B [ee] W)", "line 2, column 12", "W has no value"),
        ("(;SZ[9];B[zz])", "line 1, column 9", r"move 1: malformed SGF point 'zz'"),
        ("(;SZ[9]AB[aa:zz])", "line 1, column 8", "AB"),
        ("(SZ[9])", "line 1, column 2", "outside a node"),
        ("(;SZ[9]())", "line 1, column 9", "empty game tree"),
        ("(;SZ[9](;B[aa]);W[bb])", "line 1, column 16", "after a variation"),
        ("(;SZ[9]$)", "line 1, column 8", "unexpected character"),
        ("(;GM[2])", "line 1, column 3", "not a Go game"),
        ("(;SZ[9:7])", "line 1, column 3", "square"),
        ("(;KM[six])", "line 1, column 3", "KM"),
        ("(;SZ[9]KM[nan])", "line 1, column 8", r"KM\[nan\]: komi must be a finite number within -81..81"),
        ("(;SZ[9]KM[inf])", "line 1, column 8", "KM"),
        ("(;SZ[9]KM[-1e9])", "line 1, column 8", "SZ\\[9\\]"),
        ("(;SZ[9]KM[81])", None, None),
        ("(;SZ[9];B[aa];AB[bb])", "line 1, column 15", "after the first move"),
        ("(;SZ[9];B[aa]W[bb])", "line 1, column 8", "both a B and a W"),
    ],
)
def test_malformed_files_name_position(text: str, where: str | None, what: str | None) -> None:
    if what is None:
        parse_sgf(text)
        return
    with pytest.raises(SgfError, match=what) as err:
        parse_sgf(text)
    assert isinstance(err.value, ValueError)
    if where:
        assert where in str(err.value)
    assert "\n" not in str(err.value)
