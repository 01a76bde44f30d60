"""What KataGo's global pooling and auxiliary heads cost the forward pass of agent zero's go9 net (resnet b6c64).

Four nets on 9x9 planes (17), eval mode, no autograd, fp32, timed in turn within each round so that a drifting
machine stays out of the ratios (``agents.nets.stats.time_interleaved``): the median of the per-round ratios to
the plain net, and the ratio of the fastest rounds (the least disturbed on a shared machine):

- ``plain``: AlphaGo Zero's heads (the default);
- ``aux``: plus the ownership and score heads (``agent.ownership_weight`` / ``agent.score_weight`` > 0);
- ``gpool``: ``net.global_pool=true`` (global pooling blocks, pooled policy and value heads);
- ``gpool+aux``: both.

Each aux net is timed twice: as search calls it without a score utility (``net(x, mask)``: the auxiliary heads
are not run) and with one (``net(x, mask, aux=True)``, also the learner's forward).

    OMP_NUM_THREADS=1 python benchmarks/aux_heads_cost.py [--batches 64,256] [--rounds 7] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics

import torch

from agents.nets import NetConfig, build_net, count_macs, count_params
from agents.nets.stats import median_ratio, time_interleaved

AUX = ("ownership", "score")


class AuxForward(torch.nn.Module):
    """``net(x, None, aux=True)`` as a module of one argument (for ``count_macs``)."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> object:
        return self.net(x, None, aux=True)


def nets() -> dict[str, torch.nn.Module]:
    """The four go9 b6c64 variants, in eval mode."""
    out = {}
    for name, pool, aux in (("plain", False, ()), ("aux", False, AUX), ("gpool", True, ()), ("gpool+aux", True, AUX)):
        torch.manual_seed(0)
        out[name] = build_net(NetConfig(kind="resnet", preset="b6c64", global_pool=pool), 17, 9, 82, aux=aux).eval()
    return out


def calls(models: dict[str, torch.nn.Module], x: torch.Tensor, mask: torch.Tensor) -> dict[str, object]:
    """name -> a no-argument forward call: every net as search calls it, the aux nets also with ``aux=True``."""
    fns = {name: (lambda net=net: net(x, mask)) for name, net in models.items()}
    fns.update({f"{name} (aux=True)": (lambda net=net: net(x, mask, aux=True))
                for name, net in models.items() if net.aux})
    return fns


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python benchmarks/aux_heads_cost.py", description=__doc__.split("\n")[0])
    p.add_argument("--batches", default="64,256", help="comma-separated batch sizes")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    models = nets()
    one = torch.zeros(1, 17, 9, 9)
    print(f"go9 resnet b6c64, fp32 eager, {args.threads} thread(s), {args.rounds} rounds (median per-round ratio)")
    print("| net | params | M MACs/position (aux=True) |")
    print("|---|---:|---:|")
    for name, net in models.items():
        macs = count_macs(AuxForward(net) if net.aux else net, one)
        print(f"| {name} | {count_params(net):,} | {macs / 1e6:.2f} |")
    for batch in (int(b) for b in args.batches.split(",")):
        x = torch.rand(batch, 17, 9, 9).round()
        mask = torch.ones(batch, 82, dtype=torch.bool)
        with torch.inference_mode():
            seconds = time_interleaved(calls(models, x, mask), rounds=args.rounds)
        base = seconds["plain"]
        print(f"\nbatch {batch}\n| forward | ms/call (median) | ms/call (fastest round) | time vs plain (median "
              "of rounds) | time vs plain (fastest rounds) |\n|---|---:|---:|---:|---:|")
        for name, s in seconds.items():
            median = statistics.median(s)
            print(f"| {name} | {1e3 * median:.2f} | {1e3 * min(s):.2f} | {median_ratio(s, base):.3f} | "
                  f"{min(s) / min(base):.3f} |")


if __name__ == "__main__":
    main()
