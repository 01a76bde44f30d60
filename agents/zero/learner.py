"""The learner: minibatches from the replay window, symmetry augmentation, AlphaZero's loss (and KataGo's).

    loss = cross_entropy(pi, softmax(logits)) + value_weight * (z - v)^2 + L2 (weight decay in the optimizer)
           [+ ownership_weight * mean over points of cross_entropy((1 + t) / 2, (1 + o) / 2)]
           [+ score_weight * cross_entropy(two_hot(m), softmax(score_logits))]

``pi`` is the search's visit distribution, ``z`` the outcome from the view of the player to move, ``v`` the
net's value from the same view. Training uses unmasked logits: illegal moves have target 0, so the net learns
to give them little mass; at inference they are masked out. With auxiliary heads, ``t`` is the final owner of a
point and ``o`` the net's tanh prediction, both from the mover's view (KataGo's ownership loss; a point owned by
neither has target 1/2, whose cross entropy is at least ln 2), and ``m`` is the final score margin, spread over
its two nearest integer bins in proportion to its distance from each (``two_hot``: a half-point margin puts half
on each, so the target's mean is ``m``). Positions without auxiliary targets (resigned games) add nothing to
those two terms. The metrics report each term: ``train/policy_loss``, ``train/value_loss``,
``train/ownership_loss``, ``train/score_loss`` (unweighted) and ``train/loss`` (the weighted sum).

With several board sizes (``agent.board_mix``) each gradient step draws its minibatch from every size's window in
proportion (:class:`Window`), runs one forward pass per size (the shapes differ) and weights each size's loss by its
share of the minibatch, so the gradient is that of the whole minibatch's mean loss; the metrics are those means,
plus ``train/loss_N``, ``train/policy_loss_N`` and ``train/value_loss_N`` per size N. Batch norm (the default norm)
then keeps one set of running statistics across sizes, updated once per size and step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

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


def augment_batch(game: Game | None, planes: np.ndarray, policy: np.ndarray, rng: np.random.Generator,
                  ownership: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Each sample under a random one of the game's symmetries (identity when ``game`` is None): ``(planes,
    policy)``, or with ``ownership`` ``(n, H, W)`` ``(planes, policy, ownership)``. An ownership map is a board
    plane, so it travels through the game's ``augment`` as one more plane beside the features, under the same
    symmetry as its sample's planes and policy."""
    extra = () if ownership is None else (ownership,)
    if game is None or game.num_symmetries <= 1:
        return (planes, policy, *extra)
    stacked = planes if ownership is None else np.concatenate([planes, ownership[:, None].astype(planes.dtype)], 1)
    ks = rng.integers(0, game.num_symmetries, size=len(planes))
    out_planes, out_policy = np.empty_like(stacked), np.empty_like(policy)
    for k in np.unique(ks):
        rows = np.flatnonzero(ks == k)
        out_planes[rows], out_policy[rows] = game.augment(stacked[rows], policy[rows], int(k))
    if ownership is None:
        return out_planes, out_policy
    return out_planes[:, :-1], out_policy, out_planes[:, -1].astype(ownership.dtype)


def two_hot_cross_entropy(log_p: torch.Tensor, target: torch.Tensor, low: int) -> torch.Tensor:
    """Cross entropy ``(n,)`` of log-probabilities ``log_p (n, S)`` over the integer bins ``low .. low + S - 1``
    against each ``target`` value (clipped to the bins) split between its two nearest bins."""
    s = log_p.shape[1]
    x = (target - low).clamp(0, s - 1)
    lower = x.floor().clamp(max=s - 2).long()
    upper_share = x - lower
    picked = log_p.gather(1, torch.stack([lower, lower + 1], dim=1))
    return -((1 - upper_share) * picked[:, 0] + upper_share * picked[:, 1])


class Window(NamedTuple):
    """One replay window a gradient step draws from, and how many positions of each minibatch it gives."""

    label: str
    """Suffix of its per-window metrics (the board size; empty for a single window: no per-window metrics)."""
    replay: Replay
    """The window."""
    game: Game | None
    """Its game, for the symmetries of augmentation (None: no augmentation)."""
    batch: int
    """Positions it gives each minibatch."""


PER_WINDOW = ("loss", "policy_loss", "value_loss")
"""Losses reported per window (``train/loss_5``) when a step draws from several."""


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

    def loss(self, planes: torch.Tensor, policy: torch.Tensor, z: torch.Tensor, ownership: torch.Tensor | None = None,
             score: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Losses of one minibatch: planes (n, C, H, W), policy targets (n, A), outcomes z (n,); with auxiliary
        heads also ownership targets (n, H, W) and score targets (n,), NaN where a position has none."""
        aux = bool(self.cfg.aux_heads)
        with torch.autocast(self.device.type, self.amp_dtype or torch.bfloat16, enabled=self.amp_dtype is not None):
            out = self.model(planes, None, aux=True) if aux else self.model(planes, None)
        logits, value = out[0], out[1]
        log_p = F.log_softmax(logits.float(), dim=1)
        # Cross-entropy against the visit distribution (its entropy is the floor of this loss).
        policy_loss = -(policy * log_p).sum(dim=1).mean()
        # Mean squared error of the value against the game's outcome, both from the mover's view.
        value_loss = F.mse_loss(value.float(), z)
        total = policy_loss + self.cfg.value_weight * value_loss
        entropy = -(policy * torch.log(policy.clamp_min(1e-12))).sum(dim=1).mean()
        losses = {"policy_loss": policy_loss, "value_loss": value_loss, "target_entropy": entropy}
        if aux:
            has = ~torch.isnan(score)
            rows = has.float() / has.sum().clamp_min(1)  # the mean over positions with targets
            if out.ownership_logits is not None:
                # KataGo's per-point cross entropy of (1 + o) / 2 = sigmoid(2x) for o = tanh(x), averaged over the
                # points: binary cross entropy on the logits 2x, numerically stable where tanh saturates.
                per_point = F.binary_cross_entropy_with_logits(2 * out.ownership_logits.float(), (1 + ownership) / 2,
                                                               reduction="none")
                losses["ownership_loss"] = (per_point.mean(dim=(1, 2)) * rows).sum()
                total = total + self.cfg.ownership_weight * losses["ownership_loss"]
            if out.score_logits is not None:
                log_s = F.log_softmax(out.score_logits.float(), dim=1)
                per_row = two_hot_cross_entropy(log_s, torch.nan_to_num(score), -self.net.score.bound)
                losses["score_loss"] = (per_row * rows).sum()
                total = total + self.cfg.score_weight * losses["score_loss"]
        return {"loss": total, **losses}

    def train(self, replay: Replay, steps: int, rng: np.random.Generator, game: Game | None) -> dict[str, float]:
        """``steps`` gradient steps on minibatches of ``cfg.batch_size`` (augmented when ``cfg.augment``)."""
        return self.train_windows([Window("", replay, game, self.cfg.batch_size)], steps, rng)

    def train_windows(self, windows: Sequence[Window], steps: int, rng: np.random.Generator) -> dict[str, float]:
        """``steps`` gradient steps, each on a minibatch of ``window.batch`` positions from every window (one forward
        pass each, losses weighted by their share of the minibatch; see the module docstring). Nothing while a
        window is empty."""
        if steps <= 0 or not windows or any(len(w.replay) == 0 for w in windows):
            return {}
        total = sum(w.batch for w in windows)
        self.net.train()
        sums: dict[str, float] = {}
        for _ in range(steps):
            self.optimizer.zero_grad(set_to_none=True)
            for w in windows:
                losses = self._window_losses(w, rng)
                share = w.batch / total
                loss = losses["loss"] if len(windows) == 1 else losses["loss"] * share
                if self.scaler is not None:
                    self.scaler.scale(loss).backward()
                else:
                    loss.backward()
                for k, t in losses.items():
                    value = float(t.detach())
                    sums[k] = sums.get(k, 0.0) + value * share
                    if len(windows) > 1 and k in PER_WINDOW:
                        sums[f"{k}_{w.label}"] = sums.get(f"{k}_{w.label}", 0.0) + value
            if self.scaler is not None:
                self.scaler.step(self.optimizer)
                self.scaler.update()
            else:
                self.optimizer.step()
            self.steps += 1
        self.net.eval()
        return {f"train/{k}": s / steps for k, s in sums.items()}

    def _window_losses(self, w: Window, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """The losses of a minibatch of ``w.batch`` positions drawn from ``w.replay`` (augmented when asked)."""
        planes, policy, z, ownership, score = w.replay.sample_batch(w.batch, rng)
        if self.cfg.augment:
            planes, policy, *rest = augment_batch(w.game, planes, policy, rng, ownership)
            ownership = rest[0] if rest else None
        aux = {k: self._to_device(a) for k, a in (("ownership", ownership), ("score", score)) if a is not None}
        return self.loss(*(self._to_device(a) for a in (planes, policy, z)), **aux)

    def _to_device(self, array: np.ndarray) -> torch.Tensor:
        """A minibatch array as a tensor on the device; through pinned memory (an asynchronous copy) on CUDA."""
        tensor = torch.from_numpy(np.ascontiguousarray(array))
        if self.device.type != "cuda":
            return tensor
        return tensor.pin_memory().to(self.device, non_blocking=True)

    def state_dict(self) -> dict[str, Any]:
        """Optimizer state and step count."""
        return {"optimizer": self.optimizer.state_dict(), "steps": self.steps}

    def load_state_dict(self, state: Mapping[str, Any], saved_names: Sequence[str] | None = None) -> None:
        """Restore :meth:`state_dict`. ``saved_names``: the parameter names of the net the state was saved with,
        in order, when they differ from this net's (auxiliary heads turned on or off since): the optimizer state
        of every parameter both nets have is kept, new parameters start without one."""
        optimizer = state["optimizer"]
        if saved_names is not None:
            optimizer = remap_optimizer_state(optimizer, list(saved_names), [n for n, _ in self.net.named_parameters()])
        self.optimizer.load_state_dict(optimizer)
        self.steps = int(state["steps"])


def remap_optimizer_state(state: Mapping[str, Any], saved: list[str], current: list[str]) -> dict[str, Any]:
    """An optimizer state dict (one parameter group, parameters indexed in ``saved`` order) re-indexed for the
    parameters ``current``: a parameter's state moves to its index in ``current``, one not in ``current`` is
    dropped, and a new one has none (the optimizer starts it afresh)."""
    groups = state["param_groups"]
    if len(groups) != 1 or len(groups[0]["params"]) != len(saved):
        raise ValueError(f"optimizer state of {sum(len(g['params']) for g in groups)} parameters in {len(groups)} "
                         f"groups does not match the saved net's {len(saved)} parameters")
    where = {name: i for i, name in enumerate(current)}
    moved = {where[saved[int(j)]]: s for j, s in state["state"].items() if saved[int(j)] in where}
    return {"state": moved, "param_groups": [{**groups[0], "params": list(range(len(current)))}]}
