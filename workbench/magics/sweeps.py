"""`%agent sweep ...`: a sweep in the background of the kernel, shown live in a `SweepView`.

    h = %agent sweep --tasks 0-4 --strategies react,best-first --memories full,diff --max-calls 40
    await h                    # wait for the end (headless notebooks must); h.results is the table
    %agent sweep sweep.toml    # the axes from a file, as `workbench sweep`
    %agent sweep --replay ID   # rerun a stored sweep offline from its recorded calls

A wrong argument is a one-line `UsageError` (the magic's parser and the sweep's `ConfigError`s).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
from collections.abc import Generator
from typing import Any

from IPython.core.error import UsageError
from IPython.display import display

from .args import one_line

AXIS_FLAGS = ("env", "tasks", "strategies", "memories", "models", "seeds")
BUDGET_FLAGS = ("max_calls", "max_tokens", "max_steps")


class SweepRun:
    """A sweep started in the background. `await` it to wait for the end (it returns itself; a failed
    sweep raises); `results` are the rows so far; `pause()`, `resume()`, `cancel()` act on it."""

    def __init__(self, sweep: Any, task: asyncio.Task[Any], view: Any = None) -> None:
        self.sweep = sweep
        self.task = task
        self.view = view

    @property
    def results(self) -> Any:
        return self.sweep.results

    def pause(self) -> None:
        self.sweep.pause()

    def resume(self) -> None:
        self.sweep.resume()

    def cancel(self) -> None:
        self.sweep.cancel()

    def done(self) -> bool:
        return bool(self.task.done())

    def __await__(self) -> Generator[Any, None, SweepRun]:
        return self._wait().__await__()

    async def _wait(self) -> SweepRun:
        await asyncio.wait([self.task])
        if not self.task.cancelled() and self.task.exception() is not None:
            raise self.task.exception()
        if self.view is not None:
            self.view.refresh()
        return self

    def __repr__(self) -> str:
        t = self.sweep.totals()
        finished = t["done"] + t["error"]
        return (
            f"<sweep {self.sweep.id}: {self.sweep.status}, {finished}/{t['cells']} cells finished, "
            f"{t['solved']} solved, {t['error']} errors; await it to wait for the end>"
        )


def make_sweep(args: argparse.Namespace) -> Any:
    """The Sweep an `%agent sweep` line describes (ConfigErrors pass up to `user_errors`)."""
    from ..eval.build import sweep_from
    from ..eval.sweep import DEFAULT_STORE

    budgets = {f: getattr(args, f) for f in BUDGET_FLAGS if getattr(args, f) is not None}
    settings = {f: getattr(args, f) for f in (*AXIS_FLAGS, "concurrency", "name", "backend")}
    store = args.store if args.store is not None else DEFAULT_STORE
    return sweep_from(args.file, replay=args.replay, store=store, budgets=budgets or None, **settings)


def start(args: argparse.Namespace) -> SweepRun:
    """Make the sweep, show its live view, start it on the kernel's loop; returns at once."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise UsageError("%agent sweep runs in a notebook kernel; in a script use Sweep(...).run()") from None
    sweep = make_sweep(args)
    view = None
    if importlib.util.find_spec("workbench.widgets") is not None:
        from ..widgets.sweep_view import SweepView

        view = SweepView(sweep)
        display(view)
    task = sweep.start()
    return SweepRun(sweep, task, view)


def usage_error(exc: BaseException) -> UsageError:
    return UsageError(one_line(str(exc)))
