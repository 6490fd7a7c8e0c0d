"""The result of an exercise check: points that are right or wrong, each with a sentence why.

    c = Checker("Exercise 1: a window of three steps")
    c.point(memory is not ..., "memory is set", "replace the `...` with a memory policy")
    c.point(getattr(memory, "window", None) == 3, "the window holds 3 steps", f"window is {w}, not 3")
    return c.result()

A check never raises for a wrong or unfinished answer: `Checker.attempt` turns an exception raised
while inspecting the learner's objects into a failed point that names it. The result renders as
HTML (a green or red box) in a notebook and as text elsewhere; its display metadata carries
`{"workbench.check": {"name": ..., "passed": ...}}` for the notebook tests.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

META_KEY = "workbench.check"


@dataclass(frozen=True)
class Point:
    ok: bool
    message: str


@dataclass(frozen=True)
class CheckResult:
    """What a check found: `passed` when every point is right."""

    name: str
    points: tuple[Point, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return bool(self.points) and all(p.ok for p in self.points)

    def __bool__(self) -> bool:
        return self.passed

    @property
    def problems(self) -> list[str]:
        return [p.message for p in self.points if not p.ok]

    def text(self) -> str:
        head = f"{'PASSED' if self.passed else 'NOT YET'}: {self.name}"
        lines = [f"  {'✓' if p.ok else '✗'} {p.message}" for p in self.points]
        return "\n".join([head, *lines])

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def html(self) -> str:
        colour = "#2e7d32" if self.passed else "#c62828"
        verdict = "Passed" if self.passed else "Not yet"
        items = "".join(
            f'<li style="list-style:none;margin:2px 0"><span style="color:{"#2e7d32" if p.ok else "#c62828"}">'
            f"{'✓' if p.ok else '✗'}</span> {html.escape(p.message)}</li>"
            for p in self.points
        )
        return (
            f'<div class="wb-check" data-passed="{str(self.passed).lower()}" '
            f'style="border-left:4px solid {colour};padding:4px 10px;margin:4px 0">'
            f'<strong style="color:{colour}">{verdict}</strong> · {html.escape(self.name)}'
            f'<ul style="margin:4px 0;padding-left:4px">{items}</ul></div>'
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        data = {"text/plain": self.text(), "text/html": self.html()}
        return data, {META_KEY: {"name": self.name, "passed": self.passed}}


class Checker:
    """Collects the points of one check."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._points: list[Point] = []

    def point(self, ok: Any, right: str, wrong: str) -> bool:
        """Add a point: `right` when `ok` is true, else `wrong` (say what to change)."""
        good = bool(ok)
        self._points.append(Point(good, right if good else wrong))
        return good

    def attempt(self, fn: Callable[[], Any], wrong: str) -> Any:
        """`fn()`, or None and a failed point (`wrong` and the exception) if it raises."""
        try:
            return fn()
        except Exception as exc:  # the learner's object is not what the exercise asks for
            self._points.append(Point(False, f"{wrong} ({type(exc).__name__}: {exc})"))
            return None

    def function(self, fn: Any, what: str) -> bool:
        """Add a point that the answer `what` is a function; returns whether it is."""
        return self.point(
            callable(fn),
            f"{what} is a function",
            f"{what} is {type(fn).__name__}, not a function (pass the function itself, not its result)",
        )

    def inspect(self, value: Any, what: str, fn: Callable[[Any], Any], wrong: str) -> Any:
        """`fn(value)` for a finished answer; None, with a failed point, when `value` is still the
        stub's `...` (`unfinished`) or `fn` raises (`attempt`): the check then returns `result()`."""
        if self.unfinished(value, what):
            return None
        return self.attempt(lambda: fn(value), wrong)

    def unfinished(self, value: Any, what: str) -> bool:
        """Add a failed point and return True when `value` is still the stub's `...`."""
        if value is ... or value is None:
            self._points.append(Point(False, f"{what} is not done yet: replace the `...`"))
            return True
        return False

    def result(self) -> CheckResult:
        return CheckResult(self.name, tuple(self._points))
