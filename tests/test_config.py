"""Every config choice composes and validates; user mistakes stop the CLI with one line naming what is valid."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, compose, subprocess_env, train_cmd
from omegaconf import OmegaConf

import train
from agents import AGENT_CONFIGS
from zoo.errors import UserError
from zoo.run.config import EnvConfig, EvalConfig, LoggerConfig, RunConfig

CONF = ROOT / "conf"


def choices(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


@pytest.mark.parametrize("group", ["env", "agent", "net", "logger", "eval"])
def test_every_choice_composes_into_frozen_dataclasses(group: str, tmp_path: Path) -> None:
    for choice in choices(group):
        cfg = compose(f"{group}={choice}", run_dir=str(tmp_path))
        assert isinstance(cfg, RunConfig)
        section = getattr(cfg, group)
        assert dataclasses.is_dataclass(section)
        with pytest.raises(dataclasses.FrozenInstanceError):
            section.kind = "changed"  # type: ignore[misc]  # every section is frozen


def test_yaml_files_list_exactly_the_dataclass_fields() -> None:
    """Every knob is visible (and overridable without '+') in its YAML file, and no YAML key is unknown."""
    for path in (CONF / "agent").glob("*.yaml"):
        node = OmegaConf.load(path)
        cls = AGENT_CONFIGS[node.name]
        assert set(node.keys()) == {f.name for f in dataclasses.fields(cls)}, path.name
    for group, cls in [("env", EnvConfig), ("eval", EvalConfig), ("logger", LoggerConfig)]:
        for path in (CONF / group).glob("*.yaml"):
            assert set(OmegaConf.load(path).keys()) <= {f.name for f in dataclasses.fields(cls)}, path.name


def test_net_defaults_to_none_and_is_chosen_by_kind() -> None:
    from agents.nets import NetConfig
    from agents.nets.wavenet import WaveNetConfig

    assert compose().net is None
    assert isinstance(compose("net=resnet", "net.blocks=2").net, NetConfig)
    assert compose("net=resnet", "net.blocks=2").net.blocks == 2
    assert isinstance(compose("net=wavenet").net, WaveNetConfig)


def test_overrides_reach_the_dataclasses() -> None:
    cfg = compose("agent=sarsa", "agent.gamma=0.5", "seed=7", "env=cliff", "eval.episodes=3", "logger=csv")
    assert (cfg.agent.name, cfg.agent.gamma, cfg.seed, cfg.env.id, cfg.eval.episodes, cfg.logger.kind) == (
        "sarsa", 0.5, 7, "zoo/CliffWalking-v0", 3, "csv")


@pytest.mark.parametrize(
    "overrides,message",
    [
        (["seed=abc"], "bad value for 'seed'"),
        (["+agent.foo=1"], "unknown key 'agent.foo'; valid keys of agent (TabularConfig): name, gamma"),
        (["agent.gamma=2"], "gamma must be in [0, 1]"),
        (["+bogus=1"], "unknown key 'bogus'; valid top-level keys"),
    ],
)
def test_validation_names_the_mistake(overrides: list[str], message: str) -> None:
    with pytest.raises(UserError) as err:
        compose(*overrides)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["agent=nope"], f"unknown agent 'nope'; valid choices for agent=: {', '.join(choices('agent'))}"),
        (["-m", "env=frozenlake4,lake"], "unknown env 'lake'; valid choices for env=: cliff,"),
        (["agent.gama=0.9"], "unknown key 'agent.gama' for agent=q; valid keys: name, gamma,"),
        (["stpes=10"], "unknown key 'stpes'; valid top-level keys and groups:"),
    ],
)
def test_cli_precheck(argv: list[str], message: str) -> None:
    problem = train.check_cli_overrides(argv)
    assert problem is not None and message in problem


def test_precheck_accepts_valid_overrides_and_search_paths(tmp_path: Path) -> None:
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "mine.yaml").write_text("name: mine\nid: CartPole-v1\n")
    valid = ["env=cliff", "agent=sarsa", "agent.gamma=0.9", "seed=3", "+env.kwargs.x=1"]
    assert train.check_cli_overrides(valid) is None
    assert train.check_cli_overrides([f"hydra.searchpath=[file://{tmp_path}]", "env=mine"]) is None
    assert train.check_cli_overrides(["env=mine"]) is not None


@pytest.mark.parametrize(
    "argv,message",
    [
        (["agent=nope"], "error: unknown agent 'nope'; valid choices for agent=: " + ", ".join(choices("agent"))),
        (["seed=abc"], "error: bad value for 'seed'"),
        (["env=gym", "env.id=NoSuchEnv-v0"], "error: cannot make env 'NoSuchEnv-v0'"),
        (["resume=/nonexistent/run"], "error: resume=/nonexistent/run: no such checkpoint file or run directory"),
    ],
)
def test_cli_user_mistakes_print_one_line_and_exit_2(argv: list[str], message: str, tmp_path: Path) -> None:
    proc = subprocess.run(train_cmd(*argv, "logger=none", "progress=false", "steps=10",
                                    f"hydra.run.dir={tmp_path}/run"),
                          capture_output=True, text=True, env=subprocess_env(), cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith(message), proc.stderr
