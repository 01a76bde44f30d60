"""Tiny corpora for the AlphaGo tests: 5x5 games whose moves follow a fixed point priority (learnable)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from envs.go.sgf import record_from_actions, save_sgf
from envs.go.state import GoState

PRIORITY_SEED = 7


def priority_game(size: int, rng: np.random.Generator, priority: np.ndarray, random_moves: int = 2,
                  max_moves: int = 30) -> list[int]:
    """A game: ``random_moves`` random legal points, then each player takes the first legal point of
    ``priority`` that does not fill its own eye (pass when none)."""
    state = GoState.new(size, komi=0.5)
    actions: list[int] = []
    while not state.is_terminal and len(actions) < max_moves:
        legal = state.legal_mask()
        board = state.board.reshape(-1)
        if len(actions) < random_moves:
            action = int(rng.choice(np.flatnonzero(legal[:-1])))
        else:
            action = size * size
            for p in priority:
                r, c = divmod(int(p), size)
                nbrs = [(r + dr) * size + c + dc for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
                        if 0 <= r + dr < size and 0 <= c + dc < size]
                own_eye = all(board[q] == state.to_play for q in nbrs)
                if legal[p] and not own_eye:
                    action = int(p)
                    break
        state.play(action)
        actions.append(action)
    return actions


def write_priority_corpus(folder: Path, games: int, size: int = 5, seed: int = 0) -> Path:
    """``games`` SGF files of :func:`priority_game` in ``folder`` (root property ZR: the random opening)."""
    folder.mkdir(parents=True, exist_ok=True)
    priority = np.random.default_rng(PRIORITY_SEED).permutation(size * size)
    rng = np.random.default_rng(seed)
    for i in range(games):
        record = record_from_actions(priority_game(size, rng, priority), size, komi=0.5)
        record.properties["ZR"] = ["2"]
        save_sgf(folder / f"g{i:03d}.sgf", record)
    return folder


@pytest.fixture(scope="session")
def priority_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of 40 5x5 priority games."""
    return write_priority_corpus(tmp_path_factory.mktemp("corpus") / "sgf", 40)
