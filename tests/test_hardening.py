"""Hardening (issue 8 items 5-11): hostile text, linear parsing, terminal escapes, secrets in config
and prompts, one validation helper for wrong arguments, and notebook friction.

The parser's 1 MB property run is a benchmark (`benchmarks/parse_linear.py`); here it keeps its answers."""

from __future__ import annotations

from workbench.strategies.parsing import parse_answer, parse_react


# --- item 6: the parser's answers on the shapes that used to be quadratic --------------------------
def test_long_runs_parse_to_the_same_answers():
    p = parse_react("Thought: t\nAction: go\nPlan:\n1. a" + " " * 2000 + "b")
    assert p.action == "go" and p.plan[0]["text"] == "a" + " " * 2000 + "b"
    assert parse_react("Action: go " + "_" * 2000 + "x").action == "go " + "_" * 2000 + "x"
    assert parse_react("Action: __go north__").action == "go north"
    assert parse_react("  **Action** :  **go north**").action == "go north"
    assert parse_react("Action" + " " * 2000 + "x").action is None
    p = parse_answer("Action: go" + " " * 2000 + "x", tools=["go"])
    assert p.tool_calls is None and p.action == "go" + " " * 2000 + "x"
    p = parse_answer('Action:   go({"to": "north"})   ', tools=["go"])
    assert p.tool_calls[0].name == "go" and p.tool_calls[0].arguments == '{"to": "north"}'
