"""Measuring compressed nets against their fp32 teacher: the rows of the nets benchmark and a distillation display.

    rows = measure_rows({"resnet b6c64 fp32 (teacher)": (teacher, teacher), ...}, teacher, student, "b6c48",
                        test, raw_test, calibration)   # one dict per net: params, MACs, pos/s, agreement

Every net here takes ``forward(planes (B, C, H, W), mask (B, A) bool)`` and returns ``(logits (B, A), value (B,))``
(``agents.nets.Net``'s interface; int8 and channels-last copies keep it). Used by ``benchmarks/nets_speed.py``
(the table of ``reports/nets.md``) and ``benchmarks/student_sweep.py``.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch
from torch import nn

from agents.compress.distill import agreement, outputs_on
from agents.compress.positions import Positions
from agents.compress.quantize import quantize_int8
from agents.nets.stats import count_macs, count_params, throughputs

CHANNELS_LAST = "resnet b6c64 fp32 channels-last"
"""The row of the fp32 teacher run in channels-last layout (:class:`ChannelsLast`)."""


class ChannelsLast(nn.Module):
    """A copy of ``net`` whose weights and inputs are in channels-last layout (same outputs): plain fp32 eager,
    with oneDNN's channels-last convolution kernels."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = copy.deepcopy(net).eval().to(memory_format=torch.channels_last)

    def forward(self, planes: torch.Tensor, mask: torch.Tensor | None = None) -> object:
        """``net(planes, mask)`` with ``planes`` (B, C, H, W) converted to channels-last first."""
        return self.net(planes.contiguous(memory_format=torch.channels_last), mask)


def mean_top_probability(net: nn.Module, pos: Positions) -> float:
    """Mean over ``pos`` of the net's largest move probability (how peaked its policy is), in [1/A, 1]."""
    with torch.no_grad():
        return float(torch.softmax(outputs_on(net, pos)[0], -1).max(-1).values.mean())


def measure_rows(nets: dict[str, tuple[nn.Module, nn.Module]], teacher: nn.Module, student: nn.Module,
                 student_preset: str, test: Positions, raw_test: Positions, calibration: Positions) -> list[dict]:
    """The rows of the nets table: one dict per net, in order.

    Adds the int8 teacher and student (calibrated on the first 1024 ``calibration`` positions) to ``nets`` (name ->
    (net, its fp32 base, whose params and MACs are reported); the first is the fp32 teacher), and the teacher in
    channels-last layout second (:data:`CHANNELS_LAST`); then times them all in turn at batch 1 and 256
    (:func:`agents.nets.stats.throughputs`) and measures each one's agreement with ``teacher`` on ``test``
    (search games) and its top-1 agreement on ``raw_test`` (raw-policy games). Each row: ``net`` (name),
    ``params``, ``macs`` (per position), ``b1`` and ``b256`` (positions/second), ``x256`` (times the first net's
    speed at batch 256) and ``x256_range`` (its lowest and highest round), ``top1``, ``top1_raw``, ``kl`` and
    ``value_mae``. Prints a line per net."""
    for name, fp32 in (("resnet b6c64", teacher), (f"mobilenet {student_preset} student", student)):
        q = quantize_int8(fp32, calibration, batches=16, batch_size=64)
        nets[f"{name} int8"] = (q, fp32)
    first = next(iter(nets))
    nets = {first: nets[first], CHANNELS_LAST: (ChannelsLast(teacher), teacher),
            **{k: v for k, v in nets.items() if k != first}}
    start = time.time()
    speed = {batch: throughputs({name: net for name, (net, _) in nets.items()}, test, batch) for batch in (1, 256)}
    print(f"timed {len(nets)} nets at batch 1 and 256, interleaved ({time.time() - start:.0f} s)", flush=True)
    rows = []
    for name, (net, base) in nets.items():
        (b1, _, _), (b256, x256, x256_range) = speed[1][name], speed[256][name]
        a = agreement(teacher, net, test)
        raw = agreement(teacher, net, raw_test).top1
        rows.append({"net": name, "params": count_params(base), "macs": count_macs(base, test.planes[:1]),
                     "b1": b1, "b256": b256, "x256": x256, "x256_range": x256_range, "top1": a.top1,
                     "top1_raw": raw, "kl": a.kl, "value_mae": a.value_mae})
        print(f"{name}: {b1:.0f} / {b256:.0f} pos/s ({x256:.2f}x fp32 at batch 256), top-1 {a.top1:.3f}, "
              f"raw-policy top-1 {raw:.3f}, KL {a.kl:.4f}, value MAE {a.value_mae:.4f}", flush=True)
    return rows


class DistillProgress:
    """``distill`` callback: a line every twentieth of the run with the step, mean loss, rate, ETA and the
    student's top-1 agreement with the teacher on held-out positions. ``first`` is the step before the first one
    seen (> 0 in a resumed run; ``None`` before any), ``last`` the latest step seen."""

    def __init__(self, teacher: nn.Module, student: nn.Module, held_out: Positions, steps: int) -> None:
        self.teacher, self.student, self.held_out, self.steps = teacher, student, held_out, steps
        self.every, self.start, self.losses = max(steps // 20, 1), time.time(), []
        self.first: int | None = None  # the step before the first one seen (> 0 in a resumed run)
        self.last = 0

    def __call__(self, step: int, loss: float) -> None:
        self.losses.append(loss)
        if self.first is None:
            self.first = step - 1
        self.last = step
        if step % self.every and step != self.steps:
            return
        rate = (step - self.first) / (time.time() - self.start)
        top1 = agreement(self.teacher, self.student, self.held_out).top1
        print(f"  distill step {step}/{self.steps}: loss {np.mean(self.losses[-self.every:]):.4f}, {rate:.2f} steps/s, "
              f"ETA {(self.steps - step) / rate / 60:.1f} min, held-out top-1 {top1:.3f}", flush=True)
