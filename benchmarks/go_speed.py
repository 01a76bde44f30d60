"""Speed of the Go rules engine beside its peers: uniformly random legal games on 9x9, moves per second.

    python benchmarks/go_speed.py                 # 5 interleaved rounds of ~2 s per contender
    python benchmarks/go_speed.py --rounds 3 --seconds 1 --out reports/go_speed.md

Contenders (one process, interleaved rounds, medians; every game capped at the same ``--cap`` moves, passes
included, which is OpenSpiel's default for 9x9, 2 * 81). The per-move contenders all choose with the same
``random.Random().random()`` (numpy's scalar draws cost more than some engines' moves):
- ``zoo GoState``: the per-move Python API, ``legal_actions()`` + uniform choice + ``play()`` each move.
- ``zoo GoBatch``: B games at once, ``legal_masks()`` + a uniform legal choice per game vectorised in numpy +
  ``play()``; finished games restart at once (moves counted are moves played).
- ``zoo GoBatch random_actions``: the same with ``random_actions(rng)``, the O(B) uniform choice from the legal
  lists the engine keeps, in place of the O(B * N*N) masks + numpy choice.
- ``pettingzoo go_v5``: ``pettingzoo.classic.go_v5.env(board_size=9)``, ``agent_iter()`` + ``last()`` + choice
  from the action mask + ``step()`` (:func:`aec_loop`).
- ``zoo env()``: ``envs.go.env(board_size=9)``, the suite's public AEC env with PettingZoo's guarantees (order
  enforcement, illegal-action termination, bounds check), driven by the same :func:`aec_loop`.
- ``zoo raw_env``: ``envs.go.raw_env(board_size=9)``, the same env without those checks, same loop.
- ``openspiel go``: ``pyspiel.load_game("go(board_size=9,komi=7.5)")``, ``legal_actions()`` + ``apply_action()``;
  skipped with a note if ``pyspiel`` is not installed.
- ``pgx go_9x9`` (JAX, CPU): only if ``import pgx`` works; otherwise skipped with a note.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pettingzoo import AECEnv

from envs.go.aec import env as go_env
from envs.go.aec import raw_env
from envs.go.batch import GoBatch
from envs.go.state import GoState

SIZE = 9


def zoo_state(seconds: float, cap: int, rng: np.random.Generator) -> float:
    """Moves/s through GoState's per-move API."""
    pick = random.Random(int(rng.integers(2**31))).random
    moves, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        s = GoState.new(SIZE, max_moves=cap)
        while not s.is_terminal:
            acts = s.legal_actions()
            s.play(acts[int(pick() * len(acts))])
        moves += s.move_count
    return moves / (time.perf_counter() - start)


def zoo_batch(seconds: float, cap: int, rng: np.random.Generator, num_games: int = 256) -> float:
    """Moves/s through GoBatch: one kernel call steps every live game."""
    b = GoBatch(num_games, SIZE, max_moves=cap)
    moves, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        masks = b.legal_masks()
        # Uniform legal choice per game: the (k+1)-th legal action, k uniform below the number legal.
        cum = masks.cumsum(axis=1)
        k = (rng.random(len(masks)) * cum[:, -1]).astype(np.int64)
        actions = (cum <= k[:, None]).sum(axis=1)
        before = b.move_count
        b.play(actions)
        moves += int((b.move_count - before).sum())
        done = b.done
        if done.any():
            b.reset(np.flatnonzero(done))
    return moves / (time.perf_counter() - start)


def zoo_batch_random(seconds: float, cap: int, rng: np.random.Generator, num_games: int = 256) -> float:
    """Moves/s through GoBatch with ``random_actions`` (O(B) choice from the kept legal lists) + ``play()``."""
    b = GoBatch(num_games, SIZE, max_moves=cap)
    moves, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        before = b.move_count
        b.play(b.random_actions(rng))
        moves += int((b.move_count - before).sum())
        done = b.done
        if done.any():
            b.reset(np.flatnonzero(done))
    return moves / (time.perf_counter() - start)


def aec_loop(env: AECEnv, seconds: float, cap: int, rng: np.random.Generator) -> float:
    """Moves/s of a PettingZoo AEC env through ``agent_iter`` + ``last`` + a uniform choice from the action mask
    + ``step``, every game stopped after ``cap`` moves: the loop of every AEC contender."""
    pick = random.Random(int(rng.integers(2**31))).random
    moves, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.reset()
        n = 0
        for _agent in env.agent_iter():
            obs, _, term, trunc, _ = env.last()
            if term or trunc or n >= cap:
                break
            acts = np.flatnonzero(obs["action_mask"])
            env.step(int(acts[int(pick() * len(acts))]))
            n += 1
        moves += n
    return moves / (time.perf_counter() - start)


def pettingzoo_go(seconds: float, cap: int, rng: np.random.Generator) -> float:
    """Moves/s through PettingZoo's go_v5 AEC env."""
    from pettingzoo.classic import go_v5

    return aec_loop(go_v5.env(board_size=SIZE), seconds, cap, rng)


def zoo_aec(seconds: float, cap: int, rng: np.random.Generator) -> float:
    """Moves/s through the suite's public AEC env, ``envs.go.env()``."""
    return aec_loop(go_env(board_size=SIZE), seconds, cap, rng)


def zoo_raw_aec(seconds: float, cap: int, rng: np.random.Generator) -> float:
    """Moves/s through the unchecked AEC env, ``envs.go.raw_env``."""
    return aec_loop(raw_env(board_size=SIZE), seconds, cap, rng)


def openspiel_go(seconds: float, cap: int, rng: np.random.Generator) -> float:
    """Moves/s through OpenSpiel's go (its default max_game_length is the cap)."""
    import pyspiel

    game = pyspiel.load_game(f"go(board_size={SIZE},komi=7.5,max_game_length={cap})")
    pick = random.Random(int(rng.integers(2**31))).random
    moves, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        st = game.new_initial_state()
        while not st.is_terminal():
            acts = st.legal_actions()
            st.apply_action(acts[int(pick() * len(acts))])
            moves += 1
    return moves / (time.perf_counter() - start)


def pgx_go() -> Callable[[float, int, np.random.Generator], float] | str:
    """pgx's go_9x9 on JAX CPU if importable, else the reason it is skipped."""
    try:
        import pgx  # noqa: F401
    except ImportError:
        return "pgx is not installed (pip install pgx); skipped"
    return "pgx found, but its benchmark is not written yet; skipped"


def run(rounds: int, seconds: float, cap: int, seed: int) -> tuple[dict[str, float], list[str]]:
    """Median moves/s per contender over ``rounds`` interleaved rounds."""
    rng = np.random.default_rng(seed)
    contenders: dict[str, Callable[[float, int, np.random.Generator], float]] = {
        "zoo GoState (per move)": zoo_state,
        "zoo GoBatch (B=256, masks)": zoo_batch,
        "zoo GoBatch (B=256, random_actions)": zoo_batch_random,
        "zoo env() (AEC agent_iter/last/step)": zoo_aec,
        "zoo raw_env (AEC unwrapped)": zoo_raw_aec,
        "pettingzoo go_v5": pettingzoo_go,
    }
    notes = []
    if importlib.util.find_spec("pyspiel") is None:
        notes.append("OpenSpiel is not installed (pip install open_spiel); skipped")
    else:
        contenders["openspiel go"] = openspiel_go
    pgx = pgx_go()
    if isinstance(pgx, str):
        notes.append(pgx)
    else:
        contenders["pgx go_9x9 (JAX CPU)"] = pgx
    for fn in contenders.values():  # warm up: numba compile / load caches, imports
        fn(0.2, cap, rng)
    results: dict[str, list[float]] = {name: [] for name in contenders}
    for r in range(rounds):
        for name, fn in contenders.items():
            results[name].append(fn(seconds, cap, rng))
        print(f"round {r + 1}/{rounds}: " + ", ".join(f"{k} {v[-1]:,.0f}" for k, v in results.items()))
    return {name: statistics.median(v) for name, v in results.items()}, notes


def table(medians: dict[str, float]) -> str:
    """Markdown table of moves/s with ratios against PettingZoo go_v5 and OpenSpiel (if it ran)."""
    pz, osp = medians["pettingzoo go_v5"], medians.get("openspiel go")
    if osp is None:
        lines = ["| contender | moves/s | vs pettingzoo go_v5 |", "|---|---:|---:|"]
        lines += [f"| {name} | {v:,.0f} | {v / pz:,.1f}x |" for name, v in medians.items()]
    else:
        lines = ["| contender | moves/s | vs pettingzoo go_v5 | vs openspiel |", "|---|---:|---:|---:|"]
        lines += [f"| {name} | {v:,.0f} | {v / pz:,.1f}x | {v / osp:,.2f}x |" for name, v in medians.items()]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0, help="seconds per contender per round")
    ap.add_argument("--cap", type=int, default=2 * SIZE * SIZE, help="move cap of every game (passes count)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="also write a markdown report here")
    args = ap.parse_args()
    try:
        from pettingzoo.classic import go_v5  # noqa: F401 - the baseline of every ratio
    except ImportError as err:
        sys.exit(f"error: pettingzoo go_v5, the baseline, cannot be imported ({err}); pip install pygame")
    medians, notes = run(args.rounds, args.seconds, args.cap, args.seed)
    text = table(medians)
    print(text)
    for note in notes:
        print("note:", note)
    if args.out is not None:
        command = "python benchmarks/go_speed.py " + " ".join(sys.argv[1:])
        header = [
            "# Go engine speed: uniformly random legal 9x9 games",
            "",
            f"Command: `{command}`  ",
            f"Date: {datetime.date.today().isoformat()}  ",
            f"Machine: {machine()}; Python {platform.python_version()}; one process, {args.rounds} interleaved "
            f"rounds of {args.seconds:g} s, medians; move cap {args.cap} (passes count).",
            "",
        ]
        body = [
            text,
            "",
            *(f"Note: {n}" for n in notes),
            "",
            "Absolute figures move with the machine and its load (other jobs shared these cores); the ratios come",
            "from interleaved rounds in one process. See the module docstring of the benchmark for what each",
            "contender does per move.",
        ]
        args.out.write_text("\n".join(header + body) + "\n")


def machine() -> str:
    """CPU model, core count and load average, as far as this platform tells."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.1f} at the end"
    return f"{model}, {os.cpu_count()} logical cores{load}"


if __name__ == "__main__":
    main()
