"""Compression configuration: one frozen dataclass for every hook.

``conf/compress/*.yaml`` holds one preset per method (every field listed); ``python -m agents.compress`` and
:func:`agents.compress.compress` take the same fields. In a training run (``python train.py env=go9 agent=zero
compress=int8``) the choice makes self-play search with a compressed copy of the learner's net, rebuilt every
``refresh`` updates (``agents/compress/selfplay.py``), while the learner trains in fp32.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.nets.config import KINDS, choices_error

METHODS = ("none", "int8", "int8_dynamic", "fp16", "bf16", "qat", "prune", "distill")
"""What ``CompressConfig.method`` can name."""

PRUNE_STRUCTURES = ("unstructured", "channels")
PRUNE_SCOPES = ("global", "layer")


@dataclass(frozen=True)
class CompressConfig:
    """How to shrink or speed up a trained net; every result keeps the net's forward(x, mask) interface."""

    method: str = "none"
    """``none``; ``int8`` (PT2E static int8, CPU); ``int8_dynamic`` (int8 linear layers, torchao); ``fp16`` / ``bf16``
    (half-precision inference; fp16 needs CUDA); ``qat`` (quantization-aware fine-tuning, then int8);
    ``prune`` (magnitude pruning); ``distill`` (train a smaller student net from this one)."""
    compile: bool = True
    """int8 / qat: run the converted graph through ``torch.compile`` (Inductor, freezing on). Off: the q/dq reference
    graph, which is slower than fp32 and only useful to check numbers."""
    keep_fp32: str = "policy"
    """int8 / qat: comma-separated names of modules left in fp32 (``""``: every layer int8). The default keeps the
    policy head fp32: int8 rounding there flips near-tied top moves (95.7% -> 98.8% top-1 agreement, 4.8x -> 3.9x
    fp32 speed, measured on a 9x9 zero net trained 65 minutes; ``reports/nets.md`` has the current figures)."""
    calibration_batches: int = 8
    """int8: batches of real positions the observers see before conversion."""
    batch_size: int = 32
    """Batch size of calibration, QAT, fine-tuning and distillation steps."""
    steps: int = 200
    """qat / distill: optimiser steps; prune: fine-tuning steps after each pruning round (0: none). Pruning
    fine-tunes by distilling the unpruned net's outputs with batch norm frozen; with positions given it also
    recalibrates the batch-norm statistics after each pruning step and each fine-tuning."""
    lr: float = 1e-3
    """Adam learning rate of qat, fine-tuning and distillation (distillation and fine-tuning decay it to 0 along
    a cosine)."""
    amount: float = 0.5
    """prune: final fraction of the prunable weights set to zero (channels: fraction of the channels)."""
    structure: str = "unstructured"
    """prune: ``unstructured`` (single weights) or ``channels`` (whole output channels by L2 norm)."""
    scope: str = "global"
    """prune: ``global`` (one magnitude threshold across layers) or ``layer`` (the same amount in each layer)."""
    rounds: int = 1
    """prune: iterative prune -> fine-tune rounds; round r reaches sparsity 1 - (1 - amount)^(r / rounds)."""
    student: str = "mobilenet"
    """distill: student backbone (a ``NetConfig.kind``)."""
    student_preset: str | None = None
    """distill: student preset; null: that kind's default."""
    temperature: float = 2.0
    """distill: softmax temperature T of the policy KL (scaled by T^2)."""
    value_weight: float = 1.0
    """distill: weight of the value MSE beside the policy KL."""
    refresh: int = 50
    """Training runs (``train.py ... compress=METHOD``): rebuild the self-play net from the learner's weights every
    this many updates (calibrated / fine-tuned on the newest replay positions)."""
    onnx: bool = False
    """Training runs: also export the final net to ONNX beside the compressed one (int8: ONNX Runtime static int8;
    fp16 / bf16: fp32 ONNX)."""

    @property
    def keep_fp32_modules(self) -> tuple[str, ...]:
        """``keep_fp32`` as a tuple of module names."""
        return tuple(name.strip() for name in self.keep_fp32.split(",") if name.strip())

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise choices_error("compress method", self.method, METHODS)
        if self.structure not in PRUNE_STRUCTURES:
            raise choices_error("prune structure", self.structure, PRUNE_STRUCTURES)
        if self.scope not in PRUNE_SCOPES:
            raise choices_error("prune scope", self.scope, PRUNE_SCOPES)
        if self.student not in KINDS:
            raise choices_error("student net kind", self.student, KINDS)
        if not 0.0 <= self.amount < 1.0:
            raise ValueError(f"CompressConfig.amount must be in [0, 1), got {self.amount}")
        for name in ("calibration_batches", "batch_size", "rounds", "refresh"):
            if getattr(self, name) < 1:
                raise ValueError(f"CompressConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.steps < 0 or self.lr <= 0 or self.temperature <= 0 or self.value_weight < 0:
            raise ValueError("CompressConfig: steps >= 0, lr > 0, temperature > 0 and value_weight >= 0 are required")
