"""The suite's trained agents: checkpoint files shipped with it, each described by a card.

The registry is this folder: every ``NAME.json`` in it is the card of the agent ``NAME``, and its ``file`` field
names the checkpoint beside it, with the file's ``sha256`` and size in ``bytes``. Adding an agent is one card
(plus its file): ``python -m zoo.pretrained render`` then writes the card's Markdown view, ``NAME.md``.

``pretrained:NAME`` stands for the agent's checkpoint wherever the suite takes a checkpoint path: ``resume=``,
``python -m zoo.gtp --checkpoint``, arena player specs (``pretrained:go7@sims=400``), ``python -m zoo.play_go``,
``python -m zoo.slim`` and ``python -m agents.compress net=`` / ``teacher=``. :func:`resolve` turns it into the file,
after checking that the file's bytes are the ones the card's results were measured with.

This module imports only the standard library and nothing of the suite. That is why the lookup lives here rather
than in ``zoo``: ``agents`` (``python -m agents.compress``) needs it too and must never import ``zoo``, so the one
resolver sits below both. ``zoo.run.checkpoint.resolve_target`` wraps it for every ``zoo`` command, and
:mod:`zoo.pretrained` is the command line (listing, cards, evaluation).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

PREFIX = "pretrained:"
"""What marks a registry name where a checkpoint path is expected."""
ROOT = Path(__file__).resolve().parent
"""The folder of the shipped cards and files (a fresh clone's ``pretrained/``, or the installed package)."""
CARD_FIELDS = ("name", "env", "algorithm", "strength", "file", "sha256", "bytes")
"""Fields every card has (the rest depend on the kind of agent; see :mod:`zoo.pretrained`)."""


class PretrainedError(ValueError):
    """A registry name that does not resolve: unknown name, missing file, or a file that is not the card's."""


def is_spec(text: object) -> bool:
    """Whether ``text`` is a ``pretrained:NAME`` spec (and not a path)."""
    return isinstance(text, str) and text.startswith(PREFIX)


def names(root: Path | None = None) -> list[str]:
    """The names of the agents in ``root`` (default :data:`ROOT`, the shipped ones), sorted."""
    return sorted(p.stem for p in Path(root or ROOT).glob("*.json"))


def card(name: str, root: Path | None = None) -> dict[str, Any]:
    """The card of agent ``name`` (``PREFIX`` optional); :class:`PretrainedError` listing the valid names if there
    is none, or naming the card if it lacks a field of :data:`CARD_FIELDS`."""
    name, root = name.removeprefix(PREFIX), Path(root or ROOT)
    path = root / f"{name}.json"
    if not name or "/" in name or "\\" in name or not path.is_file():
        valid = names(root)
        raise PretrainedError(f"{PREFIX}{name}: no such pretrained agent; valid: "
                              + (", ".join(f"{PREFIX}{n}" for n in valid) or "none (the registry folder is empty)"))
    data = json.loads(path.read_text(encoding="utf-8"))
    missing = [f for f in CARD_FIELDS if f not in data]
    if missing or data["name"] != name:
        raise PretrainedError(f"card {path} is incomplete: it needs {', '.join(CARD_FIELDS)} and name {name!r} "
                              f"(missing: {', '.join(missing) or 'none'}; name {data.get('name')!r})")
    return data


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, expected_sha256: str, expected_bytes: int, what: str) -> Path:
    """``path`` if its bytes have the expected size and sha256; otherwise :class:`PretrainedError` in one line
    naming ``what``, the file, and the expected hash."""
    path = Path(path)
    if not path.is_file():
        raise PretrainedError(f"{what}: file {path} is missing (expected sha256 {expected_sha256}); reinstall the "
                              "suite or restore the file (git checkout pretrained/)")
    size = path.stat().st_size
    actual = sha256_of(path)
    if size != expected_bytes or actual != expected_sha256:
        state = f"truncated ({size} of {expected_bytes} bytes)" if size < expected_bytes else "changed"
        raise PretrainedError(f"{what}: file {path} is {state}: sha256 {actual}, expected {expected_sha256}; "
                              "refusing to load it (reinstall the suite or restore the file: git checkout pretrained/)")
    return path


def resolve(spec: str, root: Path | None = None) -> Path:
    """The verified checkpoint file of ``pretrained:NAME`` (or bare ``NAME``); :class:`PretrainedError` in one line
    for an unknown name (listing the valid ones) or a file whose bytes are not the card's (naming the file and the
    expected sha256)."""
    root = Path(root or ROOT)
    entry = card(spec, root)
    return verify(root / entry["file"], entry["sha256"], int(entry["bytes"]), f"{PREFIX}{entry['name']}")
