"""One cell of a sweep: a normal stored run, tagged with the sweep id, and its result row.

    row = run_cell(spec, "runs.sqlite")     # blocking; what a Ray task (or any worker) calls
    row = await arun_cell(spec, store)      # the same on the caller's loop (the local backend)

`spec` is a cell dict from `spec.expand` (plain data: it pickles and goes over the wire). The run is
a `Session` like any other, tagged `{"sweep": id, "cell": key}`, so `%agent load RUN_ID`, the runs
browser and `workbench show` open it. The cell steps until the run is done or a budget is used up;
the budgets are the Session's own (`max_calls`, `max_tokens`, `max_cost`, `max_steps`): a search
strategy starts no call past `max_calls`, even within one expansion, so strategies compare at equal
model calls.

The row: `key`, `index`, `sweep_id`, the coordinates (`task`, `strategy`, `memory`, `model`, `seed`,
`budget`), `outcome` (success | failure | budget | error), `solved`, `steps`, `calls`,
`prompt_tokens`, `completion_tokens`, `tokens`, `cost`, `run_id`, `error` (None or a one-line
message), `simulated`, `seconds` (wall time: the only field that differs between two identical runs).

A cell that raises becomes a row with outcome "error" and the exception's message: it never stops
the other cells. With `store_path=None` the row also carries `run_data` (the whole run as plain data,
its plan and memory), for a driver that writes the run itself (workers on other machines).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from ..errors import BudgetExhausted, WorkbenchError
from .control import SweepCancelled

Progress = Callable[[str, dict[str, Any]], None]


def run_cell(spec: dict[str, Any], store_path: str | None = None) -> dict[str, Any]:
    """Run one cell to its end and return its result row (see the module docstring).

    `store_path`: the SQLite store the run is written to as it goes (one writer: this call), or
    None to keep it in memory and return it in the row's `run_data`. Never raises for a failing
    cell: the error is in the row."""
    from ..core.sync import run_sync

    return run_sync(arun_cell(spec, store_path))


def _model(spec: dict[str, Any]) -> Any:
    from ..llm.model import Model
    from ..llm.providers import DEMO, REPLAY

    config = {k: v for k, v in spec["model"].items() if k != "max_parallel"}
    name = config.pop("name")
    if spec.get("replay"):
        return Model(REPLAY, cassette=spec["replay"])
    if name == DEMO:
        config.setdefault("seed", spec["seed"])
    elif name != REPLAY and "seed" not in config:
        config["seed"] = spec["seed"]  # passed to the provider: reproducible where it honours it
    return Model(name, record=spec.get("record"), **config)


def _session(spec: dict[str, Any], store: Any, scheduler: Any) -> Any:
    from ..core.session import Session

    budget = spec["budget"]
    session = Session(
        task=spec.get("task"),
        env=spec["env"],
        env_options=dict(spec.get("env_options") or {}),
        model=_model(spec),
        strategy=spec["strategy"],
        memory=spec["memory"],
        memory_options=dict(spec.get("memory_options") or {}) or None,
        store=store,
        seed=spec["task_seed"],
        max_steps=budget.get("max_steps"),
        max_tokens=budget.get("max_tokens"),
        max_cost=budget.get("max_cost"),
        max_calls=budget.get("max_calls"),
        tags={"sweep": spec["sweep_id"], "cell": spec["key"]},
        **dict(spec.get("strategy_options") or {}),
    )
    if scheduler is not None:
        session.share(scheduler, spec["key"])
    return session


def _base_row(spec: dict[str, Any]) -> dict[str, Any]:
    coords = spec.get("coords") or {}
    return {
        "key": spec["key"],
        "index": spec["index"],
        "sweep_id": spec["sweep_id"],
        **{k: coords.get(k) for k in ("task", "strategy", "memory", "model", "seed", "budget")},
        "outcome": "error",
        "solved": False,
        "steps": 0,
        "calls": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "tokens": 0,
        "cost": 0.0,
        "run_id": None,
        "error": None,
        "simulated": spec["model"].get("name") == "workbench/demo" and not spec.get("replay"),
        "seconds": 0.0,
    }


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


async def arun_cell(
    spec: dict[str, Any],
    store: Any = None,
    *,
    on_progress: Progress | None = None,
    on_start: Callable[[str, str], None] | None = None,
    control: Any = None,
    scheduler: Any = None,
) -> dict[str, Any]:
    """`run_cell` on the running loop. `store` is a `RunStore`, a path, or None (see `run_cell`).

    `on_start(key, run_id)` is called once the run exists; `on_progress(key, totals)` after each step
    with {steps, calls, tokens, cost}; `control` (a `SweepControl`) pauses between steps and cancels;
    `scheduler` (a `FairScheduler`) bounds the model's calls at once across cells. Cancelling the task
    (or `control.cancel()`) closes the run as it stands and raises `CancelledError`: no row."""
    row = _base_row(spec)
    started = time.perf_counter()
    session = None
    try:
        session = _session(spec, store, scheduler)
        row["run_id"] = session.run_id
        if on_start is not None:
            on_start(spec["key"], session.run_id)
        reason = await _drive(session, spec["key"], on_progress, control)
        _fill(row, session, reason)
    except (asyncio.CancelledError, SweepCancelled):
        if session is not None:
            session.close()
        raise
    except Exception as exc:  # a failing cell is a row, never a stop of the sweep
        row["outcome"] = "error"
        row["error"] = _one_line(
            f"{type(exc).__name__}: {exc}" if not isinstance(exc, WorkbenchError) else str(exc)
        )
        if session is not None:
            _totals(row, session)
    if session is not None:
        try:
            session.close()
        except Exception as exc:  # the store could not take the last writes: say so in the row
            row["outcome"], row["error"] = "error", _one_line(f"{type(exc).__name__}: {exc}")
        if store is None:
            row["run_data"] = {
                "run": session.tree.to_dict(),
                "plan": session.plan.to_list(),
                "memory": session.memory.state(),
            }
    row["seconds"] = round(time.perf_counter() - started, 4)
    return row


async def _drive(session: Any, key: str, on_progress: Progress | None, control: Any) -> str:
    """Step until done, a budget, an error node; returns why it stopped."""
    while True:
        if control is not None:
            await control.checkpoint()
        if session.done:
            return "done"
        try:
            node = await session.astep()
        except BudgetExhausted:
            return "budget"
        if on_progress is not None:
            on_progress(key, _progress(session))
        if node.info.get("kind") == "provider":
            return "error"
        if session.pending_approval is not None:
            return "approval"


def _progress(session: Any) -> dict[str, Any]:
    run = session.tree
    return {"steps": run.steps, "calls": run.calls, "tokens": run.tokens, "cost": run.cost}


def _totals(row: dict[str, Any], session: Any) -> None:
    run = session.tree
    row.update(
        steps=run.steps,
        calls=run.calls,
        prompt_tokens=run.prompt_tokens,
        completion_tokens=run.completion_tokens,
        tokens=run.tokens,
        cost=round(run.cost, 8),
    )


def _fill(row: dict[str, Any], session: Any, reason: str) -> None:
    _totals(row, session)
    run = session.tree
    if reason == "error":
        row["outcome"] = "error"
        node = run.nodes[max(run.nodes)]
        row["error"] = _one_line(node.error or node.observation or "model error")
    elif reason == "approval":
        row["outcome"] = "error"
        row["error"] = "an action waits for approval (gates stop unattended cells); run the cell by hand"
    elif run.outcome in ("success", "failure"):
        row["outcome"] = run.outcome
    elif reason == "budget":
        row["outcome"] = "budget"
    else:
        row["outcome"] = "failure"  # finished without a verdict (e.g. a search that gave up)
    row["solved"] = row["outcome"] == "success"
