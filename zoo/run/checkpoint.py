"""Versioned, atomic checkpoints.

A checkpoint is one ``torch.save`` file holding only tensors, numpy arrays (stored as tensors), and plain Python
values, so ``torch.load(weights_only=True)`` reads it and no class is ever unpickled::

    {"format": FORMAT, "config": {...}, "agent": agent.state_dict(), "counters": {...}, "rng": {...},
     "env_rng": {...}, "eval_env_rng": {...}, "episode": {...} | None, "extra": {...}}

(what each holds, and why a resumed run is then the uninterrupted one: :mod:`zoo.run.loop`; checkpoints without
the keys added later, ``eval_env_rng`` and ``episode``, still load).

Files are written to ``NAME.tmp`` and renamed into place (atomic on one filesystem), so a run killed at any
moment leaves either the old checkpoint or the new one, never half of one.
"""

from __future__ import annotations

import os
import random
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

import pretrained
from agents.nets.checkpoint import refused_pickle
from zoo.errors import CheckpointError

FORMAT = 1
"""Checkpoint format version; bumped whenever the layout changes (loading another version is refused)."""

_NDARRAY = "__ndarray__"
_CKPT_RE = re.compile(r"^ckpt-(\d+)\.pt$")


def save_checkpoint(path: str | Path, payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` (plus the format version) atomically to ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(_encode({"format": FORMAT, **payload}), tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint file; :class:`CheckpointError` names the problem if it is missing, corrupt or foreign."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds (zip, pickle, EOF) for damaged files
        refused = refused_pickle(exc)
        if refused:
            raise CheckpointError(f"checkpoint {path} is refused: {refused}") from None
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"checkpoint {path} is corrupt or truncated ({reason[:120]})") from None
    if not isinstance(raw, dict) or "format" not in raw:
        raise CheckpointError(f"{path} is not a zoo checkpoint (no 'format' field)")
    if raw["format"] != FORMAT:
        raise CheckpointError(f"checkpoint {path} has format {raw['format']}; this version reads format {FORMAT}")
    return _decode(raw)


def checkpoint_path(run_dir: str | Path, env_steps: int) -> Path:
    """The periodic checkpoint file for a run at ``env_steps``."""
    return Path(run_dir) / "checkpoints" / f"ckpt-{env_steps:012d}.pt"


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """Periodic checkpoints of a run, oldest first."""
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _CKPT_RE.match(p.name))


def resolve_target(target: str | Path, option: str = "") -> Path:
    """What a user gave where a checkpoint is expected, as a path: ``pretrained:NAME`` is the suite's shipped file
    of that name, checked against its card's sha256 (:func:`pretrained.resolve`); anything else is taken as a path.
    ``CheckpointError`` (starting with ``option``) for an unknown name, listing the valid ones, or a damaged file.
    Every zoo command that takes a checkpoint goes through here (most of them by :func:`resolve_resume`)."""
    if pretrained.is_spec(target):
        try:
            return pretrained.resolve(str(target))
        except pretrained.PretrainedError as exc:
            raise CheckpointError(f"{option}{exc}") from None
    return Path(target)


def resolve_resume(target: str | Path, option: str = "resume=") -> Path:
    """Turn ``resume=`` (a checkpoint file, a run directory or ``pretrained:NAME``) into a checkpoint file.

    For a run directory, the newest checkpoint that loads is chosen; damaged newer ones are skipped (and named).
    ``option`` is how the user gave ``target`` (``"--checkpoint "`` for a command's flag): errors start with it.
    """
    target = resolve_target(target, option)
    if target.is_file():
        return target
    if not target.is_dir():
        raise CheckpointError(f"{option}{target}: no such checkpoint file or run directory")
    candidates = list_checkpoints(target)
    if not candidates:
        raise CheckpointError(f"{option}{target}: no checkpoints in {target}/checkpoints")
    for path in reversed(candidates):
        try:
            load_checkpoint(path)
            return path
        except CheckpointError:
            continue
    raise CheckpointError(f"{option}{target}: every checkpoint in {target}/checkpoints is damaged")


def prune_checkpoints(run_dir: str | Path, keep: int) -> None:
    """Delete all but the newest ``keep`` periodic checkpoints (and any stray temp files)."""
    folder = Path(run_dir) / "checkpoints"
    for tmp in folder.glob("*.tmp"):
        tmp.unlink(missing_ok=True)
    for old in list_checkpoints(run_dir)[: -max(keep, 1)]:
        old.unlink(missing_ok=True)


def rng_state(np_rng: np.random.Generator) -> dict[str, Any]:
    """The state of every random generator a run draws from."""
    return {
        "numpy": np_rng.bit_generator.state,
        "python": _python_rng_state(),
        "torch": torch.get_rng_state(),
    }


def restore_rng_state(state: Mapping[str, Any], np_rng: np.random.Generator) -> None:
    """Inverse of :func:`rng_state`."""
    np_rng.bit_generator.state = dict(state["numpy"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    torch.set_rng_state(state["torch"])


def _python_rng_state() -> list[Any]:
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


def _encode(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return {_NDARRAY: torch.from_numpy(np.ascontiguousarray(obj))}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Mapping):
        return {k: _encode(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_encode(v) for v in obj]
    return obj


def _decode(obj: Any) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {_NDARRAY}:
            return obj[_NDARRAY].numpy()
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def remove_unused_run_dir(path: Path, empty_parents: bool = False) -> None:
    """Delete a run folder that holds nothing but Hydra's ``.hydra/`` (and an empty ``train.log``): the folder Hydra
    made for a run that stopped before writing anything, or for a torchrun rank above 0. A folder with anything else
    in it is left alone. ``empty_parents``: also the folders left empty above it (``runs/ENV/AGENT``), up to the
    working directory."""
    if not path.is_dir():
        return
    names = {p.name for p in path.iterdir()}
    log = path / "train.log"
    if not (names <= {".hydra", "train.log"} and (not log.exists() or log.stat().st_size == 0)):
        return
    shutil.rmtree(path, ignore_errors=True)
    if not empty_parents:
        return
    cwd = Path.cwd().resolve()
    for parent in path.resolve().parents:
        if parent == cwd or cwd not in parent.parents or any(parent.iterdir()):
            break
        parent.rmdir()


def slim_checkpoint(src: str | Path, dst: str | Path) -> Path:
    """Write a copy of checkpoint ``src`` (file or run directory) to share or commit: the same config, nets and
    optimizer, with the agent's replay window emptied and no self-play games in progress (the positions are what
    makes a zero checkpoint tens of MB). It plays, and warm-starts training, as ``src`` does; training resumed
    from it refills its window first. ``CheckpointError`` for an agent state without a replay window."""
    ckpt = load_checkpoint(resolve_resume(src, option=""))
    agent = ckpt.get("agent")
    replay = agent.get("replay") if isinstance(agent, dict) else None
    if not isinstance(replay, dict) or not {"planes", "policy", "z"} <= set(replay):
        raise CheckpointError(f"{src}: its agent keeps no replay window of positions; nothing to slim")
    for window in [replay, *(board["replay"] for board in agent.get("mix") or [])]:  # with a board mix: each size's
        for key in ("planes", "policy", "z", "ownership", "score"):
            if key in window:
                window[key] = np.asarray(window[key])[:0]
        window["next"] = 0
    if "selfplay" in agent:
        agent["selfplay"] = None
    for board in agent.get("mix") or []:
        board["selfplay"] = None
    return save_checkpoint(dst, ckpt)
