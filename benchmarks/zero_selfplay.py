"""Self-play throughput of the zero agent: batched search over B games vs the net's raw forward rate and an
unbatched search (one game, one position per net call, as alpha-zero-general and OpenSpiel's Python AlphaZero do).

    python benchmarks/zero_selfplay.py                       # 9x9, resnet b6c64, sims 32 64, B 64 256
    python benchmarks/zero_selfplay.py --board 5 --preset b2c32 --sims 16 --games 16 --moves 2
    python benchmarks/zero_selfplay.py --sims 16 64 --games 64 --search puct gumbel   # PUCT against Gumbel
    python benchmarks/zero_selfplay.py --sims 64 --games 64 --forced-playouts 0 2    # cost of forced playouts
    python benchmarks/zero_selfplay.py --sims 16 --games 64 --search gumbel --global-pool   # agent=zero's default

Per (simulations, B, search; the search column reads ``puct k=2`` for PUCT with forced playouts k=2): moves/s
(positions of self-play per second), net evaluations/s, the average inference batch, and the share of wall time
inside the forward pass (transfers included); then evaluations/s as a share of the raw batched forward rate at
batch B (the hardware limit) and moves/s against the unbatched baseline.
Timings on a shared CPU are noisy: compare ratios from one run. The JAX peer, pgx + mctx, runs beside this one in
``benchmarks/zero_vs_pgx.py`` (in its own venv; not a dependency of the suite).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from agents.nets import NetConfig, build_net
from agents.search.config import SearchConfig
from agents.search.evaluator import NetEvaluator
from agents.search.reference import reference_search
from envs.go.game import GoGame
from zoo.reporting.selfplay_speed import batched_selfplay


def raw_forward(net: torch.nn.Module, game: GoGame, batch: int, seconds: float, device: str) -> float:
    """Positions/s of ``net`` on random planes at ``batch`` (eval mode, inference mode, legal masks all True)."""
    evaluator = NetEvaluator(net, device)
    planes = (np.random.default_rng(0).random((batch, game.num_planes, game.board_size, game.board_size)) < 0.3)
    planes = planes.astype(np.float32)
    masks = np.ones((batch, game.num_actions), bool)
    evaluator.evaluate(planes, masks)
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        evaluator.evaluate(planes, masks)
        n += batch
    return n / (time.perf_counter() - start)


def unbatched_baseline(net: torch.nn.Module, game: GoGame, sims: int, moves: int, device: str) -> dict[str, float]:
    """One game searched by the unbatched reference search: every leaf is its own batch-1 net call."""
    cfg = SearchConfig(simulations=sims, dirichlet_eps=0.0)
    evaluator = NetEvaluator(net, device)
    state = game.new_state()
    reference_search(state, evaluator, cfg, 4, game.num_actions)  # warm-up
    f0, p0 = evaluator.forward_seconds, evaluator.positions
    start = time.perf_counter()
    for _ in range(moves):
        root = reference_search(state, evaluator, cfg, sims, game.num_actions)
        state.play(int(root.n.argmax()))
    wall = time.perf_counter() - start
    return {"moves_per_s": moves / wall, "evals_per_s": (evaluator.positions - p0) / wall,
            "forward_share": (evaluator.forward_seconds - f0) / wall}


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run every measurement, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", type=int, default=9)
    parser.add_argument("--kind", default="resnet")
    parser.add_argument("--preset", default="b6c64")
    parser.add_argument("--global-pool", action="store_true", help="KataGo global pooling (agent=zero's default net)")
    parser.add_argument("--sims", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--games", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--search", nargs="+", default=["puct"], choices=["puct", "gumbel"],
                        help="self-play searches to time (agent.search)")
    parser.add_argument("--forced-playouts", type=float, nargs="+", default=[0.0],
                        help="PUCT forced playout coefficients k to time (agent.forced_playouts; 0: off)")
    parser.add_argument("--moves", type=int, default=2, help="timed moves per batched measurement")
    parser.add_argument("--baseline-moves", type=int, default=3, help="timed moves of the unbatched baseline")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    game = GoGame(args.board)
    torch.manual_seed(0)
    net_cfg = NetConfig(kind=args.kind, preset=args.preset, global_pool=args.global_pool)
    net = build_net(net_cfg, game.num_planes, args.board, game.num_actions).to(device).eval()
    print(f"# {args.board}x{args.board}, {net_cfg.label()}, device {device}, "
          f"{torch.get_num_threads()} torch threads")
    # The raw forward rate at the same batch is measured just before each row, so that load changes on a
    # shared machine move both numbers of a ratio together.
    print("| sims | B | search | moves/s | net evals/s | avg batch | forward share | raw forward at batch B (pos/s) | "
          "evals/s vs raw forward | moves/s vs unbatched |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for sims in args.sims:
        raw = raw_forward(net, game, 1, 2.0, device)
        base = unbatched_baseline(net, game, sims, args.baseline_moves, device)
        print(f"| {sims} | 1 (unbatched) | puct | {base['moves_per_s']:.2f} | {base['evals_per_s']:.0f} | 1 | "
              f"{base['forward_share']:.2f} | {raw:.0f} | {base['evals_per_s'] / raw:.2f} | 1.00x |", flush=True)
        for games in args.games:
            for search, k in [(s, k) for s in args.search for k in args.forced_playouts if s == "puct" or k == 0]:
                raw = raw_forward(net, game, games, 2.0, device)
                r = batched_selfplay(net, game, sims, games, args.moves, device, search=search, forced_playouts=k)
                label = f"{search} k={k:g}" if k > 0 else search
                print(f"| {sims} | {games} | {label} | {r['moves_per_s']:.2f} | {r['evals_per_s']:.0f} | "
                      f"{r['avg_batch']:.1f} | {r['forward_share']:.2f} | {raw:.0f} | {r['evals_per_s'] / raw:.2f} | "
                      f"{r['moves_per_s'] / base['moves_per_s']:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
