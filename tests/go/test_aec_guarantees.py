"""``envs.go.env()`` checks inline what PettingZoo's wrapper chain checks, with the same outcomes.

The reference is the chain PettingZoo's classic games use, built here around the same ``raw_env``:
``OrderEnforcingWrapper(AssertOutOfBoundsWrapper(TerminateIllegalWrapper(raw_env(), illegal_reward=-1)))``.
Every check is run on both and their results (return values, exception types and messages, rewards,
terminations, truncations, infos, agent order, warnings logged) are compared.
"""

from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from pettingzoo.test import api_test, seed_test
from pettingzoo.utils import wrappers

from envs.go import env, raw_env
from envs.go.aec import ILLEGAL_REWARD, CheckedAECEnv

LOGGER = "pettingzoo.utils.env_logger"


def reference(**kwargs: Any):
    game = wrappers.TerminateIllegalWrapper(raw_env(**kwargs), illegal_reward=-1)
    return wrappers.OrderEnforcingWrapper(wrappers.AssertOutOfBoundsWrapper(game))


def outcome(call: Callable[[], Any]) -> tuple:
    """``("ok", value)`` or ``(exception type, message)``: what a call did, comparably."""
    try:
        return ("ok", call())
    except Exception as err:  # noqa: BLE001 - the exception is the outcome compared
        return (type(err), str(err))


def snapshot(game) -> dict[str, Any]:
    """Everything a PettingZoo loop reads after a step (observation arrays as lists)."""
    out: dict[str, Any] = {"agents": list(game.agents), "selection": game.agent_selection}
    for name in ("rewards", "terminations", "truncations", "infos", "_cumulative_rewards"):
        out[name] = copy.deepcopy(dict(getattr(game, name)))
    if game.agents:
        obs, reward, term, trunc, info = game.last()
        out["last"] = (obs["observation"].tolist(), obs["action_mask"].tolist(), reward, term, trunc, info)
    return out


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """Messages PettingZoo's EnvLogger logged since the last call."""
    caplog.set_level(logging.WARNING, logger=LOGGER)

    def take() -> list[str]:
        messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
        caplog.clear()
        return messages

    return take


def test_raw_env_passes_pettingzoo_api_test_too() -> None:
    """raw_env's own last/agent_iter/step (env() builds on them) follow the AEC API without any checks on top."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api_test(raw_env(board_size=5, history=2), num_cycles=300)
        seed_test(lambda **kw: raw_env(board_size=5, **kw), num_cycles=30)


# -- before reset ----------------------------------------------------------------------------------------------------

BEFORE_RESET = {
    "step": lambda g: g.step(0),
    "observe": lambda g: g.observe("black_0"),
    "last": lambda g: g.last(),
    "render": lambda g: g.render(),
    "agent_iter": lambda g: g.agent_iter(),
    **{name: (lambda g, n=name: getattr(g, n)) for name in
       ("rewards", "terminations", "truncations", "infos", "agent_selection", "agents", "num_agents")},
}


@pytest.mark.parametrize("what", sorted(BEFORE_RESET))
def test_calls_before_reset_fail_like_order_enforcing(what: str) -> None:
    ours = outcome(lambda: BEFORE_RESET[what](env(board_size=5, render_mode="ansi")))
    theirs = outcome(lambda: BEFORE_RESET[what](reference(board_size=5, render_mode="ansi")))
    assert ours[0] in (AssertionError, AttributeError) and "reset" in ours[1]
    assert ours == theirs


def test_spaces_and_unwrapped_before_reset() -> None:
    game, ref = env(board_size=5), reference(board_size=5)
    assert isinstance(game, CheckedAECEnv) and game.unwrapped is game
    for agent in game.possible_agents:
        assert game.action_space(agent) == ref.action_space(agent)
        assert game.observation_space(agent) == ref.observation_space(agent)
    assert str(game) == str(ref) == "zoo_go_v0"
    game.reset()
    assert game.num_agents == 2 and game.agents == ["black_0", "white_0"]
    game.close()


@pytest.mark.parametrize("mode", ["ansi", "rgb_array"])
def test_render_after_reset(mode: str) -> None:
    game, ref = env(board_size=5, render_mode=mode), reference(board_size=5, render_mode=mode)
    for g in (game, ref):
        g.reset()
        g.step(12)
    ours, theirs = game.render(), ref.render()
    assert np.array_equal(ours, theirs) if mode == "rgb_array" else ours == theirs and "A B C D E" in ours


# -- illegal and out-of-bounds actions -------------------------------------------------------------------------------


def test_illegal_action_ends_the_game_with_penalty_and_warning(logged) -> None:
    runs = []
    for game in (env(board_size=5), reference(board_size=5)):
        game.reset()
        game.step(12)
        logged()
        game.step(12)  # white on black's stone: not in white's action_mask
        warnings = logged()
        runs.append((snapshot(game), warnings))
        assert len(warnings) == 1 and "Illegal move" in warnings[0]
    (ours, _), (theirs, _) = runs
    assert ours == theirs
    assert ILLEGAL_REWARD == -1 and ours["rewards"] == {"black_0": 0, "white_0": -1.0}
    assert ours["_cumulative_rewards"] == {"black_0": 0.0, "white_0": -1.0}
    assert all(ours["terminations"].values()) and all(ours["truncations"].values())
    assert ours["selection"] == "black_0" and ours["infos"] == {"black_0": {}, "white_0": {}}


def test_dead_steps_after_illegal_end_then_step_after_done_warns(logged) -> None:
    runs = []
    for game in (env(board_size=5), reference(board_size=5)):
        game.reset()
        game.step(12)
        game.step(12)
        trail = [outcome(lambda g=game: g.step(0))]  # a finished agent must step with None
        trail.append(outcome(lambda g=game: g.step(26)))  # out of the space
        trail.append((game.agent_selection, game.last()[1]))
        game.step(None)
        trail.append((game.agent_selection, game.last()[1], list(game.agents)))
        game.step(None)
        trail.append((game.agent_selection, list(game.agents), game.rewards))
        logged()
        game.step(None)  # every agent is done
        trail.append(logged())
        runs.append(trail)
    assert runs[0] == runs[1]
    assert runs[0][0][0] is ValueError and runs[0][1][0] is AssertionError
    assert runs[0][2] == ("black_0", 0) and runs[0][3] == ("white_0", -1.0, ["white_0"])
    assert runs[0][4] == ("white_0", [], {}) and "step() called after all agents" in runs[0][5][0]


@pytest.mark.parametrize("action", [-1, 26, 1.0, "3", None, np.float32(2), np.array([3])])
def test_out_of_bounds_action_is_rejected(action: Any) -> None:
    results = []
    for game in (env(board_size=5), reference(board_size=5)):
        game.reset()
        results.append((outcome(lambda g=game: g.step(action)), snapshot(game)))
    assert results[0] == results[1]
    assert results[0][0] == (AssertionError, "action is not in action space")
    assert results[0][1]["selection"] == "black_0" and not results[0][1]["terminations"]["black_0"]


@pytest.mark.parametrize("action", [np.int64(12), np.int8(12), np.array(12), 12])
def test_integer_like_actions_are_played(action: Any) -> None:
    game = env(board_size=5)
    game.reset()
    game.step(action)
    assert game.state.board[2, 2] == 1 and game.agent_selection == "white_0"


def test_dead_step_after_a_normal_end() -> None:
    runs = []
    for game in (env(board_size=5, komi=0.5), reference(board_size=5, komi=0.5)):
        game.reset()
        for a in (12, 25, 25):
            game.step(a)
        trail = [snapshot(game), outcome(lambda g=game: g.step(3)), outcome(lambda g=game: g.step(99))]
        while game.agents:
            game.step(None)
            trail.append(snapshot(game))
        runs.append(trail)
    assert runs[0] == runs[1]
    assert runs[0][0]["rewards"] == {"black_0": 1.0, "white_0": -1.0}
    assert runs[0][1][0] is ValueError and runs[0][2][0] is AssertionError


def test_agent_iter_needs_a_step_between_agents() -> None:
    results = []
    for game in (env(board_size=5), reference(board_size=5)):
        game.reset()
        it = iter(game.agent_iter())
        first = next(it)
        results.append((first, outcome(lambda it=it: next(it))))
    assert results[0] == results[1]
    assert results[0][1][0] is AssertionError


# -- random games with illegal and out-of-bounds actions -------------------------------------------------------------


def drive(game, seed: int, games: int, logged) -> list:
    """Play ``games`` games through agent_iter/last/step with actions drawn from the observation: mostly legal,
    sometimes illegal, out of range or of a numpy type; sometimes a reset before the end. Returns the trace."""
    rng = np.random.default_rng(seed)
    trace: list = []
    for _ in range(games):
        game.reset()
        for agent in game.agent_iter(max_iter=200):
            obs, reward, term, trunc, info = game.last()
            mask = obs["action_mask"]
            u = rng.random()
            if term or trunc:
                action = None if u < 0.9 else int(rng.integers(0, 26))
            elif u < 0.04 and not mask.all():
                action = int(rng.choice(np.flatnonzero(mask == 0)))
            elif u < 0.06:
                action = int(rng.choice([-1, 26, 40]))
            else:
                action = rng.choice(np.flatnonzero(mask))
                action = int(action) if u < 0.5 else action  # numpy int64 half the time
            result = outcome(lambda a=action: game.step(a))
            trace.append((agent, obs["observation"].tolist(), mask.tolist(), reward, term, trunc, copy.deepcopy(info),
                          result[0], snapshot(game), logged()))
            if rng.random() < 0.003:
                break  # abandon the game mid-way
    return trace


def test_random_games_match_the_wrapper_chain(logged) -> None:
    kwargs = {"board_size": 5, "history": 2, "max_moves": 60}
    ours = drive(env(**kwargs), 7, 40, logged)
    theirs = drive(reference(**kwargs), 7, 40, logged)
    assert len(ours) == len(theirs) > 500
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a == b, f"step {i} differs"
    outcomes = {t[7] for t in ours}
    assert {"ok", AssertionError, ValueError} <= outcomes  # the games did hit the checks
    assert sum(1 for t in ours for m in t[9] if "Illegal move" in m) >= 3
