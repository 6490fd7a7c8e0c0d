"""Per-step engine overhead of a tool-calling step, instant scripted model, SQLite persistence on.

    python benchmarks/tool_step.py [--steps 200] [--memory window]

Three kinds of step on the same instant model: a text action on a text env (the baseline), a tool
call in the text format (`Action:` + `Action Input:`), and a native tool call (the model's answer
carries `tool_calls`; two parallel calls per answer). The tool itself is a trivial sync function, so
the time is the engine's: prompt building with the tool specs, parsing, argument checking against the
schema, running the tool in a worker thread, events and the SQLite write.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from workbench.core.session import Session
from workbench.llm.scripted import ScriptedModel
from workbench.store.sqlite import RunStore
from workbench.tools import tool


@tool
def lookup(key: str, limit: int = 3) -> str:
    """Look a key up (instant)."""
    return f"{key}: {limit} results"


class Corridor:
    name = "corridor"
    task = "walk east"

    def reset(self, seed=None):
        self.x = 0
        return "at 0", {}

    def step(self, action):
        self.x += 1
        return f"at {self.x}", 0.0, False, False, {}

    def snapshot(self):
        return self.x

    def restore(self, state):
        self.x = state


class NativeScripted(ScriptedModel):
    """An instant model whose every answer is two native tool calls."""

    async def acomplete(self, messages: list[dict[str, Any]], **kwargs: Any) -> Any:
        call = await super().acomplete(messages, **kwargs)
        args = json.dumps({"key": "x", "limit": 2})
        call.tool_calls = [{"id": f"call_{i}", "name": "lookup", "arguments": args} for i in range(2)]
        return call


def make(kind: str, memory: str, store: RunStore) -> Session:
    opts: dict[str, Any] = {"memory": memory, "store": store, "memory_options": {"window": 4}}
    if kind == "text action":
        return Session(env=Corridor(), model=ScriptedModel(["Thought: on.\nAction: go east"]), **opts)
    if kind == "tool, text format":
        answer = 'Thought: look.\nAction: lookup\nAction Input: {"key": "x", "limit": 2}'
        return Session(tools=[lookup], model=ScriptedModel([answer]), tool_calling="text", **opts)
    return Session(tools=[lookup], model=NativeScripted(["Thought: look."]), tool_calling="native", **opts)


async def timed(kind: str, n: int, memory: str, store: RunStore) -> list[float]:
    s = make(kind, memory, store)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        await s.astep()
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--memory", default="window")
    args = ap.parse_args()
    print("| step kind | steps | ms/step (mean) | p50 ms | p95 ms |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for i, kind in enumerate(("text action", "tool, text format", "tool, native (2 parallel calls)")):
            store = RunStore(Path(tmp) / f"{i}.sqlite")
            times = asyncio.run(timed(kind, args.steps, args.memory, store))
            qs = statistics.quantiles(times, n=20, method="inclusive")
            print(
                f"| {kind} | {args.steps} | {statistics.mean(times) * 1e3:.3f} | "
                f"{statistics.median(times) * 1e3:.3f} | {qs[18] * 1e3:.3f} |"
            )
            store.close()


if __name__ == "__main__":
    main()
