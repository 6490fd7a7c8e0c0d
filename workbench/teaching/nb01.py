"""Checks of notebook 01, your first agent."""

from __future__ import annotations

from typing import Any

from .checks import Checker, CheckResult


def check_new_agent(agent: Any) -> CheckResult:
    """Exercise 1: a gridworld agent with window memory of 3 steps that took at least 5 steps."""
    c = Checker("Exercise 1: an agent of your own")
    config = c.inspect(
        agent, "the agent", lambda a: a.config, "`mine` is not a Session (use `mine = %agent session`)"
    )
    if config is None:
        return c.result()
    c.point(
        config.get("env") == "gridworld",
        "it plays gridworld",
        f"its env is {config.get('env')!r}, not gridworld",
    )
    window = getattr(agent.memory, "window", None)
    c.point(
        agent.memory.name == "window" and window == 3,
        "its memory is a window of 3 steps",
        f"its memory is {agent.memory.name} (window {window}); use --memory window --window 3",
    )
    steps = len(agent.path()) - 1
    c.point(steps >= 5, f"it took {steps} steps", f"it took {steps} steps; take at least 5 (%agent step 5)")
    return c.result()


def check_branch(agent: Any) -> CheckResult:
    """Exercise 2: rewound to node 2, then a new branch of at least 2 steps grown from there."""
    c = Checker("Exercise 2: rewind and branch")
    tree = c.inspect(agent, "the agent", lambda a: a.tree, "`mine` is not a Session")
    if tree is None:
        return c.result()
    children = [n.id for n in tree.children(2)] if 2 in tree.nodes else []
    c.point(
        len(children) >= 2,
        f"node 2 has {len(children)} children: the old branch and yours",
        "node 2 has one child only: `%agent rewind 2`, then step",
    )
    path = [n.id for n in agent.path()]
    grown = len(path) - 1 - path.index(2) if 2 in path else 0
    c.point(
        2 in path and grown >= 2 and path[3] != min(children, default=path[3]),
        f"the cursor is on the new branch, {grown} steps past node 2",
        "the cursor should be on the new branch, at least 2 steps past node 2 (%agent step 2 after the rewind)",
    )
    return c.result()
