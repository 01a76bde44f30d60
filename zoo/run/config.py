"""Frozen run configuration: what ``train.py`` validates the composed Hydra config into.

Below ``train.py`` no code sees Hydra or OmegaConf: the runner receives a :class:`RunConfig` whose fields are
plain dataclasses, so a typo or a wrong type fails before any work starts. Each agent defines its own config
dataclass next to its code (``agents.AGENT_CONFIGS`` maps ``agent=NAME`` to it).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from agents import AGENT_CONFIGS
from agents.sb3 import SB3Config
from agents.tabular import PlannerConfig, TabularConfig
from agents.zero.config import ZeroConfig
from zoo.errors import ConfigError

GYM_ENV_NAME = "gym"
"""The ``env=gym`` choice: any Gymnasium id; its runs are named by the id (:func:`env_run_name`)."""


def env_run_name(name: str, env_id: str) -> str:
    """The name a run of ``env=NAME`` with Gymnasium id ``env_id`` is filed and reported under.

    ``env=gym`` runs take their id: ``gym-CartPole-v1``, ``gym-my-Corridor-v0`` for ``mypkg:my/Corridor-v0``
    (the importing package is dropped, ``/`` and other characters a folder name should not hold become ``-``).
    Every other choice keeps its own name.
    """
    if name != GYM_ENV_NAME or not env_id:
        return name
    bare = env_id.rsplit(":", 1)[-1]
    return f"{GYM_ENV_NAME}-" + (re.sub(r"[^A-Za-z0-9._-]+", "-", bare).strip("-") or "env")


@dataclass(frozen=True)
class EnvConfig:
    """Which environment to train on (one file per choice in ``conf/env/``)."""

    name: str = "frozenlake8"
    """Short name of the choice; names the run directory and the wandb group."""
    id: str = "zoo/FrozenLake8x8-v0"
    """Gymnasium id. ``package:ns/Name-vN`` imports ``package`` first, which is how user envs register."""
    kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments passed to ``gymnasium.make`` (e.g. ``slip`` for gridworlds, ``komi`` for Go)."""
    max_episode_steps: int | None = None
    """Episode cap; ``None`` keeps the registered one."""

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("env.id is empty; give a Gymnasium id (env=gym env.id=CartPole-v1)")
        if self.max_episode_steps is not None and self.max_episode_steps < 1:
            raise ValueError(f"env.max_episode_steps must be >= 1 or null (got {self.max_episode_steps})")


@dataclass(frozen=True)
class LoggerConfig:
    """Where metrics go. Metrics always land in the run directory as JSONL and CSV; ``kind`` adds wandb."""

    kind: str = "wandb"
    """``wandb`` (offline unless logged in), ``csv`` (run directory only) or ``none`` (nothing but the summary)."""
    project: str = "zoo"
    """wandb project."""
    entity: str | None = None
    """wandb entity (user or team); ``None`` uses the logged-in default."""
    mode: str = "auto"
    """wandb mode: ``auto`` (online when logged in or ``WANDB_MODE=online``, else offline), ``online``, ``offline``."""
    group: str | None = None
    """wandb group; ``None`` groups by env so agents on one env sit side by side."""
    tags: list[str] = field(default_factory=list)
    """Extra wandb tags."""

    def __post_init__(self) -> None:
        if self.kind not in LOGGER_KINDS:
            raise ValueError(f"unknown logger '{self.kind}'; valid loggers: {', '.join(LOGGER_KINDS)}")
        if self.mode not in WANDB_MODES:
            raise ValueError(f"unknown wandb mode '{self.mode}'; valid modes: {', '.join(WANDB_MODES)}")


LOGGER_KINDS = ("wandb", "csv", "none")
WANDB_MODES = ("auto", "online", "offline", "disabled")


@dataclass(frozen=True)
class EvalConfig:
    """Greedy evaluation of the agent during and after training, on its own seeded env."""

    every: int = 20_000
    """Evaluate every this many env steps (0: only at the end)."""
    episodes: int = 100
    """Episodes per evaluation (0: no evaluation episodes or games; the previous-best match keeps its own count)."""
    first: int = 0
    """A first, smaller evaluation at this many env steps, before the regular ones, so that early win rates show
    within minutes (0, or not below ``every``: none). Against the previous best it plays no games."""
    first_episodes: int = 10
    """Episodes (games per opponent) of that first evaluation."""

    def __post_init__(self) -> None:
        if self.every < 0:
            raise ValueError(f"eval.every must be >= 0 (0: only at the end; got {self.every})")
        if self.episodes < 0 or self.first_episodes < 0 or self.first < 0:
            raise ValueError(f"eval.episodes, eval.first and eval.first_episodes must be >= 0 (got {self.episodes}, "
                             f"{self.first}, {self.first_episodes})")


RUNNER_KINDS = ("local", "ray")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")


@dataclass(frozen=True)
class RunnerConfig:
    """How and where the work runs (``conf/runner/``): one process, or self-play on Ray actors; GPU settings.

    ``torchrun --nproc_per_node=K train.py ...`` turns any run into K data-parallel ranks (``zoo/scale/torchrun.py``).
    """

    kind: str = "local"
    """``local`` (collect and train in this process) or ``ray`` (self-play on Ray actors,
    ``zoo/scale/ray_selfplay.py``)."""
    workers: int = 2
    """Ray: self-play worker actors."""
    address: str | None = None
    """Ray: ``None`` starts a local Ray instance (unless ``RAY_ADDRESS`` is set); ``auto`` or ``HOST:PORT`` joins
    a running cluster."""
    cpus_per_worker: float = 1.0
    """Ray: CPUs reserved by each worker (also its torch threads, at least 1)."""
    gpus_per_worker: float = 0.0
    """Ray: GPUs reserved by each worker (a fraction shares one GPU); above 0 the workers search on CUDA."""
    max_restarts: int = 3
    """Ray: restarts of a crashed worker (and failed collects per worker) before the run stops with a message."""
    precision: str = "auto"
    """Autocast on CUDA for self-play inference and training: ``auto`` (bf16 where the GPU has it, else fp16),
    ``bf16``, ``fp16`` (with gradient scaling) or ``fp32``. The CPU always computes in fp32."""
    compile: bool = False
    """``torch.compile`` the net for inference and training (slow first steps; pays off on a GPU)."""

    def __post_init__(self) -> None:
        if self.kind not in RUNNER_KINDS:
            raise ValueError(f"unknown runner '{self.kind}'; valid runners: {', '.join(RUNNER_KINDS)}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision '{self.precision}'; valid: {', '.join(PRECISIONS)}")
        if self.workers < 1 or self.cpus_per_worker < 0 or self.gpus_per_worker < 0 or self.max_restarts < 0:
            raise ValueError("runner: workers must be >= 1; cpus_per_worker, gpus_per_worker and max_restarts >= 0")


@dataclass(frozen=True)
class RunConfig:
    """One training run: ``python train.py env=NAME agent=NAME [key=value ...]``."""

    env: EnvConfig = field(default_factory=EnvConfig)
    """The environment (``conf/env/``)."""
    agent: Any = None
    """The agent's own config dataclass (``conf/agent/``; see ``agents.AGENT_CONFIGS``)."""
    net: Any = None
    """The network (``conf/net/``; an ``agents.nets`` config dataclass) for agents that have one."""
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    """Metric sinks (``conf/logger/``)."""
    eval: EvalConfig = field(default_factory=EvalConfig)
    """Evaluation schedule (``conf/eval/``)."""
    compress: Any = None
    """Self-play with a compressed copy of the net (``conf/compress/``; ``agents.compress.CompressConfig``), for
    agents that self-play (zero); ``None`` or method ``none``: the net as trained."""
    runner: RunnerConfig = field(default_factory=RunnerConfig)
    """Where the work runs (``conf/runner/``): this process or Ray actors; precision and compile on a GPU."""
    seed: int = 0
    """Seeds the env, the agent's generator, numpy, random and torch."""
    device: str = "auto"
    """``auto`` (CUDA when present), ``cpu`` or ``cuda``."""
    steps: int = 200_000
    """Training budget in env steps; a resumed run continues until it is reached."""
    checkpoint_every: int = 20_000
    """Write a checkpoint every this many env steps (0: only at the end and on Ctrl-C)."""
    keep_checkpoints: int = 3
    """How many of the newest periodic checkpoints to keep."""
    resume: str | None = None
    """Checkpoint file or run directory to continue from (its newest checkpoint)."""
    progress: bool = True
    """Show a live progress bar."""
    run_dir: str = "runs/default"
    """Where config, metrics, checkpoints and wandb files go (set by ``train.py`` from Hydra's output dir)."""

    def __post_init__(self) -> None:
        counts = {"seed": self.seed, "steps": self.steps, "checkpoint_every": self.checkpoint_every,
                  "keep_checkpoints": self.keep_checkpoints}
        for key, value in counts.items():
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{key} must be a whole number (got {value!r})")
        if self.seed < 0:
            raise ValueError(f"seed must be a whole number >= 0 (got {self.seed})")
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1 (got {self.steps})")
        if self.checkpoint_every < 0:
            raise ValueError(f"checkpoint_every must be >= 0 (0: only at the end; got {self.checkpoint_every})")
        if self.keep_checkpoints < 1:
            raise ValueError(f"keep_checkpoints must be >= 1 (got {self.keep_checkpoints})")
        if self.device not in ("auto", "cpu", "cuda") and not re.fullmatch(r"cuda:\d+", self.device):
            raise ValueError(f"unknown device '{self.device}'; valid devices: auto, cpu, cuda, cuda:N")
        if self.net is not None and isinstance(self.agent, NETLESS):
            with_net = [n for n, c in AGENT_CONFIGS.items() if not issubclass(c, NETLESS)]
            raise ValueError(f"net={self.net.kind} but agent={self.agent.name} has no net to build "
                             f"from it; drop net=, or pick an agent with one: {', '.join(with_net)}")
        if isinstance(self.agent, ZeroConfig):
            self.agent.check_net(self.net)  # agent.board_mix needs one net for every board size
        method = "none" if self.compress is None else self.compress.method
        if method != "none" and self.agent is not None and self.agent.name not in SELFPLAY_AGENTS:
            raise ValueError(f"compress={method} compresses the self-play net of agent=zero; agent="
                             f"{self.agent.name} has no self-play (use compress=none, or python -m agents.compress "
                             "on a checkpoint)")


NETLESS = (TabularConfig, PlannerConfig, SB3Config)
"""Agent configs that build no net of ``agents.nets`` (tabular, planning, SB3's own policies): ``net=`` is refused."""
SELFPLAY_AGENTS = ("zero",)
"""Agents whose ``collect`` is self-play with a net that ``compress=`` can compress."""


def agent_config_class(name: str) -> type:
    """The config dataclass for ``agent=NAME``; :class:`ConfigError` listing the valid names otherwise."""
    try:
        return AGENT_CONFIGS[name]
    except KeyError:
        raise ConfigError(f"unknown agent '{name}'; valid agents: {', '.join(sorted(AGENT_CONFIGS))}") from None


def net_config_class(kind: str) -> type:
    """The config dataclass for ``net=NAME`` (its ``kind`` field); :class:`ConfigError` listing valid kinds."""
    from agents.nets import KINDS, NetConfig
    from agents.nets.wavenet import WaveNetConfig

    if kind == "wavenet":
        return WaveNetConfig
    if kind in KINDS:
        return NetConfig
    raise ConfigError(f"unknown net kind '{kind}'; valid kinds: {', '.join([*KINDS, 'wavenet'])}")


def field_names(cls: type) -> list[str]:
    """Public field names of a config dataclass, in declaration order."""
    return [f.name for f in dataclasses.fields(cls)]


def to_plain_dict(cfg: Any) -> Any:
    """A JSON-ready copy of a config dataclass tree (for checkpoints, wandb and ``config.json``)."""
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        return {f.name: to_plain_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, dict):
        return {k: to_plain_dict(v) for k, v in cfg.items()}
    if isinstance(cfg, (list, tuple)):
        return [to_plain_dict(v) for v in cfg]
    return cfg
