"""Evaluation sweeps: strategies x memories x models x tasks x seeds x budgets, each cell a stored run.

    from workbench.eval import Sweep
    results = Sweep(env="gridworld", tasks=[0, 1], strategies=["react", "best-first"],
                    budgets={"max_calls": 40}, store="runs.sqlite").run()

The seam for executors: `run_cell(spec, store_path) -> row` runs one cell anywhere (a Ray task
calls it), and a backend (`backends.py`) is anything with `async run(cells, sink)`.
Importing this package imports nothing else; names load on first use.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "Sweep": "workbench.eval.sweep",
    "sweep_from": "workbench.eval.build",
    "SweepResults": "workbench.eval.results",
    "summarise": "workbench.eval.results",
    "wilson": "workbench.eval.results",
    "run_cell": "workbench.eval.cell",
    "arun_cell": "workbench.eval.cell",
    "LocalBackend": "workbench.eval.backends",
    "Backend": "workbench.eval.backends",
    "Sink": "workbench.eval.backends",
    "SweepControl": "workbench.eval.control",
    "SweepCancelled": "workbench.eval.control",
    "expand": "workbench.eval.spec",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'workbench.eval' has no attribute {name!r}")
