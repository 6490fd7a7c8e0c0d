"""Names -> factories for environments, strategies, memory policies and tools.

A name given to `make_env`, `make_strategy` or `make_memory` is looked up in this order:

1. the built-ins (a `{"name": "module:Class"}` table, imported only when first used);
2. plugins: Python entry points of the kind's group, found and loaded only when a name is not a
   built-in, then cached (`clear_cache()` forgets them, e.g. after installing a package):

       [project.entry-points."workbench.envs"]         # also workbench.strategies,
       my-env = "my_package.envs:MyEnv"                # workbench.memories, workbench.tools

3. a `"module:attr"` spec (`"my_envs:make_maze"`, `"pkg.mod:Factory.create"`): the module is imported.

A plugin or spec that is callable is called with the options (a class or a factory); the automatic
`seed` option is passed only when the callable takes it. A strategy or memory object is stored in a
run by its `name`, so a stored run resumes by name only when that name is a built-in or a plugin.
An env given by name or spec is stored as that string, so `Session.resume` rebuilds it the same way.
Every failure is a one-line `ConfigError` (the cause stays chained).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import threading
from typing import Any

from .errors import ConfigError, WorkbenchError

GROUPS: dict[str, str] = {
    "env": "workbench.envs",
    "strategy": "workbench.strategies",
    "memory": "workbench.memories",
    "tool": "workbench.tools",
}

_lock = threading.Lock()
_found: dict[str, dict[str, importlib.metadata.EntryPoint]] = {}
_loaded: dict[tuple[str, str], Any] = {}


def group_of(kind: str) -> str:
    """The entry-point group of `kind` ("env", "strategy", "memory", "tool"); a group passes through."""
    if kind in GROUPS.values():
        return kind
    if kind not in GROUPS:
        raise ValueError(f"unknown plugin kind {kind!r}; valid: {', '.join(GROUPS)}")
    return GROUPS[kind]


def clear_cache() -> None:
    """Forget the plugins found and loaded so far (the next lookup reads the entry points again)."""
    with _lock:
        _found.clear()
        _loaded.clear()


def _entry_points(group: str) -> dict[str, importlib.metadata.EntryPoint]:
    with _lock:
        if group not in _found:
            points: dict[str, importlib.metadata.EntryPoint] = {}
            for point in importlib.metadata.entry_points(group=group):
                points.setdefault(point.name, point)  # the first distribution on sys.path wins
            _found[group] = points
        return _found[group]


def plugin_names(kind_or_group: str) -> list[str]:
    """Sorted names registered by installed distributions for a kind ("env") or group ("workbench.envs")."""
    return sorted(_entry_points(group_of(kind_or_group)))


def plugin_source(kind_or_group: str, name: str) -> str:
    """Where the plugin `name` comes from: "module:attr (distribution)"."""
    point = _entry_points(group_of(kind_or_group))[name]
    dist = getattr(point, "dist", None)
    return f"{point.value} ({dist.name})" if dist is not None else point.value


def load_plugin(kind: str, name: str) -> Any:
    """The object the entry point `name` of `kind`'s group names (loaded once), or a ConfigError."""
    group = group_of(kind)
    key = (group, name)
    if key in _loaded:
        return _loaded[key]
    point = _entry_points(group).get(name)
    if point is None:
        raise ConfigError(f"no {kind} plugin {name!r} in entry-point group {group}")
    try:
        obj = point.load()
    except Exception as exc:
        raise ConfigError(
            f"{kind} plugin {name!r} ({point.value}) failed to load: {type(exc).__name__}: {exc}"
        ) from exc
    with _lock:
        _loaded[key] = obj
    return obj


def is_spec(name: str) -> bool:
    """Whether `name` has the `module:attr` form."""
    module, sep, attr = name.partition(":")
    return bool(sep and module and attr) and " " not in name


def load_spec(kind: str, spec: str) -> Any:
    """The attribute a `"module:attr"` spec names (its module imported), or a one-line ConfigError."""
    module_name, _, path = spec.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"{kind} {spec!r}: cannot import module {module_name!r}: {exc}") from exc
    except Exception as exc:
        raise ConfigError(
            f"{kind} {spec!r}: importing {module_name!r} raised {type(exc).__name__}: {exc}"
        ) from exc
    for part in path.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"{kind} {spec!r}: module {module_name!r} has no attribute {path!r}")
        obj = getattr(obj, part)
    return obj


def known(kind: str, table: dict[str, str], name: str) -> bool:
    """Whether `name` is a built-in or a plugin of `kind` (a spec is not looked at)."""
    return name in table or name in _entry_points(group_of(kind))


def require(
    kind: str, table: dict[str, str], name: str, shown: list[str] | None = None, quote: bool = False
) -> None:
    """Check that `name` is a built-in, a plugin or an importable `module:attr` (imported here, so a
    typo fails before anything runs); the error lists `shown` (default: the table's names)."""
    if known(kind, table, name):
        return
    if is_spec(name):
        factory(kind, table, name)
        return
    names = shown if shown is not None else list(table)
    plugins = [p for p in plugin_names(kind) if p not in table]
    fmt = "'{}'".format if quote else str
    listed = ", ".join([*map(fmt, names), *(f"{fmt(p)} (plugin)" for p in plugins)])
    raise ConfigError(f"unknown {kind} {name!r}; valid: {listed}, or module:attr")


def factory(kind: str, table: dict[str, str], name: str, valid: str = "") -> Any:
    """What `name` stands for, not yet called: a built-in class, a plugin's object or a spec's attribute."""
    if name in table:
        module, _, attr = table[name].partition(":")
        return getattr(importlib.import_module(module), attr)
    if name in _entry_points(group_of(kind)):
        return load_plugin(kind, name)
    if is_spec(name):
        return load_spec(kind, name)
    plugins = plugin_names(kind)
    extra = f"; plugins: {', '.join(plugins)}" if plugins else ""
    raise ConfigError(
        f"unknown {kind} {name!r}; valid: {valid or ', '.join(table)}{extra}; "
        "or a module:attr spec that names one"
    )


def _takes(fn: Any, option: str) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # no signature to read: pass everything
        return True
    return any(p.name == option or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def check_options(kind: str, name: str, fn: Any, options: dict[str, Any]) -> None:
    """A ConfigError naming the first option `fn` does not take, and the ones it does."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # no signature to read: let the call decide
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return
    takes = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for option in options:
        if option not in takes:
            shown = [t for t in takes if t not in ("self", "on_change", "token_counter")]
            raise ConfigError(
                f"{kind} {name!r} has no option {option!r}; valid: {', '.join(shown) or 'none'}"
            )


def build(kind: str, table: dict[str, str], name: str, valid: str = "", **options: Any) -> Any:
    """An instance for `name`: a built-in (`table[name]`, "module:Class"), a plugin of `kind`'s
    entry-point group, or a "module:attr" spec; an unknown name is a ConfigError listing them all.
    An option the factory does not take is a ConfigError listing the ones it does."""
    if name in table:
        made = factory(kind, table, name, valid)
        check_options(kind, name, made, options)
        return made(**options)
    made = factory(kind, table, name, valid)
    if not callable(made):
        return made
    if "seed" in options and not _takes(made, "seed"):
        options = {k: v for k, v in options.items() if k != "seed"}
    try:
        return made(**options)
    except WorkbenchError:
        raise
    except Exception as exc:
        raise ConfigError(f"{kind} {name!r}: {type(exc).__name__}: {exc}") from exc


def _summary(obj: Any) -> str:
    lines = (inspect.getdoc(obj) or "").strip().splitlines()
    return lines[0] if lines else ""


def describe(kind: str, table: dict[str, str], builtins: list[str] | None = None) -> list[tuple[str, str]]:
    """(name, first line of its docstring) for each built-in (in `builtins` order), then each plugin,
    whose line says where it comes from; a plugin that fails to load says why instead."""
    rows = [(name, _summary(factory(kind, table, name))) for name in builtins or list(table)]
    for name in plugin_names(kind):
        if name in table:
            continue
        try:
            about = _summary(load_plugin(kind, name))
        except ConfigError as exc:
            about = str(exc)
        rows.append((name, f"{about} [plugin {plugin_source(kind, name)}]".lstrip()))
    return rows
