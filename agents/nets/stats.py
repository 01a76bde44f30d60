"""Parameters, multiply-adds and latency of nets; ``python -m agents.nets.stats`` prints them for every preset.

Multiply-adds (MACs) count the conv and linear layers only (norms, activations and additions are small beside
them): a conv producing (C_out, H, W) costs H*W*C_out*(C_in/groups)*K*K, a linear layer F_in*F_out, per position.
A depthwise separable conv (K x K depthwise on C channels, then 1x1 to M) costs H*W*K*K*C + H*W*C*M instead of
H*W*K*K*C*M, a ratio of 1/M + 1/K^2 (:func:`separable_ratio`).

    python -m agents.nets.stats [--board 9] [--planes 17] [--batch 32] [--threads 1] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from agents.nets.config import KINDS, PRESETS, NetConfig
from agents.nets.heads import build_net


def count_params(net: nn.Module) -> int:
    """Number of parameters (trainable or not)."""
    return sum(p.numel() for p in net.parameters())


def layer_macs(module: nn.Module, out: torch.Tensor) -> int:
    """Multiply-adds of one Conv2d or Linear layer for ONE position, given its output tensor (B, ...)."""
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        per_out = (module.in_channels // module.groups) * kh * kw
        return out[0].numel() * per_out
    if isinstance(module, nn.Linear):
        return out[0].numel() * module.in_features
    return 0


def count_macs(net: nn.Module, example: torch.Tensor) -> int:
    """Multiply-adds per position of ``net(example)`` (conv and linear layers; ``example`` is (B, ...))."""
    total = 0

    def hook(module: nn.Module, _inp: tuple, out: torch.Tensor) -> None:
        nonlocal total
        total += layer_macs(module, out)

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            net(example)
    finally:
        for h in handles:
            h.remove()
    return total


def conv_macs(h: int, w: int, k: int, c: int, m: int) -> int:
    """Multiply-adds of a standard K x K conv, C -> M channels, on an H x W map: H*W*K*K*C*M."""
    return h * w * k * k * c * m


def separable_macs(h: int, w: int, k: int, c: int, m: int) -> int:
    """Multiply-adds of a depthwise K x K conv on C channels then a 1x1 conv C -> M: H*W*K*K*C + H*W*C*M."""
    return h * w * k * k * c + h * w * c * m


def separable_ratio(k: int, m: int) -> float:
    """separable / standard multiply-adds: 1/M + 1/K^2."""
    return 1.0 / m + 1.0 / (k * k)


ROUNDS = 9
"""Rounds of interleaved timing behind each speed figure of the nets benchmarks (:func:`throughputs`)."""


def seconds_per_call(fn: Callable[[], object], min_seconds: float) -> float:
    """Seconds one ``fn()`` takes: ``fn`` called back to back until ``min_seconds`` have passed (at least once),
    the elapsed time divided by the number of calls. The one timing loop of this module."""
    n, start = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / n


def time_call(fn: Callable[[], object], rounds: int = 5, min_seconds: float = 0.05) -> float:
    """Median over ``rounds`` of the seconds one ``fn()`` takes (each round repeats it for >= ``min_seconds``;
    one untimed call first)."""
    return statistics.median(time_interleaved({"fn": fn}, rounds, min_seconds)["fn"])


def time_interleaved(fns: dict[str, Callable[[], object]], rounds: int = 9,
                     min_seconds: float = 0.2) -> dict[str, list[float]]:
    """Seconds one call of each function takes, per round: ``{name: [seconds of round 1, ..., round R]}``.

    Every round times each function once in turn (repeating it for >= ``min_seconds``, :func:`seconds_per_call`),
    so all functions see the same stretch of a machine whose speed drifts (a shared VM: up to 2x within minutes).
    Compare two functions by the median of their per-round ratios (:func:`median_ratio`): timing one after the
    other instead puts the drift between them into the ratio. Each function is called once untimed first (warm-up,
    compilation)."""
    for fn in fns.values():
        fn()
    seconds: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            seconds[name].append(seconds_per_call(fn, min_seconds))
    return seconds


def median_ratio(slow: list[float], fast: list[float]) -> float:
    """Median over rounds of ``slow[i] / fast[i]`` (how many times faster ``fast`` ran, round by round)."""
    return statistics.median(s / f for s, f in zip(slow, fast, strict=True))


def throughputs(nets: dict[str, Callable[[torch.Tensor, torch.Tensor], object]],
                positions: tuple[torch.Tensor, torch.Tensor], batch: int, rounds: int = ROUNDS
                ) -> dict[str, tuple[float, float, tuple[float, float]]]:
    """Positions per second of ``net(planes, mask)`` for each of ``nets`` on the first ``batch`` of ``positions``
    (planes (N, C, H, W), legal masks (N, A); e.g. an ``agents.compress.Positions``), without autograd.

    Returns ``{name: (positions/second, times the first net's speed, (lowest, highest) per-round ratio)}``: the
    nets are timed in turn within each round (:func:`time_interleaved`, ``rounds`` rounds of >= 0.2 s per net),
    speed is ``batch`` over the median seconds per call and the ratio the median of the per-round ratios to the
    first net (1.0 for the first), so machine drift during the run stays out of it."""
    planes, mask = positions[0][:batch], positions[1][:batch]
    with torch.inference_mode():
        seconds = time_interleaved({name: (lambda net=net: net(planes, mask)) for name, net in nets.items()},
                                   rounds=rounds, min_seconds=0.2)
    base = next(iter(seconds.values()))
    spread = {name: [b / x for b, x in zip(base, s, strict=True)] for name, s in seconds.items()}
    return {name: (batch / statistics.median(s), median_ratio(base, s), (min(spread[name]), max(spread[name])))
            for name, s in seconds.items()}


def latency_per_position(net: nn.Module, example: torch.Tensor, rounds: int = 5) -> float:
    """Seconds per position of ``net(example)`` in eval mode without autograd (median of ``rounds``)."""
    net.eval()
    with torch.inference_mode():
        return time_call(lambda: net(example), rounds) / example.shape[0]


def table(board: int = 9, planes: int = 17, batch: int = 32, rounds: int = 5, kinds: tuple[str, ...] = KINDS
          ) -> list[dict[str, object]]:
    """One row per preset of each kind: params, MACs per position, latency per position (ms) at ``batch``."""
    rows = []
    for kind in kinds:
        for preset in PRESETS[kind]:
            cfg = NetConfig(kind=kind, preset=preset)
            net = build_net(cfg, planes, board, board * board + 1).eval()
            x = torch.randn(batch, planes, board, board)
            rows.append({"net": kind, "preset": preset, "params": count_params(net),
                         "macs": count_macs(net, x[:1]),
                         "ms_per_pos": 1e3 * latency_per_position(net, x, rounds)})
    return rows


def format_table(rows: list[dict[str, object]], batch: int) -> str:
    """Markdown table of :func:`table` rows."""
    lines = [f"| net | preset | params | MACs/position | ms/position (batch {batch}) |", "|---|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['net']} | {r['preset']} | {r['params']:,} | {r['macs'] / 1e6:.2f} M "
                     f"| {r['ms_per_pos']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """CLI: print the table for every preset of every backbone."""
    p = argparse.ArgumentParser(prog="python -m agents.nets.stats", description=__doc__.split("\n")[0])
    p.add_argument("--board", type=int, default=9)
    p.add_argument("--planes", type=int, default=17)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--kinds", default=",".join(KINDS), help="comma-separated backbones")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    kinds = tuple(k for k in args.kinds.split(",") if k)
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        p.error(f"unknown net kind {bad[0]!r}; valid: {', '.join(KINDS)}")
    rows = table(args.board, args.planes, args.batch, args.rounds, kinds)
    print(f"{args.board}x{args.board}, {args.planes} planes, batch {args.batch}, {args.threads} thread(s), fp32 eager")
    print(format_table(rows, args.batch))


if __name__ == "__main__":
    main()
