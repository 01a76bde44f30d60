"""Go envs: PettingZoo AEC (api_test, seed_test) and the Gymnasium single-agent view (check_env), rules at
the edges: observations, masks, illegal actions, reward signs, move cap, rendering."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import api_test, seed_test

import envs
from envs.go import BLACK, WHITE, GoState, IllegalMoveError, env, raw_env
from envs.go.single import GoEnv

GO_IDS = sorted(i for i in gymnasium.registry if i.startswith(f"{envs.registry.NAMESPACE}/Go"))


def test_every_go_size_is_registered() -> None:
    assert GO_IDS == sorted(f"zoo/Go{n}x{n}-v0" for n in (5, 7, 9, 13, 19))


@pytest.mark.parametrize("size", [5, 9, 19])
def test_pettingzoo_api(size: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api_test(env(board_size=size, history=2), num_cycles=1000)


def test_pettingzoo_seed() -> None:
    seed_test(lambda **kw: env(board_size=7, **kw), num_cycles=50)


@pytest.mark.parametrize("env_id", GO_IDS)
def test_gymnasium_check_env(env_id: str) -> None:
    game = gymnasium.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(game.unwrapped)
    obs, info = game.reset(seed=0)
    n = game.unwrapped.board_size
    assert obs.shape == (17, n, n) and obs.dtype == np.float32
    assert info["action_mask"].dtype == np.int8 and info["action_mask"].shape == (n * n + 1,)


def test_aec_observation_is_features_planes() -> None:
    game = raw_env(board_size=5, history=3)
    game.reset()
    for a in (12, 6, 25):
        game.step(a)
    state = game.state
    mover = "black_0" if state.to_play == BLACK else "white_0"
    other = "white_0" if mover == "black_0" else "black_0"
    obs = game.observe(mover)
    assert np.array_equal(obs["observation"], state.features())
    assert np.array_equal(obs["action_mask"], state.legal_mask().astype(np.int8))
    theirs = game.observe(other)
    assert np.array_equal(theirs["observation"][:3], state.features()[3:6])
    assert not theirs["action_mask"].any()


def _play(game, actions: list[int]) -> None:
    for a in actions:
        game.step(a)


def test_aec_two_passes_reward_signs_and_score() -> None:
    game = env(board_size=5, komi=0.5)
    game.reset()
    _play(game, [12, 25, 25])  # black plays the centre; white passes; black passes
    assert all(game.terminations.values()) and not any(game.truncations.values())
    _, reward, term, trunc, info = game.last()  # white_0
    assert game.agent_selection == "white_0" and reward == -1 and term
    assert game.rewards == {"black_0": 1.0, "white_0": -1.0}
    assert info["score"] == 24.5 and info["winner"] == BLACK


def test_aec_draw_at_integer_komi() -> None:
    game = env(board_size=5, komi=25)
    game.reset()
    _play(game, [12, 25, 25])
    assert game.rewards == {"black_0": 0.0, "white_0": 0.0}


def test_aec_move_cap_truncates_with_scored_rewards() -> None:
    game = env(board_size=5, komi=0.5, max_moves=3)
    game.reset()
    _play(game, [12, 0, 1])
    assert all(game.truncations.values()) and not any(game.terminations.values())
    assert game.rewards["black_0"] == -game.rewards["white_0"] != 0


def test_aec_illegal_action_terminates_with_penalty() -> None:
    game = env(board_size=5)
    game.reset()
    game.step(12)
    game.step(12)  # white plays on the black stone (PettingZoo logs a warning)
    assert all(game.terminations.values()) and all(game.truncations.values())
    assert game.rewards == {"black_0": 0, "white_0": -1}


def test_raw_env_raises_on_illegal() -> None:
    game = raw_env(board_size=5)
    game.reset()
    game.step(12)
    with pytest.raises(IllegalMoveError, match="occupied"):
        game.step(12)


@pytest.mark.parametrize("factory", [lambda m: raw_env(board_size=9, render_mode=m),
                                     lambda m: GoEnv(board_size=9, render_mode=m)])
def test_render_modes(factory) -> None:
    game = factory("ansi")
    game.reset()
    game.step(40)
    text = game.render()
    assert "A B C D E F G H J" in text and "(X)" in text and "last move" in text
    game = factory("rgb_array")
    game.reset()
    img = game.render()
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    game.step(40)
    after = game.render()
    assert (after != img).any()
    with pytest.raises(ValueError, match="valid"):
        factory("human")


def test_single_illegal_action_ends_episode() -> None:
    game = GoEnv(board_size=5)
    game.reset(seed=0)
    obs, reward, term, trunc, info = game.step(26)
    assert (reward, term, trunc, info["illegal_move"]) == (-1.0, True, False, "out of range")
    assert not info["action_mask"].any() and not game.action_masks().any()
    game.reset(seed=0)
    game.step(12)
    occupied = int(np.flatnonzero(game.state.board.reshape(-1))[0])
    _, reward, term, _, info = game.step(occupied)
    assert reward == -1 and term and info["illegal_move"] == "occupied"
    with pytest.raises(RuntimeError, match="reset"):
        game.step(0)


def test_single_agent_white_and_callable_opponent() -> None:
    def always_pass(state: GoState, rng: np.random.Generator) -> int:
        return state.size * state.size

    game = GoEnv(board_size=5, komi=0.5, opponent=always_pass, agent_color="white")
    obs, info = game.reset(seed=1)
    assert info["agent_color"] == "white" and game.state.move_count == 1 and game.state.to_play == WHITE
    assert obs[-1].max() == 0  # white to move
    obs, reward, term, trunc, info = game.step(12)  # white plays; black passes
    assert reward == 0 and not term
    obs, reward, term, trunc, info = game.step(25)  # white passes: two passes end it, white is ahead
    assert term and reward == 1 and info["score"] == -25.5 and info["winner"] == WHITE


def test_single_random_colour_is_seeded() -> None:
    game = GoEnv(board_size=5, agent_color="random", opponent="capture")
    colours = [game.reset(seed=s)[1]["agent_color"] for s in range(20)]
    assert set(colours) == {"black", "white"}
    assert colours == [game.reset(seed=s)[1]["agent_color"] for s in range(20)]


def test_single_full_games_reward_signs() -> None:
    game = GoEnv(board_size=5, komi=0.5, opponent="random", agent_color="random", max_moves=60)
    rng = np.random.default_rng(0)
    for episode in range(10):
        obs, info = game.reset(seed=episode)
        done = False
        while not done:
            mask = info["action_mask"]
            assert np.array_equal(mask.astype(bool), game.action_masks())
            obs, reward, term, trunc, info = game.step(int(rng.choice(np.flatnonzero(mask))))
            done = term or trunc
        colour = BLACK if info["agent_color"] == "black" else WHITE
        assert reward == info["winner"] * colour and reward in (-1.0, 1.0)
        assert "illegal_move" not in info


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="valid: capture, random"):
        GoEnv(opponent="strong")
    with pytest.raises(ValueError, match="agent_color"):
        GoEnv(agent_color="red")
