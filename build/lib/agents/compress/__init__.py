"""Compression hooks: int8 / half precision, pruning, distillation, ONNX export, on any trained net.

    from agents.compress import CompressConfig, compress
    small = compress(net, CompressConfig(method="int8"), positions)   # same forward(x, mask) as net

``compress`` never changes its input net: a setting the net cannot honour raises ``ValueError`` naming the
layer and the reason, and the fp32 net stays usable. The CLI is ``python -m agents.compress`` (see __main__.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from agents.compress.config import METHODS, CompressConfig
from agents.compress.distill import Agreement, agreement, distill, distill_loss, outputs_on, policy_kl
from agents.compress.export import export_onnx, onnx_net, quantize_onnx
from agents.compress.positions import Positions, load_positions, save_positions, synthetic_positions
from agents.compress.prune import make_permanent, prune_net, recalibrate_norm, slice_pruned, sparsity_report
from agents.compress.quantize import (
    half_precision,
    int8_blockers,
    quantize_dynamic_linear,
    quantize_int8,
    quantize_qat,
)
from agents.compress.wrapped import CompressedNet
from agents.nets.config import NetConfig
from agents.nets.heads import Net, build_net

NEEDS_POSITIONS = ("int8", "qat", "distill")
"""Methods that need positions (calibration or training data); ``prune`` needs them only to fine-tune."""


def student_for(teacher: Net, cfg: CompressConfig) -> Net:
    """A fresh student of kind ``cfg.student`` (preset ``cfg.student_preset``) shaped like ``teacher``."""
    student_cfg = NetConfig(kind=cfg.student, preset=cfg.student_preset, norm=teacher.cfg.norm)
    return build_net(student_cfg, teacher.in_channels, teacher.board_size, teacher.n_actions, teacher.heads)


def compress(net: Net, cfg: CompressConfig, positions: Positions | None = None, device: str = "cpu",
             seed: int = 0, callback: Callable[[int, float], None] | None = None,
             state_file: Path | None = None) -> nn.Module:
    """Apply ``cfg.method`` to a trained ``net``; the result has ``net``'s ``forward(x, mask=None)``.

    ``positions``: real positions (planes and legal masks) for calibration, QAT, fine-tuning and distillation.
    ``distill`` returns the trained student (a plain :class:`Net`); ``prune`` a pruned copy, with its masks
    attached for ``structure="unstructured"`` (``make_permanent`` bakes them in), or with the pruned channels cut
    out (a smaller, faster :class:`Net`) for ``structure="channels"``: after each pruning round its batch-norm
    statistics are recalibrated on ``positions`` and, when ``cfg.steps > 0``, the unpruned net's outputs are
    distilled into it (batch norm frozen, cosine learning rate from ``cfg.lr``), then the statistics are
    recalibrated again. ``callback`` and ``state_file`` go to :func:`distill` for ``method="distill"`` (a
    progress display; a resumable run, see there).
    """
    if cfg.method in NEEDS_POSITIONS or (cfg.method == "prune" and cfg.steps > 0):
        if positions is None:
            raise ValueError(f"compress method {cfg.method!r} needs positions (planes and legal masks)")
    if cfg.method == "none":
        return net
    if cfg.method == "int8":
        return quantize_int8(net, positions, cfg.calibration_batches, cfg.batch_size, cfg.compile,
                             cfg.keep_fp32_modules)
    if cfg.method == "qat":
        return quantize_qat(net, positions, cfg.steps, cfg.batch_size, cfg.lr, seed, cfg.compile,
                            keep_fp32=cfg.keep_fp32_modules)
    if cfg.method == "int8_dynamic":
        return quantize_dynamic_linear(net)
    if cfg.method in ("fp16", "bf16"):
        return half_precision(net, torch.float16 if cfg.method == "fp16" else torch.bfloat16, device)
    if cfg.method == "prune":
        targets = outputs_on(net, positions) if cfg.steps > 0 else None

        def finetune(model: nn.Module) -> None:  # distil the unpruned net into the pruned one, batch norm frozen
            distill(net, model, positions, cfg.steps, cfg.batch_size, cfg.lr, temperature=1.0, seed=seed,
                    freeze_norm=True, targets=targets)

        pruned = prune_net(net, cfg.amount, cfg.structure, cfg.scope, cfg.rounds,
                           finetune if cfg.steps > 0 else None, calibration=positions)
        return slice_pruned(pruned) if cfg.structure == "channels" else pruned
    student = student_for(net, cfg)
    distill(net, student, positions, cfg.steps, cfg.batch_size, cfg.lr, cfg.temperature, cfg.value_weight, seed,
            callback=callback, state_file=state_file)
    return student


__all__ = ["METHODS", "Agreement", "CompressConfig", "CompressedNet", "Positions", "agreement", "compress",
           "distill", "distill_loss", "export_onnx", "half_precision", "int8_blockers", "load_positions",
           "make_permanent", "onnx_net", "outputs_on", "policy_kl", "prune_net", "quantize_dynamic_linear",
           "quantize_int8", "quantize_onnx", "quantize_qat", "recalibrate_norm", "save_positions", "slice_pruned",
           "sparsity_report", "student_for", "synthetic_positions"]
