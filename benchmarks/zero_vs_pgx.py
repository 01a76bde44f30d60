"""Side by side: the zero agent's batched self-play (PyTorch + numba) against pgx + mctx (JAX, Gumbel AlphaZero).

    PGX_PYTHON=/tmp/pgxvenv/bin/python OMP_WAIT_POLICY=PASSIVE python benchmarks/zero_vs_pgx.py   # 2 cores each
    python benchmarks/zero_vs_pgx.py --pgx-python /tmp/pgxvenv/bin/python --threads 1 --jax-devices 1  # 1 core each

Defaults: 9x9, resnet b6c64, sims 32 64, B 64 256, 3 rounds of 20 s windows.

Same board (9x9, 17 input planes), same net shape (resnet b6c64 with BatchNorm, AlphaZero dual head, 488,637
parameters on both sides), same B and simulations. Per round and per (sims, B), ours and the peer run one after
the other (the order alternates between rounds), each for a window of ``--seconds`` after a warm-up move; the peer
runs as a subprocess of the pgx venv's python (``benchmarks/pgx_mctx_selfplay.py``; its JAX compilation is timed
apart and cached across rounds). The table gives moves/s (positions of self-play per second) and network
evaluations/s of each side and their ratios ours/pgx, then the median ratio over the rounds. On a shared machine
only ratios from one interleaved run mean anything; the load average is printed beside each row.

Cores: ``--threads`` torch threads for ours and ``--jax-devices`` JAX CPU devices for the peer (the games split
evenly over the devices, as pgx's example does with pmap). JAX's CPU convolutions use about one core per device,
so 2 and 2 (the default) give each side both cores of a 2-core machine: the fair comparison of what each
framework makes of the whole CPU. 1 and 1 compare one core each, which is steadier when other jobs share the
machine. On a machine with more runnable threads than cores, torch with 2 threads collapses (its OpenMP workers
spin for each other: batch-64 forward 34 positions/s against 319 with one thread, measured here at load 9-12);
run ours with ``OMP_WAIT_POLICY=PASSIVE`` there (272 positions/s).

Evaluations per move and game: ours ``sims`` (the tree is reused, the root is already evaluated), the peer
``sims + 1`` (mctx rebuilds the tree every move), so moves/s is the ratio that counts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

import torch

from agents.nets import NetConfig, build_net
from envs.go.game import GoGame
from zoo.reporting.selfplay_speed import batched_selfplay

PEER_SCRIPT = Path(__file__).with_name("pgx_mctx_selfplay.py")


def run_peer(python: str, sims: int, games: int, args: argparse.Namespace) -> dict[str, float]:
    """One measurement of pgx + mctx in a subprocess of ``python``; the script's JSON line as a dict."""
    cmd = [python, str(PEER_SCRIPT), "--sims", str(sims), "--games", str(games), "--seconds", str(args.seconds),
           "--raw-seconds", str(args.raw_seconds), "--devices", str(args.jax_devices), "--cache-dir", args.cache_dir,
           "--board", str(args.board), "--blocks", str(args.blocks), "--channels", str(args.channels)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SystemExit(f"error: pgx + mctx failed (exit {proc.returncode}): {tail}")
    return json.loads(lines[-1])


def run_ours(net: torch.nn.Module, game: GoGame, sims: int, games: int, seconds: float) -> dict[str, float]:
    """One measurement of our batched self-play: a warm-up move, then moves for ``seconds`` (at least one)."""
    return batched_selfplay(net, game, sims, games, 1, "cpu", seconds=seconds)


def row(cells: list[object]) -> str:
    """A markdown table row."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run the interleaved rounds, print the table and the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pgx-python", default=os.environ.get("PGX_PYTHON"),
                        help="python of a venv with jax, pgx, mctx, dm-haiku (default: $PGX_PYTHON)")
    parser.add_argument("--board", type=int, default=9, choices=[9, 19], help="board size (pgx has go_9x9, go_19x19)")
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--sims", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--games", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0, help="timed window per side, round and (sims, B)")
    parser.add_argument("--raw-seconds", type=float, default=2.0, help="the peer's raw forward window")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads for ours")
    parser.add_argument("--jax-devices", type=int, default=2, help="JAX CPU devices for pgx + mctx")
    parser.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "zoo_pgx_jax_cache"),
                        help="JAX persistent compilation cache of the peer")
    args = parser.parse_args(argv)
    if not args.pgx_python:
        parser.error("no pgx python: pass --pgx-python PATH or set PGX_PYTHON (a venv with: pip install jax pgx "
                     "mctx dm-haiku)")
    if not Path(args.pgx_python).is_file():
        parser.error(f"--pgx-python {args.pgx_python}: no such file")
    if min(args.threads, args.jax_devices, args.rounds) < 1 or args.seconds <= 0:
        parser.error("--threads, --jax-devices and --rounds must be >= 1, --seconds > 0")
    if any(g % args.jax_devices for g in args.games):
        parser.error(f"every --games value must divide evenly among --jax-devices {args.jax_devices}")
    torch.set_num_threads(args.threads)
    game = GoGame(args.board)
    torch.manual_seed(0)
    net = build_net(NetConfig(kind="resnet", blocks=args.blocks, channels=args.channels), game.num_planes,
                    args.board, game.num_actions).eval()
    print(f"# {args.board}x{args.board}, resnet b{args.blocks}c{args.channels} "
          f"({sum(p.numel() for p in net.parameters()):,} parameters), ours: {torch.get_num_threads()} torch "
          f"threads; pgx + mctx: {args.jax_devices} JAX CPU devices; {args.seconds:g} s windows, {args.rounds} rounds")
    print(row(["round", "sims", "B", "ours moves/s", "pgx moves/s", "moves/s ours/pgx", "ours evals/s",
               "pgx evals/s", "evals/s ours/pgx", "pgx raw forward/s", "pgx compile s", "load"]))
    print(row(["---:"] * 12), flush=True)
    ratios: dict[tuple[int, int], list[tuple[float, float]]] = {}
    try:
        for r in range(args.rounds):
            for sims in args.sims:
                for games in args.games:
                    if r % 2 == 0:
                        ours = run_ours(net, game, sims, games, args.seconds)
                        peer = run_peer(args.pgx_python, sims, games, args)
                    else:
                        peer = run_peer(args.pgx_python, sims, games, args)
                        ours = run_ours(net, game, sims, games, args.seconds)
                    mv, ev = ours["moves_per_s"] / peer["moves_per_s"], ours["evals_per_s"] / peer["evals_per_s"]
                    ratios.setdefault((sims, games), []).append((mv, ev))
                    print(row([r + 1, sims, games, f"{ours['moves_per_s']:.1f}", f"{peer['moves_per_s']:.1f}",
                               f"{mv:.2f}x", f"{ours['evals_per_s']:.0f}", f"{peer['evals_per_s']:.0f}", f"{ev:.2f}x",
                               f"{peer['raw_forward_per_s']:.0f}", f"{peer['compile_s']:.0f}",
                               f"{os.getloadavg()[0]:.1f}"]), flush=True)
    except KeyboardInterrupt:
        print("# interrupted: medians of the finished rows")
    print()
    print(row(["sims", "B", "median moves/s ours/pgx", "median evals/s ours/pgx", "rounds"]))
    print(row(["---:"] * 5))
    for (sims, games), rs in ratios.items():
        print(row([sims, games, f"{statistics.median(m for m, _ in rs):.2f}x",
                   f"{statistics.median(e for _, e in rs):.2f}x", len(rs)]))


if __name__ == "__main__":
    main()
