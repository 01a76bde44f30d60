"""Train any agent on any env: ``python train.py env=NAME agent=NAME [key=value ...]``.

The only module besides the tests that touches Hydra: it composes ``conf/``, validates the result into the frozen
dataclasses of :mod:`zoo.run.config` (unknown keys and wrong types fail here, before any work, with one line that
names the valid choices), and hands the :class:`~zoo.run.config.RunConfig` to :func:`zoo.launch.run`.

    python train.py env=frozenlake8 agent=q
    python train.py -m agent=q,sarsa env=frozenlake8,cliff seed=0,1,2
    python train.py env=cliff agent=sarsa resume=runs/cliff/sarsa/20261128-101500-000000
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import sys
import warnings
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # what torch, Inductor and wandb tell their developers says nothing to a user here
    warnings.filterwarnings("ignore", module=r"(torch|torchao|wandb|onnx|onnxruntime)(\.|$)")
    os.environ.setdefault("TORCH_LOGS", "-dynamo,-inductor")  # torch sets these two loggers' levels from it
    for _name in ("torch.utils._pytree", "torch.utils.cpp_extension"):
        logging.getLogger(_name).setLevel(logging.ERROR)

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException, ValidationError

from agents.compress.config import CompressConfig
from zoo.errors import ConfigError, UserError
from zoo.run.checkpoint import remove_unused_run_dir
from zoo.run.config import (
    EnvConfig,
    EvalConfig,
    LoggerConfig,
    RunConfig,
    RunnerConfig,
    agent_config_class,
    env_run_name,
    field_names,
    net_config_class,
)

OmegaConf.register_new_resolver("env_run_name", env_run_name, replace=True)
"""``${env_run_name:${env.name},${env.id}}`` in ``conf/config.yaml``: ``env=gym`` runs are filed by their id."""

CONF_DIR = Path(__file__).resolve().parent / "conf"
SECTIONS: dict[str, type | None] = {"env": EnvConfig, "agent": None, "net": None, "logger": LoggerConfig,
                                    "eval": EvalConfig, "runner": RunnerConfig, "compress": CompressConfig}
"""Config groups and their dataclasses (the agent's depends on its ``name``, the net's on its ``kind``)."""
OPTIONAL_SECTIONS = ("net",)
"""Groups whose default is null: agents with a network use their own default net unless ``net=`` is given."""


def _section_class(section: str, node: Any) -> type:
    cls = SECTIONS[section]
    if cls is not None:
        return cls
    if section == "agent":
        return agent_config_class(str(node.get("name", "?")))
    return net_config_class(str(node.get("kind", "?")))


def to_run_config(cfg: DictConfig, run_dir: str) -> RunConfig:
    """Validate the composed config into a :class:`RunConfig`; :class:`UserError` names any mistake."""
    parts: dict[str, Any] = {}
    for section in SECTIONS:
        node = cfg.get(section)
        if node is None and section in OPTIONAL_SECTIONS:
            parts[section] = None
            continue
        parts[section] = _validate(_section_class(section, node), node, section)
    top = {k: v for k, v in cfg.items() if k not in SECTIONS}
    top["run_dir"] = run_dir
    top_fields = [f for f in field_names(RunConfig) if f not in SECTIONS]
    unknown = sorted(set(top) - set(top_fields))
    if unknown:
        raise UserError(f"unknown key '{unknown[0]}'; valid top-level keys: {', '.join(top_fields)}")
    typed = _validate(RunConfig, OmegaConf.create(top), "", partial=True)
    try:
        return RunConfig(**{**{f: getattr(typed, f) for f in top_fields}, **parts})
    except (ValueError, TypeError) as exc:  # RunConfig's own checks (seed, steps, net= and compress= fit the agent)
        raise ConfigError(str(exc)) from None


def _validate(cls: type, node: Any, section: str, partial: bool = False) -> Any:
    """Merge ``node`` into ``cls``'s schema and build the dataclass; one-line errors for bad keys or types."""
    schema = OmegaConf.structured(cls)
    OmegaConf.set_readonly(schema, False)
    prefix = f"{section}." if section else ""
    try:
        merged = OmegaConf.merge(schema, node)
        if partial:
            return merged
        built = OmegaConf.to_object(merged)
    except ConfigKeyError as exc:
        key = getattr(exc, "key", None) or str(exc).split("'")[1]
        raise UserError(f"unknown key '{prefix}{key}'; valid keys of {section or 'the run'} "
                        f"({cls.__name__}): {', '.join(field_names(cls))}") from None
    except ValidationError as exc:
        raise UserError(f"bad value for '{prefix}{exc.full_key}': {str(exc.msg).splitlines()[0]}") from None
    except OmegaConfBaseException as exc:
        raise UserError(f"invalid {section or 'run'} config: {str(exc).splitlines()[0]}") from None
    except (ValueError, TypeError) as exc:  # the dataclass's own checks (__post_init__)
        raise UserError(f"invalid {section or 'run'} config: {exc}") from None
    for field in dataclasses.fields(built):
        value = getattr(built, field.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"bad value for '{prefix}{field.name}': {value} is not a finite number")
    return built


def check_cli_overrides(argv: list[str]) -> str | None:
    """Catch ``section.key=value`` overrides naming a key no config has, before Hydra composes anything.

    Hydra's own message for these does not list the valid keys; this one does. Returns the message or ``None``.
    Overrides with ``+``/``~`` prefixes, deeper paths and ``hydra.*`` are left to Hydra.
    """
    choices = _group_choices(argv)
    conf_dirs = _conf_dirs(argv)
    for section, names in choices.items():
        if conf_dirs is None:
            break  # a pkg:// search path: let Hydra resolve the choices
        valid = sorted({p.stem for d in conf_dirs for p in (d / section).glob("*.yaml")})
        for name in names:
            if name not in valid:
                return f"unknown {section} '{name}'; valid choices for {section}=: {', '.join(valid)}"
    for arg in argv:
        if arg.startswith(("-", "+", "~")) or "=" not in arg:
            continue
        key = arg.split("=", 1)[0]
        parts = key.split(".")
        if parts[0] == "hydra" or len(parts) > 2:
            continue
        if len(parts) == 1:
            valid = [f for f in field_names(RunConfig) if f != "run_dir"]
            if key not in valid:
                return f"unknown key '{key}'; valid top-level keys and groups: {', '.join(valid)}"
            continue
        section, name = parts
        if section not in SECTIONS:
            return f"unknown config group '{section}'; valid groups: {', '.join(SECTIONS)}"
        for choice in choices.get(section, []):
            valid = _valid_keys(section, choice, conf_dirs or [CONF_DIR])
            if valid is not None and name not in valid:
                return f"unknown key '{key}' for {section}={choice}; valid keys: {', '.join(valid)}"
    return None


def _group_choices(argv: list[str]) -> dict[str, list[str]]:
    defaults = OmegaConf.load(CONF_DIR / "config.yaml").get("defaults", [])
    choices = {k: [str(v)] for d in defaults if isinstance(d, dict | DictConfig) for k, v in d.items()
               if v is not None and k in SECTIONS}
    for arg in argv:
        key, _, value = arg.partition("=")
        if key in SECTIONS and value:
            choices[key] = value.split(",")
    return choices


def _conf_dirs(argv: list[str]) -> list[Path] | None:
    """``conf/`` plus the ``file://`` folders of ``hydra.searchpath=[...]``; ``None`` if another provider is used."""
    dirs = [CONF_DIR]
    for arg in argv:
        key, _, value = arg.lstrip("+").partition("=")
        if key == "hydra.searchpath":
            for item in value.strip("[]").split(","):
                item = item.strip().strip("'\"")
                if not item.startswith("file://"):
                    return None
                dirs.append(Path(item.removeprefix("file://")))
    return dirs


def _valid_keys(section: str, choice: str, conf_dirs: list[Path]) -> list[str] | None:
    path = next((d / section / f"{choice}.yaml" for d in conf_dirs if (d / section / f"{choice}.yaml").is_file()),
                None)
    if path is None:
        return None
    try:
        return field_names(_section_class(section, OmegaConf.load(path)))
    except UserError:
        return None


HYDRA_COMMAND_FLAGS = ("-m", "--multirun")
"""The only command-line flags of a training run; any other (``--help``, ``--cfg``, ``-cn`` ...) is Hydra's own
command and skips :func:`preflight`."""
MAX_PREFLIGHT_JOBS = 256
"""A multirun's combinations checked before Hydra starts (the rest are checked as each job starts)."""


QUOTED_LISTS = ("agent.board_mix",)
"""Keys whose value is itself a comma-separated list (``agent.board_mix=5:0.2,7:0.3,9:0.5``): :func:`prepare_argv`
quotes it, since Hydra reads an unquoted comma as a sweep. A quoted value (``'5:0.5,9:0.5','7:0.5,9:0.5'`` sweeps
two mixes under ``-m``) is left as it is."""


def prepare_argv(argv: list[str]) -> list[str]:
    """``env.kwargs.KEY=VALUE`` and ``+env.kwargs.KEY=VALUE`` -> ``++env.kwargs.KEY=VALUE``: an env keyword its YAML
    file does not list is set like one it does, with or without ``+`` (the names are checked against the env's
    constructor instead, with the valid ones listed). ``KEY=A,B`` for the keys of :data:`QUOTED_LISTS` ->
    ``KEY='A,B'``: one value, not a sweep."""
    out = []
    for arg in argv:
        key, eq, value = arg.partition("=")
        if key.removeprefix("+").startswith("env.kwargs.") and eq:
            arg = f"++{arg.removeprefix('+')}"
        elif key in QUOTED_LISTS and "," in value and not any(c in value for c in "'\"[]()"):
            arg = f"{key}='{value}'"
        out.append(arg)
    return out


def preflight(argv: list[str]) -> tuple[str | None, list[str]]:
    """Compose and check every run ``argv`` asks for, before Hydra makes a folder: ``(error line or None, argv for
    Hydra)``.

    Each job of a multirun is composed with Hydra's compose API and validated into a :class:`RunConfig`; the env's
    constructor, ``resume=`` and the device are checked (:func:`zoo.launch.check`). A single ``resume=RUN_DIR`` run
    gets ``hydra.run.dir=RUN_DIR`` and no ``.hydra/`` subfolder, so it writes into the resumed folder only (not a
    run on another env: that is a warm start, a new run in a new folder).
    """
    if any(arg.startswith("-") and arg not in HYDRA_COMMAND_FLAGS for arg in argv):
        return None, argv
    if any(arg.lstrip("+~").startswith(("hydra/sweeper", "hydra.sweeper")) for arg in argv):
        return None, argv  # another sweeper's sweeps: Hydra expands them, and each job is checked as it starts
    from hydra import compose, initialize_config_dir
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from zoo.launch import check, resumed_run_dir

    multirun = any(arg in HYDRA_COMMAND_FLAGS for arg in argv)
    overrides = [arg for arg in argv if arg not in HYDRA_COMMAND_FLAGS]
    configs: list[RunConfig] = []
    try:
        jobs = [overrides]
        if multirun:
            parsed = OverridesParser.create().parse_overrides(overrides)
            jobs = [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            for job in jobs[:MAX_PREFLIGHT_JOBS]:
                cfg = compose(config_name="config", overrides=list(job))
                run_cfg = to_run_config(cfg, "")
                check(run_cfg)
                configs.append(run_cfg)
    except UserError as exc:
        return str(exc), argv
    except (HydraException, OmegaConfBaseException) as exc:
        return _one_line(exc), argv
    if not multirun and configs and configs[0].resume:
        resumed = resumed_run_dir(configs[0].resume, configs[0].env.id)
        if resumed is not None:
            keep = [a for a in argv if not a.lstrip("+").startswith(("hydra.run.dir=", "hydra.output_subdir="))]
            return None, [*keep, f"hydra.run.dir={_quoted(str(resumed.resolve()))}", "hydra.output_subdir=null"]
    return None, argv


def _one_line(exc: BaseException) -> str:
    """Hydra's and OmegaConf's messages span lines (the problem, a hint, the full key): one line of them."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(("full_key:", "object_type", "Set the environment"))]
    return " ".join(lines) or type(exc).__name__


def _quoted(value: str) -> str:
    """A Hydra override value: quoted, so any path survives the override grammar."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> float | None:
    """Hydra entry point: validate, then run. User mistakes print one line and exit with status 2; the folder Hydra
    made for the run is removed again if nothing was written into it."""
    from zoo.launch import run  # after validation imports are cheap; the launcher pulls in torch

    output_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        run_cfg = to_run_config(cfg, str(output_dir))
        summary = run(run_cfg)
    except UserError as exc:
        if HydraConfig.get().output_subdir is not None:  # not a resumed run's own folder
            remove_unused_run_dir(output_dir, empty_parents=True)
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    value = summary.get("eval/return_mean")
    return float(value) if value is not None else None


if __name__ == "__main__":
    args = prepare_argv(sys.argv[1:])
    problem = check_cli_overrides(args)
    if problem is None:
        problem, args = preflight(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        raise SystemExit(2)
    sys.argv[1:] = args
    main()
