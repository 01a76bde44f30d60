"""Net checkpoints: a versioned dict of plain data and a state_dict (never a pickled module).

Layout (``FORMAT`` 1)::

    {"format": 1, "net": {NetConfig fields}, "in_channels": int, "board_size": int, "n_actions": int,
     "heads": "dual" | "policy" | "value", "aux": [str, ...], "hidden": [int, ...], "state_dict": {...}}

``"aux"`` (optional, ``[]`` when absent): the auxiliary heads (``agents.nets.AUX_HEADS``) the net carries.

``"hidden"`` (optional, ``[int, ...]``): the width of each block's hidden channels (``agents.nets.slicing``); when
channel slicing narrowed them, the net is built from its config, narrowed to these widths, then loaded.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from agents.nets.config import AUX_HEADS, NetConfig
from agents.nets.heads import Net, build_net
from agents.nets.slicing import hidden_widths, narrow_to

FORMAT = 1
"""Version of the checkpoint layout."""


def net_checkpoint(net: Net) -> dict[str, Any]:
    """The checkpoint dict of ``net`` (see the module docstring)."""
    return {"format": FORMAT, "net": dataclasses.asdict(net.cfg), "in_channels": net.in_channels,
            "board_size": net.board_size, "n_actions": net.n_actions, "heads": net.heads, "aux": list(net.aux),
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
                    ckpt["heads"], aux=ckpt.get("aux", ()))
    if "hidden" in ckpt and list(ckpt["hidden"]) != hidden_widths(net):
        narrow_to(net, [int(w) for w in ckpt["hidden"]])
    net.load_state_dict(ckpt["state_dict"])
    return net.eval()


def saved_aux(state: Mapping[str, Any]) -> tuple[str, ...]:
    """The auxiliary heads whose weights a net state dict holds (keys under ``ownership.`` / ``score.``)."""
    return tuple(a for a in AUX_HEADS if any(k.startswith(a + ".") for k in state))


def load_weights(net: Net, state: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Load a state dict into ``net`` across a change of auxiliary heads (a warm start of an older run with the
    heads turned on, or off). Returns ``(fresh, dropped)``: the heads of ``net`` the state has no weights for,
    which keep their initial weights, and the heads the state has weights for but ``net`` lacks, which are
    ignored. Every other weight must match by name and shape: ``ValueError`` naming the first that does not."""
    have = saved_aux(state)
    fresh = [a for a in net.aux if a not in have]
    dropped = [a for a in have if a not in net.aux]
    kept = {k: torch.as_tensor(v) for k, v in state.items() if not k.startswith(tuple(a + "." for a in dropped))}
    own = net.state_dict()
    expected = {k for k in own if not k.startswith(tuple(a + "." for a in fresh))}
    missing, unexpected = sorted(expected - set(kept)), sorted(set(kept) - set(own))
    if missing or unexpected:
        what = f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}"
        raise ValueError(f"net weights do not fit this net ({what}; {len(missing)} missing, {len(unexpected)} "
                         "unexpected)")
    try:
        net.load_state_dict(kept, strict=False)
    except RuntimeError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        raise ValueError(f"net weights do not fit this net ({lines[1] if len(lines) > 1 else lines[0]})") from None
    return fresh, dropped


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
