"""Microseconds per move of AlphaGo's fast rollout policy (whole playouts: rules, legal list, features of every
candidate, sampling) beside its SL policy net at batch 1, the ratio the rollout policy exists for.

    python benchmarks/rollout_speed.py                     # 9x9, 16 playouts, resnet b6c64 (auto), 5 rounds
    python benchmarks/rollout_speed.py --board 7 --rounds 9

Each round times both in turn; the table gives each round and the median ratio (shared machines drift: compare
ratios from one run).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from agents.alphago.policy import build_policy_net, default_net, policy_probs
from envs.go.game import GoGame


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, time both in rounds, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", type=int, default=9)
    parser.add_argument("--playouts", type=int, default=16, help="games played out per round")
    parser.add_argument("--net-calls", type=int, default=20, help="batch-1 net calls per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    game = GoGame(args.board)
    weights = np.zeros(game.rollout_features)  # uniform over sensible moves: the cost, not the skill
    net_cfg = default_net("resnet", "auto", args.board)
    net = build_policy_net(net_cfg, game.num_planes, args.board, game.num_actions).eval()
    batch = game.new_batch(args.playouts)
    planes, masks = batch.features()[:1], batch.legal_masks()[:1]
    batch.rollout(weights, seed=0, max_moves=2)  # compile
    policy_probs(net, planes, masks)
    print(f"# {args.board}x{args.board}, {args.playouts} playouts per round, net resnet {net_cfg.preset} at batch 1, "
          f"{args.threads} thread(s)")
    print("| round | rollout us/move | SL net us/move | ratio |\n|---:|---:|---:|---:|")
    ratios = []
    for r in range(args.rounds):
        playouts = game.new_batch(args.playouts)
        start = time.perf_counter()
        _, moves = playouts.rollout(weights, seed=r + 1, with_moves=True)
        rollout_us = (time.perf_counter() - start) / max(int(moves.sum()), 1) * 1e6
        start = time.perf_counter()
        for _ in range(args.net_calls):
            policy_probs(net, planes, masks)
        net_us = (time.perf_counter() - start) / args.net_calls * 1e6
        ratios.append(net_us / rollout_us)
        print(f"| {r + 1} | {rollout_us:.1f} | {net_us:,.0f} | {ratios[-1]:,.0f}x |", flush=True)
    print(f"\nmedian ratio {statistics.median(ratios):,.0f}x (rounds {min(ratios):,.0f}x-{max(ratios):,.0f}x)")


if __name__ == "__main__":
    main()
