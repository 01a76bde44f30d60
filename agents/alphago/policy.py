"""AlphaGo's nets and the games they play: policy and value nets from ``agents.nets``, sampling, batched matches.

Nets read the game's feature planes ``(n, C, N, N)`` (the mover's view). A *policy net* maps them to logits
over the ``A = N*N + 1`` actions (pass last); a *value net* to ``v`` in [-1, 1] from the mover's view.

:func:`play_games` plays ``n`` games of two policy nets against each other in one :class:`GameBatch` (one
forward pass per net per move, over every game where that net is to move), sampling moves from the softmax
over legal actions, and can record the first net's positions and moves (REINFORCE's data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from agents.nets import NetConfig, build_net
from agents.search.game import Game


def default_net(kind: str, preset: str, board_size: int) -> NetConfig:
    """The net of ``kind`` / ``preset``; preset ``auto`` picks by board size as agent=zero does (resnet b2c32 up
    to 5x5, b4c64 up to 7x7, b6c64 above; mobilenet b4c32, b6c48, b8c64)."""
    if preset == "auto":
        sizes = {"resnet": ("b2c32", "b4c64", "b6c64"), "mobilenet": ("b4c32", "b6c48", "b8c64")}[kind]
        preset = sizes[0] if board_size <= 5 else sizes[1] if board_size <= 7 else sizes[2]
    return NetConfig(kind=kind, preset=preset)


def build_policy_net(cfg: NetConfig, planes: int, board_size: int, actions: int) -> torch.nn.Module:
    """A policy net: planes ``(n, planes, N, N)`` -> logits ``(n, actions)``."""
    return build_net(cfg, planes, board_size, actions, heads="policy")


def build_value_net(cfg: NetConfig, planes: int, board_size: int, actions: int) -> torch.nn.Module:
    """A value net: planes ``(n, planes, N, N)`` -> ``v (n,)`` in [-1, 1] from the mover's view."""
    return build_net(cfg, planes, board_size, actions, heads="value")


def empty_point_masks(planes: np.ndarray, history: int) -> np.ndarray:
    """bool ``(n, N*N + 1)``: points empty in the current board (planes 0 and ``history``) plus pass.

    A legality mask that survives symmetries (suicide and superko are not visible in planes; training only)."""
    n = planes.shape[0]
    empty = (planes[:, 0] == 0) & (planes[:, history] == 0)
    return np.concatenate([empty.reshape(n, -1), np.ones((n, 1), bool)], axis=1)


def policy_probs(net: torch.nn.Module, planes: np.ndarray, masks: np.ndarray, device: str = "cpu",
                 chunk: int = 1024) -> np.ndarray:
    """float64 ``(n, A)``: the net's softmax over the legal actions (eval mode, no gradients)."""
    was_training = net.training
    net.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(planes), chunk):
            x = torch.as_tensor(np.asarray(planes[i : i + chunk], np.float32), device=device)
            m = torch.as_tensor(np.asarray(masks[i : i + chunk], bool), device=device)
            out.append(torch.softmax(net(x, m).double(), dim=1).cpu().numpy())
    if was_training:
        net.train()
    return np.concatenate(out) if out else np.zeros((0, masks.shape[1]))


def values(net: torch.nn.Module, planes: np.ndarray, device: str = "cpu", chunk: int = 1024) -> np.ndarray:
    """float32 ``(n,)``: the value net's outputs (eval mode, no gradients)."""
    was_training = net.training
    net.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(planes), chunk):
            out.append(net(torch.as_tensor(np.asarray(planes[i : i + chunk], np.float32), device=device))
                       .float().cpu().numpy())
    if was_training:
        net.train()
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def sample(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """int64 ``(n,)``: one action per row drawn from ``probs (n, A)``."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cdf[:, -1]
    return np.minimum((cdf <= u[:, None]).sum(axis=1), probs.shape[1] - 1).astype(np.int64)


def choose(source: torch.nn.Module | str, planes: np.ndarray, masks: np.ndarray, rng: np.random.Generator,
           device: str = "cpu") -> np.ndarray:
    """Moves of ``source`` (a policy net, sampled; or ``"random"``) for the given positions."""
    if isinstance(source, str):
        if source != "random":
            raise ValueError(f"unknown move source {source!r}; valid: a policy net or 'random'")
        probs = masks / masks.sum(axis=1, keepdims=True)
        return sample(probs, rng)
    return sample(policy_probs(source, planes, masks, device), rng)


@dataclass
class Games:
    """What :func:`play_games` returns (``m`` recorded positions of the first player)."""

    winners: np.ndarray
    """int8 ``(n,)``: absolute winner of each game (+1 black, -1 white, 0 draw)."""
    first_colour: np.ndarray
    """int8 ``(n,)``: the first player's colour in each game (black in even games)."""
    planes: np.ndarray
    """uint8 ``(m, C, N, N)``: recorded positions (the first player to move)."""
    masks: np.ndarray
    """bool ``(m, A)``: legal actions there."""
    actions: np.ndarray
    """int64 ``(m,)``: the move the first player sampled."""
    game: np.ndarray
    """int64 ``(m,)``: game index of each recorded position."""
    moves: int
    """Moves played in all games together."""

    @property
    def first_score(self) -> np.ndarray:
        """float ``(n,)``: +1 / -1 / 0 per game from the first player's view."""
        return (self.winners * self.first_colour).astype(np.float64)


def play_games(game: Game, first: torch.nn.Module | str, second: torch.nn.Module | str, n: int,
               rng: np.random.Generator, max_moves: int, device: str = "cpu", record: bool = False) -> Games:
    """``n`` games of ``first`` against ``second`` (``first`` black in even games), moves sampled from each
    policy over the legal actions; see :class:`Games`. ``record`` keeps the first player's positions."""
    batch = game.new_batch(n, max_moves=max_moves)
    first_colour = np.where(np.arange(n) % 2 == 0, 1, -1).astype(np.int8)
    pass_action = game.num_actions - 1
    rec_planes, rec_masks, rec_actions, rec_game = [], [], [], []
    moves = 0
    while not batch.done.all():
        planes, masks, live = batch.features(), batch.legal_masks(), ~batch.done
        mine = live & (batch.to_play == first_colour)
        actions = np.full(n, pass_action, np.int64)
        for source, rows in ((first, np.flatnonzero(mine)), (second, np.flatnonzero(live & ~mine))):
            if rows.size:
                actions[rows] = choose(source, planes[rows], masks[rows], rng, device)
        if record and mine.any():
            rows = np.flatnonzero(mine)
            rec_planes.append(planes[rows].astype(np.uint8))
            rec_masks.append(masks[rows])
            rec_actions.append(actions[rows])
            rec_game.append(rows)
        moves += int(live.sum())
        batch.play(actions)
    c, s = game.num_planes, game.board_size
    return Games(batch.winners().astype(np.int8), first_colour,
                 np.concatenate(rec_planes) if rec_planes else np.zeros((0, c, s, s), np.uint8),
                 np.concatenate(rec_masks) if rec_masks else np.zeros((0, game.num_actions), bool),
                 np.concatenate(rec_actions) if rec_actions else np.zeros(0, np.int64),
                 np.concatenate(rec_game) if rec_game else np.zeros(0, np.int64), moves)
