"""Usage over steps: tokens and cost per step of a run, as rows and as a plotly figure.

    rows = usage_rows(run)          # plain dicts, one per step (node), in the order they were made
    fig = usage_figure(run)         # plotly: stacked prompt/completion tokens, cumulative cost line

Pure functions of a `Run`: no session, no widget. Every node but the root is a step, in creation
order, so abandoned branches and search expansions count too (they were paid for). Pass `nodes`
to chart a subset (e.g. `run.path()[1:]`). plotly is imported only by `usage_figure`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..core.tree import Node, Run

PROMPT_COLOR = "#4a78b8"
COMPLETION_COLOR = "#8fb3e0"
COST_COLOR = "#c0632b"


def usage_rows(run: Run, nodes: Iterable[Node] | None = None) -> list[dict[str, Any]]:
    """One row per step: node id, depth, prompt/completion tokens, cost, latency, running totals."""
    chosen = list(nodes) if nodes is not None else [n for n in run.nodes.values() if n.parent_id is not None]
    rows, tokens, cost = [], 0, 0.0
    for step, node in enumerate(chosen, start=1):
        prompt = sum(c.prompt_tokens for c in node.llm_calls)
        completion = sum(c.completion_tokens for c in node.llm_calls)
        node_cost = sum(c.cost for c in node.llm_calls)
        tokens += prompt + completion
        cost += node_cost
        rows.append(
            {
                "step": step,
                "node_id": node.id,
                "depth": node.depth,
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "tokens": prompt + completion,
                "cost": node_cost,
                "latency": sum(c.latency for c in node.llm_calls),
                "calls": len(node.llm_calls),
                "total_tokens": tokens,
                "total_cost": cost,
                "error": node.status == "error",
            }
        )
    return rows


def usage_series(run: Run, nodes: Iterable[Node] | None = None) -> dict[str, list[Any]]:
    """The rows as columns (what the Workbench's Usage tab draws), and `by_role` (`usage_by_role`)."""
    chosen = list(nodes) if nodes is not None else None
    rows = usage_rows(run, chosen)
    keys = ("step", "node_id", "prompt_tokens", "completion_tokens", "cost", "total_cost", "latency")
    series: dict[str, list[Any]] = {key: [row[key] for row in rows] for key in keys}
    series["by_role"] = usage_by_role(run, chosen)
    return series


def usage_by_role(run: Run, nodes: Iterable[Node] | None = None) -> list[dict[str, Any]]:
    """Calls, tokens and cost per role, in the order the roles first called: a call's `role` (alpha-UMi's
    planner, caller and summarizer; plan-execute's planner, executor, replanner; ...), else its purpose
    (act, value, reflect, ...)."""
    chosen = list(nodes) if nodes is not None else list(run.nodes.values())
    out: dict[str, dict[str, Any]] = {}
    for node in chosen:
        for call in node.llm_calls:
            key = call.role or call.purpose or "act"
            row = out.setdefault(
                key,
                {
                    "role": key,
                    "calls": 0,
                    "prompt_tokens": 0,
                    "completion_tokens": 0,
                    "tokens": 0,
                    "cost": 0.0,
                },
            )
            row["calls"] += 1
            row["prompt_tokens"] += call.prompt_tokens
            row["completion_tokens"] += call.completion_tokens
            row["tokens"] += call.tokens
            row["cost"] += call.cost
    return list(out.values())


def usage_figure(run: Run, nodes: Iterable[Node] | None = None, *, title: str | None = None) -> Any:
    """A plotly figure: prompt and completion tokens per step (stacked bars, left axis) and the
    cumulative cost (line, right axis)."""
    import plotly.graph_objects as go

    series = usage_series(run, nodes)
    steps = series["step"]
    hover = [f"node {n}" for n in series["node_id"]]
    fig = go.Figure()
    for key, color in (("prompt_tokens", PROMPT_COLOR), ("completion_tokens", COMPLETION_COLOR)):
        fig.add_trace(
            go.Bar(x=steps, y=series[key], name=key.replace("_", " "), marker_color=color, hovertext=hover)
        )
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=series["total_cost"],
            name="cost so far ($)",
            mode="lines+markers",
            line={"color": COST_COLOR, "width": 2},
            marker={"size": 4},
            yaxis="y2",
        )
    )
    total_tokens = sum(series["prompt_tokens"]) + sum(series["completion_tokens"])
    total_cost = series["total_cost"][-1] if steps else 0.0
    fig.update_layout(
        title=title
        or f"Tokens and cost per step · {len(steps)} steps · {total_tokens:,} tokens · ${total_cost:.4f}",
        barmode="stack",
        xaxis={"title": "step", "dtick": max(1, len(steps) // 20) if steps else 1},
        yaxis={"title": "tokens", "rangemode": "tozero"},
        yaxis2={
            "title": "cost so far ($)",
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
        },
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 60, "r": 60, "t": 50, "b": 60},
        height=360,
    )
    return fig
