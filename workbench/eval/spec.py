"""A sweep's axes, checked and expanded into cells: plain, picklable dicts, one per run.

    cells = expand(config)      # config from `normalise(...)`: the cross product, in a stable order

Axes (each a list; a single value is a list of one):

- `tasks`: an int (the env's own task for that seed: the gridworld layout, the Game of 24 puzzle),
  a str (a task text on the env's seed-0 layout), or a dict `{"seed": n, "task": text,
  "env_options": {...}, "name": label}` (every key optional).
- `strategies`, `memories`: a name (`"react"`, `"best-first"`, `"diff"`, a plugin, `module:attr`) or a
  dict `{"name": ..., **options}` (`{"name": "window", "window": 4}`).
- `models`: a litellm model string or a dict `{"name": ..., **Model kwargs}`; `max_parallel` in the
  dict bounds how many calls of that model run at once across the sweep (its rate limit).
- `seeds`: ints: the agent's seed (the demo model's; a real model gets it as `seed`).
- `budgets`: a dict such as `{"max_calls": 40}` or `{"max_tokens": 20000}`, or a list of them, or a
  dict with one list value (`{"max_calls": [10, 20, 40]}`) for a budget axis. Keys: `max_calls`,
  `max_tokens`, `max_cost`, `max_steps`. Cells compare at equal model calls or tokens, not at equal
  steps (a search step makes many calls); rows report calls and steps both.

A cell's `key` names its coordinates (`task=0|strategy=react|memory=full|model=workbench/demo|seed=1|
budget=max_calls=40`) and is what the store records as finished, so a rerun skips it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .. import validate
from ..errors import ConfigError

BUDGET_KEYS = ("max_calls", "max_tokens", "max_cost", "max_steps")
DEFAULT_BUDGET = {"max_calls": 50}
AXES = ("tasks", "strategies", "memories", "models", "seeds", "budgets")


def _listed(name: str, value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        if not value:
            raise ConfigError(f"{name} must not be empty; give at least one value")
        return list(value)
    return [value]


def _jsonable(name: str, value: Any) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name} must be plain data (names, numbers, dicts, lists) so every cell can be stored "
            f"and sent to a worker, not {value!r}"
        ) from None


def _named(axis: str, value: Any) -> dict[str, Any]:
    """`"react"` or `{"name": "react", ...options}` as `{"name": ..., "options": {...}}`."""
    if isinstance(value, str) and value.strip():
        return {"name": value.strip(), "options": {}}
    if isinstance(value, dict) and isinstance(value.get("name"), str) and value["name"].strip():
        options = {k: v for k, v in value.items() if k != "name"}
        return {"name": value["name"].strip(), "options": _jsonable(f"{axis} options", options)}
    raise ConfigError(
        f"each of {axis} must be a name such as 'react' or a dict {{'name': ..., option: value}}, not {value!r}"
    )


def _task(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        raise ConfigError(f"each task must be a seed (int), a task text or a dict, not {value!r}")
    if isinstance(value, int):
        return {"seed": value, "task": None, "env_options": {}, "name": str(value)}
    if isinstance(value, str) and value.strip():
        return {"seed": 0, "task": value, "env_options": {}, "name": value.strip()[:40]}
    if isinstance(value, dict):
        unknown = [k for k in value if k not in ("seed", "task", "env_options", "name")]
        if unknown:
            raise ConfigError(
                f"unknown task key(s) {', '.join(map(str, unknown))}; valid: seed, task, env_options, name"
            )
        seed = validate.number("task seed", value.get("seed", 0), integer=True)
        task = value.get("task")
        if task is not None:
            task = validate.text("task", task)
        options = value.get("env_options") or {}
        if not isinstance(options, dict):
            raise ConfigError(f"a task's env_options must be a dict, not {options!r}")
        name = value.get("name") or (task.strip()[:40] if task else str(seed))
        return {
            "seed": seed,
            "task": task,
            "env_options": _jsonable("env_options", options),
            "name": str(name),
        }
    raise ConfigError(f"each task must be a seed (int), a task text or a dict, not {value!r}")


def _model(value: Any) -> dict[str, Any]:
    from ..llm.model import check_model_name
    from ..safety.redact import kwarg_secrets

    if isinstance(value, str):
        check_model_name(value)
        return {"name": value}
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        check_model_name(value["name"])
        secrets = [name for _, name in kwarg_secrets(value)]
        if secrets:
            raise ConfigError(
                f"models: {', '.join(secrets)} holds a secret; a sweep's models are stored and sent to "
                "workers, so keys come from the environment (e.g. OPENAI_API_KEY), never the config"
            )
        if "max_parallel" in value:
            validate.number("max_parallel", value["max_parallel"], minimum=1, integer=True)
        return _jsonable("model", dict(value))
    raise ConfigError(
        f"each model must be a litellm model string such as 'workbench/demo' or a dict "
        f"{{'name': ..., **kwargs}}, not {value!r}"
    )


def _budgets(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return [dict(DEFAULT_BUDGET)]
    if isinstance(value, dict):
        listed = [k for k, v in value.items() if isinstance(v, (list, tuple))]
        if len(listed) > 1:
            raise ConfigError(
                f"budgets may have one list-valued key (a budget axis), not {len(listed)}: {', '.join(listed)}"
            )
        if listed:
            (key,) = listed
            return [_budget({**value, key: v}) for v in _listed(f"budgets[{key!r}]", value[key])]
        return [_budget(value)]
    if isinstance(value, (list, tuple)):
        return [_budget(b) for b in _listed("budgets", value)]
    raise ConfigError(f"budgets must be a dict such as {{'max_calls': 40}} or a list of them, not {value!r}")


def _budget(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"a budget must be a non-empty dict such as {{'max_calls': 40}}, not {value!r}")
    unknown = [k for k in value if k not in BUDGET_KEYS]
    if unknown:
        raise ConfigError(
            f"unknown budget(s) {', '.join(map(str, unknown))}; valid: {', '.join(BUDGET_KEYS)}"
        )
    out: dict[str, Any] = {}
    for key in BUDGET_KEYS:
        if value.get(key) is not None:
            out[key] = validate.number(
                key, value[key], minimum=1 if key != "max_cost" else 0, integer=key != "max_cost"
            )
    return out


def label(item: dict[str, Any]) -> str:
    """`react` or `window(window=4)`: a strategy, memory or model as one short string."""
    options = item.get("options", {k: v for k, v in item.items() if k != "name"})
    shown = {k: v for k, v in options.items() if k != "max_parallel"}
    if not shown:
        return str(item["name"])
    return f"{item['name']}(" + ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) + ")"


def budget_label(budget: dict[str, Any]) -> str:
    return ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in budget.items())


def normalise(
    *,
    env: Any,
    tasks: Any,
    strategies: Any,
    memories: Any,
    models: Any,
    seeds: Any,
    budgets: Any,
    env_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The sweep's axes as plain data, each value checked (a `ConfigError` names what is wrong)."""
    if not isinstance(env, str) or not env.strip():
        raise ConfigError(
            "env must be the name of an env (gridworld, game24, a plugin) or module:factory, so every "
            f"cell can rebuild it in its own process; not {env!r}"
        )
    if env_options is not None and not isinstance(env_options, dict):
        raise ConfigError(f"env_options must be a dict, not {env_options!r}")
    seeds_list = [validate.number("seeds", s, integer=True) for s in _listed("seeds", seeds)]
    config = {
        "env": env.strip(),
        "env_options": _jsonable("env_options", env_options or {}),
        "tasks": [_task(t) for t in _listed("tasks", tasks)],
        "strategies": [_named("strategies", s) for s in _listed("strategies", strategies)],
        "memories": [_named("memories", m) for m in _listed("memories", memories)],
        "models": [_model(m) for m in _listed("models", models)],
        "seeds": seeds_list,
        "budgets": _budgets(budgets),
    }
    _check_names(config)
    for axis in AXES:
        labels = [_axis_label(axis, v) for v in config[axis]]
        twice = sorted({x for x in labels if labels.count(x) > 1})
        if twice:
            raise ConfigError(f"{axis} lists {', '.join(twice)} more than once; each value once")
    return config


def _check_names(config: dict[str, Any]) -> None:
    """Every env, strategy and memory name is a built-in, a plugin or an importable module:attr,
    and every option is one it takes, of the type of its default, so a typo fails here, before any
    cell runs."""
    from .. import options, registry
    from ..envs.base import BUILTIN_ENVS
    from ..memory.base import MEMORY_POLICIES
    from ..strategies.base import STRATEGIES

    wanted = [("env", BUILTIN_ENVS, config["env"])]
    wanted += [("strategy", STRATEGIES, s["name"]) for s in config["strategies"]]
    wanted += [("memory", MEMORY_POLICIES, m["name"]) for m in config["memories"]]
    for kind, table, name in wanted:
        registry.require(kind, table, name)
    for axis, kind in (("strategies", "strategy"), ("memories", "memory")):
        for item in config[axis]:
            options.check(kind, item["name"], item["options"], axis)


def _axis_label(axis: str, value: Any) -> str:
    if axis == "tasks":
        return str(value["name"])
    if axis in ("strategies", "memories", "models"):
        return label(value)
    if axis == "budgets":
        return budget_label(value)
    return str(value)


def sweep_id_for(config: dict[str, Any], name: str | None = None) -> str:
    """`name` when given, else `sw-` and a digest of the config: the same sweep gets the same id."""
    if name:
        return name
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return "sw-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def expand(config: dict[str, Any], sweep_id: str) -> list[dict[str, Any]]:
    """The cells of a sweep: one plain dict per (task, strategy, memory, model, seed, budget)."""
    cells = []
    for task in config["tasks"]:
        for strategy in config["strategies"]:
            for memory in config["memories"]:
                for model in config["models"]:
                    for seed in config["seeds"]:
                        for budget in config["budgets"]:
                            coords = {
                                "task": task["name"],
                                "strategy": label(strategy),
                                "memory": label(memory),
                                "model": label(model),
                                "seed": seed,
                                "budget": budget_label(budget),
                            }
                            key = "|".join(f"{k}={v}" for k, v in coords.items())
                            cells.append(
                                {
                                    "sweep_id": sweep_id,
                                    "key": key,
                                    "index": len(cells),
                                    "coords": coords,
                                    "env": config["env"],
                                    "env_options": {**config["env_options"], **task["env_options"]},
                                    "task": task["task"],
                                    "task_seed": task["seed"],
                                    "strategy": strategy["name"],
                                    "strategy_options": dict(strategy["options"]),
                                    "memory": memory["name"],
                                    "memory_options": dict(memory["options"]),
                                    "model": dict(model),
                                    "seed": seed,
                                    "budget": dict(budget),
                                    "record": None,  # a cassette path to record the cell's calls to
                                    "replay": None,  # a cassette path to answer its calls from
                                }
                            )
    return cells


def cell_file_name(key: str) -> str:
    """A file name for a cell (its cassette): a digest of its key, stable across processes."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16] + ".jsonl"
