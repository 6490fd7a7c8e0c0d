"""Sweeps on Ray (workbench.eval.ray_backend): a local Ray with 2 workers, a two-node Ray cluster on
this machine (the multi-node path: runs shipped back and written by the driver), the same rows as
the local backend; a worker that dies is an error row; without Ray the error says how to install it.

Each class starts one Ray (class-scoped fixture) and shuts it down before the next class starts:
Ray allows one connection per process. Ray listens on 127.0.0.1 only (the backend's environment).
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from workbench.errors import ConfigError
from workbench.eval import Sweep
from workbench.eval.ray_backend import INSTALL_HINT, RayBackend, _local_ray_environment
from workbench.store.sqlite import RunStore

pytestmark = pytest.mark.slow

# 5 tasks x 2 strategies x 2 memories (x 1 seed): 20 cells, ReAct and best-first, full and diff memory
AXES: dict[str, Any] = {
    "env": "gridworld",
    "tasks": [0, 1, 2, 3, 4],
    "strategies": ["react", "best-first"],
    "memories": ["full", "diff"],
    "budgets": {"max_calls": 40},
}
TESTS = Path(__file__).resolve().parent
VOLATILE = ("run_id", "seconds")  # a new run id per run, and wall time: all else must be equal


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_ray(start: Callable[[], Any]) -> Any:
    """`start()`, tried a second time if Ray's own start-up timed out: on a 2-core machine busy with
    other work Ray's agents can miss Ray's fixed start-up deadlines (seen at load averages above
    10). Only a cluster's start is retried here (RayBackend retries a local Ray's), never a sweep."""
    try:
        return start()
    except Exception as exc:
        if "timed out during startup" not in str(exc):
            raise
        import ray

        ray.shutdown()
        return start()


def comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(({k: v for k, v in r.items() if k not in VOLATILE} for r in rows), key=lambda r: r["key"])


@pytest.fixture(scope="module")
def local_rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The sweep on the local (asyncio) backend: the reference every Ray result must equal."""
    with Sweep(**AXES, store=tmp_path_factory.mktemp("local") / "runs.sqlite") as sweep:
        rows = list(sweep.run())
    assert len(rows) == 20 and all(r["outcome"] in ("success", "failure", "budget") for r in rows)
    return rows


def check_stored(store_path: Path, rows: list[dict[str, Any]]) -> None:
    """Every row's run is in the driver's store: a normal run, tagged with its sweep and cell."""
    with RunStore(store_path) as store:
        listed = {r["id"]: r for r in store.list_runs(limit=100, sweep=rows[0]["sweep_id"])}
        assert sorted(listed) == sorted(r["run_id"] for r in rows)
        for row in rows:
            run = store.load_run(row["run_id"])
            assert run.steps == row["steps"] and run.tokens == row["tokens"]
            assert (run.outcome == "success") == row["solved"]
            assert listed[row["run_id"]]["tags"] == {"sweep": row["sweep_id"], "cell": row["key"]}


def test_without_ray_the_error_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with (
        Sweep(tasks=[0], store=tmp_path / "runs.sqlite", backend="ray") as sweep,
        pytest.raises(ConfigError) as info,
    ):
        sweep.run()
    assert INSTALL_HINT in str(info.value) and INSTALL_HINT == "pip install 'agent-workbench[ray]'"


def test_bad_backend_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="writes must be one of 'auto', 'shared', 'driver'"):
        RayBackend(writes="worker")
    with pytest.raises(ConfigError, match="address must be a Ray address"):
        RayBackend(address="  ")
    with pytest.raises(ConfigError, match="concurrency must be a whole number >= 1"):
        RayBackend(concurrency=0)


class TestLocalRay:
    """`backend="ray"` on one machine: Ray started by the backend (`ray.init`, 2 CPUs)."""

    @pytest.fixture(scope="class")
    def backend(self) -> Iterator[RayBackend]:
        # Ray's workers inherit the environment of the Ray this process starts: the tests folder on
        # their path lets them import ray_toys (the env factory of the dying-worker test)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
            backend = RayBackend(num_cpus=2)
            backend.connect()  # a local Ray: the backend tries its start a second time itself
        yield backend
        backend.close()
        import ray

        assert not ray.is_initialized()

    def test_same_rows_as_local_and_workers_write_the_shared_store(
        self, backend: RayBackend, local_rows: list[dict[str, Any]], tmp_path: Path
    ) -> None:
        db = tmp_path / "runs.sqlite"
        with Sweep(**AXES, store=db, backend=backend) as sweep:
            rows = list(sweep.run())
            assert sweep.status == "done"
        assert comparable(rows) == comparable(local_rows)
        assert backend.mode == "shared"  # one node, the driver's: each worker wrote its own run
        assert len(backend.nodes) == 20 and len(set(backend.nodes.values())) == 1
        check_stored(db, rows)
        import ray

        assert ray.cluster_resources()["CPU"] == 2.0
        assert {n["NodeManagerAddress"] for n in ray.nodes()} == {"127.0.0.1"}
        # resumable: the same sweep again finds every cell finished and sends nothing to Ray
        backend.nodes = {}
        with Sweep(**AXES, store=db, backend=backend) as again:
            assert comparable(list(again.run())) == comparable(rows)
        assert backend.nodes == {}

    def test_a_models_max_parallel_bounds_its_cells_in_flight(
        self, backend: RayBackend, tmp_path: Path
    ) -> None:
        model = {"name": "workbench/demo", "max_parallel": 1}
        with Sweep(tasks=[0, 1, 2], models=[model], store=tmp_path / "runs.sqlite", backend=backend) as sweep:
            rows = list(sweep.run())
        assert len(rows) == 3 and all(r["error"] is None for r in rows)
        assert backend.peak == {"workbench/demo": 1}  # 2 CPUs and no concurrency bound: the model's

    def test_a_worker_that_dies_is_an_error_row_and_the_others_finish(
        self, backend: RayBackend, tmp_path: Path
    ) -> None:
        tasks = [0, {"seed": 1, "env_options": {"crash": True}, "name": "crash"}, 2]
        with Sweep(
            env="ray_toys:gridworld_or_crash",
            tasks=tasks,
            budgets={"max_calls": 30},
            store=tmp_path / "runs.sqlite",
            backend=backend,
        ) as sweep:
            rows = {r["task"]: r for r in sweep.run()}
            cells = {c["key"].split("|")[0]: c["status"] for c in sweep.store.sweep_cells(sweep.id)}
        crash = rows["crash"]
        assert crash["outcome"] == "error" and "Ray task failed: WorkerCrashedError" in crash["error"], crash
        assert crash["run_id"] is None and crash["key"].startswith("task=crash|")
        assert rows["0"]["error"] is None and rows["2"]["error"] is None
        assert cells == {"task=0": "done", "task=crash": "error", "task=2": "done"}


class TestTwoNodeCluster:
    """A two-node Ray cluster on this machine (`ray.cluster_utils.Cluster`): the multi-node path.

    Workers on another node must not write the driver's SQLite file: each returns its run with its
    row and the driver writes it."""

    @pytest.fixture(scope="class")
    def cluster(self) -> Iterator[Any]:
        _local_ray_environment()  # before Ray's first import in this process: loopback, no stats
        import ray
        from ray.cluster_utils import Cluster

        assert not ray.is_initialized()
        # the head (the driver's node) runs no cell, so every cell runs on the other node: where a cell
        # runs is otherwise Ray's choice (quick demo cells all landed on one node on a quiet machine)
        head = {"num_cpus": 0, "include_dashboard": False, "ray_client_server_port": free_port()}
        cluster = start_ray(lambda: Cluster(initialize_head=True, head_node_args=head))
        cluster.client_address = f"ray://127.0.0.1:{head['ray_client_server_port']}"
        start_ray(lambda: cluster.add_node(num_cpus=2))
        yield cluster
        ray.shutdown()
        cluster.shutdown()

    def test_same_rows_as_local_with_runs_and_cassettes_written_by_the_driver(
        self, cluster: Any, local_rows: list[dict[str, Any]], tmp_path: Path
    ) -> None:
        import ray

        backend = RayBackend(address=cluster.address)
        db = tmp_path / "runs.sqlite"
        # record=True: demo cells record cassettes too; on other nodes into a temp folder, shipped back
        with Sweep(**AXES, store=db, backend=backend, record=True) as sweep:
            rows = list(sweep.run())
            cassettes = [Path(c["record"]) for c in sweep.cells]
            sweep_id = sweep.id
        assert comparable(rows) == comparable(local_rows)
        assert backend.mode == "driver"  # two nodes: the runs came back with the rows
        nodes = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
        others = nodes - {cluster.head_node.node_id}
        assert len(nodes) == 2 and set(backend.nodes.values()) == others  # cells ran off the driver's node
        check_stored(db, rows)
        with RunStore(db) as store:  # the run names the cassette where the driver put it
            run = store.load_run(rows[0]["run_id"])
            assert run.config["model"]["record"] == str(cassettes[rows[0]["index"]])
        assert all(p.is_file() and p.stat().st_size > 0 for p in cassettes)
        assert not list(tmp_path.glob("**/workbench-cell-*"))
        # the shipped cassettes are complete: the sweep replays from them offline, to the same rows
        with Sweep.replay(sweep_id, store=db) as replay:
            assert all(c["replay"] for c in replay.cells)
            replayed = list(replay.run())
        same = ("key", "outcome", "steps", "calls", "tokens")
        assert [{k: r[k] for k in same} for r in comparable(replayed)] == [
            {k: r[k] for k in same} for r in comparable(rows)
        ]
        backend.close()  # disconnects from a cluster it did not start, which keeps running
        assert not ray.is_initialized() and cluster.head_node.any_processes_alive()

    def test_a_client_connection_ray_url_ships_runs_back(self, cluster: Any, tmp_path: Path) -> None:
        """`ray://host:port` (Ray's client: the driver outside the cluster) always ships runs back."""
        import ray

        assert not ray.is_initialized()
        backend = RayBackend(address=cluster.client_address)
        db = tmp_path / "runs.sqlite"
        with Sweep(tasks=[0, 1], strategies=["react"], store=db, backend=backend) as sweep:
            rows = list(sweep.run())
        try:
            assert ray.util.client.ray.is_connected() and backend.mode == "driver"
            assert [r["outcome"] for r in rows] == ["success", "success"]
            check_stored(db, rows)
        finally:
            backend.close()
        assert not ray.is_initialized()
