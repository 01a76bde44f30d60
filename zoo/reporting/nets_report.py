"""The nets report (``reports/nets.md``): the table of a nets benchmark run and the text around it.

A run is the ``rows.json`` that ``benchmarks/nets_speed.py --save DIR`` writes: ``args`` (its command-line
settings, flag names with ``_``), ``rows`` (``agents.compress.measure.measure_rows``' rows, the fp32 teacher
first), ``info`` (teacher, positions, mean top probabilities, symmetry agreement), ``sparsity`` (``"0.5"`` and
``"0.8"``), ``loss`` (the student's first and last), ``times`` (seconds: ``positions``, ``pruning``,
``distillation``, ``total``), ``torch`` (its version) and, after ``--remeasure``, ``remeasured`` (that command),
``student`` and ``student_sweep`` (a ``benchmarks/student_sweep.py`` record). ``benchmarks/nets_strength.py``
adds its strength column through :func:`write_report`.
"""

from __future__ import annotations

from pathlib import Path

from agents.compress.measure import CHANNELS_LAST
from agents.compress.quantize import needs_reduced_range
from agents.nets.stats import ROUNDS


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


def write_report(path: Path, run: dict, strength: dict | None = None) -> None:
    """Write the nets report to ``path`` (its folder made if missing) from a ``run`` (``rows.json``, see the module
    docstring) and, when given, the strength results of ``benchmarks/nets_strength.py``: ``{row name: {"score",
    "games", "lo", "hi"}, "_about": its paragraph}``. Prints the table and the targets."""
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
