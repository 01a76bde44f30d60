"""GTP v2: our engine front end (framing, errors, board state after play/undo, scoring) and the client that
drives engines as subprocesses (including our own ``python -m zoo.gtp``)."""

from __future__ import annotations

import io
import sys
import time

import numpy as np
import pytest

from envs.go.coords import gtp_to_action
from envs.go.sgf import load_sgf, parse_sgf
from envs.go.state import BLACK, WHITE, GoState, vertex
from zoo.play.gtp_client import GtpClient, GtpError, GtpPlayer, referee_score, setup_position
from zoo.play.gtp_engine import GtpEngine, clean_line, score_text
from zoo.play.players import RESIGN, CapturePlayer, Player, RandomPlayer, make_player


class Resigner:
    name = "resigner"

    def select_move(self, state: GoState) -> int:
        return RESIGN


def session(engine: GtpEngine, transcript: list[tuple[str, str]]) -> None:
    """Feed each command line and compare the full response text (``""``: no response)."""
    for line, expected in transcript:
        assert engine.handle(line) == expected, line


def test_full_session_transcript() -> None:
    engine = GtpEngine(RandomPlayer(seed=0), name="zoo", version="9.9")
    session(engine, [
        ("protocol_version", "= 2\n\n"),
        ("1 name", "=1 zoo\n\n"),
        ("2 version", "=2 9.9\n\n"),
        ("known_command genmove", "= true\n\n"),
        ("known_command frobnicate", "= false\n\n"),
        ("frobnicate 1 2", "? unknown command\n\n"),
        ("17 frobnicate", "?17 unknown command\n\n"),
        ("", ""),
        ("   # only a comment", ""),
        ("boardsize 7 # trailing comment", "= \n\n"),
        ("boardsize 20", "? unacceptable size\n\n"),
        ("boardsize 1", "? unacceptable size\n\n"),
        ("boardsize seven", "? boardsize not an integer\n\n"),
        ("clear_board", "= \n\n"),
        ("komi 0.5", "= \n\n"),
        ("komi much", "? komi not a float\n\n"),
        ("3 play b D4", "=3 \n\n"),
        ("play w D4", "? illegal move\n\n"),  # occupied
        ("play b C5", "= \n\n"),  # black again: GTP lets either colour move
        ("play w Z9", "? invalid color or coordinate\n\n"),
        ("play purple C3", "? invalid color\n\n"),
        ("play w", "? invalid color or coordinate\n\n"),
        ("play\tw\tC3", "= \n\n"),  # tabs are spaces
        ("final_score", "= B+0.5\n\n"),  # two black stones, one white, the rest is shared: 2 - 1 - 0.5
        ("time_settings 300 30 5", "= \n\n"),
        ("time_left b 120 0", "= \n\n"),
        ("time_left b soon 0", "? syntax error: expected time_left color time stones (integers >= 0)\n\n"),
        ("final_status_list dead", "= \n\n"),
        ("final_status_list alive", "= C5 D4 C3\n\n"),
        ("final_status_list sick", "? invalid status: expected alive, dead or seki\n\n"),
    ])
    assert engine.state.move_count == 3


TIME_SETTINGS = "main_time byo_yomi_time stones (integers >= 0)"


@pytest.mark.parametrize("line,answer", [
    ("komi nan", "? komi must be a finite number within -49..49 on 7x7, got nan"),
    ("komi inf", "? komi must be a finite number within -49..49 on 7x7, got inf"),
    ("komi -1e9", "? komi must be a finite number within -49..49 on 7x7, got -1000000000.0"),
    ("komi 49", "= "),
    ("boardsize \u0663", "? boardsize not an integer"),  # an Arabic-Indic digit: str.isdigit says yes
    ("boardsize -5", "? boardsize not an integer"),
    ("boardsize 99999999999999999999", "? unacceptable size"),
    ("time_settings -300 30 5", f"? syntax error: expected time_settings {TIME_SETTINGS}"),
    ("time_settings 1e3 30 5", f"? syntax error: expected time_settings {TIME_SETTINGS}"),
    ("time_left b -5 0", "? syntax error: expected time_left color time stones (integers >= 0)"),
])
def test_numbers_from_the_controller_are_checked(line: str, answer: str) -> None:
    engine = GtpEngine(RandomPlayer(seed=0), size=7)
    assert engine.handle(line) == answer + "\n\n"
    assert engine.size == 7 and np.isfinite(engine.state.komi)


def test_a_komi_too_large_for_a_new_size_refuses_the_size_and_keeps_the_game() -> None:
    engine = GtpEngine(RandomPlayer(seed=0), size=9)
    session(engine, [("komi 60", "= \n\n"), ("play b E5", "= \n\n"),
                     ("boardsize 5", "? unacceptable size: komi 60 does not fit 5x5 (set a smaller komi first)\n\n")])
    assert engine.size == 9 and engine.state.move_count == 1 and engine.handle("final_score").startswith("= ")


def test_final_score_counts_area() -> None:
    engine = GtpEngine(RandomPlayer(seed=0))
    session(engine, [("boardsize 5", "= \n\n"), ("komi 0.5", "= \n\n"), ("play b C3", "= \n\n"),
                     ("final_score", "= B+24.5\n\n"), ("play w pass", "= \n\n"), ("play b B2", "= \n\n"),
                     ("play w A1", "= \n\n"), ("final_score", "= B+0.5\n\n")])
    assert score_text(0.0) == "0" and score_text(-3.5) == "W+3.5" and score_text(7.0) == "B+7"


def test_play_undo_replays_the_game() -> None:
    engine = GtpEngine(RandomPlayer(seed=0))
    engine.handle("boardsize 5")
    moves = ["b C3", "w C2", "b B2", "w pass", "b D2", "w A1", "b C1"]  # black captures C2
    for move in moves:
        assert engine.handle(f"play {move}") == "= \n\n", move
    assert engine.state.board[3, 2] == 0 and engine.state.captures == (1, 0)
    assert engine.handle("undo") == "= \n\n"
    assert engine.state.board[3, 2] == WHITE and engine.state.to_play == BLACK
    expected = GoState.new(5, komi=7.5)
    for move in moves[:-1]:
        expected.play(gtp_to_action(move.split()[1], 5))
    assert engine.state.position_hash() == expected.position_hash()
    for _ in range(len(moves) - 1):
        assert engine.handle("undo") == "= \n\n"
    assert engine.handle("undo") == "? cannot undo\n\n"
    assert engine.state.move_count == 0


def test_showboard_has_no_blank_lines() -> None:
    engine = GtpEngine(RandomPlayer(seed=0))
    engine.handle("play b E5")
    response = engine.handle("7 showboard")
    assert response.startswith("=7 \n   A B C D E F G H J\n") and response.endswith("\n\n")
    body = response[:-2]
    assert "\n\n" not in body and "(X)" in body


def test_genmove_plays_for_either_colour() -> None:
    engine = GtpEngine(CapturePlayer(seed=1))
    engine.handle("boardsize 9")
    reply = engine.handle("genmove b")
    vertex = reply[2:].strip()
    assert reply.startswith("= ") and engine.state.move_count == 1
    assert engine.state.board.reshape(-1)[gtp_to_action(vertex, 9)] == BLACK
    second = engine.handle("genmove b")[2:].strip()  # black again (white is to move): black plays, then white
    assert engine.state.board.reshape(-1)[gtp_to_action(second, 9)] == BLACK
    assert engine.state.to_play == WHITE and engine.state.move_count == 2
    resign = GtpEngine(Resigner())
    assert resign.handle("genmove black") == "= resign\n\n"
    assert resign.state.is_terminal and resign.handle("final_score") == "= W+R\n\n"
    assert resign.handle("undo") == "= \n\n" and not resign.state.is_terminal


def test_player_errors_keep_engine_running() -> None:
    class Broken:
        name = "broken"

        def select_move(self, state: GoState) -> int:
            raise RuntimeError("boom\nsecond line")

    engine = GtpEngine(Broken())
    assert engine.handle("5 genmove b") == "?5 internal error: RuntimeError: boom second line\n\n"
    assert engine.handle("name") == "= zoo\n\n"


def test_clean_line() -> None:
    assert clean_line("1 play\tb\x01 D4  # x\n") == "1 play b D4"


def test_serve_stops_at_quit() -> None:
    out = io.StringIO()
    engine = GtpEngine(RandomPlayer(seed=0))
    engine.serve(io.StringIO("name\n\nquit\nname\n"), out)
    assert out.getvalue() == "= zoo\n\n= \n\n"


def test_players_satisfy_protocol() -> None:
    for player in (RandomPlayer(0), CapturePlayer(0), make_player("capture", 3)):
        assert isinstance(player, Player)
    with pytest.raises(ValueError, match="valid: capture, random"):
        make_player("alphago")


def _zoo_engine(seed: int = 0, player: str = "random") -> GtpClient:
    return GtpClient([sys.executable, "-m", "zoo.gtp", "--player", player, "--seed", str(seed)], timeout=60)


def test_subprocess_engine_driven_by_client() -> None:
    with _zoo_engine(seed=3) as client:
        assert client.send("protocol_version") == "2"
        assert client.send("name") == "zoo"
        client.send("boardsize 5")
        client.send("komi 0.5")
        client.send("play b C3")
        with pytest.raises(GtpError, match="illegal move"):
            client.send("play w C3")
        board = client.send("showboard")
        assert "(X)" in board and "\n" in board
        vertex = client.send("genmove w")
        assert vertex == "pass" or gtp_to_action(vertex, 5) != 12
        assert client.send("final_score")[0] in "BW0"
        proc = client._proc
    assert proc.poll() is not None


def test_gtp_player_plays_a_game_through_the_client() -> None:
    rng = np.random.default_rng(0)
    with _zoo_engine(seed=5, player="capture") as client:
        player = GtpPlayer(client)
        assert player.name == "zoo"
        state = GoState.new(5, komi=0.5, max_moves=40)
        while not state.is_terminal:
            if state.to_play == BLACK:
                action = player.select_move(state)
            else:
                action = int(rng.choice(state.legal_actions()))
            state.play(action)
        player.sync(state)  # the opponent's last move
        # The engine followed the game move by move (one rebuild: the empty board), so its score is ours.
        assert player.rebuilds == 1
        assert client.send("final_score") == score_text(state.score())
        assert referee_score(client, state) == score_text(state.score())


def test_setup_position_rebuilds_board_without_captures() -> None:
    state = GoState.from_ascii(".XO..\nXXO..\nOOO..\n.....\n.....", to_play=BLACK, komi=0.5)
    with _zoo_engine() as client:
        setup_position(client, state)
        alive = client.send("final_status_list alive").split()
        assert sorted(alive) == sorted(["B5", "A4", "B4", "C5", "C4", "A3", "B3", "C3"])


def test_client_times_out_on_a_hanging_engine() -> None:
    client = GtpClient([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.5)
    start = time.monotonic()
    with pytest.raises(GtpError, match="no answer"):
        client.send("name")
    assert time.monotonic() - start < 10
    assert not client.alive
    client.close()


def test_client_reports_a_crashed_engine() -> None:
    client = GtpClient([sys.executable, "-c", "import sys; sys.stderr.write('oops\\n'); sys.exit(3)"], timeout=5)
    with pytest.raises(GtpError, match="oops|exit code 3|not running"):
        client.send("name")
    client.close()
    assert not client.alive


def test_a_fixed_size_player_gets_its_own_history_and_refuses_other_sizes() -> None:
    seen: list[tuple[int, int]] = []

    class Recorder(RandomPlayer):
        def select_move(self, state):  # noqa: ANN001, ANN202
            seen.append(state.features().shape)
            return super().select_move(state)

    engine = GtpEngine(Recorder(seed=0), size=5, history=2, sizes=(5,))
    assert engine.handle("boardsize 9") == "? unacceptable size: 9x9; this player plays 5x5 only\n\n"
    assert engine.handle("boardsize 5").startswith("=")
    assert engine.handle("genmove b").startswith("= ")
    assert seen == [(5, 5, 5)]  # 2 * history + 1 planes on 5x5


# -- GUI commands: moves out of turn, handicap, SGF ------------------------------------------------------------

KO_SETUP = ["b B4", "b A3", "b B2", "w C4", "w B3", "w D3", "w C2"]  # white B3 in atari at C3


def answers(engine: GtpEngine, lines: list[str]) -> list[str]:
    return [engine.handle(line)[:-2] for line in lines]


def stones(engine: GtpEngine, colour: str) -> set[str]:
    return set(engine.handle(f"list_stones {colour}")[2:].split())


def test_new_commands_are_listed() -> None:
    engine = GtpEngine(RandomPlayer(seed=0))
    listed = engine.handle("list_commands")[2:].split()
    for name in ("fixed_handicap", "place_free_handicap", "set_free_handicap", "loadsgf", "printsgf", "list_stones"):
        assert name in listed and engine.handle(f"known_command {name}") == "= true\n\n"


def test_one_colour_may_move_twice_and_superko_still_holds() -> None:
    engine = GtpEngine(RandomPlayer(seed=0))
    assert answers(engine, [f"play {m}" for m in KO_SETUP]) == ["= "] * 7
    assert engine.handle("play b C3") == "= \n\n" and "B3" not in stones(engine, "white")  # takes the ko
    assert engine.handle("play w B3") == "? illegal move\n\n"  # the retake recreates a position
    assert engine.handle("play b B3") == "= \n\n" and engine.state.to_play == WHITE  # black fills, out of turn
    assert engine.handle("undo") == "= \n\n" and engine.state.to_play == BLACK  # the undone move's colour
    assert answers(engine, ["play w E1", "play w B3"]) == ["= ", "= "]  # another position: the retake is legal
    assert "C3" not in stones(engine, "black") and engine.state.captures == (1, 1)
    with pytest.raises(ValueError, match="colour must be BLACK"):
        engine.state.set_to_play(0)


def test_fixed_handicap_places_the_standard_points() -> None:
    engine = GtpEngine(RandomPlayer(seed=0), size=19)
    assert engine.handle("fixed_handicap 2") == "= Q16 D4\n\n"
    assert engine.state.to_play == WHITE and engine.handle("undo") == "? cannot undo\n\n"
    assert engine.handle("fixed_handicap 2") == "? board not empty\n\n"
    engine.handle("clear_board")
    assert engine.handle("fixed_handicap 9") == "= D16 K16 Q16 D10 K10 Q10 D4 K4 Q4\n\n"
    session(engine, [("boardsize 9", "= \n\n"), ("fixed_handicap 3", "= C7 G7 C3\n\n"), ("clear_board", "= \n\n"),
                     ("fixed_handicap 5", "= C7 G7 E5 C3 G3\n\n"), ("boardsize 13", "= \n\n"),
                     ("fixed_handicap 4", "= D10 K10 D4 K4\n\n"), ("boardsize 8", "= \n\n"),
                     ("fixed_handicap 5", "? invalid number of stones\n\n"),
                     ("fixed_handicap 1", "? invalid number of stones\n\n"),
                     ("fixed_handicap two", "? syntax error: expected the number of handicap stones\n\n"),
                     ("boardsize 5", "= \n\n"), ("fixed_handicap 2", "? invalid number of stones\n\n")])


def test_free_handicap_placed_and_set() -> None:
    engine = GtpEngine(RandomPlayer(seed=0), size=5)
    session(engine, [("place_free_handicap 2", "= D4 B2\n\n"), ("set_free_handicap A1 B1", "? board not empty\n\n"),
                     ("clear_board", "= \n\n"), ("place_free_handicap 20", "= B4 D4 B2 D2\n\n"),
                     ("clear_board", "= \n\n"), ("place_free_handicap 25", "? invalid number of stones\n\n"),
                     ("place_free_handicap 1", "? invalid number of stones\n\n"),
                     ("set_free_handicap A1", "? bad vertex list: 1 stones (2..24)\n\n"),
                     ("set_free_handicap A1 A1", "? bad vertex list: A1 repeated\n\n"),
                     ("set_free_handicap A1 pass", "? bad vertex list: pass is not a handicap stone\n\n"),
                     ("set_free_handicap A1 Z9", "? bad vertex list: Z9 is not a vertex\n\n"),
                     ("list_stones black", "= \n\n"),  # a refused list places nothing
                     ("set_free_handicap C3 A1", "= \n\n"), ("list_stones black", "= C3 A1\n\n"),
                     ("play w B2", "= \n\n"), ("undo", "= \n\n"), ("undo", "? cannot undo\n\n")])
    assert engine.state.to_play == WHITE and engine.handicap == 2
    engine = GtpEngine(RandomPlayer(seed=0), size=3)
    assert engine.handle("place_free_handicap 2") == "? invalid number of stones\n\n"


def test_printsgf_writes_handicap_moves_and_result(tmp_path) -> None:
    engine = GtpEngine(Resigner(), size=9, komi=0.5)
    assert answers(engine, ["fixed_handicap 2", "play w E5", "play w D5", "genmove b"]) == [
        "= G7 C3", "= ", "= ", "= resign"]
    text = engine.handle("printsgf")[2:-2]
    assert text.startswith("(;FF[4]GM[1]") and "HA[2]" in text and "AB[gc][cg]" in text and "PL[W]" in text
    record = parse_sgf(text)
    assert record.result == "W+R" and record.size == 9 and record.komi == 0.5
    assert [(c, vertex(a, 9)) for c, a in record.moves] == [(WHITE, "E5"), (WHITE, "D5")]
    assert engine.handle(f"printsgf {tmp_path / 'game.sgf'}") == "= \n\n"
    assert load_sgf(tmp_path / "game.sgf").moves == record.moves
    assert engine.handle(f"printsgf {tmp_path / 'no' / 'game.sgf'}").startswith("? cannot save file: ")


def test_loadsgf_replays_a_record_and_undo_takes_its_moves_back(tmp_path) -> None:
    path = tmp_path / "game.sgf"
    path.write_text("(;GM[1]FF[4]SZ[9]KM[6.5]AB[cc][gg]AW[cg];W[ee];B[ec];B[ce];W[gc])")
    engine = GtpEngine(RandomPlayer(seed=0), size=5, komi=0.5)
    assert engine.handle(f"loadsgf {path}") == "= \n\n"
    assert engine.size == 9 and engine.komi == 6.5 and engine.state.to_play == BLACK
    assert stones(engine, "black") == {"C7", "E7", "C5", "G3"} and stones(engine, "white") == {"G7", "E5", "C3"}
    assert engine.handle("undo") == "= \n\n" and engine.state.to_play == WHITE and "G7" not in stones(engine, "white")
    assert engine.handle(f"loadsgf {path} 3") == "= \n\n"
    assert stones(engine, "black") == {"C7", "E7", "G3"} and engine.state.to_play == BLACK  # move 3 is black's
    assert engine.handle(f"loadsgf {path} 1") == "= \n\n" and engine.state.to_play == WHITE
    assert answers(engine, ["undo"]) == ["? cannot undo"]  # setup stones are not moves
    # printsgf and loadsgf agree: the record of a game loads back as the same game.
    answers(engine, [f"loadsgf {path}", "play w A1", "play w A2"])
    again = tmp_path / "again.sgf"
    engine.handle(f"printsgf {again}")
    other = GtpEngine(RandomPlayer(seed=0))
    assert other.handle(f"loadsgf {again}") == "= \n\n"
    assert other.moves == engine.moves and other.state.position_hash() == engine.state.position_hash()
    assert other.state.to_play == engine.state.to_play


def test_loadsgf_errors_are_one_line_and_keep_the_game(tmp_path) -> None:
    bad = tmp_path / "bad.sgf"
    bad.write_text("(;GM[1]FF[4]SZ[9]\n;B[ee];W[zz])")
    illegal = tmp_path / "illegal.sgf"
    illegal.write_text("(;SZ[9];B[ee];W[ee])")
    big = tmp_path / "big.sgf"
    big.write_text("(;SZ[19];B[dd])")
    engine = GtpEngine(RandomPlayer(seed=0), size=9, sizes=(9,))
    engine.handle("play b E5")
    replies = answers(engine, [f"loadsgf {tmp_path / 'missing.sgf'}", f"loadsgf {tmp_path}", f"loadsgf {bad}",
                               f"loadsgf {illegal}", f"loadsgf {big}", "loadsgf", f"loadsgf {bad} x"])
    assert replies[0] == f"? cannot load file: {tmp_path / 'missing.sgf'}: No such file or directory"
    assert replies[1].startswith(f"? cannot load file: {tmp_path}: ")
    assert replies[2].startswith(f"? cannot load file: {bad}: SGF error at line 2, column") and "'zz'" in replies[2]
    assert replies[3] == f"? cannot load file: {illegal}: move 2: illegal move E5 (action 40): occupied"
    assert replies[4] == f"? cannot load file: {big}: board size 19 (this engine plays 9)"
    assert replies[5] == replies[6] == "? syntax error: expected loadsgf FILE [MOVE_NUMBER >= 1]"
    assert all("\n" not in r for r in replies)
    assert stones(engine, "black") == {"E5"} and engine.moves == [(BLACK, gtp_to_action("E5", 9))]
