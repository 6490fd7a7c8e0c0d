"""Any gymnasium env, or any old gym-style env, as a workbench text environment.

    env = GymTextEnv(MyEnv(), task="...", action_names=["left", "right"])
    env = GymTextEnv(gymnasium.make("MiniGrid-Empty-5x5-v0"), seed=3)   # names, text, task: automatic
    env = textworld_env("game.z8")                                       # a TextWorld game file

Which envs
    A `gymnasium.Env` (wrappers included) or any object with `reset` and `step` (duck-typed; gymnasium
    need not be installed). The API is detected at run time: `reset()` may return `obs` or
    `(obs, info)` and may or may not take `seed=` (old envs get `env.seed(seed)` first when they have
    it); `step` may return gymnasium's five values or old gym's four `(obs, reward, done, info)`
    (`info["TimeLimit.truncated"]` marks a truncation). TextWorld's reward is its running score, so
    the step reward is the score's change. `GymTextEnv(env).env is env`.

Observations
    `to_text(obs)`, when given, receives every observation whole (dicts too). Otherwise: a `str` is
    used as is; `text_key="field"` takes one field of a dict; a dict shows all its fields, one
    `key: value` line each (a one-field dict shows just the value), with floats to 4 significant
    digits, small arrays and lists item by item and big ones as `<uint8 array, shape 7x7x3, values
    0..10>`, never a giant repr. A MiniGrid / BabyAI observation is written out: the heading, the
    egocentric view as a grid of letters (legend in the instructions), the objects in view with where
    they are ("red key 2 ahead, 1 left"), what the agent carries, and the mission.

Task
    `task=` when given; else the env's `task` attribute; else the first string field named mission,
    objective or goal of the reset observation or info (MiniGrid's mission, TextWorld's objective);
    else "Act in <name> to earn reward.". Reading `task` before any reset resets once to learn it (pass
    `task=` to skip). Without a seed, a mission that depends on the seed may change at the next reset;
    the observation always carries the current one.

Actions
    `actions` is the list of currently valid actions when the env lists them, else None: a list of
    strings in the last info under `admissible_commands` (TextWorld, registered by `textworld_env`),
    `valid_actions`, `available_actions`, `legal_actions` or `valid`; else the env's (or its
    `unwrapped`'s) method `valid_actions()` (called at most once per state); else a `Discrete`
    space's names or numbers.
    - `Discrete`: the model may answer the number (`"1"`) or a name (`"Go right."`; `"right"` when only
      one name says it; `"pick up"` for `pickup`). Names: `action_names=` wins; else an IntEnum class at
      `env.unwrapped.actions` that covers the space (MiniGrid's `Actions`: left, right, forward,
      pickup, drop, toggle, done); else numbers only.
    - `Text` space: the answer is passed through (whitespace collapsed) when it fits the min/max
      length; characters outside the space's charset are allowed when they are only spaces or
      punctuation (gymnasium's default charset has no space, yet commands have several words).
    - No action space (TextWorld, most old text envs): any non-empty text, spelt as in the listed
      actions when it matches one but for case.
    - Any other space: give `action_parser(text) -> action` (raise ValueError or return None when the
      text is not an action).
    An unreadable action is not an exception: the previous observation comes back with a line that says
    why and lists the valid actions (at most 30, then "... and N more"); nothing else changes.

Seeds
    `seed` is the constructor's `seed=`. `reset(seed=None)` reuses it (or the last seed a reset was
    given), so a replay from `reset()` meets the same episode; the engine calls `reset(seed=None)`
    when `env.seed` is set and passes its own seed otherwise. With no seed ever given the env decides.

Snapshots
    `snapshot()` / `restore()` exist when `snapshots=True`, or by default when the env can be
    deep-copied and does not declare state outside the Python object (`external_state = True` or
    `metadata["external_state"] = True` on the env or its `unwrapped`; TextWorld and Jericho envs are
    known to). Without them the engine replays actions from `reset()`. Turn them off with
    `snapshots=False` for any env whose state lives elsewhere (a process, a C library, a server).
    `restore()` copies the saved state into the env objects the user holds, wrapper by wrapper
    (`TimeLimit`, `OrderEnforcing`, ... down to `unwrapped`), so outside references stay live.

`close()` closes the wrapped env. MiniGrid, TextWorld: `pip install 'agent-workbench[gym]'` (MiniGrid
with gymnasium) and `pip install textworld` (Linux and macOS).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from . import gym_compat as compat

MAX_LISTED = 30  # valid actions shown after an invalid one


def _normalise(text: str) -> str:
    cleaned = " ".join(str(text).lower().replace("_", " ").split()).strip(" .!'\"`")
    if cleaned.startswith("action:"):
        cleaned = cleaned[len("action:") :].strip(" .!'\"`")
    return cleaned


def _command(text: str) -> str:
    """A free-text command: whitespace collapsed, an `Action:` prefix and wrapping quotes dropped."""
    cleaned = " ".join(str(text).split()).strip("'\"`")
    if cleaned.lower().startswith("action:"):
        cleaned = cleaned[len("action:") :].strip(" '\"`")
    return cleaned


def _can_deepcopy(obj: Any) -> bool:
    try:
        copy.deepcopy(obj)
    except Exception:  # any failure means "no snapshots": the engine falls back to replay
        return False
    return True


def bounded(actions: Sequence[str], limit: int = MAX_LISTED) -> str:
    shown = ", ".join(actions[:limit])
    return shown + (f", ... and {len(actions) - limit} more" if len(actions) > limit else "")


class GymTextEnv:
    """A text environment over a gymnasium env or an old gym-style env (see the module docstring)."""

    def __init__(
        self,
        env: Any,
        *,
        task: str = "",
        instructions: str = "",
        action_names: Sequence[str] | None = None,
        action_parser: Callable[[str], Any] | None = None,
        text_key: str | None = None,
        to_text: Callable[[Any], str] | None = None,
        name: str | None = None,
        snapshots: bool | None = None,
        seed: int | None = None,
    ) -> None:
        self._api = compat.EnvApi(env)
        self.env = env
        space = getattr(env, "action_space", None)
        self._kind = compat.space_kind(space)
        self._minigrid = compat.package_of(compat.unwrapped(env)) == "minigrid"
        self._start, self._n = 0, 0
        if self._kind == "discrete":
            self._start, self._n = int(getattr(space, "start", 0)), int(space.n)
        if action_names is not None:
            self.action_names: list[str] | None = [str(a) for a in action_names]
            if self._kind != "discrete" or len(self.action_names) != self._n:
                size = f"{self._n} names" if self._kind == "discrete" else "a Discrete action space"
                raise ConfigError(f"action_names needs {size}, got {len(self.action_names)}")
        else:
            discrete = self._kind == "discrete"
            self.action_names = compat.enum_action_names(env, self._n, self._start) if discrete else None
        if self._kind == "other" and action_parser is None:
            raise ConfigError(
                f"cannot read text actions for {type(space).__name__}; pass action_parser=<text -> action>"
            )
        self.action_parser = action_parser
        self.text_key = text_key
        self.to_text = to_text
        self.name = name or self._api.default_name()
        own_task = getattr(env, "task", "")  # only a string: some envs keep a task object there
        self._task = task or (own_task if isinstance(own_task, str) else "")
        self.instructions = instructions or self._default_instructions()
        self.seed = seed
        self.last_observation = ""
        self.flags: tuple[bool, bool] = (False, False)  # (terminated, truncated) of the last step
        self._was_reset = False
        self._found_task = ""  # mission/objective/goal seen at the last reset
        self._listed: list[str] | None = None  # valid actions listed by the last info
        self._method_actions: list[str] | None = None  # cache of valid_actions() for this state
        self._method_fresh = False
        if snapshots is None:
            snapshots = not self._api.external_state and hasattr(env, "__dict__") and _can_deepcopy(env)
        elif snapshots and not hasattr(env, "__dict__"):
            raise ConfigError("snapshots=True needs an env object with a __dict__; use snapshots=False")
        if snapshots:  # instance attributes, so `can_snapshot` sees them only when they work
            self.snapshot = self._snapshot
            self.restore = self._restore

    # --- task and actions -----------------------------------------------------------------------
    @property
    def task(self) -> str:
        if self._task:
            return self._task
        if not self._was_reset:
            self.reset()
        return self._found_task or f"Act in {self.name} to earn reward."

    @task.setter
    def task(self, value: str) -> None:
        self._task = value

    @property
    def actions(self) -> list[str] | None:
        """The currently valid actions when the env lists them, else None (at most one env call per state)."""
        if self._listed is not None:
            return list(self._listed)
        method = getattr(self.env, "valid_actions", None) or getattr(
            compat.unwrapped(self.env), "valid_actions", None
        )
        if callable(method):
            if not self._method_fresh:
                listed = method()
                self._method_actions = [str(a) for a in listed] if listed is not None else None
                self._method_fresh = True
            if self._method_actions is not None:
                return list(self._method_actions)
        if self._kind != "discrete":
            return None
        if self.action_names is not None:
            return list(self.action_names)
        return [str(self._start + i) for i in range(self._n)]

    def _default_instructions(self) -> str:
        if self._minigrid and self.action_names is not None:
            return compat.minigrid_instructions(self.action_names)
        if self.action_names is not None:
            return "Actions (one per step): " + " | ".join(self.action_names)
        if self._kind == "discrete":
            numbers = ", ".join(str(self._start + i) for i in range(self._n))
            return f"Actions (one per step): a number from {numbers}"
        if self._api.textworld:
            return "Actions: one text command per step (e.g. 'look', 'go north', 'take key', 'open door')."
        return "Actions: one action per step, as text."

    def parse(self, text: str) -> Any | None:
        """The env action for `text`, or None when it is not one."""
        return self._read(text)[0]

    def _read(self, text: str) -> tuple[Any | None, str]:
        """(action, "") or (None, why it is not one)."""
        invalid = "not a valid action"
        if self.action_parser is not None:
            try:
                action = self.action_parser(text)
            except (ValueError, KeyError, TypeError):
                action = None
            return action, "" if action is not None else invalid
        if self._kind in ("text", "free"):
            action = _command(text)
            if not action:
                return None, "an empty action"
            if self._listed:
                spelling = {a.lower(): a for a in self._listed}
                action = spelling.get(action.lower(), action)
            if self._kind == "text":
                problem = compat.text_space_problem(self.env.action_space, action)
                if problem:
                    return None, problem
            return action, ""
        cleaned = _normalise(text)
        if re.fullmatch(r"-?\d+", cleaned) and self._start <= int(cleaned) < self._start + self._n:
            return int(cleaned), ""
        if self.action_names is None:
            return None, invalid
        names = [_normalise(name) for name in self.action_names]
        compact = [name.replace(" ", "") for name in names]
        if cleaned in names or cleaned.replace(" ", "") in compact:
            index = names.index(cleaned) if cleaned in names else compact.index(cleaned.replace(" ", ""))
            return self._start + index, ""
        hits = [i for i, name in enumerate(names) if name and re.search(rf"\b{re.escape(name)}\b", cleaned)]
        if not hits and cleaned:  # "right" for the name "go right"
            hits = [i for i, name in enumerate(names) if re.search(rf"\b{re.escape(cleaned)}\b", name)]
        return (self._start + hits[0], "") if len(hits) == 1 else (None, invalid)

    # --- protocol ------------------------------------------------------------------------------
    def _text(self, obs: Any) -> str:
        if self.to_text is not None:
            return str(self.to_text(obs))
        if isinstance(obs, str):
            return obs
        if isinstance(obs, dict):
            if self.text_key is not None:
                if self.text_key not in obs:
                    raise ConfigError(f"the observation has no field {self.text_key!r}; keys: {list(obs)}")
                return compat.describe(obs[self.text_key])
            if compat.is_minigrid(self.env, obs):
                return compat.minigrid_text(obs)
            if len(obs) == 1:
                return compat.describe(next(iter(obs.values())))
            return compat.dict_text(obs)
        return compat.describe(obs)

    def _observe(self, obs: Any, info: dict[str, Any]) -> None:
        self.last_observation = self._text(obs)
        self._listed = compat.listed_actions(info)
        self._method_fresh = False

    def reset(self, seed: int | None = None) -> tuple[str, dict[str, Any]]:
        if seed is not None:
            self.seed = seed
        obs, info = self._api.reset(self.seed)
        self._was_reset, self.flags = True, (False, False)
        self._found_task = compat.task_from(obs, info)
        self._observe(obs, info)
        return self.last_observation, info

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if any(self.flags):
            return self._refuse(action, "the episode is over; call reset()")
        parsed, why = self._read(action)
        if parsed is None:
            valid = self.actions
            listed = f". Valid actions: {bounded(valid)}" if valid else "; see the instructions"
            return self._refuse(action, why + listed)
        obs, reward, terminated, truncated, info = self._api.step(parsed)
        self._observe(obs, info)
        self.flags = (terminated, truncated)
        return self.last_observation, reward, terminated, truncated, {**info, "action": parsed}

    def _refuse(self, action: str, why: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        shown = " ".join(str(action).split())[:40]
        text = f"{self.last_observation}\n\nInvalid action {shown!r}: {why}."
        return text, 0.0, self.flags[0], self.flags[1], {"valid": False}

    def close(self) -> None:
        closer = getattr(self.env, "close", None)
        if callable(closer):
            closer()

    # --- snapshots (bound in __init__ when they work) -------------------------------------------
    def _snapshot(self) -> dict[str, Any]:
        return {
            "env": copy.deepcopy(self.env),
            "score": self._api.score,
            "observation": self.last_observation,
            "flags": self.flags,
            "listed": self._listed,
        }

    def _restore(self, state: dict[str, Any]) -> None:
        compat.restore_into(self.env, copy.deepcopy(state["env"]))
        self._api.score = state["score"]
        self.last_observation = state["observation"]
        terminated, truncated = state["flags"]
        self.flags = (bool(terminated), bool(truncated))
        self._listed = list(state["listed"]) if state["listed"] is not None else None
        self._method_fresh = False
        self._was_reset = True


def textworld_env(path: str | Path, *, max_episode_steps: int = 100, **options: Any) -> GymTextEnv:
    """A `GymTextEnv` over a TextWorld game file (`tw-make ... --output game.z8`).

    Registers the game asking TextWorld for the admissible commands (the valid `actions`), the
    objective (the task), the description, the inventory, the score, won and lost (in each step's
    info). No snapshots: the game runs in TextWorld's engine, so the engine replays from `reset()`.
    `options` go to `GymTextEnv`."""
    import textworld
    import textworld.gym

    request = textworld.EnvInfos(
        admissible_commands=True,
        description=True,
        inventory=True,
        objective=True,
        score=True,
        max_score=True,
        won=True,
        lost=True,
    )
    env_id = textworld.gym.register_game(
        str(path), request_infos=request, max_episode_steps=max_episode_steps
    )
    return GymTextEnv(textworld.gym.make(env_id), **options)
