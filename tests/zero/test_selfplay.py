"""Self-play, replay window and learner on tiny boards with dummy evaluators (no torch net)."""

from __future__ import annotations

import numpy as np
import pytest

from agents.search.evaluator import UniformEvaluator
from agents.search.mcts import choose_moves
from agents.zero.config import ZeroConfig
from agents.zero.learner import augment_batch
from agents.zero.replay import Replay
from agents.zero.selfplay import SelfPlay
from envs.go.game import GoGame


def play_games(cfg: ZeroConfig, size: int = 4, moves: int = 60, seed: int = 0):
    game = GoGame(size, komi=0.5)
    selfplay = SelfPlay(cfg, game, UniformEvaluator(), np.random.default_rng(seed))
    return game, selfplay, selfplay.play(moves)


def test_finished_games_carry_consistent_targets() -> None:
    cfg = ZeroConfig(games=4, simulations=8, max_moves_factor=2.0, resign_threshold=-1.0)
    game, selfplay, finished = play_games(cfg)
    assert finished, "4x4 games capped at 32 moves must finish within 60 moves"
    for g in finished:
        assert len(g.z) == len(g.policy) == len(g.planes) == len(g.actions)
        np.testing.assert_allclose(g.policy.sum(axis=1), 1.0, rtol=1e-6)
        planes = np.unpackbits(g.planes, axis=1, count=game.num_planes * 16).reshape(-1, game.num_planes, 4, 4)
        black_to_move = planes[:, -1, 0, 0] == 1  # the colour plane
        # z is the outcome from the mover's view: +winner for black's positions, -winner for white's.
        np.testing.assert_array_equal(g.z, np.where(black_to_move, g.winner, -g.winner))
        # Replaying the moves reaches a finished game with the recorded winner.
        state = game.new_state()
        for a in g.actions:
            assert state.is_legal(a)
            state.play(a)
        assert state.winner() == g.winner
    assert selfplay.positions == 4 * 60


@pytest.mark.parametrize("sensible", [True, False])
def test_self_play_passes_only_when_nothing_sensible_is_left(sensible: bool) -> None:
    """With sensible moves (the default) a game's passes are all forced or answer a pass; with every legal move
    searched, an uninformed search passes in mid-game (the habit that self-play then learns)."""
    cfg = ZeroConfig(games=16, simulations=16, sensible_moves=sensible)
    game = GoGame(5, komi=0.5)
    finished = SelfPlay(cfg, game, UniformEvaluator(), np.random.default_rng(0)).play(60)
    assert len(finished) >= 16
    free_passes = 0
    for g in finished:
        state = game.new_state()
        for a in g.actions:
            free_passes += int(a == 25 and not state.sensible_mask()[a])
            state.play(a)
        assert state.is_terminal
    assert (free_passes == 0) if sensible else (free_passes > 10)


def test_playout_cap_randomisation_records_only_full_searches() -> None:
    cfg = ZeroConfig(games=4, simulations=8, cheap_fraction=0.75, cheap_simulations=2, resign_threshold=-1.0)
    _, _, finished = play_games(cfg)
    recorded = sum(len(g.z) for g in finished)
    played = sum(len(g.actions) for g in finished)
    assert 0 < recorded < 0.6 * played


def test_resignation_ends_games_and_playthrough_games_report_false_positives() -> None:
    # An evaluator that says "the player to move wins" everywhere: after any move the opponent is to move and
    # wins, so every edge's Q from the chooser's view is -1 and every mover wants to resign at once.
    cfg = ZeroConfig(games=8, simulations=4, resign_threshold=-0.5, resign_playthrough=0.5)
    game = GoGame(4, komi=0.5)
    selfplay = SelfPlay(cfg, game, UniformEvaluator(value=1.0), np.random.default_rng(1))
    finished = selfplay.play(40)
    resigned = [g for g in finished if g.resigned]
    played_out = [g for g in finished if g.false_resign is not None]
    assert resigned and played_out
    assert all(len(g.actions) == 0 for g in resigned)  # black resigns before its first move


def test_choose_moves_samples_in_proportion_and_takes_the_best_otherwise() -> None:
    counts = np.array([[0, 30, 10, 0], [5, 5, 90, 0]])
    rng = np.random.default_rng(0)
    drawn = np.array([choose_moves(counts, np.array([True, False]), rng) for _ in range(4000)])
    assert set(drawn[:, 1]) == {2}
    assert abs((drawn[:, 0] == 1).mean() - 0.75) < 0.03 and set(drawn[:, 0]) <= {1, 2}


def test_replay_window_keeps_the_newest_and_round_trips() -> None:
    replay = Replay(5, (3, 2, 2), 5)
    bits = np.packbits(np.ones((7, 12), bool), axis=1)
    replay.add(bits, np.eye(5, dtype=np.float16)[np.arange(7) % 5], np.arange(7, dtype=np.int8))
    assert len(replay) == 5 and replay.added == 7
    assert sorted(replay.z.tolist()) == [2, 3, 4, 5, 6]
    other = Replay(5, (3, 2, 2), 5)
    other.load_state_dict(replay.state_dict())
    assert other.state_dict()["z"].tolist() == [2, 3, 4, 5, 6]
    planes, policy, z = other.sample(16, np.random.default_rng(0))
    assert planes.shape == (16, 3, 2, 2) and planes.min() == 1.0 and policy.shape == (16, 5)
    with pytest.raises(ValueError, match="another board size"):
        Replay(5, (3, 3, 3), 5).load_state_dict(replay.state_dict())


def test_augmentation_moves_planes_and_policy_together() -> None:
    game = GoGame(5)
    planes = np.zeros((64, game.num_planes, 5, 5), np.float32)
    policy = np.zeros((64, game.num_actions), np.float32)
    planes[:, 0, 0, 1] = 1.0  # a stone at B5 and the policy's mass on the same point
    policy[:, 1] = 1.0
    out_planes, out_policy = augment_batch(game, planes, policy, np.random.default_rng(0))
    stones = out_planes[:, 0].reshape(64, -1).argmax(axis=1)
    np.testing.assert_array_equal(stones, out_policy[:, :25].argmax(axis=1))
    assert len(set(stones.tolist())) > 1
