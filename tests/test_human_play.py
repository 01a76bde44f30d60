"""Playing Go in the terminal (``python -m zoo.play_go --human``, :mod:`zoo.play.human`): games driven through
input and output streams, against scripted bots, the built-in ``capture`` bot and the committed 5x5 net."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from envs.go.coords import gtp_to_action
from envs.go.sgf import load_sgf
from envs.go.state import BLACK, WHITE, GoState
from zoo.play import go_eval
from zoo.play.human import HumanGame, HumanOptions, area_counts, parse_input, play_human
from zoo.play.players import RESIGN

ROOT = Path(__file__).resolve().parent.parent
GO5_NET = ROOT / "pretrained" / "go5-zero-13min.pt"


class ScriptedBot:
    """Plays the given GTP vertices in order, then passes (or resigns, with ``then=RESIGN``)."""

    def __init__(self, *vertices: str, then: int | None = None) -> None:
        self.name, self.vertices, self.then = "scripted", list(vertices), then

    def select_move(self, state: GoState) -> int:
        if self.vertices:
            return gtp_to_action(self.vertices.pop(0), state.size)
        return state.size * state.size if self.then is None else self.then

    def reset(self) -> None:
        pass

    def reseed(self, seed: int) -> None:
        pass


def play(bot: object, lines: list[str], human: int = BLACK, state: GoState | None = None
         ) -> tuple[HumanGame, str]:
    out = io.StringIO()
    game = HumanGame(bot, state or GoState.new(5, komi=0.5), human, io.StringIO("".join(f"{x}\n" for x in lines)),
                     out, opponent_name="bot")
    game.play()
    return game, out.getvalue()


def test_parse_input_reads_vertices_and_commands_in_any_case() -> None:
    assert parse_input("D4", 9).action == parse_input(" d4 \n", 9).action == gtp_to_action("D4", 9)
    assert parse_input("PASS", 9).action == 81 and parse_input("pass", 9).kind == "move"
    assert [parse_input(w, 9).kind for w in ("Undo", "resign", "HELP", "quit")] == ["undo", "resign", "help", "quit"]
    for bad, reason in (("I5", "malformed"), ("Z9", "malformed"), ("J10", "off a 9x9 board"), ("hello", "malformed")):
        with pytest.raises(ValueError, match=reason) as info:
            parse_input(bad, 9)
        assert "or 'pass'; or undo, resign, help, quit" in str(info.value)


def test_area_counts_match_the_engine() -> None:
    rng = np.random.default_rng(0)
    for _ in range(30):
        state = GoState.new(7, komi=0.0)
        for _ in range(int(rng.integers(0, 60))):
            if state.is_terminal:
                break
            state.play(int(rng.choice(np.flatnonzero(state.legal_mask()))))
        black, white = area_counts(state.board)
        assert black - white == state.area()


def test_two_passes_end_the_game_with_the_area_score(tmp_path: Path) -> None:
    game, out = play(ScriptedBot(), ["c3", "pass"])
    assert game.state.is_terminal and game.result() == "B+24.5"  # black C3 owns all 25 points, komi 0.5
    assert "result: B+24.5, you win: two passes, area count black 25, white 0, komi 0.5" in out
    assert game.record().moves == [(BLACK, 12), (WHITE, 25), (BLACK, 25)]


def test_every_turn_shows_the_board_with_coordinates_last_move_captures_and_score() -> None:
    _, out = play(ScriptedBot("B2"), ["c3", "quit"])
    assert "   A B C D E" in out and " 3 . . X . . 3" in out and " 2 .(O). . . 2" in out
    assert "black (X) to play; move 2; captures: black 0, white 0; last move B2" in out
    assert "area count: W+0.5 (black 1, white 1, komi 0.5; every stone counted alive)" in out  # one neutral region


def test_bad_input_reprompts_with_the_reason_and_the_game_goes_on() -> None:
    ko = GoState.from_ascii("""
        . X O . .
        X O . O .
        . X O . .
        X . . . .
        . X . . .""", to_play=BLACK, komi=0.5)
    game, out = play(ScriptedBot("C4"), ["Z9", "F1", "hello", "", "B3", "A1", "B4", "undo", "E1", "quit"],
                     human=WHITE, state=ko)
    assert "not a move: malformed GTP vertex 'Z9' for a 5x5 board; valid: a column A..E (no I) then a row 1..5" in out
    assert "not a move: GTP vertex 'F1' is off a 5x5 board" not in out  # F is no column of 5x5: malformed
    assert "not a move: malformed GTP vertex 'F1'" in out and "malformed GTP vertex 'hello'" in out
    assert "B3 is illegal (occupied); try another move" in out
    assert "A1 is illegal (suicide); try another move" in out
    assert "B4 is illegal (superko); try another move" in out
    assert "nothing to undo: you have not moved yet" in out
    assert game.moves == [(BLACK, gtp_to_action("C4", 5)), (WHITE, gtp_to_action("E1", 5)), (BLACK, 25)]
    assert game.stopped == "quit" and game.result() is None


def test_off_board_row_is_named() -> None:
    _, out = play(ScriptedBot(), ["A6", "quit"])
    assert "not a move: GTP vertex 'A6' is off a 5x5 board" in out


def test_undo_takes_back_the_humans_move_and_the_reply() -> None:
    after_first = GoState.new(5, komi=0.5)
    for vertex in ("C3", "B2"):
        after_first.play(gtp_to_action(vertex, 5))
    game, out = play(ScriptedBot("B2", "D2", "B4"), ["c3", "d4", "undo", "quit"])
    assert "took back B D4, W D2" in out
    assert game.state.to_ascii() == after_first.to_ascii() and game.state.move_count == 2
    assert game.state.to_play == BLACK and game.state.last_move == gtp_to_action("B2", 5)
    assert game.moves == [(BLACK, gtp_to_action("C3", 5)), (WHITE, gtp_to_action("B2", 5))]
    # the game goes on from there; the record holds the moves that stand
    game, out = play(ScriptedBot("B2", "D2", "B4"), ["c3", "d4", "undo", "e5", "pass"])
    assert [a for _, a in game.moves] == [gtp_to_action(v, 5) for v in ("C3", "B2", "E5", "B4")] + [25, 25]


def test_resignation_ends_the_game_with_the_right_winner() -> None:
    game, out = play(ScriptedBot("B2"), ["c3", "resign"])
    assert game.result() == "W+R"
    assert "result: W+R, bot wins: black resigned (area count then W+0.5: black 1, white 1, komi 0.5)" in out
    game, out = play(ScriptedBot("B2"), ["c3", "resign"], human=WHITE)  # the bot is black: C3 is white's
    assert game.result() == "B+R" and "result: B+R, bot wins: white resigned" in out
    game, out = play(ScriptedBot(then=RESIGN), ["c3"])
    assert game.result() == "B+R" and "bot (white (O)) resigns" in out and "result: B+R, you win" in out


def test_end_of_input_and_ctrl_c_stop_the_game_keeping_the_moves(tmp_path: Path) -> None:
    game, out = play(ScriptedBot("B2"), ["c3"])
    assert game.stopped == "end of input" and "game stopped (end of input) after 2 moves; no result" in out

    class Interrupted(ScriptedBot):
        def select_move(self, state: GoState) -> int:
            raise KeyboardInterrupt

    game, out = play(Interrupted(), ["c3"])
    assert game.stopped == "Ctrl-C" and game.moves == [(BLACK, gtp_to_action("C3", 5))]


def test_a_game_against_capture_is_saved_as_sgf_that_reads_back(tmp_path: Path) -> None:
    sgf = tmp_path / "game.sgf"
    out = io.StringIO()
    record = play_human(HumanOptions(opponent="capture", board=5, sgf=str(sgf), seed=3),
                        io.StringIO("pass\n" * 40), out)
    text = out.getvalue()
    # black only passes: capture fills the board but its eyes and passes; all 25 points are white's
    assert record.result == "W+49"
    assert "result: W+49, capture wins: two passes, area count black 0, white 25, komi 24" in text
    assert f"saved {len(record.moves)} moves to {sgf}" in text
    back = load_sgf(sgf)
    assert back.moves == record.moves and back.result == "W+49" and (back.size, back.komi) == (5, 24.0)
    assert (back.black, back.white) == ("human", "capture")
    said = [line.rpartition(" plays ")[2] for line in text.splitlines() if line.startswith("capture (white (O)) plays")]
    assert [gtp_to_action(v, 5) for v in said] == [a for c, a in back.moves if c == WHITE]


def test_the_committed_net_plays_either_colour_on_its_own_board(tmp_path: Path) -> None:
    sgf = tmp_path / "net.sgf"
    out = io.StringIO()
    record = play_human(HumanOptions(checkpoint=str(GO5_NET), colour="white", sims=4, sgf=str(sgf)),
                        io.StringIO("pass\n" * 40), out)
    text = out.getvalue()
    assert "5x5, komi 24: you play white (O), zero:go5-zero-13min plays black (X)" in text
    assert record.moves[0][0] == BLACK and record.moves[0][1] != 25  # the net opens
    assert record.result == "B+1" and load_sgf(sgf).moves == record.moves


def test_play_go_human_reads_the_terminal(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("c3\nB2\nresign\n"))
    go_eval.main(["--human", "--opponent", "capture", "--board", "5", "--komi", "0.5", "--color", "black",
                  "--sgf", str(tmp_path)])
    out = capsys.readouterr().out
    assert "5x5, komi 0.5: you play black (X), capture plays white (O)" in out and "result: W+R" in out
    saved = list(tmp_path.glob("*-5x5.sgf"))
    assert len(saved) == 1 and load_sgf(saved[0]).result == "W+R"


@pytest.mark.parametrize("argv,message", [
    (["--checkpoint", str(GO5_NET), "--board", "7"],
     f"--board 7 does not match --checkpoint {GO5_NET}, which plays 5x5 Go: pass --board 5 or leave --board out"),
    (["--opponent", "capture", "--sims", "8"], "--sims sets a checkpoint's search budget"),
    (["--checkpoint", str(GO5_NET), "--opponent", "capture"], "give --checkpoint CKPT or --opponent SPEC, not both"),
    (["--opponent", "nobody"], "player 'nobody': no such checkpoint file or run directory"),
    (["--board", "5", "--komi", "99"], "--komi: komi must be a finite number within -25..25 on 5x5"),
    (["--board", "1"], "--board must be in 2..19, got 1"),
    (["--games", "3"], "--games only go with a match, not with --human"),
], ids=["board-mismatch", "sims-without-checkpoint", "two-opponents", "unknown-opponent", "komi", "board", "games"])
def test_play_go_human_refuses_bad_options_in_one_line(argv: list[str], message: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        go_eval.main(["--human", "--sgf", str(tmp_path / "g.sgf"), *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert info.value.code == 2 and message in err[-1] and "Traceback" not in "\n".join(err)
    assert not (tmp_path / "g.sgf").exists()


def test_play_go_match_refuses_the_human_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        go_eval.main(["--checkpoint", "x", "--board", "7"])
    assert info.value.code == 2 and "--board only go with --human" in capsys.readouterr().err.splitlines()[-1]
