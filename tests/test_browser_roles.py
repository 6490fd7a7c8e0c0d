"""plan-execute, umi and reflexion in the Workbench panel in a real JupyterLab (Playwright + Debian's
headless Chromium), with the offline demo model.

plan-execute: the Plan tab shows which steps worked on each item; rewording the current item in the
browser redirects the next step (its card names the edited item, its prompt holds it). umi: the
cards name the roles behind each step and the Usage tab splits the tokens by role. reflexion: the
lesson written after a failed attempt is a memory entry; edited in the browser, it is what the next
attempt's prompt holds. Screenshots go to test-artifacts/roles-*.png. Every wait is a Playwright
condition.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_fixtures import open_notebook, run_all, run_cell, screenshot, write_notebook

pytestmark = pytest.mark.browser

CELLS = [
    """\
from workbench.core.session import Session
from workbench.llm.model import Model
from workbench.widgets import Workbench

pe = Session(env="gridworld", strategy="plan-execute", seed=3, model=Model("workbench/demo", seed=0, error_rate=0))
_ = await pe.astep()
_ = await pe.astep()
Workbench(pe)""",
    """\
um = Session(env="game24", strategy="umi", seed=12, model=Model("workbench/demo", seed=12, error_rate=0))
_ = await um.arun(max_steps=8)
Workbench(um)""",
    """\
rx = Session(env="game24", strategy="reflexion", seed=0, model=Model("workbench/demo", seed=0, error_rate=0.3))
while "reflection" not in rx.cursor.info:
    _ = await rx.astep()
Workbench(rx)""",
    'print("PE>>", pe.cursor.llm_calls[-1].messages[0]["content"])',
    'print("RX>>", rx.cursor.info.get("attempt"), rx.cursor.llm_calls[0].messages[0]["content"])',
]
PE_PROMPT, RX_PROMPT = 3, 4
EDITED_ITEM = "go to the bottom-right corner"
EDITED_LESSON = "Keep 24 reachable: play 1 + 2 first (edited in the browser)."


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as _expect

    return _expect(locator)


@pytest.fixture
def page(lab: Any, chromium: Any) -> Iterator[Any]:
    lab.delete_sessions()
    write_notebook(lab.root / "roles.ipynb", CELLS)
    context = chromium.new_context(viewport={"width": 1280, "height": 1100})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    open_notebook(page, lab, "roles.ipynb")
    run_all(page)
    expect(page.locator(".jp-OutputArea-output .wb-panel")).to_have_count(3)
    yield page
    page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
    context.close()
    lab.delete_sessions()


def kernel_says(page: Any, index: int) -> str:
    output = run_cell(page, index).locator(".jp-OutputArea-output")
    expect(output).to_contain_text(">>")
    return output.inner_text()


def cards(panel: Any) -> Any:
    return panel.locator(".wb-cards > li.wb-card[data-node-id]")


def test_plan_tab_shows_items_steps_and_an_edit_redirects_the_executor(page: Any) -> None:
    panel = page.locator(".jp-OutputArea-output .wb-panel").nth(0)
    expect(cards(panel)).to_have_count(3)
    expect(cards(panel).nth(1).locator(".wb-role")).to_have_text("planner → executor")
    expect(cards(panel).nth(1).locator(".wb-card-item")).to_have_text("plan item 1. pick up the key")
    panel.get_by_role("tab", name="Plan").click()
    rows = panel.locator(".wb-plan-item")
    expect(rows).to_have_count(3)
    expect(rows.nth(0).locator(".wb-plan-steps")).to_have_text("#1 #2")
    box = panel.get_by_role("textbox", name="Plan item 1")
    box.fill(EDITED_ITEM)
    box.press("Enter")
    expect(rows.nth(0).locator(".wb-plan-who")).to_have_text("you")
    screenshot(panel, "roles-plan-tab.png")
    panel.get_by_role("button", name="Step", exact=True).click()
    expect(rows.nth(0).locator(".wb-plan-steps")).to_have_text("#1 #2 #3")
    panel.get_by_role("tab", name="Trajectory").click()
    expect(cards(panel)).to_have_count(4)
    last = cards(panel).last
    expect(last.locator(".wb-card-item")).to_have_text(f"plan item 1. {EDITED_ITEM}")
    expect(last.locator(".wb-used")).to_have_text("✎ used your edit")
    expect(last.locator(".wb-role")).to_have_text("executor")
    assert f"Current plan item 1: {EDITED_ITEM}" in kernel_says(page, PE_PROMPT)
    screenshot(panel, "roles-plan-execute-cards.png")
    assert not page.errors


def test_umi_cards_name_the_roles_and_usage_splits_tokens_by_role(page: Any) -> None:
    panel = page.locator(".jp-OutputArea-output .wb-panel").nth(1)
    expect(cards(panel).first.locator(".wb-role")).to_have_count(0)  # the start has no calls
    expect(cards(panel).nth(1).locator(".wb-role")).to_have_text("planner → caller")
    expect(cards(panel).last.locator(".wb-role")).to_have_text("planner → summarizer")
    panel.get_by_role("tab", name="Usage").click()
    table = panel.get_by_role("table", name="Tokens by role")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table.locator("tbody tr td:first-child")).to_have_text(["planner", "caller", "summarizer"])
    screenshot(panel, "roles-umi-usage.png")
    assert not page.errors


def test_a_lesson_edited_in_the_memory_tab_reaches_the_next_attempt(page: Any) -> None:
    panel = page.locator(".jp-OutputArea-output .wb-panel").nth(2)
    expect(cards(panel).last.locator(".wb-lesson")).to_have_text("lesson written")
    panel.get_by_role("tab", name="Memory").click()
    screenshot(panel, "roles-reflexion-memory.png")
    lesson = panel.locator(".wb-mem-entry[data-entry-id='lesson:1']")
    expect(lesson.locator(".wb-mem-label")).to_have_text("Lesson 1")
    expect(lesson.locator(".wb-mem-who")).to_have_text("agent")
    panel.get_by_role("button", name="Edit: Lesson 1, from a failed attempt").click()
    box = panel.get_by_role("textbox", name="Lesson 1, from a failed attempt")
    box.fill(EDITED_LESSON)
    box.press("Control+Enter")
    expect(lesson.locator(".wb-mem-edited")).to_be_visible()
    screenshot(panel, "roles-reflexion-lesson.png")
    panel.get_by_role("button", name="Step", exact=True).click()
    panel.get_by_role("tab", name="Trajectory").click()
    expect(cards(panel).last.locator(".wb-badge", has_text="attempt 2")).to_be_visible()
    said = kernel_says(page, RX_PROMPT)
    assert "RX>> 2" in said and f"- {EDITED_LESSON}" in said
    assert not page.errors
