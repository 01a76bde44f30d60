"""Knowledge distillation: train a student net to match a teacher's outputs on positions.

Loss per position (Hinton et al. 2015 on the policy, squared error on the value)::

    T^2 * KL( softmax(teacher_logits / T) || softmax(student_logits / T) )  +  value_weight * (v_s - v_t)^2
        + hard_weight * CE( softmax(student_logits), argmax teacher_logits )

over legal moves only (illegal logits are -inf in both nets; they are replaced by a large negative number so
that 0 * log 0 terms stay 0). There is no framework API for this: it is a loss and a loop.
"""

from __future__ import annotations

import math
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from agents.compress.positions import Positions
from agents.nets.heads import Net

_NEG = -1e4  # stands in for -inf on illegal moves inside the loss


class DistillLoss(NamedTuple):
    """The total loss and its parts (scalars): ``loss = kl + value_weight * mse + hard_weight * hard``."""

    loss: torch.Tensor
    kl: torch.Tensor
    mse: torch.Tensor
    hard: torch.Tensor


def _split(out: object) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """(logits, value) of a net output: a (logits, value) tuple, or one tensor (2-D: logits, 1-D: value)."""
    if isinstance(out, tuple):
        return out[0], out[1]
    return (out, None) if out.dim() == 2 else (None, out)


def policy_kl(teacher_logits: torch.Tensor, student_logits: torch.Tensor, mask: torch.Tensor | None,
              temperature: float = 1.0) -> torch.Tensor:
    """Mean over the batch of KL(softmax(t/T) || softmax(s/T)) over legal moves (logits (B, A), mask (B, A))."""
    if mask is not None:
        teacher_logits = teacher_logits.masked_fill(~mask, _NEG)
        student_logits = student_logits.masked_fill(~mask, _NEG)
    t = F.log_softmax(teacher_logits / temperature, dim=-1)
    s = F.log_softmax(student_logits / temperature, dim=-1)
    return (t.exp() * (t - s)).sum(-1).mean()


def top_move_cross_entropy(teacher_logits: torch.Tensor, student_logits: torch.Tensor,
                           mask: torch.Tensor | None) -> torch.Tensor:
    """Mean over the batch of -log softmax(s)[a*] at temperature 1, a* the teacher's most likely legal move
    (logits (B, A), mask (B, A)): the hard-label term, which pulls the student's top move onto the teacher's."""
    if mask is not None:
        teacher_logits = teacher_logits.masked_fill(~mask, _NEG)
        student_logits = student_logits.masked_fill(~mask, _NEG)
    return F.cross_entropy(student_logits, teacher_logits.argmax(-1))


def distill_loss(student_out: object, teacher_out: object, mask: torch.Tensor | None, temperature: float = 2.0,
                 value_weight: float = 1.0, hard_weight: float = 0.0) -> DistillLoss:
    """:class:`DistillLoss` of one batch; outputs are as ``agents.nets.Net.forward`` returns them."""
    s_logits, s_value = _split(student_out)
    t_logits, t_value = _split(teacher_out)
    zero = torch.zeros(())
    kl = zero if s_logits is None else policy_kl(t_logits, s_logits, mask, temperature) * temperature ** 2
    mse = zero if s_value is None else F.mse_loss(s_value, t_value)
    hard = zero if s_logits is None or not hard_weight else top_move_cross_entropy(t_logits, s_logits, mask)
    return DistillLoss(kl + value_weight * mse + hard_weight * hard, kl, mse, hard)


@contextmanager
def channels_last(net: nn.Module) -> Iterator[Callable[[torch.Tensor], torch.Tensor]]:
    """Run ``net`` (a :class:`Net`) in channels-last memory layout inside the block, then give its weights back
    in the default layout (values unchanged). Yields the function that puts a batch of planes (N, C, H, W) in the
    same layout. Any other module (an int8 graph, a wrapper) is left as it is and the function is the identity.

    Why: on CPU, oneDNN's convolutions (the depthwise ones of a MobileNet above all) run 1.3-1.7x faster on
    channels-last tensors, forward and backward (measured on the 9x9 nets, one thread)."""
    if not isinstance(net, Net):
        yield lambda planes: planes
        return
    net.to(memory_format=torch.channels_last)
    try:
        yield lambda planes: planes.contiguous(memory_format=torch.channels_last)
    finally:
        net.to(memory_format=torch.contiguous_format)


@torch.no_grad()
def outputs_on(net: nn.Module, positions: Positions, batch_size: int = 256) -> object:
    """``net``'s outputs (eval mode) on all ``positions``, batched and concatenated (tuple or tensor)."""
    net.eval()
    with channels_last(net) as layout:
        outs = [net(layout(b.planes), b.mask)
                for b in (positions.take(slice(i, i + batch_size)) for i in range(0, len(positions), batch_size))]
    if isinstance(outs[0], tuple):
        return tuple(torch.cat(parts) for parts in zip(*outs, strict=True))
    return torch.cat(outs)


def _set_norm_eval(net: nn.Module) -> None:
    """Put every batch-norm layer of ``net`` in eval mode (normalise with, and keep, its running statistics)."""
    for m in net.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()


def distill(teacher: nn.Module, student: nn.Module, positions: Positions, steps: int = 1000,
            batch_size: int = 256, lr: float = 1e-3, temperature: float = 2.0, value_weight: float = 1.0,
            seed: int = 0, schedule: str = "cosine", warmup: int = 0, freeze_norm: bool = False,
            hard_weight: float = 0.0, targets: object | None = None,
            callback: Callable[[int, float], None] | None = None,
            state_file: Path | None = None, save_every: int = 500) -> list[float]:
    """Train ``student`` in place (Adam, ``steps`` minibatches) to match ``teacher`` on ``positions``.

    The teacher's outputs are computed once (eval mode, no gradients) and reused every epoch; pass them as
    ``targets`` (:func:`outputs_on` of the teacher on ``positions``) to share them between calls.
    ``schedule``: ``cosine`` (the learning rate decays from ``lr`` to 0 over ``steps``, after ``warmup`` linear
    steps) or ``constant``. ``hard_weight``: weight of the hard-label term (cross-entropy against the teacher's
    top move, :func:`top_move_cross_entropy`; 0 leaves it out). ``freeze_norm``: keep the batch-norm layers in eval
    mode, so the student trains exactly the function it is evaluated as and its running statistics are not moved
    (use it to fine-tune an already trained net, e.g. after pruning; recalibrate them afterwards with
    :func:`agents.compress.prune.recalibrate_norm`). ``callback(step, loss)`` runs after every step (1-based
    step; e.g. a progress line, or a held-out check: it may switch the student to eval mode, training resumes in
    train mode). Returns the loss of each step; the student is left in eval mode.

    ``state_file``: keep the run resumable there. Every ``save_every`` steps, and when Ctrl-C (SIGINT) arrives
    (the step in progress is finished first, then ``KeyboardInterrupt`` is raised), the student's and the
    optimiser's state, the schedule, the data order and the losses so far are written to it; a later call with
    the same file and settings (and the same student shape) resumes from the saved step and ends with the same
    student as an uninterrupted run. The file is removed when the run completes; a file of other settings raises
    ``ValueError`` naming them.
    """
    if schedule not in ("cosine", "constant"):
        raise ValueError(f"unknown learning-rate schedule {schedule!r}; valid: cosine, constant")
    if steps == 0:
        return []
    target = outputs_on(teacher, positions) if targets is None else targets

    def train_mode() -> None:
        student.train()
        if freeze_norm:
            _set_norm_eval(student)

    train_mode()
    opt = torch.optim.Adam(student.parameters(), lr=lr)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if schedule == "constant":
            return 1.0
        return 0.5 * (1.0 + math.cos(math.pi * (step - warmup) / max(steps - warmup, 1)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    history: list[float] = []
    generator = torch.Generator().manual_seed(seed)
    n = len(positions)
    order, cursor = torch.randperm(n, generator=generator), 0
    settings = {"steps": steps, "batch_size": batch_size, "lr": lr, "temperature": temperature,
                "value_weight": value_weight, "seed": seed, "schedule": schedule, "warmup": warmup,
                "freeze_norm": freeze_norm, "hard_weight": hard_weight, "positions": n,
                "student": {k: tuple(v.shape) for k, v in student.state_dict().items()}}
    if state_file is not None and Path(state_file).exists():
        history, order, cursor = _resume(Path(state_file), settings, student, opt, sched, generator)
        train_mode()

    def save() -> None:
        _save_state(Path(state_file), settings, student, opt, sched, generator, history, order, cursor)

    with channels_last(student) as layout, _deferred_interrupt(state_file is not None) as interrupted:
        while len(history) < steps:
            if cursor + min(batch_size, n) > n:
                order, cursor = torch.randperm(n, generator=generator), 0
            idx = order[cursor:cursor + batch_size]
            cursor += batch_size
            batch = positions.take(idx)
            batch_target = tuple(t[idx] for t in target) if isinstance(target, tuple) else target[idx]
            out = distill_loss(student(layout(batch.planes), batch.mask), batch_target, batch.mask, temperature,
                               value_weight, hard_weight)
            opt.zero_grad()
            out.loss.backward()
            opt.step()
            sched.step()
            history.append(out.loss.item())
            if callback is not None:
                callback(len(history), history[-1])
                train_mode()
            if state_file is not None and interrupted():
                save()
                raise KeyboardInterrupt
            if state_file is not None and len(history) % save_every == 0 and len(history) < steps:
                save()
    if state_file is not None:
        Path(state_file).unlink(missing_ok=True)
    student.eval()
    return history


@contextmanager
def _deferred_interrupt(active: bool) -> Iterator[Callable[[], bool]]:
    """While active (and in the main thread), a first Ctrl-C sets a flag instead of raising (a second one raises
    at once); yields the flag's reader."""
    flag = [False]
    if not active or threading.current_thread() is not threading.main_thread():
        yield lambda: flag[0]
        return

    def handler(signum: int, frame: object) -> None:
        if flag[0]:
            raise KeyboardInterrupt
        flag[0] = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: flag[0]
    finally:
        signal.signal(signal.SIGINT, previous)


def _save_state(path: Path, settings: dict, student: nn.Module, opt: torch.optim.Optimizer,
                sched: torch.optim.lr_scheduler.LRScheduler, generator: torch.Generator, history: list[float],
                order: torch.Tensor, cursor: int) -> None:
    """Write a distillation's state to ``path`` atomically (a partial file never replaces a good one)."""
    state = {"format": "zoo-distill-state-1", "settings": settings,
             "student": {k: v.contiguous() for k, v in student.state_dict().items()},
             "optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "generator": generator.get_state(),
             "history": history, "order": order, "cursor": cursor}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _resume(path: Path, settings: dict, student: nn.Module, opt: torch.optim.Optimizer,
            sched: torch.optim.lr_scheduler.LRScheduler, generator: torch.Generator
            ) -> tuple[list[float], torch.Tensor, int]:
    """Load the state :func:`_save_state` wrote into the run's objects; (history, order, cursor)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        saved = state["settings"]
    except Exception as exc:  # a truncated or foreign file: say which, keep it for inspection
        raise ValueError(f"{path}: not a readable distillation state ({type(exc).__name__}); "
                         "delete it to start the distillation afresh") from None
    saved["student"] = {k: tuple(v) for k, v in saved["student"].items()}
    if saved != settings:
        differ = sorted(k for k in settings if saved.get(k) != settings[k])
        raise ValueError(f"{path}: a distillation state of other settings ({', '.join(differ)} differ); "
                         "delete it to start afresh, or rerun with the settings it was saved with")
    student.load_state_dict(state["student"])
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    generator.set_state(state["generator"])
    return list(state["history"]), state["order"], int(state["cursor"])


class Agreement(NamedTuple):
    """How closely a candidate net follows a reference net on a set of positions."""

    top1: float
    """Fraction of positions where both nets' most likely legal move is the same."""
    value_mae: float
    """Mean absolute difference of the values."""
    policy_max_abs: float
    """Largest absolute difference of softmax probabilities over legal moves."""
    kl: float
    """Mean KL(reference || candidate) of the policies at temperature 1."""


@torch.no_grad()
def agreement(reference: nn.Module, candidate: nn.Module, positions: Positions, batch_size: int = 256
              ) -> Agreement:
    """:class:`Agreement` of two dual-head nets (as ``Net.forward``) on ``positions``."""
    reference.eval()
    candidate.eval()
    same, vdiff, pmax, kl, n = 0.0, 0.0, 0.0, 0.0, len(positions)
    for i in range(0, n, batch_size):
        b = positions.take(slice(i, i + batch_size))
        r_logits, r_value = reference(b.planes, b.mask)
        c_logits, c_value = candidate(b.planes, b.mask)
        same += float((r_logits.argmax(-1) == c_logits.argmax(-1)).sum())
        vdiff += float((r_value - c_value).abs().sum())
        rp, cp = torch.softmax(r_logits, -1), torch.softmax(c_logits, -1)
        pmax = max(pmax, float((rp - cp).abs().max()))
        kl += float(policy_kl(r_logits, c_logits, b.mask)) * b.planes.shape[0]
    return Agreement(same / n, vdiff / n, pmax, kl / n)
