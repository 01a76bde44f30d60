"""Supervised fitting of AlphaGo's three learned parts: the SL policy, the rollout policy and the value net.

- SL policy: cross-entropy between the net's softmax over the empty points and pass and the expert's move
  (Adam, L2 ``weight_decay``), on a random board symmetry of every position when ``augment``.
- Rollout policy: a linear softmax. The logit of action ``a`` is ``sum_k w[features[a, k]]`` (features from the
  game's ``move_features``, padding index ``len(w) - 1`` whose weight stays 0); cross-entropy on the expert's
  move over the legal actions, Adam, L2 penalty ``l2 * |w|^2``.
- Value net: mean squared error between ``v(s)`` and the outcome ``z`` from the mover's view (Adam, L2).

Each function runs ``steps`` minibatch steps, calls ``on_step(step, metrics)`` after each, and returns the
last metrics; accuracies are top-1 agreement with the recorded move on held-out positions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from agents.alphago.policy import empty_point_masks, values
from agents.search.game import Game

OnStep = Callable[[int, dict[str, float]], None] | None


def _augment(game: Game, planes: np.ndarray, actions: np.ndarray, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray]:
    """Each (position, move) under a random board symmetry."""
    ks = rng.integers(0, game.num_symmetries, size=len(planes))
    one_hot = np.zeros((len(actions), game.num_actions), np.float32)
    one_hot[np.arange(len(actions)), actions] = 1.0
    out_p, out_a = np.empty_like(planes), np.empty_like(actions)
    for k in np.unique(ks):
        rows = np.flatnonzero(ks == k)
        p, pol = game.augment(planes[rows], one_hot[rows], int(k))
        out_p[rows], out_a[rows] = p, pol.argmax(axis=1)
    return out_p, out_a


def _history(game: Game) -> int:
    return (game.num_planes - 1) // 2


def policy_accuracy(net: torch.nn.Module, planes: np.ndarray, actions: np.ndarray, game: Game,
                    device: str = "cpu", chunk: int = 1024) -> float:
    """Share of positions where the net's most likely move (over empty points and pass) is the recorded one."""
    if len(actions) == 0:
        return float("nan")
    was_training = net.training
    net.eval()
    hits = 0
    with torch.inference_mode():
        for i in range(0, len(planes), chunk):
            p = planes[i : i + chunk]
            m = torch.as_tensor(empty_point_masks(p, _history(game)), device=device)
            logits = net(torch.as_tensor(p.astype(np.float32), device=device), m)
            hits += int((logits.argmax(dim=1).cpu().numpy() == actions[i : i + chunk]).sum())
    if was_training:
        net.train()
    return hits / len(actions)


def train_policy(net: torch.nn.Module, planes: np.ndarray, actions: np.ndarray, game: Game, steps: int,
                 batch: int, lr: float, weight_decay: float, rng: np.random.Generator, augment: bool = True,
                 device: str = "cpu", on_step: OnStep = None) -> dict[str, float]:
    """Fit the policy ``net`` to the expert moves ``actions`` in ``planes`` (uint8 or float ``(n, C, N, N)``)."""
    if len(actions) == 0:
        raise ValueError("no positions to train the policy on")
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    net.train()
    metrics: dict[str, float] = {}
    for step in range(1, steps + 1):
        idx = rng.integers(0, len(actions), size=min(batch, len(actions)))
        p, a = planes[idx], actions[idx]
        if augment:
            p, a = _augment(game, p, a, rng)
        m = torch.as_tensor(empty_point_masks(p, _history(game)), device=device)
        logits = net(torch.as_tensor(p.astype(np.float32), device=device), m)
        target = torch.as_tensor(a, device=device)
        loss = F.cross_entropy(logits, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        acc = float((logits.argmax(dim=1) == target).float().mean())
        metrics = {"loss": loss.item(), "train_accuracy": acc}
        if on_step is not None:
            on_step(step, metrics)
    net.eval()
    return metrics


def rollout_logits(weights: np.ndarray, features: np.ndarray) -> np.ndarray:
    """float64 ``(n, A)``: the linear policy's logits, ``-inf`` on illegal actions (all-padding rows)."""
    pad = len(weights) - 1
    logits = np.asarray(weights, np.float64)[features].sum(axis=-1)
    return np.where(features[..., 0] != pad, logits, -np.inf)


def rollout_accuracy(weights: np.ndarray, features: np.ndarray, actions: np.ndarray) -> float:
    """Share of positions where the rollout policy's most likely legal move is the recorded one."""
    if len(actions) == 0:
        return float("nan")
    hits = 0
    for i in range(0, len(actions), 2048):
        hits += int((rollout_logits(weights, features[i : i + 2048]).argmax(axis=1) == actions[i : i + 2048]).sum())
    return hits / len(actions)


def train_rollout(features: np.ndarray, actions: np.ndarray, num_weights: int, steps: int, batch: int, lr: float,
                  l2: float, rng: np.random.Generator, weights: np.ndarray | None = None,
                  on_step: OnStep = None) -> np.ndarray:
    """float64 ``(num_weights,)``: the linear softmax rollout policy fitted to ``actions`` (see the module doc)."""
    if len(actions) == 0:
        raise ValueError("no positions to train the rollout policy on")
    pad = num_weights - 1
    start = np.zeros(num_weights) if weights is None else np.asarray(weights, np.float64)
    w = torch.nn.Parameter(torch.as_tensor(start, dtype=torch.float32).clone())
    opt = torch.optim.Adam([w], lr=lr)
    for step in range(1, steps + 1):
        idx = rng.integers(0, len(actions), size=min(batch, len(actions)))
        f = torch.as_tensor(features[idx].astype(np.int64))
        logits = w[f].sum(dim=-1).masked_fill(f[..., 0] == pad, float("-inf"))
        target = torch.as_tensor(actions[idx])
        loss = F.cross_entropy(logits, target) + l2 * (w * w).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            w[pad] = 0.0
        if on_step is not None:
            acc = float((logits.argmax(dim=1) == target).float().mean())
            on_step(step, {"loss": loss.item(), "train_accuracy": acc})
    return w.detach().double().numpy()


def train_value(net: torch.nn.Module, planes: np.ndarray, z: np.ndarray, game: Game, steps: int, batch: int,
                lr: float, weight_decay: float, rng: np.random.Generator, augment: bool = True, device: str = "cpu",
                on_step: OnStep = None) -> dict[str, float]:
    """Fit the value ``net`` to outcomes ``z`` (mover's view) of ``planes``; returns the last step's metrics."""
    if len(z) == 0:
        raise ValueError("no positions to train the value net on")
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    net.train()
    metrics: dict[str, float] = {}
    for step in range(1, steps + 1):
        idx = rng.integers(0, len(z), size=min(batch, len(z)))
        p = planes[idx]
        if augment:
            p, _ = _augment(game, p, np.zeros(len(idx), np.int64), rng)
        v = net(torch.as_tensor(p.astype(np.float32), device=device))
        loss = F.mse_loss(v, torch.as_tensor(z[idx], dtype=torch.float32, device=device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        metrics = {"mse": loss.item()}
        if on_step is not None:
            on_step(step, metrics)
    net.eval()
    return metrics


def value_mse(net: torch.nn.Module, planes: np.ndarray, z: np.ndarray, device: str = "cpu") -> float:
    """Mean squared error of the value net on held-out positions."""
    if len(z) == 0:
        return float("nan")
    return float(np.mean((values(net, planes, device) - z) ** 2))
