"""The CodeAct sandbox: agent code runs in a separate Jupyter kernel, never in the user's.

    from workbench.sandbox import Sandbox, CellResult, sandbox_levels

    with Sandbox(level="auto", timeout=30) as sb:   # "bwrap" where bubblewrap works, else "process"
        print(sb.run("x = 6 * 7\\nx").observation())  # -> 42

See `Sandbox` for the limits and for what each level does and does not contain.
"""

from __future__ import annotations

from workbench.sandbox.levels import sandbox_levels
from workbench.sandbox.result import CellResult
from workbench.sandbox.sandbox import Sandbox

__all__ = ["CellResult", "Sandbox", "sandbox_levels"]
