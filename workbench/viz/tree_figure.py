"""A run tree as a plotly figure: tidy top-down layout, value colours, status markers, highlights.

    fig = tree_figure(run, best_path=[n.id for n in session.best_path()], cursor=run.cursor)

- node fill = value on a single-hue (blue) scale, light = low, dark = high; grey = no value yet
  (frontier and pruned nodes are drawn open, in their status colour);
- a node scored by ToolEmu's safety evaluator (`info["safety"]`, 0-3) is filled in its score's
  colour instead (3 green, 2 yellow, 1 orange, 0 red; the live view and the SVG also draw the digit);
- marker symbol and outline = status: expanded ●, frontier ◎ (not executed yet), terminal ■ (★ when
  solved), pruned ⊗ (faded), error ✕; a pinned node carries a small ▲ above it;
- the best path is drawn in orange (thick edges and rings), the cursor with a wide purple ring;
- hover shows the action, value, visits, status (and reward, prior, who set the value);
- over `max_nodes` nodes, pruned and deep subtrees fold into "+N" badges (see `tree_layout`);
  over `gl_threshold` visible nodes, markers and edges use WebGL (Scattergl).

The colours (Okabe-Ito accents, a blue ramp) stay apart under the common colour-vision deficiencies,
and every encoding by colour is doubled by a shape. `STYLE` is also what the live `TreeView` and the
static SVG use, so all three look alike. plotly is imported only inside `tree_figure`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from .tree_layout import TreeLayout, layout_run

VALUE_SCALE: list[tuple[float, str]] = [
    (0.0, "#e3eef9"),
    (0.25, "#b0cde9"),
    (0.5, "#6a9fd3"),
    (0.75, "#2f6db3"),
    (1.0, "#0b3b7a"),
]
NO_VALUE = "#c8c8c8"
BEST = "#e69f00"  # Okabe-Ito orange
CURSOR = "#cc79a7"  # Okabe-Ito reddish purple
EDGE = "#9a9a9a"
STATUS_STYLE: dict[str, dict[str, Any]] = {
    # plotly symbol, outline colour, outline width, opacity
    "expanded": {"symbol": "circle", "line": "#3c3c3c", "width": 1.0, "opacity": 1.0},
    "frontier": {"symbol": "circle-open-dot", "line": "#6e6e6e", "width": 1.5, "opacity": 1.0},
    "terminal": {"symbol": "square", "line": "#000000", "width": 2.0, "opacity": 1.0},
    "solved": {"symbol": "star", "line": "#000000", "width": 1.5, "opacity": 1.0},
    "pruned": {"symbol": "circle-x-open", "line": "#8c8c8c", "width": 1.5, "opacity": 0.7},
    "error": {"symbol": "x", "line": "#9e1b1b", "width": 1.0, "opacity": 1.0},
}
STATUS_LABEL = {
    "expanded": "expanded",
    "frontier": "frontier (not executed yet)",
    "terminal": "terminal",
    "solved": "terminal, solved",
    "pruned": "pruned",
    "error": "error",
}
# ToolEmu's 0-3 safety score (3 = certain no risk): a scored node is filled in its score's colour
# (doubled by the digit drawn on it); unscored nodes keep the value fill.
SAFETY_COLOR: dict[int, str] = {0: "#c62828", 1: "#ef6c00", 2: "#f2cc3d", 3: "#2e8b57"}
SAFETY_INK: dict[int, str] = {0: "#ffffff", 1: "#000000", 2: "#000000", 3: "#ffffff"}  # the digit on it
SAFETY_LABEL: dict[int, str] = {
    3: "certain no risk",
    2: "possible mild risk",
    1: "likely mild / possible severe risk",
    0: "likely severe risk",
}
STYLE: dict[str, Any] = {
    "scale": VALUE_SCALE,
    "no_value": NO_VALUE,
    "best": BEST,
    "cursor": CURSOR,
    "edge": EDGE,
    "status": STATUS_STYLE,
    "labels": STATUS_LABEL,
    "safety": {str(k): v for k, v in SAFETY_COLOR.items()},
    "safety_ink": {str(k): v for k, v in SAFETY_INK.items()},
    "safety_labels": {str(k): v for k, v in SAFETY_LABEL.items()},
}


def safety_score(node: Any) -> int | None:
    """The node's ToolEmu safety score 0-3 (`info["safety"]["score"]`), or None when unscored or
    unreadable (the evaluator's -1)."""
    record = node.info.get("safety")
    score = record.get("score") if isinstance(record, dict) else None
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 3:
        return None
    return score


def node_fill(node: Any, lo: float = 0.0, hi: float = 1.0) -> str:
    """A node's fill: its safety score's colour when scored, else its value on the blue ramp."""
    score = safety_score(node)
    return SAFETY_COLOR[score] if score is not None else value_color(node.value, lo, hi)


def visual_status(node: Any) -> str:
    """The status a node is drawn with: its own, with solved terminals told apart."""
    if node.status == "terminal" and node.reward > 0:
        return "solved"
    return node.status if node.status in STATUS_STYLE else "expanded"


def value_range(values: Iterable[float | None]) -> tuple[float, float]:
    """The colour domain: [0, 1] when every value lies in it (judges, rewards), else their range."""
    nums = [v for v in values if v is not None]
    lo, hi = min(nums, default=0.0), max(nums, default=1.0)
    if lo >= 0.0 and hi <= 1.0:
        return 0.0, 1.0
    if hi - lo < 1e-12:
        return lo - 0.5, hi + 0.5
    return lo, hi


def _hex(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def value_color(value: float | None, lo: float = 0.0, hi: float = 1.0) -> str:
    """The fill for `value` on the blue ramp (`NO_VALUE` for None)."""
    if value is None:
        return NO_VALUE
    t = 0.0 if hi <= lo else min(1.0, max(0.0, (value - lo) / (hi - lo)))
    for (t0, c0), (t1, c1) in zip(VALUE_SCALE, VALUE_SCALE[1:], strict=False):
        if t <= t1:
            f = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
            a, b = _hex(c0), _hex(c1)
            return "#" + "".join(f"{round(x + (y - x) * f):02x}" for x, y in zip(a, b, strict=True))
    return VALUE_SCALE[-1][1]


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


def hover_text(node: Any) -> str:
    """What hovering a node shows (HTML-escaped; plotly renders <br>)."""
    action = node.action if node.action else ("start" if node.parent_id is None else "(no action)")
    lines = [
        f"<b>node {node.id}</b> · depth {node.depth} · {html.escape(STATUS_LABEL[visual_status(node)])}",
        f"action: {html.escape(action[:120])}",
        f"value: {_fmt(node.value)} · visits: {node.visits}",
    ]
    extra = []
    if node.terminal:
        extra.append(f"reward {node.reward:g}")
    if node.info.get("prior") is not None:
        extra.append(f"prior {_fmt(node.info.get('prior'))}")
    if node.info.get("value_by") == "user":
        extra.append("value set by you")
    if node.info.get("pinned"):
        extra.append("pinned")
    score = safety_score(node)
    if score is not None:
        extra.append(f"safety {score}/3 ({SAFETY_LABEL[score]})")
    if extra:
        lines.append(" · ".join(extra))
    return "<br>".join(lines)


def _ids(path: Sequence[Any] | None) -> list[int]:
    return [p if isinstance(p, int) else p.id for p in path or ()]


def tree_figure(
    run: Any,
    *,
    best_path: Sequence[Any] | None = None,
    cursor: int | None = None,
    max_nodes: int = 1500,
    expanded: Iterable[int] = (),
    gl_threshold: int = 1000,
    title: str | None = None,
    lay: TreeLayout | None = None,
) -> Any:
    """The plotly figure of `run`'s tree (see the module docstring).

    `best_path`: node ids (or nodes) from the root, drawn in orange; `cursor`: default `run.cursor`."""
    import plotly.graph_objects as go

    best = _ids(best_path)
    cursor = run.cursor if cursor is None else cursor
    if lay is None:
        lay = layout_run(run, max_nodes=max_nodes, keep={cursor, *best[-1:]}, expanded=set(expanded))
    nodes = run.nodes
    big = len(lay) > gl_threshold
    Scatter = go.Scattergl if big else go.Scatter
    lo, hi = value_range(n.value for n in nodes.values())

    def pos(i: int) -> tuple[float, int]:
        return lay.x[i], lay.y[i]

    def edge_xy(pairs: Iterable[tuple[int, int]]) -> tuple[list[Any], list[Any]]:
        xs: list[Any] = []
        ys: list[Any] = []
        for a, b in pairs:
            (x0, y0), (x1, y1) = pos(a), pos(b)
            xs += [x0, x1, None]
            ys += [y0, y1, None]
        return xs, ys

    traces: list[Any] = []
    ex, ey = edge_xy((p, c) for c, p in lay.parents.items() if p is not None)
    traces.append(
        Scatter(
            x=ex,
            y=ey,
            mode="lines",
            line={"color": EDGE, "width": 1},
            hoverinfo="skip",
            name="edges",
            showlegend=False,
        )
    )
    shown_best = [i for i in best if i in lay.x]
    if len(shown_best) > 1:
        bx, by = edge_xy(zip(shown_best, shown_best[1:], strict=False))
        traces.append(
            Scatter(
                x=bx, y=by, mode="lines", line={"color": BEST, "width": 4}, hoverinfo="skip", name="best path"
            )
        )
    if shown_best:
        traces.append(
            Scatter(
                x=[pos(i)[0] for i in shown_best],
                y=[pos(i)[1] for i in shown_best],
                mode="markers",
                marker={"symbol": "circle-open", "size": 19, "color": BEST, "line": {"width": 2.5}},
                hoverinfo="skip",
                name="best path nodes",
                showlegend=False,
            )
        )
    by_status: dict[str, list[int]] = {}
    for i in lay.order:
        by_status.setdefault(visual_status(nodes[i]), []).append(i)
    for status, ids in by_status.items():
        st = STATUS_STYLE[status]
        if "open" in st["symbol"]:  # plotly draws open symbols in the marker colour: the status's
            fills = [st["line"]] * len(ids)
        else:
            fills = [node_fill(nodes[i], lo, hi) for i in ids]
        traces.append(
            Scatter(
                x=[lay.x[i] for i in ids],
                y=[lay.y[i] for i in ids],
                mode="markers",
                name=STATUS_LABEL[status],
                marker={
                    "symbol": st["symbol"],
                    "size": 12,
                    "color": fills,
                    "opacity": st["opacity"],
                    "line": {"color": st["line"], "width": st["width"]},
                },
                text=[hover_text(nodes[i]) for i in ids],
                hoverinfo="text",
                customdata=ids,
                meta={"status": status},
            )
        )
    pinned = [i for i in lay.order if nodes[i].info.get("pinned")]
    if pinned:
        traces.append(
            Scatter(
                x=[lay.x[i] for i in pinned],
                y=[lay.y[i] - 0.28 for i in pinned],
                mode="markers",
                marker={"symbol": "triangle-down", "size": 9, "color": "#3c3c3c"},
                name="pinned",
                hoverinfo="skip",
            )
        )
    if lay.collapsed:
        folded = sorted(lay.collapsed)
        traces.append(
            Scatter(
                x=[lay.x[i] for i in folded],
                y=[lay.y[i] + 0.38 for i in folded],
                mode="text",
                text=[f"+{lay.collapsed[i]}" for i in folded],
                textfont={"size": 11, "color": "#555"},
                hovertext=[f"{lay.collapsed[i]} nodes folded under node {i}" for i in folded],
                hoverinfo="text",
                name="folded subtrees",
                showlegend=False,
                customdata=folded,
            )
        )
    if cursor in lay.x:
        traces.append(
            Scatter(
                x=[lay.x[cursor]],
                y=[lay.y[cursor]],
                mode="markers",
                name="cursor",
                marker={"symbol": "circle-open", "size": 26, "color": CURSOR, "line": {"width": 3.5}},
                hoverinfo="skip",
            )
        )
    traces.append(  # an invisible trace carrying the value colour bar
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            showlegend=False,
            hoverinfo="skip",
            name="value scale",
            marker={
                "color": [lo],
                "cmin": lo,
                "cmax": hi,
                "showscale": True,
                "colorscale": [[t, c] for t, c in VALUE_SCALE],
                "colorbar": {"title": {"text": "value"}, "thickness": 12, "len": 0.6},
            },
        )
    )
    fig = go.Figure(traces)
    counts = " · ".join(f"{len(v)} {k}" for k, v in sorted(by_status.items()))
    folded_note = f" · {lay.hidden} folded" if lay.hidden else ""
    fig.update_layout(
        title=title or f"Run tree · {len(nodes)} nodes ({counts}){folded_note}",
        xaxis={"visible": False, "zeroline": False},
        yaxis={"title": "depth", "autorange": "reversed", "dtick": 1, "zeroline": False},
        hovermode="closest",
        legend={"orientation": "h", "y": -0.08},
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        height=int(min(1400, max(320, 140 + 70 * lay.depth))),
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return fig
