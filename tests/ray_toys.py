"""An env factory for the Ray sweep tests: the built-in gridworld, or a worker process that dies.

`env="ray_toys:gridworld_or_crash"` with a task `{"seed": n, "env_options": {"crash": True}}` kills
the process that builds it (as a segfaulting extension or the OOM killer would): only ever used on
Ray, where that process is a worker, never the test's own.
"""

from __future__ import annotations

import os
from typing import Any


def gridworld_or_crash(crash: bool = False, **options: Any) -> Any:
    if crash:
        os._exit(3)
    from workbench.envs.gridworld import GridWorld

    return GridWorld(**options)
