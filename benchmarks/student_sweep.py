"""MobileNet students of one teacher side by side: which shape under a MAC budget follows it best, 9x9 Go, CPU.

    python benchmarks/student_sweep.py --save DIR --corpus CORPUS --students b6c48,b6c48-se,b12c32 [--steps 1600]
        [--threads 1] [--out reports/gnugo-teacher/students.md]

Reads what ``benchmarks/nets_speed.py --corpus CORPUS --save DIR`` kept (the teacher and its two test sets) and
its settings (``DIR/rows.json``: distillation positions, symmetric copies, held-out share, batch, learning rate,
seed), rebuilds the same distillation set from ``CORPUS``, and distils each student in turn from scratch with the
same recipe (:func:`agents.compress.distill`, warm-up then cosine decay over ``--steps``), so that the students
differ only in shape and temperature. Each result goes to ``DIR/students.json`` as soon as it is done, keyed
by student and steps (a rerun skips the students already there for the same ``teacher.pt`` and steps; several
processes may train different ``--students`` into one folder at once), and each student net to
``DIR/student-NAME-STEPS.pt``; then the report is written from all of them. A distillation in progress keeps its
state in ``DIR/student-NAME-STEPS-TEACHER.state.pt`` (every 200 steps, and on Ctrl-C): the same command resumes it.

A student is ``bBcC`` (B inverted-residual blocks of C channels) with optional suffixes: ``-eE`` (expansion E,
default 4), ``-kK`` (depthwise kernel K x K, default 3), ``-se`` (squeeze-excitation in every block, MobileNetV3),
``-pP`` (P channels in the policy head's 1x1 conv instead of AlphaGo Zero's 2: a wider last step from the trunk's
features to the move logits, for a few tenths of a million MACs), ``-tT`` (distillation temperature T, default 1),
``-hH`` (weight H of the hard-label term, cross-entropy against the teacher's top move; default 0), ``-aA`` (A
symmetric copies of each distillation position instead of the run's), ``-lrL`` (peak learning rate L instead of the
run's), ``-rR`` and ``-gG`` (R thousand positions of the teacher's own games, each move sampled from its raw policy
at temperature 1, and G thousand positions of its games with the search of the test games, added to the corpus
positions before the symmetric copies: distillation on the positions the student will meet). The added positions are
generated once per folder and kept in ``DIR/distill-raw-R.npz`` and ``DIR/distill-search-G.npz``, from seeds the
test sets do not use.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from agents.compress import agreement, distill
from agents.compress.distill import outputs_on
from agents.compress.measure import DistillProgress
from agents.compress.positions import (
    Positions,
    concat_positions,
    load_positions,
    sample_positions,
    save_positions,
)
from agents.nets import NetConfig, build_net, count_macs, count_params
from agents.nets.checkpoint import load_net, save_net
from zoo.errors import UserError
from zoo.pipelines.teacher import (
    corpus_positions,
    held_out_games,
    raw_policy_positions,
    search_positions,
    symmetric_copies,
)

ROOT = Path(__file__).resolve().parent.parent

NUMBER = r"\d+(?:\.\d+)?"
SPEC = re.compile(rf"b(\d+)c(\d+)((?:-e\d+|-se|-p\d+|-t{NUMBER}|-h{NUMBER}|-a\d+|-lr{NUMBER}|-r\d+|-g\d+|-k\d+)*)")
SPEC_FORM = ("bBcC[-eE][-kK][-se][-pP][-tT][-hH][-aA][-lrL][-rR][-gG], e.g. b6c48, b12c32-e6, b6c48-k5-se-t2, "
             "b6c48-t2-h1-lr0.006, b6c48-t2-r60")


@dataclass(frozen=True)
class Student:
    """One student of the sweep: its net config and distillation settings (``None``: the run's; ``raw`` and
    ``search``: thousands of the teacher's own raw-policy and search-game positions added to the corpus ones)."""

    name: str
    config: NetConfig
    temperature: float
    hard_weight: float = 0.0
    augment: int | None = None
    lr: float | None = None
    raw: int = 0
    search: int = 0


def parse_student(spec: str) -> Student:
    """The :class:`Student` a spec names (see the module docstring); ``ValueError`` with the valid form otherwise."""
    match = SPEC.fullmatch(spec)
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise ValueError(f"bad student {spec!r}; expected {SPEC_FORM}")
    expand, kernel, se, temperature, hard, augment, lr, raw, search = 4, 3, False, 1.0, 0.0, None, None, 0, 0
    policy_channels = NetConfig.policy_channels  # the net default (AlphaGo Zero: 2)
    for part in filter(None, match[3].split("-")):
        if part == "se":
            se = True
        elif part.startswith("lr"):
            lr = float(part[2:])
        elif part[0] == "e":
            expand = int(part[1:])
        elif part[0] == "k":
            kernel = int(part[1:])
        elif part[0] == "p":
            policy_channels = int(part[1:])
        elif part[0] == "h":
            hard = float(part[1:])
        elif part[0] == "a":
            augment = int(part[1:])
        elif part[0] == "r":
            raw = int(part[1:])
        elif part[0] == "g":
            search = int(part[1:])
        else:
            temperature = float(part[1:])
    if (expand < 1 or kernel % 2 == 0 or policy_channels < 1 or temperature <= 0 or lr == 0
            or (augment is not None and not 1 <= augment <= 8)):
        raise ValueError(f"bad student {spec!r}: expansion and policy channels must be >= 1, the kernel "
                         f"odd, temperature and learning rate > 0 and symmetric copies 1..8; expected {SPEC_FORM}")
    config = NetConfig(kind="mobilenet", blocks=int(match[1]), channels=int(match[2]), expand=expand, se=se,
                       kernel_size=kernel, policy_channels=policy_channels)
    return Student(spec, config, temperature, hard, augment, lr, raw, search)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--save", required=True, metavar="DIR", help="a nets_speed.py --corpus --save folder")
    p.add_argument("--corpus", required=True, metavar="DIR", help="the SGF folder that run learnt from")
    p.add_argument("--students", required=True, help=f"comma-separated students, each {SPEC_FORM}")
    p.add_argument("--steps", type=int, default=1600, help="distillation steps of each student")
    p.add_argument("--threads", type=int, default=1, help="torch threads (1: run a second process on the other core)")
    p.add_argument("--out", default=str(ROOT / "reports" / "gnugo-teacher" / "students.md"))
    args = p.parse_args()
    try:
        students = [parse_student(s) for s in args.students.split(",")]
    except ValueError as exc:
        p.error(str(exc))
    folder = Path(args.save)
    rows_file = folder / "rows.json"
    if not rows_file.exists() or not (folder / "teacher.pt").exists():
        p.error(f"{folder} has no rows.json and teacher.pt; run benchmarks/nets_speed.py --corpus ... --save {folder}")
    run = json.loads(rows_file.read_text())["args"]
    if run.get("distill_from") != "corpus":
        p.error(f"{folder} was distilled from {run.get('distill_from')!r} positions; the sweep rebuilds corpus ones")
    torch.set_num_threads(args.threads)
    results_file = folder / "students.json"
    teacher_id = hashlib.sha256((folder / "teacher.pt").read_bytes()).hexdigest()[:16]
    done = read_results(results_file, teacher_id)
    todo = [s for s in students if result_key(s.name, args.steps) not in done]
    if todo:
        try:
            cpos, _, _, cgame = corpus_positions(args.corpus)
        except UserError as exc:
            p.error(str(exc))
        held, _ = held_out_games(cgame, run["held_out"])
        dset = sample_positions(cpos.take(torch.nonzero(~held).squeeze(1)), run["distill"], run["seed"])
        teacher = load_net(folder / "teacher.pt").eval()
        test, raw_test = load_positions(folder / "test.npz"), load_positions(folder / "raw_test.npz")
        example = test.planes[:1]
        teacher_macs = count_macs(teacher, example)
    sets: dict[tuple[int, int, int], tuple[Positions, object]] = {}  # (copies, raw, search) -> set, teacher outputs
    for student in todo:
        copies = student.augment or run["augment"]
        key = copies, student.raw, student.search
        if key not in sets:
            own = [own_positions(folder, teacher, kind, thousands, run)
                   for kind, thousands in (("raw", student.raw), ("search", student.search)) if thousands]
            train = symmetric_copies(concat_positions([dset, *own]), copies, run["seed"])
            print(f"teacher outputs on {len(train)} distillation positions ...", flush=True)
            sets[key] = train, outputs_on(teacher, train)
        train, targets = sets[key]
        torch.manual_seed(run["seed"])
        net = build_net(student.config, 17, 9, 82)
        macs = count_macs(net, example)
        print(f"{student.name}: {macs / 1e6:.1f} M MACs (1/{teacher_macs / macs:.1f} of the teacher's)", flush=True)
        state = folder / f"student-{student.name}-{args.steps}-{teacher_id[:8]}.state.pt"
        progress = DistillProgress(teacher, net, test, args.steps)
        start = time.time()
        try:
            losses = distill(teacher, net, train, args.steps, run["distill_batch"], student.lr or run["distill_lr"],
                             temperature=student.temperature, hard_weight=student.hard_weight, seed=run["seed"],
                             warmup=min(100, args.steps // 10), targets=targets, callback=progress,
                             state_file=state, save_every=200)
        except KeyboardInterrupt:
            print(f"interrupted: {student.name} saved at step {progress.last} of {args.steps} in {state}; "
                  "run the same command to resume", file=sys.stderr)
            sys.exit(130)
        except ValueError as exc:  # an unreadable state file
            p.error(str(exc))
        seconds = time.time() - start
        save_net(net, folder / f"student-{student.name}-{args.steps}.pt")
        trained = args.steps - (progress.first if progress.first is not None else args.steps)
        a = agreement(teacher, net, test)
        done = read_results(results_file, teacher_id)  # another process may have written since
        done[result_key(student.name, args.steps)] = {
            "name": student.name, "params": count_params(net), "macs": macs, "teacher_macs": teacher_macs,
            "top1": a.top1, "top1_raw": agreement(teacher, net, raw_test).top1, "kl": a.kl,
            "value_mae": a.value_mae, "loss": sum(losses[-20:]) / len(losses[-20:]), "steps": args.steps,
            "steps_per_s": trained / seconds if trained else None, "threads": args.threads,
            "temperature": student.temperature, "hard_weight": student.hard_weight, "augment": copies,
            "raw": student.raw, "search": student.search, "positions": len(train),
            "lr": student.lr or run["distill_lr"], "teacher": teacher_id}
        results_file.write_text(json.dumps(done, indent=1) + "\n")
        print(f"{student.name}: top-1 {a.top1:.3f}, KL {a.kl:.4f}, value MAE {a.value_mae:.4f} ({seconds:.0f} s)",
              flush=True)
    write_report(Path(args.out), done, run, args)


def own_positions(folder: Path, teacher: torch.nn.Module, kind: str, thousands: int, run: dict) -> Positions:
    """``thousands`` x 1000 positions of games the teacher plays against itself, ``kind`` "raw" (each move sampled
    from its raw policy at temperature 1) or "search" (the search of the test games): generated from seeds the
    test sets do not use (the run's seed + 4 and + 5) and kept in ``folder/distill-KIND-THOUSANDS.npz``."""
    path = folder / f"distill-{kind}-{thousands}.npz"
    if path.exists():
        return load_positions(path)
    start = time.time()
    if kind == "raw":
        pos = raw_policy_positions(teacher, thousands * 1000, run["seed"] + 4)
    else:
        pos = search_positions(teacher, thousands * 1000, run["seed"] + 5, simulations=run["position_simulations"])
    save_positions(path, pos.planes.numpy(), pos.mask.numpy())
    print(f"{len(pos)} {kind} positions of the teacher's own games in {time.time() - start:.0f} s -> {path}",
          flush=True)
    return pos


def result_key(name: str, steps: int) -> str:
    """The key of a student's result in ``students.json``: its spec and steps, e.g. ``b6c48-t2/1600``."""
    return f"{name}/{steps}"


def read_results(path: Path, teacher_id: str) -> dict:
    """The students of ``path`` (``students.json``) distilled from the teacher whose ``teacher.pt`` hashes to
    ``teacher_id``; those of an earlier teacher in the folder are dropped."""
    results = json.loads(path.read_text()) if path.exists() else {}
    return {name: r for name, r in results.items() if r.get("teacher") == teacher_id}


def write_report(path: Path, results: dict, run: dict, args: argparse.Namespace) -> None:
    """The students table, best top-1 first, with the recipe they share and the commands."""
    lines = ["| student | params | MACs/position | MACs / teacher's | T | steps | top-1 agreement "
             "| top-1, raw-policy positions | policy KL | value MAE | steps/s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    runs: dict[tuple[int, int], list[str]] = {}
    for r in sorted(results.values(), key=lambda r: -r["top1"]):
        rate = "-" if r["steps_per_s"] is None else f"{r['steps_per_s']:.2f} ({r['threads']} thread" \
            f"{'s' if r['threads'] > 1 else ''})"
        lines.append(f"| mobilenet {r['name']} | {r['params']:,} | {r['macs'] / 1e6:.1f} M | "
                     f"1/{r['teacher_macs'] / r['macs']:.1f} | {r['temperature']:g} | {r['steps']} | {r['top1']:.1%} "
                     f"| {r['top1_raw']:.1%} | {r['kl']:.4f} | {r['value_mae']:.4f} | {rate} |")
        runs.setdefault((r["steps"], r["threads"]), []).append(r["name"])
    commands = "\n".join(f"    python benchmarks/student_sweep.py --save {args.save} --corpus {args.corpus} "
                         f"--students {','.join(names)} --steps {steps} --threads {threads}"
                         for (steps, threads), names in sorted(runs.items()))
    within = [r["top1"] for r in results.values() if r["teacher_macs"] / r["macs"] >= 3]
    best = max(within, default=float("nan"))
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text() if path.exists() else ""
    notes = old[old.index(NOTES):] if NOTES in old else ""  # the written reading of the table stays
    path.write_text(REPORT.format(table="\n".join(lines), run=run, best=best, commands=commands) + notes)
    print("\n".join(lines))
    print(f"wrote {path}")


NOTES = "\n## Reading the table"
"""Where the hand-written part of the report starts: a new report keeps the old one's text from there on."""

REPORT = """# MobileNet students of the GNU Go teacher (9x9, CPU)

Commands (students of one command may be split over several processes writing into one folder):

{commands}

{table}

- Teacher, test positions and agreement measures: those of [nets.md](nets.md) (resnet b6c64 trained on GNU Go's
  games; top-1 agreement on positions of its own search games).
- Recipe shared by every student, read from that run: {run[distill]} distillation positions from the corpus games
  the teacher learnt from, {run[augment]} symmetric copies of each, batch {run[distill_batch]}, Adam, peak lr
  {run[distill_lr]}, 100 warm-up steps then cosine decay to 0, KL on the policy at temperature T (times T^2) plus
  value MSE, seed {run[seed]}. Students differ only in shape (bBcC: B inverted-residual blocks of C channels, e:
  expansion, default 4; k: depthwise kernel size, default 3; se: squeeze-excitation; p: channels of the policy
  head's 1x1 conv, default 2), T and where named: h, the weight of a hard-label term (cross-entropy against the
  teacher's top move); a, symmetric copies; lr, peak learning rate; r and g, thousands of positions of the teacher's
  own games added to the corpus ones (r: every move sampled from its raw policy at temperature 1; g: the search of
  the test games), from seeds the test sets do not use.
- Best top-1 agreement within the MAC budget (>= 3x fewer MACs than the teacher): {best:.1%}, against a target of
  90% ([nets.md](nets.md)).
"""


if __name__ == "__main__":
    main()
