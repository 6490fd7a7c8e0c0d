"""The first teaching notebook runs top to bottom, offline, in a real kernel (nbclient), with no
errors, and produces widget views that carry static HTML fallbacks and the facts it teaches."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "01-first-agent.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SECRET_ENV = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "WORKBENCH_MODEL")


def test_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert "widgets" not in nb.metadata


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
    tmp_path = tmp_path_factory.mktemp("nb")
    with pytest.MonkeyPatch.context() as mp:
        for name in SECRET_ENV:
            mp.delenv(name, raising=False)  # offline: the demo model, no key
        mp.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        kernel = _kernel_here(tmp_path, mp)
        nb = nbformat.read(NOTEBOOK, as_version=4)
        client = nbclient.NotebookClient(
            nb, timeout=600, kernel_name=kernel, resources={"metadata": {"path": str(tmp_path)}}
        )
        client.execute()
    return nb, tmp_path


@pytest.mark.slow
def test_notebook_runs_without_errors(executed):
    nb, _ = executed
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            assert out.output_type != "error", (cell.source, out.get("evalue"))
            if out.output_type == "stream" and out.name == "stderr":
                assert "Traceback" not in out.text and "Error" not in out.text, out.text


@pytest.mark.slow
def test_widget_views_carry_html_fallbacks(executed):
    nb, _ = executed
    views = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if WIDGET_VIEW in o.get("data", {})
    ]
    assert len(views) >= 3  # the panel, the plan editor, the diff view at least
    assert all("text/html" in o.data and o.data["text/html"].strip() for o in views)
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    ids = {o.data[WIDGET_VIEW]["model_id"] for o in views}
    assert ids <= set(state.get("state", {}))  # every view's model is saved with the notebook


@pytest.mark.slow
def test_notebook_shows_what_it_teaches(executed):
    nb, tmp_path = executed
    everything = "\n".join(_texts(c.outputs) for c in nb.cells if c.cell_type == "code")
    assert "simulated" in everything
    assert "Plan step 1: The bottom-left corner" in everything  # the agent followed the plan edit
    assert "@@" in everything and "diff saves" in everything  # diff history and its token count
    assert "2 branches" in everything  # rewind, then a new branch
    assert "done · success" in everything  # the background run was awaited to its end
    assert (tmp_path / ".workbench" / "runs.sqlite").is_file()  # %agent save wrote the run
    assert "sk-" not in everything


@pytest.mark.slow
def test_notebook_stderr_is_clean(executed):
    nb, _ = executed
    stderr = [
        o.text for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("name") == "stderr"
    ]
    assert stderr == []
