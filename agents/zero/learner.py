"""The learner: minibatches from the replay window, symmetry augmentation, AlphaZero's loss.

    loss = cross_entropy(pi, softmax(logits)) + value_weight * (z - v)^2 + L2 (weight decay in the optimizer)

``pi`` is the search's visit distribution, ``z`` the outcome from the view of the player to move, ``v`` the
net's value from the same view. Training uses unmasked logits: illegal moves have target 0, so the net learns
to give them little mass; at inference they are masked out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from agents.search.game import Game
from agents.zero.config import ZeroConfig
from agents.zero.replay import Replay


def make_optimizer(cfg: ZeroConfig, params: Any) -> torch.optim.Optimizer:
    """SGD (momentum 0.9, Nesterov, L2 ``weight_decay``) or AdamW (decoupled ``weight_decay``)."""
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay)
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def augment_batch(game: Game | None, planes: np.ndarray, policy: np.ndarray, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Each sample under a random one of the game's symmetries (identity when ``game`` is None)."""
    if game is None or game.num_symmetries <= 1:
        return planes, policy
    ks = rng.integers(0, game.num_symmetries, size=len(planes))
    out_planes, out_policy = np.empty_like(planes), np.empty_like(policy)
    for k in np.unique(ks):
        rows = np.flatnonzero(ks == k)
        out_planes[rows], out_policy[rows] = game.augment(planes[rows], policy[rows], int(k))
    return out_planes, out_policy


class Learner:
    """Owns the optimizer; ``train(replay, steps, rng)`` runs gradient steps and returns mean losses.

    ``model`` is the module the training forward pass goes through: the net itself, or a wrapper sharing its
    parameters (``torch.compile``, or DistributedDataParallel after :meth:`data_parallel`, which all-reduces the
    gradients so every rank takes the same step). ``amp_dtype`` is the CUDA autocast dtype (bf16 by default on
    CUDA, ``None`` = fp32); fp16 turns on gradient scaling.
    """

    def __init__(self, cfg: ZeroConfig, net: torch.nn.Module, device: str) -> None:
        self.cfg, self.net, self.device = cfg, net, torch.device(device)
        self.model: torch.nn.Module = net
        self.optimizer = make_optimizer(cfg, net.parameters())
        self.amp_dtype: torch.dtype | None = torch.bfloat16 if self.device.type == "cuda" else None
        self.scaler: torch.amp.GradScaler | None = None
        self.steps = 0

    def set_precision(self, dtype: torch.dtype | None) -> None:
        """CUDA autocast dtype for training (``None``: fp32); fp16 adds a gradient scaler. Ignored on the CPU."""
        self.amp_dtype = dtype if self.device.type == "cuda" else None
        fp16 = self.amp_dtype == torch.float16
        self.scaler = torch.amp.GradScaler("cuda") if fp16 else None

    def data_parallel(self) -> None:
        """Train through ``torch.nn.parallel.DistributedDataParallel`` (the process group must be initialised):
        rank 0's parameters are broadcast now, gradients are averaged over the ranks at every step."""
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index or 0] if self.device.type == "cuda" else None
        self.model = DistributedDataParallel(self.net, device_ids=ids)

    def loss(self, planes: torch.Tensor, policy: torch.Tensor, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """Losses of one minibatch: planes (n, C, H, W), policy targets (n, A), outcomes z (n,)."""
        with torch.autocast(self.device.type, self.amp_dtype or torch.bfloat16, enabled=self.amp_dtype is not None):
            logits, value = self.model(planes, None)
        log_p = F.log_softmax(logits.float(), dim=1)
        # Cross-entropy against the visit distribution (its entropy is the floor of this loss).
        policy_loss = -(policy * log_p).sum(dim=1).mean()
        # Mean squared error of the value against the game's outcome, both from the mover's view.
        value_loss = F.mse_loss(value.float(), z)
        total = policy_loss + self.cfg.value_weight * value_loss
        entropy = -(policy * torch.log(policy.clamp_min(1e-12))).sum(dim=1).mean()
        return {"loss": total, "policy_loss": policy_loss, "value_loss": value_loss, "target_entropy": entropy}

    def train(self, replay: Replay, steps: int, rng: np.random.Generator, game: Game | None) -> dict[str, float]:
        """``steps`` gradient steps on minibatches of ``cfg.batch_size`` (augmented when ``cfg.augment``)."""
        if steps <= 0 or len(replay) == 0:
            return {}
        self.net.train()
        sums: dict[str, float] = {}
        for _ in range(steps):
            planes, policy, z = replay.sample(self.cfg.batch_size, rng)
            if self.cfg.augment:
                planes, policy = augment_batch(game, planes, policy, rng)
            x, p, v = (self._to_device(a) for a in (planes, policy, z))
            losses = self.loss(x, p, v)
            self.optimizer.zero_grad(set_to_none=True)
            if self.scaler is not None:
                self.scaler.scale(losses["loss"]).backward()
                self.scaler.step(self.optimizer)
                self.scaler.update()
            else:
                losses["loss"].backward()
                self.optimizer.step()
            self.steps += 1
            for k, t in losses.items():
                sums[k] = sums.get(k, 0.0) + float(t.detach())
        self.net.eval()
        return {f"train/{k}": s / steps for k, s in sums.items()}

    def _to_device(self, array: np.ndarray) -> torch.Tensor:
        """A minibatch array as a tensor on the device; through pinned memory (an asynchronous copy) on CUDA."""
        tensor = torch.from_numpy(np.ascontiguousarray(array))
        if self.device.type != "cuda":
            return tensor
        return tensor.pin_memory().to(self.device, non_blocking=True)

    def state_dict(self) -> dict[str, Any]:
        """Optimizer state and step count."""
        return {"optimizer": self.optimizer.state_dict(), "steps": self.steps}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps = int(state["steps"])
