"""Saved runs in a real JupyterLab and Chromium with no kernel: a notebook executed headlessly and
reopened shows its Workbench panel through the lab extension's run renderer (the widgets' own views
over the snapshot in the fallback output), also when it was saved with widget state (the widget
views restored from it hide: their state is older than the run and nothing answers their buttons),
and a `.wbrun.json` export opens as a document."""

from __future__ import annotations

import os
from typing import Any

import nbformat
import pytest
from browser_fixtures import ARTIFACTS, screenshot

from workbench import cli
from workbench.widgets.snapshot import MIME

pytestmark = pytest.mark.browser

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
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


def open_without_kernel(lab: Any, chromium: Any, name: str) -> tuple[Any, Any, list[str]]:
    """Opens notebook `name` in a new browser context: (context, page, page errors so far)."""
    context = chromium.new_context(viewport={"width": 1300, "height": 950})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(lab.lab_url(name))
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=60_000)
    dialog = page.locator(".jp-Dialog")  # the kernel it names does not exist: if asked, choose none
    if dialog.count():
        dialog.locator(".jp-mod-reject").first.click()
    return context, page, errors


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

    context, page, errors = open_without_kernel(lab, chromium, "saved-run.ipynb")
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


AGENT_CELLS = [
    "%load_ext workbench",
    "%agent new --name explorer --env gridworld --memory diff --seed 3 --store runs.sqlite",
    "%agent run --max-steps 9\nh = %agent wait",
    "await h",
    "%agent tree",
]


def test_a_notebook_saved_with_widget_state_shows_the_run_not_the_stale_widgets(
    lab: Any, chromium: Any, tmp_path, monkeypatch
) -> None:
    """nbclient (like papermill and `nbconvert --execute`) stores the widget state in the notebook;
    trusted (as a user's own notebook saved by JupyterLab is), JupyterLab restores the widget views
    from it with no kernel behind them. They showed the panel as nbclient last saw it ("idle · step
    0": the background run's updates came between cells) with buttons that did nothing, and hid
    the saved run after them."""
    from nbclient import NotebookClient
    from nbformat.sign import NotebookNotary

    built()
    lab.delete_sessions()
    monkeypatch.delenv("WORKBENCH_MODEL", raising=False)  # the demo model: offline
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in AGENT_CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    here = {"metadata": {"path": str(tmp_path)}}  # the kernel's folder: its run store goes there
    NotebookClient(nb, timeout=120, store_widget_state=True, resources=here).execute()
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    views = [o for c in nb.cells for o in c.outputs if WIDGET_VIEW in o.get("data", {})]
    assert len(views) == 3 and all(v["data"][WIDGET_VIEW]["model_id"] in state for v in views)
    [panel] = [m["state"] for m in state.values() if m["state"].get("header", {}).get("task")][:1]
    assert panel["_self_id"] in state  # each view can ask the widget manager about its own model
    steps = next(o for o in nb.cells[2].outputs if MIME in o.get("data", {}))["data"][MIME]["header"]["steps"]
    assert steps == 9
    nb.metadata["kernelspec"] = {"name": "no-such-kernel", "display_name": "none", "language": "none"}
    NotebookNotary(data_dir=str(lab.root.parent / "data")).sign(nb)  # trusted, as the server sees it
    nbformat.write(nb, lab.root / "saved-with-state.ipynb")

    context, page, errors = open_without_kernel(lab, chromium, "saved-with-state.ipynb")
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    # the widget views (not the run renderers, which draw with the same views)
    views = notebook.locator(".jp-OutputArea-child:not(:has(.wb-run-renderer)):has(.wb-live, .wb-restored)")
    expect(views).to_have_count(3, timeout=60_000)  # the widget manager restored all three
    lab.delete_sessions()
    assert lab.api("GET", "/api/sessions") == []
    for i in range(3):
        expect(views.nth(i)).to_be_hidden()  # they showed "idle · step 0" and dead buttons
        expect(views.nth(i).locator(".wb-live")).to_have_count(0)  # nor the views nested in it
    runs = notebook.locator(".wb-run-renderer")
    expect(runs).to_have_count(3)
    first, run, tree = runs.nth(0), runs.nth(1), runs.nth(2)
    expect(first.locator(".wb-count").first).to_have_text("step 0")  # the panel when `%agent new` ran
    expect(run.locator(".wb-snapshot-note")).to_contain_text("Saved run")
    expect(run.locator(".wb-count").first).to_have_text("step 9")  # not the restored "step 0"
    expect(run.locator(".wb-card")).to_have_count(steps + 1)
    expect(run.locator(".wb-controls")).to_be_hidden()
    run.scroll_into_view_if_needed()
    screenshot(run, "saved-with-state-light.png")
    tree.scroll_into_view_if_needed()  # drawn when scrolled near (mime.ts)
    expect(tree.locator(".wb-tv-summary")).to_contain_text(f"{steps + 1} nodes")
    screenshot(tree, "saved-with-state-tree-light.png")
    theme(page, "JupyterLab Dark")  # with the tree in view
    # JupyterLab hides its shell while it switches themes: the tree was drawn at size 0 (blank)
    drawn = (
        "() => { const el = document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) "
        ".wb-run-renderer')[2].querySelector('.wb-tv'), t = el && el.wbTree;"
        " return Boolean(t && t.settled() && t.pixel(0, 0, 0)[3] === 255) }"
    )
    page.wait_for_function(drawn, timeout=15_000)
    screenshot(tree, "saved-with-state-tree-dark.png")
    run.scroll_into_view_if_needed()
    screenshot(run, "saved-with-state-dark.png")
    theme(page, "JupyterLab Light")
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
    where = f"document.querySelector('.jp-MimeDocument .wb-tv').wbTree.screenPos({leaf})"
    page.wait_for_function(f"() => {where} !== null")  # drawn once the tab shows it (the next frame)
    pos = page.evaluate(f"() => {where}")
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
