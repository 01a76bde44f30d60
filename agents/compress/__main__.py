"""Command line for the compression hooks, on a trained net::

    python -m agents.compress distill teacher=CKPT student=mobilenet [student_preset=b6c48] [steps=1000] out=CKPT
    python -m agents.compress prune net=CKPT amount=0.5 [structure=channels] [scope=layer] [rounds=3] out=CKPT
    python -m agents.compress quantize net=CKPT [method=int8|int8_dynamic|qat|bf16|fp16]
    python -m agents.compress export net=CKPT out=FILE.onnx [int8=true]
    python -m agents.compress --help

``CKPT`` is a net checkpoint (``agents.nets.save_net``), a ``train.py`` checkpoint file (e.g.
``runs/go9/zero/DATE/checkpoints/ckpt-000000100000.pt``), a run directory (its newest checkpoint) or a net the suite
ships, ``pretrained:NAME`` (e.g. ``net=pretrained:go7``; ``python -m zoo.pretrained`` lists them); see
``agents/compress/source.py``. Common keys: ``positions=FILE.npz`` (arrays ``planes`` (N, C, H, W), ``mask``
(N, A); without it a run checkpoint's replay window is used, and for a bare net checkpoint random boards stand
in, which says little), ``seed=``, ``threads=``, ``count=`` (positions drawn), and the ``CompressConfig`` fields
that the command uses (:data:`COMMAND_FIELDS`); a key the command would ignore is refused with one line naming
the keys it takes. ``quantize`` measures the quantized net in memory and writes no file (``export ... int8=true``
writes an int8 ONNX file). Each command prints how closely the result follows the input net (top-1 move
agreement, value error) on the positions.

``distill`` shows a progress bar (steps/s, ETA, loss) and, with ``out=``, keeps its state in ``OUT.state.pt``
every 500 steps and on Ctrl-C: the same command resumes it.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from agents.compress import CompressConfig, agreement, compress, sparsity_report
from agents.compress.export import export_onnx, onnx_net, quantize_onnx
from agents.compress.positions import load_positions, synthetic_positions
from agents.compress.prune import make_permanent
from agents.compress.source import load_source
from agents.nets import count_params
from agents.nets.checkpoint import save_net
from agents.nets.slicing import hidden_widths

COMMANDS = {"distill": "distill", "prune": "prune", "quantize": "int8", "export": "none"}
"""Command -> the compression method it runs by default."""
COMMON_KEYS = ("net", "positions", "seed", "threads", "count")
COMMAND_KEYS = {"distill": ("teacher", "out"), "prune": ("out",), "quantize": (), "export": ("out", "int8")}
"""Command -> its own keys besides :data:`COMMON_KEYS`."""
COMMAND_FIELDS = {
    "distill": ("steps", "batch_size", "lr", "student", "student_preset", "temperature", "value_weight"),
    "prune": ("amount", "structure", "scope", "rounds", "steps", "batch_size", "lr"),
    "quantize": ("method", "compile", "keep_fp32", "calibration_batches", "batch_size", "steps", "lr"),
    "export": (),
}
"""Command -> the ``CompressConfig`` fields it uses (``refresh`` and ``onnx`` are for training runs)."""
QUANTIZE_METHODS = ("int8", "int8_dynamic", "qat", "bf16", "fp16")
OWN_KEYS = tuple(dict.fromkeys(COMMON_KEYS + sum(COMMAND_KEYS.values(), ())))


def command_keys(command: str) -> tuple[str, ...]:
    """Every key ``command`` takes."""
    return COMMON_KEYS + COMMAND_KEYS[command] + COMMAND_FIELDS[command]


def _convert(field: dataclasses.Field, text: str) -> object:
    kind = str(field.type)
    if text.lower() in ("null", "none") and "None" in kind:
        return None
    if kind.startswith("bool"):
        if text.lower() not in ("true", "false"):
            raise ValueError(f"{field.name} must be true or false, got {text!r}")
        return text.lower() == "true"
    for name, cast in (("int", int), ("float", float)):
        if kind.startswith(name):
            return cast(text)
    return text


def parse(argv: list[str]) -> tuple[str, dict[str, str], CompressConfig]:
    """(command, own keys, CompressConfig) from ``COMMAND key=value ...``; ``ValueError`` on a bad argument."""
    if not argv:
        raise ValueError(f"give a command: {', '.join(COMMANDS)} (--help lists the keys of each)")
    if argv[0] not in COMMANDS:
        raise ValueError(f"unknown command {argv[0]!r}; valid: {', '.join(COMMANDS)} (--help lists the keys of each)")
    command = argv[0]
    fields = {f.name: f for f in dataclasses.fields(CompressConfig)}
    own_keys = COMMON_KEYS + COMMAND_KEYS[command]
    own, overrides = {}, {"method": COMMANDS[command]}
    for arg in argv[1:]:
        key, sep, value = arg.partition("=")
        if not sep:
            raise ValueError(f"expected key=value, got {arg!r}")
        if key in own_keys:
            own[key] = value
        elif key in COMMAND_FIELDS[command]:
            overrides[key] = _convert(fields[key], value)
        else:
            what = "unknown key" if key not in OWN_KEYS and key not in fields else f"{command} does not take"
            hint = (" (a quantized net is measured in memory and not saved; export net=CKPT out=FILE.onnx int8=true "
                    "writes an int8 file)") if command == "quantize" and key == "out" else ""
            raise ValueError(f"{what} {key!r}{hint}; {command} takes: {', '.join(command_keys(command))}")
    if command == "quantize" and overrides["method"] not in QUANTIZE_METHODS:
        raise ValueError(f"quantize method={overrides['method']!r}; valid: {', '.join(QUANTIZE_METHODS)}")
    if own.get("int8", "false").lower() not in ("true", "false"):
        raise ValueError(f"int8 must be true or false, got {own['int8']!r}")
    if "net" not in own and "teacher" not in own:
        raise ValueError("give the checkpoint to compress as net=CKPT" + (" (or teacher=CKPT)" if command == "distill"
                                                                          else ""))
    return command, own, CompressConfig(**overrides)


def help_text() -> str:
    """What ``--help`` prints: the usage lines and the keys of each command."""
    keys = "\n".join(f"    {c}: {', '.join(command_keys(c))}" for c in COMMANDS)
    return f"{__doc__.replace('::', ':').strip()}\n\nKeys each command takes:\n{keys}\n"


def run(argv: list[str]) -> None:
    """Run one command (see the module docstring); prints a short report."""
    command, own, cfg = parse(argv)
    torch.set_num_threads(int(own.get("threads", 1)))
    seed = int(own.get("seed", 0))
    torch.manual_seed(seed)
    source = load_source(own.get("net") or own["teacher"])
    net = source.net
    print(f"{source.path}: {source.description}")
    if "positions" in own:
        positions = load_positions(own["positions"])
    elif source.positions is not None:
        count = min(int(own.get("count", 4096)), len(source.positions))
        positions = source.positions.take(torch.randperm(len(source.positions),
                                                         generator=torch.Generator().manual_seed(seed))[:count])
        print(f"positions: {count} from the checkpoint's replay window")
    else:
        print("no positions= given: using random boards (numbers below say little about real play)")
        positions = synthetic_positions(int(own.get("count", 2048)), net.in_channels, net.board_size,
                                        np.random.default_rng(seed))
    test = positions.take(slice(0, min(512, len(positions))))
    if command == "export":
        out = own.get("out", "net.onnx")
        export_onnx(net, out, positions.planes[:2])
        if own.get("int8", "false").lower() == "true":
            out = quantize_onnx(out, out.replace(".onnx", "") + ".int8.onnx", net, positions)
        result = onnx_net(out, net)
        print(f"wrote {out}")
    else:
        result = distill_with_bar(net, cfg, positions, seed, own.get("out")) if command == "distill" else \
            compress(net, cfg, positions, seed=seed)
        if command == "prune":
            make_permanent(result)
            print("sparsity per layer:", {k: round(v, 3) for k, v in sparsity_report(result).items()})
            if cfg.structure == "channels":
                print(f"hidden channels per block: {hidden_widths(net)} -> {hidden_widths(result)}; parameters "
                      f"{count_params(net):,} -> {count_params(result):,}")
        if command in ("prune", "distill") and "out" in own:
            save_net(result, own["out"])
            print(f"wrote {own['out']}")
    if net.heads == "dual":
        a = agreement(net, result, test)
        print(f"{command} ({cfg.method}): top-1 agreement {a.top1:.3f}, value MAE {a.value_mae:.4f}, "
              f"policy KL {a.kl:.4f} on {len(test)} positions")


def distill_with_bar(net: torch.nn.Module, cfg: CompressConfig, positions: object, seed: int,
                     out: str | None) -> torch.nn.Module:
    """The distilled student, with a progress bar; resumable from ``OUT.state.pt`` when ``out`` is given. Ctrl-C
    saves (with ``out``), says how to resume and exits with status 130."""
    state = Path(out + ".state.pt") if out else None
    with DistillBar(cfg.steps) as bar:
        try:
            return compress(net, cfg, positions, seed=seed, callback=bar.update, state_file=state)
        except KeyboardInterrupt:
            where = f"saved in {state}; run the same command to resume" if state else "nothing saved (no out=)"
    print(f"interrupted at step {bar.step} of {cfg.steps}: {where}", file=sys.stderr)
    sys.exit(130)


class DistillBar:
    """Progress of a distillation (``with DistillBar(steps) as bar: ... callback=bar.update``): a bar with the
    step, steps/s, ETA and the mean loss of the last 50 steps; a resumed run starts at its saved step."""

    def __init__(self, steps: int) -> None:
        self.steps, self.step, self.losses = steps, 0, []
        self.progress = Progress(TextColumn("distill"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[rate]} steps/s eta"), TimeRemainingColumn(),
                                 TextColumn("loss {task.fields[loss]}"))
        self.task = self.progress.add_task("distill", total=steps, rate="-", loss="-")

    def __enter__(self) -> DistillBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, step: int, loss: float) -> None:
        """``distill`` callback: step ``step`` (1-based) ended with ``loss``."""
        self.step = step
        self.losses = (self.losses + [loss])[-50:]
        speed = self.progress.tasks[0].speed
        self.progress.update(self.task, completed=step, rate="-" if speed is None else f"{speed:.1f}",
                             loss=f"{sum(self.losses) / len(self.losses):.4f}")


def quiet_third_party() -> None:
    """Silence what torch, Inductor and torchao tell a developer (deprecations, CUDA probing, tensor-copy advice):
    it says nothing to a user of this command."""
    for module in (r"torch\.", r"torchao\.", r"onnx"):
        warnings.filterwarnings("ignore", module=module)
    for name in ("torch.utils._pytree", "torch.utils.cpp_extension", "torch._inductor", "torch._dynamo",
                 "torch.export", "torch.onnx", "torchao"):
        logging.getLogger(name).setLevel(logging.ERROR)


def main() -> None:
    """Entry point: ``--help`` prints the usage; one clear line on a bad argument, exit status 2."""
    quiet_third_party()
    argv = sys.argv[1:]
    if "-h" in argv or "--help" in argv or argv[:1] == ["help"]:
        print(help_text(), end="")
        sys.exit(0)
    try:
        run(argv)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
