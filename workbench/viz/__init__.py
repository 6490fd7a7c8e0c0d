"""Pure functions from runs to figures (plotly is imported only when a figure is made)."""

from __future__ import annotations

from typing import Any

_LAZY = {
    "usage_rows": "workbench.viz.usage",
    "usage_series": "workbench.viz.usage",
    "usage_figure": "workbench.viz.usage",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'workbench.viz' has no attribute {name!r}")
