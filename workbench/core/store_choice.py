"""Which store a new `Session` writes to: what `store=` means, and the notebook default.

`store=` takes a `RunStore`, a path to a SQLite file, None (no store), or `NOTEBOOK_DEFAULT`: the
default store (`workbench.store.location`) inside a Jupyter kernel and no store elsewhere, so that
scripts and tests persist only when asked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError


class _NotebookDefault:
    """The `store=` default: the default store (`workbench.store.location`) inside a Jupyter kernel,
    no store elsewhere (scripts and tests persist only when asked)."""

    def __repr__(self) -> str:
        return "<the default store in a notebook, else none>"


NOTEBOOK_DEFAULT: Any = _NotebookDefault()


def in_kernel() -> bool:
    """True inside a Jupyter kernel (an IPython shell with a kernel attached)."""
    import sys

    ipython = sys.modules.get("IPython")
    if ipython is None or "ipykernel" not in sys.modules:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _default_store() -> Any:
    if not in_kernel():
        return None
    import warnings

    from ..errors import StoreError
    from ..store.location import default_store_path
    from ..store.sqlite import RunStore

    path = default_store_path()
    try:
        return RunStore(path)
    except StoreError as exc:  # an unwritable default must not stop the notebook
        warnings.warn(f"{exc}; this run is not persisted (set WORKBENCH_STORE or pass store=)", stacklevel=3)
        return None


def make_store(store: Any) -> Any:
    """The store a session writes to for `store=` (see the module docstring); ConfigError otherwise."""
    if store is NOTEBOOK_DEFAULT:
        return _default_store()
    if store is None or hasattr(store, "handle"):
        return store
    if isinstance(store, (str, Path)):
        from ..store.sqlite import RunStore

        return RunStore(store)
    raise ConfigError("store must be a RunStore, a path to a SQLite file, or None")
