"""What a resumed run changes: the settings of its config that differ from its checkpoint's run (``resume=``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

NET_SHAPE = ("kind", "preset", "global_pool")
"""The settings of a net that an agent's own ``agent.net_X`` settings also set (the other ``net.*`` fields have no
agent counterpart): a run that names its net (``net=``) and one that lets the agent build it compare on these."""


def changed_settings(saved: Mapping[str, Any], current: Mapping[str, Any], predated: Mapping[str, Any],
                     sections: Sequence[str] = ("agent", "net", "compress")) -> list[str]:
    """``agent.KEY=NOW (was THEN)`` for each setting of ``sections`` whose value in the run's config (``current``)
    differs from the checkpoint's (``saved``); both are plain dicts as in ``config.json``. A setting the checkpoint
    predates counts only where the agent says what its absence meant (``predated``, e.g. ``ZeroConfig.PREDATED``:
    ``search`` was PUCT) and that differs. The net each run used is compared, however it was given: ``net.*`` where
    both named their net (``net=``), ``agent.net_*`` where neither did (the agent built its own), and
    :data:`NET_SHAPE` where one did and the other did not (``auto``, a preset chosen from the board, and a named net's
    ``null`` preset are compared with nothing)."""
    saved_named, current_named = (isinstance(c.get("net"), Mapping) and bool(c.get("net")) for c in (saved, current))
    out = []
    for section in sections:
        old, new = saved.get(section) or {}, current.get(section) or {}
        if not isinstance(old, Mapping) or not isinstance(new, Mapping) or (
                section == "net" and saved_named != current_named):
            continue
        for key, value in new.items():
            if section == "agent" and key.startswith("net_") and (saved_named or current_named):
                continue  # a named net: agent.net_X shaped nothing on that side (compared below, or via net.*)
            if key not in old:
                if section == "agent" and key in predated and predated[key] != value:
                    out.append(f"{section}.{key}={value} (was {predated[key]}: the checkpoint predates the setting)")
            elif old[key] != value:
                out.append(f"{section}.{key}={value} (was {old[key]})")
    if saved_named != current_named and "net" in sections:
        out += _net_shape_changes(saved, current, predated, saved_named)
    return out


def _net_shape_changes(saved: Mapping[str, Any], current: Mapping[str, Any], predated: Mapping[str, Any],
                       saved_named: bool) -> list[str]:
    """:data:`NET_SHAPE` differences between a named net and an agent-built one (see :func:`changed_settings`)."""
    def used(cfg: Mapping[str, Any], named: bool, key: str) -> tuple[str, Any]:
        if named:
            return f"net.{key}", cfg["net"].get(key)
        agent = cfg.get("agent") or {}
        return f"agent.net_{key}", agent.get(f"net_{key}", predated.get(f"net_{key}"))

    out = []
    for key in NET_SHAPE:
        (then_name, then), (now_name, now) = used(saved, saved_named, key), used(current, not saved_named, key)
        if then in (None, "auto") or now in (None, "auto") or then == now:
            continue
        out.append(f"{now_name}={now} (was {then_name}={then})")
    return out


__all__ = ["NET_SHAPE", "changed_settings"]
