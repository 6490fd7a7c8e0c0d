"""The static site of the teaching notebooks: Sphinx + MyST-NB, built offline, no CDN at view time.

    python -m workbench.teaching site OUT_DIR      # OUT_DIR/index.html, OUT_DIR/01-first-agent.html, ...

The notebooks are read as committed (with their outputs; nothing is executed), so each page shows
every widget's static fallback as it was when its cell ran. Before Sphinx reads them, a copy of each
notebook is prepared:
- plotly figures (`application/vnd.plotly.v1+json`) become an HTML `<div>` drawn by the plotly.js
  that the plotly Python package ships, copied into the site's `_static/` (no CDN);
- removed widget views (model id "") are dropped: their fallback, the next output, is what shows.
MyST-NB's ipywidgets scripts (a CDN) are switched off and the theme is Sphinx's own `alabaster`, so
the built pages load nothing from the network. `tests/test_site.py` builds the site and opens a page
in Chromium with every non-file request refused.
"""

from __future__ import annotations

import copy
import html
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .links import binder_url, placeholder
from .notebooks import NOTEBOOKS, WIDGET_VIEW, notebook_paths, read

PLOTLY = "application/vnd.plotly.v1+json"

CONF = """
project = "agent-workbench: teaching notebooks"
extensions = ["myst_nb"]
nb_execution_mode = "off"
nb_ipywidgets_js = {}
html_theme = "alabaster"
html_static_path = ["_static"]
html_js_files = ["plotly.min.js"]
html_theme_options = {"page_width": "1100px", "body_max_width": "none"}
exclude_patterns = ["_build"]
myst_enable_extensions = ["html_image"]
suppress_warnings = ["mystnb.unknown_mime_type", "misc.highlighting_failure"]
"""


def _plotly_html(figure: dict[str, Any], number: int) -> str:
    div = f"wb-plotly-{number}"
    data = json.dumps(figure.get("data", []))
    layout = json.dumps(figure.get("layout", {}))
    return (
        f'<div id="{div}" class="wb-plotly" style="width:100%;height:{figure.get("layout", {}).get("height", 420)}px"></div>'
        f'<script>Plotly.newPlot("{div}", {data}, {layout}, {{"responsive": true}});</script>'
    )


def prepare(nb: Any) -> Any:
    """A copy of `nb` ready for the site (see the module docstring)."""
    page = copy.deepcopy(nb)
    number = 0
    for cell in page.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            view = data.get(WIDGET_VIEW)
            if view is not None and not view.get("model_id"):
                continue
            if PLOTLY in data:
                number += 1
                out["data"] = {"text/html": _plotly_html(data[PLOTLY], number), "text/plain": "plotly figure"}
            kept.append(out)
        cell.outputs = kept
    return page


def _index(paths: list[Path]) -> str:
    lines = [
        "# agent-workbench: teaching notebooks",
        "",
        "Each page is a notebook as committed, with its outputs: every widget appears as it was when",
        "its cell ran. Run them yourself in JupyterLab, or on Binder:",
        "",
    ]
    if placeholder():
        lines += [
            "*(The Binder links use the placeholder repository address of `pyproject.toml`; they work",
            "once `[project.urls] Repository` holds the real one.)*",
            "",
        ]
    for path in paths:
        title = _title(path)
        lines.append(f"- [{html.escape(title)}]({path.stem}.ipynb) · [launch on Binder]({binder_url(path)})")
    lines += ["", "```{toctree}", ":hidden:", "", *[p.stem for p in paths], "```", ""]
    return "\n".join(lines)


def _title(path: Path) -> str:
    for cell in read(path).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return f"{path.stem[:2]} · {line[2:].strip()}"
    return path.stem


def build_site(out: Path, folder: Path = NOTEBOOKS) -> Path:
    """Build the site into `out` (made or replaced); returns the path of its index.html."""
    import nbformat
    import plotly

    paths = notebook_paths(folder)
    out = Path(out).resolve()
    with tempfile.TemporaryDirectory(prefix="wb-site-") as tmp:
        src = Path(tmp)
        (src / "conf.py").write_text(CONF, encoding="utf-8")
        static = src / "_static"
        static.mkdir()
        shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", static / "plotly.min.js")
        for path in paths:
            nbformat.write(prepare(read(path)), src / path.name)
        (src / "index.md").write_text(_index(paths), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        done = subprocess.run(
            [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", str(src), str(out)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"sphinx failed:\n{done.stderr[-4000:]}")
    return out / "index.html"
