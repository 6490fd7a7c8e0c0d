"""A sweep's results: a list of row dicts (no pandas), summaries by any coordinates, an HTML table.

res = sweep.results                     # SweepResults: a list of rows in cell order
res.summary(by=("strategy", "memory"))  # solve rate with a 95% Wilson interval, calls, steps, tokens
res                                     # shown in a notebook as an HTML table (the summary)
"""

from __future__ import annotations

import html
import math
from typing import Any

COLUMNS = (
    "task",
    "strategy",
    "memory",
    "model",
    "seed",
    "budget",
    "outcome",
    "steps",
    "calls",
    "tokens",
    "cost",
)


def wilson(solved: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a solve rate (sound for small n and rates near 0 or 1)."""
    if n == 0:
        return (0.0, 0.0)
    p = solved / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def solve_rate(solved: int, n: int) -> dict[str, Any]:
    """n, solved, the solve rate and its 95% Wilson interval (ci_low, ci_high)."""
    low, high = wilson(solved, n)
    return {"n": n, "solved": solved, "rate": solved / n if n else 0.0, "ci_low": low, "ci_high": high}


def summarise(
    rows: list[dict[str, Any]], by: tuple[str, ...] = ("strategy", "memory")
) -> list[dict[str, Any]]:
    """One dict per group of `by`: n, solved, rate, ci_low, ci_high, errors, mean calls, steps,
    tokens and cost per cell, and tokens per solved task (None when nothing was solved)."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(k) for k in by), []).append(row)
    out = []
    for values, members in groups.items():
        n = len(members)
        solved = sum(1 for r in members if r.get("solved"))
        tokens = sum(r.get("tokens", 0) for r in members)
        out.append(
            {
                **dict(zip(by, values, strict=True)),
                **solve_rate(solved, n),
                "errors": sum(1 for r in members if r.get("outcome") == "error"),
                "calls_mean": sum(r.get("calls", 0) for r in members) / n,
                "steps_mean": sum(r.get("steps", 0) for r in members) / n,
                "tokens_mean": tokens / n,
                "cost": sum(r.get("cost", 0.0) for r in members),
                "tokens_per_solved": tokens / solved if solved else None,
            }
        )
    return out


GROUPS = ("strategy", "memory", "model", "budget")


def default_by(rows: list[dict[str, Any]]) -> tuple[str, ...]:
    """The configuration coordinates that vary across `rows` (the strategy at least)."""
    varying = tuple(k for k in GROUPS if len({str(r.get(k)) for r in rows}) > 1)
    return varying or ("strategy",)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return html.escape("" if value is None else str(value))


def html_table(rows: list[dict[str, Any]], columns: tuple[str, ...], caption: str = "") -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="wb-sweep-{html.escape(c)}">{_cell(r.get(c))}</td>' for c in columns)
        + "</tr>"
        for r in rows
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f'<table class="wb-sweep-table">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


class SweepResults(list):
    """The rows of a sweep (plain dicts, cell order), with `summary()` and an HTML rendering."""

    def __init__(self, rows: list[dict[str, Any]] = (), sweep_id: str = "") -> None:  # type: ignore[assignment]
        super().__init__(rows)
        self.sweep_id = sweep_id

    def summary(self, by: tuple[str, ...] | str | None = None) -> list[dict[str, Any]]:
        """Solve rates and means per configuration; `by` defaults to the coordinates that vary
        among strategy, memory, model and budget."""
        if by is None:
            by = default_by(list(self))
        return summarise(list(self), (by,) if isinstance(by, str) else tuple(by))

    def to_html(self, rows: bool = False) -> str:
        """The summary by the coordinates that vary (and, with `rows=True`, every row)."""
        if not self:
            return f"<p>sweep {html.escape(self.sweep_id)}: no results yet</p>"
        by = default_by(list(self))
        summary = [
            {**s, "rate": f"{s['rate']:.0%} [{s['ci_low']:.0%}, {s['ci_high']:.0%}]"}
            for s in self.summary(by)
        ]
        cols = (*by, "n", "solved", "rate", "calls_mean", "steps_mean", "tokens_per_solved", "errors")
        caption = f"sweep {self.sweep_id}: {len(self)} cells (solve rate with a 95% Wilson interval)"
        out = html_table(summary, cols, caption)
        if rows:
            out += html_table(list(self), (*COLUMNS, "run_id", "error"), "cells")
        return out

    def _repr_html_(self) -> str:
        return self.to_html()
