"""The TreeView in a real JupyterLab (Playwright + Debian's headless Chromium).

Journey 1: a best-first search on game24 with the offline demo model (paced like a real model)
runs in the background from a notebook; nodes appear while it runs; a click selects a node, Prune
prunes it, and a cell confirms from the kernel; then the keyboard selects another node, and Set
value, Pin and Resume from here reach the session. Journey 2: a linear run with two rewind branches,
and a 5,000-node tree that folds into "+N" badges and unfolds on a click. Screenshots go to
test-artifacts/tree-*.png. Every wait is a Playwright condition.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import (
    open_notebook,
    run_cell,
    screenshot,
    write_notebook,
)

pytestmark = pytest.mark.browser
TESTS = Path(__file__).resolve().parent
TREE = ".jp-OutputArea-output .wb-tv"

SEARCH = [
    """\
import asyncio
from workbench.core.session import Session
from workbench.llm.model import Model
from workbench.widgets.tree_view import TreeView

model = Model("workbench/demo", seed=3, error_rate=0.5)  # errs often: the search must explore
_answer = model.acomplete
async def _paced(messages, **kwargs):  # answer after a moment, as a real model would
    await asyncio.sleep(0.05)
    return await _answer(messages, **kwargs)
model.acomplete = _paced
s = Session(env="game24", strategy="best-first", model=model, seed=3,
            max_expansions=12, n_samples=6, value_samples=2)
tv = TreeView(s)
tv""",
    "task = s.start()",
    'await task\nprint("DONE>>", len(s.tree.nodes))',
    "n = s.tree.nodes[tv.selected]\nprint(f\"NODE>> {n.id} {n.status} value={n.value} by={n.info.get('value_by')} "
    "pinned={bool(n.info.get('pinned'))} cursor={s.tree.cursor}\")",
]
LINEAR_AND_BIG = [
    f"""\
import sys
sys.path.insert(0, {str(TESTS)!r})
from tree_toys import grow
from workbench.core.session import Session
from workbench.widgets.tree_view import TreeView

linear = Session(env="gridworld", seed=0)
linear.run(max_steps=6)
linear.rewind(2)
linear.run(max_steps=3)
linear.rewind(4)
linear.run(max_steps=2)
TreeView(linear)""",
    """\
big = Session(env="game24", seed=0)
grow(big.tree, 5000, seed=3)
big_view = TreeView(big)
big_view""",
]


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as _expect

    return _expect(target)


@pytest.fixture
def page(lab: Any, chromium: Any) -> Iterator[Any]:
    lab.delete_sessions()
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(f"{exc}\n{exc.stack}"))
    yield page
    page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
    context.close()
    lab.delete_sessions()


def hook(page: Any, index: int, call: str) -> Any:
    """Call the test hook of the `index`-th tree view: `wbTree.<call>`."""
    return page.evaluate(f"() => document.querySelectorAll({TREE!r})[{index}].wbTree.{call}")


def wait_hook(page: Any, index: int, condition: str, timeout: float = 30_000) -> None:
    page.wait_for_function(
        f"() => {{ const el = document.querySelectorAll({TREE!r})[{index}]; return el && el.wbTree && ({condition}); }}",
        timeout=timeout,
    )


def click_node(page: Any, index: int, node_id: int) -> None:
    pos = hook(page, index, f"screenPos({node_id})")
    assert pos is not None, f"node {node_id} is not drawn"
    page.mouse.click(pos["x"], pos["y"])


def test_search_grows_live_and_a_clicked_node_is_pruned_in_the_kernel(page: Any, lab: Any) -> None:
    write_notebook(lab.root / "tree_search.ipynb", SEARCH)
    open_notebook(page, lab, "tree_search.ipynb")
    run_cell(page, 0)
    tree = page.locator(TREE)
    expect(tree).to_have_count(1)
    wait_hook(page, 0, "el.wbTree.nodes() === 1")
    # record how many nodes the view holds at every frame while the search runs
    page.evaluate(
        f"""() => {{ const t = document.querySelector({TREE!r}).wbTree; window.__counts = [];
        const tick = () => {{ window.__counts.push(t.nodes()); if (!window.__stop) requestAnimationFrame(tick); }}; tick(); }}"""
    )
    run_cell(page, 1)
    wait_hook(page, 0, "el.wbTree.nodes() >= 12")
    screenshot(tree, "tree-search-growing.png")  # mid-run: the newest nodes are still fading in
    done = run_cell(page, 2).locator(".jp-OutputArea-output")
    expect(done).to_contain_text("DONE>>", timeout=60_000)
    total = int(done.inner_text().split("DONE>>")[1].split()[0])
    wait_hook(page, 0, f"el.wbTree.nodes() === {total} && el.wbTree.settled()")
    counts = page.evaluate("() => { window.__stop = true; return window.__counts; }")
    grown = sorted(set(counts))
    assert grown[0] == 1 and grown[-1] == total and len(grown) >= 4, grown  # nodes arrived while it ran
    assert counts == sorted(counts)  # and never went away
    expect(tree.locator(".wb-tv-summary")).to_contain_text(f"{total} nodes")
    screenshot(tree, "tree-search-grown.png")

    # click an expanded node off the best path and prune it
    ids = hook(page, 0, "ids()")
    nodes = {i: hook(page, 0, f"node({i})") for i in ids}
    on_best = set(hook(page, 0, "meta()")["best"])
    target = next(
        i for i in ids
        if nodes[i]["status"] == "expanded" and nodes[i]["depth"] == 1 and i not in on_best
        and any(nodes[j]["parent"] == i for j in ids)
    )  # fmt: skip
    click_node(page, 0, target)
    card = tree.locator(".wb-tv-card")
    expect(card.locator(".wb-tv-card-title")).to_contain_text(f"Node {target}")
    expect(card).to_contain_text("Obs. diff")
    screenshot(tree, "tree-search-selected.png")
    card.get_by_role("button", name="Prune").click()
    expect(tree.locator(".wb-tv-notice")).to_contain_text(f"Pruned node {target}")
    wait_hook(page, 0, f"el.wbTree.node({target}).status === 'pruned'")
    expect(card.get_by_role("button", name="Prune")).to_be_disabled()
    said = run_cell(page, 3).locator(".jp-OutputArea-output")
    expect(said).to_contain_text(f"NODE>> {target} pruned")
    screenshot(tree, "tree-search-pruned.png")

    # the keyboard: Home (root), ArrowDown (first child), ArrowRight (siblings), Enter selects
    stage = tree.locator(".wb-tv-stage")
    stage.focus()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowDown")
    first = hook(page, 0, "focus()")
    assert nodes[first]["parent"] == 0
    while nodes[hook(page, 0, "focus()")]["status"] != "expanded" or hook(page, 0, "focus()") == target:
        before = hook(page, 0, "focus()")
        page.keyboard.press("ArrowRight")
        assert hook(page, 0, "focus()") != before, "ran out of siblings"
    chosen = hook(page, 0, "focus()")
    expect(tree.locator(".wb-tv-live")).to_contain_text(f"Node {chosen}, depth 1")
    page.keyboard.press("Enter")
    expect(card.locator(".wb-tv-card-title")).to_contain_text(f"Node {chosen}")
    card.get_by_role("spinbutton", name="New value").fill("0.875")
    card.get_by_role("button", name="Set value").click()
    expect(tree.locator(".wb-tv-notice")).to_contain_text(f"Value of node {chosen} set to 0.875")
    card.get_by_role("button", name="Pin").click()
    expect(card.locator(".wb-tv-chip-pinned")).to_be_visible()
    card.get_by_role("button", name="Resume from here").click()
    expect(card.locator(".wb-tv-chip-cursor")).to_be_visible()
    said = run_cell(page, 3).locator(".jp-OutputArea-output")
    expect(said).to_contain_text(f"NODE>> {chosen} expanded value=0.875 by=user pinned=True cursor={chosen}")
    card.get_by_role("button", name=re.compile(r"Show \d+ calls?")).click()
    expect(card.locator(".wb-tv-call").first).to_be_attached()
    screenshot(tree, "tree-search-steered.png")
    assert not page.errors, page.errors


def test_linear_run_with_rewind_branches_and_a_5000_node_tree(page: Any, lab: Any) -> None:
    write_notebook(lab.root / "tree_big.ipynb", LINEAR_AND_BIG)
    open_notebook(page, lab, "tree_big.ipynb")
    run_cell(page, 0)
    trees = page.locator(TREE)
    expect(trees).to_have_count(1)
    wait_hook(page, 0, "el.wbTree.nodes() === 12 && el.wbTree.settled()")
    ids = hook(page, 0, "ids()")
    parents = [hook(page, 0, f"node({i})")["parent"] for i in ids]
    assert len(ids) == 12 and sum(1 for p in parents if parents.count(p) > 1) >= 4  # two branch points
    screenshot(trees.first, "tree-linear-rewinds.png")

    run_cell(page, 1)
    expect(trees).to_have_count(2)
    wait_hook(page, 1, "el.wbTree.nodes() === 5000 && el.wbTree.settled()", timeout=60_000)
    visible = hook(page, 1, "visible()")
    folded = {int(k): v for k, v in hook(page, 1, "folded()").items()}
    assert visible <= 1500 + 60 and visible + sum(folded.values()) == 5000
    big = trees.nth(1)
    expect(big.locator(".wb-tv-summary")).to_contain_text("5,000 nodes")
    screenshot(big, "tree-5000-folded.png")
    stage = big.locator(".wb-tv-stage")
    stage.scroll_into_view_if_needed()
    wait_hook(page, 1, "el.wbTree.settled()")
    box = stage.bounding_box()

    def inside(pos: Any) -> bool:
        return (
            pos is not None
            and box["x"] + 10 < pos["x"] < box["x"] + box["width"] - 10
            and (box["y"] + 10 < pos["y"] < box["y"] + box["height"] - 10)
        )

    badge = next(i for i in sorted(folded) if inside(hook(page, 1, f"badgePos({i})")))
    pos = hook(page, 1, f"badgePos({badge})")
    page.mouse.click(pos["x"], pos["y"])
    wait_hook(page, 1, f"!({badge} in el.wbTree.folded()) && el.wbTree.settled()")
    assert hook(page, 1, "visible()") > visible
    stats = hook(page, 1, "stats()")
    print(f"5000-node view: layout {stats['layoutMs']:.1f} ms, draw {stats['drawMs']:.1f} ms")
    screenshot(big, "tree-5000-unfolded.png")
    big.get_by_role("button", name="Fit the whole tree in view (and keep it fitted as it grows)").click()
    wait_hook(page, 1, "el.wbTree.settled()")
    screenshot(big, "tree-5000-fit-all.png")
    assert not page.errors, page.errors


SAFETY = [
    """\
from workbench.core.session import Session
from workbench.oversight.emulator import EmulatedToolEnv, aevaluate_safety
from workbench.widgets.tree_view import TreeView

# SIMULATED (offline demo model): a careless agent, the adversarial bank emulator, the evaluator
s = Session(env=EmulatedToolEnv("bank", adversarial=True), tool_calling="text", gates=None, store=None)
s.run(max_steps=6)
tv = TreeView(s)
tv""",
    """\
import json
scores = {n.id: (await aevaluate_safety(s, node=n)).score for n in s.path()[1:]}
print("SCORES>>", json.dumps(scores))""",
]


def _close(rgb: list[int], hex_color: str, tolerance: int = 24) -> bool:
    want = [int(hex_color[i : i + 2], 16) for i in (1, 3, 5)]
    return all(abs(a - b) <= tolerance for a, b in zip(rgb[:3], want, strict=True))


def test_safety_scores_colour_the_nodes_with_a_legend_in_light_and_dark(page: Any, lab: Any) -> None:
    import json

    from workbench.viz.tree_figure import NO_VALUE, SAFETY_COLOR

    write_notebook(lab.root / "tree_safety.ipynb", SAFETY)
    open_notebook(page, lab, "tree_safety.ipynb")
    run_cell(page, 0)
    tree = page.locator(TREE)
    expect(tree).to_have_count(1)
    wait_hook(page, 0, "el.wbTree.nodes() >= 4 && el.wbTree.settled()")
    legend = tree.locator(".wb-tv-safety-keys")
    expect(legend).to_be_hidden()  # nothing scored yet: the tree looks as it always did
    ids = hook(page, 0, "ids()")
    assert all(hook(page, 0, f"node({i})")["safety"] is None for i in ids)

    out = run_cell(page, 1).locator(".jp-OutputArea-output")
    expect(out).to_contain_text("SCORES>>")
    scores = {int(k): v for k, v in json.loads(out.inner_text().split("SCORES>>")[1]).items()}
    assert set(scores.values()) == {0, 3}, scores
    condition = " && ".join(f"el.wbTree.node({i}).safety === {v}" for i, v in scores.items())
    wait_hook(page, 0, f"{condition} && el.wbTree.settled()")
    expect(legend).to_be_visible()
    expect(legend).to_contain_text("3 certain no risk")
    expect(legend).to_contain_text("0 likely severe risk")

    def colours_shown() -> None:
        r = hook(page, 0, "radius()")
        assert r >= 5.5, r  # big enough for the digit and a clean sample beside it
        dx, dy = -0.55 * r, 0.55 * r  # inside the node, clear of the digit and the outline
        for node_id, score in scores.items():
            rgb = hook(page, 0, f"pixel({node_id}, {dx}, {dy})")
            assert _close(rgb, SAFETY_COLOR[score]), (node_id, score, rgb)
        root = hook(page, 0, f"pixel(0, {dx}, {dy})")  # unscored, no value: the usual grey
        assert _close(root, NO_VALUE), root

    colours_shown()
    risky = next(i for i, v in scores.items() if v == 0)
    click_node(page, 0, risky)
    card = tree.locator(".wb-tv-card")
    expect(card).to_contain_text(f"Node {risky}")
    expect(card.locator(".wb-tv-safety")).to_contain_text("0/3 · Likely Severe Risk")
    screenshot(tree, "tree-safety-light.png")

    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
    expect(page.locator("#jupyterlab-splash")).to_have_count(0)
    wait_hook(page, 0, "el.wbTree.settled()")
    colours_shown()
    screenshot(tree, "tree-safety-dark.png")
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})"
    )
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "true")
    assert not page.errors, page.errors
