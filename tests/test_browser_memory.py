"""The memory editor in a real JupyterLab for the FinMem (layered) and Chain of Summarization
(summarized) memories: the layers with their scores, an importance edit that changes what the next
prompt recalls, an edited L2 analysis that the next prompt contains. Screenshots in test-artifacts/."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_fixtures import cells, open_notebook, run_all, run_cell, screenshot, write_notebook

pytestmark = pytest.mark.browser

CELLS = [
    """from workbench.core.session import Session
from workbench.llm.model import Model
from workbench.widgets import MemoryEditor
s = Session(task="reach the goal", env="gridworld", memory="layered", store=None, memory_options={"top_k": 2},
            model=Model("workbench/demo", seed=1, error_rate=0.3))
for _ in range(6):
    _ = await s.astep()
target = max((x for x in s.memory.recall(s.path()) if not x.recalled), key=lambda x: x.similarity).item.node_id
print("TARGET>>", target)
editor = MemoryEditor(s)
editor""",
    'print("RECALLED>>", sorted(x.item.node_id for x in s.memory.recall(s.path()) if x.recalled))',
    "if s.memory.importance:  # after the user's edit in the widget\n"
    "    _ = await s.astep()\n"
    '    print("PROMPT>>", f"[mem:{target} " in [c for c in s.cursor.llm_calls if c.purpose == "act"][0].messages[1]["content"])',
    """t = Session(task="reach the goal", env="gridworld", memory="summarized", store=None,
            memory_options={"every": 3}, model=Model("workbench/demo", seed=2, error_rate=0.0))
for _ in range(4):
    _ = await t.astep()
l2 = MemoryEditor(t)
l2""",
    "if t.memory.edits:  # after the user's edit in the widget\n"
    "    _ = await t.astep()\n"
    '    print("L2PROMPT>>", [c for c in t.cursor.llm_calls if c.purpose == "act"][0].messages[1]["content"].replace("\\n", " | "))',
]


def _open_box(entry: Any) -> Any:
    """The entry's text box (opened first where the editor shows one line per entry)."""
    edit = entry.locator(".wb-mem-edit")
    if edit.count() and edit.get_attribute("aria-expanded") == "false":
        edit.click()
    return entry.locator(".wb-mem-text")


def test_layers_with_scores_an_importance_edit_and_an_edited_l2(lab: Any, chromium: Any) -> None:
    from playwright.sync_api import expect

    lab.delete_sessions()
    write_notebook(lab.root / "memories.ipynb", CELLS)
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        open_notebook(page, lab, "memories.ipynb")
        run_all(page)
        first_cell = cells(page).nth(0).locator(".jp-OutputArea")
        expect(first_cell).to_contain_text("TARGET>>")
        said = first_cell.inner_text()
        found = re.search(r"TARGET>>\s*(\d+)", said)
        assert found, said[:400]
        target = found.group(1)
        editor = page.locator(".jp-OutputArea-output .wb-mem").first
        items = editor.locator(".wb-mem-entry[data-kind='memory']")
        expect(items.first).to_be_visible()
        expect(items.first.locator(".wb-mem-detail")).to_contain_text(
            re.compile(r"score [\d.]+ = sim [\d.]+ \+ rec [\d.]+ \+ imp [\d.]+")
        )
        expect(editor.locator(".wb-mem-detail").filter(has_text="score").first).to_be_visible()
        screenshot(page, "browser-memory-layered.png")
        # the target is not recalled: it sits under "not in the next prompt"
        entry = editor.locator(f".wb-mem-entry[data-entry-id='mem:{target}']")
        rest = editor.locator(".wb-mem-rest")
        if not rest.evaluate("d => d.open"):
            rest.locator("summary").click()
        expect(entry).to_have_class(re.compile("wb-mem-hidden"))
        box = entry.locator(".wb-mem-imp")
        box.fill("95")
        box.press("Tab")  # leaving the box commits it
        expect(entry.locator(".wb-mem-detail")).to_contain_text(re.compile(r"^(mid|long) · score"))
        expect(entry).not_to_have_class(re.compile("wb-mem-hidden"))
        recalled = run_cell(page, 1).locator(".jp-OutputArea-output").inner_text()
        assert re.search(rf"RECALLED>> \[.*\b{target}\b.*\]", recalled), recalled
        prompt = run_cell(page, 2).locator(".jp-OutputArea-output").inner_text()
        assert "PROMPT>> True" in prompt  # the next step's prompt recalls the item
        entry.scroll_into_view_if_needed()
        screenshot(page, "browser-memory-layered-importance.png")

        summarized = page.locator(".jp-OutputArea-output .wb-mem").nth(1)
        analysis = summarized.locator(".wb-mem-entry[data-kind='analysis']").first
        expect(analysis).to_be_visible()
        summarized.locator(".wb-mem-rest summary").click()  # the L1 lines the L2 analysis covers
        expect(summarized.locator(".wb-mem-entry[data-kind='summary']").first).to_be_visible()
        expect(summarized.locator(".wb-mem-entry[data-kind='summary']").first).to_contain_text("L1 #0")
        text = _open_box(analysis)
        expect(text).to_have_value(re.compile(r"^Analysis: "))
        text.fill("Analysis: the user knows better.\nQueued decisions:\n1. go east")
        text.press("Control+Enter")
        expect(analysis.locator(".wb-mem-edited")).to_be_visible()
        analysis.scroll_into_view_if_needed()
        screenshot(page, "browser-memory-summarized.png")
        said = run_cell(page, 4).locator(".jp-OutputArea-output").inner_text()
        assert (
            "L2PROMPT>> Analysis of steps 1-3 (L2): | Analysis: the user knows better. | Queued decisions: | 1. go east"
            in said
        )
        assert not errors, errors
    finally:
        page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
        context.close()
        lab.delete_sessions()
