"""The SweepView in a real JupyterLab (Playwright + Debian's headless Chromium).

A 2 strategies x 2 memories x 5 tasks sweep with the offline demo model (paced like a real model)
runs in the background from a notebook: the progress bar and the outcome grid fill while it runs,
Pause stops new steps (the kernel confirms), Resume goes on, and the finished grid shows every
cell's outcome; a second sweep is cancelled with its Cancel button. Screenshots go to
test-artifacts/sweep-*.png. Every wait is a Playwright condition.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from browser_fixtures import open_notebook, run_cell, screenshot, write_notebook

pytestmark = pytest.mark.browser
VIEW = ".jp-OutputArea-output .wb-sweep"

CELLS = [
    """\
import asyncio
from workbench.eval import Sweep
from workbench.llm.model import Model
from workbench.widgets.sweep_view import SweepView

_answer = Model.acomplete
async def _paced(self, messages, **kwargs):  # answer after a moment, as a real model would
    await asyncio.sleep(0.04)
    return await _answer(self, messages, **kwargs)
Model.acomplete = _paced
sweep = Sweep(tasks=[0, 1, 2, 3, 4], strategies=["react", "best-first"], memories=["full", "diff"],
              budgets={"max_calls": 16}, store="sweeps.sqlite", concurrency=4)
view = SweepView(sweep)
view""",
    "task = sweep.start()",
    'steps = sum(st["steps"] for st in sweep.state.values())\nprint("PAUSED>>", sweep.status, steps)',
    'print("STILL>>", sweep.status, sum(st["steps"] for st in sweep.state.values()))',
    'await task\nt = sweep.totals()\nprint("DONE>>", sweep.status, t["done"], t["solved"])',
    """\
second = Sweep(tasks=list(range(10)), strategies=["react"], budgets={"max_calls": 30},
               store="sweeps.sqlite", concurrency=1, name="second")
second_view = SweepView(second)
second_task = second.start()
second_view""",
    'await second_task\nprint("CANCELLED>>", second.status, second.totals()["done"])',
]


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as _expect

    return _expect(target)


@pytest.fixture
def page(lab: Any, chromium: Any) -> Iterator[Any]:
    lab.delete_sessions()
    (lab.root / "sweeps.sqlite").unlink(missing_ok=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 1100})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(f"{exc}\n{exc.stack}"))
    yield page
    page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
    context.close()
    lab.delete_sessions()


def output(cell: Any) -> Any:
    return cell.locator(".jp-OutputArea-output")


def test_sweep_view_shows_progress_and_the_grid_and_pauses_resumes_and_cancels(page: Any, lab: Any) -> None:
    write_notebook(lab.root / "sweep.ipynb", CELLS)
    open_notebook(page, lab, "sweep.ipynb")
    run_cell(page, 0)
    view = page.locator(VIEW).first
    expect(view.locator(".wb-sv-totals")).to_contain_text("0/20 cells")
    expect(view.locator("td.wb-sv-cell")).to_have_count(20)
    expect(view.locator("td.wb-sv-pending")).to_have_count(20)

    run_cell(page, 1)
    # live: cells run (their step counts show) while the progress bar moves
    expect(view.locator("td.wb-sv-running").first).to_be_visible(timeout=30_000)
    expect(view.locator(".wb-sv-status")).to_have_text("running")
    expect(view.locator(".wb-sv-totals")).to_contain_text(
        re.compile(r"\b([1-9]|1[0-9])/20 cells"), timeout=30_000
    )
    screenshot(view, "sweep-running.png")

    view.locator(".wb-sv-pause").click()
    expect(view.locator(".wb-sv-status")).to_have_text("paused", timeout=30_000)
    expect(view.locator(".wb-sv-notice")).to_contain_text("pausing")
    paused = output(run_cell(page, 2))
    expect(paused).to_contain_text("PAUSED>> paused")
    steps = int(paused.inner_text().split("PAUSED>>")[1].split()[1])
    still = output(run_cell(page, 3))  # the kernel took another turn: still no new step
    expect(still).to_contain_text(f"STILL>> paused {steps}")
    screenshot(view, "sweep-paused.png")

    view.locator(".wb-sv-resume").click()
    done = output(run_cell(page, 4))
    expect(done).to_contain_text("DONE>> done 20", timeout=120_000)
    solved = int(done.inner_text().split("DONE>>")[1].split()[2])
    expect(view.locator(".wb-sv-totals")).to_contain_text(f"20/20 cells · 0 running · {solved} solved")
    expect(view.locator(".wb-sv-status")).to_have_text("done")
    finished = view.locator("td.wb-sv-success, td.wb-sv-failure, td.wb-sv-budget")
    expect(finished).to_have_count(20)
    expect(view.locator("td.wb-sv-success")).to_have_count(solved)
    expect(view.locator(".wb-sv-pause")).to_be_disabled()
    screenshot(view, "sweep-done.png")

    # a second sweep, cancelled from its button
    run_cell(page, 5)
    second = page.locator(VIEW).nth(1)
    expect(second.locator("td.wb-sv-running")).to_have_count(1, timeout=30_000)
    second.locator(".wb-sv-cancel").click()
    cancelled = output(run_cell(page, 6))
    expect(cancelled).to_contain_text("CANCELLED>> cancelled")
    expect(second.locator(".wb-sv-status")).to_have_text("cancelled")
    assert int(cancelled.inner_text().split("CANCELLED>>")[1].split()[1]) < 10
    screenshot(second, "sweep-cancelled.png")
    assert page.errors == []
