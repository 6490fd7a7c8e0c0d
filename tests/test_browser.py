"""The widgets in a real JupyterLab, driven by Playwright in Debian's headless Chromium.

One JupyterLab server and one browser per test session; each journey opens a fresh copy of a
generated notebook (the offline demo model, paced like a real model so Pause has a step to land
on), runs it, and acts as a user would. Screenshots go to test-artifacts/. Every wait is a
Playwright condition. Without Chromium the tests skip, except under CI, where that is an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from browser_fixtures import (
    ARTIFACTS,
    open_notebook,
    run_all,
    run_cell,
    screenshot,
    write_notebook,
)

pytestmark = pytest.mark.browser

SETUP = '''\
import asyncio
from workbench.core.session import Session
from workbench.llm.model import Model
from workbench.widgets import Workbench, DiffView

class Paced:
    """The offline demo model, answering after a pause as a real model would."""
    def __init__(self, inner, delay):
        self.inner, self.delay = inner, delay
    def __getattr__(self, name):
        return getattr(self.inner, name)
    async def acomplete(self, messages, **kwargs):
        await asyncio.sleep(self.delay)
        return await self.inner.acomplete(messages, **kwargs)

s = Session(task="reach the goal", env="gridworld", memory="diff",
            model=Paced(Model("workbench/demo", seed=0), 0.3))
s.plan.replace(["find the key", "open the door", "reach the goal"], provenance="agent")
_ = await s.astep()
_ = await s.astep()'''
CELLS = [
    SETUP,
    "wb = Workbench(s)\nwb",
    "dv = DiffView(s)\ndv",
    'print("PROMPT>>", s.cursor.llm_calls[-1].messages[0]["content"])',
    'print("STATE>>", s.status, s.tree.steps, len(s.path()) - 1, dv.mode, sorted(s.memory.forgotten))',
]
PROMPT_CELL, STATE_CELL = 3, 4


@dataclass
class Notebook:
    page: Any
    errors: list[str] = field(default_factory=list)

    @property
    def panel(self) -> Any:
        return self.page.locator(".jp-OutputArea-output .wb-panel")

    @property
    def cards(self) -> Any:
        return self.panel.locator(".wb-cards > li.wb-card[data-node-id]")

    def status(self) -> Any:
        return self.panel.locator(".wb-state .wb-status")

    def kernel_says(self, index: int) -> str:
        cell = run_cell(self.page, index)
        output = cell.locator(".jp-OutputArea-output")
        expect(output).to_contain_text(">>")
        return output.inner_text()


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as _expect

    return _expect(locator)


@pytest.fixture
def notebook(lab: Any, chromium: Any, request: pytest.FixtureRequest) -> Iterator[Notebook]:
    lab.delete_sessions()
    name = f"{request.node.name}.ipynb"
    write_notebook(lab.root / name, CELLS)
    context = chromium.new_context(viewport={"width": 1280, "height": 1100})
    page = context.new_page()
    nb = Notebook(page)
    page.on("pageerror", lambda exc: nb.errors.append(str(exc)))
    open_notebook(page, lab, name)
    run_all(page)
    expect(nb.cards).to_have_count(3)  # the start and the two steps of the setup cell
    expect(page.locator(".jp-OutputArea-output .wb-dv")).to_have_count(1)
    yield nb
    page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
    context.close()
    lab.delete_sessions()


def test_step_click_adds_a_step_card(notebook: Notebook) -> None:
    panel, cards = notebook.panel, notebook.cards
    expect(panel.get_by_role("tab", name="Trajectory")).to_have_attribute("aria-selected", "true")
    expect(panel.locator(".wb-config")).to_contain_text("demo model (simulated)")
    panel.get_by_role("button", name="Step", exact=True).click()
    expect(cards).to_have_count(4)
    new = cards.last
    expect(new.locator(".wb-card-num")).to_have_text("#3")
    expect(new.locator(".wb-action")).not_to_be_empty()
    expect(new.locator(".wb-diff .wb-add").first).to_be_visible()  # diff memory: a coloured diff
    expect(notebook.status()).to_have_attribute("data-status", "idle")
    expect(panel.locator(".wb-state")).to_contain_text("step 3")
    screenshot(panel, "browser-step-card.png")
    # each live widget hides its static fallback output; the notebook's copy of that output (what a
    # save writes) follows the session: step 3 now, not step 2 as when the cell ran
    fallbacks = notebook.page.locator(".jp-OutputArea-output .wb-fallback")
    expect(fallbacks).to_have_count(2)
    expect(fallbacks.first).to_be_hidden()
    expect(fallbacks.last).to_be_hidden()
    saved = """() => {
        const cell = window.jupyterapp.shell.currentWidget.content.model.cells.get(1);
        return cell.outputs.get(1).data['text/html'];
    }"""
    notebook.page.wait_for_function(f"() => ({saved})().includes('idle · step 3')")
    assert "STATE>> idle 3 3" in notebook.kernel_says(STATE_CELL)
    assert not notebook.errors


def test_run_then_pause_stops_the_agent(notebook: Notebook) -> None:
    panel, cards = notebook.panel, notebook.cards
    panel.get_by_role("button", name="Run", exact=True).click()
    expect(notebook.status()).to_have_attribute("data-status", "running")
    expect(cards.nth(4)).to_be_attached()  # steps stream in while it runs
    expect(panel.locator(".wb-card-pending")).to_be_visible()
    screenshot(panel, "browser-running.png")
    panel.get_by_role("button", name="Pause", exact=True).click()
    expect(notebook.status()).to_have_attribute("data-status", "paused", timeout=15_000)
    expect(panel.locator(".wb-notice")).to_contain_text("Paused at step")
    expect(panel.get_by_role("button", name="Pause", exact=True)).to_be_disabled()
    expect(panel.locator(".wb-card-pending")).to_have_count(0)
    state = notebook.kernel_says(STATE_CELL)
    match = re.search(r"STATE>> paused (\d+) (\d+)", state)
    assert match, state
    steps = int(match.group(2))
    assert 3 <= steps < 20  # it stopped well before the end of the episode
    expect(cards).to_have_count(steps + 1)  # every step the kernel made has its card, no more
    screenshot(panel, "browser-paused.png")
    assert not notebook.errors


def test_plan_edit_in_the_browser_reaches_the_next_prompt(notebook: Notebook) -> None:
    page, panel = notebook.page, notebook.panel
    panel.get_by_role("tab", name="Trajectory").focus()
    page.keyboard.press("ArrowRight")  # tabs work from the keyboard
    plan_tab = panel.get_by_role("tab", name="Plan")
    expect(plan_tab).to_have_attribute("aria-selected", "true")
    expect(plan_tab).to_be_focused()
    edited = "open the door with the key (edited in the browser)"
    box = panel.get_by_role("textbox", name="Plan item 2")
    box.fill(edited)
    box.press("Enter")
    rows = panel.locator(".wb-plan-item")
    expect(rows.nth(1).locator(".wb-plan-who")).to_have_text("you")
    panel.get_by_role("textbox", name="Plan item 3").press("Alt+ArrowUp")  # reorder from the keyboard
    expect(panel.get_by_role("textbox", name="Plan item 2")).to_have_value("reach the goal")
    expect(panel.get_by_role("textbox", name="Plan item 3")).to_have_value(edited)
    new_item = panel.get_by_role("textbox", name="New plan item")
    new_item.fill("avoid the walls")
    new_item.press("Enter")
    expect(panel.get_by_role("textbox", name="Plan item 4")).to_have_value("avoid the walls")
    screenshot(panel, "browser-plan-edited.png")
    panel.get_by_role("button", name="Step", exact=True).click()
    panel.get_by_role("tab", name="Trajectory").click()
    expect(notebook.cards).to_have_count(4)
    expect(notebook.cards.last.locator(".wb-used")).to_have_text("✎ used your edit")
    prompt = notebook.kernel_says(PROMPT_CELL)
    assert (
        f"3. [ ] {edited}" in prompt
        and "2. [ ] reach the goal" in prompt
        and "4. [ ] avoid the walls" in prompt
    )
    screenshot(panel, "browser-used-edit.png")
    assert not notebook.errors


def test_memory_forget_in_the_browser_reaches_the_policy(notebook: Notebook) -> None:
    panel = notebook.panel
    panel.get_by_role("tab", name="Memory").click()
    forget = panel.get_by_role("button", name="Forget: Observation of step 1")
    forget.click()
    expect(forget).to_have_attribute("aria-pressed", "true")
    entry = panel.locator(".wb-mem-entry[data-entry-id='obs:1']")
    expect(entry.locator(".wb-mem-badge", has_text="forgotten")).to_be_visible()
    screenshot(panel, "browser-memory.png")
    assert "['obs:1']" in notebook.kernel_says(STATE_CELL)
    assert not notebook.errors


def test_diff_view_switches_to_full_text(notebook: Notebook) -> None:
    page = notebook.page
    view = page.locator(".jp-OutputArea-output .wb-dv")
    expect(view.locator(".wb-dv-diff .wb-dv-del").first).to_be_visible()
    expect(view.locator(".wb-dv-report")).to_contain_text("tokens with full observations")
    expect(view.locator(".wb-dv-step")).to_contain_text("This step:")  # the shown step's own saving
    expect(view.locator(".wb-dv-chip").first).to_be_visible()  # one chip per step
    screenshot(view, "browser-diffview-steps.png")
    toggle = view.get_by_role("button", name="Full text")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(view.locator(".wb-dv-full")).to_contain_text("Legend:")
    expect(view.locator(".wb-dv-diff")).to_have_count(0)
    screenshot(view, "browser-diffview-full.png")
    assert re.search(r"STATE>> \w+ 2 2 full", notebook.kernel_says(STATE_CELL))
    card = notebook.cards.last  # the panel's per-card toggle
    card.get_by_role("button", name="Full text of step 2").click()
    expect(card.locator(".wb-obs-full")).to_contain_text("Legend:")
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    expect(page.locator("#jupyterlab-splash")).to_have_count(0)  # the theme switch's splash is gone
    screenshot(notebook.panel, "browser-dark-panel.png")
    screenshot(view, "browser-dark-diffview.png")
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})"
    )
    assert not notebook.errors


def test_static_html_reads_without_a_kernel(chromium: Any) -> None:
    """What GitHub, nbviewer and nbconvert show: the mimebundle's text/html, in a page with no kernel."""
    import asyncio
    import concurrent.futures

    from toys import Counter, react

    from workbench.core.session import Session
    from workbench.llm.scripted import ScriptedModel
    from workbench.widgets import DiffView, MemoryEditor, Workbench

    async def build() -> str:
        answers = [react("inc", "count up"), react("inc"), "I forgot the format", react("inc")]
        s = Session(env=Counter(goal=9), model=ScriptedModel(answers), memory="diff")
        s.plan.replace(["count to nine", "stop there"], provenance="agent")
        for _ in range(4):
            await s.astep()
        s.plan.edit(2, "stop exactly at nine")
        parts = [w._repr_mimebundle_()[0]["text/html"] for w in (Workbench(s), MemoryEditor(s), DiffView(s))]
        return "<hr>".join(parts)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # Playwright's loop owns this thread
        html = pool.submit(asyncio.run, build()).result()
    page = chromium.new_page(viewport={"width": 1100, "height": 900})
    page.set_content(f"<html><body style='margin:12px'>{html}</body></html>")
    expect(page.locator(".wb-static")).to_contain_text("counter")
    expect(page.locator(".wb-static-card").nth(1)).to_contain_text("@@ -1 +1 @@")
    expect(page.locator(".wb-static-error")).to_contain_text("no `Action:` line")  # the error card
    expect(page.locator(".wb-static").get_by_text("stop exactly at nine")).to_be_visible()
    assert page.locator("script").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "static-html.png"), full_page=True)
    page.close()


HIAGENT_CELLS = [
    """from workbench.core.session import Session
from workbench.llm.model import Model
from workbench.widgets import MemoryEditor
s = Session(task="reach the goal", env="gridworld", memory="hierarchical",
            model=Model("workbench/demo", seed=1, error_rate=0.0))
for _ in range(5):
    _ = await s.astep()
editor = MemoryEditor(s)
editor""",
    'print("SUMMARY>>", s.memory.summarize)',
    "_ = await s.astep()\n"
    'print("CALLS>>", [c.purpose for n in s.tree.nodes.values() for c in n.llm_calls].count("summarize"))',
]


def test_memory_editor_switches_subgoal_summaries_to_the_llm(lab: Any, chromium: Any) -> None:
    lab.delete_sessions()
    write_notebook(lab.root / "hiagent-summaries.ipynb", HIAGENT_CELLS)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    nb = Notebook(page)
    page.on("pageerror", lambda exc: nb.errors.append(str(exc)))
    try:
        open_notebook(page, lab, "hiagent-summaries.ipynb")
        run_all(page)
        editor = page.locator(".jp-OutputArea-output .wb-mem")
        choice = editor.get_by_role("combobox", name="How finished subgoals are summarised")
        expect(choice).to_have_value("last_observation")  # the cheap default, visible
        first = editor.locator(".wb-mem-entry[data-kind='subgoal']").first
        expect(first.locator(".wb-mem-by")).to_have_text("last obs")
        choice.select_option("llm")
        expect(first.locator(".wb-mem-by")).to_have_text("LLM pending")
        assert "SUMMARY>> llm" in nb.kernel_says(1)
        assert "CALLS>> 1" in nb.kernel_says(2)  # the next step made the summary call
        expect(first.locator(".wb-mem-by")).to_have_text("by LLM")
        expect(first.locator(".wb-mem-text")).to_have_value(re.compile(r"^pick up the key: met"))
        editor.locator(".wb-mem-title").scroll_into_view_if_needed()
        screenshot(page, "browser-memory-summaries.png")  # the selector and the first subgoals
        assert not nb.errors
    finally:
        page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
        context.close()
        lab.delete_sessions()
