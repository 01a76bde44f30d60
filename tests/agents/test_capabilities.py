"""The capability protocols of ``agents/protocol.py``: who declares what, and what the new methods do.

The zero agent's self-player methods take over what the Ray learner did on its internals (replay window, games
counted, recent games, the self-play net); they must give the same numbers as that bookkeeping did.
"""

from __future__ import annotations

import dataclasses

import gymnasium
import numpy as np
import pytest
import torch

import envs  # noqa: F401  (registers the zoo envs)
from agents import build_agent
from agents.alphago import AlphaGoConfig
from agents.dqn import DQNConfig
from agents.protocol import Accelerable, Agent, Searcher, SelfPlayer
from agents.tabular import TabularConfig
from agents.zero import ZeroAgent, ZeroConfig
from zoo.play.gtp_client import GtpPlayer
from zoo.play.players import ActPlayer, BatchPlayer, MctsPlayer, Player, RandomPlayer, SearchPlayer

TINY = ZeroConfig(games=4, simulations=4, moves_per_collect=4, max_moves_factor=0.5, min_replay=16, batch_size=16,
                  play_leaves=2)


def go5() -> gymnasium.Env:
    return gymnasium.make("zoo/Go5x5-v0")


def build(cfg, seed: int = 0, env: gymnasium.Env | None = None):  # noqa: ANN001, ANN201
    env = env or go5()
    torch.manual_seed(seed)
    return build_agent(cfg, env.observation_space, env.action_space, np.random.default_rng(seed))


def finished_games(agent: ZeroAgent, env: gymnasium.Env, at_least: int = 3) -> list:
    """Games from the agent's own collects, until at least ``at_least`` finished."""
    games: list = []
    while len(games) < at_least:
        games += agent.collect(env).games
    return games


def old_bookkeeping(agent: ZeroAgent, games: list) -> int:
    """What the Ray learner did with a worker's games before ``add_games`` (``RayRun._add_games``)."""
    new = 0
    for g in games:
        if len(g.z):
            agent.replay.add(g.planes, g.policy.astype(np.float16), g.z)
            new += len(g.z)
    agent.games_played += len(games)
    agent.recent_games = (agent.recent_games + games)[-4:]
    return new


def replay_arrays(agent: ZeroAgent) -> dict:
    return agent.replay.state_dict()


# -- who declares what --------------------------------------------------------------------------------------------


def test_agents_declare_their_capabilities() -> None:
    zero, alphago = build(TINY), build(AlphaGoConfig())
    assert isinstance(zero, Searcher) and isinstance(zero, SelfPlayer) and isinstance(zero, Accelerable)
    assert {Searcher, SelfPlayer, Accelerable} <= set(ZeroAgent.__mro__) and isinstance(zero, Agent)  # declared
    assert isinstance(alphago, Searcher) and Searcher in type(alphago).__mro__
    assert not isinstance(alphago, SelfPlayer | Accelerable)
    lake = gymnasium.make("FrozenLake-v1")
    for cfg, env in ((TabularConfig(), lake), (DQNConfig(), lake)):
        agent = build(cfg, env=env)
        assert not isinstance(agent, Searcher | SelfPlayer | Accelerable), cfg


def test_every_player_is_a_player_and_searchers_batch() -> None:
    zero = build(TINY)
    zero.attach(go5().unwrapped.game)
    players = [RandomPlayer(0), MctsPlayer(8, 0), ActPlayer(zero, 8), SearchPlayer(zero), zero]
    assert all(isinstance(p, Player) for p in players)
    assert [isinstance(p, BatchPlayer) for p in players] == [False, False, False, True, True]
    assert all(callable(getattr(GtpPlayer, k)) for k in ("select_move", "reset", "reseed"))


# -- Searcher ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cfg", [TINY, AlphaGoConfig(simulations=4, play_leaves=2)], ids=["zero", "alphago"])
def test_reseed_replays_the_moves_and_select_moves_needs_a_game(cfg) -> None:  # noqa: ANN001
    agent, env = build(cfg), go5()
    state = env.unwrapped.game.new_state()
    with pytest.raises(ValueError, match="attach"):
        agent.select_moves([state])
    agent.attach(env.unwrapped.game)
    runs = []
    for _ in range(2):
        agent.reseed(3)
        agent.reset()
        runs.append((agent.select_moves([state, state]), agent.select_move(state), agent.rng.random()))
    assert runs[0] == runs[1]
    assert all(state.is_legal(a) for a in runs[0][0] + [runs[0][1]])


def test_a_search_player_reseeds_and_resets_its_agent() -> None:
    agent = build(TINY)
    agent.attach(go5().unwrapped.game)
    player = SearchPlayer(agent, "zero")
    player.reseed(5)
    expected = np.random.default_rng(5).random()
    assert agent.rng.random() == expected
    agent.select_move(agent.game.new_state())
    player.reset()
    assert agent._play_tree is None


# -- SelfPlayer ----------------------------------------------------------------------------------------------------


def test_add_games_keeps_the_books_the_ray_learner_kept() -> None:
    player, env = build(TINY), go5()
    games = finished_games(player, env)
    old, new = build(TINY, seed=1), build(TINY, seed=1)
    for chunk in (games[:1], games[1:]):
        assert new.add_games(chunk) == old_bookkeeping(old, chunk) == sum(len(g.z) for g in chunk)
    assert new.games_played == old.games_played == len(games)
    assert [id(g) for g in new.recent_games] == [id(g) for g in old.recent_games] == [id(g) for g in games[-4:]]
    a, b = replay_arrays(new), replay_arrays(old)
    assert a["added"] == b["added"] and all(np.array_equal(a[k], b[k]) for k in ("planes", "policy", "z"))
    assert new.replay_size == len(new.replay) and new.replay_added == new.replay.added > 0


def test_collect_counts_its_games_as_add_games_does() -> None:
    agent, twin, env = build(TINY), build(TINY, seed=1), go5()
    total = 0
    for _ in range(6):
        batch = agent.collect(env)
        total += batch.new_positions
        assert twin.add_games(batch.games) == batch.new_positions
    assert agent.games_played == twin.games_played and agent.replay_added == twin.replay_added == total
    assert [id(g) for g in agent.recent_games] == [id(g) for g in twin.recent_games]


def test_add_positions_puts_stored_positions_back() -> None:
    player, env = build(TINY), go5()
    games = [g for g in finished_games(player, env) if len(g.z)]
    planes = np.concatenate([g.planes for g in games])
    policy = np.concatenate([g.policy for g in games]).astype(np.float16)
    z = np.concatenate([g.z for g in games])
    stored, books = build(TINY, seed=1), build(TINY, seed=1)
    stored.add_positions(planes, policy, z, games=len(games))
    old_bookkeeping(books, games)
    a, b = replay_arrays(stored), replay_arrays(books)
    assert all(np.array_equal(a[k], b[k]) for k in ("planes", "policy", "z")) and a["added"] == b["added"]
    assert stored.games_played == len(games) and stored.recent_games == []


@pytest.mark.parametrize("gating", [False, True])
def test_selfplay_weights_are_the_best_net_under_gating_else_the_learners(gating: bool) -> None:
    cfg = dataclasses.replace(TINY, gating=gating)
    agent = build(cfg)
    with torch.no_grad():
        for p in agent.net.parameters():
            p.add_(1.0)  # the learner's net moves away from the best net
    source = agent.best_net if gating else agent.net
    other = agent.net if gating else agent.best_net
    weights = agent.selfplay_weights()
    for k, v in source.state_dict().items():
        assert weights[k].device.type == "cpu" and torch.equal(weights[k], v.cpu())
        assert weights[k].data_ptr() != v.data_ptr()  # a copy: publishing it lets the learner train on
    assert any(not torch.equal(weights[k], v) for k, v in other.state_dict().items())
    worker = build(cfg, seed=1)
    worker.load_selfplay_weights(weights)
    target = worker.best_net if gating else worker.net
    assert all(torch.equal(target.state_dict()[k], v) for k, v in weights.items())


def test_training_settings_and_steps_read_through_the_protocol() -> None:
    agent = build(dataclasses.replace(TINY, min_replay=0, batch_size=8))
    assert agent.min_replay == 1 and agent.batch_size == 8 and agent.learner_steps == 0
    env = go5()
    for _ in range(4):
        agent.update(agent.collect(env))
    assert agent.learner_steps == agent.learner.steps > 0


# -- Accelerable -----------------------------------------------------------------------------------------------------


def test_precision_is_ignored_on_the_cpu() -> None:
    agent = build(TINY)
    agent.set_precision(torch.float16)
    assert agent.evaluator.amp_dtype is None and agent.best_evaluator.amp_dtype is None
    assert agent.learner.amp_dtype is None and agent.learner.scaler is None
