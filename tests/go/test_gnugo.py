"""GNU Go as an opponent and as an oracle for our rules (skipped when GNU Go is not installed).

What is compared, and why it is sound:

- **Legality.** GNU Go forbids suicide and simple ko; the suite forbids suicide and *positional superko*.
  Every simple-ko recapture recreates an earlier position, so superko forbids it too: the two rule sets agree
  on every point except ones the suite calls ``superko`` (a longer cycle, or a ko retaken after a pass, that
  GNU Go allows). So for every point of every position we assert ``gnugo is_legal == ours`` except where our
  reason is ``superko``, and that GNU Go accepts every move of our games with ``play``.
- **Score.** GNU Go's ``final_score`` (with ``--chinese-rules``: area counting, like ours) first guesses which
  stones are dead; Tromp-Taylor counts every stone as alive and empty regions touching both colours for
  nobody. The two must agree exactly when GNU Go sees no dead stones and no seki, and every empty region of
  the board touches one colour only. We assert equality on such positions only (games between two
  capture-first bots that end by two passes are mostly like that) and require enough of them to qualify.
"""

from __future__ import annotations

import numpy as np
import pytest

from envs.go.coords import action_to_gtp
from envs.go.opponents import capture_policy, neighbours
from envs.go.state import BLACK, GoState
from zoo.play.gtp_client import GtpClient, GtpPlayer, find_gnugo, gnugo_argv, referee_score, replay_moves
from zoo.play.gtp_engine import score_text
from zoo.play.players import RESIGN, RandomPlayer

GNUGO = find_gnugo()
pytestmark = pytest.mark.gnugo


@pytest.fixture
def gnugo():
    with GtpClient(gnugo_argv(level=1, seed=1, chinese_rules=True), timeout=30) as client:
        yield client


def parse_score(text: str) -> float:
    """``B+3.5`` -> 3.5, ``W+2.0`` -> -2.0, ``0`` -> 0."""
    text = text.strip()
    if text in ("0", "Draw", "draw"):
        return 0.0
    sign = 1.0 if text[0] == "B" else -1.0
    return sign * float(text[2:])


def random_game(size: int, seed: int, max_moves: int) -> tuple[list[int], GoState]:
    rng = np.random.default_rng(seed)
    state = GoState.new(size, komi=7.5)
    actions = []
    while not state.is_terminal and len(actions) < max_moves:
        legal = state.legal_actions()
        # Rarely pass, so games get long and crowded (captures, kos, suicide points).
        points = legal[legal < size * size]
        a = int(rng.choice(points)) if len(points) and rng.random() > 0.02 else size * size
        actions.append(a)
        state.play(a)
    return actions, state


def test_short_game_random_player_vs_gnugo(gnugo: GtpClient) -> None:
    black = GtpPlayer(gnugo)
    white = RandomPlayer(seed=0)
    assert "GNU Go" in black.name
    state = GoState.new(9, komi=7.5, max_moves=60)
    while not state.is_terminal:
        player = black if state.to_play == BLACK else white
        action = player.select_move(state)
        if action == RESIGN:
            state.resign()
            break
        assert state.is_legal(action), state.illegal_reason(action)
        state.play(action)
    black.sync(state)
    assert black.rebuilds == 1  # only the empty board: every later position was followed move by move
    # Tromp-Taylor counts random play's dead stones as alive at the move cap, so ask GNU Go, which removes them.
    assert parse_score(gnugo.send("final_score")) > 0


@pytest.mark.parametrize("size,seed", [(5, 0), (7, 1), (9, 2)])
def test_gnugo_agrees_on_legality(gnugo: GtpClient, size: int, seed: int) -> None:
    actions, _ = random_game(size, seed, max_moves=3 * size * size)
    gnugo.send(f"boardsize {size}")
    gnugo.send("clear_board")
    state = GoState.new(size, komi=7.5)
    checked = superko_skipped = 0
    for number, action in enumerate(actions):
        colour = "b" if state.to_play == BLACK else "w"
        if number % 3 == 0:  # every third position: every point
            for point in range(size * size):
                reason = state.illegal_reason(point)
                if reason == "superko":
                    superko_skipped += 1
                    continue
                theirs = gnugo.send(f"is_legal {colour} {action_to_gtp(point, size)}") == "1"
                assert theirs == (reason is None), (number, action_to_gtp(point, size), reason)
                checked += 1
        gnugo.send(f"play {colour} {action_to_gtp(action, size)}")  # raises GtpError if GNU Go refuses
        state.play(action)
    print(f"{size}x{size}: {checked} points compared, {superko_skipped} superko points skipped")
    assert checked > 10 * size * size


def settled(state: GoState) -> bool:
    """Whether every empty region of the board touches stones of one colour only (no dame)."""
    board = state.board.reshape(-1)
    n = state.size
    for p in np.flatnonzero(board == 0):
        touching = {int(board[q]) for q in neighbours(int(p), n)} - {0}
        # a point touching both colours is dame; regions are checked point by point through neighbours
        if len(touching) == 2:
            return False
    return True


def capture_bot_game(size: int, seed: int, komi: float) -> tuple[list[int], GoState]:
    rng = np.random.default_rng(seed)
    state = GoState.new(size, komi=komi, max_moves=6 * size * size)
    actions = []
    while not state.is_terminal:
        a = capture_policy(state, rng)
        actions.append(a)
        state.play(a)
    return actions, state


def test_final_score_agrees_on_settled_positions(gnugo: GtpClient) -> None:
    compared = 0
    for seed in range(6):
        size = (7, 9)[seed % 2]
        actions, state = capture_bot_game(size, seed, komi=7.5)
        if state.passes < 2 or not settled(state):
            continue
        replay_moves(gnugo, size, state.komi, actions)
        if gnugo.send("final_status_list dead") or gnugo.send("final_status_list seki"):
            continue
        theirs = gnugo.send("final_score")
        assert parse_score(theirs) == state.score(), (seed, theirs, score_text(state.score()))
        # The stone-by-stone rebuild scores the same as the move-by-move replay.
        assert parse_score(referee_score(gnugo, state)) == state.score()
        compared += 1
    print(f"final_score compared on {compared} of 6 games")
    assert compared >= 3, f"only {compared} of 6 games ended settled with nothing dead; the check is too weak"


@pytest.mark.slow
def test_long_legality_sweep(gnugo: GtpClient) -> None:
    for seed in range(20):
        size = (5, 7, 9, 13)[seed % 4]
        actions, _ = random_game(size, 100 + seed, max_moves=4 * size * size)
        gnugo.send(f"boardsize {size}")
        gnugo.send("clear_board")
        state = GoState.new(size, komi=7.5)
        for action in actions:
            colour = "b" if state.to_play == BLACK else "w"
            for point in range(size * size):
                reason = state.illegal_reason(point)
                if reason != "superko":
                    theirs = gnugo.send(f"is_legal {colour} {action_to_gtp(point, size)}") == "1"
                    assert theirs == (reason is None), (seed, action_to_gtp(point, size), reason)
            gnugo.send(f"play {colour} {action_to_gtp(action, size)}")
            state.play(action)
