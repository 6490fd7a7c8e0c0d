"""The registry: built-ins first, then plugins from entry points (found lazily, cached), then
`module:attr` specs; a stored run with a plugin strategy and env resumes by name."""

from __future__ import annotations

import importlib.metadata
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plugin_dist import installed
from toys import react

from workbench import registry
from workbench.core.session import Session
from workbench.envs.base import make_env
from workbench.envs.gridworld import GridWorld
from workbench.errors import ConfigError
from workbench.llm.scripted import ScriptedModel
from workbench.memory.base import make_memory
from workbench.strategies.base import make_strategy
from workbench.strategies.react import ReAct


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A test distribution with workbench entry points, installed on sys.path for one test."""
    yield from installed(tmp_path / "site", monkeypatch)


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The groups `importlib.metadata.entry_points` was asked for, in order."""
    asked: list[str] = []
    real = importlib.metadata.entry_points

    def counting(**kw: Any) -> Any:
        asked.append(kw.get("group", ""))
        return real(**kw)

    monkeypatch.setattr(importlib.metadata, "entry_points", counting)
    registry.clear_cache()
    return asked


def test_plugin_names_by_kind_or_group(plugins):
    assert registry.plugin_names("env") == ["broken-env", "my-env"]
    assert registry.plugin_names("workbench.envs") == ["broken-env", "my-env"]
    assert registry.plugin_names("strategy") == ["my-react"]
    assert registry.plugin_names("memory") == ["my-window"]
    assert registry.plugin_names("workbench.tools") == ["shout"]
    assert registry.plugin_source("strategy", "my-react") == f"{plugins}.plugins:MyReAct ({plugins})"
    with pytest.raises(ValueError, match="valid: env, strategy, memory, tool"):
        registry.plugin_names("widgets")


def test_builtins_never_look_at_entry_points_and_plugins_load_once(plugins, lookups):
    assert isinstance(make_env("gridworld", seed=1), GridWorld)
    assert make_strategy("react").name == "react" and make_memory("diff").name == "diff"
    assert lookups == []
    assert f"{plugins}.plugins" not in sys.modules  # nothing of the plugin imported yet
    first, second = make_strategy("my-react"), make_strategy("my-react")
    assert type(first) is type(second) and first is not second and isinstance(first, ReAct)
    assert first.name == "my-react"
    assert lookups == ["workbench.strategies"]  # found once, then cached
    registry.clear_cache()
    make_strategy("my-react")
    assert lookups == ["workbench.strategies", "workbench.strategies"]


def test_plugins_take_options_and_an_env_without_seed_gets_none(plugins):
    env = make_env("my-env", seed=3)  # PlugCounter() takes no seed: the seed is left out
    assert env.name == "my-env" and env.reset() == ("n=0", {})
    memory = make_memory("my-window", window=2)
    assert memory.name == "my-window" and memory.window == 2
    assert registry.load_plugin("tool", "shout")("hi") == "HI"


def test_unknown_names_list_builtins_and_plugins(plugins):
    with pytest.raises(ConfigError) as info:
        make_strategy("nope")
    message = str(info.value)
    assert "\n" not in message
    assert "unknown strategy 'nope'; valid: react, codeact, bfs" in message and "plugins: my-react" in message
    with pytest.raises(ConfigError, match=r"valid: game24, .*gridworld.*plugins: broken-env, my-env"):
        make_env("mars")


def test_a_plugin_that_fails_to_load_is_one_line(plugins):
    with pytest.raises(ConfigError) as info:
        make_env("broken-env")
    message = str(info.value)
    assert "\n" not in message and isinstance(info.value.__cause__, ImportError)
    assert message.startswith("env plugin 'broken-env' (no_such_module_anywhere:Env) failed to load")


def test_module_attr_specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "wb_spec_envs.py").write_text(
        textwrap.dedent(
            """
            from workbench.envs.gridworld import GridWorld

            def small(seed=0):
                return GridWorld(seed=seed)

            def failing():
                raise RuntimeError("no maze today")

            class Holder:
                make = staticmethod(small)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "wb_spec_envs", raising=False)
    assert isinstance(make_env("wb_spec_envs:small", seed=2), GridWorld)
    assert isinstance(make_env("wb_spec_envs:Holder.make"), GridWorld)
    assert make_strategy("workbench.strategies.react:ReAct").name == "react"
    wrong = {
        "wb_no_such_module:x": "env 'wb_no_such_module:x': cannot import module 'wb_no_such_module'",
        "wb_spec_envs:nothing": "env 'wb_spec_envs:nothing': module 'wb_spec_envs' has no attribute 'nothing'",
        "wb_spec_envs:failing": "env 'wb_spec_envs:failing': RuntimeError: no maze today",
    }
    for spec, message in wrong.items():
        with pytest.raises(ConfigError) as info:
            make_env(spec)
        assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_a_stored_run_with_plugin_strategy_and_env_resumes_by_name(plugins, tmp_path: Path):
    db = tmp_path / "runs.sqlite"
    s = Session(env="my-env", strategy="my-react", model=ScriptedModel([react("inc")]), store=db)
    assert s.config["strategy"] == "my-react" and s.config["env"] == "my-env"
    assert s.step().observation == "n=1" and not s.done
    s.store.close()

    registry.clear_cache()  # as in a new process: the plugin is found again by name
    resumed = Session.resume(s.run_id, store=db, model=ScriptedModel([react("inc")]))
    try:
        assert type(resumed.strategy).__name__ == "MyReAct" and resumed.strategy.name == "my-react"
        assert type(resumed.env).__name__ == "PlugCounter"
        node = resumed.step()
        assert node.observation == "n=2" and node.terminal and resumed.done
        assert [n.depth for n in resumed.tree.path()] == [0, 1, 2]
    finally:
        resumed.store.close()


def test_a_strategy_object_is_stored_by_its_name_so_a_plugin_class_resumes(plugins, tmp_path: Path):
    cls = registry.load_plugin("strategy", "my-react")
    db = tmp_path / "runs.sqlite"
    s = Session(env="my-env", strategy=cls(), model=ScriptedModel([react("inc")]), store=db)
    s.step()
    s.store.close()
    resumed = Session.resume(s.run_id, store=db, model=ScriptedModel([react("inc")]))
    try:
        assert isinstance(resumed.strategy, cls) and resumed.step().terminal
    finally:
        resumed.store.close()
