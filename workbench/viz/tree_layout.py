"""A tidy top-down layout of a run tree, stable while the tree grows, with collapsed subtrees.

    lay = layout_run(run, max_nodes=1500, keep={run.cursor})
    lay.x[node_id], lay.y[node_id]      # horizontal slot (>= 0) and depth
    lay.collapsed                       # {visible node id: hidden descendants} (the count badges)

The layout is a contour-based tidy tree (in the spirit of Reingold and Tilford): each subtree is
laid out on its own, siblings (ordered by id) are pushed right just far enough that their subtrees
keep `gap` apart at every depth they share, and a parent sits centred over its first and last child.

Stability: node ids grow as a run grows, so a new node is always the LAST child of its parent and
the depth-first order of the existing nodes never changes; at every depth the left-to-right order
of the existing nodes is that order, so adding nodes never swaps two of them (they may slide apart
to make room, never jump past each other).

Collapse (`choose_collapsed`): over `max_nodes`, first every pruned subtree folds into its topmost
pruned node, then, if still over, every node at the deepest depth that fits the limit folds its
children, except the best ones (by value) whose children still fit. Nodes on the paths to `keep`
(cursor, best node, selection: their siblings show too, so these can pass the limit a little) and
`expanded` ones never fold automatically; `collapsed` ones always fold (the user's choice wins).
The browser (`workbench/widgets/static/tree_layout.js`) applies the same rules to the same data.

Pure functions of plain data (parent ids and statuses): no plotly, no widgets.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_VIRTUAL_ROOT = -1  # the parent of every root, so a forest lays out like a tree


@dataclass
class TreeLayout:
    """Positions of the visible nodes: `x` in sibling-gap units (leftmost 0), `y` = depth."""

    x: dict[int, float]
    y: dict[int, int]
    order: list[int]  # visible node ids, depth-first, siblings by id
    collapsed: dict[int, int] = field(default_factory=dict)  # folded node id -> hidden descendants
    parents: dict[int, int | None] = field(default_factory=dict)  # of the visible nodes

    def pos(self, node_id: int) -> tuple[float, int]:
        return self.x[node_id], self.y[node_id]

    @property
    def width(self) -> float:
        return max(self.x.values(), default=0.0)

    @property
    def depth(self) -> int:
        return max(self.y.values(), default=0)

    @property
    def hidden(self) -> int:
        return sum(self.collapsed.values())

    def __len__(self) -> int:
        return len(self.order)


def children_map(parents: Mapping[int, int | None]) -> dict[int, list[int]]:
    """parent id -> child ids in id order; roots are the children of -1."""
    kids: dict[int, list[int]] = {}
    for node_id in sorted(parents):
        parent = parents[node_id]
        kids.setdefault(_VIRTUAL_ROOT if parent is None or parent not in parents else parent, []).append(
            node_id
        )
    return kids


def _preorder(kids: Mapping[int, list[int]], start: int = _VIRTUAL_ROOT) -> list[int]:
    out, stack = [], [start]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(kids.get(node, ())))
    return out


def depths(parents: Mapping[int, int | None]) -> dict[int, int]:
    kids = children_map(parents)
    depth = {_VIRTUAL_ROOT: -1}
    for node in _preorder(kids)[1:]:
        parent = parents[node]
        depth[node] = depth[_VIRTUAL_ROOT if parent is None or parent not in parents else parent] + 1
    del depth[_VIRTUAL_ROOT]
    return depth


def subtree_sizes(kids: Mapping[int, list[int]], order: list[int]) -> dict[int, int]:
    """Nodes in each subtree (the node itself included), from a preorder `order`."""
    size: dict[int, int] = {}
    for node in reversed(order):
        size[node] = 1 + sum(size[c] for c in kids.get(node, ()))
    return size


def _ancestors(parents: Mapping[int, int | None], ids: Iterable[int]) -> set[int]:
    """`ids` and all their ancestors."""
    out: set[int] = set()
    for node in ids:
        while node is not None and node in parents and node not in out:
            out.add(node)
            node = parents[node]
    return out


def choose_collapsed(
    parents: Mapping[int, int | None],
    status: Mapping[int, str] | None = None,
    *,
    max_nodes: int | None = None,
    keep: Iterable[int] = (),
    expanded: Collection[int] = (),
    collapsed: Collection[int] = (),
    values: Mapping[int, float | None] | None = None,
) -> set[int]:
    """The nodes to fold (see the module docstring); never a leaf, never an ancestor of `keep`.

    At the cut depth, the budget left over unfolds the best nodes first (by `values`, then id)."""
    kids = children_map(parents)
    status = status or {}
    values = values or {}
    protected = _ancestors(parents, keep)
    chosen = {n for n in collapsed if kids.get(n)}  # the user's choice wins over `keep`
    if max_nodes is None or len(parents) <= max_nodes:
        return chosen
    fold = set(chosen)

    def foldable(node: int) -> bool:
        return bool(kids.get(node)) and node not in protected

    def done() -> set[int]:  # folds are chosen as if nothing were unfolded by hand, so unfolding
        return (fold - set(expanded)) | chosen  # one subtree never folds another

    # 1. pruned subtrees fold into their topmost pruned node
    for node in _preorder(kids)[1:]:
        parent = parents[node]
        if (
            status.get(node) == "pruned"
            and (parent is None or status.get(parent) != "pruned")
            and foldable(node)
        ):
            fold.add(node)
    # 2. then a depth cut: everything deeper than the deepest depth that fits folds
    visible = _visible(kids, fold)
    if len(visible) - 1 <= max_nodes:
        return done()
    depth = {_VIRTUAL_ROOT: -1}
    per_depth: dict[int, int] = {}
    for node in visible[1:]:
        parent = parents[node]
        depth[node] = depth[_VIRTUAL_ROOT if parent is None or parent not in parents else parent] + 1
        per_depth[depth[node]] = per_depth.get(depth[node], 0) + 1
    cut, total = 0, 0
    for d in sorted(per_depth):
        if total + per_depth[d] > max_nodes:
            break
        total += per_depth[d]
        cut = d
    at_cut = []
    for node in visible[1:]:
        if depth[node] >= cut and foldable(node):
            fold.add(node)
            if depth[node] == cut:
                at_cut.append(node)
    # 3. what the limit leaves unfolds the best nodes at the cut, one level more
    left = max_nodes - total
    for node in sorted(at_cut, key=lambda n: (values.get(n) is None, -(values.get(n) or 0.0), n)):
        if len(kids[node]) <= left:
            fold.discard(node)
            left -= len(kids[node])
    return done()


def _visible(kids: Mapping[int, list[int]], fold: Collection[int]) -> list[int]:
    """Preorder from the virtual root, not descending into folded nodes."""
    out, stack = [], [_VIRTUAL_ROOT]
    while stack:
        node = stack.pop()
        out.append(node)
        if node not in fold:
            stack.extend(reversed(kids.get(node, ())))
    return out


class _Contour:
    """The leftmost and rightmost x of a subtree at each depth, deepest first (top level last).

    Actual positions are `entry + shift`, so shifting a whole subtree is O(1)."""

    __slots__ = ("left", "right", "shift")

    def __init__(self) -> None:
        self.left: list[float] = [0.0]
        self.right: list[float] = [0.0]
        self.shift = 0.0


def _separation(a: _Contour, b: _Contour, gap: float) -> float:
    """How far right of `a`'s frame `b` must go to keep `gap` at every shared depth."""
    d = float("-inf")
    for j in range(1, min(len(a.left), len(b.left)) + 1):
        d = max(d, a.right[-j] + a.shift + gap - b.left[-j] - b.shift)
    return d


def _merge(a: _Contour, b: _Contour, d: float) -> _Contour:
    """The contour of `a` with `b` placed `d` to the right (b is the right-hand neighbour)."""
    b.shift += d
    if len(b.left) > len(a.left):  # keep the longer list, copy the shorter one in
        for j in range(1, len(a.left) + 1):
            b.left[-j] = a.left[-j] + a.shift - b.shift
        return b
    for j in range(1, len(b.left) + 1):
        a.right[-j] = b.right[-j] + b.shift - a.shift
    return a


def place(kids: Mapping[int, list[int]], order: list[int], gap: float = 1.0) -> dict[int, float]:
    """x of every node in `order` (a preorder from the virtual root) relative to its parent."""
    rel: dict[int, float] = {}
    contours: dict[int, _Contour] = {}
    for node in reversed(order):
        children = kids.get(node, ())
        if not children:
            contours[node] = _Contour()
            continue
        merged = contours.pop(children[0])
        xs = [0.0]
        for child in children[1:]:
            contour = contours.pop(child)
            d = _separation(merged, contour, gap)
            xs.append(d)
            merged = _merge(merged, contour, d)
        mid = (xs[0] + xs[-1]) / 2
        for child, x in zip(children, xs, strict=True):
            rel[child] = x - mid
        merged.shift -= mid
        merged.left.append(-merged.shift)
        merged.right.append(-merged.shift)
        contours[node] = merged
    return rel


def layout(
    parents: Mapping[int, int | None], *, collapsed: Collection[int] = (), gap: float = 1.0
) -> TreeLayout:
    """Lay out the tree given as {node id: parent id or None}; `collapsed` nodes hide their subtrees."""
    kids = children_map(parents)
    fold = set(collapsed)
    order = _visible(kids, fold)
    shown = {_VIRTUAL_ROOT: kids.get(_VIRTUAL_ROOT, [])}
    for node in order[1:]:
        if node not in fold and node in kids:
            shown[node] = kids[node]
    rel = place(shown, order, gap)
    xs: dict[int, float] = {_VIRTUAL_ROOT: 0.0}
    ys: dict[int, int] = {_VIRTUAL_ROOT: -1}
    vparents: dict[int, int | None] = {}
    for node in order[1:]:
        parent = parents[node]
        key = _VIRTUAL_ROOT if parent is None or parent not in parents else parent
        xs[node] = xs[key] + rel[node]
        ys[node] = ys[key] + 1
        vparents[node] = None if key == _VIRTUAL_ROOT else key
    del xs[_VIRTUAL_ROOT], ys[_VIRTUAL_ROOT]
    low = min(xs.values(), default=0.0)
    xs = {k: round(v - low, 6) for k, v in xs.items()}
    hidden: dict[int, int] = {}
    if fold:
        sizes = subtree_sizes(kids, _preorder(kids))
        hidden = {n: sizes[n] - 1 for n in order[1:] if n in fold and sizes[n] > 1}
    return TreeLayout(x=xs, y=ys, order=order[1:], collapsed=hidden, parents=vparents)


def run_parents(run: Any) -> tuple[dict[int, int | None], dict[int, str]]:
    """{id: parent id} and {id: status} of a `Run`'s nodes."""
    parents = {n.id: n.parent_id for n in run.nodes.values()}
    return parents, {n.id: n.status for n in run.nodes.values()}


def run_values(run: Any) -> dict[int, float | None]:
    """{id: value} rounded as the browser gets them (so both fold the same nodes)."""
    return {n.id: None if n.value is None else round(float(n.value), 4) for n in run.nodes.values()}


def layout_run(
    run: Any,
    *,
    max_nodes: int | None = None,
    keep: Iterable[int] = (),
    expanded: Collection[int] = (),
    collapsed: Collection[int] = (),
    gap: float = 1.0,
) -> TreeLayout:
    """`layout` of a `Run`, folding subtrees over `max_nodes` (see `choose_collapsed`)."""
    parents, status = run_parents(run)
    fold = choose_collapsed(
        parents,
        status,
        max_nodes=max_nodes,
        keep=keep,
        expanded=expanded,
        collapsed=collapsed,
        values=run_values(run),
    )
    return layout(parents, collapsed=fold, gap=gap)
