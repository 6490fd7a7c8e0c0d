"""First paint of the lab extension in real JupyterLab + headless Chromium over a big store.

    python benchmarks/extension_paint.py [--runs 10000] [--nodes 10000] [--repeat 3] [--keep DIR]

Builds the store of `benchmarks/rest_api.py` (`--runs` runs plus one run of `--nodes` nodes; reused
from `--keep DIR` when it is there), starts JupyterLab on it and, `--repeat` times each:

- runs list: the "Agent runs" sidebar emptied, then the time from its refresh (the command
  `workbench:open-runs`) to the first page of rows in the DOM and the next animation frame, and the
  p50 of the API request it makes (`/workbench/api/runs?limit=100`, timed in the page);
- the big run opened in the main area (`workbench:open-run`): from the command to its step cards
  drawn (the first paint, from the head of its snapshot), from the command to the whole snapshot
  read and drawn (the note stops saying "reading the tree and usage"), and from a click on its Tree
  tab, right after the first paint, to the tree drawn on the canvas (its nodes laid out);
- the two snapshot requests the run view makes (`/workbench/api/runs/ID/snapshot?part=head`, then
  `/workbench/api/runs/ID/snapshot`), each timed alone, and the tree card of a node the snapshot
  leaves out (`/workbench/api/runs/ID/cards/N`, N = half the nodes: a click on it in the tree).

Prints each run's numbers and their range. The machine's load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_fixtures import lab_server, launch_chromium  # noqa: E402
from rest_api import build_store  # noqa: E402

OPEN_RUNS = """async () => {
  const panel = document.querySelector('#workbench-runs tbody');
  panel.replaceChildren();
  const t0 = performance.now();
  await window.jupyterapp.commands.execute('workbench:open-runs');
  await new Promise(r => requestAnimationFrame(() => r()));
  const rows = document.querySelectorAll('#workbench-runs .wb-runs-row').length;
  return { ms: performance.now() - t0, rows };
}"""

API = """async (path) => {
  const times = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    const r = await fetch(path, { headers: { Authorization: 'token ' + TOKEN } });
    await r.json();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[10];
}"""

OPEN_RUN = """async (runId) => {
  const t0 = performance.now();
  window.jupyterapp.commands.execute('workbench:open-run', { runId });
  const view = () => document.querySelector('#workbench-run-view-' + runId);
  const note = () => view() && view().querySelector('.wb-snapshot-note');
  const whole = new Promise(r => { const f = () => (note() && !note().textContent.includes('reading') ? r(performance.now() - t0) : requestAnimationFrame(f)); f(); });
  await new Promise(r => { const f = () => (view() && view().querySelector('.wb-card') ? r() : requestAnimationFrame(f)); f(); });
  await new Promise(r => requestAnimationFrame(() => r()));
  const cards = view().querySelectorAll('.wb-card').length;
  const opened = performance.now() - t0;
  const t1 = performance.now();
  view().querySelector('.wb-tab-tree').click();
  const tree = () => view().querySelector('.wb-tv');
  await new Promise(r => { const f = () => (tree() && tree().wbTree && tree().wbTree.visible() > 0 ? r() : requestAnimationFrame(f)); f(); });
  await new Promise(r => requestAnimationFrame(() => r()));
  const treeMs = performance.now() - t1;
  return { opened, cards, whole: await whole, tree: treeMs, drawn: tree().wbTree.visible(), nodes: tree().wbTree.nodes() };
}"""


def span(values: list[float]) -> str:
    return f"{min(values):.0f}-{max(values):.0f} ms (median {statistics.median(values):.0f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep (and reuse) the store in")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        store = base / "root" / ".workbench" / "runs.sqlite"
        store.parent.mkdir(parents=True)
        kept = args.keep / f"store-{args.runs}-{args.nodes}.sqlite" if args.keep else None
        if kept and kept.is_file():
            shutil.copy(kept, store)
        else:
            started = time.perf_counter()
            build_store(store, args.runs, args.nodes)
            print(
                f"store: {args.runs} runs + a {args.nodes}-node run built in {time.perf_counter() - started:.0f} s"
            )
            if kept:
                kept.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(store, kept)
        import sqlite3

        (big,) = (
            sqlite3.connect(store)
            .execute("SELECT run_id FROM nodes GROUP BY run_id ORDER BY count(*) DESC LIMIT 1")
            .fetchone()
        )
        with lab_server(base) as server, sync_playwright() as p:
            browser = launch_chromium(p)
            lists, apis, opens, wholes, trees, heads, snaps, cards = [], [], [], [], [], [], [], []
            for _ in range(args.repeat):
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"{server.url}/lab?reset&token={server.token}")
                page.wait_for_selector("#workbench-runs", state="attached", timeout=120_000)
                page.evaluate(f"() => {{ window.TOKEN = {server.token!r}; }}")
                page.evaluate("() => window.jupyterapp.commands.execute('workbench:open-runs')")  # warm up
                shown = page.evaluate(OPEN_RUNS)
                lists.append(shown["ms"])
                apis.append(
                    page.evaluate(API.replace("TOKEN", "window.TOKEN"), "/workbench/api/runs?limit=100")
                )
                few = (
                    API.replace("TOKEN", "window.TOKEN")
                    .replace("i < 20", "i < 3")
                    .replace("times[10]", "times[1]")
                )
                heads.append(page.evaluate(few, f"/workbench/api/runs/{big}/snapshot?part=head"))
                snaps.append(page.evaluate(few, f"/workbench/api/runs/{big}/snapshot"))
                cards.append(page.evaluate(few, f"/workbench/api/runs/{big}/cards/{args.nodes // 2}"))
                run = page.evaluate(OPEN_RUN, big)
                opens.append(run["opened"])
                wholes.append(run["whole"])
                trees.append(run["tree"])
                print(
                    f"runs list {shown['ms']:.0f} ms ({shown['rows']} rows), API p50 {apis[-1]:.0f} ms; "
                    f"{args.nodes}-node run: opened {run['opened']:.0f} ms ({run['cards']} cards in the DOM), "
                    f"whole snapshot drawn {run['whole']:.0f} ms, "
                    f"tree drawn {run['tree']:.0f} ms ({run['drawn']} of {run['nodes']} nodes shown), "
                    f"snapshot API p50: head {heads[-1]:.0f} ms, whole {snaps[-1]:.0f} ms; "
                    f"a tree card p50 {cards[-1]:.0f} ms"
                )
                page.close()
            browser.close()
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"runs list first paint {span(lists)}; its API request p50 {span(apis)}")
    print(
        f"{args.nodes}-node run opened in the main area (cards drawn) {span(opens)}; whole snapshot drawn "
        f"{span(wholes)}; tree drawn (clicked at the first paint) {span(trees)}"
    )
    print(f"its snapshot requests: head {span(heads)}, whole {span(snaps)}; a tree card {span(cards)}")


if __name__ == "__main__":
    main()
