"""The memory editor stays compact on a long run (issue 14: 8 screens and 47 text boxes before), in
a real JupyterLab: one line per entry, no text box until Edit, the newest entries of the next prompt
only until "Show N older"; an edit made in the opened box reaches the policy."""

from __future__ import annotations

from typing import Any

import pytest
from browser_fixtures import open_notebook, run_all, run_cell, screenshot, write_notebook

pytestmark = pytest.mark.browser

CELLS = [
    """from workbench.core.session import Session
from workbench.widgets import MemoryEditor
s = Session(env="gridworld", model="workbench/demo", seed=0, store=None)
s.run(max_steps=40)
MemoryEditor(s)""",
    'print("EDITED>>", s.memory.edits.get("obs:3", "")[:40])',
]


def test_a_long_memory_is_one_line_per_entry_and_edits_on_demand(lab: Any, chromium: Any) -> None:
    from playwright.sync_api import expect

    lab.delete_sessions()
    write_notebook(lab.root / "memory-compact.ipynb", CELLS)
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        open_notebook(page, lab, "memory-compact.ipynb")
        run_all(page)
        editor = page.locator(".jp-OutputArea-output .wb-mem")
        expect(editor.locator(".wb-mem-title")).to_contain_text("53 of 53 entries in the next prompt")
        expect(editor.locator(".wb-mem-text:visible")).to_have_count(0)  # no text box until asked
        expect(editor.locator(".wb-mem-entry:visible")).to_have_count(8)
        assert editor.bounding_box()["height"] < 450  # was about 8 screens
        older = editor.get_by_role("button", name="Show 45 older entries in the next prompt")
        screenshot(editor, "memory-compact.png")
        older.click()
        expect(editor.locator(".wb-mem-entry:visible")).to_have_count(53)
        entry = editor.locator(".wb-mem-entry[data-entry-id='obs:3']")
        entry.get_by_role("button", name="Edit: Observation of step 3").click()
        box = entry.locator(".wb-mem-text")
        expect(box).to_be_visible()
        expect(page.locator(".wb-mem-text:visible")).to_have_count(1)
        box.fill("the key is two cells east")
        box.press("Control+Enter")
        expect(entry.locator(".wb-mem-edited")).to_be_visible()
        cell = run_cell(page, 1)
        expect(cell.locator(".jp-OutputArea-output")).to_contain_text("EDITED>> the key is two cells east")
        assert not errors
    finally:
        page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
        page.close()
