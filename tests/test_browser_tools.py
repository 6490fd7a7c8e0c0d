"""A tool-using agent in the Workbench panel, in a real JupyterLab with headless Chromium."""

from __future__ import annotations

from typing import Any

import pytest
from browser_fixtures import open_notebook, run_all, screenshot, write_notebook

pytestmark = pytest.mark.browser

CELLS = [
    """\
from workbench import Session, tool
from workbench.widgets import Workbench

@tool
def lookup(key: str) -> str:
    '''Look a key up.'''
    raise KeyError(key)

s = Session(env="gridworld-tools", tools=[lookup], tool_calling="native", seed=3)
for _ in range(3):
    _ = await s.astep()
s.tree.nodes[2].info["diverged"] = {"replayed": "something else"}
s.tree.config["sandbox"] = "bwrap"
wb = Workbench(s)
wb""",
]


def test_tool_calls_show_as_badges_on_their_cards(lab: Any, chromium: Any) -> None:
    from playwright.sync_api import expect

    lab.delete_sessions()
    write_notebook(lab.root / "tools.ipynb", CELLS)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        open_notebook(page, lab, "tools.ipynb")
        run_all(page)
        panel = page.locator(".jp-OutputArea-output .wb-panel")
        cards = panel.locator(".wb-cards > li.wb-card[data-node-id]")
        expect(cards).to_have_count(4)
        expect(cards.nth(1).locator(".wb-tools")).to_have_text("1 tool call")
        expect(cards.nth(1).locator(".wb-action")).to_contain_text('go({"direction"')
        expect(cards.nth(2).locator(".wb-diverged")).to_have_text("diverged on replay")
        expect(panel.locator(".wb-config .wb-sandbox")).to_have_text("sandbox: bwrap")
        expect(panel.locator(".wb-config")).to_contain_text("demo model (simulated)")
        screenshot(panel, "browser-tools.png")
        assert not errors
    finally:
        context.close()
        lab.delete_sessions()
