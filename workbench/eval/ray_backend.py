"""Run a sweep's cells as Ray tasks: on a local Ray (`ray.init()`) or a Ray cluster by address.

    Sweep(..., backend="ray")                                  # a local Ray, started for the sweep
    Sweep(..., backend="ray", address="ray://head:10001")      # a cluster (or set RAY_ADDRESS)
    Sweep(..., backend=RayBackend(address="auto", writes="driver"))

Every cell is one Ray task calling `cell.run_cell(spec, ...)`, the function every backend runs: Ray
decides where and when (its CPUs bound how many run at once; the sweep's `concurrency` and a
model's `max_parallel` bound the cells in flight lower, e.g. for a rate limit). Nothing here
schedules. A task that dies (a crashed worker, a lost node) is an error row; the other cells go on.

Where runs are written (one writer per run, always):
- every node of the cluster is the driver's own node (a local Ray): each task writes its run to the
  sweep's SQLite file itself, as the local backend does (SQLite in WAL mode takes writers from
  several processes of one machine, never from several machines);
- otherwise (several nodes, or a client connection `ray://`): the task keeps its run in memory and
  returns it with its row (`run_data`); the driver writes it to the sweep's store. A cell that
  records a cassette records it into a temp folder on its node and ships its text back too; the
  driver writes it where the sweep keeps cassettes, so `Sweep.replay` finds it.
`writes="shared"` or `"driver"` forces one of the two.

A local Ray started here listens on 127.0.0.1 only, without dashboard or usage statistics; `close()`
shuts it down (or disconnects from a cluster, which keeps running). A Ray this process had already
initialised is used as it is.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections import deque
from pathlib import Path
from typing import Any

from ..errors import ConfigError, WorkbenchError
from .control import SweepCancelled

INSTALL_HINT = "pip install 'agent-workbench[ray]'"
WRITES = ("auto", "shared", "driver")


def import_ray() -> Any:
    """The `ray` module, or a ConfigError that says how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError(
            f"backend='ray' needs Ray, which is not installed here; install it with: {INSTALL_HINT}"
        ) from None
    return ray


def _local_ray_environment() -> None:
    """Environment for a Ray this process starts: loopback only, no usage statistics.

    Read by Ray when it is imported, so set before the first `import ray` (a Ray imported earlier by
    the user keeps the user's settings). Ray binds to the machine's outward address unless told it is
    not a cluster; a sweep's private Ray has no reason to listen beyond 127.0.0.1."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


def cell_task(spec: dict[str, Any], store_path: str | None, ship: bool = False) -> dict[str, Any]:
    """What one Ray task runs (a top-level function, so Ray pickles it by reference): `run_cell`,
    plus the node it ran on (`_node`, popped by the driver).

    `ship`: the driver's files are not reachable from here. The run comes back in the row
    (`run_data`, from `run_cell(spec, None)`), and so does the cell's cassette: recorded into a temp
    folder on this node, its text returned as `_cassette` for the driver to write where the sweep
    keeps it."""
    from .cell import run_cell

    cassette = spec.get("record") if ship else None
    if not cassette:
        row = run_cell(spec, None if ship else store_path)
        row["_node"] = _node_id()
        return row
    with tempfile.TemporaryDirectory(prefix="workbench-cell-") as folder:
        local = str(Path(folder) / "cassette.jsonl")
        row = run_cell({**spec, "record": local}, None)
        recorded = Path(local)
        row["_cassette"] = recorded.read_text(encoding="utf-8") if recorded.is_file() else None
    _point_record_at(row, local, str(cassette))
    row["_node"] = _node_id()
    return row


def _point_record_at(row: dict[str, Any], temp: str, wanted: str) -> None:
    """The shipped run's model config names the cassette where the driver writes it, not the
    worker's temp file."""
    model = (((row.get("run_data") or {}).get("run") or {}).get("config") or {}).get("model")
    if isinstance(model, dict) and model.get("record") == temp:
        model["record"] = wanted


def _land_cassette(spec: dict[str, Any], text: str | None) -> None:
    """Write a cassette a worker shipped back to the path the sweep gave the cell."""
    if text is None or not spec.get("record"):
        return
    target = Path(spec["record"])
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)


def _node_id() -> str | None:
    try:
        import ray

        return ray.get_runtime_context().get_node_id()
    except Exception:  # not inside Ray (a direct call in a test or a debugger)
        return None


def _failed_row(spec: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    """The row of a cell whose Ray task died (worker crash, lost node, a spec that would not
    unpickle): an error row like any failing cell's, so the other cells go on."""
    from .cell import _base_row, _one_line

    row = _base_row(spec)
    cause = getattr(exc, "cause", None) or exc
    row["error"] = _one_line(f"Ray task failed: {type(cause).__name__}: {cause}")
    return row


class RayBackend:
    """Cells as Ray tasks (see the module docstring).

    address      None: $RAY_ADDRESS if set, else a local Ray started here (`ray.init()`);
                 "auto", "host:6379" or "ray://host:10001": an existing Ray.
    concurrency  at most this many cells in flight across the cluster (the sweep's `concurrency`;
                 None: all, and Ray's CPUs bound them). A model's `max_parallel` bounds its cells
                 in flight too: on Ray it limits cells, not calls.
    num_cpus     CPUs of a local Ray started here (default: all of the machine's).
    writes       "auto" (a shared SQLite file only when every node is the driver's), "shared", "driver".
    num_cpus_per_cell  Ray CPUs each cell task asks for (a cell mostly waits on its model: 0.5 packs two).
    runtime_env  Ray runtime env for the tasks (e.g. {"pip": ["agent-workbench"]} on a cluster without
                 it); init_options: more keyword arguments for `ray.init`.
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        concurrency: int | None = None,
        num_cpus: int | None = None,
        writes: str = "auto",
        num_cpus_per_cell: float = 1,
        runtime_env: dict[str, Any] | None = None,
        init_options: dict[str, Any] | None = None,
    ) -> None:
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise ConfigError(
                f"address must be a Ray address ('auto', 'host:6379', 'ray://host:10001') or None, not {address!r}"
            )
        if writes not in WRITES:
            raise ConfigError(f"writes must be one of {', '.join(map(repr, WRITES))}, not {writes!r}")
        for name, value in (("concurrency", concurrency), ("num_cpus", num_cpus)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ConfigError(f"{name} must be a whole number >= 1 (or None), not {value!r}")
        if (
            not isinstance(num_cpus_per_cell, (int, float))
            or isinstance(num_cpus_per_cell, bool)
            or not num_cpus_per_cell > 0
        ):
            raise ConfigError(f"num_cpus_per_cell must be a number > 0, not {num_cpus_per_cell!r}")
        self.address = address.strip() if address else (os.environ.get("RAY_ADDRESS") or None)
        self.concurrency = concurrency
        self.num_cpus = num_cpus
        self.writes = writes
        self.num_cpus_per_cell = float(num_cpus_per_cell)
        self.runtime_env = runtime_env
        self.init_options = dict(init_options or {})
        self._started = False  # this backend called ray.init (and so shuts Ray down on close)
        self.mode: str | None = None  # "shared" or "driver": how the last sweep's runs were written
        self.nodes: dict[str, str | None] = {}  # cell key -> the Ray node it ran on (last sweep)
        self.peak: dict[str, int] = {}  # model -> most of its cells in flight at once (last sweep)

    def __repr__(self) -> str:
        return f"RayBackend({self.address or 'local'!r}, writes={self.writes!r})"

    # --- connection -------------------------------------------------------------------------------
    def connect(self) -> Any:
        """Initialise Ray once (local or by address) and return the module."""
        if self.address is None:
            _local_ray_environment()
        ray = import_ray()
        if ray.is_initialized():
            return ray
        options: dict[str, Any] = {"log_to_driver": False}
        if self.address is None:
            options.update(num_cpus=self.num_cpus, include_dashboard=False)
        else:
            options["address"] = self.address
        if self.runtime_env is not None:
            options["runtime_env"] = self.runtime_env
        options.update(self.init_options)
        try:
            try:
                ray.init(**options)
            except ConnectionError as exc:
                # Ray's client server starts a server process per client; when that start fails
                # ("Initialization failure from server") a second connection usually gets one
                if "Initialization failure from server" not in str(exc):
                    raise
                ray.shutdown()
                ray.init(**options)
        except ConnectionError as exc:
            raise ConfigError(f"cannot connect to the Ray cluster at {self.address}: {exc}") from None
        except Exception as exc:
            if self.address is not None or "timed out during startup" not in str(exc):
                raise
            # Ray's own start-up deadlines are fixed (about 15-30 s for its agents): a machine busy
            # with other work can miss them once. One more try, then say what to do.
            ray.shutdown()
            try:
                ray.init(**options)
            except Exception as again:
                if "timed out during startup" not in str(again):
                    raise
                raise WorkbenchError(
                    f"Ray could not start on this machine within its start-up deadline, twice ({again}); "
                    "the machine is probably too busy: try again later, or start Ray once with "
                    "`ray start --head` and pass address='auto'"
                ) from None
        self._started = True
        return ray

    def close(self) -> None:
        """Shut down the local Ray this backend started, or disconnect from the cluster it connected
        to (which keeps running). A Ray initialised before this backend is left as it is."""
        if self._started:
            import ray

            ray.shutdown()
            self._started = False

    def single_machine(self, ray: Any) -> bool:
        """Whether every alive node of the cluster is the driver's own (a shared file is then safe)."""
        if ray.util.client.ray.is_connected():  # ray://: the driver is outside the cluster
            return False
        mine = ray.get_runtime_context().get_node_id()
        alive = {n["NodeID"] for n in ray.nodes() if n.get("Alive")}
        return alive == {mine}

    def _mode(self, ray: Any, store_path: str | None) -> str:
        if self.writes != "auto":
            return self.writes
        return "shared" if store_path is None or self.single_machine(ray) else "driver"

    # --- running ----------------------------------------------------------------------------------
    async def run(self, cells: list[dict[str, Any]], sink: Any) -> None:
        """Run every cell as a Ray task; hand each row to `sink.finished` as it arrives (on this
        loop). Pause submits nothing new (cells in flight run to their end); Cancel cancels the
        cells in flight (no row: a rerun runs them again)."""
        if not cells:
            return
        ray = self.connect()
        control = sink.control
        store_path = sink.store_path
        self.mode = self._mode(ray, store_path)
        ship = self.mode == "driver"  # the row brings the run (and the cell's cassette) back
        self.nodes = {}
        self.peak = {}
        task = ray.remote(num_cpus=self.num_cpus_per_cell, max_retries=0)(cell_task)
        if self.mode == "driver":  # several machines: spread cells rather than fill one node first
            task = task.options(scheduling_strategy="SPREAD")
        limit = self.concurrency or len(cells)
        # cells waiting, per model (a model's max_parallel bounds its cells in flight), sweep order
        waiting: dict[str, deque[dict[str, Any]]] = {}
        for spec in cells:
            waiting.setdefault(str(spec["model"].get("name")), deque()).append(spec)
        bound = {
            name: int(specs[0]["model"]["max_parallel"])
            for name, specs in waiting.items()
            if specs[0]["model"].get("max_parallel") is not None
        }
        running = dict.fromkeys(waiting, 0)
        pending: dict[asyncio.Future[Any], tuple[dict[str, Any], Any]] = {}
        wake = asyncio.Event()  # set by Cancel: stop waiting for the cells in flight
        control.on_cancel(wake.set)

        def submit() -> None:
            for name, specs in waiting.items():
                while specs and len(pending) < limit and running[name] < bound.get(name, limit):
                    spec = specs.popleft()
                    running[name] += 1
                    self.peak[name] = max(self.peak.get(name, 0), running[name])
                    ref = task.remote(spec, store_path, ship)
                    pending[asyncio.wrap_future(ref.future())] = (spec, ref)

        try:
            while not control.cancelled and (pending or any(waiting.values())):
                if not control.paused:
                    submit()
                if not pending:  # paused with nothing in flight: wait for Resume or Cancel
                    try:
                        await control.checkpoint()
                    except SweepCancelled:
                        break
                    continue
                waiter = asyncio.ensure_future(wake.wait())
                done, _ = await asyncio.wait([*pending, waiter], return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                for future in done:
                    if future is waiter:
                        continue
                    spec, _ref = pending.pop(future)
                    running[str(spec["model"].get("name"))] -= 1
                    try:
                        row = future.result()
                    except Exception as exc:  # the task itself died: a row like any failing cell
                        row = _failed_row(spec, exc)
                    self.nodes[spec["key"]] = row.pop("_node", None)
                    _land_cassette(spec, row.pop("_cassette", None))
                    sink.finished(row)
        finally:
            for future, (_spec, ref) in pending.items():
                future.cancel()
                ray.cancel(ref)
