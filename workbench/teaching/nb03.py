"""Checks and helpers of notebook 03, diff history."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from .checks import Checker, CheckResult


def gridworld_run(seed: int = 0) -> Any:
    """The demo model (simulated) playing gridworld to the goal, full memory, no store."""
    from ..core.session import Session

    s = Session(env="gridworld", model="workbench/demo", seed=seed, store=None)
    s.run(max_steps=40)
    return s


def rooms_run() -> Any:
    """A scripted player walking through the room game (`rooms.WALKTHROUGH`), full memory, no store."""
    from ..core.session import Session
    from ..llm.scripted import ScriptedModel
    from .rooms import WALKTHROUGH, Rooms

    answers = [f"Thought: I go on exploring.\nAction: {a}" for a in WALKTHROUGH]
    s = Session(env=Rooms(), model=ScriptedModel(answers, name="walkthrough"), store=None)
    s.run(max_steps=len(WALKTHROUGH))
    return s


def observation_tokens(session: Any) -> list[dict[str, Any]]:
    """Per step: the observation's tokens in full and as a diff against the step before."""
    from ..llm.tokens import count_tokens
    from ..memory.diff import observation_diff

    path = session.path()
    rows = []
    for i in range(1, len(path)):
        full = count_tokens(path[i].observation or "")
        diff = count_tokens(observation_diff(path[i - 1].observation or "", path[i].observation or ""))
        rows.append({"step": i, "action": path[i].action, "full": full, "diff": diff, "saved": full - diff})
    return rows


def history_saving(session: Any, window: int, *, fallback: bool = False) -> float:
    """Percent of the last prompt's history tokens that diff history saves over the same window in
    full (`fallback=False`: the paper's diffs, even when longer than the text)."""
    from ..llm.tokens import count_tokens
    from ..memory.base import make_memory

    run, path = session.tree, session.path()
    full = count_tokens(make_memory("window", window=window).render(run, path))
    diff = count_tokens(make_memory("diff", window=window, fallback=fallback).render(run, path))
    return 100.0 * (full - diff) / full


@cache
def _runs() -> tuple[Any, Any]:
    return gridworld_run(0), rooms_run()


def check_diff(my_diff: Callable[[str, str], Any]) -> CheckResult:
    """Exercise 1: `my_diff(previous, current)` is `diff -U0` without the two file header lines."""
    from ..memory.diff import NO_CHANGE, observation_diff

    c = Checker("Exercise 1: the diff of two observations")
    if c.unfinished(my_diff, "my_diff"):
        return c.result()
    grid, rooms = _runs()
    pairs = []
    for s in (grid, rooms):
        path = s.path()
        pairs += [(path[i - 1].observation, path[i].observation) for i in (1, 2, len(path) - 1)]
    wrong = 0
    for prev, cur in pairs:
        want = observation_diff(prev, cur)
        got = c.attempt(lambda p=prev, q=cur: my_diff(p, q), "my_diff raised")
        if got is ...:
            c.point(False, "", "my_diff returned `...`: write its body")
            return c.result()
        if want == NO_CHANGE:
            continue
        if got != want:
            wrong += 1
            if wrong == 1:
                c.point(
                    False, "", f"for one pair the expected diff starts {want[:80]!r}, yours {str(got)[:80]!r}"
                )
    c.point(
        wrong == 0,
        f"{len(pairs)} observation pairs (gridworld and rooms) give the expected hunks",
        f"{wrong} of {len(pairs)} pairs differ (hint: difflib.unified_diff(..., n=0, lineterm=''), "
        "drop the first two lines, join with newlines)",
    )
    return c.result()


def check_saving(saving: Callable[[Any, int], Any]) -> CheckResult:
    """Exercise 2: `saving(session, window)` = percent of history tokens diffs save on the last prompt."""
    c = Checker("Exercise 2: what diff history saves on a prompt")
    if c.unfinished(saving, "saving"):
        return c.result()
    for label, s in zip(("gridworld", "rooms"), _runs(), strict=True):
        for window in (2, 4, 8):
            want = history_saving(s, window)
            got = c.attempt(lambda s=s, w=window: saving(s, w), f"saving({label}, {window}) raised")
            if got is ...:
                c.point(False, "", "saving returned `...`: write its body")
                return c.result()
            ok = isinstance(got, (int, float)) and abs(float(got) - want) < 0.5
            c.point(
                ok,
                f"{label}, window {window}: {want:+.1f}%",
                f"{label}, window {window}: expected {want:+.1f}% (negative: diffs cost more), got {got!r}",
            )
    return c.result()


def smallest_paying_window(session: Any, target: float = 30.0) -> int | None:
    for window in range(1, 13):
        if history_saving(session, window) >= target:
            return window
    return None


def check_window(window: Any) -> CheckResult:
    """Exercise 3: the smallest window at which diff history saves at least 30% on the gridworld run."""
    c = Checker("Exercise 3: the window where diffs pay")
    if c.unfinished(window, "window"):
        return c.result()
    grid, _ = _runs()
    want = smallest_paying_window(grid)
    c.point(
        window == want,
        f"window {want}: the first window at which diffs save at least 30% of the history",
        f"window {window!r} is not it: saving at {window!r} is "
        + (f"{history_saving(grid, window):.1f}%" if isinstance(window, int) and window > 0 else "undefined")
        + "; try each window from 1 upwards",
    )
    return c.result()
