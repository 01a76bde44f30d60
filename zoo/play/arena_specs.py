"""Player specs of the arena: the text a user gives (``gnugo:5``, ``mcts:1000``, ``NAME=RUN_DIR@sims=200``) turned
into a :class:`PlayerSpec` a worker process can build, resolved and checked before any game is played.

The grammar is documented in :mod:`zoo.play.arena` (its ``--help``); a spec that does not resolve raises
:class:`zoo.errors.UserError` naming it and what is valid.
"""

from __future__ import annotations

import math
import shlex
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pretrained
from zoo.errors import UserError
from zoo.play.gtp_client import GtpClient, GtpError, find_gnugo
from zoo.play.players import load_agent
from zoo.run.checkpoint import resolve_target

KOMI = {5: 24.0, 6: 4.0, 7: 9.0}
"""Default komi per board (the envs' registered values); 7.5 on 9x9 and up."""
GNUGO_DEFAULT_LEVEL = 10
ENGINE_TIMEOUT = 60.0
_OPTION_ALIASES = {"sims": "simulations", "temp_moves": "play_temp_moves"}
_VALID_KINDS = ("random, capture, mcts:N, gnugo, gnugo:LEVEL, gnugo-mc, gtp:COMMAND, pretrained:NAME, or a checkpoint "
                "file or run folder")


def default_komi(size: int) -> float:
    """The suite's komi for ``size``: that of the registered Go env (24 on 5x5, 9 on 7x7), 7.5 from 9x9 up."""
    if size >= 9:
        return 7.5
    if size in KOMI:
        return KOMI[size]
    from envs.registry import _small_board_komi

    return float(_small_board_komi(size))


# -- player specs ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlayerSpec:
    """A resolved player spec: everything a worker process needs to build the player (picklable)."""

    name: str
    spec: str
    """The spec as given, without ``NAME=``."""
    kind: str
    """random, capture, mcts, gtp (GNU Go included) or checkpoint."""
    playouts: int = 0
    c_uct: float = 0.7
    argv: tuple[str, ...] = ()
    seed_flag: bool = False
    """GTP engine that takes ``--seed N`` (GNU Go): a seed is appended per game."""
    genmove: str = "genmove"
    """GTP move command (GNU Go: ``kgs-genmove_cleanup``, see :func:`resolve_spec`)."""
    path: str = ""
    overrides: tuple[tuple[str, Any], ...] = ()
    history: int | None = None
    """Boards of history the checkpoint's observations need (None: any)."""
    searches: bool = False
    """Checkpoint whose agent searches Go states (zero)."""


def _split_spec(text: str) -> tuple[str | None, str, dict[str, str]]:
    """``NAME=BODY@k=v,...`` -> (name or None, body, options)."""
    name, body = None, text.strip()
    head, sep, rest = body.partition("=")
    if sep and head and all(ch.isalnum() or ch in "_-.+:" for ch in head):
        name, body = head, rest.strip()
    options: dict[str, str] = {}
    base, sep, tail = body.rpartition("@")
    if sep and base and tail and all("=" in kv for kv in tail.split(",")):
        body = base
        for kv in tail.split(","):
            k, _, v = kv.partition("=")
            options[k.strip()] = v.strip()
    return name, body, options


def _value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _check_engine(argv: list[str], size: int, komi: float, spec: str) -> None:
    """Start the engine once and ask for the board size and komi: ``UserError`` naming the spec otherwise."""
    try:
        with GtpClient(argv, timeout=ENGINE_TIMEOUT) as client:
            try:
                client.send(f"boardsize {size}")
            except GtpError as exc:
                raise UserError(f"player {spec!r}: the engine refuses board size {size} ({exc})") from None
            try:
                client.send(f"komi {komi:g}")
            except GtpError as exc:
                raise UserError(f"player {spec!r}: the engine refuses komi {komi:g} ({exc})") from None
    except (OSError, GtpError) as exc:
        raise UserError(f"player {spec!r}: the GTP engine {argv[0]!r} does not start ({exc})") from None


def resolve_spec(text: str, size: int, komi: float, check_engines: bool = True) -> PlayerSpec:
    """Turn one player spec (see the module docstring) into a :class:`PlayerSpec`, checking that it can play.

    Raises :class:`UserError` with one line naming the spec and what is valid: unknown kind, bad number, engine
    not installed or refusing the board, missing or damaged checkpoint, checkpoint of another board size or not
    of Go, unknown agent setting.
    """
    name, body, options = _split_spec(text)
    spec = text.strip()
    bare = spec.partition("=")[2].strip() if name else spec  # what the ladder keeps for the name

    def no_options(kind: str, allowed: Iterable[str] = ()) -> None:
        bad = sorted(set(options) - set(allowed))
        if bad:
            raise UserError(f"player {spec!r}: {kind} takes no option {', '.join(bad)}"
                            + (f"; valid: {', '.join(allowed)}" if allowed else ""))

    if body in ("random", "capture"):
        no_options(body)
        return PlayerSpec(name or body, bare, body)
    if body.startswith("mcts:"):
        no_options("mcts", ["c"])
        try:
            playouts = int(body[5:])
            c_uct = float(options.get("c", 0.7))
        except ValueError:
            raise UserError(f"player {spec!r}: mcts:N needs a whole number N >= 1, e.g. mcts:1000 (and mcts:N@c=C "
                            "a number C)") from None
        if playouts < 1:
            raise UserError(f"player {spec!r}: mcts:N needs N >= 1 playouts, got {playouts}")
        if not math.isfinite(c_uct) or c_uct <= 0:
            raise UserError(f"player {spec!r}: mcts@c=C needs a finite exploration constant C > 0, got {c_uct}")
        return PlayerSpec(name or body, bare, "mcts", playouts=playouts, c_uct=c_uct)
    if body == "gnugo" or body.startswith("gnugo:") or body == "gnugo-mc":
        no_options("gnugo")
        path = find_gnugo()
        if path is None:
            raise UserError(f"player {spec!r}: GNU Go is not installed (not on PATH nor at /usr/games/gnugo; "
                            "apt-get install gnugo)")
        level = GNUGO_DEFAULT_LEVEL
        if body.startswith("gnugo:"):
            try:
                level = int(body[6:])
            except ValueError:
                level = -1
            if not 0 <= level <= 10:
                raise UserError(f"player {spec!r}: GNU Go levels are 0..10 (default {GNUGO_DEFAULT_LEVEL})")
        monte_carlo = body == "gnugo-mc"
        if monte_carlo and size > 9:
            raise UserError(f"player {spec!r}: GNU Go's Monte Carlo mode plays boards up to 9x9, not {size}x{size}")
        argv = [path, "--mode", "gtp", "--level", str(level), "--chinese-rules"]
        if monte_carlo:
            argv.append("--monte-carlo")
        default = "gnugo-mc" if monte_carlo else "gnugo" if level == GNUGO_DEFAULT_LEVEL else f"gnugo:{level}"
        if check_engines:
            _check_engine(argv, size, komi, spec)
        return PlayerSpec(name or default, bare, "gtp", argv=tuple(argv), seed_flag=True, genmove="kgs-genmove_cleanup")
    if body.startswith("gtp:"):
        no_options("gtp")
        try:
            argv = shlex.split(body[4:])
        except ValueError as exc:
            raise UserError(f"player {spec!r}: cannot split the command line ({exc})") from None
        if not argv:
            raise UserError(f"player {spec!r}: gtp: needs a command line, e.g. 'gtp:gnugo --mode gtp'")
        if shutil.which(argv[0]) is None:
            raise UserError(f"player {spec!r}: GTP engine command {argv[0]!r} not found")
        if check_engines:
            _check_engine(argv, size, komi, spec)
        return PlayerSpec(name or f"gtp:{Path(argv[0]).name}", bare, "gtp", argv=tuple(argv))
    path = resolve_target(body, f"player {spec!r}: ")
    if not path.exists():
        raise UserError(f"player {spec!r}: no such checkpoint file or run directory, and not a player kind; "
                        f"valid: {_VALID_KINDS}")
    overrides = tuple((_OPTION_ALIASES.get(k, k), _value(v)) for k, v in options.items())
    loaded = load_agent(path, dict(overrides))
    agent_name = str(loaded.config["agent"].get("name", "agent"))
    env_name = loaded.config["env"].get("name") or loaded.config["env"].get("id")
    if loaded.board_size is None:
        raise UserError(f"player {spec!r}: agent {agent_name} was trained on env {env_name}, not on Go")
    if loaded.board_size != size:
        raise UserError(f"player {spec!r}: the checkpoint plays {loaded.board_size}x{loaded.board_size} Go; "
                        f"the arena board is {size}x{size}")
    run = loaded.path.parent.parent if loaded.path.parent.name == "checkpoints" else loaded.path.parent
    default = (body if pretrained.is_spec(body) else f"{agent_name}:{run.name}") + "".join(
        f"@{k}={v}" for k, v in overrides)
    return PlayerSpec(name or default, bare, "checkpoint", path=str(loaded.path), overrides=overrides,
                      history=loaded.history, searches=loaded.searches)


def resolve_specs(texts: Sequence[str], size: int, komi: float, check_engines: bool = True) -> list[PlayerSpec]:
    """:func:`resolve_spec` for each; ``UserError`` if two players get the same display name."""
    return unique_names([resolve_spec(t, size, komi, check_engines) for t in texts])


def unique_names(specs: list[PlayerSpec]) -> list[PlayerSpec]:
    """``specs`` unchanged; ``UserError`` if two players get the same display name."""
    seen: dict[str, str] = {}
    for s in specs:
        if s.name in seen:
            raise UserError(f"players {seen[s.name]!r} and {s.spec!r} are both named {s.name!r}; "
                            "name one with NAME=SPEC")
        seen[s.name] = s.spec
    return specs


def arena_history(specs: Sequence[PlayerSpec]) -> int:
    """Boards of history the games keep: the most any checkpoint needs (8 without checkpoints).

    A searching agent needs exactly its own history; ``UserError`` when two of them disagree.
    """
    histories = [s.history for s in specs if s.history is not None]
    history = max(histories, default=8)
    for s in specs:
        if s.searches and s.history != history:
            raise UserError(f"player {s.name} searches with {s.history} boards of history but another player "
                            f"needs {history}; play them in separate matches")
    return history
