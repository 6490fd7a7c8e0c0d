"""`Sweep`: strategies x memories x models x tasks x seeds x budgets, each cell a normal stored run.

    from workbench.eval import Sweep
    sweep = Sweep(env="gridworld", tasks=[0, 1, 2], strategies=["react", "best-first"],
                  memories=["full", "diff"], seeds=[0, 1], budgets={"max_calls": 40},
                  store="runs.sqlite")
    results = sweep.run()            # blocking (scripts); in a notebook: await sweep.arun() or sweep.start()
    results.summary(by="strategy")   # solve rate with a 95% interval, calls, steps, tokens per solved task

The sweep id is `name=` or a digest of the axes, so building the same sweep again (in a new process,
after a kill) finds it in the store: finished cells are skipped, cells that errored run again, and a
cell that was in flight starts over (its partial run stays in the store, tagged). Each cell's run is
tagged `{"sweep": id, "cell": key}` (`store.list_runs(sweep=id)`, `%agent load RUN_ID`).

Reproducibility: the store keeps the sweep's config and the versions it ran with (`load_sweep`);
`record="auto"` records every real model's calls into one cassette per cell next to the store
(`<store dir>/cassettes/<sweep id>/`), and `Sweep.replay(id, store)` (`workbench sweep --replay ID`)
reruns the sweep from them offline, bit for bit; the demo model is seeded and replays itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import platform
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .. import validate
from ..errors import ConfigError, StoreError
from . import spec as specs
from .backends import make_backend
from .control import SweepControl
from .results import SweepResults
from .tally import Tally

DEFAULT_STORE: Any = "default"  # the default store (`workbench where`); None keeps nothing


def versions() -> dict[str, Any]:
    """The versions a sweep ran with (stored with it)."""
    from .. import __version__

    found: dict[str, Any] = {
        "workbench": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }
    for dist in ("litellm", "ray"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[dist] = importlib.metadata.version(dist)
    return found


class Sweep:
    """A sweep over agent configurations (see the module docstring)."""

    def __init__(
        self,
        env: str = "gridworld",
        tasks: Any = (0,),
        strategies: Any = ("react",),
        memories: Any = ("full",),
        models: Any = ("workbench/demo",),
        seeds: Any = (0,),
        budgets: Any = None,
        store: Any = DEFAULT_STORE,
        *,
        backend: Any = "local",
        concurrency: int = 4,
        name: str | None = None,
        env_options: dict[str, Any] | None = None,
        record: Any = "auto",
        address: str | None = None,
    ) -> None:
        self.axes = specs.normalise(
            env=env,
            tasks=tasks,
            strategies=strategies,
            memories=memories,
            models=models,
            seeds=seeds,
            budgets=budgets,
            env_options=env_options,
        )
        self.concurrency = validate.number("concurrency", concurrency, minimum=1, integer=True)
        if name is not None:
            name = validate.text("name", name, empty=False).strip()
        self.id = specs.sweep_id_for(self.axes, name)
        self.name = name or self.id
        if record not in ("auto", True, False) and not isinstance(record, (str, Path)):
            raise ConfigError(
                f"record must be 'auto', True, False or a folder for the cassettes, not {record!r}"
            )
        self.record = record
        self.address = address
        self._backend_arg = backend
        self.backend_name = backend if isinstance(backend, str) else type(backend).__name__
        if isinstance(backend, str) and backend not in ("local", "ray"):
            raise ConfigError(f"backend must be 'local', 'ray' or a backend object, not {backend!r}")
        self._store_arg = store
        self.store: Any = None
        self.store_path: str | None = None
        self._open_store()
        self.cells = specs.expand(self.axes, self.id)
        self._assign_cassettes()
        self.control = SweepControl()
        self.status = "idle"
        self.error: str | None = None
        self._index = {c["key"]: c["index"] for c in self.cells}
        self._tally = Tally(self._index)
        self.state = self._tally.state  # key -> {state, run_id, steps, calls, tokens, cost}
        self.rows = self._tally.rows  # key -> the result row of a finished cell
        self._listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._task: asyncio.Task[Any] | None = None
        self.replaying = False

    # --- store and cassettes --------------------------------------------------------------------
    def _open_store(self) -> None:
        from ..store.sqlite import RunStore

        store = self._store_arg
        if store is None:
            return
        path = _path_of(store)
        if path is not None:
            self.store = RunStore(path)
            self._own_store = True
        elif hasattr(store, "save_sweep"):
            self.store = store
            self._own_store = False
        else:
            raise ConfigError("store must be a RunStore, the path of its SQLite file, 'default' or None")
        self.store_path = str(self.store.path)

    def _cassette_dir(self, record: Any, sweep_id: str) -> Path | None:
        """Where sweep `sweep_id` run with `record` (in this sweep's store) keeps its cassettes."""
        if isinstance(record, (str, Path)) and record not in ("auto",):
            return Path(record) / sweep_id
        if record is False or self.store_path is None:
            return None
        return Path(self.store_path).parent / "cassettes" / sweep_id

    def _cassettes(self, record: Any, sweep_id: str) -> dict[str, str]:
        """Cell key -> the cassette its cell records to when sweep `sweep_id` runs with `record`:
        every cell for True or a folder, the real models' cells for "auto", none for False."""
        folder = self._cassette_dir(record, sweep_id)
        if folder is None:
            return {}
        everything = record is not False and record != "auto"  # True or a folder
        return {
            c["key"]: str(folder / specs.cell_file_name(c["key"]))
            for c in self.cells
            if everything or not _simulated(c)
        }

    def _assign_cassettes(self) -> None:
        recorded = self._cassettes(self.record, self.id)
        for cell in self.cells:
            cell["record"] = recorded.get(cell["key"])

    def close(self) -> None:
        """Close the store this sweep opened from a path (safe to call twice)."""
        if self.store is not None and getattr(self, "_own_store", False):
            self.store.close(quiet=True)
            self._own_store = False

    def __enter__(self) -> Sweep:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- description ------------------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        """What the store keeps: the axes, the cell count and how the sweep runs."""
        return {
            "axes": self.axes,
            "cells": len(self.cells),
            "backend": self.backend_name,
            "concurrency": self.concurrency,
            "record": self.record
            if isinstance(self.record, bool) or self.record == "auto"
            else str(self.record),
        }

    def __repr__(self) -> str:
        t = self.totals()
        return (
            f"<Sweep {self.id} · {len(self.cells)} cells · {t['done'] + t['error']} finished · {self.status}>"
        )

    def __len__(self) -> int:
        return len(self.cells)

    def _repr_html_(self) -> str:
        """In a notebook: the status line and the results table so far (`SweepView(sweep)` is live)."""
        import html

        t = self.totals()
        head = (
            f"<p><b>sweep {html.escape(self.id)}</b> · {html.escape(self.status)} · "
            f"{t['done'] + t['error']}/{t['cells']} cells finished · {t['solved']} solved · {t['error']} errors</p>"
        )
        return head + (self.results.to_html() if self.rows else "")

    @property
    def results(self) -> SweepResults:
        """The rows so far, in cell order (finished cells of earlier runs of this sweep included)."""
        rows = [self.rows[c["key"]] for c in self.cells if c["key"] in self.rows]
        return SweepResults(rows, self.id)

    def totals(self) -> dict[str, Any]:
        """Counts by state, and tokens, calls and cost so far (finished and in-flight cells)."""
        return self._tally.totals()

    def subscribe(self, fn: Callable[[str, dict[str, Any]], None]) -> Callable[[], None]:
        """Call `fn(kind, data)` on each change: kind is started, progress, finished or status."""
        self._listeners.append(fn)
        return lambda: self._listeners.remove(fn) if fn in self._listeners else None

    def _emit(self, kind: str, data: dict[str, Any]) -> None:
        for fn in list(self._listeners):
            fn(kind, data)

    def _set_status(self, status: str) -> None:
        self.status = status
        self._emit("status", {"status": status, "error": self.error})

    # --- the sink a backend reports to ------------------------------------------------------------
    def started(self, key: str, run_id: str) -> None:
        self._tally.update(key, state="running", run_id=run_id)
        if self.store is not None:
            self.store.sweep_cell_started(self.id, key, self._index[key], run_id)
        self._emit("started", {"key": key, "run_id": run_id})

    def progress(self, key: str, totals: dict[str, Any]) -> None:
        self._tally.update(key, **totals)
        self._emit("progress", {"key": key, **totals})

    def finished(self, row: dict[str, Any]) -> None:
        data = row.pop("run_data", None)
        if data is not None and self.store is not None:
            self._save_shipped_run(data)
        status = "error" if row["outcome"] == "error" else "done"
        if self.store is not None:
            self.store.sweep_cell_finished(self.id, row["key"], row["index"], row, status)
        self._tally.take_row(row, status)
        self._emit("finished", row)

    def _save_shipped_run(self, data: dict[str, Any]) -> None:
        """Write a run a remote worker sent back (the driver is its one writer)."""
        from ..core.tree import Run

        run = Run.from_dict(data["run"])
        self.store.save_run(run, plan=data.get("plan"), memory=data.get("memory"), status="done")
        self.store.release(run.id)

    # --- running ------------------------------------------------------------------------------------
    def pending_cells(self) -> list[dict[str, Any]]:
        """The cells a run of the sweep starts: all but those finished ("done") in the store."""
        return [c for c in self.cells if self.state[c["key"]]["state"] != "done"]

    def _load_finished(self) -> None:
        if self.store is None:
            return
        for rec in self.store.sweep_cells(self.id):
            if rec["key"] in self.state and rec["status"] == "done":
                self._tally.take_row(rec["row"], "done")

    async def arun(self) -> SweepResults:
        """Run every cell not finished yet (the async form: `await sweep.arun()` in a notebook)."""
        if self.status == "running":
            raise ConfigError(f"sweep {self.id} is already running; pause(), cancel() or wait for it")
        self.control = SweepControl() if self.control.cancelled else self.control
        self.control.bind(asyncio.get_running_loop())
        self.error = None
        if self.store is not None:
            self.store.save_sweep(self.id, self.name, self.config, versions())
        self._load_finished()
        todo = self.pending_cells()
        for cell in todo:
            self._tally.update(cell["key"], state="pending", steps=0, calls=0, tokens=0, cost=0.0)
            if cell.get("record"):  # a cell that runs again records afresh
                Path(cell["record"]).unlink(missing_ok=True)
        backend = make_backend(
            self._backend_arg, concurrency=self.concurrency, store=self.store, address=self.address
        )
        self._set_status("running")
        try:
            await backend.run(todo, self)
        except asyncio.CancelledError:
            self._drop_in_flight()
            self._set_status("cancelled")
            raise
        except BaseException as exc:
            self._drop_in_flight()
            self.error = f"{type(exc).__name__}: {exc}"
            self._set_status("error")
            raise
        self._drop_in_flight()
        self._set_status("cancelled" if self.control.cancelled else "done")
        return self.results

    def _drop_in_flight(self) -> None:
        """Cells still running when the sweep stops were cancelled (a rerun runs them again)."""
        for key, st in self.state.items():
            if st["state"] == "running":
                self._tally.update(key, state="cancelled")

    def run(self) -> SweepResults:
        """Blocking form of `arun` (scripts, the CLI); Ctrl-C cancels the cells in flight."""
        from ..core.sync import run_sync

        return run_sync(self.arun())

    def start(self) -> asyncio.Task[Any]:
        """Run in the background on the running loop (a notebook's) and return the task at once."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise ConfigError(
                "start() needs a running event loop (a notebook); use run() in a script"
            ) from None
        if self._task is not None and not self._task.done():
            raise ConfigError(f"sweep {self.id} is already running; pause(), cancel() or wait for it")
        task = loop.create_task(self.arun())
        self._task = task

        def done(t: asyncio.Task[Any]) -> None:
            if not t.cancelled() and t.exception() is not None and self.error is None:
                self.error = f"{type(t.exception()).__name__}: {t.exception()}"
                self._set_status("error")

        task.add_done_callback(done)
        return task

    def pause(self) -> None:
        """Finish the steps in flight, then start nothing new until `resume()` (thread-safe)."""
        self.control.pause()
        if self.status == "running":
            self._set_status_threadsafe("paused")

    def resume(self) -> None:
        self.control.resume()
        if self.status == "paused":
            self._set_status_threadsafe("running")

    def cancel(self) -> None:
        """Stop now: the steps in flight are dropped (their runs keep what was stored); a rerun of the
        sweep runs the unfinished cells again (thread-safe)."""
        self.control.cancel()

    def _set_status_threadsafe(self, status: str) -> None:
        self.control.on_loop(lambda: self._set_status(status), or_now=True)

    # --- stored sweeps ----------------------------------------------------------------------------
    def runs(self) -> list[dict[str, Any]]:
        """The stored runs of this sweep (`list_runs` entries), newest first."""
        if self.store is None:
            return []
        return self.store.list_runs(limit=10**6, sweep=self.id)

    @classmethod
    def load(cls, sweep_id: str, store: Any = DEFAULT_STORE, **overrides: Any) -> Sweep:
        """The stored sweep `sweep_id` (its axes from the store), ready to `run()` again."""
        opened = _opened(store)
        with _closed_if_raising(opened, opened is not store):
            return cls._of_record(opened.load_sweep(sweep_id), opened, opened is not store, overrides)

    @classmethod
    def replay(cls, sweep_id: str, store: Any = DEFAULT_STORE, *, concurrency: int | None = None) -> Sweep:
        """A sweep that reruns `sweep_id` from its recorded calls, offline (id `<id>.replay`).

        Each cell answers from the cassette its original cell recorded; a demo-model cell reruns the
        seeded demo model. A replay starts afresh each time (its earlier rows are replaced)."""
        opened = _opened(store)
        with _closed_if_raising(opened, opened is not store):
            original = opened.load_sweep(sweep_id)
            overrides: dict[str, Any] = {"name": f"{original['id']}.replay", "record": False}
            if concurrency is not None:
                overrides["concurrency"] = concurrency
            sweep = cls._of_record(original, opened, opened is not store, overrides)
            sweep._answer_from(original)
            opened.delete_sweep_cells(sweep.id)
            return sweep

    def _answer_from(self, original: dict[str, Any]) -> None:
        """Replay mode: each cell answers from the cassette its cell of the stored sweep `original`
        recorded (a demo-model cell without one reruns the seeded demo model)."""
        self.replaying = True
        recorded = self._cassettes(original["config"].get("record", "auto"), original["id"])
        for cell in self.cells:
            source = recorded.get(cell["key"])
            if source and Path(source).is_file():
                cell["replay"] = source
            elif not _simulated(cell):
                cell["replay"] = source or "(no cassette recorded)"

    @classmethod
    def _of_record(cls, record: dict[str, Any], store: Any, own: bool, overrides: dict[str, Any]) -> Sweep:
        """The sweep a stored sweep `record` describes, in `store`, with `overrides` (name, ...)."""
        sweep = cls(**{**_kwargs_of(record["config"]), "name": record["id"], "store": store, **overrides})
        sweep._own_store = own
        return sweep

    def export_cassettes(self, folder: str | Path) -> Path:
        """Copy this sweep's cassettes into `folder` (to ship them with a notebook); returns the copy."""
        source = self._cassette_dir(self.record, self.id)
        target = Path(folder) / self.id
        if source is None or not source.is_dir():
            raise ConfigError(f"sweep {self.id} recorded no cassettes (record=False, or only the demo model)")
        shutil.copytree(source, target, dirs_exist_ok=True)
        return target


def _simulated(cell: dict[str, Any]) -> bool:
    """Whether the cell's model is one of ours (the seeded demo model replays itself, no cassette)."""
    return str(cell["model"].get("name")).startswith("workbench/")


@contextlib.contextmanager
def _closed_if_raising(store: Any, own: bool) -> Iterator[None]:
    """Close a store opened for a stored sweep (`own`) when building the sweep fails."""
    try:
        yield
    except BaseException:
        if own:
            store.close(quiet=True)
        raise


def _path_of(store: Any) -> str | Path | None:
    """The file a store argument names ("default": the default store's); None for a store object."""
    if isinstance(store, str) and store == DEFAULT_STORE:
        from ..store.location import default_store_path

        return default_store_path()
    return store if isinstance(store, (str, Path)) else None


def _opened(store: Any) -> Any:
    """The store a stored sweep is read from: an existing file opened, or the store object given."""
    from ..store.sqlite import RunStore

    path = _path_of(store)
    if path is not None:
        if not Path(path).is_file():
            raise StoreError(f"no run store at {path}; give the store the sweep ran in (--store)")
        return RunStore(path, create=False)
    if store is None or not hasattr(store, "load_sweep"):
        raise ConfigError("store must be a RunStore or the path of its SQLite file")
    return store


def _kwargs_of(cfg: dict[str, Any]) -> dict[str, Any]:
    axes = cfg.get("axes") or {}

    def named(items: list[dict[str, Any]]) -> list[Any]:
        return [{"name": i["name"], **i.get("options", {})} if i.get("options") else i["name"] for i in items]

    return {
        "env": axes["env"],
        "env_options": axes.get("env_options") or None,
        "tasks": [
            {"seed": t["seed"], "task": t["task"], "env_options": t["env_options"], "name": t["name"]}
            for t in axes["tasks"]
        ],
        "strategies": named(axes["strategies"]),
        "memories": named(axes["memories"]),
        "models": axes["models"],
        "seeds": axes["seeds"],
        "budgets": axes["budgets"],
        "concurrency": cfg.get("concurrency", 4),
        "record": cfg.get("record", "auto"),
    }
