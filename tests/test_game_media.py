"""A Go game as pictures: a record's frames, the evaluation's sample game, a short run's pictures and its report."""

from __future__ import annotations

import re
from pathlib import Path

import gymnasium
import numpy as np
import pytest
import torch
from conftest import compose
from PIL import Image

import envs  # noqa: F401  (registers the zoo envs)
from agents import build_agent
from agents.zero import ZeroConfig
from envs.go.render import game_frames, rgb_array
from envs.go.sgf import GameRecord, SgfError, load_sgf, record_to_state
from envs.go.state import BLACK, WHITE, GoState
from zoo.launch import run
from zoo.play.game_media import GIF_PIXELS, gif_cell
from zoo.play.go_eval import go_evaluation
from zoo.play.players import make_player
from zoo.reporting.report import ReportSpec, write_report
from zoo.run.media import media_title

PASS = 25  # on 5x5
TINY = ("agent.games=4", "agent.simulations=4", "agent.moves_per_collect=8", "agent.min_replay=16",
        "agent.batch_size=16", "agent.best_games=2")


def test_game_frames_are_every_position_of_the_record() -> None:
    # Black captures the white stone at B4 (action 6) with its fourth stone; white passes in between.
    moves = [(BLACK, 1), (WHITE, 6), (BLACK, 5), (WHITE, PASS), (BLACK, 7), (WHITE, 24), (BLACK, 11)]
    record = GameRecord(size=5, komi=0.5, moves=moves)
    frames = game_frames(record, cell=10)
    assert len(frames) == len(moves) + 1 and {f.shape for f in frames} == {(60, 60, 3)}
    assert np.array_equal(frames[0], rgb_array(GoState.new(5), cell=10))
    assert np.array_equal(frames[-1], rgb_array(record_to_state(record), cell=10))
    assert not np.array_equal(frames[-1], frames[-2])  # the capture changes the board
    # A whole game (captures, passes, a red dot that moves): every frame is the picture of its position, with even
    # and odd distances between lines (the frames repaint only the points that changed).
    state, player, record = GoState.new(5, 0.5, max_moves=50), make_player("random", 3), GameRecord(size=5)
    while not state.is_terminal:
        action = int(player.select_move(state.copy()))
        record.moves.append((state.to_play, action))
        state.play(action)
    for cell in (7, 12):
        replay = GoState.new(5, 0.5)
        for i, frame in enumerate(game_frames(record, cell=cell)):
            assert np.array_equal(frame, rgb_array(replay, cell=cell)), (cell, i)
            if i < len(record.moves):
                replay.play(record.moves[i][1])
    with pytest.raises(SgfError, match="move 2: black moves twice"):
        game_frames(GameRecord(size=5, moves=[(BLACK, 1), (BLACK, 2)]))
    with pytest.raises(SgfError, match="move 2 is illegal"):
        game_frames(GameRecord(size=5, moves=[(BLACK, 1), (WHITE, 1)]))


def test_the_go_evaluation_saves_its_sample_game_as_a_gif_and_a_png(tmp_path: Path) -> None:
    env = gymnasium.make("zoo/Go5x5-v0")
    torch.manual_seed(0)
    agent = build_agent(ZeroConfig(games=4, simulations=4, min_replay=16, batch_size=16), env.observation_space,
                        env.action_space, np.random.default_rng(0))
    metrics = go_evaluation(agent, env, 2, tmp_path, 7)
    assert set(metrics) >= {"eval/win_random", "eval/win_capture"}
    gif = Image.open(tmp_path / "media" / "eval-000000000007.gif")
    assert gif.n_frames > 1 and gif.size == (6 * gif_cell(5),) * 2 == (GIF_PIXELS,) * 2
    record = load_sgf(tmp_path / "sgf" / "000000000007-vs-capture.sgf")  # the game drawn: the first against capture
    final = rgb_array(record_to_state(record))
    png = np.asarray(Image.open(tmp_path / "media" / "eval-000000000007.png").convert("RGB"))
    assert np.array_equal(png, final)
    assert media_title(tmp_path / "media" / "eval-000000000007.png") == \
        f"zero (black) vs capture (white), {record.result}, {len(record.moves)} moves"


@pytest.fixture(scope="module")
def go5_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python train.py env=go5 agent=zero`` at the smallest settings, with an evaluation at 32 positions."""
    folder = tmp_path_factory.mktemp("go5") / "runs" / "go5-zero"
    run(compose("env=go5", "agent=zero", "steps=64", *TINY, "eval.every=32", "eval.episodes=2", "logger=csv",
                "progress=false", "checkpoint_every=0", run_dir=str(folder)))
    return folder


def test_a_short_go_run_leaves_each_evaluations_game_in_its_run_directory(go5_run: Path) -> None:
    gifs, pngs = sorted((go5_run / "media").glob("eval-*.gif")), sorted((go5_run / "media").glob("eval-*.png"))
    steps = [int(p.stem.split("-")[1]) for p in gifs]
    assert len(steps) >= 2 and steps == [int(p.stem.split("-")[1]) for p in pngs] and steps[0] == 32
    side = rgb_array(GoState.new(5)).shape[0]
    for gif, png in zip(gifs, pngs, strict=True):
        assert Image.open(gif).n_frames > 1
        assert Image.open(png).size == (side, side)


def test_the_report_of_a_go_run_shows_its_latest_sample_game(go5_run: Path, tmp_path: Path) -> None:
    out = write_report(ReportSpec(name="go5", runs=[str(go5_run.parent)], out=tmp_path / "go5.md",
                                  metrics=["eval/win_capture"], xs=["env_steps"]))
    text = out.read_text()
    assert "## Sample games" in text and text.index("## Learning curves") < text.index("## Sample games")
    images = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text[text.index("## Sample games"):])
    assert len(images) == 1 and (out.parent / images[0]).is_file()
    latest = sorted((go5_run / "media").glob("eval-*.png"))[-1]
    assert (out.parent / images[0]).read_bytes() == latest.read_bytes()
    assert f"**go5 zero**: seed 0 at {int(latest.stem.split('-')[1]):,} env steps ({media_title(latest)})" in text
