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
    """Percent of the history tokens that diff history saves over the same window in full, summed
    over the prompts of every step of the session's path (`fallback=False`: the paper's diffs, even
    when longer than the text)."""
    from ..llm.tokens import count_tokens
    from ..memory.base import make_memory

    run, path = session.tree, session.path()
    plain, diffs = make_memory("window", window=window), make_memory("diff", window=window, fallback=fallback)
    full = sum(count_tokens(plain.render(run, path[: k + 1])) for k in range(1, len(path)))
    diff = sum(count_tokens(diffs.render(run, path[: k + 1])) for k in range(1, len(path)))
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
        if got is ... or got is None:
            c.point(False, "", "my_diff returns nothing yet: write its body and return the diff text")
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
    """Exercise 2: `saving(session, window)` = percent of history tokens diffs save over all prompts."""
    c = Checker("Exercise 2: what diff history saves on a prompt")
    if c.unfinished(saving, "saving"):
        return c.result()
    for label, s in zip(("gridworld", "rooms"), _runs(), strict=True):
        for window in (2, 4, 8):
            want = history_saving(s, window)
            got = c.attempt(lambda s=s, w=window: saving(s, w), f"saving({label}, {window}) raised")
            if got is ... or got is None:
                c.point(False, "", "saving returns nothing yet: write its body and return a percentage")
                return c.result()
            ok = isinstance(got, (int, float)) and abs(float(got) - want) < 0.5
            c.point(
                ok,
                f"{label}, window {window}: {want:+.1f}%",
                f"{label}, window {window}: expected {want:+.1f}% (negative: diffs cost more), got {got!r}",
            )
    return c.result()


WIDEST = 13  # windows 1..WIDEST: exercise 3's answer is at most WIDEST - 1


@cache
def _grid_savings() -> tuple[float, ...]:
    """The gridworld run's saving at windows 1..WIDEST (window w at w - 1), computed once for exercise 3."""
    grid, _ = _runs()
    return tuple(history_saving(grid, w) for w in range(1, WIDEST + 1))


def check_window(window: Any) -> CheckResult:
    """Exercise 3: the window after which a longer window adds less than 1 point of saving (gridworld)."""
    c = Checker("Exercise 3: the window where a longer one stops paying")
    if c.unfinished(window, "window"):
        return c.result()
    savings = _grid_savings()
    want = next(w for w in range(1, WIDEST) if savings[w] - savings[w - 1] < 1)  # the first flat step
    if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window < WIDEST:
        c.point(False, "", f"window should be a whole number from 1 to {WIDEST - 1}, not {window!r}")
        return c.result()
    now, more = savings[window - 1], savings[window]
    c.point(
        window == want,
        f"window {want}: {now:.1f}% saved, and window {want + 1} adds only {more - now:.1f} points",
        f"at window {window} the saving is {now:.1f}% and window {window + 1} adds {more - now:.1f} points; "
        + (
            "that is already under 1 point, but a smaller window is too"
            if more - now < 1
            else "still 1 or more"
        ),
    )
    return c.result()
