"""The AlphaGo (Lee) training pipeline: ``python train.py env=go9 agent=alphago`` runs its stages in order.

    corpus   game records: ``agent.sgf_dir`` (a folder of SGF games) or engine self-play (GNU Go by default),
             replayed into positions -> RUN_DIR/stages/corpus.npz (generated SGF files in RUN_DIR/corpus/)
    sl       SL policy net on the expert moves; top-1 accuracy on held-out games   -> stages/sl.pt
    rollout  linear softmax rollout policy on the same moves; accuracy, microseconds per move beside the SL
             net's                                                                  -> stages/rollout.pt
    rl       RL policy: REINFORCE self-play against a pool of its earlier versions; win rate against SL
                                                                                    -> stages/rl.pt
    value    value net on one position per self-play game of the RL policy; held-out MSE -> stages/value.pt

Every stage ends with its checkpoint (the whole agent) in ``stages/`` and in ``checkpoints/`` (where the arena,
``resume=`` and the Go tools look; numbered by stage run, so the newest holds the latest version of every part).
``resume=RUN_DIR`` continues at the first unfinished stage; ``agent.stage=NAME`` runs one stage alone (the stages
before it must be finished in the run directory): it replaces its own part of the agent and keeps the others.
Ctrl-C keeps every finished stage (and the corpus games written so far) and says how to resume. Each stage logs
to ``RUN_DIR/<stage>/metrics.jsonl`` (started afresh each time the stage runs) and to its own wandb run; the runs
of one pipeline share a wandb group. A stage logs its curve at steps 1, 2, ... (its optimiser steps or
iterations) and its result (``STAGE/...``) at the step after the last, so every stage's steps increase.
At the end the agent plays the built-in opponents with search (``eval.episodes`` games each).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents import build_agent
from agents.alphago import STAGES, AlphaGoAgent, AlphaGoConfig
from agents.alphago.policy import play_games, policy_probs
from agents.alphago.reinforce import reinforce, value_positions
from agents.alphago.supervised import (
    policy_accuracy,
    rollout_accuracy,
    train_policy,
    train_rollout,
    train_value,
    value_mse,
)
from zoo.errors import CheckpointError, ConfigError, UserError
from zoo.pipelines.corpus import Positions, generate_corpus, load_sgf_folder, positions
from zoo.play.go_eval import go_evaluation
from zoo.run.checkpoint import (
    checkpoint_path,
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    resolve_resume,
    rng_state,
    save_checkpoint,
)
from zoo.run.config import RunConfig, to_plain_dict
from zoo.run.logging import MultiLogger, make_logger
from zoo.run.loop import resolve_device
from zoo.run.make_env import make_env
from zoo.run.progress import ProgressBar, print_summary


def stage_file(run_dir: Path, stage: str) -> Path:
    """Where ``stage``'s result lives: ``stages/corpus.npz`` (positions) or ``stages/<stage>.pt`` (the agent)."""
    return run_dir / "stages" / (f"{stage}.npz" if stage == "corpus" else f"{stage}.pt")


def finished_stages(run_dir: Path) -> list[str]:
    """The stages with a result in ``run_dir``, in pipeline order, up to the first missing one."""
    done = []
    for stage in STAGES:
        if not stage_file(run_dir, stage).is_file():
            break
        done.append(stage)
    return done


def split_games(game_index: np.ndarray, share: float, seed: int) -> np.ndarray:
    """bool mask of the positions whose game is held out: ``ceil(share * games)`` games, drawn with ``seed``
    (at least one game stays in training)."""
    games = int(game_index.max()) + 1 if len(game_index) else 0
    count = min(int(np.ceil(share * games)), max(games - 1, 0))
    held = np.random.default_rng(seed).permutation(games)[:count]
    return np.isin(game_index, held)


class Pipeline:
    """One AlphaGo run directory and its stages; :meth:`run` does what ``agent.stage`` asks."""

    def __init__(self, cfg: RunConfig) -> None:
        self.cfg, self.acfg = cfg, cfg.agent
        assert isinstance(self.acfg, AlphaGoConfig)
        self.run_dir = self._run_dir()
        self.device = resolve_device(cfg.device)
        random.seed(cfg.seed)
        torch.manual_seed(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)
        self.env = make_env(cfg.env, seed=cfg.seed)
        self.game = getattr(self.env.unwrapped, "game", None)
        if self.game is None or not hasattr(self.game, "rollout_features"):
            raise ConfigError(f"agent=alphago plays Go; env={cfg.env.name} is not a Go env "
                              "(valid: go5, go7, go9, go13, go19)")
        try:
            agent = build_agent(self.acfg, self.env.observation_space, self.env.action_space, self.rng,
                                self.device, net=cfg.net)
        except ValueError as exc:
            raise ConfigError(f"agent=alphago on env={cfg.env.name}: {exc}") from None
        assert isinstance(agent, AlphaGoAgent)
        self.agent = agent
        self.agent.attach(self.game)
        self.max_moves = max(1, int(round(self.acfg.max_moves_factor * self.game.board_size**2)))
        self._last_step = 0
        """The last step the running stage logged its curve at."""

    def _run_dir(self) -> Path:
        if not self.cfg.resume:
            return Path(self.cfg.run_dir)
        target = Path(self.cfg.resume)
        if target.is_file() and target.parent.name in ("checkpoints", "stages"):
            target = target.parent.parent
        if not (target / "stages").is_dir():
            raise CheckpointError(f"resume={self.cfg.resume}: no AlphaGo run there (no stages/ folder); pass the "
                                  "run directory of an agent=alphago run")
        try:
            saved = json.loads((target / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = {}
        saved_env = saved.get("env", {}).get("id")
        if saved_env is not None and saved_env != self.cfg.env.id:
            raise CheckpointError(f"resume={self.cfg.resume} is an alphago run on env {saved_env}; this run is on "
                                  f"env {self.cfg.env.id} (pass the same env= to resume)")
        return target

    # -- driving -------------------------------------------------------------------------------------------------

    def todo(self) -> list[str]:
        """The stages this invocation runs (``agent.stage``; ``all``: from the first unfinished one)."""
        done = finished_stages(self.run_dir)
        if self.acfg.stage == "all":
            return [s for s in STAGES if s not in done]
        needed = STAGES[: STAGES.index(self.acfg.stage)]
        missing = [s for s in needed if s not in done]
        if missing:
            raise UserError(f"agent.stage={self.acfg.stage} needs the stages before it finished in {self.run_dir}; "
                            f"missing: {', '.join(missing)} (run agent.stage=all, or pass resume=RUN_DIR of a run "
                            "that has them)")
        return [self.acfg.stage]

    def run(self) -> dict[str, Any]:
        """Run the stages due, write the summary; Ctrl-C keeps the finished stages and exits with 130."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config.json").write_text(json.dumps(to_plain_dict(self.cfg), indent=2) + "\n",
                                                  encoding="utf-8")
        stages = self.todo()
        self._restore()
        started = time.perf_counter()
        current = stages[0] if stages else None
        try:
            for stage in stages:
                current = stage
                self._run_stage(stage)
            summary = self._summary(time.perf_counter() - started, final=self.acfg.stage in ("all", "value"))
        except KeyboardInterrupt:
            print(f"\ninterrupted in stage {current}; finished stages are kept in {self.run_dir / 'stages'}\n"
                  f"resume with: python train.py env={self.cfg.env.name} agent=alphago resume={self.run_dir}")
            raise SystemExit(130) from None
        return summary

    def _restore(self) -> None:
        """Load the agent of the run's newest checkpoint (it holds the latest version of every part)."""
        if not list_checkpoints(self.run_dir):
            return
        path = resolve_resume(self.run_dir)
        try:
            self.agent.load_state_dict(load_checkpoint(path)["agent"])
        except (ValueError, KeyError) as exc:
            raise CheckpointError(f"{path} does not fit this agent: {exc}") from None

    def _logger(self, stage: str) -> MultiLogger:
        folder = self.run_dir / stage
        for old in ("metrics.jsonl", "metrics.csv"):  # a stage run replaces the stage: its metrics start afresh
            (folder / old).unlink(missing_ok=True)
        config = {**to_plain_dict(self.cfg), "stage": stage}
        return make_logger(self.cfg.logger, folder, config, name=f"{self.run_dir.name}-{stage}",
                           group=f"{self.cfg.env.name}-alphago-{self.run_dir.name}", job_type=stage)

    def _run_stage(self, stage: str) -> None:
        logger = self._logger(stage)
        self._last_step = 0
        metrics: dict[str, float] = {}
        try:
            result = getattr(self, f"_stage_{stage}")(logger)
            metrics = {f"{stage}/{k}": float(v) for k, v in result.items()}
            logger.log(metrics, self._last_step + 1)  # after the stage's curve (wandb drops steps that go back)
        finally:
            logger.close(metrics or None)  # the stage's result is its wandb run's summary
        self.agent.metrics.update(metrics)
        if stage not in self.agent.stages:
            self.agent.stages = [s for s in STAGES if s in self.agent.stages or s == stage]
        if stage != "corpus":
            self._save(stage)
        if self.cfg.progress:
            print(f"stage {stage} done: " + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()))

    def _save(self, stage: str) -> None:
        existing = list_checkpoints(self.run_dir)
        index = int(existing[-1].stem.split("-")[1]) + 1 if existing else 1  # one per finished stage run
        payload = {"config": to_plain_dict(self.cfg), "agent": self.agent.state_dict(),
                   "counters": {"env_steps": index, "episodes": 0, "updates": 0, "wall_time": 0.0},
                   "rng": rng_state(self.rng), "env_rng": None,
                   "extra": {"stage": stage, "last_eval": {}, "wandb_id": None}}
        save_checkpoint(stage_file(self.run_dir, stage), payload)
        save_checkpoint(checkpoint_path(self.run_dir, index), payload)
        prune_checkpoints(self.run_dir, self.cfg.keep_checkpoints)

    def _bar(self, total: int, stage: str) -> ProgressBar:
        return ProgressBar(total, 0, self.cfg.progress, description=stage)

    def _stepper(self, bar: ProgressBar, logger: MultiLogger, prefix: str, total: int
                 ) -> Callable[[int, dict[str, float]], None]:
        every = max(1, total // 100)

        def on_step(step: int, metrics: dict[str, float]) -> None:
            if step % every == 0 or step == total:
                logger.log({f"{prefix}/{k}": v for k, v in metrics.items()}, step)
                self._last_step = max(self._last_step, step)
                bar.update(step, ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))

        return on_step

    def _positions(self) -> tuple[Positions, np.ndarray]:
        corpus = stage_file(self.run_dir, "corpus")
        data = Positions.load(corpus)
        return data, split_games(data.game, self.acfg.holdout, self.cfg.seed)

    # -- stages ----------------------------------------------------------------------------------------------------

    def _stage_corpus(self, logger: MultiLogger) -> dict[str, float]:
        acfg, size = self.acfg, self.game.board_size
        if acfg.sgf_dir:
            folder = Path(acfg.sgf_dir)
        else:
            folder = generate_corpus(self.run_dir / "corpus", acfg.corpus_games, size, self.game.komi,
                                     acfg.corpus_engine, acfg.corpus_level, self.cfg.seed, acfg.corpus_random_moves,
                                     self.cfg.progress, jobs=acfg.corpus_jobs)
        corpus = load_sgf_folder(folder, size)
        for line in corpus.skipped[:5]:
            print(f"skipped {line}")
        with self._bar(len(corpus.records), "positions") as bar:
            data = positions(corpus.records, self.game, lambda i: bar.update(i + 1))
        stage_file(self.run_dir, "corpus").parent.mkdir(parents=True, exist_ok=True)
        data.save(stage_file(self.run_dir, "corpus"))
        return {"games": len(corpus.records), "skipped": len(corpus.skipped), "positions": len(data)}

    def _stage_sl(self, logger: MultiLogger) -> dict[str, float]:
        acfg, agent = self.acfg, self.agent
        data, held = self._positions()
        train = data.subset(~held)
        with self._bar(acfg.sl_steps, "sl") as bar:
            last = train_policy(agent.sl_net, train.planes, train.actions, self.game, acfg.sl_steps, acfg.sl_batch,
                                acfg.sl_lr, acfg.weight_decay, self.rng, acfg.augment, self.device,
                                self._stepper(bar, logger, "sl", acfg.sl_steps))
        if "rl" not in agent.stages:
            agent.rl_net.load_state_dict(agent.sl_net.state_dict())  # the RL policy starts from the SL policy
        test = data.subset(held)
        sample = self.rng.choice(len(train), size=min(len(train), 5000), replace=False)
        return {"accuracy_heldout": policy_accuracy(agent.sl_net, test.planes, test.actions, self.game, self.device),
                "accuracy_train": policy_accuracy(agent.sl_net, train.planes[sample], train.actions[sample],
                                                  self.game, self.device),
                "heldout_positions": len(test), "loss": last.get("loss", float("nan"))}

    def _stage_rollout(self, logger: MultiLogger) -> dict[str, float]:
        acfg, agent = self.acfg, self.agent
        data, held = self._positions()
        train, test = data.subset(~held), data.subset(held)
        with self._bar(acfg.rollout_steps, "rollout") as bar:
            agent.rollout_weights = train_rollout(train.features, train.actions, self.game.rollout_features,
                                                  acfg.rollout_steps, acfg.rollout_batch, acfg.rollout_lr,
                                                  acfg.rollout_l2, self.rng,
                                                  on_step=self._stepper(bar, logger, "rollout", acfg.rollout_steps))
        return {"accuracy_heldout": rollout_accuracy(agent.rollout_weights, test.features, test.actions),
                "accuracy_train": rollout_accuracy(agent.rollout_weights, train.features, train.actions),
                **self._speeds()}

    def _speeds(self) -> dict[str, float]:
        """Microseconds per move: the rollout policy inside playouts from the empty board, and the SL net choosing
        one move (one position per forward pass, and per position in a batch of 64)."""
        games = 64
        batch = self.game.new_batch(games)
        batch.rollout(self.agent.rollout_weights, 0, max_moves=4)  # compile outside the timing
        start, moves, seed = time.perf_counter(), 0, 1
        while time.perf_counter() - start < 0.5 or moves == 0:
            _, played = batch.rollout(self.agent.rollout_weights, seed, with_moves=True)
            moves, seed = moves + int(played.sum()), seed + 1
        rollout_us = (time.perf_counter() - start) / max(moves, 1) * 1e6
        planes, masks = batch.features(), batch.legal_masks()
        net_single = _time_per_call(lambda: policy_probs(self.agent.sl_net, planes[:1], masks[:1], self.device))
        net_batched = _time_per_call(lambda: policy_probs(self.agent.sl_net, planes, masks, self.device)) / games
        return {"us_per_move": rollout_us, "sl_us_per_move": net_single * 1e6,
                "sl_us_per_move_batch64": net_batched * 1e6, "speed_ratio": net_single * 1e6 / rollout_us}

    def _stage_rl(self, logger: MultiLogger) -> dict[str, float]:
        acfg, agent = self.acfg, self.agent
        with self._bar(acfg.rl_iterations, "rl") as bar:
            reinforce(agent.rl_net, self.game, acfg.rl_iterations, acfg.rl_games, acfg.rl_lr, acfg.rl_pool_every,
                      self.rng, self.max_moves, self.device,
                      on_iteration=self._stepper(bar, logger, "rl", acfg.rl_iterations))
        out: dict[str, float] = {}
        if acfg.eval_games:
            match = play_games(self.game, agent.rl_net, agent.sl_net, acfg.eval_games, self.rng, self.max_moves,
                               self.device)
            score = match.first_score
            out["win_rate_vs_sl"] = float((score > 0).mean() + 0.5 * (score == 0).mean())
            out["eval_games"] = acfg.eval_games
        return out

    def _stage_value(self, logger: MultiLogger) -> dict[str, float]:
        acfg, agent = self.acfg, self.agent
        with self._bar(acfg.value_games, "value games") as bar:
            planes, z = value_positions(self.game, agent.sl_net, agent.rl_net, acfg.value_games, self.rng,
                                        self.max_moves, u_max=(2 * self.game.board_size**2) // 3, device=self.device,
                                        progress=lambda n: bar.update(n))
        if len(z) < 2:
            raise UserError(f"the value stage got {len(z)} positions from {acfg.value_games} games; raise "
                            "agent.value_games")
        held = np.zeros(len(z), bool)
        held[self.rng.permutation(len(z))[: max(1, int(round(acfg.holdout * len(z))))]] = True
        with self._bar(acfg.value_steps, "value") as bar:
            last = train_value(agent.value_net, planes[~held], z[~held], self.game, acfg.value_steps,
                               acfg.value_batch, acfg.value_lr, acfg.weight_decay, self.rng, acfg.augment,
                               self.device, self._stepper(bar, logger, "value", acfg.value_steps))
        return {"positions": len(z), "mse_heldout": value_mse(agent.value_net, planes[held], z[held], self.device),
                "mse_heldout_zero": float(np.mean(z[held] ** 2)), "mse_train": last.get("mse", float("nan"))}

    # -- the end -------------------------------------------------------------------------------------------------

    def _summary(self, wall: float, final: bool) -> dict[str, Any]:
        summary: dict[str, Any] = {"env": self.cfg.env.name, "agent": "alphago", "seed": self.cfg.seed,
                                   "stages": ",".join(self.agent.stages), "wall_time_s": round(wall, 3),
                                   **self.agent.metrics}
        if final and self.cfg.eval.episodes > 0:
            evaluation = go_evaluation(self.agent, self.env, self.cfg.eval.episodes, self.run_dir,
                                       len(self.agent.stages), seed=self.cfg.seed)
            summary.update(evaluation)
        (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        if self.cfg.progress:
            print_summary(summary, title=f"alphago on {self.cfg.env.name}")
            print(f"run directory: {self.run_dir}")
        return summary


def _time_per_call(fn: Callable[[], Any], seconds: float = 0.3) -> float:
    """Mean wall time of ``fn()`` over repeated calls for about ``seconds`` (after one warm-up call)."""
    fn()
    start, calls = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        fn()
        calls += 1
    return (time.perf_counter() - start) / max(calls, 1)


def run_pipeline(cfg: RunConfig) -> dict[str, Any]:
    """Run the AlphaGo pipeline as ``cfg.agent.stage`` says (see the module docstring); returns the summary."""
    return Pipeline(cfg).run()
