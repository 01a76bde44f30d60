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

The teacher and position sets come from ``zoo.pipelines.teacher``, the rows from ``agents.compress.measure`` (timing:
``agents.nets.stats.throughputs``), the report from ``zoo.reporting.nets_report``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from agents.compress import agreement, distill, make_permanent, prune_net, sparsity_report
from agents.compress.distill import outputs_on
from agents.compress.measure import DistillProgress, mean_top_probability, measure_rows
from agents.compress.positions import load_positions, sample_positions, save_positions
from agents.compress.prune import slice_pruned
from agents.compress.source import load_source
from agents.nets import PRESETS, NetConfig, build_net
from agents.nets.checkpoint import load_net, save_net
from zoo.errors import UserError
from zoo.pipelines.teacher import (
    TeacherRecipe,
    corpus_positions,
    corpus_teacher,
    held_out_games,
    play_positions,
    raw_policy_positions,
    search_positions,
    symmetric_copies,
    symmetry_self_agreement,
    train_teacher,
)
from zoo.reporting.nets_report import table_student, write_report

ROOT = Path(__file__).resolve().parent.parent


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


def teacher_recipe(args: argparse.Namespace) -> TeacherRecipe:
    """The settings a teacher trained on ``--corpus`` depends on (kept in ``DIR/teacher.json``)."""
    return TeacherRecipe(corpus=str(Path(args.corpus).resolve()), held_out=args.held_out, seed=args.seed,
                         teacher_steps=args.teacher_steps, teacher_batch=args.teacher_batch,
                         teacher_lr=args.teacher_lr, teacher_value_weight=args.teacher_value_weight)


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
            teacher = corpus_teacher(teacher_recipe(args), folder, ctrain, cmoves[~held], cresults[~held])
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
            dset = sample_positions(ctrain, args.distill, args.seed)
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


if __name__ == "__main__":
    main()
