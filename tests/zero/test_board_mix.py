"""One net across board sizes (``agent.board_mix``): parsing and refusals, the other sizes' games, self-play and
training on every size, checkpoints that continue exactly, warm starts from another board, the CLI end to end."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest
import torch
from conftest import compose, subprocess_env, train_cmd
from test_resume_exact import differences

import envs  # noqa: F401  (registers the zoo envs)
import train
from agents import build_agent
from agents.nets import NetConfig
from agents.zero import ZeroAgent, ZeroConfig
from agents.zero.config import parse_board_mix, split_by_shares
from envs.go.game import GoGame
from zoo.errors import CheckpointError, ConfigError, UserError
from zoo.launch import resumed_run_dir, run
from zoo.run.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint
from zoo.run.logging import read_metrics

GPOOL = NetConfig(kind="resnet", preset="b2c32", global_pool=True)
MIX = ZeroConfig(games=4, simulations=4, moves_per_collect=8, max_moves_factor=0.5, min_replay=16, batch_size=16,
                 replay_size=200, best_games=0, board_mix="5:0.5,7:0.5", ownership_weight=0.0, score_weight=0.0,
                 net_global_pool=False)
"""Without the auxiliary heads and, for the default net, without global pooling (both on by default). Two games of
each size, capped at 12 (5x5) and 24 (7x7) moves, so both windows fill within a few collects."""
TINY_RUN = ("env=go5", "agent=zero", "agent.games=4", "agent.simulations=4", "agent.moves_per_collect=8",
            "agent.max_moves_factor=0.5", "agent.min_replay=16", "agent.batch_size=16", "agent.replay_size=200",
            "agent.best_games=0", "agent.ownership_weight=0", "agent.score_weight=0", "net=resnet", "net.preset=b2c32",
            "net.global_pool=true", "eval.every=0", "eval.episodes=0", "logger=csv", "progress=false", "device=cpu")


def make_agent(cfg: ZeroConfig = MIX, size: int = 5, seed: int = 0, net: NetConfig | None = GPOOL) -> ZeroAgent:
    env = gymnasium.make(f"zoo/Go{size}x{size}-v0")
    torch.manual_seed(seed)
    return build_agent(cfg, env.observation_space, env.action_space, np.random.default_rng(seed), net=net)


def test_a_mix_parses_into_shares_of_games_minibatch_and_window() -> None:
    assert parse_board_mix("") == ()
    assert parse_board_mix("9:0.5, 5:0.2,7:0.3") == ((5, 0.2), (7, 0.3), (9, 0.5))
    assert parse_board_mix("5:1,9:3") == ((5, 0.25), (9, 0.75))  # shares are normalised
    plan = ZeroConfig(board_mix="5:0.2,7:0.3,9:0.5").board_plan
    assert [(p.size, p.games, p.batch, p.capacity) for p in plan] == [
        (5, 13, 51, 20_000), (7, 19, 77, 30_000), (9, 32, 128, 50_000)]
    assert sum(p.games for p in plan) == 64 and sum(p.batch for p in plan) == 256
    assert split_by_shares(3, [0.98, 0.01, 0.01]) == [1, 1, 1] and split_by_shares(10, [0.5, 0.5]) == [5, 5]
    assert ZeroConfig().board_plan == ()
    with pytest.raises(ValueError, match="agent.games=2 cannot give each one: set agent.games >= 3"):
        ZeroConfig(board_mix="5:1,7:1,9:1", games=2)


@pytest.mark.parametrize("text", ["5:0.2", "5:a", "5:-1", "5:0,7:1", "0:1,5:1", "5:1,5:2", "5,7", "5:0.5,7:nan"])
def test_a_mix_that_does_not_parse_is_refused_in_one_line(text: str) -> None:
    with pytest.raises(ValueError) as err:
        ZeroConfig(board_mix=text)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"agent.board_mix={text}") and "e.g. 5:0.2,7:0.3,9:0.5" in message
    with pytest.raises(UserError, match=r"^invalid agent config: agent.board_mix="):
        compose("env=go9", "agent=zero", f"agent.board_mix='{text}'", "net=resnet", "net.global_pool=true")


def test_the_cli_takes_a_mix_as_one_value_not_a_sweep() -> None:
    argv = train.prepare_argv(["agent.board_mix=5:0.2,7:0.3,9:0.5", "agent.board_mix='5:1,9:1','7:1,9:1'"])
    assert argv == ["agent.board_mix='5:0.2,7:0.3,9:0.5'", "agent.board_mix='5:1,9:1','7:1,9:1'"]
    cfg = compose("env=go9", "agent=zero", argv[0], "net=resnet", "net.global_pool=true")
    assert [p.size for p in cfg.agent.board_plan] == [5, 7, 9]


def test_the_game_plays_the_other_sizes_with_the_suite_komi() -> None:
    game = GoGame(9, komi=6.5, history=4, max_moves=162)
    small, mid, big = game.resized(5), game.resized(7), game.resized(13)
    assert (small.komi, mid.komi, big.komi) == (24.0, 9.0, 7.5)  # the registered komi of each size
    assert (small.board_size, small.num_actions, small.num_planes, small.max_moves) == (5, 26, 9, 50)
    assert GoGame(9).resized(5).max_moves is None
    for size in (1, 30):
        with pytest.raises(ValueError, match="board size must be an integer in 2..19"):
            game.resized(size)
    agent = make_agent(ZeroConfig(**{**MIX.__dict__, "board_mix": "5:0.5,30:0.5"}))
    with pytest.raises(ValueError) as err:
        agent.attach(gymnasium.make("zoo/Go5x5-v0").unwrapped.game)
    assert str(err.value) == ("agent.board_mix=5:0.5,30:0.5: the game cannot be played on 30x30 (board size must be "
                              "an integer in 2..19, got 30); valid form: SIZE:SHARE,... with two or more sizes and "
                              "positive shares, e.g. 5:0.2,7:0.3,9:0.5")


def test_a_net_that_needs_one_board_size_is_refused_in_one_line() -> None:
    for net, which in ((None, "the default net"), (NetConfig(kind="resnet", preset="b2c32"), "net=resnet without"),
                       (NetConfig(kind="mobilenet"), "net=mobilenet without")):
        with pytest.raises(ValueError, match=f"plays every size with one net, and {which}.* add net=resnet "
                                             "net.global_pool=true$"):
            make_agent(net=net)
        with pytest.raises(ConfigError, match="add net=resnet net.global_pool=true"):
            compose("env=go5", "agent=zero", "agent.board_mix='5:1,7:1'", "agent.score_weight=0",
                    *(["agent.net_global_pool=false"] if net is None else [f"net={net.kind}"]))
    assert compose("env=go9", "agent=zero", "agent.board_mix='5:1,7:1,9:2'").agent.board_mix  # the default net pools
    with pytest.raises(ValueError, match=r"leaves out this run's board, 5x5 \(the env's\): give it a share"):
        make_agent(ZeroConfig(**{**MIX.__dict__, "board_mix": "7:0.5,9:0.5"}))
    with pytest.raises(ValueError, match="plays 7x7, whose margins the score head's bins .* agent.score_weight=0"):
        make_agent(ZeroConfig(**{**MIX.__dict__, "score_weight": 0.02}))


def test_without_global_pooling_train_py_refuses_the_mix_before_any_folder(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "mix"
    result = subprocess.run(train_cmd("env=go5", "agent=zero", "agent.board_mix=5:0.5,7:0.5", "logger=none",
                                      "agent.net_global_pool=false", "agent.score_weight=0",
                                      f"hydra.run.dir={run_dir}"),
                            capture_output=True, text=True, env=subprocess_env(), cwd=tmp_path, timeout=300)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: agent.board_mix=5:0.5,7:0.5 plays every size with one net, and the default net (net_kind=resnet, "
        "no global pooling) has heads fixed to one board size: add net=resnet net.global_pool=true"]
    assert not (tmp_path / "runs").exists()
    result = subprocess.run(train_cmd("env=go5", "agent=zero", "agent.board_mix=5:0.5,30:0.5", "net=resnet",
                                      "agent.score_weight=0",
                                      "net.global_pool=true", "logger=none", f"hydra.run.dir={run_dir}"),
                            capture_output=True, text=True, env=subprocess_env(), cwd=tmp_path, timeout=300)
    assert result.returncode == 2 and not (tmp_path / "runs").exists()
    assert result.stderr.strip().splitlines() == [
        "error: agent=zero on env=go5: agent.board_mix=5:0.5,30:0.5: the game cannot be played on 30x30 (board size "
        "must be an integer in 2..19, got 30); valid form: SIZE:SHARE,... with two or more sizes and positive "
        "shares, e.g. 5:0.2,7:0.3,9:0.5"]


def _play(agent: ZeroAgent, collects: int) -> dict[str, float]:
    env = gymnasium.make("zoo/Go5x5-v0")
    metrics: dict[str, float] = {}
    for _ in range(collects):
        metrics = agent.update(agent.collect(env))
    return metrics


def test_self_play_fills_every_window_and_trains_on_every_size() -> None:
    agent = make_agent()
    metrics = _play(agent, 6)
    assert metrics["selfplay/positions_5"] == metrics["selfplay/positions_7"] == 2 * 8  # two games of each size
    assert metrics["selfplay/replay_size_5"] > 0 and metrics["selfplay/replay_size_7"] > 0
    assert agent.replay_size == metrics["selfplay/replay_size_5"] + metrics["selfplay/replay_size_7"]
    assert {"train/loss_5", "train/loss_7", "train/value_loss_7", "train/loss"} <= set(metrics)
    assert agent.learner.steps > 0 and metrics["train/loss"] == pytest.approx(
        (metrics["train/loss_5"] + metrics["train/loss_7"]) / 2)  # 8 + 8 positions per minibatch
    board = agent.mix.boards[7]
    assert (board.game.board_size, board.game.komi, board.replay.plane_shape) == (7, 9.0, (17, 7, 7))
    assert agent.replay.capacity == board.replay.capacity == 100
    assert agent.recent_games and all(g.policy.shape[1] == 26 for g in agent.recent_games)  # SGF: the run's board
    assert "5x5 (the env's) 0.50: 2 games, window 100, 8 per minibatch; 7x7 0.50" in agent.describe()["board mix"]


def test_a_mix_continues_exactly_from_its_state_dict(tmp_path: Path) -> None:
    first = make_agent()
    _play(first, 5)
    saved = load_checkpoint(save_checkpoint(tmp_path / "c.pt", {"agent": first.state_dict()}))["agent"]
    assert [b["size"] for b in saved["mix"]] == [7] and saved["mix"][0]["selfplay"] is not None
    second = make_agent(seed=1)
    second.load_state_dict(saved)  # before any game is attached: the boards come back at the first collect
    assert differences(second.state_dict()["mix"], first.state_dict()["mix"]) == []
    for _ in range(2):
        a, b = _play(first, 1), _play(second, 1)
        assert {k: v for k, v in a.items() if "_per_s" not in k and "share" not in k} == {
            k: v for k, v in b.items() if "_per_s" not in k and "share" not in k}
    assert differences(first.state_dict(), second.state_dict()) == []
    plain = make_agent(ZeroConfig(**{**MIX.__dict__, "board_mix": ""}), seed=2)
    plain.load_state_dict(saved)  # a run without the mix keeps the run's board's window, not its 2 games of 4
    assert len(plain.replay) == len(saved["replay"]["z"]) > 0 and "mix" not in plain.state_dict()
    assert plain.state_dict()["selfplay"] is None


def test_warm_start_loads_a_smaller_boards_net_or_refuses_in_one_line() -> None:
    small = make_agent(ZeroConfig(**{**MIX.__dict__, "board_mix": ""}))
    big = make_agent(ZeroConfig(**{**MIX.__dict__, "board_mix": "5:0.5,7:0.5", "ownership_weight": 1.0}), size=7)
    notice = big.warm_start_from(small.state_dict())
    assert notice == ("the net of a 5x5 checkpoint on this 7x7 board: weights only (optimizer, replay window and "
                      "self-play start fresh); ownership head initialised fresh") == big.describe()["warm start"]
    for name, tensor in small.net.state_dict().items():
        torch.testing.assert_close(big.net.state_dict()[name], tensor)
        torch.testing.assert_close(big.best_net.state_dict()[name], tensor)
    fixed = make_agent(ZeroConfig(), size=7, net=NetConfig(kind="resnet", preset="b2c32"))
    with pytest.raises(ValueError, match="^a 5x5 checkpoint cannot warm-start this 7x7 run: this net's weights "
                                         "depend on the board size"):
        fixed.warm_start_from(small.state_dict())
    wider = make_agent(ZeroConfig(), size=7, net=NetConfig(kind="resnet", preset="b4c64", global_pool=True))
    with pytest.raises(ValueError, match="^the 5x5 checkpoint's net does not fit this 7x7 run's net"):
        wider.warm_start_from(small.state_dict())


def _newest(run_dir: Path) -> dict[str, Any]:
    return load_checkpoint(list_checkpoints(run_dir)[-1])


def test_train_py_runs_a_mix_checkpoints_resumes_and_warm_starts_a_larger_board(tmp_path: Path) -> None:
    first = tmp_path / "mix"
    result = subprocess.run(train_cmd(*TINY_RUN, "agent.board_mix=5:0.5,7:0.5", "steps=160", "checkpoint_every=96",
                                      f"hydra.run.dir={first}"),
                            capture_output=True, text=True, env=subprocess_env(), cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_metrics(first / "metrics.jsonl")
    assert any(r.get("selfplay/replay_size_7", 0) > 0 and r.get("selfplay/replay_size_5", 0) > 0 for r in rows)
    assert any("train/loss_7" in r for r in rows) and any(r.get("selfplay/positions_7") == 16 for r in rows)
    saved = _newest(first)
    assert saved["counters"]["env_steps"] == 160 and saved["agent"]["learner"]["steps"] > 0
    window = saved["agent"]["mix"][0]["replay"]
    assert saved["agent"]["mix"][0]["size"] == 7 and len(window["z"]) > 0

    # resume= the run: it continues in its folder with every size's window and games
    cfg = compose(*TINY_RUN, "agent.board_mix='5:0.5,7:0.5'", "steps=224", "checkpoint_every=96",
                  f"resume={first}", run_dir=str(tmp_path / "unused"))
    assert run(cfg)["env_steps"] == 224
    resumed = _newest(first)["agent"]
    assert resumed["learner"]["steps"] > saved["agent"]["learner"]["steps"]
    assert resumed["mix"][0]["replay"]["added"] > window["added"] and not (tmp_path / "unused").exists()

    # the trained net still evaluates both sizes
    agent = make_agent()
    agent.load_state_dict(resumed)
    for size in (5, 7):
        with torch.no_grad():
            logits, value = agent.net(torch.zeros(2, 17, size, size))
        assert logits.shape == (2, size * size + 1) and torch.isfinite(logits).all() and value.abs().max() <= 1

    # resume= the 5x5 run in a 7x7 run: a warm start, a new run in its own folder
    assert resumed_run_dir(str(first), "zoo/Go5x5-v0") == first and resumed_run_dir(str(first), "zoo/Go7x7-v0") is None
    warm = compose(*(a for a in TINY_RUN if a != "env=go5"), "env=go7", "steps=32", f"resume={first}",
                   run_dir=str(tmp_path / "warm"))
    assert run(warm)["env_steps"] == 32
    assert json.loads((tmp_path / "warm" / "config.json").read_text())["env"]["id"] == "zoo/Go7x7-v0"
    started = _newest(tmp_path / "warm")
    assert started["agent"]["plane_shape"] == [17, 7, 7] and started["agent"]["learner"]["steps"] == 0
    fixed = compose("env=go7", "agent=zero", "agent.net_global_pool=false", "logger=none", "progress=false",
                    f"resume={first}",
                    run_dir=str(tmp_path / "fixed"))
    with pytest.raises(CheckpointError, match="cannot warm-start this run on env zoo/Go7x7-v0: a 5x5 checkpoint "
                                              "cannot warm-start this 7x7 run"):
        run(fixed)
