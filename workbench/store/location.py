"""Where the default run store lives, so the kernel, the CLI and the Jupyter server agree on one file.

    default_store_path()            # WORKBENCH_STORE, else the nearest .workbench/ upward, else per user
    describe_default()              # the same path and the rule that picked it, for messages

The rule, first match wins:

1. `$WORKBENCH_STORE`: the path of a SQLite file (a directory means `<dir>/runs.sqlite`).
2. The nearest folder named `.workbench` in the current directory or one of its parents: a project
   opts in by having one (`workbench init` makes it), and a notebook in `notebooks/` then finds the
   project's `.workbench/` at the root, like `git` finds `.git`. The search stops below a
   world-writable folder such as `/tmp`, where anyone could have made a `.workbench`.
3. The per-user data folder (`~/.local/share/agent-workbench/runs.sqlite` on Linux, honouring
   `$XDG_DATA_HOME`; the platform's equivalent elsewhere).

Nothing here creates files; `RunStore(path)` does when it opens the store for writing.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

ENV_VAR = "WORKBENCH_STORE"
PROJECT_DIR = ".workbench"
FILE_NAME = "runs.sqlite"
APP_NAME = "agent-workbench"


def user_store_path() -> Path:
    """The per-user store: `<user data dir>/agent-workbench/runs.sqlite`."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / FILE_NAME


def project_store_path(start: str | Path | None = None) -> Path | None:
    """`<dir>/.workbench/runs.sqlite` for the nearest `dir` at or above `start` (default: the cwd)
    that has a `.workbench` folder, or None."""
    here = Path(start if start is not None else os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if _shared(folder):
            return None  # /tmp and the like: anyone could have made a .workbench there
        if (folder / PROJECT_DIR).is_dir():
            return folder / PROJECT_DIR / FILE_NAME
    return None


def _shared(folder: Path) -> bool:
    """A world-writable folder (the system temp dir): the upward search stops below it."""
    try:
        return bool(folder.stat().st_mode & stat.S_IWOTH)
    except OSError:
        return True


def describe_default(start: str | Path | None = None) -> tuple[Path, str]:
    """The default store's path and which rule chose it (`"$WORKBENCH_STORE"`, `"project"`, `"user"`)."""
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        path = Path(override).expanduser()
        return (path / FILE_NAME if path.is_dir() else path), f"${ENV_VAR}"
    project = project_store_path(start)
    if project is not None:
        return project, "project"
    return user_store_path(), "user"


def default_store_path(start: str | Path | None = None) -> Path:
    """The store the kernel, the CLI and the Jupyter server use when none is named."""
    return describe_default(start)[0]


def shown(path: str | Path) -> str:
    """`path` relative to the cwd when it lies below it (shorter messages), else absolute."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(p)
