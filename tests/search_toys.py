"""Small deterministic worlds for the search tests: a letter tree with a known optimal path."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from workbench.core.tree import LLMCall
from workbench.llm.scripted import ScriptedModel

LETTERS = ("a", "b", "c")


class Letters:
    """Spell `goal` one letter per step; after `length` letters the episode ends (reward 1 on goal).

    Observation: `at: b a` (the letters so far). Every executed action is logged in `log`; the
    action `boom` is accepted but marks the env `exploded` (for the destructive-action tests).
    """

    name = "letters"
    instructions = "Actions: a, b, c (one letter per step)."

    def __init__(self, goal: str = "bac", length: int = 3) -> None:
        self.goal, self.length = goal, length
        self.task = f"spell {goal}"
        self.word = ""
        self.log: list[str] = []
        self.resets = 0
        self.exploded = False

    def _obs(self) -> str:
        return "at: " + (" ".join(self.word) or "(start)")

    def reset(self, seed: int | None = None) -> tuple[str, dict]:
        self.word = ""
        self.resets += 1
        return self._obs(), {}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        self.log.append(action)
        if action == "boom":
            self.exploded = True
            return self._obs() + " (boom!)", 0.0, False, False, {}
        if action not in LETTERS:
            return f"invalid action {action!r}; valid: a, b, c\n{self._obs()}", 0.0, False, False, {}
        self.word += action
        done = len(self.word) >= self.length
        return self._obs(), 1.0 if done and self.word == self.goal else 0.0, done, False, {}

    def snapshot(self) -> str:
        return self.word

    def restore(self, state: str) -> None:
        self.word = state


def word_of(messages: list[dict[str, Any]]) -> str:
    """The letters so far, read from the last `at: ...` line of the prompt's user turns."""
    text = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") != "system")
    found = re.findall(r"at: ([a-c ]+|\(start\))", text)
    last = found[-1] if found else "(start)"
    return "" if last == "(start)" else last.replace(" ", "")


def react(action: str, thought: str = "try it") -> str:
    return f"Thought: {thought}\nAction: {action}"


class Sampled(ScriptedModel):
    """A ScriptedModel whose answers are a function of (messages, sample index), as the demo does."""

    def __init__(self, fn: Callable[[list[dict[str, Any]], int], str], **kw: Any) -> None:
        super().__init__(lambda messages: "", **kw)
        self.fn = fn

    async def acomplete(
        self, messages: list[dict[str, Any]], *, purpose: str = "act", sample: int = 0, **kw: Any
    ) -> LLMCall:
        self._answers = lambda msgs: self.fn(msgs, sample)
        return await super().acomplete(messages, purpose=purpose)


def cycle(*actions: str) -> Callable[[list[dict[str, Any]], int], str]:
    """Sample i answers actions[i % len(actions)] in every state."""
    return lambda messages, sample: react(actions[sample % len(actions)])


def prefix_value(goal: str = "bac") -> Callable[[Any, Any], float]:
    """1.0 on the goal, 0.3 per correct letter on a correct prefix, 0.0 off the path."""

    def value(node: Any, session: Any) -> float:
        word = "".join(n.action or "" for n in session.tree.path(node.id)[1:])
        if word == goal:
            return 1.0
        return round(0.3 * len(word), 6) if goal.startswith(word) else 0.0

    return value


class Gate(Sampled):
    """Counts calls in flight; every call waits on `gate`, and `reached` is set at `limit` in flight."""

    def __init__(self, fn: Callable[[list[dict[str, Any]], int], str], limit: int) -> None:
        super().__init__(fn)
        self.limit = limit
        self.inflight = 0
        self.peak = 0
        self.started = 0
        self.reset_gate()

    def reset_gate(self) -> None:
        self.gate = asyncio.Event()
        self.reached = asyncio.Event()
        self.peak = 0
        self.started = 0

    async def acomplete(
        self, messages: list[dict[str, Any]], *, purpose: str = "act", sample: int = 0, **kw: Any
    ) -> LLMCall:
        self.inflight += 1
        self.started += 1
        self.peak = max(self.peak, self.inflight)
        if self.inflight >= self.limit:
            self.reached.set()
        try:
            await self.gate.wait()
            return await super().acomplete(messages, purpose=purpose, sample=sample)
        finally:
            self.inflight -= 1


def shape(session: Any) -> list[tuple[Any, ...]]:
    """The tree as comparable tuples (ids, actions, statuses, values, visits, expansion order)."""
    return [
        (
            n.id,
            n.parent_id,
            n.action,
            n.status,
            n.value,
            n.visits,
            n.info.get("expanded_at"),
            len(n.llm_calls),
        )
        for n in session.tree.nodes.values()
    ]
