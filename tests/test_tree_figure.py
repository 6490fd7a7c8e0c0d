"""The tree layout, the plotly tree figure and the static SVG: pure functions of a run tree.

The browser's port of the layout (workbench/widgets/static/tree_layout.js) is run with node on the
same trees and must give the same positions and folds."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tree_toys import chain_parents, synthetic_run

from workbench.core.tree import Run
from workbench.viz.tree_figure import STATUS_STYLE, hover_text, tree_figure, value_color, value_range
from workbench.viz.tree_layout import choose_collapsed, layout, layout_run
from workbench.viz.tree_svg import tree_svg

LAYOUT_JS = Path(__file__).resolve().parent.parent / "workbench" / "widgets" / "static" / "tree_layout.js"


def random_parents(n: int, seed: int) -> dict[int, int | None]:
    rng = random.Random(seed)
    parents: dict[int, int | None] = {0: None}
    for i in range(1, n):
        parents[i] = rng.randrange(i) if rng.random() < 0.5 else max(0, i - rng.randrange(1, 4))
    return parents


def rows(lay, ids=None) -> dict[int, list[int]]:
    """Depth -> node ids left to right."""
    out: dict[int, list[int]] = {}
    for node in sorted(ids if ids is not None else lay.order, key=lambda n: lay.x[n]):
        out.setdefault(lay.y[node], []).append(node)
    return out


def small_run() -> Run:
    """root -> 1 (expanded, 0.4) -> {3 solved, 4 frontier}; root -> 2 (pruned) -> 5 (pruned); 1 -> 6 error."""
    run = Run(task="t")
    run.new_node(None, observation="start")
    run.new_node(0, action="left", status="expanded", value=0.4, visits=3, executed=True, observation="L")
    run.new_node(0, action="right", status="pruned", value=0.1, visits=1, executed=True)
    run.new_node(1, action="win <now>", status="terminal", terminal=True, reward=1.0, value=1.0, visits=1)
    run.new_node(1, action="maybe", status="frontier", info={"pinned": True, "prior": 0.7})
    run.new_node(2, action="deeper", status="pruned")
    run.new_node(1, action="oops", status="error", error="bad")
    run.cursor = 3
    return run


# --- layout ---------------------------------------------------------------------------------------------
def test_layout_is_a_deterministic_tidy_tree():
    parents = {0: None, 1: 0, 2: 0, 3: 1, 4: 1, 5: 2}
    lay = layout(parents)
    assert lay == layout(dict(reversed(list(parents.items()))))  # insertion order does not matter
    assert [lay.y[i] for i in range(6)] == [0, 1, 1, 2, 2, 2]
    assert lay.x[3] < lay.x[4] < lay.x[5] and lay.x[1] < lay.x[2]  # siblings by id, left to right
    assert lay.x[1] == (lay.x[3] + lay.x[4]) / 2 and lay.x[0] == (lay.x[1] + lay.x[2]) / 2
    assert min(lay.x.values()) == 0 and lay.x[4] - lay.x[3] == 1 and lay.x[5] - lay.x[4] == 1
    chain = layout(chain_parents(50))
    assert set(chain.x.values()) == {0.0} and chain.depth == 49


@pytest.mark.parametrize("seed", range(12))
def test_existing_nodes_keep_their_order_as_the_tree_grows(seed):
    parents = random_parents(90, seed)
    before = None
    for n in range(1, 91):
        lay = layout({i: parents[i] for i in range(n)})
        for row in rows(lay).values():  # at least one slot apart at every depth
            assert all(lay.x[b] - lay.x[a] >= 1 - 1e-9 for a, b in zip(row, row[1:], strict=False))
        if before is not None:  # the old nodes keep their left-to-right order at every depth
            assert rows(lay, before.order) == rows(before)
        before = lay


def test_pruned_subtrees_fold_first_then_a_depth_cut_with_correct_counts():
    run = synthetic_run(600, seed=5)
    parents = {n.id: n.parent_id for n in run.nodes.values()}
    status = {n.id: n.status for n in run.nodes.values()}
    assert choose_collapsed(parents, status, max_nodes=600) == set()  # under the limit: nothing folds
    lay = layout_run(run, max_nodes=200)
    assert len(lay) <= 200 and len(lay) + lay.hidden == 600
    for node, hidden in lay.collapsed.items():  # each badge counts exactly the hidden subtree
        size, stack = 0, [node]
        while stack:
            current = stack.pop()
            kids = [n.id for n in run.children(current)]
            size += len(kids)
            stack.extend(kids)
        assert hidden == size
    pruned_tops = [
        n.id for n in run.nodes.values()
        if n.status == "pruned" and run.nodes[n.parent_id].status != "pruned" and run.children(n.id)
    ]  # fmt: skip
    folded_all = choose_collapsed(parents, status, max_nodes=599)
    assert pruned_tops and set(pruned_tops) <= folded_all


def test_keep_expanded_and_collapsed_override_the_automatic_folds():
    run = synthetic_run(800, seed=2)
    deep = max(run.nodes.values(), key=lambda n: (n.depth, n.id))
    lay = layout_run(run, max_nodes=100, keep={deep.id})
    assert all(n.id in lay.x for n in run.path(deep.id))  # the path to a kept node stays visible
    folded = next(iter(sorted(lay.collapsed)))
    opened = layout_run(run, max_nodes=100, keep={deep.id}, expanded={folded})
    assert folded not in opened.collapsed and all(c.id in opened.x for c in run.children(folded))
    closed = layout_run(run, collapsed={1})
    assert closed.collapsed == {
        1: sum(1 for n in run.nodes.values() if 1 in [p.id for p in run.path(n.id)[:-1]])
    }


def test_a_5000_node_tree_lays_out_and_folds_to_the_limit():
    run = synthetic_run(5000, seed=3)
    full = layout_run(run)
    assert len(full) == 5000 and full.hidden == 0
    lay = layout_run(run, max_nodes=1500)
    assert len(lay) <= 1500 and len(lay) + lay.hidden == 5000
    assert lay.width < full.width


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_browser_layout_gives_the_same_positions_and_folds(tmp_path):
    module = tmp_path / "tree_layout.mjs"
    module.write_text(LAYOUT_JS.read_text())
    cases = []
    for seed, n, limit in ((1, 300, 120), (2, 800, 250), (3, 60, None), (4, 2000, 700)):
        run = synthetic_run(n, seed=seed)
        keep = [max(run.nodes)]
        lay = layout_run(run, max_nodes=limit, keep=keep)
        records = [
            [
                nd.id,
                -1 if nd.parent_id is None else nd.parent_id,
                nd.status,
                None if nd.value is None else round(nd.value, 4),
            ]
            for nd in run.nodes.values()
        ]
        cases.append({"records": records, "limit": limit, "keep": keep, "python": lay})
    script = tmp_path / "run.mjs"
    script.write_text(
        "import { childrenMap, chooseCollapsed, layoutTree, STATUSES } from './tree_layout.mjs';\n"
        "import { readFileSync } from 'node:fs';\n"
        "const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));\n"
        "console.log(JSON.stringify(cases.map((c) => {\n"
        "  const recs = new Map(c.records.map(([id, parent, status, value]) => [id, { id, parent, value, status: STATUSES.indexOf(status) }]));\n"
        "  const kids = childrenMap(recs);\n"
        "  const fold = chooseCollapsed(recs, kids, { maxNodes: c.limit, keep: c.keep, expanded: new Set(), collapsed: new Set() });\n"
        "  const lay = layoutTree(recs, kids, fold);\n"
        "  return { x: Object.fromEntries(lay.x), y: Object.fromEntries(lay.y), hidden: Object.fromEntries(lay.hidden), order: lay.order };\n"
        "})));\n"
    )
    data = tmp_path / "cases.json"
    data.write_text(json.dumps([{k: v for k, v in c.items() if k != "python"} for c in cases]))
    out = subprocess.run(["node", str(script), str(data)], capture_output=True, text=True, check=True)
    for case, js in zip(cases, json.loads(out.stdout), strict=True):
        lay = case["python"]
        assert js["order"] == lay.order
        assert {int(k): v for k, v in js["hidden"].items()} == lay.collapsed
        assert {int(k): v for k, v in js["y"].items()} == lay.y
        assert all(abs(js["x"][str(k)] - v) < 1e-6 for k, v in lay.x.items())


# --- figure -----------------------------------------------------------------------------------------------
def test_value_colours_are_one_hue_light_to_dark_and_grey_without_a_value():
    def lightness(color: str) -> int:
        return sum(int(color[i : i + 2], 16) for i in (1, 3, 5))

    shades = [value_color(v) for v in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert all(lightness(a) > lightness(b) for a, b in zip(shades, shades[1:], strict=False))
    assert all(int(c[5:7], 16) >= int(c[1:3], 16) for c in shades)  # blue dominates: one hue
    assert value_color(None) == "#c8c8c8"
    assert value_range([0.2, 0.9, None]) == (0.0, 1.0) and value_range([-3.0, 5.0]) == (-3.0, 5.0)


def test_figure_traces_carry_values_statuses_highlights_and_hover():
    run = small_run()
    fig = tree_figure(run, best_path=[0, 1, 3])
    by_name = {t.name: t for t in fig.data}
    statuses = {t.meta["status"]: t for t in fig.data if isinstance(t.meta, dict)}
    assert set(statuses) == {"expanded", "frontier", "solved", "pruned", "error"}
    for status, trace in statuses.items():
        assert trace.marker.symbol == STATUS_STYLE[status]["symbol"]
        assert trace.marker.line.color == STATUS_STYLE[status]["line"]
        for node_id, color in zip(trace.customdata, trace.marker.color, strict=True):
            open_symbol = "open" in STATUS_STYLE[status]["symbol"]  # drawn in the status colour
            assert color == (
                STATUS_STYLE[status]["line"] if open_symbol else value_color(run.nodes[node_id].value)
            )
    assert statuses["expanded"].marker.color[1] == value_color(0.4) != value_color(None)
    assert list(statuses["expanded"].customdata) == [0, 1]
    assert list(statuses["pruned"].customdata) == [2, 5]
    lay = layout_run(run)
    best = by_name["best path"]
    assert list(best.x) == [lay.x[0], lay.x[1], None, lay.x[1], lay.x[3], None]
    assert best.line.color == "#e69f00"
    cursor = by_name["cursor"]
    assert (cursor.x[0], cursor.y[0]) == lay.pos(3) and cursor.marker.color == "#cc79a7"
    assert list(by_name["pinned"].x) == [lay.x[4]]
    hover = dict(zip(statuses["solved"].customdata, statuses["solved"].text, strict=True))[3]
    assert (
        "action: win &lt;now&gt;" in hover
        and "value: 1" in hover
        and "visits: 1" in hover
        and "reward 1" in hover
    )
    assert "prior 0.7" in hover_text(run.nodes[4]) and "pinned" in hover_text(run.nodes[4])
    assert fig.layout.yaxis.autorange == "reversed"  # top-down
    assert all(type(t).__name__ == "Scatter" for t in fig.data)


def test_large_figures_use_webgl_and_fold():
    run = synthetic_run(5000, seed=4)
    fig = tree_figure(run, max_nodes=1500)
    markers = [t for t in fig.data if isinstance(t.meta, dict)]
    assert all(type(t).__name__ == "Scattergl" for t in markers)
    shown = sum(len(t.customdata) for t in markers)
    folded = next(t for t in fig.data if t.name == "folded subtrees")
    assert shown <= 1500 and shown + sum(int(s[1:]) for s in folded.text) == 5000


def test_static_svg_draws_the_same_tree_without_scripts():
    run = small_run()
    svg = tree_svg(run, best_path=[0, 1, 3])
    assert svg.startswith("<svg") and svg.endswith("</svg>") and "<script" not in svg
    assert svg.count("<title>") == 7 and "win &lt;now&gt;" in svg
    assert 'stroke="#e69f00" stroke-width="4"' in svg and 'stroke="#cc79a7"' in svg
    big = tree_svg(synthetic_run(5000, seed=1), max_nodes=300)
    assert big.count("<title>") <= 300 and ">+" in big and len(big) < 120_000


def test_viz_imports_do_not_import_plotly():
    code = "import sys, workbench.viz.tree_figure, workbench.viz.tree_svg; print('plotly' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
