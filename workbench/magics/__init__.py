"""`%load_ext workbench`: the `%agent` line magic and the `%%agent` cell magic.

Importing this package does nothing; `load_ipython_extension` registers the magics on the shell
and, when the widgets package is installed, makes a `Session` shown as the last value of a cell
display as its Workbench panel.
"""

from __future__ import annotations

import importlib.util
from typing import Any


def load_ipython_extension(ipython: Any) -> None:
    """Register `%agent` / `%%agent` (once per shell) and the Session display hook."""
    from .agent import AgentMagics

    if not isinstance(ipython.magics_manager.registry.get("AgentMagics"), AgentMagics):
        ipython.register_magics(AgentMagics(ipython))
    if importlib.util.find_spec("workbench.widgets") is not None:
        from ..widgets import register_display

        register_display(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Stop the agents' background runs; the magics stay registered (IPython cannot remove them)."""
    magics = ipython.magics_manager.registry.get("AgentMagics")
    if magics is not None:
        magics.agents.clear()


def agents(ipython: Any) -> Any:
    """The `Agents` registry of `ipython`'s `%agent` magics (for tests and Python code)."""
    magics = ipython.magics_manager.registry.get("AgentMagics")
    if magics is None:
        raise LookupError("the workbench extension is not loaded: run %load_ext workbench")
    return magics.agents
