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
        with_net = ["agent=dqn"] if group == "net" else []  # net= is refused for agents without one
        cfg = compose(f"{group}={choice}", *with_net, run_dir=str(tmp_path))
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
    assert isinstance(compose("agent=dqn", "net=resnet", "net.blocks=2").net, NetConfig)
    assert compose("agent=dqn", "net=resnet", "net.blocks=2").net.blocks == 2
    assert isinstance(compose("agent=ppo", "net=wavenet").net, WaveNetConfig)


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


BAD_OVERRIDES = [
    (["agent=nope"], "unknown agent 'nope'; valid choices for agent=: " + ", ".join(choices("agent"))),
    (["stpes=10"], "unknown key 'stpes'; valid top-level keys and groups:"),
    (["agent.gama=0.9"], "unknown key 'agent.gama' for agent=q; valid keys: name, gamma,"),
    (["env.kwargs.slipp=0"], "unknown env.kwargs 'slipp' for env=frozenlake8 (zoo/FrozenLake8x8-v0); valid: map_name, "
                             "slip,"),
    (["+env.kwargs.slipp=0"], "unknown env.kwargs 'slipp' for env=frozenlake8"),
    (["env=gym", "env.kwargs.foo=1"], "unknown env.kwargs 'foo' for env=gym (CartPole-v1); valid: sutton_barto_reward"),
    (["env=gym", "env.id=NoSuchEnv-v0"], "cannot make env 'NoSuchEnv-v0'"),
    (["seed=-1"], "seed must be a whole number >= 0 (got -1)"),
    (["env=go5", "agent=zero", "agent.c_puct=inf"], "bad value for 'agent.c_puct': inf is not a finite number"),
    (["env=go5", "agent=zero", "agent.train_ratio=nan"], "bad value for 'agent.train_ratio': nan is not a finite"),
    (["env=go5", "agent=zero", "agent.c_puct=-1"], "invalid agent config: SearchConfig: c_puct and dirichlet_alpha"),
    (["env=go5", "agent=zero", "agent.temperature_moves=-3"], "invalid agent config: ZeroConfig: temperature_moves"),
    (["agent=dqn", "agent.lr=inf"], "bad value for 'agent.lr': inf is not a finite number"),
    (["seed=1.5"], "bad value for 'seed'"),
    (["seed=abc"], "bad value for 'seed'"),
    (["seed=0,1"], "Ambiguous value for argument 'seed=0,1'"),
    (["-m", "seed=0,-1"], "seed must be a whole number >= 0 (got -1)"),
    (["steps=0"], "steps must be >= 1 (got 0)"),
    (["eval.episodes=-1"], "invalid eval config: eval.episodes, eval.first and eval.first_episodes must be >= 0"),
    (["logger.kind=foo"], "invalid logger config: unknown logger 'foo'; valid loggers: wandb, csv, none"),
    (["device=tpu"], "unknown device 'tpu'; valid devices: auto, cpu, cuda, cuda:N"),
    (["net=resnet", "agent=q"], "net=resnet but agent=q has no net to build from it; drop net=, or pick an agent "
                                "with one: dqn,"),
    (["compress=int8", "agent=dqn"], "compress=int8 compresses the self-play net of agent=zero; agent=dqn has no "
                                     "self-play"),
    (["env=gym", "agent=q"], "agent=q on env=gym: tabular agents need a Discrete observation space"),
    (["resume=/nonexistent/run"], "resume=/nonexistent/run: no such checkpoint file or run directory"),
]
"""Bad command lines and the start of the one line each must print; ``agent=q`` on CartPole is only found when the
agent is built (after Hydra made its folder, which is then removed again)."""


@pytest.mark.parametrize("argv,message", BAD_OVERRIDES, ids=[" ".join(argv) for argv, _ in BAD_OVERRIDES])
def test_cli_user_mistakes_print_one_line_exit_2_and_leave_no_folder(argv: list[str], message: str,
                                                                      tmp_path: Path) -> None:
    root = tmp_path / "runs"
    proc = subprocess.run(train_cmd(*argv, "logger=none", "progress=false", "steps=10" if "steps=0" not in argv
                                    else "eval.every=0", f"hydra.run.dir={root}/run",
                                    f"hydra.sweep.dir={root}/sweep"),
                          capture_output=True, text=True, env=subprocess_env(), cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: " + message), proc.stderr
    assert not root.exists() and sorted(p.name for p in tmp_path.iterdir()) == [], list(tmp_path.rglob("*"))


def test_env_kwargs_without_plus_reach_the_env() -> None:
    """``env.kwargs.KEY=VALUE`` sets a constructor keyword the env's YAML file does not list (no ``+`` needed)."""
    assert train.prepare_argv(["env.kwargs.komi=5.5", "+env.kwargs.slip=0", "seed=1"]) == [
        "++env.kwargs.komi=5.5", "++env.kwargs.slip=0", "seed=1"]
    assert compose("env=go5", "++env.kwargs.komi=5.5").env.kwargs["komi"] == 5.5


def test_env_names_of_gym_runs_are_their_ids() -> None:
    from zoo.run.config import env_run_name

    assert env_run_name("gym", "CartPole-v1") == "gym-CartPole-v1"
    assert env_run_name("gym", "mypkg:my/Corridor-v0") == "gym-my-Corridor-v0"
    assert env_run_name("go9", "zoo/Go9x9-v0") == "go9"
    assert compose("env=gym", "env.id=Acrobot-v1").env.name == "gym"  # the choice stays the config's name
    from zoo.reporting.run_data import RunData

    old_run = RunData(Path("r"), {"env": {"name": "gym", "id": "CartPole-v1"}, "agent": {"name": "dqn"}}, [])
    assert (old_run.key("env"), old_run.key("agent")) == ("gym-CartPole-v1", "dqn")  # runs filed as 'gym' too
