"""Breakpoints: conditions checked after every step; a hit pauses `run` (and is an event).

Breakpoint.on_action(r"open")        the action text matches a regex
Breakpoint.on_tool("go")             the action's verb / tool name
Breakpoint.on_cost(0.05)             the run's total cost reaches $0.05
Breakpoint.on_tokens(10_000)         the run's total tokens reach 10,000
Breakpoint.on_predicate(fn)          fn(node, run) is true
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import validate
from ..errors import ConfigError
from .tree import Node, Run

KINDS = ("action", "tool", "cost", "tokens", "predicate")


@dataclass
class Breakpoint:
    kind: str
    value: Any
    enabled: bool = True
    hits: int = 0
    _test: Callable[[Node, Run], bool] = field(repr=False, default=lambda n, r: False)

    @property
    def description(self) -> str:
        if self.kind == "predicate":
            return f"predicate {getattr(self.value, '__name__', 'fn')}"
        return f"{self.kind} {self.value}"

    def check(self, node: Node, run: Run) -> bool:
        """Whether this breakpoint fires on `node` (counts the hit)."""
        if not self.enabled or not self._test(node, run):
            return False
        self.hits += 1
        if self.kind in ("cost", "tokens"):
            self.enabled = False  # a threshold fires once, not on every later step
        return True

    @classmethod
    def on_action(cls, pattern: str) -> Breakpoint:
        pattern = validate.text("action", pattern, empty=False)
        try:
            regex = re.compile(pattern, re.I)
        except re.error as exc:
            raise ConfigError(f"invalid action regex {pattern!r}: {exc}") from None
        return cls("action", pattern, _test=lambda n, r: bool(n.action and regex.search(n.action)))

    @classmethod
    def on_tool(cls, name: str) -> Breakpoint:
        name = validate.text("tool", name, empty=False).lower()
        return cls("tool", name, _test=lambda n, r: n.tool == name)

    @classmethod
    def on_cost(cls, dollars: float) -> Breakpoint:
        dollars = validate.number("cost", dollars, minimum=0)
        return cls("cost", dollars, _test=lambda n, r: r.cost >= dollars)

    @classmethod
    def on_tokens(cls, tokens: int) -> Breakpoint:
        tokens = validate.number("tokens", tokens, minimum=0, integer=True)
        return cls("tokens", tokens, _test=lambda n, r: r.tokens >= tokens)

    @classmethod
    def on_predicate(cls, fn: Callable[[Node, Run], bool]) -> Breakpoint:
        if not callable(fn):
            raise ConfigError("a predicate breakpoint needs a function fn(node, run) -> bool")
        return cls("predicate", fn, _test=fn)

    @classmethod
    def make(cls, kind: str, value: Any) -> Breakpoint:
        """A breakpoint by kind name (for magics and the CLI)."""
        factories = {
            "action": cls.on_action,
            "tool": cls.on_tool,
            "cost": cls.on_cost,
            "tokens": cls.on_tokens,
            "predicate": cls.on_predicate,
        }
        if kind not in factories:
            raise ConfigError(f"unknown breakpoint kind {kind!r}; valid: {', '.join(KINDS)}")
        return factories[kind](value)
