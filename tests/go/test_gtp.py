"""GTP v2: our engine front end (framing, errors, board state after play/undo, scoring) and the client that
drives engines as subprocesses (including our own ``python -m zoo.gtp``)."""

from __future__ import annotations

import io
import sys
import time

import numpy as np
import pytest

from envs.go.coords import gtp_to_action
from envs.go.state import BLACK, WHITE, GoState
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
        ("play b C3", "? illegal move\n\n"),  # not black's turn: colours alternate
        ("play w Z9", "? invalid color or coordinate\n\n"),
        ("play purple C3", "? invalid color\n\n"),
        ("play w", "? invalid color or coordinate\n\n"),
        ("play\tw\tC3", "= \n\n"),  # tabs are spaces
        ("final_score", "= W+0.5\n\n"),  # one stone each, the rest is shared: 1 - 1 - 0.5
        ("time_settings 300 30 5", "= \n\n"),
        ("time_left b 120 0", "= \n\n"),
        ("time_left b soon 0", "? syntax error: expected time_left color time stones (integers >= 0)\n\n"),
        ("final_status_list dead", "= \n\n"),
        ("final_status_list alive", "= D4 C3\n\n"),
        ("final_status_list sick", "? invalid status: expected alive, dead or seki\n\n"),
    ])
    assert engine.state.move_count == 2


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


def test_genmove_plays_for_the_side_to_move() -> None:
    engine = GtpEngine(CapturePlayer(seed=1))
    engine.handle("boardsize 9")
    reply = engine.handle("genmove b")
    vertex = reply[2:].strip()
    assert reply.startswith("= ") and engine.state.move_count == 1
    assert engine.state.board.reshape(-1)[gtp_to_action(vertex, 9)] == BLACK
    assert engine.handle("genmove b").startswith("? it is white's turn")
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
    assert engine.handle("boardsize 9") == "? unacceptable size\n\n"
    assert engine.handle("boardsize 5").startswith("=")
    assert engine.handle("genmove b").startswith("= ")
    assert seen == [(5, 5, 5)]  # 2 * history + 1 planes on 5x5
