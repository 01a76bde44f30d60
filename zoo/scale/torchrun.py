"""Synchronous data-parallel training: ``torchrun --nproc_per_node=K train.py env=go9 agent=zero ...``.

Each of the K processes (ranks) is a full local run (:class:`zoo.run.loop.Run`) with its own seed (``seed + rank``),
its own self-play games and its own replay window; they differ in how they train:

- The process group is set up from torchrun's variables (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
  ``MASTER_ADDR``/``MASTER_PORT``): gloo on the CPU, nccl on CUDA (rank r uses ``cuda:LOCAL_RANK``).
- The learner trains through ``DistributedDataParallel`` (``agent.data_parallel()`` of
  :class:`agents.protocol.Accelerable`): rank 0's weights are broadcast at the start and every gradient step
  averages the gradients of all ranks, so the weights stay equal everywhere. Batch-norm statistics are rank 0's,
  broadcast at every training forward.
- After each collect the ranks agree on the number of gradient steps: every rank runs
  ``round(mean new positions x train_ratio / batch_size)`` steps, once every rank's window holds ``min_replay``
  (the agent's ``replay_size`` and ``min_replay``, :class:`agents.protocol.SelfPlayer`).
- **Effective batch** = K x ``agent.batch_size`` (each rank samples ``batch_size`` from its own window), and
  ``train_ratio`` keeps its meaning (positions trained per position played, over all ranks), so there are K
  times fewer, K times larger steps per position than one process playing as much.
- **Learning rate**: not scaled. The default optimizer is Adam, for which the linear rule (``lr x K``, Goyal et
  al. 2017, for SGD with warm-up) overshoots; with ``agent.optimizer=sgd`` and K > 2 set ``agent.lr`` to K times
  the single-process rate yourself (or sqrt(K) times for Adam if the loss falls too slowly).
- Rank 0 alone logs, shows the progress bar, evaluates and writes checkpoints (the other ranks write nothing);
  every rank counts the positions of all ranks, so ``steps`` is the budget of the whole job. A resumed job
  starts every rank from rank 0's checkpoint (its replay window included); ranks above 0 are reseeded and start
  new self-play games (rank 0 goes on with its games in progress).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import torch
import torch.distributed as dist

import envs  # noqa: F401  (registers the zoo/ ids)
from agents.protocol import Accelerable, SelfPlayer
from zoo.errors import ConfigError
from zoo.run.checkpoint import remove_unused_run_dir
from zoo.run.config import RunConfig
from zoo.run.logging import MultiLogger
from zoo.run.loop import Run, RunHooks, resolve_device


def rank_info() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)`` from torchrun's environment variables."""
    env = os.environ
    return int(env.get("RANK", "0")), int(env.get("WORLD_SIZE", "1")), int(env.get("LOCAL_RANK", "0"))


class DDPRun(Run):
    """One rank of a synchronous data-parallel job; see the module docstring. The process group must exist."""

    def __init__(self, cfg: RunConfig, rank: int, world: int, hooks: RunHooks | None = None) -> None:
        self.rank, self.world = rank, world
        if rank > 0:  # quiet ranks: no logger, bar, evaluation or checkpoints; their own games
            cfg = dataclasses.replace(cfg, seed=cfg.seed + rank, progress=False, checkpoint_every=0,
                                      eval=dataclasses.replace(cfg.eval, every=0))
        super().__init__(cfg, hooks)
        if not (isinstance(self.agent, Accelerable) and isinstance(self.agent, SelfPlayer)):
            raise ConfigError(f"torchrun data-parallel training needs agent=zero; got agent={cfg.agent.name}")
        if rank > 0 and self.checkpoint is not None:
            seq = np.random.SeedSequence([cfg.seed, rank, self.counters.updates])
            self.rng.bit_generator.state = np.random.default_rng(seq).bit_generator.state
            self.agent.restart_selfplay()  # rank 0's games in progress are rank 0's to finish
        try:
            self.agent.data_parallel(compile=cfg.runner.compile)
        except ValueError as exc:  # a setting data-parallel training cannot take (agent.board_mix)
            raise ConfigError(str(exc)) from None
        self.comm_device = torch.device(self.device if str(self.device).startswith("cuda") else "cpu")

    def collect(self) -> Any:
        """This rank's collect, with counts summed over the ranks and gradient steps agreed (module docstring)."""
        batch = self.agent.collect(self.env)
        counts = torch.tensor([batch.env_steps, batch.new_positions, self.agent.replay_size], dtype=torch.float64,
                              device=self.comm_device)
        least = counts.clone()
        dist.all_reduce(counts)
        dist.all_reduce(least, op=dist.ReduceOp.MIN)
        episodes: list[Any] = [None] * self.world
        dist.all_gather_object(episodes, (batch.episode_returns, batch.episode_lengths))
        ready = least[2].item() >= self.agent.min_replay
        batch.env_steps = int(counts[0].item())
        batch.new_positions = int(counts[1].item()) // self.world if ready else 0
        batch.episode_returns = [r for rets, _ in episodes for r in rets]
        batch.episode_lengths = [n for _, lens in episodes for n in lens]
        batch.metrics["ddp/world_size"] = float(self.world)
        batch.metrics["ddp/effective_batch"] = float(self.world * self.agent.batch_size)
        return batch

    def _make_logger(self) -> MultiLogger:
        if self.rank > 0:
            return MultiLogger([])
        return super()._make_logger()

    def save(self) -> Path:
        """Rank 0 writes the checkpoint; the others return the path it writes."""
        if self.rank == 0:
            return super().save()
        from zoo.run.checkpoint import checkpoint_path

        return checkpoint_path(self.run_dir, self.counters.env_steps)

    def _interrupted(self, path: Path) -> NoReturn:
        if self.rank == 0:
            super()._interrupted(path)
        raise SystemExit(130) from None

    def finish(self) -> dict[str, Any]:
        """Rank 0: the local runner's final evaluation, checkpoint and summary; other ranks: their counters."""
        if self.rank == 0:
            return super().finish()
        c = self.counters
        return {"rank": self.rank, "env_steps": c.env_steps, "episodes": c.episodes, "updates": c.updates}


def start(cfg: RunConfig, hooks: RunHooks | None = None) -> DDPRun:
    """Join the torchrun job (gloo on the CPU, nccl on CUDA) and build this rank's run (with ``hooks``) in rank 0's
    run directory."""
    rank, world, local_rank = rank_info()
    device = resolve_device(cfg.device)
    if device.startswith("cuda"):
        device = f"cuda:{local_rank}"
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    shared = [cfg.run_dir]
    dist.broadcast_object_list(shared, src=0)
    if rank > 0 and shared[0] != cfg.run_dir:
        remove_unused_run_dir(Path(cfg.run_dir))
    return DDPRun(dataclasses.replace(cfg, device=device, run_dir=shared[0]), rank, world, hooks)


def run_ddp(cfg: RunConfig, hooks: RunHooks | None = None) -> dict[str, Any]:
    """Train as one rank of a ``torchrun`` job; returns rank 0's summary (other ranks: their counters)."""
    run = start(cfg, hooks)
    try:
        return run.train()
    finally:
        dist.destroy_process_group()
