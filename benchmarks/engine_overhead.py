"""Per-step engine overhead with an instant scripted model, SQLite persistence on.

    python benchmarks/engine_overhead.py [--steps 10 100 1000] [--memory full diff]

For each run length N it times every `await session.astep()` (model answers instantly, so what is
measured is the engine: prompt building, parsing, env step, events, the SQLite writes) and prints
the mean ms/step and the ratio of the mean of the last 10% of steps to the first 10% (flat = 1.0).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from workbench.core.session import Session
from workbench.llm.scripted import ScriptedModel
from workbench.store.sqlite import RunStore


class Walk:
    """A corridor that never ends: observations are a small map line that changes locally."""

    name = "walk"
    task = "walk east forever"
    instructions = "Actions: go east"

    def reset(self, seed=None):
        self.x = 0
        return self._obs(), {}

    def _obs(self) -> str:
        row = "".join("A" if i == self.x % 40 else "." for i in range(40))
        return f"+{'-' * 40}+\n|{row}|\n+{'-' * 40}+\nMessage: you are at {self.x}."

    def step(self, action):
        self.x += 1
        return self._obs(), 0.0, False, False, {}

    def snapshot(self):
        return self.x

    def restore(self, state):
        self.x = state


async def timed_run(n: int, memory: str, store: RunStore | None) -> list[float]:
    s = Session(
        env=Walk(),
        model=ScriptedModel(["Thought: keep going east.\nAction: go east"]),
        memory=memory,
        store=store,
    )
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        await s.astep()
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--memory", nargs="+", default=["full", "diff"])
    ap.add_argument("--no-store", action="store_true")
    args = ap.parse_args()
    print(f"{'memory':<8} {'steps':>6} {'ms/step':>8} {'p50 ms':>7} {'p95 ms':>7} {'last/first':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for memory in args.memory:
            for n in args.steps:
                store = None if args.no_store else RunStore(Path(tmp) / f"{memory}-{n}.sqlite")
                times = asyncio.run(timed_run(n, memory, store))
                k = max(1, n // 10)
                ratio = statistics.mean(times[-k:]) / statistics.mean(times[:k])
                qs = statistics.quantiles(times, n=20, method="inclusive")
                print(
                    f"{memory:<8} {n:>6} {statistics.mean(times) * 1e3:>8.3f} "
                    f"{statistics.median(times) * 1e3:>7.3f} {qs[18] * 1e3:>7.3f} {ratio:>10.2f}"
                )
                if store is not None:
                    store.close()


if __name__ == "__main__":
    main()
