"""Evaluation sweeps (workbench.eval): the cross product as stored runs, resumable, errors kept in rows."""

from __future__ import annotations

import asyncio
import pickle
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from workbench.core.session import Session
from workbench.errors import ConfigError, StoreError
from workbench.eval import Sweep, run_cell
from workbench.eval.spec import expand, normalise, sweep_id_for
from workbench.store.sqlite import RunStore


def recount(sweep: Sweep) -> dict[str, Any]:
    """`sweep.totals()` counted afresh from the cells' states and rows."""
    states = [st["state"] for st in sweep.state.values()]
    return {
        **{s: states.count(s) for s in ("pending", "running", "done", "error", "cancelled")},
        "cells": len(sweep.cells),
        "solved": sum(1 for r in sweep.rows.values() if r.get("solved")),
        **{f: sum(st[f] for st in sweep.state.values()) for f in ("tokens", "calls", "cost")},
    }


AXES: dict[str, Any] = {
    "env": "gridworld",
    "tasks": [0, 1, 2, 3, 4],
    "strategies": ["react", "best-first"],
    "memories": ["full", "diff"],
    "budgets": {"max_calls": 40},
}


def test_cells_are_the_cross_product_as_plain_picklable_dicts() -> None:
    config = normalise(models=["workbench/demo"], seeds=[0, 1], **AXES)
    cells = expand(config, sweep_id_for(config))
    assert len(cells) == 5 * 2 * 2 * 2
    assert len({c["key"] for c in cells}) == len(cells)
    assert [c["index"] for c in cells] == list(range(len(cells)))
    assert pickle.loads(pickle.dumps(cells)) == cells
    first = cells[0]
    assert first["coords"] == {
        "task": "0",
        "strategy": "react",
        "memory": "full",
        "model": "workbench/demo",
        "seed": 0,
        "budget": "max_calls=40",
    }
    # the same axes give the same sweep id (a rerun finds the sweep); other axes another
    assert sweep_id_for(normalise(models=["workbench/demo"], seeds=[0, 1], **AXES)) == sweep_id_for(config)
    assert sweep_id_for(normalise(models=["workbench/demo"], seeds=[0], **AXES)) != sweep_id_for(config)


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ({"strategies": []}, "strategies must not be empty"),
        ({"strategies": [3]}, "each of strategies must be a name"),
        ({"budgets": {"max_turns": 3}}, "unknown budget(s) max_turns; valid: max_calls"),
        ({"budgets": {"max_calls": 0}}, "max_calls"),
        ({"tasks": [0, 0]}, "tasks lists 0 more than once"),
        ({"models": ["gpt-4o"]}, "needs a provider prefix"),
        ({"env": None}, "env must be the name of an env"),
        ({"tasks": [{"seed": 1, "level": 3}]}, "unknown task key(s) level"),
        ({"strategies": ["nope"]}, "unknown strategy 'nope'; valid: react"),
        ({"models": [{"name": "openai/x", "api_key": "sk-abcd1234"}]}, "keys come from the environment"),
    ],
)
def test_bad_axes_are_config_errors_that_say_what_is_valid(override: dict[str, Any], words: str) -> None:
    kwargs = {**AXES, "models": ["workbench/demo"], "seeds": [0], **override}
    with pytest.raises(ConfigError, match=None) as info:
        normalise(**kwargs)
    assert words in str(info.value)


def test_run_cell_is_a_normal_stored_run_tagged_with_the_sweep(tmp_path: Path) -> None:
    config = normalise(models=["workbench/demo"], seeds=[3], **{**AXES, "tasks": [2]})
    cell = expand(config, "sw-test")[0]
    db = tmp_path / "runs.sqlite"
    row = run_cell(cell, str(db))
    assert row["outcome"] == "success" and row["solved"] and row["error"] is None
    assert row["calls"] == row["steps"] > 0 and row["tokens"] > 0 and row["simulated"]
    with RunStore(db) as store:
        (listed,) = store.list_runs(sweep="sw-test")
        assert listed["id"] == row["run_id"] and listed["steps"] == row["steps"]
        assert listed["tags"] == {"sweep": "sw-test", "cell": cell["key"]}
        assert store.list_runs(sweep="other") == []
        # the cell opens as any run: resumable, steppable, rewindable
        s = Session.resume(row["run_id"], store=store)
        assert s.tree.outcome == "success" and s.config["tags"]["sweep"] == "sw-test"
        s.rewind(1)
        s.step()
        s.close()


def test_run_cell_without_a_store_ships_the_run_back(tmp_path: Path) -> None:
    config = normalise(
        models=["workbench/demo"], seeds=[0], **{**AXES, "tasks": [1], "strategies": ["react"]}
    )
    cell = expand(config, "sw-ship")[0]
    row = run_cell(cell, None)
    data = pickle.loads(pickle.dumps(row))["run_data"]
    assert data["run"]["id"] == row["run_id"] and len(data["run"]["nodes"]) == row["steps"] + 1
    # the driver writes it (one writer): a sweep's sink saves the shipped run
    with Sweep(
        tasks=[1],
        strategies=["react"],
        budgets={"max_calls": 40},
        store=tmp_path / "d.sqlite",
        name="sw-ship",
    ) as sweep:
        sweep.finished(dict(row))
        run = sweep.store.load_run(row["run_id"])
        assert run.outcome == "success" and [r["id"] for r in sweep.runs()] == [row["run_id"]]
        assert sweep.store.sweep_cells("sw-ship")[0]["status"] == "done"


def test_a_local_sweep_runs_2x2x5_to_completion_and_reports_calls_and_steps(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite"
    with Sweep(**AXES, store=db, concurrency=4) as sweep:
        results = sweep.run()
        assert sweep.status == "done" and len(results) == 20
        assert {r["outcome"] for r in results} <= {"success", "failure", "budget"}
        assert all(r["run_id"] and r["calls"] > 0 and r["steps"] > 0 for r in results)
        # every cell is its own stored run, findable by the sweep id
        assert sorted(r["id"] for r in sweep.runs()) == sorted(r["run_id"] for r in results)
        by = {(s["strategy"], s["memory"]): s for s in results.summary()}
        assert set(by) == {(a, b) for a in ("react", "best-first") for b in ("full", "diff")}
        assert all(s["n"] == 5 and 0 <= s["ci_low"] <= s["rate"] <= s["ci_high"] <= 1 for s in by.values())
        # a search step makes many calls, a ReAct step one: calls and steps are both reported
        assert by[("react", "full")]["calls_mean"] == by[("react", "full")]["steps_mean"]
        assert by[("best-first", "full")]["calls_mean"] > by[("best-first", "full")]["steps_mean"]
        # equal call budgets: a search starts no call past max_calls, even within one expansion
        assert all(r["calls"] <= 40 for r in results)
        assert all(r["calls"] == 40 for r in results if r["outcome"] == "budget")
        html = results._repr_html_()
        assert "best-first" in html and "<table" in html
        assert "20/20 cells finished" in sweep._repr_html_() and "<table" in sweep._repr_html_()
        # the REST API behind the runs browser filters by sweep too
        from workbench.server.reader import StoreReader

        page = StoreReader(db).runs({"sweep": sweep.id}, limit=100)
        assert page["total"] == 20 and {r["tags"]["sweep"] for r in page["runs"]} == {sweep.id}
        stored = sweep.store.load_sweep(sweep.id)
        assert stored["config"]["cells"] == 20 and stored["versions"]["workbench"]
    # the same sweep built again finds every cell finished and runs nothing
    with Sweep(**AXES, store=db) as again:
        ran: list[str] = []
        again.subscribe(lambda kind, data: ran.append(data["key"]) if kind == "started" else None)
        assert len(again.run()) == 20 and ran == []


def test_a_cell_that_errors_does_not_stop_the_others(tmp_path: Path) -> None:
    # a strategy option its strategy refuses (an unknown one fails the whole sweep up front, see
    # test_eval_spec.py) fails only the cells that use it
    sweep = Sweep(
        tasks=[0, 1],
        strategies=["react", {"name": "best-first", "branching": 0}],
        budgets={"max_calls": 30},
        store=tmp_path / "runs.sqlite",
    )
    results = sweep.run()
    bad = [r for r in results if r["strategy"].startswith("best-first")]
    good = [r for r in results if r["strategy"] == "react"]
    assert len(bad) == 2 and all(r["outcome"] == "error" and "branching must be" in r["error"] for r in bad)
    assert all(r["outcome"] == "success" for r in good)
    cells = {c["key"]: c["status"] for c in sweep.store.sweep_cells(sweep.id)}
    assert sorted(cells.values()) == ["done", "done", "error", "error"]
    # a rerun runs the errored cells again, not the finished ones
    assert [c["key"] for c in sweep.pending_cells()] == [r["key"] for r in bad]
    assert sweep.totals() == recount(sweep) and sweep.totals()["error"] == 2
    ran: list[str] = []
    sweep.subscribe(lambda kind, data: ran.append(data["key"]) if kind == "finished" else None)
    sweep.run()
    assert ran == [r["key"] for r in bad]
    assert sweep.totals() == recount(sweep) and sweep.totals()["solved"] == 2
    sweep.close()


def test_pause_and_cancel(tmp_path: Path) -> None:
    async def scenario() -> None:
        sweep = Sweep(tasks=[0, 1, 2, 3], strategies=["react"], store=tmp_path / "runs.sqlite", concurrency=2)
        steps: list[str] = []

        def watch(kind: str, data: dict[str, Any]) -> None:
            if kind == "progress":
                steps.append(data["key"])
                if len(steps) == 3:
                    sweep.pause()

        sweep.subscribe(watch)
        task = sweep.start()
        while sweep.status != "paused":
            await asyncio.sleep(0)
        for _ in range(50):  # the loop keeps turning; a paused sweep takes no step
            await asyncio.sleep(0)
        assert len(steps) == 3 and sweep.status == "paused"
        sweep.cancel()
        await task
        assert sweep.status == "cancelled"
        assert sweep.results == []  # no cell finished: cancelled cells leave no row
        running = [st["run_id"] for st in sweep.state.values() if st["state"] == "cancelled"]
        assert 1 <= len(running) <= 2  # those in flight were dropped; their runs keep what was stored
        assert {r["id"] for r in sweep.runs()} == set(running)
        assert sum(r["steps"] for r in sweep.runs()) == 3
        assert len(sweep.pending_cells()) == 4  # a rerun runs them all
        assert sweep.totals() == recount(sweep) and sweep.totals()["cancelled"] == len(running)
        sweep.close()

    asyncio.run(scenario())


def test_store_migration_adds_the_sweep_tables(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite"
    RunStore(db).close()
    with sqlite3.connect(db) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert {"sweeps", "sweep_cells", "sweep_cells_by_run"} <= names


def test_a_session_call_budget_stops_before_the_next_call() -> None:
    from workbench.errors import BudgetExhausted

    s = Session(env="gridworld", model="workbench/demo", store=None, max_calls=3)
    s.run()
    assert s.tree.calls == 3 and s.status != "error"
    with pytest.raises(BudgetExhausted, match="model-call budget used up"):
        s.step()
    search = Session(env="gridworld", model="workbench/demo", strategy="best-first", store=None, max_calls=7)
    search.run()
    assert search.tree.calls == 7 and search.config["budgets"]["max_calls"] == 7


def test_a_budget_axis_and_a_demo_sweep_replayed_gives_identical_rows(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite"
    with Sweep(tasks=[0, 1], strategies=["react"], budgets={"max_calls": [5, 40]}, store=db) as sweep:
        results = sweep.run()
        by_budget = {s["budget"]: s for s in results.summary()}  # the budget varies: its own rows
        assert set(by_budget) == {"max_calls=5", "max_calls=40"}
        assert by_budget["max_calls=5"]["calls_mean"] == 5 and by_budget["max_calls=5"]["solved"] == 0
        assert by_budget["max_calls=40"]["solved"] == 2
        assert not (tmp_path / "cassettes").exists()  # the seeded demo model needs no cassette
    with Sweep.replay(sweep.id, db) as replay:
        assert replay.id == f"{sweep.id}.replay"
        again = replay.run()
    varying = ("run_id", "seconds", "sweep_id")
    assert [{k: v for k, v in r.items() if k not in varying} for r in again] == [
        {k: v for k, v in r.items() if k not in varying} for r in results
    ]


def test_a_sweep_recorded_into_a_folder_replays_every_cell_from_it(tmp_path: Path) -> None:
    db, tapes = tmp_path / "runs.sqlite", tmp_path / "tapes"
    with Sweep(tasks=[0, 1], strategies=["react"], budgets={"max_calls": 6}, store=db, record=tapes) as sweep:
        results = sweep.run()
        recorded = sorted((tapes / sweep.id).iterdir())
    assert len(recorded) == 2  # a folder records every cell, the demo model's too
    with Sweep.replay(sweep.id[:6], db, concurrency=1) as replay:
        assert replay.replaying and replay.concurrency == 1 and replay.id == f"{sweep.id}.replay"
        assert sorted(Path(c["replay"]) for c in replay.cells) == recorded
        assert all(c["record"] is None for c in replay.cells)  # a replay records nothing
        again = replay.run()
    assert all(r["simulated"] is False for r in again)  # answered from the cassettes, not the demo model
    varying = ("run_id", "seconds", "sweep_id", "simulated")
    assert [{k: v for k, v in r.items() if k not in varying} for r in again] == [
        {k: v for k, v in r.items() if k not in varying} for r in results
    ]


def test_totals_follow_every_change_of_a_cell() -> None:
    from workbench.eval.tally import Tally

    tally = Tally(["a", "b"])
    tally.update("a", state="running", run_id="r1")
    tally.update("a", steps=2, calls=3, tokens=50, cost=0.25)
    row = {"key": "a", "run_id": "r1", "solved": True, "steps": 4, "calls": 5, "tokens": 90, "cost": 0.5}
    tally.take_row(row, "done")
    assert tally.totals() == {
        **{"pending": 1, "running": 0, "done": 1, "error": 0, "cancelled": 0},
        **{"cells": 2, "solved": 1, "tokens": 90, "calls": 5, "cost": 0.5},
    }
    tally.take_row({**row, "run_id": "r2", "solved": False, "outcome": "error", "tokens": 10}, "error")
    tally.update("b", state="running", tokens=7)
    assert tally.totals() == {
        **{"pending": 0, "running": 1, "done": 0, "error": 1, "cancelled": 0},
        **{"cells": 2, "solved": 0, "tokens": 17, "calls": 5, "cost": 0.5},
    }
    assert tally.state["a"]["run_id"] == "r2" and tally.rows["a"]["tokens"] == 10


def test_loading_a_sweep_that_is_not_there_leaves_the_store_closed(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite"
    with Sweep(tasks=[0], budgets={"max_calls": 3}, store=db, name="there") as sweep:
        sweep.run()
    for build in (lambda: Sweep.load("not-there", db), lambda: Sweep.replay("not-there", db)):
        with pytest.raises(StoreError, match="no sweep 'not-there'") as info:
            build()
        # the store's last connection closed: SQLite folded its write-ahead log back into the file
        assert info.value is not None and not (tmp_path / "runs.sqlite-wal").exists()
    with Sweep.load("there", db) as again:
        assert again.totals()["cells"] == 1
