"""The run tree as one inline SVG: the static rendering a saved notebook shows without a kernel.

Same layout, colours and shapes as `tree_figure` and the live `TreeView`, no script and no plotly.js,
so a saved notebook stays small: over `max_nodes` nodes subtrees fold into "+N" badges, node labels
are left out, and each node carries a short `<title>` (its hover text in browsers that show one).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

from .tree_figure import (
    BEST,
    CURSOR,
    EDGE,
    SAFETY_COLOR,
    SAFETY_INK,
    SAFETY_LABEL,
    STATUS_LABEL,
    STATUS_STYLE,
    node_fill,
    safety_score,
    value_range,
    visual_status,
)
from .tree_layout import TreeLayout, layout_run

DX, DY, PAD, R = 22.0, 54.0, 24.0, 6.5  # px per sibling slot, per depth level; margin; node radius


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _star(cx: float, cy: float, r: float) -> str:
    pts = []
    for k in range(10):
        rad = r * 1.25 if k % 2 == 0 else r * 0.55
        a = -math.pi / 2 + k * math.pi / 5
        pts.append(f"{_n(cx + rad * math.cos(a))},{_n(cy + rad * math.sin(a))}")
    return " ".join(pts)


def node_shape(status: str, cx: float, cy: float, fill: str) -> str:
    """The SVG elements of one node (the shape that stands for its status)."""
    st = STATUS_STYLE[status]
    line, width = st["line"], st["width"]
    x, y, r = _n(cx), _n(cy), R
    if status == "frontier":
        return (
            f'<circle cx="{x}" cy="{y}" r="{_n(r)}" fill="none" stroke="{line}" stroke-width="{width}"/>'
            f'<circle cx="{x}" cy="{y}" r="1.8" fill="{line}"/>'
        )
    if status == "terminal":
        return (
            f'<rect x="{_n(cx - r)}" y="{_n(cy - r)}" width="{_n(2 * r)}" height="{_n(2 * r)}" '
            f'fill="{fill}" stroke="{line}" stroke-width="{width}"/>'
        )
    if status == "solved":
        return f'<polygon points="{_star(cx, cy, r)}" fill="{fill}" stroke="{line}" stroke-width="{width}"/>'
    if status == "pruned":
        d = r * 0.7
        return (
            f'<g opacity="{st["opacity"]}"><circle cx="{x}" cy="{y}" r="{_n(r)}" fill="none" stroke="{line}" '
            f'stroke-width="{width}"/><path d="M{_n(cx - d)} {_n(cy - d)}L{_n(cx + d)} {_n(cy + d)}'
            f'M{_n(cx - d)} {_n(cy + d)}L{_n(cx + d)} {_n(cy - d)}" stroke="{line}" stroke-width="{width}"/></g>'
        )
    if status == "error":
        d = r * 0.85
        return (
            f'<path d="M{_n(cx - d)} {_n(cy - d)}L{_n(cx + d)} {_n(cy + d)}M{_n(cx - d)} {_n(cy + d)}'
            f'L{_n(cx + d)} {_n(cy - d)}" stroke="{line}" stroke-width="3" stroke-linecap="round"/>'
        )
    return f'<circle cx="{x}" cy="{y}" r="{_n(r)}" fill="{fill}" stroke="{line}" stroke-width="{width}"/>'


def _title(node: Any) -> str:
    action = node.action or ("start" if node.parent_id is None else "")
    value = "—" if node.value is None else f"{node.value:.3g}"
    score = safety_score(node)
    safety = "" if score is None else f" · safety {score}/3 ({SAFETY_LABEL[score]})"
    return html.escape(
        f"node {node.id} · {node.status} · {action[:60]} · value {value} · visits {node.visits}{safety}"
    )


def tree_svg(
    run: Any,
    *,
    best_path: Sequence[Any] | None = None,
    cursor: int | None = None,
    max_nodes: int = 300,
    lay: TreeLayout | None = None,
) -> str:
    """One `<svg>` element of `run`'s tree (best path orange, cursor ringed purple)."""
    best = [p if isinstance(p, int) else p.id for p in best_path or ()]
    cursor = run.cursor if cursor is None else cursor
    if lay is None:
        lay = layout_run(run, max_nodes=max_nodes, keep={cursor, *best[-1:]})
    nodes = run.nodes
    lo, hi = value_range(n.value for n in nodes.values())

    def px(i: int) -> tuple[float, float]:
        return PAD + lay.x[i] * DX, PAD + lay.y[i] * DY

    width = 2 * PAD + lay.width * DX
    height = 2 * PAD + lay.depth * DY + 14
    edges = []
    for child, parent in lay.parents.items():
        if parent is not None:
            (x0, y0), (x1, y1) = px(parent), px(child)
            edges.append(f"M{_n(x0)} {_n(y0)}L{_n(x1)} {_n(y1)}")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="wb-tree-static" width="{_n(width)}" '
        f'height="{_n(height)}" viewBox="0 0 {_n(width)} {_n(height)}" role="img" '
        f'aria-label="Run tree: {len(nodes)} nodes">',
        f'<path d="{"".join(edges)}" stroke="{EDGE}" stroke-width="1" fill="none"/>',
    ]
    shown_best = [i for i in best if i in lay.x]
    if len(shown_best) > 1:
        d = "".join(
            f"{'M' if k == 0 else 'L'}{_n(px(i)[0])} {_n(px(i)[1])}" for k, i in enumerate(shown_best)
        )
        parts.append(f'<path d="{d}" stroke="{BEST}" stroke-width="4" fill="none" stroke-linejoin="round"/>')
    for i in shown_best:
        x, y = px(i)
        parts.append(
            f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(R + 3.5)}" fill="none" stroke="{BEST}" stroke-width="2.5"/>'
        )
    if cursor in lay.x:
        x, y = px(cursor)
        parts.append(
            f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(R + 7)}" fill="none" stroke="{CURSOR}" stroke-width="3.5"/>'
        )
    for i in lay.order:
        node = nodes[i]
        x, y = px(i)
        status, score = visual_status(node), safety_score(node)
        shape = node_shape(status, x, y, node_fill(node, lo, hi))
        if score is not None and status not in ("frontier", "pruned", "error"):  # filled shapes
            shape += (
                f'<text x="{_n(x)}" y="{_n(y + 3.2)}" text-anchor="middle" font-size="9" font-weight="bold" '
                f'font-family="sans-serif" fill="{SAFETY_INK[score]}">{score}</text>'
            )
        scored = f' data-safety="{score}"' if score is not None else ""
        parts.append(f"<g{scored}><title>{_title(node)}</title>{shape}</g>")
        if node.info.get("pinned"):
            parts.append(
                f'<polygon points="{_n(x - 4)},{_n(y - R - 9)} {_n(x + 4)},{_n(y - R - 9)} {_n(x)},{_n(y - R - 3)}" '
                'fill="#3c3c3c"/>'
            )
        if i in lay.collapsed:
            parts.append(
                f'<text x="{_n(x)}" y="{_n(y + R + 13)}" text-anchor="middle" font-size="11" '
                f'fill="#555">+{lay.collapsed[i]}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


LEGEND = (
    "● expanded · ◎ frontier (not executed) · ■ terminal · ★ solved · ⊗ pruned · ✕ error · ▼ pinned · "
    "fill = value (light low, dark high, grey none) · orange = best path · purple ring = cursor · "
    "+N = folded nodes"
)


def legend_text() -> str:
    return LEGEND


def safety_legend_html() -> str:
    """The safety colours as small swatches (the static fallback's legend)."""
    return " ".join(
        f'<span style="white-space:nowrap"><span style="display:inline-block;width:10px;height:10px;'
        f'border-radius:50%;background:{SAFETY_COLOR[k]};border:1px solid #3c3c3c;vertical-align:-1px"></span> '
        f"{k} {html.escape(SAFETY_LABEL[k])}</span>"
        for k in sorted(SAFETY_COLOR, reverse=True)
    )


def status_counts(run: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in run.nodes.values():
        key = visual_status(node)
        counts[key] = counts.get(key, 0) + 1
    return {STATUS_LABEL[k]: v for k, v in sorted(counts.items())}
