"""Charts over sweep result rows (workbench.eval.charts): the numbers each figure draws."""

from __future__ import annotations

import pytest

from workbench.errors import ConfigError
from workbench.eval.charts import (
    budget_figure,
    budget_of,
    budget_table,
    solve_rate_figure,
    tokens_per_solved_figure,
)


def row(strategy, memory, outcome, calls, tokens, budget="max_calls=40", error=None):
    return {
        "strategy": strategy,
        "memory": memory,
        "outcome": outcome,
        "solved": outcome == "success",
        "calls": calls,
        "tokens": tokens,
        "budget": budget,
        "error": error,
    }


# react: 4 of 6 solved (in 2, 3, 5 calls under full memory, 2 under diff), one failure, one errored
# cell (attempted, not solved); best-first: 5 of 5 (in 4, 4, 6, 6, 8 calls)
ROWS = [
    row("react", "full", "success", 2, 100),
    row("react", "full", "failure", 10, 500),
    row("react", "full", "success", 3, 150),
    row("react", "full", "error", 1, 40, error="RateLimitError: 429"),
    row("react", "full", "success", 5, 250),
    row("best-first", "full", "success", 4, 300),
    row("best-first", "full", "success", 4, 300),
    row("best-first", "full", "success", 6, 450),
    row("best-first", "full", "success", 6, 450),
    row("best-first", "full", "success", 8, 600),
    row("react", "diff", "success", 2, 80),
]


def test_solve_rate_by_strategy_bars_with_wilson_intervals():
    fig = solve_rate_figure(ROWS)
    (bar,) = fig.data
    assert list(bar.x) == ["react", "best-first"]  # the sweep's order, not sorted
    assert list(bar.y) == pytest.approx([4 / 6, 1.0])
    # Wilson 95 %: 4/6 -> [0.3000, 0.9032]; 5/5 -> [0.5655, 1.0]
    assert list(bar.error_y.arrayminus) == pytest.approx([4 / 6 - 0.3000, 1.0 - 0.5655], abs=1e-4)
    assert list(bar.error_y.array) == pytest.approx([0.9032 - 4 / 6, 0.0], abs=1e-4)
    assert [list(c[:2]) for c in bar.customdata] == [[4, 6], [5, 5]]
    assert "95 % Wilson" in fig.layout.title.text
    # an errored cell was attempted: it counts in n (leave it out by filtering the rows)
    (kept,) = solve_rate_figure([r for r in ROWS if r["outcome"] != "error"]).data
    assert list(kept.y) == pytest.approx([4 / 5, 1.0])


def test_solve_rate_split_by_memory_is_one_trace_per_memory():
    fig = solve_rate_figure(ROWS, color="memory")
    traces = {t.name: t for t in fig.data}
    assert set(traces) == {"full", "diff"}
    assert list(traces["full"].x) == ["react", "best-first"]
    assert list(traces["full"].y) == pytest.approx([3 / 5, 1.0])
    assert list(traces["diff"].x) == ["react"] and list(traces["diff"].y) == [1.0]
    assert fig.layout.barmode == "group" and fig.layout.showlegend


def test_tokens_per_solved_counts_every_run_paid_for():
    fig = tokens_per_solved_figure(ROWS + [row("mcts", "full", "failure", 9, 900)])
    (bar,) = fig.data
    assert list(bar.x) == ["react", "best-first", "mcts (none solved)"]
    # react: 100+500+150+40+250+80 = 1120 tokens over 4 solved; best-first 2100 over 5; mcts nothing
    assert list(bar.y) == [1120 / 4, 2100 / 5, None]
    assert [list(c) for c in bar.customdata] == [[4, 6, 1120], [5, 5, 2100], [0, 1, 900]]


def test_solve_rate_vs_calls_used():
    table = budget_table(ROWS, budgets=[2, 4, 8])
    rates = {(r["strategy"], r["budget"]): (r["solved"], r["n"]) for r in table}
    assert {r["source"] for r in table} == {"used"}  # one budget in the sweep: read from the runs
    assert rates[("react", 2)] == (2, 6)  # solved within 2 calls: one under "full", one under "diff"
    assert rates[("react", 4)] == (3, 6)
    assert rates[("react", 8)] == (4, 6)
    assert rates[("best-first", 2)] == (0, 5)
    assert rates[("best-first", 4)] == (2, 5)
    assert rates[("best-first", 8)] == (5, 5)

    fig = budget_figure(ROWS)
    lines = {t.name: t for t in fig.data if t.mode == "lines+markers"}
    bands = [t for t in fig.data if t.fill == "toself"]
    assert set(lines) == {"react", "best-first"} and len(bands) == 2
    assert list(lines["best-first"].x) == [2, 3, 4, 5, 6, 8]  # every call count some run solved in
    assert list(lines["best-first"].y) == pytest.approx([0, 0, 0.4, 0.4, 0.8, 1.0])
    band = next(t for t in bands if t.legendgroup == "best-first")
    # the band's upper edge: Wilson upper bounds of 0/5, 0/5, 2/5, 2/5, 4/5, 5/5
    assert list(band.y)[:6] == pytest.approx([0.4345, 0.4345, 0.7693, 0.7693, 0.9638, 1.0], abs=1e-4)
    assert fig.layout.xaxis.title.text == "budget (model calls)"


def test_solve_rate_vs_a_swept_call_budget():
    rows = [
        row("react", "full", "failure", 5, 50, budget="max_calls=5"),
        row("react", "full", "success", 4, 40, budget="max_calls=5"),
        row("react", "full", "success", 9, 90, budget="max_calls=10"),
        row("react", "full", "success", 7, 70, budget="max_calls=10"),
        row("mcts", "full", "budget", 5, 60, budget="max_calls=5"),
        row("mcts", "full", "success", 10, 99, budget="max_calls=10"),
    ]
    table = budget_table(rows)
    assert {r["source"] for r in table} == {"swept"}  # each cell counts at its own budget only
    assert [(r["strategy"], r["budget"], r["solved"], r["n"]) for r in table] == [
        ("react", 5.0, 1, 2),
        ("react", 10.0, 2, 2),
        ("mcts", 5.0, 0, 1),
        ("mcts", 10.0, 1, 1),
    ]
    fig = budget_figure(rows)
    assert "swept" in fig.layout.title.text
    assert budget_of({"budget": "max_calls=40,max_tokens=20000"}, "max_tokens") == 20000
    assert budget_of({"budget": {"max_calls": 12}}, "max_calls") == 12
    assert budget_of({"budget": "max_tokens=9"}, "max_calls") is None


def test_budget_in_tokens_and_bad_arguments():
    table = budget_table(ROWS, budget="tokens", budgets=[300])
    assert {(r["strategy"], r["solved"]) for r in table} == {("react", 4), ("best-first", 2)}
    with pytest.raises(ConfigError, match="budget must be one of 'calls', 'tokens'"):
        budget_table(ROWS, budget="steps")
    with pytest.raises(ConfigError, match="by must be a row key"):
        solve_rate_figure(ROWS, by="")
