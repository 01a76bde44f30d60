"""The arena (zoo/play/arena.py): player specs resolve or fail in one line, games are seeded and recorded, a crashed
engine forfeits one game only, and no engine outlives a match."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from agents import build_agent
from agents.pg import PGConfig
from envs.go.sgf import load_sgf
from zoo.errors import UserError
from zoo.play import arena, arena_specs
from zoo.play.arena_specs import resolve_spec, resolve_specs
from zoo.play.gtp_client import find_gnugo
from zoo.play.matches import GameJob, play_game, run_games, schedule
from zoo.play.players import ActPlayer
from zoo.play.ratings import Ladder
from zoo.run.checkpoint import save_checkpoint
from zoo.run.config import EnvConfig, RunConfig, to_plain_dict
from zoo.run.make_env import make_env

GNUGO = find_gnugo()
needs_gnugo = pytest.mark.gnugo

FAKE_ENGINE = '''
import os, sys
marker = sys.argv[1]
for line in sys.stdin:
    words = line.split()
    if not words:
        continue
    if words[0] == "quit":
        print("=\\n", flush=True)
        break
    if words[0] == "genmove":
        if not os.path.exists(marker):  # the first game it is asked for a move in: crash
            open(marker, "w").close()
            os._exit(3)
        print("= pass\\n", flush=True)
    else:
        print("= fake\\n" if words[0] == "name" else "=\\n", flush=True)
'''


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory holding one checkpoint of an (untrained) ppo agent on 5x5 Go."""
    run = tmp_path_factory.mktemp("ppo-go5")
    cfg = RunConfig(env=EnvConfig(name="go5", id="zoo/Go5x5-v0"),
                    agent=PGConfig(name="ppo", num_envs=1, hidden_size=16, hidden_layers=1), run_dir=str(run))
    env = make_env(cfg.env, seed=0)
    agent = build_agent(cfg.agent, env.observation_space, env.action_space, np.random.default_rng(0))
    save_checkpoint(run / "checkpoints" / "ckpt-000000000001.pt",
                    {"config": to_plain_dict(cfg), "agent": agent.state_dict()})
    return run


def _engine_processes(tag: str, engines: tuple[str, ...] = ("gnugo", "fake_engine")) -> list[int]:
    """Pids of live engine processes (command line naming one of ``engines``) whose environment carries
    ``ZOO_ARENA_TEST_TAG=tag``: the engines this test started, even if orphaned."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            if not any(e in cmdline for e in engines):
                continue
            if f"ZOO_ARENA_TEST_TAG={tag}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                status = (entry / "status").read_text()
                if "State:\tZ" not in status:
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


# -- specs ------------------------------------------------------------------------------------------------------


def test_builtin_specs_resolve_with_names_and_options() -> None:
    specs = resolve_specs(["random", "bot=capture", "mcts:50", "wide=mcts:20@c=1.4"], 5, 24.0)
    assert [(s.name, s.kind) for s in specs] == [("random", "random"), ("bot", "capture"), ("mcts:50", "mcts"),
                                                 ("wide", "mcts")]
    assert specs[2].playouts == 50 and specs[3].c_uct == 1.4


@pytest.mark.parametrize("spec,message", [
    ("nosuchplayer", "no such checkpoint file or run directory"),
    ("runs/does/not/exist", "valid: random, capture, mcts:N"),
    ("mcts:lots", "mcts:N needs a whole number"),
    ("mcts:0", "N >= 1"),
    ("mcts:20@c=nan", "finite exploration constant"),
    ("mcts:20@c=-1", "C > 0"),
    ("mcts:20@c=wide", "a number C"),
    ("random@x=1", "takes no option x"),
    ("gtp:/no/such/engine --flag", "not found"),
])
def test_a_spec_that_does_not_resolve_fails_naming_it(spec: str, message: str) -> None:
    with pytest.raises(UserError, match=message) as info:
        resolve_spec(spec, 5, 24.0)
    assert spec in str(info.value) and "\n" not in str(info.value)


def test_gnugo_not_installed_fails_before_any_game(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arena_specs, "find_gnugo", lambda: None)
    for spec in ("gnugo", "gnugo:3", "gnugo-mc"):
        with pytest.raises(UserError, match="GNU Go is not installed"):
            resolve_spec(spec, 7, 9.0)


@needs_gnugo
def test_gnugo_specs_check_level_and_board() -> None:
    assert resolve_spec("gnugo", 5, 24.0).name == "gnugo"
    assert resolve_spec("gnugo:10", 5, 24.0).name == "gnugo"  # the default level is the anchor
    assert resolve_spec("gnugo:3", 5, 24.0).name == "gnugo:3"
    with pytest.raises(UserError, match="levels are 0..10"):
        resolve_spec("gnugo:11", 5, 24.0)
    with pytest.raises(UserError, match="up to 9x9, not 13x13"):
        resolve_spec("gnugo-mc", 13, 7.5, check_engines=False)


def test_a_checkpoint_of_any_agent_resolves_and_plays_by_act(ppo_run: Path) -> None:
    spec = resolve_spec(str(ppo_run), 5, 24.0)
    assert spec.kind == "checkpoint" and not spec.searches and spec.history == 8
    assert spec.name == f"ppo:{ppo_run.name}"
    job = GameJob(spec, resolve_spec("random", 5, 24.0), 5, 24.0, seed=4, max_moves=50)
    game = play_game(job)
    assert game["black"] == spec.name and game["score"] in (0.0, 0.5, 1.0)
    assert not game["reason"].startswith("forfeit"), game["reason"]


def test_act_player_sees_the_planes_of_its_own_history(ppo_run: Path) -> None:
    from envs.go.state import GoState

    state = GoState.new(5, history=8)
    for a in (0, 6, 12):
        state.play(a)
    player = ActPlayer(agent=None, history=2)
    planes = player.observation(state)
    full = state.features()
    assert planes.shape == (5, 5, 5)
    assert np.array_equal(planes, np.concatenate([full[:2], full[8:10], full[16:]]))


def test_a_checkpoint_of_another_board_size_names_both_sizes(ppo_run: Path) -> None:
    with pytest.raises(UserError, match="plays 5x5 Go; the arena board is 7x7"):
        resolve_spec(str(ppo_run), 7, 9.0)
    with pytest.raises(UserError, match="no setting bogus"):
        resolve_spec(f"{ppo_run}@bogus=1", 5, 24.0)


@pytest.mark.parametrize("option,message", [
    ("num_steps=abc", "num_steps='abc' of agent PGConfig must be int"),
    ("num_steps=2.5", "num_steps=2.5 of agent PGConfig must be int"),
    ("num_steps=true", "num_steps=True of agent PGConfig must be int"),
    ("gamma=nan", r"gamma=nan of agent PGConfig must be float \(finite\)"),
    ("gamma=inf", r"gamma=inf of agent PGConfig must be float \(finite\)"),
    ("norm_adv=1", "norm_adv=1 of agent PGConfig must be bool"),
])
def test_a_checkpoint_setting_of_the_wrong_type_is_one_line(ppo_run: Path, option: str, message: str) -> None:
    with pytest.raises(UserError, match=message) as info:
        resolve_spec(f"{ppo_run}@{option}", 5, 24.0)
    assert "\n" not in str(info.value)
    assert resolve_spec(f"{ppo_run}@gamma=0.9,num_steps=64", 5, 24.0).overrides == (("gamma", 0.9), ("num_steps", 64))


def test_the_cli_reports_a_bad_spec_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        arena.main(["--board", "5", "--players", "random", "nosuchplayer", "--games", "2", "--jobs", "1"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "nosuchplayer" in err[-1] and "Traceback" not in "".join(err)


# -- games ---------------------------------------------------------------------------------------------------------


def test_a_match_alternates_colours_keeps_sgf_and_fills_the_ladder(tmp_path: Path, capsys) -> None:
    ladder = tmp_path / "ladder.json"
    code = arena.main(["--board", "5", "--players", "random", "capture", "--games", "4", "--jobs", "1",
                       "--ladder", str(ladder), "--sgf", str(tmp_path / "sgf"), "--no-progress"])
    assert code == 0
    out = capsys.readouterr().out
    assert "random vs capture: random" in out and "as black" in out and "anchor random = 1500" in out
    games = Ladder.load(ladder).section(5, 24.0)["games"]
    assert [g["black"] for g in games] == ["random", "capture", "random", "capture"]
    records = sorted((tmp_path / "sgf").glob("*.sgf"))
    assert len(records) == 4
    first = load_sgf(records[0])
    assert (first.black, first.white, first.size, first.komi) == ("random", "capture", 5, 24.0)
    # the ladder prints without replaying anything
    assert arena.main(["ladder", str(ladder)]) == 0
    assert "capture" in capsys.readouterr().out


def test_builtin_players_replay_a_game_from_its_seed(tmp_path: Path) -> None:
    a, b = resolve_specs(["random", "mcts:20"], 5, 24.0)
    paths = [tmp_path / f"{i}.sgf" for i in range(3)]
    for path, seed in zip(paths, (7, 7, 8), strict=True):
        play_game(GameJob(a, b, 5, 24.0, seed, max_moves=50, sgf=str(path)))
    moves = [load_sgf(p).moves for p in paths]
    assert moves[0] == moves[1] and moves[0] != moves[2]


def test_schedule_gives_each_game_its_own_seed_and_alternates_colours() -> None:
    a, b = resolve_specs(["random", "capture"], 5, 24.0)
    jobs = schedule([(a, b)], 4, 5, 24.0, seed=1)
    assert [j.black.name for j in jobs] == ["random", "capture", "random", "capture"]
    assert len({j.seed for j in jobs}) == 4
    assert [j.seed for j in schedule([(a, b)], 4, 5, 24.0, seed=1)] == [j.seed for j in jobs]


def test_random_openings_are_played_once_with_each_colour(ppo_run: Path) -> None:
    a, b = resolve_specs([f"net={ppo_run}", "capture"], 5, 24.0)
    jobs = schedule([(a, b)], 4, 5, 24.0, seed=3, max_moves=50, opening=2)
    games = [play_game(job) for job in jobs]
    assert games[0]["opening"] == games[1]["opening"] != games[2]["opening"] == games[3]["opening"]
    assert [g["black"] for g in games] == ["net", "capture", "net", "capture"]
    assert all(len(g["opening"]) == 2 and 25 not in g["opening"] for g in games)


@needs_gnugo
def test_gnugo_seeded_per_game_replays_with_a_seed_and_varies_across_seeds(tmp_path: Path) -> None:
    g = resolve_spec("gnugo:0", 5, 24.0)
    paths = [tmp_path / f"{i}.sgf" for i in range(3)]
    for path, seed in zip(paths, (1, 1, 2), strict=True):
        play_game(GameJob(g, g, 5, 24.0, seed, max_moves=50, sgf=str(path)))
    moves = [load_sgf(p).moves for p in paths]
    assert moves[0] == moves[1]
    assert moves[0] != moves[2]


@needs_gnugo
def test_gnugo_cleans_up_dead_stones_so_area_scoring_credits_its_win() -> None:
    # 5x5 at komi 24: black wins only by owning every point, so GNU Go must capture random's dead stones rather
    # than pass (kgs-genmove_cleanup); with plain genmove it passed early and lost every such game.
    g, rnd = resolve_specs(["gnugo:0", "random"], 5, 24.0)
    games = [play_game(GameJob(g, rnd, 5, 24.0, seed, max_moves=50)) for seed in (1, 2)]
    assert [x["result"] for x in games] == ["B+1", "B+1"]


def test_a_crashed_engine_forfeits_that_game_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tag = uuid.uuid4().hex
    monkeypatch.setenv("ZOO_ARENA_TEST_TAG", tag)
    script = tmp_path / "fake_engine.py"
    script.write_text(FAKE_ENGINE)
    fake, rnd = resolve_specs([f"fake=gtp:{sys.executable} {script} {tmp_path / 'crashed'}", "random"], 5, 24.0)
    games = []
    run_games(schedule([(fake, rnd)], 3, 5, 24.0, max_moves=50), 1, lambda g: games.append(g) or True)
    assert len(games) == 3
    assert games[0]["reason"].startswith("forfeit: fake crashed") and games[0]["result"] == "W+F"
    assert games[0]["score"] == 0.0
    assert [g["reason"].startswith("forfeit") for g in games[1:]] == [False, False]
    assert _engine_processes(tag) == []


@needs_gnugo
def test_no_engine_outlives_a_match(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    tag = uuid.uuid4().hex
    monkeypatch.setenv("ZOO_ARENA_TEST_TAG", tag)
    assert arena.main(["--board", "5", "--players", "gnugo:0", "random", "--games", "2", "--jobs", "1",
                       "--no-progress"]) == 0
    assert _engine_processes(tag) == []
    assert "gnugo:0 vs random" in capsys.readouterr().out


@needs_gnugo
def test_an_engine_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex
    code = ("import os, sys\nfrom zoo.play.gtp_client import GtpClient, gnugo_argv\n"
            "c = GtpClient(gnugo_argv(level=0))\nc.send('boardsize 5')\nprint(c.pid, flush=True)\nos._exit(9)\n")
    env = {**os.environ, "ZOO_ARENA_TEST_TAG": tag}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    pid = int(out.stdout.split()[0])
    deadline = time.time() + 10
    while _engine_processes(tag) and time.time() < deadline:
        time.sleep(0.1)
    assert _engine_processes(tag) == [], f"engine {pid} outlived its parent"


@pytest.mark.slow
@needs_gnugo
def test_a_match_on_worker_processes_leaves_no_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tag = uuid.uuid4().hex
    monkeypatch.setenv("ZOO_ARENA_TEST_TAG", tag)
    ladder = tmp_path / "l.json"
    assert arena.main(["--board", "5", "--players", "gnugo:0", "random", "mcts:20", "--games", "2", "--jobs", "2",
                       "--ladder", str(ladder), "--referee", "gnugo", "--no-progress"]) == 0
    games = Ladder.load(ladder).section(5, 24.0)["games"]
    assert len(games) == 6
    assert all(g["reason"] in ("referee", "resign") for g in games)
    assert _engine_processes(tag) == []


def test_the_final_ratings_go_to_wandb_as_a_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zoo.play.ratings import Ratings, fit_ratings
    from zoo.run.logging import log_table

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    ratings = fit_ratings([("gnugo", "random", 1.0), ("random", "gnugo", 0.0)])
    run_id = log_table(tmp_path, "arena/ratings", Ratings.COLUMNS, ratings.rows(), name="5x5 komi 24")
    runs = list((tmp_path / "wandb").glob(f"offline-run-*-{run_id}"))
    assert len(runs) == 1 and list(runs[0].glob("*.wandb"))


def test_a_new_player_joins_the_ladder_by_gauntlet_without_replaying(tmp_path: Path, capsys) -> None:
    ladder = tmp_path / "ladder.json"
    assert arena.main(["--board", "5", "--players", "random", "bot=capture", "--games", "2", "--jobs", "1",
                       "--ladder", str(ladder), "--no-progress"]) == 0
    old = Ladder.load(ladder).section(5, 24.0)["games"]
    assert Ladder.load(ladder).section(5, 24.0)["players"] == {"random": "random", "bot": "capture"}
    assert arena.main(["--board", "5", "--ladder", str(ladder), "--gauntlet", "new=mcts:10", "--games", "2",
                       "--jobs", "1", "--no-progress"]) == 0
    section = Ladder.load(ladder).section(5, 24.0)
    assert section["games"][: len(old)] == old
    new = section["games"][len(old):]
    assert sorted(tuple(g["pair"]) for g in new) == [("new", "bot"), ("new", "bot"), ("new", "random"),
                                                     ("new", "random")]
    assert "new" in capsys.readouterr().out


def test_a_gauntlet_against_a_ladder_with_missing_checkpoints_names_them_in_one_line(tmp_path: Path,
                                                                                    capsys) -> None:
    ladder = tmp_path / "ladder.json"
    ladder.write_text('{"format": 1, "sections": {"5x5 komi 24": {"size": 5, "komi": 24.0, "players": '
                      '{"random": "random", "old": "runs/elsewhere/zero@sims=8", "bot": "capture"}, "games": []}}}')
    before = ladder.read_text()
    with pytest.raises(SystemExit) as info:
        arena.main(["--board", "5", "--ladder", str(ladder), "--gauntlet", "new=mcts:10", "--games", "2",
                    "--jobs", "1", "--no-progress"])
    assert info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "old=runs/elsewhere/zero@sims=8" in last and "random" not in last.split("here")[1].split(";")[0]
    assert "--players" in last and "e.g. --players random bot=capture" in last
    assert ladder.read_text() == before  # nothing registered


def test_the_committed_ladders_name_what_a_gauntlet_cannot_play_here() -> None:
    for path in sorted((Path(__file__).resolve().parent.parent / "reports" / "ladders").glob("*.json")):
        sections = Ladder.load(path).sections.values()
        for s in sections:
            missing = [n for n, spec in s["players"].items()
                       if spec.startswith("runs/") and not Path(spec.split("@")[0]).exists()]
            if not missing:
                continue
            texts = [f"{n}={spec}" if n != spec else spec for n, spec in s["players"].items()]
            with pytest.raises(UserError, match="pick the opponents with --players") as info:
                arena._ladder_opponents(texts, s["size"], s["komi"], str(path))
            assert all(f"{n}=" in str(info.value) for n in missing) and "\n" not in str(info.value)
