"""Gumbel AlphaZero search: the halving table, the move, the completed-Q target, agreement with the unbatched
reference (fresh trees and kept subtrees), and the config checks.

Positions are 5x5 Go boards; evaluators are fixed functions of the planes (no torch net).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from agents.search.config import SearchConfig
from agents.search.evaluator import FunctionEvaluator, UniformEvaluator
from agents.search.gumbel import considered_visits, draw_root
from agents.search.mcts import Search
from agents.search.reference import reference_gumbel_search
from envs.go.game import GoGame
from envs.go.state import GoState

GAME = GoGame(5, komi=0.5)
A = GAME.num_actions
POINTS = np.arange(25).reshape(5, 5)


def hashed(planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Uneven logits and values in (-1, 1) that depend on where the stones are (a stand-in for a net)."""
    k = (planes.shape[1] - 1) // 2
    s = (planes[:, 0].sum(axis=(1, 2)) * 1.7 - planes[:, k].sum(axis=(1, 2)) * 0.9
         + (planes[:, 0] * POINTS).sum(axis=(1, 2)) * 0.31 - (planes[:, k] * POINTS).sum(axis=(1, 2)) * 0.17)
    logits = 2.0 * np.sin(np.arange(masks.shape[1])[None] * 1.3 + s[:, None])
    return logits, np.tanh(np.sin(1.1 * s))


def first_move_quality(quality: np.ndarray, logits: np.ndarray | None = None) -> FunctionEvaluator:
    """An evaluator for searches from the empty board under which the root edge ``a`` has Q ``quality[a]``
    (``quality`` is ``(A,)``) for black at every depth: a position whose first black stone (the oldest history
    plane holding one) is ``a`` is worth ``quality[a]`` to black, from the mover's view (``-quality[a]`` with
    white to move); the empty board is worth 0. Priors from ``logits`` (uniform by default)."""

    def fn(planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = (planes.shape[1] - 1) // 2
        black_to_move = planes[:, 2 * k, 0, 0] == 1
        black = np.where(black_to_move[:, None, None, None], planes[:, :k], planes[:, k:2 * k])
        black = black.reshape(len(planes), k, -1)
        values = np.zeros(len(planes))
        for i in range(len(planes)):
            ages = np.flatnonzero(black[i].sum(axis=1) > 0)
            if ages.size:
                q = quality[np.argmax(black[i, ages[-1]])]
                values[i] = q if black_to_move[i] else -q
        out = np.zeros(masks.shape) if logits is None else np.broadcast_to(logits, masks.shape)
        return out, values

    return FunctionEvaluator(fn)


def random_positions(n: int, seed: int, max_moves: int = 8) -> list[GoState]:
    rng = np.random.default_rng(seed)
    states = []
    while len(states) < n:
        state = GAME.new_state()
        for _ in range(int(rng.integers(0, max_moves))):
            state.play(int(rng.choice(np.flatnonzero(state.sensible_mask()))))
        if not state.is_terminal:
            states.append(state)
    return states


def gumbel_search(states: list[GoState], evaluator, sims: int, seed: int = 0, noise: bool = True,
                  **settings) -> tuple[Search, object]:
    cfg = SearchConfig(search="gumbel", **settings)
    roots = GAME.batch_from_states(states)
    search = Search(cfg, len(states), A, evaluator, np.random.default_rng(seed), 1, max_simulations=sims)
    search.run(roots, sims, noise=noise)
    return search, roots


# -- sequential halving --------------------------------------------------------------------------------------------


def test_considered_visits_follow_mctx_sequential_halving() -> None:
    assert considered_visits(2, 4) == (0, 0, 1, 1)
    assert considered_visits(4, 16) == (0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5)
    assert considered_visits(16, 32) == (0,) * 16 + (1,) * 8 + (2, 2, 2, 2, 3, 3, 3, 3)
    assert considered_visits(16, 4) == (0, 0, 0, 0)
    assert considered_visits(1, 3) == (0, 1, 2)


def final_visits(m: int, sims: int) -> list[int]:
    """The visit counts of the m considered actions after following the table: simulation k visits an action
    with table[k] visits, whichever it is."""
    counts = [0] * m
    for target in considered_visits(m, sims):
        counts[counts.index(target)] += 1
    return sorted(counts)


@pytest.mark.parametrize("sims", [4, 16, 32])
@pytest.mark.parametrize("m", [4, 16])
def test_root_visits_follow_the_table_of_considered_visits(sims: int, m: int) -> None:
    states = [GoState.new(9, komi=7.5)] * 3  # 81 searchable points: m actions are considered
    game = GoGame(9)
    cfg = SearchConfig(search="gumbel", max_considered=m)
    search = Search(cfg, 3, game.num_actions, FunctionEvaluator(lambda p, k: (np.zeros(k.shape), np.zeros(len(p)))),
                    np.random.default_rng(sims), 1, max_simulations=sims)
    search.run(game.batch_from_states(states), sims, noise=True)
    for g in range(3):
        considered = search.considered[g]
        assert considered.sum() == m
        assert sorted(search.root_new[g, considered]) == final_visits(m, sims)
        assert search.root_new[g, ~considered].sum() == 0
        np.testing.assert_array_equal(search.visit_counts()[g], search.root_new[g])
    assert len({tuple(np.flatnonzero(search.considered[g])) for g in range(3)}) > 1  # each game draws its own


def test_considered_actions_are_the_top_m_of_gumbel_plus_logits() -> None:
    prior = np.array([[0.1, 0.2, -1.0, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25, -1.0]], np.float32)
    gumbel, considered, m = draw_root(prior, np.array([False, False]), 1.0, 3, np.random.default_rng(0))
    assert (gumbel == 0).all() and list(m) == [3, 3]
    np.testing.assert_array_equal(considered, [[False, True, False, True, True], [True, True, True, False, False]])
    gumbel, considered, _ = draw_root(prior, np.array([True, True]), 2.0, 2, np.random.default_rng(0))
    np.testing.assert_array_equal(gumbel, 2.0 * np.random.default_rng(0).gumbel(size=(2, 5)))
    score = np.where(prior >= 0, gumbel + np.log(np.maximum(prior, 1e-38)), -np.inf)
    for g in range(2):
        assert set(np.flatnonzero(considered[g])) == set(np.argsort(-score[g])[:2])


# -- the move and the policy target -----------------------------------------------------------------------------


def test_the_move_is_the_best_of_the_considered_actions() -> None:
    # c_scale 10: a Q step of 1/30 outweighs any likely difference of two Gumbel draws, so the search must find
    # the best of its considered actions (with c_scale 1 a large draw may still carry a slightly worse one).
    quality = np.append(np.linspace(0.1, 0.9, 25)[np.random.default_rng(3).permutation(25)], 0.0)
    games = 12
    search, _ = gumbel_search([GAME.new_state()] * games, first_move_quality(quality), 16, seed=5, max_considered=4,
                              c_scale=10.0)
    policy, actions = search.gumbel_results()
    picks = set()
    for g in range(games):
        considered = np.flatnonzero(search.considered[g])
        assert len(considered) == 4
        visited = search.child_n[g, 0] > 0
        np.testing.assert_allclose(search.child_w[g, 0, visited] / search.child_n[g, 0, visited], quality[visited])
        assert actions[g] == considered[np.argmax(quality[considered])]
        picks.add(int(actions[g]))
    assert len(picks) > 2  # the draws differ, so do the sampled actions and their best
    best_overall = int(np.argmax(quality))
    assert any(best_overall not in np.flatnonzero(search.considered[g]) for g in range(games))


def test_without_noise_the_search_is_deterministic_and_picks_the_best_prior_set() -> None:
    quality = np.append(np.linspace(0.1, 0.9, 25), 0.0)
    logits = np.concatenate([np.linspace(1.0, 0.0, 25), [0.0]])  # the prior prefers low points
    a, _ = gumbel_search([GAME.new_state()], first_move_quality(quality, logits), 16, seed=1, noise=False,
                         max_considered=4)
    b, _ = gumbel_search([GAME.new_state()], first_move_quality(quality, logits), 16, seed=2, noise=False,
                         max_considered=4)
    assert list(np.flatnonzero(a.considered[0])) == [0, 1, 2, 3]  # top 4 by prior alone
    assert a.gumbel_results()[1][0] == b.gumbel_results()[1][0] == 3  # the best of them
    np.testing.assert_array_equal(a.child_n, b.child_n)


def test_the_completed_q_target_is_the_prior_when_all_q_are_equal() -> None:
    logits = np.sin(np.arange(A) * 0.7) * 2.0
    # Value 0 everywhere: every Q, the root value and so v_mix are 0 (another constant would alternate in sign).
    evaluator = FunctionEvaluator(lambda p, m: (np.broadcast_to(logits, m.shape), np.zeros(len(p))))
    states = random_positions(4, seed=1)
    search, roots = gumbel_search(states, evaluator, 16)
    policy, _ = search.gumbel_results()
    prior = search.root_priors()
    masks = roots.sensible_masks()
    np.testing.assert_allclose(policy.sum(axis=1), 1.0, rtol=1e-6)
    assert (policy[~masks] == 0).all()
    np.testing.assert_allclose(policy, prior / prior.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-7)


def test_the_completed_q_target_moves_mass_to_higher_q() -> None:
    quality = np.append(np.linspace(0.1, 0.9, 25)[np.random.default_rng(7).permutation(25)], 0.0)
    search, roots = gumbel_search([GAME.new_state()], first_move_quality(quality), 32, seed=2, max_considered=8)
    policy, _ = search.gumbel_results()
    prior = search.root_priors()[0]
    visited = np.flatnonzero(search.child_n[0, 0] > 0)
    q = search.child_w[0, 0, visited] / search.child_n[0, 0, visited]
    ratio = policy[0, visited] / prior[visited]
    assert np.array_equal(np.argsort(q, kind="stable"), np.argsort(ratio, kind="stable"))  # more Q, more mass
    assert policy[0, visited[np.argmax(q)]] > 0.5 > prior[visited[np.argmax(q)]]
    unvisited = np.flatnonzero((search.child_n[0, 0] == 0) & roots.sensible_masks()[0])
    assert unvisited.size and np.ptp(policy[0, unvisited]) < 1e-7  # completed alike: all get v_mix
    assert policy[0].sum() == pytest.approx(1.0, abs=1e-6) and policy[0, 25] == 0  # pass is not searchable


# -- the kernels against the unbatched reference ------------------------------------------------------------------


@pytest.mark.parametrize("m,sims,c_scale", [(4, 20, 0.3), (16, 32, 1.0), (2, 9, 0.1)])
def test_batched_gumbel_search_equals_the_reference_on_fresh_and_kept_trees(m: int, sims: int,
                                                                             c_scale: float) -> None:
    evaluator = FunctionEvaluator(hashed)
    states = random_positions(6, seed=m + sims)
    search, roots = gumbel_search(states, evaluator, sims, seed=sims, max_considered=m, c_scale=c_scale)
    cfg = search.cfg
    policy, actions = search.gumbel_results()
    refs = []
    for g, state in enumerate(states):
        ref = reference_gumbel_search(state, evaluator, cfg, sims, A, gumbel=search.root_gumbel[g])
        refs.append(ref)
        assert sorted(ref.considered) == list(np.flatnonzero(search.considered[g]))
        np.testing.assert_array_equal(search.child_n[g, 0], ref.root.n)
        np.testing.assert_array_equal(search.root_new[g], ref.new)
        np.testing.assert_allclose(search.child_w[g, 0], ref.root.w, rtol=1e-12, atol=1e-12)
        assert actions[g] == ref.action
        np.testing.assert_allclose(policy[g], ref.policy, rtol=1e-5, atol=1e-7)
    # The next move continues the kept subtrees: its statistics count, its schedule starts over.
    kept = search.child_n[np.arange(len(states)), search.child[np.arange(len(states)), 0, actions]].sum(axis=1)
    search.advance(actions)
    roots.play(actions)
    search.run(roots, sims, noise=True)
    policy, second = search.gumbel_results()
    for g, state in enumerate(states):
        after = state.copy()
        after.play(int(actions[g]))
        ref = reference_gumbel_search(after, evaluator, cfg, sims, A, gumbel=search.root_gumbel[g],
                                      root=refs[g].root.children[int(actions[g])])
        assert search.child_n[g, 0].sum() == kept[g] + sims and search.root_new[g].sum() == sims
        np.testing.assert_array_equal(search.child_n[g, 0], ref.root.n)
        np.testing.assert_array_equal(search.root_new[g], ref.new)
        assert second[g] == ref.action
        np.testing.assert_allclose(policy[g], ref.policy, rtol=1e-5, atol=1e-7)
    assert kept.min() > 0


def test_a_finished_position_below_the_root_is_backed_up_exactly() -> None:
    # White just passed; black wins by passing too (the test_mcts position): the pass edge holds +1 per visit.
    state = GoState.from_ascii("""
        . X O .
        X X X O
        X X O .
        . X O O""", to_play=-1, komi=0.5)
    state.play(16)
    game = GoGame(4, komi=0.5)
    cfg = SearchConfig(search="gumbel", max_considered=4)
    search = Search(cfg, 1, game.num_actions, UniformEvaluator(), np.random.default_rng(0), 1, max_simulations=32)
    search.run(game.batch_from_states([state]), 32, noise=False)
    _, actions = search.gumbel_results()
    assert actions[0] == 16
    assert search.child_w[0, 0, 16] == pytest.approx(search.child_n[0, 0, 16])


# -- settings --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("settings,message", [
    (dict(search="foo"), "SearchConfig.search must be one of puct, gumbel, got 'foo'"),
    (dict(search="gumbel", leaves_per_game=4), "leaves_per_game > 1 is not supported with search=gumbel"),
    (dict(max_considered=1), "SearchConfig.max_considered must be >= 2"),
    (dict(gumbel_scale=-1.0), "SearchConfig.gumbel_scale must be >= 0"),
    (dict(c_scale=-0.5), "SearchConfig.c_scale must be >= 0"),
])
def test_search_config_rejects_bad_gumbel_settings(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SearchConfig(**settings)


def test_gumbel_search_takes_one_leaf_per_game_and_puct_has_no_gumbel_results() -> None:
    cfg = SearchConfig(search="gumbel")
    assert cfg.leaves_in_play == 1 and SearchConfig(play_leaves=8).leaves_in_play == 8
    with pytest.raises(ValueError, match="one leaf per game"):
        Search(cfg, 2, A, UniformEvaluator(), np.random.default_rng(0), leaves_per_game=8)
    with pytest.raises(ValueError, match="gumbel_results"):
        Search(SearchConfig(), 2, A, UniformEvaluator(), np.random.default_rng(0)).gumbel_results()


def test_search_steps_make_one_evaluator_call_for_all_games() -> None:
    states = random_positions(5, seed=11)
    search, _ = gumbel_search(states, FunctionEvaluator(hashed), 12, max_considered=4)
    assert search.steps == 12 and search.eval_calls <= 12 + 1  # + the roots' expansion
    assert Counter(search.root_new.sum(axis=1).tolist()) == Counter({12: 5})
