"""agent-workbench: a Jupyter-native workbench for LLM agents.

`import workbench` is cheap: it imports no model client, no IPython, no widgets and no plotly, and
does no I/O.
The public names below are loaded on first use.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Session": "workbench.core.session",
    "Model": "workbench.llm.model",
    "Plan": "workbench.core.plan",
    "Run": "workbench.core.tree",
    "Node": "workbench.core.tree",
    "LLMCall": "workbench.core.tree",
    "make_env": "workbench.envs.base",
    "RunStore": "workbench.store.sqlite",
    "Workbench": "workbench.widgets.workbench_panel",
    "TreeView": "workbench.widgets.tree_view",
    "tool": "workbench.tools.base",
    "Tool": "workbench.tools.base",
    "ToolEnv": "workbench.tools.env",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext workbench`: registers the `%agent` magics."""
    from .magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """`%unload_ext workbench` / `%reload_ext workbench`: stops background runs first."""
    from .magics import unload_ipython_extension as _unload

    _unload(ipython)
