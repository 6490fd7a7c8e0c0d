"""Where a sweep's cells run: the seam between a `Sweep` and an executor.

A backend is an object with

    async def run(self, cells: list[dict], sink: Sink) -> None

that runs every cell of `cells` (plain dicts from `spec.expand`, in any order, as many at once as it
likes) and hands each result row to `sink.finished(row)` on the driver's event loop, as it arrives.
What a backend must do:

- Run a cell with `cell.run_cell(spec, store_path)` (blocking; any process) or `cell.arun_cell`
  (async, this process). Both return the row and never raise for a failing cell.
- One writer per run: a cell's run is written only by the process that runs it. Give
  `sink.store_path` to workers that share the store's file system (one machine: SQLite in WAL mode
  takes writers from several processes); give `None` to workers elsewhere, whose row then carries
  `run_data`, which `sink.finished` writes into the store on the driver.
- Results come back to the driver: only `sink.finished` records a cell (the sweep tables have one
  writer, the driver), so a killed sweep loses at most the cells in flight.
- Honour `sink.control`: start no new cell while `control.paused` (await `control.checkpoint()`),
  stop starting cells and cancel the ones in flight when `control.cancelled`
  (`control.on_cancel(fn)` registers a callback run on the driver's loop).
- Optionally call `sink.started(key, run_id)` and `sink.progress(key, totals)` (live views).

`LocalBackend` (the default) runs cells as asyncio tasks in this process, at most `concurrency` at
once, each model's calls bounded by its `max_parallel` (a `FairScheduler` per model). The Ray backend
(`backend="ray"`) lives in `workbench.eval.ray_backend`.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from .. import validate
from ..errors import ConfigError
from .control import SweepCancelled, SweepControl


class Sink(Protocol):
    """What a backend reports to (the `Sweep` driver implements it)."""

    store_path: str | None
    control: SweepControl

    def started(self, key: str, run_id: str) -> None: ...

    def progress(self, key: str, totals: dict[str, Any]) -> None: ...

    def finished(self, row: dict[str, Any]) -> None: ...


class Backend(Protocol):
    """Runs a sweep's cells (see the module docstring for what a backend must do)."""

    name: str

    async def run(self, cells: list[dict[str, Any]], sink: Sink) -> None: ...


class LocalBackend:
    """Cells as asyncio tasks in this process: at most `concurrency` at once; each model's calls
    bounded by its `max_parallel` (the model's rate limit) through one `FairScheduler` per model."""

    name = "local"

    def __init__(self, concurrency: int = 4, store: Any = None) -> None:
        self.concurrency = validate.number("concurrency", concurrency, minimum=1, integer=True)
        self.store = store  # the driver's RunStore: the sessions of this process write through it

    async def run(self, cells: list[dict[str, Any]], sink: Sink) -> None:
        from ..oversight.scheduler import FairScheduler
        from .cell import arun_cell

        control = sink.control
        schedulers: dict[str, FairScheduler] = {}
        for spec in cells:
            limit = spec["model"].get("max_parallel")
            name = str(spec["model"].get("name"))
            if limit is not None and name not in schedulers:
                schedulers[name] = FairScheduler(limit=int(limit))
        gate = asyncio.Semaphore(self.concurrency)
        tasks: set[asyncio.Task[Any]] = set()
        control.on_cancel(lambda: [t.cancel() for t in list(tasks)])

        async def one(spec: dict[str, Any]) -> None:
            async with gate:
                try:
                    await control.checkpoint()
                    row = await arun_cell(
                        spec,
                        self.store if self.store is not None else sink.store_path,
                        on_progress=sink.progress,
                        on_start=sink.started,
                        control=control,
                        scheduler=schedulers.get(str(spec["model"].get("name"))),
                    )
                except SweepCancelled:
                    return  # cancelled: like a killed cell, no row (a rerun runs it again)
                sink.finished(row)

        for spec in cells:
            task = asyncio.ensure_future(one(spec))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if control.cancelled:
            for task in list(tasks):
                task.cancel()
        results = await asyncio.gather(*list(tasks), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                raise result


BACKENDS = ("local", "ray")


def make_backend(backend: Any, *, concurrency: int, store: Any, address: str | None = None) -> Any:
    """A backend from its name (`"local"`, `"ray"`) or a backend object (anything with `run`)."""
    if not isinstance(backend, str):
        if not callable(getattr(backend, "run", None)):
            raise ConfigError(
                f"backend must be 'local', 'ray' or an object with async run(cells, sink), not {backend!r}"
            )
        return backend
    if backend == "local":
        return LocalBackend(concurrency=concurrency, store=store)
    if backend == "ray":
        from .ray_backend import RayBackend  # imports ray itself only when it starts

        return RayBackend(concurrency=concurrency, address=address)
    raise ConfigError(f"backend must be one of {', '.join(BACKENDS)} or a backend object, not {backend!r}")
