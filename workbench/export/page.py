"""Stored runs as files a reader opens without a kernel or a server: one self-contained HTML page
(`--html`), a notebook that loads the run (`--notebook`) and a snapshot document (`--format wbrun`).

    snap = stored_snapshot(store, "3fa9")           # every step card, the whole tree (bounded)
    write_html(snap, "run.html")                     # inline JS and CSS: no CDN, no network
    write_notebook(snap, "run.ipynb", store_path)    # %agent load RUN_ID, with the run already shown
    write_wbrun(snap, "run.wbrun.json")              # JupyterLab opens it with the run renderer

The HTML page draws the run with the notebook widgets' own front-end code (`widgets/static`: the
Workbench panel with its Trajectory, Tree and Usage tabs, fed by `run_view.js`), inlined: each
module travels as text and is imported from a `blob:` URL, so the page works from `file://` with
the network off. Everything in it comes from the snapshot, which is redacted like every export.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

MODULES = {  # as the widgets' `_esm` concatenates them (widgets/base.py)
    "panel": ("dom.js", "approval_card.js", "workbench.js"),
    "tree": ("dom.js", "tree_layout.js", "tree_parts.js", "tree_view.js"),
    "run": ("dom.js", "run_view.js"),
}
CSS = ("workbench.css", "approval.css", "tree_view.css", "run_view.css")
EXPORT_LAST = None  # every step card of the path in an exported file
EXPORT_RECORDS = 20_000
EXPORT_CALLS = 2_000_000  # characters of model calls kept (the latest steps first)

_PAGE_CSS = """
body { margin: 0; padding: 16px; background: #fff; color: #1f1f1f; }
.wb-page-title { font: 600 15px system-ui, sans-serif; margin: 0 0 8px; }
.wb-page .wb-tabpanel { max-height: none; }
.wb-page .wb-panel-tree .wb-tv-stage { height: 560px; }
@media (prefers-color-scheme: dark) {
  :root {
    --jp-ui-font-color0: #fff; --jp-ui-font-color1: #e0e0e0; --jp-ui-font-color2: #aaa; --jp-ui-font-color3: #888;
    --jp-layout-color0: #111; --jp-layout-color1: #1b1b1b; --jp-layout-color2: #2a2a2a; --jp-layout-color3: #3a3a3a;
    --jp-border-color1: #555; --jp-border-color2: #3f3f3f; --jp-border-color3: #333;
    --jp-brand-color1: #64b5f6; --jp-error-color1: #ef7c6a; --jp-warn-color1: #ffb74d; --jp-success-color1: #81c784;
  }
  body { background: #111; color: #e0e0e0; }
}
"""

_LOADER = """
const text = (id) => document.getElementById(id).textContent;
const load = (name) => import(URL.createObjectURL(new Blob([text("wb-module-" + name)], { type: "text/javascript" })));
const [panel, tree, run] = await Promise.all([load("panel"), load("tree"), load("run")]);
const snapshot = JSON.parse(text("wb-snapshot"));
window.wbRun = run.renderRun({ el: document.getElementById("wb-run"), snapshot, panel: panel.default.render, tree: tree.default.render });
document.body.dataset.ready = "true";
"""


def _static(name: str) -> str:
    return (Path(__file__).resolve().parent.parent / "widgets" / "static" / name).read_text(encoding="utf-8")


def _inline(text: str) -> str:
    """Text safe inside a <script> element: no `</script` can end it early."""
    return text.replace("</", "<\\/")


def stored_snapshot(store: Any, run_id: str) -> dict[str, Any]:
    """The snapshot of a stored run for an exported file (every card, calls up to `EXPORT_CALLS`)."""
    from ..widgets.snapshot import run_snapshot, stored_header

    run = store.load_run(run_id)
    state = store.load_state(run.id)
    return run_snapshot(
        run,
        header=stored_header(run, store.run_status(run.id)),
        plan=state["plan"] if isinstance(state["plan"], list) else [],
        last=EXPORT_LAST,
        max_records=EXPORT_RECORDS,
        calls_budget=EXPORT_CALLS,
    )


def run_html(snapshot: dict[str, Any]) -> str:
    """One self-contained HTML page that draws the run (no external request of any kind)."""
    header = snapshot.get("header", {})
    title = f"Agent run {snapshot.get('run_id', '')} · {header.get('task', '')}"
    modules = "".join(
        f'<script type="text/plain" id="wb-module-{name}">{_inline(chr(10).join(_static(f) for f in files))}</script>\n'
        for name, files in MODULES.items()
    )
    css = "\n".join(_static(name) for name in CSS)
    data = _inline(json.dumps(snapshot, ensure_ascii=False))
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # nothing on this page may load from anywhere else: scripts and styles are inline or blob:
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "script-src 'unsafe-inline' blob:; style-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{css}\n{_PAGE_CSS}</style></head>\n"
        f'<body class="wb-page"><h1 class="wb-page-title">{html.escape(title)}</h1>\n'
        '<div id="wb-run"></div>\n'
        f'<script type="application/json" id="wb-snapshot">{data}</script>\n'
        f'{modules}<script type="module">{_LOADER}</script>\n</body></html>\n'
    )


def _write(path: str | Path, text: str) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)  # readers never see a half-written file
    return target


def write_html(snapshot: dict[str, Any], path: str | Path) -> Path:
    return _write(path, run_html(snapshot))


def write_wbrun(snapshot: dict[str, Any], path: str | Path) -> Path:
    """The snapshot as a `.wbrun.json` document (the lab extension opens it as an Agent Run)."""
    return _write(path, json.dumps(snapshot, ensure_ascii=False) + "\n")


def run_notebook(snapshot: dict[str, Any], store_arg: str | None) -> dict[str, Any]:
    """A notebook that loads the run into a live agent (`%agent load`), its panel and tree, with the
    load cell's output already there (the run snapshot and a static rendering) for readers without
    a kernel."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from ..widgets.snapshot import MIME
    from ..widgets.static_html import workbench_html

    rid = snapshot["run_id"]
    h = snapshot["header"]
    cards = [snapshot["cards"][str(i)] for i in snapshot["path"] if str(i) in snapshot["cards"]]
    store = f" --store {store_arg}" if store_arg else ""
    static = workbench_html(h, cards, snapshot.get("plan") or [], diff_memory=h.get("memory") == "diff")
    shown = new_output(
        "display_data",
        data={
            MIME: snapshot,
            "text/html": f'<div class="wb-fallback">{static}</div>',
            "text/plain": f"run {rid}",
        },
    )
    nb = new_notebook(
        cells=[
            new_markdown_cell(
                f"# Agent run `{rid}`\n\n**Task:** {h.get('task', '')}  \n"
                f"{h.get('env', '')} · {h.get('model', '')} · {h.get('strategy', '')} · {h.get('memory', '')} memory · "
                f"{h.get('status', '')}{' · ' + h['outcome'] if h.get('outcome') else ''} · {h.get('steps', 0)} steps · "
                f"{h.get('tokens', 0):,} tokens · ${h.get('cost', 0):.4f}\n\n"
                "Run the cells to load it into a live agent: step it further, rewind and branch, edit its plan "
                "and memory. Until then the output below shows the run as it was exported."
            ),
            new_code_cell("%load_ext workbench"),
            new_code_cell(f"%agent load {rid}{store}", outputs=[shown]),
            new_code_cell("%agent tree"),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(nb)
    return nb


def write_notebook(snapshot: dict[str, Any], path: str | Path, store_path: str | Path | None) -> Path:
    """`run_notebook` written to `path`; the store is named relative to the notebook when it can be."""
    import nbformat

    target = Path(path)
    store_arg = None
    if store_path is not None:
        store = Path(store_path).resolve()
        try:
            store_arg = os.path.relpath(store, target.resolve().parent)
        except ValueError:  # another drive (Windows)
            store_arg = str(store)
        if " " in store_arg:
            store_arg = json.dumps(store_arg)
    return _write(target, nbformat.writes(run_notebook(snapshot, store_arg)))
