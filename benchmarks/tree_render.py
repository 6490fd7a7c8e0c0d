"""Tree layout and render times at 500 and 5,000 nodes: Python side, and the TreeView in a browser.

    python benchmarks/tree_render.py [--sizes 500 5000] [--repeat 7] [--no-browser]

Python (median of `--repeat` runs, ms): the tidy layout of every node, the layout folded to the
TreeView's default limit (1,500 nodes), the plotly figure (`tree_figure`, folded to 1,500, WebGL over
1,000 markers), the static SVG of the saved-notebook fallback (folded to 300) and the node records
a TreeView syncs, plus the time a TreeView takes to send a one-node delta.

Browser (JupyterLab + headless Chromium, as the browser tests run them): for each size a TreeView
is shown; it reports the time from its render() call to the first tree drawn, then the median of
`--repeat` fold+layout+draw passes in its default view (following the cursor when the tree is too
big to fit) and fitted whole. The trees are search-shaped (tests/tree_toys.py), built by hand.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from tree_toys import grow, synthetic_run  # noqa: E402

from workbench.viz.tree_figure import tree_figure  # noqa: E402
from workbench.viz.tree_layout import layout_run  # noqa: E402
from workbench.viz.tree_svg import tree_svg  # noqa: E402


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def delta_ms(n: int, repeat: int) -> float:
    """A TreeView over an n-node session: the time to refresh after one more node (flush)."""
    import comm
    from widget_toys import RecordingComm

    from workbench.core import events as ev
    from workbench.core.session import Session
    from workbench.llm.scripted import ScriptedModel
    from workbench.widgets.tree_view import TreeView

    comm.create_comm = lambda *a, **k: RecordingComm(*a, **k)
    session = Session(env="game24", model=ScriptedModel(["Thought: t\nAction: 1 + 2"]))
    grow(session.tree, n, seed=1)
    view = TreeView(session)
    times = []
    for _ in range(repeat):
        parent = max(session.tree.nodes)
        node = session.tree.new_node(parent, action="1 + 1", status="frontier")
        start = time.perf_counter()
        session.events.publish(ev.NodeAdded(session.run_id, node=node))
        view.flush(force=True)
        times.append((time.perf_counter() - start) * 1000)
    view.close()
    return statistics.median(times)


def python_side(sizes: list[int], repeat: int) -> None:
    print("Python side (median ms)")
    print(
        f"{'nodes':>6} {'layout all':>11} {'layout 1500':>12} {'figure':>8} {'svg 300':>8} {'records':>8} {'delta':>7}"
    )
    from workbench.widgets.tree_records import node_record

    for n in sizes:
        run = synthetic_run(n, seed=3)
        keep = {run.cursor}
        row = [
            median_ms(lambda run=run: layout_run(run), repeat),
            median_ms(lambda run=run, keep=keep: layout_run(run, max_nodes=1500, keep=keep), repeat),
            median_ms(lambda run=run: tree_figure(run, max_nodes=1500), repeat),
            median_ms(lambda run=run: tree_svg(run, max_nodes=300), repeat),
            median_ms(lambda run=run: [node_record(x) for x in run.nodes.values()], repeat),
            delta_ms(n, repeat),
        ]
        print(f"{n:>6} " + " ".join(f"{v:>{w}.1f}" for v, w in zip(row, (11, 12, 8, 8, 8, 7), strict=True)))


def browser_side(sizes: list[int], repeat: int) -> None:
    from browser_fixtures import (
        chromium_available,
        lab_server,
        launch_chromium,
        open_notebook,
        run_cell,
        write_notebook,
    )
    from playwright.sync_api import sync_playwright

    if not chromium_available():
        print("Browser side skipped: no Chromium")
        return
    import tempfile

    cells = [
        f"import sys\nsys.path.insert(0, {str(ROOT / 'tests')!r})\nfrom tree_toys import grow\n"
        "from workbench.core.session import Session\nfrom workbench.widgets.tree_view import TreeView"
    ]
    for n in sizes:
        cells.append(f"s{n} = Session(env='game24', seed=0)\ngrow(s{n}.tree, {n}, seed=3)\nTreeView(s{n})")
    print("Browser side: TreeView in JupyterLab, headless Chromium (ms)")
    print(
        f"{'nodes':>6} {'first draw':>11} {'visible':>8} {'layout':>7} {'draw':>6} {'fit-all layout':>15} {'fit-all draw':>13}"
    )
    with tempfile.TemporaryDirectory() as tmp, lab_server(Path(tmp)) as lab, sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        write_notebook(lab.root / "bench.ipynb", cells)
        open_notebook(page, lab, "bench.ipynb")
        run_cell(page, 0)
        for k, n in enumerate(sizes):
            run_cell(page, k + 1)
            select = f"document.querySelectorAll('.jp-OutputArea-output .wb-tv')[{k}]"
            page.wait_for_function(f"() => {{ const el = {select}; return el && el.wbTree && el.wbTree.nodes() === {n} "
                                   "&& el.wbTree.settled(); }", timeout=120_000)  # fmt: skip
            first = page.evaluate(f"() => {select}.wbTree.stats().firstMs")
            visible = page.evaluate(f"() => {select}.wbTree.visible()")
            passes = [page.evaluate(f"() => {select}.wbTree.measure()") for _ in range(repeat)]
            page.evaluate(f"() => {select}.wbTree.fitAll()")
            fitted = [page.evaluate(f"() => {select}.wbTree.measure()") for _ in range(repeat)]
            med = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
            print(
                f"{n:>6} {first:>11.1f} {visible:>8} {med(passes, 'layoutMs'):>7.1f} {med(passes, 'drawMs'):>6.1f} "
                f"{med(fitted, 'layoutMs'):>15.1f} {med(fitted, 'drawMs'):>13.1f}"
            )
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    python_side(args.sizes, args.repeat)
    if not args.no_browser:
        browser_side(args.sizes, args.repeat)


if __name__ == "__main__":
    main()
