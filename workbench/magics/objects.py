"""Checks for the values of `--env`, `--strategy`, `--memory`, `--tools`, their `--*-option`s and
`adopt SESSION`.

Each value is either text (a built-in name, a plugin name from the `workbench.*` entry points, or a
`module:attr` spec) or an object taken from the user's namespace with `$var` / `{expr}`. A value
of the wrong kind is a one-line `UsageError` that names what is valid; a good one is returned in the
form `Session` takes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError

from .. import options as component_options
from .. import registry
from ..envs.base import BUILTIN_ENVS, env_names
from ..errors import ConfigError
from ..memory.base import MEMORY_POLICIES, Memory, memory_names
from ..strategies.base import STRATEGIES, Strategy, strategy_names


def names(kind: str, builtins: list[str]) -> list[str]:
    """Built-in names, then plugin names (those not shadowed by a built-in)."""
    return [*builtins, *(n for n in registry.plugin_names(kind) if n not in builtins)]


def described(value: Any) -> str:
    """`value`'s type for a message: "an int", "a list", "the class ReAct"."""
    if isinstance(value, type):
        return f"the class {value.__name__}"
    kind = type(value).__name__
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"


def _name(kind: str, table: dict[str, str], builtins: list[str], value: str, what: str) -> str:
    if registry.known(kind, table, value) or registry.is_spec(value):
        return value
    raise UsageError(
        f"unknown {kind} {value!r}; valid: {', '.join(names(kind, builtins))}, module:attr, or {what} as $var"
    )


def _wrong(option: str, source: str | None, value: Any, want: str, valid: str) -> UsageError:
    shown = source if source is not None else repr(value)
    return UsageError(f"{option} {shown} is {described(value)}, not {want}; valid: {valid}")


def is_env(value: Any) -> bool:
    return callable(getattr(value, "reset", None)) and callable(getattr(value, "step", None))


def env(value: Any, source: str | None = None) -> Any:
    if isinstance(value, str):
        return _name("env", BUILTIN_ENVS, env_names(), value, "an env object")
    if not is_env(value) or isinstance(value, type):
        valid = (
            f"an env name ({', '.join(names('env', env_names()))}) or an object with reset() and step(action)"
        )
        raise _wrong("--env", source, value, "an environment", valid)
    return value


def _instance(option: str, cls: type, kind: str, builtins: list[str]) -> Callable[[Any, str | None], Any]:
    def check(value: Any, source: str | None = None) -> Any:
        if isinstance(value, cls):
            return value
        valid = f"a {kind} name ({', '.join(names(kind, builtins))}) or a {cls.__module__}.{cls.__name__}"
        if isinstance(value, type) and issubclass(value, cls):
            valid += f" instance such as {{{value.__name__}()}}"
        raise _wrong(option, source, value, f"a {cls.__name__}", valid)

    return check


_strategy_object = _instance("--strategy", Strategy, "strategy", strategy_names())
_memory_object = _instance("--memory", Memory, "memory", memory_names())


def strategy(value: Any, source: str | None = None) -> Any:
    if isinstance(value, str):
        return _name("strategy", STRATEGIES, strategy_names(), value, "a Strategy")
    return _strategy_object(value, source)


def memory(value: Any, source: str | None = None) -> Any:
    if isinstance(value, str):
        return _name("memory", MEMORY_POLICIES, memory_names(), value, "a Memory")
    return _memory_object(value, source)


def options(kind: str, component: Any, pairs: list[str] | None, flag: str) -> dict[str, Any]:
    """The options `flag` (repeated `KEY=VALUE`) gives the strategy or memory `component`, each
    value read by the type of its default (see `workbench.options`)."""
    if not pairs:
        return {}
    if not isinstance(component, str):
        raise UsageError(
            f"{flag} works with a {kind} given by name, not with {described(component)} object; "
            "give the object its options when you make it"
        )
    try:
        return component_options.parse(kind, component, pairs, flag)
    except ConfigError as exc:
        raise UsageError(" ".join(str(exc).split())) from None


def recall(value: Any, source: str | None = None) -> Any:
    """`--recall`: a TrustedRecall from the notebook, or a JSONL file of demonstrations (imported,
    provenance `import`, trust 0.5)."""
    if value is None:
        return None
    if isinstance(value, str):
        from ..oversight.trust import load_recall

        try:
            return load_recall(value)
        except ConfigError as exc:
            raise UsageError(f"--recall: {exc}") from None
    if callable(getattr(value, "note", None)) and callable(getattr(value, "sources", None)):
        return value
    raise _wrong(
        "--recall", source, value, "a recall", "a TrustedRecall as $var, or a JSONL file of demonstrations"
    )


def tools(value: Any, source: str | None = None) -> list[Any] | None:
    """A list of tools: a list or tuple (or one tool) from the notebook, or plugins named "calc,search"."""
    if value is None:
        return None
    if isinstance(value, str):
        wanted = [part.strip() for part in value.split(",") if part.strip()]
        plugins = registry.plugin_names("tool")
        unknown = [name for name in wanted if name not in plugins]
        if unknown or not wanted:
            installed = ", ".join(plugins) if plugins else "none installed"
            raise UsageError(
                f"unknown tool {', '.join(unknown) or value!r}; valid: a list as $var or {{expr}}, "
                f"or tool plugins (workbench.tools entry points: {installed}) as a,b"
            )
        return [registry.load_plugin("tool", name) for name in wanted]
    if isinstance(value, (list, tuple)):
        return list(value)
    if callable(value) and not isinstance(value, type):  # one tool (a @tool or a plain function)
        return [value]
    raise _wrong("--tools", source, value, "a list of tools", "a list of @tool functions as $var or {expr}")
