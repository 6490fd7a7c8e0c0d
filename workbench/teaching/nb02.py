"""Checks and helpers of notebook 02, plans and memory."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from .checks import Checker, CheckResult

POLICIES: dict[str, dict[str, Any]] = {
    "full": {},
    "window": {"window": 4},
    "diff": {"window": 4},
    "hierarchical": {},
}


def history_tokens_reference(memory: Any, run: Any, path: list[Any]) -> list[int]:
    """Tokens of the history `memory` renders at each step k of `path` (its prefix path[:k+1])."""
    from ..llm.tokens import count_tokens

    return [count_tokens(memory.render(run, path[: k + 1])) for k in range(1, len(path))]


def tokens_per_policy(run: Any, path: list[Any]) -> dict[str, list[int]]:
    """`history_tokens_reference` for each policy of POLICIES, on the same path."""
    from ..memory.base import make_memory

    return {
        name: history_tokens_reference(make_memory(name, **opts), run, path)
        for name, opts in POLICIES.items()
    }


def messages_text(messages: list[dict[str, Any]], width: int = 90) -> str:
    """The messages as lines `role: first line (N lines)`, for a compact look at a prompt."""
    rows = []
    for m in messages:
        text = str(m.get("content") or "")
        lines = [line for line in text.splitlines() if line.strip()]
        first = lines[0] if lines else ""
        more = f"  (+{len(lines) - 1} lines)" if len(lines) > 1 else ""
        rows.append(f"{m.get('role', '?'):>9}: {first[:width]}{more}")
    return "\n".join(rows)


def _steps_after_edit(agent: Any, marker: str) -> list[Any]:
    path = agent.path()
    for i, node in enumerate(path):
        if any(marker in str(e) for e in node.info.get("used_user_edits") or []):
            return path[i:]
    return []


def check_detour(agent: Any) -> CheckResult:
    """Exercise 1: "go to the bottom-right corner" first in the plan, then three steps that follow it."""
    c = Checker("Exercise 1: a detour through the plan")
    items = c.inspect(agent, "the agent", lambda a: a.plan.to_list(), "`ex1` is not a Session with a plan")
    if items is None:
        return c.result()
    first = items[0] if items else {}
    c.point(
        "bottom-right corner" in str(first.get("text", "")).lower(),
        "plan item 1 is your 'go to the bottom-right corner'",
        f"plan item 1 should be 'go to the bottom-right corner' (it is {first.get('text', 'missing')!r}): "
        "agent.plan.add(text, 1)",
    )
    after = _steps_after_edit(agent, "plan: add")
    c.point(
        len(after) >= 3,
        f"{len(after)} steps ran after your edit, the first one with it in its prompt",
        f"take at least 3 steps after the edit (found {len(after)} that used it): agent.run(max_steps=3)",
    )
    following = [n for n in after if str(n.thought or "").startswith("Plan step 1")]
    c.point(
        len(following) >= 2,
        "the agent's thoughts follow plan step 1 (your corner)",
        "the steps after the edit do not follow plan step 1; is your item first and still open?",
    )
    return c.result()


@cache
def _reference_run() -> tuple[Any, list[Any]]:
    from ..core.session import Session

    s = Session(env="gridworld", model="workbench/demo", memory="hierarchical", seed=5, store=None)
    s.run(max_steps=12)
    return s.tree, s.path()


def check_history_tokens(history_tokens: Callable[..., Any]) -> CheckResult:
    """Exercise 2: `history_tokens(memory, run, path)` gives the history tokens of each step."""
    from ..memory.base import make_memory

    c = Checker("Exercise 2: tokens per step for any memory policy")
    if c.unfinished(history_tokens, "history_tokens"):
        return c.result()
    run, path = _reference_run()
    for name, opts in (
        ("full", {}),
        ("window", {"window": 3}),
        ("diff", {"window": 2}),
        ("hierarchical", {}),
    ):
        want = history_tokens_reference(make_memory(name, **opts), run, path)
        try:
            got = history_tokens(make_memory(name, **opts), run, path)
        except Exception as exc:  # the learner's function failed: say so and go on
            c.point(False, "", f"{name}: history_tokens raised {type(exc).__name__}: {exc}")
            continue
        if got is None or got is ...:
            c.point(False, "", "history_tokens returns nothing yet: write its body and return the list")
            break
        got_list = list(got) if isinstance(got, (list, tuple)) else got
        c.point(
            got_list == want,
            f"{name} {opts or ''}: {len(want)} steps, {sum(want):,} tokens in all, as expected",
            f"{name} {opts or ''}: expected {want[:4]}... ({len(want)} numbers, one per step after the "
            f"root), got {str(got_list)[:80]}",
        )
    return c.result()


def check_pin_forget(agent: Any) -> CheckResult:
    """Exercise 3: obs:0 pinned (in every prompt) and obs:4 forgotten (in none), both by the user."""
    c = Checker("Exercise 3: pin the start, forget step 4")
    entries = c.inspect(
        agent, "the agent", lambda a: {e.id: e for e in a.memory.entries(a.tree, a.path())}, "no memory"
    )
    if entries is None:
        return c.result()
    first, fourth = entries.get("obs:0"), entries.get("obs:4")
    c.point(
        first is not None and first.pinned and first.shown,
        "obs:0 is pinned and the next prompt shows it, outside the window",
        "obs:0 is not pinned: agent.memory.pin('obs:0')",
    )
    c.point(
        fourth is not None and fourth.forgotten and not fourth.shown,
        "obs:4 is forgotten: the next prompt leaves it out although it is in the window",
        "obs:4 is not forgotten: agent.memory.forget('obs:4')",
    )
    shown = c.attempt(
        lambda: "\n".join(str(m.get("content")) for m in agent.memory.render(agent.tree, agent.path())),
        "the memory could not render the next prompt",
    )
    c.point(
        first is not None and shown is not None and first.text.strip() in shown,
        "the next prompt starts from the pinned map of step 0",
        "the next prompt does not contain the first observation",
    )
    return c.result()
