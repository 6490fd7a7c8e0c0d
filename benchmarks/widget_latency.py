"""How fast step cards reach the browser, and how much a displayed run adds to a saved notebook.

    python benchmarks/widget_latency.py [--steps 50] [--burst 2000] [--size-steps 100]

1. Latency, measured in the browser: a real JupyterLab (127.0.0.1) and headless Chromium (Debian's,
   /usr/bin/chromium) run a notebook whose agent takes `--steps` paced steps (a scripted model on
   gridworld, 100 ms apart, so each card is timed on its own). A MutationObserver records when each
   card appears in the DOM; the kernel reports when each node's `NodeAdded` event fired (both are
   wall-clock times on one machine). Prints p50 / p90 / max of DOM time - event time.
2. Burst: `--burst` steps as fast as the engine goes; prints how long after the last event the last
   card appeared and how many widget messages the kernel sent (the coalescing at work).
3. Saved-notebook growth per `--size-steps` displayed steps: the notebook saved by JupyterLab (with
   "save widget state" on, so the cards are in the file), and the same run executed headlessly by
   nbclient (which stores the widget state too), each compared with the same notebook at 0 steps.
   Also the size of the static text/html fallback of a panel showing that many steps.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from browser_fixtures import (  # noqa: E402
    cells,
    expect_kernel_idle,
    lab_server,
    launch_chromium,
    open_notebook,
    run_all,
    run_cell,
    write_notebook,
)

SETUP = """\
import asyncio, json, time
from workbench.core import events as ev
from workbench.core.session import Session
from workbench.llm.scripted import ScriptedModel
from workbench.widgets import Workbench

def back_and_forth(messages):
    return "Thought: pace\\nAction: " + ("go east" if len(messages) % 4 < 2 else "go west")

s = Session(task="walk", env="gridworld", model=ScriptedModel(back_and_forth), memory="diff",
            env_options={"max_steps": 100000})
added = {}
s.subscribe(lambda e: added.__setitem__(e.node.id, e.at) if isinstance(e, ev.NodeAdded) else None)"""
SHOW = "wb = Workbench(s)\nwb"
PACED = """\
for _ in range({n}):
    await s.astep()
    await asyncio.sleep(0.1)  # a model's latency stand-in: each card is timed on its own
print("DONE>>", len(s.tree.nodes))"""
BURST = """\
sent_before = wb.messages_sent
t0 = time.time()
for _ in range({n}):
    await s.astep()
    await asyncio.sleep(0)  # yield to the loop once a step, as a real model call does
print("DONE>>", len(s.tree.nodes), wb.messages_sent - sent_before, round(time.time() - t0, 3))"""
REPORT = 'print("TIMES>>" + json.dumps(added))'

OBSERVER = """() => {
  window.__wbSeen = {};
  const note = (el) => { const id = el.dataset.nodeId; if (!(id in window.__wbSeen)) window.__wbSeen[id] = Date.now(); };
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes)
      if (n.nodeType === 1 && n.matches("li.wb-card[data-node-id]")) note(n);
  }).observe(document.body, { childList: true, subtree: true });
}"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def output_of(cell) -> str:
    return cell.locator(".jp-OutputArea-output").last.inner_text()


def measure_latency(page, server, steps: int, burst: int) -> None:
    write_notebook(
        server.root / "latency.ipynb", [SETUP, SHOW, PACED.format(n=steps), BURST.format(n=burst), REPORT]
    )
    open_notebook(page, server, "latency.ipynb")
    for index in (0, 1):
        run_cell(page, index)
    page.locator(".jp-OutputArea-output .wb-panel").wait_for()
    page.evaluate(OBSERVER)
    done = output_of(run_cell(page, 2))
    page.locator(f"li.wb-card[data-node-id='{steps}']").wait_for()
    seen = page.evaluate("() => window.__wbSeen")
    kernel = json.loads(output_of(run_cell(page, 4)).split("TIMES>>", 1)[1])
    lat = [seen[k] - kernel[k] * 1000 for k in kernel if k in seen and int(k) > 0]
    print(f"latency event -> card in DOM over {len(lat)} paced steps ({done.strip()}):")
    print(f"  p50 {percentile(lat, 0.5):.1f} ms · p90 {percentile(lat, 0.9):.1f} ms · max {max(lat):.1f} ms")

    page.evaluate("() => { window.__wbSeen = {}; }")
    burst_out = output_of(run_cell(page, 3))
    fields = burst_out.split("DONE>>", 1)[1].split()
    nodes, messages, seconds = int(fields[0]), int(fields[1]), float(fields[2])
    page.locator(f"li.wb-card[data-node-id='{nodes - 1}']").wait_for()
    seen = page.evaluate("() => window.__wbSeen")
    kernel = json.loads(output_of(run_cell(page, 4)).split("TIMES>>", 1)[1])
    last = str(nodes - 1)
    print(
        f"burst of {burst} steps as fast as possible ({seconds:.2f} s): last card in the DOM "
        f"{seen[last] - kernel[last] * 1000:.0f} ms after its event; the panel sent {messages} refresh "
        f"messages for {burst} steps ({messages / seconds:.0f}/s)"
    )


def saved_size_growth(page, server, steps: int) -> None:
    sizes = {}
    for n in (0, steps):
        name = f"size{n}.ipynb"
        write_notebook(
            server.root / name, [SETUP, SHOW, PACED.replace("await asyncio.sleep(0.1)", "pass").format(n=n)]
        )
        open_notebook(page, server, name)
        run_all(page)
        if n:
            page.locator(f"li.wb-card[data-node-id='{n}']").wait_for()
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        expect_kernel_idle(page)
        page.locator(".jp-mod-dirty").wait_for(state="detached")
        sizes[n] = (server.root / name).stat().st_size
        page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
        cells(page).first.wait_for(state="detached")
        server.delete_sessions()
    grow = sizes[steps] - sizes[0]
    print(f"saved by JupyterLab (widget state on): {sizes[0]:,} B at 0 steps, {sizes[steps]:,} B at {steps}:")
    print(f"  +{grow:,} B per {steps} displayed steps ({grow / steps:,.0f} B/step)")


def headless_size_growth(steps: int) -> None:
    import nbformat
    from nbclient import NotebookClient

    sizes, html_size = {}, 0
    with tempfile.TemporaryDirectory() as tmp:
        for n in (0, steps):
            path = write_notebook(
                Path(tmp) / f"h{n}.ipynb",
                [SETUP, SHOW, PACED.replace("await asyncio.sleep(0.1)", "pass").format(n=n), "wb"],
            )
            nb = nbformat.read(str(path), as_version=4)
            NotebookClient(nb, timeout=300, kernel_name="python3").execute()
            nbformat.write(nb, str(path))
            sizes[n] = path.stat().st_size
            if n:
                html_size = len(nb.cells[3].outputs[0]["data"]["text/html"])
    grow = sizes[steps] - sizes[0]
    print(
        f"executed by nbclient (widget state stored): {sizes[0]:,} B at 0 steps, {sizes[steps]:,} B at {steps}:"
    )
    print(f"  +{grow:,} B per {steps} steps ({grow / steps:,.0f} B/step), of which the re-displayed panel's")
    print(f"  static text/html fallback is {html_size:,} B ({html_size / steps:,.0f} B/step)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--size-steps", type=int, default=100)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    settings = {"@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": True}}
    with (
        tempfile.TemporaryDirectory() as tmp,
        lab_server(Path(tmp), settings) as server,
        sync_playwright() as p,
    ):
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        measure_latency(page, server, args.steps, args.burst)
        server.delete_sessions()
        page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
        saved_size_growth(page, server, args.size_steps)
        browser.close()
    headless_size_growth(args.size_steps)


if __name__ == "__main__":
    main()
