"""Self-play on Ray actors, the learner in this process: ``python train.py env=go9 agent=zero runner=ray``.

The asynchronous, parameter-server style of data parallelism (docs/design.md, "Data flow", scale-out):

- **Workers** (``runner.workers`` Ray actors, ``runner.cpus_per_worker`` / ``runner.gpus_per_worker`` each) hold a
  copy of the agent and play its batched self-play (``agent.collect``), one collect per task. A task carries the
  newest weights' version and object-store reference; a worker loads them only when the version changed, i.e.
  it pulls new weights between collects.
- **The learner** (this process, a :class:`zoo.run.loop.Run`) takes the finished games of whichever worker is
  done first (``ray.wait``), writes them as a shard, adds them to its replay window (``agent.add_games``), trains
  as the local runner does (``agent.update``), and publishes its self-play weights (``agent.selfplay_weights()``)
  under the version ``agent.learner_steps`` (``ray.put``). The agent is a :class:`agents.protocol.SelfPlayer`.
  Progress bar, logging, evaluation, checkpoints, resume and Ctrl-C are the local runner's.
- **Shards**: every batch of games is written to ``RUN_DIR/shards/`` (``.npz``, temp file + atomic rename)
  before the learner uses it. A resumed run adds the shards written after its checkpoint to the replay window,
  so a kill at any point loses only unfinished games.
- **Faults**: workers are restarted by Ray (``max_restarts``); the collect a crash interrupts is dropped (its
  unfinished games are lost) and resubmitted. A worker that fails more than ``runner.max_restarts`` times stops
  the run with one line, after a checkpoint; earlier checkpoints are never touched.

Ray: ``runner.address`` unset (and no ``RAY_ADDRESS``) starts a local instance, sized so the workers fit;
``auto`` or ``HOST:PORT`` joins a running cluster, where every node needs this suite installed (the shards and
checkpoints stay on the learner's machine). Ray 2.60 turned on token authentication by default: a local
instance writes ``~/.ray/auth_token`` (``RAY_AUTH_MODE=disabled`` opts out); joining a cluster needs its token
(``~/.ray/auth_token``, ``RAY_AUTH_TOKEN`` or ``RAY_AUTH_TOKEN_PATH``). ``local_mode`` is never used (removed).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import torch

import envs  # noqa: F401  (registers the zoo/ ids, in the worker processes too)
from agents import build_agent
from agents.protocol import Searcher, SelfPlayer
from agents.zero.agent import ZeroBatch
from agents.zero.config import ZeroConfig
from agents.zero.selfplay import FinishedGame
from zoo.errors import ConfigError, UserError
from zoo.run.accel import accelerate
from zoo.run.config import RunConfig, RunnerConfig
from zoo.run.loop import Run, RunHooks
from zoo.run.make_env import make_env

SHARDS = "shards"
"""Folder of the run directory holding the self-play shards."""


# -- Ray itself --------------------------------------------------------------------------------------------------


def import_ray() -> Any:
    """The ``ray`` module; :class:`ConfigError` with the install line when it is missing."""
    try:
        import ray
    except ImportError:
        raise ConfigError('runner=ray needs Ray, an optional extra: pip install -e ".[ray]"') from None
    return ray


def connect(runner: RunnerConfig) -> bool:
    """Start or join Ray as ``runner`` says; True when this call started a local instance (to shut down later).

    :class:`ConfigError` (one line) for an unreachable address, a refused token, GPUs asked for where there are
    none, or a cluster too small for the workers.
    """
    ray = import_ray()
    address = runner.address or os.environ.get("RAY_ADDRESS") or None
    local = address is None or address == "local"
    if local and runner.gpus_per_worker > 0 and not torch.cuda.is_available():
        raise ConfigError(f"runner.gpus_per_worker={runner.gpus_per_worker:g} but CUDA is not available here; "
                          "use runner.gpus_per_worker=0 (workers search on the CPU)")
    if ray.is_initialized():
        return False
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
    if local:
        # Logical CPUs: at least what the workers reserve, so an oversubscribed laptop still runs them all.
        cpus = max(os.cpu_count() or 1, math.ceil(runner.workers * runner.cpus_per_worker))
        try:
            ray.init(num_cpus=cpus, num_gpus=torch.cuda.device_count(), **quiet)
        except Exception as exc:  # a token that cannot be written, a port in use, ...
            raise ConfigError(f"could not start a local Ray instance: {_first_line(exc)} (token auth writes "
                              "~/.ray/auth_token; RAY_AUTH_MODE=disabled opts out)") from None
        return True
    if address != "auto":
        _check_reachable(address)
    try:
        ray.init(address=address, **quiet)
    except Exception as exc:
        hint = ("the cluster's token must be in ~/.ray/auth_token, RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH"
                if "auth" in str(exc).lower() else "start one with `ray start --head`, or leave runner.address "
                "unset for a local instance")
        raise ConfigError(f"cannot join the Ray cluster at runner.address={address}: {_first_line(exc)}; "
                          f"{hint}") from None
    try:
        _check_resources(ray.cluster_resources(), runner)
    except ConfigError:
        ray.shutdown()
        raise
    return False


def _check_reachable(address: str) -> None:
    """One TCP connection to ``HOST:PORT`` (``ray://`` too) with a short timeout, so a wrong address fails in
    seconds with one line instead of Ray's minutes of retries."""
    target = address.removeprefix("ray://")
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"runner.address={address} is not HOST:PORT; valid: auto, HOST:PORT (the head's GCS port, "
                          "6379 by default), ray://HOST:PORT, or unset for a local instance")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise ConfigError(f"cannot reach the Ray cluster at runner.address={address} ({exc.strerror or exc}); "
                          "check the address, or leave runner.address unset for a local instance") from None


def _check_resources(resources: dict[str, float], runner: RunnerConfig) -> None:
    gpus, cpus = runner.workers * runner.gpus_per_worker, runner.workers * runner.cpus_per_worker
    if gpus > resources.get("GPU", 0.0):
        raise ConfigError(f"the workers ask for {gpus:g} GPUs (runner.workers x runner.gpus_per_worker) but the Ray "
                          f"cluster has {resources.get('GPU', 0.0):g}; lower runner.gpus_per_worker")
    if cpus > resources.get("CPU", 0.0):
        raise ConfigError(f"the workers ask for {cpus:g} CPUs (runner.workers x runner.cpus_per_worker) but the Ray "
                          f"cluster has {resources.get('CPU', 0.0):g}; lower runner.workers or runner.cpus_per_worker")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


# -- the worker --------------------------------------------------------------------------------------------------


class SelfPlayWorker:
    """A Ray actor: a copy of the zero agent playing ``cfg.agent.games`` self-play games, one collect per call.

    Its replay window is one position (the learner keeps the games); its seed is the run's plus its index, and
    a fresh one after a restart so a restarted worker does not replay its games.
    """

    def __init__(self, cfg: RunConfig, index: int, device: str) -> None:
        import ray

        torch.set_num_threads(max(1, int(cfg.runner.cpus_per_worker)))
        restarted = ray.get_runtime_context().was_current_actor_reconstructed
        entropy = [cfg.seed, index + 1] + ([os.getpid(), uuid.uuid4().int % 2**32] if restarted else [])
        seed = int(np.random.SeedSequence(entropy).generate_state(1)[0])
        torch.manual_seed(seed)
        self.index, self.version = index, -1
        self.env = make_env(cfg.env, seed=seed)
        agent_cfg = dataclasses.replace(cfg.agent, replay_size=1)
        self.agent = build_agent(agent_cfg, self.env.observation_space, self.env.action_space,
                                 np.random.default_rng(seed), device, net=cfg.net)
        accelerate(self.agent, cfg.runner, device)

    def ready(self) -> int:
        """This worker's index, once it is built (the learner waits for every worker before it starts)."""
        return self.index

    def collect(self, version: int, weights: list[Any]) -> dict[str, Any]:
        """Load weights ``version`` (``weights[0]``, an object reference) if new, then one ``agent.collect``:
        ``{"worker", "version", "env_steps", "games": [FinishedGame], "metrics"}``."""
        import ray

        if version != self.version:
            self.agent.load_selfplay_weights(ray.get(weights[0]))
            self.version = version
        batch = self.agent.collect(self.env)
        return {"worker": self.index, "version": self.version, "env_steps": batch.env_steps, "games": batch.games,
                "metrics": batch.metrics}


# -- shards ------------------------------------------------------------------------------------------------------


def write_shard(folder: Path, added_before: int, worker: int, env_steps: int, games: list[FinishedGame]) -> Path:
    """Write ``games`` as ``folder/<added_before>-w<worker>-<id>.npz`` (temp file, fsync, atomic rename).

    ``added_before`` is the replay window's ``added`` counter before these games: a resumed run adds exactly the
    shards at or above its restored counter. Arrays: ``planes`` uint8 (T, bytes), ``policy`` float16 (T, A),
    ``z`` int8 (T,), per game ``positions``, ``moves``, ``winner``, ``resigned``, and all ``actions`` in order;
    when the games carry auxiliary targets (``agent.ownership_weight`` / ``agent.score_weight``) also
    ``ownership`` int8 (T, N*N) and ``score`` float16 (T,), NaN for the positions of games without them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    kept = [g for g in games if len(g.z)]
    width = kept[0].planes.shape[1] if kept else 0
    actions = [a for g in games for a in g.actions]
    arrays = {
        "planes": np.concatenate([g.planes for g in kept]) if kept else np.zeros((0, width), np.uint8),
        "policy": (np.concatenate([g.policy for g in kept]) if kept else np.zeros((0, 0))).astype(np.float16),
        "z": np.concatenate([g.z for g in kept]) if kept else np.zeros(0, np.int8),
        "positions": np.array([len(g.z) for g in games], np.int64),
        "moves": np.array([len(g.actions) for g in games], np.int64),
        "winner": np.array([g.winner for g in games], np.int8),
        "resigned": np.array([g.resigned for g in games], bool),
        "actions": np.array(actions, np.int32),
        "meta": np.array([added_before, worker, env_steps], np.int64),
    }
    if any(g.score is not None for g in kept):
        points = next(g.ownership.shape[1] for g in kept if g.ownership is not None)
        arrays["ownership"] = np.concatenate([g.ownership if g.ownership is not None
                                              else np.zeros((len(g.z), points), np.int8) for g in kept])
        arrays["score"] = np.concatenate([g.score if g.score is not None else np.full(len(g.z), np.nan)
                                          for g in kept]).astype(np.float16)
    path = folder / f"{added_before:012d}-w{worker}-{uuid.uuid4().hex[:8]}.npz"
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def read_shard(path: Path) -> dict[str, np.ndarray]:
    """The arrays :func:`write_shard` wrote."""
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


# -- the learner -------------------------------------------------------------------------------------------------


class RayRun(Run):
    """The local runner with its ``collect`` served by Ray self-play workers; see the module docstring."""

    def __init__(self, cfg: RunConfig, hooks: RunHooks | None = None) -> None:
        check_config(cfg)
        self.ray = import_ray()
        super().__init__(cfg, hooks)
        if not (isinstance(self.agent, SelfPlayer) and isinstance(self.agent, Searcher)):  # check_config: zero
            raise ConfigError(f"runner=ray needs an agent that self-plays and searches; got agent={cfg.agent.name}")
        game = getattr(self.env.unwrapped, "game", None)
        if game is None:
            raise ConfigError(f"runner=ray with agent=zero needs a two-player game env (go5..go19); got env="
                              f"{cfg.env.name}")
        self.agent.attach(game)
        self.shard_dir = self.run_dir / SHARDS
        if self.checkpoint is not None:
            self._add_shards_after_checkpoint()
        runner = cfg.runner
        device = "cuda" if runner.gpus_per_worker > 0 else "cpu"
        actor = self.ray.remote(SelfPlayWorker).options(
            num_cpus=runner.cpus_per_worker, num_gpus=runner.gpus_per_worker, max_restarts=runner.max_restarts,
            max_task_retries=0)
        self.workers = [actor.remote(cfg, i, device) for i in range(runner.workers)]
        self._wait_until_ready()
        self.pending: dict[Any, tuple[int, str]] = {}
        """Object reference of each running call -> (its worker, ``collect`` or ``probe``)."""
        self.suspect: set[int] = set()
        """Workers whose last call failed: probed until they answer again."""
        self.retry_at: dict[int, float] = {}
        """Workers waiting to be probed again -> when (``time.monotonic``)."""
        self.failures = [0] * runner.workers
        self.games_by_worker = [0] * runner.workers
        self.collects_by_worker = [0] * runner.workers
        self.version, self.weights = -1, None

    def _wait_until_ready(self) -> None:
        """Block until every worker is built, so all of them play from the first batch on; a worker that cannot
        even start (e.g. the suite missing on a cluster node) is a :class:`UserError` naming it."""
        for i, worker in enumerate(self.workers):
            try:
                self.ray.get(worker.ready.remote())
            except self.ray.exceptions.RayError as exc:
                self.stop_workers()
                raise UserError(f"self-play worker {i} could not start: {_first_line(exc)}") from None

    def collect(self) -> ZeroBatch:
        """The next finished collect of any worker (publishing new weights first), as the learner's batch.

        A failed collect counts against its worker; the worker is then probed (``ready``) once a second until
        Ray has restarted it, and probes that find it still restarting do not count.
        """
        self._publish()
        unavailable = getattr(self.ray.exceptions, "ActorUnavailableError", ())
        while True:
            now = time.monotonic()
            busy = {w for w, _ in self.pending.values()}
            for w in range(len(self.workers)):
                if w not in busy and self.retry_at.get(w, 0.0) <= now:
                    self._submit(w)
            waits = [t - now for w, t in self.retry_at.items() if w not in busy]
            timeout = max(0.05, min(waits)) if waits else None
            if not self.pending:
                time.sleep(timeout or 0.05)
                continue
            ready, _ = self.ray.wait(list(self.pending), num_returns=1, timeout=timeout)
            if not ready:
                continue
            worker, kind = self.pending.pop(ready[0])
            try:
                out = self.ray.get(ready[0])
            except self.ray.exceptions.RayError as exc:
                if not (kind == "probe" and isinstance(exc, unavailable)):
                    self._failed(worker, exc)
                self.suspect.add(worker)
                self.retry_at[worker] = time.monotonic() + 1.0
                continue
            if kind == "probe":
                self.suspect.discard(worker)  # back: the next round gives it a collect
                continue
            self._submit(worker)
            return self._receive(out)

    def _publish(self) -> None:
        """Put the self-play weights in the object store under the version ``agent.learner_steps`` when they
        changed."""
        steps = self.agent.learner_steps
        if steps != self.version:
            self.version, self.weights = steps, self.ray.put(self.agent.selfplay_weights())

    def _submit(self, worker: int) -> None:
        """Give ``worker`` its next collect (with the newest weights), or a probe while it is suspect."""
        self.retry_at.pop(worker, None)
        if worker in self.suspect:
            self.pending[self.workers[worker].ready.remote()] = (worker, "probe")
        else:
            self.pending[self.workers[worker].collect.remote(self.version, [self.weights])] = (worker, "collect")

    def _failed(self, worker: int, exc: BaseException) -> None:
        self.failures[worker] += 1
        limit = self.cfg.runner.max_restarts
        if self.failures[worker] > limit:
            path = self.save()
            self.logger.close()
            raise UserError(f"self-play worker {worker} failed {self.failures[worker]} times (runner.max_restarts="
                            f"{limit}); last error: {_first_line(exc)}. Checkpoint {path} is intact: fix the cause "
                            f"and resume={self.run_dir}")
        print(f"self-play worker {worker} failed ({self.failures[worker]}/{limit}): {_first_line(exc)}; "
              "its unfinished games are lost, it goes on", file=sys.stderr)

    def _receive(self, out: dict[str, Any]) -> ZeroBatch:
        games, worker = list(out["games"]), int(out["worker"])
        if games:
            write_shard(self.shard_dir, self.agent.replay_added, worker, int(out["env_steps"]), games)
        new = self.agent.add_games(games)
        self.games_by_worker[worker] += len(games)
        self.collects_by_worker[worker] += 1
        metrics = dict(out["metrics"])
        metrics.update({"selfplay/games": float(self.agent.games_played),
                        "selfplay/replay_size": float(self.agent.replay_size),
                        "ray/weights_lag": float(self.agent.learner_steps - int(out["version"])),
                        "ray/worker_failures": float(sum(self.failures))})
        metrics.update({f"ray/games_worker{w}": float(n) for w, n in enumerate(self.games_by_worker)})
        return ZeroBatch(int(out["env_steps"]), [float(g.winner) for g in games], [len(g.actions) for g in games],
                         new, games, metrics)

    def _add_shards_after_checkpoint(self) -> None:
        """Put the games of shards written after the restored checkpoint into the replay window and counters."""
        count = 0
        for path in sorted(self.shard_dir.glob("*.npz")) if self.shard_dir.is_dir() else []:
            shard = read_shard(path)
            added_before, _, env_steps = (int(v) for v in shard["meta"])
            if added_before < self.agent.replay_added:
                continue
            self.agent.add_positions(shard["planes"], shard["policy"], shard["z"], games=len(shard["moves"]),
                                     ownership=shard.get("ownership"), score=shard.get("score"))
            self.counters.env_steps += env_steps
            self.counters.episodes += len(shard["moves"])
            count += 1
        if count and self.cfg.progress:
            print(f"resumed: the games of {count} shard(s) written after the checkpoint are back in the replay window")

    def stop_workers(self) -> None:
        """End the worker actors (their unfinished games are dropped)."""
        for worker in getattr(self, "workers", []):
            self.ray.kill(worker, no_restart=True)
        self.workers, self.pending = [], {}

    def finish(self) -> dict[str, Any]:
        """Stop self-play, then the local runner's final evaluation, checkpoint and summary."""
        self.stop_workers()
        return super().finish()


def check_config(cfg: RunConfig) -> None:
    """:class:`ConfigError` unless the run is one ``runner=ray`` can distribute (agent=zero)."""
    if not isinstance(cfg.agent, ZeroConfig):
        raise ConfigError(f"runner=ray distributes self-play games, which only agent=zero plays; got "
                          f"agent={cfg.agent.name} (use runner=local)")


def run_ray(cfg: RunConfig, hooks: RunHooks | None = None) -> dict[str, Any]:
    """Train with self-play on Ray workers (``runner=ray``), the learner's run given ``hooks``; returns the summary
    like :func:`zoo.launch.run`."""
    check_config(cfg)
    import_ray()
    started = connect(cfg.runner)
    run = None
    try:
        try:
            run = RayRun(cfg, hooks)
        except KeyboardInterrupt:
            print("\ninterrupted while the Ray workers were starting; nothing was trained", file=sys.stderr)
            raise SystemExit(130) from None
        return run.train()
    finally:
        if run is not None:
            run.stop_workers()
        if started:
            import_ray().shutdown()
