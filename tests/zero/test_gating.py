"""Batched net-against-net matches (the gate of AlphaGo Zero, the evaluation against the previous best)."""

import copy
import dataclasses

import gymnasium
import numpy as np
import pytest
import torch
from search.test_mcts import material
from zero.test_agent import TINY

import envs  # noqa: F401  (registers the zoo Go envs)
from agents import build_agent
from agents.search.evaluator import FunctionEvaluator, NetEvaluator, UniformEvaluator
from agents.zero.config import ZeroConfig
from agents.zero.gating import NetMatch, net_match
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
    assert 0.0 < result.score < 8.0 and result.score == result.score_as_black + result.score_as_white


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


def _replayed(agent) -> NetMatch:
    """The match ``agent.evaluate_against_best()`` is about to play, played first on copies of its two nets and
    of its generator (the search is deterministic given them)."""
    return net_match(agent.game, agent.cfg, NetEvaluator(copy.deepcopy(agent.net)),
                     NetEvaluator(copy.deepcopy(agent.best_net)), agent.cfg.best_games, copy.deepcopy(agent.rng))


def _assert_reports(out: dict[str, float], expected: NetMatch) -> None:
    """``out`` reports ``expected``: the score per game, and per colour per game of that colour."""
    games = expected.games
    assert out["eval/win_prev_best"] == expected.win_rate, (out, expected)
    assert out["eval/win_prev_best_as_black"] == expected.score_as_black / ((games + 1) // 2), (out, expected)
    assert out["eval/win_prev_best_as_white"] == expected.score_as_white / (games // 2), (out, expected)


def test_continuous_update_moves_the_best_on_after_every_match():
    agent = _agent()
    assert agent.selfplay_evaluator is agent.evaluator and not _same(agent.net, agent.best_net)
    expected = _replayed(agent)
    out = agent.evaluate_against_best()
    _assert_reports(out, expected)
    assert "gate/promoted" not in out
    assert _same(agent.net, agent.best_net)


def test_the_gate_promotes_the_learner_exactly_when_it_scores_the_threshold():
    """Thresholds at the learner's score (promoted) and one game above it (kept): the gate's decision is
    ``score >= gate_threshold`` on the score the match reports; self-play stays on the best until then."""
    expected = _replayed(_agent(gating=True))  # every _agent() is the same agent: same seed, same perturbation
    step = 1.0 / expected.games
    assert expected.win_rate <= 1.0 - step, expected  # room for a threshold above the score (measured: 3/4)
    for threshold, promoted in ((expected.win_rate, True), (expected.win_rate + step, False)):
        agent = _agent(gating=True, gate_threshold=threshold)
        assert agent.selfplay_evaluator is agent.best_evaluator
        out = agent.evaluate_against_best()
        _assert_reports(out, expected)
        assert out["gate/promoted"] == float(promoted), threshold
        assert _same(agent.net, agent.best_net) == promoted


def test_the_best_net_survives_a_checkpoint():
    agent = _agent(gating=True)
    other = _agent(gating=True)
    other.load_state_dict(agent.state_dict())
    assert _same(other.best_net, agent.best_net) and not _same(other.best_net, other.net)
