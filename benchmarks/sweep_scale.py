"""Wall time of a 200-run sweep with 1 and 2 workers, on the local backend and on Ray.

    python benchmarks/sweep_scale.py [--runs 200] [--delay 0.05] [--calls 4]
                                     [--only demo|server|bookkeeping] [--cells 10000] [--cluster]

Two workloads, each a sweep of `--runs` cells (ReAct, full memory, gridworld tasks x seeds):
- demo: the simulated model (workbench/demo), CPU-bound: every run is engine + demo policy work,
  at most 20 model calls (`max_calls`).
- server: a loopback OpenAI-compatible server (the test suite's `ModelServer`, tests/conftest.py,
  on 127.0.0.1) that answers every request after a fixed `--delay`, through litellm over HTTP;
  every run makes exactly `--calls` calls (the server's answer is not a move, so no run ends early).

Backends: local (asyncio in this process, `concurrency` 1 and 2) and Ray (a local Ray with 2 CPUs,
started once, 1 and 2 cells in flight; its workers are warmed first, so Ray's start and each
worker's first imports are reported apart, not in the walls), twice: the workers writing their runs
into the shared SQLite file (what a single-machine Ray does), and `writes="driver"` (each run shipped
back with its row and written by the driver, what a multi-machine cluster does). Each line: wall
time, the lower bound, wall / bound, speed-up over 1 worker of the same backend, and for Ray the
overhead per run over the local backend at the same worker count. Lower bounds: demo (CPU-bound) = the same backend's
1-worker wall / min(workers, CPUs); server (latency-bound) = runs x calls x delay / workers.

Bookkeeping: the driver's own work per cell, without running an agent: a sweep of `--cells` cells
(with its SQLite store) is told that each cell started, made 5 steps of progress and finished, and
its totals are asked after each finished cell (what the progress bar and the live view do); the
line gives microseconds per cell for each part at 1/10 and all of `--cells`, so a cost that grows
with the sweep's size shows as a larger number in the second column.

`--cluster` adds the multi-node path: the demo sweep on a two-node `ray.cluster_utils.Cluster` on
this machine (1 CPU each), runs shipped back and written by the driver; it reports the driver's time
per shipped run written (the serial part of a cluster sweep). The load average before and after each
line says how busy the (shared) machine was.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from conftest import ModelServer  # noqa: E402  (the loopback server of the test suite)

from workbench.eval import Sweep  # noqa: E402
from workbench.eval.ray_backend import RayBackend, _local_ray_environment  # noqa: E402
from workbench.llm.providers import prepare_environment  # noqa: E402

API_KEY = "sk-loopback-bench"


class FixedLatencyServer(ModelServer):
    """Every request answered after `delay` seconds with the same ReAct step."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def next_behaviour(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[dict[str, Any], Any]:
        with self._lock:
            self.requests.append({})  # count only: bodies would pile up over thousands of calls
        return {"delay": self.delay, "text": "Thought: I wait.\nAction: wait"}, self._release


def axes(runs: int, workload: str, server: FixedLatencyServer | None, calls: int) -> dict[str, Any]:
    tasks = list(range(10))
    seeds = list(range(max(1, runs // len(tasks))))
    if workload == "demo":
        model: Any = "workbench/demo"
        budget = {"max_calls": 20}
    else:
        assert server is not None
        model = {"name": "openai/loopback", "api_base": server.url, "max_retries": 0, "timeout": 60}
        budget = {"max_calls": calls}
    return {"env": "gridworld", "tasks": tasks, "seeds": seeds, "models": [model], "budgets": budget}


def bookkeeping(cells: int) -> None:
    """The sink's time per cell (started, progress, finished, totals) at cells/10 and `cells` cells."""
    print(f"\nbookkeeping: microseconds per cell, {cells // 10:,} and {cells:,} cells (with the store)")
    print(f"{'part':<22}{cells // 10:>10,}{cells:>10,}")
    per: dict[str, list[float]] = {"started": [], "progress x5": [], "finished": [], "totals()": []}
    for n in (cells // 10, cells):
        spec = {"tasks": list(range(max(1, n // 10))), "seeds": list(range(10)), "record": False}
        with Sweep(**spec, store=Path(tempfile.mkdtemp(prefix="sweep-bench-")) / "runs.sqlite") as sweep:
            keys = [c["key"] for c in sweep.cells]
            spent = dict.fromkeys(per, 0.0)
            for i, key in enumerate(keys):
                t0 = time.perf_counter()
                sweep.started(key, f"run-{i}")
                t1 = time.perf_counter()
                for step in range(1, 6):
                    sweep.progress(key, {"steps": step, "calls": step, "tokens": 40 * step, "cost": 0.0})
                t2 = time.perf_counter()
                row = {"key": key, "index": i, "outcome": "success", "solved": True, "run_id": f"run-{i}"}
                sweep.finished({**row, "steps": 5, "calls": 5, "tokens": 200, "cost": 0.0})
                t3 = time.perf_counter()
                sweep.totals()
                t4 = time.perf_counter()
                for part, took in zip(spent, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                    spent[part] += took
            for part, took in spent.items():
                per[part].append(1e6 * took / len(keys))
    for part, (small, large) in per.items():
        print(f"{part:<22}{small:>10.1f}{large:>10.1f}")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


def sweep_once(spec: dict[str, Any], backend: Any, concurrency: int, name: str) -> tuple[float, list[dict]]:
    """One sweep with at most `concurrency` cells at once; its wall time and rows."""
    folder = tempfile.mkdtemp(prefix="sweep-bench-")
    if isinstance(backend, RayBackend):
        backend.concurrency = concurrency  # a backend object is used as given: its own bound
    with Sweep(
        **spec,
        store=Path(folder) / "runs.sqlite",
        backend=backend,
        concurrency=concurrency,
        name=name,
        record=False,
    ) as sweep:
        started = time.perf_counter()
        rows = list(sweep.run())
        wall = time.perf_counter() - started
    errors = [r for r in rows if r["outcome"] == "error"]
    if errors:
        raise SystemExit(f"{len(errors)} cells failed, e.g. {errors[0]['error']}")
    return wall, rows


def report(label: str, wall: float, bound: float, base: float | None, extra: str, before: str) -> None:
    speedup = f"{base / wall:>8.2f}" if base else f"{'':>8}"
    print(
        f"{label:<30}{wall:>8.2f}{bound:>9.2f}{wall / bound:>10.2f}{speedup}  {extra:<18}{before} -> {load()}"
    )


def run_workload(workload: str, args: argparse.Namespace, ray_backend: RayBackend, server: Any) -> None:
    spec = axes(args.runs, workload, server, args.calls)
    n = len(spec["tasks"]) * len(spec["seeds"])
    print(
        f"\n{workload}: {n} runs"
        + (f", {args.calls} calls each, {args.delay * 1000:.0f} ms per call" if server else "")
    )
    print(
        f"{'backend':<30}{'wall s':>8}{'bound s':>9}{'wall/bnd':>10}{'speedup':>8}  {'ray overhead/run':<18}load 1/5 min"
    )
    warm(spec, "local", f"warm-{workload}-local")
    warm(spec, ray_backend, f"warm-{workload}-ray")
    walls: dict[tuple[str, int], float] = {}
    shipped = RayBackend(writes="driver")  # the same Ray; each run comes back and the driver writes it
    for label, backend in (("local", "local"), ("ray", ray_backend), ("ray, driver writes", shipped)):
        for workers in (1, 2):
            before = load()
            wall, _ = sweep_once(spec, backend, workers, f"bench-{workload}-{label}-{workers}")
            walls[label, workers] = wall
            bound = (
                walls[label, 1] / min(workers, os.cpu_count() or 1)
                if workload == "demo"
                else n * args.calls * args.delay / workers
            )
            overhead = "" if label == "local" else f"{1000 * (wall - walls['local', workers]) / n:+.1f} ms"
            base = walls[label, 1] if workers > 1 else None
            report(f"{label}, {workers} worker(s)", wall, bound, base, overhead, before)


def warm(spec: dict[str, Any], backend: Any, name: str) -> float:
    """One small sweep of `spec`'s kind on `backend` (both Ray workers, or this process): the first
    imports and the first call to a provider are paid here, not in the timed sweeps."""
    started = time.perf_counter()
    sweep_once({**spec, "tasks": [0, 1], "seeds": [0]}, backend, 2, name)
    return time.perf_counter() - started


def twice(start: Any) -> Any:
    """`start()`, once more if Ray's own start-up deadline passed (a busy machine)."""
    try:
        return start()
    except Exception as exc:
        if "timed out during startup" not in str(exc):
            raise
        return start()


def cluster_path(args: argparse.Namespace) -> None:
    """The demo sweep on a two-node Cluster on this machine: runs shipped back, written by the driver."""
    import ray
    from ray.cluster_utils import Cluster

    started = time.perf_counter()
    cluster = twice(
        lambda: Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    )
    twice(lambda: cluster.add_node(num_cpus=1))
    backend = RayBackend(address=cluster.address)
    try:
        warm(axes(2, "demo", None, 0), backend, "warm-cluster")
        print(f"\ntwo-node cluster: started and warmed in {time.perf_counter() - started:.1f} s")
        spec = axes(args.runs, "demo", None, 0)
        folder = tempfile.mkdtemp(prefix="sweep-bench-")
        with Sweep(
            **spec,
            store=Path(folder) / "runs.sqlite",
            backend=backend,
            concurrency=2,
            name="bench-cluster",
            record=False,
        ) as sweep:
            writes: list[float] = []
            finished = sweep.finished

            def timed(row: dict[str, Any]) -> None:
                t = time.perf_counter()
                finished(row)
                writes.append(time.perf_counter() - t)

            sweep.finished = timed  # type: ignore[method-assign]
            before = load()
            t = time.perf_counter()
            rows = list(sweep.run())
            wall = time.perf_counter() - t
        assert backend.mode == "driver" and len(rows) == len(writes)
        nodes = len(set(backend.nodes.values()))
        writes.sort()
        print(
            f"demo, {len(rows)} runs on {nodes} nodes: wall {wall:.2f} s; the driver wrote each shipped run "
            f"in {1000 * writes[len(writes) // 2]:.1f} ms (median; p90 {1000 * writes[int(len(writes) * 0.9)]:.1f} ms, "
            f"total {sum(writes):.2f} s)   load {before} -> {load()}"
        )
    finally:
        ray.shutdown()
        cluster.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.05, help="server latency per call, seconds")
    parser.add_argument("--calls", type=int, default=4, help="model calls per run against the server")
    parser.add_argument("--only", choices=["demo", "server", "bookkeeping"], default=None)
    parser.add_argument("--cells", type=int, default=10_000, help="cells of the bookkeeping sweep")
    parser.add_argument("--cluster", action="store_true", help="also the two-node Cluster (driver writes)")
    args = parser.parse_args()
    prepare_environment()
    if args.only in (None, "bookkeeping"):
        bookkeeping(args.cells)
        if args.only == "bookkeeping":
            return
    _local_ray_environment()
    os.environ["OPENAI_API_KEY"] = API_KEY  # before Ray starts: its workers inherit it
    server = FixedLatencyServer(args.delay)
    server.start()
    print(f"{os.cpu_count()} CPUs; load average (1/5 min) at start {load()}")
    ray_backend = RayBackend(num_cpus=2)
    try:
        started = time.perf_counter()
        ray_backend.connect()
        up = time.perf_counter() - started
        first = warm(axes(2, "demo", None, 0), ray_backend, "warm-ray")
        print(
            f"local Ray (2 CPUs) started in {up:.1f} s; its first 2 runs (worker imports) took {first:.1f} s"
        )
        for workload in ("demo", "server"):
            if args.only in (None, workload):
                run_workload(workload, args, ray_backend, server if workload == "server" else None)
    finally:
        ray_backend.close()
        server.stop()
    if args.cluster:
        cluster_path(args)


if __name__ == "__main__":
    main()
