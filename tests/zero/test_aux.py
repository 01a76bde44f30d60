"""KataGo's auxiliary targets for agent zero: ownership and score targets from the final count, their replay,
augmentation and losses, the score utility in search, warm starts from checkpoints without the heads, and the
one-line refusals."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import gymnasium
import numpy as np
import pytest
import torch
from conftest import ROOT, compose, subprocess_env, train_cmd

import envs  # noqa: F401  (registers the zoo envs)
from agents import build_agent
from agents.nets import NetConfig, build_net
from agents.search.evaluator import NetEvaluator, ScoreUtility, UniformEvaluator
from agents.zero import ZeroAgent, ZeroConfig
from agents.zero.learner import Learner, augment_batch, two_hot_cross_entropy
from agents.zero.replay import Replay
from agents.zero.selfplay import FinishedGame, SelfPlay
from envs.go.batch import GoBatch
from envs.go.features import symmetry_planes, symmetry_policy
from envs.go.game import GoGame
from envs.go.state import GoState
from zoo.errors import ConfigError
from zoo.run.checkpoint import list_checkpoints, load_checkpoint, save_checkpoint
from zoo.run.logging import read_metrics
from zoo.run.loop import Run

AUX = dict(ownership_weight=1.5, score_weight=0.05)
TINY = ZeroConfig(games=4, simulations=4, moves_per_collect=6, min_replay=1, batch_size=16, play_leaves=2,
                  max_moves_factor=0.6, ownership_weight=0.0, score_weight=0.0)
"""Without the auxiliary heads (on by default): the tests turn them on with ``AUX``."""

FINISHED = """
    . . X . O
    . O X . O
    . . X O O
    X X X O .
    . . X O ."""
"""A finished 5x5 position (both players pass): black's wall in column 2, white's in columns 3-4, and an
uncaptured white stone in black's area, which the area count takes as alive."""

OWNERS = np.array([[0, 0, 1, 0, -1],
                   [0, -1, 1, 0, -1],
                   [0, 0, 1, -1, -1],
                   [1, 1, 1, -1, -1],
                   [1, 1, 1, -1, -1]], np.int8)
"""Hand-computed area ownership of FINISHED (black +1): the region around the white stone touches both colours
(no one's), so do (0, 3) and (1, 3); (3, 4) and (4, 4) are white's; (4, 0) and (4, 1), walled off by the black
stones (3, 0) and (3, 1), are black's. Black 12 points, white 12: area 0, so white wins by komi."""


def finished_game(state: GoState, movers: list[int]) -> FinishedGame:
    """The FinishedGame self-play makes of a game that ended in ``state`` with positions recorded for ``movers``:
    ``state`` is loaded into a self-play row whose recorded positions are stand-ins, and the row is finished."""
    cfg = ZeroConfig(games=1, **AUX)
    selfplay = SelfPlay(cfg, GoGame(state.size, komi=state.komi), UniformEvaluator(), np.random.default_rng(0))
    selfplay.games.set_state(0, state)
    t = selfplay.trajectories[0]
    t.planes, t.policy = [np.zeros(1, np.uint8)] * len(movers), [np.zeros(26, np.float32)] * len(movers)
    t.to_play = list(movers)
    (game,) = selfplay._finish(np.zeros(1, bool))
    return game


def test_targets_of_a_finished_position_from_both_views() -> None:
    state = GoState.from_ascii(FINISHED, komi=0.5)
    state.play(25)
    state.play(25)
    assert state.is_terminal
    game = finished_game(state, [1, -1, 1])
    assert game.ownership.dtype == np.int8 and game.ownership.shape == (3, 25)
    np.testing.assert_array_equal(game.ownership[0].reshape(5, 5), OWNERS)  # black to move: black's view
    np.testing.assert_array_equal(game.ownership[1].reshape(5, 5), -OWNERS)  # white to move: white's view
    np.testing.assert_array_equal(game.ownership[2], game.ownership[0])
    # The score target is the engine's area score (black area - white area - komi) from the mover's view.
    assert state.score() == OWNERS.sum() - 0.5 == -0.5
    np.testing.assert_array_equal(game.score, [-0.5, 0.5, -0.5])
    np.testing.assert_array_equal(game.z, [-1, 1, -1])  # white won: consistent with the score's sign


def test_self_play_games_carry_the_final_count_of_their_last_position() -> None:
    cfg = ZeroConfig(games=8, simulations=4, resign_threshold=-1.0, **AUX)
    game = GoGame(5, komi=0.5)
    finished = SelfPlay(cfg, game, UniformEvaluator(), np.random.default_rng(3)).play(60)
    assert len(finished) >= 8
    for g in finished:
        state = game.new_state()
        for a in g.actions:
            state.play(a)
        planes = np.unpackbits(g.planes, axis=1, count=game.num_planes * 25).reshape(-1, game.num_planes, 5, 5)
        movers = np.where(planes[:, -1, 0, 0] == 1, 1, -1)  # the colour plane: ones when black is to move
        np.testing.assert_array_equal(g.ownership, movers[:, None] * state.ownership().reshape(1, 25))
        np.testing.assert_array_equal(g.score, movers * state.score())
    plain_cfg = ZeroConfig(games=4, simulations=4, ownership_weight=0.0, score_weight=0.0)
    plain = SelfPlay(plain_cfg, game, UniformEvaluator(), np.random.default_rng(3)).play(60)
    assert plain and all(g.ownership is None and g.score is None for g in plain)  # no heads: no targets


def test_a_resigned_game_has_no_auxiliary_targets() -> None:
    cfg = ZeroConfig(games=4, simulations=4, resign_threshold=-0.5, resign_playthrough=0.0, **AUX)
    finished = SelfPlay(cfg, GoGame(4, komi=0.5), UniformEvaluator(value=1.0), np.random.default_rng(1)).play(10)
    assert finished and all(g.resigned and g.ownership is None and g.score is None for g in finished)


def test_augmentation_keeps_ownership_aligned_with_the_stones() -> None:
    state = GoState.from_ascii("""
        X X . . .
        X O O . .
        . X . . .
        . . . O .
        . . . . O""", komi=0.5)
    game = GoGame(5, komi=0.5)
    n = 64
    planes = np.repeat(state.features()[None], n, axis=0)
    policy = np.zeros((n, 26), np.float32)
    policy[:, 2] = 1.0  # the point (0, 2)
    owners = np.repeat(state.ownership()[None].astype(np.float32), n, axis=0)
    assert len({symmetry_planes(owners[0], k).tobytes() for k in range(8)}) == 8  # no symmetry maps it to itself
    out_planes, out_policy, out_owners = augment_batch(game, planes, policy, np.random.default_rng(0), owners)
    seen = set()
    for i in range(n):
        (k,) = [k for k in range(8) if np.array_equal(symmetry_planes(planes[0], k), out_planes[i])]
        seen.add(k)
        np.testing.assert_array_equal(out_owners[i], symmetry_planes(owners[0], k))
        np.testing.assert_array_equal(out_policy[i], symmetry_policy(policy[0], k, 5))
        mover, opponent = out_planes[i, 0] == 1, out_planes[i, 8] == 1
        assert (out_owners[i][mover] == 1).all() and (out_owners[i][opponent] == -1).all()
    assert len(seen) == 8
    same_planes, same_policy = augment_batch(game, planes, policy, np.random.default_rng(0))  # without ownership
    np.testing.assert_array_equal(same_planes, out_planes)
    np.testing.assert_array_equal(same_policy, out_policy)


def test_the_replay_window_keeps_aux_targets_and_marks_positions_without_them() -> None:
    replay = Replay(5, (17, 5, 5), 26, aux=("ownership", "score"))
    packed, policy = np.zeros((3, 54), np.uint8), np.full((3, 26), 1 / 26, np.float16)
    owners = np.array([[1] * 25, [-1] * 25, [0] * 25], np.int8)
    replay.add(packed, policy, np.array([1, -1, 1], np.int8), owners, np.array([2.5, -2.5, 0.5], np.float32))
    replay.add(packed[:2], policy[:2], np.array([1, 1], np.int8))  # a resigned game: no targets
    state = replay.state_dict()
    assert state["ownership"].shape == (5, 25) and state["score"].dtype == np.float16
    np.testing.assert_array_equal(state["score"], [2.5, -2.5, 0.5, np.nan, np.nan])
    again = Replay(5, (17, 5, 5), 26, aux=("ownership", "score"))
    again.load_state_dict(state)
    a, b = replay.sample_batch(32, np.random.default_rng(0)), again.sample_batch(32, np.random.default_rng(0))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert a.ownership.shape == (32, 5, 5)
    owner = a.ownership[:, 0, 0]
    assert (a.score[owner == 1] == 2.5).all() and (a.score[owner == -1] == -2.5).all()  # targets stay together
    assert set(np.nan_to_num(a.score, nan=9.0)) == {2.5, -2.5, 0.5, 9.0}
    old = Replay(5, (17, 5, 5), 26)  # a window saved without auxiliary targets loads with none
    old.add(packed, policy, np.array([1, -1, 1], np.int8))
    warm = Replay(5, (17, 5, 5), 26, aux=("score",))
    warm.load_state_dict(old.state_dict())
    assert len(warm) == 3 and np.isnan(warm.state_dict()["score"]).all() and "ownership" not in warm.state_dict()
    plain = Replay(5, (17, 5, 5), 26)
    plain.load_state_dict(state)  # and one without aux heads ignores them
    assert len(plain) == 5 and "score" not in plain.state_dict()


def test_two_hot_cross_entropy_spreads_a_half_point_over_two_bins() -> None:
    log_p = torch.log_softmax(torch.randn(3, 11), dim=1)  # bins -5 .. 5
    ce = two_hot_cross_entropy(log_p, torch.tensor([1.5, -5.0, 9.0]), -5)
    torch.testing.assert_close(ce[0], -(log_p[0, 6] + log_p[0, 7]) / 2)
    torch.testing.assert_close(ce[1], -log_p[1, 0])
    torch.testing.assert_close(ce[2], -log_p[2, 10])  # beyond the bins: the last bin


def test_the_losses_fall_when_training_on_a_fixed_small_set() -> None:
    """Overfit check: 48 positions of finished 5x5 games, 300 steps: every head learns its targets."""
    cfg = ZeroConfig(games=8, simulations=4, batch_size=32, augment=False, ownership_weight=1.5, score_weight=0.1)
    game = GoGame(5, komi=0.5)
    games = SelfPlay(cfg, game, UniformEvaluator(), np.random.default_rng(0)).play(60)
    replay = Replay(48, (17, 5, 5), 26, aux=cfg.aux_heads)
    for g in games:
        replay.add(g.planes, g.policy.astype(np.float16), g.z, g.ownership, g.score)
    assert len(replay) == 48 and not np.isnan(replay.score).any()
    torch.manual_seed(0)
    net = build_net(NetConfig(kind="resnet", preset="b2c32", global_pool=True), 17, 5, 26, aux=cfg.aux_heads)
    learner, rng = Learner(cfg, net, "cpu"), np.random.default_rng(0)
    first = learner.train(replay, 1, rng, game)
    learner.train(replay, 280, rng, game)
    last = learner.train(replay, 20, rng, game)
    assert {"train/ownership_loss", "train/score_loss", "train/policy_loss", "train/value_loss"} <= set(last)
    assert last["train/ownership_loss"] < 0.3 * first["train/ownership_loss"], (first, last)
    assert last["train/score_loss"] < first["train/score_loss"] - 2.0, (first, last)
    assert last["train/value_loss"] < 0.5 * first["train/value_loss"], (first, last)
    weighted = (last["train/policy_loss"] + last["train/value_loss"] + 1.5 * last["train/ownership_loss"]
                + 0.1 * last["train/score_loss"])
    assert last["train/loss"] == pytest.approx(weighted, rel=1e-5)


def test_the_evaluator_hands_search_the_score_utility_in_range() -> None:
    torch.manual_seed(0)
    net = build_net(NetConfig(kind="resnet", preset="b2c32"), 17, 5, 26, aux=("score",)).eval()
    x = np.random.default_rng(0).integers(0, 2, (6, 17, 5, 5)).astype(np.float32)
    masks = np.ones((6, 26), bool)
    utility = ScoreUtility(0.5, 3.75)
    priors, mixed = NetEvaluator(net, utility=utility).evaluate(x, masks)
    plain_priors, values = NetEvaluator(net).evaluate(x, masks)
    np.testing.assert_allclose(priors, plain_priors, rtol=1e-6)
    with torch.no_grad():
        score = net(torch.from_numpy(x), aux=True).score_mean.numpy()
    np.testing.assert_allclose(mixed, (values + 0.5 * 2 / np.pi * np.arctan(score / 3.75)) / 1.5, rtol=1e-5)
    extreme = utility(torch.tensor([1.0, -1.0, 1.0]), torch.tensor([1e6, -1e6, 10.0]))
    assert extreme.abs().max() <= 1.0 and extreme[0] > extreme[2]  # never past 1, and more points rank higher


def make_agent(cfg: ZeroConfig, seed: int = 0, net: NetConfig | None = None) -> ZeroAgent:
    env = gymnasium.make("zoo/Go5x5-v0")
    torch.manual_seed(seed)
    return build_agent(cfg, env.observation_space, env.action_space, np.random.default_rng(seed), net=net)


def test_an_old_checkpoint_loads_with_fresh_aux_heads_and_a_notice(tmp_path: Path) -> None:
    env = gymnasium.make("zoo/Go5x5-v0", komi=0.5)
    old = make_agent(TINY)
    for _ in range(6):
        old.update(old.collect(env))
    assert old.learner.steps > 0 and len(old.replay) > 0
    saved = load_checkpoint(save_checkpoint(tmp_path / "c.pt", {"agent": old.state_dict()}))["agent"]
    new = make_agent(ZeroConfig(**{**TINY.__dict__, **AUX, "score_utility": 0.2}), seed=1)
    new.load_state_dict(saved)
    notice = "ownership and score heads not in the checkpoint: initialised fresh"
    assert new.warm_start == notice and new.describe()["warm start"] == notice
    for name, tensor in old.net.state_dict().items():
        torch.testing.assert_close(new.net.state_dict()[name], tensor)
    names = [n for n, _ in new.net.named_parameters()]
    moments = new.learner.optimizer.state
    first = next(iter(old.net.parameters()))
    torch.testing.assert_close(moments[new.net.trunk.stem[0].weight]["exp_avg"], old.learner.optimizer.state[first]
                               ["exp_avg"])  # the optimizer state of the old parameters is kept
    assert all(p not in moments for n, p in new.net.named_parameters() if n.startswith(("ownership.", "score.")))
    assert len(names) > len(list(old.net.parameters()))
    assert len(new.replay) == len(old.replay) and np.isnan(new.replay.score[: len(new.replay)]).all()
    before = new.learner.steps
    for _ in range(4):
        metrics = new.update(new.collect(env))
    assert new.learner.steps > before and "train/ownership_loss" in metrics and "train/score_loss" in metrics
    again = make_agent(TINY, seed=2)  # and back: the heads are dropped, with a notice
    again.load_state_dict(new.state_dict())
    assert again.warm_start == "ownership and score heads of the checkpoint dropped"
    again.update(again.collect(env))
    plain = make_agent(ZeroConfig(**{**TINY.__dict__, **AUX}), seed=3)
    plain.load_state_dict(new.state_dict())
    assert plain.warm_start is None and "warm start" not in plain.describe()


def test_settings_that_cannot_work_are_refused_in_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="agent.score_utility=0.2 searches with the score head, which "
                                         "agent.score_weight=0 leaves out"):
        ZeroConfig(score_utility=0.2, score_weight=0.0)
    agent = make_agent(ZeroConfig(**{**TINY.__dict__, **AUX, "score_utility": 0.2}))
    uncounting = SimpleNamespace(new_batch=lambda num_games, max_moves=None: SimpleNamespace())
    with pytest.raises(ValueError, match="agent.ownership_weight=1.5 and agent.score_weight=0.05 need a game whose "
                                         "batches count ownership and score"):
        agent.attach(uncounting)
    with pytest.raises(ValueError, match="agent.score_utility=0.2 needs one; use compress=none"):
        agent.set_selfplay_compression(SimpleNamespace(cfg=SimpleNamespace(method="bf16")))
    with pytest.raises(ValueError, match="ownership and score heads need a dual net .* net=mlp"):
        make_agent(ZeroConfig(**{**TINY.__dict__, **AUX}), net=NetConfig(kind="mlp"))
    # Through the run: a game whose batches cannot count stops the run before anything is made.
    monkeypatch.delattr(GoBatch, "ownership")
    cfg = compose("env=go5", "agent=zero", "agent.ownership_weight=1.5", "agent.score_weight=0", "logger=none",
                  "progress=false",
                  run_dir=str(tmp_path / "run"))
    with pytest.raises(ConfigError, match="agent=zero on env=go5: agent.ownership_weight=1.5 needs a game"):
        Run(cfg)
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_a_go5_run_with_aux_heads_and_global_pooling_checkpoints_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "run"
    common = ("env=go5", "agent=zero", "agent.games=4", "agent.simulations=4", "agent.moves_per_collect=4",
              "agent.max_moves_factor=0.5", "agent.min_replay=16", "agent.batch_size=16", "agent.best_games=0",
              "agent.ownership_weight=1.5", "agent.score_weight=0.02", "agent.score_utility=0.2", "net=resnet",
              "net.preset=b2c32", "net.global_pool=true", "eval.every=0", "eval.episodes=2", "checkpoint_every=32",
              "logger=csv", "progress=false", f"hydra.run.dir={out}")
    first = subprocess.run(train_cmd(*common, "steps=96"), cwd=ROOT, env=subprocess_env(), capture_output=True,
                           text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    assert list_checkpoints(out)
    rows = read_metrics(out / "metrics.jsonl")
    assert any("train/ownership_loss" in r and "train/score_loss" in r for r in rows), rows[-1]
    second = subprocess.run(train_cmd(*common, "steps=160", f"resume={out}"), cwd=ROOT, env=subprocess_env(),
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["env_steps"] >= 160
    agent = load_checkpoint(list_checkpoints(out)[-1])["agent"]
    assert any(k.startswith("ownership.") for k in agent["net"]) and "score" in agent["replay"]
