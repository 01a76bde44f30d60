"""Positions for calibration, fine-tuning and distillation: planes and legal masks, as tensors.

Real positions come from games (``save_positions`` writes what a game generator produced; the benchmark's
``--save-positions`` does this with the Go engine). :func:`synthetic_positions` is a fallback for a CLI run
without a positions file: random stones, not real games, so numbers measured on it say little.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch


class Positions(NamedTuple):
    """``planes`` (N, C, H, W) float32 and ``mask`` (N, A) bool (True = legal), row i describing one position."""

    planes: torch.Tensor
    mask: torch.Tensor

    def __len__(self) -> int:  # type: ignore[override]
        return self.planes.shape[0]

    def take(self, index: torch.Tensor | slice) -> Positions:
        """The positions at ``index`` (a slice or an index tensor)."""
        return Positions(self.planes[index], self.mask[index])


def save_positions(path: str | Path, planes: np.ndarray, mask: np.ndarray) -> None:
    """Write planes (N, C, H, W) float32 and mask (N, A) bool to a ``.npz`` file."""
    np.savez_compressed(Path(path), planes=planes.astype(np.float32), mask=mask.astype(bool))


def load_positions(path: str | Path) -> Positions:
    """Read a ``.npz`` written by :func:`save_positions`; ``ValueError`` naming the missing array otherwise."""
    with np.load(Path(path)) as data:
        for key in ("planes", "mask"):
            if key not in data:
                raise ValueError(f"{path}: no array {key!r}; expected 'planes' (N, C, H, W) and 'mask' (N, A)")
        return Positions(torch.from_numpy(data["planes"]).float(), torch.from_numpy(data["mask"]).bool())


def synthetic_positions(n: int, in_channels: int, board_size: int, rng: np.random.Generator) -> Positions:
    """``n`` random boards in AlphaGo Zero plane layout (own stones, opponent stones, colour plane last).

    Each board has about a third of its points filled; history planes repeat the current board; the legal mask
    is the empty points plus pass. Not real games: a fallback when no positions file is given.
    """
    history = (in_channels - 1) // 2
    board = rng.choice(3, size=(n, board_size, board_size), p=[0.66, 0.17, 0.17])
    planes = np.zeros((n, in_channels, board_size, board_size), np.float32)
    planes[:, :history] = (board == 1)[:, None]
    planes[:, history:2 * history] = (board == 2)[:, None]
    planes[:, -1] = rng.integers(0, 2, size=(n, 1, 1))
    mask = np.concatenate([(board == 0).reshape(n, -1), np.ones((n, 1), bool)], axis=1)
    return Positions(torch.from_numpy(planes), torch.from_numpy(mask))


def positions_from_planes(planes: np.ndarray) -> Positions:
    """Positions from feature planes alone (AlphaGo Zero layout: ``(C - 1) / 2`` planes of own stones, then as
    many of the opponent's, colour last), e.g. a replay window's. The legal mask is the empty points plus pass
    (suicide and superko are not checked: a close approximation for calibration and agreement)."""
    planes = np.ascontiguousarray(planes, np.float32)
    n, c, h, w = planes.shape
    history = (c - 1) // 2
    empty = (planes[:, 0] + planes[:, history]) < 0.5
    mask = np.concatenate([empty.reshape(n, h * w), np.ones((n, 1), bool)], axis=1)
    return Positions(torch.from_numpy(planes), torch.from_numpy(mask))


def minibatches(positions: Positions, batch_size: int, steps: int, generator: torch.Generator
                ) -> list[Positions]:
    """``steps`` minibatches of ``batch_size`` positions drawn in shuffled passes over ``positions``."""
    out: list[Positions] = []
    n = len(positions)
    order = torch.randperm(n, generator=generator)
    cursor = 0
    while len(out) < steps:
        if cursor + batch_size > n:
            order, cursor = torch.randperm(n, generator=generator), 0
        out.append(positions.take(order[cursor:cursor + min(batch_size, n)]))
        cursor += batch_size
    return out


def sample_positions(positions: Positions, count: int, seed: int) -> Positions:
    """``count`` of ``positions`` drawn without replacement in a random order (all of them, shuffled, if fewer);
    the same ``seed`` draws the same ones."""
    order = torch.randperm(len(positions), generator=torch.Generator().manual_seed(seed))
    return positions.take(order[:count])


def concat_positions(sets: list[Positions]) -> Positions:
    """The positions of ``sets`` one after the other (planes and masks of one shape)."""
    return Positions(torch.cat([s.planes for s in sets]), torch.cat([s.mask for s in sets]))
