"""`ScriptedModel`: a deterministic stand-in for a model, for tests, benchmarks and teaching.

It answers from a list of strings (in order, then the last one again) or from a function of the
messages, instantly, with no litellm and no network. Token counts are a cheap estimate
(characters / 4) unless a `token_counter` is given. Not a simulation of any real model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ..core.tree import LLMCall

Responder = Callable[[list[dict[str, Any]]], str]


class ScriptedModel:
    simulated = True

    def __init__(
        self,
        answers: Sequence[str] | Responder,
        *,
        name: str = "scripted",
        token_counter: Callable[[str], int] | None = None,
        cost_per_token: float = 0.0,
    ) -> None:
        self.name = name
        self._answers = answers
        self._count = token_counter or (lambda text: len(text) // 4)
        self.cost_per_token = cost_per_token
        self.calls = 0
        self.requests: list[list[dict[str, Any]]] = []

    @property
    def label(self) -> str:
        return f"{self.name} (scripted)"

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "scripted": True}

    def _answer(self, messages: list[dict[str, Any]]) -> str:
        if callable(self._answers):
            return self._answers(messages)
        if not self._answers:
            return ""
        return self._answers[min(self.calls, len(self._answers) - 1)]

    async def acomplete(self, messages: list[dict[str, Any]], *, purpose: str = "act", **_: Any) -> LLMCall:
        start = time.perf_counter()
        text = self._answer(messages)
        self.calls += 1
        self.requests.append(messages)
        prompt = sum(self._count(str(m.get("content", ""))) for m in messages)
        completion = self._count(text)
        return LLMCall(
            model=self.name,
            messages=messages,
            response=text,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost=(prompt + completion) * self.cost_per_token,
            latency=time.perf_counter() - start,
            purpose=purpose,
        )
