"""What `GymTextEnv` needs to meet third-party envs as they are (see `gym_adapter` for the behaviour).

- `EnvApi`: a gymnasium-style view of any object with `reset` and `step`: `reset(seed)` gives
  `(obs, info)` whether the env returns `obs` or `(obs, info)`, and `step` gives five values whether
  the env returns the old four `(obs, reward, done, info)` or gymnasium's five. TextWorld's
  cumulative score becomes a per-step reward.
- Observation text: `dict_text` (every field; arrays described, never printed) and `minigrid_text`
  (a MiniGrid view as a grid of letters, with the objects in view in words).
- Snapshots: `declares_external_state` and `restore_into` (state copied into the user's objects).
"""

from __future__ import annotations

import inspect
import string
from collections.abc import Iterable
from typing import Any

from ..errors import ConfigError

#: info keys that may list the currently valid actions, first found wins
ACTION_LIST_KEYS = ("admissible_commands", "valid_actions", "available_actions", "legal_actions", "valid")
#: string fields of an observation or info that state the goal, first found wins
TASK_KEYS = ("mission", "objective", "goal")
#: top-level packages whose envs keep state outside the Python object (a game engine process, a C library)
EXTERNAL_STATE_PACKAGES = frozenset({"textworld", "jericho"})


def package_of(obj: Any) -> str:
    """The top-level package that defines `obj`'s class ("minigrid", "textworld", ...)."""
    return (type(obj).__module__ or "").split(".")[0]


def unwrapped(env: Any) -> Any:
    inner = getattr(env, "unwrapped", env)
    return env if inner is None else inner


def space_kind(space: Any) -> str:
    """ "discrete", "text", "free" (no action space: any text) or "other", by duck typing.

    Class names along the MRO are compared, so gymnasium's, old gym's and subclasses all count, and
    gymnasium need not be installed."""
    if space is None:
        return "free"
    names = {cls.__name__ for cls in type(space).__mro__}
    if "Discrete" in names and hasattr(space, "n"):
        return "discrete"
    if "Text" in names and callable(getattr(space, "contains", None)):
        return "text"
    return "other"


def text_space_problem(space: Any, action: str) -> str | None:
    """Why a `Text` space refuses `action`, or None when it is accepted.

    The length limits are honoured; characters outside the space's charset are accepted when they are
    only whitespace or punctuation (gymnasium's default charset has no space, so every multi-word
    command would fail)."""
    if space.contains(action):
        return None
    low, high = int(getattr(space, "min_length", 0) or 0), getattr(space, "max_length", None)
    if len(action) < low:
        return f"shorter than {low} characters"
    if high is not None and len(action) > int(high):
        return f"longer than {int(high)} characters"
    charset = getattr(space, "character_set", None)
    if charset is None:
        return "not in the action space"
    bad = sorted({c for c in action if c not in charset and not (c.isspace() or c in string.punctuation)})
    if bad:
        return "uses characters the action space does not allow: " + " ".join(repr(c) for c in bad)
    return None


def enum_action_names(env: Any, n: int, start: int) -> list[str] | None:
    """Names from an IntEnum class at `env.unwrapped.actions` (MiniGrid's `Actions`) covering the space."""
    enum_cls = getattr(unwrapped(env), "actions", None)
    if not isinstance(enum_cls, type) or not hasattr(enum_cls, "__members__"):
        return None
    try:
        by_value = {int(member.value): name for name, member in enum_cls.__members__.items()}
    except (TypeError, ValueError):
        return None
    names = [by_value.get(start + i) for i in range(n)]
    return [str(name) for name in names] if all(names) and len(by_value) >= n else None


def listed_actions(info: Any) -> list[str] | None:
    """The list of currently valid actions an env put in its info, or None."""
    if not isinstance(info, dict):
        return None
    for key in ACTION_LIST_KEYS:
        value = info.get(key)
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
            return list(value)
    return None


def task_from(*sources: Any) -> str:
    """The first string field named mission/objective/goal in the given dicts, or ""."""
    for source in sources:
        if isinstance(source, dict):
            for key in TASK_KEYS:
                value = source.get(key)
                if isinstance(value, str) and value.strip():
                    return value.strip()
    return ""


def declares_external_state(env: Any) -> bool:
    """True when the env says (or is known) to keep state outside the Python object.

    An env declares it with an attribute `external_state = True` or `metadata["external_state"] = True`
    on itself or on its `unwrapped`; TextWorld and Jericho envs are known to."""
    for obj in (env, unwrapped(env)):
        if getattr(obj, "external_state", False) is True:
            return True
        metadata = getattr(obj, "metadata", None)
        if isinstance(metadata, dict) and metadata.get("external_state") is True:
            return True
        if package_of(obj) in EXTERNAL_STATE_PACKAGES:
            return True
    return False


def restore_into(target: Any, source: Any) -> None:
    """Give `target` the state of `source` (a deep copy of an earlier `target`), in place.

    Along a wrapper chain (each wrapper's `.env`) every object keeps its identity: each level takes the
    copy's attributes except `.env`, which stays the original inner object and is restored in turn.
    So a reference the user holds to the env, to any wrapper in it or to `unwrapped` stays live."""
    while True:
        state = dict(vars(source))
        inner_target, inner_source = vars(target).get("env"), state.get("env")
        nested = (
            inner_target is not None
            and type(inner_target) is type(inner_source)
            and hasattr(inner_target, "__dict__")
            and inner_target is not target
        )
        if nested:
            state["env"] = inner_target
        vars(target).clear()
        vars(target).update(state)
        if not nested:
            return
        target, source = inner_target, inner_source


def _accepts_seed(method: Any) -> bool:
    try:
        params = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "seed" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


class EnvApi:
    """Calls any object with `reset` and `step` the gymnasium way, detecting its API at run time.

    - `reset(seed)`: passes `seed=` when the env's `reset` takes it; otherwise calls `env.seed(seed)`
      first when the env has such a method (old gym), then `reset()`. The result may be `obs` or
      `(obs, info)` (a 2-tuple whose second item is a dict).
    - `step(action)`: 5 values are gymnasium's; 4 values are old gym's `(obs, reward, done, info)`,
      where `info["TimeLimit.truncated"]` marks a truncation. TextWorld (whose `done` also comes at its
      step limit) is terminated only when `info` says won or lost, and truncated otherwise.
    - `cumulative_score`: the env's reward is a running score (TextWorld's); the reward given back is
      its change since the last step. Default: True for TextWorld envs.
    """

    def __init__(self, env: Any, *, cumulative_score: bool | None = None) -> None:
        if not (callable(getattr(env, "reset", None)) and callable(getattr(env, "step", None))):
            raise ConfigError(
                f"{type(env).__name__} is not an environment: GymTextEnv wraps an object with "
                "reset() and step(action), a gymnasium.Env or an old gym-style env"
            )
        self.env = env
        self.textworld = package_of(unwrapped(env)) == "textworld"
        self.cumulative_score = self.textworld if cumulative_score is None else cumulative_score
        self.external_state = declares_external_state(env)
        self._reset_takes_seed = _accepts_seed(env.reset)
        self.score = 0.0

    def reset(self, seed: int | None) -> tuple[Any, dict[str, Any]]:
        if self._reset_takes_seed:
            out = self.env.reset(seed=seed)
        else:
            seeder = getattr(self.env, "seed", None)
            if seed is not None and callable(seeder):
                seeder(seed)
            out = self.env.reset()
        self.score = 0.0
        if isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict):
            return out[0], dict(out[1])
        return out, {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        out = self.env.step(action)
        if not isinstance(out, tuple) or len(out) not in (4, 5):
            size = len(out) if isinstance(out, tuple) else type(out).__name__
            raise ConfigError(
                f"{type(self.env).__name__}.step returned {size}; expected (obs, reward, terminated, "
                "truncated, info) or (obs, reward, done, info)"
            )
        if len(out) == 5:
            obs, reward, terminated, truncated, info = out
            info = dict(info) if isinstance(info, dict) else {"info": info}
        else:
            obs, reward, done, info = out
            info = dict(info) if isinstance(info, dict) else {"info": info}
            truncated = bool(info.get("TimeLimit.truncated", False))
            terminated = bool(done) and not truncated
            if self.textworld and done and "won" in info and "lost" in info:
                terminated = bool(info["won"] or info["lost"])
                truncated = not terminated
        reward = float(reward or 0.0)
        if self.cumulative_score:
            reward, self.score = reward - self.score, reward
        return obs, reward, bool(terminated), bool(truncated), info

    def default_name(self) -> str:
        spec = getattr(self.env, "spec", None)
        if getattr(spec, "id", None):
            return str(spec.id)
        games = getattr(unwrapped(self.env), "gamefiles", None)
        if self.textworld and isinstance(games, (list, tuple)) and len(games) == 1:
            return f"TextWorld:{str(games[0]).rsplit('/', 1)[-1]}"
        return type(unwrapped(self.env)).__name__


# --- observation text --------------------------------------------------------------------------------
_MAX_LIST = 16  # arrays and lists up to this many items are shown item by item


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and callable(getattr(value, "tolist", None))


def _scalar(value: Any) -> Any:
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return item()
    return value


def describe(value: Any, limit: int = 400) -> str:
    """A short text for any observation value: strings as they are, floats to 4 significant digits,
    small arrays and lists item by item, big arrays as shape, type and range (never a giant repr)."""
    value = _scalar(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return dict_text(value)
    if _is_array(value):
        size = int(getattr(value, "size", 0))
        if size <= _MAX_LIST:
            return describe(value.tolist(), limit)
        shape = "x".join(str(int(n)) for n in value.shape)
        try:
            span = f", values {_scalar(value.min())}..{_scalar(value.max())}"
        except (TypeError, ValueError):
            span = ""
        return f"<{value.dtype} array, shape {shape}{span}>"
    if isinstance(value, (list, tuple)):
        items = [describe(v, 60) for v in value[:_MAX_LIST]]
        more = f", ... and {len(value) - _MAX_LIST} more" if len(value) > _MAX_LIST else ""
        ends = "()" if isinstance(value, tuple) else "[]"
        text = ends[0] + ", ".join(items) + more + ends[1]
    elif isinstance(value, float):
        text = f"{value:.4g}"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def dict_text(obs: dict[str, Any]) -> str:
    """Every field of a dict observation, one `key: value` line each (multi-line values indented)."""
    lines = []
    for key, value in obs.items():
        text = describe(value)
        if "\n" in text:
            lines.append(f"{key}:\n" + "\n".join("  " + line for line in text.splitlines()))
        else:
            lines.append(f"{key}: {text}")
    return "\n".join(lines)


# --- MiniGrid / BabyAI ----------------------------------------------------------------------------------
_LETTERS = {
    "unseen": "?",
    "empty": ".",
    "wall": "#",
    "floor": "_",
    "door": "D",
    "key": "K",
    "ball": "B",
    "box": "X",
    "goal": "G",
    "lava": "L",
    "agent": "A",
}
_HEADINGS = ("east", "south", "west", "north")  # MiniGrid's direction 0..3
MINIGRID_LEGEND = (
    "The view is the grid in front of you, one row per step ahead (the top row is farthest); you are ^ at "
    "the bottom middle, facing up. Letters: # wall, . empty, ? not visible, _ floor, D door, K key, "
    "B ball, X box, G goal, L lava, A another agent."
)
MINIGRID_ACTIONS = {
    "left": "turn left",
    "right": "turn right",
    "forward": "move one cell ahead",
    "pickup": "pick up the object ahead",
    "drop": "drop what you carry ahead",
    "toggle": "open or close the door (or box) ahead",
    "done": "say the mission is done",
}


def is_minigrid(env: Any, obs: Any) -> bool:
    if package_of(unwrapped(env)) != "minigrid" or not isinstance(obs, dict):
        return False
    image = obs.get("image")
    return _is_array(image) and len(image.shape) == 3 and image.shape[2] == 3


def minigrid_text(obs: dict[str, Any]) -> str:
    """A MiniGrid/BabyAI observation in words: heading, the view as letters, objects in view, mission."""
    from minigrid.core.constants import IDX_TO_COLOR, IDX_TO_OBJECT, STATE_TO_IDX

    states = {index: name for name, index in STATE_TO_IDX.items()}
    image = obs["image"]
    width, height = int(image.shape[0]), int(image.shape[1])
    me = (width // 2, height - 1)
    rows, seen, carrying = [], [], ""
    for y in range(height):
        row = []
        for x in range(width):
            kind_idx, color_idx, state_idx = (int(v) for v in image[x, y])
            kind = IDX_TO_OBJECT.get(kind_idx, "unseen")
            if (x, y) == me:
                row.append("^")
                if kind not in ("empty", "unseen", "agent"):
                    carrying = f"{IDX_TO_COLOR.get(color_idx, '')} {kind}".strip()
                continue
            row.append(_LETTERS.get(kind, "?"))
            if kind in ("empty", "unseen", "wall", "floor"):
                continue
            label = f"{IDX_TO_COLOR.get(color_idx, '')} {kind}".strip()
            if kind == "door":
                label += f" ({states.get(state_idx, 'closed')})"
            ahead, side = me[1] - y, x - me[0]
            where = [f"{ahead} ahead"] if ahead else []
            if side:
                where.append(f"{abs(side)} {'right' if side > 0 else 'left'}")
            seen.append(f"{label} {', '.join(where)}")
        rows.append(" ".join(row))
    direction = _scalar(obs.get("direction"))
    heading = _HEADINGS[direction] if isinstance(direction, int) and 0 <= direction < 4 else "?"
    lines = [f"You face {heading}. Your view:", *rows]
    lines.append("In view: " + ("; ".join(seen) if seen else "nothing but walls and floor") + ".")
    if carrying:
        lines.append(f"You carry: {carrying}.")
    for key, value in obs.items():
        if key not in ("image", "direction"):
            lines.append(f"{key}: {describe(value)}")
    return "\n".join(lines)


def minigrid_instructions(names: Iterable[str]) -> str:
    parts = [f"{name} ({MINIGRID_ACTIONS[name]})" if name in MINIGRID_ACTIONS else name for name in names]
    return "Actions (one per step): " + " | ".join(parts) + "\n" + MINIGRID_LEGEND
