"""AlphaGo's search: lambda = 0 is the value-only search, lambda = 1 the rollout-only search, and in between a mix."""

from __future__ import annotations

import numpy as np
import pytest

from agents.alphago.config import AlphaGoConfig
from agents.alphago.search import MixedValue
from agents.search.evaluator import FunctionEvaluator
from agents.search.mcts import Search
from envs.go import rollout as R
from envs.go.game import GoGame
from envs.go.state import GoState


def heuristic(planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Uneven priors and a material value (tanh of the stone difference), from the mover's view."""
    k = (planes.shape[1] - 1) // 2
    diff = planes[:, 0].sum(axis=(1, 2)) - planes[:, k].sum(axis=(1, 2))
    logits = np.cos(np.arange(masks.shape[1])[None] * 0.7 + diff[:, None])
    return logits, np.tanh(diff / 2.0 + 0.3)


def weights() -> np.ndarray:
    w = np.zeros(R.NUM_FEATURES + 1)
    w[R.CAPTURE : R.CAPTURE + 3] = 3.0
    w[R.SELF_ATARI] = -2.0
    return w


def roots() -> tuple[GoGame, object]:
    game = GoGame(5, komi=0.5)
    states = []
    for moves in ((12, 6, 7), (0, 24, 6, 18), (12,)):
        s = GoState.new(5, komi=0.5)
        for a in moves:
            s.play(a)
        states.append(s)
    return game, game.batch_from_states(states)


def searched(hook, sims: int = 48) -> Search:
    game, batch = roots()
    cfg = AlphaGoConfig(simulations=sims, play_leaves=4, c_puct=1.5, fpu_reduction=0.25, virtual_loss=1.0).search_config
    search = Search(cfg, batch.num_games, game.num_actions, FunctionEvaluator(heuristic), np.random.default_rng(0),
                    leaves_per_game=4, max_simulations=sims)
    search.leaf_values = hook
    search.run(batch, sims)
    return search


def same_tree(a: Search, b: Search) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a.arrays, b.arrays, strict=True))


def test_lambda_zero_is_the_value_only_search() -> None:
    plain = searched(None)
    mixed_hook = MixedValue(0.0, weights(), seed=3)
    assert same_tree(searched(mixed_hook), plain)
    assert mixed_hook.rollouts == 0


def rollout_only(seed: int):
    """The rollout-only leaf evaluation written out: the playout outcome replaces the value, seeded per call."""
    calls = [0]

    def hook(batch, rows, values):
        calls[0] += 1
        return batch.rollout(weights(), seed + calls[0], rows=rows)

    return hook


def test_lambda_one_is_the_rollout_only_search() -> None:
    mixed_hook = MixedValue(1.0, weights(), seed=3)
    mixed = searched(mixed_hook)
    assert same_tree(mixed, searched(rollout_only(3)))
    assert mixed_hook.rollouts > 0
    assert not same_tree(mixed, searched(None))
    assert set(np.unique(mixed.value[mixed.expanded & ~mixed.terminal])) <= {-1.0, 0.0, 1.0}


def test_lambda_half_mixes_value_and_rollout() -> None:
    game, batch = roots()
    values = np.array([0.2, -0.6, 1.0], np.float32)
    rows = np.arange(3)
    z = batch.rollout(weights(), 11, rows=rows)
    mixed = MixedValue(0.5, weights(), seed=10)(batch, rows, values)
    assert np.allclose(mixed, 0.5 * values + 0.5 * z)
    assert not same_tree(searched(MixedValue(0.5, weights(), seed=3)), searched(None))


def test_mix_needs_weights_and_a_valid_lambda() -> None:
    with pytest.raises(ValueError, match="lam"):
        MixedValue(1.5, weights())
    with pytest.raises(ValueError, match="rollout weights"):
        MixedValue(0.5, None)
