"""Compressed nets against their fp32 teacher on 9x9 Go, CPU, one run; writes reports/nets.md.

    python benchmarks/nets_speed.py --teacher runs/long/go9-zero [--threads 1] [--distill 100000] [--test 2000]
        [--distill-steps 3000] [--augment 2] [--save DIR]
    python benchmarks/nets_speed.py --corpus runs/corpus/go9-gnugo [--teacher-steps 3000 --teacher-batch 128]
        [--save DIR]                                  # a teacher trained here on engine games (python -m zoo.corpus)
    python benchmarks/nets_speed.py [--train 16000 --teacher-steps 300 ...]     # no trained net: a heuristic teacher

1. Teacher: with ``--teacher`` a trained net (a train.py run directory or checkpoint, or a net checkpoint, read
   by ``agents.compress.source``; resnet b6c64 is the 9x9 default); else, with ``--corpus``, resnet b6c64 trained
   here on the moves and results of an engine's self-play games, as AlphaGo Zero's supervised baseline is (one
   random board symmetry per batch; the last ``--held-out`` share of the games is held out to measure how often
   it predicts the engine's move); else resnet b6c64 trained to imitate a deterministic capture/contact
   heuristic. Training: AdamW, one-cycle learning rate.
2. Positions: with ``--teacher`` or ``--corpus``, two held-out test sets every agreement is measured on: games
   the teacher plays against itself with the search of training self-play (the positions a net meets in
   self-play and play; the targets are judged on these), and games where each move is sampled from its raw
   policy (temperature 1; no search, so stranger positions, where its policy is flatter). Distillation,
   fine-tuning and calibration use the run's replay window (``--distill-from replay``: the newest self-play
   positions it trained on), the corpus games the teacher trained on (``--distill-from corpus``) or games of its
   raw policy (``--distill-from raw``). Without either, games of the capture heuristic (``envs.go.opponents``).
3. Compressed nets: int8 (PT2E + torch.compile), pruned 50% / 80% (global unstructured) and 50% of the blocks'
   hidden channels cut out (``structure=channels``, sliced), each with two prune -> repair rounds (batch-norm
   recalibration, distillation towards the unpruned net with batch norm frozen, recalibration again), and a
   mobilenet student distilled from the teacher (fp32 and int8), optionally on ``--augment`` symmetric copies of
   each position (the teacher's outputs recomputed on each copy).
4. For each: params, MACs/position, positions/second at batch 1 and 256, and top-1 move agreement / value error
   against the fp32 teacher on the test positions. ``--save DIR`` keeps the nets, positions and rows for
   ``benchmarks/nets_strength.py`` (playing strength against the fp32 net), which adds its column to the report,
   and for ``benchmarks/student_sweep.py`` (other student shapes distilled with the same recipe). A teacher
   trained on ``--corpus`` is kept there with its settings (``DIR/teacher.json``): a later run into the same
   folder with the same settings loads it instead of training it again.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import statistics
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from agents.compress import agreement, distill, make_permanent, prune_net, quantize_int8, sparsity_report
from agents.compress.distill import channels_last, outputs_on
from agents.compress.positions import Positions, load_positions, save_positions
from agents.compress.prune import slice_pruned
from agents.compress.quantize import needs_reduced_range
from agents.compress.source import load_source
from agents.nets import PRESETS, NetConfig, build_net, count_macs, count_params
from agents.nets.checkpoint import load_net, save_net
from agents.nets.stats import median_ratio, time_interleaved
from agents.zero.config import ZeroConfig
from agents.zero.evaluator import NetEvaluator
from agents.zero.selfplay import SelfPlay
from envs.go.batch import GoBatch
from envs.go.features import symmetry_planes, symmetry_policy
from envs.go.game import GoGame
from envs.go.opponents import capture_moves, capture_policy, fills_own_eye, saving_moves
from envs.go.state import BLACK, GoState
from zoo.errors import UserError
from zoo.pipelines.corpus import load_sgf_folder, replay_targets

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


def corpus_positions(folder: str | Path, size: int = 9) -> tuple[Positions, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every engine move of the usable games of an SGF folder (``python -m zoo.corpus``) after the random opening
    (root property ``ZR``): (positions with exact legal masks, the move played (N,), the game's result from the
    mover's view (N,) in {-1, 0, 1}, the index of its game (N,)). Raises ``UserError`` for a folder with no usable
    game (see ``zoo.corpus.load_sgf_folder``)."""
    records = load_sgf_folder(folder, size).records
    winners = [BLACK if r == "B" else -BLACK if r == "W" else 0
               for r in ((record.result or "0")[:1].upper() for record in records)]
    planes, masks, moves, results, owner = [], [], [], [], []
    for i, state, action in replay_targets(records, history=8):
        planes.append(state.features())
        masks.append(state.legal_mask())
        moves.append(action)
        results.append(float(winners[i] * state.to_play))
        owner.append(i)
    pos = Positions(torch.from_numpy(np.stack(planes)).float(), torch.from_numpy(np.stack(masks)))
    return pos, torch.tensor(moves), torch.tensor(results), torch.tensor(owner)


def held_out_games(game: torch.Tensor, share: float) -> tuple[torch.Tensor, int]:
    """(mask of the positions of the last ``share`` of the games, at least one game; how many games that is), for
    the game index of each position ``game (N,)`` that :func:`corpus_positions` gives."""
    games = int(game.max()) + 1
    held_games = max(1, round(share * games))
    return game >= games - held_games, held_games


def sample(pos: Positions, count: int, seed: int) -> Positions:
    """``count`` of ``pos`` drawn without replacement in a random order (all of them, shuffled, if fewer)."""
    order = torch.randperm(len(pos), generator=torch.Generator().manual_seed(seed))
    return pos.take(order[:count])


def turn_batch(planes: torch.Tensor, mask: torch.Tensor, moves: torch.Tensor, k: int
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A batch of positions (N, C, H, W), legal masks (N, A) and moves (N,) under board symmetry ``k`` (0..7,
    ``envs.go.features``): the move is carried to the point its stone lands on; pass stays pass."""
    if k == 0:
        return planes, mask, moves
    size = planes.shape[-1]
    one_hot = F.one_hot(moves, size * size + 1).numpy()
    return (torch.from_numpy(symmetry_planes(planes.numpy(), k)),
            torch.from_numpy(symmetry_policy(mask.numpy(), k, size)),
            torch.from_numpy(symmetry_policy(one_hot, k, size)).argmax(-1))


def train_teacher(pos: Positions, moves: torch.Tensor, results: torch.Tensor, steps: int, batch: int, lr: float,
                  seed: int, augment: bool = False, value_weight: float = 1.0) -> torch.nn.Module:
    """resnet b6c64 trained by cross-entropy on ``moves`` + ``value_weight`` x MSE on ``results`` (AdamW, weight
    decay 1e-4, one-cycle schedule: warm up over the first 10% of ``steps`` to ``lr``, then cosine decay),
    shuffled passes over ``pos``, each minibatch under one random board symmetry when ``augment``, in
    channels-last layout. Prints the step, mean loss, rate and ETA every twentieth of the run."""
    torch.manual_seed(seed)
    size = pos.planes.shape[-1]
    net = build_net(NetConfig(kind="resnet", preset="b6c64"), pos.planes.shape[1], size, size * size + 1).train()
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    order, cursor, start, losses = torch.randperm(len(pos), generator=g), 0, time.time(), []
    with channels_last(net) as layout:
        for step in range(1, steps + 1):
            if cursor + batch > len(pos):
                order, cursor = torch.randperm(len(pos), generator=g), 0
            idx = order[cursor:cursor + batch]
            cursor += batch
            planes, mask, target = pos.planes[idx], pos.mask[idx], moves[idx]
            if augment:
                planes, mask, target = turn_batch(planes, mask, target, int(rng.integers(8)))
            logits, value = net(layout(planes), mask)
            loss = F.cross_entropy(logits, target) + value_weight * F.mse_loss(value, results[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            if step % max(steps // 20, 1) == 0 or step == steps:
                rate = step / (time.time() - start)
                print(f"  teacher step {step}/{steps}: loss {np.mean(losses[-50:]):.3f}, {rate:.2f} steps/s, "
                      f"ETA {(steps - step) / rate / 60:.1f} min", flush=True)
    return net.eval()


@torch.no_grad()
def search_positions(teacher: torch.nn.Module, count: int, seed: int, games: int = 64, simulations: int = 32,
                     size: int = 9, komi: float = 7.5) -> Positions:
    """``count`` positions (planes and exact legal masks) drawn uniformly from whole games ``teacher`` plays
    against itself with the search of training self-play (``ZeroConfig`` defaults: ``simulations`` per move,
    Dirichlet noise at the root, the first 10 moves sampled by visit count, then the most visited; sensible moves
    only): the positions a net meets in self-play and play. ``games`` games at once; the first ``games`` games to
    finish (at least ``count`` positions in all) are kept. Different seeds give different games."""
    rng = np.random.default_rng(seed)
    game = GoGame(size, komi=komi)
    play = SelfPlay(ZeroConfig(games=games, simulations=simulations), game, NetEvaluator(teacher, "cpu"), rng)
    finished: list = []
    start = shown = time.time()
    while len(finished) < games or sum(len(g.actions) for g in finished) < count:
        finished.extend(play.step())
        if time.time() - shown > 60:  # a line a minute: this takes minutes per 64 games on a CPU
            shown, have = time.time(), sum(len(g.actions) for g in finished)
            rate = have / (shown - start)
            eta = f", ETA {(count - have) / rate / 60:.0f} min" if rate and have < count else ""
            print(f"  search games: {len(finished)} finished ({games} at a time), {have} of {count} positions, "
                  f"{rate * 60:.0f} positions/min{eta}", flush=True)
    planes, masks = [], []
    for g in finished:  # replay each game on the rules engine for its exact planes and legal masks
        state = game.new_state()
        for action in g.actions:
            planes.append(state.features())
            masks.append(state.legal_mask())
            state.play(action)
    pick = np.sort(rng.choice(len(planes), size=min(count, len(planes)), replace=False))
    return Positions(torch.from_numpy(np.stack(planes)[pick]), torch.from_numpy(np.stack(masks)[pick]))


@torch.no_grad()
def raw_policy_positions(teacher: torch.nn.Module, count: int, seed: int, games: int = 64, size: int = 9,
                         komi: float = 7.5, temperature: float = 1.0) -> Positions:
    """``count`` positions (planes and exact legal masks) from games ``teacher`` plays against itself, ``games``
    at once, each move sampled from its raw policy at ``temperature``; a game that ends restarts. Different seeds
    give different games."""
    rng = np.random.default_rng(seed)
    batch = GoBatch(games, size, komi=komi, history=8, max_moves=2 * size * size)
    planes, masks, n = [], [], 0
    while n < count:
        live = ~batch.done
        feats, legal = batch.features()[live], batch.legal_masks()[live]
        logits, _ = teacher(torch.from_numpy(feats), torch.from_numpy(legal))
        probs = torch.softmax(logits / temperature, -1).double().numpy()
        u = rng.random((len(probs), 1))
        picked = np.minimum((np.cumsum(probs, axis=1) < u * probs.sum(1, keepdims=True)).sum(1), size * size)
        picked = np.where(legal[np.arange(len(picked)), picked], picked, size * size)  # pass is always legal
        actions = np.full(games, size * size, np.int64)
        actions[live] = picked
        planes.append(feats)
        masks.append(legal)
        n += len(feats)
        batch.play(actions)
        if batch.done.any():
            batch.reset(np.flatnonzero(batch.done))
    return Positions(torch.from_numpy(np.concatenate(planes)[:count]), torch.from_numpy(np.concatenate(masks)[:count]))


def symmetric_copies(pos: Positions, copies: int, seed: int) -> Positions:
    """``pos`` followed by ``copies - 1`` copies under distinct random board symmetries (legal masks moved along)."""
    if copies <= 1:
        return pos
    size = pos.planes.shape[-1]
    ks = np.random.default_rng(seed).permutation(np.arange(1, 8))[:copies - 1]
    planes, masks = [pos.planes.numpy()], [pos.mask.numpy()]
    for k in ks:
        planes.append(symmetry_planes(planes[0], int(k)))
        masks.append(symmetry_policy(masks[0], int(k), size))
    return Positions(torch.from_numpy(np.concatenate(planes)), torch.from_numpy(np.concatenate(masks)))


ROUNDS = 9
"""Rounds of interleaved timing behind each speed figure (:func:`throughputs`)."""


def throughputs(nets: dict[str, torch.nn.Module], pos: Positions, batch: int, rounds: int = ROUNDS
                ) -> dict[str, tuple[float, float, tuple[float, float]]]:
    """``{name: (positions/second, times the first net's speed, (lowest, highest) per-round ratio)}`` of
    ``net(planes, mask)`` at ``batch``: the nets are timed in turn within each round (:func:`time_interleaved`),
    speed is the median over rounds and the ratio the median of the per-round ratios to the first net, so machine
    drift during the run stays out of it."""
    b = pos.take(slice(0, batch))
    with torch.inference_mode():
        seconds = time_interleaved({name: (lambda net=net: net(b.planes, b.mask)) for name, net in nets.items()},
                                   rounds=rounds, min_seconds=0.2)
    base = next(iter(seconds.values()))
    spread = {name: [b / x for b, x in zip(base, s, strict=True)] for name, s in seconds.items()}
    return {name: (batch / statistics.median(s), median_ratio(base, s), (min(spread[name]), max(spread[name])))
            for name, s in seconds.items()}


CHANNELS_LAST = "resnet b6c64 fp32 channels-last"
"""The row of the fp32 teacher run in channels-last layout (:class:`ChannelsLast`)."""


class ChannelsLast(torch.nn.Module):
    """A copy of ``net`` whose weights and inputs are in channels-last layout (same outputs): plain fp32 eager,
    with oneDNN's channels-last convolution kernels."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = copy.deepcopy(net).eval().to(memory_format=torch.channels_last)

    def forward(self, planes: torch.Tensor, mask: torch.Tensor | None = None) -> object:
        return self.net(planes.contiguous(memory_format=torch.channels_last), mask)


def mean_top_probability(net: torch.nn.Module, pos: Positions) -> float:
    """Mean over ``pos`` of the net's largest move probability (how peaked its policy is)."""
    with torch.no_grad():
        return float(torch.softmax(outputs_on(net, pos)[0], -1).max(-1).values.mean())


@torch.no_grad()
def symmetry_self_agreement(net: torch.nn.Module, pos: Positions) -> float:
    """How often ``net``'s most likely legal move stays the same move when the board is turned or mirrored: the
    mean over the 7 non-identity symmetries of the top-1 agreement between the net on the transformed positions
    and its own output on the originals, transformed alike. 1.0 for an exactly symmetric net; a low figure means
    its top move is mostly a near-tie decided by the orientation (the turned net is exactly as good a net)."""
    size = pos.planes.shape[-1]
    logits = outputs_on(net, pos)[0].numpy()
    same = []
    for k in range(1, 8):
        turned = Positions(torch.from_numpy(symmetry_planes(pos.planes.numpy(), k)),
                           torch.from_numpy(symmetry_policy(pos.mask.numpy(), k, size)))
        expected = symmetry_policy(logits, k, size).argmax(-1)
        same.append(float((outputs_on(net, turned)[0].numpy().argmax(-1) == expected).mean()))
    return float(np.mean(same))


def measure_rows(nets: dict[str, tuple[torch.nn.Module, torch.nn.Module]], teacher: torch.nn.Module,
                 student: torch.nn.Module, student_preset: str, test: Positions, raw_test: Positions,
                 calibration: Positions) -> list[dict]:
    """Add the int8 teacher and student (calibrated on the first 1024 ``calibration`` positions) to ``nets``
    (name -> (net, its fp32 base); the first is the fp32 teacher), and the teacher in channels-last layout second;
    then time them all in turn at batch 1 and 256 (:func:`throughputs`) and measure each one's agreement with
    ``teacher`` on ``test`` (search games) and its top-1 agreement on ``raw_test`` (raw-policy games)."""
    for name, fp32 in (("resnet b6c64", teacher), (f"mobilenet {student_preset} student", student)):
        q = quantize_int8(fp32, calibration, batches=16, batch_size=64)
        nets[f"{name} int8"] = (q, fp32)
    first = next(iter(nets))
    nets = {first: nets[first], CHANNELS_LAST: (ChannelsLast(teacher), teacher),
            **{k: v for k, v in nets.items() if k != first}}
    start = time.time()
    speed = {batch: throughputs({name: net for name, (net, _) in nets.items()}, test, batch) for batch in (1, 256)}
    print(f"timed {len(nets)} nets at batch 1 and 256, interleaved ({time.time() - start:.0f} s)", flush=True)
    rows = []
    for name, (net, base) in nets.items():
        (b1, _, _), (b256, x256, x256_range) = speed[1][name], speed[256][name]
        a = agreement(teacher, net, test)
        raw = agreement(teacher, net, raw_test).top1
        rows.append({"net": name, "params": count_params(base), "macs": count_macs(base, test.planes[:1]),
                     "b1": b1, "b256": b256, "x256": x256, "x256_range": x256_range, "top1": a.top1,
                     "top1_raw": raw, "kl": a.kl, "value_mae": a.value_mae})
        print(f"{name}: {b1:.0f} / {b256:.0f} pos/s ({x256:.2f}x fp32 at batch 256), top-1 {a.top1:.3f}, "
              f"raw-policy top-1 {raw:.3f}, KL {a.kl:.4f}, value MAE {a.value_mae:.4f}", flush=True)
    return rows


def remeasure(folder: Path, out: Path, threads: int, student_from: str | None = None) -> None:
    """``--remeasure DIR``: the nets and positions a ``--save DIR`` run kept, int8 rebuilt with today's defaults,
    every row timed and compared again in this process; the run's other records (teacher, training) are kept.

    ``student_from`` (``NAME/STEPS``, a key of ``DIR/students.json``): the student rows are that student of
    ``benchmarks/student_sweep.py`` instead of the run's own; its net is copied to ``DIR/student.pt`` (where
    ``nets_strength.py`` finds the student) and its record kept in ``rows.json``. ``UserError`` naming the
    students there when it is not one of them."""
    run = json.loads((folder / "rows.json").read_text())
    if student_from:
        sweep_file = folder / "students.json"
        swept = json.loads(sweep_file.read_text()) if sweep_file.exists() else {}
        if student_from not in swept:
            raise UserError(f"no student {student_from!r} in {sweep_file}; valid: {', '.join(swept) or 'none'} "
                            "(benchmarks/student_sweep.py writes them)")
        record = swept[student_from]
        shutil.copyfile(folder / f"student-{record['name']}-{record['steps']}.pt", folder / "student.pt")
        run["student"], run["student_sweep"] = record["name"], record
    student_preset = table_student(run)
    nets = {"resnet b6c64 fp32 (teacher)": None, "resnet b6c64 pruned 50%": "pruned50",
            "resnet b6c64 pruned 80%": "pruned80", "resnet b6c64 50% channels cut": "channels50",
            f"mobilenet {student_preset} student fp32": "student"}
    teacher = load_net(folder / "teacher.pt").eval()
    loaded = {name: (teacher, teacher) if key is None else (load_net(folder / f"{key}.pt").eval(),) * 2
              for name, key in nets.items()}
    torch.set_num_threads(threads)
    run["rows"] = measure_rows(loaded, teacher, loaded[f"mobilenet {student_preset} student fp32"][0],
                               student_preset, load_positions(folder / "test.npz"),
                               load_positions(folder / "raw_test.npz"), load_positions(folder / "calibration.npz"))
    run["args"]["threads"] = threads
    run["remeasured"] = f"python benchmarks/nets_speed.py --remeasure {folder} --threads {threads}" + (
        f" --student-from {student_from}" if student_from else "")
    (folder / "rows.json").write_text(json.dumps(run, indent=1) + "\n")
    write_report(out, run)


def table_student(run: dict) -> str:
    """The name of the student in a run's table (``rows.json``): the swept one ``--student-from`` put there, else
    the run's own ``--student`` preset."""
    return run.get("student") or run["args"]["student"]


def own_games(sweep: dict) -> str:
    """What a swept student learnt from besides the corpus positions (its ``-rR`` and ``-gG`` positions)."""
    parts = [f"{sweep[key]},000 positions of the teacher's own {kind}" for key, kind in
             (("raw", "raw-policy games"), ("search", "search games (other seeds than the test games')"))
             if sweep.get(key)]
    return " and " + " and ".join(parts) if parts else ""


def teacher_recipe(args: argparse.Namespace) -> dict:
    """The settings a teacher trained on ``--corpus`` depends on (kept in ``DIR/teacher.json``)."""
    return {"corpus": str(Path(args.corpus).resolve()), "held_out": args.held_out, "seed": args.seed,
            "teacher_steps": args.teacher_steps, "teacher_batch": args.teacher_batch, "teacher_lr": args.teacher_lr,
            "teacher_value_weight": args.teacher_value_weight}


def corpus_teacher(args: argparse.Namespace, folder: Path | None, positions: Positions, moves: torch.Tensor,
                   results: torch.Tensor) -> torch.nn.Module:
    """The resnet b6c64 teacher of ``--corpus`` (:func:`train_teacher` on the training games' ``positions``, the
    engine's ``moves`` and the ``results``), saved as ``folder/teacher.pt`` with its settings in
    ``folder/teacher.json``. A folder that already holds a teacher of the same settings gives that one back
    instead of training again, so a run stopped after the teacher (Ctrl-C, a crash) loses none of its minutes."""
    recipe = teacher_recipe(args)
    if folder and (folder / "teacher.pt").exists() and (folder / "teacher.json").exists() and \
            json.loads((folder / "teacher.json").read_text()) == recipe:
        print(f"teacher: {folder / 'teacher.pt'}, trained earlier with these settings", flush=True)
        return load_net(folder / "teacher.pt").eval()
    teacher = train_teacher(positions, moves, results, args.teacher_steps, args.teacher_batch, args.teacher_lr,
                            args.seed, augment=True, value_weight=args.teacher_value_weight)
    if folder:
        save_net(teacher, folder / "teacher.pt")
        (folder / "teacher.json").write_text(json.dumps(recipe, indent=1) + "\n")
    return teacher


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--teacher", default=None, help="trained zero run directory or net checkpoint (else: trained "
                   "here on --corpus, or on a capture heuristic)")
    p.add_argument("--corpus", default=None, metavar="DIR", help="SGF games of an engine (python -m zoo.corpus): "
                   "the teacher learns their moves and results unless --teacher is given; distillation positions")
    p.add_argument("--threads", type=int, default=1, help="threads of the timed runs")
    p.add_argument("--train-threads", type=int, default=2, help="threads of position generation and pruning")
    p.add_argument("--distill-threads", type=int, default=None, help="threads of the student's distillation "
                   "(default: --train-threads; 1 leaves a core to nets_strength.py on the nets already saved)")
    p.add_argument("--train", type=int, default=16000, help="heuristic teacher: positions it trains on")
    p.add_argument("--distill", type=int, default=100000,
                   help="positions for distillation, fine-tuning and calibration (at most the replay window's)")
    p.add_argument("--distill-from", choices=("replay", "raw", "corpus"), default=None,
                   help="its run's replay window (default with --teacher), games of the teacher's raw policy, or "
                   "the --corpus games the teacher did not hold out (default with --corpus)")
    p.add_argument("--test", type=int, default=2000, help="positions of each test set")
    p.add_argument("--position-simulations", type=int, default=32, help="search of the test games")
    p.add_argument("--teacher-steps", type=int, default=300)
    p.add_argument("--teacher-batch", type=int, default=64)
    p.add_argument("--teacher-lr", type=float, default=3e-3)
    p.add_argument("--teacher-value-weight", type=float, default=1.0, help="weight of the value MSE in its loss")
    p.add_argument("--held-out", type=float, default=0.05, help="--corpus: share of its games held out of training")
    p.add_argument("--distill-steps", type=int, default=800)
    p.add_argument("--distill-batch", type=int, default=128)
    p.add_argument("--distill-lr", type=float, default=3e-3)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--augment", type=int, default=1, help="distil on this many symmetric copies of each position")
    p.add_argument("--student", default="b6c48", help="mobilenet preset of the student")
    p.add_argument("--finetune-steps", type=int, default=40, help="distillation steps after each pruning round")
    p.add_argument("--recalibrate", type=int, default=4096, help="positions the batch-norm recalibration runs on")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", default=None, help="folder for the nets, positions and rows (for nets_strength.py)")
    p.add_argument("--out", default=str(ROOT / "reports" / "nets.md"))
    p.add_argument("--remeasure", default=None, metavar="DIR", help="re-time and re-compare the nets a --save DIR "
                   "run kept (int8 rebuilt with the current defaults), without training anything")
    p.add_argument("--student-from", default=None, metavar="NAME/STEPS", help="--remeasure: the student rows are "
                   "this student of DIR/students.json (benchmarks/student_sweep.py), e.g. b6c48-t2/16000")
    args = p.parse_args()
    if args.remeasure:
        try:
            remeasure(Path(args.remeasure), Path(args.out), args.threads, args.student_from)
        except UserError as exc:
            p.error(str(exc))
        return
    if args.student not in PRESETS["mobilenet"]:
        p.error(f"unknown --student {args.student!r}; valid mobilenet presets: {', '.join(PRESETS['mobilenet'])} "
                "(other shapes: benchmarks/student_sweep.py, then --remeasure DIR --student-from NAME/STEPS)")
    torch.set_num_threads(args.train_threads)  # timings below use --threads
    t0 = time.time()
    info: dict = {}
    args.distill_from = args.distill_from or ("corpus" if args.corpus else "replay")
    if args.distill_from == "corpus" and not args.corpus:
        p.error("--distill-from corpus needs --corpus DIR")
    if args.distill_from == "replay" and args.corpus and not args.teacher:
        p.error("--distill-from replay needs a --teacher run (a teacher trained on --corpus has no replay window)")
    folder = Path(args.save) if args.save else None
    if folder:
        folder.mkdir(parents=True, exist_ok=True)
    if args.teacher or args.corpus:
        source = None
        if args.corpus:
            try:
                cpos, cmoves, cresults, cgame = corpus_positions(args.corpus)
            except UserError as exc:
                p.error(str(exc))
            games = int(cgame.max()) + 1
            held, held_games = held_out_games(cgame, args.held_out)
            ctrain = cpos.take(torch.nonzero(~held).squeeze(1))
            corpus_about = f"{len(ctrain)} positions of {games - held_games} games"
        if args.teacher:
            source = load_source(args.teacher)
            teacher = source.net.eval()
            info["teacher"] = f"{source.description} ({source.path})"
        else:
            print(f"teacher: resnet b6c64 on {corpus_about} of {args.corpus}", flush=True)
            teacher = corpus_teacher(args, folder, ctrain, cmoves[~held], cresults[~held])
            info["teacher"] = (f"resnet b6c64 trained here for {args.teacher_steps} AdamW steps of batch "
                               f"{args.teacher_batch} (one random board symmetry per batch) on the moves and "
                               f"results of {corpus_about} of `{args.corpus}`")
        if args.corpus:
            hpos, hmoves = cpos.take(torch.nonzero(held).squeeze(1)), cmoves[held]
            engine_top1 = float((outputs_on(teacher, hpos)[0].argmax(-1) == hmoves).float().mean())
            info["engine_top1"] = engine_top1
            info["teacher"] += (f"; it predicts the engine's move on {engine_top1:.1%} of the {len(hpos)} positions "
                                f"of {held_games} held-out game{'s' if held_games > 1 else ''}")
        test = search_positions(teacher, args.test, args.seed + 1, simulations=args.position_simulations)
        raw_test = raw_policy_positions(teacher, args.test, args.seed + 3)
        if args.distill_from == "replay":
            if source.positions is None:
                p.error(f"{source.path} has no replay window; use --distill-from raw (or corpus, with --corpus)")
            newest = source.positions.take(slice(-args.distill, None))
            # shuffled, so that the calibration and recalibration slices (its first positions) span the window
            dset = newest.take(torch.randperm(len(newest), generator=torch.Generator().manual_seed(args.seed)))
            origin = (f"the newest {len(dset)} of the {len(source.positions)} positions of the teacher run's replay "
                      "window (self-play with search; legal masks rebuilt from the stones)")
        elif args.distill_from == "corpus":
            dset = sample(ctrain, args.distill, args.seed)
            origin = (f"{len(dset)} positions drawn from the {corpus_about} the teacher learnt from (engine "
                      "self-play)")
        else:
            dset = raw_policy_positions(teacher, args.distill, args.seed + 2)
            origin = f"{len(dset)} positions of separate raw-policy games"
        info["positions"] = (f"test: {len(test)} positions drawn from the first 64 whole games to finish of the "
                             "teacher playing itself with the search of training self-play "
                             f"({args.position_simulations} simulations per move, root noise, the first 10 moves "
                             "sampled by visit count, 64 games at a time), and "
                             f"{len(raw_test)} positions of games where every move was sampled from its raw policy "
                             f"at temperature 1 (64 games at a time); distillation, pruning repair and int8 "
                             f"calibration: {origin}")
        info["peak_raw"] = mean_top_probability(teacher, raw_test)
    else:
        train, moves, results = play_positions(args.train, 9, args.seed)
        test, test_moves, _ = play_positions(args.test, 9, args.seed + 1)
        raw_test = test
        dset, _, _ = play_positions(args.distill, 9, args.seed + 2)
        teacher = train_teacher(train, moves, results, args.teacher_steps, args.teacher_batch, args.teacher_lr,
                                args.seed)
        with torch.no_grad():
            heur = float((outputs_on(teacher, test)[0].argmax(-1) == test_moves).float().mean())
        info["teacher"] = (f"resnet b6c64 trained here for {args.teacher_steps} AdamW steps of batch "
                           f"{args.teacher_batch} to imitate a capture/contact heuristic ({heur:.1%} agreement "
                           "with it)")
        info["positions"] = (f"games of the capture heuristic: {len(train)} teacher, {len(dset)} distillation and "
                             f"{len(test)} test positions from separate games")
    info["peak"] = mean_top_probability(teacher, test)
    info["self_top1"] = symmetry_self_agreement(teacher, test)
    info["self_top1_raw"] = symmetry_self_agreement(teacher, raw_test)
    times = {"positions": time.time() - t0}
    print(f"teacher: {info['teacher']}; mean top probability {info['peak']:.3f}; {info['positions']} "
          f"({times['positions']:.0f} s)", flush=True)
    targets = outputs_on(teacher, dset)  # shared by every fine-tuning

    def finetune(m: torch.nn.Module) -> None:
        distill(teacher, m, dset, args.finetune_steps, 64, 3e-4, temperature=1.0, seed=args.seed,
                freeze_norm=True, targets=targets)

    nets: dict[str, tuple[torch.nn.Module, torch.nn.Module]] = {"resnet b6c64 fp32 (teacher)": (teacher, teacher)}
    saved: dict[str, torch.nn.Module] = {"teacher": teacher}
    sparsity = {}
    recal = dset.take(slice(0, args.recalibrate))
    for amount in (0.5, 0.8):
        pruned = make_permanent(prune_net(teacher, amount, rounds=2, finetune=finetune, calibration=recal))
        sparsity[amount] = sparsity_report(pruned)["total"]
        nets[f"resnet b6c64 pruned {int(amount * 100)}%"] = (pruned, pruned)
        saved[f"pruned{int(amount * 100)}"] = pruned
    # No batch-norm recalibration here: where global ranking cuts a block down to a few channels, recalibrating
    # the next norm blows the remaining, nearly constant signal back up to the old scale (measured: 0.2% instead
    # of 97.6% top-1 board-move agreement before fine-tuning); the stale statistics keep such a branch small.
    sliced = slice_pruned(prune_net(teacher, 0.5, "channels", rounds=2, finetune=finetune))
    nets["resnet b6c64 50% channels cut"] = (sliced, sliced)
    saved["channels50"] = sliced
    times["pruning"] = time.time() - t0 - sum(times.values())
    if folder:
        save_positions(folder / "calibration.npz", dset.planes[:2048].numpy(), dset.mask[:2048].numpy())
        save_positions(folder / "test.npz", test.planes.numpy(), test.mask.numpy())
        save_positions(folder / "raw_test.npz", raw_test.planes.numpy(), raw_test.mask.numpy())
        for key, net in saved.items():
            save_net(net, folder / f"{key}.pt")
    torch.manual_seed(args.seed)
    student = build_net(NetConfig(kind="mobilenet", preset=args.student), 17, 9, 82)
    dtrain = symmetric_copies(dset, args.augment, args.seed)
    dtargets = targets if args.augment <= 1 else outputs_on(teacher, dtrain)
    torch.set_num_threads(args.distill_threads or args.train_threads)
    print(f"distilling on {len(dtrain)} positions ({time.time() - t0:.0f} s)", flush=True)
    losses = distill(teacher, student, dtrain, args.distill_steps, args.distill_batch, args.distill_lr,
                     temperature=args.temperature, seed=args.seed, warmup=min(100, args.distill_steps // 10),
                     targets=dtargets, callback=DistillProgress(teacher, student, test, args.distill_steps))
    times["distillation"] = time.time() - t0 - sum(times.values())
    a = agreement(teacher, student, test)
    print(f"distill: loss {np.mean(losses[:20]):.3f} -> {np.mean(losses[-20:]):.3f}, top-1 {a.top1:.3f} "
          f"({times['distillation']:.0f} s)", flush=True)
    nets[f"mobilenet {args.student} student fp32"] = (student, student)
    if folder:
        save_net(student, folder / "student.pt")
    torch.set_num_threads(args.threads)
    rows = measure_rows(nets, teacher, student, args.student, test, raw_test, dset)
    times["total"] = time.time() - t0
    run = {"args": vars(args), "rows": rows, "info": info, "sparsity": {str(k): v for k, v in sparsity.items()},
           "loss": [float(np.mean(losses[:20])), float(np.mean(losses[-20:]))], "times": times,
           "torch": torch.__version__}
    if folder:
        (folder / "rows.json").write_text(json.dumps(run, indent=1) + "\n")
    write_report(Path(args.out), run)


class DistillProgress:
    """``distill`` callback: a line every twentieth of the run with the step, mean loss, rate, ETA and the
    student's top-1 agreement with the teacher on held-out positions."""

    def __init__(self, teacher: torch.nn.Module, student: torch.nn.Module, held_out: Positions, steps: int) -> None:
        self.teacher, self.student, self.held_out, self.steps = teacher, student, held_out, steps
        self.every, self.start, self.losses = max(steps // 20, 1), time.time(), []
        self.first: int | None = None  # the step before the first one seen (> 0 in a resumed run)
        self.last = 0

    def __call__(self, step: int, loss: float) -> None:
        self.losses.append(loss)
        if self.first is None:
            self.first = step - 1
        self.last = step
        if step % self.every and step != self.steps:
            return
        rate = (step - self.first) / (time.time() - self.start)
        top1 = agreement(self.teacher, self.student, self.held_out).top1
        print(f"  distill step {step}/{self.steps}: loss {np.mean(self.losses[-self.every:]):.4f}, {rate:.2f} steps/s, "
              f"ETA {(self.steps - step) / rate / 60:.1f} min, held-out top-1 {top1:.3f}", flush=True)


def elo(score: float) -> float:
    """Elo difference of a win rate (logistic model), clipped to +-800."""
    score = min(max(score, 1e-3), 1 - 1e-3)
    return float(np.clip(400 * np.log10(score / (1 - score)), -800, 800))


def write_report(path: Path, run: dict, strength: dict | None = None) -> None:
    """Write the nets report from a run (``rows.json``) and, when given, the strength results of nets_strength.py."""
    args, rows, info, times = run["args"], run["rows"], run["info"], run["times"]
    base_b256, teacher_macs = rows[0]["b256"], rows[0]["macs"]
    strength = strength or {}
    lines = [
        "| net | params | MACs/position | pos/s batch 1 | pos/s batch 256 | x fp32 (batch 256) | MACs / teacher's"
        " | top-1 agreement | top-1, raw-policy positions | policy KL | value MAE | win rate vs fp32 (95% CI) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    by_name = {}
    for r in rows:
        ratio = r.get("x256", r["b256"] / base_b256)  # runs before interleaved timing have no x256
        by_name[r["net"]] = (ratio, teacher_macs / r["macs"], r["top1"])
        s = strength.get(r["net"])
        win = "(the reference)" if r is rows[0] else "(the reference, other layout)" if r["net"] == CHANNELS_LAST \
            else "not measured" if s is None else \
            f"{s['score'] / s['games']:.1%} ({s['lo']:.0%}-{s['hi']:.0%}, {s['games']} games)"
        lines.append(f"| {r['net']} | {r['params']:,} | {r['macs'] / 1e6:.1f} M | {r['b1']:,.0f} | {r['b256']:,.0f} |"
                     f" {ratio:.2f}x | 1/{teacher_macs / r['macs']:.1f} | {r['top1']:.1%} |"
                     f" {r.get('top1_raw', float('nan')):.1%} | {r.get('kl', float('nan')):.4f} |"
                     f" {r['value_mae']:.4f} | {win} |")
    student = f"mobilenet {table_student(run)} student fp32"
    speed, _, int8_top1 = by_name["resnet b6c64 int8"]
    int8_range = next(r for r in rows if r["net"] == "resnet b6c64 int8").get("x256_range")
    spread = f" (median of {ROUNDS} rounds, {int8_range[0]:.2f}x-{int8_range[1]:.2f}x round by round)" \
        if int8_range else ""
    _, fewer, student_top1 = by_name[student]
    targets = [
        f"- int8 >= 3x fp32 eager throughput at batch 256 with >= 97% top-1 agreement: {speed:.2f}x{spread}, "
        f"{int8_top1:.1%}: **{'met' if speed >= 3 and int8_top1 >= 0.97 else 'not met'}**.",
        f"- MobileNet student >= 3x fewer MACs with >= 90% top-1 agreement: {fewer:.1f}x fewer, {student_top1:.1%}: "
        f"**{'met' if fewer >= 3 and student_top1 >= 0.9 else 'not met'}**."]
    flags = ["teacher", "threads", "train-threads", "distill-threads", "distill", "distill-from", "test",
             "position-simulations", "distill-steps", "distill-batch", "distill-lr", "temperature", "augment",
             "student", "finetune-steps", "recalibrate"]
    if args.get("corpus"):
        trained = [] if args.get("teacher") else ["teacher-steps", "teacher-batch", "teacher-lr",
                                                  "teacher-value-weight", "held-out"]
        flags = ["corpus"] + trained + flags
    elif not args.get("teacher"):
        flags = ["train", "teacher-steps", "teacher-batch"] + [f for f in flags[1:] if f not in
                                                                 ("distill-from", "position-simulations")]
    command = "python benchmarks/nets_speed.py " + " ".join(
        f"--{f} {args[f.replace('-', '_')]}" for f in flags if args.get(f.replace("-", "_")) is not None)
    if run.get("remeasured"):
        command += f"`, then (int8 rebuilt with the current defaults, every row re-timed) `{run['remeasured']}"
    row = {r["net"]: r for r in rows}
    layout = "Not timed in this run." if CHANNELS_LAST not in by_name else (
        f"int8 runs {speed / by_name['resnet b6c64 fp32 channels-last'][0]:.2f}x its speed. Multiply-adds per "
        "second at batch 256 (MACs x pos/s): " + ", ".join(
            f"{label} {row[name]['macs'] * row[name]['b256'] / 1e9:.0f} G" for label, name in (
                ("fp32 eager", rows[0]["net"]), ("channels-last", CHANNELS_LAST),
                ("int8", "resnet b6c64 int8"))) + " per second.")
    strength_text = strength.get("_about", "Playing strength is not measured yet (`benchmarks/nets_strength.py`).")
    sweep = run.get("student_sweep")
    distill_time = f"distillation {times['distillation'] / 60:.1f} min"
    if sweep and sweep.get("steps_per_s"):
        distill_time = (f"its own student's distillation {times['distillation'] / 60:.1f} min; the table's student "
                        f"was distilled by the sweep in {sweep['steps'] / sweep['steps_per_s'] / 60:.0f} min")
    if sweep:
        rate = f", {sweep['steps_per_s']:.2f} steps/s on {sweep['threads']} threads" if sweep.get("steps_per_s") else ""
        student_recipe = (
            f"mobilenet {sweep['name']}, the best student of `benchmarks/student_sweep.py` ([students.md]"
            f"(students.md)), distilled from the teacher's outputs for {sweep['steps']} steps of batch "
            f"{args['distill_batch']} on the distillation positions{own_games(sweep)} ({sweep['augment']} symmetric "
            "copies of each, the "
            f"teacher's outputs recomputed on each copy), Adam, peak lr {sweep['lr']:g}, warm-up then cosine decay; "
            f"KL at T = {sweep['temperature']:g} plus value MSE, trained in channels-last layout{rate}. The run's own "
            f"student ({args['distill_steps']} steps) is not in the table.")
    else:
        student_recipe = (
            f"mobilenet {args['student']} (expand 4) distilled from the teacher's outputs for {args['distill_steps']} "
            f"steps of batch {args['distill_batch']} on the distillation positions ({args['augment']} symmetric "
            f"copies of each, the teacher's outputs recomputed on each copy), Adam, peak lr {args['distill_lr']}, "
            f"warm-up then cosine decay; KL at T = {args['temperature']} plus value MSE, trained in channels-last "
            f"layout (1.6x faster steps on this CPU); loss {run['loss'][0]:.3f} -> {run['loss'][1]:.3f}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(REPORT.format(
        table="\n".join(lines), targets="\n".join(targets), command=command, args=args, info=info,
        s50=run["sparsity"]["0.5"], s80=run["sparsity"]["0.8"], student_recipe=student_recipe,
        peak_raw=f"{info['peak_raw']:.2f}" if "peak_raw" in info else "not measured",
        int8_bits=7 if needs_reduced_range() else 8,
        int8_why="no VNNI or AMX: 8-bit activations would saturate, `needs_reduced_range`" if needs_reduced_range()
        else "VNNI or AMX int8 instructions",
        self_top1=f"{info['self_top1']:.1%}" if "self_top1" in info else "(not measured)",
        self_top1_raw=f"{info['self_top1_raw']:.1%}" if "self_top1_raw" in info else "(not measured)",
        minutes=times["total"] / 60, layout=layout, torch=run["torch"], t_pos=times["positions"] / 60,
        t_prune=times["pruning"] / 60, distill_time=distill_time, strength=strength_text))
    print("\n".join(lines))
    print("\n".join(targets))
    print(f"wrote {path}")


REPORT = """# Nets and compression on 9x9 Go (CPU)

Command: `{command}`
(one run, {minutes:.0f} min: teacher and positions {t_pos:.1f} min, pruning {t_prune:.1f} min, {distill_time};
torch {torch}, {args[threads]} thread, on a 2-core VM shared with other jobs. Its speed drifts up
to 2x within minutes, so every net is timed in turn in each of 9 rounds: pos/s is the median over rounds, x fp32
the median of the per-round ratios to the fp32 teacher).

{table}

Targets (issue 5):

{targets}

- Teacher: {info[teacher]}. Its mean top move probability is {info[peak]:.2f} on the search-game test positions
  and {peak_raw} on the raw-policy ones. Turned or mirrored, the teacher keeps its own top move on {self_top1} of
  the search-game positions and {self_top1_raw} of the raw-policy ones (mean over the 7 other board symmetries,
  `symmetry_self_agreement`). The turned teacher is a net exactly as good as the teacher: this is how far its
  top move is a property of the position rather than of how near-ties fall in one orientation.
- Positions: {info[positions]}.
- Agreement: the most likely legal move of each net against the fp32 teacher's on the search-game test positions
  (the targets are judged on these: they are the positions self-play and play put to a net), and on the
  raw-policy positions (stranger positions, where the teacher's policy is flatter and near-ties are common);
  policy KL(teacher || net) at temperature 1 and value MAE against the teacher's value, on the search-game
  positions.
- int8: PT2E static int8 (torchao `prepare_pt2e` with the X86 Inductor quantizer, calibrated on 16 batches of 64
  positions, `convert_pt2e`, `torch.compile` with Inductor freezing), the policy head left in fp32
  (`keep_fp32=policy`, the default), activations in {int8_bits} bits on this CPU ({int8_why}). Compilation
  happens on the first call at each batch size and is not timed.
- fp32 channels-last: the fp32 teacher with its weights and inputs in channels-last layout (`ChannelsLast`), plain
  eager PyTorch: the layout oneDNN's convolutions run fastest in on CPU. {layout}
- Pruned 50% / 80%: global unstructured magnitude pruning in two rounds; after each pruning step the batch-norm
  running statistics are recalibrated on {args[recalibrate]} distillation positions relative to the unpruned net
  (`recalibrate_norm`), then {args[finetune_steps]} steps of batch 64 distil the unpruned net's outputs into the
  pruned one (Adam, lr 3e-4 cosine, batch norm frozen), then the statistics are recalibrated again; finally
  `prune.remove`. Sparsity of conv/linear weights: {s50:.1%} and {s80:.1%}. Zeros do not speed up dense kernels:
  these run at fp32 speed.
- 50% channels cut: two rounds with `structure=channels`: half of the channels between the two convs of each
  residual block (ranked globally by the RMS of the batch-norm-folded filter) are masked to exact zeros, then cut
  out of the conv, its batch norm and the next conv's inputs (`slice_pruned`): a smaller dense net, so it is
  faster and needs no sparse kernels. Same fine-tuning, but no batch-norm recalibration: where the global
  ranking leaves a block only a few channels, recalibrating the next norm scales that nearly constant branch
  back up to its old size and wrecks the net (0.2% instead of 97.6% board-move agreement, measured before
  fine-tuning on an earlier 9x9 teacher).
- Student: {student_recipe} Its fp32 speed per MAC is lower than the ResNet's: depthwise convolutions are
  memory-bound on CPU.

{strength}
"""


if __name__ == "__main__":
    main()
