"""Live widgets over a `Session` (anywidget): `Workbench`, `PlanEditor`, `MemoryEditor`, `DiffView`, `TreeView`,
`ApprovalPrompt`; and `SweepView` over an evaluation sweep (`workbench.eval`).

    from workbench.widgets import Workbench
    Workbench(session)                 # the panel; or show the session itself after
    register_display(get_ipython())   # (done by %load_ext workbench)

Importing this package imports nothing else (no anywidget, no IPython); names load on first use.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

_LAZY = {
    "Workbench": "workbench.widgets.workbench_panel",
    "PlanEditor": "workbench.widgets.plan_editor",
    "MemoryEditor": "workbench.widgets.memory_editor",
    "DiffView": "workbench.widgets.diff_view",
    "TreeView": "workbench.widgets.tree_view",
    "ApprovalPrompt": "workbench.widgets.approval",
    "SessionWidget": "workbench.widgets.base",
    "SweepView": "workbench.widgets.sweep_view",
}

__all__ = sorted([*_LAZY, "panel_for", "register_display"])

_panels: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_panels_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'workbench.widgets' has no attribute {name!r}")


def panel_for(session: Any) -> Any:
    """The `Workbench` of `session`, made on first use (showing a session twice shows one panel)."""
    from .workbench_panel import Workbench

    with _panels_lock:
        panel = _panels.get(session)
        if panel is None or panel.comm is None:
            panel = Workbench(session)
            _panels[session] = panel
        return panel


def _session_mimebundle(session: Any) -> Any:
    return panel_for(session)._repr_mimebundle_()


def register_display(ipython: Any) -> None:
    """Make a `Session` evaluated as the last line of a cell display as its Workbench panel."""
    from ..core.session import Session

    formatter = ipython.display_formatter.mimebundle_formatter
    formatter.for_type(Session, _session_mimebundle)
