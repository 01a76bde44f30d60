"""Batched net-against-net matches (the gate of AlphaGo Zero, the evaluation against the previous best)."""

import dataclasses

import gymnasium
import numpy as np
import pytest
import torch
from search.test_mcts import material
from zero.test_agent import TINY

import envs  # noqa: F401  (registers the zoo Go envs)
from agents import build_agent
from agents.search.evaluator import FunctionEvaluator, UniformEvaluator
from agents.zero.config import ZeroConfig
from agents.zero.gating import net_match
from envs.go.game import GoGame

CFG = ZeroConfig(simulations=24, play_leaves=4, dirichlet_eps=0.0)


def test_a_searcher_with_a_real_value_beats_one_without():
    game = GoGame(5, komi=0.5)
    cfg = dataclasses.replace(CFG, simulations=48)
    result = net_match(game, cfg, FunctionEvaluator(material), UniformEvaluator(), 32, np.random.default_rng(0))
    assert result.games == 32
    assert result.score == pytest.approx(result.score_as_black + result.score_as_white)
    assert result.win_rate >= 0.75
    reverse = net_match(game, cfg, UniformEvaluator(), FunctionEvaluator(material), 32, np.random.default_rng(0))
    assert reverse.win_rate <= 0.25


def test_colours_alternate_and_sampling_makes_games_differ():
    game = GoGame(5, komi=0.5)
    result = net_match(game, CFG, UniformEvaluator(), UniformEvaluator(), 8, np.random.default_rng(1), sample_moves=6)
    # equal players: black's advantage at komi 0.5 shows up on both sides, so neither side sweeps both colours
    assert 0.0 < result.score < 8.0
    assert 0.0 <= result.score_as_black <= 4.0 and 0.0 <= result.score_as_white <= 4.0


def test_no_games_is_an_error():
    with pytest.raises(ValueError, match="at least one game"):
        net_match(GoGame(5), CFG, UniformEvaluator(), UniformEvaluator(), 0, np.random.default_rng(0))


def _agent(**overrides):
    env = gymnasium.make("zoo/Go5x5-v0")
    torch.manual_seed(0)
    agent = build_agent(dataclasses.replace(TINY, best_games=4, **overrides), env.observation_space,
                        env.action_space, np.random.default_rng(0))
    agent.collect(env)
    with torch.no_grad():  # the learner's net moves away from the best
        for p in agent.net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return agent


def _same(a, b) -> bool:
    return all(np.array_equal(x.detach().numpy(), y.detach().numpy())
               for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_continuous_update_moves_the_best_on_after_every_match():
    agent = _agent()
    assert agent.selfplay_evaluator is agent.evaluator and not _same(agent.net, agent.best_net)
    out = agent.evaluate_against_best()
    assert 0.0 <= out["eval/win_prev_best"] <= 1.0 and "gate/promoted" not in out
    assert _same(agent.net, agent.best_net)


@pytest.mark.parametrize(("threshold", "promoted"), [(0.0, True), (1.0, None)])
def test_the_gate_keeps_self_play_on_the_best_until_the_learner_beats_it(threshold, promoted):
    agent = _agent(gating=True, gate_threshold=threshold)
    assert agent.selfplay_evaluator is agent.best_evaluator
    out = agent.evaluate_against_best()
    if promoted is None:  # threshold 1: promoted only by winning every game
        promoted = out["eval/win_prev_best"] == 1.0
    assert out["gate/promoted"] == float(promoted)
    assert _same(agent.net, agent.best_net) == promoted


def test_the_best_net_survives_a_checkpoint():
    agent = _agent(gating=True)
    other = _agent(gating=True)
    other.load_state_dict(agent.state_dict())
    assert _same(other.best_net, agent.best_net) and not _same(other.best_net, other.net)
