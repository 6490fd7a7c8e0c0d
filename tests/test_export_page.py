"""Exports that show a run without a kernel: `workbench export --html` (one self-contained page, drawn
by the widgets' own front-end code, checked in real Chromium from file:// with the network blocked),
`--notebook` (loads the run when executed; shows it before) and `--format wbrun` (a snapshot)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from browser_fixtures import ARTIFACTS, screenshot

from workbench import cli
from workbench.core.session import Session
from workbench.widgets.snapshot import MIME


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Session, Session]:
    base = tmp_path_factory.mktemp("export")
    store = base / ".workbench" / "runs.sqlite"
    walk = Session(task="reach the green goal", env="gridworld", memory="diff", seed=1, store=store)
    walk.run(max_steps=8)
    search = Session(task="make 24", env="game24", strategy="bfs", seed=1, store=store)
    search.run(max_steps=4)
    walk.store.close()
    search.store.close()
    return store, walk, search


def export(store: Path, *args: str) -> int:
    return cli.main(["export", *args, "--store", str(store)])


def page_snapshot(text: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="wb-snapshot">(.*?)</script>', text, re.S)
    assert found, "no snapshot in the page"
    return json.loads(found.group(1).replace("<\\/", "</"))


def test_html_is_one_self_contained_page(stored, tmp_path: Path) -> None:
    store, walk, _ = stored
    out = tmp_path / "walk.html"
    assert export(store, walk.run_id[:6], "--html", "-o", str(out)) == 0
    text = out.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", text)  # nothing loaded from elsewhere
    assert "default-src 'none'" in text  # and the page forbids it
    snap = page_snapshot(text)
    assert snap["run_id"] == walk.run_id and snap["path"] == [n.id for n in walk.path()]
    assert set(snap["cards"]) == {str(n.id) for n in walk.path()}  # every step in full
    assert snap["header"]["steps"] == walk.tree.steps and snap["usage"]["step"] == list(range(1, 9))
    last = walk.tree.nodes[walk.tree.cursor].llm_calls[0]
    assert snap["calls"][str(walk.tree.cursor)][0]["messages"][-1]["content"] == last.messages[-1]["content"]


def test_notebook_shows_the_run_before_it_runs_and_loads_it_when_executed(stored, tmp_path: Path) -> None:
    from nbclient import NotebookClient

    store, walk, _ = stored
    out = tmp_path / "nb" / "walk.ipynb"
    assert export(store, walk.run_id, "--notebook", "-o", str(out)) == 0
    nb = nbformat.read(out, as_version=4)
    nbformat.validate(nb)
    sources = [c.source for c in nb.cells]
    assert sources[2] == f"%agent load {walk.run_id} --store {os.path.relpath(store, out.parent)}"
    (saved,) = nb.cells[2].outputs
    assert saved["data"][MIME]["run_id"] == walk.run_id and "wb-fallback" in saved["data"]["text/html"]
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(out.parent)}}).execute()
    outputs = nb.cells[2].outputs
    kinds = [set(o.get("data", {})) for o in outputs]
    assert any("application/vnd.jupyter.widget-view+json" in k for k in kinds)  # a live panel
    fallback = next(o for o in outputs if MIME in o.get("data", {}))
    assert fallback["data"][MIME]["header"]["steps"] == walk.tree.steps  # the loaded run, as stored
    assert "TreeView" in json.dumps([o.get("data", {}).get("text/plain") for o in nb.cells[3].outputs])


def test_wbrun_is_the_snapshot_and_bad_choices_are_usage_errors(stored, tmp_path: Path, capsys) -> None:
    store, _, search = stored
    out = tmp_path / "search.wbrun.json"
    assert export(store, search.run_id, "--format", "wbrun", "-o", str(out)) == 0
    snap = json.loads(out.read_text(encoding="utf-8"))
    assert snap["format"] == "agent-workbench.run-snapshot" and snap["run_id"] == search.run_id
    assert len(snap["tree"]["records"]) == len(search.tree.nodes)
    assert snap["tree"]["meta"]["best"] == [n.id for n in search.best_path()]
    with pytest.raises(SystemExit) as exc:
        export(store, search.run_id, "--html", "--notebook")
    assert exc.value.code == 2 and "not allowed with" in capsys.readouterr().err
    assert export(store, search.run_id, "--html", "-o", str(tmp_path)) == 2  # a folder is not a file
    assert "is a folder" in capsys.readouterr().err


@pytest.mark.browser
def test_the_html_page_shows_cards_tree_and_chart_offline_light_and_dark(
    stored, tmp_path: Path, chromium
) -> None:
    from playwright.sync_api import expect

    store, _, search = stored
    out = tmp_path / "search.html"
    assert export(store, search.run_id, "--html", "-o", str(out)) == 0
    for scheme in ("light", "dark"):
        context = chromium.new_context(viewport={"width": 1200, "height": 900}, color_scheme=scheme)
        outside: list[str] = []

        def only_local(route: Any, outside: list[str] = outside) -> None:
            url = route.request.url
            if url.startswith(("file:", "blob:", "data:")):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        context.route("**/*", only_local)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        page.goto(out.as_uri())
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        cards = page.locator(".wb-card")
        expect(cards).to_have_count(len(search.path()))
        expect(page.locator(".wb-controls")).to_be_hidden()  # a saved run has nothing to control
        page.locator(".wb-tab-tree").click()
        tree = page.locator(".wb-tv")
        expect(tree.locator(".wb-tv-summary")).to_contain_text(f"{len(search.tree.nodes)} nodes")
        drawn = page.evaluate("() => document.querySelector('.wb-tv').wbTree.visible()")
        assert drawn == len(search.tree.nodes)
        leaf = max(search.tree.nodes)
        where = f"document.querySelector('.wb-tv').wbTree.screenPos({leaf})"
        page.wait_for_function(f"() => {where} !== null")  # drawn once the tab shows it (the next frame)
        pos = page.evaluate(f"() => {where}")
        page.mouse.click(pos["x"], pos["y"])
        expect(tree.locator(".wb-tv-card-title")).to_contain_text(f"Node {leaf}")
        screenshot(page, f"export-html-tree-{scheme}.png")
        page.locator(".wb-tab-usage").click()
        steps = len(search.tree.nodes) - 1
        expect(page.locator(".wb-usage-svg rect.wb-bar-prompt")).to_have_count(steps)
        screenshot(page, f"export-html-usage-{scheme}.png")
        page.locator(".wb-tab-trajectory").click()
        screenshot(page, f"export-html-trajectory-{scheme}.png")
        assert not errors, errors
        assert not outside, outside
        context.close()
    assert (ARTIFACTS / "export-html-tree-dark.png").is_file()
