#!/usr/bin/env bash
# The GPU check: everything the CUDA path promises, on one machine with a GPU, in about eight minutes.
#
#   bash benchmarks/gpu_check.sh [OUT_DIR]          # OUT_DIR defaults to runs/gpu-check
#
# 1. the CUDA tests (pytest -m gpu);
# 2. self-play throughput of agent=zero_gpu's net (resnet b10c128) at B = 128, 512 (its setting) and 2048 games,
#    32 and 128 (its setting) simulations, on the GPU; and at B = 512, 32 simulations on the CPU of the same machine
#    (benchmarks/zero_selfplay.py; 128 simulations at B = 512 would take minutes a move there);
# 3. TRAIN_SECONDS (default 270) of the GPU main job, `python train.py env=go9 agent=zero_gpu logger=csv`, stopped
#    with SIGINT as Ctrl-C would (it writes a checkpoint), then that checkpoint loaded on the CPU and asked for a move.
# Logs and the run's metrics land in OUT_DIR; the figures go to reports/scale.md ("On one GPU").
#
# A machine with torch (CUDA) and numba but without gymnasium, pettingzoo, hydra-core and omegaconf takes them from
# wheels in .whl/ (ignored by git), downloaded beforehand on a machine with an index:
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux2014_x86_64 -d .whl gymnasium pettingzoo hydra-core "omegaconf<2.4" farama-notifications
#   python3 -m pip wheel --no-deps -w .whl antlr4-python3-runtime==4.9.3
set -uo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${1:-runs/gpu-check}
TRAIN_SECONDS=${TRAIN_SECONDS:-270}
mkdir -p "$OUT_DIR"
export PYTHONUNBUFFERED=1 WANDB_MODE=disabled NO_COLOR=1
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}  # the scripts in benchmarks/ import the suite from the checkout

if ! python3 -c "import gymnasium, pettingzoo, hydra, omegaconf" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/zoo-site \
      .whl/*.whl || { echo "gpu_check: gymnasium/pettingzoo/hydra-core/omegaconf missing and no usable .whl/"; exit 2; }
  export PYTHONPATH=/tmp/zoo-site${PYTHONPATH:+:$PYTHONPATH}
fi

status=0
step() { echo; echo "== $1 ($(date +%T))"; }

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, numba; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'numba', numba.__version__,
      'gpu', torch.cuda.get_device_name(0), 'bf16', torch.cuda.is_bf16_supported(), 'cpu threads', torch.get_num_threads())"

step "pytest -m gpu"
timeout -k 10 150 python3 -m pytest -m gpu -p no:cacheprovider -q -rs --log-level=WARNING tests/test_accel.py tests/nets/test_compress.py \
    2>&1 | tee "$OUT_DIR/pytest_gpu.log" || status=1

step "self-play throughput, GPU"
timeout -k 10 120 python3 benchmarks/zero_selfplay.py --device cuda --preset b10c128 --sims 32 128 \
    --games 128 512 2048 --moves 2 --baseline-moves 1 2>&1 | tee "$OUT_DIR/selfplay_gpu.md" || status=1

step "self-play throughput, CPU of the same machine"
timeout -k 10 90 python3 benchmarks/zero_selfplay.py --device cpu --preset b10c128 --sims 32 \
    --games 512 --moves 1 --baseline-moves 1 2>&1 | tee "$OUT_DIR/selfplay_cpu.md" || status=1

step "python train.py env=go9 agent=zero_gpu for ${TRAIN_SECONDS} s, then SIGINT"
RUN_DIR=/tmp/zoo-gpu-run
rm -rf "$RUN_DIR"
timeout --preserve-status -s INT -k 60 "$TRAIN_SECONDS" python3 train.py env=go9 agent=zero_gpu logger=csv device=auto \
    eval.every=40000 eval.episodes=20 agent.best_games=20 hydra.run.dir="$RUN_DIR" 2>&1 | tee "$OUT_DIR/train.log"
code=${PIPESTATUS[0]}
echo "train.py exit code $code (130: stopped by SIGINT with a checkpoint)"
[ "$code" = 130 ] || [ "$code" = 0 ] || status=1
cp "$RUN_DIR/metrics.jsonl" "$OUT_DIR/" 2>/dev/null

step "the checkpoint on the CPU"
CUDA_VISIBLE_DEVICES="" timeout -k 10 60 python3 - "$RUN_DIR" <<'EOF' || status=1
import sys, torch
from zoo.play.players import agent_player, load_agent
loaded = load_agent(sys.argv[1], {"simulations": 16})
assert not torch.cuda.is_available() and next(loaded.agent.net.parameters()).device.type == "cpu"
from envs.go import GoState
move = agent_player(loaded).select_move(GoState.new(9, komi=7.5))
print(f"loaded {loaded.path} on the CPU; gradient steps {loaded.agent.learner.steps}; a move from the empty board: {move}")
EOF

step "done: status $status"
exit $status
