"""KataGo's forced playouts (root selection of noisy PUCT searches) and policy target pruning (the recorded target).

The evaluator is a fixed heuristic on 5x5: its prior favours the point ``LURE``, which the value says loses (the
player owning it is at -0.95 from then on), and likes ``GOOD`` less in the prior but more in the value, so PUCT
starves the lure and most other moves and forcing has visible work to do.
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, compose, subprocess_env, train_cmd

from agents.search.config import SearchConfig
from agents.search.evaluator import FunctionEvaluator
from agents.search.mcts import Search, play_moves
from agents.search.pruning import prune_visits
from agents.search.reference import reference_search
from agents.zero.config import ZeroConfig
from agents.zero.selfplay import SelfPlay
from envs.go.game import GoGame
from envs.go.state import GoState
from zoo.errors import UserError

LURE, GOOD = 6, 18
K = 2.0


def lure(planes: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Prior: logits 1.8 on LURE, 1.0 on GOOD, 0 elsewhere. Value (mover's view): -0.95 when the mover owns LURE,
    +0.95 when the opponent does, plus 0.5 for owning GOOD (-0.5 for the opponent's), clipped to [-1, 1]."""
    k = (planes.shape[1] - 1) // 2
    mine, theirs = planes[:, 0].reshape(len(planes), -1), planes[:, k].reshape(len(planes), -1)
    logits = np.zeros(masks.shape)
    logits[:, LURE], logits[:, GOOD] = 1.8, 1.0
    value = 0.95 * (theirs[:, LURE] - mine[:, LURE]) + 0.5 * (mine[:, GOOD] - theirs[:, GOOD])
    return logits, np.clip(value, -1.0, 1.0)


def openings() -> list[GoState]:
    states = []
    for moves in [(12, 7), (12,), (16, 8, 2)]:
        state = GoState.new(5, komi=0.5)
        for a in moves:
            state.play(a)
        states.append(state)
    return states


def searched(k: float, noise: bool | list[bool], states: list[GoState], sims: int = 200, leaves: int = 1,
             eps: float = 0.0) -> Search:
    game = GoGame(5, komi=0.5)
    cfg = SearchConfig(forced_playouts=k, dirichlet_eps=eps)
    search = Search(cfg, len(states), game.num_actions, FunctionEvaluator(lure), np.random.default_rng(0), leaves,
                    max_simulations=sims)
    search.run(game.batch_from_states(states), sims, noise=np.asarray(noise))
    return search


def forced_counts(search: Search) -> np.ndarray:
    """floor(sqrt(k * P * N)) per root child (P: the searched root prior), for ``k = K``."""
    counts = search.visit_counts()
    return np.floor(np.sqrt(K * search.root_priors() * counts.sum(axis=1, keepdims=True)))


# ---------------------------------------------------------------------------------------------------------------
# Forced playouts in the search
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("leaves", [1, 4])
def test_searches_with_noise_give_every_child_its_forced_visits(leaves: int) -> None:
    states = openings()
    forced = searched(K, True, states, leaves=leaves)
    counts, legal = forced.visit_counts(), forced.root_priors() > 0
    assert (counts.sum(axis=1) == 200).all()
    assert (counts[legal] >= forced_counts(forced)[legal] - 1).all()
    plain = searched(0.0, True, states, leaves=leaves)  # the same search without forcing starves the lure
    short = plain.visit_counts() < forced_counts(plain) - 1
    assert short[:, LURE].all() and short.sum() > 20
    assert (forced.visit_counts()[:, LURE] > plain.visit_counts()[:, LURE]).all()


def test_searches_without_noise_are_todays_search_exactly() -> None:
    states = openings()
    game = GoGame(5, komi=0.5)
    plain = searched(0.0, False, states)
    play = searched(K, False, states)  # play and evaluation: no noise, so no forcing
    np.testing.assert_array_equal(play.child_n, plain.child_n)
    np.testing.assert_array_equal(play.child_w, plain.child_w)
    ev = FunctionEvaluator(lure)
    for g, state in enumerate(states):  # today's search is the unbatched reference search
        np.testing.assert_array_equal(play.visit_counts()[g], reference_search(state, ev, plain.cfg, 200, 26).n)
    assert (play.visit_counts() < forced_counts(play) - 1).any()
    # One batch, noise in one game: the other games search as without forcing (Dirichlet noise in game 0 too).
    mixed, base = searched(K, [True, False, False], states, eps=0.25), searched(0.0, [True, False, False], states,
                                                                                eps=0.25)
    np.testing.assert_array_equal(mixed.child_n[1:], base.child_n[1:])
    assert not np.array_equal(mixed.visit_counts()[0], base.visit_counts()[0])
    # play_moves (select_move(s)) searches without noise: same moves as with forcing off.
    moves = []
    for k in (K, 0.0):
        search = Search(SearchConfig(forced_playouts=k), 3, 26, ev, np.random.default_rng(1), 8, max_simulations=64)
        moves.append(play_moves(search, game.batch_from_states(states), 64, 0, np.random.default_rng(1)))
        moves.append(search.visit_counts())
    assert moves[0] == moves[2]
    np.testing.assert_array_equal(moves[1], moves[3])


# ---------------------------------------------------------------------------------------------------------------
# Policy target pruning
# ---------------------------------------------------------------------------------------------------------------


def test_pruning_a_hand_computed_root() -> None:
    # 36 root visits (sqrt 6), c_puct 1, k 2: n_forced = sqrt(2 * P * 36) = sqrt(72 P).
    n = np.array([[24, 8, 3, 1, 0]])
    w = np.array([[12.0, -4.0, 0.6, 0.9, 0.0]])  # Q = 0.5, -0.5, 0.2, 0.9
    p = np.array([[0.5, 0.25, 0.125, 0.125, -1.0]])  # the last action is not in the tree
    # best (a0): 0.5 + 0.5 * 6 / 25 = 0.62.
    # a1: n_forced 4.24 -> at most 4 back; -0.5 + 1.5 / (1 + 4) = -0.2 < 0.62 still: 8 -> 4 (the cap binds).
    # a2: n_forced 3; 0.2 + 0.75 / (1 + 2) = 0.45, 0.2 + 0.75 / 2 = 0.575 < 0.62, but 0.2 + 0.75 = 0.95 is not:
    #     3 -> 1 visit, which drops to 0.
    # a3: 0.9 + 0.75 / (1 + 0) = 1.65 >= 0.62 with one visit fewer: its one visit stays.
    pruned = prune_visits(n, w, p, n.sum(axis=1), K, 1.0)
    np.testing.assert_array_equal(pruned, [[24, 4, 0, 1, 0]])
    np.testing.assert_array_equal(prune_visits(n, w, p, n.sum(axis=1), 0.0, 1.0), n)  # k = 0: nothing
    # With a smaller k the cap takes fewer back: a1's n_forced = sqrt(0.5 * 0.25 * 36) = 2.12 -> 8 -> 6.
    assert prune_visits(n, w, p, n.sum(axis=1), 0.5, 1.0)[0, 1] == 6


def test_pruning_takes_forced_visits_back_from_a_search() -> None:
    forced = searched(K, True, openings())
    counts = forced.visit_counts()
    root = (forced.child_n[:, 0], forced.child_w[:, 0], forced.prior[:, 0], forced.node_n[:, 0])
    pruned = prune_visits(*root, K, forced.cfg.c_puct)
    best = counts.argmax(axis=1)
    rows = np.arange(len(counts))
    np.testing.assert_array_equal(pruned[rows, best], counts[rows, best])
    assert (pruned <= counts).all()
    assert (pruned[:, LURE] < counts[:, LURE]).all()  # the lure's forced visits go back
    assert ((pruned == 0) & (counts > 0)).any()  # and some children drop out
    policy = forced.pruned_policy()
    np.testing.assert_allclose(policy.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(policy, pruned / pruned.sum(axis=1, keepdims=True), rtol=1e-6)
    forced.clear([1])
    assert (forced.pruned_policy()[1] == 0).all()  # an empty tree has no target


def test_pruning_with_k_zero_is_todays_target() -> None:
    plain = searched(0.0, True, openings(), eps=0.25)
    counts = plain.visit_counts()
    today = (counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)).astype(np.float32)
    np.testing.assert_array_equal(plain.pruned_policy(), today)


def test_self_play_records_the_pruned_target_and_plays_from_the_unpruned_visits(monkeypatch) -> None:
    cfg = ZeroConfig(games=3, search="puct", simulations=64, forced_playouts=K, temperature_moves=0,
                     resign_threshold=-1.0)
    selfplay = SelfPlay(cfg, GoGame(5, komi=0.5), FunctionEvaluator(lure), np.random.default_rng(0))
    seen: dict[str, np.ndarray] = {}
    for name in ("visit_counts", "pruned_policy"):
        method = getattr(selfplay.search, name)
        monkeypatch.setattr(selfplay.search, name, lambda m=method, n=name: seen.setdefault(n, m()))
    selfplay.step()
    recorded = np.stack([t.policy[-1] for t in selfplay.trajectories])
    np.testing.assert_array_equal(recorded, seen["pruned_policy"])
    assert not np.allclose(recorded, seen["visit_counts"] / 64)  # pruning changed the target
    assert [t.actions[-1] for t in selfplay.trajectories] == seen["visit_counts"].argmax(axis=1).tolist()


# ---------------------------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("overrides,message", [
    (["agent.forced_playouts=-1"], "invalid agent config: agent.forced_playouts must be a finite number >= 0"),
    (["agent.forced_playouts=nan"], "invalid agent config: agent.forced_playouts must be a finite number >= 0"),
    (["agent.search=gumbel", "agent.forced_playouts=2"],
     "invalid agent config: agent.forced_playouts=2 applies to PUCT search only; set agent.forced_playouts=0 with "
     "agent.search=gumbel"),
])
def test_bad_forced_playouts_stop_the_run_in_one_line(overrides: list[str], message: str) -> None:
    with pytest.raises(UserError) as err:
        compose("env=go5", "agent=zero", *overrides)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_forced_playouts_are_off_by_default_and_reach_the_search() -> None:
    for agent in ("zero", "zero_gpu"):
        assert compose("env=go9", f"agent={agent}").agent.search_config.forced_playouts == 0.0
        puct = compose("env=go9", f"agent={agent}", "agent.search=puct", "agent.forced_playouts=2").agent
        assert puct.search_config.forced_playouts == 2
    with pytest.raises(ValueError, match="SearchConfig.forced_playouts must be a finite number >= 0"):
        SearchConfig(forced_playouts=math.inf)
    with pytest.raises(ValueError, match="forced_playouts > 0 is not supported with search=gumbel"):
        SearchConfig(search="gumbel", forced_playouts=2.0)


def test_train_cli_with_forced_playouts_runs_on_go5(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = train_cmd("env=go5", "agent=zero", "agent.search=puct", "agent.forced_playouts=2", "agent.games=4",
                    "agent.simulations=16",
                    "agent.min_replay=16", "agent.batch_size=16", "agent.best_games=0", "steps=64", "eval.every=0",
                    "eval.episodes=0", "logger=csv", "progress=false", "device=cpu", f"hydra.run.dir={out}")
    done = subprocess.run(cmd, cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((out / "summary.json").read_text())["env_steps"] >= 64
