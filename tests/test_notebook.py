"""The first teaching notebook runs top to bottom, offline, in a real kernel (`jupyter nbconvert
--execute`), with no errors, and produces widget views followed by static HTML fallbacks that show
each widget as it was when its cell ran (a run going on at the end of its cell: until the run
stopped) in nbconvert's HTML, and the facts it teaches."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "01-first-agent.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SECRET_ENV = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "WORKBENCH_MODEL")


def _kernel_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernelspec that starts this very Python, found through JUPYTER_PATH."""
    spec = tmp_path / "jupyter" / "kernels" / "workbench-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "workbench", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return "workbench-test"


def _texts(outputs: list[Any]) -> str:
    parts = []
    for out in outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        for mime in ("text/plain", "text/html"):
            value = out.get("data", {}).get(mime)
            if value:
                parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The notebook executed by a real `jupyter nbconvert --execute` (widget state stored, the
    default), in a project with its store at the root and the notebook one folder below, as in this
    repo; then converted to HTML by `jupyter nbconvert --to html`. Returns (notebook, project, html)."""
    import shutil
    import subprocess

    tmp_path = tmp_path_factory.mktemp("nb")
    with pytest.MonkeyPatch.context() as mp:
        for name in SECRET_ENV:
            mp.delenv(name, raising=False)  # offline: the demo model, no key
        mp.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        kernel = _kernel_here(tmp_path, mp)
        (tmp_path / ".workbench").mkdir()
        folder = tmp_path / "notebooks"
        folder.mkdir()
        shutil.copy(NOTEBOOK, folder / NOTEBOOK.name)
        jupyter = [sys.executable, "-m", "jupyter", "nbconvert"]
        for args in (
            ["--to", "notebook", "--execute", f"--ExecutePreprocessor.kernel_name={kernel}",
             "--ExecutePreprocessor.timeout=600", "--output", "executed.ipynb", NOTEBOOK.name],
            ["--to", "html", "executed.ipynb"],
        ):  # fmt: skip
            done = subprocess.run([*jupyter, *args], cwd=folder, capture_output=True, text=True, timeout=900)
            assert done.returncode == 0, done.stderr[-3000:]
    nb = nbformat.read(folder / "executed.ipynb", as_version=4)
    return nb, tmp_path, (folder / "executed.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_notebook_runs_without_errors(executed):
    nb, _, _ = executed
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            assert out.output_type != "error", (cell.source, out.get("evalue"))
            if out.output_type == "stream" and out.name == "stderr":
                assert "Traceback" not in out.text and "Error" not in out.text, out.text


def _fallbacks(nb: Any) -> list[tuple[Any, Any]]:
    """(widget view output, the output after it) for every widget view of the notebook."""
    pairs = []
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        for i, out in enumerate(cell.outputs):
            if WIDGET_VIEW in out.get("data", {}):
                pairs.append((out, cell.outputs[i + 1] if i + 1 < len(cell.outputs) else None))
    return pairs


@pytest.mark.slow
def test_each_widget_view_is_followed_by_its_static_fallback(executed):
    nb, _, _ = executed
    pairs = _fallbacks(nb)
    assert len(pairs) >= 3  # the panel, the plan editor, the diff view at least
    for view, fallback in pairs:
        assert "text/html" not in view.data  # nbconvert would drop it anyway: it has its own output
        assert fallback is not None and 'class="wb-fallback"' in fallback.data["text/html"]
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    ids = {view.data[WIDGET_VIEW]["model_id"] for view, _ in pairs}
    assert ids <= set(state.get("state", {}))  # every view's model is saved with the notebook


def _fallback_of(nb: Any, source_start: str) -> list[str]:
    """The fallback HTML of the widgets displayed by the code cell whose source starts so."""
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        if cell.source.startswith(source_start):
            return [
                o.data["text/html"]
                for o in cell.outputs
                if 'class="wb-fallback"' in o.get("data", {}).get("text/html", "")
            ]
    raise AssertionError(f"no cell starts with {source_start!r}")


@pytest.mark.slow
def test_each_fallback_is_the_state_when_its_cell_ran(executed):
    """Issue 14: a widget's fallback is its snapshot when its cell ran (later cells change the live
    view, not an earlier cell's text); issue 11: a panel displayed while a run goes on follows it
    until the run stops (the `%agent run` and `%%agent` panels end "done", not "running")."""
    nb, _, page = executed
    [new] = _fallback_of(nb, "%agent new")
    assert "idle · step 0" in new and "done" not in new  # not the end of the notebook
    [before, after] = _fallback_of(nb, "editor = %agent plan") + _fallback_of(nb, "editor.on_add")
    assert "go to the bottom-left corner" not in before and "go to the bottom-left corner" in after
    [tree] = [
        o.data["text/html"]
        for c in nb.cells
        if c.source == "%agent tree"
        for o in c.outputs
        if "text/html" in o.data
    ]
    assert "11 nodes" in tree and "1 solved" not in tree  # the tree before `%agent run`, not after it
    [run_panel] = _fallback_of(nb, "run = %agent run")
    assert "done · success · step " in run_panel and "running" not in run_panel
    [solver] = _fallback_of(nb, "%%agent solver")
    assert "done · success · step " in solver
    assert page.count('class="wb-fallback"') == len(_fallbacks(nb))
    assert "running · step" not in page and page.count("done · success · step ") >= 2


@pytest.mark.slow
@pytest.mark.browser
def test_nbconvert_html_shows_every_panel_in_chromium(executed, chromium: Any):
    """The HTML of `jupyter nbconvert` (widget state stored, no network) read in Chromium: every
    Workbench output shows its final state, none is blank."""
    from browser_fixtures import ARTIFACTS
    from playwright.sync_api import expect

    _, tmp_path, _ = executed
    page = chromium.new_page(viewport={"width": 1100, "height": 900})
    page.route(
        "**/*",
        lambda route: route.abort() if not route.request.url.startswith("file:") else route.continue_(),
    )
    page.goto((tmp_path / "notebooks" / "executed.html").as_uri())
    fallbacks = page.locator(".wb-fallback")
    expect(fallbacks.first).to_contain_text("idle · step 0")  # the panel when `%agent new` ran
    expect(page.locator(".wb-fallback", has_text="done · success · step").first).to_be_visible()
    for i in range(fallbacks.count()):
        expect(fallbacks.nth(i)).to_be_visible()
        assert fallbacks.nth(i).bounding_box()["height"] > 40  # not an empty box
    expect(page.locator(".wb-fallback").get_by_text("Run tree")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    fallbacks.first.evaluate("e => e.scrollIntoView({block: 'start'})")  # the panel's header
    page.screenshot(path=str(ARTIFACTS / "nbconvert-fallback.png"))
    page.close()


@pytest.mark.slow
def test_notebook_shows_what_it_teaches(executed):
    nb, tmp_path, _ = executed
    everything = "\n".join(_texts(c.outputs) for c in nb.cells if c.cell_type == "code")
    assert "simulated" in everything
    assert "Plan step 1: The bottom-left corner" in everything  # the agent followed the plan edit
    assert "@@" in everything and "diff saves" in everything  # diff history and its token count
    assert "2 branches" in everything  # rewind, then a new branch
    assert "done · success" in everything  # the background run was awaited to its end
    assert "sk-" not in everything


@pytest.mark.slow
def test_every_agent_of_the_notebook_is_in_the_project_store(executed):
    """`%agent new` persists by default to the store the CLI finds: the project's `.workbench/`, found
    upward from the notebook's folder (not a `notebooks/.workbench/` the CLI never looks in)."""
    import subprocess

    nb, tmp_path, _ = executed
    assert not (tmp_path / "notebooks" / ".workbench").exists()
    from workbench.store.sqlite import RunStore

    with RunStore(tmp_path / ".workbench" / "runs.sqlite", create=False) as store:
        rows = {r["env"]: r for r in store.list_runs(limit=50)}
    assert set(rows) == {"gridworld", "game24"}  # the explorer and the solver, both written as they went
    assert rows["game24"]["status"] != "running" and rows["gridworld"]["steps"] >= 10
    shown = subprocess.run(
        [sys.executable, "-m", "workbench", "show", rows["game24"]["id"]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"run {rows['game24']['id']}")


@pytest.mark.slow
def test_notebook_stderr_is_clean(executed):
    nb, _, _ = executed
    stderr = [
        o.text for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("name") == "stderr"
    ]
    assert stderr == []
