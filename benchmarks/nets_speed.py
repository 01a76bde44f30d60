"""Compressed nets against their fp32 teacher on 9x9 Go, CPU, one run; writes reports/nets.md.

    python benchmarks/nets_speed.py [--threads 1] [--train 8000] [--test 1000] [--teacher-steps 300]

1. Positions: games of the capture heuristic (``envs.go.opponents``), features and legal masks of each move.
2. Teacher: resnet b6c64, trained briefly on those positions to imitate a deterministic capture/contact
   heuristic (policy) and to predict the game result (value). It only needs to be a peaked, structured net.
3. Compressed nets: int8 (PT2E + torch.compile), pruned 50% / 80% (global unstructured, two prune -> fine-tune
   rounds), and a mobilenet b6c48 student distilled from the teacher (fp32 and int8).
4. For each: params, MACs/position, positions/second at batch 1 and 256, and top-1 move agreement / value error
   against the fp32 teacher on a fixed set of test positions.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from agents.compress import agreement, distill, make_permanent, prune_net, quantize_int8, sparsity_report
from agents.compress.positions import Positions
from agents.nets import NetConfig, build_net, count_macs, count_params
from agents.nets.stats import time_call
from envs.go.opponents import capture_moves, capture_policy, fills_own_eye, saving_moves
from envs.go.state import GoState

ROOT = Path(__file__).resolve().parent.parent


def heuristic_move(state: GoState) -> int:
    """Deterministic target: biggest capture, else biggest save, else the non-eye move touching the most
    stones (opponent's count double), nearer the centre first, lowest index last; pass when nothing is left."""
    for scores in (capture_moves(state), saving_moves(state)):
        if scores:
            return min(scores, key=lambda a: (-scores[a], a))
    n = state.size
    board = np.asarray(state.board)
    best, best_key = n * n, None
    for a in np.flatnonzero(state.legal_mask()[:-1]):
        if fills_own_eye(state, int(a)):
            continue
        r, c = divmod(int(a), n)
        around = ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))
        near = [board[rr, cc] for rr, cc in around if 0 <= rr < n and 0 <= cc < n]
        touch = sum(2 if v == -state.to_play else 1 for v in near if v != 0)
        key = (-touch, max(abs(r - n // 2), abs(c - n // 2)), int(a))
        if best_key is None or key < best_key:
            best, best_key = int(a), key
    return best


def play_positions(count: int, size: int, seed: int) -> tuple[Positions, torch.Tensor, torch.Tensor]:
    """(positions, heuristic target moves (N,), results from the mover's view (N,)) from capture-policy games."""
    rng = np.random.default_rng(seed)
    planes, masks, moves, results = [], [], [], []
    while len(planes) < count:
        state, movers, start = GoState.new(size, max_moves=2 * size * size), [], len(planes)
        while not state.is_terminal:
            planes.append(state.features())
            masks.append(state.legal_mask())
            moves.append(heuristic_move(state))
            movers.append(state.to_play)
            state.play(capture_policy(state, rng))
        winner = state.winner()
        results += [float(np.sign(winner * m)) for m in movers]
        assert len(results) - start == len(movers)
    pos = Positions(torch.from_numpy(np.stack(planes[:count])), torch.from_numpy(np.stack(masks[:count])))
    return pos, torch.tensor(moves[:count]), torch.tensor(results[:count])


def train_teacher(pos: Positions, moves: torch.Tensor, results: torch.Tensor, steps: int, seed: int):
    """resnet b6c64 trained by cross-entropy on the heuristic moves + MSE on results (Adam, batch 128)."""
    torch.manual_seed(seed)
    net = build_net(NetConfig(kind="resnet", preset="b6c64"), pos.planes.shape[1], 9, 82).train()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3, weight_decay=1e-4)
    g = torch.Generator().manual_seed(seed)
    for step in range(steps):
        idx = torch.randint(0, len(pos), (128,), generator=g)
        logits, value = net(pos.planes[idx], pos.mask[idx])
        loss = F.cross_entropy(logits, moves[idx]) + F.mse_loss(value, results[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 0:
            print(f"  teacher step {step}: loss {loss.item():.3f}", flush=True)
    return net.eval()


def throughput(net, pos: Positions, batch: int) -> float:
    """Positions per second of net(planes, mask) at ``batch`` (median of rounds)."""
    b = pos.take(slice(0, batch))
    with torch.inference_mode():
        return batch / time_call(lambda: net(b.planes, b.mask), rounds=5, min_seconds=0.2)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--train", type=int, default=8000)
    p.add_argument("--test", type=int, default=1000)
    p.add_argument("--teacher-steps", type=int, default=300)
    p.add_argument("--distill-steps", type=int, default=600)
    p.add_argument("--finetune-steps", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "reports" / "nets.md"))
    args = p.parse_args()
    torch.set_num_threads(2)  # data and training use both cores; timings below use --threads
    t0 = time.time()
    train, moves, results = play_positions(args.train, 9, args.seed)
    test, test_moves, _ = play_positions(args.test, 9, args.seed + 1)
    print(f"positions: {len(train)} train, {len(test)} test ({time.time() - t0:.0f} s)", flush=True)
    teacher = train_teacher(train, moves, results, args.teacher_steps, args.seed)
    with torch.no_grad():
        heur = float((teacher(test.planes, test.mask)[0].argmax(-1) == test_moves).float().mean())
    print(f"teacher: {heur:.3f} top-1 agreement with the heuristic on test positions", flush=True)

    nets: dict[str, tuple[torch.nn.Module, torch.nn.Module]] = {"resnet b6c64 fp32 (teacher)": (teacher, teacher)}
    sparsity = {}
    for amount in (0.5, 0.8):
        def finetune(m, amount=amount):
            distill(teacher, m, train, args.finetune_steps, 128, 1e-3, temperature=1.0, seed=args.seed)

        pruned = make_permanent(prune_net(teacher, amount, rounds=2, finetune=finetune))
        sparsity[amount] = sparsity_report(pruned)["total"]
        nets[f"resnet b6c64 pruned {int(amount * 100)}%"] = (pruned, pruned)
    student = build_net(NetConfig(kind="mobilenet", preset="b6c48"), 17, 9, 82)
    losses = distill(teacher, student, train, args.distill_steps, 128, 2e-3, temperature=2.0, seed=args.seed)
    print(f"distill: loss {np.mean(losses[:20]):.3f} -> {np.mean(losses[-20:]):.3f}", flush=True)
    nets["mobilenet b6c48 student fp32"] = (student, student)
    torch.set_num_threads(args.threads)
    for name, fp32 in (("resnet b6c64", teacher), ("mobilenet b6c48 student", student)):
        q = quantize_int8(fp32, train, batches=16, batch_size=64)
        nets[f"{name} int8"] = (q, fp32)
    rows = []
    for name, (net, base) in nets.items():
        start = time.time()
        b1, b256 = throughput(net, test, 1), throughput(net, test, 256)  # int8: first call per size compiles
        a = agreement(teacher, net, test)
        rows.append((name, count_params(base), count_macs(base, test.planes[:1]), b1, b256, a.top1, a.value_mae))
        print(f"{name}: {b1:.0f} / {b256:.0f} pos/s, top-1 {a.top1:.3f}, value MAE {a.value_mae:.4f} "
              f"({time.time() - start:.0f} s)", flush=True)
    write_report(Path(args.out), rows, args, heur, sparsity, losses, time.time() - t0)


def write_report(path: Path, rows, args, heur: float, sparsity: dict, losses: list[float], seconds: float) -> None:
    base_b256 = rows[0][4]
    teacher_macs = rows[0][2]
    lines = [
        "| net | params | MACs/position | pos/s batch 1 | pos/s batch 256 | x fp32 (batch 256) | MACs / teacher's"
        " | top-1 agreement | value MAE |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, params, macs, b1, b256, top1, vmae in rows:
        lines.append(f"| {name} | {params:,} | {macs / 1e6:.1f} M | {b1:,.0f} | {b256:,.0f} | {b256 / base_b256:.2f}x"
                     f" | 1/{teacher_macs / macs:.1f} | {top1:.1%} | {vmae:.4f} |")
    table = "\n".join(lines)
    path.write_text(REPORT.format(table=table, threads=args.threads, train=args.train, test=args.test,
                                  teacher_steps=args.teacher_steps, heur=heur, s50=sparsity[0.5], s80=sparsity[0.8],
                                  distill_steps=args.distill_steps, l0=np.mean(losses[:20]), l1=np.mean(losses[-20:]),
                                  finetune=args.finetune_steps, minutes=seconds / 60, torch=torch.__version__))
    print(table)
    print(f"wrote {path}")


REPORT = """# Nets and compression on 9x9 Go (CPU)

Command: `python benchmarks/nets_speed.py --threads {threads} --train {train} --test {test} \\
  --teacher-steps {teacher_steps} --distill-steps {distill_steps} --finetune-steps {finetune}`
(one run, {minutes:.0f} min, torch {torch}, 2-core VM shared with other jobs: timings are noisy, medians of 5 rounds).

{table}

- Positions: {train} training and {test} test positions from games of the capture heuristic (`envs.go.opponents`).
- Teacher: resnet b6c64 (batch norm), {teacher_steps} Adam steps imitating a deterministic capture/contact heuristic
  (it agrees with that heuristic on {heur:.1%} of test positions) and predicting game results.
- Agreement: the most likely legal move of each net against the fp32 teacher's, on the {test} test positions;
  value MAE against the teacher's value.
- int8: PT2E static int8 (torchao `prepare_pt2e` with the X86 Inductor quantizer, calibrated on 16 batches of 64
  real positions, `convert_pt2e`, `torch.compile` with Inductor freezing). Compilation happens on the first call at
  each batch size and is not timed.
- Pruned: global unstructured magnitude pruning in two prune -> fine-tune rounds ({finetune} distillation steps towards
  the teacher after each), then `prune.remove`. Measured sparsity of conv/linear weights: {s50:.1%} and {s80:.1%}.
  Zeros do not speed up dense kernels, so these run at fp32 speed.
- Student: mobilenet b6c48 (expand 4) distilled from the teacher for {distill_steps} steps of batch 128 (KL at T = 2
  plus value MSE; loss {l0:.3f} -> {l1:.3f}). Its fp32 speed per MAC is lower than the ResNet's: depthwise 3x3 convs
  are memory-bound on CPU.
- Playing strength (win rate of each compressed net against the fp32 net at equal search) is left out: the
  AlphaZero agent (`agents/zero`) landed while this benchmark was written and no arena run pits compressed nets
  against the fp32 net yet. That column is what users care about; add it next.
"""


if __name__ == "__main__":
    main()
