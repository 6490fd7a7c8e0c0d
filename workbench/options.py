"""A strategy's or memory policy's options given as text: `replans=1`, `every=5`, `models={...}`.

The flags `--strategy-option KEY=VALUE` and `--memory-option KEY=VALUE` (`%agent new`, `workbench run`)
and the sweep checks use this. What a component takes is read from it: a strategy's `options` dict,
a memory policy's keyword parameters. A value is read by the type of the option's default: a whole
number, a number, true/false, text, or JSON for a list or dict (and for an option whose default is
None: a number when its annotation says so, a JSON list or object, else text). Every mistake is a one-line `ConfigError` that names
the valid options or the type wanted.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from .errors import ConfigError

KINDS = ("strategy", "memory")
_HIDDEN = ("self", "on_change", "token_counter")  # set by the engine, not by a person
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def _table(kind: str) -> dict[str, str]:
    if kind == "strategy":
        from .strategies.base import STRATEGIES

        return STRATEGIES
    if kind == "memory":
        from .memory.base import MEMORY_POLICIES

        return MEMORY_POLICIES
    raise ValueError(f"unknown kind {kind!r}; valid: {', '.join(KINDS)}")


def _options(kind: str, name: str) -> dict[str, tuple[Any, str]] | None:
    """(default, annotation text) of each option `name` takes; None: it takes any keyword."""
    from . import registry

    made = registry.factory(kind, _table(kind), name)
    declared = getattr(made, "options", None)
    if kind == "strategy" and isinstance(declared, dict):
        also = getattr(made, "also_takes", {}) or {}
        return {key: (default, _annotation(also.get(key, ()))) for key, default in declared.items()}
    try:
        params = inspect.signature(made).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {
        p.name: (
            None if p.default is p.empty else p.default,
            "" if p.annotation is p.empty else str(p.annotation),
        )
        for p in params
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in _HIDDEN
    }


def _annotation(also: tuple[Any, ...]) -> str:
    """A strategy's `also_takes` entries of an option (values, or types such as `float`) as the
    annotation text `read_value` reads."""
    return " | ".join(
        "None" if value is None else value.__name__ if isinstance(value, type) else repr(value)
        for value in also
    )


def defaults(kind: str, name: str) -> dict[str, Any] | None:
    """The options the strategy or memory `name` takes, each with its default (None: the factory
    takes any keyword, so there is nothing to check against)."""
    found = _options(kind, name)
    return None if found is None else {key: default for key, (default, _) in found.items()}


def takes(kind: str, name: str, option: str) -> bool:
    """Whether the strategy or memory `name` declares `option` (`window`, `replans`, ...)."""
    return option in (defaults(kind, name) or {})


def memory_options(
    name: str, window: int | None, pairs: list[str] | None, *, via: str = "--memory"
) -> dict[str, Any]:
    """The options of memory `name` from `--memory-option KEY=VALUE`s and `--window N`; a window
    for a policy without one, or given both ways, is a ConfigError. `via`: how the user named the
    policy (`--memory`, `memory use`), as the error repeats it."""
    given = parse("memory", name, pairs or [], "--memory-option")
    if window is None:
        return given
    if not takes("memory", name, "window"):
        from .memory.base import MEMORY_POLICIES

        with_window = [m for m in MEMORY_POLICIES if takes("memory", m, "window")]
        raise ConfigError(
            f"--window does not apply to {via} {name}; use it with {via} {' or '.join(with_window)}"
        )
    if "window" in given:
        raise ConfigError("give the window once: --window N or --memory-option window=N")
    return {**given, "window": window}


def _valid(known: dict[str, Any]) -> str:
    return ", ".join(known) or "none"


def _wanted(default: Any, annotation: str = "") -> str:
    words = [w for w in annotation.split(" | ") if w.startswith("'")]
    if "None" in annotation.split(" | "):
        words.append("null")
    return " or ".join([_type_wanted(default), *words])


def _type_wanted(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "a whole number"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, (list, tuple)):
        return "a JSON list such as [1, 2]"
    if isinstance(default, dict):
        return 'a JSON object such as {"key": "value"}'
    return "text"


def read_value(text: str, default: Any, annotation: str = "") -> Any:
    """`text` as a value of the type of `default`. An option whose `annotation` allows None takes
    `null`, one that names a word (`'terminal'`) takes it, a text option whose annotation allows an
    int takes a whole number. A ValueError says which type was wanted."""
    if "None" in annotation and text.strip().lower() in ("null", "none"):
        return None
    if repr(text.strip()) in annotation.split(" | "):
        return text.strip()
    if isinstance(default, str) and "int" in annotation and text.strip().lstrip("-").isdigit():
        return int(text)
    if isinstance(default, bool):
        low = text.strip().lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
    elif isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            pass
    elif isinstance(default, float):
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if value == value and abs(value) != float("inf"):
            return value
    elif isinstance(default, (list, tuple, dict)):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list if isinstance(default, (list, tuple)) else dict):
            return value
    elif default is None:
        return _read_untyped(text, annotation)
    else:
        return text
    raise ValueError(f"expected {_wanted(default, annotation)}, not {text!r}")


def _read_untyped(text: str, annotation: str) -> Any:
    """An option whose default is None: a number when its annotation names `int` or `float` (and
    nothing else), else a JSON list or object when it reads as one, else the text."""
    named = {word.strip() for word in annotation.split("|")} - {"None", ""}
    if named and named <= {"int", "float"}:
        return read_value(text, 0.0 if "float" in named else 0, annotation)
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, (list, dict)) else text


def parse(kind: str, name: str, pairs: list[str], flag: str) -> dict[str, Any]:
    """The options `KEY=VALUE` texts (from `flag`) give the strategy or memory `name`, each value
    read by the type of its default. A ConfigError names the valid options or the type wanted."""
    found = _options(kind, name)
    known = None if found is None else {key: default for key, (default, _) in found.items()}
    out: dict[str, Any] = {}
    for pair in pairs:
        key, eq, text = pair.partition("=")
        key = key.strip()
        if not eq or not key:
            raise ConfigError(f"{flag} takes KEY=VALUE, such as {_example(known)}; not {pair!r}")
        if known is not None and key not in known:
            raise ConfigError(f"{flag}: {kind} {name!r} has no option {key!r}; valid: {_valid(known)}")
        if key in out:
            raise ConfigError(f"{flag}: {key} is given twice; give each option once")
        try:
            out[key] = read_value(text, *(found[key] if found is not None else (None, "")))
        except ValueError as exc:
            raise ConfigError(f"{flag} {key}: {exc}") from None
    return out


def _example(known: dict[str, Any] | None) -> str:
    if not known:
        return "key=value"
    key, default = next(iter(known.items()))
    return f"{key}={json.dumps(default) if isinstance(default, (list, dict)) else default}"


def check(kind: str, name: str, options: dict[str, Any], where: str) -> None:
    """A ConfigError when `options` (typed values, as a sweep file gives them) has a key `name`
    does not take or a value of another type than its default's (None is left to the component)."""
    found = _options(kind, name)
    if found is None:
        return
    for key, value in options.items():
        if key not in found:
            raise ConfigError(f"{where}: {kind} {name!r} has no option {key!r}; valid: {_valid(found)}")
        default, annotation = found[key]
        if not _fits(value, default, annotation):
            raise ConfigError(
                f"{where}: {kind} {name!r} option {key} must be {_wanted(default, annotation)}, not {value!r}"
            )


def _fits(value: Any, default: Any, annotation: str) -> bool:
    if default is None or value is None or repr(value) in annotation.split(" | "):
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, str) and isinstance(value, int):
        return "int" in annotation
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    return isinstance(value, type(default))


def describe(kind: str, name: str) -> str:
    """`item_steps=10, replans=3`: the options of `name` with their defaults ("" for none)."""
    known = defaults(kind, name) or {}
    return ", ".join(
        f"{k}={json.dumps(v, default=repr) if not isinstance(v, str) else v}" for k, v in known.items()
    )
