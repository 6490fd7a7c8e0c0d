"""Saved runs in a real JupyterLab and Chromium with no kernel: a notebook executed headlessly and
reopened shows its Workbench panel through the lab extension's run renderer (the widgets' own views
over the snapshot in the fallback output), and a `.wbrun.json` export opens as a document."""

from __future__ import annotations

import os
from typing import Any

import nbformat
import pytest
from browser_fixtures import ARTIFACTS, screenshot

from workbench import cli
from workbench.widgets.snapshot import MIME

pytestmark = pytest.mark.browser

BUILT = ARTIFACTS.parent / "workbench" / "labextension" / "package.json"

CELLS = [
    "from IPython.display import display\nfrom workbench.core.session import Session\nfrom workbench.widgets import Workbench",
    's = Session(task="reach the green goal", env="gridworld", memory="diff", seed=3, store=None)\n'
    "w = Workbench(s)\ndisplay(w)\ns.run(max_steps=9)\nprint('steps', s.tree.steps)",
]


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as _expect

    return _expect(locator)


def built() -> None:
    if not BUILT.is_file():
        message = "the lab extension is not built: `pip install -e .` (or jlpm build:prod in extension/)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)


def theme(page: Any, name: str) -> None:
    page.evaluate(f"() => window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{name}'}})")
    light = "true" if "Light" in name else "false"
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", light)
    expect(page.locator("#jupyterlab-splash")).to_have_count(0)


def test_a_saved_notebook_reopened_without_a_kernel_shows_the_run(lab: Any, chromium: Any) -> None:
    from nbclient import NotebookClient

    built()
    lab.delete_sessions()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    # saved as JupyterLab saves by default: outputs, no widget state
    NotebookClient(nb, timeout=120, store_widget_state=False).execute()
    saved = next(o for o in nb.cells[1].outputs if MIME in o.get("data", {}))
    steps = saved["data"][MIME]["header"]["steps"]
    assert steps == 9  # the snapshot was refreshed after the run: the state at save time
    nb.metadata["kernelspec"] = {"name": "no-such-kernel", "display_name": "none", "language": "python"}
    nbformat.write(nb, lab.root / "saved-run.ipynb")

    context = chromium.new_context(viewport={"width": 1300, "height": 950})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(lab.lab_url("saved-run.ipynb"))
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=60_000)
    dialog = page.locator(".jp-Dialog")  # the kernel it names does not exist: if asked, choose none
    if dialog.count():
        dialog.locator(".jp-mod-reject").first.click()
    lab.delete_sessions()  # JupyterLab may start a default kernel for it: none may help the drawing
    assert lab.api("GET", "/api/sessions") == []
    run = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .wb-run-renderer")
    expect(run).to_have_count(1)
    expect(run.locator(".wb-snapshot-note")).to_contain_text("Saved run")
    expect(run.locator(".wb-title")).to_contain_text("reach the green goal")
    expect(run.locator(".wb-count").first).to_have_text("step 9")
    expect(run.locator(".wb-card")).to_have_count(steps + 1)
    expect(run.locator(".wb-controls")).to_be_hidden()
    run.scroll_into_view_if_needed()
    screenshot(page, "saved-notebook-page-light.png")  # the whole notebook as a reader sees it
    screenshot(run, "saved-notebook-light.png")
    run.locator(".wb-tab-tree").click()
    expect(run.locator(".wb-tv-summary")).to_contain_text(f"{steps + 1} nodes")
    screenshot(run, "saved-notebook-tree-light.png")
    run.locator(".wb-tab-usage").click()
    expect(run.locator(".wb-usage-svg rect.wb-bar-prompt")).to_have_count(steps)
    theme(page, "JupyterLab Dark")
    screenshot(run, "saved-notebook-usage-dark.png")
    run.locator(".wb-tab-trajectory").click()
    screenshot(run, "saved-notebook-dark.png")
    theme(page, "JupyterLab Light")
    lab.delete_sessions()
    expect(run.locator(".wb-card")).to_have_count(steps + 1)  # still there with no kernel at all
    assert not errors, errors
    page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
    context.close()
    lab.delete_sessions()


def test_a_wbrun_export_opens_as_a_document(lab: Any, chromium: Any, tmp_path) -> None:
    from workbench.core.session import Session

    built()
    store = tmp_path / "runs.sqlite"
    s = Session(task="make 24", env="game24", strategy="bfs", seed=2, store=store)
    s.run(max_steps=3)
    s.store.close()
    assert (
        cli.main(
            [
                "export",
                s.run_id,
                "--format",
                "wbrun",
                "--store",
                str(store),
                "-o",
                str(lab.root / "search.wbrun.json"),
            ]
        )
        == 0
    )

    context = chromium.new_context(viewport={"width": 1300, "height": 950})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{lab.url}/lab/tree/search.wbrun.json?reset&token={lab.token}")
    doc = page.locator(".jp-MimeDocument .wb-run-renderer")
    doc.wait_for(timeout=60_000)  # JupyterLab loading
    expect(doc.locator(".wb-title")).to_contain_text("make 24")
    expect(page.locator(".lm-TabBar-tab.jp-mod-current")).to_contain_text("search.wbrun.json")
    doc.locator(".wb-tab-tree").click()
    expect(doc.locator(".wb-tv-summary")).to_contain_text(f"{len(s.tree.nodes)} nodes")
    leaf = max(s.tree.nodes)
    pos = page.evaluate(f"() => document.querySelector('.jp-MimeDocument .wb-tv').wbTree.screenPos({leaf})")
    page.mouse.click(pos["x"], pos["y"])
    expect(doc.locator(".wb-tv-card-title")).to_contain_text(f"Node {leaf}")
    expect(doc.locator(".wb-tv-prune")).to_be_disabled()  # a saved run cannot be steered
    screenshot(page, "wbrun-document-light.png")
    theme(page, "JupyterLab Dark")
    screenshot(page, "wbrun-document-dark.png")
    theme(page, "JupyterLab Light")
    assert not errors, errors
    page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
    context.close()
