"""The JupyterLab extension in a real JupyterLab and Chromium: the "Agent runs" sidebar lists a run a
kernel is making and follows it live, a run opens in the main area with no kernel, the palette's
commands work, light and dark."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from browser_fixtures import ARTIFACTS, open_notebook, run_all, screenshot, write_notebook

pytestmark = pytest.mark.browser

BUILT = ARTIFACTS.parent / "workbench" / "labextension" / "package.json"

CELLS = [
    """\
import asyncio
from workbench.core.session import Session
from workbench.llm.model import Model

class Paced:
    \"\"\"The offline demo model, answering after a pause as a real model would.\"\"\"
    def __init__(self, inner, delay):
        self.inner, self.delay = inner, delay
    def __getattr__(self, name):
        return getattr(self.inner, name)
    async def acomplete(self, messages, **kwargs):
        await asyncio.sleep(self.delay)
        return await self.inner.acomplete(messages, **kwargs)

s = Session(task="find the key, open the door", env="gridworld", model=Paced(Model("workbench/demo", seed=2), 0.4))
print("RUN>>", s.run_id, s.store.path)""",
    "task = asyncio.ensure_future(s.arun(max_steps=25))",
]


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as _expect

    return _expect(locator)


def command(page: Any, name: str, args: str = "{}") -> Any:
    return page.evaluate(f"() => window.jupyterapp.commands.execute('{name}', {args})")


def test_runs_browser_follows_a_live_run_and_opens_it_without_a_kernel(lab: Any, chromium: Any) -> None:
    if not BUILT.is_file():  # `pip install -e .` builds it; under CI a missing build is a failure
        message = "the lab extension is not built: `pip install -e .` (or jlpm build:prod in extension/)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    lab.delete_sessions()
    write_notebook(lab.root / "runs-browser.ipynb", CELLS)
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_notebook(page, lab, "runs-browser.ipynb")
    run_all(page)
    said = page.locator(".jp-OutputArea-output").first.inner_text()
    run_id = re.search(r"RUN>> (\w+)", said).group(1)

    # the palette lists the commands; the sidebar opens from it
    palette = page.evaluate(
        "() => window.jupyterapp.commands.listCommands().filter(c => c.startsWith('workbench:'))"
    )
    assert {"workbench:open-runs", "workbench:new-agent-notebook", "workbench:step-agent"} <= set(palette)
    # the sidebar opens with its shortcut (Ctrl/Cmd+Shift+U collided with the property inspector's)
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").click()
    page.keyboard.press("Escape")  # command mode: the keys go to the application, not a cell editor
    page.keyboard.press("Alt+Shift+R")
    expect(page.locator("#workbench-runs")).to_be_visible()
    row = page.locator(f"#workbench-runs .wb-runs-row[data-run-id='{run_id}']")
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-status", "running")
    steps = row.locator("td").nth(5)
    first = int(steps.inner_text())
    expect(steps).not_to_have_text(str(first), timeout=10_000)  # it follows the run as it steps
    screenshot(page.locator("#workbench-runs"), "extension-runs-light.png")

    # the search box filters on the server
    page.locator("#workbench-runs .wb-runs-search").fill("no such task anywhere")
    expect(row).to_have_count(0)
    page.locator("#workbench-runs .wb-runs-search").fill("open the door")
    expect(row).to_be_visible()

    # the run ends; with every kernel shut down, it still opens from the store
    expect(row).not_to_have_attribute("data-status", "running", timeout=60_000)
    lab.delete_sessions()
    row.click()
    view = page.locator(f"#workbench-run-view-{run_id}")
    # the Workbench panel's own views (widgets/static), read-only: header, cards, tree, usage
    expect(view.locator(".wb-title")).to_contain_text("find the key, open the door")
    expect(view.locator(".wb-status")).not_to_contain_text("running")
    expect(view.locator(".wb-config")).to_have_text("demo model (simulated) · react · full")
    expect(view.locator(".wb-controls")).to_be_hidden()
    cards = view.locator(".wb-card")
    expect(cards.first).to_contain_text("Start")
    assert cards.count() >= 3
    expect(cards.nth(1)).to_contain_text("Action")
    cards.nth(1).locator("details.wb-call summary").click()  # its model call, read from the server
    expect(cards.nth(1).locator(".wb-msg").first).to_be_visible()
    screenshot(view, "extension-run-light.png")
    view.locator(".wb-tab-tree").click()
    expect(view.locator(".wb-tv-summary")).to_contain_text("nodes")
    drawn = page.evaluate(
        f"() => document.querySelector('#workbench-run-view-{run_id} .wb-tv').wbTree.visible()"
    )
    assert drawn == cards.count()  # a react run: one node per card
    screenshot(view, "extension-run-tree-light.png")
    view.locator(".wb-tab-usage").click()
    expect(view.locator(".wb-usage-svg rect.wb-bar-prompt")).to_have_count(cards.count() - 1)
    view.locator(".wb-tab-trajectory").click()

    command(page, "apputils:change-theme", "{theme: 'JupyterLab Dark'}")
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    expect(page.locator("#jupyterlab-splash")).to_have_count(0)
    screenshot(view, "extension-run-dark.png")
    view.locator(".wb-tab-tree").click()
    screenshot(view, "extension-run-tree-dark.png")
    view.locator(".wb-tab-trajectory").click()
    screenshot(page.locator("#workbench-runs"), "extension-runs-dark.png")
    command(page, "apputils:change-theme", "{theme: 'JupyterLab Light'}")
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "true")

    # "Open in notebook" makes a notebook that loads the run
    view.locator(".wb-run-open-notebook").click()
    loader = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").nth(1)
    expect(loader).to_contain_text(f"%agent load {run_id}")
    assert not errors, errors
    page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
    context.close()
    lab.delete_sessions()


def test_a_run_view_reads_its_run_at_once_and_a_finished_run_only_once(lab: Any, chromium: Any) -> None:
    """The run view's first read does not wait for a refresh period, and a run that is not running is
    not read again (a 10,000-node run's whole snapshot costs the server about a second each time)."""
    if not BUILT.is_file():
        message = "the lab extension is not built: `pip install -e .` (or jlpm build:prod in extension/)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    from workbench.core.session import Session
    from workbench.store.location import default_store_path

    session = Session(task="reach the goal, read once", env="gridworld", model="workbench/demo",
                      store=default_store_path(lab.root))  # fmt: skip
    session.run(max_steps=3)
    session.store.close()
    run_id = session.run_id
    user_settings = lab.root.parent / "settings" / "agent-workbench" / "plugin.jupyterlab-settings"
    user_settings.parent.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    try:
        for seconds in (600, 0.5):
            user_settings.write_text(json.dumps({"refreshSeconds": seconds}))
            page = context.new_page()
            reads: list[str] = []
            page.on("request", lambda r, reads=reads: reads.append(r.url) if "/snapshot" in r.url else None)
            page.goto(f"{lab.url}/lab?reset&token={lab.token}")
            expect(page.locator(f"#workbench-runs[data-refresh-seconds='{seconds:g}']")).to_be_attached(
                timeout=60_000
            )
            command(page, "workbench:open-run", f"{{runId: '{run_id}'}}")
            view = page.locator(f"#workbench-run-view-{run_id}")
            # drawn long before one period of 600 s could pass
            expect(view.locator(".wb-card").first).to_contain_text("Start", timeout=30_000)
            expect(view.locator(".wb-title")).to_contain_text("reach the goal, read once")
            if seconds < 1:
                # the runs list, shown and read every 0.5 s, is the clock: four more of its reads
                command(page, "workbench:open-runs")
                for _ in range(4):
                    page.wait_for_event("request", predicate=lambda r: "/workbench/api/runs?" in r.url)
                # the head of its snapshot (the first paint), then the whole snapshot, once each
                assert ["part=head" in url for url in reads] == [True, False], reads
            page.close()
    finally:
        user_settings.unlink(missing_ok=True)
        context.close()
