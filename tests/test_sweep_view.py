"""SweepView without a browser: its state follows the sweep, the buttons pause and cancel it, and the
static fallback reads without a kernel. The real-browser journey is in test_browser_sweep.py."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from workbench.eval import Sweep
from workbench.widgets.sweep_view import SweepView


def make(tmp_path: Path, **kw: Any) -> Sweep:
    axes: dict[str, Any] = {
        "tasks": [0, 1, 2],
        "strategies": ["react", "best-first"],
        "memories": ["full", "diff"],
        "budgets": {"max_calls": 20},
    }
    return Sweep(**{**axes, **kw}, store=tmp_path / "runs.sqlite")


def test_the_view_shows_progress_the_grid_and_totals(tmp_path: Path) -> None:
    sweep = make(tmp_path)
    view = SweepView(sweep)
    assert view.totals["pending"] == 12 and view.status == "idle"
    results = sweep.run()
    view.refresh()
    g = view.outcome_grid
    assert [r["label"] for r in g["rows"]] == [
        "react · full",
        "react · diff",
        "best-first · full",
        "best-first · diff",
    ]
    assert g["columns"] == ["0", "1", "2"] and g["row_axes"] == ["strategy", "memory"]
    by_key = {r["key"]: r for r in results}
    for row in g["rows"]:
        for cell in row["cells"]:
            assert cell["outcome"] == by_key[cell["key"]]["outcome"] and cell["run_id"]
    t = view.totals
    assert (t["done"], t["cells"], t["pending"]) == (12, 12, 0) and view.status == "done"
    assert t["tokens"] == sum(r["tokens"] for r in results) and t["calls"] == sum(r["calls"] for r in results)
    page = view.static_html()
    assert "sweep " + sweep.id in page and "12/12 cells" in page and "✓" in page
    assert view.summary().startswith(f"<SweepView {sweep.id}: done, 12/12 cells")
    sweep.close()


def test_pause_and_cancel_buttons_work_from_another_thread(tmp_path: Path) -> None:
    async def scenario() -> None:
        sweep = make(tmp_path, concurrency=2)
        view = SweepView(sweep)
        progressed = asyncio.Event()
        loop = asyncio.get_running_loop()

        def watch(kind: str, data: dict[str, Any]) -> None:
            if kind == "progress" and not progressed.is_set():
                progressed.set()
                # a comm message on a subshell thread: the button's method runs there
                t = threading.Thread(target=view._on_custom_msg, args=(view, {"event": "pause"}, []))
                t.start()
                t.join()

        sweep.subscribe(watch)
        task = sweep.start()
        await progressed.wait()
        while sweep.status != "paused":
            await asyncio.sleep(0)
        steps = sum(st["steps"] for st in sweep.state.values())
        for _ in range(100):
            await asyncio.sleep(0)
        assert sum(st["steps"] for st in sweep.state.values()) == steps  # paused: no new step
        assert "pausing" in view.notice
        await loop.run_in_executor(None, view._on_custom_msg, view, {"event": "cancel"}, [])
        await task
        view.refresh()
        assert sweep.status == "cancelled" and view.status == "cancelled"
        assert "cancelled" in view.notice and view.totals["done"] < 12
        sweep.close()

    asyncio.run(scenario())
