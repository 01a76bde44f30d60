"""Reading the net to compress from any file the suite writes: a net checkpoint or a training run's checkpoint.

Accepted ``net=`` / ``teacher=`` targets:

- a net checkpoint (``agents.nets.save_net``: ``{"format", "net", "in_channels", ..., "state_dict"}``);
- a checkpoint of ``train.py`` (``zoo/checkpoint.py``: ``{"format", "config", "agent", "counters", ...}``) of an
  agent with a board net: the net is built from ``config["net"]`` or, when the run had no ``net=`` section, the
  zero agent's default net for the board (``agents.zero.agent.default_net``), and loaded from
  ``ckpt["agent"]["net"]``;
- a run directory: its newest ``checkpoints/ckpt-*.pt``;
- ``pretrained:NAME``: a net the suite ships (``python -m zoo.pretrained`` lists them), checked against its card's
  sha256 by :func:`pretrained.resolve`. That registry imports nothing of the suite, so ``agents`` may use it without
  importing ``zoo``.

A run checkpoint also holds the agent's replay window: its positions (planes, with legal masks rebuilt from the
stones) serve as real positions for calibration and agreement when no ``positions=`` file is given.
Every failure is a ``ValueError`` (or ``FileNotFoundError``) of one line naming the file and what it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

import pretrained
from agents.compress.positions import Positions, positions_from_planes
from agents.nets.checkpoint import net_from_checkpoint
from agents.nets.config import KINDS, NetConfig
from agents.nets.heads import Net, build_net

_NDARRAY = "__ndarray__"  # how zoo/checkpoint.py stores a numpy array


class Source(NamedTuple):
    """A net read from a file, with what else the file offered."""

    net: Net
    """The net in eval mode, on the CPU."""
    positions: Positions | None
    """The replay window's positions of a run checkpoint (newest last), or None."""
    path: Path
    """The checkpoint file actually read (the newest one for a run directory)."""
    description: str
    """What the file is, in a few words (e.g. ``zero run checkpoint at 120000 steps, resnet b6c64 batch``)."""


def newest_checkpoint(run_dir: Path) -> Path:
    """The newest ``checkpoints/ckpt-*.pt`` of a run directory; ``ValueError`` when there is none."""
    files = sorted((run_dir / "checkpoints").glob("ckpt-*.pt"))
    if not files:
        raise ValueError(f"{run_dir}: a directory without checkpoints (expected {run_dir}/checkpoints/ckpt-*.pt "
                         "of a train.py run)")
    return files[-1]


def _array(obj: Any) -> np.ndarray:
    if isinstance(obj, dict) and set(obj) == {_NDARRAY}:
        obj = obj[_NDARRAY]
    return obj.numpy() if isinstance(obj, torch.Tensor) else np.asarray(obj)


def _run_net(ckpt: dict[str, Any], path: Path) -> tuple[Net, Positions | None, str]:
    config, agent = ckpt.get("config") or {}, ckpt.get("agent") or {}
    name = (config.get("agent") or {}).get("name", "?")
    if not isinstance(agent, dict) or "net" not in agent or "plane_shape" not in agent:
        raise ValueError(f"{path}: a train.py checkpoint of agent {name!r}, which has no board net to compress "
                         "(give a zero run's checkpoint or a net checkpoint written by agents.nets.save_net)")
    channels, size, _ = (int(s) for s in agent["plane_shape"])
    n_actions = int(agent["num_actions"])
    net_cfg = config.get("net")
    if net_cfg:
        if net_cfg.get("kind") not in KINDS:
            raise ValueError(f"{path}: a checkpoint of a {net_cfg.get('kind')!r} net; compression works on "
                             f"{', '.join(KINDS)}")
        cfg = NetConfig(**net_cfg)
    elif name == "zero":
        from agents import config_from_saved
        from agents.zero.agent import default_net
        from agents.zero.config import ZeroConfig

        cfg = default_net(config_from_saved(ZeroConfig, config["agent"]), size)
    else:
        raise ValueError(f"{path}: a checkpoint of agent {name!r} without a net config; cannot rebuild its net")
    aux: tuple[str, ...] = ()
    if name == "zero":  # the auxiliary heads of its agent settings (agent.ownership_weight, agent.score_weight)
        from agents import config_from_saved
        from agents.zero.config import ZeroConfig

        aux = config_from_saved(ZeroConfig, config["agent"]).aux_heads
    net = build_net(cfg, channels, size, n_actions, aux=aux)
    try:
        net.load_state_dict({k: torch.as_tensor(_array(v)) for k, v in agent["net"].items()})
    except RuntimeError as exc:
        raise ValueError(f"{path}: the saved weights do not fit {cfg.label()} "
                         f"({str(exc).splitlines()[0]})") from None
    positions = None
    replay = agent.get("replay")
    if isinstance(replay, dict) and "planes" in replay:
        packed = _array(replay["planes"])
        if len(packed):
            bits = np.unpackbits(packed, axis=1, count=channels * size * size)
            positions = positions_from_planes(bits.reshape(-1, channels, size, size).astype(np.float32))
    steps = (ckpt.get("counters") or {}).get("env_steps")
    at = f" at {steps} steps" if steps is not None else ""
    return net.eval(), positions, f"{name} run checkpoint{at}, {cfg.label()}"


def load_source(target: str | Path) -> Source:
    """The net of ``target`` (see the module docstring), its replay positions when it has them, and what it is."""
    path = pretrained.resolve(target) if pretrained.is_spec(target) else Path(target)  # PretrainedError: ValueError
    if path.is_dir():
        path = newest_checkpoint(path)
    elif not path.exists():
        raise FileNotFoundError(f"{path}: no such checkpoint file or run directory")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated or foreign file
        reason = str(e).strip().splitlines()[0][:120] if str(e).strip() else type(e).__name__
        raise ValueError(f"{path}: not a readable checkpoint ({reason})") from None
    if not isinstance(ckpt, dict):
        raise ValueError(f"{path}: a {type(ckpt).__name__}, not a checkpoint (expected a net checkpoint or a "
                         "train.py checkpoint)")
    if "state_dict" in ckpt and "net" in ckpt:
        net = net_from_checkpoint(ckpt)
        return Source(net, None, path, f"net checkpoint, {net.cfg.label()}")
    if "config" in ckpt and "agent" in ckpt:
        net, positions, what = _run_net(ckpt, path)
        return Source(net, positions, path, what)
    raise ValueError(f"{path}: a dict with keys {sorted(ckpt)[:6]}, neither a net checkpoint (agents.nets.save_net) "
                     "nor a train.py checkpoint")
