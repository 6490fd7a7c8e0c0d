"""Checks for notebook 07 (evaluation sweeps): a Wilson interval, calls per solved task, a sweep design.

The checks compare with `workbench.eval`'s own functions on fixed and on the notebook's rows, and read
a sweep's cells without running it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .checks import Checker, CheckResult

CASES = [(0, 10), (10, 10), (5, 10), (1, 16), (16, 16), (3, 7), (0, 0), (40, 100)]


def check_wilson(wilson: Callable[[int, int], Any]) -> CheckResult:
    """Exercise 1: `wilson(solved, n)` equals `workbench.eval.wilson` on edge and ordinary cases."""
    from ..eval import wilson as reference

    c = Checker("Exercise 1: the Wilson interval")
    if not c.function(wilson, "wilson"):
        return c.result()
    for solved, n in CASES:
        want = reference(solved, n)
        got = c.attempt(lambda solved=solved, n=n: wilson(solved, n), f"wilson({solved}, {n}) raised")
        if got is None and c.result().problems:
            continue
        pair = c.attempt(
            lambda got=got: (float(got[0]), float(got[1])), f"wilson({solved}, {n}) returned {got!r}"
        )
        if pair is None:
            continue
        close = all(abs(a - b) < 1e-9 for a, b in zip(pair, want, strict=True))
        hint = ""
        if not close:
            if n and solved in (0, n) and abs(pair[1] - pair[0]) < 1e-9:
                hint = ": at 0/n or n/n the interval must not collapse to a point"
            elif n == 0:
                hint = ": n = 0 gives (0.0, 0.0)"
            elif pair[0] < 0 or pair[1] > 1:
                hint = ": clip to [0, 1]"
        c.point(
            close,
            f"wilson({solved}, {n}) = ({want[0]:.3f}, {want[1]:.3f})",
            f"wilson({solved}, {n}) gave ({pair[0]:.3f}, {pair[1]:.3f}), expected ({want[0]:.3f}, {want[1]:.3f}){hint}",
        )
    return c.result()


def _reference_calls_per_solved(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    calls: dict[str, float] = {}
    solved: dict[str, int] = {}
    for r in rows:
        calls[r["strategy"]] = calls.get(r["strategy"], 0) + r["calls"]
        solved[r["strategy"]] = solved.get(r["strategy"], 0) + bool(r["solved"])
    return {s: (calls[s] / solved[s] if solved[s] else None) for s in calls}


MADE_UP = [
    {"strategy": "a", "calls": 10, "solved": True},
    {"strategy": "a", "calls": 30, "solved": False},
    {"strategy": "b", "calls": 5, "solved": False},
    {"strategy": "c", "calls": 7, "solved": True},
    {"strategy": "c", "calls": 9, "solved": True},
]


def check_calls_per_solved(fn: Callable[[list[dict[str, Any]]], Any], rows: Any) -> CheckResult:
    """Exercise 2: `fn(rows)` = {strategy: total calls / solved runs, None when none solved}."""
    c = Checker("Exercise 2: calls per solved task")
    if not c.function(fn, "calls_per_solved"):
        return c.result()
    for label, data in (("made-up rows", MADE_UP), ("this notebook's sweep", list(rows))):
        want = _reference_calls_per_solved(data)
        got = c.attempt(lambda data=data: fn(list(data)), f"{label}: your function raised")
        if not isinstance(got, dict):
            if got is not None:
                c.point(False, "", f"{label}: return a dict {{strategy: value}}, not {type(got).__name__}")
            continue
        wrong = []
        for strategy, value in want.items():
            mine = got.get(strategy, "missing")
            if value is None or mine is None or mine == "missing":
                ok = mine is value
            else:
                ok = isinstance(mine, (int, float)) and abs(mine - value) < 1e-9
            if not ok:
                shown = "None" if value is None else f"{value:.2f}"
                wrong.append(f"{strategy}: {mine!r} (expected {shown})")
        extra = sorted(set(got) - set(want))
        if extra:
            wrong.append(f"strategies that are not in the rows: {extra}")
        c.point(not wrong, f"{label}: right for {len(want)} strategies", f"{label}: {'; '.join(wrong)}")
    return c.result()


def check_memory_sweep(sweep: Any) -> CheckResult:
    """Exercise 3: a Sweep of react x {full, diff} x gridworld layouts 0-5 x 3 seeds, 30 calls each."""
    c = Checker("Exercise 3: design a sweep")
    config = c.inspect(
        sweep, "memory_sweep", lambda s: s.config, "memory_sweep is not a Sweep (it has no config)"
    )
    if config is None:
        return c.result()
    axes = config.get("axes", {})
    c.point(
        axes.get("env") == "gridworld", "env is gridworld", f"env is {axes.get('env')!r}, not 'gridworld'"
    )
    strategies = sorted(x["name"] for x in axes.get("strategies", []))
    memories = sorted(x["name"] for x in axes.get("memories", []))
    tasks = [x.get("seed") for x in axes.get("tasks", [])]
    seeds = list(axes.get("seeds", []))
    budgets = list(axes.get("budgets", []))
    cells = int(config.get("cells", 0))
    c.point(strategies == ["react"], "strategy react only", f"strategies are {strategies}, not ['react']")
    c.point(
        memories == ["diff", "full"], "memories full and diff", f"memories are {memories}, not full and diff"
    )
    c.point(tasks == list(range(6)), "gridworld layouts 0-5", f"tasks (layouts) are {tasks}, not 0-5")
    c.point(len(seeds) == 3, "three agent seeds", f"{len(seeds)} agent seed(s) {seeds}, not three")
    c.point(
        budgets == [{"max_calls": 30}],
        "a budget of 30 model calls",
        f"budgets are {budgets}, not one budget of max_calls=30",
    )
    c.point(cells == 36, "36 cells (1 x 2 x 6 x 3)", f"{cells} cells, expected 1 x 2 x 6 x 3 = 36")
    return c.result()
