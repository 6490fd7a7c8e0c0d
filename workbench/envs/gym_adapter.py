"""Any `gymnasium.Env` whose observations are text, as a workbench text environment.

    env = GymTextEnv(MyEnv(), task="...", action_names=["left", "right"])

- Observations: a `str` is used as is; for a dict observation name the text field with `text_key`
  (a dict with exactly one string value needs no name); anything else goes through `to_text`
  (default `str`).
- Actions: for a `Discrete` space the model may answer with the action's number (`"1"`) or, given
  `action_names`, its name (`"Go right."`, or `"right"` when only one name says it); for a `Text` space the answer is passed as is;
  for any other space give `action_parser(text) -> action` (raise ValueError or return None when the
  text is not an action). An unreadable action is not an exception: the previous observation comes
  back with a line that says why and lists the valid actions; nothing else changes.
- `snapshot()` / `restore()` exist only when the wrapped env can be deep-copied (checked once at
  construction; force with `snapshots=False`); otherwise the engine replays actions from `reset()`.
  `reset(seed=None)` reuses the last seed given (constructor `seed=` or an earlier reset), so a
  replay from `reset()` meets the same episode; with no seed ever given the wrapped env decides.

gymnasium is an optional dependency (`pip install 'agent-workbench[gym]'`) imported on first use.
"""

from __future__ import annotations

import copy
import importlib
import re
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ConfigError


def _gymnasium() -> Any:
    try:
        return importlib.import_module("gymnasium")
    except ImportError:
        raise ImportError(
            "GymTextEnv needs gymnasium; install it with: pip install 'agent-workbench[gym]'"
        ) from None


def _normalise(text: str) -> str:
    cleaned = " ".join(str(text).lower().replace("_", " ").split()).strip(" .!'\"`")
    if cleaned.startswith("action:"):
        cleaned = cleaned[len("action:") :].strip(" .!'\"`")
    return cleaned


def _can_deepcopy(obj: Any) -> bool:
    try:
        copy.deepcopy(obj)
    except Exception:  # any failure means "no snapshots": the engine falls back to replay
        return False
    return True


class GymTextEnv:
    """A text environment over a gymnasium env with text observations."""

    def __init__(
        self,
        env: Any,
        *,
        task: str = "",
        instructions: str = "",
        action_names: Sequence[str] | None = None,
        action_parser: Callable[[str], Any] | None = None,
        text_key: str | None = None,
        to_text: Callable[[Any], str] = str,
        name: str | None = None,
        snapshots: bool | None = None,
        seed: int | None = None,
    ) -> None:
        gym = _gymnasium()
        if not isinstance(env, gym.Env):
            raise ConfigError(f"GymTextEnv wraps a gymnasium.Env, got {type(env).__name__}")
        space = env.action_space
        self.env = env
        self._discrete = isinstance(space, gym.spaces.Discrete)
        self._text_space = isinstance(space, gym.spaces.Text)
        self.action_names = list(action_names) if action_names is not None else None
        if self.action_names is not None and (not self._discrete or len(self.action_names) != int(space.n)):
            size = f"{int(space.n)} names" if self._discrete else "a Discrete action space"
            raise ConfigError(f"action_names needs {size}, got {len(self.action_names)}")
        if not (self._discrete or self._text_space or action_parser):
            raise ConfigError(
                f"cannot read text actions for {type(space).__name__}; pass action_parser=<text -> action>"
            )
        self.action_parser = action_parser
        self.text_key = text_key
        self.to_text = to_text
        spec = getattr(env, "spec", None)
        self.name = name or (spec.id if spec is not None else type(env.unwrapped).__name__)
        self.task = task or getattr(env, "task", "") or f"Act in {self.name} to earn reward."
        self.instructions = instructions or self._default_instructions()
        self.seed = seed
        self.last_observation = ""
        self.flags: tuple[bool, bool] = (False, False)  # (terminated, truncated) of the last step
        if snapshots is None:
            snapshots = _can_deepcopy(env)
        if snapshots:  # instance attributes, so `can_snapshot` sees them only when they work
            self.snapshot = self._snapshot
            self.restore = self._restore

    # --- actions -------------------------------------------------------------------------------
    @property
    def actions(self) -> list[str] | None:
        if not self._discrete:
            return None
        if self.action_names is not None:
            return list(self.action_names)
        start = int(self.env.action_space.start)
        return [str(start + i) for i in range(int(self.env.action_space.n))]

    def _default_instructions(self) -> str:
        if self.action_names is not None:
            return "Actions (one per step): " + " | ".join(self.action_names)
        if self._discrete:
            return f"Actions (one per step): a number from {', '.join(self.actions or [])}"
        return "Actions: one action per step, as text."

    def parse(self, text: str) -> Any | None:
        """The env action for `text`, or None when it is not one."""
        if self.action_parser is not None:
            try:
                return self.action_parser(text)
            except (ValueError, KeyError, TypeError):
                return None
        if self._text_space:
            action = str(text).strip()
            return action if self.env.action_space.contains(action) else None
        space = self.env.action_space
        start, n = int(space.start), int(space.n)
        cleaned = _normalise(text)
        if re.fullmatch(r"-?\d+", cleaned) and start <= int(cleaned) < start + n:
            return int(cleaned)
        if self.action_names is None:
            return None
        names = [_normalise(name) for name in self.action_names]
        if cleaned in names:
            return start + names.index(cleaned)
        hits = [i for i, name in enumerate(names) if name and re.search(rf"\b{re.escape(name)}\b", cleaned)]
        if not hits and cleaned:  # "right" for the name "go right"
            hits = [i for i, name in enumerate(names) if re.search(rf"\b{re.escape(cleaned)}\b", name)]
        return start + hits[0] if len(hits) == 1 else None

    # --- protocol ------------------------------------------------------------------------------
    def _text(self, obs: Any) -> str:
        if isinstance(obs, str):
            return obs
        if isinstance(obs, dict):
            key = self.text_key
            if key is None:
                texts = [k for k, v in obs.items() if isinstance(v, str)]
                if len(texts) != 1:
                    raise ConfigError(f"name the observation's text field with text_key=; keys: {list(obs)}")
                key = texts[0]
            if key not in obs:
                raise ConfigError(f"the observation has no field {key!r}; keys: {list(obs)}")
            return str(obs[key])
        return self.to_text(obs)

    def reset(self, seed: int | None = None) -> tuple[str, dict[str, Any]]:
        if seed is not None:
            self.seed = seed
        obs, info = self.env.reset(seed=self.seed)
        self.last_observation, self.flags = self._text(obs), (False, False)
        return self.last_observation, dict(info)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if any(self.flags):
            return self._refuse(action, "the episode is over; call reset()")
        parsed = self.parse(action)
        if parsed is None:
            valid = ", ".join(self.actions or []) or "see the instructions"
            return self._refuse(action, f"not a valid action. Valid actions: {valid}")
        obs, reward, terminated, truncated, info = self.env.step(parsed)
        self.last_observation = self._text(obs)
        self.flags = (bool(terminated), bool(truncated))
        info = {**dict(info), "action": parsed}
        return self.last_observation, float(reward), bool(terminated), bool(truncated), info

    def _refuse(self, action: str, why: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        shown = " ".join(str(action).split())[:40]
        text = f"{self.last_observation}\n\nInvalid action {shown!r}: {why}."
        return text, 0.0, self.flags[0], self.flags[1], {"valid": False}

    # --- snapshots (bound in __init__ when the env can be deep-copied) ---------------------------
    def _snapshot(self) -> dict[str, Any]:
        return {"env": copy.deepcopy(self.env), "observation": self.last_observation, "flags": self.flags}

    def _restore(self, state: dict[str, Any]) -> None:
        self.env = copy.deepcopy(state["env"])
        self.last_observation = state["observation"]
        terminated, truncated = state["flags"]
        self.flags = (bool(terminated), bool(truncated))
