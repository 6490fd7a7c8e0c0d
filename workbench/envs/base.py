"""The text-environment protocol (Gymnasium style) and the registry of built-in environments.

An environment is any object with

    reset(seed=None) -> (observation: str, info: dict)
    step(action: str) -> (observation: str, reward: float, terminated: bool, truncated: bool, info: dict)

and optionally `snapshot() -> state` / `restore(state)` for cheap backtracking (without them the
engine replays the path's actions from `reset()`), `task: str` (the default task text),
`actions: list[str] | None` (the currently valid actions, when the set is small) and `name`.
An invalid action is not an exception: it returns an observation that says why it was invalid.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from .. import validate
from ..errors import ConfigError
from ..registry import build


@runtime_checkable
class TextEnv(Protocol):
    def reset(self, seed: int | None = None) -> tuple[str, dict[str, Any]]: ...

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]: ...


BUILTIN_ENVS: dict[str, str] = {
    "gridworld": "workbench.envs.gridworld:GridWorld",
    "game24": "workbench.envs.game24:Game24",
    "game24-tools": "workbench.tools.actions:game24_tools",
    "gridworld-tools": "workbench.tools.actions:gridworld_tools",
}


def env_names() -> list[str]:
    return sorted(BUILTIN_ENVS)


def make_env(spec: str | Any, **options: Any) -> Any:
    """A built-in env by name (with options such as `seed`), or `spec` itself if it is an env."""
    if not isinstance(spec, str):
        if not isinstance(spec, TextEnv):
            raise ConfigError(
                f"{type(spec).__name__} is not an environment: it needs reset() and step(action)"
            )
        return spec
    if "seed" in options:
        options["seed"] = validate.number("seed", options["seed"], integer=True, optional=True)
    return build("env", BUILTIN_ENVS, spec, f"{', '.join(env_names())} or an env object", **options)


def can_snapshot(env: Any) -> bool:
    return callable(getattr(env, "snapshot", None)) and callable(getattr(env, "restore", None))
