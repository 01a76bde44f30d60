"""Batched PUCT search: agreement with the unbatched reference, legality, sign convention, noise, reuse.

Positions are ASCII boards (``X`` black, ``O`` white); evaluators are dummies, so no torch net is needed.
"""

from __future__ import annotations

import numpy as np
import pytest

from agents.search.config import SearchConfig
from agents.search.evaluator import FunctionEvaluator, UniformEvaluator
from agents.search.mcts import Search
from agents.search.reference import reference_search
from envs.go.game import GoGame
from envs.go.state import GoState

NO_NOISE = SearchConfig(dirichlet_eps=0.0)


def material(planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A fixed heuristic: value = tanh(stone difference / 3) from the mover's view; uneven logits."""
    k = (planes.shape[1] - 1) // 2
    diff = planes[:, 0].sum(axis=(1, 2)) - planes[:, k].sum(axis=(1, 2))
    logits = np.sin(np.arange(masks.shape[1])[None] * 1.3 + planes[:, 0].sum(axis=(1, 2))[:, None])
    return logits, np.tanh(diff / 3.0)


def search_batch(states: list[GoState], evaluator, cfg: SearchConfig = NO_NOISE, sims: int = 64, leaves: int = 1,
                 noise: bool = False, seed: int = 0) -> tuple[Search, object]:
    game = GoGame(states[0].size, komi=states[0].komi)
    roots = game.batch_from_states(states)
    search = Search(cfg, len(states), game.num_actions, evaluator, np.random.default_rng(seed), leaves,
                    max_simulations=sims)
    search.run(roots, sims, noise=noise)
    return search, roots


def opening(size: int = 5, moves: tuple[int, ...] = (12, 6, 7), komi: float = 0.5) -> GoState:
    state = GoState.new(size, komi=komi)
    for a in moves:
        state.play(a)
    return state


@pytest.mark.parametrize("moves", [(12, 6, 7), (), (0, 24, 1, 23, 25)])
def test_batched_search_equals_reference_with_one_game(moves: tuple[int, ...]) -> None:
    state = opening(moves=moves)
    evaluator = FunctionEvaluator(material)
    search, _ = search_batch([state], evaluator, sims=80)
    root = reference_search(state, evaluator, NO_NOISE, 80, 26)
    np.testing.assert_array_equal(search.visit_counts()[0], root.n)
    np.testing.assert_array_equal(search.child_w[0, 0], root.w)


def test_each_game_of_a_batch_equals_its_own_reference_search() -> None:
    states = [opening(moves=m) for m in [(12,), (12, 6, 7), (), (3, 4)]]
    evaluator = FunctionEvaluator(material)
    search, _ = search_batch(states, evaluator, sims=40)
    for g, state in enumerate(states):
        np.testing.assert_array_equal(search.visit_counts()[g], reference_search(state, evaluator, NO_NOISE, 40,
                                                                                   26).n)


@pytest.mark.parametrize("leaves", [1, 4])
def test_visits_only_on_legal_moves_and_sum_to_simulations(leaves: int) -> None:
    state = GoState.from_ascii("""
        . X O . .
        X . X O .
        . X O . .
        . . . . .
        . . . . .""", to_play=-1, komi=0.5)
    search, _ = search_batch([state], UniformEvaluator(), sims=60, leaves=leaves)
    counts = search.visit_counts()[0]
    assert counts.sum() == 60
    assert (counts[~state.legal_mask()] == 0).all()
    assert (~state.legal_mask()).sum() == 8 and counts[0] == 0  # seven stones and the suicide at A5
    assert search.expanded[0, : search.size[0]].all()  # no pending leaf survives a search


def test_finds_the_win_by_passing_and_avoids_the_losing_pass() -> None:
    # White just passed. Black leads on the board (9 points to 7, komi 0.5): passing ends the game, black wins.
    board = """
        . X O .
        X X X O
        X X O .
        . X O O"""
    state = GoState.from_ascii(board, to_play=-1, komi=0.5)
    state.play(16)
    assert state.to_play == 1 and state.score() > 0
    search, _ = search_batch([state], UniformEvaluator(), sims=50)
    counts = search.visit_counts()[0]
    assert counts.argmax() == 16
    # Sign convention: the pass edge holds +1 per visit from black's (the chooser's) view.
    assert search.child_w[0, 0, 16] == pytest.approx(counts[16])
    # The same position with komi 5.5: passing now loses (capturing at D4 wins), so black keeps playing.
    losing = GoState.from_ascii(board, to_play=-1, komi=5.5)
    losing.play(16)
    search, _ = search_batch([losing], UniformEvaluator(), sims=50)
    assert search.visit_counts()[0].argmax() != 16
    assert search.child_w[0, 0, 16] < 0


def test_finds_a_capture_and_its_value_is_positive_for_the_mover() -> None:
    state = GoState.from_ascii("""
        . . . . .
        . X O X .
        . . X . .
        . . . . .
        . . . . .""", komi=0.5)  # black to move captures O at C4 by playing C5 (action 2)
    search, _ = search_batch([state], FunctionEvaluator(lambda p, m: (np.zeros(m.shape), material(p, m)[1])),
                             sims=100)
    counts = search.visit_counts()[0]
    assert counts.argmax() == 2
    assert search.root_q(np.array([2]))[0] > 0.5


def test_a_terminal_root_is_not_searched() -> None:
    state = opening(moves=(25, 25))
    assert state.is_terminal
    search, _ = search_batch([state], UniformEvaluator(), sims=10)
    assert search.visit_counts().sum() == 0 and search.evaluations == 0


def test_noise_changes_the_root_prior_only() -> None:
    cfg = SearchConfig(dirichlet_eps=0.25, dirichlet_alpha=0.03)
    state = opening()
    search, _ = search_batch([state], UniformEvaluator(), cfg=cfg, sims=60, noise=True)
    legal = state.sensible_mask()
    root = search.prior[0, 0]
    assert root[legal].sum() == pytest.approx(1.0, abs=1e-5)
    assert not np.allclose(root[legal], 1.0 / legal.sum())
    for node in range(1, search.size[0]):
        if search.expanded[0, node] and not search.terminal[0, node]:
            p = search.prior[0, node]
            legal_here = p >= 0
            np.testing.assert_allclose(p[legal_here], 1.0 / legal_here.sum(), rtol=1e-6)


def test_tree_reuse_keeps_the_played_subtree() -> None:
    state = opening()
    evaluator = FunctionEvaluator(material)
    search, roots = search_batch([state], evaluator, sims=60)
    a = int(search.visit_counts()[0].argmax())
    child = search.child[0, 0, a]
    kept_counts = search.child_n[0, child].copy()
    search.advance(np.array([a]))
    np.testing.assert_array_equal(search.visit_counts()[0], kept_counts)
    roots.play(np.array([a]))
    before = search.evaluations
    search.run(roots, 20)
    assert search.visit_counts()[0].sum() == kept_counts.sum() + 20
    assert search.evaluations - before <= 20


def test_load_paths_replays_moves_like_a_state() -> None:
    game = GoGame(5, komi=0.5)
    roots = game.new_batch(2)
    roots.play(np.array([12, 0]))
    leaves = roots.like(3)
    paths = np.array([[6, 7, 25], [1, 0, 0], [25, 25, 0]], np.int32)
    leaves.load_paths(roots, np.array([0, 1, 0]), paths, np.array([3, 1, 2]))
    for r, (src, moves) in enumerate([(0, [6, 7, 25]), (1, [1]), (0, [25, 25])]):
        expected = roots.state(src)
        for m in moves:
            expected.play(m)
        np.testing.assert_array_equal(leaves.features()[r], expected.features())
        np.testing.assert_array_equal(leaves.legal_masks()[r], expected.legal_mask())
    assert leaves.done[2] and not leaves.done[0]
