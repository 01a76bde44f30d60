"""envs.gridworld: API conformance, the exact model (against Gymnasium's FrozenLake), dynamics, rendering, maps."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs  # noqa: F401  (registers the zoo/ ids)
from agents.planning import value_iteration
from envs.gridworld import DOWN, LEFT, RIGHT, UP, GridWorldEnv

GRID_IDS = sorted(
    env_id
    for env_id, spec in gymnasium.registry.items()
    if env_id.startswith("zoo/") and spec.entry_point == "envs.gridworld:GridWorldEnv"
)


def test_every_preset_is_registered() -> None:
    assert len(GRID_IDS) >= 7
    assert {"zoo/FrozenLake8x8-v0", "zoo/CliffWalking-v0", "zoo/WindyGridworld-v0", "zoo/Maze-v0"} <= set(GRID_IDS)


@pytest.mark.parametrize("env_id", GRID_IDS)
@pytest.mark.parametrize("render_mode", [None, "ansi", "rgb_array"])
def test_check_env_passes_without_warnings(env_id: str, render_mode: str | None) -> None:
    env = gymnasium.make(env_id, render_mode=render_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)


@pytest.mark.parametrize("env_id", GRID_IDS)
def test_model_rows_are_distributions(env_id: str) -> None:
    env = gymnasium.make(env_id).unwrapped
    n_states = env.observation_space.n
    for s in range(n_states):
        for a in range(4):
            entries = env.P[s][a]
            assert abs(sum(p for p, *_ in entries) - 1.0) < 1e-12
            outcomes = [(nxt, r, done) for _, nxt, r, done in entries]
            assert len(outcomes) == len(set(outcomes)), "coinciding outcomes must be merged"
            assert all(0 <= nxt < n_states for nxt in (o[0] for o in outcomes))


def _distribution(entries: list) -> dict:
    """{(next_state, reward, terminated): total probability} of a P[s][a] list (Gymnasium repeats outcomes)."""
    out: dict = {}
    for prob, nxt, reward, done in entries:
        key = (int(nxt), float(reward), bool(done))
        out[key] = out.get(key, 0.0) + prob
    return out


@pytest.mark.parametrize(
    ("zoo_id", "gym_kwargs"),
    [
        ("zoo/FrozenLake8x8-v0", {"map_name": "8x8", "is_slippery": True}),
        ("zoo/FrozenLake4x4-v0", {"map_name": "4x4", "is_slippery": True}),
        ("zoo/FrozenLake8x8Det-v0", {"map_name": "8x8", "is_slippery": False}),
    ],
)
def test_frozenlake_model_equals_gymnasium(zoo_id: str, gym_kwargs: dict) -> None:
    ours = gymnasium.make(zoo_id).unwrapped
    theirs = gymnasium.make("FrozenLake-v1", **gym_kwargs).unwrapped
    assert ours.observation_space == theirs.observation_space
    assert ours.action_space == theirs.action_space
    for s in range(ours.observation_space.n):
        for a in range(4):
            mine, ref = _distribution(ours.P[s][a]), _distribution(theirs.P[s][a])
            assert mine.keys() == ref.keys(), (s, a)
            for key, prob in ref.items():
                assert mine[key] == pytest.approx(prob, abs=1e-12), (s, a, key)


def test_sampling_follows_the_model() -> None:
    env = GridWorldEnv("frozenlake8", slip=2 / 3)
    env.reset(seed=3)
    counts: dict[int, int] = {}
    n = 30_000
    for _ in range(n):
        env.s = 9  # row 1, col 1: three distinct outcomes of RIGHT
        nxt, *_ = env.step(RIGHT)
        counts[nxt] = counts.get(nxt, 0) + 1
    for prob, nxt, _, _ in env.P[9][RIGHT]:
        assert counts[nxt] / n == pytest.approx(prob, abs=0.015)
    assert set(counts) == {nxt for _, nxt, _, _ in env.P[9][RIGHT]}


def _rollout(env: gymnasium.Env, seed: int, actions: list[int]) -> list[tuple]:
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        out.append((obs, reward, terminated, truncated, info["prob"]))
        if terminated or truncated:
            obs, _ = env.reset()
            out.append(obs)
    return out


def test_same_seed_same_trajectory_other_seed_differs() -> None:
    actions = [int(a) for a in np.random.default_rng(0).integers(0, 4, size=400)]
    first = _rollout(gymnasium.make("zoo/FrozenLake8x8-v0"), 7, actions)
    again = _rollout(gymnasium.make("zoo/FrozenLake8x8-v0"), 7, actions)
    other = _rollout(gymnasium.make("zoo/FrozenLake8x8-v0"), 8, actions)
    assert first == again
    assert first != other


def test_render_modes() -> None:
    env = gymnasium.make("zoo/CliffWalking-v0", render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert text.strip().splitlines()[-1] == "@CCCCCCCCCCG"
    env.step(UP)
    lines = env.render().splitlines()
    assert lines[0].strip() == "(Up)" and lines[-2] == "@..........."
    env = gymnasium.make("zoo/Maze-v0", render_mode="rgb_array")
    env.reset(seed=0)
    image = env.render()
    assert image.shape == (11 * 16, 11 * 16, 3) and image.dtype == np.uint8
    assert tuple(image[8, 8]) == (220, 40, 40)  # the agent on the start cell
    assert tuple(image[8, 16 + 8]) == (70, 70, 70)  # the blocked cell to its right


def test_cliff_semantics() -> None:
    env = gymnasium.make("zoo/CliffWalking-v0")
    start, _ = env.reset(seed=0)
    assert start == 36
    obs, reward, terminated, _, info = env.step(RIGHT)  # into the cliff
    assert (obs, reward, terminated, info["is_success"]) == (36, -100.0, False, False)
    obs, reward, terminated, _, _ = env.step(UP)
    assert (obs, reward, terminated) == (24, -1.0, False)
    total, terminated = -1.0, False
    for action in [RIGHT] * 11 + [DOWN]:
        obs, reward, terminated, _, info = env.step(action)
        total += reward
    assert (obs, total, terminated, info["is_success"]) == (47, -13.0, True, True)


def test_wind_semantics() -> None:
    env = GridWorldEnv("windy")
    ncol = env.ncol
    assert env.wind == (0, 0, 0, 1, 1, 1, 2, 2, 1, 0)
    assert env.P[3 * ncol + 3][RIGHT] == [(1.0, 2 * ncol + 4, -1.0, False)]  # wind 1 of column 3
    assert env.P[3 * ncol + 6][RIGHT] == [(1.0, 1 * ncol + 7, -1.0, False)]  # wind 2 of column 6 skips the goal
    assert env.P[3 * ncol + 2][RIGHT] == [(1.0, 3 * ncol + 3, -1.0, False)]  # no wind in column 2
    assert env.P[0 * ncol + 6][LEFT] == [(1.0, 0 * ncol + 5, -1.0, False)]  # the top edge stops the push
    assert env.P[4 * ncol + 7][UP] == [(1.0, 1 * ncol + 7, -1.0, False)]  # move 1 + wind 2
    v, _, _ = value_iteration(env.P, env.observation_space.n, 4, gamma=1.0)
    assert v[env.start_state] == pytest.approx(-15.0)  # Sutton & Barto: the shortest windy path takes 15 steps


def test_goal_and_hole_end_the_episode() -> None:
    env = GridWorldEnv("frozenlake4")  # deterministic
    env.reset(seed=0)
    obs, reward, terminated, _, info = env.step(DOWN)
    obs, reward, terminated, _, info = env.step(RIGHT)  # (1, 1) is a hole
    assert (obs, reward, terminated, info["is_success"]) == (5, 0.0, True, False)
    env.reset()
    for action in (DOWN, DOWN, RIGHT, RIGHT, DOWN, RIGHT):
        obs, reward, terminated, _, info = env.step(action)
    assert (obs, reward, terminated, info["is_success"]) == (15, 1.0, True, True)


def test_custom_desc_with_walls() -> None:
    env = GridWorldEnv(desc=["S#G", "..."])
    assert env.observation_space.n == 6 and env.start_state == 0
    assert env.P[0][RIGHT] == [(1.0, 0, 0.0, False)]  # a blocked cell stops the move
    assert env.P[0][DOWN] == [(1.0, 3, 0.0, False)]
    assert env.P[5][UP] == [(1.0, 2, 1.0, True)]
    assert env.P[1][LEFT] == [(1.0, 1, 0.0, True)]  # blocked cells are absorbing
    v, _, policy = value_iteration(env.P, 6, 4, gamma=0.9)
    assert v[0] == pytest.approx(0.9**3)
    slippery = GridWorldEnv(desc=["S#G", "..."], slip=0.5)
    assert _distribution(slippery.P[3][RIGHT]) == {(4, 0.0, False): 0.5, (0, 0.0, False): 0.25, (3, 0.0, False): 0.25}


def test_maze_is_solvable() -> None:
    env = GridWorldEnv("maze")
    v, _, _ = value_iteration(env.P, env.observation_space.n, 4, gamma=1.0)
    assert v[env.start_state] == pytest.approx(-40.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"desc": ["S.G", ".."]}, "differ in length"),
        ({"desc": ["S.X", "..G"]}, "unknown characters"),
        ({"desc": ["..G", "..."]}, "exactly one start"),
        ({"desc": ["S.G", "S.."]}, "exactly one start"),
        ({"desc": ["S#G", "#.."]}, "no goal 'G' reachable"),
        ({"desc": ["SHG"]}, "no goal 'G' reachable"),
        ({"desc": []}, "empty"),
        ({"desc": ["S.G"], "wind": [0, 1]}, "wind must be 3"),
        ({"map_name": "nope"}, "unknown map_name 'nope'"),
        ({"slip": 1.5}, "slip must be in"),
        ({"render_mode": "human"}, "render_mode 'human'"),
    ],
)
def test_bad_maps_give_one_clear_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GridWorldEnv(**kwargs)


def test_bad_action_is_rejected() -> None:
    env = GridWorldEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action must be in 0..3"):
        env.step(4)


def test_render_path_marks_floor_only() -> None:
    env = GridWorldEnv("cliff")
    text = env.render_path([36, 24, 25, 26, 38])
    assert text.splitlines()[2] == "***........."
    assert text.splitlines()[3] == "SCCCCCCCCCCG"
