"""Net checkpoints: a versioned dict of plain data and a state_dict (never a pickled module).

Layout (``FORMAT`` 1)::

    {"format": 1, "net": {NetConfig fields}, "in_channels": int, "board_size": int, "n_actions": int,
     "heads": "dual" | "policy" | "value", "hidden": [int, ...], "state_dict": {...}}

``"hidden"`` (optional, ``[int, ...]``): the width of each block's hidden channels (``agents.nets.slicing``); when
channel slicing narrowed them, the net is built from its config, narrowed to these widths, then loaded.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import torch

from agents.nets.config import NetConfig
from agents.nets.heads import Net, build_net
from agents.nets.slicing import hidden_widths, narrow_to

FORMAT = 1
"""Version of the checkpoint layout."""


def net_checkpoint(net: Net) -> dict[str, Any]:
    """The checkpoint dict of ``net`` (see the module docstring)."""
    return {"format": FORMAT, "net": dataclasses.asdict(net.cfg), "in_channels": net.in_channels,
            "board_size": net.board_size, "n_actions": net.n_actions, "heads": net.heads,
            "hidden": hidden_widths(net), "state_dict": net.state_dict()}


def save_net(net: Net, path: str | Path) -> None:
    """Write ``net``'s checkpoint to ``path`` (written to a temporary file, then renamed)."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(net_checkpoint(net), tmp)
    tmp.replace(path)


def net_from_checkpoint(ckpt: dict[str, Any]) -> Net:
    """Rebuild the net of a checkpoint dict and load its weights (eval mode)."""
    if ckpt.get("format") != FORMAT:
        raise ValueError(f"net checkpoint format {ckpt.get('format')!r} is not supported; expected {FORMAT}")
    net = build_net(NetConfig(**ckpt["net"]), ckpt["in_channels"], ckpt["board_size"], ckpt["n_actions"],
                    ckpt["heads"])
    if "hidden" in ckpt and list(ckpt["hidden"]) != hidden_widths(net):
        narrow_to(net, [int(w) for w in ckpt["hidden"]])
    net.load_state_dict(ckpt["state_dict"])
    return net.eval()


def load_net(path: str | Path) -> Net:
    """Load a net written by :func:`save_net` (``weights_only``: no code runs on load)."""
    try:
        ckpt = torch.load(Path(path), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as e:  # a truncated or foreign file, or one that carries code
        refused = refused_pickle(e)
        if refused:
            raise ValueError(f"{path}: {refused}") from None
        raise ValueError(f"{path}: not a readable net checkpoint ({type(e).__name__}: {e})") from e
    return net_from_checkpoint(ckpt)


def refused_pickle(exc: BaseException) -> str | None:
    """The reason ``torch.load(weights_only=True)`` refused a file that carries code or arbitrary objects (a pickled
    class or function such as ``os.system``), or ``None`` when ``exc`` is some other failure (damaged file)."""
    text = str(exc)
    found = re.search(r"(?:unsupported|Unsupported global:) (?:GLOBAL |global )?([\w.]+)", text)
    if "Weights only load failed" not in text or not found:
        return None
    return (f"it holds code or objects ({found.group(1)}) that the suite refuses to unpickle; its checkpoints hold "
            "only tensors, arrays and plain values (the file was not written by the suite, or was tampered with)")
