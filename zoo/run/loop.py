"""The training loop: build env and agent, then collect -> update -> log -> evaluate -> checkpoint.

:class:`Run` is generic over Gymnasium envs and the agents of :mod:`agents`; it knows nothing of Go or of how a
run is launched. What a kind of run adds comes in as :class:`RunHooks` from the launcher (:mod:`zoo.launch`,
which ``python train.py ...`` calls): extra evaluations (the Go matches of :mod:`zoo.play.go_eval`) and the
progress-bar text for their metrics. A run is safe to kill at any point: a run resumed with ``resume=RUN_DIR``
continues from its newest checkpoint, losing only the work since that checkpoint. Ctrl-C writes a checkpoint
first, then exits.

A checkpoint holds all a run goes on from (:meth:`Run.save`), so on the CPU a resumed run is the run that was not
interrupted, bit for bit, from the checkpoint on: the agent's state (nets, optimizer, replay, its games in
progress), the counters, every random generator (the run's, Python's, torch's, the training and the evaluation
env's), and the training env's episode in progress with the agent's view of it (:class:`EpisodeRecorder`,
:class:`agents.protocol.Episodic`). Not kept, so resumed runs differ there: the episodes in progress of a vector
env (its agent starts new ones), and what an agent's ``state_dict`` leaves out (a compressed self-play net).

``resume=`` a checkpoint of the same agent on another env (a go7 run in a go9 run) is a warm start instead, for
agents that can take one (:class:`agents.protocol.WarmStarter`): a new run in its own folder, from the checkpoint's
net weights only (fresh counters, optimizer and replay), with a one-line notice naming both boards.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NoReturn, Protocol

import gymnasium
import numpy as np
import torch

from agents import PREDATED, Agent, action_mask_from, build_agent
from agents.protocol import Described, Episodic, Searcher, SelfPlayer, WarmStarter
from zoo.errors import CheckpointError, ConfigError
from zoo.run.accel import accelerate
from zoo.run.checkpoint import (
    checkpoint_path,
    load_checkpoint,
    prune_checkpoints,
    resolve_resume,
    restore_rng_state,
    rng_state,
    save_checkpoint,
)
from zoo.run.config import GYM_ENV_NAME, RunConfig, env_run_name, to_plain_dict
from zoo.run.logging import MultiLogger, WandbLogger, make_logger, wandb_mode
from zoo.run.make_env import EpisodeRecorder, make_env, make_vec_env
from zoo.run.media import step_media
from zoo.run.progress import ProgressBar, duration, print_banner, print_summary
from zoo.run.settings_diff import changed_settings


@dataclass
class Counters:
    """How far a run has come; saved in every checkpoint."""

    env_steps: int = 0
    episodes: int = 0
    updates: int = 0
    wall_time: float = 0.0
    """Seconds spent training, summed over every resumed session."""


class Evaluation(Protocol):
    """An evaluation the launcher adds to every evaluation of a run: metrics to log beside the generic ones.

    Called with the agent, the run's evaluation env, ``eval.episodes``, the run directory (for artifacts such as
    SGF samples), the env steps so far and the run's seed; returns ``{}`` when it does not apply to the run. The
    pictures it draws go to :func:`zoo.run.media.media_path` for that step; the loop logs them (wandb shows them).
    """

    def __call__(self, agent: Any, env: gymnasium.Env, episodes: int, run_dir: Path, step: int, *,
                 seed: int) -> dict[str, float]: ...


@dataclass(frozen=True)
class RunHooks:
    """What the launcher hands a run beyond its config (:func:`zoo.launch.run_hooks`); the default adds nothing."""

    evaluations: Sequence[Evaluation] = ()
    """Run after the greedy-episode evaluation, in order; their metrics join ``eval/...`` in the log and summary."""
    progress_text: Callable[[Mapping[str, float], Mapping[str, float]], str | None] | None = None
    """``(last evaluation, last training metrics) -> text`` for the progress bar, or ``None`` for the default."""


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when available, else ``cpu``; a CUDA request without CUDA is a :class:`ConfigError`."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ConfigError(f"unknown device '{device}'; valid devices: auto, cpu, cuda, cuda:N")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device={device} but CUDA is not available here; use device=auto or device=cpu")
    return device


def evaluate(agent: Agent, env: gymnasium.Env, episodes: int) -> dict[str, float]:
    """Play ``episodes`` greedy episodes; mean return and length, and success rate when the env reports one
    (``{}`` for no episodes)."""
    if episodes < 1:
        return {}
    returns, lengths, successes = [], [], []
    for _ in range(episodes):
        obs, info = env.reset()
        total, steps, done = 0.0, 0, False
        while not done:
            action = agent.act(obs, action_mask_from(info, obs), greedy=True)
            obs, reward, terminated, truncated, info = env.step(action)
            total += float(reward)
            steps += 1
            done = terminated or truncated
        returns.append(total)
        lengths.append(steps)
        if "is_success" in info:
            successes.append(float(info["is_success"]))
    metrics = {"eval/return_mean": float(np.mean(returns)), "eval/return_std": float(np.std(returns)),
               "eval/length_mean": float(np.mean(lengths))}
    if successes:
        metrics["eval/success_rate"] = float(np.mean(successes))
    return metrics


class Run:
    """State of one training run (built by :func:`zoo.launch.run` with its hooks); see the module docstring."""

    def __init__(self, cfg: RunConfig, hooks: RunHooks | None = None) -> None:
        self.cfg = cfg
        self.hooks = hooks or RunHooks()
        self.checkpoint = self._load_resume_checkpoint()
        self.warm = self.checkpoint is not None and _is_warm_start(self.checkpoint, cfg)
        """``resume=`` names a checkpoint of this agent on another env: only its weights are taken (a new run)."""
        self.run_dir = self._run_dir()
        self.device = resolve_device(cfg.device)
        _seed_everything(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)
        num_envs = int(getattr(cfg.agent, "num_envs", 1))
        self.env = (make_vec_env(cfg.env, num_envs, cfg.seed) if num_envs > 1
                    else make_env(cfg.env, seed=cfg.seed, recorded=True))
        self.eval_env = make_env(cfg.env, seed=cfg.seed + 1_000_003)
        try:
            self.agent = build_agent(cfg.agent, self.env.single_observation_space if num_envs > 1
                                     else self.env.observation_space,
                                     self.env.single_action_space if num_envs > 1 else self.env.action_space,
                                     self.rng, self.device, net=cfg.net)
            game = getattr(self.env.unwrapped, "game", None)
            if game is not None and isinstance(self.agent, Searcher):
                self.agent.attach(game)  # the game's fit to the agent (sizes, capabilities) checked before any work
        except ValueError as exc:
            raise ConfigError(f"agent={cfg.agent.name} on env={cfg.env.name}: {exc}") from None
        _compress_selfplay(self.agent, cfg.compress, self.device, cfg.seed, cfg.agent.name)
        accelerate(self.agent, cfg.runner, self.device)
        self.counters = Counters()
        self.recent_returns: list[float] = []
        self.last_eval: dict[str, float] = {}
        self.last_eval_step = -1
        """Env steps of this process's last full evaluation: the final one is skipped when the run ends on that
        step (a resumed run evaluates at its end, whatever its checkpoint's evaluation was)."""
        self.last_train: dict[str, float] = {}
        self.train_row_step = -1
        """Env steps of the last training row logged (it carries the counters; see ``_evaluate``)."""
        if self.checkpoint is not None and self.warm:
            self._warm_start(self.checkpoint)
        elif self.checkpoint is not None:
            changed = changed_settings(self.checkpoint.get("config", {}), to_plain_dict(cfg),
                                       PREDATED.get(type(cfg.agent), {}))
            try:
                self._restore(self.checkpoint)
            except CheckpointError as exc:
                if not changed:
                    raise
                raise CheckpointError(f"{exc}; these settings differ from the checkpoint's run: "
                                      f"{'; '.join(changed)}") from None
            if changed:
                print(f"resume: these settings differ from the checkpoint's run: {'; '.join(changed)} (pass the "
                      "run's values as overrides to continue it unchanged)", file=sys.stderr, flush=True)
        self.logger = self._make_logger()

    # ------------------------------------------------------------------ setup
    def _load_resume_checkpoint(self) -> dict[str, Any] | None:
        if not self.cfg.resume:
            return None
        path = resolve_resume(self.cfg.resume)
        ckpt = load_checkpoint(path)
        ckpt["path"] = str(path)
        _check_compatible(ckpt, self.cfg, path)
        return ckpt

    def _run_dir(self) -> Path:
        if self.checkpoint is not None and not self.warm:
            path = Path(self.checkpoint["path"])
            if path.parent.name == "checkpoints":
                return path.parent.parent
        return Path(self.cfg.run_dir)

    def _restore(self, ckpt: Mapping[str, Any]) -> None:
        try:
            self.agent.load_state_dict(ckpt["agent"])
        except (ValueError, KeyError) as exc:
            raise CheckpointError(f"checkpoint {ckpt['path']} does not fit this agent: {exc}") from None
        self.counters = Counters(**ckpt["counters"])
        restore_rng_state(ckpt["rng"], self.rng)
        episode = ckpt.get("episode")
        if (episode is not None and isinstance(self.env, EpisodeRecorder) and isinstance(self.agent, Episodic)
                and self.env.load_state_dict(episode["env"])):
            self.agent.load_episode_state(episode["agent"])  # else the agent starts a new episode
        env_rng = ckpt.get("env_rng")
        if env_rng is not None and not isinstance(self.env, gymnasium.vector.VectorEnv):
            self.env.unwrapped.np_random.bit_generator.state = dict(env_rng)
        eval_env_rng = ckpt.get("eval_env_rng")
        if eval_env_rng is not None:
            self.eval_env.unwrapped.np_random.bit_generator.state = dict(eval_env_rng)
        self.last_eval = dict(ckpt.get("extra", {}).get("last_eval", {}))

    def _warm_start(self, ckpt: Mapping[str, Any]) -> None:
        """Start this new run from the net weights of a checkpoint of another env (see the module docstring)."""
        saved_env = ckpt.get("config", {}).get("env", {}).get("id")
        if not isinstance(self.agent, WarmStarter):
            raise CheckpointError(
                f"checkpoint {ckpt['path']} is of agent={self.cfg.agent.name} on env {saved_env}; this run is "
                f"agent={self.cfg.agent.name} on env {self.cfg.env.id} (pass the same env= and agent= to resume)")
        try:
            notice = self.agent.warm_start_from(ckpt["agent"])
        except (ValueError, KeyError) as exc:
            raise CheckpointError(f"resume={self.cfg.resume} (env {saved_env}) cannot warm-start this run on env "
                                  f"{self.cfg.env.id}: {exc}") from None
        print(f"warm start from {self.cfg.resume} (env {saved_env}): {notice}", file=sys.stderr, flush=True)

    def _make_logger(self) -> MultiLogger:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        config = to_plain_dict(self.cfg)
        (self.run_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        extra = self.checkpoint.get("extra", {}) if self.checkpoint else {}
        cfg = self.cfg  # wandb: one group per env, the agent as job type, runs named alike in runs and multiruns
        env = env_run_name(cfg.env.name, cfg.env.id)
        return make_logger(
            cfg.logger, self.run_dir, config, name=f"{env}-{cfg.agent.name}-seed{cfg.seed}",
            group=env, job_type=cfg.agent.name,
            resume_step=self.counters.env_steps if self.checkpoint else None, wandb_id=extra.get("wandb_id"),
        )

    # ------------------------------------------------------------------ loop
    def train(self) -> dict[str, Any]:
        cfg, c = self.cfg, self.counters
        log_every = max(1, cfg.steps // 200)
        next_log = _next_multiple(c.env_steps, log_every)
        next_eval = _next_multiple(c.env_steps, cfg.eval.every) if cfg.eval.every > 0 else None
        first_eval = self._first_eval_due()
        next_ckpt = _next_multiple(c.env_steps, cfg.checkpoint_every) if cfg.checkpoint_every > 0 else None
        total, per_collect = planned_steps(cfg.steps, c.env_steps, getattr(cfg.agent, "steps_per_collect", None))
        if total != cfg.steps and cfg.progress:
            print(f"steps={cfg.steps} rounds up to {total:,} (whole rollouts of {per_collect:,} env steps)",
                  flush=True)
        started = time.perf_counter()
        wall_before, updates_before = c.wall_time, c.updates
        if cfg.progress:
            self._banner(first_eval)
        try:
            pending = (lambda: self.agent.collect_steps) if isinstance(self.agent, Described) else None
            with ProgressBar(total, c.env_steps, cfg.progress, metric=self._metric_text(starting=True),
                             pending=pending) as bar:
                while c.env_steps < cfg.steps:
                    update_started = time.perf_counter()
                    batch = self.collect()
                    metrics = self.agent.update(batch)
                    if c.updates == updates_before:  # the first update of this session
                        bar.note(self._estimate_text(batch.env_steps, time.perf_counter() - update_started))
                    self.last_train.update(metrics)
                    c.env_steps += batch.env_steps
                    c.episodes += len(batch.episode_returns)
                    c.updates += 1
                    c.wall_time = wall_before + time.perf_counter() - started
                    self.recent_returns = (self.recent_returns + list(batch.episode_returns))[-100:]
                    if c.env_steps >= next_log:
                        self.logger.log({**metrics, **self._train_metrics()}, c.env_steps)
                        self.train_row_step = c.env_steps
                        next_log = _next_multiple(c.env_steps, log_every)
                    if first_eval is not None and c.env_steps >= first_eval and (
                            next_eval is None or c.env_steps < next_eval):
                        first_eval = None  # the first, small evaluation: a few games, nothing against the best
                        bar.status(f"evaluating ({cfg.eval.first_episodes} episodes)", min(c.env_steps, cfg.steps))
                        eval_started = time.perf_counter()
                        self._evaluate(cfg.eval.first_episodes, against_best=False)
                        started += time.perf_counter() - eval_started
                    if next_eval is not None and c.env_steps >= next_eval:
                        first_eval = None
                        bar.status(f"evaluating ({cfg.eval.episodes} episodes)", min(c.env_steps, cfg.steps))
                        eval_started = time.perf_counter()
                        self._evaluate()
                        started += time.perf_counter() - eval_started  # evaluation is not training time
                        next_eval = _next_multiple(c.env_steps, cfg.eval.every)
                    if next_ckpt is not None and c.env_steps >= next_ckpt:
                        self.save()
                        next_ckpt = _next_multiple(c.env_steps, cfg.checkpoint_every)
                    if c.env_steps >= cfg.steps or c.env_steps > bar.total:  # the real total, once known
                        bar.set_total(c.env_steps if c.env_steps >= cfg.steps else
                                      planned_steps(cfg.steps, c.env_steps, per_collect)[0])
                    bar.update(c.env_steps, self._metric_text())
        except KeyboardInterrupt:
            c.wall_time = wall_before + time.perf_counter() - started
            self._interrupted(self.save())
        self.save()  # before the final evaluation, which can be long (searched games for zero)
        try:
            return self.finish()
        except KeyboardInterrupt:
            self._interrupted(self.save())

    def collect(self) -> Any:
        """One batch of experience (the seam other runners override: Ray workers, data-parallel ranks)."""
        return self.agent.collect(self.env)

    def _interrupted(self, path: Path) -> NoReturn:
        """Close the loggers and exit with 130 after Ctrl-C, saying how to resume."""
        self.logger.close()
        print(f"\ninterrupted at {self.counters.env_steps:,} env steps; checkpoint {path}\n"
              f"resume with: {self.resume_command()}")
        raise SystemExit(130) from None

    def resume_command(self, run_dir: str | Path | None = None) -> str:
        """The command line that continues this run from its newest checkpoint."""
        cfg = self.cfg
        return (f"python train.py env={cfg.env.name}"
                f"{f' env.id={cfg.env.id}' if cfg.env.name == GYM_ENV_NAME else ''} agent={cfg.agent.name}"
                f"{'' if cfg.runner.kind == 'local' else ' runner=' + cfg.runner.kind} "
                f"resume={run_dir or self.run_dir}")

    # ------------------------------------------------------------------ what the run says
    def _first_eval_due(self) -> int | None:
        """Env steps of the first, small evaluation (``eval.first``), or ``None``: not set, not before the first
        regular evaluation, or already past."""
        ev, steps = self.cfg.eval, self.counters.env_steps
        if ev.first <= 0 or ev.every <= 0 or ev.first >= ev.every or steps >= ev.first:
            return None
        return ev.first

    def _banner(self, first_eval: int | None) -> None:
        """The start banner: what the run is, where it writes and how to continue it."""
        wandb_logger, wandb_where = self.logger.find(WandbLogger), None
        if wandb_logger is not None:
            mode = wandb_mode(self.cfg.logger.mode)
            wandb_where = f"{mode}:{Path(wandb_logger.run.dir).parent if mode == 'offline' else wandb_logger.run.url}"
        print_banner(self.cfg, self.run_dir, self.counters.env_steps,
                     self.agent.describe() if isinstance(self.agent, Described) else {}, self.device, first_eval,
                     wandb_where, self.resume_command)

    def _estimate_text(self, steps: int, seconds: float) -> str:
        """After the first update of this session: its rate on this machine and what it makes of the budget."""
        if steps <= 0 or seconds <= 0:
            return ""
        rate, left = steps / seconds, max(self.cfg.steps - self.counters.env_steps - steps, 0)
        text = (f"first update: {rate:,.1f} steps/s on this machine; {left:,} steps more take about "
                f"{duration(left / rate)} at this rate")
        if isinstance(self.agent, SelfPlayer) and self.agent.replay_size < self.agent.min_replay:
            text += " (self-play only: training starts later)"
        return text + ", evaluations not counted"

    def finish(self) -> dict[str, Any]:
        """Final evaluation, checkpoint and summary (also written to ``summary.json``); with ``compress=``, the
        final net compressed beside the checkpoints. A run whose loop has just evaluated the final net (it ended
        on that evaluation's step) keeps that evaluation instead of playing a second one."""
        if self.last_eval_step != self.counters.env_steps:
            self._evaluate()
        self.save()
        if isinstance(self.agent, SelfPlayer):  # writes nothing without compress=
            paths = self.agent.save_selfplay_net(str(self.run_dir / "checkpoints"),
                                                 f"final-{self.counters.env_steps:012d}")
            if paths and self.cfg.progress:
                print("\n".join(f"compressed net: {path}" for path in paths))
        c = self.counters
        summary: dict[str, Any] = {
            "env": env_run_name(self.cfg.env.name, self.cfg.env.id), "agent": self.cfg.agent.name,
            "seed": self.cfg.seed,
            "env_steps": c.env_steps, "episodes": c.episodes, "updates": c.updates,
            "wall_time_s": round(c.wall_time, 3), "steps_per_s": c.env_steps / max(c.wall_time, 1e-9),
            **self.last_eval,
        }
        (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        self.logger.close(summary)
        if self.cfg.progress:
            print_summary(summary, title=f"{self.cfg.agent.name} on {summary['env']}")
            print(f"run directory: {self.run_dir}")
        return summary

    def save(self) -> Path:
        """Write a checkpoint for the current step and prune old ones (what it holds: the module docstring).

        ``episode`` is the training env's episode in progress (:meth:`EpisodeRecorder.state_dict`) with the
        agent's view of it (:meth:`agents.protocol.Episodic.episode_state`), or ``None``; ``eval_env_rng`` the
        evaluation env's generator (evaluations play whole episodes, so that is all of its state)."""
        wandb_logger = self.logger.find(WandbLogger)
        payload = {
            "config": to_plain_dict(self.cfg),
            "agent": self.agent.state_dict(),
            "counters": asdict(self.counters),
            "rng": rng_state(self.rng),
            "env_rng": None if isinstance(self.env, gymnasium.vector.VectorEnv)
            else self.env.unwrapped.np_random.bit_generator.state,
            "eval_env_rng": self.eval_env.unwrapped.np_random.bit_generator.state,
            "episode": self._episode_state(),
            "extra": {"last_eval": self.last_eval, "wandb_id": wandb_logger.run_id if wandb_logger else None},
        }
        path = save_checkpoint(checkpoint_path(self.run_dir, self.counters.env_steps), payload)
        prune_checkpoints(self.run_dir, self.cfg.keep_checkpoints)
        return path

    def _episode_state(self) -> dict[str, Any] | None:
        """The training env's episode in progress and the agent's view of it, when both can be had."""
        if not (isinstance(self.env, EpisodeRecorder) and isinstance(self.agent, Episodic)):
            return None
        env, agent = self.env.state_dict(), self.agent.episode_state()
        return None if env is None or agent is None else {"env": env, "agent": agent}

    def _evaluate(self, episodes: int | None = None, against_best: bool = True) -> None:
        full = episodes is None
        episodes = self.cfg.eval.episodes if episodes is None else episodes
        self.last_eval = evaluate(self.agent, self.eval_env, episodes)
        # The launcher's evaluations (Go with a searching agent: matches against the built-in bots, SGF samples).
        for evaluation in self.hooks.evaluations:
            self.last_eval.update(evaluation(self.agent, self.eval_env, episodes, self.run_dir,
                                             self.counters.env_steps, seed=self.cfg.seed))
        # The learner's net against the previous best (AlphaZero): progress between evaluations, or the gate.
        if against_best and isinstance(self.agent, SelfPlayer):
            self.last_eval.update(self.agent.evaluate_against_best())
        # Each logged step carries the counters (once), so eval curves plot against wall time and games too.
        c = self.counters
        counters = {} if c.env_steps == self.train_row_step else {"train/wall_time": c.wall_time,
                                                                  "train/episodes": float(c.episodes)}
        self.logger.log({**self.last_eval, **counters}, c.env_steps)
        self.logger.log_media(step_media(self.run_dir, c.env_steps), c.env_steps)  # what the evaluations drew
        self.last_eval_step = c.env_steps if full else -1

    def _train_metrics(self) -> dict[str, float]:
        c = self.counters
        out = {"train/episodes": float(c.episodes), "train/wall_time": c.wall_time,
               "train/steps_per_s": c.env_steps / max(c.wall_time, 1e-9)}
        if self.recent_returns:
            out["train/return_mean100"] = float(np.mean(self.recent_returns))
        return out

    def _metric_text(self, starting: bool = False) -> str:
        """The progress bar's text: the launcher's (win rates), else the last evaluation's or the recent return;
        for a self-playing agent also its loss (or how far the window is from training) and self-play rate."""
        if starting:
            return "first collect (self-play)" if isinstance(self.agent, SelfPlayer) else "first collect"
        text = self.hooks.progress_text(self.last_eval, self.last_train) if self.hooks.progress_text else None
        if not text:
            if "eval/success_rate" in self.last_eval:
                text = f"eval success {self.last_eval['eval/success_rate']:.3f}"
            elif "eval/return_mean" in self.last_eval:
                text = f"eval return {self.last_eval['eval/return_mean']:.3f}"
            elif self.recent_returns and not isinstance(self.agent, SelfPlayer):
                text = f"return {np.mean(self.recent_returns):.3f}"
        if not isinstance(self.agent, SelfPlayer):
            return text or ""
        t, parts = self.last_train, [text] if text else []
        if "train/loss" in t:
            if "loss" not in (text or ""):
                parts.append(f"loss {t['train/loss']:.3f}")
        else:
            parts.append(f"window {self.agent.replay_size:,}/{self.agent.min_replay:,} positions to train")
        if "selfplay/positions_per_s" in t:
            parts.append(f"self-play {t['selfplay/positions_per_s']:,.1f} pos/s, {self.agent.games_played:,} games")
        return ", ".join(parts)


def _check_compatible(ckpt: Mapping[str, Any], cfg: RunConfig, path: Path) -> None:
    """:class:`CheckpointError` unless the checkpoint is of this run's agent: on this env (a resume) or on another
    (a warm start, :func:`_is_warm_start`; whether the agent can take one is checked once it is built)."""
    saved = ckpt.get("config", {})
    saved_env, saved_agent = saved.get("env", {}).get("id"), saved.get("agent", {}).get("name")
    if saved_agent != cfg.agent.name:
        raise CheckpointError(
            f"checkpoint {path} is of agent={saved_agent} on env {saved_env}; this run is agent={cfg.agent.name} "
            f"on env {cfg.env.id} (pass the same env= and agent= to resume)"
        )


def _is_warm_start(ckpt: Mapping[str, Any], cfg: RunConfig) -> bool:
    """Whether a checkpoint of this run's agent was saved on another env (a warm start rather than a resume)."""
    saved_env = ckpt.get("config", {}).get("env", {}).get("id")
    return saved_env is not None and saved_env != cfg.env.id


def _compress_selfplay(agent: Agent, compress: Any, device: str, seed: int, name: str) -> None:
    """Give a :class:`SelfPlayer` agent (named ``name``) its compressed self-play net (``compress=``);
    :class:`ConfigError` when the agent has no self-play or the method cannot compress its net on this device."""
    if compress is None or compress.method == "none":
        return
    if not isinstance(agent, SelfPlayer):
        raise ConfigError(f"compress={compress.method} compresses the self-play net of agent=zero; agent "
                          f"{name!r} has no self-play (use compress=none, or python -m agents.compress on a "
                          "checkpoint)")
    from agents.compress.selfplay import SelfPlayCompression

    try:
        agent.set_selfplay_compression(SelfPlayCompression(compress, device, seed))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def planned_steps(steps: int, done: int, per_collect: int | None) -> tuple[int, int | None]:
    """``(env steps the run will have played, steps per collect)``: the budget ``steps`` rounded up to whole collects
    from ``done`` when an agent's collects have a fixed size (rollouts, ``train_freq``, self-play moves), else
    ``steps`` itself."""
    if not per_collect or per_collect <= 1 or done >= steps:
        return steps, per_collect
    return done + -(-(steps - done) // per_collect) * per_collect, per_collect


def _next_multiple(value: int, every: int) -> int:
    return (value // every + 1) * every
