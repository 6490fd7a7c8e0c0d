"""Charts over a sweep's result rows: solve rates with confidence intervals, tokens per solved task,
solve rate against a model-call budget.

    from workbench.eval.charts import solve_rate_figure, tokens_per_solved_figure, budget_figure
    solve_rate_figure(rows)                  # solve rate by strategy, 95 % Wilson intervals
    solve_rate_figure(rows, color="memory")  # one bar per (strategy, memory)
    tokens_per_solved_figure(rows)           # all tokens spent / tasks solved, by strategy
    budget_figure(rows)                      # solve rate vs model calls, one line per strategy

Pure functions of the rows (plain dicts, one per cell, as `Sweep.run()` returns them): no sweep, no
store, no widget. The numbers come from `results.summarise` (solve rate, Wilson interval, tokens per
solved task) and `budget_table`; an errored cell counts as attempted and not solved (filter the rows
first to leave errors out). plotly is imported only when a figure is made.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import ConfigError
from .results import solve_rate, summarise

BAR_COLOR = "#4a78b8"
PALETTE = ("#4a78b8", "#c0632b", "#5a9e5a", "#8e5ab0", "#b8a03a", "#3aa6b8", "#b84a6e", "#777777")
BUDGETS = {"calls": "max_calls", "tokens": "max_tokens"}  # what a run used -> the budget that caps it


def _names(by: str | Sequence[str]) -> tuple[str, ...]:
    names = (by,) if isinstance(by, str) else tuple(by)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ConfigError(f"by must be a row key (e.g. 'strategy') or a list of them, not {by!r}")
    return names


def _listed(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if isinstance(r, dict)]


def _solved(row: dict[str, Any]) -> bool:
    return bool(row.get("solved", row.get("outcome") == "success"))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def budget_of(row: dict[str, Any], key: str) -> float | None:
    """The cell's own budget `key` (e.g. "max_calls") from its row's budget label
    ("max_calls=40,max_tokens=20000") or dict; None when the cell had none."""
    budget = row.get("budget")
    if isinstance(budget, dict):
        return _number(budget.get(key))
    for part in str(budget or "").split(","):
        name, sep, value = part.partition("=")
        if sep and name.strip() == key:
            try:
                return float(value)
            except ValueError:
                return None
    return None


def budget_table(
    rows: Iterable[dict[str, Any]],
    by: str | Sequence[str] = "strategy",
    *,
    budget: str = "calls",
    budgets: Sequence[float] | None = None,
) -> list[dict[str, Any]]:
    """Solve rate per group at each budget, with Wilson intervals. `budget` is "calls" (model calls)
    or "tokens".

    When the sweep had a budget axis (cells with two or more values of max_calls, or max_tokens),
    each point is the cells run at that budget (`"source": "swept"`). Otherwise the points are read
    from the runs themselves (`"source": "used"`): a run that solved the task within b calls counts
    as solved at every budget >= b, one that did not counts at none: exact for strategies that do
    not plan their budget ahead (ReAct, best-first stop where they stop), an approximation for those
    that do. `budgets` picks the points (default: every value seen)."""
    if budget not in BUDGETS:
        raise ConfigError(f"budget must be one of {', '.join(map(repr, BUDGETS))}, not {budget!r}")
    names = _names(by)
    listed = _listed(rows)
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in listed:  # first-seen order: the sweep's own order of strategies, memories, ...
        groups.setdefault(tuple(row.get(n) for n in names), []).append(row)
    swept = sorted({b for r in listed if (b := budget_of(r, BUDGETS[budget])) is not None})
    table = []
    if len(swept) > 1:
        points = sorted(float(b) for b in budgets) if budgets is not None else swept
        for key, members in groups.items():
            for b in points:
                at = [r for r in members if budget_of(r, BUDGETS[budget]) == b]
                if at:
                    table.append(_point(names, key, b, sum(map(_solved, at)), len(at), "swept"))
        return table
    used = sorted({u for r in listed if _solved(r) and (u := _number(r.get(budget))) is not None})
    points = sorted(float(b) for b in budgets) if budgets is not None else used
    for key, members in groups.items():
        spent = [_number(r.get(budget)) for r in members if _solved(r)]
        for b in points:
            solved = sum(1 for u in spent if u is not None and u <= b)
            table.append(_point(names, key, b, solved, len(members), "used"))
    return table


def _point(
    names: tuple[str, ...], key: tuple[Any, ...], b: float, solved: int, n: int, source: str
) -> dict[str, Any]:
    return {**dict(zip(names, key, strict=True)), "budget": b, **solve_rate(solved, n), "source": source}


def _label(row: dict[str, Any], names: tuple[str, ...]) -> str:
    return " / ".join(str(row[n]) for n in names)


def solve_rate_figure(
    rows: Iterable[dict[str, Any]],
    by: str | Sequence[str] = "strategy",
    *,
    color: str | None = None,
    title: str | None = None,
) -> Any:
    """Bars of the solve rate per group with 95 % Wilson intervals as error bars; `color` splits
    each group into side-by-side bars (e.g. by="strategy", color="memory")."""
    import plotly.graph_objects as go

    names = _names(by)
    if color is not None:
        _names(color)
    groups = names + ((color,) if color and color not in names else ())
    table = summarise(_listed(rows), groups)
    traces: dict[str, list[dict[str, Any]]] = {}
    for row in table:
        traces.setdefault(str(row[color]) if color else "", []).append(row)
    fig = go.Figure()
    for i, (name, part) in enumerate(traces.items()):
        fig.add_trace(
            go.Bar(
                name=name or "solve rate",
                x=[_label(r, names) for r in part],
                y=[r["rate"] for r in part],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [r["ci_high"] - r["rate"] for r in part],
                    "arrayminus": [r["rate"] - r["ci_low"] for r in part],
                },
                customdata=[[r["solved"], r["n"], r["ci_low"], r["ci_high"]] for r in part],
                hovertemplate="%{x}: %{customdata[0]}/%{customdata[1]} solved"
                "<br>95 % interval %{customdata[2]:.2f}-%{customdata[3]:.2f}<extra>%{fullData.name}</extra>",
                marker_color=PALETTE[i % len(PALETTE)] if color else BAR_COLOR,
            )
        )
    fig.update_layout(
        title=title or f"Solve rate by {' / '.join(names)} (95 % Wilson intervals)",
        yaxis={"title": "solve rate", "range": [0, 1.05]},
        barmode="group",
        showlegend=bool(color),
        legend_title_text=color or "",
        template="plotly_white",
    )
    return fig


def tokens_per_solved_figure(
    rows: Iterable[dict[str, Any]],
    by: str | Sequence[str] = "strategy",
    *,
    title: str | None = None,
) -> Any:
    """Bars of tokens spent per task solved (the tokens of all the group's runs, solved or not:
    all were paid for, over its solved runs); a group that solved nothing has no bar and says so."""
    import plotly.graph_objects as go

    names = _names(by)
    table = summarise(_listed(rows), names)
    labels = [_label(r, names) + ("" if r["solved"] else " (none solved)") for r in table]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=[r["tokens_per_solved"] for r in table],
            customdata=[[r["solved"], r["n"], round(r["tokens_mean"] * r["n"])] for r in table],
            hovertemplate="%{x}: %{y:,.0f} tokens per solved task"
            "<br>%{customdata[0]}/%{customdata[1]} solved, %{customdata[2]:,} tokens<extra></extra>",
            marker_color=BAR_COLOR,
        )
    )
    fig.update_layout(
        title=title or f"Tokens per solved task by {' / '.join(names)}",
        yaxis={"title": "tokens / solved task"},
        template="plotly_white",
    )
    return fig


def budget_figure(
    rows: Iterable[dict[str, Any]],
    by: str | Sequence[str] = "strategy",
    *,
    budget: str = "calls",
    budgets: Sequence[float] | None = None,
    title: str | None = None,
) -> Any:
    """Solve rate against the budget (model calls, or "tokens"), one line per group with its 95 %
    Wilson interval as a band: strategies compared at equal budgets, not at equal steps. See
    `budget_table` for where the points come from."""
    import plotly.graph_objects as go

    names = _names(by)
    table = budget_table(rows, names, budget=budget, budgets=budgets)
    lines: dict[str, list[dict[str, Any]]] = {}
    for row in table:
        lines.setdefault(_label(row, names), []).append(row)
    unit = "model calls" if budget == "calls" else "tokens"
    fig = go.Figure()
    for i, (name, part) in enumerate(lines.items()):
        colour = PALETTE[i % len(PALETTE)]
        xs = [r["budget"] for r in part]
        fig.add_trace(  # the interval as a closed band: upper edge out, lower edge back
            go.Scatter(
                x=xs + xs[::-1],
                y=[r["ci_high"] for r in part] + [r["ci_low"] for r in part][::-1],
                mode="lines",
                fill="toself",
                fillcolor=_faint(colour),
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                legendgroup=name,
                name=f"{name} interval",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[r["rate"] for r in part],
                mode="lines+markers",
                line={"shape": "hv" if part and part[0]["source"] == "used" else "linear", "color": colour},
                name=name,
                legendgroup=name,
                customdata=[[r["solved"], r["n"]] for r in part],
                hovertemplate=f"{name}: %{{customdata[0]}}/%{{customdata[1]}} solved within %{{x}} {unit}"
                "<extra></extra>",
            )
        )
    swept = bool(table) and table[0]["source"] == "swept"
    fig.update_layout(
        title=title or f"Solve rate vs {unit} {'budget (swept)' if swept else 'used'} (95 % Wilson bands)",
        xaxis={"title": f"budget ({unit})"},
        yaxis={"title": "solve rate", "range": [0, 1.05]},
        template="plotly_white",
    )
    return fig


def _faint(hex_colour: str, alpha: float = 0.18) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
