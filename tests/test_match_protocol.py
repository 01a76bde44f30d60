"""The match protocol (zoo/play/openings.py, zoo/play/archive.py): matches start from varied openings so that
deterministic players play different games, every result counts its distinct games and flags near-copies, and a
match's SGF archive recounts into the table the arena printed."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import gymnasium
import numpy as np
import pytest
import torch
from conftest import ROOT, subprocess_env

import envs  # noqa: F401  (registers the zoo envs)
from agents import build_agent
from agents.zero import ZeroConfig
from envs.go.game import GoGame
from envs.go.state import GoState
from zoo.play import arena
from zoo.play.archive import recount
from zoo.play.arena_specs import resolve_spec
from zoo.play.go_eval import play_match
from zoo.play.matches import MatchTally, schedule
from zoo.play.openings import default_opening, distinct_text, game_digest, opening_set


class FirstSensibleMove:
    """A deterministic player: the lowest-index sensible move (pass when there is none)."""

    def __init__(self, name: str, last: bool = False) -> None:
        self.name, self.last = name, last

    def select_move(self, state: GoState) -> int:
        moves = np.flatnonzero(state.sensible_mask())
        return int(moves[-2 if self.last and len(moves) > 1 else 0])

    def reset(self) -> None:
        pass

    def reseed(self, seed: int) -> None:
        pass


@pytest.mark.parametrize("size", [5, 7, 9])
def test_openings_are_distinct_sensible_and_seeded(size: int) -> None:
    openings = opening_set(size, 7.5, default_opening(size), 50, seed=3)
    assert len(set(openings)) == 50 and all(len(o) == 2 for o in openings)
    assert all(size * size not in o and o[0] != o[1] for o in openings)  # no pass, no point twice
    assert openings == opening_set(size, 7.5, 2, 50, seed=3) and openings != opening_set(size, 7.5, 2, 50, seed=4)


def test_a_tiny_board_repeats_openings_only_once_they_run_out() -> None:
    openings = opening_set(5, 24.0, 1, 30, seed=0)  # 25 one-ply openings on 5x5
    assert len(set(openings)) == 25


def test_two_deterministic_players_play_distinct_games_only_with_openings() -> None:
    game = GoGame(7, komi=9.0)
    a, b = FirstSensibleMove("first"), FirstSensibleMove("last", last=True)
    varied = play_match(a, b, 100, game, names=("first", "last"))
    assert varied.distinct >= 95, varied.distinct
    assert varied.as_black[1] == varied.as_white[1] == 50
    assert varied.as_black[0] + varied.as_white[0] == varied.score
    replayed = play_match(a, b, 100, game, names=("first", "last"), opening=0)
    assert replayed.distinct == 2  # one game per colour, replayed 50 times
    assert "WARNING: only 2% distinct" in replayed.text("first", "last")


def test_games_of_a_pair_share_an_opening_with_colours_swapped() -> None:
    a, b = resolve_spec("random", 7, 9.0), resolve_spec("capture", 7, 9.0)
    jobs = schedule([(a, b)], 10, 7, 9.0, seed=1, opening=2)
    for even, odd in zip(jobs[::2], jobs[1::2], strict=True):
        assert even.opening == odd.opening and len(even.opening) == 2
        assert (even.black.name, odd.black.name) == ("random", "capture")
    assert len({j.opening for j in jobs}) == 5
    assert schedule([(a, b)], 10, 7, 9.0, seed=1, opening=0)[0].opening == ()


def test_the_tally_flags_a_pairing_under_ninety_percent_distinct() -> None:
    tally = MatchTally()
    for k in range(10):
        digest = game_digest([k % 8])  # 8 distinct sequences among 10 games
        tally.add({"black": "a" if k % 2 == 0 else "b", "white": "b" if k % 2 == 0 else "a", "score": 1.0,
                   "pair": ["a", "b"], "digest": digest})
    (line,) = tally.lines()
    assert "a 5/10 (as black 5/5, as white 0/5); distinct 8/10 [WARNING: only 80% distinct" in line
    assert "| a | b | 10 | 5/10 = 0.50 (0.24-0.76) | 5/5 | 0/5 | 8/10 (under 90%) |" in tally.markdown()
    assert distinct_text(9, 10) == "distinct 9/10"


def test_searching_agents_draw_their_first_moves_only_when_asked() -> None:
    env = gymnasium.make("zoo/Go5x5-v0", komi=0.5)
    state = GoState.new(5, 0.5)

    def first_moves(temp_moves: int) -> set[int]:
        cfg = ZeroConfig(simulations=16, play_leaves=2, play_temp_moves=temp_moves)
        moves = set()
        for seed in range(6):
            torch.manual_seed(0)
            agent = build_agent(cfg, env.observation_space, env.action_space, np.random.default_rng(seed))
            agent.attach(env.unwrapped.game)
            moves.add(agent.select_move(state))
            moves.add(agent.select_moves([state])[0])
        return moves

    assert len(first_moves(0)) == 1
    assert len(first_moves(1)) > 1


def test_an_arena_archive_recounts_into_the_table_the_arena_printed(tmp_path: Path) -> None:
    archive = tmp_path / "games" / "m.tar.gz"
    cmd = [sys.executable, "-m", "zoo.arena", "--board", "5", "--players", "random", "capture", "mcts:8",
           "--games", "4", "--jobs", "1", "--sgf", str(archive), "--no-progress"]
    done = subprocess.run(cmd, cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    printed = [line for line in done.stdout.splitlines() if line.startswith("|")]
    with tarfile.open(archive) as tar:
        assert len(tar.getnames()) == 12
    counted = recount(archive)
    assert counted.tally.markdown().splitlines() == printed
    assert len(printed) == 2 + 3 and all(line.endswith("| 4/4 |") for line in printed[2:])
    # A second match into the same archive keeps the first one's games.
    again = subprocess.run([*cmd[:-3], "--seed", "1", "--sgf", str(archive), "--no-progress"], cwd=ROOT,
                           env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert recount(archive).tally.rows()[0]["games"] == 8


def test_recount_refuses_what_is_not_an_archive_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not gzip")
    for path in (bad, tmp_path / "missing.tar.gz"):
        with pytest.raises(SystemExit) as info:
            arena.main(["recount", str(path)])
        last = capsys.readouterr().err.strip().splitlines()[-1]
        assert info.value.code == 2 and str(path) in last and "Traceback" not in last


@pytest.mark.gnugo
def test_gnugo_against_itself_plays_distinct_games_and_agrees_with_the_recount(tmp_path: Path) -> None:
    archive = tmp_path / "gnugo.tar.gz"
    cmd = [sys.executable, "-m", "zoo.arena", "--board", "7", "--players", "gnugo", "gnugo:1", "--games", "20",
           "--jobs", "2", "--sgf", str(archive), "--no-progress"]
    done = subprocess.run(cmd, cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "distinct 20/20" in done.stdout, done.stdout
    counted = recount(archive, arena._referee(type("Args", (), {"referee": "gnugo"})()))
    assert counted.refereed >= 15 and counted.agreed >= counted.refereed - 2, counted.text()
