"""`sweep_from(...)`: the one way `workbench sweep` and `%agent sweep` build a sweep.

    sweep_from("sweep.toml", store="runs.sqlite", concurrency=8)   # the file's axes, a setting overridden
    sweep_from(tasks=[0, 1], strategies=["react"], budgets={"max_calls": 40})   # settings only
    sweep_from(replay="sw-1234", store="runs.sqlite")              # rerun a stored sweep offline

A sweep file is TOML with the keys of `FILE_KEYS` (`workbench.eval.cli` shows one).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .sweep import DEFAULT_STORE, Sweep

FILE_KEYS = (
    "name",
    "env",
    "env_options",
    "tasks",
    "strategies",
    "memories",
    "models",
    "seeds",
    "budgets",
    "concurrency",
    "backend",
    "address",
    "record",
)


def read_file(path: str) -> dict[str, Any]:
    """The sweep file's settings; a ConfigError names a missing file, bad TOML or an unknown key."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"no sweep file {path}; write one (workbench.eval.cli shows an example)")
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    _known(data, f"{path}: unknown key(s)")
    return data


def _known(settings: dict[str, Any], what: str) -> None:
    unknown = [k for k in settings if k not in FILE_KEYS]
    if unknown:
        raise ConfigError(f"{what} {', '.join(unknown)}; valid: {', '.join(FILE_KEYS)}")


def sweep_from(
    file: str | None = None, *, replay: str | None = None, store: Any = DEFAULT_STORE, **settings: Any
) -> Sweep:
    """The sweep a sweep file and `settings` describe (a setting given, not None, overrides the
    file's), or with `replay=SWEEP_ID` the offline replay of a stored sweep (`Sweep.replay`), which
    takes no file and no setting but `concurrency`."""
    given = {k: v for k, v in settings.items() if v is not None}
    _known(given, "unknown sweep setting(s)")
    if replay is not None:
        if file is not None or any(k != "concurrency" for k in given):
            raise ConfigError(
                "--replay SWEEP_ID takes no file or axes (only --store and --concurrency go with it)"
            )
        return Sweep.replay(replay, store, concurrency=given.get("concurrency"))
    return Sweep(**{**(read_file(file) if file is not None else {}), **given}, store=store)
